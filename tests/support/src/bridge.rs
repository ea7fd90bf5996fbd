//! passerelle-bridge as the POS backend, the sandbox playing HubRise: the sandbox's seed names the
//! bridge as the app's Connect URL, device callback and Disconnect callback URL, and the bridge
//! knows the sandbox's POS accounts as its built-in (demo) accounts.

use passerelle_bridge::config::{DatabaseUrl, HubriseConfig, IdentityConfig};
use passerelle_bridge::crypto::Keyring;
use passerelle_bridge::identity::DemoAccount;
use passerelle_bridge::secret::Secret;
use passerelle_bridge::{Config, Running};
use passerelle_sandbox::{
    INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, Sandbox, SandboxOptions, Seed,
};

use crate::config::SandboxEndpoints;

/// A sandbox and a bridge in front of it.
pub struct Bridged {
    pub sandbox: Sandbox,
    pub bridge: Running,
    /// The bridge's base URL: the POS backend the core is configured with.
    pub pos_url: String,
}

/// The sandbox's endpoints with the bridge as the POS backend, for [`crate::config_for`].
impl SandboxEndpoints for Bridged {
    fn seed(&self) -> &Seed {
        self.sandbox.seed()
    }
    fn pos_url(&self) -> String {
        self.pos_url.clone()
    }
    fn hubrise_oauth_url(&self) -> String {
        self.sandbox.hubrise_oauth_url()
    }
    fn hubrise_api_url(&self) -> String {
        self.sandbox.hubrise_api_url()
    }
}

/// The bridge's configuration against `sandbox`, served at `url`.
pub fn bridge_config(sandbox: &Sandbox, url: &str, database: DatabaseUrl, keys: Keyring) -> Config {
    let seed = sandbox.seed();
    let accounts = seed
        .pos_accounts
        .iter()
        .map(|a| DemoAccount {
            account_id: a.account_id.clone(),
            email: a.email.clone(),
            password: Secret::new(a.password.clone()),
            business_name: a.business_name.clone(),
        })
        .collect();
    let hubrise = HubriseConfig {
        oauth_url: sandbox.hubrise_oauth_url(),
        api_url: sandbox.hubrise_api_url(),
        client_id: seed.client_id.clone(),
        client_secret: Secret::new(seed.client_secret.clone()),
        scope: seed.scope.clone(),
    };
    Config::local(url, hubrise, database, keys, accounts)
}

/// Starts the sandbox and a bridge on `database` in front of it (the bridge's port is taken
/// first, so the sandbox's seed can name it).
pub async fn start_bridged(
    options: SandboxOptions,
    database: DatabaseUrl,
    keys: Keyring,
) -> Result<Bridged, Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let pos_url = format!("http://{}", listener.local_addr()?);
    let options = SandboxOptions {
        pos_backend_url: Some(pos_url.clone()),
        ..options
    };
    let sandbox = Sandbox::start(options).await?;
    let config = bridge_config(&sandbox, &pos_url, database, keys);
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    Ok(Bridged {
        sandbox,
        bridge,
        pos_url,
    })
}

/// The sandbox and a bridge on `database` behind the sandbox's POS listener
/// (`SandboxOptions::pos_proxy_to`): the till, the browser and HubRise reach the bridge through
/// that listener, so the sandbox's request log, injected faults and network cut apply to the
/// bridge as they do to the sandbox's own fake. `pos_url` is the listener, the bridge's public
/// URL. `adjust` changes the bridge's configuration before it starts.
pub async fn start_behind_the_sandbox(
    options: SandboxOptions,
    database: DatabaseUrl,
    keys: Keyring,
    adjust: impl FnOnce(&mut Config),
) -> Result<Bridged, Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let options = SandboxOptions {
        pos_backend_url: None,
        pos_proxy_to: Some(format!("http://{}", listener.local_addr()?)),
        ..options
    };
    let sandbox = Sandbox::start(options).await?;
    let pos_url = sandbox.pos_url();
    let mut config = bridge_config(&sandbox, &pos_url, database, keys);
    adjust(&mut config);
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    Ok(Bridged {
        sandbox,
        bridge,
        pos_url,
    })
}

/// The sandbox's gateway as the vendor's identity provider, for a bridge behind it
/// ([`start_behind_the_sandbox`]): tokens checked by RFC 7662 introspection there, the back
/// office's passwords taken to its token endpoint.
pub fn checked_at_the_sandbox(config: &mut Config) {
    let provider = config.public_url.clone();
    config.identity = IdentityConfig::Introspection {
        url: format!("{provider}/oauth/introspect"),
        client_id: INTROSPECTION_CLIENT_ID.into(),
        client_secret: Secret::new(INTROSPECTION_CLIENT_SECRET),
        cache: std::time::Duration::from_secs(60),
    };
    config.identity_token_url = Some(format!("{provider}/oauth/token"));
}
