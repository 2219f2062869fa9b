//! `plan_resource` over the real catalogue.

use super::*;
use crate::schema::{Registry, load_registry};
use pretty_assertions::assert_eq;

const WS: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
const AKS: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks";

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

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn cluster_config() -> ObjectValue {
    object(&[
        ("name", "cpu".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
        ("max_node_count", 4.into()),
    ])
}

/// What state holds after creating `config`: the planned object with computed values filled.
fn applied(
    schema: &ResourceSchema,
    config: &ObjectValue,
    computed: &[(&str, Value)],
) -> ObjectValue {
    let addr = ResourceAddr::managed(&schema.type_name, "x");
    let mut state = plan_resource(schema, &addr, None, config, &ResourceOptions::default())
        .after
        .expect("after");
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

fn cluster_state() -> ObjectValue {
    applied(
        registry().get("azureml_compute_cluster").expect("schema"),
        &cluster_config(),
        &[
            ("id", format!("{WS}/computes/cpu").into()),
            ("location", "westeurope".into()),
            ("remote_login_port_public_access", "Enabled".into()),
            ("provisioning_state", "Succeeded".into()),
        ],
    )
}

fn plan_with(
    type_name: &str,
    prior: Option<&ObjectValue>,
    desired: &ObjectValue,
    options: &ResourceOptions<'_>,
) -> ResourceChange {
    let registry = registry();
    let schema = registry.get(type_name).expect("schema");
    plan_resource(
        schema,
        &ResourceAddr::managed(type_name, "x"),
        prior,
        desired,
        options,
    )
}

fn plan(type_name: &str, prior: Option<&ObjectValue>, desired: &ObjectValue) -> ResourceChange {
    plan_with(type_name, prior, desired, &ResourceOptions::default())
}

#[test]
fn create_fills_defaults_and_unknowns() {
    let change = plan("azureml_compute_cluster", None, &cluster_config());
    assert_eq!(change.action, Action::Create);
    let after = change.after.expect("after");
    assert_eq!(after.get("id"), &Value::Unknown);
    assert_eq!(
        after.get("location"),
        &Value::Unknown,
        "optional+computed, unset: the service chooses"
    );
    assert_eq!(after.get("min_node_count"), &Value::from(0));
    assert_eq!(after.get("vm_priority"), &Value::from("Dedicated"));
    assert_eq!(after.get("description"), &Value::Null);
    assert_eq!(change.after_attachment, None);
}

#[test]
fn unchanged_cluster_is_noop_and_server_defaults_are_not_diffs() {
    let state = cluster_state();
    let change = plan("azureml_compute_cluster", Some(&state), &cluster_config());
    assert_eq!(change.action, Action::NoOp);
    let after = change.after.expect("after");
    assert_eq!(after.get_str("location"), Some("westeurope"));
    assert_eq!(
        after.get_str("remote_login_port_public_access"),
        Some("Enabled")
    );
    assert_eq!(after, state);
}

#[test]
fn max_node_count_is_a_patch() {
    let mut config = cluster_config();
    config.set("max_node_count", 8.into());
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Update(UpdateKind::patch()));
    let after = change.after.expect("after");
    assert_eq!(
        after.get_str("id"),
        Some(format!("{WS}/computes/cpu").as_str()),
        "use_state_for_unknown"
    );
    assert_eq!(after.get("provisioning_state"), &Value::Unknown);
}

#[test]
fn tags_are_a_put_and_put_wins_over_patch() {
    let mut config = cluster_config();
    config.set("tags", map(&[("team", "ml".into())]));
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Update(UpdateKind::put()));
    config.set("max_node_count", 8.into());
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Update(UpdateKind::put()));
}

#[test]
fn vm_size_forces_replacement() {
    let mut config = cluster_config();
    config.set("vm_size", "STANDARD_NC6".into());
    config.set("max_node_count", 8.into());
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(change.replace_paths, [AttrPath::attr("vm_size")]);
    assert_eq!(
        change.reason,
        Some(ChangeReason::ReplaceBecauseCannotUpdate)
    );
    assert_eq!(
        change.describe_reason(None).as_deref(),
        Some("`vm_size` cannot change in place: the resource must be replaced")
    );
    let after = change.after.expect("after");
    assert_eq!(after.get("id"), &Value::Unknown);
    assert_eq!(
        after.get("location"),
        &Value::Unknown,
        "a new object: the service chooses again"
    );
}

fn aks_config(ssl_status: &str) -> ObjectValue {
    object(&[
        ("name", "aks".into()),
        ("workspace_id", WS.into()),
        ("resource_id", AKS.into()),
        (
            "ssl",
            map(&[
                ("status", ssl_status.into()),
                ("leaf_domain_label", "contoso".into()),
            ]),
        ),
    ])
}

fn aks_state() -> ObjectValue {
    applied(
        registry().get("azureml_inference_cluster").expect("schema"),
        &aks_config("Auto"),
        &[
            ("id", format!("{WS}/computes/aks").into()),
            ("location", "westeurope".into()),
            ("agent_count", 3.into()),
            ("agent_vm_size", "Standard_D3_v2".into()),
            ("is_attached_compute", true.into()),
            ("provisioning_state", "Succeeded".into()),
        ],
    )
}

#[test]
fn inference_cluster_tls_change_is_reattach() {
    let state = aks_state();
    assert_eq!(
        plan(
            "azureml_inference_cluster",
            Some(&state),
            &aks_config("Auto")
        )
        .action,
        Action::NoOp
    );
    let change = plan(
        "azureml_inference_cluster",
        Some(&state),
        &aks_config("Disabled"),
    );
    assert_eq!(change.action, Action::Reattach);
    assert_eq!(
        change.replace_paths,
        [AttrPath::attr("ssl").join(PathStep::Attr("status".into()))]
    );
    let key = change.before_attachment.as_ref().expect("attached before");
    assert_eq!(Some(key), change.after_attachment.as_ref());
    assert_eq!(key.identity["resource_id"], Some(AKS.to_ascii_lowercase()));
    assert!(
        change
            .describe_reason(None)
            .expect("reason")
            .contains("detached (resource kept)")
    );
}

#[test]
fn inference_cluster_created_by_azure_ml_is_replaced_not_reattached() {
    let registry = registry();
    let schema = registry.get("azureml_inference_cluster").expect("schema");
    let mut config = aks_config("Auto");
    config.0.remove("resource_id");
    let create = plan("azureml_inference_cluster", None, &config);
    assert_eq!(create.action, Action::Create);
    let state = applied(
        schema,
        &config,
        &[
            ("id", format!("{WS}/computes/aks").into()),
            ("resource_id", AKS.into()),
            ("location", "westeurope".into()),
            ("agent_count", 3.into()),
            ("agent_vm_size", "Standard_D3_v2".into()),
            ("is_attached_compute", false.into()),
        ],
    );
    // The service reports the id of the cluster it created: not a diff.
    assert_eq!(
        plan("azureml_inference_cluster", Some(&state), &config).action,
        Action::NoOp
    );
    config.set("ssl", map(&[("status", "Disabled".into())]));
    let change = plan("azureml_inference_cluster", Some(&state), &config);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(change.before_attachment, None);
    assert_eq!(
        change.after.expect("after").get("resource_id"),
        &Value::Unknown
    );
}

#[test]
fn secrets_compare_by_digest() {
    let key = SecretKey::from_bytes(&[9; 32]);
    let registry = registry();
    let schema = registry
        .get("azureml_attached_virtual_machine")
        .expect("schema");
    let mut config = object(&[
        ("name", "vm".into()),
        ("workspace_id", WS.into()),
        (
            "resource_id",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
                .into(),
        ),
        ("admin_username", "azureuser".into()),
        ("admin_password", "first".into()),
    ]);
    let mut state = applied(
        schema,
        &config,
        &[
            ("id", format!("{WS}/computes/vm").into()),
            ("location", "westeurope".into()),
        ],
    );
    secret::digest_secrets(&schema.attributes, &key, &mut state);
    assert!(secret::is_digest(
        state.get_str("admin_password").expect("digest")
    ));

    let options = ResourceOptions {
        secret_key: Some(&key),
        ..Default::default()
    };
    let change = plan_with(
        "azureml_attached_virtual_machine",
        Some(&state),
        &config,
        &options,
    );
    assert_eq!(change.action, Action::NoOp);
    // The plan carries the plaintext apply must send; state keeps the digest.
    assert_eq!(
        change.after.expect("after").get_str("admin_password"),
        Some("first")
    );

    config.set("admin_password", "second".into());
    let change = plan_with(
        "azureml_attached_virtual_machine",
        Some(&state),
        &config,
        &options,
    );
    assert_eq!(change.action, Action::Reattach);
    assert_eq!(change.replace_paths, [AttrPath::attr("admin_password")]);

    // Without the key a digest cannot be checked: a change is planned rather than hidden.
    config.set("admin_password", "first".into());
    let change = plan("azureml_attached_virtual_machine", Some(&state), &config);
    assert_eq!(change.action, Action::Reattach);
}

#[test]
fn ignore_changes_keeps_prior_values() {
    let mut config = cluster_config();
    config.set("max_node_count", 8.into());
    config.set("vm_size", "STANDARD_NC6".into());
    let options = ResourceOptions {
        lifecycle: LifecycleOptions {
            ignore_changes: IgnoreChanges::Paths(vec![AttrPath::attr("vm_size")]),
            ..Default::default()
        },
        ..Default::default()
    };
    let change = plan_with(
        "azureml_compute_cluster",
        Some(&cluster_state()),
        &config,
        &options,
    );
    assert_eq!(change.action, Action::Update(UpdateKind::patch()));
    assert_eq!(
        change.after.expect("after").get_str("vm_size"),
        Some("STANDARD_DS3_V2")
    );

    // A nested path.
    let state = aks_state();
    let options = ResourceOptions {
        lifecycle: LifecycleOptions {
            ignore_changes: IgnoreChanges::Paths(vec![
                AttrPath::attr("ssl").join(PathStep::Attr("status".into())),
            ]),
            ..Default::default()
        },
        ..Default::default()
    };
    let change = plan_with(
        "azureml_inference_cluster",
        Some(&state),
        &aks_config("Disabled"),
        &options,
    );
    assert_eq!(change.action, Action::NoOp);
}

#[test]
fn unknown_configured_values_are_changes() {
    let mut config = cluster_config();
    config.set("description", Value::Unknown);
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Update(UpdateKind::put()));
    config.set("subnet_id", Value::Unknown);
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(change.replace_paths, [AttrPath::attr("subnet_id")]);
}

#[test]
fn instance_state_change_is_an_action() {
    let registry = registry();
    let schema = registry.get("azureml_compute_instance").expect("schema");
    let mut config = object(&[
        ("name", "dev".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
    ]);
    let state = applied(
        schema,
        &config,
        &[
            ("id", format!("{WS}/computes/dev").into()),
            ("location", "westeurope".into()),
        ],
    );
    assert_eq!(state.get_str("state"), Some("Running"));
    config.set("state", "Stopped".into());
    let change = plan("azureml_compute_instance", Some(&state), &config);
    assert_eq!(
        change.action,
        Action::Update(UpdateKind::actions(&["stop"]))
    );
    config.set("tags", map(&[("a", "b".into())]));
    let change = plan("azureml_compute_instance", Some(&state), &config);
    assert_eq!(
        change.action,
        Action::Update(UpdateKind {
            write: Some(WriteMethod::Put),
            actions: vec!["stop".to_owned()]
        })
    );
}

#[test]
fn attach_kinds_attach_and_aks_attaches_only_with_resource_id() {
    let vm = object(&[
        ("name", "vm".into()),
        ("workspace_id", WS.into()),
        ("resource_id", "/x/virtualMachines/VM".into()),
        ("admin_username", "u".into()),
    ]);
    let change = plan("azureml_attached_virtual_machine", None, &vm);
    assert_eq!(change.action, Action::Attach);
    let key = change.after_attachment.expect("key");
    assert_eq!(key.workspace, Some(WS.to_ascii_lowercase()));
    assert_eq!(
        key.identity["resource_id"].as_deref(),
        Some("/x/virtualmachines/vm")
    );
    assert_eq!(
        plan("azureml_inference_cluster", None, &aks_config("Auto")).action,
        Action::Attach
    );
}

#[test]
fn forced_replace_of_an_attachment_reattaches() {
    let options = ResourceOptions {
        force_replace: true,
        ..Default::default()
    };
    let change = plan_with(
        "azureml_inference_cluster",
        Some(&aks_state()),
        &aks_config("Auto"),
        &options,
    );
    assert_eq!(change.action, Action::Reattach);
    assert_eq!(change.reason, Some(ChangeReason::ReplaceByRequest));
    assert!(change.replace_paths.is_empty());
}

#[test]
fn nested_list_defaults_are_filled_and_compared() {
    let registry = registry();
    let schema = registry.get("azureml_compute_instance").expect("schema");
    let schedule = |cron: &str| {
        Value::List(vec![map(&[
            ("action", "Stop".into()),
            ("cron_expression", cron.into()),
        ])])
    };
    let mut config = object(&[
        ("name", "dev".into()),
        ("workspace_id", WS.into()),
        ("vm_size", "STANDARD_DS3_V2".into()),
    ]);
    config.set("schedule", schedule("0 18 * * *"));
    let state = applied(
        schema,
        &config,
        &[
            ("id", format!("{WS}/computes/dev").into()),
            ("location", "westeurope".into()),
        ],
    );
    let stored = state.get("schedule").as_list().expect("list")[0]
        .as_map()
        .expect("map")
        .clone();
    assert_eq!(stored["time_zone"], Value::from("UTC"));
    assert_eq!(stored["status"], Value::from("Enabled"));
    assert_eq!(
        plan("azureml_compute_instance", Some(&state), &config).action,
        Action::NoOp
    );
    config.set("schedule", schedule("0 19 * * *"));
    let change = plan("azureml_compute_instance", Some(&state), &config);
    assert_eq!(change.action, Action::Replace);
    assert_eq!(change.replace_paths, [AttrPath::attr("schedule")]);
}

#[test]
fn terraform_actions_and_reasons() {
    assert_eq!(Action::NoOp.terraform_actions(), ["no-op"]);
    assert_eq!(
        Action::Update(UpdateKind::patch()).terraform_actions(),
        ["update"]
    );
    assert_eq!(Action::Detach.terraform_actions(), ["delete"]);
    assert_eq!(Action::Replace.terraform_actions(), ["delete", "create"]);
    assert_eq!(Action::Read.terraform_actions(), ["read"]);
    assert_eq!(
        ChangeReason::DeleteBecauseNoResourceConfig.terraform_reason(),
        Some("delete_because_no_resource_config")
    );
    assert_eq!(ChangeReason::RecreateBecauseGone.terraform_reason(), None);
}

#[test]
fn plan_round_trips_through_json_with_unknowns() {
    let mut config = cluster_config();
    config.set("max_node_count", 8.into());
    let change = plan("azureml_compute_cluster", Some(&cluster_state()), &config);
    let plan = Plan {
        changes: vec![change],
        ..Plan::default()
    };
    let json = serde_json::to_string(&plan).expect("serialize");
    assert!(json.contains(r#""provisioning_state":"unknown""#), "{json}");
    assert!(
        json.contains(r#""max_node_count":{"number":8.0}"#),
        "{json}"
    );
    let back: Plan = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, plan);
    insta::assert_json_snapshot!(back.changes[0].action, @r#"
    {
      "update": {
        "write": "patch",
        "actions": []
      }
    }
    "#);
}
