//! Issue 24, part 4: siblings stay consistent without read-back. HubRise never tells a client of
//! its own changes, and every till of a restaurant is one client: a till reports each change
//! HubRise accepted from it to the bridge, which relays it on the stream to the location's
//! other tills. While the stream brings a location's events, its tills poll HubRise as a safety
//! net only, and poll at their pace again the moment the stream ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use passerelle_core::{InMemorySecretStore, OrderStatus, Passerelle, PasserelleEvent};
use passerelle_sandbox::seed::sample_order;
use passerelle_sandbox::{ActiveCallbacks, Fault, SandboxOptions, ServerKind};
use passerelle_test_support::{EventRecorder, order_received};
use reqwest::StatusCode;
use serde_json::json;

use crate::stream::SseReader;
use crate::support::{self, Stack, TestResult, client};

const LOCATION: &str = "3r4s3-1";

/// A till of the seed's first restaurant, connected to [`LOCATION`] and syncing.
async fn till(
    stack: &Stack,
    dir: &tempfile::TempDir,
    poll_secs: u32,
) -> Result<(Passerelle, Arc<EventRecorder>), Box<dyn std::error::Error>> {
    let config = support::till_config(stack, dir.path(), poll_secs);
    support::connected_till(
        stack,
        config,
        Arc::new(InMemorySecretStore::new()),
        LOCATION,
    )
    .await
}

async fn stack() -> Result<(tempfile::TempDir, Stack), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let stack = support::start_with(
        SandboxOptions::default(),
        support::sqlite(dir.path()),
        support::keys(),
    )
    .await?;
    Ok((dir, stack))
}

fn updated_to(order_id: &str, status: OrderStatus) -> impl Fn(&PasserelleEvent) -> bool + '_ {
    move |e| matches!(e, PasserelleEvent::OrderUpdated { order } if order.id == order_id && order.status == status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sibling_s_accept_reaches_the_other_till_through_the_bridge() -> TestResult {
    let (_dir, stack) = stack().await?;
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    // HubRise's documented interval: the read-back of a streamed till is 10 minutes away.
    let (first, first_events) = till(&stack, &first_dir, 30).await?;
    let (second, second_events) = till(&stack, &second_dir, 30).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let order = stack
        .sandbox
        .admin()
        .place_order(LOCATION, sample_order("Ada"))
        .await?;
    for events in [&first_events, &second_events] {
        events
            .wait_for(order_received(&order), Duration::from_secs(5))
            .await
            .map_err(|e| format!("the order did not come through the stream: {e:?}"))?;
    }
    let accepted = Instant::now();
    first.accept(&order, None).await?;
    second_events
        .wait_for(
            updated_to(&order, OrderStatus::Accepted),
            Duration::from_secs(20),
        )
        .await
        .map_err(|e| format!("the sibling's accept never reached the other till: {e:?}"))?;
    let seen_in = accepted.elapsed();
    eprintln!("accept at one till -> OrderUpdated at its sibling: {seen_in:?}");
    assert!(
        seen_in < Duration::from_secs(5),
        "the accept took {seen_in:?}: it came by a read-back, not through the bridge"
    );
    assert_eq!(
        second.order(&order)?.map(|o| o.status),
        Some(OrderStatus::Accepted)
    );
    // The first till's own change came back to it on the stream and was skipped: it announced
    // the accept once, when HubRise answered its PATCH.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepts = first_events
        .events()
        .into_iter()
        .filter(|e| updated_to(&order, OrderStatus::Accepted)(e))
        .count();
    assert!(
        accepts <= 1,
        "the till heard its own accept again: {accepts}"
    );
    first.close().await?;
    second.close().await?;
    Ok(())
}

/// A sibling's change for an order this till does not hold yet (HubRise has not delivered it to
/// the bridge; the sibling read it from HubRise's queue): the till reads the order at once
/// rather than ignoring the change and waiting for the order's own event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sibling_s_change_for_an_order_not_held_yet_brings_the_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    let late = SandboxOptions {
        active_callbacks: ActiveCallbacks {
            delay: Duration::from_secs(120),
            ..ActiveCallbacks::default()
        },
        ..SandboxOptions::default()
    };
    let stack = support::start_with(late, support::sqlite(dir.path()), support::keys()).await?;
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (first, first_events) = till(&stack, &first_dir, 30).await?;
    let (second, second_events) = till(&stack, &second_dir, 30).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let order = stack
        .sandbox
        .admin()
        .place_order(LOCATION, sample_order("Ada"))
        .await?;
    // The first till polls HubRise's queue, which has the event the bridge has not had yet.
    first.sync_now().await?;
    first_events
        .wait_for(order_received(&order), Duration::from_secs(5))
        .await
        .map_err(|e| format!("the poll did not bring the order: {e:?}"))?;
    first.accept(&order, None).await?;
    second_events
        .wait_for(order_received(&order), Duration::from_secs(15))
        .await
        .map_err(|e| format!("the sibling's change for an order not held was ignored: {e:?}"))?;
    assert_eq!(
        second.order(&order)?.map(|o| o.status),
        Some(OrderStatus::Accepted)
    );
    first.close().await?;
    second.close().await?;
    Ok(())
}

/// HubRise sends a new order once per till (each has its own connection): the bridge files
/// it once, so each till reads it once, not once per till of the location.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_sent_once_per_till_is_filed_and_relayed_once() -> TestResult {
    let (_dir, stack) = stack().await?;
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (first, first_events) = till(&stack, &first_dir, 30).await?;
    let (second, second_events) = till(&stack, &second_dir, 30).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let admin = stack.sandbox.admin();
    admin.reset_requests().await;
    let filed_before = stack.bridge.app().events.count().await?;
    let order = admin.place_order(LOCATION, sample_order("Ada")).await?;
    for events in [&first_events, &second_events] {
        events
            .wait_for(order_received(&order), Duration::from_secs(5))
            .await
            .map_err(|e| format!("the order did not come through the stream: {e:?}"))?;
    }
    settle_received(&stack, [&first, &second], &order).await?;
    assert_eq!(
        stack.bridge.app().events.count().await? - filed_before,
        1,
        "one order, filed once"
    );
    let path = format!("/v1/location/orders/{order}");
    let reads = admin
        .requests()
        .await
        .iter()
        .filter(|r| r.server == ServerKind::Api && r.method == "GET" && r.path == path)
        .count();
    // Each till: the order's read, then its read before its automatic `received`.
    assert!(reads <= 4, "the order was read {reads} times by two tills");
    first.close().await?;
    second.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_till_polls_hubrise_as_a_safety_net_until_the_stream_ends() -> TestResult {
    let (_dir, stack) = stack().await?;
    let app_dir = tempfile::tempdir()?;
    let (app, _events) = till(&stack, &app_dir, 2).await?;
    let admin = stack.sandbox.admin();
    let polls = || admin.count_requests("GET", "/v1/callback/events");
    // The stream is up and names the location: polls every 2 s become a safety net.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = polls().await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let streamed = polls().await - before;
    assert!(
        streamed <= 1,
        "{streamed} polls in 8 s while the stream brought the location's events"
    );

    let Stack {
        sandbox, bridge, ..
    } = stack;
    bridge.stop().await?;
    let admin = sandbox.admin();
    let before = admin.count_requests("GET", "/v1/callback/events").await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let unstreamed = admin.count_requests("GET", "/v1/callback/events").await - before;
    assert!(
        unstreamed >= 3,
        "{unstreamed} polls in 8 s at 2 s with the bridge down: polling did not resume"
    );
    app.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_change_is_kept_once_for_the_account_s_locations_and_relayed() -> TestResult {
    let (_dir, stack) = stack().await?;
    let (token, _) = support::connect_off_device(&stack.sandbox, &stack.pos_url, LOCATION).await?;
    let mut sibling = SseReader::open(&stack.pos_url, &token, "till-2", None).await?;
    let url = format!("{}/hubrise/changes", stack.pos_url);
    let change = json!({"change_id": "till-1:7-1", "device_id": "till-1", "location_id": LOCATION,
        "order_id": "o1", "status": "accepted"});
    let report =
        |body: serde_json::Value| client().post(&url).bearer_auth(&token).json(&body).send();

    let unauthenticated = client().post(&url).json(&change).send().await?;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let mut elsewhere = change.clone();
    elsewhere["location_id"] = json!("3r4s3-2");
    assert_eq!(
        report(elsewhere).await?.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut empty = change.clone();
    empty["order_id"] = json!(" ");
    assert_eq!(report(empty).await?.status(), StatusCode::BAD_REQUEST);

    let first = report(change.clone()).await?;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(first.json::<serde_json::Value>().await?["stored"], true);
    let replay = report(change).await?;
    assert_eq!(replay.json::<serde_json::Value>().await?["stored"], false);

    let message = sibling.next(Duration::from_secs(5)).await?;
    assert_eq!(message.event, "till.change");
    assert_eq!(
        message.data["event"],
        json!({"order_id": "o1", "status": "accepted", "device_id": "till-1"})
    );
    assert!(
        sibling.next(Duration::from_millis(500)).await.is_err(),
        "the replayed change was relayed twice"
    );
    Ok(())
}

/// When the customer's cancellation (through another app) lands against the first till's
/// accept.
#[derive(Clone, Copy, Debug)]
enum Cancelled {
    /// Before the till read the order to check its accept: the accept is never sent.
    BeforeTheAccept,
    /// After HubRise applied the accept.
    AfterTheAccept,
    /// After HubRise applied the accept and before its answer reached the till, which meanwhile
    /// read the cancellation from the event: the older answer must not write over it.
    WhileTheAnswerTravels,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sibling_s_accept_and_a_cancellation_from_hubrise_end_cancelled_everywhere() -> TestResult
{
    let (_dir, stack) = stack().await?;
    let (first_dir, second_dir) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (first, first_events) = till(&stack, &first_dir, 30).await?;
    let (second, second_events) = till(&stack, &second_dir, 30).await?;
    let admin = stack.sandbox.admin();
    for when in [
        Cancelled::BeforeTheAccept,
        Cancelled::AfterTheAccept,
        Cancelled::WhileTheAnswerTravels,
    ] {
        let order = admin
            .place_order(LOCATION, sample_order(&format!("{when:?}")))
            .await?;
        for events in [&first_events, &second_events] {
            events
                .wait_for(order_received(&order), Duration::from_secs(5))
                .await
                .map_err(|e| format!("the order did not come through the stream: {e:?}"))?;
        }
        settle_received(&stack, [&first, &second], &order).await?;
        let cancel =
            || admin.update_order_as_other_app(LOCATION, &order, json!({"status": "cancelled"}));
        match when {
            Cancelled::BeforeTheAccept => {
                cancel().await?;
                first.accept(&order, None).await?;
            }
            Cancelled::AfterTheAccept => {
                first.accept(&order, None).await?;
                updated(&first, &order, OrderStatus::Accepted).await?;
                cancel().await?;
            }
            Cancelled::WhileTheAnswerTravels => {
                let route = format!("/v1/location/orders/{order}");
                let slow = Fault::slow_answer(&route, Duration::from_millis(1500), 1);
                admin
                    .inject_fault(slow.for_method("PATCH").on_server(ServerKind::Api))
                    .await;
                first.accept(&order, None).await?;
                passerelle_test_support::wait_until(Duration::from_secs(5), || async {
                    admin
                        .order(LOCATION, &order)
                        .await
                        .is_some_and(|o| o["status"] == "accepted")
                })
                .await;
                cancel().await?;
            }
        }
        for (name, till, events) in [
            ("first", &first, &first_events),
            ("second", &second, &second_events),
        ] {
            let shown = updated(till, &order, OrderStatus::Cancelled).await;
            let heard: Vec<_> = events
                .events()
                .into_iter()
                .filter(|e| format!("{e:?}").contains(&order))
                .collect();
            assert!(
                shown.is_ok(),
                "{when:?}: the {name} till shows {:?}, HubRise {:?}, it heard {heard:?}",
                till.order(&order)?.map(|o| (o.status, o.pending_status)),
                admin
                    .order(LOCATION, &order)
                    .await
                    .map(|o| o["status"].clone()),
            );
        }
        // The answer to the slow PATCH has come and gone: the till still shows the cancellation.
        tokio::time::sleep(Duration::from_millis(1600)).await;
        assert_eq!(
            first.order(&order)?.map(|o| o.status),
            Some(OrderStatus::Cancelled),
            "{when:?}: an older answer wrote over the cancellation"
        );
        let at_hubrise = admin.order(LOCATION, &order).await.ok_or("order gone")?;
        assert_eq!(at_hubrise["status"], "cancelled", "{when:?}");
    }
    first.close().await?;
    second.close().await?;
    Ok(())
}

/// Waits until the order shows `status`, with no change of the till's pending.
async fn updated(till: &Passerelle, order: &str, status: OrderStatus) -> Result<(), String> {
    let shown = passerelle_test_support::wait_until(Duration::from_secs(10), || async {
        till.order(order)
            .ok()
            .flatten()
            .is_some_and(|o| o.status == status && o.pending_status.is_none())
    })
    .await;
    shown.then_some(()).ok_or_else(|| {
        format!(
            "{order} never showed {status:?}: {:?}, failed changes {:?}, health {:?}",
            till.order(order)
                .ok()
                .flatten()
                .map(|o| (o.status, o.pending_status)),
            till.failed_changes(),
            till.sync_health().map(|h| h.connections)
        )
    })
}

/// Waits until the tills' automatic `received` has reached HubRise and both tills are done
/// with it: each reads the order before sending its own (or dropping it when the other's came
/// first), so the received shown at HubRise may be the first till's while the second's is still
/// on its way; nothing for the order for a second says both are done.
async fn settle_received(stack: &Stack, tills: [&Passerelle; 2], order: &str) -> TestResult {
    let admin = stack.sandbox.admin();
    let path = format!("/v1/location/orders/{order}");
    let requests = || async {
        admin
            .requests()
            .await
            .iter()
            .filter(|r| r.server == ServerKind::Api && r.path == path)
            .count()
    };
    let seen = std::cell::Cell::new(requests().await);
    let settled = passerelle_test_support::wait_until(Duration::from_secs(10), || async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = requests().await;
        let quiet = seen.replace(now) == now;
        let received = admin
            .order(LOCATION, order)
            .await
            .is_some_and(|o| o["status"] == "received");
        quiet
            && received
            && tills.iter().all(|till| {
                till.order(order)
                    .ok()
                    .flatten()
                    .is_some_and(|o| o.pending_status.is_none())
            })
    })
    .await;
    settled
        .then_some(())
        .ok_or_else(|| "the automatic received never settled".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_refused_once_is_tried_again_on_its_own_backoff_while_streamed() -> TestResult {
    let (_dir, stack) = stack().await?;
    let app_dir = tempfile::tempdir()?;
    // HubRise's interval: while streamed, the intake cycle (which also pushes) is minutes away.
    let (app, events) = till(&stack, &app_dir, 30).await?;
    let admin = stack.sandbox.admin();
    let order = admin.place_order(LOCATION, sample_order("Ada")).await?;
    events
        .wait_for(order_received(&order), Duration::from_secs(5))
        .await
        .map_err(|e| format!("the order did not come through the stream: {e:?}"))?;
    settle_received(&stack, [&app, &app], &order).await?;
    let refused = Fault::status(&format!("/v1/location/orders/{order}"), 503, 1);
    admin
        .inject_fault(refused.for_method("PATCH").on_server(ServerKind::Api))
        .await;
    app.accept(&order, None).await?;
    let accepted = passerelle_test_support::wait_until(Duration::from_secs(15), || async {
        admin
            .order(LOCATION, &order)
            .await
            .is_some_and(|o| o["status"] == "accepted")
    })
    .await;
    assert!(
        accepted,
        "the accept refused once waited for the next intake cycle: {:?}",
        app.order(&order)?.map(|o| (o.status, o.pending_status))
    );
    app.close().await?;
    Ok(())
}
