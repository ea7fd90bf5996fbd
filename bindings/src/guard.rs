//! Panic guards: a panic inside the library becomes `PasserelleError::Internal` instead of
//! unwinding into Swift. The release profile keeps `panic = "unwind"` so this can work.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use passerelle_core::PasserelleError;

/// Runs `f`, turning a panic into a typed internal error.
pub fn guard<T>(f: impl FnOnce() -> Result<T, PasserelleError>) -> Result<T, PasserelleError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(panic_error(payload.as_ref())))
}

/// Awaits `future`, turning a panic in any of its polls into a typed internal error.
pub fn guard_async<T, F>(future: F) -> impl Future<Output = Result<T, PasserelleError>>
where
    F: Future<Output = Result<T, PasserelleError>>,
{
    CatchUnwind(Box::pin(future))
}

struct CatchUnwind<F>(Pin<Box<F>>);

impl<T, F> Future for CatchUnwind<F>
where
    F: Future<Output = Result<T, PasserelleError>>,
{
    type Output = Result<T, PasserelleError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.0.as_mut();
        catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
            .unwrap_or_else(|payload| Poll::Ready(Err(panic_error(payload.as_ref()))))
    }
}

fn panic_error(payload: &(dyn Any + Send)) -> PasserelleError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(target: "passerelle::ffi", %message, "panic caught at the FFI boundary");
    PasserelleError::Internal {
        reason: format!("panic: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::panic)]
    fn boom() -> Result<u8, PasserelleError> {
        panic!("index out of range")
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let err = guard(boom).unwrap_err();
        assert_eq!(err.code(), "internal");
        assert!(err.to_string().contains("index out of range"));
        assert_eq!(guard(|| Ok(7)).unwrap(), 7);
    }

    #[tokio::test]
    async fn a_panic_in_a_future_becomes_an_internal_error() {
        let err = guard_async(async {
            tokio::task::yield_now().await;
            boom()
        })
        .await
        .unwrap_err();
        assert_eq!(err.code(), "internal");
    }
}
