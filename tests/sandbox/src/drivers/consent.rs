//! Playing the browser on HubRise's consent pages: posts the same forms a person would, in the
//! documented sequence (README.md), without following the final redirect.

use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::http_client;
use crate::seed::SeedUser;

/// What the person on the consent page types and picks. `None` picks the first option offered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsentChoice {
    pub email: String,
    pub password: String,
    pub location_id: Option<String>,
    pub catalog_id: Option<String>,
    pub customer_list_id: Option<String>,
}

impl ConsentChoice {
    /// Signs in as `user`, picking the first location, catalog and customer list.
    pub fn for_user(user: &SeedUser) -> ConsentChoice {
        ConsentChoice {
            email: user.email.clone(),
            password: user.password.clone(),
            ..ConsentChoice::default()
        }
    }

    pub fn location(mut self, id: &str) -> Self {
        self.location_id = Some(id.into());
        self
    }
    pub fn catalog(mut self, id: &str) -> Self {
        self.catalog_id = Some(id.into());
        self
    }
    pub fn customer_list(mut self, id: &str) -> Self {
        self.customer_list_id = Some(id.into());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("HTTP error: {0}")]
    Http(#[from] reqwest::Error),
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    /// HubRise showed an error page (or re-showed a step with an error, e.g. a bad password).
    #[error("consent page answered {status}: {message}")]
    Page { status: u16, message: String },
    #[error("unexpected consent page: {0}")]
    Unexpected(String),
}

/// Signs in, chooses, and clicks Allow. Returns the final redirect's `Location` (with `code`
/// and `state`), or for the out-of-band redirect URI the code shown on the page.
pub async fn approve(authorize_url: &str, choice: &ConsentChoice) -> Result<String, ConsentError> {
    run(authorize_url, choice, "allow").await
}

/// Signs in, chooses, and clicks Deny. Returns the redirect's `Location`
/// (`error=access_denied`), or `"access_denied"` on the out-of-band page.
pub async fn deny(authorize_url: &str, choice: &ConsentChoice) -> Result<String, ConsentError> {
    run(authorize_url, choice, "deny").await
}

/// The `code` query parameter of a redirect URL.
pub fn code_from_redirect(location: &str) -> Option<String> {
    query_param(location, "code")
}

/// A query parameter of a URL (custom schemes included).
pub fn query_param(location: &str, key: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn run(
    authorize_url: &str,
    choice: &ConsentChoice,
    decision: &str,
) -> Result<String, ConsentError> {
    let http = http_client::client()?;
    let action = url::Url::parse(authorize_url)?.join("/oauth2/v1/authorize")?;
    let mut page = read(http.get(authorize_url).send().await?).await?;
    // sign in, location, resources, decision: at most four forms.
    for _ in 0..4 {
        let html = match page {
            Outcome::Done(result) => return Ok(result),
            Outcome::Page(html) => html,
        };
        let flow = input_value(&html, "flow")
            .ok_or_else(|| ConsentError::Unexpected("no flow field".into()))?;
        let step = input_value(&html, "step")
            .ok_or_else(|| ConsentError::Unexpected("no step field".into()))?;
        let mut form = vec![("flow".to_owned(), flow), ("step".to_owned(), step.clone())];
        form.extend(fields_for(&html, &step, choice, decision)?);
        page = read(http.post(action.clone()).form(&form).send().await?).await?;
    }
    match page {
        Outcome::Done(result) => Ok(result),
        Outcome::Page(_) => Err(ConsentError::Unexpected("the flow did not finish".into())),
    }
}

fn fields_for(
    html: &str,
    step: &str,
    choice: &ConsentChoice,
    decision: &str,
) -> Result<Vec<(String, String)>, ConsentError> {
    let pick = |name: &str, wanted: &Option<String>| -> Result<(String, String), ConsentError> {
        let value = match wanted {
            Some(v) => v.clone(),
            None => first_option(html, name)
                .ok_or_else(|| ConsentError::Unexpected(format!("no {name} options")))?,
        };
        Ok((name.to_owned(), value))
    };
    let mut fields = Vec::new();
    match step {
        "sign_in" => {
            fields.push(("email".to_owned(), choice.email.clone()));
            fields.push(("password".to_owned(), choice.password.clone()));
        }
        "location" if html.contains("name=\"account_id\"") => {
            fields.push(pick("account_id", &None)?)
        }
        "location" => fields.push(pick("location_id", &choice.location_id)?),
        "resources" => {
            if html.contains("name=\"catalog_id\"") {
                fields.push(pick("catalog_id", &choice.catalog_id)?);
            }
            if html.contains("name=\"customer_list_id\"") {
                fields.push(pick("customer_list_id", &choice.customer_list_id)?);
            }
        }
        "decision" => fields.push(("decision".to_owned(), decision.to_owned())),
        other => return Err(ConsentError::Unexpected(format!("unknown step {other}"))),
    }
    Ok(fields)
}

enum Outcome {
    Page(String),
    Done(String),
}

/// A redirect or the out-of-band page ends the flow; a page with a form goes on; an error
/// (or a step shown again with an error) is reported.
async fn read(response: reqwest::Response) -> Result<Outcome, ConsentError> {
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ConsentError::Unexpected("redirect without Location".into()))?
            .to_owned();
        return Ok(Outcome::Done(location));
    }
    let html = response.text().await?;
    if let Some(code) = element_text(&html, "code") {
        return Ok(Outcome::Done(code));
    }
    if let Some(error) = element_text(&html, "error") {
        // The out-of-band page after Deny shows `access_denied` as its result.
        if status == StatusCode::OK && error == "access_denied" {
            return Ok(Outcome::Done(error));
        }
        return Err(ConsentError::Page {
            status: status.as_u16(),
            message: error,
        });
    }
    if status != StatusCode::OK {
        return Err(ConsentError::Page {
            status: status.as_u16(),
            message: "error page".into(),
        });
    }
    Ok(Outcome::Page(html))
}

/// The value of `<input ... name="NAME" value="...">` (hidden fields are rendered that way).
fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(unescape(&html[start..start + end]))
}

/// The first `<option value>` of the select named `name`.
fn first_option(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("<select id=\"{name}\""))?;
    let rest = &html[start..];
    let value_at = rest.find("<option value=\"")? + "<option value=\"".len();
    let end = rest[value_at..].find('"')?;
    Some(unescape(&rest[value_at..value_at + end]))
}

/// The text inside the element with `id="ID"`.
fn element_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker)?;
    let open_end = html[at..].find('>')? + at + 1;
    let close = html[open_end..].find('<')? + open_end;
    Some(unescape(html[open_end..close].trim()))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pages() {
        let html = "<input type=\"hidden\" name=\"flow\" value=\"ab&amp;c\"><select id=\"location_id\" name=\"location_id\"><option value=\"3r4s3-1\">Paris</option></select><p id=\"error\" class=\"error\">Bad &lt;x&gt;</p>";
        assert_eq!(input_value(html, "flow").as_deref(), Some("ab&c"));
        assert_eq!(
            first_option(html, "location_id").as_deref(),
            Some("3r4s3-1")
        );
        assert_eq!(element_text(html, "error").as_deref(), Some("Bad <x>"));
        assert_eq!(
            code_from_redirect("passerelle-demo://oauth/hubrise?code=abc&state=s").as_deref(),
            Some("abc")
        );
    }
}
