//! Serving: HTTPS with the written CA, certificate reuse, restarts, routing and api-version.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Harness, TOKEN, group_path, workspace_path};

#[tokio::test]
async fn https_is_trusted_through_the_written_ca_and_the_ca_survives_restarts() {
    let mut harness = Harness::start().await;
    assert!(harness.emulator().url().starts_with("https://127.0.0.1:"));
    let ca = harness
        .emulator()
        .ca_certificate()
        .expect("https has a CA")
        .to_owned();
    assert_eq!(ca, harness.dir.path().join("tls/cert.pem"));
    let before = std::fs::read(&ca).expect("CA written");
    assert_eq!(harness.get(&group_path()).await.status, StatusCode::OK);

    // A client without the CA is refused.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(harness.url(&group_path()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .is_err()
    );

    harness.restart().await;
    assert_eq!(
        std::fs::read(&ca).expect("CA still there"),
        before,
        "a restart keeps the CA"
    );
    assert_eq!(harness.get(&group_path()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn plain_http_when_asked() {
    let harness = Harness::start_with(|config| config.tls = false).await;
    assert!(harness.emulator().url().starts_with("http://127.0.0.1:"));
    assert!(harness.emulator().ca_certificate().is_none());
    assert_eq!(harness.get(&group_path()).await.status, StatusCode::OK);
    assert_eq!(
        harness.emulator().database(),
        harness.dir.path().join("emulator.db")
    );
}

#[tokio::test]
async fn restart_on_the_same_folder_keeps_data() {
    let mut harness = Harness::start().await;
    harness.workspace().await;
    let group = format!(
        "/subscriptions/{}/resourceGroups/kept",
        emulator::DEMO_SUBSCRIPTION
    );
    assert_eq!(
        harness
            .put(&group, json!({"location": "westeurope"}))
            .await
            .status,
        StatusCode::CREATED
    );
    harness.restart().await;
    assert_eq!(
        harness.get(&group).await.body["location"],
        json!("westeurope")
    );
    assert_eq!(
        harness
            .get(&workspace_path(crate::harness::WORKSPACE))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_paths_are_arm_404s() {
    let harness = Harness::start().await;
    for path in [
        "/nothing/here",
        "/subscriptions/x/resourceGroups/g/providers/Microsoft.Web/sites/s",
    ] {
        let answer = harness.get(path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {answer:?}");
        assert_eq!(answer.code(), "NotFound");
        assert!(!answer.message().is_empty());
    }
}

#[tokio::test]
async fn api_version_is_required_and_any_value_is_accepted() {
    let harness = Harness::start().await;
    let base = format!("{}{}", harness.emulator().url(), group_path());
    let missing = harness
        .send_raw(Method::GET, &base, None, Some(TOKEN))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.code(), "MissingApiVersionParameter");
    for version in ["2020-08-01", "2023-08-01-preview", "2099-01-01"] {
        let answer = harness
            .send_raw(
                Method::GET,
                &format!("{base}?api-version={version}"),
                None,
                Some(TOKEN),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{version}");
    }
}

#[tokio::test]
async fn non_loopback_addresses_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = emulator::EmulatorConfig::new(dir.path());
    config.listen = "0.0.0.0:0".parse().expect("address");
    assert!(matches!(
        emulator::start(config).await,
        Err(emulator::EmulatorError::NotLoopback { .. })
    ));
}
