//! Restart-to-apply of settings: pending until restart or the next open, or at once in
//! immediate mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use passerelle_core::{ApplyMode, ConfigChange, PasserelleError, PasserelleEvent};

#[tokio::test]
async fn settings_wait_for_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (app, events) = common::open(common::offline_config(dir.path())).await;
    let before = app.settings().unwrap();
    let mut wanted = before.clone();
    wanted.poll_interval_secs = 45;

    app.update_settings(wanted.clone()).await.unwrap();
    assert!(app.restart_required().unwrap());
    assert_eq!(
        app.settings().unwrap(),
        before,
        "active settings unchanged until restart"
    );
    assert_eq!(
        app.pending_changes().unwrap(),
        vec![ConfigChange::SettingsChanged {
            active: before.clone(),
            pending: wanted.clone()
        }]
    );
    events
        .wait_for(
            |e| matches!(e, PasserelleEvent::RestartRequired { .. }),
            common::EVENT_TIMEOUT,
        )
        .await
        .unwrap();

    app.restart().await.unwrap();
    assert_eq!(app.settings().unwrap(), wanted);
    assert!(!app.restart_required().unwrap());
    assert_eq!(app.configuration_version().unwrap(), 2);
    events
        .wait_for(
            |e| *e == PasserelleEvent::ConfigurationApplied { version: 2 },
            common::EVENT_TIMEOUT,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn reverting_to_the_active_settings_clears_the_pending_change() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::open(common::offline_config(dir.path())).await;
    let active = app.settings().unwrap();
    let mut other = active.clone();
    other.scope = "location[orders.read]".into();
    app.update_settings(other).await.unwrap();
    app.update_settings(active).await.unwrap();
    assert!(app.pending_changes().unwrap().is_empty());
    app.restart().await.unwrap();
    assert_eq!(
        app.configuration_version().unwrap(),
        1,
        "nothing to apply, no new version"
    );
}

#[tokio::test]
async fn the_next_open_applies_pending_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::open(common::offline_config(dir.path())).await;
    let mut wanted = app.settings().unwrap();
    wanted.poll_interval_secs = 60;
    app.update_settings(wanted.clone()).await.unwrap();
    drop(app);

    let (reopened, _) = common::open(common::offline_config(dir.path())).await;
    assert_eq!(reopened.settings().unwrap(), wanted);
    assert!(!reopened.restart_required().unwrap());
}

#[tokio::test]
async fn immediate_mode_applies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::offline_config(dir.path());
    config.initial_settings.apply_mode = ApplyMode::Immediately;
    let (app, _) = common::open(config).await;
    let mut wanted = app.settings().unwrap();
    wanted.poll_interval_secs = 90;
    app.update_settings(wanted.clone()).await.unwrap();
    assert_eq!(app.settings().unwrap(), wanted);
    assert!(!app.restart_required().unwrap());
}

#[tokio::test]
async fn invalid_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::offline_config(dir.path());
    config.hubrise_api_url = "https://api.hubrise.com/v1".into();
    let (app, _) = common::open(config).await;
    let mut wanted = app.settings().unwrap();
    wanted.poll_interval_secs = 5;
    let err = app.update_settings(wanted).await.unwrap_err();
    assert!(matches!(err, PasserelleError::InvalidConfig { .. }));
    assert!(app.pending_changes().unwrap().is_empty());
}

#[tokio::test]
async fn device_id_is_generated_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = common::open(common::offline_config(dir.path())).await;
    let id = app.device_id().unwrap();
    // No label from the host: the app's name and a short suffix, in HubRise's characters.
    assert!(
        id.starts_with("Passerelle-") && id.len() == "Passerelle-".len() + 4,
        "{id}"
    );
    drop(app);
    let (again, _) = common::open(common::offline_config(dir.path())).await;
    assert_eq!(again.device_id().unwrap(), id);
}
