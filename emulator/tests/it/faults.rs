//! Fault injection: the configured rate, deterministic with a seed, never on the token endpoint,
//! and never after a write was applied.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, group_path};

#[tokio::test]
async fn faults_appear_at_the_configured_rate() {
    let harness = Harness::start_with(|config| {
        config.faults = emulator::FaultConfig {
            rate: 0.3,
            latency: None,
            seed: Some(42),
        };
    })
    .await;
    let mut faulted = 0;
    for _ in 0..200 {
        let answer = harness.get(&group_path()).await;
        match answer.status {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                faulted += 1;
                assert_eq!(answer.header("retry-after"), Some("1"));
                assert_eq!(answer.code(), "TooManyRequests");
            }
            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => faulted += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        (30..=90).contains(&faulted),
        "{faulted} of 200 faulted at rate 0.3"
    );
    assert_eq!(harness.stats().await["faults_injected"], json!(faulted));
}

#[tokio::test]
async fn the_token_endpoint_is_never_faulted_and_faulted_writes_change_nothing() {
    let mut harness = Harness::start_with(|config| {
        config.faults = emulator::FaultConfig {
            rate: 1.0,
            latency: Some(std::time::Duration::from_millis(5)),
            seed: Some(1),
        };
    })
    .await;
    for _ in 0..10 {
        let response = harness
            .client
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                harness.emulator().url(),
                emulator::DEMO_TENANT
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", emulator::DEMO_CLIENT_ID),
                ("client_secret", emulator::DEMO_CLIENT_SECRET),
            ])
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let group = format!(
        "/subscriptions/{}/resourceGroups/faulted",
        emulator::DEMO_SUBSCRIPTION
    );
    for _ in 0..5 {
        assert_ne!(
            harness
                .put(&group, json!({"location": "eastus"}))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    harness
        .restart_with(|config| config.faults = emulator::FaultConfig::default())
        .await;
    assert_eq!(harness.get(&group).await.status, StatusCode::NOT_FOUND);
}
