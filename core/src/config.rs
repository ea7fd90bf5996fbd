//! What the host configures, and the settings that change only through restart-to-apply.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};

/// HubRise asks apps to poll callback events no more often than this (`hubrise-api.md`).
pub const MIN_PRODUCTION_POLL_INTERVAL_SECS: u32 = 30;
/// The OAuth redirect HubRise shows the code on, for apps without a redirect they can receive.
pub const OUT_OF_BAND_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The scope a POS needs: write orders, read the catalog, write the customer list.
pub const DEFAULT_SCOPE: &str = "location[orders.write,customer_list.write,catalog.read]";

/// When configuration changes (connections, settings) take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ApplyMode {
    /// As in the seeds: changes wait for `restart()` or the next `open()`.
    OnRestart,
    /// Changes apply at once; `restart_required()` stays false.
    Immediately,
}

/// HubRise's per-connection rate limits, which the client keeps to even with a backlog.
/// Windows are aligned on multiples of their length since the epoch, as HubRise's are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RateLimits {
    pub per_minute: u32,
    pub per_hour: u32,
    pub per_day: u32,
    /// Heavy queries (`GET /location/orders`) have their own per-minute limit.
    pub heavy_per_minute: u32,
    /// Length of a "minute" (60,000 ms; shorter only against a sandbox on loopback, whose windows
    /// are scaled down so tests can reach them). An hour is 60 of them, a day 1,440.
    pub minute_ms: u64,
}

impl RateLimits {
    /// HubRise's documented limits: 500/minute, 2,500/hour, 10,000/day, heavy 10/minute.
    pub const fn hubrise() -> Self {
        Self {
            per_minute: 500,
            per_hour: 2_500,
            per_day: 10_000,
            heavy_per_minute: 10,
            minute_ms: 60_000,
        }
    }
}

/// Who exchanges HubRise's authorization code for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum TokenExchange {
    /// The POS backend exchanges the code (it holds the client secret); the default.
    Broker,
    /// The device exchanges it with the client secret read from the host's secret store under
    /// `hubrise/client_secret` (HubRise's installed-app flow).
    Direct,
}

/// The part of the configuration that is versioned and applied on restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Settings {
    /// Seconds between two polls of HubRise's callback events.
    pub poll_interval_secs: u32,
    pub apply_mode: ApplyMode,
    /// HubRise OAuth scope requested by new connections.
    pub scope: String,
}

impl Settings {
    /// The time between two polls, the unit every sync timer counts in.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.poll_interval_secs))
    }
}

/// How long the device keeps what it no longer needs (design D24). Durations are in seconds so a
/// test against the sandbox can use a few; against a real HubRise each must be at least a day.
///
/// It is part of the host's `PasserelleConfig`, not of the versioned `Settings`: it is the host's
/// data policy for the device, not a sync setting of the signed-in account, it changes nothing
/// towards HubRise, so it needs no restart-to-apply and no pending/active snapshot, and the
/// stored snapshots of earlier versions stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Retention {
    /// Finished orders (completed, rejected, cancelled, delivery failed) are deleted this long
    /// after they were placed, with their finished outbox rows. Default: 60 days (two months of
    /// a busy restaurant stay under 50 MB; the POS keeps its own records and HubRise its own).
    pub finished_orders_secs: u64,
    /// Customers' personal data (name, phone, e-mail, address, notes) is scrubbed from every
    /// order and quarantined body this long after the order was placed; ids, totals and items
    /// stay. Default: 30 days.
    pub personal_data_secs: u64,
    /// Ids of processed HubRise events are kept this long. An event is deleted at HubRise right
    /// after its order is committed, so only an event whose DELETE was lost comes back, at the
    /// next poll; 7 days covers a till left off (or offline) for a week. Default: 7 days.
    pub processed_events_secs: u64,
    /// Seconds between two pruning passes (the first runs `first_pass_delay_secs` after open).
    /// Default: one hour.
    pub interval_secs: u64,
    /// Delay of the first pass after `open()`, off the busy start. Default: 60 s.
    pub first_pass_delay_secs: u64,
}

const DAY_SECS: u64 = 86_400;

impl Default for Retention {
    fn default() -> Self {
        Self {
            finished_orders_secs: 60 * DAY_SECS,
            personal_data_secs: 30 * DAY_SECS,
            processed_events_secs: 7 * DAY_SECS,
            interval_secs: 3_600,
            first_pass_delay_secs: 60,
        }
    }
}

/// Everything the host tells Passerelle at `open()`. Holds no secret: the HubRise client secret,
/// when the direct strategy needs one, is read from the host's secret store (design D6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PasserelleConfig {
    /// Directory that holds the SQLite database. Created when missing.
    pub data_dir: String,
    /// Base URL of the POS backend (identity, broker, HubRise configuration).
    pub pos_base_url: String,
    /// OAuth client id of the POS app at its own backend.
    pub pos_client_id: String,
    /// HubRise OAuth base, e.g. `https://manager.hubrise.com/oauth2/v1`.
    pub hubrise_oauth_url: String,
    /// HubRise API base, e.g. `https://api.hubrise.com/v1`.
    pub hubrise_api_url: String,
    /// The app's HubRise client id.
    pub client_id: String,
    /// The redirect URI registered at HubRise (custom scheme, or `urn:ietf:wg:oauth:2.0:oob`).
    pub redirect_uri: String,
    /// Per-install device id sent to HubRise; generated and kept when `None` (design D5).
    pub device_id: Option<String>,
    /// A name people recognise for this till ("Caisse 1 — iPad de Bella"): HubRise shows each
    /// connection's `device_id` on its CONNECTIONS page, so when `device_id` is `None` the one
    /// generated is this label in HubRise's characters plus a short suffix
    /// (`Caisse-1-iPad-de-Bella-k3f9`). Once sent to HubRise it never changes for this install.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub device_label: Option<String>,
    /// Who exchanges authorization codes; the broker by default (design D6).
    pub token_exchange: TokenExchange,
    /// HubRise's rate limits, kept to by the client.
    pub rate_limits: RateLimits,
    /// Settings used when the database holds none yet; afterwards `update_settings` changes them.
    pub initial_settings: Settings,
    /// What is pruned and scrubbed, and when; `None` means `Retention::default()` (design D24).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub retention: Option<Retention>,
}

impl PasserelleConfig {
    /// A configuration with HubRise's production hosts and the default settings.
    pub fn new(
        data_dir: impl Into<String>,
        pos_base_url: impl Into<String>,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
    ) -> Self {
        Self {
            data_dir: data_dir.into(),
            pos_base_url: pos_base_url.into(),
            pos_client_id: "passerelle-ios".into(),
            hubrise_oauth_url: "https://manager.hubrise.com/oauth2/v1".into(),
            hubrise_api_url: "https://api.hubrise.com/v1".into(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            device_id: None,
            device_label: None,
            token_exchange: TokenExchange::Broker,
            rate_limits: RateLimits::hubrise(),
            initial_settings: Settings {
                poll_interval_secs: MIN_PRODUCTION_POLL_INTERVAL_SECS,
                apply_mode: ApplyMode::OnRestart,
                scope: DEFAULT_SCOPE.into(),
            },
            retention: None,
        }
    }

    /// The retention in force: the configured one, or the defaults.
    pub fn retention(&self) -> Retention {
        self.retention.unwrap_or_default()
    }

    /// Checks every field; the first bad one is reported.
    pub fn validate(&self) -> Result<ValidatedEndpoints> {
        if self.data_dir.trim().is_empty() {
            return Err(invalid("data_dir", "is empty"));
        }
        if self.client_id.trim().is_empty() {
            return Err(invalid("client_id", "is empty"));
        }
        if self.pos_client_id.trim().is_empty() {
            return Err(invalid("pos_client_id", "is empty"));
        }
        let endpoints = ValidatedEndpoints {
            pos: parse_endpoint("pos_base_url", &self.pos_base_url)?,
            hubrise_oauth: parse_endpoint("hubrise_oauth_url", &self.hubrise_oauth_url)?,
            hubrise_api: parse_endpoint("hubrise_api_url", &self.hubrise_api_url)?,
            redirect: parse_redirect(&self.redirect_uri)?,
        };
        if let Some(device_id) = &self.device_id {
            validate_device_id(device_id)?;
        }
        if self
            .device_label
            .as_deref()
            .is_some_and(|l| l.chars().count() > 200)
        {
            return Err(invalid("device_label", "at most 200 characters"));
        }
        validate_settings(&self.initial_settings, endpoints.hubrise_api.is_loopback)?;
        validate_rate_limits(&self.rate_limits, endpoints.hubrise_api.is_loopback)?;
        validate_retention(&self.retention(), endpoints.hubrise_api.is_loopback)?;
        Ok(endpoints)
    }
}

/// The configuration's URLs, parsed once.
#[derive(Debug, Clone)]
pub struct ValidatedEndpoints {
    pub pos: Endpoint,
    pub hubrise_oauth: Endpoint,
    pub hubrise_api: Endpoint,
    pub redirect: Url,
}

/// A base URL without a trailing slash, and whether it points at this machine.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base: String,
    pub is_loopback: bool,
}

impl Endpoint {
    /// `base` joined with a path that starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Checks settings; intervals under 30 s are allowed only against a server on this machine (the
/// sandbox), so production settings cannot poll HubRise faster than it asks.
pub fn validate_settings(settings: &Settings, api_is_loopback: bool) -> Result<()> {
    if settings.poll_interval_secs == 0 {
        return Err(invalid("poll_interval_secs", "must be at least 1"));
    }
    if settings.poll_interval_secs < MIN_PRODUCTION_POLL_INTERVAL_SECS && !api_is_loopback {
        return Err(invalid(
            "poll_interval_secs",
            "HubRise asks for at least 30 s between polls",
        ));
    }
    if settings.scope.trim().is_empty() {
        return Err(invalid("scope", "is empty"));
    }
    Ok(())
}

fn validate_rate_limits(limits: &RateLimits, api_is_loopback: bool) -> Result<()> {
    let counts = [
        limits.per_minute,
        limits.per_hour,
        limits.per_day,
        limits.heavy_per_minute,
    ];
    if counts.contains(&0) {
        return Err(invalid("rate_limits", "every limit must be at least 1"));
    }
    if limits.minute_ms < 100 || (limits.minute_ms != 60_000 && !api_is_loopback) {
        return Err(invalid(
            "rate_limits",
            "HubRise's windows are one minute long",
        ));
    }
    Ok(())
}

/// Zero is refused everywhere; under a day only against a server on this machine (the sandbox).
fn validate_retention(retention: &Retention, api_is_loopback: bool) -> Result<()> {
    let durations = [
        retention.finished_orders_secs,
        retention.personal_data_secs,
        retention.processed_events_secs,
        retention.interval_secs,
    ];
    if durations.contains(&0) {
        return Err(invalid("retention", "every duration must be at least 1 s"));
    }
    let data = &durations[..3];
    if !api_is_loopback && data.iter().any(|&secs| secs < DAY_SECS) {
        return Err(invalid("retention", "data is kept at least one day"));
    }
    if retention.personal_data_secs > retention.finished_orders_secs {
        return Err(invalid(
            "retention",
            "personal data cannot outlive the orders it is part of",
        ));
    }
    Ok(())
}

/// HubRise's documented alphabet for `device_id`: `[A-Za-z0-9_-()[]{}.]`.
fn allowed_in_device_id(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-()[]{}.".contains(c)
}

/// The longest label part of a generated device id (the suffix comes on top).
const DEVICE_LABEL_MAX: usize = 48;

/// A device id made from a label people gave the till: letters with accents lose them, every
/// run of other characters becomes one `-`, then `-` and `suffix` (which tells two tills with
/// the same label apart). `Caisse 1 — iPad de Bella` → `Caisse-1-iPad-de-Bella-k3f9`. A label
/// with nothing usable gives `Passerelle-k3f9`.
pub fn device_id_from_label(label: &str, suffix: &str) -> String {
    let mut out = String::new();
    for c in label.chars().flat_map(fold_accent) {
        if allowed_in_device_id(c) && c != '-' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out
        .trim_matches('-')
        .chars()
        .take(DEVICE_LABEL_MAX)
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("Passerelle");
    }
    format!("{out}-{suffix}")
}

/// A letter without its accent (the Latin letters French, Italian, Spanish, German and
/// Portuguese names use); any other character as it is.
fn fold_accent(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "A",
        'ç' => "c",
        'Ç' => "C",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'È' | 'É' | 'Ê' | 'Ë' => "E",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ñ' => "n",
        'Ñ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "O",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'œ' => "oe",
        'Œ' => "OE",
        'æ' => "ae",
        'Æ' => "AE",
        'ß' => "ss",
        _ => "",
    };
    let single = folded.is_empty().then_some(c);
    folded.chars().chain(single)
}

fn validate_device_id(device_id: &str) -> Result<()> {
    if device_id.is_empty() || device_id.len() > 128 || !device_id.chars().all(allowed_in_device_id)
    {
        return Err(invalid(
            "device_id",
            "must be 1-128 of [A-Za-z0-9_-()[]{}.]",
        ));
    }
    Ok(())
}

/// HTTPS everywhere except loopback, where the sandbox runs on plain HTTP (design D17).
fn parse_endpoint(field: &str, raw: &str) -> Result<Endpoint> {
    let url = Url::parse(raw.trim()).map_err(|e| invalid(field, &format!("not a URL ({e})")))?;
    let is_loopback = is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if is_loopback => {}
        "http" => return Err(invalid(field, "must use https (http only on loopback)")),
        other => return Err(invalid(field, &format!("unsupported scheme {other:?}"))),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(
            field,
            "must not carry a query, fragment or credentials",
        ));
    }
    let base = url.as_str().trim_end_matches('/').to_string();
    Ok(Endpoint { base, is_loopback })
}

fn parse_redirect(raw: &str) -> Result<Url> {
    let url =
        Url::parse(raw.trim()).map_err(|e| invalid("redirect_uri", &format!("not a URL ({e})")))?;
    if url.fragment().is_some() {
        return Err(invalid("redirect_uri", "must not carry a fragment"));
    }
    if url.scheme() == "http" && !is_loopback_host(&url) {
        return Err(invalid(
            "redirect_uri",
            "http redirects are allowed only on loopback",
        ));
    }
    Ok(url)
}

pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidConfig {
        field: field.into(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PasserelleConfig {
        PasserelleConfig::new(
            "/tmp/x",
            "https://pos.example.com",
            "123.clients.hubrise.com",
            "app://cb",
        )
    }

    fn field_of(err: Error) -> String {
        match err {
            Error::InvalidConfig { field, .. } => field,
            other => format!("unexpected {other:?}"),
        }
    }

    #[test]
    fn production_defaults_are_valid() {
        assert!(config().validate().is_ok());
    }

    #[test]
    fn malformed_urls_name_their_field() {
        let mut c = config();
        c.hubrise_api_url = "not a url".into();
        assert_eq!(field_of(c.validate().unwrap_err()), "hubrise_api_url");
        let mut c = config();
        c.pos_base_url = "http://pos.example.com".into();
        assert_eq!(field_of(c.validate().unwrap_err()), "pos_base_url");
        let mut c = config();
        c.redirect_uri = "::".into();
        assert_eq!(field_of(c.validate().unwrap_err()), "redirect_uri");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        let mut c = config();
        c.hubrise_api_url = "http://127.0.0.1:8080/v1".into();
        c.hubrise_oauth_url = "http://localhost:8080/oauth2/v1/".into();
        let endpoints = c.validate().unwrap();
        assert_eq!(
            endpoints.hubrise_oauth.base,
            "http://localhost:8080/oauth2/v1"
        );
        assert!(endpoints.hubrise_api.is_loopback);
    }

    #[test]
    fn empty_client_id_is_refused() {
        let mut c = config();
        c.client_id = "  ".into();
        assert_eq!(field_of(c.validate().unwrap_err()), "client_id");
    }

    #[test]
    fn short_poll_interval_only_against_loopback() {
        let mut c = config();
        c.initial_settings.poll_interval_secs = 1;
        assert_eq!(field_of(c.validate().unwrap_err()), "poll_interval_secs");
        c.hubrise_api_url = "http://[::1]:9/v1".into();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn retention_defaults_and_limits() {
        let mut c = config();
        assert_eq!(c.retention().personal_data_secs, 30 * 86_400);
        c.retention = Some(Retention {
            personal_data_secs: 5,
            ..Retention::default()
        });
        assert_eq!(field_of(c.validate().unwrap_err()), "retention");
        c.hubrise_api_url = "http://127.0.0.1:9/v1".into();
        assert!(c.validate().is_ok());
        c.retention = Some(Retention {
            personal_data_secs: 100 * 86_400,
            ..Retention::default()
        });
        assert_eq!(field_of(c.validate().unwrap_err()), "retention");
    }

    #[test]
    fn a_label_becomes_a_readable_device_id_in_hubrise_s_characters() {
        assert_eq!(
            device_id_from_label("Caisse 1 — iPad de Bella", "k3f9"),
            "Caisse-1-iPad-de-Bella-k3f9"
        );
        assert_eq!(
            device_id_from_label("  Comptoir d'Émilie (bar) ", "x1"),
            "Comptoir-d-Emilie-(bar)-x1"
        );
        assert_eq!(
            device_id_from_label("Straße – Küche", "a"),
            "Strasse-Kuche-a"
        );
        assert_eq!(device_id_from_label("🍕🍕", "z9"), "Passerelle-z9");
        assert_eq!(device_id_from_label("", "z9"), "Passerelle-z9");
        let long = device_id_from_label(&"Caisse ".repeat(40), "k3f9");
        assert!(long.len() <= DEVICE_LABEL_MAX + 5, "{long}");
        assert!(!long.contains("--"), "{long}");
        for label in ["Caisse 1 — iPad de Bella", "a/b\\c?d#e%f", "日本語のレジ 2"] {
            let id = device_id_from_label(label, "k3f9");
            let mut c = config();
            c.device_id = Some(id.clone());
            assert!(c.validate().is_ok(), "{label} → {id}");
        }
    }

    #[test]
    fn device_id_alphabet_is_hubrise_s() {
        let mut c = config();
        c.device_id = Some("ipad-1_(a)".into());
        assert!(c.validate().is_ok());
        c.device_id = Some("ipad 1".into());
        assert_eq!(field_of(c.validate().unwrap_err()), "device_id");
    }
}
