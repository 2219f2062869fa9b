//! Long-running operations: headers, both monitors, and time-based states that survive restarts.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, compute_path, instance};

#[tokio::test]
async fn put_polls_from_in_progress_to_succeeded_on_both_monitors() {
    let harness =
        Harness::start_with(|config| config.provision_delay = Duration::from_millis(600)).await;
    harness.workspace().await;
    let answer = harness
        .put(
            &compute_path("cpu"),
            crate::harness::cluster("STANDARD_DS3_V2", 1),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(
        answer.body["properties"]["provisioningState"],
        json!("Creating")
    );
    assert_eq!(answer.header("retry-after"), Some("1"));
    let status_url = answer
        .header("azure-asyncoperation")
        .expect("status monitor")
        .to_owned();
    let result_url = answer
        .header("location")
        .expect("result monitor")
        .to_owned();
    assert!(status_url.starts_with(harness.emulator().url()));

    let status = harness.get(&status_url).await;
    assert_eq!(status.body["status"], json!("InProgress"));
    assert_eq!(harness.get(&result_url).await.status, StatusCode::ACCEPTED);
    assert_eq!(
        harness.get(&compute_path("cpu")).await.body["properties"]["provisioningState"],
        json!("Creating")
    );

    assert_eq!(harness.wait(&answer).await, "Succeeded");
    let result = harness.get(&result_url).await;
    assert_eq!(result.status, StatusCode::OK);
    assert_eq!(
        result.body["properties"]["provisioningState"],
        json!("Succeeded")
    );
    assert!(harness.get(&status_url).await.body["endTime"].is_string());
}

#[tokio::test]
async fn provisioning_progress_survives_a_restart() {
    let mut harness =
        Harness::start_with(|config| config.provision_delay = Duration::from_millis(500)).await;
    harness.workspace().await;
    let answer = harness
        .put(&compute_path("box"), instance("STANDARD_DS3_V2"))
        .await;
    assert_eq!(
        answer.body["properties"]["provisioningState"],
        json!("Creating")
    );
    harness.restart().await;
    tokio::time::sleep(Duration::from_millis(550)).await;
    let got = harness.get(&compute_path("box")).await.body;
    assert_eq!(got["properties"]["provisioningState"], json!("Succeeded"));
    assert_eq!(got["properties"]["properties"]["state"], json!("Running"));
    assert_eq!(harness.wait(&answer).await, "Succeeded");
}

#[tokio::test]
async fn a_deleting_compute_reads_deleting_then_disappears() {
    let harness =
        Harness::start_with(|config| config.provision_delay = Duration::from_millis(400)).await;
    harness.workspace().await;
    let created = harness
        .put(
            &compute_path("cpu"),
            crate::harness::cluster("STANDARD_DS3_V2", 1),
        )
        .await;
    harness.wait(&created).await;
    let deleted = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Delete",
            compute_path("cpu")
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_eq!(
        harness.get(&compute_path("cpu")).await.body["properties"]["provisioningState"],
        json!("Deleting")
    );
    // The name cannot be reused while the deletion runs.
    assert_eq!(
        harness
            .put(
                &compute_path("cpu"),
                crate::harness::cluster("STANDARD_DS3_V2", 1)
            )
            .await
            .status,
        StatusCode::CONFLICT
    );
    let location = deleted.header("location").expect("location").to_owned();
    assert_eq!(harness.get(&location).await.status, StatusCode::ACCEPTED);
    assert_eq!(harness.wait(&deleted).await, "Succeeded");
    assert_eq!(harness.get(&location).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        harness.get(&compute_path("cpu")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_superseded_attachment_fails_its_running_operation() {
    let harness =
        Harness::start_with(|config| config.provision_delay = Duration::from_millis(800)).await;
    harness.workspace().await;
    let body = crate::harness::attach(
        "Databricks",
        "Microsoft.Databricks/workspaces/demo-databricks",
        json!({"databricksAccessToken": "t"}),
    );
    let first = harness.put(&compute_path("dbx-a"), body.clone()).await;
    let second = harness.put(&compute_path("dbx-b"), body).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(harness.wait(&first).await, "Failed");
    assert_eq!(harness.wait(&second).await, "Succeeded");
}
