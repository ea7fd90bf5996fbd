//! The web back office's HTML: plain forms that work without JavaScript, in French or English
//! (`?lang=fr|en`, else the browser's `Accept-Language`), with the sandbox's stable ids.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::store::Connection;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// `?lang=` wins, then the first language the browser names.
    pub fn of(headers: &HeaderMap, asked: Option<&str>) -> Lang {
        let preferred = asked.map(str::to_owned).or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        match preferred {
            Some(p) if p.trim_start().to_ascii_lowercase().starts_with("fr") => Lang::Fr,
            _ => Lang::En,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// Every sentence of the pages, in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    Brand,
    SignInTitle,
    SignInIntro,
    Email,
    Password,
    SignIn,
    SignOut,
    FinishConnect,
    HubriseTitle,
    NotConnected,
    Connect,
    RestartHint,
    SupportAccess,
    Connected,
    Disconnected,
    Account,
    Location,
    Catalog,
    CustomerList,
    ConnectedFrom,
    Disconnect,
    Cancel,
    DisconnectTitle,
    DisconnectQuestion,
    FromDevice,
    FromWeb,
    FromHubrise,
    NotConnectedTitle,
    NothingConnected,
    Back,
    Denied,
    NoCode,
    UnexpectedState,
    BadCode,
    TooLong,
    NoState,
    UnexpectedAnswer,
    NoDeviceWaiting,
    BackToTill,
    BackToTillTitle,
    Forbidden,
    ForbiddenTitle,
    NoSuchConnection,
    NothingDisconnected,
}

impl Msg {
    pub fn text(self, lang: Lang) -> &'static str {
        let (en, fr) = match self {
            Msg::Brand => ("POS back office", "Back office de la caisse"),
            Msg::SignInTitle => ("Sign in", "Connexion"),
            Msg::SignInIntro => (
                "Sign in with the same email and password as in the POS app.",
                "Connectez-vous avec l'e-mail et le mot de passe de l'application de caisse.",
            ),
            Msg::Email => ("Email", "E-mail"),
            Msg::Password => ("Password", "Mot de passe"),
            Msg::SignIn => ("Sign in", "Se connecter"),
            Msg::SignOut => ("Sign out", "Se déconnecter"),
            Msg::FinishConnect => (
                "Sign in to finish connecting HubRise.",
                "Connectez-vous pour terminer la connexion à HubRise.",
            ),
            Msg::HubriseTitle => ("HubRise", "HubRise"),
            Msg::NotConnected => (
                "HubRise is not connected yet.",
                "HubRise n'est pas encore connecté.",
            ),
            Msg::Connect => ("Connect HubRise", "Connecter HubRise"),
            Msg::RestartHint => (
                "After connecting or disconnecting, restart the app on your iPad to apply the changes.",
                "Après une connexion ou une déconnexion, redémarrez l'application sur votre iPad pour appliquer les changements.",
            ),
            Msg::SupportAccess => (
                "To let our support team help you, add support@passerelle-pos.example as a user of your HubRise account with the role Manager or Technical partner.",
                "Pour que notre support puisse vous aider, ajoutez support@passerelle-pos.example comme utilisateur de votre compte HubRise avec le rôle Manager ou Partenaire technique.",
            ),
            Msg::Connected => (
                "HubRise is connected. Restart the app on your iPad to apply the changes.",
                "HubRise est connecté. Redémarrez l'application sur votre iPad pour appliquer les changements.",
            ),
            Msg::Disconnected => (
                "HubRise was disconnected. Restart the app on your iPad to apply the changes.",
                "HubRise a été déconnecté. Redémarrez l'application sur votre iPad pour appliquer les changements.",
            ),
            Msg::Account => ("Account", "Compte"),
            Msg::Location => ("Location", "Point de vente"),
            Msg::Catalog => ("Catalog", "Catalogue"),
            Msg::CustomerList => ("Customer list", "Liste de clients"),
            Msg::ConnectedFrom => ("Connected from", "Connecté depuis"),
            Msg::Disconnect => ("Disconnect", "Déconnecter"),
            Msg::Cancel => ("Cancel", "Annuler"),
            Msg::DisconnectTitle => ("Disconnect HubRise", "Déconnecter HubRise"),
            Msg::DisconnectQuestion => (
                "Disconnect this HubRise location? Orders from HubRise will stop reaching your POS.",
                "Déconnecter ce point de vente HubRise ? Les commandes HubRise n'arriveront plus dans votre caisse.",
            ),
            Msg::FromDevice => ("the iPad", "l'iPad"),
            Msg::FromWeb => ("this back office", "ce back office"),
            Msg::FromHubrise => ("HubRise's back office", "le back office HubRise"),
            Msg::NotConnectedTitle => ("HubRise was not connected", "HubRise n'a pas été connecté"),
            Msg::NothingConnected => ("Nothing was connected.", "Rien n'a été connecté."),
            Msg::Back => ("Back to HubRise settings", "Retour aux réglages HubRise"),
            Msg::Denied => (
                "You did not allow the connection on HubRise.",
                "Vous n'avez pas autorisé la connexion sur HubRise.",
            ),
            Msg::NoCode => (
                "HubRise did not send an authorisation code.",
                "HubRise n'a pas envoyé de code d'autorisation.",
            ),
            Msg::UnexpectedState => (
                "This HubRise response was not expected here. Connect again.",
                "Cette réponse de HubRise n'était pas attendue. Connectez-vous à nouveau.",
            ),
            Msg::BadCode => (
                "This HubRise authorisation code is invalid, has expired or was already used.",
                "Ce code d'autorisation HubRise est invalide, a expiré ou a déjà servi.",
            ),
            Msg::TooLong => (
                "The HubRise authorisation took too long. Connect again.",
                "L'autorisation HubRise a pris trop de temps. Connectez-vous à nouveau.",
            ),
            Msg::NoState => (
                "This HubRise answer carries no state.",
                "Cette réponse de HubRise ne porte pas d'état.",
            ),
            Msg::UnexpectedAnswer => (
                "This HubRise answer is not one this backend expects.",
                "Cette réponse de HubRise n'est pas attendue ici.",
            ),
            Msg::NoDeviceWaiting => (
                "No device is waiting for this HubRise authorisation. Start again from the till.",
                "Aucun appareil n'attend cette autorisation HubRise. Recommencez depuis la caisse.",
            ),
            Msg::BackToTill => (
                "HubRise answered. Go back to the till: it finishes the connection by itself.",
                "HubRise a répondu. Revenez à la caisse : elle termine la connexion toute seule.",
            ),
            Msg::BackToTillTitle => ("Back to the till", "Retour à la caisse"),
            Msg::Forbidden => (
                "This form has expired. Open the page again and retry.",
                "Ce formulaire a expiré. Rouvrez la page et réessayez.",
            ),
            Msg::ForbiddenTitle => ("Form expired", "Formulaire expiré"),
            Msg::NoSuchConnection => (
                "This HubRise location is not connected to this account.",
                "Ce point de vente HubRise n'est pas connecté à ce compte.",
            ),
            Msg::NothingDisconnected => ("Nothing was disconnected.", "Rien n'a été déconnecté."),
        };
        match lang {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:-apple-system,Helvetica,Arial,sans-serif;background:#f4f5f7;color:#222;margin:0}\
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px}label{display:block;margin:.8rem 0 .3rem}\
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.6rem 1.2rem}.error{color:#b00020}";

fn page(status: StatusCode, lang: Lang, title: Msg, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} - {brand}</title>\
<style>{STYLE}</style></head><body><main><p class=\"brand\">{brand}</p><h1 id=\"title\">{title}</h1>\n{body}\n</main></body></html>\n",
        code = lang.code(),
        title = esc(title.text(lang)),
        brand = esc(Msg::Brand.text(lang)),
    );
    (status, Html(html)).into_response()
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

fn paragraph(id: &str, text: &str) -> String {
    format!("<p id=\"{id}\">{}</p>", esc(text))
}

fn error(text: &str) -> String {
    format!("<p id=\"error\" class=\"error\">{}</p>", esc(text))
}

pub fn sign_in(
    lang: Lang,
    csrf: &str,
    notice: Option<Msg>,
    failure: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = |m: Msg| esc(m.text(lang));
    let body = format!(
        "{}{}<p>{}</p><form id=\"sign-in-form\" method=\"post\" action=\"/backoffice/sign-in\">{}\
<label for=\"email\">{}</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
<label for=\"password\">{}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<div><button id=\"sign-in\" type=\"submit\">{}</button></div></form>",
        notice
            .map(|n| paragraph("notice", n.text(lang)))
            .unwrap_or_default(),
        failure.map(error).unwrap_or_default(),
        t(Msg::SignInIntro),
        hidden("csrf", csrf),
        t(Msg::Email),
        t(Msg::Password),
        t(Msg::SignIn),
    );
    page(status, lang, Msg::SignInTitle, &body)
}

fn origin_text(lang: Lang, origin: &str) -> &'static str {
    match origin {
        "device" => Msg::FromDevice.text(lang),
        "web" => Msg::FromWeb.text(lang),
        _ => Msg::FromHubrise.text(lang),
    }
}

fn row(id: &str, label: &str, name: Option<&str>, value_id: Option<&str>) -> String {
    let text = match (name, value_id) {
        (Some(n), Some(i)) => format!("{n} ({i})"),
        (None, Some(i)) => i.to_owned(),
        _ => "-".to_owned(),
    };
    format!(
        "<dt>{}</dt><dd id=\"{}\">{}</dd>",
        esc(label),
        esc(id),
        esc(&text)
    )
}

fn connection_card(lang: Lang, c: &Connection) -> String {
    let n = &c.names;
    let location = n.location_id.clone().unwrap_or_default();
    let key = esc(&location);
    let rows = [
        ("account", Msg::Account, &n.account_name, &n.account_id),
        ("location", Msg::Location, &n.location_name, &n.location_id),
        ("catalog", Msg::Catalog, &n.catalog_name, &n.catalog_id),
        (
            "customer-list",
            Msg::CustomerList,
            &n.customer_list_name,
            &n.customer_list_id,
        ),
    ]
    .iter()
    .map(|(id, label, name, value)| {
        row(
            &format!("{id}-{location}"),
            label.text(lang),
            name.as_deref(),
            value.as_deref(),
        )
    })
    .collect::<String>();
    let link = with_lang(
        &format!(
            "/backoffice/hubrise/disconnect?location_id={}",
            url_encode(&location)
        ),
        lang,
    );
    format!(
        "<section class=\"connection\" id=\"connection-{key}\"><dl>{rows}<dt>{}</dt><dd id=\"origin-{key}\">{}</dd></dl>\
<a id=\"disconnect-{key}\" href=\"{}\">{}</a></section>",
        esc(Msg::ConnectedFrom.text(lang)),
        esc(origin_text(lang, &c.origin)),
        esc(&link),
        esc(Msg::Disconnect.text(lang)),
    )
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A link keeping the page's language.
fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.code())
}

/// The HubRise page: connections, Connect, support access, sign out.
pub fn hubrise(
    lang: Lang,
    csrf: &str,
    business: &str,
    connections: &[Connection],
    notice: Option<Msg>,
) -> Response {
    let t = |m: Msg| esc(m.text(lang));
    let list = if connections.is_empty() {
        paragraph("no-connection", Msg::NotConnected.text(lang))
    } else {
        connections
            .iter()
            .map(|c| connection_card(lang, c))
            .collect()
    };
    let body = format!(
        "<p id=\"business\">{}</p>{}{list}\
<form id=\"connect-form\" method=\"post\" action=\"/backoffice/hubrise/connect\">{}<button id=\"connect\" type=\"submit\">{}</button></form>\
<p>{}</p><p id=\"support-access\">{}</p>\
<form method=\"post\" action=\"/backoffice/sign-out\">{}<button id=\"sign-out\" type=\"submit\">{}</button></form>",
        esc(business),
        notice
            .map(|n| paragraph("notice", n.text(lang)))
            .unwrap_or_default(),
        hidden("csrf", csrf),
        t(Msg::Connect),
        t(Msg::RestartHint),
        t(Msg::SupportAccess),
        hidden("csrf", csrf),
        t(Msg::SignOut),
    );
    page(StatusCode::OK, lang, Msg::HubriseTitle, &body)
}

/// The confirmation before a disconnect.
pub fn confirm_disconnect(lang: Lang, csrf: &str, c: &Connection) -> Response {
    let location = c.names.location_id.clone().unwrap_or_default();
    let body = format!(
        "<p id=\"question\">{} <strong>{}</strong> ({})</p>\
<form id=\"disconnect-form\" method=\"post\" action=\"/backoffice/hubrise/disconnect\">{}{}\
<button id=\"confirm-disconnect\" type=\"submit\" name=\"confirm\" value=\"yes\">{}</button>\
<a id=\"cancel\" href=\"{}\">{}</a></form>",
        esc(Msg::DisconnectQuestion.text(lang)),
        esc(c.names.location_name.as_deref().unwrap_or("")),
        esc(&location),
        hidden("csrf", csrf),
        hidden("location_id", &location),
        esc(Msg::Disconnect.text(lang)),
        esc(&with_lang("/backoffice/hubrise", lang)),
        esc(Msg::Cancel.text(lang)),
    );
    page(StatusCode::OK, lang, Msg::DisconnectTitle, &body)
}

/// A refusal page: `why` (`id="error"`), what it means, and the way back.
fn refusal(status: StatusCode, lang: Lang, title: Msg, why: Msg, meaning: Msg) -> Response {
    let body = format!(
        "{}<p>{} <a id=\"back\" href=\"{}\">{}</a></p>",
        error(why.text(lang)),
        esc(meaning.text(lang)),
        esc(&with_lang("/backoffice/hubrise", lang)),
        esc(Msg::Back.text(lang)),
    );
    page(status, lang, title, &body)
}

/// A Connect that could not be completed: 400, nothing recorded.
pub fn connect_failed(lang: Lang, why: Msg) -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        lang,
        Msg::NotConnectedTitle,
        why,
        Msg::NothingConnected,
    )
}

/// A disconnect of a location the account has no active connection to: 404, nothing changed.
pub fn no_such_connection(lang: Lang) -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        lang,
        Msg::DisconnectTitle,
        Msg::NoSuchConnection,
        Msg::NothingDisconnected,
    )
}

/// A form without this session's CSRF token: 403, nothing done.
pub fn forbidden(lang: Lang) -> Response {
    page(
        StatusCode::FORBIDDEN,
        lang,
        Msg::ForbiddenTitle,
        &error(Msg::Forbidden.text(lang)),
    )
}

pub fn back_to_till(lang: Lang) -> Response {
    page(
        StatusCode::OK,
        lang,
        Msg::BackToTillTitle,
        &paragraph("done", Msg::BackToTill.text(lang)),
    )
}
