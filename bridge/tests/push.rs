//! Waking tills in the background (issue 24, part 5): the bridge's APNs sender against a fake
//! APNs on loopback. The fake speaks plain HTTP/1.1 (Apple's is HTTP/2 over TLS; the sender's
//! client negotiates h2 by ALPN there, and the request it sends is the same). Each test starts
//! the sandbox (HubRise, posting its events to the bridge's active callback) and a bridge whose
//! `apns_url` is the fake's, with a throwaway P-256 key as the team's `.p8`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::push::apns::ApnsConfig;
use passerelle_bridge::secret::Secret;
use passerelle_sandbox::{Sandbox, SandboxOptions};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use serde_json::{Value, json};

use crate::stream::SseReader;
use crate::support::{self, Stack, TestResult, client, eventually, hubrise_signature};

const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const TOPIC: &str = "com.example.pos";
const LOCATION: &str = "3r4s3-1";

/// What the fake answers for a device token.
#[derive(Clone)]
pub(crate) enum Answer {
    Ok,
    Status(u16, Value),
    /// Never answers.
    Hang,
}

/// One request APNs received.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    device: String,
    headers: HeaderMap,
    body: Value,
}

#[derive(Default)]
pub(crate) struct FakeApns {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<HashMap<String, Answer>>,
}

impl FakeApns {
    pub(crate) fn answer(&self, device: &str, answer: Answer) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(device.to_owned(), answer);
        }
    }
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
    pub(crate) fn count(&self, device: &str) -> usize {
        self.seen().iter().filter(|s| s.device == device).count()
    }
}

async fn receive(
    State(fake): State<Arc<FakeApns>>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Ok(mut seen) = fake.seen.lock() {
        seen.push(Seen {
            device: device.clone(),
            headers,
            body,
        });
    }
    let answer = fake
        .answers
        .lock()
        .ok()
        .and_then(|a| a.get(&device).cloned())
        .unwrap_or(Answer::Ok);
    match answer {
        Answer::Ok => (
            StatusCode::OK,
            [("apns-id", "0e8c0a4a-0000-0000-0000-000000000001")],
        )
            .into_response(),
        Answer::Status(status, body) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(body),
        )
            .into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// The fake APNs on loopback: its URL and what it saw.
async fn fake_apns() -> Result<(String, Arc<FakeApns>), Box<dyn std::error::Error>> {
    let fake = Arc::new(FakeApns::default());
    let app = axum::Router::new()
        .route("/3/device/{device}", axum::routing::post(receive))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, fake))
}

/// A throwaway `.p8` (PKCS#8 PEM of a P-256 key) and its public key.
fn p8() -> Result<(String, Vec<u8>), Box<dyn std::error::Error>> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "no key")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| "no key")?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    Ok((pem, key.public_key().as_ref().to_vec()))
}

/// The sandbox and a bridge on `database` taking HubRise's events, with APNs at a fake
/// (`interval` between two notifications to a device): the stack, the fake and the public key
/// of the team's `.p8`.
pub(crate) async fn stack_with_apns(
    interval: Duration,
    database: DatabaseUrl,
) -> Result<(Stack, Arc<FakeApns>, Vec<u8>), Box<dyn std::error::Error>> {
    let (apns_url, fake) = fake_apns().await?;
    let (pem, public_key) = p8()?;
    let (listener, pos_url) = support::listener().await?;
    let sandbox = Sandbox::start(SandboxOptions {
        pos_backend_url: Some(pos_url.clone()),
        ..support::compressed_callbacks()
    })
    .await?;
    let mut config = support::config(&sandbox, &pos_url, database, support::keys());
    config.apns = Some(ApnsConfig {
        url: apns_url,
        topic: TOPIC.into(),
        team_id: TEAM.into(),
        key_id: KEY_ID.into(),
        key_pem: Secret::new(pem),
    });
    config.push_interval = interval;
    let bridge = passerelle_bridge::start_on(listener, config).await?;
    let stack = Stack {
        sandbox,
        bridge,
        pos_url,
    };
    Ok((stack, fake, public_key))
}

struct World {
    stack: Stack,
    fake: Arc<FakeApns>,
    public_key: Vec<u8>,
    /// The seed's first POS account: its access token and id.
    token: String,
    account_id: String,
    _dir: tempfile::TempDir,
}

/// The sandbox, a bridge taking HubRise's events with APNs at the fake (`interval` between two
/// notifications to a device), and the seed's first account connected to `LOCATION`.
async fn world(interval: Duration) -> Result<World, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let database = support::sqlite(dir.path());
    world_on(interval, database, dir).await
}

/// [`world`] on `database`.
async fn world_on(
    interval: Duration,
    database: DatabaseUrl,
    dir: tempfile::TempDir,
) -> Result<World, Box<dyn std::error::Error>> {
    let (stack, fake, public_key) = stack_with_apns(interval, database).await?;
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, LOCATION).await?;
    let account_id = stack.sandbox.seed().pos_account().account_id.clone();
    Ok(World {
        stack,
        fake,
        public_key,
        token,
        account_id,
        _dir: dir,
    })
}

impl World {
    async fn register(&self, device_id: &str, token: &str) -> Result<StatusCode, reqwest::Error> {
        Ok(client()
            .put(format!("{}/hubrise/push-token", self.stack.pos_url))
            .bearer_auth(&self.token)
            .json(&json!({"device_id": device_id, "token": token}))
            .send()
            .await?
            .status())
    }

    /// HubRise's active callback posting an order event of `LOCATION` (signed): its status
    /// and how long the bridge took to answer.
    async fn post_event(&self, id: &str) -> Result<(StatusCode, Duration), reqwest::Error> {
        let body = json!({
            "id": id, "resource_type": "order", "event_type": "create",
            "location_id": LOCATION, "order_id": format!("o-{id}"),
            "created_at": "2026-12-06T03:00:00+01:00",
        })
        .to_string();
        let secret = self.stack.sandbox.seed().client_secret.clone();
        let started = Instant::now();
        let status = client()
            .post(format!("{}/hubrise/callback", self.stack.pos_url))
            .header("content-type", "application/json")
            .header(
                "x-hubrise-hmac-sha256",
                hubrise_signature(&secret, body.as_bytes()),
            )
            .body(body)
            .send()
            .await?
            .status();
        Ok((status, started.elapsed()))
    }

    /// `bridge_push_notifications_total` for `outcome` at `/metrics`.
    async fn notifications(&self, outcome: &str) -> Result<u64, Box<dyn std::error::Error>> {
        let text = client()
            .get(format!("{}/metrics", self.stack.pos_url))
            .send()
            .await?
            .text()
            .await?;
        let prefix = format!("bridge_push_notifications_total{{outcome=\"{outcome}\"}} ");
        Ok(text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(Ok(0), str::parse)?)
    }

    async fn tokens(&self) -> Vec<String> {
        self.stack
            .bridge
            .app()
            .push
            .tokens(&self.account_id)
            .await
            .unwrap_or_default()
    }

    async fn stop(self) -> TestResult {
        self.stack.bridge.stop().await?;
        self.stack.sandbox.stop().await;
        Ok(())
    }
}

/// The request is Apple's: path, headers, payload, and a provider token signed ES256 by the
/// team's key with its `kid`, `iss` and a fresh `iat`.
fn check_apns_request(seen: &Seen, public_key: &[u8]) -> TestResult {
    let header = |name: &str| {
        seen.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("apns-topic"), TOPIC);
    assert_eq!(header("apns-push-type"), "background");
    assert_eq!(header("apns-priority"), "5");
    let expiration: i64 = header("apns-expiration").parse()?;
    let now = passerelle_bridge::clock::now_ms() / 1000;
    assert!(expiration > now && expiration <= now + 3600 + 5);
    assert_eq!(seen.body, json!({"aps": {"content-available": 1}}));
    let authorization = header("authorization");
    let jwt = authorization
        .strip_prefix("bearer ")
        .ok_or("no bearer provider token")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let jwt_header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0])?)?;
    assert_eq!(jwt_header["alg"], "ES256");
    assert_eq!(jwt_header["kid"], KEY_ID);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1])?)?;
    assert_eq!(claims["iss"], TEAM);
    let iat = claims["iat"].as_i64().ok_or("no iat")?;
    assert!((now - iat).abs() <= 60, "iat {iat} is not now ({now})");
    let signature = URL_SAFE_NO_PAD.decode(parts[2])?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .map_err(|_| "the provider token's signature does not verify with the team's key")?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_wakes_the_tills_not_streaming_and_leaves_a_streaming_one() -> TestResult {
    wakes_the_tills_not_streaming(world(Duration::from_millis(500)).await?).await
}

/// The same on Postgres (the leases, the claim and the token's removal are SQL of their own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_an_order_wakes_the_tills_not_streaming_and_a_gone_token_is_removed()
-> TestResult {
    let Some(cluster) = crate::postgres::Cluster::start()? else {
        return Ok(());
    };
    let world = world_on(
        Duration::from_millis(500),
        cluster.database(),
        tempfile::tempdir()?,
    )
    .await?;
    let gone = "ff".repeat(32);
    world.register("till-gone", &gone).await?;
    world.fake.answer(
        &gone,
        Answer::Status(400, json!({"reason": "BadDeviceToken"})),
    );
    wakes_the_tills_not_streaming(world).await
}

async fn wakes_the_tills_not_streaming(world: World) -> TestResult {
    let (asleep, streaming) = ("aa".repeat(32), "BB".repeat(32));
    assert_eq!(
        world.register("till-asleep", &asleep).await?,
        StatusCode::OK
    );
    assert_eq!(world.register("till-up", &streaming).await?, StatusCode::OK);
    assert_eq!(
        world.register("till-x", "not hex").await?,
        StatusCode::BAD_REQUEST
    );
    let unauthenticated = client()
        .put(format!("{}/hubrise/push-token", world.stack.pos_url))
        .json(&json!({"device_id": "till-x", "token": asleep}))
        .send()
        .await?;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let streaming = streaming.to_lowercase();
    let push = world.stack.bridge.app().push.clone();
    let mut up = SseReader::open(&world.stack.pos_url, &world.token, "till-up", None).await?;
    let account = world.account_id.clone();
    assert!(
        eventually(Duration::from_secs(5), || async {
            push.streaming(&account, "till-up").await.unwrap_or(false)
        })
        .await
    );

    // An order placed at HubRise: its event reaches the streaming till on the stream, and the
    // other till by a notification.
    let order = world
        .stack
        .sandbox
        .admin()
        .place_order(LOCATION, json!({"status": "new", "items": []}))
        .await?;
    // (Other messages, a stream's `ready` say, are not this test's.)
    let message = loop {
        let message = up.next(Duration::from_secs(5)).await?;
        if message.event.starts_with("order.") {
            break message;
        }
    };
    assert_eq!(message.data["event"]["order_id"], order.as_str());
    let fake = world.fake.clone();
    assert!(
        eventually(Duration::from_secs(5), || async {
            fake.count(&asleep) == 1
        })
        .await
    );
    check_apns_request(&world.fake.seen()[0], &world.public_key)?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        world.fake.count(&streaming),
        0,
        "the streaming till was woken"
    );
    assert_eq!(world.fake.count(&asleep), 1);

    // The till closes its stream (the app left the foreground): it is woken from then on.
    drop(up);
    assert!(
        eventually(Duration::from_secs(5), || async {
            !push.streaming(&account, "till-up").await.unwrap_or(true)
        })
        .await,
        "the stream's end did not clear its lease"
    );
    let (status, _) = world.post_event("ev-after-close").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        eventually(Duration::from_secs(5), || async {
            fake.count(&streaming) == 1
        })
        .await
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            fake.count(&asleep) == 2
        })
        .await
    );
    world.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_to_a_device_are_coalesced_and_the_last_event_still_wakes_it() -> TestResult {
    let world = world(Duration::from_millis(1500)).await?;
    let device = "cc".repeat(32);
    world.register("till-1", &device).await?;
    let started = Instant::now();
    for n in 0..4 {
        assert_eq!(
            world.post_event(&format!("burst-{n}")).await?.0,
            StatusCode::OK
        );
    }
    let fake = world.fake.clone();
    assert!(
        eventually(Duration::from_secs(3), || async {
            fake.count(&device) >= 1
        })
        .await
    );
    if started.elapsed() < Duration::from_millis(1200) {
        assert_eq!(
            fake.count(&device),
            1,
            "a burst of four events: one notification now"
        );
    }
    // The ones held back: one more at the interval's end, no more.
    assert!(
        eventually(Duration::from_secs(4), || async {
            fake.count(&device) == 2
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(fake.count(&device), 2);
    assert_eq!(world.notifications("sent").await?, 2);
    assert!(world.notifications("held").await? >= 1);
    world.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_apns_says_is_gone_is_removed_and_a_live_one_stays() -> TestResult {
    let world = world(Duration::from_millis(200)).await?;
    let (unregistered, bad, live) = ("d1".repeat(32), "d2".repeat(32), "d3".repeat(32));
    for (device, token) in [("t-1", &unregistered), ("t-2", &bad), ("t-3", &live)] {
        assert_eq!(world.register(device, token).await?, StatusCode::OK);
    }
    // APNs learnt after its registration that the first is gone (410, its timestamp in ms).
    tokio::time::sleep(Duration::from_millis(5)).await;
    let now = passerelle_bridge::clock::now_ms();
    world.fake.answer(
        &unregistered,
        Answer::Status(410, json!({"reason": "Unregistered", "timestamp": now})),
    );
    world.fake.answer(
        &bad,
        Answer::Status(400, json!({"reason": "BadDeviceToken"})),
    );
    assert_eq!(world.tokens().await.len(), 3);
    assert_eq!(world.post_event("ev-1").await?.0, StatusCode::OK);
    let fake = world.fake.clone();
    assert!(
        eventually(Duration::from_secs(5), || async {
            [&unregistered, &bad, &live]
                .iter()
                .all(|t| fake.count(t) == 1)
        })
        .await
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            world.tokens().await == [live.clone()]
        })
        .await,
        "tokens left: {:?}",
        world.tokens().await
    );
    // Registered again after APNs's timestamp (the app reinstalled): kept, and woken.
    world.register("t-1", &unregistered).await?;
    world.fake.answer(&unregistered, Answer::Ok);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.post_event("ev-2").await?.0, StatusCode::OK);
    assert!(
        eventually(Duration::from_secs(5), || async {
            fake.count(&unregistered) == 2
        })
        .await
    );
    assert_eq!(world.tokens().await.len(), 2);
    assert_eq!(world.notifications("gone").await?, 2);
    // The live one twice, the one registered again once.
    assert!(
        eventually(Duration::from_secs(5), || async {
            world.notifications("sent").await.unwrap_or(0) == 3
        })
        .await
    );
    world.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubrise_gets_its_200_at_once_while_apns_hangs() -> TestResult {
    let world = world(Duration::from_millis(200)).await?;
    let device = "ee".repeat(32);
    world.register("till-1", &device).await?;
    world.fake.answer(&device, Answer::Hang);
    let (status, took) = world.post_event("ev-hang").await?;
    assert_eq!(status, StatusCode::OK);
    // The notification was under way (APNs holds it) while HubRise already had its answer.
    let fake = world.fake.clone();
    assert!(
        eventually(Duration::from_secs(5), || async {
            fake.count(&device) == 1
        })
        .await
    );
    assert!(
        took < Duration::from_secs(2),
        "HubRise waited {took:?} for its 200"
    );
    // Another event meanwhile is answered at once too.
    let (status, took) = world.post_event("ev-hang-2").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        took < Duration::from_secs(2),
        "HubRise waited {took:?} for its 200"
    );
    world.stop().await
}

#[tokio::test]
async fn apns_is_configured_by_its_four_keys_or_not_at_all() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (pem, _) = p8()?;
    let key_file = dir.path().join("AuthKey_KEY1234567.p8");
    std::fs::write(&key_file, pem)?;
    let key = passerelle_bridge::crypto::Key::generate().to_base64();
    let path = key_file.display().to_string();
    let base = move |name: &str| -> Option<String> {
        match name {
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_ID" => Some("id".into()),
            "PASSERELLE_BRIDGE_HUBRISE_CLIENT_SECRET" => Some("secret".into()),
            "PASSERELLE_BRIDGE_DATABASE_URL" => Some("sqlite:/tmp/x.sqlite3".into()),
            "PASSERELLE_BRIDGE_PUBLIC_URL" => Some("https://bridge.example".into()),
            "PASSERELLE_BRIDGE_ENCRYPTION_KEY" => Some(key.clone()),
            _ => None,
        }
    };
    let load = |env: &dyn Fn(&str) -> Option<String>| {
        passerelle_bridge::Sources {
            env,
            file: None,
            data_dir: None,
        }
        .load()
    };
    assert!(load(&base)?.apns.is_none(), "off without its keys");
    let all = |name: &str| match name {
        "PASSERELLE_BRIDGE_APNS_KEY_FILE" => Some(path.clone()),
        "PASSERELLE_BRIDGE_APNS_KEY_ID" => Some(KEY_ID.into()),
        "PASSERELLE_BRIDGE_APNS_TEAM_ID" => Some(TEAM.into()),
        "PASSERELLE_BRIDGE_APNS_TOPIC" => Some(TOPIC.into()),
        "PASSERELLE_BRIDGE_PUSH_INTERVAL_SECS" => Some("30".into()),
        other => base(other),
    };
    let config = load(&all)?;
    let apns = config.apns.ok_or("APNs not configured")?;
    assert_eq!(apns.url, passerelle_bridge::push::apns::PRODUCTION_URL);
    assert_eq!(
        (apns.key_id.as_str(), apns.team_id.as_str()),
        (KEY_ID, TEAM)
    );
    assert_eq!(config.push_interval, Duration::from_secs(30));
    assert!(
        !format!("{apns:?}").contains("PRIVATE"),
        "the key is never in Debug"
    );
    let partial = |name: &str| match name {
        "PASSERELLE_BRIDGE_APNS_TEAM_ID" => None,
        other => all(other),
    };
    let refused = load(&partial).err().ok_or("started without a team id")?;
    assert_eq!(refused.key, "apns_team_id");
    let not_a_key = dir.path().join("not.p8");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )?;
    let not_a_key = not_a_key.display().to_string();
    let wrong = |name: &str| match name {
        "PASSERELLE_BRIDGE_APNS_KEY_FILE" => Some(not_a_key.clone()),
        other => all(other),
    };
    assert_eq!(
        load(&wrong).err().ok_or("took a wrong key")?.key,
        "apns_key_file"
    );
    Ok(())
}
