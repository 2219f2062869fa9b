//! Long-running operations: the client waits for a provisioning delay through the status
//! monitors (honouring `Retry-After`), and gives up with a typed timeout.

use std::time::{Duration, Instant};

use engine::api::{ApiError, ArmClient, CloudApi, PollPolicy};
use pretty_assertions::assert_eq;

use super::{Logs, TOKEN, object, schema, serve};

#[tokio::test]
async fn writes_wait_for_provisioning_to_finish() {
    let served = serve(|config| config.provision_delay = Duration::from_millis(1500)).await;
    let logs = Logs::default();
    let _guard = logs.capture();
    let client = served.client();
    let started = Instant::now();
    let workspace_id = super::workspace(&client, "lro-ws").await;
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "the workspace PUT waited: {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let cluster = client
        .create_or_update(
            schema("azureml_compute_cluster"),
            &object(&[
                ("name", "slow-cluster".into()),
                ("workspace_id", workspace_id.as_str().into()),
                ("vm_size", "STANDARD_DS3_V2".into()),
                ("max_node_count", 1.into()),
            ]),
        )
        .await
        .expect("created");
    assert!(
        started.elapsed() >= Duration::from_millis(1400),
        "the compute PUT waited: {:?}",
        started.elapsed()
    );
    assert_eq!(cluster.get_str("provisioning_state"), Some("Succeeded"));
    assert!(logs.text().contains("polled operation"), "polls are traced");
    assert!(!logs.text().contains(TOKEN), "the token is never logged");
}

#[tokio::test]
async fn an_operation_that_outlasts_the_poll_timeout_is_a_timeout() {
    let served = serve(|config| config.provision_delay = Duration::from_secs(30)).await;
    let mut config = served.config(engine::api::Credential::Static(TOKEN.to_owned()));
    config.poll = PollPolicy {
        default_interval: Duration::from_millis(50),
        timeout: Duration::from_millis(400),
    };
    let client = ArmClient::new(config).expect("client");
    let started = Instant::now();
    let error = client
        .create_or_update(
            schema("azureml_workspace"),
            &object(&[
                ("name", "slow-ws".into()),
                ("resource_group_name", emulator::DEMO_RESOURCE_GROUP.into()),
                ("location", "eastus".into()),
            ]),
        )
        .await
        .expect_err("times out");
    assert!(matches!(error, ApiError::Timeout { .. }), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up at the timeout: {:?}",
        started.elapsed()
    );
}
