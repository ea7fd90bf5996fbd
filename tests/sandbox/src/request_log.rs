//! The request log: every request to the three servers (never the admin API), with secrets
//! redacted, so tests can count what a client did. Also where injected faults and the network
//! cut are applied.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::faults::{self, Action, Dropped};
use crate::state::Shared;
use crate::timefmt;

/// Which of the sandbox's listeners served a request.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    /// HubRise's OAuth server (`manager.hubrise.com`), which also serves the admin API.
    Manager,
    /// HubRise's API (`api.hubrise.com`).
    Api,
    /// The POS vendor's backend.
    Pos,
}

/// The connection a request was made with (never its token).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConnectionTag {
    /// Short connection id (HubRise connection, or POS account id on the POS server).
    pub connection_id: String,
    pub client_id: Option<String>,
    pub location_id: Option<String>,
    pub device_id: Option<String>,
}

/// One logged request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestRecord {
    pub server: ServerKind,
    pub method: String,
    pub path: String,
    /// The query string with secret values replaced by `[redacted]`.
    pub query: Option<String>,
    /// The response status; 0 when the connection was dropped by an injected fault.
    pub status: u16,
    /// When the request arrived (Europe/Paris time).
    pub at: String,
    pub duration_ms: u64,
    pub connection: Option<ConnectionTag>,
}

/// Query keys whose values never reach the log.
const SECRET_KEYS: &[&str] = &[
    "code",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "code_verifier",
];

pub(crate) fn redact_query(query: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let secret = SECRET_KEYS.contains(&k.as_ref());
            let value = if secret {
                "[redacted]".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Filled by authentication extractors so the log can name the connection.
#[derive(Clone, Default)]
pub(crate) struct TagSlot(Arc<Mutex<Option<ConnectionTag>>>);

impl TagSlot {
    pub fn set(&self, tag: ConnectionTag) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(tag);
        }
    }
    fn take(&self) -> Option<ConnectionTag> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// State of the middleware: which server it guards.
#[derive(Clone)]
pub(crate) struct Guard {
    pub shared: Arc<Shared>,
    pub server: ServerKind,
}

/// Applies injected faults, runs the request, and logs it (admin routes pass straight through).
pub(crate) async fn middleware(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_sandbox") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(redact_query);
    let started = Instant::now();
    let at = timefmt::now_string();
    let slot = TagSlot::default();
    request.extensions_mut().insert(slot.clone());

    // A cut network answers nothing; faults wait for it to come back.
    let fault = if guard.shared.network_cut() {
        Some(Action::Drop)
    } else {
        faults::take_matching(&guard.shared, guard.server, &method, &path)
            .map(|kind| faults::action(kind, guard.server))
    };
    let response = match fault {
        Some(Action::Respond(response)) => response,
        Some(Action::Drop) => faults::dropped_response(),
        Some(Action::RespondAfter(canned)) => {
            let _ = next.run(request).await;
            canned
        }
        Some(Action::DropAfter) => {
            let _ = next.run(request).await;
            faults::dropped_response()
        }
        Some(Action::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Some(Action::DelayAfter(delay)) => {
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        Some(Action::Rewrite { set, remove }) => {
            faults::rewrite(next.run(request).await, set, remove).await
        }
        None => next.run(request).await,
    };
    let status = if response.extensions().get::<Dropped>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    let record = RequestRecord {
        server: guard.server,
        method,
        path,
        query,
        status,
        at,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        connection: slot.take(),
    };
    guard.shared.world().log.push(record);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let q = redact_query("code=abc&state=xyz&client_secret=s3&password=p");
        assert_eq!(
            q,
            "code=%5Bredacted%5D&state=xyz&client_secret=%5Bredacted%5D&password=%5Bredacted%5D"
        );
    }
}
