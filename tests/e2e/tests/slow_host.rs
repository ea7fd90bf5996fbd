//! Issue 27, scenario 9: one slow disk or Keychain call never stalls every location. The host's
//! secret store takes 2 s to answer for one location's token, which every cycle of that
//! location reads; the other location's orders still reach the till within one poll interval.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use passerelle_core::{InMemorySecretStore, Passerelle, SecretStore, SecretStoreError};
use passerelle_test_support::{
    EVENT_TIMEOUT, EventRecorder, POLL_INTERVAL_SECS, World, order_received,
};

/// How long the host's store takes for the slow location's token.
const SLOW_GET: Duration = Duration::from_secs(2);

/// A secret store whose `get` blocks its thread for [`SLOW_GET`] on keys naming one connection
/// (a Keychain behind a prompt, a device under I/O pressure).
#[derive(Default)]
struct SlowForOne {
    inner: InMemorySecretStore,
    slow_connection: Mutex<Option<String>>,
    slowed: AtomicBool,
}

impl SecretStore for SlowForOne {
    fn get(&self, key: String) -> Result<Option<String>, SecretStoreError> {
        let slow = self.slow_connection.lock().unwrap().clone();
        if slow.is_some_and(|id| key.contains(&id)) {
            self.slowed.store(true, Ordering::SeqCst);
            std::thread::sleep(SLOW_GET);
        }
        self.inner.get(key)
    }

    fn set(&self, key: String, value: String) -> Result<(), SecretStoreError> {
        self.inner.set(key, value)
    }

    fn delete(&self, key: String) -> Result<(), SecretStoreError> {
        self.inner.delete(key)
    }
}

/// One worker thread, as a phone's runtime may give: a call that blocks the worker without
/// handing its tasks over holds up every other location, the sandbox's servers too.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_keychain_slow_for_one_location_never_delays_another_locations_orders() {
    let world = World::start().await;
    let store = Arc::new(SlowForOne::default());
    let events = Arc::new(EventRecorder::new());
    let app = Passerelle::open(world.config(), store.clone(), events.clone())
        .await
        .expect("open");
    world.sign_in(&app).await;
    let [paris, lyon] = [
        world.location_ids()[0].clone(),
        world.location_ids()[1].clone(),
    ];
    let paris_connection = world.connect(&app, &paris).await.id;
    world.connect(&app, &lyon).await;
    app.restart().await.unwrap();
    *store.slow_connection.lock().unwrap() = Some(paris_connection);

    let bound = Duration::from_secs(u64::from(POLL_INTERVAL_SECS)) + Duration::from_millis(500);
    for i in 0..5 {
        let placed = Instant::now();
        let order = world.place_order(&lyon, &format!("Lyon {i}")).await;
        events
            .wait_for(order_received(&order), EVENT_TIMEOUT)
            .await
            .unwrap();
        let waited = placed.elapsed();
        assert!(
            waited <= bound,
            "Lyon's order {i} waited {waited:?} behind Paris's Keychain (bound {bound:?})"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert!(
        store.slowed.load(Ordering::SeqCst),
        "Paris's token was read, slowly"
    );
    let _ = app.close().await;
}
