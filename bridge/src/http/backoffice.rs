//! The web back office: sign in with the POS account, connect and disconnect HubRise, and the
//! Connect URL HubRise redirects to. The session cookie is `HttpOnly; SameSite=Lax` (and
//! `Secure` behind https); every form carries the session's CSRF token; the session id changes
//! at sign-in so a planted cookie never becomes a signed-in session.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::api::{ExchangeFailure, exchange_and_record};
use super::pages::{self, Lang, Msg};
use super::{ApiError, App, FLOW_LIFETIME_MS, form, with_query};
use crate::clock::now_ms;
use crate::hubrise::Exchange;
use crate::identity::{IdentityError, SignInRefused};
use crate::secret::{Secret, random_token};
use crate::store::{Origin, WebSession};

const COOKIE: &str = "pos_session";
/// The sign-in form's CSRF token for a browser without a session (double-submit: the cookie
/// and the form must agree), so visiting the sign-in page stores nothing.
const CSRF_COOKIE: &str = "pos_csrf";
const SESSION_LIFETIME_MS: i64 = 12 * 3600 * 1000;

type Page = Result<Response, ApiError>;

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, value)| *n == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

fn cookie_id(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// This browser's session, if it has a live one.
async fn current(app: &App, headers: &HeaderMap) -> Result<Option<(String, WebSession)>, ApiError> {
    let Some(id) = cookie_id(headers) else {
        return Ok(None);
    };
    Ok(app.store.session(&id).await?.map(|s| (id, s)))
}

/// This browser's session, created when it has none; the cookie to set when new.
async fn ensure(
    app: &App,
    headers: &HeaderMap,
) -> Result<(String, WebSession, Option<String>), ApiError> {
    if let Some((id, session)) = current(app, headers).await? {
        return Ok((id, session, None));
    }
    let (id, session) = create(app, WebSession::default()).await?;
    Ok((id.clone(), session, Some(id)))
}

async fn create(app: &App, mut session: WebSession) -> Result<(String, WebSession), ApiError> {
    let id = random_token(32);
    session.csrf = random_token(32);
    // A session nobody signed in to only keeps a code for its own lifetime.
    let lifetime = match session.account_id {
        Some(_) => SESSION_LIFETIME_MS,
        None => FLOW_LIFETIME_MS,
    };
    app.store
        .create_session(&Secret::new(id.clone()), &session, now_ms() + lifetime)
        .await?;
    Ok((id, session))
}

fn set_cookie(app: &App, response: Response, id: Option<&str>) -> Response {
    match id {
        Some(id) => with_cookie(app, response, COOKIE, id),
        None => response,
    }
}

fn with_cookie(app: &App, response: Response, name: &str, value: &str) -> Response {
    cookie_header(app, response, &format!("{name}={value}"))
}

/// Tells the browser to forget its session cookie.
fn without_session_cookie(app: &App, response: Response) -> Response {
    cookie_header(app, response, &format!("{COOKIE}=; Max-Age=0"))
}

fn cookie_header(app: &App, mut response: Response, cookie: &str) -> Response {
    let secure = if app.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    if let Ok(value) =
        HeaderValue::from_str(&format!("{cookie}; Path=/; HttpOnly; SameSite=Lax{secure}"))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

fn lang_of(headers: &HeaderMap, query: &Option<String>) -> Lang {
    let params = form(query.as_deref().unwrap_or_default().as_bytes());
    Lang::of(headers, params.get("lang").map(String::as_str))
}

/// The signed-in account and its session; `Err` is the way to the sign-in page.
async fn signed_in(
    app: &App,
    headers: &HeaderMap,
) -> Result<Result<(String, WebSession), Response>, ApiError> {
    let session = current(app, headers).await?.map(|(_, s)| s);
    Ok(match session {
        Some(s) => match s.account_id.clone() {
            Some(account_id) => Ok((account_id, s)),
            None => Err(see_other("/backoffice/sign-in")),
        },
        None => Err(see_other("/backoffice/sign-in")),
    })
}

/// The signed-in account and session of a form post whose CSRF token matches; `Err` is the
/// page to answer instead (sign-in, or 403).
async fn signed_in_post(
    app: &App,
    headers: &HeaderMap,
    form: &std::collections::BTreeMap<String, String>,
) -> Result<Result<(String, String, WebSession), Response>, ApiError> {
    let lang = Lang::of(headers, None);
    let Some((id, session)) = current(app, headers).await? else {
        return Ok(Err(see_other("/backoffice/sign-in")));
    };
    if !csrf_matches(&session, form) {
        return Ok(Err(pages::forbidden(lang)));
    }
    match session.account_id.clone() {
        Some(account) => Ok(Ok((account, id, session))),
        None => Ok(Err(see_other("/backoffice/sign-in"))),
    }
}

fn csrf_matches(session: &WebSession, form: &std::collections::BTreeMap<String, String>) -> bool {
    same(&session.csrf, form.get("csrf").map_or("", String::as_str))
}

/// A CSRF token compared in constant time; an empty one never matches.
fn same(expected: &str, sent: &str) -> bool {
    !expected.is_empty()
        && sent.len() == expected.len()
        && sent
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |a, (x, y)| a | (x ^ y))
            == 0
}

/// `GET /` and `GET /backoffice`.
pub(super) async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let signed_in = current(&app, &headers)
        .await?
        .is_some_and(|(_, s)| s.account_id.is_some());
    Ok(see_other(if signed_in {
        "/backoffice/hubrise"
    } else {
        "/backoffice/sign-in"
    }))
}

/// `GET /backoffice/sign-in`.
pub(super) async fn sign_in_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = lang_of(&headers, &query);
    if let Some((_, session)) = current(&app, &headers).await? {
        let notice = session.pending_code.is_some().then_some(Msg::FinishConnect);
        return Ok(pages::sign_in(
            lang,
            &session.csrf,
            notice,
            None,
            StatusCode::OK,
        ));
    }
    let token = cookie(&headers, CSRF_COOKIE)
        .filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| random_token(32));
    let page = pages::sign_in(lang, &token, None, None, StatusCode::OK);
    Ok(with_cookie(&app, page, CSRF_COOKIE, &token))
}

/// `POST /backoffice/sign-in`: the POS credentials (same lockout as the till's sign-in); then
/// finishes a HubRise back-office connect that was waiting for it.
pub(super) async fn sign_in(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let lang = Lang::of(&headers, None);
    let form = form(&body);
    let old = current(&app, &headers).await?;
    let expected = match &old {
        Some((_, session)) => Some(session.csrf.clone()),
        None => cookie(&headers, CSRF_COOKIE),
    };
    let Some(csrf) = expected.filter(|e| same(e, form.get("csrf").map_or("", String::as_str)))
    else {
        return Ok(pages::forbidden(lang));
    };
    let email = form.get("email").map(String::as_str).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let account_id = match check_password(&app, email, password).await? {
        Ok(id) => id,
        Err(refused) => {
            return Ok(pages::sign_in(
                lang,
                &csrf,
                None,
                Some(&refused.to_string()),
                StatusCode::UNAUTHORIZED,
            ));
        }
    };
    // A fresh session id (and CSRF token) at sign-in; a waiting code moves along.
    let mut pending = None;
    if let Some((old_id, old)) = old {
        app.store.delete_session(&old_id).await?;
        pending = old.pending_code;
    }
    let (id, _) = create(
        &app,
        WebSession {
            account_id: Some(account_id.clone()),
            ..WebSession::default()
        },
    )
    .await?;
    let response = match pending {
        None => see_other("/backoffice/hubrise"),
        Some((_, at)) if now_ms() - at > FLOW_LIFETIME_MS => {
            pages::connect_failed(lang, Msg::TooLong)
        }
        Some((code, _)) => {
            finish_connect(
                &app,
                lang,
                &account_id,
                code.expose(),
                Origin::HubriseBackOffice,
            )
            .await?
        }
    };
    Ok(set_cookie(&app, response, Some(&id)))
}

/// The account these credentials sign in: checked by the built-in identity, or by the vendor's
/// identity provider (its password grant, then its answer for the token it gave).
async fn check_password(
    app: &App,
    email: &str,
    password: &str,
) -> Result<Result<String, SignInRefused>, IdentityError> {
    if let Some(built_in) = app.identity.built_in() {
        return built_in.check_password(email, password).await;
    }
    let Some(grant) = &app.password_grant else {
        return Ok(Err(SignInRefused::Unsupported));
    };
    let token = match grant.access_token(email, password).await? {
        Ok(token) => token,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(app
        .identity
        .account(token.expose())
        .await?
        .map(|account| account.account_id)
        .map_err(|_| SignInRefused::Wrong))
}

/// `POST /backoffice/sign-out`: ends the session (its CSRF token required) and its cookie.
pub(super) async fn sign_out(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Page {
    let form = form(&body);
    if let Some((id, session)) = current(&app, &headers).await? {
        if !csrf_matches(&session, &form) {
            return Ok(pages::forbidden(Lang::of(&headers, None)));
        }
        app.store.delete_session(&id).await?;
    }
    Ok(without_session_cookie(
        &app,
        see_other("/backoffice/sign-in"),
    ))
}

/// `GET /backoffice/hubrise`: the account's active connections.
pub(super) async fn hubrise_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = lang_of(&headers, &query);
    let (account_id, session) = match signed_in(&app, &headers).await? {
        Ok(signed_in) => signed_in,
        Err(page) => return Ok(page),
    };
    let business = app
        .identity
        .built_in()
        .and_then(|b| b.business_name(&account_id))
        .unwrap_or_default();
    let connections: Vec<_> = app
        .store
        .connections(&account_id)
        .await?
        .into_iter()
        .filter(|c| !c.removed)
        .collect();
    let params = form(query.as_deref().unwrap_or_default().as_bytes());
    let notice = if params.contains_key("connected") {
        Some(Msg::Connected)
    } else if params.contains_key("disconnected") {
        Some(Msg::Disconnected)
    } else {
        None
    };
    Ok(pages::hubrise(
        lang,
        &session.csrf,
        &business,
        &connections,
        notice,
    ))
}

/// `POST /backoffice/hubrise/connect`: starts HubRise's authorisation with a fresh `state`.
pub(super) async fn start_connect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let (_, id, mut session) = match signed_in_post(&app, &headers, &form(&body)).await? {
        Ok(signed_in) => signed_in,
        Err(page) => return Ok(page),
    };
    let state = random_token(24);
    session.connect_state = Some(state.clone());
    app.store.update_session(&Secret::new(id), &session).await?;
    let hubrise = app.hubrise.config();
    let authorize = with_query(
        &format!("{}/authorize", hubrise.oauth_url),
        &[
            ("client_id", &hubrise.client_id),
            ("redirect_uri", &connect_url_of(&app)),
            ("scope", &hubrise.scope),
            ("state", &state),
        ],
    );
    Ok(see_other(&authorize))
}

/// The Connect URL registered at HubRise.
pub fn connect_url_of(app: &App) -> String {
    format!("{}/hubrise/connect", app.config.public_url)
}

/// `GET /hubrise/connect`: the Connect URL (redirect URI of web and HubRise back-office
/// connects). With a `state` it must be the one this browser's session started; without one it
/// is HubRise's back-office Connect. Nobody signed in: the code waits (sealed, 10 minutes) for
/// the sign-in, which finishes the connect.
pub(super) async fn connect_url(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = lang_of(&headers, &query);
    let params = form(query.as_deref().unwrap_or_default().as_bytes());
    if params.contains_key("error") {
        return Ok(pages::connect_failed(lang, Msg::Denied));
    }
    let Some(code) = params.get("code").filter(|c| !c.is_empty()).cloned() else {
        return Ok(pages::connect_failed(lang, Msg::NoCode));
    };
    let origin = match params.get("state") {
        // Only the session that started a connect holds its state (taken once): a browser
        // without one gets no session for a state that cannot be its own.
        Some(got) => {
            let expected = match current(&app, &headers).await? {
                Some((id, _)) => app.store.take_connect_state(&id).await?,
                None => None,
            };
            if expected.as_ref() != Some(got) {
                return Ok(pages::connect_failed(lang, Msg::UnexpectedState));
            }
            Origin::Web
        }
        None => Origin::HubriseBackOffice,
    };
    let (id, mut session, fresh) = ensure(&app, &headers).await?;
    let Some(account_id) = session.account_id.clone() else {
        session.connect_state = None;
        session.pending_code = Some((Secret::new(code), now_ms()));
        app.store.update_session(&Secret::new(id), &session).await?;
        return Ok(set_cookie(
            &app,
            see_other("/backoffice/sign-in"),
            fresh.as_deref(),
        ));
    };
    let response = finish_connect(&app, lang, &account_id, &code, origin).await?;
    Ok(set_cookie(&app, response, fresh.as_deref()))
}

async fn finish_connect(
    app: &App,
    lang: Lang,
    account_id: &str,
    code: &str,
    origin: Origin,
) -> Page {
    let redirect_uri = connect_url_of(app);
    let exchange = Exchange {
        code,
        redirect_uri: Some(&redirect_uri),
        code_verifier: None,
    };
    match exchange_and_record(app, account_id, &exchange, origin, None).await {
        Ok(token) => {
            let location = token
                .get("location_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            Ok(see_other(&with_query(
                "/backoffice/hubrise",
                &[("connected", location)],
            )))
        }
        Err(ExchangeFailure::Hubrise(crate::hubrise::HubriseError::Refused(_))) => {
            Ok(pages::connect_failed(lang, Msg::BadCode))
        }
        Err(ExchangeFailure::Hubrise(e)) => Err(e.into()),
        Err(ExchangeFailure::Other(e)) => Err(e),
    }
}

/// `GET /backoffice/hubrise/disconnect?location_id=`: the confirmation page.
pub(super) async fn confirm_disconnect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Page {
    let lang = lang_of(&headers, &query);
    let (account_id, session) = match signed_in(&app, &headers).await? {
        Ok(signed_in) => signed_in,
        Err(page) => return Ok(page),
    };
    let location = form(query.as_deref().unwrap_or_default().as_bytes())
        .get("location_id")
        .cloned()
        .unwrap_or_default();
    let connections = app.store.connections(&account_id).await?;
    match connections
        .iter()
        .find(|c| !c.removed && c.names.location_id.as_deref() == Some(location.as_str()))
    {
        Some(c) => Ok(pages::confirm_disconnect(lang, &session.csrf, c)),
        None => Ok(see_other("/backoffice/hubrise")),
    }
}

/// `POST /backoffice/hubrise/disconnect` (`location_id`, `confirm=yes`, `csrf`): revokes at
/// HubRise and marks the account's connections to that location removed; 404 when the account
/// has no active connection there (another account's location included), nothing changed.
pub(super) async fn disconnect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    let form = form(&body);
    let (account_id, _, _) = match signed_in_post(&app, &headers, &form).await? {
        Ok(signed_in) => signed_in,
        Err(page) => return Ok(page),
    };
    if form.get("confirm").map(String::as_str) != Some("yes") {
        return Ok(see_other("/backoffice/hubrise"));
    }
    let location = form.get("location_id").cloned().unwrap_or_default();
    let tokens = app
        .store
        .remove_location(&account_id, &location, None)
        .await?;
    if tokens.is_empty() {
        // Not this account's (or no longer connected): nothing done, and not told it was.
        return Ok(pages::no_such_connection(Lang::of(&headers, None)));
    }
    for token in &tokens {
        app.hubrise.revoke(token).await;
    }
    Ok(see_other("/backoffice/hubrise?disconnected=1"))
}
