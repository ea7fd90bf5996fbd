//! The HTTP client the sandbox itself uses (consent automation, HubRise's notices to the POS
//! backend): plain HTTP on loopback, never following redirects.

use std::time::Duration;

/// A client that does not follow redirects (the consent flow reads them).
pub(crate) fn client() -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a default TLS provider; it needs one installed even for http.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
}
