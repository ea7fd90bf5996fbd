//! Signing people in to the back office with the vendor's identity provider: with
//! `identity_token_url` set, the bridge sends the password the back office's form took to the
//! provider's token endpoint (the password grant, as the till's sign-in does) and checks the
//! access token it gets like any other (introspection or JWKS). The password only passes
//! through: nothing of it is kept, logged or compared here; lockouts are the provider's.

use reqwest::StatusCode;
use serde::Deserialize;

use super::{IdentityError, SignInRefused};
use crate::secret::Secret;

/// How long a lockout lasts when the provider says "too many" without saying for how long.
const LOCKED_FOR_SECS: u64 = 60;

/// The provider's token endpoint, for the password grant.
pub struct PasswordGrant {
    url: String,
    client_id: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

impl PasswordGrant {
    pub fn new(url: String, client_id: String, http: reqwest::Client) -> Self {
        PasswordGrant {
            url,
            client_id,
            http,
        }
    }

    /// The provider's access token for these credentials, or why it refused them.
    pub async fn access_token(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Result<Secret, SignInRefused>, IdentityError> {
        let unavailable = |what: String| IdentityError::Unavailable(what);
        let answer = self
            .http
            .post(&self.url)
            .form(&[
                ("grant_type", "password"),
                ("username", email),
                ("password", password),
                ("client_id", self.client_id.as_str()),
            ])
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        match answer.status() {
            StatusCode::OK => {
                let token: TokenAnswer = answer
                    .json()
                    .await
                    .map_err(|_| unavailable("the token answer is not readable".into()))?;
                Ok(Ok(Secret::new(token.access_token)))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let seconds = answer
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(LOCKED_FOR_SECS);
                Ok(Err(SignInRefused::Locked(seconds)))
            }
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => Ok(Err(SignInRefused::Wrong)),
            status => Err(unavailable(format!("the token endpoint answered {status}"))),
        }
    }
}
