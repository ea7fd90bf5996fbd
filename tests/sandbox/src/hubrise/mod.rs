//! The fake HubRise: its OAuth server ("manager") and its API, on separate listeners as
//! HubRise's are on separate hosts.

pub(crate) mod active_callbacks;
pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod callbacks;
pub(crate) mod catalog_data;
pub(crate) mod consent_pages;
pub(crate) mod disconnect_notice;
pub(crate) mod model;
pub(crate) mod money;
pub(crate) mod oauth;
pub(crate) mod orders;
pub(crate) mod scope;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::errors::ApiError;
use crate::state::Shared;

/// Routes of `manager.hubrise.com` (the admin API is merged in separately).
pub(crate) fn manager_router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/oauth2/v1/authorize",
            get(oauth::authorize_get).post(oauth::authorize_post),
        )
        .route("/oauth2/v1/token", post(oauth::token))
        .route("/oauth2/v1/revoke", post(oauth::revoke))
}

/// Routes of `api.hubrise.com/v1`.
pub(crate) fn api_router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/location", get(api::get_location))
        .route("/v1/locations/{location_id}", get(api::get_location))
        .route("/v1/account", get(api::get_account))
        .route("/v1/accounts/{account_id}", get(api::get_account))
        .route("/v1/user", get(api::get_user))
        .route("/v1/location/catalogs", get(api::list_catalogs))
        .route(
            "/v1/locations/{location_id}/catalogs",
            get(api::list_catalogs),
        )
        .route("/v1/catalogs/{catalog_id}", get(api::get_catalog))
        .route("/v1/location/customer_lists", get(api::list_customer_lists))
        .route(
            "/v1/locations/{location_id}/customer_lists",
            get(api::list_customer_lists),
        )
        .route(
            "/v1/customer_lists/{customer_list_id}",
            get(api::get_customer_list),
        )
        .route(
            "/v1/customer_lists/{customer_list_id}/customers",
            get(api::list_customers),
        )
        .route(
            "/v1/location/orders",
            get(api::list_orders).post(api::create_order),
        )
        .route(
            "/v1/locations/{location_id}/orders",
            get(api::list_orders).post(api::create_order),
        )
        .route(
            "/v1/location/orders/{order_id}",
            get(api::get_order).patch(api::patch_order),
        )
        .route(
            "/v1/locations/{location_id}/orders/{order_id}",
            get(api::get_order).patch(api::patch_order),
        )
        .route(
            "/v1/callback",
            get(callbacks::get_callback)
                .post(callbacks::post_callback)
                .delete(callbacks::delete_callback),
        )
        .route("/v1/callback/events", get(callbacks::list_events))
        .route(
            "/v1/callback/events/{event_id}",
            get(callbacks::get_event).delete(callbacks::delete_event),
        )
        .fallback(routing_error)
        .method_not_allowed_fallback(routing_error)
        .layer(axum::middleware::map_response(allow_any_origin))
}

async fn routing_error() -> ApiError {
    ApiError::routing_error()
}

/// HubRise's API may be called from a browser, from any origin.
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response.into_response()
}
