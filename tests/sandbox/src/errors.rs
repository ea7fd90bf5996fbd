//! HubRise's error JSON, as every API and OAuth endpoint of the fake HubRise answers it.
//!
//! `{"error_type": "...", "message": "..."}`, plus `errors: [{field, message}]` for 422.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// One field-level validation error of a 422 answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error answer in HubRise's format.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// Seconds for a `Retry-After` header (429 only, when the switch allows it).
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// HubRise lists no `error_type` for 400; the sandbox says `bad_request` (see README).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn routing_error() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "routing_error",
            "No route matches this request",
        )
    }
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The Content-Type header must be application/json",
        )
    }
    pub fn unprocessable(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            "Validation failed",
        );
        e.errors = errors;
        e
    }
    pub fn too_many_requests(retry_after: Option<u64>) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Rate limit exceeded for this connection",
        );
        e.retry_after = retry_after;
        e
    }
    pub fn internal(status: StatusCode) -> Self {
        Self::new(status, "internal_error", "An internal error occurred")
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({ "error_type": self.error_type, "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(value) = self
            .retry_after
            .and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Parses a JSON request body as HubRise does: 415 unless the Content-Type is JSON, 400 when the
/// body is not valid JSON.
pub(crate) fn json_body(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))
}
