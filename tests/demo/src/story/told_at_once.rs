//! Act 7 (issue 24): the bridge tells the till at once. passerelle-bridge starts taking
//! HubRise's events (its active callback), the till's stream names the location, and an order
//! placed at HubRise reaches the till through the bridge in milliseconds instead of at the next
//! poll. The act prints this run's figure beside the benchmark's (BENCHMARKS.md, "Push: orders at
//! the till through the bridge, end to end").

use std::path::Path;
use std::time::Instant;

use passerelle_bridge::Running;
use passerelle_bridge::config::DatabaseUrl;
use passerelle_bridge::crypto::Keyring;
use passerelle_core::PasserelleEvent;
use passerelle_sandbox::{Sandbox, SeedLocation, ServerKind};
use passerelle_test_support::bridge::{bridge_config, checked_at_the_sandbox};
use passerelle_test_support::order_received;

use super::steps::{DemoError, StepResult, Steps, Stopped, ensure, poll};
use super::{Story, WAIT_LIMIT};
use crate::ui::Ui;

/// What the benchmark measured: 1,000 orders, 3 locations × 2 tills, a 30 s poll.
const MEASURED: &str = "p50 10 ms, p99 32 ms over 1,000 orders at 6 tills with a 30 s poll";

/// The bridge restarts with the active callback on; an order placed then reaches the till
/// through its stream.
pub(super) async fn act(
    steps: &mut Steps,
    mut story: Story,
    location: &SeedLocation,
) -> Result<Story, Stopped> {
    let ui = steps.ui;
    let old = story.bridge;
    story.bridge = steps
        .run(
            "The bridge takes HubRise's events (active callback)",
            take_events(
                ui,
                &story.sandbox,
                old,
                (&story.pos_url, story.bridge_dir.path(), &story.bridge_keys),
            ),
        )
        .await?;
    steps
        .run(
            "The bridge tells the till at once",
            story.told_at_once(location),
        )
        .await?;
    Ok(story)
}

/// Stops `old` and starts the bridge again at its address, on its database and keys, with
/// the active callback on; waits for the till's new stream to have it checked at HubRise.
async fn take_events(
    ui: Ui,
    sandbox: &Sandbox,
    old: Running,
    (url, dir, keys): (&str, &Path, &Keyring),
) -> StepResult<Running> {
    let addr = old.addr;
    old.stop()
        .await
        .map_err(|e| DemoError::new(format!("stopping the bridge: {e}")))?;
    let mark = sandbox.admin().requests().await.len();
    let database = DatabaseUrl::Sqlite(dir.join("bridge.sqlite3"));
    let mut config = bridge_config(sandbox, url, database, keys.clone());
    checked_at_the_sandbox(&mut config);
    config.active_callback = true;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| DemoError::new(format!("the bridge's address {addr}: {e}")))?;
    let bridge = passerelle_bridge::start_on(listener, config)
        .await
        .map_err(|e| DemoError::new(format!("the bridge: {e}")))?;
    ui.say("passerelle-bridge restarts with active_callback = true: HubRise will POST each order");
    ui.say("event to it, and it pushes the event on each till's stream (Server-Sent Events).");
    let checked = ui
        .wait(
            "the till's stream reopens and the bridge checks the callback at HubRise",
            poll(WAIT_LIMIT, || async {
                let log = sandbox.admin().requests().await;
                Ok(log
                    .iter()
                    .skip(mark)
                    .any(|r| r.server == ServerKind::Api && r.path == "/v1/callback")
                    .then_some(()))
            }),
        )
        .await?;
    ensure!(
        checked.is_some(),
        "the till's stream did not come back within {} s",
        WAIT_LIMIT.as_secs()
    );
    // The till reads the stream's `ready`, which names the location, right after the check.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ui.say("The stream's first message names the location: the till now polls HubRise only");
    ui.say("every 5 minutes, as a safety net.");
    Ok((bridge, "active callback on, stream open".into()))
}

impl Story {
    async fn told_at_once(&self, location: &SeedLocation) -> StepResult<()> {
        let ui = self.ui;
        let admin = self.sandbox.admin();
        let mark = self.events.mark();
        let logged = admin.requests().await.len();
        let placed = Instant::now();
        let order_id = admin
            .place_order(&location.id, passerelle_sandbox::seed::sample_order("Inès"))
            .await?;
        let event = ui
            .wait(
                "waiting for the order (HubRise → bridge → the till's stream)",
                self.events
                    .wait_for_after(mark, order_received(&order_id), WAIT_LIMIT),
            )
            .await;
        let arrived_in = placed.elapsed();
        ensure!(
            matches!(event, Ok(PasserelleEvent::OrderReceived { .. })),
            "no OrderReceived event within {} s",
            WAIT_LIMIT.as_secs()
        );
        let pushed = admin
            .requests()
            .await
            .iter()
            .skip(logged)
            .any(|r| r.server == ServerKind::Pos && r.path == "/hubrise/callback");
        ensure!(
            pushed,
            "HubRise never POSTed the order's event to the bridge: it came by polling"
        );
        let ms = arrived_in.as_secs_f64() * 1000.0;
        ui.say(&format!(
            "Ding! Order {order_id} at the till {ms:.0} ms after it was placed, through the bridge."
        ));
        ui.say(&format!(
            "The benchmark (cargo run --release -p passerelle-bench --bin push): {MEASURED}."
        ));
        Ok(((), format!("arrived in {ms:.0} ms through the bridge")))
    }
}
