//! What every sandbox starts with: HubRise clients, users, accounts, locations, catalogs,
//! customer lists, and the POS vendor's accounts.
//!
//! Ids and names are fixed so that documentation and people can rely on them; secrets (the
//! client secrets) are random per sandbox unless a state file restores them.

use serde::{Deserialize, Serialize};

use crate::ids;

/// The out-of-band redirect URI of installed apps: HubRise shows the code instead of redirecting.
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";
/// The iOS demo app's custom-scheme redirect URI.
pub const APP_REDIRECT_URI: &str = "passerelle-demo://oauth/hubrise";
/// The iOS demo app's HubRise "Open URL" (HubRise appends `app_instance_id`).
pub const APP_OPEN_URL: &str = "passerelle-demo://hubrise/open";
/// The scope Passerelle asks for, and the one HubRise's back-office Connect uses for it.
pub const DEFAULT_SCOPE: &str = "location[orders.write,customer_list.write,catalog.read]";
/// Path of the POS backend's https redirect for connections made on a device (registered at
/// HubRise as a redirect URI of Passerelle's client).
pub const DEVICE_CALLBACK_PATH: &str = "/hubrise/device-callback";
/// The public OAuth client id of the POS app towards its own backend.
pub const POS_CLIENT_ID: &str = "passerelle-ios";

/// A HubRise API client (an "app" in HubRise's back office).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedClient {
    pub id: String,
    pub secret: String,
    pub name: String,
    /// Registered redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// HubRise's "Open URL" for this app, if any.
    pub open_url: Option<String>,
    /// HubRise's "Connect URL" (the redirect URI of back-office connects), if any.
    pub connect_url: Option<String>,
    /// HubRise's "Disconnect callback URL", if any.
    pub disconnect_callback_url: Option<String>,
    /// The scope HubRise uses when the connection starts from its back office.
    pub scope: String,
}

/// A HubRise user who can sign in on the consent page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    /// Accounts this user manages.
    pub account_ids: Vec<String>,
}

/// A HubRise location.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedLocation {
    pub id: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

/// A catalog or customer list: `location_id` is `None` when it belongs to the account.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedResource {
    pub id: String,
    pub name: String,
    pub location_id: Option<String>,
}

/// A HubRise account with its locations, catalogs and customer lists.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedAccount {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub locations: Vec<SeedLocation>,
    pub catalogs: Vec<SeedResource>,
    pub customer_lists: Vec<SeedResource>,
}

impl SeedAccount {
    /// Catalogs a user can pick for `location_id`: the account's and the location's own.
    pub fn catalogs_for(&self, location_id: &str) -> Vec<&SeedResource> {
        visible_for(&self.catalogs, location_id)
    }
    /// Customer lists a user can pick for `location_id`.
    pub fn customer_lists_for(&self, location_id: &str) -> Vec<&SeedResource> {
        visible_for(&self.customer_lists, location_id)
    }
}

fn visible_for<'a>(resources: &'a [SeedResource], location_id: &str) -> Vec<&'a SeedResource> {
    resources
        .iter()
        .filter(|r| r.location_id.as_deref().is_none_or(|l| l == location_id))
        .collect()
}

/// An account of the POS vendor's backend (the credentials the iPad app reuses).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeedPosAccount {
    pub account_id: String,
    pub email: String,
    pub password: String,
    pub business_name: String,
}

/// Everything seeded in a sandbox.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Seed {
    /// Passerelle's HubRise client id, e.g. `459691768564.clients.hubrise.com`.
    pub client_id: String,
    pub client_secret: String,
    pub client_name: String,
    /// Redirect URIs registered for Passerelle's client (exact match).
    pub redirect_uris: Vec<String>,
    pub open_url: String,
    /// The POS backend's Connect URL, `{pos_url}/hubrise/connect`.
    pub connect_url: String,
    /// The POS backend's Disconnect callback URL.
    pub disconnect_callback_url: String,
    pub scope: String,
    /// The "other app" (a marketplace) whose writes admin-placed orders stand for.
    pub other_client: SeedClient,
    pub users: Vec<SeedUser>,
    pub accounts: Vec<SeedAccount>,
    pub pos_accounts: Vec<SeedPosAccount>,
    /// The POS app's public client id towards its backend (`passerelle-ios`).
    pub pos_client_id: String,
}

impl Seed {
    /// Bella Pizza's HubRise manager (manages the two-location account).
    pub fn user(&self) -> &SeedUser {
        &self.users[0]
    }
    /// Bella Pizza: two locations, Paris and Lyon.
    pub fn account(&self) -> &SeedAccount {
        &self.accounts[0]
    }
    /// Paris, the first location of Bella Pizza.
    pub fn location(&self) -> &SeedLocation {
        &self.accounts[0].locations[0]
    }
    /// Bella Pizza's POS account (`chef@bellapizza.fr`).
    pub fn pos_account(&self) -> &SeedPosAccount {
        &self.pos_accounts[0]
    }
    /// Passerelle's own client, as a [`SeedClient`].
    pub fn client(&self) -> SeedClient {
        SeedClient {
            id: self.client_id.clone(),
            secret: self.client_secret.clone(),
            name: self.client_name.clone(),
            redirect_uris: self.redirect_uris.clone(),
            open_url: Some(self.open_url.clone()),
            connect_url: Some(self.connect_url.clone()),
            disconnect_callback_url: Some(self.disconnect_callback_url.clone()),
            scope: self.scope.clone(),
        }
    }

    /// The seed of a sandbox whose servers answer at these base URLs.
    pub(crate) fn new(manager_base: &str, pos_base: &str) -> Seed {
        let landing = format!("{manager_base}/_sandbox/landing");
        let connect_url = format!("{pos_base}/hubrise/connect");
        let device_callback = format!("{pos_base}{DEVICE_CALLBACK_PATH}");
        Seed {
            client_id: "459691768564.clients.hubrise.com".into(),
            client_secret: ids::alnum_secret(32),
            client_name: "Passerelle".into(),
            redirect_uris: vec![
                APP_REDIRECT_URI.into(),
                OOB_REDIRECT_URI.into(),
                connect_url.clone(),
                landing.clone(),
                device_callback,
            ],
            open_url: APP_OPEN_URL.into(),
            connect_url,
            disconnect_callback_url: format!("{pos_base}/hubrise/disconnect-callback"),
            scope: DEFAULT_SCOPE.into(),
            other_client: SeedClient {
                id: "913554130021.clients.hubrise.com".into(),
                secret: ids::alnum_secret(32),
                name: "Uber Eats (sandbox)".into(),
                redirect_uris: vec![OOB_REDIRECT_URI.into(), landing],
                open_url: None,
                connect_url: None,
                disconnect_callback_url: None,
                scope: "location[orders.write,catalog.read]".into(),
            },
            users: seed_users(),
            accounts: vec![bella_pizza(), trattoria()],
            pos_accounts: vec![
                SeedPosAccount {
                    account_id: "pos-1001".into(),
                    email: "chef@bellapizza.fr".into(),
                    password: "bella-pos-2026".into(),
                    business_name: "Bella Pizza".into(),
                },
                SeedPosAccount {
                    account_id: "pos-1002".into(),
                    email: "marco@trattoria-marco.fr".into(),
                    password: "marco-pos-2026".into(),
                    business_name: "Trattoria Marco".into(),
                },
            ],
            pos_client_id: POS_CLIENT_ID.into(),
        }
    }
}

fn seed_users() -> Vec<SeedUser> {
    vec![
        SeedUser {
            id: "v6ap7".into(),
            email: "manager@bellapizza.fr".into(),
            password: "bella-hubrise-2026".into(),
            first_name: "Giulia".into(),
            last_name: "Rossi".into(),
            account_ids: vec!["3r4s3".into()],
        },
        SeedUser {
            id: "k2m8x".into(),
            email: "marco@trattoria-marco.fr".into(),
            password: "marco-hubrise-2026".into(),
            first_name: "Marco".into(),
            last_name: "Bianchi".into(),
            account_ids: vec!["7hq2c".into()],
        },
    ]
}

fn location(id: &str, name: &str, address: &str, postal_code: &str, city: &str) -> SeedLocation {
    SeedLocation {
        id: id.into(),
        name: name.into(),
        address: address.into(),
        postal_code: postal_code.into(),
        city: city.into(),
        country: "FR".into(),
    }
}

fn resource(id: &str, name: &str, location_id: Option<&str>) -> SeedResource {
    SeedResource {
        id: id.into(),
        name: name.into(),
        location_id: location_id.map(str::to_owned),
    }
}

fn bella_pizza() -> SeedAccount {
    SeedAccount {
        id: "3r4s3".into(),
        name: "Bella Pizza".into(),
        currency: "EUR".into(),
        locations: vec![
            location(
                "3r4s3-1",
                "Paris",
                "13 rue du Chant des Oiseaux",
                "75003",
                "Paris",
            ),
            location("3r4s3-2", "Lyon", "8 quai Saint-Antoine", "69002", "Lyon"),
        ],
        catalogs: vec![
            resource("psmlf", "Bella Pizza", None),
            resource("2kd7t", "Bella Pizza Lyon", Some("3r4s3-2")),
        ],
        customer_lists: vec![
            resource("xab66", "Bella Pizza", None),
            resource("9zqm4", "Bella Pizza Fidélité", None),
        ],
    }
}

fn trattoria() -> SeedAccount {
    SeedAccount {
        id: "7hq2c".into(),
        name: "Trattoria Marco".into(),
        currency: "EUR".into(),
        locations: vec![location(
            "7hq2c-1",
            "Nice",
            "4 rue de la Préfecture",
            "06300",
            "Nice",
        )],
        catalogs: vec![resource("ne4r8", "Trattoria Marco", None)],
        customer_lists: vec![resource("tm5c1", "Trattoria Marco", None)],
    }
}

/// An order as a marketplace would send it "from another app": two pizzas with an option, a
/// dessert, a delivery charge, a card payment and a customer named `first_name`.
pub fn sample_order(first_name: &str) -> serde_json::Value {
    serde_json::json!({
        "status": "new",
        "service_type": "delivery",
        "expected_time": "2026-11-23T20:30:00+01:00",
        "customer_notes": "Sonner deux fois",
        "items": [
            {"product_name": "Margherita", "sku_name": "Grande", "price": "10.90 EUR", "quantity": "2",
             "options": [{"option_list_name": "Sauce", "name": "Piquante", "price": "0.50 EUR", "quantity": 1}]},
            {"product_name": "Tiramisu", "price": "5.50 EUR", "quantity": "1"}
        ],
        "charges": [{"name": "Livraison", "price": "2.50 EUR"}],
        "payments": [{"name": "Carte bancaire", "amount": "30.80 EUR"}],
        "customer": {"first_name": first_name, "last_name": "Dupont", "address_1": "3 rue de la Paix",
                     "postal_code": "75002", "city": "Paris", "phone": "+33600000000"}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_location_has_a_catalog_and_a_customer_list() {
        let seed = Seed::new("http://127.0.0.1:1", "http://127.0.0.1:3");
        for account in &seed.accounts {
            for loc in &account.locations {
                assert!(!account.catalogs_for(&loc.id).is_empty());
                assert!(!account.customer_lists_for(&loc.id).is_empty());
            }
        }
        assert_eq!(seed.account().locations.len(), 2);
        assert!(
            seed.redirect_uris
                .contains(&"http://127.0.0.1:3/hubrise/connect".to_string())
        );
    }
}
