//! The logging bridge: Passerelle's `tracing` output handed to a host-implemented logger (on iOS,
//! `os_log`), one record at a time, with only what is declared safe.
//!
//! A record crosses only if its target is Passerelle's (`passerelle` or `passerelle::…`): what
//! a dependency logs stays behind. Its message is the constant text of the call site (a test
//! checks that no call interpolates data into it), with `Bearer …`, `token=…`, `code=…` masked
//! as a last resort. Its fields cross only when their name is in [`SAFE_FIELDS`] and their value
//! has the shape declared there (an id, a word, a number, a path…); any other field shows as
//! `name=<redacted>`. It is an allow-list, not a list of words to hide: a new field stays
//! redacted until someone checks that its values can never carry a secret (token, code,
//! password, client secret), a header value or customer data (names, phones, e-mails,
//! addresses, notes, what was ordered) and declares it.

use std::sync::{Arc, OnceLock};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::error::{PasserelleError, PublicResult as Result};

mod allow_list;
mod delivery;
mod record;

use allow_list::AllowList;
pub(crate) use delivery::{Locked, lock, locked};
use delivery::{Sink, current_sink, hand_over, in_host_logger, replace_sink};
pub use record::{LogField, LogLevel, LogRecord, PasserelleLogger};

/// Whether the bridge is the process's subscriber (it can be installed once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Routes Passerelle's logs at `level` and above to `logger`. Can be called again to change the
/// logger or the level, from anywhere (the logger's own `log` included). Fails when the process
/// already has another `tracing` subscriber.
pub fn set_logger(logger: Arc<dyn PasserelleLogger>, level: LogLevel) -> Result<()> {
    let installed = *INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Bridge);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    if !installed {
        return Err(PasserelleError::InvalidState {
            reason: "another tracing subscriber is already installed in this process".into(),
        });
    }
    replace_sink(Some(Sink { logger, level }));
    Ok(())
}

struct Bridge;

impl<S: Subscriber> Layer<S> for Bridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if in_host_logger() {
            return;
        }
        let Some(sink) = current_sink() else {
            return;
        };
        let metadata = event.metadata();
        let level = level_of(*metadata.level());
        if level < sink.level || !is_passerelle(metadata.target()) {
            return;
        }
        let mut visitor = AllowList::default();
        event.record(&mut visitor);
        let record = visitor.finish(level, metadata.target());
        hand_over(sink, record);
    }
}

/// Whether a record comes from Passerelle (`target: "passerelle::…"`), not from a dependency.
fn is_passerelle(target: &str) -> bool {
    target
        .strip_prefix("passerelle")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

fn level_of(level: Level) -> LogLevel {
    match level {
        Level::TRACE => LogLevel::Trace,
        Level::DEBUG => LogLevel::Debug,
        Level::INFO => LogLevel::Info,
        Level::WARN => LogLevel::Warn,
        Level::ERROR => LogLevel::Error,
    }
}

#[cfg(test)]
mod call_sites;

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Mutex, OnceLock};

    use super::allow_list::REDACTED;

    /// Only one test at a time swaps the process-wide sink.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    /// Runs `f` on a watched thread (a freeze fails the test) with the bridge as its subscriber,
    /// logging to `logger` at trace level.
    fn watched(what: &str, logger: Arc<dyn PasserelleLogger>, f: impl FnOnce() + Send + 'static) {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        crate::testing::watchdog::within(what, move || {
            replace_sink(Some(Sink {
                logger,
                level: LogLevel::Trace,
            }));
            let subscriber = tracing_subscriber::registry().with(Bridge);
            tracing::subscriber::with_default(subscriber, f);
            replace_sink(None);
        });
    }

    thread_local! {
        /// Set while this thread is inside a test logger's `log`.
        static IN_LOG: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    type CallBack = Box<dyn Fn(&Arc<CallingBack>) + Send + Sync>;

    /// A logger that calls back from `log` (`call_back`, with itself) and keeps the text of
    /// each record it gets (not from inside itself: tracing's scoped dispatch refuses those).
    struct CallingBack {
        me: OnceLock<std::sync::Weak<CallingBack>>,
        call_back: CallBack,
        texts: Mutex<Vec<String>>,
    }

    impl CallingBack {
        fn new(call_back: impl Fn(&Arc<CallingBack>) + Send + Sync + 'static) -> Arc<Self> {
            let logger = Arc::new(Self {
                me: OnceLock::new(),
                call_back: Box::new(call_back),
                texts: Mutex::default(),
            });
            let _ = logger.me.set(Arc::downgrade(&logger));
            logger
        }

        fn texts(&self) -> Vec<String> {
            self.texts.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }
    }

    impl PasserelleLogger for CallingBack {
        fn log(&self, record: LogRecord) {
            if IN_LOG.get() {
                return;
            }
            IN_LOG.set(true);
            self.texts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record.text);
            if let Some(me) = self.me.get().and_then(std::sync::Weak::upgrade) {
                (self.call_back)(&me);
            }
            IN_LOG.set(false);
        }
    }

    #[test]
    fn a_logger_that_sets_the_logger_from_inside_log_does_not_freeze() {
        let logger = CallingBack::new(|me| {
            replace_sink(Some(Sink {
                logger: me.clone(),
                level: LogLevel::Trace,
            }));
        });
        watched("set_logger from inside log", logger.clone(), || {
            tracing::info!(target: "passerelle::test", "first");
            tracing::info!(target: "passerelle::test", "second");
        });
        assert_eq!(logger.texts(), ["first", "second"]);
    }

    #[test]
    fn records_logged_under_a_store_lock_reach_the_logger_once_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::store::Store::open(dir.path()).unwrap());
        let reader = store.clone();
        // The logger reads the database: it would wait forever for a lock its thread holds.
        let logger = CallingBack::new(move |_| {
            let _ = reader.read(|_| Ok(()));
        });
        watched(
            "a record logged inside a store read",
            logger.clone(),
            move || {
                let _ = store.read(|_| {
                    tracing::warn!(target: "passerelle::test", "inside the read");
                    tracing::warn!(target: "passerelle::test", "still inside");
                    Ok(())
                });
                tracing::info!(target: "passerelle::test", "after");
            },
        );
        assert_eq!(logger.texts(), ["inside the read", "still inside", "after"]);
    }

    #[derive(Default)]
    struct Collecting(Mutex<Vec<LogRecord>>);

    impl PasserelleLogger for Collecting {
        fn log(&self, record: LogRecord) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record);
        }
    }

    /// Runs `f` with the bridge as this thread's subscriber, logging to a fresh collector at
    /// trace level; returns what reached it. (The process-wide sink is swapped for the call:
    /// these tests take a lock so they never meet.)
    fn captured(f: impl FnOnce()) -> Vec<LogRecord> {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let collector = Arc::new(Collecting::default());
        replace_sink(Some(Sink {
            logger: collector.clone(),
            level: LogLevel::Trace,
        }));
        let subscriber = tracing_subscriber::registry().with(Bridge);
        tracing::subscriber::with_default(subscriber, f);
        replace_sink(None);
        collector
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    #[test]
    fn only_declared_fields_of_the_declared_shape_cross() {
        let access_token = "b9922a78d3ffab6b95e9d72e88";
        let records = captured(|| {
            tracing::warn!(
                target: "passerelle::sync",
                connection = "0f3a9c",
                order = "5zr2m",
                status = 503,
                code = "network",
                revoked = true,
                method = "GET",
                path = "/location/orders/5zr2m?after=2026&token=abc",
                error_type = ?Some("not_found"),
                customer = "Zéphyrine Quennevilliers",
                reason = "missing field `first_name`: Zéphyrine",
                headers = ?[("x-access-token", access_token)],
                "sync cycle failed"
            );
        });
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].level, LogLevel::Warn);
        assert_eq!(records[0].target, "passerelle::sync");
        assert_eq!(
            records[0].message,
            "sync cycle failed connection=0f3a9c order=5zr2m status=503 code=network revoked=true \
             method=GET path=/location/orders/5zr2m error_type=not_found customer=<redacted> \
             reason=<redacted> headers=<redacted>"
        );
        // The same, structured: the constant text apart, and only declared fields public.
        assert_eq!(records[0].text, "sync cycle failed");
        let public: Vec<&str> = records[0]
            .fields
            .iter()
            .filter(|f| f.is_public)
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            public,
            [
                "connection",
                "order",
                "status",
                "code",
                "revoked",
                "method",
                "path",
                "error_type"
            ]
        );
        assert!(
            records[0]
                .fields
                .iter()
                .filter(|f| !f.is_public)
                .all(|f| f.value == REDACTED)
        );
    }

    #[test]
    fn a_declared_field_with_a_value_of_the_wrong_shape_is_redacted() {
        let oauth_code = "3f9a0c2b7d4e8f1a6b5c9d0e2f4a7b1c";
        let records = captured(|| {
            tracing::info!(target: "passerelle::connect", code = oauth_code, "exchanged");
            tracing::info!(target: "passerelle::connect", connection = "Marie Dupont", "connected");
            tracing::info!(target: "passerelle::connect", path = "https://x.example/a", "request");
            tracing::info!(target: "passerelle::connect", status = "0612345678 Marie", "done");
            tracing::info!(target: "passerelle::connect", error_type = ?None::<String>, "done");
        });
        let lines: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            lines,
            [
                "exchanged code=<redacted>",
                "connected connection=<redacted>",
                "request path=<redacted>",
                "done status=<redacted>",
                "done error_type=None",
            ]
        );
    }

    #[test]
    fn records_of_other_targets_stay_behind() {
        let records = captured(|| {
            tracing::info!(target: "hyper::client", "connecting to 127.0.0.1");
            tracing::info!(target: "passerelle_sandbox", "not the library");
            tracing::info!(target: "passerelleX::y", "not the library either");
            tracing::info!(target: "passerelle", "the library");
        });
        let targets: Vec<&str> = records.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(targets, ["passerelle"]);
    }
}
