//! Starting and stopping the sandbox's three servers.

use crate::pos::identity_provider::PosAccessTokens;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::Admin;
use crate::exposure::{AdminAccess, Exposure};
use crate::network::CuttableListener;
use crate::rate_limit::RateLimits;
use crate::request_log::{Guard, ServerKind};
use crate::seed::Seed;
use crate::state::{Shared, Urls, World};
use crate::{admin_http, hubrise, pos, snapshot};

/// Whose own writes do not generate events for a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSuppression {
    /// The writing connection (token) gets no event; other devices of the same client do (a
    /// kinder reading than HubRise's, kept as a switch).
    Connection,
    /// No connection of the writing client gets an event (HubRise's wording: "a client does
    /// not receive notifications for the events it generated"; the client is the app, so two
    /// devices of one app never hear each other). The default.
    #[default]
    Client,
}

/// The body of the token endpoint's error answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenErrorBody {
    /// HubRise's error JSON (`{"error_type", "message"}`).
    #[default]
    Json,
    /// An HTML page (HubRise documents no body for these errors, only their status).
    Html,
    /// No body at all.
    Empty,
}

/// Which answers of an app's active callback URL acknowledge an event (HubRise then deletes it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CallbackAck {
    /// HubRise's documented rule: any status from 200 to 499 within the timeout. The stricter
    /// reading for an app: a 4xx it answers by mistake loses the event.
    #[default]
    #[serde(rename = "200-499")]
    Below500,
    /// Only a 200 (the reading of `shared/design/hubrise-api.md`).
    #[serde(rename = "200")]
    Only200,
}

/// How HubRise delivers events to active callbacks (a callback with a URL). HubRise's defaults:
/// sent at once, acknowledged by 200–499 within 20 s, otherwise retried 6 times after 1, 2, 4, 8,
/// 16 and 32 minutes, then deleted; meanwhile the event stays readable with `GET /callback/events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveCallbacks {
    pub ack: CallbackAck,
    /// HubRise's delivery delay before the first attempt.
    pub delay: Duration,
    /// How long an answer may take before the attempt counts as failed.
    pub timeout: Duration,
    /// The first wait before a retry; each next wait doubles (HubRise: 1 minute). Tests
    /// compress the schedule by shortening it.
    pub retry_unit: Duration,
    /// Retries after the first attempt before HubRise deletes the event.
    pub retries: u32,
}

impl Default for ActiveCallbacks {
    fn default() -> Self {
        ActiveCallbacks {
            ack: CallbackAck::Below500,
            delay: Duration::ZERO,
            timeout: Duration::from_secs(20),
            retry_unit: Duration::from_secs(60),
            retries: 6,
        }
    }
}

/// How a sandbox behaves. Every field has a documented default (`SandboxOptions::default()`).
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    pub limits: RateLimits,
    /// Send `Retry-After` with 429s (the Ruby client reads it; HubRise's docs don't mention it).
    pub retry_after_header: bool,
    /// Leave `token_type` out of token responses, as older HubRise samples do.
    pub omit_token_type: bool,
    /// Length of a rate-limit "minute" (hours and days scale with it); `None` = 60 s.
    pub window_scale: Option<Duration>,
    /// Lifetime of POS access tokens.
    pub pos_access_token_ttl: Duration,
    /// Consecutive wrong POS passwords before the email is locked.
    pub lockout_after: u32,
    /// How long a POS lockout lasts.
    pub lockout_for: Duration,
    /// JSON snapshot loaded at start and saved while running, so a restart keeps data.
    pub state_file: Option<PathBuf>,
    pub event_suppression: EventSuppression,
    /// Status for an unknown, used or expired code: 400 as documented, or 404 as the Ruby client
    /// expects.
    pub invalid_code_status: u16,
    /// Answer 429 instead of 401 for blocked or disconnected connections (older HubRise docs).
    pub legacy_blocked_status: bool,
    /// Also name an event's resource id `resource_id` (an older HubRise page).
    pub legacy_event_resource_id: bool,
    /// The POS backend registers the passive order callback as soon as it gets the token of a
    /// connection made off the device (decision 19). Off: nothing is queued at HubRise until a
    /// device registers it, so orders placed before the confirmation are lost without a catch-up.
    pub backend_registers_callback: bool,
    /// `Content-Type` of every token endpoint answer, success or error (`None`: JSON's). HubRise
    /// documents none; integrators parse the body whatever the header says.
    pub token_content_type: Option<String>,
    /// Body of the token endpoint's error answers (their status says what went wrong).
    pub token_error_body: TokenErrorBody,
    /// Refuse redirect URIs other than `https` ones and the out-of-band one at `/authorize`
    /// (HubRise documents only those; loopback `http` stays allowed for the sandbox's own pages).
    pub https_redirects_only: bool,
    /// Keep the offset of times a client sends (`confirmed_time`, `expected_time`) instead of
    /// converting them to the location's timezone, so a client's choice of offset shows.
    pub times_as_sent: bool,
    /// Serve whole orders in `GET /location/orders`. Off by default (the stricter reading, issue
    /// 27): HubRise's docs do not promise a list entry holds every field of the order, so an
    /// entry holds only what identifies it and a client must read the order on its own.
    pub order_lists_in_full: bool,
    /// A POS backend served elsewhere (passerelle-bridge): the seed's Connect URL, device
    /// callback and Disconnect callback URL name it instead of this sandbox's POS listener.
    pub pos_backend_url: Option<String>,
    /// The POS listener forwards every request to this POS backend (passerelle-bridge) instead
    /// of serving the fake: the seed names the listener, and its request log, injected faults
    /// and network cut apply to that backend's traffic (`pos::proxy`). The backend's public URL
    /// is then [`Sandbox::pos_url`].
    pub pos_proxy_to: Option<String>,
    /// With `pos_proxy_to`: the listener keeps serving the identity provider's routes itself
    /// (`/oauth/token`, `/oauth/introspect`, the JWKS) and forwards the rest, as a vendor's
    /// gateway sends sign-in to its identity provider and `/hubrise/…` to the bridge.
    pub pos_proxy_keeps_identity: bool,
    /// The format of the POS access tokens (opaque, or RFC 9068 JWTs the JWKS verifies).
    pub pos_access_tokens: PosAccessTokens,
    /// Delivery to active callbacks (see [`ActiveCallbacks`]).
    pub active_callbacks: ActiveCallbacks,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            limits: RateLimits::default(),
            retry_after_header: true,
            omit_token_type: false,
            window_scale: None,
            pos_access_token_ttl: Duration::from_secs(300),
            lockout_after: 5,
            lockout_for: Duration::from_secs(60),
            state_file: None,
            event_suppression: EventSuppression::Client,
            invalid_code_status: 400,
            legacy_blocked_status: false,
            legacy_event_resource_id: false,
            backend_registers_callback: true,
            token_content_type: None,
            token_error_body: TokenErrorBody::Json,
            https_redirects_only: false,
            times_as_sent: false,
            order_lists_in_full: false,
            pos_backend_url: None,
            pos_proxy_to: None,
            pos_proxy_keeps_identity: false,
            pos_access_tokens: PosAccessTokens::Opaque,
            active_callbacks: ActiveCallbacks::default(),
        }
    }
}

/// Errors of the sandbox's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("not found: {0}")]
    NotFound(String),
    /// HubRise refused the request; `body` is HubRise's error JSON.
    #[error("rejected with status {status}: {body}")]
    Rejected {
        status: u16,
        body: serde_json::Value,
    },
    #[error("invalid state file: {0}")]
    State(String),
}

/// Ports to listen on; 0 picks a free one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ports {
    pub manager: u16,
    pub api: u16,
    pub pos: u16,
}

/// A running sandbox. Dropping it stops the servers.
pub struct Sandbox {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    exposure: Exposure,
}

impl Sandbox {
    /// Starts the fake HubRise (OAuth server and API) and the POS backend on ephemeral
    /// 127.0.0.1 ports.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        Self::start_on(opts, Ports::default()).await
    }

    /// Starts on the given ports (0 = any free port), on 127.0.0.1.
    pub async fn start_on(opts: SandboxOptions, ports: Ports) -> Result<Sandbox, SandboxError> {
        Self::start_exposed(opts, ports, Exposure::default()).await
    }

    /// Starts on the given ports and address (see [`Exposure`]: beyond loopback, the admin API
    /// asks for a token, generated unless given).
    pub async fn start_exposed(
        opts: SandboxOptions,
        ports: Ports,
        exposure: Exposure,
    ) -> Result<Sandbox, SandboxError> {
        let exposure = exposure.prepared();
        let manager = bind(exposure.listen, ports.manager).await?;
        let api = bind(exposure.listen, ports.api).await?;
        let pos_listener = bind(exposure.listen, ports.pos).await?;
        let host = exposure.host();
        let urls = Urls {
            manager: base_url(&host, &manager)?,
            api: base_url(&host, &api)?,
            pos: base_url(&host, &pos_listener)?,
        };
        let access = AdminAccess::new(
            &exposure,
            manager.local_addr()?.port(),
            &[api.local_addr()?.port(), pos_listener.local_addr()?.port()],
        );
        let pos_backend = opts.pos_backend_url.as_deref().unwrap_or(&urls.pos);
        let mut seed = Seed::new(&urls.manager, pos_backend.trim_end_matches('/'));
        let mut world = World::new(&seed);
        if let Some(path) = &opts.state_file {
            snapshot::restore(path, &mut seed, &mut world)?;
        }
        let shared = Arc::new(Shared::new(urls, seed, world, opts));
        let (shutdown, _) = watch::channel(false);
        let routers = [
            (
                manager,
                ServerKind::Manager,
                hubrise::manager_router().merge(admin_http::router().layer(
                    axum::middleware::from_fn_with_state(access, crate::exposure::guard),
                )),
            ),
            (api, ServerKind::Api, hubrise::api_router()),
            (
                pos_listener,
                ServerKind::Pos,
                match shared.options() {
                    SandboxOptions {
                        pos_proxy_to: Some(_),
                        pos_proxy_keeps_identity,
                        ..
                    } => pos::proxy_router(pos_proxy_keeps_identity),
                    _ => pos::router(),
                },
            ),
        ];
        let mut tasks = Vec::new();
        for (listener, server, router) in routers {
            let app = guarded(router, &shared, server);
            let stop = shutdown.subscribe();
            // The manager keeps listening through a network cut: it serves the admin API.
            let task = if server == ServerKind::Manager {
                spawn_server(listener, app, stop)
            } else {
                let cuttable = CuttableListener::new(listener, &shared)?;
                spawn_server(cuttable, app, stop)
            };
            tasks.push(task);
        }
        tasks.push(hubrise::active_callbacks::spawn(
            shared.clone(),
            shutdown.subscribe(),
        ));
        if let Some(path) = shared.options().state_file {
            tasks.push(snapshot::spawn_saver(
                shared.clone(),
                path,
                shutdown.subscribe(),
            ));
        }
        Ok(Sandbox {
            shared,
            shutdown,
            tasks,
            exposure,
        })
    }

    /// HubRise's OAuth base, e.g. `http://127.0.0.1:PORT/oauth2/v1`.
    pub fn hubrise_oauth_url(&self) -> String {
        self.shared.urls.oauth()
    }
    /// HubRise's API base, e.g. `http://127.0.0.1:PORT2/v1`.
    pub fn hubrise_api_url(&self) -> String {
        self.shared.urls.api_v1()
    }
    /// The POS backend, e.g. `http://127.0.0.1:PORT3`.
    pub fn pos_url(&self) -> String {
        self.shared.urls.pos.clone()
    }
    /// The admin HTTP API, e.g. `http://127.0.0.1:PORT/_sandbox`.
    pub fn admin_url(&self) -> String {
        self.shared.urls.admin()
    }
    pub fn seed(&self) -> &Seed {
        &self.shared.seed
    }
    /// Where the servers listen, and the admin API's token when it asks for one.
    pub fn exposure(&self) -> &Exposure {
        &self.exposure
    }
    pub fn admin(&self) -> Admin {
        Admin::new(self.shared.clone())
    }

    /// Stops the servers and waits for them (and for a last state save) to finish.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("hubrise_oauth_url", &self.hubrise_oauth_url())
            .field("hubrise_api_url", &self.hubrise_api_url())
            .field("pos_url", &self.pos_url())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn bind(address: IpAddr, port: u16) -> Result<TcpListener, SandboxError> {
    Ok(TcpListener::bind((address, port)).await?)
}

fn base_url(host: &str, listener: &TcpListener) -> Result<String, SandboxError> {
    Ok(format!("http://{host}:{}", listener.local_addr()?.port()))
}

fn guarded(router: Router<Arc<Shared>>, shared: &Arc<Shared>, server: ServerKind) -> Router {
    let guard = Guard {
        shared: shared.clone(),
        server,
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            guard,
            crate::request_log::middleware,
        ))
        .with_state(shared.clone())
}

fn spawn_server(
    listener: impl axum::serve::Listener<Addr = std::net::SocketAddr>,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stop = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("sandbox server stopped: {e}");
        }
    })
}
