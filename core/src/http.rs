//! The one HTTP client: certificate validation always on, no redirects followed (the OAuth
//! crate's advice against SSRF, and HubRise's API never redirects), connect and total timeouts on
//! every request, and errors mapped without their URL (a query string could carry a code).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result, Service};

/// How long to wait for a TCP/TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most read of an order, a page of events or orders, or any API answer: HubRise's largest
/// page (100 orders) is far below it; a body this large is a fault, not an answer.
pub const API_BODY_LIMIT: u64 = 4 << 20;
/// The most read of a token answer or an error body.
pub const SMALL_BODY_LIMIT: u64 = 64 << 10;
/// The longest `Retry-After` honoured: a server asking for more is waited for an hour, and the
/// health state says the wait was cut.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Reads a body of at most `limit` bytes; a longer one is not read further.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
    service: Service,
) -> Result<Vec<u8>> {
    let too_large = || Error::BodyTooLarge { service, limit };
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::transport(service, e))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A `Retry-After` as the wait honoured, and whether it was cut to [`MAX_RETRY_AFTER`].
pub fn capped_wait(secs: u64) -> (Duration, bool) {
    let asked = Duration::from_secs(secs);
    (asked.min(MAX_RETRY_AFTER), asked > MAX_RETRY_AFTER)
}

/// The process's one client, built on first use. Building it loads the platform's certificate
/// verifier (on Linux, every file of /etc/ssl/certs: milliseconds), so an `open()` that makes no
/// request never pays for it, and reopening does not pay again. reqwest clients are cheap to
/// clone and share their connection pool.
pub fn shared_client() -> Result<reqwest::Client> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = build_client()?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// Builds a client on the target's TLS stack (decision 23, `core/Cargo.toml`).
fn build_client() -> Result<reqwest::Client> {
    tls_stack(reqwest::Client::builder())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("passerelle/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::internal(format!("HTTP client: {}", e.without_url())))
}

/// Apple targets: the platform's TLS (Security.framework through `native-tls`), named explicitly
/// so that a build which also compiles rustls in (a workspace test run on a Mac) still uses it.
#[cfg(any(target_vendor = "apple", passerelle_platform_libs))]
fn tls_stack(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder.tls_backend_native()
}

/// Other targets: rustls, with the `ring` provider installed unless the host already installed
/// one.
#[cfg(not(any(target_vendor = "apple", passerelle_platform_libs)))]
fn tls_stack(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    builder.tls_backend_rustls()
}

/// Status and `Retry-After` of the last answer an [`OAuthHttp`] received: the `oauth2` crate
/// reports error bodies but not the status they came with.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseMeta {
    pub status: u16,
    pub retry_after_secs: Option<u64>,
}

/// Adapts the shared client to the `oauth2` crate. The boxed `Send` future (rather than a closure)
/// keeps the async exports `Send` for UniFFI's tokio runtime.
#[derive(Clone)]
pub struct OAuthHttp {
    client: reqwest::Client,
    last: Arc<Mutex<ResponseMeta>>,
}

/// Transport failure inside an `oauth2` request, with its source.
#[derive(Debug, thiserror::Error)]
pub enum OAuthTransportError {
    #[error(transparent)]
    Transport(reqwest::Error),
    #[error("unusable response: {0}")]
    Response(#[from] http::Error),
    #[error("answer larger than {0} bytes")]
    TooLarge(u64),
}

impl OAuthTransportError {
    /// The internal error, for the service that was called.
    pub fn into_error(self, service: Service) -> Error {
        match self {
            Self::Transport(err) => Error::transport(service, err),
            Self::Response(err) => Error::MalformedBody {
                service,
                reason: err.to_string(),
            },
            Self::TooLarge(limit) => Error::BodyTooLarge { service, limit },
        }
    }
}

impl OAuthHttp {
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            last: Arc::default(),
        }
    }

    /// What the last response said besides its body.
    pub fn last_response(&self) -> ResponseMeta {
        *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends one `oauth2` request.
    async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> std::result::Result<oauth2::HttpResponse, OAuthTransportError> {
        let (parts, body) = request.into_parts();
        let response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(OAuthTransportError::Transport)?;
        let meta = ResponseMeta {
            status: response.status().as_u16(),
            retry_after_secs: retry_after_secs(response.headers()),
        };
        *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = meta;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        // The service is named by the caller when it maps the error.
        let bytes = match read_body(response, SMALL_BODY_LIMIT, Service::HubriseOAuth).await {
            Ok(bytes) => bytes,
            Err(Error::Transport { source, .. }) => {
                return Err(OAuthTransportError::Transport(source));
            }
            Err(_) => return Err(OAuthTransportError::TooLarge(SMALL_BODY_LIMIT)),
        };
        Ok(builder.body(bytes)?)
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = OAuthTransportError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<oauth2::HttpResponse, Self::Error>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// `Retry-After` as seconds from now: either a number of seconds or an HTTP date.
pub fn retry_after_secs(headers: &http::HeaderMap) -> Option<u64> {
    let raw = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(secs);
    }
    let when =
        time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (when - time::OffsetDateTime::now_utc()).whole_seconds();
    Some(u64::try_from(secs).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        map.insert(http::header::RETRY_AFTER, value.parse().unwrap());
        map
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after_secs(&headers("120")), Some(120));
        let in_a_minute = time::OffsetDateTime::now_utc() + time::Duration::seconds(61);
        let date = in_a_minute
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap();
        let secs = retry_after_secs(&headers(&date)).unwrap();
        assert!((55..=61).contains(&secs), "{secs}");
        assert_eq!(
            retry_after_secs(&headers("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(0)
        );
        assert_eq!(retry_after_secs(&headers("soon")), None);
        assert_eq!(retry_after_secs(&http::HeaderMap::new()), None);
    }
}
