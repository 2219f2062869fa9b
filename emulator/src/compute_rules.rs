//! The service rules of computes (DESIGN §1), over `model::schema` only:
//!
//! | rule | behaviour |
//! |---|---|
//! | compute types | a `computeType` with no catalogue schema is refused (400 `ValidationError`); `ContainerInstance` and `Batch` get an explanation. `DataFactory` (in the API, not in the catalogue) is served by a minimal built-in schema |
//! | attach-only kinds | a PUT without `properties.resourceId` is refused (400 `BadRequest`) |
//! | create-only kinds | a PUT with `properties.resourceId` is refused (400 `BadRequest`) |
//! | attach preconditions | the resource must be of an allowed type and exist (400 `InvalidResourceId` / `UnderlyingResourceNotFound`); VM: Ubuntu and public IP; HDInsight: public IP (400 `AttachPreconditionFailed`) |
//! | duplicate attachment | attaching what another compute of the same type in the workspace already attaches (same attachment identity: the resource id, plus the namespace for Kubernetes) succeeds, and the earlier compute turns `Failed` with a `provisioningErrors` entry naming the new one; the `duplicate_attachments` counter grows by one per broken compute |
//! | quota | kinds created by Azure ML with a `vm_size` consume `cores(vmSize) × nodes` of their VM family, nodes = `max_node_count` when the schema has one (a cluster reserves its maximum), else 1; stopped instances keep their cores; over the limit → 400 `QuotaExceeded` with the numbers. A node count that is not a whole number from 0 up is refused, never read as 0, and the product saturates instead of wrapping |
//! | property values | [`PROPERTY_RULES`]: node counts are whole numbers from 0 to 2147483647 (the API's int32), ports from 1 to 65535, `vmSize` is not blank, idle times are ISO 8601 durations (an instance's `idleTimeBeforeShutdown` from `PT15M` to `P3D`); else 400 `ValidationError` naming the property and the value. A whole number sent with a fraction part of zero (`4.0`) is stored as the integer |
//! | ordered values | [`ORDERED_PROPERTIES`]: a cluster's `minNodeCount` is not greater than its `maxNodeCount` (400 `ValidationError`, checked on the body a PUT or a PATCH leaves) |
//! | names | 3 to 24 letters, digits or `-`, starting with a letter, not ending in `-<digits>` (the API's `computeName` pattern) |
//!
//! These are the service's rules, written from the API reference: the catalogue's constraints
//! are what the planner checks, and the emulator checks the planner (STYLE §2), so it does not
//! read them.

use std::collections::BTreeMap;

use model::schema::{
    ApiBinding, ArmPath, AttrType, Attribute, Collection, Lifecycle, Presence, Registry,
    ResourceSchema, UpdateMode,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, cut, get_path, key_of, path, set_path, shown};
use crate::duration;
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
    let nodes = match schema.attribute("max_node_count") {
        None => 1,
        Some(attribute) => match read("max_node_count").filter(|value| !value.is_null()) {
            None => 0,
            Some(value) => whole_number(value)
                .filter(|nodes| *nodes >= 0)
                .ok_or_else(|| {
                    let at = attribute
                        .arm
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    ArmError::bad_request(
                        "ValidationError",
                        format!(
                            "`{at}` must be a whole number from 0 up, not `{}`",
                            shown(value)
                        ),
                    )
                    .with_target(at)
                })?,
        },
    };
    Ok(Some((size.family, size.cores.saturating_mul(nodes))))
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
    let mut used: i64 = 0;
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
            used = used.saturating_add(cores);
        }
    }
    if used.saturating_add(demand) > limit {
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
    // The reference's lookahead: no `-<digits>` at the end (a bare trailing `-` is allowed).
    let ends_badly = name
        .rsplit_once('-')
        .is_some_and(|(_, tail)| !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()));
    if starts_with_letter && allowed && (3..=24).contains(&name.len()) && !ends_badly {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "ValidationError",
        format!(
            "compute name `{}` ({} characters) is invalid: 3 to 24 letters, digits or `-`, starting with a letter and not ending in `-<digits>`",
            cut(name),
            name.chars().count()
        ),
    ))
}

/// What the service accepts at a property.
#[derive(Debug, Clone, Copy)]
enum Accepts {
    /// A whole number in `min..=max`: a JSON integer, or a number whose fraction is zero.
    WholeNumber { min: i64, max: i64 },
    /// An ISO 8601 duration, within `(shortest, longest)` when given.
    Duration(Option<(&'static str, &'static str)>),
    /// A string that is not blank.
    Text,
}

/// The API's int32 node counts.
const NODE_COUNT: Accepts = Accepts::WholeNumber {
    min: 0,
    max: 2_147_483_647,
};
const PORT: Accepts = Accepts::WholeNumber {
    min: 1,
    max: 65_535,
};

/// `(computeType, ARM path from the body root, what the service accepts there)`; an absent or
/// `null` value is left to the presence rules.
const PROPERTY_RULES: &[(&str, &str, Accepts)] = &[
    ("AmlCompute", "properties.properties.vmSize", Accepts::Text),
    (
        "AmlCompute",
        "properties.properties.scaleSettings.minNodeCount",
        NODE_COUNT,
    ),
    (
        "AmlCompute",
        "properties.properties.scaleSettings.maxNodeCount",
        NODE_COUNT,
    ),
    (
        "AmlCompute",
        "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown",
        Accepts::Duration(None),
    ),
    (
        "ComputeInstance",
        "properties.properties.vmSize",
        Accepts::Text,
    ),
    (
        "ComputeInstance",
        "properties.properties.idleTimeBeforeShutdown",
        Accepts::Duration(Some(("PT15M", "P3D"))),
    ),
    ("AKS", "properties.properties.agentCount", NODE_COUNT),
    ("VirtualMachine", "properties.properties.sshPort", PORT),
    (
        "VirtualMachine",
        "properties.properties.notebookServerPort",
        PORT,
    ),
    ("HDInsight", "properties.properties.sshPort", PORT),
    (
        "SynapseSpark",
        "properties.properties.nodeCount",
        NODE_COUNT,
    ),
    (
        "SynapseSpark",
        "properties.properties.autoScaleProperties.minNodeCount",
        NODE_COUNT,
    ),
    (
        "SynapseSpark",
        "properties.properties.autoScaleProperties.maxNodeCount",
        NODE_COUNT,
    ),
];

/// `(computeType, lower, upper)`: when both are set, `lower` is not greater than `upper`.
const ORDERED_PROPERTIES: &[(&str, &str, &str)] = &[
    (
        "AmlCompute",
        "properties.properties.scaleSettings.minNodeCount",
        "properties.properties.scaleSettings.maxNodeCount",
    ),
    (
        "SynapseSpark",
        "properties.properties.autoScaleProperties.minNodeCount",
        "properties.properties.autoScaleProperties.maxNodeCount",
    ),
];

/// Checks the property values of a compute body of `compute_type` against [`PROPERTY_RULES`] and
/// [`ORDERED_PROPERTIES`] (400 `ValidationError` with the property as target), and stores whole
/// numbers as integers, as the service's typed fields hold them.
pub(crate) fn check_values(compute_type: &str, body: &mut Json) -> Result<(), ArmError> {
    for (_, at, accepts) in PROPERTY_RULES
        .iter()
        .filter(|(kind, ..)| *kind == compute_type)
    {
        let segments = path(at);
        let Some(value) = get_path(body, &segments).filter(|value| !value.is_null()) else {
            continue;
        };
        let accepted = accept(value, *accepts).ok_or_else(|| {
            ArmError::bad_request("ValidationError", refusal(at, value, *accepts)).with_target(*at)
        })?;
        set_path(body, &segments, accepted);
    }
    for (_, lower, upper) in ORDERED_PROPERTIES
        .iter()
        .filter(|(kind, ..)| *kind == compute_type)
    {
        let read = |at: &str| get_path(body, &path(at)).and_then(whole_number);
        if let (Some(low), Some(high)) = (read(lower), read(upper))
            && low > high
        {
            return Err(ArmError::bad_request(
                "ValidationError",
                format!("`{lower}` ({low}) must not be greater than `{upper}` ({high})"),
            )
            .with_target(*lower));
        }
    }
    Ok(())
}

/// The value to store when `value` is accepted.
fn accept(value: &Json, accepts: Accepts) -> Option<Json> {
    match accepts {
        Accepts::WholeNumber { min, max } => whole_number(value)
            .filter(|number| (min..=max).contains(number))
            .map(Json::from),
        Accepts::Duration(bounds) => {
            let length = value.as_str().and_then(duration::parse)?;
            let within = bounds.is_none_or(|(shortest, longest)| {
                let bound = |text| duration::parse(text).expect("the bounds are durations");
                (bound(shortest)..=bound(longest)).contains(&length)
            });
            within.then(|| value.clone())
        }
        Accepts::Text => value
            .as_str()
            .filter(|text| !text.trim().is_empty())
            .map(|_| value.clone()),
    }
}

fn refusal(at: &str, value: &Json, accepts: Accepts) -> String {
    let value = shown(value);
    match accepts {
        Accepts::WholeNumber { min, max } => {
            format!("`{at}` must be a whole number from {min} to {max}, not `{value}`")
        }
        Accepts::Duration(None) => {
            format!("`{at}` must be an ISO 8601 duration such as `PT5M`, not `{value}`")
        }
        Accepts::Duration(Some((shortest, longest))) => format!(
            "`{at}` must be an ISO 8601 duration from `{shortest}` to `{longest}`, not `{value}`"
        ),
        Accepts::Text => format!("`{at}` must be a non-empty string, not `{value}`"),
    }
}

/// A JSON number as a whole number: an integer, or a number whose fraction is zero within
/// ±2^53 (beyond, a double no longer holds every integer). Anything else, 2^63 included, is not.
pub(crate) fn whole_number(value: &Json) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|number| number.fract() == 0.0 && number.abs() <= EXACT)
            // Exact: a whole number within ±2^53.
            .map(|number| number as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_names_follow_the_api_pattern() {
        // The reference's pattern allows a trailing `-` (as the catalogue does).
        for good in ["cpu", "cpu-cluster", "gpu-a100", "A1b", "cpu-", "cpu--"] {
            assert!(check_compute_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "1cpu",
            "cpu-1",
            "c-12",
            "cpu_cluster",
            "a-very-long-compute-name-x",
            "cpué",
        ] {
            assert!(check_compute_name(bad).is_err(), "{bad}");
        }
        let error = check_compute_name(&"x".repeat(1 << 20)).expect_err("1 MiB name");
        assert!(error.message.len() < 300, "{}", error.message);
        assert!(
            error.message.contains("1048576 characters"),
            "{}",
            error.message
        );
    }

    fn cluster_body(scale: Json) -> Json {
        json!({"properties": {"computeType": "AmlCompute", "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": scale}}})
    }

    #[track_caller]
    fn refused(compute_type: &str, mut body: Json) -> ArmError {
        check_values(compute_type, &mut body).expect_err("refused")
    }

    #[test]
    fn node_counts_are_whole_numbers_of_the_int32_range() {
        let max = "properties.properties.scaleSettings.maxNodeCount";
        for (bad, shown) in [
            (json!(1e30), "1e+30"),
            (json!(9_223_372_036_854_775_808_u64), "9223372036854775808"),
            (json!(2_147_483_648_i64), "2147483648"),
            (json!(-1), "-1"),
            (json!(1.5), "1.5"),
            (json!("4"), "\"4\""),
            (json!(true), "true"),
        ] {
            let error = refused("AmlCompute", cluster_body(json!({ "maxNodeCount": bad })));
            assert_eq!(error.status, axum::http::StatusCode::BAD_REQUEST);
            assert_eq!(error.code, "ValidationError");
            assert_eq!(error.target.as_deref(), Some(max));
            assert_eq!(
                error.message,
                format!("`{max}` must be a whole number from 0 to 2147483647, not `{shown}`")
            );
        }
        let mut body = cluster_body(json!({ "minNodeCount": 0.0, "maxNodeCount": 2_147_483_647 }));
        check_values("AmlCompute", &mut body).expect("in range");
        let scale = &body["properties"]["properties"]["scaleSettings"];
        assert!(
            scale["minNodeCount"].is_i64(),
            "stored as an integer: {scale}"
        );
    }

    #[test]
    fn the_minimum_is_not_above_the_maximum() {
        let error = refused(
            "AmlCompute",
            cluster_body(json!({ "minNodeCount": 5, "maxNodeCount": 2 })),
        );
        assert_eq!(
            error.target.as_deref(),
            Some("properties.properties.scaleSettings.minNodeCount")
        );
        assert!(
            error.message.contains("(5) must not be greater than"),
            "{}",
            error.message
        );
        let mut equal = cluster_body(json!({ "minNodeCount": 2, "maxNodeCount": 2 }));
        check_values("AmlCompute", &mut equal).expect("equal is fine");
    }

    #[test]
    fn durations_sizes_and_ports_follow_the_service() {
        let error = refused(
            "AmlCompute",
            cluster_body(
                json!({ "maxNodeCount": 1, "nodeIdleTimeBeforeScaleDown": "five minutes" }),
            ),
        );
        assert_eq!(
            error.message,
            "`properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown` must be an ISO 8601 duration such as `PT5M`, not `\"five minutes\"`"
        );
        let instance = |properties: Json| json!({"properties": {"computeType": "ComputeInstance", "properties": properties}});
        for idle in ["PT14M", "P3DT1S", "PT"] {
            let error = refused(
                "ComputeInstance",
                instance(json!({ "vmSize": "Standard_DS3_v2", "idleTimeBeforeShutdown": idle })),
            );
            assert_eq!(
                error.target.as_deref(),
                Some("properties.properties.idleTimeBeforeShutdown"),
                "{idle}"
            );
        }
        let mut fine =
            instance(json!({ "vmSize": "Standard_DS3_v2", "idleTimeBeforeShutdown": "PT15M" }));
        check_values("ComputeInstance", &mut fine).expect("15 minutes is the shortest");
        for size in ["", "   "] {
            let error = refused("ComputeInstance", instance(json!({ "vmSize": size })));
            assert_eq!(
                error.target.as_deref(),
                Some("properties.properties.vmSize")
            );
        }
        let vm = |port: Json| json!({"properties": {"computeType": "VirtualMachine", "properties": {"sshPort": port}}});
        for port in [json!(0), json!(65_536), json!(22.5)] {
            let error = refused("VirtualMachine", vm(port));
            assert_eq!(
                error.target.as_deref(),
                Some("properties.properties.sshPort")
            );
        }
        check_values("VirtualMachine", &mut vm(json!(65_535))).expect("highest port");
    }

    #[test]
    fn huge_node_counts_do_not_pass_quota_as_zero() {
        let registry = model::schema::load_registry().expect("catalogue");
        let cluster = registry.by_compute_type("AmlCompute").expect("cluster");
        for bad in [
            json!(1e30),
            json!(9_223_372_036_854_775_808_u64),
            json!(-1),
            json!(1.5),
        ] {
            let body = cluster_body(json!({ "maxNodeCount": bad }));
            let error = quota_demand(cluster, &body).expect_err("not a node count");
            assert_eq!(
                error.target.as_deref(),
                Some("properties.properties.scaleSettings.maxNodeCount")
            );
        }
        let body = cluster_body(json!({ "maxNodeCount": i64::MAX }));
        assert_eq!(
            quota_demand(cluster, &body).expect("a whole number"),
            Some(("standardDSv2Family", i64::MAX)),
            "saturates, not wraps"
        );
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
