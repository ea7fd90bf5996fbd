//! The bridge's calls to HubRise: the code exchange with the client secret (only the bridge has
//! it), revocation, and the active order callback it registers as soon as it holds a token.

use reqwest::StatusCode;
use serde_json::{Value, json};

use std::sync::Arc;
use std::time::Instant;

use crate::config::HubriseConfig;
use crate::metrics::Metrics;
use crate::secret::Secret;

/// HubRise's answer to a refused exchange, passed through unchanged to the device.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum HubriseError {
    #[error("HubRise refused ({})", .0.status)]
    Refused(Refusal),
    /// HubRise could not be reached or answered something unreadable (502 to callers).
    #[error("HubRise unavailable: {0}")]
    Unavailable(String),
}

#[derive(Clone)]
pub struct Hubrise {
    config: HubriseConfig,
    /// Where HubRise POSTs events (the bridge's active callback), when it takes them; `None`:
    /// the callback stays passive (its URL as it is).
    callback_url: Option<String>,
    http: reqwest::Client,
    metrics: Arc<Metrics>,
}

/// What an exchange sends along with the code.
pub struct Exchange<'a> {
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

fn unavailable(e: reqwest::Error) -> HubriseError {
    // Without its URL: a URL may carry a code or a token.
    HubriseError::Unavailable(e.without_url().to_string())
}

impl Hubrise {
    pub fn new(
        config: HubriseConfig,
        callback_url: Option<String>,
        http: reqwest::Client,
        metrics: Arc<Metrics>,
    ) -> Self {
        Hubrise {
            config,
            callback_url,
            http,
            metrics,
        }
    }

    /// Counts a call and its latency by how it ended.
    fn observe<T>(
        &self,
        operation: &'static str,
        started: Instant,
        result: &Result<T, HubriseError>,
    ) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(HubriseError::Refused(_)) => "refused",
            Err(HubriseError::Unavailable(_)) => "error",
        };
        self.metrics
            .hubrise_call(operation, outcome, started.elapsed());
    }

    /// Whether the bridge takes HubRise's events itself (its active callback).
    pub fn takes_events(&self) -> bool {
        self.callback_url.is_some()
    }

    pub fn config(&self) -> &HubriseConfig {
        &self.config
    }

    /// `POST {oauth}/token` with HTTP Basic client credentials, as HubRise documents: its token
    /// JSON, or its refusal as it came.
    pub async fn exchange(&self, exchange: &Exchange<'_>) -> Result<Value, HubriseError> {
        let started = Instant::now();
        let result = self.exchange_once(exchange).await;
        self.observe("exchange", started, &result);
        result
    }

    async fn exchange_once(&self, exchange: &Exchange<'_>) -> Result<Value, HubriseError> {
        let mut form = vec![("code", exchange.code)];
        form.extend(exchange.redirect_uri.map(|r| ("redirect_uri", r)));
        form.extend(exchange.code_verifier.map(|v| ("code_verifier", v)));
        let response = self
            .http
            .post(format!("{}/token", self.config.oauth_url))
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .form(&form)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.map_err(unavailable)?.to_vec();
        if status == StatusCode::OK {
            // HubRise documents no Content-Type: the body is read whatever the header says.
            let token: Value = serde_json::from_slice(&body)
                .map_err(|_| HubriseError::Unavailable("token answer is not JSON".into()))?;
            if token
                .get("access_token")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(HubriseError::Unavailable(
                    "token answer without access_token".into(),
                ));
            }
            return Ok(token);
        }
        if status.is_client_error() {
            return Err(HubriseError::Refused(Refusal {
                status: status.as_u16(),
                content_type,
                body,
            }));
        }
        Err(HubriseError::Unavailable(format!(
            "token endpoint answered {status}"
        )))
    }

    /// `POST {oauth}/revoke`; a failure is logged, not fatal (the connection is removed anyway).
    pub async fn revoke(&self, token: &Secret) {
        let started = Instant::now();
        let result = self
            .http
            .post(format!("{}/revoke", self.config.oauth_url))
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .form(&[("token", token.expose())])
            .send()
            .await;
        let outcome = match result {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                tracing::warn!(status = r.status().as_u16(), "HubRise refused a revoke");
                Err(HubriseError::Refused(Refusal {
                    status: r.status().as_u16(),
                    content_type: None,
                    body: Vec::new(),
                }))
            }
            Err(e) => {
                let e = unavailable(e);
                tracing::warn!(error = %e, "revoke not sent");
                Err(e)
            }
        };
        self.observe("revoke", started, &outcome);
    }

    /// Registers the order callback (decisions 19 and 28), keeping the events of a callback
    /// already there: `GET /callback`, then, unless it is already as wanted, `POST /callback`
    /// with order create/update added and the bridge's URL (when it takes events; otherwise the
    /// URL as it was). Events HubRise queued while the callback was passive stay readable by
    /// polling.
    pub async fn register_order_callback(&self, token: &Secret) -> Result<(), HubriseError> {
        let started = Instant::now();
        let result = self.register_once(token).await;
        self.observe("callback", started, &result);
        result
    }

    async fn register_once(&self, token: &Secret) -> Result<(), HubriseError> {
        let url = format!("{}/callback", self.config.api_url);
        let current: Value = self
            .http
            .get(&url)
            .header("X-Access-Token", token.expose())
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status()
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        let sends_to = match &self.callback_url {
            Some(ours) => Value::String(ours.clone()),
            None => current.get("url").cloned().unwrap_or(Value::Null),
        };
        let wanted = with_order_events(&current, sends_to);
        if wanted == current {
            return Ok(());
        }
        self.http
            .post(&url)
            .header("X-Access-Token", token.expose())
            .json(&wanted)
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status()
            .map_err(unavailable)?;
        Ok(())
    }
}

/// The callback `current` sending to `url`, with `order: [create, update]` added to its events.
fn with_order_events(current: &Value, url: Value) -> Value {
    let mut events = current
        .get("events")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let order = events.entry("order").or_insert_with(|| json!([]));
    if !order.is_array() {
        *order = json!([]);
    }
    if let Some(list) = order.as_array_mut() {
        for kind in ["create", "update"] {
            if !list.iter().any(|k| k == kind) {
                list.push(json!(kind));
            }
        }
    }
    json!({ "url": url, "events": events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_events_join_a_callback_already_there() {
        let ours = "https://pos.example/hubrise/callback";
        let none = json!({"url": null, "events": {}});
        assert_eq!(
            with_order_events(&none, json!(ours)),
            json!({"url": ours, "events": {"order": ["create", "update"]}})
        );
        let some = json!({"url": null, "events": {"order": ["update"], "customer": ["create"]}});
        assert_eq!(
            with_order_events(&some, json!(ours)),
            json!({"url": ours, "events": {"order": ["update", "create"], "customer": ["create"]}})
        );
        let done = json!({"url": ours, "events": {"order": ["create", "update"]}});
        assert_eq!(with_order_events(&done, json!(ours)), done);
        // Passive: the URL kept as it was.
        assert_eq!(
            with_order_events(&none, Value::Null),
            json!({"url": null, "events": {"order": ["create", "update"]}})
        );
    }
}
