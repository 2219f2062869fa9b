//! The mapping between an object's attributes ([`ObjectValue`]) and its ARM JSON body, driven
//! only by the schema's [`ArmPath`]s: one set of functions for every resource type. Pure: no IO.
//!
//! | direction | function | what it includes |
//! |---|---|---|
//! | attributes → PUT body | [`to_arm`] | every configurable attribute with an arm path whose value is known and not null, plus `properties.computeType` |
//! | attributes → PATCH body | [`patch_body`] | only attributes whose update mode is `patch` |
//! | ARM body → attributes | [`from_arm`] | `id`, the name and parent attributes (from the ARM id), every attribute with an arm path |
//!
//! The name and the parent live in the URL ([`resource_id`]), never in the body. Write-only
//! attributes (secrets) are sent by [`to_arm`] and always read back as null by [`from_arm`]:
//! the service does not return them, and a read must never carry one into state or logs.
//!
//! Nested attributes (`object`, `list(object)`, `map(object)`) hold their members by attribute
//! name in a [`Value::Map`]; members' arm paths are relative to the enclosing JSON object.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::ArmId;
use crate::schema::{
    ArmPath, AttrType, Attribute, Collection, Presence, ResourceSchema, UpdateMode,
    VERSION_ATTRIBUTE,
};
use crate::value::{ObjectValue, Value};

/// The ARM provider namespace of Azure ML.
pub const PROVIDER_NAMESPACE: &str = "Microsoft.MachineLearningServices";

/// Why an object has no ARM id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceIdError {
    /// The name or the parent attribute is unset or unknown.
    #[error("`{type_name}` needs a known `{attribute}` to address the object")]
    Missing {
        /// The resource type.
        type_name: String,
        /// The attribute that is missing.
        attribute: String,
    },
    /// The parent attribute does not hold what the collection needs.
    #[error("`{attribute}` = `{value}` is not {expected}")]
    BadParent {
        /// The parent attribute.
        attribute: String,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A workspace is addressed by resource group name, so the subscription must be configured.
    #[error(
        "`{type_name}` needs a subscription id (set `ARM_SUBSCRIPTION_ID` or the client's `subscription_id`)"
    )]
    NoSubscription {
        /// The resource type.
        type_name: String,
    },
    /// The collection is not addressable by this client yet.
    #[error("`{type_name}` objects cannot be addressed by id yet")]
    Unsupported {
        /// The resource type.
        type_name: String,
    },
}

/// The ARM id of `object`: its `id` when known, else built from the name and parent attributes
/// (`{workspace_id}/computes/{name}`, or for a workspace
/// `/subscriptions/{subscription}/resourceGroups/{resource_group_name}/providers/Microsoft.MachineLearningServices/workspaces/{name}`).
///
/// ```
/// use engine::api::body::resource_id;
/// use engine::value::ObjectValue;
/// let registry = engine::schema::load_registry().unwrap();
/// let mut workspace = ObjectValue::default();
/// workspace.set("name", "ws1".into());
/// workspace.set("resource_group_name", "demo-rg".into());
/// let id = resource_id(registry.get("azureml_workspace").unwrap(), &workspace, Some("s1")).unwrap();
/// assert_eq!(id.as_str(), "/subscriptions/s1/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/ws1");
/// ```
pub fn resource_id(
    schema: &ResourceSchema,
    object: &ObjectValue,
    subscription: Option<&str>,
) -> Result<ArmId, ResourceIdError> {
    if let Some(id) = object.get_str("id").and_then(|id| ArmId::parse(id).ok()) {
        return Ok(id);
    }
    let known = |attribute: &str| {
        object
            .get_str(attribute)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| ResourceIdError::Missing {
                type_name: schema.type_name.clone(),
                attribute: attribute.to_owned(),
            })
    };
    let name = known(&schema.api.name_attribute)?;
    let parent_attribute = &schema.api.parent_attribute;
    let parent = known(parent_attribute)?;
    match schema.api.collection {
        Collection::Workspaces => {
            let subscription = subscription.ok_or_else(|| ResourceIdError::NoSubscription {
                type_name: schema.type_name.clone(),
            })?;
            Ok(ArmId::resource_group_id(subscription, parent)
                .child(&format!("{PROVIDER_NAMESPACE}/workspaces"), name))
        }
        collection => {
            let workspace = ArmId::parse(parent)
                .ok()
                .filter(|id| id.depth() == 1)
                .ok_or_else(|| ResourceIdError::BadParent {
                    attribute: parent_attribute.clone(),
                    value: parent.to_owned(),
                    expected: "the ARM id of a workspace",
                })?;
            let object = workspace.child(collection.segment(), name);
            if collection.is_versioned() {
                let version = known(VERSION_ATTRIBUTE)?;
                return Ok(object.child("versions", version));
            }
            Ok(object)
        }
    }
}

/// The PUT body of `object`: every configurable attribute with an arm path whose value is known
/// and not null, at its path; `properties.computeType` from the schema; `properties` always
/// present (the ARM envelope requires it).
///
/// ```
/// use engine::api::body::to_arm;
/// use engine::value::{ObjectValue, Value};
/// let registry = engine::schema::load_registry().unwrap();
/// let mut cluster = ObjectValue::default();
/// cluster.set("name", "cpu".into());
/// cluster.set("vm_size", "STANDARD_DS3_V2".into());
/// cluster.set("max_node_count", 4.into());
/// cluster.set("provisioning_state", "Succeeded".into()); // computed: never sent
/// let body = to_arm(registry.get("azureml_compute_cluster").unwrap(), &cluster);
/// assert_eq!(body, serde_json::json!({"properties": {"computeType": "AmlCompute", "properties": {
///     "vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 4}}}}));
/// ```
pub fn to_arm(schema: &ResourceSchema, object: &ObjectValue) -> Json {
    let mut body = write_attributes(&schema.attributes, &object.0, &|_| true);
    let properties = body
        .entry("properties")
        .or_insert_with(|| Json::Object(Map::new()));
    if let (Some(compute_type), Json::Object(properties)) = (&schema.api.compute_type, properties) {
        properties.insert("computeType".to_owned(), Json::String(compute_type.clone()));
    }
    Json::Object(body)
}

/// The PATCH body of `object`: only its attributes whose update mode is `patch`, at their arm
/// paths (for a compute that is `properties.properties.scaleSettings`, the
/// `ClusterUpdateParameters` shape; for a workspace, `WorkspaceUpdateParameters`). Pass the
/// whole desired object: a compute's `scaleSettings` requires `maxNodeCount` even when only
/// `minNodeCount` changed.
///
/// ```
/// use engine::api::body::patch_body;
/// use engine::value::ObjectValue;
/// let registry = engine::schema::load_registry().unwrap();
/// let mut cluster = ObjectValue::default();
/// cluster.set("vm_size", "STANDARD_DS3_V2".into());
/// cluster.set("max_node_count", 8.into());
/// cluster.set("min_node_count", 1.into());
/// let body = patch_body(registry.get("azureml_compute_cluster").unwrap(), &cluster);
/// assert_eq!(body, serde_json::json!({"properties": {"properties": {"scaleSettings": {"maxNodeCount": 8, "minNodeCount": 1}}}}));
/// ```
pub fn patch_body(schema: &ResourceSchema, object: &ObjectValue) -> Json {
    Json::Object(write_attributes(
        &schema.attributes,
        &object.0,
        &|attribute| attribute.update == UpdateMode::Patch,
    ))
}

/// The attributes of an ARM body: `id`; the name attribute (the body's `name`, else the id's last
/// segment); the parent attribute (a workspace's resource group name, or for a workspace's child
/// the workspace id); every attribute with an arm path (absent or `null` → [`Value::Null`];
/// write-only → always null). Attributes without an arm path and not in the URL stay absent.
///
/// ```
/// use engine::api::body::from_arm;
/// let registry = engine::schema::load_registry().unwrap();
/// let body = serde_json::json!({
///     "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/computes/cpu",
///     "name": "cpu",
///     "properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": 4}}}});
/// let cluster = from_arm(registry.get("azureml_compute_cluster").unwrap(), &body);
/// assert_eq!(cluster.get_str("name"), Some("cpu"));
/// assert_eq!(cluster.get_str("workspace_id"), Some("/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"));
/// assert_eq!(cluster.get("max_node_count"), &4.into());
/// assert!(cluster.get("vm_size").is_null());
/// ```
pub fn from_arm(schema: &ResourceSchema, body: &Json) -> ObjectValue {
    let mut object = ObjectValue(read_attributes(&schema.attributes, body));
    let id_text = body.get("id").and_then(Json::as_str);
    let id = id_text.and_then(|text| ArmId::parse(text).ok());
    if let Some(text) = id_text {
        object.set("id", Value::from(text));
    }
    if schema.api.collection.is_versioned() {
        // `{name}/versions/{version}`: the body's `name` is the version.
        if let Some(id) = id.as_ref().filter(|id| id.depth() >= 3) {
            object.set(VERSION_ATTRIBUTE, Value::from(id.name()));
            if let Some(container) = id.parent() {
                object.set(&schema.api.name_attribute, Value::from(container.name()));
            }
        }
    } else {
        let name = body
            .get("name")
            .and_then(Json::as_str)
            .map(str::to_owned)
            .or_else(|| id.as_ref().map(|id| id.name().to_owned()));
        if let Some(name) = name {
            object.set(&schema.api.name_attribute, Value::from(name));
        }
    }
    let parent = id.as_ref().and_then(|id| match schema.api.collection {
        Collection::Workspaces => id.resource_group().map(str::to_owned),
        _ => id
            .ancestor(1)
            .map(|workspace| workspace.as_str().to_owned()),
    });
    if let Some(parent) = parent {
        object.set(&schema.api.parent_attribute, Value::from(parent));
    }
    object
}

/// The `properties.computeType` of a compute body, if any.
pub fn compute_type(body: &Json) -> Option<&str> {
    body.get("properties")?.get("computeType")?.as_str()
}

/// Writes the attributes `include` accepts (top level only; members of nested objects follow
/// their parent) into a fresh JSON object.
fn write_attributes(
    attributes: &BTreeMap<String, Attribute>,
    values: &BTreeMap<String, Value>,
    include: &dyn Fn(&Attribute) -> bool,
) -> Map<String, Json> {
    let mut body = Map::new();
    for (name, attribute) in attributes {
        let Some(arm) = &attribute.arm else { continue };
        if attribute.presence == Presence::Computed || !include(attribute) {
            continue;
        }
        let Some(json) = values
            .get(name)
            .and_then(|value| value_to_json(&attribute.ty, value))
        else {
            continue;
        };
        insert_at(&mut body, arm, json);
    }
    body
}

/// JSON of a known, non-null value; `None` for null and unknown (nothing to send).
fn value_to_json(ty: &AttrType, value: &Value) -> Option<Json> {
    match (ty, value) {
        (_, Value::Null | Value::Unknown) => None,
        (AttrType::Object(members), Value::Map(entries)) => {
            Some(Json::Object(write_attributes(members, entries, &|_| true)))
        }
        (AttrType::List(element), Value::List(items)) => Some(Json::Array(
            items
                .iter()
                .map(|item| value_to_json(element, item).unwrap_or(Json::Null))
                .collect(),
        )),
        (AttrType::Map(element), Value::Map(entries)) => Some(Json::Object(
            entries
                .iter()
                .map(|(key, item)| {
                    (
                        key.clone(),
                        value_to_json(element, item).unwrap_or(Json::Null),
                    )
                })
                .collect(),
        )),
        (_, other) => Some(other.to_json()),
    }
}

/// Sets `json` at `path` inside `body`, creating the objects on the way.
fn insert_at(body: &mut Map<String, Json>, path: &ArmPath, json: Json) {
    let Some((last, parents)) = path.segments().split_last() else {
        return;
    };
    let mut current = body;
    for segment in parents {
        let slot = current
            .entry(segment.clone())
            .or_insert_with(|| Json::Object(Map::new()));
        if !slot.is_object() {
            *slot = Json::Object(Map::new());
        }
        current = slot.as_object_mut().expect("just made an object");
    }
    match (current.get_mut(last), json) {
        // An object attribute and its sibling members may share a prefix: merge, never clobber.
        (Some(Json::Object(existing)), Json::Object(new)) => existing.extend(new),
        (_, json) => {
            current.insert(last.clone(), json);
        }
    }
}

/// The JSON at `path` inside `body`, if present.
fn lookup<'a>(body: &'a Json, path: &ArmPath) -> Option<&'a Json> {
    path.segments()
        .iter()
        .try_fold(body, |current, segment| current.get(segment))
}

fn read_attributes(
    attributes: &BTreeMap<String, Attribute>,
    body: &Json,
) -> BTreeMap<String, Value> {
    attributes
        .iter()
        .filter_map(|(name, attribute)| {
            let arm = attribute.arm.as_ref()?;
            let value = if attribute.write_only {
                Value::Null
            } else {
                lookup(body, arm).map_or(Value::Null, |json| json_to_value(&attribute.ty, json))
            };
            Some((name.clone(), value))
        })
        .collect()
}

fn json_to_value(ty: &AttrType, json: &Json) -> Value {
    match (ty, json) {
        (_, Json::Null) => Value::Null,
        (AttrType::Object(members), Json::Object(_)) => Value::Map(read_attributes(members, json)),
        (AttrType::List(element), Json::Array(items)) => Value::List(
            items
                .iter()
                .map(|item| json_to_value(element, item))
                .collect(),
        ),
        (AttrType::Map(element), Json::Object(entries)) => Value::Map(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), json_to_value(element, item)))
                .collect(),
        ),
        (_, other) => Value::from_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Registry, load_registry};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    // Verbatim copies of `reference/azureml-examples/` (Azure/azure-rest-api-specs x-ms-examples).
    const AML_PUT: &str = include_str!("fixtures/compute-put-amlcompute.json");
    const BASIC_AML_PUT: &str = include_str!("fixtures/compute-put-basic-amlcompute.json");
    const KUBERNETES_PUT: &str = include_str!("fixtures/compute-put-kubernetes.json");
    const KUBERNETES_GET: &str = include_str!("fixtures/compute-get-kubernetes.json");
    const AKS_PUT: &str = include_str!("fixtures/compute-put-aks.json");
    const INSTANCE_PUT: &str = include_str!("fixtures/compute-put-computeinstance.json");
    const INSTANCE_GET: &str = include_str!("fixtures/compute-get-computeinstance.json");
    const COMPUTE_PATCH: &str = include_str!("fixtures/compute-patch.json");
    const WORKSPACE_PUT: &str = include_str!("fixtures/workspace-put.json");
    const WORKSPACE_PATCH: &str = include_str!("fixtures/workspace-patch.json");

    const WORKSPACE: &str = "/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourceGroups/testrg123/providers/Microsoft.MachineLearningServices/workspaces/workspaces123";

    fn registry() -> Registry {
        load_registry().expect("the embedded catalogue loads")
    }

    fn schema<'a>(registry: &'a Registry, type_name: &str) -> &'a ResourceSchema {
        registry.get(type_name).expect("type in the catalogue")
    }

    #[track_caller]
    fn example(text: &str, pointer: &str) -> Json {
        let document: Json = serde_json::from_str(text).expect("example is JSON");
        document
            .pointer(pointer)
            .cloned()
            .unwrap_or_else(|| panic!("example has {pointer}"))
    }

    /// The JSON without `null` members (the service and examples spell "unset" either way).
    fn without_nulls(json: &Json) -> Json {
        match json {
            Json::Object(entries) => Json::Object(
                entries
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(key, value)| (key.clone(), without_nulls(value)))
                    .collect(),
            ),
            Json::Array(items) => Json::Array(items.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn environment_versions_and_jobs_are_addressed_under_their_workspace() {
        let registry = registry();
        let environment = schema(&registry, "azureml_environment");
        let mut object = ObjectValue::default();
        object.set("name", "sklearn".into());
        object.set("workspace_id", WORKSPACE.into());
        object.set("version", "3".into());
        object.set("image", "python:3.11".into());
        let id = resource_id(environment, &object, None).expect("addressable");
        assert_eq!(
            id.as_str(),
            format!("{WORKSPACE}/environments/sklearn/versions/3")
        );
        let body = json!({"id": id.as_str(), "name": "3",
            "properties": {"image": "python:3.11", "isArchived": false}});
        let read = from_arm(environment, &body);
        assert_eq!(read.get_str("name"), Some("sklearn"));
        assert_eq!(read.get_str("version"), Some("3"));
        assert_eq!(read.get_str("workspace_id"), Some(WORKSPACE));
        assert_eq!(read.get("is_archived"), &Value::Bool(false));

        let run = schema(&registry, "azureml_run");
        let mut object = ObjectValue::default();
        object.set("workspace_id", WORKSPACE.into());
        object.set("name", "train-1".into());
        object.set("snapshot_hash", "abc".into());
        assert_eq!(
            resource_id(run, &object, None)
                .expect("addressable")
                .as_str(),
            format!("{WORKSPACE}/jobs/train-1")
        );
        let body = to_arm(run, &object);
        assert_eq!(
            body.pointer("/properties/properties/amlplan.snapshot_hash"),
            Some(&json!("abc"))
        );
    }

    #[test]
    fn every_example_request_survives_a_round_trip_through_attributes() {
        let registry = registry();
        for (type_name, text) in [
            ("azureml_compute_cluster", AML_PUT),
            ("azureml_attached_kubernetes", KUBERNETES_PUT),
            ("azureml_inference_cluster", AKS_PUT),
        ] {
            let schema = schema(&registry, type_name);
            let request = example(text, "/parameters/parameters");
            let object = from_arm(schema, &request);
            assert_eq!(
                without_nulls(&to_arm(schema, &object)),
                without_nulls(&request),
                "{type_name}"
            );
        }
    }

    #[test]
    fn unmodelled_request_fields_are_not_invented() {
        // BasicAmlCompute sends `virtualMachineImage` and `isolatedNetwork`, which the catalogue
        // does not model: they are dropped, everything modelled comes back.
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_cluster");
        let request = example(BASIC_AML_PUT, "/parameters/parameters");
        let body = to_arm(schema, &from_arm(schema, &request));
        let mut expected = request.clone();
        let properties = expected
            .pointer_mut("/properties/properties")
            .and_then(Json::as_object_mut)
            .expect("properties");
        properties.remove("virtualMachineImage");
        properties.remove("isolatedNetwork");
        assert_eq!(body, expected);
    }

    #[test]
    fn compute_cluster_response_gives_the_attribute_values() {
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_cluster");
        let object = from_arm(schema, &example(AML_PUT, "/responses/200/body"));
        let expect = |name: &str, value: Value| assert_eq!(object.get(name), &value, "{name}");
        expect("id", format!("{WORKSPACE}/computes/compute123").into());
        expect("name", "compute123".into());
        expect("workspace_id", WORKSPACE.into());
        expect("location", "eastus2".into());
        expect("description", "some compute".into());
        expect("vm_size", "STANDARD_NC6".into());
        expect("vm_priority", "Dedicated".into());
        expect("os_type", "Windows".into());
        expect("max_node_count", 1.into());
        expect("min_node_count", 0.into());
        expect("idle_time_before_scale_down", "PT5M".into());
        expect("subnet_id", "test-subnet-resource-id".into());
        expect("enable_node_public_ip", true.into());
        expect("remote_login_port_public_access", "Enabled".into());
        expect("provisioning_state", "Succeeded".into());
        expect("admin_username", Value::Null);
        expect("admin_password", Value::Null);
        expect("tags", Value::Null);
    }

    #[test]
    fn kubernetes_read_keeps_nested_maps_and_hides_secrets() {
        let registry = registry();
        let schema = schema(&registry, "azureml_attached_kubernetes");
        let mut body = example(KUBERNETES_GET, "/responses/200/body");
        // Even if a server echoed a secret, a read never carries it.
        body["properties"]["properties"]["relayConnectionString"] = json!("Endpoint=sb://leak");
        let object = from_arm(schema, &body);
        assert_eq!(object.get("relay_connection_string"), &Value::Null);
        assert_eq!(object.get("service_bus_connection_string"), &Value::Null);
        assert_eq!(object.get("namespace"), &"default".into());
        assert_eq!(object.get("is_attached_compute"), &true.into());
        assert_eq!(
            object.get("extension_instance_release_train"),
            &"stable".into()
        );
        assert_eq!(
            object.get("resource_id"),
            &"/subscriptions/34adfa4f-cedf-4dc0-ba29-b6d1a69ab345/resourcegroups/testrg123/providers/Microsoft.ContainerService/managedClusters/compute123-56826-c9b00420020b2".into()
        );
        let resources = BTreeMap::from([
            ("cpu".to_owned(), Value::from("1")),
            ("memory".to_owned(), Value::from("4Gi")),
            ("nvidia.com/gpu".to_owned(), Value::Null),
        ]);
        let instance_type = Value::Map(BTreeMap::from([
            ("node_selector".to_owned(), Value::Null),
            ("requests".to_owned(), Value::Map(resources.clone())),
            ("limits".to_owned(), Value::Map(resources)),
        ]));
        assert_eq!(
            object.get("instance_types"),
            &Value::Map(BTreeMap::from([(
                "defaultInstanceType".to_owned(),
                instance_type
            )]))
        );
    }

    #[test]
    fn compute_instance_request_maps_nested_objects() {
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_instance");
        let object = from_arm(schema, &example(INSTANCE_PUT, "/parameters/parameters"));
        assert_eq!(object.get("application_sharing_policy"), &"Personal".into());
        assert_eq!(object.get("ssh_public_access"), &"Disabled".into());
        assert_eq!(object.get("authorization_type"), &"personal".into());
        let user = Value::Map(BTreeMap::from([
            (
                "object_id".to_owned(),
                Value::from("00000000-0000-0000-0000-000000000000"),
            ),
            (
                "tenant_id".to_owned(),
                Value::from("00000000-0000-0000-0000-000000000000"),
            ),
        ]));
        assert_eq!(object.get("assigned_user"), &user);
        // Back to a body: what the catalogue models of the request, nothing else (customServices
        // is not modelled).
        let body = to_arm(schema, &object);
        assert_eq!(
            body["properties"]["properties"]["personalComputeInstanceSettings"],
            json!({"assignedUser": {"objectId": "00000000-0000-0000-0000-000000000000", "tenantId": "00000000-0000-0000-0000-000000000000"}})
        );
        assert!(
            body["properties"]["properties"]
                .get("customServices")
                .is_none()
        );
    }

    #[test]
    fn compute_instance_read_reports_state_and_endpoints() {
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_instance");
        let object = from_arm(schema, &example(INSTANCE_GET, "/responses/200/body"));
        assert_eq!(object.get("current_state"), &"Running".into());
        assert_eq!(object.get("public_ip_address"), &"10.0.0.1".into());
        assert_eq!(object.get("ssh_admin_username"), &"azureuser".into());
        assert_eq!(object.get("ssh_port"), &22.into());
        assert_eq!(object.get("ssh_admin_public_key"), &Value::Null);
        assert_eq!(object.get("schedule"), &Value::Null);
        // `state` is applied by actions and has no arm path: a read leaves it to the engine.
        assert!(!object.0.contains_key("state"));
    }

    #[test]
    fn lists_of_objects_and_secrets_are_written() {
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_instance");
        let mut object = ObjectValue::default();
        object.set("vm_size", "STANDARD_DS3_V2".into());
        object.set("ssh_admin_public_key", "ssh-rsa AAAA".into());
        object.set("location", Value::Unknown);
        object.set(
            "schedule",
            Value::List(vec![Value::Map(BTreeMap::from([
                ("action".to_owned(), Value::from("Stop")),
                ("cron_expression".to_owned(), Value::from("0 18 * * *")),
                ("time_zone".to_owned(), Value::from("UTC")),
                ("status".to_owned(), Value::Null),
            ]))]),
        );
        object.set("state", "Running".into());
        assert_eq!(
            to_arm(schema, &object),
            json!({"properties": {"computeType": "ComputeInstance", "properties": {
                "vmSize": "STANDARD_DS3_V2",
                "sshSettings": {"adminPublicKey": "ssh-rsa AAAA"},
                "schedules": {"computeStartStop": [
                    {"action": "Stop", "cron": {"expression": "0 18 * * *", "timeZone": "UTC"}}
                ]}
            }}})
        );
    }

    #[test]
    fn compute_patch_matches_the_example_request() {
        let registry = registry();
        let schema = schema(&registry, "azureml_compute_cluster");
        let request = example(COMPUTE_PATCH, "/parameters/parameters");
        // The full desired object (a GET-shaped body with new scale settings) patches only scale.
        let mut desired = from_arm(schema, &example(AML_PUT, "/responses/200/body"));
        desired.set("max_node_count", 4.into());
        desired.set("min_node_count", 4.into());
        assert_eq!(patch_body(schema, &desired), request);
    }

    #[test]
    fn workspace_round_trip_and_patch() {
        let registry = registry();
        let schema = schema(&registry, "azureml_workspace");
        let response = example(WORKSPACE_PUT, "/responses/200/body");
        let object = from_arm(schema, &response);
        assert_eq!(object.get("name"), &"testworkspace".into());
        assert_eq!(object.get("resource_group_name"), &"workspace-1234".into());
        assert_eq!(object.get("location"), &"eastus2euap".into());
        assert_eq!(object.get("friendly_name"), &"HelloName".into());
        assert_eq!(object.get("high_business_impact"), &false.into());
        assert_eq!(object.get("public_network_access"), &"Disabled".into());
        assert_eq!(
            object.get("identity_type"),
            &"SystemAssigned,UserAssigned".into()
        );
        assert_eq!(object.get("discovery_url"), &"http://example.com".into());
        let body = to_arm(schema, &object);
        assert_eq!(body["properties"]["friendlyName"], json!("HelloName"));
        assert!(
            body["properties"].get("discoveryUrl").is_none(),
            "computed attributes are not sent"
        );
        assert!(
            body.get("name").is_none() && body.get("id").is_none(),
            "name and id live in the URL"
        );

        let update = example(WORKSPACE_PATCH, "/parameters/body");
        let patched = from_arm(schema, &update);
        assert_eq!(patch_body(schema, &patched), update);
    }

    #[test]
    fn an_empty_workspace_still_has_properties() {
        let registry = registry();
        let body = to_arm(
            schema(&registry, "azureml_workspace"),
            &ObjectValue::default(),
        );
        assert_eq!(body, json!({"properties": {}}));
    }

    #[test]
    fn resource_ids_come_from_name_and_parent() {
        let registry = registry();
        let vm = schema(&registry, "azureml_attached_virtual_machine");
        let mut object = ObjectValue::default();
        object.set("name", "vm1".into());
        assert_eq!(
            resource_id(vm, &object, None),
            Err(ResourceIdError::Missing {
                type_name: "azureml_attached_virtual_machine".into(),
                attribute: "workspace_id".into()
            })
        );
        object.set("workspace_id", "demo-rg".into());
        assert!(matches!(
            resource_id(vm, &object, None),
            Err(ResourceIdError::BadParent { .. })
        ));
        object.set("workspace_id", WORKSPACE.into());
        assert_eq!(
            resource_id(vm, &object, None).expect("valid").as_str(),
            format!("{WORKSPACE}/computes/vm1")
        );
        object.set("id", format!("{WORKSPACE}/computes/other").into());
        assert_eq!(
            resource_id(vm, &object, None).expect("valid").name(),
            "other"
        );

        let workspace = schema(&registry, "azureml_workspace");
        let mut object = ObjectValue::default();
        object.set("name", "w".into());
        object.set("resource_group_name", "g".into());
        assert!(matches!(
            resource_id(workspace, &object, None),
            Err(ResourceIdError::NoSubscription { .. })
        ));
    }

    #[test]
    fn every_type_round_trips_a_full_object() {
        // For every schema, a value for every configurable attribute survives to_arm → from_arm
        // (write-only ones come back null): the mapping has no per-type gaps.
        let registry = registry();
        for schema in registry.iter() {
            let mut object = ObjectValue::default();
            for (name, attribute) in &schema.attributes {
                if attribute.arm.is_some() && attribute.presence.is_configurable() {
                    object.set(name, sample(&attribute.ty));
                }
            }
            let body = to_arm(schema, &object);
            let back = from_arm(schema, &body);
            for (name, attribute) in &schema.attributes {
                if attribute.arm.is_none() || !attribute.presence.is_configurable() {
                    continue;
                }
                let expected = if attribute.write_only {
                    Value::Null
                } else {
                    object.get(name).clone()
                };
                let expected = without_write_only(&attribute.ty, &expected);
                assert_eq!(back.get(name), &expected, "{}.{name}", schema.type_name);
            }
        }
    }

    fn sample(ty: &AttrType) -> Value {
        match ty {
            AttrType::String => "text".into(),
            AttrType::Number => 3.into(),
            AttrType::Bool => true.into(),
            AttrType::List(element) => Value::List(vec![sample(element)]),
            AttrType::Map(element) => {
                Value::Map(BTreeMap::from([("key".to_owned(), sample(element))]))
            }
            AttrType::Object(members) => Value::Map(
                members
                    .iter()
                    .map(|(name, member)| (name.clone(), sample(&member.ty)))
                    .collect(),
            ),
        }
    }

    fn without_write_only(ty: &AttrType, value: &Value) -> Value {
        match (ty, value) {
            (AttrType::Object(members), Value::Map(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(name, entry)| {
                        let member = &members[name];
                        let entry = if member.write_only {
                            Value::Null
                        } else {
                            without_write_only(&member.ty, entry)
                        };
                        (name.clone(), entry)
                    })
                    .collect(),
            ),
            (AttrType::List(element), Value::List(items)) => Value::List(
                items
                    .iter()
                    .map(|item| without_write_only(element, item))
                    .collect(),
            ),
            (AttrType::Map(element), Value::Map(entries)) => Value::Map(
                entries
                    .iter()
                    .map(|(key, entry)| (key.clone(), without_write_only(element, entry)))
                    .collect(),
            ),
            (_, other) => other.clone(),
        }
    }
}
