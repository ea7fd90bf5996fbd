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

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
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

struct Sink {
    logger: Arc<dyn PasserelleLogger>,
    level: LogLevel,
}

/// The logger records go to; replaced by each `set_logger`. Read by cloning the `Arc` out: the
/// lock is never held while the host's logger runs.
static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
/// Whether the bridge is the process's subscriber (it can be installed once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

thread_local! {
    /// Set while this thread runs the host's logger: what the library logs meanwhile (the
    /// logger calling it) is dropped, not handed back to the logger inside itself.
    static IN_HOST_LOGGER: Cell<bool> = const { Cell::new(false) };
    /// How many of the library's locks this thread holds ([`Locked`]).
    static LOCKS_HELD: Cell<usize> = const { Cell::new(0) };
    /// The records logged while it held them, for when it holds none.
    static HELD_BACK: RefCell<Vec<(Arc<Sink>, LogRecord)>> = const { RefCell::new(Vec::new()) };
}

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

fn replace_sink(sink: Option<Sink>) {
    let sink = sink.map(Arc::new);
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
}

fn current_sink() -> Option<Arc<Sink>> {
    SINK.read().unwrap_or_else(|p| p.into_inner()).clone()
}

struct Bridge;

impl<S: Subscriber> Layer<S> for Bridge {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if IN_HOST_LOGGER.try_with(Cell::get).unwrap_or(true) {
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
        if LOCKS_HELD.try_with(Cell::get).unwrap_or(0) > 0 {
            let _ = HELD_BACK.try_with(|held| held.borrow_mut().push((sink, record)));
        } else {
            deliver(&sink, record);
        }
    }
}

/// Hands `record` to the host's logger, with no lock of the library held on this thread.
fn deliver(sink: &Sink, record: LogRecord) {
    /// Puts the flag back when `log` returns or unwinds.
    struct InHostLogger(bool);
    impl Drop for InHostLogger {
        fn drop(&mut self) {
            let _ = IN_HOST_LOGGER.try_with(|flag| flag.set(self.0));
        }
    }
    let Ok(before) = IN_HOST_LOGGER.try_with(|flag| flag.replace(true)) else {
        return;
    };
    let _in_logger = InHostLogger(before);
    sink.logger.log(record);
}

/// A guard of one of the library's locks (the store's connections, the sync workers' map...)
/// that holds back the records this thread logs while it is held: they reach the host's logger
/// when the thread holds no such lock any more, in order, so that a logger calling the library
/// never finds a lock its own thread holds. Dropped in order: the lock first, then the records
/// go. Not `Send`: a thread's lock, released on that thread.
pub(crate) struct Locked<G> {
    guard: G,
    _held_back: HeldBack,
}

/// Takes a lock with [`Locked`]: `take` locks it.
pub(crate) fn locked<G>(take: impl FnOnce() -> G) -> Locked<G> {
    let counted = LOCKS_HELD.try_with(|held| held.set(held.get() + 1)).is_ok();
    let held_back = HeldBack {
        counted,
        _thread: PhantomData,
    };
    Locked {
        guard: take(),
        _held_back: held_back,
    }
}

impl<G: Deref> Deref for Locked<G> {
    type Target = G::Target;

    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<G: DerefMut> DerefMut for Locked<G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

/// One lock of the library held by this thread; the records held back go when the last ends.
struct HeldBack {
    /// Counted in `LOCKS_HELD` (not while the thread's locals are torn down).
    counted: bool,
    _thread: PhantomData<*const ()>,
}

impl Drop for HeldBack {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let held = LOCKS_HELD.try_with(|held| {
            held.set(held.get().saturating_sub(1));
            held.get()
        });
        if held != Ok(0) {
            return;
        }
        let records = HELD_BACK.try_with(RefCell::take).unwrap_or_default();
        for (sink, record) in records {
            deliver(&sink, record);
        }
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

/// What a safe field's value looks like; a value that does not is replaced by `<redacted>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// An identifier: `[A-Za-z0-9_.:-]`, at most 64 characters (ids of connections,
    /// locations, accounts, orders, events, outbox entries).
    Id,
    /// A word of the library's vocabulary: `[a-z_]`, at most 64 characters (error codes,
    /// HubRise's error types, kinds, states, a JSON key). No digit: an OAuth code never fits.
    Word,
    /// An integer.
    Number,
    /// A number or a word (an HTTP status, an order status).
    NumberOrWord,
    /// `true` or `false`.
    Flag,
    /// An HTTP method: `[A-Z]`, at most 10 characters.
    Method,
    /// A URL path, its query cut off: `/` then `[A-Za-z0-9/_.~%:-]`, at most 256 characters.
    Path,
    /// A file path on the device (where a database was moved aside): no control character, at
    /// most 512 characters.
    FilePath,
}

/// The fields a log record may carry, and their shape, chosen by reading every `tracing::` call
/// in `core/src`. Add a field only after checking that its values can never carry a secret, a
/// header value or customer data; until then it shows as `name=<redacted>`.
const SAFE_FIELDS: &[(&str, Shape)] = &[
    // Which connection, location, account, order, event or outbox entry: ids only.
    ("connection", Shape::Id),
    ("location", Shape::Id),
    ("account", Shape::Id),
    ("order", Shape::Id),
    ("event", Shape::Id),
    ("entry", Shape::Id),
    // What happened, in the library's words.
    ("code", Shape::Word),
    ("error_type", Shape::Word),
    ("kind", Shape::Word),
    ("state", Shape::Word),
    ("health", Shape::Word),
    ("field", Shape::Word),
    ("status", Shape::NumberOrWord),
    ("revoked", Shape::Flag),
    // HTTP, without query, headers or bodies.
    ("method", Shape::Method),
    ("path", Shape::Path),
    // Counters and durations.
    ("version", Shape::Number),
    ("to", Shape::Number),
    ("attempt", Shape::Number),
    ("attempts", Shape::Number),
    ("count", Shape::Number),
    ("wait_ms", Shape::Number),
    ("delay_ms", Shape::Number),
    ("elapsed_ms", Shape::Number),
    ("retry_after_secs", Shape::Number),
    // The data directory's files.
    ("moved_to", Shape::FilePath),
];

const REDACTED: &str = "<redacted>";

/// Builds a record: the message, then each field, allowed and well-shaped or redacted.
#[derive(Default)]
struct AllowList {
    message: String,
    fields: Vec<LogField>,
}

impl AllowList {
    fn finish(self, level: LogLevel, target: &str) -> LogRecord {
        let text = redact_text(&self.message);
        let mut message = text.clone();
        for field in &self.fields {
            let _ = write!(message, " {}={}", field.name, field.value);
        }
        LogRecord {
            level,
            target: target.to_owned(),
            message,
            text,
            fields: self.fields,
        }
    }

    fn field(&mut self, name: &str, value: &str) {
        let shown = SAFE_FIELDS
            .iter()
            .find(|(safe, _)| *safe == name)
            .and_then(|(_, shape)| shaped(*shape, value));
        self.fields.push(LogField {
            name: name.to_owned(),
            is_public: shown.is_some(),
            value: shown.unwrap_or_else(|| REDACTED.to_owned()),
        });
    }
}

impl Visit for AllowList {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.field(field.name(), value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field.name(), &value.to_string());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field.name(), &value.to_string());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field.name(), &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message.push_str(&text);
        } else {
            self.field(field.name(), &text);
        }
    }
}

/// The value as it may be shown, or `None` when it does not have the field's shape. `?field`
/// formatting is unwrapped first (`Some("x")` → `x`); `None` is shown as is.
fn shaped(shape: Shape, raw: &str) -> Option<String> {
    let value = unwrap_debug(raw);
    if value == "None" {
        return Some(value.to_owned());
    }
    let all = |max: usize, ok: fn(char) -> bool| -> bool {
        !value.is_empty() && value.chars().count() <= max && value.chars().all(ok)
    };
    let number = || {
        let digits = value.strip_prefix('-').unwrap_or(value);
        !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let word = || all(64, |c| c.is_ascii_lowercase() || c == '_');
    let fits = match shape {
        Shape::Id => all(64, |c| c.is_ascii_alphanumeric() || "_.:-".contains(c)),
        Shape::Word => word(),
        Shape::Number => number(),
        Shape::NumberOrWord => number() || word(),
        Shape::Flag => value == "true" || value == "false",
        Shape::Method => all(10, |c| c.is_ascii_uppercase()),
        Shape::Path => {
            let path = value.split('?').next().unwrap_or_default();
            return (path.starts_with('/')
                && path.len() <= 256
                && path
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_.~%:-".contains(c)))
            .then(|| path.to_owned());
        }
        Shape::FilePath => all(512, |c| !c.is_control()),
    };
    fits.then(|| redact_text(value))
}

/// `Some("x")` → `x`, `"x"` → `x`: what `?field` and `Debug` of strings add.
fn unwrap_debug(raw: &str) -> &str {
    let inner = raw
        .strip_prefix("Some(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(raw);
    inner
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(inner)
}

/// Replaces what follows `Bearer `, `token=`, `code=`, `password=`, `secret=`,
/// `code_verifier=` and `X-Access-Token: ` in free text.
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
            out.replace_range(start..end, REDACTED);
            from = start + REDACTED.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Mutex, OnceLock};

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

    /// Every `tracing::` call of the library, as written in `core/src`, names a `passerelle::`
    /// target and has a constant message (the bridge can see fields, not what was formatted into
    /// the message): data goes in fields, where the allow-list applies.
    #[test]
    fn every_call_site_has_a_passerelle_target_and_a_constant_message() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        collect_sources(&root, &mut files);
        let mut calls = 0;
        let mut problems = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let name = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string();
            if name == "logging.rs" {
                // Its tests log on purpose what the others must not.
                continue;
            }
            for line in text.lines() {
                let code = line.trim_start();
                if code.starts_with("use tracing::")
                    && ["trace", "debug", "info", "warn", "error", "event"]
                        .iter()
                        .any(|m| code.contains(m))
                {
                    problems.push(format!("{name}: call the macros as tracing::…! ({code})"));
                }
            }
            for (offset, _) in text.match_indices("tracing::") {
                let rest = &text[offset + "tracing::".len()..];
                let Some(macro_name) = [
                    "trace!(", "debug!(", "info!(", "warn!(", "error!(", "event!(",
                ]
                .iter()
                .find(|m| rest.starts_with(**m)) else {
                    continue;
                };
                calls += 1;
                let args = top_level_args(&rest[macro_name.len()..]);
                let line = text[..offset].lines().count();
                let site = format!("{name}:{line}");
                if !args
                    .first()
                    .is_some_and(|a| a.starts_with("target: \"passerelle::"))
                {
                    problems.push(format!("{site}: no `target: \"passerelle::…\"` first"));
                }
                match args.last() {
                    Some(message) if message.starts_with('"') => {
                        if message.replace("{{", "").contains('{') {
                            problems.push(format!("{site}: data formatted into the message"));
                        }
                    }
                    _ => problems.push(format!(
                        "{site}: the message must be the last argument, a constant"
                    )),
                }
            }
        }
        assert!(
            calls >= 10,
            "found only {calls} tracing calls: is the scan right?"
        );
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    fn collect_sources(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_sources(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }

    /// The arguments of a macro call whose text starts after its `(`, split at top-level
    /// commas, trimmed (string literals and nested brackets kept whole).
    fn top_level_args(text: &str) -> Vec<String> {
        let mut args = Vec::new();
        let mut current = String::new();
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for c in text.chars() {
            if in_string {
                current.push(c);
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        args.push(current);
        args.into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect()
    }
}
