//! HubRise's OAuth 2.0 server: the consent flow (`/authorize`), the code exchange (`/token`)
//! and revocation (`/revoke`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::consent_pages::{self as pages, choices, target_field, targets};
use super::model::{AuthFlow, CodeGrant, Connection, ConnectionState, FlowStep, HubriseData};
use super::scope::{Level, Scope};
use crate::errors::ApiError;
use crate::sandbox::{SandboxOptions, TokenErrorBody};
use crate::seed::OOB_REDIRECT_URI;
use crate::state::{Shared, World};
use crate::{ids, timefmt};

/// Codes expire after 10 minutes, as HubRise documents.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// A consent flow left open longer than this must start again.
const FLOW_LIFETIME: Duration = Duration::from_secs(3600);

/// Query or form parameters as a map (the last value of a repeated key wins).
pub(crate) fn parse_form(bytes: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

// ---------------------------------------------------------------------------------------------
// Authorize

/// `GET /oauth2/v1/authorize`: validates the request and shows the sign-in page.
pub(crate) async fn authorize_get(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse_form(query.unwrap_or_default().as_bytes());
    let https_only = shared.options().https_redirects_only;
    let mut world = shared.world();
    match new_flow(&world.hubrise, &params, https_only) {
        Ok(flow) => {
            let flow_id = ids::alnum_secret(24);
            let page = pages::render(&world.hubrise, &flow_id, &flow, None, StatusCode::OK);
            world.flows.insert(flow_id, flow);
            page
        }
        Err(message) => pages::error(StatusCode::BAD_REQUEST, &message),
    }
}

/// A redirect URI of a kind HubRise documents: https, the out-of-band one, or plain http on
/// loopback (the sandbox's own pages and the POS backend on this machine).
fn is_documented_redirect(uri: &str) -> bool {
    if uri == OOB_REDIRECT_URI {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(url) if url.scheme() == "https" => true,
        Ok(url) if url.scheme() == "http" => {
            matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        }
        _ => false,
    }
}

fn new_flow(
    data: &HubriseData,
    params: &BTreeMap<String, String>,
    https_only: bool,
) -> Result<AuthFlow, String> {
    let required = |key: &str| {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| format!("The {key} parameter is missing."))
    };
    let client_id = required("client_id")?;
    let redirect_uri = required("redirect_uri")?;
    let scope_text = required("scope")?;
    let client = data
        .client(&client_id)
        .ok_or_else(|| format!("Unknown client id: {client_id}"))?;
    // Exact string match, as OAuth 2.0 for native apps requires.
    if !client.redirect_uris.contains(&redirect_uri) {
        return Err(format!(
            "The redirect URI {redirect_uri} is not registered for {}.",
            client.name
        ));
    }
    if https_only && !is_documented_redirect(&redirect_uri) {
        return Err(format!(
            "The redirect URI {redirect_uri} must use https (or be {OOB_REDIRECT_URI})."
        ));
    }
    let scope =
        Scope::parse(&scope_text).map_err(|e| format!("Invalid scope '{scope_text}': {e}"))?;
    let device_id = params.get("device_id").cloned();
    if let Some(d) = &device_id {
        let ok = |c: char| c.is_ascii_alphanumeric() || "_-()[]{}.".contains(c);
        if d.is_empty() || !d.chars().all(ok) {
            return Err(format!("Invalid device_id '{d}'."));
        }
    }
    Ok(AuthFlow {
        client_id,
        redirect_uri,
        scope,
        state: params.get("state").cloned(),
        device_id,
        account_hint: params.get("account_id").cloned(),
        code_challenge: code_challenge(params)?,
        step: FlowStep::SignIn,
        user_id: None,
        account_id: None,
        location_id: None,
        catalog_id: None,
        customer_list_id: None,
        started: Instant::now(),
    })
}

/// PKCE is not HubRise's, but a client may send it: keep it to check `code_verifier` later.
fn code_challenge(params: &BTreeMap<String, String>) -> Result<Option<(String, String)>, String> {
    let Some(challenge) = params.get("code_challenge") else {
        return Ok(None);
    };
    let method = params
        .get("code_challenge_method")
        .cloned()
        .unwrap_or_else(|| "plain".into());
    if method != "S256" && method != "plain" {
        return Err(format!("Unsupported code_challenge_method '{method}'."));
    }
    Ok(Some((method, challenge.clone())))
}

/// `POST /oauth2/v1/authorize`: one step of the consent flow.
pub(crate) async fn authorize_post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = parse_form(&body);
    let mut world = shared.world();
    let flow_id = form.get("flow").cloned().unwrap_or_default();
    let Some(mut flow) = world.flows.get(&flow_id).cloned() else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "This authorisation request is unknown or has already been completed. Start again from the app.",
        );
    };
    if flow.started.elapsed() > FLOW_LIFETIME {
        world.flows.remove(&flow_id);
        return pages::error(
            StatusCode::BAD_REQUEST,
            "This authorisation request has expired. Start again from the app.",
        );
    }
    if form.get("step").map(String::as_str) != Some(flow.step.name()) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "This page is out of date. Start again from the app.",
        );
    }
    let result = match flow.step {
        FlowStep::SignIn => sign_in(&world.hubrise, &mut flow, &form),
        FlowStep::Location => choose_target(&world.hubrise, &mut flow, &form),
        FlowStep::Resources => choose_resources(&world.hubrise, &mut flow, &form),
        FlowStep::Decision => {
            world.flows.remove(&flow_id);
            return decide(&mut world, flow, &form);
        }
    };
    match result {
        Ok(()) => {
            let page = pages::render(&world.hubrise, &flow_id, &flow, None, StatusCode::OK);
            world.flows.insert(flow_id, flow);
            page
        }
        Err(StepError::Retry(status, message)) => {
            let original = world.flows.get(&flow_id).cloned().unwrap_or(flow);
            pages::render(&world.hubrise, &flow_id, &original, Some(&message), status)
        }
        Err(StepError::Fatal(message)) => {
            world.flows.remove(&flow_id);
            pages::error(StatusCode::BAD_REQUEST, &message)
        }
    }
}

enum StepError {
    /// Show the same page again with this message.
    Retry(StatusCode, String),
    /// The flow cannot go on.
    Fatal(String),
}

fn sign_in(
    data: &HubriseData,
    flow: &mut AuthFlow,
    form: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    let email = form
        .get("email")
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let user = data
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(&email) && u.password == password)
        .ok_or_else(|| {
            StepError::Retry(
                StatusCode::UNAUTHORIZED,
                "Invalid email or password.".into(),
            )
        })?;
    flow.user_id = Some(user.id.clone());
    after_sign_in(data, flow)
}

/// Picks the location (or account) alone when there is one choice, else shows the choice.
fn after_sign_in(data: &HubriseData, flow: &mut AuthFlow) -> Result<(), StepError> {
    if flow.scope.level.is_none() {
        flow.step = FlowStep::Decision;
        return Ok(());
    }
    let candidates = targets(data, flow);
    match candidates.as_slice() {
        [] => Err(StepError::Fatal(
            "Your HubRise user has no location this app can connect to.".into(),
        )),
        [(only, _)] => {
            let only = only.clone();
            set_target(data, flow, &only)
        }
        _ => {
            flow.step = FlowStep::Location;
            Ok(())
        }
    }
}

fn choose_target(
    data: &HubriseData,
    flow: &mut AuthFlow,
    form: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    let field = target_field(flow);
    let chosen = form.get(field).cloned().unwrap_or_default();
    if !targets(data, flow).iter().any(|(id, _)| *id == chosen) {
        return Err(StepError::Retry(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Choose a valid {}.", field.replace("_id", "")),
        ));
    }
    set_target(data, flow, &chosen)
}

fn set_target(data: &HubriseData, flow: &mut AuthFlow, id: &str) -> Result<(), StepError> {
    if flow.scope.level == Some(Level::Account) {
        flow.account_id = Some(id.to_owned());
    } else {
        let location = data
            .location(id)
            .ok_or_else(|| StepError::Fatal("Unknown location.".into()))?;
        if location.suspended {
            return Err(StepError::Fatal(
                "The account/location has been suspended for non payment of the subscription."
                    .into(),
            ));
        }
        flow.location_id = Some(location.id.clone());
        flow.account_id = Some(location.account_id.clone());
    }
    flow.step = if flow.scope.picks_catalog() || flow.scope.picks_customer_list() {
        FlowStep::Resources
    } else {
        FlowStep::Decision
    };
    Ok(())
}

fn choose_resources(
    data: &HubriseData,
    flow: &mut AuthFlow,
    form: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    let pick = |field: &str, catalogs: bool| -> Result<Option<String>, StepError> {
        let chosen = form.get(field).cloned().unwrap_or_default();
        let options = choices(data, flow, catalogs);
        if options.is_empty() {
            return Err(StepError::Fatal(format!(
                "There is no {} to share.",
                field.replace("_id", "").replace('_', " ")
            )));
        }
        if options.iter().any(|(id, _)| *id == chosen) {
            Ok(Some(chosen))
        } else {
            Err(StepError::Retry(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "Choose a valid {}.",
                    field.replace("_id", "").replace('_', " ")
                ),
            ))
        }
    };
    let catalog = if flow.scope.picks_catalog() {
        pick("catalog_id", true)?
    } else {
        None
    };
    let list = if flow.scope.picks_customer_list() {
        pick("customer_list_id", false)?
    } else {
        None
    };
    flow.catalog_id = catalog;
    flow.customer_list_id = list;
    flow.step = FlowStep::Decision;
    Ok(())
}

/// Allow → a code (redirect or out-of-band page); Deny → `error=access_denied`.
fn decide(world: &mut World, flow: AuthFlow, form: &BTreeMap<String, String>) -> Response {
    let oob = flow.redirect_uri == OOB_REDIRECT_URI;
    match form.get("decision").map(String::as_str) {
        Some("allow") => {
            let code = ids::hex_secret(32);
            world.codes.insert(code.clone(), grant_from(&flow));
            if oob {
                pages::oob_code(&code)
            } else {
                redirect(
                    &flow.redirect_uri,
                    &[("code", &code)],
                    flow.state.as_deref(),
                )
            }
        }
        Some("deny") if oob => pages::oob_denied(),
        Some("deny") => redirect(
            &flow.redirect_uri,
            &[("error", "access_denied")],
            flow.state.as_deref(),
        ),
        _ => pages::error(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
}

fn grant_from(flow: &AuthFlow) -> CodeGrant {
    CodeGrant {
        client_id: flow.client_id.clone(),
        redirect_uri: flow.redirect_uri.clone(),
        scope: flow.scope.clone(),
        user_id: flow.user_id.clone().unwrap_or_default(),
        account_id: flow.account_id.clone(),
        location_id: flow.location_id.clone(),
        catalog_id: flow.catalog_id.clone(),
        customer_list_id: flow.customer_list_id.clone(),
        device_id: flow.device_id.clone(),
        code_challenge: flow.code_challenge.clone(),
        issued: Instant::now(),
        aged: Duration::ZERO,
        used: false,
    }
}

/// `uri` with `pairs` (and `state`, only when the app sent one) added to its query.
pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
                if let Some(s) = state {
                    query.append_pair("state", s);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

pub(crate) fn redirect(uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, with_query(uri, pairs, state))],
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Token

/// Parameters of a token or revoke request: a JSON object or a form (the default).
fn request_params(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| ApiError::bad_request("The JSON body must be an object"))?;
        Ok(object
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                Value::Null => None,
                other => Some((k.clone(), other.to_string())),
            })
            .collect())
    } else if content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
    {
        Ok(parse_form(body))
    } else {
        Err(ApiError::unsupported_media_type())
    }
}

/// Client credentials from HTTP Basic (documented) or the body (backwards compatibility).
fn client_credentials(
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(i, s)| (i.to_owned(), s.to_owned()))
        });
    basic.or_else(|| {
        Some((
            params.get("client_id")?.clone(),
            params.get("client_secret")?.clone(),
        ))
    })
}

/// Checks the client's credentials; 401 as HubRise documents.
pub(crate) fn authenticate_client(
    data: &HubriseData,
    id: &str,
    secret: &str,
) -> Result<(), ApiError> {
    match data.client(id) {
        Some(c) if c.secret == secret => Ok(()),
        _ => Err(ApiError::unauthorized("Invalid client credentials")),
    }
}

/// `POST /oauth2/v1/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let options = shared.options();
    let result = request_params(&headers, &body).and_then(|params| {
        let (id, secret) = client_credentials(&headers, &params)
            .ok_or_else(|| ApiError::unauthorized("Client credentials are missing"))?;
        let mut world = shared.world();
        authenticate_client(&world.hubrise, &id, &secret)?;
        let code = params
            .get("code")
            .ok_or_else(|| ApiError::bad_request("The code parameter is missing"))?;
        let exchange = Exchange {
            client_id: &id,
            code,
            code_verifier: params.get("code_verifier").map(String::as_str),
            redirect_uri: params.get("redirect_uri").map(String::as_str),
        };
        exchange_code(&mut world, &options, &exchange)
    });
    token_answer(&options, result)
}

/// The token endpoint's answer as the switches shape it: its `Content-Type` (HubRise documents
/// none) and the body of errors (HubRise documents only their status).
fn token_answer(options: &SandboxOptions, result: Result<Value, ApiError>) -> Response {
    let mut response = match result {
        Ok(json) => axum::Json(json).into_response(),
        Err(e) => match options.token_error_body {
            TokenErrorBody::Json => e.into_response(),
            TokenErrorBody::Html => (
                e.status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                format!(
                    "<!DOCTYPE html><html><body><h1>{}</h1></body></html>",
                    e.status.canonical_reason().unwrap_or("Error")
                ),
            )
                .into_response(),
            TokenErrorBody::Empty => e.status.into_response(),
        },
    };
    if let Some(value) = options
        .token_content_type
        .as_deref()
        .and_then(|t| axum::http::HeaderValue::from_str(t).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A code exchange, from the token endpoint or in-process from the POS backend.
pub(crate) struct Exchange<'a> {
    pub client_id: &'a str,
    pub code: &'a str,
    pub code_verifier: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
}

/// Exchanges an authorisation code for the connection's token JSON.
pub(crate) fn exchange_code(
    world: &mut World,
    options: &SandboxOptions,
    ex: &Exchange<'_>,
) -> Result<Value, ApiError> {
    let bad_code = |message: &str| {
        let status =
            StatusCode::from_u16(options.invalid_code_status).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError::bad_request(message).with_status(status)
    };
    let grant = world
        .codes
        .get_mut(ex.code)
        .filter(|g| g.client_id == ex.client_id)
        .ok_or_else(|| bad_code("The authorization code is invalid"))?;
    if grant.used {
        return Err(bad_code("The authorization code has already been used"));
    }
    if grant.issued.elapsed() + grant.aged > CODE_LIFETIME {
        return Err(bad_code("The authorization code has expired"));
    }
    if ex.redirect_uri.is_some_and(|r| r != grant.redirect_uri) {
        return Err(bad_code(
            "The redirect_uri does not match the authorization request",
        ));
    }
    if let (Some((method, challenge)), Some(verifier)) = (&grant.code_challenge, ex.code_verifier)
        && !pkce_matches(method, challenge, verifier)
    {
        return Err(bad_code(
            "The code_verifier does not match the code_challenge",
        ));
    }
    grant.used = true;
    let grant = grant.clone();
    let index = upsert_connection(&mut world.hubrise, &grant);
    Ok(token_json(
        &world.hubrise,
        &world.hubrise.connections[index],
        options.omit_token_type,
    ))
}

fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    if method == "plain" {
        return challenge == verifier;
    }
    let digest = Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
}

/// Same client + location (or account) + device → the same connection and token, moved to the
/// newly chosen catalog and customer list; a block is lifted. A dead token is never revived.
fn upsert_connection(data: &mut HubriseData, grant: &CodeGrant) -> usize {
    let existing = data.connections.iter().position(|c| {
        c.client_id == grant.client_id
            && c.location_id == grant.location_id
            && c.account_id == grant.account_id
            && c.device_id == grant.device_id
            && !c.state.is_dead()
    });
    if let Some(index) = existing {
        let c = &mut data.connections[index];
        c.catalog_id = grant.catalog_id.clone();
        c.customer_list_id = grant.customer_list_id.clone();
        c.scope = grant.scope.clone();
        c.user_id = grant.user_id.clone();
        c.state = ConnectionState::Active;
        return index;
    }
    let taken: Vec<String> = data.connections.iter().map(|c| c.id.clone()).collect();
    data.connections.push(Connection {
        id: ids::fresh_short_id(|id| taken.iter().any(|t| t == id)),
        token: ids::hex_secret(32),
        client_id: grant.client_id.clone(),
        account_id: grant.account_id.clone(),
        location_id: grant.location_id.clone(),
        device_id: grant.device_id.clone(),
        catalog_id: grant.catalog_id.clone(),
        customer_list_id: grant.customer_list_id.clone(),
        app_instance_id: ids::short_id(),
        user_id: grant.user_id.clone(),
        scope: grant.scope.clone(),
        state: ConnectionState::Active,
        callback: None,
        events: Vec::new(),
        created_at: timefmt::now_string(),
    });
    data.connections.len() - 1
}

/// HubRise's token response.
pub(crate) fn token_json(data: &HubriseData, c: &Connection, omit_token_type: bool) -> Value {
    let name = |v: Option<String>| v.map_or(Value::Null, Value::String);
    let mut json = json!({
        "access_token": c.token,
        "account_id": c.account_id,
        "location_id": c.location_id,
        "catalog_id": c.catalog_id,
        "customer_list_id": c.customer_list_id,
        "account_name": name(c.account_id.as_deref().and_then(|id| data.account(id)).map(|a| a.name.clone())),
        "location_name": name(c.location_id.as_deref().and_then(|id| data.location(id)).map(|l| l.name.clone())),
        "catalog_name": name(c.catalog_id.as_deref().and_then(|id| data.catalog(id)).map(|r| r.name.clone())),
        "customer_list_name": name(c.customer_list_id.as_deref().and_then(|id| data.customer_list(id)).map(|r| r.name.clone())),
        "app_instance_id": c.app_instance_id,
        "user_id": c.user_id,
    });
    if !omit_token_type {
        json["token_type"] = json!("Bearer");
    }
    json
}

// ---------------------------------------------------------------------------------------------
// Revoke

/// `POST /oauth2/v1/revoke`: the token stops working at once.
pub(crate) async fn revoke(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = request_params(&headers, &body).and_then(|params| {
        let (id, secret) = client_credentials(&headers, &params)
            .ok_or_else(|| ApiError::unauthorized("Client credentials are missing"))?;
        let mut world = shared.world();
        authenticate_client(&world.hubrise, &id, &secret)?;
        let token = params
            .get("token")
            .ok_or_else(|| ApiError::bad_request("The token parameter is missing"))?;
        revoke_token(&mut world.hubrise, &id, token)
    });
    match result {
        Ok(()) => (StatusCode::OK, axum::Json(json!({}))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Revokes `token` of `client_id`; an unknown token is not an error (RFC 7009).
pub(crate) fn revoke_token(
    data: &mut HubriseData,
    client_id: &str,
    token: &str,
) -> Result<(), ApiError> {
    let Some(c) = data.connections.iter_mut().find(|c| c.token == token) else {
        return Ok(());
    };
    if c.client_id != client_id {
        return Err(ApiError::bad_request(
            "The token was not issued to this client",
        ));
    }
    end_connection(c, ConnectionState::Revoked);
    Ok(())
}

/// A dead connection keeps no callback and no pending events.
pub(crate) fn end_connection(c: &mut Connection, state: ConnectionState) {
    c.state = state;
    c.callback = None;
    c.events.clear();
}
