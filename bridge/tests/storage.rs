//! What the bridge keeps: it survives a restart, HubRise tokens are sealed at rest, and the
//! key rotates (the procedure of the README, step by step).

use passerelle_bridge::crypto::{Key, Keyring};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{self, TestResult, client};

async fn handed_off_token(
    url: &str,
    pos_token: &str,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let answer = client()
        .get(format!("{url}/hubrise/connections/3r4s3-2/token"))
        .bearer_auth(pos_token)
        .send()
        .await?;
    let status = answer.status();
    Ok((status, answer.json().await.unwrap_or(Value::Null)))
}

/// Stops the bridge (requests in flight finished) and starts it again on the same address and
/// SQLite file with `keys`.
pub(crate) async fn restart(
    stack: support::Stack,
    dir: &std::path::Path,
    keys: Keyring,
) -> Result<support::Stack, Box<dyn std::error::Error>> {
    let support::Stack {
        sandbox,
        bridge,
        pos_url: url,
    } = stack;
    let addr = bridge.addr;
    bridge.stop().await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let config = support::config(&sandbox, &url, support::sqlite(dir), keys);
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    Ok(support::Stack {
        sandbox,
        bridge,
        pos_url: url,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_sealed_at_rest_survive_restarts_and_the_key_rotates() -> TestResult {
    let dir = tempfile::tempdir()?;
    let first = Key::generate();
    let stack = support::start(
        support::sqlite(dir.path()),
        Keyring::new(first.clone(), vec![]),
    )
    .await?;
    let pos = stack.sandbox.seed().pos_account().clone();
    let seed = stack.sandbox.seed().clone();
    let connect_url = stack
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, "3r4s3-2", &seed.user().email)
        .await?;
    let landing = passerelle_bridge::check::open_connect_url(
        &client(),
        &connect_url,
        &stack.pos_url,
        &pos.email,
        &pos.password,
    )
    .await?;
    assert!(landing.contains("connected=3r4s3-2"), "{landing}");
    let pos_token = support::sign_in(&stack.pos_url, &pos.email, &pos.password).await?;
    let (status, before) = handed_off_token(&stack.pos_url, &pos_token).await?;
    assert_eq!(status, StatusCode::OK);
    let hubrise_token = before["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // At rest: the database file holds no token in clear.
    let bytes = std::fs::read(dir.path().join("bridge.sqlite3"))?;
    let wal = std::fs::read(dir.path().join("bridge.sqlite3-wal")).unwrap_or_default();
    if !hubrise_token.is_empty() {
        let needle = hubrise_token.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "token in clear in the database"
        );
        assert!(
            !wal.windows(needle.len()).any(|w| w == needle),
            "token in clear in the WAL"
        );
    }
    // A browser where nobody signed in opened HubRise's Connect URL: its code waits, sealed, in
    // the session until the sign-in.
    let waiting = stack
        .sandbox
        .admin()
        .back_office_connect(&seed.client_id, "3r4s3-1", &seed.user().email)
        .await?;
    let opened = client().get(&waiting).send().await?;
    let cookie = opened
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("no session cookie")?
        .to_owned();
    // Rotation step 1: the new key current, the old one still read.
    let second = Key::generate();
    let stack = restart(
        stack,
        dir.path(),
        Keyring::new(second.clone(), vec![first.clone()]),
    )
    .await?;
    let (status, after) = handed_off_token(&stack.pos_url, &pos_token).await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "restart keeps the POS session and the connection"
    );
    assert_eq!(after["access_token"], before["access_token"]);
    // Step 2: reseal everything with the new key.
    let database = passerelle_bridge::server::open_database(&support::sqlite(dir.path()))?;
    let store = passerelle_bridge::store::Store::new(
        database,
        Keyring::new(second.clone(), vec![first.clone()]),
    );
    assert_eq!(
        store.sealed_with_old_keys().await?,
        2,
        "the token and the waiting code"
    );
    assert_eq!(store.reseal().await?, 2);
    assert_eq!(store.sealed_with_old_keys().await?, 0);
    // Step 3: the old key is dropped; everything still opens.
    let stack = restart(stack, dir.path(), Keyring::new(second, vec![])).await?;
    let (status, last) = handed_off_token(&stack.pos_url, &pos_token).await?;
    assert_eq!(status, StatusCode::OK);
    // The waiting code, resealed, still finishes the connect at sign-in.
    let sign_in = format!("{}/backoffice/sign-in", stack.pos_url);
    let page = client()
        .get(&sign_in)
        .header("cookie", &cookie)
        .send()
        .await?
        .text()
        .await?;
    let csrf = passerelle_bridge::check::hidden_value(&page, "csrf").ok_or("no csrf")?;
    let form = [
        ("csrf", csrf),
        ("email", pos.email.clone()),
        ("password", pos.password.clone()),
    ];
    let done = client()
        .post(&sign_in)
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await?;
    let landing = done
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(landing.contains("connected=3r4s3-1"), "{landing}");
    assert_eq!(last["access_token"], before["access_token"]);
    // A bridge given neither key cannot open the token: a typed 503, never the token or a 500.
    let stack = restart(stack, dir.path(), Keyring::new(Key::generate(), vec![])).await?;
    let (status, _) = handed_off_token(&stack.pos_url, &pos_token).await?;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    stack.sandbox.stop().await;
    Ok(())
}
