use std::path::Path;

use pretty_assertions::assert_eq;

use super::*;
use crate::plan::{Action, ChangeReason, ResourceOptions, UpdateKind, plan_resource};
use crate::resource::fill_plan_time_values;
use crate::schema::{Registry, load_registry};

const WS: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

fn registry() -> Registry {
    load_registry().expect("catalogue")
}

fn run_values(source: &Path) -> ObjectValue {
    let mut values = ObjectValue::default();
    values.set("workspace_id", WS.into());
    values.set("compute_id", format!("{WS}/computes/cpu").into());
    values.set(
        "environment_id",
        format!("{WS}/environments/e/versions/1").into(),
    );
    values.set("source_dir", source.to_string_lossy().as_ref().into());
    values.set("script", "train.py".into());
    values.set(
        "arguments",
        Value::List(vec!["--lr".into(), "0.1".into(), "a b".into()]),
    );
    values
}

fn filled(registry: &Registry, type_name: &str, mut values: ObjectValue) -> ObjectValue {
    let schema = registry.get(type_name).expect("schema");
    let addr = ResourceAddr::managed(type_name, "x");
    let diags = fill_plan_time_values(schema, &addr, &mut values, Path::new("/"));
    assert!(diags.is_empty(), "{diags:?}");
    values
}

/// The object apply would record: the planned one with the service's values.
fn applied(after: &ObjectValue, name: &str, status: &str) -> ObjectValue {
    let mut object = after.clone();
    object.set("id", format!("{WS}/jobs/{name}").into());
    object.set("name", name.into());
    object.set("status", status.into());
    object.set("code_id", format!("{WS}/codes/c/versions/1").into());
    for attribute in ["git_commit", "git_branch", "git_dirty"] {
        object.set(attribute, Value::Null);
    }
    object
}

#[test]
fn a_run_gets_its_snapshot_hash_and_command_at_plan_time() {
    let registry = registry();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("train.py"), "print('hi')\n").expect("write");
    let values = filled(&registry, "azureml_run", run_values(dir.path()));
    let expected = Snapshot::scan(dir.path())
        .and_then(|snapshot| snapshot.content_hash())
        .expect("hash");
    assert_eq!(values.get_str("snapshot_hash"), Some(expected.as_str()));
    assert_eq!(
        values.get_str("command"),
        Some("python train.py --lr 0.1 'a b'")
    );
}

#[test]
fn run_commands_and_environment_definitions_are_checked() {
    let registry = registry();
    let run = registry.get("azureml_run").expect("run");
    let addr = ResourceAddr::managed("azureml_run", "r");
    let mut values = ObjectValue::default();
    values.set("command", "echo".into());
    values.set("script", "train.py".into());
    values.set("snapshot_hash", "x".into());
    let diags = fill_plan_time_values(run, &addr, &mut values, Path::new("/"));
    let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        ["Computed argument set", "Conflicting run commands"]
    );

    let environment = registry.get("azureml_environment").expect("environment");
    let addr = ResourceAddr::managed("azureml_environment", "e");
    for (pairs, expected) in [
        (vec![], Some("Environment without a definition")),
        (
            vec![("conda_file", "x")],
            Some("Conda file without an image"),
        ),
        (
            vec![
                ("image", DEFAULT_CPU_IMAGE),
                ("python_path", "/usr/bin/python3"),
            ],
            Some("Conflicting environment definitions"),
        ),
        (vec![("python_path", "/usr/bin/python3")], None),
        (
            vec![("image", DEFAULT_GPU_IMAGE), ("conda_file", "x")],
            None,
        ),
    ] {
        let mut values = ObjectValue::default();
        for (name, value) in pairs {
            values.set(name, value.into());
        }
        let diags = fill_plan_time_values(environment, &addr, &mut values, Path::new("/"));
        assert_eq!(
            diags.iter().next().map(|d| d.summary.as_str()),
            expected,
            "{values:?}"
        );
        assert!(values.get_str("version").is_some());
    }
}

#[test]
fn a_changed_snapshot_plans_one_new_run_and_keeps_the_old_one() {
    let registry = registry();
    let schema = registry.get("azureml_run").expect("run");
    let addr = ResourceAddr::managed("azureml_run", "train");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("train.py"), "print(1)\n").expect("write");
    let desired = filled(&registry, "azureml_run", run_values(dir.path()));
    let create = plan_resource(schema, &addr, None, &desired, &ResourceOptions::default());
    assert_eq!(create.action, Action::Create);
    let after = create.after.expect("after");
    assert_eq!(after.get("name"), &Value::Unknown);
    let prior = applied(&after, "train-1", "Completed");

    // Unchanged: nothing to do.
    let again = plan_resource(
        schema,
        &addr,
        Some(&prior),
        &desired,
        &ResourceOptions::default(),
    );
    assert_eq!(again.action, Action::NoOp);

    // One changed file: a new run, created before the old one is forgotten, caused by the hash.
    std::fs::write(dir.path().join("train.py"), "print(2)\n").expect("write");
    let changed = filled(&registry, "azureml_run", run_values(dir.path()));
    let replace = plan_resource(
        schema,
        &addr,
        Some(&prior),
        &changed,
        &ResourceOptions::default(),
    );
    assert_eq!(replace.action, Action::Replace);
    assert!(replace.create_before_destroy);
    assert_eq!(replace.reason, Some(ChangeReason::NewObjectKeepsOld));
    assert_eq!(
        replace.replace_paths,
        vec![crate::addr::AttrPath::attr("snapshot_hash")]
    );
    let after = replace.after.as_ref().expect("after");
    assert_eq!(after.get("name"), &Value::Unknown);
    assert_ne!(after.get("snapshot_hash"), prior.get("snapshot_hash"));
    assert!(
        replace
            .describe_reason(Some(schema))
            .expect("reason")
            .contains("a new run is submitted")
    );
}

#[test]
fn a_failed_run_is_not_resubmitted_unless_its_inputs_change_or_replace_is_asked() {
    let registry = registry();
    let schema = registry.get("azureml_run").expect("run");
    let addr = ResourceAddr::managed("azureml_run", "train");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("train.py"), "raise SystemExit(1)\n").expect("write");
    let desired = filled(&registry, "azureml_run", run_values(dir.path()));
    let after = plan_resource(schema, &addr, None, &desired, &ResourceOptions::default())
        .after
        .expect("after");
    let failed = applied(&after, "train-1", "Failed");
    let plan = |desired: &ObjectValue, force_replace| {
        let options = ResourceOptions {
            force_replace,
            ..ResourceOptions::default()
        };
        plan_resource(schema, &addr, Some(&failed), desired, &options)
    };
    assert_eq!(plan(&desired, false).action, Action::NoOp);
    let replaced = plan(&desired, true);
    assert_eq!(replaced.action, Action::Replace);
    assert_eq!(replaced.reason, Some(ChangeReason::ReplaceByRequest));

    let mut with_inputs = desired.clone();
    with_inputs.set(
        "inputs",
        Value::Map([("lr".to_owned(), Value::from("0.2"))].into()),
    );
    let change = plan(&with_inputs, false);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(
        change.replace_paths,
        vec![crate::addr::AttrPath::attr("inputs")]
    );

    // Tags change in place; so do the client-side settings (recorded, nothing resubmitted).
    let mut tagged = desired.clone();
    tagged.set(
        "tags",
        Value::Map([("team".to_owned(), Value::from("ml"))].into()),
    );
    tagged.set("wait_for_completion", false.into());
    assert_eq!(
        plan(&tagged, false).action,
        Action::Update(UpdateKind::put())
    );
}

#[test]
fn a_changed_environment_is_a_new_version_and_the_old_one_is_kept() {
    let registry = registry();
    let schema = registry.get("azureml_environment").expect("environment");
    let addr = ResourceAddr::managed("azureml_environment", "env");
    let definition = |image: &str| {
        let mut values = ObjectValue::default();
        values.set("name", "env".into());
        values.set("workspace_id", WS.into());
        values.set("image", image.into());
        filled(&registry, "azureml_environment", values)
    };
    let desired = definition(DEFAULT_CPU_IMAGE);
    let version = desired.get_str("version").expect("derived").to_owned();
    let mut prior = plan_resource(schema, &addr, None, &desired, &ResourceOptions::default())
        .after
        .expect("after");
    prior.set(
        "id",
        format!("{WS}/environments/env/versions/{version}").into(),
    );
    for computed in ["environment_type", "is_archived", "provisioning_state"] {
        prior.set(computed, Value::Null);
    }
    let same = plan_resource(
        schema,
        &addr,
        Some(&prior),
        &desired,
        &ResourceOptions::default(),
    );
    assert_eq!(same.action, Action::NoOp);

    let mut described = desired.clone();
    described.set("description", "docs".into());
    let update = plan_resource(
        schema,
        &addr,
        Some(&prior),
        &described,
        &ResourceOptions::default(),
    );
    assert_eq!(update.action, Action::Update(UpdateKind::put()));

    let changed = definition(DEFAULT_GPU_IMAGE);
    let new_version = plan_resource(
        schema,
        &addr,
        Some(&prior),
        &changed,
        &ResourceOptions::default(),
    );
    assert_eq!(new_version.action, Action::Replace);
    assert!(new_version.create_before_destroy);
    assert_eq!(new_version.reason, Some(ChangeReason::NewObjectKeepsOld));
    assert_ne!(
        new_version
            .after
            .as_ref()
            .and_then(|after| after.get_str("version")),
        Some(version.as_str())
    );
    assert!(
        new_version
            .describe_reason(Some(schema))
            .expect("reason")
            .contains("the old one is kept")
    );
}
