//! The sandbox's back-office drivers (what the walkthrough and the end-to-end tests use) work on
//! the bridge: the web back office's Connect, with its `state`, and HubRise's back-office
//! Connect opened where nobody is signed in.

use passerelle_sandbox::drivers::back_office;
use passerelle_sandbox::drivers::consent::ConsentChoice;
use serde_json::Value;

use crate::support::{self, TestResult, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_drivers_connect_in_the_bridges_back_office() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start(support::sqlite(dir.path()), support::keys()).await?;
    let seed = stack.sandbox.seed().clone();
    let pos = seed.pos_account().clone();
    let choice = ConsentChoice::for_user(seed.user()).location("3r4s3-1");
    back_office::connect_on_the_web(&stack.pos_url, &pos.email, &pos.password, &choice).await?;
    let url = stack
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, "3r4s3-2", &seed.user().email)
        .await?;
    back_office::open_connect_url(&url, &stack.pos_url, &pos.email, &pos.password).await?;
    let token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let config: Value = client()
        .get(format!("{}/hubrise/configuration", stack.pos_url))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let origins: Vec<(&str, &str)> = config["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["location_id"].as_str().unwrap_or_default(),
                c["origin"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [("3r4s3-1", "web"), ("3r4s3-2", "hubrise_back_office")]
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}
