//! The end-to-end tests run twice (`scripts/test.sh`): on the sandbox's fake POS backend, and
//! with `PASSERELLE_E2E_POS_BACKEND=bridge` on passerelle-bridge behind the sandbox's POS
//! listener. This checks that the run is on the backend it says, so a pass on the bridge is not
//! a second pass on the fake.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passerelle_sandbox::{SandboxOptions, ServerKind};
use passerelle_test_support::{PosBackend, World};

#[tokio::test]
async fn the_world_talks_to_the_pos_backend_the_environment_names() {
    let world = World::start().await;
    assert_eq!(world.pos_backend(), PosBackend::from_env());
    let (app, _) = world.open_signed_in().await;
    // Only the bridge has /readyz; either way the request goes through the sandbox's POS
    // listener, so its log sees it (and the till's sign-in).
    let ready = reqwest::get(format!("{}/readyz", world.pos_url()))
        .await
        .unwrap()
        .status();
    match world.pos_backend() {
        PosBackend::Bridge => assert_eq!(ready, 200),
        PosBackend::SandboxFake => assert_eq!(ready, 404),
    }
    let log = world.sandbox.admin().requests().await;
    assert!(
        log.iter()
            .any(|r| r.server == ServerKind::Pos && r.path == "/oauth/token" && r.status == 200),
        "{log:?}"
    );
    // A switch only the fake honours keeps a test on the fake whatever the environment says.
    let fake = World::start_with(SandboxOptions {
        backend_registers_callback: false,
        ..SandboxOptions::default()
    })
    .await;
    assert_eq!(fake.pos_backend(), PosBackend::SandboxFake);
    app.close().await.ok();
}
