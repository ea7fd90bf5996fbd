//! The POS vendor's backend: the identity endpoint the iPad app signs in with, and the account's
//! HubRise configuration (broker, connections, web back office).

pub(crate) mod connections;
pub(crate) mod device_flows;
pub(crate) mod disconnect;
pub(crate) mod identity_provider;
pub(crate) mod model;
pub(crate) mod oauth;
mod proxy;
pub(crate) mod web_back_office;
mod web_back_office_pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Shared;

/// The listener in front of a POS backend served elsewhere (`SandboxOptions::pos_proxy_to`),
/// keeping the identity provider's routes when `keeps_identity`.
pub(crate) fn proxy_router(keeps_identity: bool) -> Router<Arc<Shared>> {
    let router = Router::new().fallback(proxy::forward);
    match keeps_identity {
        true => identity_routes(router),
        false => router,
    }
}

/// The identity provider's routes: the token endpoint, introspection and the JWKS.
fn identity_routes(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(identity_provider::introspect))
        .route(identity_provider::JWKS_PATH, get(identity_provider::jwks))
}

pub(crate) fn router() -> Router<Arc<Shared>> {
    identity_routes(Router::new())
        .route("/me", get(oauth::me))
        .route("/hubrise/broker/token", post(connections::broker_token))
        .route("/hubrise/configuration", get(connections::configuration))
        .route(
            "/hubrise/connections/{location_id}/revoke",
            post(connections::revoke_connection),
        )
        .route(
            "/hubrise/connections/{location_id}/token",
            get(connections::connection_token),
        )
        .route(
            "/hubrise/disconnect-callback",
            post(disconnect::disconnect_callback),
        )
        .route("/hubrise/connect", get(web_back_office::connect_url))
        .route("/hubrise/device-flows", post(device_flows::register))
        .route("/hubrise/device-flows/claim", post(device_flows::claim))
        .route("/hubrise/device-callback", get(device_flows::callback))
        .route("/hubrise/device-return", get(device_flows::device_return))
        .route("/", get(web_back_office::home))
        .route("/backoffice", get(web_back_office::home))
        .route(
            "/backoffice/sign-in",
            get(web_back_office::sign_in_page).post(web_back_office::sign_in),
        )
        .route("/backoffice/sign-out", post(web_back_office::sign_out))
        .route("/backoffice/hubrise", get(web_back_office::hubrise_page))
        .route(
            "/backoffice/hubrise/connect",
            post(web_back_office::start_connect),
        )
        .route(
            "/backoffice/hubrise/disconnect",
            get(web_back_office::confirm_disconnect).post(web_back_office::disconnect),
        )
}
