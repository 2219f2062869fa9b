//! Retries against injected faults (429 with `Retry-After`, 500, 503): idempotent calls succeed,
//! each retry is traced, and the number of requests stays bounded.

use emulator::FaultConfig;
use engine::api::{ApiError, ArmClient, ArmId, CloudApi, RetryPolicy, UnderlyingResourceAction};
use engine::schema::Collection;
use pretty_assertions::assert_eq;

use super::{Logs, TOKEN, demo_resource, object, schema, serve};

fn total_requests(stats: &serde_json::Value) -> u64 {
    stats["requests"]
        .as_object()
        .expect("requests by method")
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum()
}

#[tokio::test]
async fn idempotent_calls_ride_out_injected_faults() {
    let served = serve(|config| {
        config.faults = FaultConfig {
            rate: 0.3,
            seed: Some(7),
            ..FaultConfig::default()
        };
    })
    .await;
    let logs = Logs::default();
    let _guard = logs.capture();
    let client = served.client();
    let before = total_requests(&served.stats().await);

    let workspace_id = super::workspace(&client, "faulty-ws").await;
    let cluster = schema("azureml_compute_cluster");
    let mut desired = object(&[
        ("name", "faulty-cluster".into()),
        ("workspace_id", workspace_id.as_str().into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", 1.into()),
    ]);
    let created = client
        .create_or_update(cluster, &desired)
        .await
        .expect("created despite faults");
    let cluster_id = created.get_str("id").expect("id").to_owned();
    desired.set("max_node_count", 2.into());
    let patched = client
        .patch(cluster, &cluster_id, &desired)
        .await
        .expect("patched despite faults");
    assert_eq!(patched.get("max_node_count"), &2.into());
    let vm = schema("azureml_attached_virtual_machine");
    let attached = client
        .create_or_update(
            vm,
            &object(&[
                ("name", "faulty-vm".into()),
                ("workspace_id", workspace_id.as_str().into()),
                (
                    "resource_id",
                    demo_resource("Microsoft.Compute/virtualMachines/demo-ubuntu-vm").into(),
                ),
                ("admin_username", "azureuser".into()),
                ("admin_password", "P4ssword!".into()),
            ]),
        )
        .await
        .expect("attached despite faults");
    for _ in 0..5 {
        assert_eq!(
            client
                .list(workspace_id.as_str(), Collection::Computes)
                .await
                .expect("listed")
                .len(),
            2
        );
    }
    let keys = client
        .list_keys(&ArmId::parse(attached.get_str("id").expect("id")).expect("id"))
        .await
        .expect("listKeys is a read and is retried");
    assert_eq!(keys["administratorAccount"]["password"], "P4ssword!");
    client
        .delete(
            vm,
            attached.get_str("id").expect("id"),
            UnderlyingResourceAction::Detach,
        )
        .await
        .expect("detached despite faults");
    client
        .delete(cluster, &cluster_id, UnderlyingResourceAction::Delete)
        .await
        .expect("deleted despite faults");

    let text = logs.text();
    let retries = text.matches("retrying ARM request").count();
    assert!(retries > 0, "faults were injected and retried:\n{text}");
    assert!(
        text.contains("attempt=") && text.contains("delay_ms=") && text.contains("failure=status"),
        "{text}"
    );
    for secret in [TOKEN, "P4ssword!"] {
        assert!(!text.contains(secret), "`{secret}` must never be logged");
    }
    // Bounded: every retry is one extra request, and nothing else was sent.
    let stats = served.stats().await;
    let sent = total_requests(&stats) - before - 1; // the second stats call itself
    assert!(
        sent >= retries as u64,
        "{sent} requests for {retries} retries: {stats}"
    );
    assert!(sent < 200, "{sent} requests: {stats}");
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_error_is_returned() {
    let served = serve(|config| {
        config.faults = FaultConfig {
            rate: 1.0,
            seed: Some(1),
            ..FaultConfig::default()
        };
    })
    .await;
    let logs = Logs::default();
    let _guard = logs.capture();
    let mut config = served.config(engine::api::Credential::Static(TOKEN.to_owned()));
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(20),
    };
    let client = ArmClient::new(config).expect("client");
    let workspace = ArmClient::workspace_id(
        emulator::DEMO_SUBSCRIPTION,
        emulator::DEMO_RESOURCE_GROUP,
        "never",
    );
    let started = std::time::Instant::now();
    let error = client
        .get_workspace(&workspace)
        .await
        .expect_err("every attempt fails");
    assert!(
        matches!(
            error,
            ApiError::Arm {
                status: 429 | 500 | 503,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        logs.text().matches("retrying ARM request").count(),
        2,
        "3 attempts = 2 retries"
    );
    // 429s carry `Retry-After: 1`, which is honoured; at most 2 waits.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
