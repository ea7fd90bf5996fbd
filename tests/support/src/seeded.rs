//! The restaurant's steps against the sandbox's seed, without a narrator: sign in with the POS
//! account, approve on HubRise's consent page, complete the connection, read HubRise's side.
//! Each returns its failure; [`crate::World`] turns them into test failures.

use passerelle_core::{
    HubriseConnection, HubriseConnectionOptions, Passerelle, PasserelleError, PosAccount,
};
use passerelle_sandbox::drivers::consent::{self, ConsentChoice, ConsentError};
use passerelle_sandbox::{Admin, Seed};

/// Why a set-up step failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Passerelle(#[from] PasserelleError),
    #[error("{0}")]
    Consent(#[from] ConsentError),
    /// The seed lacks what the step names.
    #[error("{0}")]
    Seed(String),
}

/// The restaurant's choice on the consent page: the seed's user #`user_index` signs in, picks
/// `location_id` and the first catalog and customer list offered for it.
pub fn choice(
    seed: &Seed,
    user_index: usize,
    location_id: &str,
) -> Result<ConsentChoice, SetupError> {
    let user = seed
        .users
        .get(user_index)
        .ok_or_else(|| SetupError::Seed(format!("the seed has no user #{user_index}")))?;
    let account = seed
        .accounts
        .iter()
        .find(|a| a.locations.iter().any(|l| l.id == location_id))
        .ok_or_else(|| SetupError::Seed(format!("no seeded account has location {location_id}")))?;
    let mut choice = ConsentChoice::for_user(user).location(location_id);
    if let Some(catalog) = account.catalogs_for(location_id).first() {
        choice = choice.catalog(&catalog.id);
    }
    if let Some(list) = account.customer_lists_for(location_id).first() {
        choice = choice.customer_list(&list.id);
    }
    Ok(choice)
}

/// Signs in with the seed's POS account #`index`.
pub async fn sign_in(
    app: &Passerelle,
    seed: &Seed,
    index: usize,
) -> Result<PosAccount, SetupError> {
    let pos = seed
        .pos_accounts
        .get(index)
        .ok_or_else(|| SetupError::Seed(format!("the seed has no POS account #{index}")))?;
    Ok(app.sign_in(&pos.email, &pos.password).await?)
}

/// Begin and approve on the consent page; returns the callback URL HubRise redirected to.
pub async fn approve(app: &Passerelle, choice: &ConsentChoice) -> Result<String, SetupError> {
    let authorization = app.begin_hubrise_connection(HubriseConnectionOptions::default())?;
    Ok(consent::approve(&authorization.authorize_url, choice).await?)
}

/// Begin, approve on the consent page, complete: the connection (pending until a restart).
pub async fn connect(
    app: &Passerelle,
    choice: &ConsentChoice,
) -> Result<HubriseConnection, SetupError> {
    let callback = approve(app, choice).await?;
    Ok(app.complete_hubrise_connection(&callback).await?)
}

/// HubRise's status of an order (empty when it has none); `None` when HubRise has no such order.
pub async fn hubrise_status(admin: &Admin, location_id: &str, order_id: &str) -> Option<String> {
    let order = admin.order(location_id, order_id).await?;
    Some(order["status"].as_str().unwrap_or_default().to_owned())
}
