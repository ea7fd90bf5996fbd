//! HTML of the POS vendor's web back office (stable ids, documented in README.md).

use axum::http::StatusCode;
use axum::response::Response;

use super::model::{Origin, PosConnection};
use crate::pages::{self, esc, hidden};

pub(crate) const BRAND: &str = "Passerelle POS back office";
/// Who the restaurant adds to its HubRise account so the vendor's support can help.
pub(crate) const SUPPORT_EMAIL: &str = "support@passerelle-pos.example";

pub(crate) fn sign_in(notice: Option<&str>, error: Option<&str>, status: StatusCode) -> Response {
    let notice = notice.map_or_else(String::new, |n| format!("<p id=\"notice\">{}</p>", esc(n)));
    let error = error.map_or_else(String::new, |e| {
        format!("<p id=\"error\" class=\"error\">{}</p>", esc(e))
    });
    let body = format!(
        "{notice}{error}<p>Sign in with the same email and password as in the POS app.</p>\
<form id=\"sign-in-form\" method=\"post\" action=\"/backoffice/sign-in\">\
<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<div><button id=\"sign-in\" type=\"submit\">Sign in</button></div></form>"
    );
    pages::page(status, BRAND, "Sign in", &body)
}

fn origin_text(origin: Origin) -> &'static str {
    match origin {
        Origin::Device => "the iPad",
        Origin::Web => "this back office",
        Origin::HubriseBackOffice => "HubRise's back office",
    }
}

fn row(id: &str, label: &str, name: Option<&str>, value_id: Option<&str>) -> String {
    let text = match (name, value_id) {
        (Some(n), Some(i)) => format!("{n} ({i})"),
        (None, Some(i)) => i.to_owned(),
        _ => "-".to_owned(),
    };
    format!("<dt>{label}</dt><dd id=\"{id}\">{}</dd>", esc(&text))
}

fn connection_card(c: &PosConnection) -> String {
    let location = c.location_id.clone().unwrap_or_default();
    let key = esc(&location);
    format!(
        "<section class=\"connection\" id=\"connection-{key}\"><dl>{}{}{}{}<dt>Connected from</dt><dd id=\"origin-{key}\">{}</dd></dl>\
<a id=\"disconnect-{key}\" href=\"/backoffice/hubrise/disconnect?location_id={key}\">Disconnect</a></section>",
        row(
            &format!("account-{location}"),
            "Account",
            c.account_name.as_deref(),
            c.account_id.as_deref()
        ),
        row(
            &format!("location-{location}"),
            "Location",
            c.location_name.as_deref(),
            c.location_id.as_deref()
        ),
        row(
            &format!("catalog-{location}"),
            "Catalog",
            c.catalog_name.as_deref(),
            c.catalog_id.as_deref()
        ),
        row(
            &format!("customer-list-{location}"),
            "Customer list",
            c.customer_list_name.as_deref(),
            c.customer_list_id.as_deref()
        ),
        origin_text(c.origin),
    )
}

/// The HubRise page: connections, Connect, and the support-access guidance.
pub(crate) fn hubrise(
    business: &str,
    connections: &[&PosConnection],
    notice: Option<&str>,
) -> Response {
    let notice = notice.map_or_else(String::new, |n| format!("<p id=\"notice\">{}</p>", esc(n)));
    let list = if connections.is_empty() {
        "<p id=\"no-connection\">HubRise is not connected yet.</p>".to_owned()
    } else {
        connections.iter().map(|c| connection_card(c)).collect()
    };
    let body = format!(
        "<p id=\"business\">{}</p>{notice}{list}\
<form id=\"connect-form\" method=\"post\" action=\"/backoffice/hubrise/connect\"><button id=\"connect\" type=\"submit\">Connect HubRise</button></form>\
<p>After connecting or disconnecting, restart the app on your iPad to apply the changes.</p>\
<p id=\"support-access\">To let our support team help you, add <strong>{}</strong> as a user of your HubRise account with the role <strong>Manager</strong> or <strong>Technical partner</strong>.</p>\
<form method=\"post\" action=\"/backoffice/sign-out\"><button id=\"sign-out\" class=\"secondary\" type=\"submit\">Sign out</button></form>",
        esc(business),
        esc(SUPPORT_EMAIL),
    );
    pages::page(StatusCode::OK, BRAND, "HubRise", &body)
}

/// The confirmation before a disconnect.
pub(crate) fn confirm_disconnect(c: &PosConnection) -> Response {
    let location = c.location_id.clone().unwrap_or_default();
    let body = format!(
        "<p id=\"question\">Disconnect HubRise location <strong>{}</strong> ({})? Orders from HubRise will stop reaching your POS.</p>\
<form id=\"disconnect-form\" method=\"post\" action=\"/backoffice/hubrise/disconnect\">{}\
<button id=\"confirm-disconnect\" type=\"submit\" name=\"confirm\" value=\"yes\">Disconnect</button>\
<a id=\"cancel\" href=\"/backoffice/hubrise\">Cancel</a></form>",
        esc(c.location_name.as_deref().unwrap_or("")),
        esc(&location),
        hidden("location_id", &location),
    );
    pages::page(StatusCode::OK, BRAND, "Disconnect HubRise", &body)
}

/// A clear page when a Connect cannot be completed; nothing was recorded.
pub(crate) fn connect_failed(message: &str) -> Response {
    let body = format!(
        "<p id=\"error\" class=\"error\">{}</p><p>Nothing was connected. <a id=\"back\" href=\"/backoffice/hubrise\">Back to HubRise settings</a></p>",
        esc(message)
    );
    pages::page(
        StatusCode::BAD_REQUEST,
        BRAND,
        "HubRise was not connected",
        &body,
    )
}

/// A plain page of the POS backend.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    pages::page(status, BRAND, title, body)
}
