//! Injected faults: 5xx bursts, delays, dropped connections, forced 429s, canned answers and
//! rewritten JSON answers, matched on the request path (and optionally the server and method),
//! each for a number of requests or until cleared. The network cut is apart (`network.rs`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::request_log::ServerKind;
use crate::state::Shared;

/// What an injected fault does to a matching request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer this status (typically 500, 502, 503) with the server's error JSON.
    Status { status: u16 },
    /// Wait this long, then handle the request normally.
    Delay { millis: u64 },
    /// Handle the request at once (its effects happen: a refresh token rotates), then wait this
    /// long before answering, as a real server does when its answer is slow to reach the device:
    /// a client that gives up meanwhile has still changed the server's state.
    SlowAnswer { millis: u64 },
    /// Close the connection without an HTTP response.
    DropConnection,
    /// Answer 429; `retry_after` adds a `Retry-After` header with these seconds.
    TooManyRequests { retry_after: Option<u64> },
    /// Answer this status with this body and `Content-Type`, whatever the request (a 200 whose
    /// body is `<html>…</html>`: "a body that is not JSON").
    Body {
        status: u16,
        content_type: String,
        body: String,
        /// Handle the request first (a PATCH is applied, an order created), then answer this
        /// instead of the real answer: "HubRise applied it but its answer cannot be read".
        #[serde(default)]
        handled: bool,
    },
    /// Handle the request (its effects happen), then close the connection without the answer:
    /// a change applied whose answer never came back.
    DropAfterHandling,
    /// Handle the request normally, then rewrite its JSON answer: the top-level keys in `remove`
    /// go, those in `set` take the given values (`null` included). An answer that is not a JSON
    /// object passes unchanged. (An order without an `id`, a `"status": 12`, …)
    RewriteJson {
        #[serde(default)]
        set: serde_json::Map<String, Value>,
        #[serde(default)]
        remove: Vec<String>,
    },
}

/// A fault for requests whose path starts with `path_prefix`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    pub path_prefix: String,
    /// Only on this server (`manager`, `api`, `pos`); any when `None`.
    #[serde(default)]
    pub server: Option<ServerKind>,
    /// Only for this HTTP method (e.g. `"PATCH"`); any when `None`.
    #[serde(default)]
    pub method: Option<String>,
    /// How many matching requests it affects; until cleared when `None`.
    #[serde(default)]
    pub times: Option<u32>,
    pub kind: FaultKind,
}

impl Fault {
    fn new(path_prefix: &str, times: Option<u32>, kind: FaultKind) -> Fault {
        Fault {
            path_prefix: path_prefix.into(),
            server: None,
            method: None,
            times,
            kind,
        }
    }
    /// The next `times` matching requests answer `status`.
    pub fn status(path_prefix: &str, status: u16, times: u32) -> Fault {
        Self::new(path_prefix, Some(times), FaultKind::Status { status })
    }
    /// Every matching request waits `delay` first, until cleared.
    pub fn delay(path_prefix: &str, delay: Duration) -> Fault {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Self::new(path_prefix, None, FaultKind::Delay { millis })
    }
    /// The next `times` matching requests are handled at once and answered after `delay`.
    pub fn slow_answer(path_prefix: &str, delay: Duration, times: u32) -> Fault {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Self::new(path_prefix, Some(times), FaultKind::SlowAnswer { millis })
    }
    /// The next `times` matching requests see their connection closed without a response.
    pub fn drop_connection(path_prefix: &str, times: u32) -> Fault {
        Self::new(path_prefix, Some(times), FaultKind::DropConnection)
    }
    /// The next `times` matching requests answer 429, with `Retry-After` when given.
    pub fn too_many_requests(path_prefix: &str, times: u32, retry_after: Option<u64>) -> Fault {
        Self::new(
            path_prefix,
            Some(times),
            FaultKind::TooManyRequests { retry_after },
        )
    }
    /// The next `times` matching requests answer `status` with `body` as `content_type`.
    pub fn body(
        path_prefix: &str,
        status: u16,
        content_type: &str,
        body: &str,
        times: u32,
    ) -> Fault {
        Self::new(
            path_prefix,
            Some(times),
            FaultKind::Body {
                status,
                content_type: content_type.into(),
                body: body.into(),
                handled: false,
            },
        )
    }
    /// Makes a `body` fault handle the request first (its effects happen) and answer the canned
    /// body instead of the real answer; makes a `drop_connection` fault handle it before dropping.
    pub fn after_handling(mut self) -> Fault {
        match &mut self.kind {
            FaultKind::Body { handled, .. } => *handled = true,
            FaultKind::DropConnection => self.kind = FaultKind::DropAfterHandling,
            _ => {}
        }
        self
    }
    /// The next `times` matching requests are answered normally, then their JSON answer loses
    /// the keys in `remove` and takes those of `set` (a JSON object; anything else sets nothing).
    pub fn rewrite_json(path_prefix: &str, set: Value, remove: &[&str], times: u32) -> Fault {
        let set = match set {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        Self::new(
            path_prefix,
            Some(times),
            FaultKind::RewriteJson {
                set,
                remove: remove.iter().map(|k| (*k).to_owned()).collect(),
            },
        )
    }
    /// Restricts the fault to one HTTP method.
    pub fn for_method(mut self, method: &str) -> Fault {
        self.method = Some(method.to_ascii_uppercase());
        self
    }
    /// Restricts the fault to one server.
    pub fn on_server(mut self, server: ServerKind) -> Fault {
        self.server = Some(server);
        self
    }
    /// Sets how many requests it affects (`None`: until cleared).
    pub fn times(mut self, times: Option<u32>) -> Fault {
        self.times = times;
        self
    }

    fn matches(&self, server: ServerKind, method: &str, path: &str) -> bool {
        path.starts_with(&self.path_prefix)
            && self.server.is_none_or(|s| s == server)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// Takes the first fault matching this request, using up one of its `times`.
pub(crate) fn take_matching(
    shared: &Shared,
    server: ServerKind,
    method: &str,
    path: &str,
) -> Option<FaultKind> {
    let mut world = shared.world();
    let index = world
        .faults
        .iter()
        .position(|f| f.matches(server, method, path))?;
    let fault = &mut world.faults[index];
    let kind = fault.kind.clone();
    if let Some(times) = fault.times.as_mut() {
        *times = times.saturating_sub(1);
        if *times == 0 {
            world.faults.remove(index);
        }
    }
    Some(kind)
}

/// What the request pipeline should do with a request a fault matched.
pub(crate) enum Action {
    Respond(Response),
    /// Handle the request, then answer this instead.
    RespondAfter(Response),
    /// Handle the request, then drop the connection.
    DropAfter,
    Delay(Duration),
    /// Handle the request, then wait before answering.
    DelayAfter(Duration),
    Drop,
    Rewrite {
        set: serde_json::Map<String, Value>,
        remove: Vec<String>,
    },
}

pub(crate) fn action(kind: FaultKind, server: ServerKind) -> Action {
    match kind {
        FaultKind::Delay { millis } => Action::Delay(Duration::from_millis(millis)),
        FaultKind::SlowAnswer { millis } => Action::DelayAfter(Duration::from_millis(millis)),
        FaultKind::DropConnection => Action::Drop,
        FaultKind::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Action::Respond(error_response(server, status, None))
        }
        FaultKind::TooManyRequests { retry_after } => Action::Respond(error_response(
            server,
            StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        )),
        FaultKind::DropAfterHandling => Action::DropAfter,
        FaultKind::Body {
            status,
            content_type,
            body,
            handled,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, body).into_response();
            let content_type = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type);
            if handled {
                Action::RespondAfter(response)
            } else {
                Action::Respond(response)
            }
        }
        FaultKind::RewriteJson { set, remove } => Action::Rewrite { set, remove },
    }
}

/// The largest answer a rewrite reads (the sandbox's pages are far smaller).
const REWRITE_LIMIT: usize = 16 * 1024 * 1024;

/// Applies a `RewriteJson` fault to an answer: a JSON object loses `remove` and takes `set`;
/// anything else passes unchanged.
pub(crate) async fn rewrite(
    response: Response,
    set: serde_json::Map<String, Value>,
    remove: Vec<String>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, REWRITE_LIMIT).await else {
        return dropped_response();
    };
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    for key in &remove {
        object.remove(key);
    }
    object.extend(set);
    let rewritten = Value::Object(object).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(rewritten))
}

/// The error body each server would send: HubRise's JSON, or OAuth 2 JSON on the POS backend.
fn error_response(server: ServerKind, status: StatusCode, retry_after: Option<u64>) -> Response {
    let too_many = status == StatusCode::TOO_MANY_REQUESTS;
    match server {
        ServerKind::Pos => {
            let error = if too_many {
                "temporarily_unavailable"
            } else {
                "server_error"
            };
            let mut body = json!({ "error": error, "error_description": "Injected fault" });
            if let Some(secs) = retry_after {
                body["retry_after"] = json!(secs);
            }
            let mut response = (status, axum::Json(body)).into_response();
            if let Some(value) =
                retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        _ if too_many => ApiError::too_many_requests(retry_after).into_response(),
        _ => ApiError::internal(status).into_response(),
    }
}

/// A 200 whose body fails on first read: hyper then aborts the connection, so the client sees
/// the connection closed with no (complete) HTTP response.
pub(crate) fn dropped_response() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response.extensions_mut().insert(Dropped);
    response
}

/// Marks a response whose connection the sandbox drops (logged with status 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dropped;
