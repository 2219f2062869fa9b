//! Code and environment assets over HTTP: containers and versions, immutability, the hash
//! filter, ordering, archiving and curated environments.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, WORKSPACE, workspace_path};

fn ws() -> String {
    workspace_path(WORKSPACE)
}

#[tokio::test]
async fn code_versions_are_immutable_and_found_by_hash() {
    let h = Harness::start().await;
    h.workspace().await;
    let version = |v: &str| format!("{}/codes/train/versions/{v}", ws());
    let body = |uri: &str, hash: &str| json!({ "properties": { "codeUri": uri, "tags": { "a": "1" }, "properties": { "hash_sha256": hash, "hash_version": "202208" } } });

    let created = h
        .put(&version("1"), body("https://x/_blob/a/c/one", "aa11"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(
        created.body["properties"]["codeUri"],
        "https://x/_blob/a/c/one"
    );
    assert_eq!(created.body["properties"]["isAnonymous"], false);
    assert!(created.body["systemData"]["createdAt"].is_string());
    assert_eq!(
        h.put(&version("2"), body("https://x/_blob/a/c/two", "bb22"))
            .await
            .status,
        StatusCode::CREATED
    );

    // Another codeUri for an existing version is refused; tags may change.
    let changed = h
        .put(&version("1"), body("https://x/_blob/a/c/other", "aa11"))
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{changed:?}");
    assert!(
        changed.message().contains("`codeUri`"),
        "{}",
        changed.message()
    );
    let mut retagged = body("https://x/_blob/a/c/one", "aa11");
    retagged["properties"]["tags"] = json!({ "a": "2" });
    let retagged = h.put(&version("1"), retagged).await;
    assert_eq!(retagged.status, StatusCode::OK, "{retagged:?}");
    assert_eq!(retagged.body["properties"]["tags"]["a"], "2");

    // The container was created with the first version.
    let container = h.get(&format!("{}/codes/train", ws())).await;
    assert_eq!(container.status, StatusCode::OK, "{container:?}");
    assert_eq!(container.body["properties"]["latestVersion"], "2");
    assert_eq!(container.body["properties"]["nextVersion"], "3");

    let found = h
        .get(&format!(
            "{}/codes/train/versions?api-version=2023-04-01&hash=BB22&hashVersion=202208",
            ws()
        ))
        .await;
    let names: Vec<&str> = found.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(names, ["2"]);
    let none = h
        .get(&format!(
            "{}/codes/train/versions?api-version=1&hash=cc33",
            ws()
        ))
        .await;
    assert_eq!(none.body["value"], json!([]));
    let newest = h
        .get(&format!(
            "{}/codes/train/versions?api-version=1&$orderBy=createdtime%20desc&$top=1",
            ws()
        ))
        .await;
    assert_eq!(newest.body["value"][0]["name"], "2", "{newest:?}");
    assert_eq!(newest.body["value"].as_array().map(Vec::len), Some(1));
    let bad = h
        .get(&format!(
            "{}/codes/train/versions?api-version=1&$orderBy=size",
            ws()
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let listed = h.get(&format!("{}/codes", ws())).await;
    assert_eq!(listed.body["value"][0]["name"], "train");

    assert_eq!(h.delete(&version("2")).await.status, StatusCode::OK);
    assert_eq!(h.get(&version("2")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.delete(&version("2")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.delete(&format!("{}/codes/train", ws())).await.status,
        StatusCode::OK
    );
    assert_eq!(
        h.get(&version("1")).await.status,
        StatusCode::NOT_FOUND,
        "versions go with their container"
    );
}

#[tokio::test]
async fn environment_versions_need_an_image_or_a_build_and_archive() {
    let h = Harness::start().await;
    h.workspace().await;
    let version = |v: &str| format!("{}/environments/env/versions/{v}", ws());
    let conda_only = h
        .put(
            &version("1"),
            json!({ "properties": { "condaFile": "name: x" } }),
        )
        .await;
    assert_eq!(conda_only.status, StatusCode::BAD_REQUEST, "{conda_only:?}");
    assert!(
        conda_only.message().contains("image"),
        "{}",
        conda_only.message()
    );
    let no_context = h
        .put(
            &version("1"),
            json!({ "properties": { "build": { "dockerfilePath": "Dockerfile" } } }),
        )
        .await;
    assert_eq!(no_context.status, StatusCode::BAD_REQUEST);

    let created = h
        .put(
            &version("1"),
            json!({ "properties": { "image": "python:3.12", "condaFile": "name: x" } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["properties"]["environmentType"], "UserCreated");
    assert_eq!(created.body["properties"]["osType"], "Linux");
    let built = h
        .put(
            &version("2"),
            json!({ "properties": { "build": { "contextUri": "https://x/ctx/" } } }),
        )
        .await;
    assert_eq!(built.status, StatusCode::CREATED, "{built:?}");

    let new_image = h
        .put(
            &version("1"),
            json!({ "properties": { "image": "python:3.13", "condaFile": "name: x" } }),
        )
        .await;
    assert_eq!(new_image.status, StatusCode::CONFLICT);
    assert!(
        new_image.message().contains("`image`"),
        "{}",
        new_image.message()
    );

    // Archiving is a PUT with isArchived; the default view hides archived versions.
    let archived = h.put(&version("1"), json!({ "properties": { "image": "python:3.12", "condaFile": "name: x", "isArchived": true } })).await;
    assert_eq!(archived.status, StatusCode::OK, "{archived:?}");
    let names = |answer: &crate::harness::Answer| -> Vec<String> {
        answer.body["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|item| item["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        names(&h.get(&format!("{}/environments/env/versions", ws())).await),
        ["2"]
    );
    assert_eq!(
        names(
            &h.get(&format!(
                "{}/environments/env/versions?api-version=1&listViewType=ArchivedOnly",
                ws()
            ))
            .await
        ),
        ["1"]
    );
    assert_eq!(
        names(
            &h.get(&format!(
                "{}/environments/env/versions?api-version=1&listViewType=All",
                ws()
            ))
            .await
        ),
        ["1", "2"]
    );

    // Curated environments exist in every workspace and are read-only.
    let curated = h
        .get(&format!(
            "{}/environments/AzureML-sklearn-1.5/versions/1",
            ws()
        ))
        .await;
    assert_eq!(curated.status, StatusCode::OK, "{curated:?}");
    assert_eq!(curated.body["properties"]["environmentType"], "Curated");
    assert!(
        curated.body["properties"]["image"]
            .as_str()
            .is_some_and(|image| image.contains("sklearn"))
    );
    let overwrite = h
        .put(
            &format!("{}/environments/AzureML-sklearn-1.5/versions/2", ws()),
            json!({ "properties": { "image": "x" } }),
        )
        .await;
    assert_eq!(overwrite.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.get(&format!("{}/environments/AzureML-sklearn-1.5", ws()))
            .await
            .body["properties"]["latestVersion"],
        "1"
    );
}

#[tokio::test]
async fn assets_need_their_workspace_and_a_properties_object() {
    let h = Harness::start().await;
    let missing = h
        .put(
            &format!("{}/codes/c/versions/1", ws()),
            json!({ "properties": {} }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    h.workspace().await;
    let no_properties = h.put(&format!("{}/codes/c", ws()), json!({})).await;
    assert_eq!(no_properties.status, StatusCode::BAD_REQUEST);
    let container = h
        .put(
            &format!("{}/environments/e", ws()),
            json!({ "properties": { "description": "d" } }),
        )
        .await;
    assert_eq!(container.status, StatusCode::CREATED, "{container:?}");
    assert_eq!(container.body["properties"]["nextVersion"], "1");
    assert_eq!(
        h.put(
            &format!("{}/environments/e", ws()),
            json!({ "properties": { "description": "e" } })
        )
        .await
        .status,
        StatusCode::OK
    );
}
