//! What the host's logger receives, and the trait it implements.

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
    /// The whole line, redacted: `text` then each field as `name=value`, for hosts that print.
    pub message: String,
    /// The call site's constant text (no data is ever interpolated into it).
    pub text: String,
    /// The record's fields, each with whether it was declared safe (`os_log` may show it
    /// publicly); any other is already `<redacted>` and stays private.
    pub fields: Vec<LogField>,
}

/// One field of a log record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LogField {
    pub name: String,
    /// The value, or `<redacted>` when the field is not declared safe or its value does not
    /// have the declared shape.
    pub value: String,
    /// Declared safe and well-shaped: an id, a word of the library's vocabulary, a number...
    pub is_public: bool,
}

/// Implemented by the host (on iOS, `OSLogLogger` over `os.Logger`). Called on the thread that
/// logged, never with a lock of the library held: a logger may call the library, or
/// `set_logger`, from `log`. What the library logs from inside `log`, on that thread, is not
/// handed back to it (it would recurse). Keep it quick and non-blocking. Named so it never
/// collides with `os.Logger`.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait PasserelleLogger: Send + Sync {
    fn log(&self, record: LogRecord);
}
