//! A connection attempt as the host sees it: the hints it gives HubRise's consent page and what
//! it needs to open that page.

use crate::model::values::WebUrl;

/// Optional hints for HubRise's consent page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HubriseConnectionOptions {
    /// Show the code on HubRise's page for the user to paste (`urn:ietf:wg:oauth:2.0:oob`)
    /// instead of redirecting to the app.
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub out_of_band: bool,
    /// Preselect a HubRise account.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub account_id: Option<String>,
    /// Prefill for a restaurant that signs up to HubRise on the way.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub account_name: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub location_name: Option<String>,
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub country: Option<String>,
}

/// What the host needs to open HubRise's consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HubriseAuthorization {
    /// Open this in `ASWebAuthenticationSession` (never an embedded web view).
    pub authorize_url: WebUrl,
    /// The attempt's one-time state; needed to complete an out-of-band attempt.
    pub state: String,
    /// The custom scheme `ASWebAuthenticationSession` waits for (`callback: .customScheme`);
    /// `None` out of band and for https redirects.
    pub callback_url_scheme: Option<String>,
    /// For an https redirect (the POS backend's, or the app's universal link): the host and the
    /// path `ASWebAuthenticationSession` waits for on iOS 17.4 and later
    /// (`callback: .https(host:path:)`); `None` otherwise.
    pub callback_https_host: Option<String>,
    pub callback_https_path: Option<String>,
    /// After this the attempt can no longer complete (HubRise codes live 10 minutes).
    pub expires_at: std::time::SystemTime,
}
