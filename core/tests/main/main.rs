//! The core's integration tests, in one test binary: opening the data directory, and
//! restart-to-apply of settings. Offline: they need no sandbox. Their helpers stay in `common`,
//! not in `passerelle-test-support`, which depends on the core itself.

mod common;

mod restart_to_apply;
mod store_open;
