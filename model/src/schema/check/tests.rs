use super::*;
use crate::schema::load_registry;
use crate::value::Number;

fn details(type_name: &str, values: &[(&str, Value)]) -> Vec<String> {
    let registry = load_registry().expect("the catalogue is valid");
    let schema = registry.get(type_name).expect("catalogued");
    let mut object = ObjectValue::default();
    for (name, value) in values {
        object.set(name, value.clone());
    }
    let addr = ResourceAddr::managed(type_name, "x");
    resource(schema, &addr, &object)
        .iter()
        .map(|diagnostic| {
            let path = match &diagnostic.subject {
                Some(crate::diag::Subject::Attr { path, .. }) => path.to_string(),
                other => panic!("attribute subject expected, got {other:?}"),
            };
            format!(
                "{path}: {}",
                diagnostic.detail.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

fn number(value: f64) -> Value {
    Value::Number(Number(value))
}

#[test]
fn node_counts_are_whole_numbers_in_range() {
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("max_node_count", number(1.5))]
        ),
        ["max_node_count: `max_node_count` must be a whole number, not 1.5."]
    );
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("max_node_count", number(-5.0))]
        ),
        ["max_node_count: `max_node_count` must be between 0 and 2147483647, not -5."]
    );
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("max_node_count", number(1e23))]
        ),
        ["max_node_count: `max_node_count` must be between 0 and 2147483647, not 1e23."]
    );
    assert!(
        details(
            "azureml_compute_cluster",
            &[("max_node_count", number(4.0))]
        )
        .is_empty()
    );
}

#[test]
fn the_minimum_must_not_exceed_the_maximum() {
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[
                ("min_node_count", number(5.0)),
                ("max_node_count", number(2.0))
            ]
        ),
        ["min_node_count: `min_node_count` (5) must not be greater than `max_node_count` (2)."]
    );
    // An unset minimum takes its default (0).
    assert!(
        details(
            "azureml_compute_cluster",
            &[("max_node_count", number(1.0))]
        )
        .is_empty()
    );
    // Unknown values are checked later.
    assert!(
        details(
            "azureml_compute_cluster",
            &[
                ("min_node_count", Value::Unknown),
                ("max_node_count", number(2.0))
            ]
        )
        .is_empty()
    );
}

#[test]
fn compute_names_follow_the_service_pattern() {
    let long = "a".repeat(1 << 20);
    assert_eq!(
        details("azureml_compute_cluster", &[("name", Value::String(long))]),
        [format!(
            "name: `name` must be 3 to 24 characters long; `{}…` has 1048576.",
            "a".repeat(40)
        )]
    );
    assert_eq!(
        details("azureml_compute_cluster", &[("name", "1cpu".into())]),
        [
            "name: `name` must start with a letter and hold only letters, digits and hyphens: `1cpu` does not."
        ]
    );
    assert_eq!(
        details("azureml_compute_cluster", &[("name", "cpu-2".into())]),
        ["name: `name` must not end in a hyphen followed by digits: `cpu-2` does not."]
    );
    assert!(details("azureml_compute_cluster", &[("name", "cpu-cluster".into())]).is_empty());
}

#[test]
fn empty_vm_size_is_refused() {
    assert_eq!(
        details("azureml_compute_cluster", &[("vm_size", "".into())]),
        ["vm_size: `vm_size` must be at least 1 character long; it is empty."]
    );
}

#[test]
fn durations_are_iso_8601() {
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("idle_time_before_scale_down", "five minutes".into())]
        ),
        [
            "idle_time_before_scale_down: `idle_time_before_scale_down` must be an ISO 8601 duration such as `PT20M` \
          (20 minutes) or `P1DT12H` (1 day 12 hours), not `five minutes`."
        ]
    );
    assert!(
        details(
            "azureml_compute_cluster",
            &[("idle_time_before_scale_down", "PT5M".into())]
        )
        .is_empty()
    );
}

#[test]
fn ids_must_name_the_right_resource_type() {
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("workspace_id", "my-workspace".into())]
        ),
        [
            "workspace_id: `workspace_id` must be the ARM id of a `Microsoft.MachineLearningServices/workspaces`; \
          `my-workspace` is not an ARM resource id.\nhelp: an id of this type reads \
          `/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.MachineLearningServices/workspaces/{name}`"
        ]
    );
    let vm = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm";
    assert_eq!(
        details("azureml_attached_virtual_machine", &[("resource_id", "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/net".into()), ("admin_password", "p".into())]),
        ["resource_id: `resource_id` must be the ARM id of a `Microsoft.Compute/virtualMachines`; \
          `/subscriptions/0/resourceGroups/rg/provi…` is the id of a `Microsoft.Network/virtualNetworks`.\n\
          help: an id of this type reads `/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}`"]
    );
    // Case does not matter to ARM.
    let lower = vm.to_lowercase();
    assert!(
        details(
            "azureml_attached_virtual_machine",
            &[
                ("resource_id", lower.as_str().into()),
                ("admin_password", "p".into())
            ]
        )
        .is_empty()
    );
}

#[test]
fn a_vm_attachment_needs_a_password_or_a_key() {
    let problems = details("azureml_attached_virtual_machine", &[]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with(": `azureml_attached_virtual_machine` needs one of `admin_password` or `ssh_private_key`"), "{problems:?}");
    assert!(
        details(
            "azureml_attached_virtual_machine",
            &[("ssh_private_key", Value::Unknown)]
        )
        .is_empty()
    );
}

#[test]
fn sensitive_values_are_never_quoted() {
    let registry = load_registry().expect("valid");
    let schema = registry
        .get("azureml_attached_virtual_machine")
        .expect("catalogued");
    let mut attribute = schema
        .attribute("admin_password")
        .expect("attribute")
        .clone();
    attribute.constraints.min_length = Some(12);
    let addr = ResourceAddr::managed("azureml_attached_virtual_machine", "vm");
    let problems = value(
        &attribute,
        &"hunter2".into(),
        &addr,
        &AttrPath::attr("admin_password"),
    );
    let detail = problems
        .iter()
        .next()
        .and_then(|problem| problem.detail.clone())
        .expect("a problem");
    assert!(!detail.contains("hunter2"), "{detail}");
    assert!(detail.contains("sensitive"), "{detail}");
}

#[test]
fn one_of_suggests_the_closest_value() {
    assert_eq!(
        details(
            "azureml_compute_cluster",
            &[("vm_priority", "lowpriority".into())]
        ),
        [
            "vm_priority: `vm_priority` must be one of `Dedicated`, `LowPriority`, not `lowpriority`.\nhelp: did you mean `LowPriority`?"
        ]
    );
}

#[test]
fn rules_reach_into_nested_objects() {
    let ssl = |pairs: &[(&str, &str)]| {
        Value::Map(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
                .collect(),
        )
    };
    assert_eq!(
        details(
            "azureml_inference_cluster",
            &[(
                "ssl",
                ssl(&[
                    ("status", "Enabled"),
                    ("cert", "c"),
                    ("key", "k"),
                    ("leaf_domain_label", "scoring")
                ])
            )]
        ),
        [
            "ssl.leaf_domain_label: Only one of `ssl.cert` and `ssl.leaf_domain_label` can be set; remove all but one."
        ]
    );
    assert_eq!(
        details(
            "azureml_inference_cluster",
            &[("ssl", ssl(&[("status", "Enabled"), ("cert", "c")]))]
        ),
        ["ssl.cert: `ssl.cert` needs `ssl.key` to be set too."]
    );
    assert!(
        details(
            "azureml_inference_cluster",
            &[(
                "ssl",
                ssl(&[("status", "Enabled"), ("leaf_domain_label", "scoring")])
            )]
        )
        .is_empty()
    );
}
