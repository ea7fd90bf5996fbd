//! The walkthrough's tests, in one test binary: the `passerelle-demo` binary run as a newcomer
//! runs it.

mod two_runs;
