//! The POS vendor's web back office (the Delivera of the seeds): sign in with the POS
//! credentials, connect and disconnect HubRise, and the Connect URL that HubRise redirects to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::connections::{exchange_and_record, revoke_at_hubrise};
use super::model::{Origin, WebSession};
use super::oauth::check_password;
use super::web_back_office_pages as pages;
use crate::hubrise::oauth::{Exchange, parse_form, with_query};
use crate::ids;
use crate::state::{Shared, World};

const COOKIE: &str = "pos_session";
/// A back-office connect's code is kept for at most its own lifetime.
const PENDING_CODE_LIFETIME: Duration = Duration::from_secs(600);

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn signed_in(world: &World, headers: &HeaderMap) -> Option<String> {
    let id = session_id(headers)?;
    world.pos_live.sessions.get(&id)?.account_id.clone()
}

/// The id of this browser's session, creating the session when there is none (`true` then:
/// the response must set the cookie).
fn session_key(world: &mut World, headers: &HeaderMap) -> (String, bool) {
    if let Some(id) = session_id(headers).filter(|id| world.pos_live.sessions.contains_key(id)) {
        return (id, false);
    }
    let id = ids::alnum_secret(32);
    world
        .pos_live
        .sessions
        .insert(id.clone(), WebSession::default());
    (id, true)
}

/// This browser's session (created if needed) and the cookie to set, if any.
fn session<'a>(
    world: &'a mut World,
    headers: &HeaderMap,
    new_cookie: &mut Option<String>,
) -> &'a mut WebSession {
    let (id, fresh) = session_key(world, headers);
    if fresh {
        *new_cookie = Some(id.clone());
    }
    world.pos_live.sessions.entry(id).or_default()
}

fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response();
    if let Some(value) = cookie.and_then(|id| {
        HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax")).ok()
    }) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `GET /` and `GET /backoffice`.
pub(crate) async fn home(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let world = shared.world();
    match signed_in(&world, &headers) {
        Some(_) => see_other("/backoffice/hubrise", None),
        None => see_other("/backoffice/sign-in", None),
    }
}

/// `GET /backoffice/sign-in`.
pub(crate) async fn sign_in_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    let world = shared.world();
    let pending = session_id(&headers)
        .and_then(|id| {
            world
                .pos_live
                .sessions
                .get(&id)
                .map(|s| s.pending_code.is_some())
        })
        .unwrap_or(false);
    let notice = pending.then_some("Sign in to finish connecting HubRise.");
    pages::sign_in(notice, None, StatusCode::OK)
}

/// `POST /backoffice/sign-in`: the POS credentials (same lockout as the app's sign-in); then
/// finishes a back-office connect that was waiting for it.
pub(crate) async fn sign_in(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let options = shared.options();
    let mut world = shared.world();
    let email = form.get("email").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let account_id = match check_password(&mut world, &options, &email, &password) {
        Ok(id) => id,
        Err(e) => return pages::sign_in(None, Some(&e.to_string()), StatusCode::UNAUTHORIZED),
    };
    // A fresh session id at sign-in, so a planted cookie never becomes a signed-in session.
    let (old_id, _) = session_key(&mut world, &headers);
    let mut session = world.pos_live.sessions.remove(&old_id).unwrap_or_default();
    session.account_id = Some(account_id.clone());
    let pending = session.pending_code.take();
    let renewed = ids::alnum_secret(32);
    world.pos_live.sessions.insert(renewed.clone(), session);
    let Some((code, received)) = pending else {
        return see_other("/backoffice/hubrise", Some(renewed));
    };
    if received.elapsed() > PENDING_CODE_LIFETIME {
        return with_cookie(
            pages::connect_failed("The HubRise authorisation took too long. Connect again."),
            &renewed,
        );
    }
    let result = finish_connect(
        &shared,
        &mut world,
        &account_id,
        &code,
        Origin::HubriseBackOffice,
    );
    with_cookie(result, &renewed)
}

fn with_cookie(mut response: Response, id: &str) -> Response {
    if let Ok(value) =
        HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /backoffice/sign-out`.
pub(crate) async fn sign_out(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        shared.world().pos_live.sessions.remove(&id);
    }
    see_other("/backoffice/sign-in", None)
}

/// `GET /backoffice/hubrise`: the account's connections.
pub(crate) async fn hubrise_page(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let world = shared.world();
    let Some(account_id) = signed_in(&world, &headers) else {
        return see_other("/backoffice/sign-in", None);
    };
    let business = world
        .pos
        .account(&account_id)
        .map(|a| a.business_name.clone())
        .unwrap_or_default();
    let connections: Vec<_> = world
        .pos
        .connections
        .iter()
        .filter(|c| c.pos_account_id == account_id && !c.removed)
        .collect();
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let notice = if params.contains_key("connected") {
        Some("HubRise is connected. Restart the app on your iPad to apply the changes.")
    } else if params.contains_key("disconnected") {
        Some("HubRise was disconnected. Restart the app on your iPad to apply the changes.")
    } else {
        None
    };
    pages::hubrise(&business, &connections, notice)
}

/// `POST /backoffice/hubrise/connect`: starts HubRise's authorisation with a fresh `state`.
pub(crate) async fn start_connect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    let mut world = shared.world();
    if signed_in(&world, &headers).is_none() {
        return see_other("/backoffice/sign-in", None);
    }
    let state = ids::alnum_secret(24);
    let mut cookie = None;
    session(&mut world, &headers, &mut cookie).connect_state = Some(state.clone());
    let seed = &shared.seed;
    let authorize = with_query(
        &format!("{}/authorize", shared.urls.oauth()),
        &[
            ("client_id", &seed.client_id),
            ("redirect_uri", &seed.connect_url),
            ("scope", &seed.scope),
        ],
        Some(&state),
    );
    see_other(&authorize, cookie)
}

/// `GET /hubrise/connect`: the Connect URL (redirect URI of web and HubRise back-office connects).
pub(crate) async fn connect_url(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    if params.contains_key("error") {
        return pages::connect_failed("You did not allow the connection on HubRise.");
    }
    let Some(code) = params.get("code").cloned() else {
        return pages::connect_failed("HubRise did not send an authorisation code.");
    };
    let mut world = shared.world();
    let mut cookie = None;
    let session = session(&mut world, &headers, &mut cookie);
    let origin = match (params.get("state"), session.connect_state.take()) {
        // A connect this back office started: the state must be the one it sent.
        (Some(got), Some(expected)) if *got == expected => Origin::Web,
        (Some(_), _) => {
            return pages::connect_failed(
                "This HubRise response was not expected here. Connect again.",
            );
        }
        // No state: HubRise's back office started it.
        (None, _) => Origin::HubriseBackOffice,
    };
    let Some(account_id) = session.account_id.clone() else {
        session.pending_code = Some((code, Instant::now()));
        return see_other("/backoffice/sign-in", cookie);
    };
    let response = finish_connect(&shared, &mut world, &account_id, &code, origin);
    match cookie {
        Some(id) => with_cookie(response, &id),
        None => response,
    }
}

fn finish_connect(
    shared: &Shared,
    world: &mut World,
    account_id: &str,
    code: &str,
    origin: Origin,
) -> Response {
    let exchange = Exchange {
        client_id: &shared.seed.client_id,
        code,
        code_verifier: None,
        redirect_uri: Some(&shared.seed.connect_url),
    };
    match exchange_and_record(shared, world, account_id, &exchange, origin, None) {
        Ok(token) => {
            let location = token
                .get("location_id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            see_other(&format!("/backoffice/hubrise?connected={location}"), None)
        }
        Err(_) => pages::connect_failed(
            "This HubRise authorisation code is invalid, has expired or was already used.",
        ),
    }
}

/// `GET /backoffice/hubrise/disconnect?location_id=`: the confirmation page.
pub(crate) async fn confirm_disconnect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let world = shared.world();
    let Some(account_id) = signed_in(&world, &headers) else {
        return see_other("/backoffice/sign-in", None);
    };
    let location = parse_form(query.unwrap_or_default().as_bytes())
        .get("location_id")
        .cloned()
        .unwrap_or_default();
    match world.pos.connections.iter().find(|c| {
        c.pos_account_id == account_id
            && !c.removed
            && c.location_id.as_deref() == Some(location.as_str())
    }) {
        Some(c) => pages::confirm_disconnect(c),
        None => see_other("/backoffice/hubrise", None),
    }
}

/// `POST /backoffice/hubrise/disconnect` (`location_id`, `confirm=yes`): revokes at HubRise and
/// marks the account's connections to that location removed.
pub(crate) async fn disconnect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_form(&body);
    let mut world = shared.world();
    let Some(account_id) = signed_in(&world, &headers) else {
        return see_other("/backoffice/sign-in", None);
    };
    if form.get("confirm").map(String::as_str) != Some("yes") {
        return see_other("/backoffice/hubrise", None);
    }
    let location = form.get("location_id").cloned().unwrap_or_default();
    let tokens = world.pos.remove_where(&account_id, |c| {
        c.location_id.as_deref() == Some(location.as_str())
    });
    revoke_at_hubrise(&mut world.hubrise, &shared.seed.client_id, &tokens);
    see_other("/backoffice/hubrise?disconnected=1", None)
}
