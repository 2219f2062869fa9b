//! Resource groups and workspaces: create, read, update, list (paged), delete; request counts.

use emulator::DEMO_SUBSCRIPTION;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, group_path, workspace_path};

#[tokio::test]
async fn resource_groups_are_created_then_updated() {
    let harness = Harness::start().await;
    let path = format!("/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/rg-new");
    assert_eq!(harness.get(&path).await.code(), "ResourceGroupNotFound");
    assert_eq!(
        harness
            .put(&path, json!({"location": "westus"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let updated = harness
        .put(&path, json!({"location": "westus", "tags": {"a": "b"}}))
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(harness.get(&path).await.body["tags"], json!({"a": "b"}));
}

#[tokio::test]
async fn workspace_lifecycle() {
    let harness = Harness::start().await;
    harness.workspace().await;
    let path = workspace_path(crate::harness::WORKSPACE);
    let got = harness.get(&path).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.body["properties"]["provisioningState"],
        json!("Succeeded")
    );
    assert_eq!(got.body["properties"]["friendlyName"], json!("test"));
    assert_eq!(
        got.body["type"],
        json!("Microsoft.MachineLearningServices/workspaces")
    );
    assert!(got.body["properties"]["workspaceId"].is_string());

    let patched = harness
        .patch(
            &path,
            json!({"tags": {"team": "ml"}, "properties": {"description": "d"}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{patched:?}");
    assert_eq!(patched.body["tags"], json!({"team": "ml"}));
    assert_eq!(
        harness.get(&path).await.body["properties"]["description"],
        json!("d")
    );
    assert_eq!(
        harness
            .patch(&path, json!({"location": "westus"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let keys = harness.post(&format!("{path}/listKeys")).await;
    assert_eq!(keys.status, StatusCode::OK);
    assert!(keys.body["userStorageKey"].is_string());

    let deleted = harness.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert!(deleted.header("location").is_some());
    assert_eq!(harness.wait(&deleted).await, "Succeeded");
    assert_eq!(harness.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(harness.delete(&path).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn workspace_bodies_are_validated() {
    let harness = Harness::start().await;
    let path = workspace_path("ws-bad");
    let wrong = harness
        .put(
            &path,
            json!({"location": "eastus", "properties": {"hbiWorkspace": "yes"}}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        wrong.body["error"]["target"],
        json!("properties.hbiWorkspace")
    );
    let unknown = harness
        .put(&path, json!({"location": "eastus", "colour": "red"}))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.message().contains("colour"));
    let missing_group = harness
        .put(
            &format!("/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/nope/providers/Microsoft.MachineLearningServices/workspaces/ws-x"),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(missing_group.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workspaces_are_listed_by_group_and_subscription_with_paging() {
    let harness = Harness::start().await;
    for index in 0..23 {
        let answer = harness
            .put(
                &workspace_path(&format!("ws-{index:02}")),
                json!({"location": "eastus"}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
    }
    for list in [
        format!(
            "{}/providers/Microsoft.MachineLearningServices/workspaces",
            group_path()
        ),
        format!(
            "/subscriptions/{DEMO_SUBSCRIPTION}/providers/Microsoft.MachineLearningServices/workspaces"
        ),
    ] {
        let first = harness.get(&list).await;
        assert_eq!(first.body["value"].as_array().map(Vec::len), Some(20));
        let next = first.body["nextLink"]
            .as_str()
            .expect("a second page")
            .to_owned();
        assert!(next.starts_with(harness.emulator().url()), "{next}");
        let second = harness.get(&next).await;
        assert_eq!(second.body["value"].as_array().map(Vec::len), Some(3));
        assert!(second.body.get("nextLink").is_none());
    }
}

#[tokio::test]
async fn stats_count_requests_by_method() {
    let harness = Harness::start().await;
    let before = harness.stats().await;
    harness.get(&group_path()).await;
    harness.get(&group_path()).await;
    harness
        .put(&workspace_path("ws-count"), json!({"location": "eastus"}))
        .await;
    harness
        .patch(&workspace_path("ws-count"), json!({"tags": {}}))
        .await;
    harness
        .post(&format!("{}/listKeys", workspace_path("ws-count")))
        .await;
    harness.delete(&workspace_path("ws-count")).await;
    let after = harness.stats().await;
    let grew = |method: &str| {
        after["requests"][method].as_u64().unwrap_or(0)
            - before["requests"][method].as_u64().unwrap_or(0)
    };
    assert_eq!(
        (
            grew("GET"),
            grew("PUT"),
            grew("PATCH"),
            grew("POST"),
            grew("DELETE")
        ),
        (2, 1, 1, 1, 1)
    );
    assert_eq!(after["duplicate_attachments"], json!(0));
}
