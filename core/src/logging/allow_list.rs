//! What of a record may cross to the host: the fields of [`SAFE_FIELDS`] whose value has the
//! declared shape, and free text with its secrets masked ([`redact_text`]).

use std::fmt::Write as _;

use tracing::field::{Field, Visit};

use super::record::{LogField, LogLevel, LogRecord};

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

pub(super) const REDACTED: &str = "<redacted>";

/// Builds a record: the message, then each field, allowed and well-shaped or redacted.
#[derive(Default)]
pub(super) struct AllowList {
    message: String,
    fields: Vec<LogField>,
}

impl AllowList {
    pub(super) fn finish(self, level: LogLevel, target: &str) -> LogRecord {
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
fn redact_text(text: &str) -> String {
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
