//! Every configuration under `examples/` loads and evaluates with no diagnostic at all, and
//! holds the resources its comments promise.

use std::path::{Path, PathBuf};

use planner::config::{Configuration, Environment, NoKnownValues, evaluate};
use planner::render::diagnostic::diagnostics_to_string;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The addresses of the evaluated resources of one example, sorted.
#[track_caller]
fn evaluated_addresses(name: &str) -> Vec<String> {
    let registry = engine::schema::load_registry().expect("the catalogue is valid");
    let dir = examples_dir().join(name);
    let (mut config, mut diagnostics) =
        Configuration::load_dir(&dir, &registry).expect("the example folder is readable");
    let (inputs, more) = config.load_inputs(&[], &Environment::from_pairs::<&str, &str>([]));
    diagnostics.extend(more);
    let (evaluated, more) = evaluate(&config, &inputs, &NoKnownValues);
    diagnostics.extend(more);
    assert!(
        diagnostics.is_empty(),
        "`examples/{name}` has diagnostics:\n{}",
        diagnostics_to_string(&config.locate_all(diagnostics.clone()), config.sources())
    );
    let mut addresses: Vec<String> = evaluated
        .resources
        .keys()
        .map(ToString::to_string)
        .collect();
    addresses.sort();
    addresses
}

#[test]
fn every_example_folder_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(examples_dir())
        .expect("examples/ exists")
        .map(|entry| {
            entry
                .expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "attach-everything",
            "platform",
            "quickstart",
            "reattach",
            "training-run"
        ]
    );
}

#[test]
fn training_run_is_valid() {
    assert_eq!(
        evaluated_addresses("training-run"),
        [
            "azureml_compute_cluster.cpu",
            "azureml_environment.python",
            "azureml_run.train",
            "azureml_workspace.main"
        ]
    );
}

#[test]
fn quickstart_is_valid() {
    assert_eq!(
        evaluated_addresses("quickstart"),
        [
            "azureml_compute_cluster.cpu",
            "azureml_compute_instance.dev",
            "azureml_workspace.main"
        ]
    );
}

#[test]
fn attach_everything_is_valid() {
    assert_eq!(
        evaluated_addresses("attach-everything"),
        [
            "azureml_attached_data_lake_analytics.adla",
            "azureml_attached_databricks.dbx",
            "azureml_attached_hdinsight.hdi",
            "azureml_attached_kubernetes.arc[\"batch\"]",
            "azureml_attached_kubernetes.arc[\"training\"]",
            "azureml_attached_synapse_spark.spark",
            "azureml_attached_virtual_machine.ubuntu",
            "azureml_inference_cluster.aks",
            "azureml_workspace.main"
        ]
    );
}

#[test]
fn reattach_is_valid() {
    assert_eq!(
        evaluated_addresses("reattach"),
        [
            "azureml_attached_virtual_machine.original[0]",
            "azureml_inference_cluster.aks",
            "azureml_workspace.main"
        ]
    );
}

#[test]
fn platform_is_valid() {
    assert_eq!(
        evaluated_addresses("platform"),
        [
            "azureml_compute_instance.shared",
            "azureml_workspace.main",
            "azureml_workspace.shared",
            "module.base_environment.azureml_environment.this",
            "module.team[\"ml\"].azureml_compute_cluster.cpu",
            "module.team[\"ml\"].module.environment.azureml_environment.this",
            "module.team[\"vision\"].azureml_compute_cluster.cpu",
            "module.team[\"vision\"].module.environment.azureml_environment.this",
        ]
    );
}
