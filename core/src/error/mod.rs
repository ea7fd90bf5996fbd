//! Errors, in two kinds: the internal [`Error`], which keeps what a protocol said and the source
//! of a failure so the code deciding what to do next can branch on facts, and the public
//! [`PasserelleError`] the host sees. One conversion (`From<Error> for PasserelleError`, in
//! `internal.rs`) turns the first into the second, at the facade; there is none the other way, so
//! no public error travels through the library and none steers its logic.

mod internal;
mod public;

pub(crate) use internal::{Error, Service};
pub use public::PasserelleError;

/// What every public operation returns.
pub type PublicResult<T, E = PasserelleError> = std::result::Result<T, E>;

/// What the library's internals return.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
