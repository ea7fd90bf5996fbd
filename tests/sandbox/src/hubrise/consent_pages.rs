//! The HTML of HubRise's consent pages. Every form posts to `/oauth2/v1/authorize` with a hidden
//! `flow` (the server-side flow id) and `step` (which page it is): see README.md.

use axum::http::StatusCode;
use axum::response::Response;

use super::model::{AuthFlow, FlowStep, HubriseData};
use super::scope::Level;
use crate::pages::{self, esc, hidden, select};

pub(crate) const BRAND: &str = "HubRise";

fn form(flow_id: &str, step: FlowStep, fields: &str, buttons: &str) -> String {
    format!(
        "<form id=\"consent-form\" method=\"post\" action=\"/oauth2/v1/authorize\">{}{}{fields}<div>{buttons}</div></form>",
        hidden("flow", flow_id),
        hidden("step", step.name()),
    )
}

fn error_html(error: Option<&str>) -> String {
    error.map_or_else(String::new, |e| {
        format!("<p id=\"error\" class=\"error\">{}</p>", esc(e))
    })
}

fn next_button() -> &'static str {
    "<button id=\"next\" type=\"submit\">Next</button>"
}

/// The page of the flow's current step, with an optional error message.
pub(crate) fn render(
    data: &HubriseData,
    flow_id: &str,
    flow: &AuthFlow,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let app = data
        .client(&flow.client_id)
        .map_or("An app", |c| c.name.as_str());
    let (title, body) = match flow.step {
        FlowStep::SignIn => ("Sign in", sign_in(flow_id, app)),
        FlowStep::Location => ("Choose a location", location(data, flow_id, flow)),
        FlowStep::Resources => ("Choose what to share", resources(data, flow_id, flow)),
        FlowStep::Decision => ("Authorise access", decision(data, flow_id, flow, app)),
    };
    pages::page(
        status,
        BRAND,
        title,
        &format!("{}{body}", error_html(error)),
    )
}

fn sign_in(flow_id: &str, app: &str) -> String {
    let fields = "<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>";
    format!(
        "<p id=\"intro\"><strong>{}</strong> wants to connect to your HubRise account. Sign in to continue.</p>{}",
        esc(app),
        form(
            flow_id,
            FlowStep::SignIn,
            fields,
            "<button id=\"sign-in\" type=\"submit\">Sign in</button>"
        )
    )
}

/// Locations (or accounts, for an account-level scope) the signed-in user may pick.
pub(crate) fn targets(data: &HubriseData, flow: &AuthFlow) -> Vec<(String, String)> {
    let Some(user) = flow.user_id.as_deref().and_then(|id| data.user(id)) else {
        return Vec::new();
    };
    let accounts = user
        .account_ids
        .iter()
        .filter(|a| flow.account_hint.as_ref().is_none_or(|hint| hint == *a))
        .filter_map(|a| data.account(a));
    match flow.scope.level {
        Some(Level::Account) => accounts.map(|a| (a.id.clone(), a.name.clone())).collect(),
        _ => accounts
            .flat_map(|a| {
                data.locations_of(&a.id)
                    .into_iter()
                    .map(move |l| (l.id.clone(), format!("{} - {} ({})", a.name, l.name, l.id)))
            })
            .collect(),
    }
}

/// The name of the field a target is chosen with.
pub(crate) fn target_field(flow: &AuthFlow) -> &'static str {
    match flow.scope.level {
        Some(Level::Account) => "account_id",
        _ => "location_id",
    }
}

fn location(data: &HubriseData, flow_id: &str, flow: &AuthFlow) -> String {
    let label = if target_field(flow) == "account_id" {
        "Account"
    } else {
        "Location"
    };
    let fields = select(target_field(flow), label, &targets(data, flow), None);
    form(flow_id, FlowStep::Location, &fields, next_button())
}

/// Catalogs and customer lists the user may pick for the chosen location or account.
pub(crate) fn choices(
    data: &HubriseData,
    flow: &AuthFlow,
    catalogs: bool,
) -> Vec<(String, String)> {
    let Some(account_id) = flow.account_id.as_deref() else {
        return Vec::new();
    };
    let pool = if catalogs {
        &data.catalogs
    } else {
        &data.customer_lists
    };
    HubriseData::selectable(pool, account_id, flow.location_id.as_deref())
        .into_iter()
        .map(|r| (r.id.clone(), format!("{} ({})", r.name, r.id)))
        .collect()
}

fn resources(data: &HubriseData, flow_id: &str, flow: &AuthFlow) -> String {
    let mut fields = String::new();
    if flow.scope.picks_catalog() {
        fields.push_str(&select(
            "catalog_id",
            "Catalog",
            &choices(data, flow, true),
            None,
        ));
    }
    if flow.scope.picks_customer_list() {
        fields.push_str(&select(
            "customer_list_id",
            "Customer list",
            &choices(data, flow, false),
            None,
        ));
    }
    form(flow_id, FlowStep::Resources, &fields, next_button())
}

fn decision(data: &HubriseData, flow_id: &str, flow: &AuthFlow, app: &str) -> String {
    let mut summary = String::new();
    let mut row = |id: &str, label: &str, value: Option<String>| {
        if let Some(v) = value {
            summary.push_str(&format!("<dt>{label}</dt><dd id=\"{id}\">{}</dd>", esc(&v)));
        }
    };
    let named = |name: Option<&str>, id: Option<&str>| match (name, id) {
        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
        _ => None,
    };
    let account = flow.account_id.as_deref().and_then(|id| data.account(id));
    let location = flow.location_id.as_deref().and_then(|id| data.location(id));
    let catalog = flow.catalog_id.as_deref().and_then(|id| data.catalog(id));
    let list = flow
        .customer_list_id
        .as_deref()
        .and_then(|id| data.customer_list(id));
    row(
        "summary-account",
        "Account",
        named(account.map(|a| a.name.as_str()), flow.account_id.as_deref()),
    );
    row(
        "summary-location",
        "Location",
        named(
            location.map(|l| l.name.as_str()),
            flow.location_id.as_deref(),
        ),
    );
    row(
        "summary-catalog",
        "Catalog",
        named(catalog.map(|c| c.name.as_str()), flow.catalog_id.as_deref()),
    );
    row(
        "summary-customer-list",
        "Customer list",
        named(
            list.map(|c| c.name.as_str()),
            flow.customer_list_id.as_deref(),
        ),
    );
    let permissions: String = flow
        .scope
        .describe()
        .iter()
        .map(|p| format!("<li>{}</li>", esc(p)))
        .collect();
    let buttons = "<button id=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button id=\"deny\" class=\"secondary\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>";
    format!(
        "<p id=\"intro\"><strong>{}</strong> will be able to access:</p><ul id=\"permissions\">{permissions}</ul><dl id=\"summary\">{summary}</dl>{}",
        esc(app),
        form(flow_id, FlowStep::Decision, "", buttons)
    )
}

/// The out-of-band page: the code to paste into the app, in `id="code"`.
pub(crate) fn oob_code(code: &str) -> Response {
    pages::page(
        StatusCode::OK,
        BRAND,
        "Authorisation code",
        &format!(
            "<p>Copy this code and paste it into your application:</p><p><code id=\"code\">{}</code></p>",
            esc(code)
        ),
    )
}

/// The out-of-band page after Deny.
pub(crate) fn oob_denied() -> Response {
    pages::page(
        StatusCode::OK,
        BRAND,
        "Access denied",
        "<p>You denied access. You can close this window.</p><p id=\"error\">access_denied</p>",
    )
}

/// An error page of the OAuth server (no redirect).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    pages::error_page(status, BRAND, "Authorisation error", message)
}
