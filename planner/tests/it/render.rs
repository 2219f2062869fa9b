//! What a person reads for a plan (snapshots in `planner/tests/it/snapshots/`) and what a tool
//! reads (`terraform show -json` shape). Plans are computed by the engine from literal values
//! (configuration, state, refreshed objects), never written by hand, so a snapshot shows what
//! `amlplan plan` prints for that situation. Each test also asserts the facts it is about, so a
//! snapshot update cannot silently change them.

use std::collections::BTreeMap;

use engine::addr::{InstanceKey, ResourceAddr};
use engine::plan::{
    Action, Actual, ActualObject, Desired, DesiredResource, DiffOptions, Plan, PriorObject,
    PriorState, ResourceOptions, diff, plan_resource,
};
use engine::schema::{Registry, load_registry};
use engine::secret::{self, SecretKey};
use engine::value::{ObjectValue, Value};
use planner::render::json::{plan_json, resource_change_json};
use planner::render::plan::{PlanCounts, RenderOptions, plan_to_string, render_drift, render_plan};
use pretty_assertions::assert_eq;
use serde_json::json;

const WS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/demo-ws";
const VM: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm";
const AKS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.ContainerService/managedClusters/demo-aks";

fn registry() -> Registry {
    load_registry().expect("the catalogue is valid")
}

fn object(pairs: &[(&str, Value)]) -> ObjectValue {
    let mut object = ObjectValue::default();
    for (name, value) in pairs {
        object.set(name, value.clone());
    }
    object
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    )
}

fn addr(text: &str) -> ResourceAddr {
    text.parse().expect("address")
}

/// What state holds after applying `config` to nothing: the planned object with the values the
/// service filled in (every other unknown becomes null, as after a real apply).
fn applied(type_name: &str, config: &ObjectValue, computed: &[(&str, Value)]) -> ObjectValue {
    let registry = registry();
    let schema = registry.get(type_name).expect("schema");
    let change = plan_resource(
        schema,
        &ResourceAddr::managed(type_name, "x"),
        None,
        config,
        &ResourceOptions::default(),
    );
    let mut state = change.after.expect("after");
    for (name, value) in computed {
        state.set(name, value.clone());
    }
    for (_, value) in state.0.iter_mut() {
        if *value == Value::Unknown {
            *value = Value::Null;
        }
    }
    state
}

fn cluster_config(max_nodes: i64) -> ObjectValue {
    object(&[
        ("name", "cpu-cluster".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", max_nodes.into()),
    ])
}

fn cluster_state(config: &ObjectValue) -> ObjectValue {
    applied(
        "azureml_compute_cluster",
        config,
        &[
            ("id", format!("{WS}/computes/cpu-cluster").into()),
            ("location", "westeurope".into()),
            ("remote_login_port_public_access", "Enabled".into()),
            ("provisioning_state", "Succeeded".into()),
        ],
    )
}

fn vm_config(name: &str) -> ObjectValue {
    object(&[
        ("name", name.into()),
        ("workspace_id", WS.into()),
        ("resource_id", VM.into()),
        ("admin_username", "azureuser".into()),
    ])
}

fn vm_state(config: &ObjectValue) -> ObjectValue {
    let name = config.get_str("name").expect("name").to_owned();
    applied(
        "azureml_attached_virtual_machine",
        config,
        &[
            ("id", format!("{WS}/computes/{name}").into()),
            ("location", "westeurope".into()),
            ("provisioning_state", "Succeeded".into()),
            ("is_attached_compute", true.into()),
            ("address", "20.1.2.3".into()),
            ("virtual_machine_size", "Standard_D2s_v3".into()),
        ],
    )
}

fn aks_config(ssl: Value) -> ObjectValue {
    object(&[
        ("name", "inference".into()),
        ("workspace_id", WS.into()),
        ("resource_id", AKS.into()),
        ("ssl", ssl),
    ])
}

fn aks_state(config: &ObjectValue) -> ObjectValue {
    applied(
        "azureml_inference_cluster",
        config,
        &[
            ("id", format!("{WS}/computes/inference").into()),
            ("location", "westeurope".into()),
            ("agent_count", 3.into()),
            ("agent_vm_size", "Standard_D3_v2".into()),
            (
                "cluster_fqdn",
                "demo-aks-dns.hcp.westeurope.azmk8s.io".into(),
            ),
            ("is_attached_compute", true.into()),
            ("provisioning_state", "Succeeded".into()),
        ],
    )
}

/// Plans `config` against `state` (both by address), with the refreshed objects equal to state
/// unless `actual` says otherwise. Fails on error diagnostics: a rendered plan is a valid one.
#[track_caller]
fn plan_of(
    config: &[(&str, ObjectValue)],
    state: &[(&str, ObjectValue)],
    actual: Actual,
    options: &DiffOptions<'_>,
) -> Plan {
    let desired = Desired {
        resources: config
            .iter()
            .map(|(address, values)| DesiredResource::new(addr(address), values.clone()))
            .collect(),
    };
    let prior = PriorState {
        resources: state
            .iter()
            .map(|(address, values)| {
                (
                    addr(address),
                    PriorObject {
                        values: values.clone(),
                        dependencies: Vec::new(),
                    },
                )
            })
            .collect(),
    };
    let (plan, diags) = diff(&desired, &prior, &actual, &registry(), options);
    assert!(!diags.has_errors(), "{diags:?}");
    plan
}

#[track_caller]
fn plan_simple(config: &[(&str, ObjectValue)], state: &[(&str, ObjectValue)]) -> Plan {
    plan_of(config, state, Actual::default(), &DiffOptions::default())
}

fn human(plan: &Plan) -> String {
    plan_to_string(plan, &registry(), &RenderOptions::default())
}

fn machine(plan: &Plan) -> serde_json::Value {
    plan_json(plan, &registry())
}

#[track_caller]
fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

fn actions(json: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    json["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|change| {
            (
                change["address"].as_str().expect("address").to_owned(),
                change["change"]["actions"].clone(),
            )
        })
        .collect()
}

fn workspace_config() -> ObjectValue {
    object(&[
        ("name", "demo-ws".into()),
        ("resource_group_name", "demo-rg".into()),
        ("location", "westeurope".into()),
    ])
}

#[test]
fn create() {
    let mut cluster = cluster_config(4);
    // A reference to a workspace that does not exist yet.
    cluster.set("workspace_id", Value::Unknown);
    cluster.set("tags", map(&[("env", "dev".into())]));
    let plan = plan_simple(
        &[
            ("azureml_workspace.main", workspace_config()),
            ("azureml_compute_cluster.cpu", cluster),
        ],
        &[],
    );
    let text = human(&plan);
    assert!(text.contains("  # azureml_compute_cluster.cpu will be created\n  + resource \"azureml_compute_cluster\" \"cpu\" {\n"), "{text}");
    assert!(
        text.contains("      + id                              = (known after apply)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 2 to add, 0 to change, 0 to destroy.\n"),
        "{text}"
    );
    snapshot("create", &text);

    let json = machine(&plan);
    assert_eq!(
        actions(&json),
        [
            ("azureml_compute_cluster.cpu".to_owned(), json!(["create"])),
            ("azureml_workspace.main".to_owned(), json!(["create"])),
        ]
    );
    let change = &json["resource_changes"][0]["change"];
    assert_eq!(change["before"], json!(null));
    assert_eq!(change["before_sensitive"], json!(false));
    assert_eq!(change["after"]["max_node_count"], json!(4));
    assert_eq!(change["after"]["tags"], json!({"env": "dev"}));
    // Unknowns are left out of `after` and marked in `after_unknown`.
    assert!(change["after"].get("id").is_none());
    assert!(change["after"].get("workspace_id").is_none());
    assert_eq!(change["after_unknown"]["id"], json!(true));
    assert_eq!(change["after_unknown"]["workspace_id"], json!(true));
    assert!(change["after_unknown"].get("max_node_count").is_none());
    // Secrets of the schema are marked even when unset.
    assert_eq!(change["after_sensitive"]["admin_password"], json!(true));
    assert_eq!(change["after_sensitive"]["tags"], json!({}));
    assert_eq!(json["format_version"], json!("1.2"));
    assert_eq!(json["applyable"], json!(true));
    assert_eq!(json["errored"], json!(false));
    let planned = json["planned_values"]["root_module"]["resources"]
        .as_array()
        .expect("planned resources");
    assert_eq!(planned.len(), 2);
    assert_eq!(
        planned[0]["provider_name"],
        json!("azureml.local/azureml/azureml")
    );
    assert_eq!(planned[0]["mode"], json!("managed"));
}

#[test]
fn patch_update() {
    let state = cluster_state(&cluster_config(4));
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", cluster_config(8))],
        &[("azureml_compute_cluster.cpu", state)],
    );
    let text = human(&plan);
    assert!(
        text.contains("# azureml_compute_cluster.cpu will be updated in place (PATCH)\n"),
        "{text}"
    );
    assert!(
        text.contains("      ~ max_node_count     = 4 -> 8\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 0 to add, 1 to change, 0 to destroy.\n"),
        "{text}"
    );
    snapshot("patch_update", &text);

    let json = machine(&plan);
    assert_eq!(
        actions(&json),
        [("azureml_compute_cluster.cpu".to_owned(), json!(["update"]))]
    );
    let change = &json["resource_changes"][0]["change"];
    assert_eq!(change["before"]["max_node_count"], json!(4));
    assert_eq!(change["after"]["max_node_count"], json!(8));
    // A PATCH leaves the service to report the provisioning state again.
    assert_eq!(change["after_unknown"], json!({"provisioning_state": true}));
    assert!(change.get("replace_paths").is_none());
    assert!(json["resource_changes"][0].get("action_reason").is_none());
}

#[test]
fn put_tags_update() {
    let mut before = cluster_config(4);
    before.set(
        "tags",
        map(&[("env", "dev".into()), ("owner", "ml-team".into())]),
    );
    let mut after = cluster_config(4);
    after.set(
        "tags",
        map(&[
            ("env", "prod".into()),
            ("owner", "ml-team".into()),
            ("cost-center", "42".into()),
        ]),
    );
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", after)],
        &[("azureml_compute_cluster.cpu", cluster_state(&before))],
    );
    let text = human(&plan);
    assert!(text.contains("will be updated in place (PUT)\n"), "{text}");
    assert!(
        text.contains("          ~ \"env\"         = \"dev\" -> \"prod\"\n"),
        "{text}"
    );
    assert!(text.contains("# (1 unchanged element hidden)"), "{text}");
    snapshot("put_tags_update", &text);
}

#[test]
fn replace() {
    let mut config = cluster_config(4);
    config.set("vm_size", "STANDARD_NC6".into());
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", config)],
        &[(
            "azureml_compute_cluster.cpu",
            cluster_state(&cluster_config(4)),
        )],
    );
    let text = human(&plan);
    assert!(text.contains("  # azureml_compute_cluster.cpu must be replaced\n  # (`vm_size` cannot change in place: the resource must be replaced)\n-/+ resource"), "{text}");
    assert!(
        text.contains(
            "~ vm_size                         = \"STANDARD_DS3_V2\" -> \"STANDARD_NC6\" # forces replacement\n"
        )
    );
    assert!(
        text.contains("~ id                              = \"/subscriptions/"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 1 to add, 0 to change, 1 to destroy.\n"),
        "{text}"
    );
    snapshot("replace", &text);

    let json = machine(&plan);
    let entry = &json["resource_changes"][0];
    assert_eq!(entry["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(
        entry["action_reason"],
        json!("replace_because_cannot_update")
    );
    assert_eq!(entry["change"]["replace_paths"], json!([["vm_size"]]));
    assert_eq!(entry["change"]["after_unknown"]["id"], json!(true));
}

#[test]
fn reattach_of_an_inference_cluster_tls_change() {
    let auto = map(&[
        ("status", "Auto".into()),
        ("leaf_domain_label", "contoso".into()),
    ]);
    let disabled = map(&[("status", "Disabled".into())]);
    let plan = plan_simple(
        &[("azureml_inference_cluster.serve", aks_config(disabled))],
        &[(
            "azureml_inference_cluster.serve",
            aks_state(&aks_config(auto)),
        )],
    );
    assert_eq!(plan.changes[0].action, Action::Reattach);
    let text = human(&plan);
    assert!(
        text.contains("  # azureml_inference_cluster.serve must be detached and attached again\n")
    );
    assert!(
        text.contains("  # (the resource is kept; the detach finishes before the attach starts)\n")
    );
    assert!(
        text.contains(
            "          ~ status            = \"Auto\" -> \"Disabled\" # forces detach and attach\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "          - leaf_domain_label = \"contoso\" -> null # forces detach and attach\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("-/+ detach (resource kept), then attach again\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 0 to add, 0 to change, 0 to destroy, 1 to attach, 1 to detach.\n")
    );
    snapshot("reattach_tls_change", &text);

    let json = machine(&plan);
    let entry = &json["resource_changes"][0];
    assert_eq!(entry["change"]["actions"], json!(["delete", "create"]));
    assert_eq!(
        entry["change"]["replace_paths"],
        json!([["ssl", "leaf_domain_label"], ["ssl", "status"]])
    );
    assert_eq!(
        entry["action_reason"],
        json!("replace_because_cannot_update")
    );
    assert_eq!(
        entry["change"]["after_sensitive"]["ssl"],
        json!({"cert": true, "key": true})
    );
}

#[test]
fn rename_of_an_attached_vm_is_detach_then_attach() {
    let old = vm_config("ubuntu-vm");
    let plan = plan_simple(
        &[(
            "azureml_attached_virtual_machine.renamed",
            vm_config("ubuntu-vm-b"),
        )],
        &[("azureml_attached_virtual_machine.original", vm_state(&old))],
    );
    let text = human(&plan);
    assert!(
        text.contains("  # azureml_attached_virtual_machine.renamed will be attached\n"),
        "{text}"
    );
    assert!(text.contains(
        "  # (attached after azureml_attached_virtual_machine.original is detached: both attach the same resource)\n"
    ), "{text}");
    assert!(
        text.contains(
            "  # azureml_attached_virtual_machine.original will be detached (resource kept)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  # (not in the configuration any more: it is detached (resource kept))\n")
    );
    assert!(
        text.ends_with("Plan: 0 to add, 0 to change, 0 to destroy, 1 to attach, 1 to detach.\n")
    );
    snapshot("rename_attached_vm", &text);

    let json = machine(&plan);
    assert_eq!(
        actions(&json),
        [
            (
                "azureml_attached_virtual_machine.original".to_owned(),
                json!(["delete"])
            ),
            (
                "azureml_attached_virtual_machine.renamed".to_owned(),
                json!(["create"])
            ),
        ]
    );
    assert_eq!(
        json["resource_changes"][0]["action_reason"],
        json!("delete_because_no_resource_config")
    );
    assert_eq!(json["resource_changes"][0]["change"]["after"], json!(null));
    assert_eq!(
        json["resource_changes"][0]["change"]["after_unknown"],
        json!({})
    );
    assert_eq!(
        json["resource_changes"][0]["change"]["after_sensitive"],
        json!(false)
    );
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!("rename_attached_vm_json", json);
    });
}

#[test]
fn destroy_detaches_attached_kinds_and_deletes_the_rest() {
    let workspace = applied(
        "azureml_workspace",
        &workspace_config(),
        &[("id", WS.into())],
    );
    let vm = vm_config("ubuntu-vm");
    let plan = plan_of(
        &[],
        &[
            ("azureml_workspace.main", workspace),
            (
                "azureml_compute_cluster.cpu",
                cluster_state(&cluster_config(4)),
            ),
            ("azureml_attached_virtual_machine.vm", vm_state(&vm)),
        ],
        Actual::default(),
        &DiffOptions {
            destroy: true,
            ..DiffOptions::default()
        },
    );
    let text = human(&plan);
    assert!(
        text.contains(
            "  # azureml_attached_virtual_machine.vm will be detached (resource kept)\n  - resource"
        ),
        "{text}"
    );
    assert!(
        text.contains("  # azureml_compute_cluster.cpu will be destroyed\n"),
        "{text}"
    );
    assert!(
        text.contains("      - max_node_count                  = 4 -> null\n"),
        "{text}"
    );
    assert!(
        text.contains("  - detach (the resource is kept)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Plan: 0 to add, 0 to change, 2 to destroy, 0 to attach, 1 to detach.\n")
    );
    snapshot("destroy", &text);

    let json = machine(&plan);
    assert!(
        actions(&json)
            .iter()
            .all(|(_, actions)| *actions == json!(["delete"]))
    );
    assert_eq!(
        json["planned_values"]["root_module"]["resources"],
        json!([])
    );
}

#[test]
fn secrets_are_never_shown() {
    const PASSWORD: &str = "Hunter2-Secret-Pa55";
    const NEW_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSECRET\n-----END CERTIFICATE-----\n";
    const TLS_KEY: &str =
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGSECRET\n-----END PRIVATE KEY-----\n";
    let key = SecretKey::from_bytes(&[7; 32]);
    let registry = registry();

    // An attached VM whose stored password (a digest) is replaced by a private key.
    let mut old = vm_config("ubuntu-vm");
    old.set("admin_password", PASSWORD.into());
    let mut stored = vm_state(&old);
    let vm_schema = registry
        .get("azureml_attached_virtual_machine")
        .expect("schema");
    secret::digest_secrets(&vm_schema.attributes, &key, &mut stored);
    let digest = stored.get_str("admin_password").expect("digest").to_owned();
    assert!(secret::is_digest(&digest));
    let mut new = vm_config("ubuntu-vm");
    new.set("ssh_private_key", NEW_KEY.into());

    // An inference cluster that starts serving TLS with its own certificate.
    let tls = map(&[
        ("status", "Enabled".into()),
        ("cert", CERT.into()),
        ("key", TLS_KEY.into()),
        ("cname", "scoring.contoso.com".into()),
    ]);
    let plan = plan_of(
        &[
            ("azureml_attached_virtual_machine.vm", new),
            ("azureml_inference_cluster.serve", aks_config(tls)),
        ],
        &[
            ("azureml_attached_virtual_machine.vm", stored),
            (
                "azureml_inference_cluster.serve",
                aks_state(&aks_config(map(&[("status", "Disabled".into())]))),
            ),
        ],
        Actual::default(),
        &DiffOptions {
            secret_key: Some(&key),
            ..DiffOptions::default()
        },
    );
    assert_eq!(plan.changes[0].action, Action::Reattach);
    assert_eq!(plan.changes[1].action, Action::Reattach);
    let text = human(&plan);
    let json = serde_json::to_string_pretty(&machine(&plan)).expect("json");
    for output in [&text, &json] {
        for secret in [
            PASSWORD,
            "b3BlbnNzaC1rZXktdjEAAAAA",
            "SECRET",
            "BEGIN",
            &digest,
        ] {
            assert!(
                !output.contains(secret),
                "`{secret}` leaked into:\n{output}"
            );
        }
    }
    assert!(
        text.contains(
            "      - admin_password       = (sensitive value) -> null # forces detach and attach\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "      + ssh_private_key      = (sensitive value) # forces detach and attach\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("          + cert   = (sensitive value) # forces detach and attach\n"),
        "{text}"
    );
    snapshot("secrets_hidden", &text);

    let json = machine(&plan);
    let vm = &json["resource_changes"][0]["change"];
    assert_eq!(vm["before"]["admin_password"], json!(null));
    assert_eq!(vm["after"]["ssh_private_key"], json!(null));
    assert_eq!(vm["before_sensitive"]["admin_password"], json!(true));
    assert_eq!(vm["after_sensitive"]["ssh_private_key"], json!(true));
    let aks = &json["resource_changes"][1]["change"];
    assert_eq!(aks["after"]["ssl"]["cert"], json!(null));
    assert_eq!(aks["after"]["ssl"]["cname"], json!("scoring.contoso.com"));
}

#[test]
fn unknowns_show_as_known_after_apply() {
    // The AKS id comes from another resource planned in the same run.
    let mut config = aks_config(Value::Null);
    config.set("resource_id", Value::Unknown);
    config.set(
        "tags",
        map(&[("build", Value::Unknown), ("env", "dev".into())]),
    );
    let plan = plan_simple(&[("azureml_inference_cluster.serve", config)], &[]);
    let text = human(&plan);
    assert!(
        text.contains("      + resource_id         = (known after apply)\n"),
        "{text}"
    );
    assert!(
        text.contains("          + \"build\" = (known after apply)\n"),
        "{text}"
    );
    snapshot("unknowns", &text);

    let json = machine(&plan);
    let change = &json["resource_changes"][0]["change"];
    assert_eq!(change["after_unknown"]["resource_id"], json!(true));
    assert_eq!(change["after_unknown"]["tags"], json!({"build": true}));
    assert_eq!(change["after"]["tags"], json!({"env": "dev"}));
}

fn instance_config(script: &str) -> ObjectValue {
    object(&[
        ("name", "dev-instance".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        (
            "creation_script",
            map(&[("source", "inline".into()), ("data", script.into())]),
        ),
    ])
}

#[test]
fn long_setup_script_is_a_line_diff() {
    let before = "#!/bin/bash\nset -euo pipefail\nconda create -y -n ml python=3.10\nconda activate ml\npip install torch==2.2.0\npip install mlflow\necho done\n";
    let after = "#!/bin/bash\nset -euo pipefail\nconda create -y -n ml python=3.11\nconda activate ml\npip install torch==2.3.1\npip install mlflow\npip install \"azure-ai-ml>=1.15\"\necho done\n";
    let state = applied(
        "azureml_compute_instance",
        &instance_config(before),
        &[
            ("id", format!("{WS}/computes/dev-instance").into()),
            ("location", "westeurope".into()),
            ("current_state", "Running".into()),
        ],
    );
    let plan = plan_simple(
        &[("azureml_compute_instance.dev", instance_config(after))],
        &[("azureml_compute_instance.dev", state)],
    );
    assert_eq!(plan.changes[0].action, Action::Replace);
    let text = human(&plan);
    let expected = r#"
      ~ creation_script    = {
          ~ data = <<-EOT # forces replacement
                #!/bin/bash
                set -euo pipefail
              - conda create -y -n ml python=3.10
              + conda create -y -n ml python=3.11
                conda activate ml
              - pip install torch==2.2.0
              + pip install torch==2.3.1
                pip install mlflow
              + pip install "azure-ai-ml>=1.15"
                echo done
            EOT
            # (1 unchanged attribute hidden)
        }
"#;
    assert!(text.contains(expected.trim_start_matches('\n')), "{text}");
    snapshot("setup_script_line_diff", &text);
}

#[test]
fn drift_section_comes_first() {
    let cluster = cluster_config(4);
    let cluster_stored = cluster_state(&cluster);
    let mut cluster_read = cluster_stored.clone();
    cluster_read.set("max_node_count", 10.into());
    cluster_read.set("description", "scaled by hand".into());
    let vm = vm_config("ubuntu-vm");
    let actual = Actual {
        objects: [
            (addr("azureml_compute_cluster.cpu"), Some(cluster_read)),
            (addr("azureml_attached_virtual_machine.vm"), None),
        ]
        .into(),
        workspaces: BTreeMap::new(),
    };
    let plan = plan_of(
        &[
            ("azureml_compute_cluster.cpu", cluster),
            ("azureml_attached_virtual_machine.vm", vm.clone()),
        ],
        &[
            ("azureml_compute_cluster.cpu", cluster_stored),
            ("azureml_attached_virtual_machine.vm", vm_state(&vm)),
        ],
        actual,
        &DiffOptions::default(),
    );
    let text = human(&plan);
    assert!(
        text.starts_with("Note: Objects have changed outside of amlplan\n"),
        "{text}"
    );
    assert!(
        text.contains("  # azureml_compute_cluster.cpu has been changed\n"),
        "{text}"
    );
    assert!(
        text.contains("      ~ max_node_count = 4 -> 10\n"),
        "{text}"
    );
    assert!(
        text.contains("  # azureml_attached_virtual_machine.vm has been detached or deleted\n")
    );
    let drift_end = text.find("─").expect("rule after the drift section");
    let actions_start = text.find("amlplan will perform").expect("actions");
    assert!(drift_end < actions_start);
    assert!(
        text[actions_start..]
            .contains("  # (no longer attached (detached outside this configuration))\n")
    );
    snapshot("drift", &text);
    let mut blocks = Vec::new();
    render_drift(
        &plan.drift,
        &registry(),
        &mut blocks,
        &RenderOptions::default(),
    )
    .expect("write");
    let blocks = String::from_utf8(blocks).expect("utf-8");
    assert!(
        blocks
            .starts_with("  # azureml_attached_virtual_machine.vm has been detached or deleted\n")
    );
    assert!(text.contains(&blocks), "{blocks}");

    let json = machine(&plan);
    let drift: Vec<(String, serde_json::Value)> = json["resource_drift"]
        .as_array()
        .expect("resource_drift")
        .iter()
        .map(|entry| {
            (
                entry["address"].as_str().expect("address").to_owned(),
                entry["change"]["actions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        drift,
        [
            (
                "azureml_attached_virtual_machine.vm".to_owned(),
                json!(["delete"])
            ),
            ("azureml_compute_cluster.cpu".to_owned(), json!(["update"])),
        ]
    );
    assert_eq!(
        json["resource_drift"][1]["change"]["after"]["max_node_count"],
        json!(10)
    );
    assert_eq!(
        actions(&json),
        [
            (
                "azureml_attached_virtual_machine.vm".to_owned(),
                json!(["create"])
            ),
            ("azureml_compute_cluster.cpu".to_owned(), json!(["update"])),
        ]
    );
}

#[test]
fn refresh_only_says_what_the_state_update_does() {
    let cluster = cluster_config(4);
    let stored = cluster_state(&cluster);
    let mut read = stored.clone();
    read.set("tags", map(&[("owner", "someone".into())]));
    let actual = Actual {
        objects: [(addr("azureml_compute_cluster.cpu"), Some(read))].into(),
        workspaces: BTreeMap::new(),
    };
    let plan = plan_of(
        &[("azureml_compute_cluster.cpu", cluster)],
        &[("azureml_compute_cluster.cpu", stored)],
        actual,
        &DiffOptions {
            refresh_only: true,
            ..DiffOptions::default()
        },
    );
    let text = human(&plan);
    assert!(text.contains("This is a refresh-only plan"), "{text}");
    assert!(text.ends_with(
        "State update: 1 to update, 0 to remove from the state; no remote object changes.\n"
    ));
    assert!(!text.contains("amlplan will perform"));
    snapshot("refresh_only", &text);
}

#[test]
fn no_changes() {
    let cluster = cluster_config(4);
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", cluster.clone())],
        &[("azureml_compute_cluster.cpu", cluster_state(&cluster))],
    );
    assert!(!plan.has_changes());
    let text = human(&plan);
    assert!(
        text.starts_with("No changes. Your infrastructure matches the configuration.\n"),
        "{text}"
    );
    snapshot("no_changes", &text);
    assert_eq!(PlanCounts::of(&plan), PlanCounts::default());

    let json = machine(&plan);
    assert_eq!(
        actions(&json),
        [("azureml_compute_cluster.cpu".to_owned(), json!(["no-op"]))]
    );
    assert_eq!(json["applyable"], json!(false));
    assert_eq!(json["resource_drift"], json!([]));
}

#[test]
fn render_plan_writes_what_plan_to_string_returns_and_keys_are_indexed() {
    let cluster = cluster_config(2);
    let desired = Desired {
        resources: vec![
            DesiredResource::new(
                addr("azureml_compute_cluster.pool").with_key(InstanceKey::Index(1)),
                cluster.clone(),
            ),
            DesiredResource::new(
                addr("azureml_compute_cluster.pool").with_key(InstanceKey::Index(0)),
                cluster,
            ),
        ],
    };
    let (plan, _) = diff(
        &desired,
        &PriorState::default(),
        &Actual::default(),
        &registry(),
        &DiffOptions::default(),
    );
    let mut written = Vec::new();
    render_plan(&plan, &registry(), &mut written, &RenderOptions::default()).expect("write");
    let written = String::from_utf8(written).expect("utf-8");
    assert_eq!(written, human(&plan));
    let first = written.find("pool[0] will be created").expect("pool[0]");
    let second = written.find("pool[1] will be created").expect("pool[1]");
    assert!(first < second);

    let entry = resource_change_json(&plan.changes[1], &registry());
    assert_eq!(entry["index"], json!(1));
    assert_eq!(entry["address"], json!("azureml_compute_cluster.pool[1]"));
}

#[test]
fn unchanged_attributes_can_be_shown() {
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", cluster_config(8))],
        &[(
            "azureml_compute_cluster.cpu",
            cluster_state(&cluster_config(4)),
        )],
    );
    let options = RenderOptions {
        show_unchanged: true,
        no_legend: true,
    };
    let text = plan_to_string(&plan, &registry(), &options);
    assert!(!text.contains("unchanged attributes hidden"), "{text}");
    assert!(text.contains("        vm_size "), "{text}");
    assert!(!text.contains("Resource actions are indicated"));
}

#[test]
fn hostile_values_cannot_reach_the_terminal() {
    let mut before = cluster_config(4);
    before.set("description", "plain".into());
    let mut after = cluster_config(4);
    after.set("description", "\u{1b}[2J\u{1b}]0;owned\u{7}".into());
    let plan = plan_simple(
        &[("azureml_compute_cluster.cpu", after)],
        &[("azureml_compute_cluster.cpu", cluster_state(&before))],
    );
    let text = human(&plan);
    assert!(!text.contains('\u{1b}'));
    assert!(!text.contains('\u{7}'));
    assert!(
        text.contains(r#"~ description        = "plain" -> "\u001b[2J\u001b]0;owned\u0007""#),
        "{text}"
    );
}

#[test]
fn a_drift_change_is_an_actual_object_listing_not_a_plan_change() {
    // Objects listed in a workspace but not in state are not drift: only the checks use them.
    let cluster = cluster_config(4);
    let actual = Actual {
        objects: BTreeMap::new(),
        workspaces: [(
            WS.to_owned(),
            vec![ActualObject {
                type_name: "azureml_compute_cluster".to_owned(),
                values: cluster_state(&cluster_config(2)),
            }],
        )]
        .into(),
    };
    let plan = plan_of(
        &[("azureml_compute_cluster.cpu", cluster)],
        &[],
        actual,
        &DiffOptions::default(),
    );
    assert!(plan.drift.is_empty());
    assert!(!human(&plan).contains("Objects have changed outside"));
}

#[test]
fn power_state_actions_and_create_before_destroy_are_worded() {
    let running = instance_config("echo hi");
    let state = applied(
        "azureml_compute_instance",
        &running,
        &[
            ("id", format!("{WS}/computes/dev-instance").into()),
            ("location", "westeurope".into()),
            ("current_state", "Running".into()),
        ],
    );
    let mut stopped = running.clone();
    stopped.set("state", "Stopped".into());
    let plan = plan_simple(
        &[("azureml_compute_instance.dev", stopped)],
        &[("azureml_compute_instance.dev", state)],
    );
    let text = human(&plan);
    assert!(
        text.contains("  # azureml_compute_instance.dev will be stopped\n"),
        "{text}"
    );
    assert!(text.contains("~ state "), "{text}");
    assert!(text.contains(" = \"Running\" -> \"Stopped\"\n"), "{text}");

    let mut config = cluster_config(4);
    config.set("vm_size", "STANDARD_NC6".into());
    let mut resource = DesiredResource::new(addr("azureml_compute_cluster.cpu"), config);
    resource.lifecycle.create_before_destroy = true;
    let prior = PriorState {
        resources: [(
            addr("azureml_compute_cluster.cpu"),
            PriorObject {
                values: cluster_state(&cluster_config(4)),
                dependencies: Vec::new(),
            },
        )]
        .into(),
    };
    let (plan, diags) = diff(
        &Desired {
            resources: vec![resource],
        },
        &prior,
        &Actual::default(),
        &registry(),
        &DiffOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:?}");
    let text = human(&plan);
    assert!(
        text.contains("+/- create replacement and then destroy\n"),
        "{text}"
    );
    assert!(
        text.contains("must be replaced\n  # (`vm_size` cannot change in place: the resource must be replaced)\n+/- resource"),
        "{text}"
    );
}
