//! HubRise's token response and error bodies, as the `oauth2` crate needs them typed.
//!
//! HubRise's token response carries the connection's names and ids beside the token, and older
//! documentation omits `token_type`, which the crate's standard response requires (design D14).

use std::fmt;
use std::time::Duration;

use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, Scope};
use serde::{Deserialize, Serialize};

use crate::error::Service;
use crate::http::{SMALL_BODY_LIMIT, read_body};
use crate::model::connection::ConnectionNames;

/// `POST /oauth2/v1/token`'s answer. HubRise tokens never expire and come without refresh token.
#[derive(Clone, Serialize, Deserialize)]
pub struct HubriseTokenResponse {
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "token_type")]
    token_type: BasicTokenType,
    location_id: Option<String>,
    location_name: Option<String>,
    account_id: Option<String>,
    account_name: Option<String>,
    catalog_id: Option<String>,
    catalog_name: Option<String>,
    customer_list_id: Option<String>,
    customer_list_name: Option<String>,
    app_instance_id: Option<String>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

/// RFC 6749 says token types are case-insensitive and HubRise writes `"Bearer"`, which the
/// crate's own reading takes for an unknown type: read it without case (`null` is `Bearer`).
fn token_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(match raw.as_deref().map(str::trim) {
        None | Some("") => BasicTokenType::Bearer,
        Some(t) if t.eq_ignore_ascii_case("bearer") => BasicTokenType::Bearer,
        Some(t) if t.eq_ignore_ascii_case("mac") => BasicTokenType::Mac,
        Some(t) => BasicTokenType::Extension(t.to_owned()),
    })
}

impl fmt::Debug for HubriseTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // AccessToken redacts itself; the names are not secret.
        f.debug_struct("HubriseTokenResponse")
            .field("access_token", &self.access_token)
            .field("location_id", &self.location_id)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl HubriseTokenResponse {
    /// Parses a body (the broker forwards HubRise's JSON unchanged).
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Parses a success body whatever its `Content-Type` said: JSON (HubRise's), else a form
    /// (`access_token=…&location_id=…`, as some OAuth servers answer). `None` without a token.
    pub fn from_body(body: &[u8]) -> Option<Self> {
        let trimmed = body.trim_ascii();
        let parsed = Self::from_json(trimmed).ok().or_else(|| {
            let pairs: serde_json::Map<String, serde_json::Value> =
                url::form_urlencoded::parse(trimmed)
                    .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                    .collect();
            serde_json::from_value(serde_json::Value::Object(pairs)).ok()
        })?;
        (!parsed.access_token.secret().trim().is_empty()).then_some(parsed)
    }

    pub fn secret(&self) -> crate::secrets::Secret {
        crate::secrets::Secret::new(self.access_token.secret().clone())
    }

    /// The connection's names and ids; `None` when the token is not for a location (an
    /// account-level scope, which a POS cannot use).
    pub fn names(&self) -> Option<ConnectionNames> {
        Some(ConnectionNames {
            location_id: self.location_id.clone().filter(|id| !id.is_empty())?,
            location_name: self.location_name.clone(),
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            catalog_id: self.catalog_id.clone(),
            catalog_name: self.catalog_name.clone(),
            customer_list_id: self.customer_list_id.clone(),
            customer_list_name: self.customer_list_name.clone(),
            app_instance_id: self.app_instance_id.clone(),
        })
    }
}

impl oauth2::TokenResponse for HubriseTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        None
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        None
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

/// HubRise's error body: `{"error_type": "...", "message": "..."}`; OAuth's standard `error` is
/// accepted too, so whichever form a server sends parses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HubriseErrorBody {
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

impl HubriseErrorBody {
    /// Reads an error answer's body; one that is not HubRise's JSON (HTML, empty) reads as empty.
    pub async fn read(response: reqwest::Response) -> Self {
        let bytes = read_body(response, SMALL_BODY_LIMIT, Service::HubriseApi)
            .await
            .ok();
        bytes.map(|b| Self::from_bytes(&b)).unwrap_or_default()
    }

    /// An error body as bytes: HubRise's JSON, or empty for anything else.
    pub fn from_bytes(body: &[u8]) -> Self {
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// Whether a 429 with this body is a refusal of the token rather than a rate limit: it names
    /// an error type, and not `too_many_requests` (an older HubRise page answered 429 with
    /// `unauthorized` for invalid or blocked tokens). A 429 without an error type stays a rate
    /// limit: refusing a token on a guess would stop orders.
    pub fn is_refusal(&self) -> bool {
        self.error_type
            .as_deref()
            .or(self.error.as_deref())
            .is_some_and(|t| !t.trim().is_empty() && t.trim() != "too_many_requests")
    }

    /// A short, printable reason (HubRise's messages are not secret; they are cut to stay short).
    pub fn reason(&self) -> String {
        let text = self
            .message
            .as_deref()
            .or(self.error_type.as_deref())
            .or(self.error.as_deref())
            .unwrap_or("no reason given");
        text.chars().take(200).collect()
    }
}

impl fmt::Display for HubriseErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

impl oauth2::ErrorResponse for HubriseErrorBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_type_defaults_to_bearer_and_extras_are_kept() {
        let body = br#"{"access_token":"b9922a78d3ffab6b95e9d72e88","account_id":"3r4s3",
            "location_id":"3r4s3-1","catalog_id":"psmlf","customer_list_id":"xab66",
            "account_name":"Bella Pizza","location_name":"Paris","catalog_name":"Bella Pizza",
            "customer_list_name":"Bella Pizza"}"#;
        let token = HubriseTokenResponse::from_json(body).unwrap();
        assert_eq!(
            oauth2::TokenResponse::token_type(&token),
            &BasicTokenType::Bearer
        );
        let names = token.names().unwrap();
        assert_eq!(names.location_name.as_deref(), Some("Paris"));
        assert_eq!(names.catalog_id.as_deref(), Some("psmlf"));
        assert!(!format!("{token:?}").contains("b9922a78"));
    }

    #[test]
    fn a_429_naming_another_error_type_is_a_refusal() {
        let body = |json: &str| serde_json::from_str::<HubriseErrorBody>(json).unwrap();
        assert!(
            body(r#"{"error_type":"unauthorized","message":"The connection has been blocked"}"#)
                .is_refusal()
        );
        assert!(!body(r#"{"error_type":"too_many_requests"}"#).is_refusal());
        assert!(!body("{}").is_refusal(), "no error type: a rate limit");
        assert!(!HubriseErrorBody::default().is_refusal());
    }

    #[test]
    fn a_token_without_location_has_no_names() {
        let token =
            HubriseTokenResponse::from_json(br#"{"access_token":"x","location_id":null}"#).unwrap();
        assert!(token.names().is_none());
    }

    #[test]
    fn hubrise_s_token_examples_parse() {
        use crate::hubrise_examples as ex;
        for example in [ex::TOKEN_SUCCESS, ex::TOKEN_SUCCESS_NO_TOKEN_TYPE] {
            let token = HubriseTokenResponse::from_body(example.as_bytes()).unwrap();
            assert_eq!(token.secret().expose(), "b9922a78d3ffab6b95e9d72e88");
            assert_eq!(
                oauth2::TokenResponse::token_type(&token),
                &BasicTokenType::Bearer
            );
            let names = token.names().unwrap();
            assert_eq!(names.location_id, "3r4s3-1");
            assert_eq!(names.account_name.as_deref(), Some("Bella Pizza"));
            assert_eq!(names.catalog_id.as_deref(), Some("psmlf"));
            assert_eq!(names.customer_list_name.as_deref(), Some("Bella Pizza"));
        }
        // 2019: ids only.
        let token = HubriseTokenResponse::from_body(ex::TOKEN_SUCCESS_2019.as_bytes()).unwrap();
        let names = token.names().unwrap();
        assert_eq!(names.customer_list_id.as_deref(), Some("xab66"));
        assert_eq!((names.location_name, names.account_id), (None, None));
    }

    #[test]
    fn hubrise_s_error_examples_parse() {
        use crate::hubrise_examples as ex;
        let parse = |text: &str| HubriseErrorBody::from_bytes(text.as_bytes());
        let blocked = parse(ex::ERROR_401_BLOCKED);
        assert_eq!(blocked.reason(), "The connection has been blocked");
        assert!(blocked.is_refusal(), "as a 429 (an older page), a refusal");
        let invalid = parse(ex::ERROR_422);
        assert_eq!(invalid.error_type.as_deref(), Some("unprocessable_entity"));
        assert_eq!(invalid.reason(), "Validation failed");
        let routing = parse(ex::ERROR_ROUTING);
        assert_eq!(
            routing.reason(),
            "routing_error",
            "no message: the type says it"
        );
    }
}
