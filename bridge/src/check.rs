//! The conformance check: drives any POS backend through the contract the core relies on
//! (docs/pos-backend-contract.md), with HubRise played by the sandbox (its admin API makes the
//! codes and plays HubRise's back office), and reports a pass/fail table.

use std::fmt::Write as _;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, ETAG, IF_NONE_MATCH, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::secret::digest;

/// Where the check goes and as whom.
#[derive(Clone, Debug)]
pub struct CheckTarget {
    /// The POS backend under test.
    pub url: String,
    /// The sandbox's admin API (`{manager}/_sandbox`).
    pub sandbox_admin: String,
    pub admin_token: Option<String>,
    /// A test account of the backend; `None`: the sandbox seed's first POS account.
    pub email: Option<String>,
    pub password: Option<String>,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// The table.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub rows: Vec<Outcome>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.passed)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let _ = writeln!(
                out,
                "{:<4} {:<32} {}",
                if row.passed { "PASS" } else { "FAIL" },
                row.name,
                row.detail
            );
        }
        let failed = self.rows.iter().filter(|r| !r.passed).count();
        let _ = writeln!(out, "{} passed, {failed} failed", self.rows.len() - failed);
        out
    }
}

type Step<T> = Result<T, String>;

/// The HubRise locations the check connects (the sandbox seed's Bella Pizza).
const WEB_LOCATION: &str = "3r4s3-2";
const DEVICE_LOCATION: &str = "3r4s3-1";
const HUBRISE_ACCOUNT: &str = "3r4s3";

struct Checker {
    target: CheckTarget,
    http: reqwest::Client,
    hubrise_api: String,
    email: String,
    password: String,
    token: String,
    report: Report,
}

/// Runs every step; a step that cannot run because an earlier one failed fails too.
pub async fn run(target: CheckTarget) -> Report {
    let http = match check_client() {
        Ok(http) => http,
        Err(e) => return single_failure("http client", e),
    };
    let mut checker = Checker {
        target,
        http,
        hubrise_api: String::new(),
        email: String::new(),
        password: String::new(),
        token: String::new(),
        report: Report::default(),
    };
    if let Err(e) = checker.prepare().await {
        return single_failure("sandbox seed", e);
    }
    checker.all().await;
    checker.report
}

/// A fresh connection for every request (no pool): behind a load balancer that spreads
/// connections, every step then meets whichever replica answers, as tills and browsers do.
fn check_client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_backend_rustls()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.without_url().to_string())
}

fn single_failure(name: &'static str, detail: String) -> Report {
    Report {
        rows: vec![Outcome {
            name,
            passed: false,
            detail,
        }],
    }
}

fn expect(condition: bool, what: impl Into<String>) -> Step<()> {
    if condition { Ok(()) } else { Err(what.into()) }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl Checker {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.url.trim_end_matches('/'))
    }

    fn record(&mut self, name: &'static str, result: Step<String>) {
        let (passed, detail) = match result {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        self.report.rows.push(Outcome {
            name,
            passed,
            detail,
        });
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Step<Value> {
        let mut request = self.http.request(
            method,
            format!("{}{path}", self.target.sandbox_admin.trim_end_matches('/')),
        );
        if let Some(token) = &self.target.admin_token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("sandbox admin: {}", e.without_url()))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        expect(
            status.is_success(),
            format!("sandbox admin {path}: {status} {body}"),
        )?;
        Ok(body)
    }

    async fn prepare(&mut self) -> Step<()> {
        let seed = self.admin(reqwest::Method::GET, "/seed", None).await?;
        self.hubrise_api = text(&seed, "hubrise_api_url").to_owned();
        let account = &seed["seed"]["pos_accounts"][0];
        self.email = self
            .target
            .email
            .clone()
            .unwrap_or_else(|| text(account, "email").to_owned());
        self.password = self
            .target
            .password
            .clone()
            .unwrap_or_else(|| text(account, "password").to_owned());
        Ok(())
    }

    async fn all(&mut self) {
        let r = self.sign_in().await;
        let signed_in = r.is_ok();
        self.record("sign-in", r);
        if !signed_in {
            return;
        }
        let r = self.configuration_etag().await;
        let etag = r.as_ref().ok().cloned();
        self.record(
            "configuration with ETag",
            r.map(|e| format!("ETag {e}, 304 when unchanged")),
        );
        let r = self.back_office_connect(etag.as_deref()).await;
        self.record("Connect URL + back office", r);
        let r = self.token_hand_off().await;
        let token = r.as_ref().ok().cloned();
        self.record(
            "token hand-off with location_id",
            r.map(|_| "bound to 3r4s3-2 / 3r4s3".into()),
        );
        let r = match &token {
            Some(token) => self.passive_callback(token).await,
            None => Err("no token handed off".into()),
        };
        self.record("passive callback at exchange", r);
        let r = self.broker_exchange().await;
        self.record("broker exchange", r);
        let r = self.device_flows().await;
        self.record("device flows", r);
        let r = self.disconnect_callback().await;
        self.record("disconnect callback HMAC", r);
        let r = self.revoke().await;
        self.record("revoke", r);
        let r = self.refusals().await;
        self.record("refusals", r);
    }

    fn bearer(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&self.token)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Step<(StatusCode, reqwest::header::HeaderMap, Value)> {
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| e.without_url().to_string())?;
        Ok((
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn sign_in(&mut self) -> Step<String> {
        let form = [
            ("client_id", "passerelle-ios"),
            ("grant_type", "password"),
            ("username", &self.email),
            ("password", &self.password),
        ];
        let (status, _, body) = self
            .send(self.http.post(self.url("/oauth/token")).form(&form))
            .await?;
        expect(
            status == StatusCode::OK,
            format!("password grant answered {status}"),
        )?;
        self.token = text(&body, "access_token").to_owned();
        expect(
            !self.token.is_empty() && !text(&body, "refresh_token").is_empty(),
            "no access or refresh token",
        )?;
        let (status, _, me) = self
            .send(self.bearer(self.http.get(self.url("/me"))))
            .await?;
        expect(
            status == StatusCode::OK && !text(&me, "account_id").is_empty(),
            format!("/me answered {status}"),
        )?;
        let wrong = [
            ("client_id", "passerelle-ios"),
            ("grant_type", "password"),
            ("username", &self.email),
            ("password", "wrong-password"),
        ];
        let (status, _, body) = self
            .send(self.http.post(self.url("/oauth/token")).form(&wrong))
            .await?;
        expect(
            status == StatusCode::BAD_REQUEST && text(&body, "error") == "invalid_grant",
            format!("a wrong password answered {status}"),
        )?;
        Ok(format!("account {}", text(&me, "account_id")))
    }

    async fn configuration(&self, etag: Option<&str>) -> Step<(StatusCode, Option<String>, Value)> {
        let mut request = self.bearer(self.http.get(self.url("/hubrise/configuration")));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let (status, headers, body) = self.send(request).await?;
        let etag = headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((status, etag, body))
    }

    fn entry<'a>(body: &'a Value, location: &str, origin: &str) -> Option<&'a Value> {
        body["connections"]
            .as_array()?
            .iter()
            .rev()
            .find(|c| text(c, "location_id") == location && text(c, "origin") == origin)
    }

    async fn configuration_etag(&self) -> Step<String> {
        let (status, etag, body) = self.configuration(None).await?;
        expect(
            status == StatusCode::OK && body["connections"].is_array(),
            format!("configuration answered {status}"),
        )?;
        let etag = etag.ok_or("no ETag")?;
        let (again, _, _) = self.configuration(Some(&etag)).await?;
        expect(
            again == StatusCode::NOT_MODIFIED,
            format!("If-None-Match answered {again}, not 304"),
        )?;
        Ok(etag)
    }

    /// HubRise's back-office Connect (the sandbox approves and gives the Connect URL with a
    /// code), opened in a browser nobody signed in to: sign in, which finishes it.
    async fn back_office_connect(&self, etag: Option<&str>) -> Step<String> {
        let answer = self
            .admin(
                reqwest::Method::POST,
                "/back-office/connect",
                Some(json!({"location_id": WEB_LOCATION})),
            )
            .await?;
        let connect_url = text(&answer, "url").to_owned();
        expect(
            connect_url.starts_with(self.target.url.trim_end_matches('/')),
            format!("HubRise's Connect URL is {connect_url}, not this backend's"),
        )?;
        let mut browser = Browser::new(&self.http);
        let (status, _) = browser.get(&connect_url).await?;
        expect(
            status.is_redirection(),
            format!("the Connect URL answered {status}"),
        )?;
        let (status, location) = browser
            .sign_in(
                &self.url("/backoffice/sign-in"),
                &self.email,
                &self.password,
            )
            .await?;
        expect(
            location.contains("connected="),
            format!("sign-in answered {status} to {location}"),
        )?;
        let (status, _, body) = self.configuration(etag).await?;
        expect(
            status == StatusCode::OK,
            format!("the configuration did not change ({status})"),
        )?;
        let entry = Self::entry(&body, WEB_LOCATION, "hubrise_back_office")
            .ok_or("no hubrise_back_office entry for 3r4s3-2")?;
        expect(text(entry, "state") == "active", "the entry is not active")?;
        let connected_at = text(entry, "connected_at");
        expect(
            time::OffsetDateTime::parse(
                connected_at,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok(),
            format!("connected_at is not RFC 3339: {connected_at:?}"),
        )?;
        expect(
            !body.to_string().contains("access_token"),
            "the configuration shows a token",
        )?;
        Ok(format!("connected_at {connected_at}"))
    }

    async fn token_hand_off(&self) -> Step<String> {
        let path = format!("/hubrise/connections/{WEB_LOCATION}/token");
        let (status, _, body) = self
            .send(self.bearer(self.http.get(self.url(&path))))
            .await?;
        expect(
            status == StatusCode::OK,
            format!("hand-off answered {status}"),
        )?;
        expect(
            text(&body, "location_id") == WEB_LOCATION
                && text(&body, "account_id") == HUBRISE_ACCOUNT,
            "not bound to 3r4s3-2 / 3r4s3",
        )?;
        let token = text(&body, "access_token").to_owned();
        expect(!token.is_empty(), "no access_token")?;
        let (status, _, _) = self
            .send(
                self.bearer(
                    self.http
                        .get(self.url("/hubrise/connections/nowhere-9/token")),
                ),
            )
            .await?;
        expect(
            status == StatusCode::NOT_FOUND,
            format!("an unknown location answered {status}"),
        )?;
        Ok(token)
    }

    async fn passive_callback(&self, token: &str) -> Step<String> {
        let (status, _, body) = self
            .send(
                self.http
                    .get(format!("{}/callback", self.hubrise_api))
                    .header("X-Access-Token", token),
            )
            .await?;
        expect(
            status == StatusCode::OK,
            format!("GET /callback answered {status}"),
        )?;
        let order = body["events"]["order"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        expect(
            order.contains(&json!("create")) && order.contains(&json!("update")),
            format!("events are {}", body["events"]),
        )?;
        Ok("order create/update registered".into())
    }

    /// A code the sandbox approved for the backend's Connect URL, as a device would hold it.
    async fn code_for(&self, location: &str) -> Step<(String, String)> {
        let answer = self
            .admin(
                reqwest::Method::POST,
                "/back-office/connect",
                Some(json!({"location_id": location})),
            )
            .await?;
        let url = url::Url::parse(text(&answer, "url")).map_err(|e| e.to_string())?;
        let code = url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or("no code")?;
        let mut base = url.clone();
        base.set_query(None);
        Ok((code, base.to_string()))
    }

    async fn broker_exchange(&self) -> Step<String> {
        let (code, redirect_uri) = self.code_for(DEVICE_LOCATION).await?;
        let body =
            json!({"code": code, "redirect_uri": redirect_uri, "device_id": "conformance-check"});
        let exchange = || {
            self.bearer(
                self.http
                    .post(self.url("/hubrise/broker/token"))
                    .json(&body),
            )
        };
        let (status, _, token) = self.send(exchange()).await?;
        expect(
            status == StatusCode::OK,
            format!("broker answered {status}"),
        )?;
        expect(
            !text(&token, "access_token").is_empty()
                && text(&token, "location_id") == DEVICE_LOCATION,
            "not HubRise's token answer",
        )?;
        let (status, _, _) = self.send(exchange()).await?;
        expect(
            status == StatusCode::BAD_REQUEST,
            format!("a replayed code answered {status}, not HubRise's 400"),
        )?;
        let (_, _, config) = self.configuration(None).await?;
        expect(
            Self::entry(&config, DEVICE_LOCATION, "device").is_some(),
            "no device entry for 3r4s3-1",
        )?;
        Ok("token answered, replay refused, recorded".into())
    }

    async fn device_flows(&self) -> Step<String> {
        let state = crate::secret::random_token(32);
        let claim = || {
            self.bearer(
                self.http
                    .post(self.url("/hubrise/device-flows/claim"))
                    .json(&json!({"state": state})),
            )
        };
        let (status, _, _) = self
            .send(
                self.bearer(
                    self.http
                        .post(self.url("/hubrise/device-flows"))
                        .json(&json!({"state_digest": digest(&state)})),
                ),
            )
            .await?;
        expect(
            status == StatusCode::CREATED,
            format!("register answered {status}"),
        )?;
        let (status, _, _) = self.send(claim()).await?;
        expect(
            status == StatusCode::ACCEPTED,
            format!("claim before HubRise answered {status}, not 202"),
        )?;
        let callback = crate::http::with_query(
            &self.url("/hubrise/device-callback"),
            &[("code", "c0ffee-check"), ("state", &state)],
        );
        let (status, headers, _) = self.send(self.http.get(callback)).await?;
        let location = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        expect(
            status == StatusCode::SEE_OTHER && location.contains("/hubrise/device-return"),
            format!("callback answered {status} to {location}"),
        )?;
        let (status, _, body) = self.send(claim()).await?;
        expect(
            status == StatusCode::OK && text(&body, "code") == "c0ffee-check",
            format!("claim answered {status}"),
        )?;
        let (status, _, _) = self.send(claim()).await?;
        expect(
            status == StatusCode::NOT_FOUND,
            format!("a second claim answered {status}, not 404"),
        )?;
        let stranger = crate::http::with_query(
            &self.url("/hubrise/device-callback"),
            &[("code", "x"), ("state", "nobody-registered")],
        );
        let (status, _, _) = self.send(self.http.get(stranger)).await?;
        expect(
            status == StatusCode::BAD_REQUEST,
            format!("an unknown state answered {status}, not 400"),
        )?;
        Ok("pending, authorized once, unknown refused".into())
    }

    async fn disconnect_callback(&self) -> Step<String> {
        let (_, _, config) = self.configuration(None).await?;
        let entry = Self::entry(&config, WEB_LOCATION, "hubrise_back_office")
            .ok_or("no 3r4s3-2 entry to disconnect")?;
        let notice = json!({"event": "disconnect", "app_instance_id": text(entry, "app_instance_id"), "location_id": WEB_LOCATION});
        let forged = self
            .http
            .post(self.url("/hubrise/disconnect-callback"))
            .header(CONTENT_TYPE, "application/json")
            .header("X-HubRise-Hmac-SHA256", "0".repeat(64))
            .body(notice.to_string());
        let (status, _, _) = self.send(forged).await?;
        expect(
            status == StatusCode::UNAUTHORIZED,
            format!("a wrong HMAC answered {status}, not 401"),
        )?;
        let (_, _, config) = self.configuration(None).await?;
        let still = Self::entry(&config, WEB_LOCATION, "hubrise_back_office")
            .is_some_and(|e| text(e, "state") == "active");
        expect(still, "a wrong HMAC removed the connection")?;
        // HubRise's own, signed notice (the sandbox sends it to the Disconnect callback URL).
        self.admin(
            reqwest::Method::POST,
            &format!("/connections/{WEB_LOCATION}/disconnect"),
            None,
        )
        .await?;
        let (_, _, config) = self.configuration(None).await?;
        let removed = Self::entry(&config, WEB_LOCATION, "hubrise_back_office")
            .is_some_and(|e| text(e, "state") == "removed");
        expect(
            removed,
            "HubRise's signed notice did not remove the connection",
        )?;
        Ok("forged refused, signed applied".into())
    }

    async fn revoke(&self) -> Step<String> {
        let path = format!("/hubrise/connections/{DEVICE_LOCATION}/revoke");
        let body = json!({"device_id": "conformance-check"});
        let (status, _, _) = self
            .send(self.bearer(self.http.post(self.url(&path)).json(&body)))
            .await?;
        expect(
            status == StatusCode::OK,
            format!("revoke answered {status}"),
        )?;
        let (status, _, _) = self
            .send(self.bearer(self.http.post(self.url(&path)).json(&body)))
            .await?;
        expect(
            status == StatusCode::NOT_FOUND,
            format!("a second revoke answered {status}, not 404"),
        )?;
        Ok("revoked, then 404".into())
    }

    async fn refusals(&self) -> Step<String> {
        let broker = self.url("/hubrise/broker/token");
        let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
            (
                "no POS token",
                self.http.get(self.url("/hubrise/configuration")),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "unknown POS token",
                self.http.get(self.url("/me")).bearer_auth("not-a-token"),
                StatusCode::UNAUTHORIZED,
            ),
            (
                "not JSON",
                self.bearer(self.http.post(&broker))
                    .header(CONTENT_TYPE, "text/plain")
                    .body("code=x"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "broken JSON",
                self.bearer(self.http.post(&broker))
                    .header(CONTENT_TYPE, "application/json")
                    .body("{\"code\":"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "no code",
                self.bearer(self.http.post(&broker)).json(&json!({})),
                StatusCode::BAD_REQUEST,
            ),
            (
                "bad digest",
                self.bearer(self.http.post(self.url("/hubrise/device-flows")))
                    .json(&json!({"state_digest": "zz"})),
                StatusCode::BAD_REQUEST,
            ),
            (
                "unknown client",
                self.http
                    .post(self.url("/oauth/token"))
                    .form(&[("client_id", "x"), ("grant_type", "password")]),
                StatusCode::UNAUTHORIZED,
            ),
        ];
        for (what, request, expected) in cases {
            let (status, _, _) = self.send(request).await?;
            expect(
                status == expected,
                format!("{what}: {status}, not {expected}"),
            )?;
        }
        Ok("401, 415, 400 as documented".into())
    }
}

/// A browser on the back office: one cookie, redirects read rather than followed, and the
/// CSRF token of a form carried when the page has one.
struct Browser<'a> {
    http: &'a reqwest::Client,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(http: &'a reqwest::Client) -> Self {
        Browser { http, cookie: None }
    }

    async fn go(&mut self, request: reqwest::RequestBuilder) -> Step<(StatusCode, String, String)> {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if let Some(pair) = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
        {
            self.cookie = Some(pair.to_owned());
        }
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let page = response.text().await.unwrap_or_default();
        Ok((status, location, page))
    }

    async fn get(&mut self, url: &str) -> Step<(StatusCode, String)> {
        let (status, location, _) = self.go(self.http.get(url)).await?;
        Ok((status, location))
    }

    async fn sign_in(
        &mut self,
        url: &str,
        email: &str,
        password: &str,
    ) -> Step<(StatusCode, String)> {
        let (_, _, page) = self.go(self.http.get(url)).await?;
        let mut form = vec![
            ("email", email.to_owned()),
            ("password", password.to_owned()),
        ];
        if let Some(csrf) = hidden_value(&page, "csrf") {
            form.push(("csrf", csrf));
        }
        let (status, location, _) = self.go(self.http.post(url).form(&form)).await?;
        Ok((status, location))
    }
}

/// Opens a Connect URL in a fresh browser nobody signed in to, and signs in to the back office
/// at `pos_url`, which finishes the connect: where the back office sent the browser.
pub async fn open_connect_url(
    http: &reqwest::Client,
    connect_url: &str,
    pos_url: &str,
    email: &str,
    password: &str,
) -> Step<String> {
    let mut browser = Browser::new(http);
    browser.get(connect_url).await?;
    let (_, location) = browser
        .sign_in(
            &format!("{}/backoffice/sign-in", pos_url.trim_end_matches('/')),
            email,
            password,
        )
        .await?;
    Ok(location)
}

/// The value of a hidden input named `name` in a page.
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].replace("&amp;", "&"))
}
