//! The service rules of computes (DESIGN §1), over `model::schema` only:
//!
//! | rule | behaviour |
//! |---|---|
//! | compute types | a `computeType` with no catalogue schema is refused (400 `ValidationError`); `ContainerInstance` and `Batch` get an explanation. `DataFactory` (in the API, not in the catalogue) is served by a minimal built-in schema |
//! | attach-only kinds | a PUT without `properties.resourceId` is refused (400 `BadRequest`) |
//! | create-only kinds | a PUT with `properties.resourceId` is refused (400 `BadRequest`) |
//! | attach preconditions | the resource must be of an allowed type and exist (400 `InvalidResourceId` / `UnderlyingResourceNotFound`); VM: Ubuntu and public IP; HDInsight: public IP (400 `AttachPreconditionFailed`) |
//! | duplicate attachment | attaching what another compute of the same type in the workspace already attaches (same attachment identity: the resource id, plus the namespace for Kubernetes) succeeds, and the earlier compute turns `Failed` with a `provisioningErrors` entry naming the new one; the `duplicate_attachments` counter grows by one per broken compute |
//! | quota | kinds created by Azure ML with a `vm_size` consume `cores(vmSize) × nodes` of their VM family, nodes = `max_node_count` when the schema has one (a cluster reserves its maximum), else 1; stopped instances keep their cores; over the limit → 400 `QuotaExceeded` with the numbers |

use std::collections::BTreeMap;

use model::schema::{
    ApiBinding, ArmPath, AttrType, Attribute, Collection, Lifecycle, Presence, Registry,
    ResourceSchema, UpdateMode,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, get_path, key_of};
use crate::quota;
use crate::store::{self, Record};
use crate::underlying::{self, UnderlyingId, UnderlyingType};

/// Adds the built-in schemas of API compute types the catalogue does not model (`DataFactory`).
pub(crate) fn complete_registry(registry: &mut Registry) {
    if registry.by_compute_type("DataFactory").is_some() {
        return;
    }
    let attribute = |ty: AttrType, arm: &str, update: UpdateMode, presence: Presence| Attribute {
        ty,
        presence,
        sensitive: false,
        write_only: false,
        update,
        arm: Some(ArmPath::parse(arm)),
        default: None,
        one_of: Vec::new(),
        constraints: Default::default(),
        actions: BTreeMap::new(),
        on_plan: Vec::new(),
        example: None,
        description: String::new(),
    };
    let attributes = BTreeMap::from([
        (
            "resource_id".to_owned(),
            attribute(
                AttrType::String,
                "properties.resourceId",
                UpdateMode::Reattach,
                Presence::OptionalComputed,
            ),
        ),
        (
            "description".to_owned(),
            attribute(
                AttrType::String,
                "properties.description",
                UpdateMode::Put,
                Presence::Optional,
            ),
        ),
        (
            "tags".to_owned(),
            attribute(
                AttrType::Map(Box::new(AttrType::String)),
                "tags",
                UpdateMode::Put,
                Presence::Optional,
            ),
        ),
    ]);
    registry.resources.insert(
        "emulator_data_factory".to_owned(),
        ResourceSchema {
            type_name: "emulator_data_factory".to_owned(),
            version: 0,
            description: "A Data Factory compute (API only; not in the catalogue).".to_owned(),
            api: ApiBinding {
                collection: Collection::Computes,
                compute_type: Some("DataFactory".to_owned()),
                lifecycle: Lifecycle::CreateOrAttach,
                name_attribute: "name".to_owned(),
                parent_attribute: "workspace_id".to_owned(),
                underlying_attribute: Some("resource_id".to_owned()),
                underlying_types: vec!["Microsoft.DataFactory/factories".to_owned()],
                attachment_identity: vec!["resource_id".to_owned()],
                hooks: None,
                immutable: None,
            },
            attributes,
            rules: Vec::new(),
        },
    );
}

/// The schema of a `computeType`, or a 400 that explains.
pub(crate) fn schema_for<'a>(
    registry: &'a Registry,
    compute_type: &str,
) -> Result<&'a ResourceSchema, ArmError> {
    if let Some(schema) = registry.by_compute_type(compute_type) {
        return Ok(schema);
    }
    let message = match compute_type.to_ascii_lowercase().as_str() {
        "containerinstance" | "aci" | "azurecontainerinstance" => {
            "Azure Container Instances cannot be created or attached as a compute target: Azure ML creates them itself when a model is deployed".to_owned()
        }
        "batch" | "azurebatch" | "batchai" => {
            "Azure Batch computes existed only in the retired v1 SDK; the ARM API has no `Batch` compute type: use an `AmlCompute` cluster instead".to_owned()
        }
        _ => {
            let known: Vec<String> = registry
                .iter()
                .filter_map(|schema| schema.api.compute_type.as_ref().map(|kind| format!("`{kind}`")))
                .collect();
            format!("`{compute_type}` is not a compute type; use one of {}", known.join(", "))
        }
    };
    Err(ArmError::bad_request("ValidationError", message).with_target("properties.computeType"))
}

/// Checks the attach/create rule for a new compute.
pub(crate) fn check_lifecycle(
    schema: &ResourceSchema,
    compute_type: &str,
    attaching: bool,
) -> Result<(), ArmError> {
    match (schema.api.lifecycle, attaching) {
        (Lifecycle::Attach, false) => Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "`{compute_type}` computes can only be attached, Azure ML cannot create them: set `properties.resourceId` to the ARM id of an existing {} resource",
                schema.api.underlying_types.iter().map(|kind| format!("`{kind}`")).collect::<Vec<_>>().join(" or ")
            ),
        )
        .with_target("properties.resourceId")),
        (Lifecycle::Create, true) => Err(ArmError::bad_request(
            "BadRequest",
            format!("`{compute_type}` computes are created by Azure ML and cannot be attached: remove `properties.resourceId`"),
        )
        .with_target("properties.resourceId")),
        _ => Ok(()),
    }
}

/// Resolves the resource a compute attaches, checking its type, existence and preconditions.
pub(crate) fn resolve_underlying(
    tx: &Connection,
    schema: &ResourceSchema,
    resource_id: &str,
    now: i64,
) -> Result<(Record, &'static UnderlyingType), ArmError> {
    let allowed = schema
        .api
        .underlying_types
        .iter()
        .map(|kind| format!("`{kind}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let parsed = UnderlyingId::parse(resource_id)
        .filter(|id| schema.api.underlying_types.iter().any(|kind| kind.eq_ignore_ascii_case(id.kind.type_name)))
        .ok_or_else(|| {
            ArmError::bad_request("InvalidResourceId", format!("`properties.resourceId` must be the ARM id of a {allowed} resource, not `{resource_id}`"))
                .with_target("properties.resourceId")
        })?;
    let record = store::get(tx, &key_of(&parsed.id()), now)?.ok_or_else(|| {
        ArmError::bad_request(
            "UnderlyingResourceNotFound",
            format!("the resource `{resource_id}` to attach does not exist: create it first, or fix `properties.resourceId`"),
        )
        .with_target("properties.resourceId")
    })?;
    if let Some(message) = underlying::attach_precondition(parsed.kind, &record.body) {
        return Err(ArmError::bad_request("AttachPreconditionFailed", message)
            .with_target("properties.resourceId"));
    }
    Ok((record, parsed.kind))
}

/// The values identifying one attachment (schema `attachment_identity`), normalised.
pub(crate) fn attachment_identity(schema: &ResourceSchema, body: &Json) -> Vec<String> {
    schema
        .api
        .attachment_identity
        .iter()
        .map(|name| {
            let Some(attribute) = schema.attribute(name) else {
                return String::new();
            };
            let value = attribute
                .arm
                .as_ref()
                .and_then(|arm| get_path(body, arm.segments()))
                .filter(|value| !value.is_null())
                .cloned()
                .or_else(|| attribute.default.as_ref().map(model::value::Value::to_json));
            match value {
                Some(Json::String(text)) if name.ends_with("_id") => text.to_ascii_lowercase(),
                Some(Json::String(text)) => text,
                Some(other) => other.to_string(),
                None => String::new(),
            }
        })
        .collect()
}

/// Breaks every other attachment of the same resource in the workspace (the real service does
/// not refuse a second attachment: the earlier one stops working).
pub(crate) fn break_duplicates(
    tx: &Connection,
    schema: &ResourceSchema,
    workspace_key: &str,
    own_key: &str,
    own_name: &str,
    body: &Json,
    now: i64,
) -> Result<(), ArmError> {
    let identity = attachment_identity(schema, body);
    if identity.first().is_none_or(String::is_empty) {
        return Ok(());
    }
    let compute_type = schema.api.compute_type.as_deref().unwrap_or_default();
    for mut other in store::children(tx, workspace_key, store::COMPUTE_KIND, now)? {
        if other.key == own_key
            || other.meta.superseded_by.is_some()
            || other.body["properties"]["computeType"].as_str() != Some(compute_type)
            || attachment_identity(schema, &other.body) != identity
        {
            continue;
        }
        let resource = body["properties"]["resourceId"]
            .as_str()
            .unwrap_or_default();
        let message = format!(
            "compute `{}` no longer works: compute `{own_name}` attached the same resource `{resource}` to this workspace; detach one of them and attach the resource again",
            other.name
        );
        let error = json!({ "code": "AttachmentSuperseded", "message": message });
        other.meta.superseded_by = Some(own_key.to_owned());
        other.meta.pending = None;
        other.meta.ready_at = None;
        other.body["properties"]["provisioningState"] = json!("Failed");
        other.body["properties"]["provisioningErrors"] = json!([{ "error": error }]);
        store::put(tx, &other)?;
        store::fail_running_operations(tx, &other.key, now, &error)?;
        store::increment(tx, "duplicate_attachments")?;
    }
    Ok(())
}

/// What a compute body consumes of its VM family's quota: `(family, cores)`.
pub(crate) fn quota_demand(
    schema: &ResourceSchema,
    body: &Json,
) -> Result<Option<(&'static str, i64)>, ArmError> {
    if schema.api.lifecycle != Lifecycle::Create {
        return Ok(None);
    }
    let read = |name: &str| {
        schema
            .attribute(name)
            .and_then(|attribute| attribute.arm.as_ref())
            .and_then(|arm| get_path(body, arm.segments()))
    };
    let Some(size) = read("vm_size").and_then(Json::as_str) else {
        return Ok(None);
    };
    let size = quota::vm_size(size).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidVmSize",
            format!(
                "VM size `{size}` is not available to the emulator; use a size such as {}",
                quota::examples()
            ),
        )
        .with_target("properties.properties.vmSize")
    })?;
    let nodes = if schema.attribute("max_node_count").is_some() {
        read("max_node_count").and_then(Json::as_i64).unwrap_or(0)
    } else {
        1
    };
    Ok(Some((size.family, size.cores * nodes)))
}

/// Refuses a compute whose quota demand, added to every other compute of the subscription, goes
/// over its family's limit.
pub(crate) fn check_quota(
    tx: &Connection,
    registry: &Registry,
    schema: &ResourceSchema,
    body: &Json,
    subscription: &str,
    own_key: &str,
    now: i64,
) -> Result<(), ArmError> {
    let Some((family, demand)) = quota_demand(schema, body)? else {
        return Ok(());
    };
    let subscription = subscription.to_ascii_lowercase();
    let limit: Option<i64> = tx
        .query_row(
            "SELECT cores FROM quotas WHERE subscription = ?1 AND family IN (?2, '*') ORDER BY family = '*' LIMIT 1",
            params![subscription, family.to_ascii_lowercase()],
            |row| row.get(0),
        )
        .optional()?;
    let Some(limit) = limit else { return Ok(()) };
    let mut used = 0;
    for other in store::in_subscription(tx, &subscription, store::COMPUTE_KIND, now)? {
        if other.key == own_key {
            continue;
        }
        let Some(other_schema) = other.body["properties"]["computeType"]
            .as_str()
            .and_then(|kind| registry.by_compute_type(kind))
        else {
            continue;
        };
        if let Ok(Some((other_family, cores))) = quota_demand(other_schema, &other.body)
            && other_family == family
        {
            used += cores;
        }
    }
    if used + demand > limit {
        return Err(ArmError::bad_request(
            "QuotaExceeded",
            format!(
                "not enough `{family}` quota in subscription `{subscription}`: this compute needs {demand} cores, {used} of {limit} are in use (stopped instances keep theirs); delete computes, lower the node count or choose another VM family"
            ),
        ));
    }
    Ok(())
}

/// Validates a compute name (`^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$`).
pub(crate) fn check_compute_name(name: &str) -> Result<(), ArmError> {
    let starts_with_letter = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic());
    let allowed = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ends_in_number = name
        .rsplit_once('-')
        .is_some_and(|(_, tail)| !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()));
    if starts_with_letter && allowed && (3..=24).contains(&name.len()) && !ends_in_number {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "ValidationError",
        format!(
            "compute name `{name}` is invalid: 3 to 24 letters, digits or `-`, starting with a letter and not ending in `-<digits>`"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_names_follow_the_api_pattern() {
        for good in ["cpu", "cpu-cluster", "gpu-a100", "A1b"] {
            assert!(check_compute_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "1cpu",
            "cpu-1",
            "cpu_cluster",
            "a-very-long-compute-name-x",
        ] {
            assert!(check_compute_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clusters_reserve_their_maximum_nodes() {
        let registry = model::schema::load_registry().expect("catalogue");
        let cluster = registry.by_compute_type("AmlCompute").expect("cluster");
        let body = json!({"properties": {"properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 5}}}});
        assert_eq!(
            quota_demand(cluster, &body).expect("known size"),
            Some(("standardDSv2Family", 20))
        );
        let instance = registry
            .by_compute_type("ComputeInstance")
            .expect("instance");
        let body = json!({"properties": {"properties": {"vmSize": "Standard_NC6"}}});
        assert_eq!(
            quota_demand(instance, &body).expect("known size"),
            Some(("standardNCFamily", 6))
        );
    }

    #[test]
    fn kubernetes_identity_includes_the_namespace() {
        let registry = model::schema::load_registry().expect("catalogue");
        let kubernetes = registry.by_compute_type("Kubernetes").expect("kubernetes");
        let a = json!({"properties": {"resourceId": "/X", "properties": {"namespace": "a"}}});
        let default = json!({"properties": {"resourceId": "/x"}});
        assert_eq!(attachment_identity(kubernetes, &a), ["/x", "a"]);
        assert_eq!(attachment_identity(kubernetes, &default), ["/x", "default"]);
    }

    #[test]
    fn unknown_compute_types_are_explained() {
        let registry = model::schema::load_registry().expect("catalogue");
        let error = schema_for(&registry, "ContainerInstance").expect_err("no ACI");
        assert!(error.message.contains("deployed"), "{}", error.message);
        let error = schema_for(&registry, "Batch").expect_err("no Batch");
        assert!(error.message.contains("v1 SDK"), "{}", error.message);
    }
}
