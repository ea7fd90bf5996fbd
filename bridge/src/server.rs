//! Starting and stopping the bridge: open and migrate the database, build the identity, serve
//! until asked to stop, then finish the requests in flight.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, DatabaseUrl, IdentityConfig};
use crate::db::{self, Database, DbError};
use crate::http::{App, router};
use crate::hubrise::Hubrise;
use crate::identity::jwt::JwtAccessTokens;
use crate::identity::{BuiltIn, Identity, Introspection, PasswordGrant};
use crate::metrics::Metrics;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("push notifications: {0}")]
    Push(String),
}

/// Opens the configured database (SQLite's folder is created).
pub fn open_database(database: &DatabaseUrl) -> Result<Arc<dyn Database>, DbError> {
    match database {
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbError::Unavailable(format!("{}: {e}", dir.display())))?;
            }
            Ok(Arc::new(db::sqlite::Sqlite::open(path)?))
        }
        DatabaseUrl::Postgres(url) => Ok(Arc::new(db::postgres::Postgres::new(url)?)),
    }
}

/// The HTTP client for HubRise and the identity provider: rustls with ring (the platform's
/// certificate roots), no redirects followed (the oauth2 crate's advice against SSRF), bounded
/// time.
pub fn http_client() -> Result<reqwest::Client, StartError> {
    // reqwest is built without a default provider; ring is the workspace's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_backend_rustls()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .connect_timeout(std::time::Duration::from_secs(5))
        .user_agent(concat!("passerelle-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartError::Http(e.without_url().to_string()))
}

/// Everything the routes share, migrated and ready.
pub async fn build(config: Config) -> Result<Arc<App>, StartError> {
    let database = open_database(&config.database)?;
    let version = db::migrate(database.as_ref()).await?;
    tracing::info!(
        database = database.kind(),
        schema_version = version,
        "database ready"
    );
    let store = Store::new(database.clone(), config.keys.clone());
    let events = crate::events::Events::new(database.clone(), config.keys.clone());
    let sender: Option<Arc<dyn crate::push::PushSender>> = match &config.apns {
        Some(apns) => Some(Arc::new(
            crate::push::apns::ApnsSender::new(apns.clone()).map_err(StartError::Push)?,
        )),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let push = Arc::new(crate::push::Push::new(
        database,
        sender,
        config.push_interval,
        metrics.clone(),
    ));
    let http = http_client()?;
    let identity: Arc<dyn Identity> = match &config.identity {
        IdentityConfig::BuiltIn { accounts } => Arc::new(BuiltIn::new(
            accounts.clone(),
            store.clone(),
            config.access_token_ttl,
        )),
        IdentityConfig::Introspection {
            url,
            client_id,
            client_secret,
            cache,
        } => Arc::new(Introspection::new(
            url.clone(),
            client_id.clone(),
            client_secret.clone(),
            *cache,
            http.clone(),
        )),
        IdentityConfig::Jwt(settings) => {
            Arc::new(JwtAccessTokens::new(settings.clone(), http.clone()))
        }
    };
    let password_grant = config.identity_token_url.clone().map(|url| {
        Arc::new(PasswordGrant::new(
            url,
            config.pos_client_id.clone(),
            http.clone(),
        ))
    });
    let hubrise = Hubrise::new(
        config.hubrise.clone(),
        config
            .active_callback
            .then(|| crate::http::callback_url(&config.public_url)),
        http,
        metrics.clone(),
    );
    Ok(Arc::new(App {
        metrics,
        config,
        store,
        events,
        push,
        hub: Arc::new(crate::events::Hub::default()),
        stopping: watch::Sender::new(false),
        identity,
        callbacks_checked: std::sync::Mutex::default(),
        password_grant,
        hubrise,
    }))
}

/// A running bridge: its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    app: Arc<App>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets the requests in flight finish, and waits.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    }

    /// Waits until the server ends (after [`Running::stop`] from elsewhere or a signal).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    }

    /// What the routes share: its store, for a host that shows what the bridge keeps (the
    /// walkthrough shows the configuration it recorded).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// A sender that stops the server when `true` is sent.
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }
}

/// Listens on `config.listen` (port 0: any free one) and serves.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let addr = config.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    start_on(listener, config).await
}

/// Serves on a listener already bound (its address can go into the configuration first: the
/// public URL, HubRise's redirect URIs).
pub async fn start_on(listener: TcpListener, config: Config) -> Result<Running, StartError> {
    let addr = config.listen;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    let app = build(config).await?;
    let (stop, mut stopped) = watch::channel(false);
    spawn_purge(app.clone(), stop.subscribe());
    crate::events::hub::follow(app.hub.clone(), app.store.database(), stop.subscribe());
    let service = router(app.clone());
    let stopping = app.stopping.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
                stopping.send_replace(true);
            })
            .await
    });
    tracing::info!(%addr, "passerelle-bridge listening");
    Ok(Running {
        addr,
        app,
        stop,
        task,
    })
}

/// How often expired POS tokens, web sessions and device flows are deleted (and the events
/// every till has, or past their retention).
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes what expired, every [`PURGE_EVERY`], until the server stops (every replica does it;
/// the deletes are idempotent).
fn spawn_purge(app: Arc<App>, mut stopped: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PURGE_EVERY) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            if let Err(e) = app.store.purge_expired(crate::http::FLOW_LIFETIME_MS).await {
                tracing::warn!(error = %e, "purge failed; tried again later");
            }
            match app.events.prune(app.config.event_retention).await {
                Ok(n) if n > 0 => {
                    tracing::info!(deleted = n, "events every till has, or too old, deleted")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "event pruning failed; tried again later"),
            }
            if let Err(e) = app.push.prune().await {
                tracing::warn!(error = %e, "stream leases not pruned; tried again later");
            }
        }
    });
}
