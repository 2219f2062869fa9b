//! Every compute kind through its life: create or attach, read, list (paged), update where the API
//! allows, listKeys/listNodes, and delete or detach. Also secrets, quota, instance states and
//! cluster PATCH.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value as Json, json};

use crate::harness::{
    Harness, WORKSPACE, attach, cluster, compute_path, instance, resource_id, workspace_path,
};

async fn create(harness: &Harness, name: &str, body: Json) -> Json {
    let answer = harness.put(&compute_path(name), body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{name}: {answer:?}");
    assert!(answer.header("azure-asyncoperation").is_some());
    assert!(answer.header("location").is_some());
    assert_eq!(harness.wait(&answer).await, "Succeeded");
    let got = harness.get(&compute_path(name)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(
        got.body["properties"]["provisioningState"],
        json!("Succeeded"),
        "{name}: {got:?}"
    );
    got.body
}

#[tokio::test]
async fn every_kind_is_created_or_attached_read_listed_and_removed() {
    let harness = Harness::start().await;
    harness.workspace().await;
    let account = json!({"administratorAccount": {"username": "azureuser", "password": "s3cret"}});
    let kinds: Vec<(&str, Json, &str)> = vec![
        ("cpu-cluster", cluster("STANDARD_DS3_V2", 2), "Delete"),
        ("dev-box", instance("STANDARD_DS3_V2"), "Delete"),
        (
            "inference",
            attach(
                "AKS",
                "Microsoft.ContainerService/managedClusters/demo-aks",
                json!({}),
            ),
            "Detach",
        ),
        (
            "arc",
            attach(
                "Kubernetes",
                "Microsoft.Kubernetes/connectedClusters/demo-arc",
                json!({"namespace": "ml"}),
            ),
            "Detach",
        ),
        (
            "ubuntu",
            attach(
                "VirtualMachine",
                "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
                account.clone(),
            ),
            "Detach",
        ),
        (
            "hdi",
            attach(
                "HDInsight",
                "Microsoft.HDInsight/clusters/demo-hdi",
                account,
            ),
            "Detach",
        ),
        (
            "dbx",
            attach(
                "Databricks",
                "Microsoft.Databricks/workspaces/demo-databricks",
                json!({"databricksAccessToken": "dapi"}),
            ),
            "Detach",
        ),
        (
            "adla",
            attach(
                "DataLakeAnalytics",
                "Microsoft.DataLakeAnalytics/accounts/demo-adla",
                json!({}),
            ),
            "Detach",
        ),
        (
            "spark",
            attach(
                "SynapseSpark",
                "Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool",
                json!({}),
            ),
            "Detach",
        ),
    ];
    for (name, body, _) in &kinds {
        let got = create(&harness, name, body.clone()).await;
        assert_eq!(got["name"], json!(name));
        assert_eq!(
            got["type"],
            json!("Microsoft.MachineLearningServices/workspaces/computes")
        );
        let attached = body["properties"].get("resourceId").is_some();
        assert_eq!(
            got["properties"]["isAttachedCompute"],
            json!(attached),
            "{name}"
        );
    }
    // Values the service copies from the underlying resource.
    let vm = harness.get(&compute_path("ubuntu")).await.body;
    assert_eq!(
        vm["properties"]["properties"]["address"],
        json!("20.81.10.4")
    );
    let spark = harness.get(&compute_path("spark")).await.body;
    assert_eq!(
        spark["properties"]["properties"]["poolName"],
        json!("demo-pool")
    );
    assert_eq!(
        spark["properties"]["properties"]["workspaceName"],
        json!("demo-synapse")
    );
    let arc = harness.get(&compute_path("arc")).await.body;
    assert_eq!(arc["properties"]["properties"]["namespace"], json!("ml"));

    let list = harness
        .get(&format!("{}/computes", workspace_path(WORKSPACE)))
        .await;
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(
        names,
        kinds.iter().map(|(name, _, _)| *name).collect::<Vec<_>>()
    );

    for (name, _, action) in &kinds {
        let answer = harness
            .delete(&format!(
                "{}?api-version=2026-07-01&underlyingResourceAction={action}",
                compute_path(name)
            ))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{name}: {answer:?}");
        assert_eq!(harness.wait(&answer).await, "Succeeded");
        assert_eq!(
            harness.get(&compute_path(name)).await.status,
            StatusCode::NOT_FOUND,
            "{name}"
        );
    }
    // Detached resources are still there.
    for resource in [
        "Microsoft.ContainerService/managedClusters/demo-aks",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
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
async fn compute_lists_are_paged_with_next_link() {
    let harness = Harness::start().await;
    harness.workspace().await;
    for index in 0..25 {
        let body = attach(
            "Kubernetes",
            "Microsoft.Kubernetes/connectedClusters/demo-arc",
            json!({"namespace": format!("ns{index}")}),
        );
        assert_eq!(
            harness
                .put(&compute_path(&format!("k8s-ns{index}")), body)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let mut names = Vec::new();
    let mut next = Some(format!("{}/computes", workspace_path(WORKSPACE)));
    let mut pages = 0;
    while let Some(url) = next {
        let page = harness.get(&url).await;
        assert_eq!(page.status, StatusCode::OK);
        names.extend(
            page.body["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|item| item["name"].as_str().unwrap_or_default().to_owned()),
        );
        next = page.body["nextLink"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 2);
    assert_eq!(names.len(), 25);
    // Different namespaces of one cluster are not duplicates.
    assert_eq!(harness.stats().await["duplicate_attachments"], json!(0));
    assert!(names.iter().all(|name| name.starts_with("k8s-ns")));
}

#[tokio::test]
async fn secrets_are_write_only_and_listed_by_list_keys() {
    let harness = Harness::start().await;
    harness.workspace().await;
    let body = attach(
        "VirtualMachine",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        json!({"sshPort": 22, "administratorAccount": {"username": "azureuser", "password": "p@ss", "privateKeyData": "KEY"}}),
    );
    let put = harness.put(&compute_path("ubuntu"), body.clone()).await;
    let dbx = harness
        .put(
            &compute_path("dbx"),
            attach(
                "Databricks",
                "Microsoft.Databricks/workspaces/demo-databricks",
                json!({"databricksAccessToken": "dapi123"}),
            ),
        )
        .await;
    let got = harness.get(&compute_path("ubuntu")).await;
    let list = harness
        .get(&format!("{}/computes", workspace_path(WORKSPACE)))
        .await;
    for text in [
        put.body.to_string(),
        dbx.body.to_string(),
        got.body.to_string(),
        list.body.to_string(),
    ] {
        for secret in ["p@ss", "KEY", "dapi123"] {
            assert!(!text.contains(secret), "`{secret}` leaked in {text}");
        }
    }
    assert_eq!(
        got.body["properties"]["properties"]["administratorAccount"]["username"],
        json!("azureuser")
    );

    let keys = harness
        .post(&format!("{}/listKeys", compute_path("ubuntu")))
        .await;
    assert_eq!(keys.status, StatusCode::OK);
    assert_eq!(keys.body["computeType"], json!("VirtualMachine"));
    assert_eq!(keys.body["administratorAccount"]["password"], json!("p@ss"));
    assert_eq!(
        keys.body["administratorAccount"]["privateKeyData"],
        json!("KEY")
    );
    let keys = harness
        .post(&format!("{}/listKeys", compute_path("dbx")))
        .await;
    assert_eq!(
        keys.body,
        json!({"databricksAccessToken": "dapi123", "computeType": "Databricks"})
    );

    // A PUT that omits the secret (as a client echoing a GET does) keeps it.
    let mut echo = got.body.clone();
    echo["tags"] = json!({"k": "v"});
    let again = harness.put(&compute_path("ubuntu"), echo).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    let keys = harness
        .post(&format!("{}/listKeys", compute_path("ubuntu")))
        .await;
    assert_eq!(keys.body["administratorAccount"]["password"], json!("p@ss"));
}

#[tokio::test]
async fn aks_list_keys_has_kubeconfigs() {
    let harness = Harness::start().await;
    harness.workspace().await;
    harness
        .put(
            &compute_path("inference"),
            attach(
                "AKS",
                "Microsoft.ContainerService/managedClusters/demo-aks",
                json!({}),
            ),
        )
        .await;
    let keys = harness
        .post(&format!("{}/listKeys", compute_path("inference")))
        .await;
    assert_eq!(keys.body["computeType"], json!("AKS"));
    assert!(
        keys.body["userKubeConfig"]
            .as_str()
            .is_some_and(|config| config.contains("kind: Config"))
    );
    assert!(keys.body["adminKubeConfig"].is_string());
}

#[tokio::test]
async fn cluster_patch_changes_scale_settings_only() {
    let harness = Harness::start().await;
    harness.workspace().await;
    let mut body = cluster("STANDARD_DS3_V2", 4);
    body["properties"]["properties"]["scaleSettings"]["minNodeCount"] = json!(2);
    create(&harness, "cpu", body).await;
    let nodes = harness
        .post(&format!("{}/listNodes", compute_path("cpu")))
        .await;
    assert_eq!(nodes.status, StatusCode::OK);
    assert_eq!(nodes.body["nodes"].as_array().map(Vec::len), Some(2));

    let patched = harness
        .patch(&compute_path("cpu"), json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 6, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT5M"}}}}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{patched:?}");
    assert!(patched.header("azure-asyncoperation").is_some());
    let got = harness.get(&compute_path("cpu")).await.body;
    assert_eq!(
        got["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        json!(6)
    );
    assert_eq!(
        got["properties"]["properties"]["vmSize"],
        json!("STANDARD_DS3_V2")
    );

    for (body, target) in [
        (json!({"tags": {"a": "b"}}), "tags.a"),
        (
            json!({"properties": {"properties": {"vmSize": "STANDARD_DS4_V2"}}}),
            "properties.properties.vmSize",
        ),
        (
            json!({"properties": {"description": "x"}}),
            "properties.description",
        ),
    ] {
        let answer = harness.patch(&compute_path("cpu"), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
        assert_eq!(answer.body["error"]["target"], json!(target));
    }
    let wrong_type = harness
        .patch(
            &compute_path("cpu"),
            json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": "six"}}}}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);

    // Other kinds have nothing to PATCH.
    harness
        .put(
            &compute_path("adla"),
            attach(
                "DataLakeAnalytics",
                "Microsoft.DataLakeAnalytics/accounts/demo-adla",
                json!({}),
            ),
        )
        .await;
    let answer = harness
        .patch(
            &compute_path("adla"),
            json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 1}}}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn quota_is_shared_by_instances_and_clusters_and_stopping_keeps_it() {
    // Demo quota: 100 cores per family. STANDARD_DS3_V2 has 4 cores.
    let harness = Harness::start().await;
    harness.workspace().await;
    create(&harness, "big", cluster("STANDARD_DS3_V2", 20)).await; // 80 cores
    create(&harness, "box", instance("STANDARD_DS3_V2")).await; // 84 cores
    let refused = harness
        .put(&compute_path("more"), cluster("STANDARD_DS3_V2", 5))
        .await; // +20
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(refused.code(), "QuotaExceeded");
    assert!(
        refused.message().contains("standardDSv2Family")
            && refused.message().contains("20 cores")
            && refused.message().contains("84 of 100"),
        "{}",
        refused.message()
    );
    // Another family is not affected.
    assert_eq!(
        harness
            .put(&compute_path("other"), cluster("Standard_D4s_v3", 5))
            .await
            .status,
        StatusCode::CREATED
    );

    let stop = harness.post(&format!("{}/stop", compute_path("box"))).await;
    assert_eq!(stop.status, StatusCode::ACCEPTED);
    harness.wait(&stop).await;
    assert_eq!(
        harness
            .put(&compute_path("more"), cluster("STANDARD_DS3_V2", 5))
            .await
            .code(),
        "QuotaExceeded"
    );

    let delete = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Delete",
            compute_path("box")
        ))
        .await;
    harness.wait(&delete).await;
    assert_eq!(
        harness
            .put(&compute_path("more"), cluster("STANDARD_DS3_V2", 5))
            .await
            .status,
        StatusCode::CREATED
    );
    // A PATCH that raises the maximum is checked too.
    let patch = harness
        .patch(
            &compute_path("more"),
            json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 6}}}}),
        )
        .await;
    assert_eq!(patch.code(), "QuotaExceeded");
}

async fn state(harness: &Harness, name: &str) -> String {
    harness.get(&compute_path(name)).await.body["properties"]["properties"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn reaches(harness: &Harness, name: &str, wanted: &str) {
    for _ in 0..100 {
        if state(harness, name).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("`{name}` never reached `{wanted}`");
}

#[tokio::test]
async fn instance_states_follow_start_stop_and_restart() {
    let harness =
        Harness::start_with(|config| config.provision_delay = Duration::from_millis(400)).await;
    harness.workspace().await;
    let created = harness
        .put(&compute_path("box"), instance("STANDARD_DS3_V2"))
        .await;
    assert_eq!(
        created.body["properties"]["properties"]["state"],
        json!("Creating")
    );
    assert_eq!(created.header("retry-after"), Some("1"));
    reaches(&harness, "box", "Running").await;

    for (action, during, after) in [
        ("stop", "Stopping", "Stopped"),
        ("start", "Starting", "Running"),
        ("restart", "Restarting", "Running"),
    ] {
        let answer = harness
            .post(&format!("{}/{action}", compute_path("box")))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{action}: {answer:?}");
        assert_eq!(state(&harness, "box").await, during);
        // Busy: a second action waits for the first.
        assert_eq!(
            harness
                .post(&format!("{}/{action}", compute_path("box")))
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(harness.wait(&answer).await, "Succeeded");
        reaches(&harness, "box", after).await;
    }
    // Power actions are for instances only.
    harness
        .put(&compute_path("cpu"), cluster("STANDARD_DS3_V2", 1))
        .await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        harness
            .post(&format!("{}/start", compute_path("cpu")))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn aks_created_by_azure_ml_is_deleted_with_its_compute() {
    let harness = Harness::start().await;
    harness.workspace().await;
    let created = create(
        &harness,
        "made",
        json!({"properties": {"computeType": "AKS", "properties": {"agentCount": 3}}}),
    )
    .await;
    assert_eq!(created["properties"]["isAttachedCompute"], json!(false));
    let cluster_id = created["properties"]["resourceId"]
        .as_str()
        .expect("created cluster id")
        .to_owned();
    assert_eq!(harness.get(&cluster_id).await.status, StatusCode::OK);
    let delete = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Delete",
            compute_path("made")
        ))
        .await;
    assert_eq!(harness.wait(&delete).await, "Succeeded");
    assert_eq!(harness.get(&cluster_id).await.status, StatusCode::NOT_FOUND);

    // Detach of an AKS compute Azure ML created leaves the cluster.
    let kept = create(
        &harness,
        "kept",
        json!({"properties": {"computeType": "AKS"}}),
    )
    .await;
    let kept_id = kept["properties"]["resourceId"]
        .as_str()
        .expect("id")
        .to_owned();
    let detach = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Detach",
            compute_path("kept")
        ))
        .await;
    harness.wait(&detach).await;
    assert_eq!(harness.get(&kept_id).await.status, StatusCode::OK);
}
