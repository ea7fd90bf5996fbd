//! The bridge's HTTP side: the POS-backend contract (docs/pos-backend-contract.md), the web back
//! office, health, and the errors every route answers (typed 4xx for bad input, 503 with
//! `Retry-After` while the database is away, never a 500 for anything a client sends).

mod api;
mod backoffice;
mod callback_events;
mod changes;
mod device_flows;
mod pages;
mod push_token;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::config::Config;
use crate::db::{DbError, latest_version, schema_version};
use crate::hubrise::{Hubrise, HubriseError};
use crate::identity::{Account, Identity, IdentityError, Refusal};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Larger bodies are refused with 413 before any handler reads them.
pub const BODY_LIMIT: usize = 64 * 1024;
/// An event of HubRise's (an order's previous and new states) may be this large.
pub const EVENT_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// A device flow (and a back-office code waiting for sign-in) lives as long as HubRise's code.
pub const FLOW_LIFETIME_MS: i64 = 600_000;

/// What every handler shares.
pub struct App {
    pub config: Config,
    pub store: Store,
    /// HubRise's events received by the active callback, and the tills' cursors.
    pub events: crate::events::Events,
    /// Tills' device tokens and background notifications (issue 24, part 5).
    pub push: Arc<crate::push::Push>,
    /// Wakes the tills' streams when events arrive (here or at another replica).
    pub hub: Arc<crate::events::Hub>,
    /// `true` once the bridge stops: the tills' streams end, so the graceful stop finishes.
    pub stopping: tokio::sync::watch::Sender<bool>,
    pub identity: Arc<dyn Identity>,
    /// When each connection's active callback was last found in place (account, location,
    /// connection's creation), so a till's stream does not check it again each time it opens.
    pub callbacks_checked: std::sync::Mutex<CallbacksChecked>,
    /// The provider's password grant, for the back office beside an external identity.
    pub password_grant: Option<Arc<crate::identity::PasswordGrant>>,
    pub hubrise: Hubrise,
    pub metrics: Arc<Metrics>,
}

/// See [`App::callbacks_checked`].
pub type CallbacksChecked = std::collections::HashMap<(String, String, String), std::time::Instant>;

/// Every route of the bridge.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/oauth/token", post(api::token))
        .route("/me", get(api::me))
        .route("/hubrise/broker/token", post(api::broker_token))
        .route("/hubrise/configuration", get(api::configuration))
        .route(
            "/hubrise/connections/{location_id}/revoke",
            post(api::revoke),
        )
        .route(
            "/hubrise/connections/{location_id}/token",
            get(api::connection_token),
        )
        .route(
            "/hubrise/disconnect-callback",
            post(api::disconnect_callback),
        )
        .route("/hubrise/events", get(stream::open))
        .route("/hubrise/changes", post(changes::report))
        .route(
            push_token::PATH,
            axum::routing::put(push_token::register).delete(push_token::unregister),
        )
        .route(
            callback_events::PATH,
            // HubRise counts a 413 as acknowledged: an order's states must fit.
            post(callback_events::receive).layer(DefaultBodyLimit::max(EVENT_BODY_LIMIT)),
        )
        .route("/hubrise/connect", get(backoffice::connect_url))
        .route("/hubrise/device-flows", post(device_flows::register))
        .route("/hubrise/device-flows/claim", post(device_flows::claim))
        .route("/hubrise/device-callback", get(device_flows::callback))
        .route("/hubrise/device-return", get(device_flows::device_return))
        .route("/", get(backoffice::home))
        .route("/backoffice", get(backoffice::home))
        .route(
            "/backoffice/sign-in",
            get(backoffice::sign_in_page).post(backoffice::sign_in),
        )
        .route("/backoffice/sign-out", post(backoffice::sign_out))
        .route("/backoffice/hubrise", get(backoffice::hubrise_page))
        .route(
            "/backoffice/hubrise/connect",
            post(backoffice::start_connect),
        )
        .route(
            "/backoffice/hubrise/disconnect",
            get(backoffice::confirm_disconnect).post(backoffice::disconnect),
        )
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "routing_error",
                "No route matches this request",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(typed_rejections))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            log_request,
        ))
        .with_state(app)
}

/// The active callback's URL HubRise is given: `{public_url}/hubrise/callback`.
pub fn callback_url(public_url: &str) -> String {
    format!(
        "{}{}",
        public_url.trim_end_matches('/'),
        callback_events::PATH
    )
}

/// `GET /metrics`: Prometheus's text format.
async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        app.metrics.render(),
    )
        .into_response()
}

/// One line per request: method, route, status, time. Never the query (it may carry a code).
/// Counted by route template, so ids in paths never become metric labels.
async fn log_request(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    app.metrics
        .request(method.as_str(), &route, response.status().as_u16());
    tracing::info!(
        target: "passerelle_bridge::http",
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// A response carrying HubRise's own refusal, passed through unchanged: never retyped.
#[derive(Clone, Copy, Debug)]
pub struct PassedThrough;

/// axum's own refusals (a body over the limit, a method the route does not serve, a query or a
/// path it cannot read) come as plain text or with no body at all: they get the typed body
/// `{"error_type", "message"}` every other 4xx has (their status and `Allow` kept).
async fn typed_rejections(response: Response) -> Response {
    let status = response.status();
    let plain = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|v| v.starts_with("text/plain")),
    };
    if !status.is_client_error() || !plain || response.extensions().get::<PassedThrough>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let error_type = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable_entity",
        _ => "client_error",
    };
    let message = match text.is_empty() {
        true => status.canonical_reason().unwrap_or("Refused").to_owned(),
        false => text,
    };
    let mut typed = ApiError::new(status, error_type, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        typed.headers_mut().insert(header::ALLOW, allow.clone());
    }
    typed
}

/// Ready when the database answers and its schema is this build's.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    match schema_version(app.store.database()).await {
        Ok(v) if v == latest_version() => {
            Json200(json!({"ready": true, "schema_version": v})).into_response()
        }
        Ok(v) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({"ready": false, "reason": "migrations not applied", "schema_version": v}),
            ),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"ready": false, "reason": "database unreachable"})),
        )
            .into_response(),
    }
}

/// A JSON 200 with `Cache-Control: no-store` (tokens and codes are never cached).
struct Json200(Value);

impl IntoResponse for Json200 {
    fn into_response(self) -> Response {
        no_store(axum::Json(self.0).into_response())
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error answer: `{"error_type", "message"}` (the sandbox's and HubRise's shape), or an
/// OAuth error `{"error", "error_description"}` on the token endpoint and bearer checks.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
    bearer_challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "error_type": error_type, "message": message.into() }),
            retry_after: None,
            bearer_challenge: false,
        }
    }
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> Self {
        ApiError {
            status,
            body: json!({ "error": error, "error_description": description }),
            retry_after: None,
            bearer_challenge: false,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 401 for a missing, unknown or expired POS token.
    pub fn invalid_token() -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            body: json!({ "error": "invalid_token" }),
            retry_after: None,
            bearer_challenge: true,
        }
    }
    /// 401 naming why the POS token was refused (RFC 6750's `error_description`).
    pub fn invalid_token_because(refusal: &Refusal) -> Self {
        let mut e = Self::invalid_token();
        e.body["error_description"] = json!(refusal.to_string());
        e
    }
    pub fn unavailable(what: &str) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{what} is unavailable, retry later"),
        );
        e.retry_after = Some(5);
        e
    }
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.body["retry_after"] = json!(seconds);
        self.retry_after = Some(seconds);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        if let Some(value) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if self.bearer_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        no_store(response)
    }
}

/// Storage trouble: 503 while the database is away, logged (without values) otherwise.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(DbError::Unavailable(reason)) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::unavailable("the database")
            }
            other => {
                tracing::error!(error = %other, "storage error");
                ApiError::unavailable("storage")
            }
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Store(s) => s.into(),
            IdentityError::Unavailable(reason) => {
                tracing::warn!(%reason, "identity provider unavailable");
                ApiError::unavailable("the identity provider")
            }
        }
    }
}

impl From<HubriseError> for ApiError {
    fn from(e: HubriseError) -> Self {
        match e {
            HubriseError::Refused(r) => ApiError::new(
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
                "hubrise_refused",
                "HubRise refused",
            ),
            HubriseError::Unavailable(reason) => {
                tracing::warn!(%reason, "HubRise unavailable");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "hubrise_unavailable",
                    "HubRise could not be reached",
                )
            }
        }
    }
}

/// A request carrying a POS access token the identity accepts.
pub struct Caller(pub Account);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::invalid_token)?;
        let account = app.identity.account(token).await?.map_err(|refusal| {
            app.metrics.token_refused(refusal.reason());
            ApiError::invalid_token_because(&refusal)
        })?;
        Ok(Caller(account))
    }
}

/// A JSON object body (`Content-Type: application/json`; else 415, broken JSON 400).
pub fn json_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The Content-Type header must be application/json",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("The body must be a JSON object")),
        Err(_) => Err(ApiError::bad_request("Invalid JSON")),
    }
}

/// A string field of a JSON body: absent or null is `None`, another type is a 400.
pub fn text_field(
    body: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{key} must be a string"))),
    }
}

/// A url-encoded form or query (the last value of a repeated name wins).
pub fn form(bytes: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// `base?params&state=` with every value encoded.
pub fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        out.append_pair(k, v);
    }
    format!("{base}?{}", out.finish())
}
