//! Shared HTML building blocks for the consent pages and the POS back office.
//!
//! Pages are plain server-rendered HTML with stable `id`s and `name`s: people click through them
//! in a browser, and tests post the same forms with an HTTP client (see README.md).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(text: &str) -> String {
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

const STYLE: &str = "body{font-family:-apple-system,Helvetica,Arial,sans-serif;background:#f4f5f7;\
color:#222;margin:0}main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;\
border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.1)}h1{font-size:1.4rem}label{display:block;\
margin:.8rem 0 .3rem}input,select{width:100%;padding:.5rem;box-sizing:border-box}button{margin:\
1rem .5rem 0 0;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#2c6ecb;color:#fff;\
font-size:1rem;cursor:pointer}button.secondary{background:#888}.error{color:#b00020}\
dt{font-weight:bold;margin-top:.6rem}code{font-size:1.2rem;background:#eee;padding:.2rem .4rem}\
.brand{color:#2c6ecb;font-weight:bold}";

/// A complete page: `brand` names the site ("HubRise", the POS vendor's back office).
pub(crate) fn layout(brand: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} - {brand}</title><style>{STYLE}</style></head>\
<body><main><p class=\"brand\">{brand}</p><h1 id=\"title\">{title}</h1>\n{body}\n</main></body></html>\n",
        brand = esc(brand),
        title = esc(title),
    )
}

/// A page with a status code.
pub(crate) fn page(status: StatusCode, brand: &str, title: &str, body: &str) -> Response {
    (status, Html(layout(brand, title, body))).into_response()
}

/// An error page: the message sits in `id="error"` so tests can read it.
pub(crate) fn error_page(status: StatusCode, brand: &str, title: &str, message: &str) -> Response {
    page(
        status,
        brand,
        title,
        &format!("<p id=\"error\" class=\"error\">{}</p>", esc(message)),
    )
}

/// A hidden form input.
pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// A `<select>` with a label; `options` are (value, text) pairs, `selected` preselects one.
pub(crate) fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: Option<&str>,
) -> String {
    let mut html = format!(
        "<label for=\"{n}\">{l}</label><select id=\"{n}\" name=\"{n}\">",
        n = esc(name),
        l = esc(label)
    );
    for (value, text) in options {
        let sel = if Some(value.as_str()) == selected {
            " selected"
        } else {
            ""
        };
        html.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            esc(value),
            esc(text)
        ));
    }
    html.push_str("</select>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
