//! The logging bridge: Passerelle's `tracing` output handed to a host-implemented logger (on iOS,
//! `os_log`), one record at a time, redacted before it crosses.
//!
//! The library never logs a secret on purpose; the bridge is a second line: values of fields
//! whose names say "secret" are replaced, and `Bearer …`, `token=…`, `code=…` in messages too.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use crate::error::{PasserelleError, PublicResult as Result};

/// Severity, from the most to the least verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LogRecord {
    pub level: LogLevel,
    /// The module that logged (`passerelle::sync`, ...): a category for `os_log`.
    pub target: String,
    /// The message and its fields, redacted.
    pub message: String,
}

/// Implemented by the host. Called on the thread that logged; keep it quick and non-blocking.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait Logger: Send + Sync {
    fn log(&self, record: LogRecord);
}

struct Sink {
    logger: Arc<dyn Logger>,
    level: LogLevel,
}

/// The logger records go to; replaced by each `set_logger`.
static SINK: RwLock<Option<Sink>> = RwLock::new(None);
/// Whether the bridge is the process's subscriber (it can be installed once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Routes Passerelle's logs at `level` and above to `logger`. Can be called again to change the
/// logger or the level. Fails when the process already has another `tracing` subscriber.
pub fn set_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<()> {
    let installed = *INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Bridge);
        tracing::subscriber::set_global_default(subscriber).is_ok()
    });
    if !installed {
        return Err(PasserelleError::InvalidState {
            reason: "another tracing subscriber is already installed in this process".into(),
        });
    }
    let mut sink = SINK.write().unwrap_or_else(|p| p.into_inner());
    *sink = Some(Sink { logger, level });
    Ok(())
}

struct Bridge;

impl<S: Subscriber> Layer<S> for Bridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        let Some(sink) = sink.as_ref() else {
            return;
        };
        let level = level_of(*event.metadata().level());
        if level < sink.level {
            return;
        }
        let mut visitor = Redacting::default();
        event.record(&mut visitor);
        sink.logger.log(LogRecord {
            level,
            target: event.metadata().target().to_owned(),
            message: visitor.finish(),
        });
    }
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

/// Field names whose values are never shown.
const SECRET_FIELDS: [&str; 7] = [
    "token",
    "secret",
    "password",
    "verifier",
    "authorization",
    "code",
    "cookie",
];

#[derive(Default)]
struct Redacting {
    message: String,
    fields: String,
}

impl Redacting {
    fn finish(self) -> String {
        let mut line = redact_text(&self.message);
        if !self.fields.is_empty() {
            line.push_str(&self.fields);
        }
        line
    }
}

impl Visit for Redacting {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if name == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        let lower = name.to_ascii_lowercase();
        // `code = err.code()` names an error code, not an OAuth code.
        let secret = SECRET_FIELDS.iter().any(|s| lower.contains(s)) && lower != "code";
        if secret {
            let _ = write!(self.fields, " {name}=<redacted>");
        } else {
            let _ = write!(
                self.fields,
                " {name}={}",
                redact_text(&format!("{value:?}"))
            );
        }
    }
}

/// Replaces what follows `Bearer `, `token=`, `code=`, `password=`, `secret=` and
/// `code_verifier=` in free text.
pub fn redact_text(text: &str) -> String {
    const MARKERS: [&str; 7] = [
        "Bearer ",
        "token=",
        "code=",
        "password=",
        "secret=",
        "code_verifier=",
        "X-Access-Token: ",
    ];
    let mut out = text.to_owned();
    for marker in MARKERS {
        let mut from = 0;
        while let Some(found) = out[from..].find(marker) {
            let start = from + found + marker.len();
            let end = out[start..]
                .find(|c: char| c.is_whitespace() || matches!(c, '&' | '"' | '\'' | ',' | ')'))
                .map_or(out.len(), |i| start + i);
            out.replace_range(start..end, "<redacted>");
            from = start + "<redacted>".len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_free_text_are_redacted() {
        let line =
            redact_text("GET /x?code=abc123&state=s Authorization: Bearer eyJhbGc token=zz9 done");
        assert_eq!(
            line,
            "GET /x?code=<redacted>&state=s Authorization: Bearer <redacted> token=<redacted> done"
        );
        assert_eq!(redact_text("nothing to hide"), "nothing to hide");
    }
}
