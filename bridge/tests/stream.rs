//! The tills' push channel (issue 24): Server-Sent Events over real HTTP on loopback, an order
//! placed at the sandbox arriving on the stream, `Last-Event-ID` resume, the till's cursor, and
//! (postgres.rs) two replicas.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestResult, client};

/// One SSE message.
#[derive(Debug, Default)]
pub struct Message {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// Reads SSE messages from a streaming response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
    /// The data of the stream's `ready` message, once read (`next` never returns it).
    pub ready: Option<Value>,
}

impl SseReader {
    /// Opens `GET {url}/hubrise/events` as a till.
    pub async fn open(
        url: &str,
        token: &str,
        device_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<SseReader, Box<dyn std::error::Error>> {
        let mut request = client()
            .get(format!("{url}/hubrise/events?device_id={device_id}"))
            .header("accept", "text/event-stream")
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await?;
        if response.status() != StatusCode::OK {
            return Err(format!("stream answered {}", response.status()).into());
        }
        Ok(SseReader {
            response,
            buffer: String::new(),
            ready: None,
        })
    }

    /// The next message with data (keep-alive comments skipped), within `within`.
    pub async fn next(&mut self, within: Duration) -> Result<Message, Box<dyn std::error::Error>> {
        tokio::time::timeout(within, self.read()).await?
    }

    async fn read(&mut self) -> Result<Message, Box<dyn std::error::Error>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut message = Message::default();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        message.id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        message.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !data.is_empty() {
                    message.data = serde_json::from_str(&data)?;
                    if message.event == "ready" {
                        self.ready = Some(message.data);
                        continue;
                    }
                    return Ok(message);
                }
                continue;
            }
            let chunk = self.response.chunk().await?.ok_or("the stream ended")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn place(stack: &support::Stack, note: &str) -> Result<String, Box<dyn std::error::Error>> {
    Ok(stack
        .sandbox
        .admin()
        .place_order(
            "3r4s3-1",
            json!({"status": "new", "customer_notes": note, "items": []}),
        )
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_reaches_the_tills_stream_and_a_till_resumes_from_last_event_id() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, "3r4s3-1").await?;
    let unauthenticated = client()
        .get(format!("{}/hubrise/events", stack.pos_url))
        .send()
        .await?;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let wait = Duration::from_secs(5);

    let mut till = SseReader::open(&stack.pos_url, &token, "till-1", None).await?;
    let first = place(&stack, "first").await?;
    let message = till.next(wait).await?;
    // First of all the stream named the location whose events the bridge receives.
    assert_eq!(till.ready, Some(json!({"hubrise_events": ["3r4s3-1"]})));
    assert_eq!(message.event, "order.create");
    assert_eq!(message.data["location_id"], "3r4s3-1");
    assert_eq!(message.data["event"]["order_id"], first.as_str());
    assert_eq!(
        message.data["event"]["new_state"]["customer_notes"],
        "first"
    );
    assert_eq!(message.id, format!("3r4s3-1:{}", message.data["seq"]));
    let seen = message.id.clone();
    drop(till);

    // Away: two orders. Back with Last-Event-ID: both, in order, not the first again.
    let second = place(&stack, "second").await?;
    let third = place(&stack, "third").await?;
    let events = stack.bridge.app().events.clone();
    assert!(support::eventually(wait, || async { events.count().await.unwrap_or(0) >= 3 }).await);
    let mut till = SseReader::open(&stack.pos_url, &token, "till-1", Some(&seen)).await?;
    let messages = [till.next(wait).await?, till.next(wait).await?];
    // In the bridge's order (HubRise sends events concurrently, so not necessarily the order
    // they were placed in): numbers follow the last one seen.
    let seqs: Vec<i64> = messages
        .iter()
        .filter_map(|m| m.data["seq"].as_i64())
        .collect();
    let last = message.data["seq"].as_i64().unwrap_or_default();
    assert_eq!(seqs, [last + 1, last + 2]);
    let mut orders: Vec<String> = messages
        .iter()
        .filter_map(|m| m.data["event"]["order_id"].as_str().map(str::to_owned))
        .collect();
    orders.sort();
    let mut expected = vec![second.clone(), third.clone()];
    expected.sort();
    assert_eq!(orders, expected);
    drop(till);

    // Without Last-Event-ID the till's cursor kept by the bridge says where it was: nothing
    // again until a new order.
    let mut till = SseReader::open(&stack.pos_url, &token, "till-1", None).await?;
    let fourth = place(&stack, "fourth").await?;
    assert_eq!(
        till.next(wait).await?.data["event"]["order_id"],
        fourth.as_str()
    );
    // Another till of the account started after all that begins at the newest event.
    let mut other = SseReader::open(&stack.pos_url, &token, "till-2", None).await?;
    let fifth = place(&stack, "fifth").await?;
    assert_eq!(
        other.next(wait).await?.data["event"]["order_id"],
        fifth.as_str()
    );
    assert_eq!(
        till.next(wait).await?.data["event"]["order_id"],
        fifth.as_str()
    );
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}

/// A till resuming past a location's newest event (its position came from a database since
/// restored, or another backend) starts at the newest, told of a gap, and then hears what comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_past_the_newest_event_is_told_as_a_gap() -> TestResult {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        support::compressed_callbacks(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, "3r4s3-1").await?;
    let wait = Duration::from_secs(5);
    let mut till = SseReader::open(&stack.pos_url, &token, "till-1", Some("3r4s3-1:9999")).await?;
    let gap = till.next(wait).await?;
    assert_eq!(gap.event, "gap");
    assert_eq!(gap.data["location_id"], "3r4s3-1");
    let placed = place(&stack, "after the restore").await?;
    let message = till.next(wait).await?;
    assert_eq!(message.data["event"]["order_id"], placed.as_str());
    stack.bridge.stop().await?;
    stack.sandbox.stop().await;
    Ok(())
}
