//! Who a POS access token belongs to. The vendor's identity provider owns POS passwords in
//! production: [`Introspection`] asks it (RFC 7662), with answers cached and expiry checked
//! within a bounded clock skew, or [`JwtAccessTokens`] verifies its JWT access tokens against
//! its JWKS (RFC 9068, [`jwt`]). [`BuiltIn`] issues and checks tokens itself, for demo accounts
//! of the configuration file only (sandbox, walkthrough, embedded default).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde::Deserialize;

mod account;
pub mod jwt;
mod password_grant;

pub use account::{Account, DemoAccount, IdentityError};
pub use password_grant::PasswordGrant;

use crate::clock::now_ms;
use crate::secret::{Secret, digest, random_token};
use crate::store::Store;
use jwt::{JwtAccessTokens, JwtRefusal};

/// Why a password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefused {
    /// Too many consecutive failures: locked for this many more seconds.
    Locked(u64),
    Wrong,
    /// This identity does not take passwords (the provider signs people in itself).
    Unsupported,
}

impl std::fmt::Display for SignInRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Locked(s) => write!(
                f,
                "Too many failed sign-in attempts. Try again in {s} seconds."
            ),
            Self::Wrong => f.write_str("Invalid email or password."),
            Self::Unsupported => f.write_str("Sign in with your POS account's identity provider."),
        }
    }
}

/// Why an access token was refused, as the 401's `error_description` says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Unknown, expired or inactive (the built-in store or the provider's introspection says).
    #[error("the token is unknown, expired or revoked")]
    NotActive,
    /// A JWT access token that does not hold.
    #[error(transparent)]
    Jwt(#[from] JwtRefusal),
}

impl Refusal {
    /// A stable name for metrics (`bridge_token_refusals_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NotActive => "not_active",
            Refusal::Jwt(refusal) => refusal.reason(),
        }
    }
}

/// What the routes ask of an identity.
pub trait Identity: Send + Sync {
    /// The account behind an access token, or why it is refused.
    fn account<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Result<Account, Refusal>, IdentityError>>;
    /// The built-in token endpoint, when this identity has one.
    fn built_in(&self) -> Option<&BuiltIn> {
        None
    }
}

/// Consecutive failures before an email is locked, and for how long.
const LOCKOUT_AFTER: i64 = 5;
const LOCKOUT_FOR: Duration = Duration::from_secs(60);
const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The demo identity: accounts from the configuration file, tokens in the store (as digests)
/// so every replica accepts them.
pub struct BuiltIn {
    accounts: Vec<DemoAccount>,
    store: Store,
    access_ttl: Duration,
}

/// A token pair of the built-in identity.
pub struct Tokens {
    pub access: Secret,
    pub refresh: Secret,
    pub expires_in: u64,
}

impl BuiltIn {
    pub fn new(accounts: Vec<DemoAccount>, store: Store, access_ttl: Duration) -> Self {
        BuiltIn {
            accounts,
            store,
            access_ttl,
        }
    }

    fn find(&self, account_id: &str) -> Option<&DemoAccount> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }

    /// The business name the back office shows.
    pub fn business_name(&self, account_id: &str) -> Option<String> {
        self.find(account_id).map(|a| a.business_name.clone())
    }

    /// Checks a password with the lockout: after five consecutive failures for an email, every
    /// attempt (even with the right password) waits until the lock ends.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Result<String, SignInRefused>, IdentityError> {
        let email = email.trim().to_ascii_lowercase();
        let (consecutive, locked_until) = self.store.failures(&email).await?;
        let now = now_ms();
        if locked_until > now {
            return Ok(Err(SignInRefused::Locked(
                ((locked_until - now) as u64).div_ceil(1000),
            )));
        }
        let found = self.accounts.iter().find(|a| {
            a.email.eq_ignore_ascii_case(&email) && constant_time_eq(a.password.expose(), password)
        });
        if let Some(account) = found {
            self.store.clear_failures(&email).await?;
            return Ok(Ok(account.account_id.clone()));
        }
        let failures = if locked_until > 0 { 1 } else { consecutive + 1 };
        if failures >= LOCKOUT_AFTER {
            self.store
                .set_failures(&email, 0, now + LOCKOUT_FOR.as_millis() as i64)
                .await?;
        } else {
            self.store.set_failures(&email, failures, 0).await?;
        }
        Ok(Err(SignInRefused::Wrong))
    }

    /// A fresh access and refresh token for an account.
    pub async fn issue(&self, account_id: &str) -> Result<Tokens, IdentityError> {
        let access = Secret::new(random_token(40));
        let refresh = Secret::new(random_token(48));
        let now = now_ms();
        self.store
            .insert_pos_token(
                &access,
                "access",
                account_id,
                now + self.access_ttl.as_millis() as i64,
            )
            .await?;
        self.store
            .insert_pos_token(
                &refresh,
                "refresh",
                account_id,
                now + REFRESH_LIFETIME.as_millis() as i64,
            )
            .await?;
        Ok(Tokens {
            access,
            refresh,
            expires_in: self.access_ttl.as_secs(),
        })
    }

    /// Uses a refresh token up (they rotate) and issues a new pair.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Option<Tokens>, IdentityError> {
        match self.store.take_refresh_token(refresh_token).await? {
            Some(account_id) if self.find(&account_id).is_some() => {
                Ok(Some(self.issue(&account_id).await?))
            }
            _ => Ok(None),
        }
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Identity for BuiltIn {
    fn account<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Result<Account, Refusal>, IdentityError>> {
        Box::pin(async move {
            let Some(account_id) = self.store.access_token_account(token).await? else {
                return Ok(Err(Refusal::NotActive));
            };
            Ok(self
                .find(&account_id)
                .map(|a| Account {
                    account_id: a.account_id.clone(),
                    email: a.email.clone(),
                    business_name: a.business_name.clone(),
                })
                .ok_or(Refusal::NotActive))
        })
    }

    fn built_in(&self) -> Option<&BuiltIn> {
        Some(self)
    }
}

/// How far the provider's clock may be from ours when `exp` is judged.
const CLOCK_SKEW: Duration = Duration::from_secs(30);
/// Cached answers kept at most; the cache is emptied when it is full.
const CACHE_LIMIT: usize = 10_000;

/// RFC 7662 token introspection against the vendor's identity provider.
pub struct Introspection {
    url: String,
    client_id: String,
    client_secret: Secret,
    cache_for: Duration,
    http: reqwest::Client,
    cache: Mutex<HashMap<String, (Option<Account>, Instant)>>,
}

/// The provider's answer: `active`, and the claims naming the account.
#[derive(Deserialize)]
struct IntrospectionAnswer {
    active: bool,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    business_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
}

impl Introspection {
    pub fn new(
        url: String,
        client_id: String,
        client_secret: Secret,
        cache_for: Duration,
        http: reqwest::Client,
    ) -> Self {
        Introspection {
            url,
            client_id,
            client_secret,
            cache_for,
            http,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &str) -> Option<Option<Account>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(a, _)| a.clone())
    }

    fn remember(&self, key: String, account: Option<Account>, for_: Duration) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, (account, Instant::now() + for_));
        }
    }

    async fn ask(&self, token: &str) -> Result<(Option<Account>, Duration), IdentityError> {
        let response = self
            .http
            .post(&self.url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| IdentityError::Unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(IdentityError::Unavailable(format!(
                "introspection answered {}",
                response.status()
            )));
        }
        let answer: IntrospectionAnswer = response.json().await.map_err(|_| {
            IdentityError::Unavailable("introspection answer is not RFC 7662 JSON".into())
        })?;
        Ok(judge(answer, now_ms() / 1000, self.cache_for))
    }
}

/// The account an introspection answer names, and how long that may be reused: never past
/// `exp` (allowing [`CLOCK_SKEW`]), never longer than the configured cache time.
fn judge(
    answer: IntrospectionAnswer,
    now_secs: i64,
    cache_for: Duration,
) -> (Option<Account>, Duration) {
    let skew = CLOCK_SKEW.as_secs() as i64;
    let left = answer.exp.map(|exp| exp + skew - now_secs);
    let account_id = answer.account_id.or(answer.sub);
    match (answer.active, account_id, left) {
        (true, Some(account_id), left) if left.is_none_or(|l| l > 0) => {
            let ttl = left.map_or(cache_for, |l| cache_for.min(Duration::from_secs(l as u64)));
            let account = Account {
                account_id,
                email: answer.email.unwrap_or_default(),
                business_name: answer.business_name.or(answer.name).unwrap_or_default(),
            };
            (Some(account), ttl)
        }
        // Refusals are cached briefly too, so a flood of bad tokens does not reach the provider.
        _ => (None, cache_for.min(Duration::from_secs(5))),
    }
}

impl Identity for Introspection {
    fn account<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Result<Account, Refusal>, IdentityError>> {
        Box::pin(async move {
            let key = digest(token);
            if let Some(known) = self.cached(&key) {
                return Ok(known.ok_or(Refusal::NotActive));
            }
            let (account, ttl) = self.ask(token).await?;
            self.remember(key, account.clone(), ttl);
            Ok(account.ok_or(Refusal::NotActive))
        })
    }
}

impl Identity for JwtAccessTokens {
    fn account<'a>(
        &'a self,
        token: &'a str,
    ) -> BoxFuture<'a, Result<Result<Account, Refusal>, IdentityError>> {
        Box::pin(async move {
            let verdict = self.verify(token).await?;
            if let Err(refusal) = &verdict {
                tracing::debug!(%refusal, "JWT access token refused");
            }
            Ok(verdict.map_err(Refusal::Jwt))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(active: bool, exp: Option<i64>) -> IntrospectionAnswer {
        IntrospectionAnswer {
            active,
            sub: Some("pos-1001".into()),
            account_id: None,
            email: Some("chef@bellapizza.fr".into()),
            business_name: None,
            name: Some("Bella Pizza".into()),
            exp,
        }
    }

    #[test]
    fn introspection_answers_are_judged_with_expiry_and_bounded_skew() {
        let minute = Duration::from_secs(60);
        let (account, ttl) = judge(answer(true, Some(1_000 + 600)), 1_000, minute);
        assert_eq!(
            account.map(|a| (a.account_id, a.business_name)),
            Some(("pos-1001".into(), "Bella Pizza".into()))
        );
        assert_eq!(ttl, minute);
        // Expired 10 s ago: still inside the 30 s skew, cached only until the skew runs out.
        let (account, ttl) = judge(answer(true, Some(990)), 1_000, minute);
        assert!(account.is_some());
        assert_eq!(ttl, Duration::from_secs(20));
        // Expired beyond the skew, or inactive: refused.
        assert!(judge(answer(true, Some(900)), 1_000, minute).0.is_none());
        assert!(judge(answer(false, None), 1_000, minute).0.is_none());
    }
}
