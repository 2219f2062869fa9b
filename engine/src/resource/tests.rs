use std::path::{Path, PathBuf};
use std::sync::Mutex;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::api::fake::FakeCloud;
use crate::schema::{Registry, load_registry};

const WS: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

fn registry() -> Registry {
    load_registry().expect("catalogue")
}

fn object(pairs: &[(&str, Value)]) -> ObjectValue {
    let mut object = ObjectValue::default();
    for (name, value) in pairs {
        object.set(name, value.clone());
    }
    object
}

/// Records what an operation reports.
#[derive(Default)]
struct Recorder {
    records: Mutex<Vec<ObjectValue>>,
    dir: PathBuf,
}

impl Observer for Recorder {
    fn record(&self, object: &ObjectValue) -> Result<(), String> {
        self.records.lock().expect("lock").push(object.clone());
        Ok(())
    }

    fn base_dir(&self) -> &Path {
        &self.dir
    }
}

fn cluster(max: i64) -> ObjectValue {
    object(&[
        ("name", "cpu".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", max.into()),
    ])
}

#[test]
fn every_hooks_name_in_the_catalogue_has_an_implementation() {
    let registry = registry();
    let mut named = Vec::new();
    for schema in registry.iter() {
        if let Some(name) = &schema.api.hooks {
            assert!(
                HOOKS.iter().any(|(known, _)| known == name),
                "`{}` names hooks `{name}`, which engine::resource does not implement",
                schema.type_name
            );
            named.push(schema.type_name.as_str());
        }
    }
    assert_eq!(named, ["azureml_environment", "azureml_run"]);
    // Immutable kinds need hooks that keep the replaced object.
    for schema in registry.iter().filter(|schema| schema.keeps_replaced()) {
        assert!(schema.api.hooks.is_some(), "{}", schema.type_name);
    }
}

#[tokio::test]
async fn generic_add_update_and_remove_make_the_planned_calls() {
    let registry = registry();
    let schema = registry.get("azureml_compute_cluster").expect("cluster");
    let cloud = FakeCloud::default();
    let recorder = Recorder::default();
    let operation = Operation {
        cloud: &cloud,
        schema,
        observer: &recorder,
    };
    let created = add(operation, &cluster(4)).await.expect("created");
    let id = created.get_str("id").expect("id").to_owned();
    assert!(id.ends_with("/computes/cpu"), "{id}");

    let patched = update(operation, &created, &UpdateKind::patch(), &cluster(8))
        .await
        .expect("patched");
    assert_eq!(patched.get("max_node_count"), &Value::from(8));

    let removed = remove(
        operation,
        &patched,
        Removal::Destroy(UnderlyingResourceAction::Delete),
    )
    .await
    .expect("removed");
    assert_eq!(removed, Removed::Deleted);
    let methods: Vec<&str> = cloud.calls().iter().map(|call| call.method).collect();
    assert_eq!(methods, ["PUT", "PATCH", "DELETE"]);
    assert!(cloud.get(&id).is_none());
    assert!(
        recorder.records.lock().expect("lock").is_empty(),
        "generic operations record nothing midway"
    );
}

#[tokio::test]
async fn an_update_with_actions_posts_them_and_reads_the_result() {
    let registry = registry();
    let schema = registry.get("azureml_compute_cluster").expect("cluster");
    let cloud = FakeCloud::default();
    let recorder = Recorder::default();
    let operation = Operation {
        cloud: &cloud,
        schema,
        observer: &recorder,
    };
    let created = add(operation, &cluster(4)).await.expect("created");
    let kind = UpdateKind {
        write: None,
        actions: vec!["stop".to_owned()],
    };
    update(operation, &created, &kind, &cluster(4))
        .await
        .expect("action");
    let methods: Vec<&str> = cloud.calls().iter().map(|call| call.method).collect();
    assert_eq!(methods, ["PUT", "POST"]);

    let gone = object(&[("id", format!("{WS}/computes/gone").into())]);
    let error = update(operation, &gone, &kind, &cluster(4))
        .await
        .expect_err("not there");
    assert!(error.message.contains("not found"), "{error}");
}

#[tokio::test]
async fn an_environment_version_is_kept_on_replacement_and_archived_on_destroy() {
    let registry = registry();
    let schema = registry.get("azureml_environment").expect("environment");
    let cloud = FakeCloud::default();
    let recorder = Recorder::default();
    let operation = Operation {
        cloud: &cloud,
        schema,
        observer: &recorder,
    };
    let id = format!("{WS}/environments/env/versions/1");
    cloud.insert(&id, json!({"id": id, "properties": {"image": "python"}}));
    let before = object(&[("id", id.clone().into())]);

    let kept = remove(
        operation,
        &before,
        Removal::Replaced(UnderlyingResourceAction::Delete),
    )
    .await
    .expect("kept");
    assert_eq!(kept, Removed::Kept);
    assert!(cloud.calls().is_empty(), "a kept version makes no call");

    let archived = remove(
        operation,
        &before,
        Removal::Destroy(UnderlyingResourceAction::Delete),
    )
    .await
    .expect("archived");
    assert_eq!(archived, Removed::Archived);
    let stored = cloud.get(&id).expect("a version is never deleted");
    assert_eq!(stored["properties"]["isArchived"], json!(true));
    assert_eq!(stored["properties"]["image"], json!("python"));
}

#[tokio::test]
async fn removing_a_run_only_forgets_it() {
    let registry = registry();
    let schema = registry.get("azureml_run").expect("run");
    let cloud = FakeCloud::default();
    let recorder = Recorder::default();
    let operation = Operation {
        cloud: &cloud,
        schema,
        observer: &recorder,
    };
    let before = object(&[("id", format!("{WS}/jobs/train-1").into())]);
    for (removal, expected) in [
        (
            Removal::Replaced(UnderlyingResourceAction::Delete),
            Removed::Kept,
        ),
        (
            Removal::Destroy(UnderlyingResourceAction::Delete),
            Removed::Forgotten,
        ),
    ] {
        assert_eq!(
            remove(operation, &before, removal).await.expect("removed"),
            expected
        );
    }
    assert!(cloud.calls().is_empty());
}

#[test]
fn to_send_takes_unknowns_and_secrets_from_the_configuration_and_refuses_changes() {
    let registry = registry();
    let schema = registry
        .get("azureml_attached_virtual_machine")
        .expect("VM");
    let vm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
    let configured = object(&[
        ("name", "vm".into()),
        ("workspace_id", WS.into()),
        ("resource_id", vm.into()),
        ("admin_username", "azureuser".into()),
        ("admin_password", "hunter2".into()),
    ]);
    let mut planned = configured.clone();
    planned.set("workspace_id", Value::Unknown);
    planned.set("admin_password", Value::Null);
    planned.set("id", Value::Unknown);
    let sent = to_send("vm", schema, &planned, &configured).expect("sendable");
    assert_eq!(sent.get_str("workspace_id"), Some(WS));
    assert_eq!(sent.get_str("admin_password"), Some("hunter2"));
    assert_eq!(
        sent.get("id"),
        &Value::Null,
        "computed unknowns are left out"
    );

    let mut other = configured.clone();
    other.set("admin_username", "root".into());
    let error = to_send("vm", schema, &configured, &other).expect_err("changed");
    assert!(
        error.contains("`admin_username` changed during apply"),
        "{error}"
    );

    let mut unknown = configured.clone();
    unknown.set("resource_id", Value::Unknown);
    let error = to_send("vm", schema, &planned, &unknown).expect_err("unknown");
    assert!(error.contains("still unknown at apply time"), "{error}");
}

#[test]
fn read_back_observes_the_power_state_and_keeps_what_the_service_never_returns() {
    let registry = registry();
    let schema = registry.get("azureml_compute_instance").expect("instance");
    let stored = object(&[("state", "Running".into())]);
    let read = object(&[("current_state", "Stopped".into())]);
    let values = read_back(schema, read, &stored);
    assert_eq!(values.get_str("state"), Some("Stopped"));
    // A transitional observed state says nothing about the desired one.
    let read = object(&[("current_state", "Starting".into())]);
    assert_eq!(
        read_back(schema, read, &stored).get_str("state"),
        Some("Running")
    );
}

#[tokio::test]
async fn values_the_catalogue_refuses_are_never_sent() {
    let registry = registry();
    let schema = registry.get("azureml_compute_cluster").expect("cluster");
    let cloud = FakeCloud::default();
    let recorder = Recorder::default();
    let operation = Operation {
        cloud: &cloud,
        schema,
        observer: &recorder,
    };
    // Known only at apply (e.g. computed from another object's attribute), then refused.
    let error = add(operation, &cluster(-5)).await.expect_err("refused");
    assert_eq!(error.summary.as_deref(), Some("Invalid value"));
    assert!(
        error
            .message
            .contains("`max_node_count` must be between 0 and 2147483647, not -5"),
        "{error}"
    );
    let created = add(operation, &cluster(4)).await.expect("created");
    let mut inverted = cluster(2);
    inverted.set("min_node_count", Value::from(3));
    let error = update(operation, &created, &UpdateKind::patch(), &inverted)
        .await
        .expect_err("refused");
    assert!(
        error.message.contains("must not be greater than"),
        "{error}"
    );
    let methods: Vec<&str> = cloud.calls().iter().map(|call| call.method).collect();
    assert_eq!(
        methods,
        ["PUT"],
        "only the valid creation reached the cloud"
    );
}
