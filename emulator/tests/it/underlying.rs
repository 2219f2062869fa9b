//! Underlying resources as generic ARM resources.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, resource_id};

#[tokio::test]
async fn underlying_resources_are_put_read_and_deleted() {
    let harness = Harness::start().await;
    let vm = resource_id("Microsoft.Compute/virtualMachines/new-vm");
    assert_eq!(harness.get(&vm).await.status, StatusCode::NOT_FOUND);
    let created = harness.put(&vm, json!({"properties": {"storageProfile": {"osDisk": {"osType": "Linux"}}, "publicIpAddress": "1.2.3.4"}})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        created.body["type"],
        json!("Microsoft.Compute/virtualMachines")
    );
    assert_eq!(created.body["location"], json!("eastus"));
    assert_eq!(
        harness.put(&vm, json!({"properties": {}})).await.status,
        StatusCode::OK
    );
    assert_eq!(harness.delete(&vm).await.status, StatusCode::OK);
    assert_eq!(harness.get(&vm).await.status, StatusCode::NOT_FOUND);
    assert_eq!(harness.delete(&vm).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn synapse_pools_need_their_workspace_and_go_with_it() {
    let harness = Harness::start().await;
    let orphan = resource_id("Microsoft.Synapse/workspaces/nope/bigDataPools/p");
    assert_eq!(
        harness.put(&orphan, json!({"properties": {}})).await.status,
        StatusCode::NOT_FOUND
    );
    let pool = resource_id("Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool");
    assert_eq!(
        harness.get(&pool).await.body["properties"]["sparkVersion"],
        json!("3.4")
    );
    assert_eq!(
        harness
            .delete(&resource_id("Microsoft.Synapse/workspaces/demo-synapse"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(harness.get(&pool).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_demo_resource_is_seeded() {
    let harness = Harness::start().await;
    for resource in [
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        "Microsoft.Compute/virtualMachines/demo-private-vm",
        "Microsoft.Compute/virtualMachines/demo-windows-vm",
        "Microsoft.HDInsight/clusters/demo-hdi",
        "Microsoft.Databricks/workspaces/demo-databricks",
        "Microsoft.DataLakeAnalytics/accounts/demo-adla",
        "Microsoft.ContainerService/managedClusters/demo-aks",
        "Microsoft.Kubernetes/connectedClusters/demo-arc",
        "Microsoft.Synapse/workspaces/demo-synapse",
        "Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool",
    ] {
        assert_eq!(
            harness.get(&resource_id(resource)).await.status,
            StatusCode::OK,
            "{resource}"
        );
    }
}

#[tokio::test]
async fn a_seed_file_replaces_the_demo_seed() {
    let seed_dir = tempfile::tempdir().expect("temp dir");
    let seed = seed_dir.path().join("seed.json");
    std::fs::write(
        &seed,
        json!({
            "resource_groups": [{"subscription": emulator::DEMO_SUBSCRIPTION, "name": "custom-rg"}],
            "resources": [{"id": format!("/subscriptions/{}/resourceGroups/custom-rg/providers/Microsoft.Databricks/workspaces/custom-dbx", emulator::DEMO_SUBSCRIPTION)}],
        })
        .to_string(),
    )
    .expect("seed written");
    let harness = Harness::start_with(|config| config.seed = Some(seed.clone())).await;
    let custom = format!(
        "/subscriptions/{}/resourceGroups/custom-rg/providers/Microsoft.Databricks/workspaces/custom-dbx",
        emulator::DEMO_SUBSCRIPTION
    );
    assert_eq!(harness.get(&custom).await.status, StatusCode::OK);
    assert_eq!(
        harness.get(&crate::harness::group_path()).await.status,
        StatusCode::NOT_FOUND
    );
}
