//! Plays the restaurant in the POS vendor's web back office over HTTP, as a browser would (one
//! session cookie, redirects read rather than followed): the Delivera story without a browser,
//! for the walkthrough and tests that do not need Chromium. The browser tests drive the same
//! pages for real.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

use super::consent::{self, ConsentChoice, ConsentError};
use crate::http_client;

/// A browser session on the POS back office: its one cookie.
struct Session {
    http: reqwest::Client,
    pos_url: String,
    cookie: Option<String>,
}

impl Session {
    fn new(pos_url: &str) -> Result<Session, ConsentError> {
        Ok(Session {
            http: http_client::client()?,
            pos_url: pos_url.trim_end_matches('/').to_owned(),
            cookie: None,
        })
    }

    /// Sends a request with the session cookie, keeps a new one, and returns where it redirects.
    async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<String>, ConsentError> {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await?;
        self.keep_cookie(&response);
        match response.status() {
            s if s.is_redirection() => Ok(response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)),
            StatusCode::OK => Ok(None),
            status => Err(ConsentError::Page {
                status: status.as_u16(),
                message: "back office error page".into(),
            }),
        }
    }

    fn keep_cookie(&mut self, response: &Response) {
        if let Some(pair) = response
            .headers()
            .get(SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
        {
            self.cookie = Some(pair.to_owned());
        }
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.pos_url)
        } else {
            location.to_owned()
        }
    }

    /// The CSRF token of the forms on a page, when the back office puts one there (the bridge
    /// does, as hidden `csrf` inputs; this sandbox's fake does not).
    async fn form_token(
        &mut self,
        path: &str,
    ) -> Result<Vec<(&'static str, String)>, ConsentError> {
        let url = format!("{}{path}", self.pos_url);
        let request = self.http.get(url);
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await?;
        self.keep_cookie(&response);
        let page = response.text().await?;
        let marker = "name=\"csrf\" value=\"";
        Ok(page
            .split_once(marker)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(token, _)| vec![("csrf", token.replace("&amp;", "&"))])
            .unwrap_or_default())
    }

    async fn sign_in(
        &mut self,
        email: &str,
        password: &str,
    ) -> Result<Option<String>, ConsentError> {
        let mut form = self.form_token("/backoffice/sign-in").await?;
        form.extend([
            ("email", email.to_owned()),
            ("password", password.to_owned()),
        ]);
        let url = format!("{}/backoffice/sign-in", self.pos_url);
        self.send(self.http.post(url).form(&form)).await
    }
}

/// Signs in to the back office with the POS credentials, clicks Connect, approves on HubRise's
/// consent pages and lands back on the back office with the connection recorded.
pub async fn connect_on_the_web(
    pos_url: &str,
    pos_email: &str,
    pos_password: &str,
    choice: &ConsentChoice,
) -> Result<(), ConsentError> {
    let mut session = Session::new(pos_url)?;
    session.sign_in(pos_email, pos_password).await?;
    let token = session.form_token("/backoffice/hubrise").await?;
    let connect = format!("{}/backoffice/hubrise/connect", session.pos_url);
    let authorize = session
        .send(session.http.post(connect).form(&token))
        .await?
        .ok_or_else(|| ConsentError::Unexpected("Connect did not go to HubRise".into()))?;
    let connect_url = consent::approve(&authorize, choice).await?;
    finish(&mut session, &connect_url).await
}

/// Opens the app's Connect URL as HubRise's back office does (a code, no state), in a browser
/// where nobody is signed in to the POS back office: signs in, which finishes the connection.
pub async fn open_connect_url(
    connect_url: &str,
    pos_url: &str,
    pos_email: &str,
    pos_password: &str,
) -> Result<(), ConsentError> {
    let mut session = Session::new(pos_url)?;
    session.send(session.http.get(connect_url)).await?;
    let landing = session
        .sign_in(pos_email, pos_password)
        .await?
        .ok_or_else(|| ConsentError::Unexpected("sign-in did not redirect".into()))?;
    expect_connected(&landing)
}

async fn finish(session: &mut Session, connect_url: &str) -> Result<(), ConsentError> {
    let url = session.absolute(connect_url);
    let landing = session
        .send(session.http.get(url))
        .await?
        .ok_or_else(|| ConsentError::Unexpected("the Connect URL did not redirect".into()))?;
    expect_connected(&landing)
}

fn expect_connected(landing: &str) -> Result<(), ConsentError> {
    if landing.contains("connected=") {
        Ok(())
    } else {
        Err(ConsentError::Unexpected(format!(
            "the back office did not record the connection ({landing})"
        )))
    }
}
