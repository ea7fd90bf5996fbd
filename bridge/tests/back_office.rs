//! The sandbox's back-office drivers (what the walkthrough and the end-to-end tests use) work on
//! the bridge: the web back office's Connect, with its `state`, and HubRise's back-office
//! Connect opened where nobody is signed in.

use passerelle_bridge::check::hidden_value;
use passerelle_sandbox::ConnectionState;
use passerelle_sandbox::drivers::back_office;
use passerelle_sandbox::drivers::consent::ConsentChoice;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{self, BackOffice, Stack, TestResult, client};

const LOCATION: &str = "3r4s3-1";
const DISCONNECT: &str = "/backoffice/hubrise/disconnect";

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

/// The seed's POS account `index` signed in to the back office.
async fn signed_in(stack: &Stack, index: usize) -> Result<BackOffice, Box<dyn std::error::Error>> {
    let pos = stack.sandbox.seed().pos_accounts[index].clone();
    BackOffice::sign_in(&stack.pos_url, &pos.email, &pos.password).await
}

/// The seed's first account connected to [`LOCATION`] off the device (its POS token), and the
/// back office of the account `index` opening that location's disconnect confirmation.
async fn confirming(
    index: usize,
) -> Result<
    (
        tempfile::TempDir,
        Stack,
        String,
        BackOffice,
        reqwest::Response,
    ),
    Box<dyn std::error::Error>,
> {
    let (dir, stack) = support::started().await?;
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, LOCATION).await?;
    let office = signed_in(&stack, index).await?;
    let confirm = office
        .get(&format!("{DISCONNECT}?location_id={LOCATION}"))
        .await?;
    Ok((dir, stack, token, office, confirm))
}

/// Whether the configuration lists an active connection to `location`.
fn active(configuration: &Value, location: &str) -> bool {
    configuration["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["location_id"] == location && c["state"] == "active")
}

/// The disconnect form of `location`, with `csrf` when given.
fn disconnect_form<'a>(location: &'a str, csrf: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("location_id", location), ("confirm", "yes")];
    form.extend(csrf.map(|c| ("csrf", c)));
    form
}

/// The back office's disconnect: its form refused without this session's CSRF token (nothing
/// changed, at the bridge or at HubRise); with it, the connection is revoked at HubRise, gone
/// from the till's configuration and from the token hand-off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_back_office_disconnects_a_location_only_with_its_csrf_token() -> TestResult {
    let (_dir, stack, token, office, confirm) = confirming(0).await?;
    assert_eq!(confirm.status(), StatusCode::OK);
    let page = confirm.text().await?;
    assert!(page.contains("id=\"confirm-disconnect\""), "{page}");
    let csrf = hidden_value(&page, "csrf").ok_or("no csrf")?;
    // Another browser of the same account: its token is not this session's.
    let elsewhere = signed_in(&stack, 0)
        .await?
        .csrf("/backoffice/hubrise")
        .await?;
    let before = support::configuration(&stack.pos_url, &token).await?;
    let stored = support::stored(&stack).await?;
    for (what, forged) in [
        ("no token", None),
        ("a forged token", Some("forged")),
        ("another session's token", Some(elsewhere.as_str())),
    ] {
        let answer = office
            .post(DISCONNECT, &disconnect_form(LOCATION, forged))
            .await?;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{what}");
        support::typed_refusal(answer).await?;
    }
    assert_eq!(
        support::stored(&stack).await?,
        stored,
        "a refused form stored something"
    );
    assert_eq!(
        support::hubrise_states(&stack.sandbox, LOCATION).await,
        [ConnectionState::Active]
    );

    let done = office
        .post(DISCONNECT, &disconnect_form(LOCATION, Some(&csrf)))
        .await?;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        support::location(&done),
        "/backoffice/hubrise?disconnected=1"
    );
    let after = support::configuration(&stack.pos_url, &token).await?;
    assert!(
        active(&before, LOCATION) && !active(&after, LOCATION),
        "{after}"
    );
    assert!(after["version"].as_i64() > before["version"].as_i64());
    assert_eq!(
        support::hubrise_states(&stack.sandbox, LOCATION).await,
        [ConnectionState::Revoked],
        "HubRise's connection was not revoked"
    );
    let hand_off = client()
        .get(format!(
            "{}/hubrise/connections/{LOCATION}/token",
            stack.pos_url
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(hand_off.status(), StatusCode::NOT_FOUND);
    let page = office
        .get("/backoffice/hubrise?disconnected=1")
        .await?
        .text()
        .await?;
    assert!(page.contains("id=\"no-connection\"") && page.contains("id=\"notice\""));
    support::stop(stack).await
}

/// Signing out needs the session's CSRF token; then the session is gone at the bridge, the
/// browser is told to forget its cookie, and the old cookie opens nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_its_cookie() -> TestResult {
    let (_dir, stack) = support::started().await?;
    let office = signed_in(&stack, 0).await?;
    let csrf = office.csrf("/backoffice/hubrise").await?;
    for forged in [vec![], vec![("csrf", "forged")]] {
        let answer = office.post("/backoffice/sign-out", &forged).await?;
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{forged:?}");
        support::typed_refusal(answer).await?;
    }
    assert_eq!(
        office.get("/backoffice/hubrise").await?.status(),
        StatusCode::OK,
        "a refused sign-out signed out"
    );

    let out = office
        .post("/backoffice/sign-out", &[("csrf", &csrf)])
        .await?;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(support::location(&out), "/backoffice/sign-in");
    let cookie = support::header(&out, "set-cookie");
    assert!(
        cookie.starts_with("pos_session=;") && cookie.contains("Max-Age=0"),
        "the cookie was not ended: {cookie:?}"
    );
    assert_eq!(
        support::stored(&stack).await?["web_sessions"],
        Vec::<String>::new()
    );
    let page = office.get("/backoffice/hubrise").await?;
    assert_eq!(support::location(&page), "/backoffice/sign-in");
    let connect = office
        .post("/backoffice/hubrise/connect", &[("csrf", &csrf)])
        .await?;
    assert_eq!(
        support::location(&connect),
        "/backoffice/sign-in",
        "the old cookie still started a connect"
    );
    support::stop(stack).await
}

/// Another account's location: its confirmation page is not shown, and its disconnect (with the
/// other account's own valid CSRF token) is a 404 page that changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_disconnect_another_accounts_location() -> TestResult {
    let (_dir, stack, token, other, confirm) = confirming(1).await?;
    assert_eq!(confirm.status(), StatusCode::SEE_OTHER);
    assert_eq!(support::location(&confirm), "/backoffice/hubrise");
    let csrf = other.csrf("/backoffice/hubrise").await?;
    let stored = support::stored(&stack).await?;
    let answer = other
        .post(DISCONNECT, &disconnect_form(LOCATION, Some(&csrf)))
        .await?;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    support::typed_refusal(answer).await?;
    assert_eq!(support::stored(&stack).await?, stored, "something changed");
    assert!(active(
        &support::configuration(&stack.pos_url, &token).await?,
        LOCATION
    ));
    assert_eq!(
        support::hubrise_states(&stack.sandbox, LOCATION).await,
        [ConnectionState::Active]
    );
    support::stop(stack).await
}
