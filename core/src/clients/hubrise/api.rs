//! HubRise's API: `X-Access-Token`, HubRise's error JSON mapped to typed errors, no secret in
//! any error or log line (only method and path are logged).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::token::HubriseErrorBody;
use crate::error::{Error, Result, Service};
use crate::http::{API_BODY_LIMIT, capped_wait, read_body, retry_after_secs, shared_client};
use crate::model::connection::ConnectionNames;
use crate::secrets::Secret;

/// Events and orders per page: HubRise's maximum.
const PAGE_SIZE: u32 = 100;

/// A client of HubRise's API for one base URL.
#[derive(Clone)]
pub struct HubriseApi {
    base: String,
    /// Length of HubRise's rate "minute" (60 s; shorter against a scaled sandbox): a 429 without
    /// `Retry-After` waits for the next window, aligned on multiples of it.
    minute_ms: u64,
}

/// One entry of `GET /callback/events`, read leniently (see [`EventRef::from_entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRef {
    pub id: String,
    pub resource_type: String,
    /// The order's id: `order_id`, or, only when an order event has none, the `resource_id` of
    /// an older page of HubRise's (which could also name a parent, so never beside `order_id`).
    pub order_id: Option<String>,
}

impl EventRef {
    /// One entry of a page, whatever its shape: `None` for an entry without an id (it can be
    /// neither fetched nor deleted; the caller skips it). Both `order_id` and `resource_id`, an
    /// unknown resource type, an id written as a number: all read, none fails the page.
    pub fn from_entry(entry: &serde_json::Value) -> Option<EventRef> {
        let text = |key: &str| match entry.get(key)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let id = text("id")?;
        let resource_type = text("resource_type").unwrap_or_default();
        let order_id = text("order_id").or_else(|| {
            (resource_type == "order")
                .then(|| text("resource_id"))
                .flatten()
        });
        Some(EventRef {
            id,
            resource_type,
            order_id,
        })
    }
}

/// A page of a paginated list and the cursor of the next one (`X-Cursor-Next`).
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `GET /location`, the fields a POS shows, and its timezone.
#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    pub id: String,
    pub name: Option<String>,
    pub account: Option<Account>,
    #[serde(default)]
    pub timezone: Option<Timezone>,
}

/// A location's `timezone`: `{"name": "Europe/Paris"}` (an older page adds a fixed `offset`,
/// which daylight saving makes wrong half the year: only the name is used).
#[derive(Debug, Clone, Deserialize)]
pub struct Timezone {
    pub name: Option<String>,
}

/// `GET /catalogs/:id?hide_data=true` and `GET /customer_lists/:id`: the name HubRise shows.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedResource {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
}

/// `GET /callback`: an unregistered callback answers `{"url": null, "events": {}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub events: std::collections::BTreeMap<String, Vec<String>>,
}

impl Callback {
    /// Registered for order creation and update (design D7: `url: null` alone says nothing).
    pub fn listens_to_orders(&self) -> bool {
        self.events
            .get("order")
            .is_some_and(|e| e.iter().any(|x| x == "create") && e.iter().any(|x| x == "update"))
    }
}

impl Location {
    /// The IANA name of the location's timezone, when HubRise gave one.
    pub fn timezone_name(&self) -> Option<&str> {
        self.timezone
            .as_ref()
            .and_then(|t| t.name.as_deref())
            .map(str::trim)
            .filter(|n| !n.is_empty())
    }

    /// Names to read again on the connection row.
    pub fn names(&self) -> ConnectionNames {
        ConnectionNames {
            location_id: self.id.clone(),
            location_name: self.name.clone(),
            account_id: self.account.as_ref().map(|a| a.id.clone()),
            account_name: self.account.as_ref().and_then(|a| a.name.clone()),
            ..ConnectionNames::default()
        }
    }
}

impl HubriseApi {
    pub fn new(base: &str, minute_ms: u64) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            minute_ms: minute_ms.max(1),
        }
    }

    /// A page of pending callback events. The page must be a JSON array; each entry is read on
    /// its own, so one odd entry never fails the page (one without an id is left out, logged).
    pub async fn events(&self, token: &Secret, cursor: Option<&str>) -> Result<Page<EventRef>> {
        let mut path = format!("/callback/events?count={PAGE_SIZE}");
        if let Some(cursor) = cursor {
            let cursor: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page: Page<serde_json::Value> = self.get_page(token, &path).await?;
        let items = page
            .items
            .iter()
            .filter_map(|entry| {
                let event = EventRef::from_entry(entry);
                if event.is_none() {
                    tracing::warn!(target: "passerelle::hubrise", "an event without an id was left in HubRise's queue");
                }
                event
            })
            .collect();
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// The order's current state; `None` when HubRise no longer has it.
    pub async fn order(&self, token: &Secret, order_id: &str) -> Result<Option<serde_json::Value>> {
        self.order_body(token, order_id)
            .await?
            .map(|body| parse_json(&body, "/location/orders/:id"))
            .transpose()
    }

    /// The order's body as HubRise sent it, unparsed (so an unreadable one can be kept);
    /// `None` when HubRise no longer has the order.
    pub async fn order_body(&self, token: &Secret, order_id: &str) -> Result<Option<Vec<u8>>> {
        let path = format!("/location/orders/{}", segment(order_id));
        match self.send(token, reqwest::Method::GET, &path, None).await {
            Ok(response) => read_body(response, API_BODY_LIMIT, Service::HubriseApi)
                .await
                .map(Some),
            Err(Error::Server { status: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Applies a patch and returns the order HubRise now has.
    pub async fn patch_order(
        &self,
        token: &Secret,
        order_id: &str,
        patch: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let path = format!("/location/orders/{}", segment(order_id));
        let response = self
            .send(token, reqwest::Method::PATCH, &path, Some(patch))
            .await?;
        read_json(response, &path).await
    }

    /// Deletes a processed event; one already gone counts as deleted.
    pub async fn delete_event(&self, token: &Secret, event_id: &str) -> Result<()> {
        let path = format!("/callback/events/{}", segment(event_id));
        match self.send(token, reqwest::Method::DELETE, &path, None).await {
            Ok(_) | Err(Error::Server { status: 404, .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// A page of orders created after `after` (ISO 8601): the heavy catch-up query.
    pub async fn orders_after(
        &self,
        token: &Secret,
        after: &str,
        cursor: Option<&str>,
    ) -> Result<Page<serde_json::Value>> {
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("after", after)
                .append_pair("count", &PAGE_SIZE.to_string());
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
            query.finish()
        };
        self.get_page(token, &format!("/location/orders?{query}"))
            .await
    }

    async fn get_page<T: DeserializeOwned>(&self, token: &Secret, path: &str) -> Result<Page<T>> {
        let response = self.send(token, reqwest::Method::GET, path, None).await?;
        let next_cursor = response
            .headers()
            .get("X-Cursor-Next")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let items = read_json(response, path.split('?').next().unwrap_or(path)).await?;
        Ok(Page { items, next_cursor })
    }

    pub async fn location(&self, token: &Secret) -> Result<Location> {
        self.get_json(token, "/location").await
    }

    /// A catalog's name, without its data (`GET /catalogs/:id` is a heavy query).
    pub async fn catalog(&self, token: &Secret, catalog_id: &str) -> Result<NamedResource> {
        let path = format!("/catalogs/{}?hide_data=true", segment(catalog_id));
        self.get_json(token, &path).await
    }

    /// A customer list's name.
    pub async fn customer_list(&self, token: &Secret, list_id: &str) -> Result<NamedResource> {
        self.get_json(token, &format!("/customer_lists/{}", segment(list_id)))
            .await
    }

    pub async fn callback(&self, token: &Secret) -> Result<Callback> {
        self.get_json(token, "/callback").await
    }

    /// Registers a passive callback (no URL) for order creation and update.
    pub async fn register_passive_callback(&self, token: &Secret) -> Result<()> {
        let body = serde_json::json!({"url": null, "events": {"order": ["create", "update"]}});
        self.send(token, reqwest::Method::POST, "/callback", Some(&body))
            .await
            .map(|_| ())
    }

    pub async fn get_json<T: DeserializeOwned>(&self, token: &Secret, path: &str) -> Result<T> {
        let response = self.send(token, reqwest::Method::GET, path, None).await?;
        read_json(response, path).await
    }

    /// Sends one request; a non-success status becomes its typed error.
    pub async fn send(
        &self,
        token: &Secret,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response> {
        let path_only = path.split('?').next().unwrap_or(path);
        tracing::debug!(target: "passerelle::hubrise", %method, path = path_only, "request");
        // Sensitive: never shown by `Debug` of the request or its headers.
        let mut access_token = reqwest::header::HeaderValue::from_str(token.expose())
            .map_err(|_| Error::internal("the access token is not a valid header value"))?;
        access_token.set_sensitive(true);
        let mut request = shared_client()?
            .request(method, format!("{}{path}", self.base))
            .header("X-Access-Token", access_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport)?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_from_response(response, self.minute_ms).await)
    }
}

/// Escapes an id used as a path segment (ids come from HubRise, but never trust them blindly).
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response, path: &str) -> Result<T> {
    let bytes = read_body(response, API_BODY_LIMIT, Service::HubriseApi).await?;
    parse_json(&bytes, path)
}

/// A body as JSON of the expected shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::MalformedBody {
        service: Service::HubriseApi,
        reason: format!("{path}: {e}"),
    })
}

fn transport(err: reqwest::Error) -> Error {
    Error::transport(Service::HubriseApi, err)
}

/// Seconds until the next rate window, aligned on multiples of `minute_ms` since the epoch.
pub fn secs_to_next_window(minute_ms: u64) -> u64 {
    let now = u64::try_from(crate::time::now_ms()).unwrap_or(0);
    let wait_ms = minute_ms - now % minute_ms;
    wait_ms.div_ceil(1000)
}

/// HubRise's error JSON and status, as a typed error.
async fn error_from_response(response: reqwest::Response, minute_ms: u64) -> Error {
    let status = response.status().as_u16();
    let retry_after = retry_after_secs(response.headers());
    let body = HubriseErrorBody::read(response).await;
    tracing::debug!(target: "passerelle::hubrise", status, error_type = ?body.error_type, "error answer");
    match status {
        401 => Error::Unauthorized {
            service: Service::HubriseApi,
            reason: body.reason(),
        },
        // An older HubRise page answered 429 for an invalid or blocked token: a 429 that names
        // another error type than a rate limit's is a refusal, not a wait.
        429 if body.is_refusal() => Error::Unauthorized {
            service: Service::HubriseApi,
            reason: body.reason(),
        },
        429 => {
            let (wait, capped) =
                capped_wait(retry_after.unwrap_or_else(|| secs_to_next_window(minute_ms)));
            Error::RateLimited {
                service: Service::HubriseApi,
                wait,
                capped,
            }
        }
        _ => Error::Server {
            service: Service::HubriseApi,
            status,
            error_type: body.error_type.clone().unwrap_or_else(|| "unknown".into()),
            message: body.reason(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resource_id_names_the_order_only_without_order_id() {
        let both = json!({"id": "e1", "resource_type": "order", "order_id": "o1", "resource_id": "3r4s3-1"});
        assert_eq!(
            EventRef::from_entry(&both).unwrap().order_id.as_deref(),
            Some("o1")
        );
        let legacy = json!({"id": "e2", "resource_type": "order", "resource_id": "o2"});
        assert_eq!(
            EventRef::from_entry(&legacy).unwrap().order_id.as_deref(),
            Some("o2")
        );
        let customer = json!({"id": "e3", "resource_type": "customer", "resource_id": "xab66"});
        assert_eq!(EventRef::from_entry(&customer).unwrap().order_id, None);
    }

    #[test]
    fn odd_entries_are_read_or_left_out_never_fatal() {
        assert_eq!(
            EventRef::from_entry(&json!({"resource_type": "order"})),
            None
        );
        assert_eq!(EventRef::from_entry(&json!({"id": "  "})), None);
        assert_eq!(EventRef::from_entry(&json!("not an object")), None);
        let numeric =
            EventRef::from_entry(&json!({"id": 42, "resource_type": "teleport"})).unwrap();
        assert_eq!((numeric.id.as_str(), numeric.order_id), ("42", None));
    }

    mod hubrise_examples {
        use super::*;
        use crate::hubrise_examples as ex;

        fn parse(text: &str) -> serde_json::Value {
            serde_json::from_str(text).unwrap()
        }

        #[test]
        fn hubrise_s_event_examples_are_read_never_as_orders() {
            let listed = parse(ex::EVENT_LIST);
            let first = EventRef::from_entry(&listed[0]).unwrap();
            assert_eq!(
                first,
                EventRef {
                    id: "ks8f6".into(),
                    resource_type: "customer".into(),
                    order_id: None,
                }
            );
            for example in [
                ex::EVENT_GET,
                ex::EVENT_GET_LEGACY,
                ex::EVENT_ACTIVE_CUSTOMER_UPDATE,
            ] {
                let event = EventRef::from_entry(&parse(example)).unwrap();
                assert_eq!((event.id.as_str(), event.order_id), ("ks8f6", None));
            }
            // Before 2022-11: no `id`, and `resource_id` is the customer list's.
            assert_eq!(
                EventRef::from_entry(&parse(ex::EVENT_ACTIVE_LEGACY_RESOURCE_ID)),
                None
            );
        }

        #[test]
        fn hubrise_s_callback_examples_say_whether_orders_are_heard() {
            let set: Callback = serde_json::from_str(ex::CALLBACK_GET).unwrap();
            assert!(set.listens_to_orders());
            let none: Callback = serde_json::from_str(ex::CALLBACK_GET_NONE).unwrap();
            assert!(!none.listens_to_orders());
        }

        #[test]
        fn hubrise_s_location_catalog_and_customer_list_examples_parse() {
            for example in [ex::LOCATION_GET, ex::LOCATION_GET_OLDER] {
                let location: Location = serde_json::from_str(example).unwrap();
                assert_eq!(location.timezone_name(), Some("Europe/Paris"));
                let names = location.names();
                assert_eq!(names.location_name.as_deref(), Some("Paris"));
                assert_eq!(names.account_name.as_deref(), Some("Bella Pizza"));
            }
            let zone: Timezone = serde_json::from_str(ex::TIMEZONE).unwrap();
            assert_eq!(zone.name.as_deref(), Some("Europe/Paris"));
            let catalog: NamedResource = serde_json::from_str(ex::CATALOG_GET).unwrap();
            assert_eq!(
                (catalog.id.as_str(), catalog.name.as_deref()),
                ("87yu4", Some("Web"))
            );
            let list: NamedResource = serde_json::from_str(ex::CUSTOMER_LIST_GET).unwrap();
            assert_eq!(list.name.as_deref(), Some("Online customers"));
        }
    }
}
