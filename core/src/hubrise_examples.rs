//! HubRise's own published examples, as fixtures the parsers are checked against (issue 15).
//!
//! Each file under `core/tests/fixtures/hubrise/` is the JSON of one example of HubRise's API
//! reference, copied verbatim from the Markdown source of `https://www.hubrise.com/developers/api/*`
//! (repository `HubRise/website`, `content/developers/api/en/*.md`; older versions from its
//! history where named). Where HubRise's example is elided (`...` lines, `[...]`, `//` comments),
//! the file is that text with only those removed so that it parses: nothing else changed. The
//! fixtures' README lists them too.

/// Orders page, "1.2 Retrieve Order", response of `GET /locations/3r4s3-1/orders/5dpm9`:
/// <https://www.hubrise.com/developers/api/orders> (complete).
pub const ORDER_GET: &str = include_str!("../tests/fixtures/hubrise/order_get.json");
/// Orders page, "1.3 List Orders", `GET /locations/3r4s3-1/orders?customer_id=wbq93` (elided).
pub const ORDER_LIST: &str = include_str!("../tests/fixtures/hubrise/order_list.json");
/// Orders page, "4. Order Items", example (complete).
pub const ORDER_ITEM: &str = include_str!("../tests/fixtures/hubrise/order_item.json");
/// Orders page, "5. Order Items in a Deal", example (complete).
pub const ORDER_ITEM_IN_DEAL: &str =
    include_str!("../tests/fixtures/hubrise/order_item_in_deal.json");
/// Orders page, "6. Order Options", example (complete).
pub const ORDER_OPTION: &str = include_str!("../tests/fixtures/hubrise/order_option.json");
/// Orders page, "7. Order Deal Map", example (complete).
pub const ORDER_DEALS: &str = include_str!("../tests/fixtures/hubrise/order_deals.json");
/// Orders page, "8. Order Discounts", example (complete).
pub const ORDER_DISCOUNTS: &str = include_str!("../tests/fixtures/hubrise/order_discounts.json");
/// Orders page, "9. Order Charges", example (complete).
pub const ORDER_CHARGES: &str = include_str!("../tests/fixtures/hubrise/order_charges.json");
/// Orders page, "10. Order Payments", example (complete).
pub const ORDER_PAYMENTS: &str = include_str!("../tests/fixtures/hubrise/order_payments.json");
/// Orders page, "1.4 Update Order › Delete elements", response (elided).
pub const ORDER_DELETE_ITEM_RESPONSE: &str =
    include_str!("../tests/fixtures/hubrise/order_delete_item_response.json");
/// Orders page, "1.4 Update Order › Add elements", response (elided).
pub const ORDER_ADD_PAYMENTS_RESPONSE: &str =
    include_str!("../tests/fixtures/hubrise/order_add_payments_response.json");
/// The 2019 orders page (`src/content/api/en/order_management.md`, HubRise commit 0ebffbf4),
/// "Create order", example request: quantities as JSON numbers (complete).
pub const ORDER_CREATE_REQUEST_2019: &str =
    include_str!("../tests/fixtures/hubrise/order_create_request_legacy_2019.json");
/// The 2019 orders page, "Retrieve order", example (elided).
pub const ORDER_GET_2019: &str =
    include_str!("../tests/fixtures/hubrise/order_get_legacy_2019.json");

/// Authentication page, "3.2 Get an Access Token", example of response:
/// <https://www.hubrise.com/developers/api/authentication> (complete).
pub const TOKEN_SUCCESS: &str = include_str!("../tests/fixtures/hubrise/token_success.json");
/// The same section in an older version of the authentication page: no `token_type`.
pub const TOKEN_SUCCESS_NO_TOKEN_TYPE: &str =
    include_str!("../tests/fixtures/hubrise/token_success_older_no_token_type.json");
/// The 2019 authentication page (`src/content/developers/en/authentication.md`), "Get an access
/// token": ids only, no names.
pub const TOKEN_SUCCESS_2019: &str =
    include_str!("../tests/fixtures/hubrise/token_success_legacy_2019.json");

/// Authentication page, "6. Token Invalidity" (the same JSON is in General Concepts, "7.
/// Errors", "an error message for 401 errors"): <https://www.hubrise.com/developers/api/general-concepts>.
pub const ERROR_401_BLOCKED: &str =
    include_str!("../tests/fixtures/hubrise/error_401_connection_blocked.json");
/// General Concepts page, "7. Errors", a field breakdown for 422 errors (elided).
pub const ERROR_422: &str = include_str!("../tests/fixtures/hubrise/error_422.json");
/// General Concepts page, "7. Errors", "an error response looks like this" (complete).
pub const ERROR_ROUTING: &str = include_str!("../tests/fixtures/hubrise/error_routing_error.json");

/// Callbacks page, "2.2 List Events", `GET /callback/events`:
/// <https://www.hubrise.com/developers/api/callbacks> (elided).
pub const EVENT_LIST: &str = include_str!("../tests/fixtures/hubrise/callback_event_list.json");
/// Callbacks page, "2.1 Retrieve Event", `GET /callback/events/ks8f6` (elided).
pub const EVENT_GET: &str = include_str!("../tests/fixtures/hubrise/callback_event_get.json");
/// The callbacks page before HubRise's 2022-11 change of the event representation, "2.1
/// Retrieve Event" (elided).
pub const EVENT_GET_LEGACY: &str =
    include_str!("../tests/fixtures/hubrise/callback_event_get_legacy.json");
/// Callbacks page, "Active Callbacks", example of a customer update event (the body only,
/// elided; the published block also holds the request line and two headers).
pub const EVENT_ACTIVE_CUSTOMER_UPDATE: &str =
    include_str!("../tests/fixtures/hubrise/callback_active_customer_update.json");
/// The callbacks page before 2022-11: the same event with `resource_id` and no `id` (elided).
pub const EVENT_ACTIVE_LEGACY_RESOURCE_ID: &str = include_str!(
    "../tests/fixtures/hubrise/callback_active_customer_update_legacy_resource_id.json"
);
/// Callbacks page, "1.1 Retrieve Callback" (complete).
pub const CALLBACK_GET: &str = include_str!("../tests/fixtures/hubrise/callback_get.json");
/// Callbacks page, "1.1 Retrieve Callback", "if no callback has been set" (complete).
pub const CALLBACK_GET_NONE: &str =
    include_str!("../tests/fixtures/hubrise/callback_get_none.json");

/// Accounts page, "1.1 Retrieve Location": <https://www.hubrise.com/developers/api/accounts>
/// (published with a `//` comment, removed here).
pub const LOCATION_GET: &str = include_str!("../tests/fixtures/hubrise/location_get.json");
/// The same section in the 2023 version of the accounts page (complete).
pub const LOCATION_GET_OLDER: &str =
    include_str!("../tests/fixtures/hubrise/location_get_older.json");
/// General Concepts page, "5. Timezones" (complete; `offset` is deprecated).
pub const TIMEZONE: &str = include_str!("../tests/fixtures/hubrise/timezone.json");
/// Catalogs page, "1.1 Retrieve Catalog", `GET /catalogs/87yu4`:
/// <https://www.hubrise.com/developers/api/catalogs> (elided: `[...]` became `[]`).
pub const CATALOG_GET: &str = include_str!("../tests/fixtures/hubrise/catalog_get.json");
/// Customers page, "1.1 Retrieve Customer List", `GET /customer_lists/ag8u4`:
/// <https://www.hubrise.com/developers/api/customers> (complete).
pub const CUSTOMER_LIST_GET: &str =
    include_str!("../tests/fixtures/hubrise/customer_list_get.json");
