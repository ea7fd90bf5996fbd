//! Apple Push Notification service, token-based: one background notification per request
//! (Apple's "Sending notification requests to APNs"):
//!
//! ```text
//! POST {url}/3/device/{device token, hex}            HTTP/2 over TLS (ALPN h2)
//! authorization: bearer {provider token}
//! apns-topic: {the app's bundle id}
//! apns-push-type: background
//! apns-priority: 5                                    (10 is not allowed for background)
//! apns-expiration: {now + 1 h}
//! {"aps":{"content-available":1}}
//! ```
//!
//! The provider token is a JWT signed ES256 with the team's `.p8` key: header `alg`, `kid`
//! (the key's id), claims `iss` (the team id) and `iat`; made again every 50 minutes (Apple
//! refuses one older than an hour, and one renewed more than every 20 minutes). The payload says
//! nothing of the restaurant: the till asks the bridge and HubRise itself.
//!
//! Answers: 200 sent; 410 (`Unregistered`, with the time APNs learnt it) and 400
//! `BadDeviceToken` or `DeviceTokenNotForTopic`: the token is gone; 403
//! `ExpiredProviderToken`/`InvalidProviderToken`: the provider token is made again for the next
//! request; anything else (429, 5xx, no answer): not sent, the next event tries again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures_util::future::BoxFuture;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

use super::{Delivery, PushSender};
use crate::secret::Secret;

/// Apple's production host (apps from the App Store, TestFlight, ad hoc).
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";
/// Apple's development host (apps built by Xcode with the development entitlement).
pub const DEVELOPMENT_URL: &str = "https://api.sandbox.push.apple.com";
/// A provider token is made again after this long (Apple: between 20 and 60 minutes).
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);
/// How long APNs keeps a notification for a device out of reach.
const EXPIRATION_SECS: i64 = 3600;
/// One request's limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the bridge needs to speak to APNs (no certificate: token-based).
#[derive(Clone, Debug)]
pub struct ApnsConfig {
    /// [`PRODUCTION_URL`] or [`DEVELOPMENT_URL`] (a fake's on loopback in tests).
    pub url: String,
    /// The app's bundle id.
    pub topic: String,
    /// The 10-character team id (`iss`).
    pub team_id: String,
    /// The 10-character id of the key (`kid`).
    pub key_id: String,
    /// The `.p8` file's text: a P-256 private key, PKCS#8 in PEM.
    pub key_pem: Secret,
}

/// The key of a `.p8` file, or why it is not one.
pub fn signing_key(pem: &Secret) -> Result<EcdsaKeyPair, &'static str> {
    let body: String = pem
        .expose()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "not a PEM key (.p8)")?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
        .map_err(|_| "not a P-256 private key in PKCS#8 (an APNs .p8 key)")
}

/// The APNs sender.
pub struct ApnsSender {
    config: ApnsConfig,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    client: reqwest::Client,
    /// The provider token in use and when it was made.
    token: Mutex<Option<(String, Instant)>>,
}

impl ApnsSender {
    pub fn new(config: ApnsConfig) -> Result<Self, String> {
        let key = signing_key(&config.key_pem).map_err(str::to_owned)?;
        // reqwest is built without a default provider; ring is the workspace's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("passerelle-bridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.without_url().to_string())?;
        Ok(ApnsSender {
            config,
            key,
            rng: SystemRandom::new(),
            client,
            token: Mutex::new(None),
        })
    }

    /// The provider token: the one in use while younger than [`TOKEN_LIFETIME`], else a new one.
    pub fn provider_token(&self) -> Result<String, String> {
        let mut slot = self.token.lock().map_err(|_| "token lock poisoned")?;
        if let Some((token, made)) = slot.as_ref()
            && made.elapsed() < TOKEN_LIFETIME
        {
            return Ok(token.clone());
        }
        let token = self.sign(crate::clock::now_ms() / 1000)?;
        *slot = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    fn sign(&self, issued_at: i64) -> Result<String, String> {
        let header = json!({"alg": "ES256", "kid": self.config.key_id});
        let claims = json!({"iss": self.config.team_id, "iat": issued_at});
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signed.as_bytes())
            .map_err(|_| "the provider token could not be signed")?;
        Ok(format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }

    /// Forgets the provider token (APNs refused it): the next request makes another.
    fn renew_token(&self) {
        if let Ok(mut slot) = self.token.lock() {
            *slot = None;
        }
    }

    async fn deliver(&self, device_token: &str) -> Delivery {
        let token = match self.provider_token() {
            Ok(token) => token,
            Err(why) => return Delivery::Failed(why),
        };
        let expiration = crate::clock::now_ms() / 1000 + EXPIRATION_SECS;
        let response = self
            .client
            .post(format!(
                "{}/3/device/{device_token}",
                self.config.url.trim_end_matches('/')
            ))
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &self.config.topic)
            .header("apns-push-type", "background")
            .header("apns-priority", "5")
            .header("apns-expiration", expiration.to_string())
            .json(&json!({"aps": {"content-available": 1}}))
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            // Without the URL: it holds the device token.
            Err(e) => return Delivery::Failed(format!("APNs unreachable: {}", e.without_url())),
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let reason = body.get("reason").and_then(Value::as_str).unwrap_or("");
        match (status, reason) {
            (200, _) => Delivery::Sent,
            (410, _) => Delivery::Gone {
                since_ms: body.get("timestamp").and_then(Value::as_i64),
            },
            (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => Delivery::Gone { since_ms: None },
            (403, "ExpiredProviderToken" | "InvalidProviderToken") => {
                self.renew_token();
                Delivery::Failed(format!("APNs {status} {reason}"))
            }
            _ => Delivery::Failed(format!("APNs {status} {reason}")),
        }
    }
}

impl PushSender for ApnsSender {
    fn send<'a>(&'a self, device_token: &'a str) -> BoxFuture<'a, Delivery> {
        Box::pin(self.deliver(device_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};

    fn p8() -> Result<(Secret, Vec<u8>), Box<dyn std::error::Error>> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "no key")?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| "no key")?;
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        Ok((Secret::new(pem), key.public_key().as_ref().to_vec()))
    }

    #[test]
    fn the_provider_token_is_es256_with_kid_iss_iat_and_is_reused()
    -> Result<(), Box<dyn std::error::Error>> {
        let (pem, public) = p8()?;
        let sender = ApnsSender::new(ApnsConfig {
            url: DEVELOPMENT_URL.into(),
            topic: "com.example.pos".into(),
            team_id: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            key_pem: pem,
        })?;
        let token = sender.provider_token()?;
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0])?)?;
        assert_eq!(header, json!({"alg": "ES256", "kid": "KEY1234567"}));
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1])?)?;
        assert_eq!(claims["iss"], "TEAM123456");
        let iat = claims["iat"].as_i64().unwrap_or_default();
        assert!((iat - crate::clock::now_ms() / 1000).abs() < 5);
        let signature = URL_SAFE_NO_PAD.decode(parts[2])?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .map_err(|_| "the signature does not verify")?;
        assert_eq!(
            sender.provider_token()?,
            token,
            "reused within its lifetime"
        );
        sender.renew_token();
        assert!(sender.provider_token().is_ok());
        Ok(())
    }

    #[test]
    fn a_key_that_is_not_a_p8_is_refused() {
        assert!(
            signing_key(&Secret::new(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
            ))
            .is_err()
        );
        assert!(signing_key(&Secret::new("not base64 !")).is_err());
    }
}
