//! Every compute kind through the client: created or attached, read, listed, updated where the
//! API allows, detached or deleted; the underlying resources survive a detach.

use std::collections::BTreeMap;

use engine::api::{ApiError, ArmId, CloudApi, UnderlyingResourceAction};
use engine::schema::Collection;
use engine::value::{ObjectValue, Value};
use pretty_assertions::assert_eq;

use super::{demo_resource, object, schema, serve, workspace};

/// One object per compute kind of the catalogue, with the secrets each kind takes.
fn every_kind(workspace_id: &str) -> Vec<(&'static str, ObjectValue)> {
    let base = |name: &str| {
        vec![
            ("name", Value::from(name)),
            ("workspace_id", Value::from(workspace_id)),
        ]
    };
    let with = |name: &str, extra: Vec<(&str, Value)>| {
        let mut pairs = base(name);
        pairs.extend(extra);
        object(&pairs)
    };
    vec![
        (
            "azureml_compute_cluster",
            with("cpu-cluster", vec![("vm_size", "STANDARD_DS3_V2".into()), ("max_node_count", 2.into()), ("min_node_count", 0.into())]),
        ),
        (
            "azureml_compute_instance",
            with("dev-instance", vec![("vm_size", "STANDARD_DS3_V2".into()), ("ssh_admin_public_key", "ssh-rsa AAAAB3Nza test".into())]),
        ),
        (
            "azureml_inference_cluster",
            with(
                "inference",
                vec![
                    ("resource_id", demo_resource("Microsoft.ContainerService/managedClusters/demo-aks").into()),
                    ("cluster_purpose", "DevTest".into()),
                ],
            ),
        ),
        (
            "azureml_attached_kubernetes",
            with(
                "arc-k8s",
                vec![
                    ("resource_id", demo_resource("Microsoft.Kubernetes/connectedClusters/demo-arc").into()),
                    ("namespace", "training".into()),
                ],
            ),
        ),
        (
            "azureml_attached_virtual_machine",
            with(
                "ubuntu-vm",
                vec![
                    ("resource_id", demo_resource("Microsoft.Compute/virtualMachines/demo-ubuntu-vm").into()),
                    ("admin_username", "azureuser".into()),
                    ("ssh_private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----".into()),
                ],
            ),
        ),
        (
            "azureml_attached_hdinsight",
            with(
                "hdi",
                vec![
                    ("resource_id", demo_resource("Microsoft.HDInsight/clusters/demo-hdi").into()),
                    ("admin_username", "sshuser".into()),
                    ("admin_password", "hdi-P4ssword!".into()),
                ],
            ),
        ),
        (
            "azureml_attached_databricks",
            with(
                "databricks",
                vec![
                    ("resource_id", demo_resource("Microsoft.Databricks/workspaces/demo-databricks").into()),
                    ("databricks_access_token", "dapi0123456789abcdef".into()),
                ],
            ),
        ),
        (
            "azureml_attached_data_lake_analytics",
            with("adla", vec![("resource_id", demo_resource("Microsoft.DataLakeAnalytics/accounts/demo-adla").into())]),
        ),
        (
            "azureml_attached_synapse_spark",
            with(
                "synapse",
                vec![("resource_id", demo_resource("Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool").into())],
            ),
        ),
    ]
}

#[tokio::test]
async fn every_compute_kind_is_created_or_attached_read_listed_and_removed() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "kinds-ws").await;
    let kinds = every_kind(workspace_id.as_str());
    // Every compute kind of the catalogue is covered.
    let covered: Vec<&str> = kinds.iter().map(|(type_name, _)| *type_name).collect();
    for schema in super::registry()
        .iter()
        .filter(|schema| schema.api.collection == Collection::Computes)
    {
        assert!(
            covered.contains(&schema.type_name.as_str()),
            "{} not covered",
            schema.type_name
        );
    }

    let mut created = BTreeMap::new();
    for (type_name, desired) in &kinds {
        let schema = schema(type_name);
        let result = client
            .create_or_update(schema, desired)
            .await
            .unwrap_or_else(|error| panic!("{type_name}: {error}"));
        let name = desired.get_str("name").expect("name");
        let expected_id = format!("{workspace_id}/computes/{name}");
        assert!(
            ArmId::parse(result.get_str("id").expect("id"))
                .expect("id")
                .same_as(&expected_id),
            "{type_name}"
        );
        assert_eq!(result.get_str("name"), Some(name), "{type_name}");
        assert!(
            workspace_id.same_as(result.get_str("workspace_id").expect("parent")),
            "{type_name}"
        );
        assert_eq!(
            result.get_str("provisioning_state"),
            Some("Succeeded"),
            "{type_name}"
        );
        // Secrets are sent, never read back.
        for (attribute_name, attribute) in &schema.attributes {
            if attribute.write_only {
                assert_eq!(
                    result.get(attribute_name),
                    &Value::Null,
                    "{type_name}.{attribute_name}"
                );
            }
        }
        if schema.can_attach() && !desired.get("resource_id").is_null() {
            assert_eq!(
                result.get("is_attached_compute"),
                &Value::Bool(true),
                "{type_name}"
            );
            assert!(
                ArmId::parse(result.get_str("resource_id").expect("resource id"))
                    .expect("id")
                    .same_as(desired.get_str("resource_id").expect("sent")),
                "{type_name}"
            );
        }
        // A read shows what the write returned.
        let read = client
            .read(schema, result.get_str("id").expect("id"))
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(read, result, "{type_name}");
        created.insert(*type_name, result);
    }

    // Values the service derives from the underlying resource come back.
    assert_eq!(
        created["azureml_attached_virtual_machine"].get_str("address"),
        Some("20.81.10.4")
    );
    assert_eq!(
        created["azureml_attached_kubernetes"].get_str("namespace"),
        Some("training")
    );
    assert_eq!(
        created["azureml_compute_cluster"].get("max_node_count"),
        &2.into()
    );

    // One list shows all of them, each mapped back to its type by computeType.
    let listed = client
        .list(workspace_id.as_str(), Collection::Computes)
        .await
        .expect("list");
    let mut by_type = BTreeMap::new();
    for item in &listed {
        let (schema, value) = item
            .to_object(super::registry(), Collection::Computes)
            .expect("known kind");
        by_type.insert(schema.type_name.as_str(), value);
    }
    assert_eq!(listed.len(), kinds.len());
    for (type_name, value) in &created {
        assert_eq!(
            by_type.get(type_name),
            Some(value),
            "{type_name} listed as read"
        );
    }

    // listKeys returns the Databricks token the attach sent (the only read path of secrets).
    let databricks = ArmId::parse(
        created["azureml_attached_databricks"]
            .get_str("id")
            .expect("id"),
    )
    .expect("id");
    let keys = client.list_keys(&databricks).await.expect("listKeys");
    assert_eq!(keys["databricksAccessToken"], "dapi0123456789abcdef");

    // Remove: managed kinds are deleted, attachments detached; the underlying resources stay.
    for (type_name, value) in &created {
        let schema = schema(type_name);
        let action = if schema.can_attach() {
            UnderlyingResourceAction::Detach
        } else {
            UnderlyingResourceAction::Delete
        };
        let id = value.get_str("id").expect("id");
        client
            .delete(schema, id, action)
            .await
            .unwrap_or_else(|error| panic!("{type_name}: {error}"));
        assert_eq!(
            client.read(schema, id).await.expect("read"),
            None,
            "{type_name} gone"
        );
        // Deleting again is success: the object is already gone.
        client
            .delete(schema, id, action)
            .await
            .expect("second delete");
    }
    assert!(
        client
            .list(workspace_id.as_str(), Collection::Computes)
            .await
            .expect("list")
            .is_empty()
    );
    for path in [
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        "Microsoft.HDInsight/clusters/demo-hdi",
        "Microsoft.Databricks/workspaces/demo-databricks",
        "Microsoft.DataLakeAnalytics/accounts/demo-adla",
        "Microsoft.ContainerService/managedClusters/demo-aks",
        "Microsoft.Kubernetes/connectedClusters/demo-arc",
        "Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool",
    ] {
        let id = ArmId::parse(&demo_resource(path)).expect("id");
        assert!(
            client.get_resource(&id).await.expect("get").is_some(),
            "{path} survives the detach"
        );
    }
}

#[tokio::test]
async fn cluster_scale_is_patched_and_tags_are_put() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "scale-ws").await;
    let cluster = schema("azureml_compute_cluster");
    let mut desired = object(&[
        ("name", "gpu-cluster".into()),
        ("workspace_id", workspace_id.as_str().into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", 1.into()),
        ("min_node_count", 0.into()),
    ]);
    let created = client
        .create_or_update(cluster, &desired)
        .await
        .expect("created");
    let id = created.get_str("id").expect("id").to_owned();

    // PATCH changes scale settings in place.
    desired.set("max_node_count", 3.into());
    desired.set("min_node_count", 1.into());
    desired.set("idle_time_before_scale_down", "PT5M".into());
    let patched = client.patch(cluster, &id, &desired).await.expect("patched");
    assert_eq!(patched.get("max_node_count"), &3.into());
    assert_eq!(patched.get("min_node_count"), &1.into());
    assert_eq!(patched.get_str("idle_time_before_scale_down"), Some("PT5M"));
    let read = client
        .read(cluster, &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read.get("max_node_count"), &3.into());

    // Tags change by PUT of the whole compute.
    desired.set(
        "tags",
        Value::Map(BTreeMap::from([("team".to_owned(), Value::from("ml"))])),
    );
    let tagged = client
        .create_or_update(cluster, &desired)
        .await
        .expect("put tags");
    assert_eq!(
        tagged.get("tags"),
        &Value::Map(BTreeMap::from([("team".to_owned(), Value::from("ml"))]))
    );
    assert_eq!(
        tagged.get("max_node_count"),
        &3.into(),
        "the PUT kept the scale settings"
    );

    // listNodes pages over `nodes`.
    let nodes = client
        .list_nodes(&ArmId::parse(&id).expect("id"))
        .await
        .expect("listNodes");
    assert!(
        nodes.iter().all(|node| node.get("nodeId").is_some()),
        "{nodes:?}"
    );
}

#[tokio::test]
async fn lists_follow_next_links_beyond_one_page() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "paging-ws").await;
    let kubernetes = schema("azureml_attached_kubernetes");
    // One cluster may be attached once per namespace: 27 attachments, more than a page (20).
    let total = 27;
    for index in 0..total {
        let desired = object(&[
            ("name", format!("k8s-{index:02}a").into()),
            ("workspace_id", workspace_id.as_str().into()),
            (
                "resource_id",
                demo_resource("Microsoft.ContainerService/managedClusters/demo-aks").into(),
            ),
            ("namespace", format!("team-{index}").into()),
        ]);
        client
            .create_or_update(kubernetes, &desired)
            .await
            .expect("attached");
    }
    let listed = client
        .list(workspace_id.as_str(), Collection::Computes)
        .await
        .expect("list");
    assert_eq!(listed.len(), total);
    let mut names: Vec<&str> = listed.iter().map(|item| item.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), total, "no item twice");
    let raw = client
        .list_computes(&workspace_id)
        .await
        .expect("typed list");
    assert_eq!(raw.len(), total);
    let stats = served.stats().await;
    assert_eq!(
        stats["duplicate_attachments"], 0,
        "namespaces keep attachments apart: {stats}"
    );
}

#[tokio::test]
async fn instances_start_stop_and_restart() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "instance-ws").await;
    let instance = schema("azureml_compute_instance");
    let desired = object(&[
        ("name", "dev-box".into()),
        ("workspace_id", workspace_id.as_str().into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
    ]);
    let created = client
        .create_or_update(instance, &desired)
        .await
        .expect("created");
    let id = created.get_str("id").expect("id").to_owned();
    assert_eq!(created.get_str("current_state"), Some("Running"));
    let state = |value: Option<ObjectValue>| {
        value
            .expect("exists")
            .get_str("current_state")
            .map(str::to_owned)
    };

    client.action(instance, &id, "stop").await.expect("stop");
    assert_eq!(
        state(client.read(instance, &id).await.expect("read")).as_deref(),
        Some("Stopped")
    );
    client.action(instance, &id, "start").await.expect("start");
    assert_eq!(
        state(client.read(instance, &id).await.expect("read")).as_deref(),
        Some("Running")
    );
    client
        .restart_compute(&ArmId::parse(&id).expect("id"))
        .await
        .expect("restart");
    assert_eq!(
        state(client.read(instance, &id).await.expect("read")).as_deref(),
        Some("Running")
    );

    let error = client
        .action(instance, &id, "resize")
        .await
        .expect_err("no such action");
    assert!(matches!(error, ApiError::UnknownAction { .. }), "{error}");
}

#[tokio::test]
async fn service_refusals_reach_the_caller_verbatim() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "rules-ws").await;
    let vm = schema("azureml_attached_virtual_machine");
    for (name, resource) in [
        (
            "windows-vm",
            "Microsoft.Compute/virtualMachines/demo-windows-vm",
        ),
        (
            "private-vm",
            "Microsoft.Compute/virtualMachines/demo-private-vm",
        ),
        ("missing-vm", "Microsoft.Compute/virtualMachines/no-such-vm"),
    ] {
        let desired = object(&[
            ("name", name.into()),
            ("workspace_id", workspace_id.as_str().into()),
            ("resource_id", demo_resource(resource).into()),
            ("admin_username", "azureuser".into()),
            ("admin_password", "P4ssword!".into()),
        ]);
        let error = client.create_or_update(vm, &desired).await.expect_err(name);
        // The raw answer of the same PUT, for comparison with what the client surfaced.
        let url = format!(
            "{}{}/computes/{name}?api-version=2026-07-01",
            served.url().trim_end_matches('/'),
            workspace_id
        );
        let raw = raw_put(&served, &url, &engine::api::to_arm(vm, &desired)).await;
        let ApiError::Arm {
            status,
            code,
            message,
            ..
        } = &error
        else {
            panic!("{name}: expected an ARM error, got {error:?}");
        };
        assert_eq!(*status, raw.0, "{name}");
        assert_eq!(
            code,
            raw.1["error"]["code"].as_str().expect("code"),
            "{name}"
        );
        assert_eq!(
            message,
            raw.1["error"]["message"].as_str().expect("message"),
            "{name}"
        );
        assert!(
            error.to_string().contains(message.as_str()),
            "{name}: {error}"
        );
        assert!(
            !error.to_string().contains("P4ssword"),
            "no secret in errors"
        );
    }
    // A create-only kind given a resource id, an attach-only kind without one: refused as well.
    let cluster = object(&[
        ("name", "no-attach".into()),
        ("workspace_id", workspace_id.as_str().into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", 1.into()),
    ]);
    let mut body = engine::api::to_arm(schema("azureml_compute_cluster"), &cluster);
    body["properties"]["resourceId"] =
        demo_resource("Microsoft.Compute/virtualMachines/demo-ubuntu-vm").into();
    let id = ArmId::parse(&format!("{workspace_id}/computes/no-attach")).expect("id");
    let error = client
        .put_compute(&id, &body)
        .await
        .expect_err("create-only kind refuses attach");
    assert_eq!(error.status(), Some(400), "{error}");
}

async fn raw_put(
    served: &super::Served,
    url: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let answer = served
        .http()
        .put(url)
        .bearer_auth(super::TOKEN)
        .json(body)
        .send()
        .await
        .expect("answer");
    (answer.status().as_u16(), answer.json().await.expect("JSON"))
}

#[tokio::test]
async fn underlying_resources_are_put_and_attached_by_id() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace_id = workspace(&client, "generic-ws").await;
    let vm_id = ArmId::parse(&demo_resource(
        "Microsoft.Compute/virtualMachines/new-ubuntu-vm",
    ))
    .expect("id");
    let vm = client
        .put_resource(
            &vm_id,
            &serde_json::json!({
                "location": "eastus",
                "properties": {
                    "hardwareProfile": {"vmSize": "Standard_DS2_v2"},
                    "storageProfile": {
                        "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"},
                        "osDisk": {"osType": "Linux"}
                    },
                    "publicIpAddress": "20.81.10.99"
                }
            }),
        )
        .await
        .expect("VM created");
    assert!(vm_id.same_as(vm["id"].as_str().expect("id")));
    let attached = client
        .create_or_update(
            schema("azureml_attached_virtual_machine"),
            &object(&[
                ("name", "new-vm".into()),
                ("workspace_id", workspace_id.as_str().into()),
                ("resource_id", vm_id.as_str().into()),
                ("admin_username", "azureuser".into()),
                ("admin_password", "P4ssword!".into()),
            ]),
        )
        .await
        .expect("attached");
    assert_eq!(attached.get_str("address"), Some("20.81.10.99"));
    client
        .delete(
            schema("azureml_attached_virtual_machine"),
            attached.get_str("id").expect("id"),
            UnderlyingResourceAction::Detach,
        )
        .await
        .expect("detached");
    assert!(
        client.get_resource(&vm_id).await.expect("get").is_some(),
        "a detached VM stays"
    );
    client.delete_resource(&vm_id).await.expect("VM deleted");
    assert!(client.get_resource(&vm_id).await.expect("get").is_none());
}
