//! JWT access tokens (RFC 9068) verified against the identity provider's JWKS, the alternative
//! to introspection: no call to the provider per token, only for its keys.
//!
//! A token is accepted when its header says `typ: at+jwt` (RFC 9068, 4), its `alg` is an
//! asymmetric one the key allows (never `none` nor HMAC), its `kid` names a key of the JWKS, the
//! signature holds, `iss` and `aud` are the configured ones, `exp` (and `nbf` when present) hold
//! within the bounded clock skew, and `sub`, `iat`, `client_id` are there. Each refusal is typed
//! ([`JwtRefusal`]) and named in the 401's `error_description`.
//!
//! Keys are cached: read again when older than the cache time, and at once for a `kid` the
//! cache does not know (a rotation at the provider), at most once per [`REFETCH_AT_MOST_EVERY`]
//! so a flood of made-up `kid`s does not reach the provider. A provider that cannot be reached
//! leaves the cached keys in use; with none cached the request is a 503.
//!
//! Signatures are checked by `ring` (already the TLS stack's), plugged into `jsonwebtoken` as
//! its crypto provider: its RustCrypto and aws-lc backends would each add a second
//! cryptography stack to the build.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use jsonwebtoken::{Validation, decode, decode_header};
use ring::signature::{self as ring_sig, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;

use super::account::{Account, IdentityError};

/// By default, an unknown `kid` reads the JWKS again at most this often.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// How long a JWKS read may take (requests wait for it).
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest clock skew the configuration accepts.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Why a JWT access token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtRefusal {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token is not a JWT access token (typ at+jwt)")]
    NotAnAccessToken,
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    #[error("the token's signing key is unknown")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is for another audience")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token lacks the {0} claim")]
    MissingClaim(String),
}

impl JwtRefusal {
    /// A stable name for metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            JwtRefusal::Malformed => "malformed",
            JwtRefusal::NotAnAccessToken => "not_an_access_token",
            JwtRefusal::Algorithm => "algorithm",
            JwtRefusal::UnknownKey => "unknown_key",
            JwtRefusal::BadSignature => "bad_signature",
            JwtRefusal::WrongIssuer => "wrong_issuer",
            JwtRefusal::WrongAudience => "wrong_audience",
            JwtRefusal::Expired => "expired",
            JwtRefusal::NotYetValid => "not_yet_valid",
            JwtRefusal::MissingClaim(_) => "missing_claim",
        }
    }
}

/// Where the keys come from and what a token must say.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    /// Keys are read again when older than this.
    pub cache_for: Duration,
    /// How far the provider's clock may be from ours (at most [`MAX_CLOCK_SKEW`]).
    pub clock_skew: Duration,
    /// An unknown `kid` reads the JWKS again at most this often ([`REFETCH_AT_MOST_EVERY`]).
    pub refetch_at_most_every: Duration,
}

struct Key {
    key: DecodingKey,
    /// The algorithm the JWK names, when it names one.
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Key>,
    fetched: Option<Instant>,
    tried: Option<Instant>,
    /// Why the last read failed, when it did.
    failed: Option<String>,
}

/// The verifier of JWT access tokens.
pub struct JwtAccessTokens {
    settings: JwtSettings,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    /// One JWKS read at a time.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    // Required by RFC 9068 (2.2); typed, so a claim of another type is refused.
    #[allow(dead_code)]
    iat: i64,
    #[allow(dead_code)]
    client_id: String,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    business_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    // Typed here too (jsonwebtoken < 10.3 let a string `nbf` through).
    #[serde(default)]
    #[allow(dead_code)]
    nbf: Option<i64>,
}

impl JwtAccessTokens {
    pub fn new(settings: JwtSettings, http: reqwest::Client) -> Self {
        install_ring_provider();
        JwtAccessTokens {
            settings,
            http,
            keys: RwLock::new(Keys::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The account a token names, or why it is refused; `Err` when no key can be had.
    pub async fn verify(&self, token: &str) -> Result<Result<Account, JwtRefusal>, IdentityError> {
        let header = match decode_header(token) {
            Ok(header) => header,
            Err(_) => return Ok(Err(JwtRefusal::Malformed)),
        };
        let typ = header
            .typ
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if typ != "at+jwt" && typ != "application/at+jwt" {
            return Ok(Err(JwtRefusal::NotAnAccessToken));
        }
        if !accepted(header.alg) {
            return Ok(Err(JwtRefusal::Algorithm));
        }
        let stale = self.read(|keys| {
            keys.fetched
                .is_none_or(|at| at.elapsed() >= self.settings.cache_for)
        });
        if stale {
            self.refresh(false).await?;
        }
        let kid = header.kid.clone().unwrap_or_default();
        let mut found = self.read(|keys| lookup(keys, &kid));
        if found.is_none() {
            self.refresh(true).await?;
            found = self.read(|keys| lookup(keys, &kid));
        }
        let Some(Key { key, alg }) = found else {
            return Ok(Err(JwtRefusal::UnknownKey));
        };
        if alg.is_some_and(|a| a != header.alg) || key.family() != header.alg.family() {
            return Ok(Err(JwtRefusal::Algorithm));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.settings.clock_skew.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        match decode::<Claims>(token, &key, &validation) {
            Ok(data) => {
                let c = data.claims;
                Ok(Ok(Account {
                    account_id: c.account_id.unwrap_or(c.sub),
                    email: c.email.unwrap_or_default(),
                    business_name: c.business_name.or(c.name).unwrap_or_default(),
                }))
            }
            Err(e) => Ok(Err(refusal(&e))),
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Keys) -> T) -> T {
        match self.keys.read() {
            Ok(keys) => f(&keys),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// Reads the JWKS again, unless another request just did, or a read was tried less than
    /// `refetch_at_most_every` ago (so a provider that is down, or a flood of unknown `kid`s,
    /// costs one read per interval, not one per request). A failure keeps the cached keys; with
    /// none it is `Err` (a 503).
    async fn refresh(&self, unknown_kid: bool) -> Result<(), IdentityError> {
        let _one = self.fetching.lock().await;
        let (tried, fetched, have_keys, failed) =
            self.read(|k| (k.tried, k.fetched, !k.by_kid.is_empty(), k.failed.clone()));
        if !unknown_kid && fetched.is_some_and(|at| at.elapsed() < self.settings.cache_for) {
            return Ok(());
        }
        if tried.is_some_and(|at| at.elapsed() < self.settings.refetch_at_most_every) {
            return match failed {
                Some(reason) if !have_keys => Err(IdentityError::Unavailable(reason)),
                _ => Ok(()),
            };
        }
        let outcome = self.fetch().await;
        let Ok(mut keys) = self.keys.write() else {
            return Err(IdentityError::Unavailable("JWKS cache poisoned".into()));
        };
        keys.tried = Some(Instant::now());
        match outcome {
            Ok(by_kid) => {
                tracing::info!(keys = by_kid.len(), "JWKS read");
                keys.by_kid = by_kid;
                keys.fetched = keys.tried;
                keys.failed = None;
                Ok(())
            }
            Err(reason) => {
                keys.failed = Some(reason.clone());
                if have_keys {
                    tracing::warn!(%reason, "JWKS unavailable, the cached keys stay in use");
                    Ok(())
                } else {
                    Err(IdentityError::Unavailable(reason))
                }
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, String> {
        let response = self
            .http
            .get(&self.settings.jwks_url)
            .timeout(JWKS_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("the JWKS answered {}", response.status()));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|_| "the JWKS is not a JWK Set".to_owned())?;
        let mut by_kid = HashMap::new();
        for jwk in &set.keys {
            // Signing keys only, never a symmetric one (anyone with it could sign).
            if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_))
                || jwk
                    .common
                    .public_key_use
                    .as_ref()
                    .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
            {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let alg = jwk.common.key_algorithm.and_then(signing_algorithm);
            by_kid.insert(
                jwk.common.key_id.clone().unwrap_or_default(),
                Key { key, alg },
            );
        }
        Ok(by_kid)
    }
}

/// The key for `kid`; a token without `kid` may use the only key of a one-key set.
fn lookup(keys: &Keys, kid: &str) -> Option<Key> {
    let key = match keys.by_kid.get(kid) {
        Some(key) => key,
        None if kid.is_empty() && keys.by_kid.len() == 1 => keys.by_kid.values().next()?,
        None => return None,
    };
    Some(Key {
        key: key.key.clone(),
        alg: key.alg,
    })
}

fn signing_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Asymmetric algorithms only.
fn accepted(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

fn refusal(e: &JwtError) -> JwtRefusal {
    match e.kind() {
        ErrorKind::InvalidSignature => JwtRefusal::BadSignature,
        ErrorKind::ExpiredSignature => JwtRefusal::Expired,
        ErrorKind::ImmatureSignature => JwtRefusal::NotYetValid,
        ErrorKind::InvalidIssuer => JwtRefusal::WrongIssuer,
        ErrorKind::InvalidAudience => JwtRefusal::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => JwtRefusal::MissingClaim(claim.clone()),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => JwtRefusal::Algorithm,
        ErrorKind::Json(e) => match e.classify() {
            serde_json::error::Category::Data => missing_claim(&e.to_string()),
            _ => JwtRefusal::Malformed,
        },
        _ => JwtRefusal::Malformed,
    }
}

/// serde's "missing field `iat`" names the claim; another data error is a malformed token.
fn missing_claim(message: &str) -> JwtRefusal {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .map_or(JwtRefusal::Malformed, |claim| {
            JwtRefusal::MissingClaim(claim.to_owned())
        })
}

// -- ring as jsonwebtoken's crypto provider ----------------------------------------------------

static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: ring_verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components: |_| {
            Err(ErrorKind::InvalidRsaKey("unsupported".into()).into())
        },
        extract_ec_public_key_coordinates: |_, _| Err(ErrorKind::InvalidEcdsaKey.into()),
        compute_digest: digest,
    },
};

/// Installs [`RING_PROVIDER`] unless the process already has a provider.
fn install_ring_provider() {
    let _ = RING_PROVIDER.install_default();
}

fn digest(data: &[u8], hash: jsonwebtoken::jwk::ThumbprintHash) -> Vec<u8> {
    let algorithm = match hash {
        jsonwebtoken::jwk::ThumbprintHash::SHA256 => &ring::digest::SHA256,
        jsonwebtoken::jwk::ThumbprintHash::SHA384 => &ring::digest::SHA384,
        jsonwebtoken::jwk::ThumbprintHash::SHA512 => &ring::digest::SHA512,
    };
    ring::digest::digest(algorithm, data).as_ref().to_vec()
}

/// The bridge verifies, it never signs.
fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtError> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn ring_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtError> {
    if !accepted(*alg) || key.family() != alg.family() || key.family() == AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(RingVerifier {
        alg: *alg,
        key: key.clone(),
    }))
}

struct RingVerifier {
    alg: Algorithm,
    key: DecodingKey,
}

impl jsonwebtoken::signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> Result<(), jsonwebtoken::signature::Error> {
        let rsa: Option<&'static ring_sig::RsaParameters> = match self.alg {
            Algorithm::RS256 => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::RS384 => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::RS512 => Some(&ring_sig::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::PS256 => Some(&ring_sig::RSA_PSS_2048_8192_SHA256),
            Algorithm::PS384 => Some(&ring_sig::RSA_PSS_2048_8192_SHA384),
            Algorithm::PS512 => Some(&ring_sig::RSA_PSS_2048_8192_SHA512),
            _ => None,
        };
        let checked = match (rsa, self.key.kind()) {
            (Some(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                RsaPublicKeyComponents { n, e }.verify(params, message, signature)
            }
            (Some(params), DecodingKeyKind::SecretOrDer(der)) => {
                UnparsedPublicKey::new(params, der).verify(message, signature)
            }
            (None, DecodingKeyKind::SecretOrDer(public)) => {
                let algorithm: &'static dyn ring_sig::VerificationAlgorithm = match self.alg {
                    Algorithm::ES256 => &ring_sig::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &ring_sig::ECDSA_P384_SHA384_FIXED,
                    Algorithm::EdDSA => &ring_sig::ED25519,
                    _ => return Err(jsonwebtoken::signature::Error::new()),
                };
                UnparsedPublicKey::new(algorithm, public).verify(message, signature)
            }
            (None, DecodingKeyKind::RsaModulusExponent { .. }) => {
                return Err(jsonwebtoken::signature::Error::new());
            }
        };
        checked.map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}
