//! HubRise's OAuth for a native app (RFC 8252 / RFC 9700 where HubRise allows): the authorize
//! URL with a one-time `state` and PKCE (through the `oauth2` crate), strict parsing of the
//! callback, and the direct code exchange and revocation (with the shared client, reading
//! HubRise's answers as its docs allow: any `Content-Type`, errors by status).

use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
    StandardRevocableToken, TokenUrl,
};
use sha2::{Digest, Sha256};
use url::Url;

use super::token::{HubriseErrorBody, HubriseTokenResponse};
use crate::config::OUT_OF_BAND_REDIRECT_URI;
use crate::error::{Error, Result, Service};
use crate::http::retry_after_secs;
use crate::model::authorization::HubriseConnectionOptions;
use crate::secrets::Secret;

/// The `oauth2` client for HubRise, with authorize and token endpoints set.
type HubriseOAuthClient<HasAuth = oauth2::EndpointSet, HasToken = oauth2::EndpointSet> =
    oauth2::Client<
        HubriseErrorBody,
        HubriseTokenResponse,
        BasicTokenIntrospectionResponse,
        StandardRevocableToken,
        BasicRevocationErrorResponse,
        HasAuth,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        HasToken,
    >;

/// The parts of an authorize URL that the flow must remember.
pub struct AuthorizeRequest {
    pub url: String,
    pub state: String,
    pub verifier: Secret,
}

/// Parameters of the authorize URL.
pub struct AuthorizeParams<'a> {
    pub oauth_base: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub device_id: &'a str,
    pub options: &'a HubriseConnectionOptions,
}

/// Builds the authorize URL with a fresh state and PKCE (S256; harmless where HubRise ignores it).
pub fn authorize_request(params: &AuthorizeParams<'_>) -> Result<AuthorizeRequest> {
    let client = oauth_client(params.oauth_base, params.client_id, None)?
        .set_redirect_uri(redirect_url(params.redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new(params.scope.to_owned()))
        .set_pkce_challenge(challenge)
        .add_extra_param("device_id", params.device_id);
    let hints = [
        ("account_id", &params.options.account_id),
        ("account_name", &params.options.account_name),
        ("location_name", &params.options.location_name),
        ("country", &params.options.country),
    ];
    for (name, value) in hints {
        if let Some(value) = value {
            request = request.add_extra_param(name, value.clone());
        }
    }
    let (url, state) = request.url();
    Ok(AuthorizeRequest {
        url: url.to_string(),
        state: state.secret().clone(),
        verifier: Secret::new(verifier.secret().clone()),
    })
}

/// What an OAuth callback URL carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<Secret>,
    pub error: Option<String>,
}

/// Parses a callback URL, requiring scheme, host, port and path to equal the redirect URI's.
pub fn parse_callback(callback_url: &str, redirect_uri: &Url) -> Result<CallbackParams> {
    let url = Url::parse(callback_url.trim()).map_err(|e| mismatch(format!("not a URL ({e})")))?;
    let same = url.scheme() == redirect_uri.scheme()
        && url.host_str() == redirect_uri.host_str()
        && url.port_or_known_default() == redirect_uri.port_or_known_default()
        && url.path() == redirect_uri.path();
    if !same {
        return Err(mismatch(
            "scheme, host or path differs from the redirect URI".into(),
        ));
    }
    let mut params = CallbackParams {
        state: None,
        code: None,
        error: None,
    };
    for (name, value) in url.query_pairs() {
        let slot_taken = match name.as_ref() {
            "state" => params.state.replace(value.into_owned()).is_some(),
            "code" => params
                .code
                .replace(Secret::new(value.into_owned()))
                .is_some(),
            "error" => params.error.replace(value.into_owned()).is_some(),
            _ => false,
        };
        // A repeated parameter is ambiguous: refuse rather than pick one (parameter pollution).
        if slot_taken {
            return Err(mismatch(format!("parameter {name} appears twice")));
        }
    }
    params.state = params.state.filter(|s| !s.is_empty());
    params.code = params.code.filter(|c| !c.expose().is_empty());
    Ok(params)
}

fn mismatch(reason: String) -> Error {
    Error::NotThisRedirect { reason }
}

/// The digest under which a flow's state is stored: the state itself never reaches SQLite.
pub fn state_digest(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a redirect URI is HubRise's out-of-band one.
pub fn is_out_of_band(redirect_uri: &str) -> bool {
    redirect_uri == OUT_OF_BAND_REDIRECT_URI
}

/// A code exchange made by the device itself (HubRise's installed-app flow).
pub struct DirectExchange<'a> {
    pub oauth_base: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
    pub redirect_uri: &'a str,
    pub code: &'a Secret,
    pub verifier: &'a Secret,
    pub device_id: &'a str,
}

/// Exchanges a code for a token with the client secret (Basic auth and a form body, as HubRise
/// documents), with the shared client rather than the `oauth2` crate: the crate refuses a
/// success whose `Content-Type` is not JSON and an error body that is not JSON, while HubRise
/// documents neither. Here the body is read whatever the header says, and errors by their status
/// (400 code expired or used, 401 bad client, 404 bad grant), body or no body.
pub async fn exchange_code_direct(
    client: &reqwest::Client,
    exchange: &DirectExchange<'_>,
) -> Result<HubriseTokenResponse> {
    let response = client
        .post(format!("{}/token", exchange.oauth_base))
        .basic_auth(exchange.client_id, Some(exchange.client_secret.expose()))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", exchange.code.expose()),
            ("redirect_uri", exchange.redirect_uri),
            ("code_verifier", exchange.verifier.expose()),
            ("device_id", exchange.device_id),
        ])
        .send()
        .await
        .map_err(|e| Error::transport(Service::HubriseOAuth, e))?;
    let status = response.status().as_u16();
    let retry_after = retry_after_secs(response.headers());
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::transport(Service::HubriseOAuth, e))?;
    token_answer(status, retry_after, &bytes)
}

/// Reads a token endpoint's answer: a success whatever its `Content-Type`, an error by its
/// status whatever its body. A redirect is never followed (it could carry the code elsewhere).
pub fn token_answer(
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
) -> Result<HubriseTokenResponse> {
    match status {
        200..=299 => HubriseTokenResponse::from_body(body)
            .ok_or_else(|| unexpected("the token answer carries no access token")),
        300..=399 => Err(unexpected("the token endpoint redirected; not followed")),
        429 => {
            let (wait, capped) = crate::http::capped_wait(retry_after.unwrap_or(60).max(1));
            Err(Error::RateLimited {
                service: Service::HubriseOAuth,
                wait,
                capped,
            })
        }
        _ => Err(token_status_error(
            status,
            &HubriseErrorBody::from_bytes(body),
        )),
    }
}

/// Revokes a token at HubRise: Basic auth and a form `token=`, as HubRise documents. Sent with
/// the shared client rather than `oauth2`, whose RFC 7009 support insists on HTTPS even for the
/// loopback sandbox.
pub async fn revoke_direct(
    client: &reqwest::Client,
    oauth_base: &str,
    client_id: &str,
    client_secret: &Secret,
    token: &Secret,
) -> Result<()> {
    let response = client
        .post(format!("{oauth_base}/revoke"))
        .basic_auth(client_id, Some(client_secret.expose()))
        .form(&[("token", token.expose())])
        .send()
        .await
        .map_err(|e| Error::transport(Service::HubriseOAuth, e))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(());
    }
    let body = HubriseErrorBody::read(response).await;
    Err(token_status_error(status, &body))
}

fn oauth_client(
    oauth_base: &str,
    client_id: &str,
    secret: Option<&Secret>,
) -> Result<HubriseOAuthClient> {
    let auth = AuthUrl::new(format!("{oauth_base}/authorize"))
        .map_err(|e| Error::internal(format!("authorize URL: {e}")))?;
    let token = TokenUrl::new(format!("{oauth_base}/token"))
        .map_err(|e| Error::internal(format!("token URL: {e}")))?;
    let mut client = HubriseOAuthClient::<oauth2::EndpointNotSet, oauth2::EndpointNotSet>::new(
        ClientId::new(client_id.to_owned()),
    )
    .set_auth_uri(auth)
    .set_token_uri(token)
    .set_auth_type(AuthType::BasicAuth);
    if let Some(secret) = secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    Ok(client)
}

fn redirect_url(raw: &str) -> Result<RedirectUrl> {
    RedirectUrl::new(raw.to_owned()).map_err(|e| Error::InvalidConfig {
        field: "redirect_uri".into(),
        reason: e.to_string(),
    })
}

/// The typed error for a token endpoint's error status and body.
///
/// The server's message is left out: the request carried the code, the verifier and the client
/// secret, and an error must never echo them. Only HubRise's error type is kept.
pub fn token_status_error(status: u16, body: &HubriseErrorBody) -> Error {
    let error_type = body
        .error_type
        .clone()
        .or_else(|| body.error.clone())
        .unwrap_or_else(|| "unknown".into());
    let error_type: String = error_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    match status {
        400 | 404 => Error::InvalidGrant {
            reason: format!("the code is expired, used or unknown ({error_type})"),
        },
        401 => Error::InvalidClient,
        429 => Error::RateLimited {
            service: Service::HubriseOAuth,
            wait: std::time::Duration::from_secs(60),
            capped: false,
        },
        _ => Error::Server {
            service: Service::HubriseOAuth,
            status,
            error_type,
            message: "the token endpoint refused the request".into(),
        },
    }
}

fn unexpected(reason: &str) -> Error {
    // Never the body: it could echo what we sent.
    Error::MalformedBody {
        service: Service::HubriseOAuth,
        reason: reason.chars().take(160).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> Url {
        Url::parse("passerelle-demo://oauth/hubrise").unwrap()
    }

    #[test]
    fn authorize_url_carries_state_pkce_device_and_scope() {
        let options = HubriseConnectionOptions {
            location_name: Some("Paris".into()),
            ..Default::default()
        };
        let request = authorize_request(&AuthorizeParams {
            oauth_base: "https://manager.hubrise.com/oauth2/v1",
            client_id: "459691768564.clients.hubrise.com",
            redirect_uri: "passerelle-demo://oauth/hubrise",
            scope: "location[orders.write,catalog.read]",
            device_id: "ipad-1",
            options: &options,
        })
        .unwrap();
        let url = Url::parse(&request.url).unwrap();
        let get = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(url.path(), "/oauth2/v1/authorize");
        assert_eq!(get("state").unwrap(), request.state);
        assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(
            get("scope").as_deref(),
            Some("location[orders.write,catalog.read]")
        );
        assert_eq!(get("device_id").as_deref(), Some("ipad-1"));
        assert_eq!(get("location_name").as_deref(), Some("Paris"));
        assert!(
            !request.url.contains(request.verifier.expose()),
            "the verifier never leaves"
        );
    }

    #[test]
    fn callback_must_match_the_redirect_exactly() {
        for bad in [
            "passerelle-evil://oauth/hubrise?code=a&state=b",
            "passerelle-demo://evil/hubrise?code=a&state=b",
            "passerelle-demo://oauth/hubrise/x?code=a&state=b",
            "not a url",
        ] {
            let err = parse_callback(bad, &redirect()).unwrap_err();
            assert_eq!(err.code(), "redirect_mismatch", "{bad}");
        }
    }

    #[test]
    fn callback_parameters_are_read_once() {
        let p = parse_callback(
            "passerelle-demo://oauth/hubrise?code=abc&state=xyz",
            &redirect(),
        )
        .unwrap();
        assert_eq!(p.state.as_deref(), Some("xyz"));
        assert_eq!(p.code.unwrap().expose(), "abc");
        let denied = parse_callback(
            "passerelle-demo://oauth/hubrise?error=access_denied&state=s",
            &redirect(),
        )
        .unwrap();
        assert_eq!(denied.error.as_deref(), Some("access_denied"));
        let twice = parse_callback(
            "passerelle-demo://oauth/hubrise?code=a&code=b&state=s",
            &redirect(),
        );
        assert_eq!(twice.unwrap_err().code(), "redirect_mismatch");
        let empty =
            parse_callback("passerelle-demo://oauth/hubrise?code=&state=", &redirect()).unwrap();
        assert!(empty.code.is_none() && empty.state.is_none());
    }

    #[test]
    fn state_digest_is_stable_and_hides_the_state() {
        let digest = state_digest("abc");
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, state_digest("abc"));
        assert!(!digest.contains("abc"));
    }
}
