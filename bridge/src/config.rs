//! Configuration from a TOML file plus the environment (12-factor): every key can be set as
//! `PASSERELLE_BRIDGE_<KEY>` (upper case), which wins over the file. A missing or wrong value
//! is refused at start with an error naming the key; values of secrets never appear in errors.

use crate::identity::DemoAccount;
use crate::identity::jwt::{JwtSettings, MAX_CLOCK_SKEW, REFETCH_AT_MOST_EVERY};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::crypto::{Key, Keyring};
use crate::secret::Secret;

/// Where the environment variables start.
pub const ENV_PREFIX: &str = "PASSERELLE_BRIDGE_";
/// HubRise's hosts (configurable, so the sandbox can play HubRise).
const HUBRISE_OAUTH_URL: &str = "https://manager.hubrise.com/oauth2/v1";
const HUBRISE_API_URL: &str = "https://api.hubrise.com/v1";
const DEFAULT_SCOPE: &str = "location[orders.write,customer_list.write,catalog.read]";
/// The till's public OAuth client id at the built-in identity (the core's default).
const DEFAULT_POS_CLIENT_ID: &str = "passerelle-ios";
/// How long events wait for a till that has not received them (issue 24: 7 days).
const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The key file `--data-dir` creates when no key is given (embedded default only).
pub const KEY_FILE: &str = "encryption.key";

/// Every scalar key, with its meaning (also the `--help` text's list).
pub const KEYS: &[(&str, &str)] = &[
    ("listen", "address to listen on (default 127.0.0.1:8490)"),
    (
        "public_url",
        "the bridge's public base URL, as HubRise and browsers reach it",
    ),
    (
        "hubrise_oauth_url",
        "HubRise's OAuth base (default https://manager.hubrise.com/oauth2/v1)",
    ),
    (
        "hubrise_api_url",
        "HubRise's API base (default https://api.hubrise.com/v1)",
    ),
    ("hubrise_client_id", "the HubRise app's client id"),
    ("hubrise_client_secret", "the HubRise app's client secret"),
    ("hubrise_scope", "the scope the back office asks for"),
    (
        "database_url",
        "sqlite:PATH or postgres://USER@HOST:PORT/DB",
    ),
    (
        "encryption_key",
        "base64 of 32 random bytes: encrypts HubRise tokens at rest",
    ),
    (
        "old_encryption_keys",
        "comma-separated earlier keys, still read during a rotation",
    ),
    (
        "identity",
        "built-in (demo accounts of the file), introspection (RFC 7662) or jwt (RFC 9068)",
    ),
    (
        "introspection_url",
        "the identity provider's RFC 7662 endpoint",
    ),
    (
        "identity_token_url",
        "the identity provider's OAuth token endpoint, where the back office signs people in with the password grant (introspection or jwt identity; without it the back office cannot sign anyone in)",
    ),
    (
        "introspection_client_id",
        "the bridge's client id at the identity provider",
    ),
    (
        "introspection_client_secret",
        "the bridge's client secret at the identity provider",
    ),
    (
        "introspection_cache_secs",
        "how long an introspection answer is reused (default 60)",
    ),
    (
        "jwt_issuer",
        "the iss of the identity provider's JWT access tokens",
    ),
    (
        "jwt_audience",
        "the aud the identity provider gives the bridge in its JWT access tokens",
    ),
    (
        "jwt_jwks_url",
        "the identity provider's JWKS (its signing keys)",
    ),
    (
        "jwt_jwks_cache_secs",
        "how long the JWKS keys are reused before being read again (default 3600)",
    ),
    (
        "jwt_clock_skew_secs",
        "how far the identity provider's clock may be from ours (default 30, at most 300)",
    ),
    (
        "pos_client_id",
        "the till's OAuth client id at the built-in identity (default passerelle-ios)",
    ),
    (
        "access_token_ttl_secs",
        "lifetime of the built-in identity's access tokens (default 300)",
    ),
    ("log_format", "text (default) or json"),
    (
        "active_callback",
        "true: HubRise's events come to the bridge and are pushed to the tills (default false \
         until the tills consume the push stream: an event the bridge acknowledges leaves the \
         queue tills poll)",
    ),
    (
        "event_retention_days",
        "how long HubRise's events are kept for a till that has not received them (default 7)",
    ),
    (
        "apns_key_file",
        "the APNs signing key (.p8) waking tills in the background; without the apns_ keys, off",
    ),
    ("apns_key_id", "the .p8 key's 10-character id"),
    ("apns_team_id", "the Apple developer team's 10-character id"),
    ("apns_topic", "the iPad app's bundle id"),
    (
        "apns_url",
        "APNs's host (default https://api.push.apple.com; https://api.sandbox.push.apple.com for development builds)",
    ),
    (
        "push_interval_secs",
        "at most one notification per till within this many seconds (default 10)",
    ),
];

/// A value that could not be used; `key` names it as the file and the environment spell it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {key} ({env}): {problem}")]
pub struct ConfigError {
    pub key: String,
    pub env: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            env: env_name(key),
            problem: problem.into(),
        }
    }
}

fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// HubRise's side.
#[derive(Clone, Debug)]
pub struct HubriseConfig {
    pub oauth_url: String,
    pub api_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
}

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// The URL may carry a password: kept secret.
    Postgres(Secret),
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Who checks the POS access tokens of tills and browsers.
#[derive(Clone, Debug)]
pub enum IdentityConfig {
    /// The bridge issues and checks tokens itself, for these accounts.
    BuiltIn { accounts: Vec<DemoAccount> },
    /// The vendor's identity provider answers RFC 7662 introspection.
    Introspection {
        url: String,
        client_id: String,
        client_secret: Secret,
        cache: Duration,
    },
    /// The vendor's identity provider issues RFC 9068 JWT access tokens; its JWKS verifies them.
    Jwt(JwtSettings),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: String,
    pub hubrise: HubriseConfig,
    pub database: DatabaseUrl,
    pub keys: Keyring,
    pub identity: IdentityConfig,
    /// The provider's token endpoint for the back office's sign-in (`None` with the built-in
    /// identity, which checks passwords itself).
    pub identity_token_url: Option<String>,
    pub pos_client_id: String,
    pub access_token_ttl: Duration,
    pub log_json: bool,
    /// How long an event waits for a till that has not received it.
    pub event_retention: Duration,
    /// The bridge registers its active callback and takes HubRise's events (issue 24).
    pub active_callback: bool,
    /// Background notifications to tills not streaming (issue 24, part 5); `None`: off.
    pub apns: Option<crate::push::apns::ApnsConfig>,
    /// At most one notification per till within this.
    pub push_interval: Duration,
}

impl Config {
    /// A bridge on this machine with the built-in identity's `accounts` (the sandbox, the
    /// walkthrough, tests): listens on any free loopback port unless started on a listener,
    /// other values their defaults.
    pub fn local(
        public_url: &str,
        hubrise: HubriseConfig,
        database: DatabaseUrl,
        keys: Keyring,
        accounts: Vec<DemoAccount>,
    ) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: public_url.trim_end_matches('/').to_owned(),
            hubrise,
            database,
            keys,
            identity: IdentityConfig::BuiltIn { accounts },
            identity_token_url: None,
            pos_client_id: DEFAULT_POS_CLIENT_ID.to_owned(),
            access_token_ttl: Duration::from_secs(300),
            log_json: false,
            event_retention: DEFAULT_EVENT_RETENTION,
            active_callback: false,
            apns: None,
            push_interval: crate::push::DEFAULT_INTERVAL,
        }
    }

    /// Whether cookies get `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Where values come from: the environment (a closure, so tests pass their own), the file's
/// table, and `--data-dir`.
pub struct Sources<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub file: Option<&'a Path>,
    pub data_dir: Option<&'a Path>,
}

impl Sources<'_> {
    /// Loads and checks everything.
    pub fn load(&self) -> Result<Config, ConfigError> {
        let table = match self.file {
            Some(path) => read_file(path)?,
            None => toml::Table::new(),
        };
        let values = Values {
            env: self.env,
            table: &table,
        };
        values.check_file_keys()?;
        let listen: SocketAddr = values.parse("listen", Some("127.0.0.1:8490"))?;
        // The embedded default on this machine needs no public URL: it is where it listens.
        let local = self.data_dir.map(|_| format!("http://{listen}"));
        let public_url = values.url("public_url", local.as_deref())?;
        Ok(Config {
            listen,
            hubrise: HubriseConfig {
                oauth_url: values.url("hubrise_oauth_url", Some(HUBRISE_OAUTH_URL))?,
                api_url: values.url("hubrise_api_url", Some(HUBRISE_API_URL))?,
                client_id: values.required("hubrise_client_id")?,
                client_secret: Secret::new(values.required("hubrise_client_secret")?),
                scope: values.or("hubrise_scope", DEFAULT_SCOPE),
            },
            database: database(&values, self.data_dir)?,
            keys: keyring(&values, self.data_dir)?,
            identity: identity(&values, &table)?,
            identity_token_url: identity_token_url(&values)?,
            pos_client_id: values.or("pos_client_id", DEFAULT_POS_CLIENT_ID),
            access_token_ttl: Duration::from_secs(
                values.parse("access_token_ttl_secs", Some("300"))?,
            ),
            log_json: match values.or("log_format", "text").as_str() {
                "text" => false,
                "json" => true,
                _ => return Err(ConfigError::new("log_format", "must be text or json")),
            },
            active_callback: values.parse("active_callback", Some("false"))?,
            event_retention: Duration::from_secs(
                values
                    .parse::<u64>("event_retention_days", Some("7"))?
                    .saturating_mul(24 * 3600),
            ),
            apns: apns(&values)?,
            push_interval: Duration::from_secs(values.parse("push_interval_secs", Some("10"))?),
            public_url,
        })
    }
}

/// APNs when its keys are given (all four, or none: off).
fn apns(values: &Values<'_>) -> Result<Option<crate::push::apns::ApnsConfig>, ConfigError> {
    let keys = ["apns_key_file", "apns_key_id", "apns_team_id", "apns_topic"];
    if keys.iter().all(|k| values.get(k).is_none()) {
        return Ok(None);
    }
    let path = values.required("apns_key_file")?;
    let key_pem = Secret::new(
        std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::new("apns_key_file", format!("{path}: {e}")))?,
    );
    crate::push::apns::signing_key(&key_pem)
        .map_err(|problem| ConfigError::new("apns_key_file", format!("{path}: {problem}")))?;
    Ok(Some(crate::push::apns::ApnsConfig {
        url: values.url("apns_url", Some(crate::push::apns::PRODUCTION_URL))?,
        topic: values.required("apns_topic")?,
        team_id: values.required("apns_team_id")?,
        key_id: values.required("apns_key_id")?,
        key_pem,
    }))
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("--config", format!("{}: {e}", path.display())))?;
    text.parse::<toml::Table>().map_err(|e| {
        // The parser's message quotes the line, which may hold a secret: give its place only.
        let at = e
            .span()
            .map(|s| format!(" at byte {}", s.start))
            .unwrap_or_default();
        ConfigError::new(
            "--config",
            format!("{}: not valid TOML{at}", path.display()),
        )
    })
}

struct Values<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    table: &'a toml::Table,
}

impl Values<'_> {
    /// A file key that is not one of ours is a typo: refused rather than ignored.
    fn check_file_keys(&self) -> Result<(), ConfigError> {
        for key in self.table.keys() {
            if key != "accounts" && !KEYS.iter().any(|(k, _)| k == key) {
                return Err(ConfigError::new(
                    key,
                    "unknown key in the configuration file",
                ));
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<String> {
        if let Some(value) = (self.env)(&env_name(key)) {
            return Some(value);
        }
        match self.table.get(key)? {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            // Tables, arrays and dates are no scalar key's value: read as a wrong value.
            _ => Some("(not a string or number)".to_owned()),
        }
        .filter(|v| !v.trim().is_empty())
    }

    fn or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_owned())
    }

    fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::new(key, "missing"))
    }

    fn parse<T: std::str::FromStr>(
        &self,
        key: &str,
        default: Option<&str>,
    ) -> Result<T, ConfigError> {
        let text = match (self.get(key), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_owned(),
            (None, None) => return Err(ConfigError::new(key, "missing")),
        };
        text.trim()
            .parse()
            .map_err(|_| ConfigError::new(key, format!("cannot read '{text}'")))
    }

    /// An http(s) URL without a trailing slash.
    fn url(&self, key: &str, default: Option<&str>) -> Result<String, ConfigError> {
        let text = match (self.get(key), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_owned(),
            (None, None) => return Err(ConfigError::new(key, "missing")),
        };
        let parsed = url::Url::parse(text.trim())
            .map_err(|e| ConfigError::new(key, format!("not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ConfigError::new(key, "must be an http or https URL"));
        }
        Ok(text.trim().trim_end_matches('/').to_owned())
    }
}

fn database(values: &Values<'_>, data_dir: Option<&Path>) -> Result<DatabaseUrl, ConfigError> {
    let key = "database_url";
    let Some(text) = values.get(key) else {
        return match data_dir {
            Some(dir) => Ok(DatabaseUrl::Sqlite(dir.join("bridge.sqlite3"))),
            None => Err(ConfigError::new(key, "missing (or give --data-dir DIR)")),
        };
    };
    if let Some(path) = text.strip_prefix("sqlite:") {
        let path = path.trim_start_matches("//");
        if path.is_empty() {
            return Err(ConfigError::new(key, "sqlite: needs a file path"));
        }
        return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        // Checked here so a typo stops the start, not the first request.
        text.parse::<tokio_postgres::Config>()
            .map_err(|_| ConfigError::new(key, "not a valid postgres:// URL"))?;
        return Ok(DatabaseUrl::Postgres(Secret::new(text)));
    }
    Err(ConfigError::new(
        key,
        "must start with sqlite: or postgres://",
    ))
}

fn keyring(values: &Values<'_>, data_dir: Option<&Path>) -> Result<Keyring, ConfigError> {
    let current = match (values.get("encryption_key"), data_dir) {
        (Some(text), _) => Key::from_base64(&text)
            .map_err(|problem| ConfigError::new("encryption_key", problem))?,
        (None, Some(dir)) => data_dir_key(dir)?,
        (None, None) => {
            return Err(ConfigError::new(
                "encryption_key",
                "missing (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)",
            ));
        }
    };
    let mut old = Vec::new();
    for text in values
        .get("old_encryption_keys")
        .unwrap_or_default()
        .split(',')
    {
        if !text.trim().is_empty() {
            old.push(
                Key::from_base64(text)
                    .map_err(|problem| ConfigError::new("old_encryption_keys", problem))?,
            );
        }
    }
    Ok(Keyring::new(current, old))
}

/// The embedded default keeps its key beside its database (created once, readable by its owner
/// only): a demo needs nothing set, and production gives `encryption_key` from its secrets.
fn data_dir_key(dir: &Path) -> Result<Key, ConfigError> {
    let path = dir.join(KEY_FILE);
    let problem =
        |e: std::io::Error| ConfigError::new("encryption_key", format!("{}: {e}", path.display()));
    if !path.exists() {
        std::fs::create_dir_all(dir).map_err(problem)?;
        write_private(&path, &Key::generate().to_base64()).map_err(problem)?;
    }
    let text = std::fs::read_to_string(&path).map_err(problem)?;
    Key::from_base64(&text)
        .map_err(|p| ConfigError::new("encryption_key", format!("{}: {p}", path.display())))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn identity(values: &Values<'_>, table: &toml::Table) -> Result<IdentityConfig, ConfigError> {
    match values.or("identity", "built-in").as_str() {
        "built-in" => Ok(IdentityConfig::BuiltIn {
            accounts: demo_accounts(table)?,
        }),
        "introspection" => Ok(IdentityConfig::Introspection {
            url: values.url("introspection_url", None)?,
            client_id: values.required("introspection_client_id")?,
            client_secret: Secret::new(values.required("introspection_client_secret")?),
            cache: Duration::from_secs(values.parse("introspection_cache_secs", Some("60"))?),
        }),
        "jwt" => {
            let clock_skew: u64 = values.parse("jwt_clock_skew_secs", Some("30"))?;
            if clock_skew > MAX_CLOCK_SKEW.as_secs() {
                return Err(ConfigError::new(
                    "jwt_clock_skew_secs",
                    format!("at most {} seconds", MAX_CLOCK_SKEW.as_secs()),
                ));
            }
            Ok(IdentityConfig::Jwt(JwtSettings {
                issuer: values.required("jwt_issuer")?,
                audience: values.required("jwt_audience")?,
                jwks_url: values.url("jwt_jwks_url", None)?,
                cache_for: Duration::from_secs(values.parse("jwt_jwks_cache_secs", Some("3600"))?),
                clock_skew: Duration::from_secs(clock_skew),
                refetch_at_most_every: REFETCH_AT_MOST_EVERY,
            }))
        }
        _ => Err(ConfigError::new(
            "identity",
            "must be built-in, introspection or jwt",
        )),
    }
}

/// The provider's token endpoint, only beside an external identity.
fn identity_token_url(values: &Values<'_>) -> Result<Option<String>, ConfigError> {
    if values.get("identity_token_url").is_none() {
        return Ok(None);
    }
    if values.or("identity", "built-in") == "built-in" {
        return Err(ConfigError::new(
            "identity_token_url",
            "only with identity = introspection or jwt (the built-in identity checks passwords itself)",
        ));
    }
    values.url("identity_token_url", None).map(Some)
}

/// `[[accounts]]` tables of the file: `account_id`, `email`, `password`, `business_name`.
fn demo_accounts(table: &toml::Table) -> Result<Vec<DemoAccount>, ConfigError> {
    let Some(value) = table.get("accounts") else {
        return Ok(Vec::new());
    };
    let accounts: Vec<DemoAccount> = value.clone().try_into().map_err(|_| {
        ConfigError::new(
            "accounts",
            "each needs account_id, email, password, business_name",
        )
    })?;
    let mut seen = BTreeMap::new();
    for a in &accounts {
        if seen.insert(a.email.to_ascii_lowercase(), ()).is_some() {
            return Err(ConfigError::new(
                "accounts",
                format!("{} appears twice", a.email),
            ));
        }
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        Key::generate().to_base64()
    }

    fn env_of(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn minimal() -> Vec<(&'static str, String)> {
        vec![
            (
                "PASSERELLE_BRIDGE_PUBLIC_URL",
                "https://pos.example/".into(),
            ),
            (
                "PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID",
                "1.clients.hubrise.com".into(),
            ),
            (
                "PASSERELLE_BRIDGE_HUBRISE_CLIENT_SECRET",
                "very-secret".into(),
            ),
            ("PASSERELLE_BRIDGE_DATABASE_URL", "sqlite:/tmp/x.db".into()),
            ("PASSERELLE_BRIDGE_ENCRYPTION_KEY", key()),
        ]
    }

    fn load(pairs: Vec<(&'static str, String)>) -> Result<Config, ConfigError> {
        let env = env_of(pairs);
        Sources {
            env: &env,
            file: None,
            data_dir: None,
        }
        .load()
    }

    #[test]
    fn the_environment_alone_is_enough_and_defaults_fill_the_rest() -> Result<(), ConfigError> {
        let config = load(minimal())?;
        assert_eq!(config.public_url, "https://pos.example");
        assert_eq!(config.hubrise.api_url, HUBRISE_API_URL);
        assert!(config.secure_cookies());
        assert!(matches!(config.identity, IdentityConfig::BuiltIn { .. }));
        Ok(())
    }

    #[test]
    fn each_missing_required_value_is_named() {
        for missing in [
            "PASSERELLE_BRIDGE_PUBLIC_URL",
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID",
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_SECRET",
            "PASSERELLE_BRIDGE_DATABASE_URL",
            "PASSERELLE_BRIDGE_ENCRYPTION_KEY",
        ] {
            let pairs = minimal()
                .into_iter()
                .filter(|(k, _)| *k != missing)
                .collect();
            let error = load(pairs).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(missing), "{missing}: {error}");
        }
    }

    #[test]
    fn wrong_values_are_named_and_secrets_are_not_echoed() {
        let cases = [
            ("PASSERELLE_BRIDGE_LISTEN", "not-an-address"),
            ("PASSERELLE_BRIDGE_PUBLIC_URL", "ftp://x"),
            ("PASSERELLE_BRIDGE_DATABASE_URL", "mysql://x"),
            (
                "PASSERELLE_BRIDGE_ENCRYPTION_KEY",
                "c2hvcnQtc2VjcmV0LWtleQ==",
            ),
            ("PASSERELLE_BRIDGE_LOG_FORMAT", "xml"),
            ("PASSERELLE_BRIDGE_IDENTITY", "ldap"),
        ];
        for (name, value) in cases {
            let mut pairs: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != name).collect();
            pairs.push((name, value.into()));
            let error = load(pairs).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(name), "{name}: {error}");
        }
        let mut pairs = minimal();
        pairs[4].1 = "sixteen-bytes!!!".into();
        let error = load(pairs).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            error.contains("ENCRYPTION_KEY") && !error.contains("sixteen"),
            "{error}"
        );
    }

    #[test]
    fn jwt_identity_needs_its_issuer_audience_and_jwks_and_a_bounded_skew() -> Result<(), String> {
        let jwt = || {
            let mut pairs = minimal();
            pairs.push(("PASSERELLE_BRIDGE_IDENTITY", "jwt".into()));
            pairs.push((
                "PASSERELLE_BRIDGE_JWT_ISSUER",
                "https://id.pos.example".into(),
            ));
            pairs.push(("PASSERELLE_BRIDGE_JWT_AUDIENCE", "passerelle-bridge".into()));
            pairs.push((
                "PASSERELLE_BRIDGE_JWT_JWKS_URL",
                "https://id.pos.example/.well-known/jwks.json".into(),
            ));
            pairs
        };
        let config = load(jwt()).ok().map(|c| c.identity);
        let Some(IdentityConfig::Jwt(settings)) = config else {
            return Err(format!("jwt expected: {config:?}"));
        };
        assert_eq!(settings.clock_skew, Duration::from_secs(30));
        assert_eq!(settings.cache_for, Duration::from_secs(3600));
        for missing in [
            "PASSERELLE_BRIDGE_JWT_ISSUER",
            "PASSERELLE_BRIDGE_JWT_AUDIENCE",
            "PASSERELLE_BRIDGE_JWT_JWKS_URL",
        ] {
            let pairs = jwt().into_iter().filter(|(k, _)| *k != missing).collect();
            let error = load(pairs).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(missing), "{missing}: {error}");
        }
        let mut pairs = jwt();
        pairs.push(("PASSERELLE_BRIDGE_JWT_CLOCK_SKEW_SECS", "3600".into()));
        let error = load(pairs).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("JWT_CLOCK_SKEW_SECS"), "{error}");
        Ok(())
    }

    #[test]
    fn the_identity_token_url_goes_with_an_external_identity_only() -> Result<(), String> {
        const TOKEN_URL: &str = "PASSERELLE_BRIDGE_IDENTITY_TOKEN_URL";
        let mut built_in = minimal();
        built_in.push((TOKEN_URL, "https://id.pos.example/oauth/token".into()));
        let error = load(built_in)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains(TOKEN_URL), "{error}");
        let mut external = minimal();
        external.extend([
            ("PASSERELLE_BRIDGE_IDENTITY", "introspection".into()),
            (
                "PASSERELLE_BRIDGE_INTROSPECTION_URL",
                "https://id.pos.example/introspect".into(),
            ),
            ("PASSERELLE_BRIDGE_INTROSPECTION_CLIENT_ID", "bridge".into()),
            ("PASSERELLE_BRIDGE_INTROSPECTION_CLIENT_SECRET", "s".into()),
        ]);
        let without = load(external.clone()).map_err(|e| e.to_string())?;
        assert_eq!(without.identity_token_url, None);
        external.push((TOKEN_URL, "not a url".into()));
        let error = load(external)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains(TOKEN_URL), "{error}");
        Ok(())
    }

    #[test]
    fn the_file_gives_values_and_accounts_the_environment_overrides()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("bridge.toml");
        std::fs::write(
            &file,
            "public_url = \"http://127.0.0.1:9\"\nhubrise_client_id = \"from-file\"\n\
             hubrise_client_secret = \"s\"\nlisten = \"127.0.0.1:0\"\n\
             [[accounts]]\naccount_id = \"pos-1\"\nemail = \"a@b.c\"\npassword = \"pw\"\nbusiness_name = \"B\"\n",
        )?;
        let env = env_of(vec![(
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID",
            "from-env".into(),
        )]);
        let config = Sources {
            env: &env,
            file: Some(&file),
            data_dir: Some(dir.path()),
        }
        .load()?;
        assert_eq!(config.hubrise.client_id, "from-env");
        assert!(!config.secure_cookies());
        assert!(matches!(&config.database, DatabaseUrl::Sqlite(p) if p.starts_with(dir.path())));
        let IdentityConfig::BuiltIn { accounts } = &config.identity else {
            return Err("built-in expected".into());
        };
        assert_eq!(accounts[0].email, "a@b.c");
        // --data-dir made a key once and reads the same one again.
        let again = Sources {
            env: &env,
            file: Some(&file),
            data_dir: Some(dir.path()),
        }
        .load()?;
        assert_eq!(again.keys.current_id(), config.keys.current_id());
        std::fs::write(&file, "publc_url = \"http://x\"\n")?;
        let error = Sources {
            env: &env,
            file: Some(&file),
            data_dir: None,
        }
        .load()
        .err();
        assert!(error.is_some_and(|e| e.to_string().contains("publc_url")));
        Ok(())
    }
}
