//! The POS listener in front of a POS backend served elsewhere ([`SandboxOptions::pos_proxy_to`],
//! passerelle-bridge in the end-to-end tests): every request is forwarded as it came and the
//! backend's answer returned as it is, its body as it comes (redirects not followed, cookies
//! kept; the event stream streams), so the request log, injected faults and the network cut of
//! this listener apply to that backend's traffic.
//!
//! [`SandboxOptions::pos_proxy_to`]: crate::SandboxOptions::pos_proxy_to

use std::sync::{Arc, OnceLock};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::Shared;

/// The largest body forwarded either way (the bridge refuses more than 64 KiB anyway).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Headers of one hop, not forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::HOST,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::CONTENT_LENGTH,
];

fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| crate::http_client::client().ok())
        .as_ref()
}

/// Any request to the POS listener: forwarded to the backend.
pub(crate) async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let Some(backend) = shared.options().pos_proxy_to else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let Some(http) = client() else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut outgoing = http.request(
        parts.method,
        format!("{}{path}", backend.trim_end_matches('/')),
    );
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = match outgoing.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!("POS proxy: {}", e.without_url());
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    // Passed on as it comes: the bridge's event stream (`GET /hubrise/events`) never ends.
    let body = futures_util::stream::unfold(answer, |mut answer| async move {
        match answer.chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, reqwest::Error>(chunk), answer)),
            Ok(None) | Err(_) => None,
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}
