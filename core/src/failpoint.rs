//! Crash injection for the kill tests: with the `failpoints` feature, `hit(name)` aborts the
//! process when `PASSERELLE_FAILPOINT` names that point. Without the feature it compiles to nothing.

/// Environment variable naming the fail point that aborts the process.
#[cfg_attr(not(feature = "failpoints"), allow(dead_code))]
pub const ENV: &str = "PASSERELLE_FAILPOINT";

#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    if std::env::var(ENV).is_ok_and(|wanted| wanted == name) {
        // abort, not exit: no destructor runs and no transaction is rolled back politely, as
        // when iOS kills the app.
        std::process::abort();
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
