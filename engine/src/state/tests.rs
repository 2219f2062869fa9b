//! State format and store tests.

use std::time::Duration;

use super::*;
use crate::schema::load_registry;
use pretty_assertions::assert_eq;

/// A state as Terraform 1.11 writes it (key order, indentation, HTML escaping, trailing newline).
const TERRAFORM_1_11: &str = r#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 7,
  "lineage": "3f2a8c1e-5b7d-4e9f-a1c2-0d4e6f8a9b1c",
  "outputs": {
    "workspace_id": {
      "value": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
      "type": "string"
    }
  },
  "resources": [
    {
      "mode": "data",
      "type": "azureml_workspace",
      "name": "existing",
      "provider": "provider[\"azureml.local/azureml/azureml\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
            "name": "w"
          },
          "sensitive_attributes": []
        }
      ]
    },
    {
      "mode": "managed",
      "type": "azureml_compute_cluster",
      "name": "cpu",
      "each": "list",
      "provider": "provider[\"azureml.local/azureml/azureml\"]",
      "instances": [
        {
          "index_key": 0,
          "schema_version": 0,
          "attributes": {
            "description": "a \u003cb\u003e \u0026 c",
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes/cpu-0",
            "max_node_count": 4,
            "tags": null
          },
          "sensitive_attributes": [],
          "private": "bnVsbA==",
          "dependencies": [
            "azureml_workspace.w"
          ]
        }
      ]
    },
    {
      "mode": "managed",
      "type": "azureml_workspace",
      "name": "w",
      "provider": "provider[\"azureml.local/azureml/azureml\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
            "name": "w"
          },
          "sensitive_attributes": [],
          "create_before_destroy": true
        }
      ]
    }
  ],
  "check_results": null
}
"#;

/// Terraform 1.0 writes no `check_results`.
const TERRAFORM_1_0: &str = r#"{
  "version": 4,
  "terraform_version": "1.0.3",
  "serial": 1,
  "lineage": "b6b1b0a4-2f0c-4a7e-9d39-1d2d8c0e6f11",
  "outputs": {},
  "resources": []
}
"#;

fn options(operation: &str) -> LockOptions {
    LockOptions {
        operation: operation.to_owned(),
        version: "amlplan test".to_owned(),
        timeout: Duration::ZERO,
    }
}

#[test]
fn terraform_states_round_trip_byte_for_byte() {
    for text in [TERRAFORM_1_11, TERRAFORM_1_0] {
        let state = State::from_json(text, Path::new("terraform.tfstate")).expect("parses");
        assert_eq!(state.to_json(), text);
    }
    let state = State::from_json(TERRAFORM_1_11, Path::new("t")).expect("parses");
    let addrs: Vec<String> = state.addrs().iter().map(ToString::to_string).collect();
    assert_eq!(
        addrs,
        [
            "azureml_compute_cluster.cpu[0]",
            "azureml_workspace.w",
            "data.azureml_workspace.existing"
        ]
    );
}

#[test]
fn unknown_fields_are_kept() {
    let text = TERRAFORM_1_0.replace(
        "\"resources\": []",
        "\"resources\": [],\n  \"future_field\": {\"a\": 1}",
    );
    let state = State::from_json(&text, Path::new("t")).expect("parses");
    assert!(
        state
            .to_json()
            .contains("\"future_field\": {\n    \"a\": 1\n  }")
    );
}

#[test]
fn other_versions_and_garbage_are_refused() {
    let v3 = TERRAFORM_1_0.replace("\"version\": 4", "\"version\": 3");
    assert!(matches!(
        State::from_json(&v3, Path::new("t")),
        Err(StateError::UnsupportedVersion { version: 3, .. })
    ));
    assert!(matches!(
        State::from_json("{", Path::new("t")),
        Err(StateError::Parse { .. })
    ));
}

#[test]
fn objects_are_stored_in_the_provider_layout_with_digests() {
    let registry = load_registry().expect("catalogue");
    let schema = registry.get("azureml_compute_instance").expect("schema");
    let key = SecretKey::from_bytes(&[5; 32]);
    let addr: ResourceAddr = "azureml_compute_instance.dev[\"alice\"]"
        .parse()
        .expect("addr");
    let mut values = ObjectValue::default();
    values.set("name", "dev".into());
    values.set("ssh_admin_public_key", "ssh-rsa AAAA secret".into());
    values.set("provisioning_state", Value::Unknown);
    let mut state = State::new();
    state.set_object(
        &addr,
        schema,
        &values,
        &["azureml_workspace.w".parse().expect("addr")],
        Some(&key),
    );

    let instance = state.instance(&addr).expect("stored");
    let attributes = instance
        .attributes
        .as_ref()
        .and_then(|json| json.as_object())
        .expect("object");
    assert_eq!(
        attributes.len(),
        schema.attributes.len(),
        "every schema attribute is present"
    );
    assert_eq!(
        attributes["schedule"],
        serde_json::json!([]),
        "no blocks: an empty list"
    );
    assert_eq!(attributes["provisioning_state"], serde_json::Value::Null);
    let stored_key = attributes["ssh_admin_public_key"].as_str().expect("digest");
    assert!(secret::is_digest(stored_key));
    assert!(!state.to_json().contains("AAAA secret"));
    assert_eq!(instance.dependencies, ["azureml_workspace.w"]);
    assert_eq!(state.resources[0].each.as_deref(), Some("map"));
    assert_eq!(state.resources[0].provider, PROVIDER_CONFIG);

    let object = state.object(&addr, schema).expect("object");
    assert_eq!(object.get("schedule"), &Value::Null);
    assert_eq!(object.get_str("name"), Some("dev"));
    let prior = state.prior(&registry);
    assert_eq!(
        prior.resources[&addr].dependencies,
        ["azureml_workspace.w".parse::<ResourceAddr>().expect("addr")]
    );
    assert!(secret::matches(
        &key,
        prior.resources[&addr]
            .values
            .get_str("ssh_admin_public_key")
            .expect("digest"),
        "ssh-rsa AAAA secret"
    ));

    // Without a key secrets are not stored at all.
    state.set_object(&addr, schema, &values, &[], None);
    let object = state.object(&addr, schema).expect("object");
    assert_eq!(object.get("ssh_admin_public_key"), &Value::Null);

    assert!(state.remove(&addr));
    assert!(state.resources.is_empty());
    assert!(!state.remove(&addr));
}

#[test]
fn nested_objects_store_every_member() {
    let registry = load_registry().expect("catalogue");
    let schema = registry.get("azureml_inference_cluster").expect("schema");
    let addr = ResourceAddr::managed("azureml_inference_cluster", "aks");
    let mut values = ObjectValue::default();
    values.set(
        "ssl",
        Value::Map([("status".to_owned(), Value::from("Auto"))].into()),
    );
    let mut state = State::new();
    state.set_object(&addr, schema, &values, &[], None);
    let attributes = state
        .instance(&addr)
        .and_then(|instance| instance.attributes.clone())
        .expect("attributes");
    assert_eq!(
        attributes["ssl"],
        serde_json::json!({"cert": null, "cname": null, "key": null, "leaf_domain_label": null, "overwrite_existing_domain": null, "status": "Auto"})
    );
}

#[test]
fn store_saves_atomically_bumps_serial_and_keeps_lineage() {
    let registry = load_registry().expect("catalogue");
    let schema = registry.get("azureml_workspace").expect("schema");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("terraform.tfstate");
    let (mut store, mut state) = StateStore::open(&path, &options("apply")).expect("open");
    assert_eq!(state.serial, 0);
    let lineage = state.lineage.clone();

    let addr = ResourceAddr::managed("azureml_workspace", "w");
    let mut values = ObjectValue::default();
    values.set("name", "w".into());
    assert!(
        store
            .update(&mut state, |state| state.set_object(
                &addr,
                schema,
                &values,
                &[],
                None
            ))
            .expect("save")
    );
    assert_eq!(state.serial, 1);
    assert!(
        !store.save(&mut state).expect("no change"),
        "an unchanged state is not written again"
    );
    assert_eq!(state.serial, 1);

    values.set("description", "d".into());
    store
        .update(&mut state, |state| {
            state.set_object(&addr, schema, &values, &[], None)
        })
        .expect("save");
    assert_eq!(state.serial, 2);
    let on_disk = read(&path).expect("read").expect("present");
    assert_eq!(on_disk, state);
    assert_eq!(on_disk.lineage, lineage);
    assert!(
        !backup_path(&path).exists(),
        "there was no previous state to back up"
    );

    // A second writer fails fast while the first holds the lock.
    let error = StateStore::open(&path, &options("apply")).expect_err("locked");
    assert!(matches!(error, StateError::Lock(LockError::Held { .. })));
    drop(store);

    // The next command backs up the previous state on its first write.
    let (mut store, mut state) = StateStore::open(&path, &options("destroy")).expect("open again");
    assert_eq!(state.serial, 2);
    store
        .update(&mut state, |state| {
            state.remove(&addr);
        })
        .expect("save");
    assert_eq!(state.serial, 3);
    let backup = read(&backup_path(&path)).expect("read").expect("backup");
    assert_eq!(backup.serial, 2);

    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn empty_or_missing_files_are_no_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("terraform.tfstate");
    assert_eq!(read(&path).expect("missing"), None);
    std::fs::write(&path, "").expect("write");
    assert_eq!(read(&path).expect("empty"), None);
    let (_store, state) = StateStore::open(&path, &options("plan")).expect("open");
    assert_eq!(state.serial, 0);
}

const WORKSPACE_ID: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

/// A state whose `resources` are `entries` (JSON objects without the provider).
fn state_with(entries: &[serde_json::Value]) -> String {
    let resources: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            entry["provider"] = PROVIDER_CONFIG.into();
            entry
        })
        .collect();
    serde_json::json!({
        "version": 4, "terraform_version": "1.0.3", "serial": 1, "lineage": "l",
        "outputs": {}, "resources": resources,
    })
    .to_string()
}

fn cluster(name: &str, instances: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"mode": "managed", "type": "azureml_compute_cluster", "name": name,
        "instances": instances})
}

fn cluster_object(key: Option<serde_json::Value>, name: &str, id: &str) -> serde_json::Value {
    let mut instance = serde_json::json!({"schema_version": 0, "attributes": {
        "id": id, "name": name, "workspace_id": WORKSPACE_ID}});
    if let Some(key) = key {
        instance["index_key"] = key;
    }
    instance
}

fn compute_id(name: &str) -> String {
    format!("{WORKSPACE_ID}/computes/{name}")
}

/// The findings of a state that must be refused: (severity, summary, detail) of each.
fn findings(text: &str) -> Vec<(crate::diag::Severity, String, String)> {
    match State::from_json(text, Path::new("terraform.tfstate")) {
        Err(StateError::Integrity { diagnostics, path }) => {
            assert_eq!(path, "terraform.tfstate");
            diagnostics
                .iter()
                .map(|d| {
                    (
                        d.severity,
                        d.summary.clone(),
                        d.detail.clone().unwrap_or_default(),
                    )
                })
                .collect()
        }
        other => panic!("expected an integrity error, got {other:?}"),
    }
}

#[test]
fn a_resource_listed_twice_is_refused_naming_both_entries() {
    let text = state_with(&[
        cluster(
            "cpu",
            serde_json::json!([cluster_object(None, "cpu", &compute_id("cpu"))]),
        ),
        cluster("cpu", serde_json::json!([])),
    ]);
    let found = findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "Duplicate resource in state");
    assert!(
        found[0]
            .2
            .contains("lists `azureml_compute_cluster.cpu` in 2 entries")
            && found[0]
                .2
                .contains("entry 1 holds `azureml_compute_cluster.cpu`")
            && found[0].2.contains("entry 2 holds no instances"),
        "{}",
        found[0].2
    );
}

#[test]
fn an_instance_key_twice_is_refused() {
    let text = state_with(&[cluster(
        "cpu",
        serde_json::json!([
            cluster_object(Some(0.into()), "cpu-a", &compute_id("cpu-a")),
            cluster_object(Some(0.into()), "cpu-b", &compute_id("cpu-b")),
        ]),
    )]);
    let found = findings(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "Duplicate instance key in state");
    assert!(
        found[0]
            .2
            .contains("`azureml_compute_cluster.cpu[0]` has 2 entries for its current object"),
        "{}",
        found[0].2
    );
}

#[test]
fn ids_that_are_not_the_objects_are_refused_with_the_reason() {
    let cases = [
        ("not-an-id", "it is not an ARM resource id"),
        (
            WORKSPACE_ID,
            "it is the id of a `Microsoft.MachineLearningServices/workspaces`",
        ),
        (
            &*compute_id("gpu"),
            "its `name`, `workspace_id` give the id",
        ),
    ];
    for (id, why) in cases {
        let text = state_with(&[cluster(
            "cpu",
            serde_json::json!([cluster_object(None, "cpu", id)]),
        )]);
        let found = findings(&text);
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0].1, "Invalid id in state", "{id}");
        assert!(found[0].2.contains(why), "{id}: {}", found[0].2);
        assert!(
            found[0]
                .2
                .contains("`amlplan state rm 'azureml_compute_cluster.cpu'`"),
            "{}",
            found[0].2
        );
    }
}

#[test]
fn one_object_under_two_addresses_is_refused_modules_included() {
    let mut in_module = cluster(
        "cpu",
        serde_json::json!([cluster_object(None, "cpu", &compute_id("CPU"))]),
    );
    in_module["module"] = "module.team".into();
    let text = state_with(&[
        cluster(
            "cpu",
            serde_json::json!([cluster_object(None, "cpu", &compute_id("cpu"))]),
        ),
        in_module,
    ]);
    let found = findings(&text);
    let summaries: Vec<&str> = found
        .iter()
        .map(|(_, summary, _)| summary.as_str())
        .collect();
    assert_eq!(summaries, ["One object recorded twice in state"]);
    assert!(
        found[0].2.contains(
            "`azureml_compute_cluster.cpu` and `module.team.azureml_compute_cluster.cpu` record the same ARM object"
        ) && found[0].2.contains("`amlplan state rm 'module.team.azureml_compute_cluster.cpu'`"),
        "{}",
        found[0].2
    );
}

#[test]
fn entries_in_modules_have_module_paths_and_repairs_read_without_checks() {
    let mut in_module = cluster(
        "cpu",
        serde_json::json!([cluster_object(None, "cpu", &compute_id("cpu"))]),
    );
    in_module["module"] = "module.team".into();
    let state = State::from_json(&state_with(&[in_module]), Path::new("t")).expect("reads");
    let found = state.check(&load_registry().expect("catalogue"));
    assert!(found.is_empty(), "{found:?}");
    let addr: ResourceAddr = "module.team.azureml_compute_cluster.cpu"
        .parse()
        .expect("addr");
    assert_eq!(state.addrs(), std::slice::from_ref(&addr));
    assert!(state.instance(&addr).is_some());
    assert!(
        state
            .instance(&addr.clone().in_module(Default::default()))
            .is_none()
    );
    let mut invalid = cluster(
        "cpu",
        serde_json::json!([cluster_object(None, "cpu", &compute_id("cpu"))]),
    );
    invalid["module"] = "team".into();
    assert_eq!(
        findings(&state_with(&[invalid]))[0].1,
        "Invalid module path in state"
    );

    let broken = state_with(&[cluster(
        "cpu",
        serde_json::json!([cluster_object(None, "cpu", "x")]),
    )]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("terraform.tfstate");
    std::fs::write(&path, &broken).expect("write");
    assert!(matches!(read(&path), Err(StateError::Integrity { .. })));
    assert!(matches!(
        StateStore::open(&path, &options("plan")),
        Err(StateError::Integrity { .. })
    ));
    let state = read_unchecked(&path).expect("reads").expect("a state");
    assert_eq!(state.addrs().len(), 1);
    let (_store, state) = StateStore::open_unchecked(&path, &options("state rm")).expect("opens");
    assert_eq!(state.addrs().len(), 1);
}

#[test]
fn an_implied_move_keeps_the_object_and_sets_each() {
    let text = state_with(&[cluster(
        "cpu",
        serde_json::json!([cluster_object(Some(0.into()), "cpu", &compute_id("cpu"))]),
    )]);
    let mut state = State::from_json(&text, Path::new("t")).expect("reads");
    let from: ResourceAddr = "azureml_compute_cluster.cpu[0]".parse().expect("addr");
    let to = from.without_key();
    assert!(state.move_instance(&from, &to));
    assert_eq!(state.addrs(), std::slice::from_ref(&to));
    assert_eq!(state.resources.len(), 1);
    assert_eq!(state.resources[0].each, None);
    let attributes = state.resources[0].instances[0]
        .attributes
        .clone()
        .expect("attributes");
    assert_eq!(attributes["id"], compute_id("cpu"));
    // Back again: a taken target moves nothing.
    assert!(state.move_instance(&to, &from));
    assert_eq!(state.resources[0].each.as_deref(), Some("list"));
    assert!(!state.move_instance(&from, &from));
}

#[test]
fn an_entry_keeps_the_provider_configuration_it_belongs_to() {
    let text = state_with(&[cluster(
        "cpu",
        serde_json::json!([cluster_object(None, "cpu", &compute_id("cpu"))]),
    )]);
    let mut state = State::from_json(&text, Path::new("t")).expect("reads");
    let addr: ResourceAddr = "azureml_compute_cluster.cpu".parse().expect("addr");
    assert_eq!(state.provider_alias(&addr), None);
    state.set_provider_alias(&addr, Some("prod"));
    assert_eq!(
        state.resources[0].provider,
        format!("{PROVIDER_CONFIG}.prod")
    );
    assert_eq!(state.provider_alias(&addr).as_deref(), Some("prod"));
    // Written and read back as Terraform writes an aliased configuration.
    let again = State::from_json(&state.to_json(), Path::new("t")).expect("reads");
    assert_eq!(again.provider_alias(&addr).as_deref(), Some("prod"));
    state.set_provider_alias(&addr, None);
    assert_eq!(state.resources[0].provider, PROVIDER_CONFIG);
    let other: ResourceAddr = "azureml_compute_cluster.gpu".parse().expect("addr");
    assert_eq!(state.provider_alias(&other), None);
}

#[test]
fn a_write_torn_by_a_crash_is_completed_from_the_journal() {
    let registry = load_registry().expect("catalogue");
    let schema = registry.get("azureml_workspace").expect("schema");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("terraform.tfstate");
    let addr = ResourceAddr::managed("azureml_workspace", "w");
    let mut values = ObjectValue::default();
    values.set("name", "w".into());
    let (mut store, mut state) = StateStore::open(&path, &options("apply")).expect("open");
    store
        .update(&mut state, |state| {
            state.set_object(&addr, schema, &values, &[], None)
        })
        .expect("save");
    assert!(
        !journal_path(&path).exists(),
        "a completed write leaves no journal"
    );
    drop(store);
    let written = std::fs::read(&path).expect("state");

    // The crash came inside the in-place write: a torn file beside the complete journal.
    std::fs::write(journal_path(&path), &written).expect("journal");
    std::fs::write(&path, &written[..written.len() / 2]).expect("torn");
    let (store, recovered) = StateStore::open(&path, &options("plan")).expect("recovered");
    assert_eq!(recovered, state);
    assert_eq!(std::fs::read(&path).expect("state"), written);
    assert!(!journal_path(&path).exists());
    drop(store);

    // The crash came before it: the journal is one serial ahead, and wins.
    let mut ahead = state.clone();
    ahead.serial += 1;
    std::fs::write(journal_path(&path), ahead.to_json()).expect("journal");
    let (store, recovered) = StateStore::open(&path, &options("plan")).expect("recovered");
    assert_eq!(recovered.serial, state.serial + 1);
    drop(store);

    // Terraform wrote the state since (another lineage here, or not older): the journal goes.
    let mut other = State::new();
    other.serial = 1;
    std::fs::write(journal_path(&path), other.to_json()).expect("journal");
    let (store, kept) = StateStore::open(&path, &options("plan")).expect("opens");
    assert_eq!(kept.serial, state.serial + 1);
    assert!(!journal_path(&path).exists());
    drop(store);
}
