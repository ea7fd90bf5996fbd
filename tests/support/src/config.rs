//! Passerelle's configuration against a sandbox, and its JSON form for a child process.

use std::path::Path;

use passerelle_core::{ApplyMode, PasserelleConfig, Settings};
use passerelle_sandbox::{Sandbox, Seed};

/// Poll interval of the sync engine against a sandbox: one second, allowed on loopback only
/// (30 s in production).
pub const POLL_INTERVAL_SECS: u32 = 1;

/// Where a sandbox answers and what it was seeded with: a [`Sandbox`] in this process, or the
/// description a `passerelle-sandbox serve` process printed.
pub trait SandboxEndpoints {
    fn seed(&self) -> &Seed;
    fn pos_url(&self) -> String;
    fn hubrise_oauth_url(&self) -> String;
    fn hubrise_api_url(&self) -> String;
}

impl SandboxEndpoints for Sandbox {
    fn seed(&self) -> &Seed {
        Sandbox::seed(self)
    }
    fn pos_url(&self) -> String {
        Sandbox::pos_url(self)
    }
    fn hubrise_oauth_url(&self) -> String {
        Sandbox::hubrise_oauth_url(self)
    }
    fn hubrise_api_url(&self) -> String {
        Sandbox::hubrise_api_url(self)
    }
}

/// A configuration pointing at `sandbox`, storing in `data_dir`: the seeded clients, the app's
/// redirect URI, restart-to-apply, and a poll interval of [`POLL_INTERVAL_SECS`].
pub fn config_for(sandbox: &impl SandboxEndpoints, data_dir: &Path) -> PasserelleConfig {
    let seed = sandbox.seed();
    let mut config = PasserelleConfig::new(
        data_dir.display().to_string(),
        sandbox.pos_url(),
        seed.client_id.clone(),
        passerelle_sandbox::seed::APP_REDIRECT_URI,
    );
    config.pos_client_id = seed.pos_client_id.clone();
    config.hubrise_oauth_url = sandbox.hubrise_oauth_url();
    config.hubrise_api_url = sandbox.hubrise_api_url();
    config.initial_settings = Settings {
        poll_interval_secs: POLL_INTERVAL_SECS,
        apply_mode: ApplyMode::OnRestart,
        scope: seed.scope.clone(),
    };
    config
}

/// The fields of a test configuration, as JSON, for a child process (rate limits and the token
/// exchange keep their defaults there).
pub fn config_to_json(config: &PasserelleConfig) -> serde_json::Value {
    serde_json::json!({
        "data_dir": config.data_dir,
        "pos_base_url": config.pos_base_url,
        "pos_client_id": config.pos_client_id,
        "hubrise_oauth_url": config.hubrise_oauth_url,
        "hubrise_api_url": config.hubrise_api_url,
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "poll_interval_secs": config.initial_settings.poll_interval_secs,
        "scope": config.initial_settings.scope,
    })
}

/// The configuration [`config_to_json`] wrote (other keys are ignored).
pub fn config_from_json(v: &serde_json::Value) -> Result<PasserelleConfig, String> {
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or(format!("missing {k}"))
    };
    let mut config = PasserelleConfig::new(
        text("data_dir")?,
        text("pos_base_url")?,
        text("client_id")?,
        text("redirect_uri")?,
    );
    config.pos_client_id = text("pos_client_id")?;
    config.hubrise_oauth_url = text("hubrise_oauth_url")?;
    config.hubrise_api_url = text("hubrise_api_url")?;
    config.initial_settings = Settings {
        poll_interval_secs: v["poll_interval_secs"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(POLL_INTERVAL_SECS),
        apply_mode: ApplyMode::OnRestart,
        scope: text("scope")?,
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_json_form_round_trips() {
        let mut config = PasserelleConfig::new(
            "/data",
            "http://127.0.0.1:1",
            "client",
            passerelle_sandbox::seed::APP_REDIRECT_URI,
        );
        config.pos_client_id = "pos".into();
        config.hubrise_oauth_url = "http://127.0.0.1:2/oauth2/v1".into();
        config.hubrise_api_url = "http://127.0.0.1:3/v1".into();
        config.initial_settings.poll_interval_secs = 30;
        config.initial_settings.scope = "location[orders.write]".into();
        let mut json = config_to_json(&config);
        json["secrets"] = serde_json::json!({ "extra": "ignored" });
        assert_eq!(config_from_json(&json).unwrap(), config);
        assert_eq!(
            config_from_json(&serde_json::json!({})).unwrap_err(),
            "missing data_dir"
        );
    }
}
