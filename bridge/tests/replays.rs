//! Issue 23: replayed states and codes. A device flow's `state` replayed at the https redirect
//! (before or after its claim), a Connect URL replayed (its `state` used once), a code HubRise
//! already exchanged: a typed 4xx and nothing stored. A device flow is its account's only: another
//! account neither claims it nor takes it over by registering its state again.

use passerelle_bridge::http::with_query;
use passerelle_bridge::secret::{digest, random_token};
use passerelle_sandbox::drivers::consent::{self, ConsentChoice};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, BackOffice, Stack, TestResult, client};

const LOCATION: &str = "3r4s3-1";

/// The POS tokens of the seed's first two accounts.
async fn tokens(stack: &Stack) -> Result<[String; 2], Box<dyn std::error::Error>> {
    let mut tokens = Vec::new();
    for pos in &stack.sandbox.seed().pos_accounts[..2] {
        tokens.push(support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?);
    }
    Ok(<[String; 2]>::try_from(tokens).map_err(|_| "two accounts")?)
}

/// The sandbox and a bridge on SQLite, and the POS tokens of the seed's first two accounts.
async fn stack() -> Result<(tempfile::TempDir, Stack, [String; 2]), Box<dyn std::error::Error>> {
    let (dir, stack) = support::started().await?;
    let tokens = tokens(&stack).await?;
    Ok((dir, stack, tokens))
}

/// `POST /hubrise/device-flows` for `state`, as the account of `token`: its status.
async fn register(stack: &Stack, token: &str, state: &str) -> Result<StatusCode, reqwest::Error> {
    let answer = client()
        .post(format!("{}/hubrise/device-flows", stack.pos_url))
        .bearer_auth(token)
        .json(&json!({ "state_digest": digest(state) }))
        .send()
        .await?;
    Ok(answer.status())
}

/// `POST /hubrise/device-flows/claim` for `state`: its status and body.
async fn claim(
    stack: &Stack,
    token: &str,
    state: &str,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let answer = client()
        .post(format!("{}/hubrise/device-flows/claim", stack.pos_url))
        .bearer_auth(token)
        .json(&json!({ "state": state }))
        .send()
        .await?;
    let status = answer.status();
    Ok((status, answer.json().await.unwrap_or(Value::Null)))
}

/// HubRise's redirect to the device callback with `params`.
async fn callback(
    stack: &Stack,
    params: &[(&str, &str)],
) -> Result<reqwest::Response, reqwest::Error> {
    let url = with_query(
        &format!("{}/hubrise/device-callback", stack.pos_url),
        params,
    );
    client().get(url).send().await
}

/// Asserts `response` is a typed refusal with `status`.
async fn refused(response: reqwest::Response, status: StatusCode, what: &str) -> TestResult {
    assert_eq!(response.status(), status, "{what}");
    support::typed_refusal(response)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_flow_state_replayed_is_refused_and_stores_nothing() -> TestResult {
    let (_dir, stack, [token, _]) = stack().await?;
    let state = random_token(32);
    assert_eq!(register(&stack, &token, &state).await?, StatusCode::CREATED);
    let first = callback(&stack, &[("code", "c0ffee-1"), ("state", &state)]).await?;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    // HubRise's redirect replayed before the claim: the code kept is the first one.
    let again = callback(&stack, &[("code", "c0ffee-2"), ("state", &state)]).await?;
    refused(again, StatusCode::BAD_REQUEST, "replayed before the claim").await?;
    let (status, body) = claim(&stack, &token, &state).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["code"], "c0ffee-1", "a replay replaced the code");

    let stored = support::stored(&stack).await?;
    let state = state.as_str();
    for (what, params) in [
        (
            "the same redirect",
            [("code", "c0ffee-1"), ("state", state)],
        ),
        ("another code", [("code", "c0ffee-3"), ("state", state)]),
        ("a refusal", [("error", "access_denied"), ("state", state)]),
    ] {
        let replay = callback(&stack, &params).await?;
        refused(replay, StatusCode::BAD_REQUEST, what).await?;
    }
    let (status, _) = claim(&stack, &token, state).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "claimed twice");
    assert_eq!(
        support::stored(&stack).await?,
        stored,
        "a replay stored something"
    );
    support::stop(stack).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_neither_claims_nor_takes_over_a_device_flow() -> TestResult {
    let (_dir, stack, tokens) = stack().await?;
    neither_claimed_nor_taken_over(stack, tokens).await
}

/// The same on Postgres (its upsert keeps the flow's account too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_neither_claims_nor_takes_over_a_device_flow_on_postgres() -> TestResult {
    let Some(cluster) = crate::postgres::Cluster::start()? else {
        return Ok(());
    };
    let stack = support::start(cluster.database(), support::keys()).await?;
    let tokens = tokens(&stack).await?;
    neither_claimed_nor_taken_over(stack, tokens).await
}

/// A flow of the first account: the second account's claim is 404, before and after HubRise
/// answered; its registering the same state is 409; neither changes anything, and the first
/// account claims the code.
async fn neither_claimed_nor_taken_over(stack: Stack, [mine, theirs]: [String; 2]) -> TestResult {
    let state = random_token(32);
    assert_eq!(register(&stack, &mine, &state).await?, StatusCode::CREATED);
    let (status, _) = claim(&stack, &theirs, &state).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "claimed while pending");
    let stored = support::stored(&stack).await?;
    // Registering the same state again does not make the flow theirs.
    assert_eq!(
        register(&stack, &theirs, &state).await?,
        StatusCode::CONFLICT
    );
    assert_eq!(
        support::stored(&stack).await?,
        stored,
        "the flow changed hands"
    );
    let redirect = callback(&stack, &[("code", "c0ffee-1"), ("state", &state)]).await?;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let stored = support::stored(&stack).await?;
    let (status, body) = claim(&stack, &theirs, &state).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "another account got {body}");
    assert_eq!(
        support::stored(&stack).await?,
        stored,
        "their claim took the code"
    );
    let (status, body) = claim(&stack, &mine, &state).await?;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::OK, &json!("c0ffee-1"))
    );
    support::stop(stack).await
}

/// The back office's Connect, through HubRise's consent: the Connect URL with its `code` and
/// `state` once more (in the same browser, or in another one) is refused and records nothing;
/// the code HubRise exchanged, under a fresh `state`, is HubRise's refusal and records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_url_replayed_is_refused_and_records_nothing() -> TestResult {
    let (_dir, stack, [token, _]) = stack().await?;
    let seed = stack.sandbox.seed().clone();
    let pos = seed.pos_account();
    let office = BackOffice::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let start_connect = || async {
        let csrf = office.csrf("/backoffice/hubrise").await?;
        let start = office
            .post("/backoffice/hubrise/connect", &[("csrf", &csrf)])
            .await?;
        Ok::<String, Box<dyn std::error::Error>>(support::location(&start))
    };
    let choice = ConsentChoice::for_user(seed.user()).location(LOCATION);
    let connect_url = consent::approve(&start_connect().await?, &choice).await?;
    let first = office.get(&connect_url).await?;
    assert_eq!(
        support::location(&first),
        format!("/backoffice/hubrise?connected={LOCATION}")
    );
    let connected = support::configuration(&stack.pos_url, &token).await?;
    let stored = support::stored(&stack).await?;

    refused(
        office.get(&connect_url).await?,
        StatusCode::BAD_REQUEST,
        "the state replayed",
    )
    .await?;
    let elsewhere = client().get(&connect_url).send().await?;
    assert_eq!(
        support::set_cookie(&elsewhere),
        "",
        "a session for a replay"
    );
    refused(
        elsewhere,
        StatusCode::BAD_REQUEST,
        "replayed in another browser",
    )
    .await?;
    assert_eq!(
        support::stored(&stack).await?,
        stored,
        "a replay stored something"
    );

    let fresh = start_connect().await?;
    let state = consent::query_param(&fresh, "state").ok_or("no state")?;
    let code = consent::code_from_redirect(&connect_url).ok_or("no code")?;
    let reused = with_query(
        &format!("{}/hubrise/connect", stack.pos_url),
        &[("code", &code), ("state", &state)],
    );
    refused(
        office.get(&reused).await?,
        StatusCode::BAD_REQUEST,
        "the code exchanged twice",
    )
    .await?;
    let after = support::stored(&stack).await?;
    for table in ["connections", "config_versions"] {
        assert_eq!(
            after[table], stored[table],
            "{table}: the used code recorded"
        );
    }
    assert_eq!(
        support::configuration(&stack.pos_url, &token).await?,
        connected
    );
    support::stop(stack).await
}
