//! Computes: one handler set for every compute kind, driven by the schema that
//! `Registry::by_compute_type` returns for the body's `computeType` (rules in `compute_rules`).
//!
//! | call | answer |
//! |---|---|
//! | GET list | 200 `{value, nextLink}` (20 per page, `$skip`) |
//! | GET | 200, secrets stripped |
//! | PUT | 201 created / 200 updated, + `Azure-AsyncOperation`, `Location`, `Retry-After`; `Creating`/`Updating` until the provisioning delay passes |
//! | PATCH | `properties.properties.scaleSettings` only (the schema's `patch` attributes); 200 + polling headers. The api-version 2020-08-01 shape `properties.scaleSettings` (what `azure-mgmt-machinelearningservices` 1.0.1 sends) is read as the current one |
//! | DELETE | `underlyingResourceAction=Delete\|Detach` required (400 without); 202 + polling headers; 204 when absent. `Detach` keeps the resource; `Delete` on an attached compute is refused (400: use `Detach`); `Detach` on a kind Azure ML creates is refused (400: use `Delete`); `Delete` of an AKS compute Azure ML created deletes its cluster too |
//! | POST start/stop/restart | kinds with an `action` attribute (compute instances); 202 + polling headers; `Starting`→`Running`, `Stopping`→`Stopped`, `Restarting`→`Running` |
//! | POST listKeys | 200 `{computeType, …secret parts}` (AKS adds kubeconfigs) |
//! | POST listNodes | 200 `{nodes, nextLink}` for clusters (`minNodeCount` idle nodes) and running instances |
//!
//! A PUT body, and the body a PATCH leaves, must meet the service's property rules (node counts,
//! durations, ports, ordered minimum and maximum: `compute_rules`) before anything is stored.
//! A PUT to an existing name with another `computeType` or `resourceId`, or changing an attribute
//! that cannot change in place, is refused (400 `Conflict`: detach/delete first). A PUT to an
//! existing compute that omits type-specific properties the catalogue does not model keeps them
//! (the service does: its "Update a AML Compute" example sends only `scaleSettings`). The body is
//! stored as given (unknown fields below the type-specific level are echoed), schema defaults are
//! filled in, and reads add what the service computes: clusters' allocation state and node counts;
//! instances' state, SSH user and port, OS image, applications and endpoints; the release train of
//! an attached Kubernetes cluster's extension. Secrets never appear in reads (only `listKeys`).

use axum::http::{Method, StatusCode};
use model::schema::{Lifecycle, ResourceSchema, UpdateMode};
use rusqlite::Connection;
use serde_json::{Value as Json, json};

use crate::arm::{
    ArmError, Reply, WorkspaceRef, digest, get_path, key_of, method_not_allowed, page, page_of,
    set_path, system_data, timestamp,
};
use crate::body;
use crate::compute_rules as rules;
use crate::context::Ctx;
use crate::operations;
use crate::store::{self, COMPUTE_KIND, INSTANCE_STATE_PATH, Meta, Pending, Record};
use crate::underlying::{self, UnderlyingId};

const COMPUTE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces/computes";
const ENVELOPE: &[&str] = &[
    "id",
    "name",
    "type",
    "location",
    "tags",
    "sku",
    "identity",
    "systemData",
    "properties",
];
const BASE: &[&str] = &[
    "computeType",
    "computeLocation",
    "description",
    "resourceId",
    "disableLocalAuth",
    "provisioningState",
    "createdOn",
    "modifiedOn",
    "provisioningErrors",
    "isAttachedCompute",
    "properties",
];

fn compute_id(workspace: &WorkspaceRef, name: &str) -> String {
    format!("{}/computes/{name}", workspace.id())
}

fn schema_of<'a>(ctx: &'a Ctx, record: &Record) -> Result<&'a ResourceSchema, ArmError> {
    rules::schema_for(
        &ctx.registry,
        record.body["properties"]["computeType"]
            .as_str()
            .unwrap_or_default(),
    )
}

/// A compute as every read returns it.
pub(crate) fn render(ctx: &Ctx, record: &Record) -> Json {
    let mut view = record.view(ctx.now);
    if let Ok(schema) = schema_of(ctx, record) {
        body::strip_secrets(schema, &mut view);
    }
    view
}

fn existing(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Record, ArmError> {
    store::workspace(tx, workspace, ctx.now)?;
    store::get(tx, &key_of(&compute_id(workspace, name)), ctx.now)?.ok_or_else(|| {
        ArmError::not_found(format!(
            "compute `{name}` was not found in workspace `{}`",
            workspace.name
        ))
    })
}

/// `GET …/computes`.
pub(crate) fn list(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
) -> Result<Reply, ArmError> {
    if *method != Method::GET {
        return Err(method_not_allowed(method));
    }
    let record = store::workspace(tx, workspace, ctx.now)?;
    let items = store::children(tx, &record.key, COMPUTE_KIND, ctx.now)?
        .iter()
        .map(|compute| render(ctx, compute))
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        page(items, ctx.skip()?, "value", |skip| ctx.next_link(skip)),
    ))
}

/// `…/computes/{name}`.
pub(crate) fn compute(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
    name: &str,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    match *method {
        Method::GET => Ok(Reply::json(
            StatusCode::OK,
            render(ctx, &existing(tx, ctx, workspace, name)?),
        )),
        Method::PUT => put(tx, ctx, workspace, name, parse_body(bytes)?),
        Method::PATCH => patch(tx, ctx, workspace, name, parse_body(bytes)?),
        Method::DELETE => delete(tx, ctx, workspace, name),
        _ => Err(method_not_allowed(method)),
    }
}

fn parse_body(bytes: &[u8]) -> Result<Json, ArmError> {
    if bytes.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "the request body is empty",
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("the request body is not valid JSON: {error}"),
        )
    })
}

fn text<'a>(json: &'a Json, at: &str) -> Option<&'a str> {
    get_path(json, &crate::arm::path(at))
        .and_then(Json::as_str)
        .filter(|text| !text.is_empty())
}

fn put(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
    mut request: Json,
) -> Result<Reply, ArmError> {
    body::refuse_unknown_keys(&request, ENVELOPE, "")?;
    let base = request
        .get("properties")
        .filter(|base| base.is_object())
        .ok_or_else(|| {
            ArmError::bad_request(
                "ValidationError",
                "`properties` (with `computeType`) is required",
            )
            .with_target("properties")
        })?;
    body::refuse_unknown_keys(base, BASE, "properties")?;
    let compute_type = text(&request, "properties.computeType")
        .ok_or_else(|| {
            ArmError::bad_request("ValidationError", "`properties.computeType` is required")
                .with_target("properties.computeType")
        })?
        .to_owned();
    let schema = rules::schema_for(&ctx.registry, &compute_type)?;
    rules::check_compute_name(name)?;
    let workspace_record = store::workspace(tx, workspace, ctx.now)?;
    if workspace_record.is_deleting(ctx.now) {
        return Err(ArmError::conflict(format!(
            "workspace `{}` is being deleted",
            workspace.name
        )));
    }
    let id = compute_id(workspace, name);
    let key = key_of(&id);
    let previous = store::get(tx, &key, ctx.now)?;
    let requested_resource = text(&request, "properties.resourceId").map(str::to_owned);

    let attaching = match &previous {
        Some(previous) => {
            if previous.is_deleting(ctx.now) {
                return Err(ArmError::conflict(format!(
                    "compute `{name}` is being deleted; retry when the deletion has finished"
                )));
            }
            let stored_type = previous.body["properties"]["computeType"]
                .as_str()
                .unwrap_or_default();
            if stored_type != compute_type {
                return Err(ArmError::bad_request(
                    "Conflict",
                    format!("compute `{name}` already exists as a `{stored_type}` compute; delete or detach it before using the name for a `{compute_type}` compute"),
                )
                .with_target("properties.computeType"));
            }
            let stored_resource = text(&previous.body, "properties.resourceId");
            if let (Some(requested), Some(stored)) = (&requested_resource, stored_resource)
                && !requested.eq_ignore_ascii_case(stored)
            {
                return Err(ArmError::bad_request(
                        "Conflict",
                        format!("compute `{name}` is attached to `{stored}`; detach it before attaching `{requested}` under this name"),
                    )
                    .with_target("properties.resourceId"));
            }
            if requested_resource.is_some() && stored_resource.is_none() {
                rules::check_lifecycle(schema, &compute_type, true)?;
            }
            body::carry_over(schema, &previous.body, &mut request);
            body::carry_unmodelled(schema, &previous.body, &mut request);
            if let Some(path) = body::forbidden_change(schema, &previous.body, &request) {
                let how = if previous.body["properties"]["isAttachedCompute"] == json!(true) {
                    "detach it and attach it again"
                } else {
                    "delete it and create it again"
                };
                return Err(ArmError::bad_request(
                    "Conflict",
                    format!("`{path}` of compute `{name}` cannot be changed in place: {how}"),
                )
                .with_target(path));
            }
            previous.body["properties"]["isAttachedCompute"] == json!(true)
        }
        None => {
            rules::check_lifecycle(schema, &compute_type, requested_resource.is_some())?;
            requested_resource.is_some()
        }
    };
    body::validate(schema, &request, previous.is_none())?;
    rules::check_values(&compute_type, &mut request)?;

    let underlying = match (&requested_resource, attaching, &previous) {
        (Some(resource_id), true, None) => {
            Some(rules::resolve_underlying(tx, schema, resource_id, ctx.now)?)
        }
        (_, _, _) => text(&request, "properties.resourceId")
            .and_then(UnderlyingId::parse)
            .and_then(|parsed| {
                store::get(tx, &key_of(&parsed.id()), ctx.now)
                    .ok()
                    .flatten()
                    .map(|record| (record, parsed.kind))
            }),
    };

    let location = request["location"]
        .as_str()
        .or_else(|| {
            previous
                .as_ref()
                .and_then(|record| record.body["location"].as_str())
        })
        .or_else(|| workspace_record.body["location"].as_str())
        .unwrap_or("eastus")
        .to_owned();
    let created_at = previous
        .as_ref()
        .map_or(ctx.now, |record| record.meta.created_at);
    let mut properties = request["properties"].clone();
    properties["computeType"] = json!(compute_type);
    properties["computeLocation"] = json!(location);
    properties["isAttachedCompute"] = json!(attaching);
    properties["createdOn"] = json!(timestamp(created_at));
    properties["modifiedOn"] = json!(timestamp(ctx.now));
    properties["provisioningErrors"] = Json::Null;
    if !properties.get("properties").is_some_and(Json::is_object) {
        properties["properties"] = json!({});
    }
    let mut stored = json!({
        "id": id,
        "name": name,
        "type": COMPUTE_TYPE,
        "location": location,
        "properties": properties,
        "systemData": system_data(created_at, ctx.now),
    });
    for field in ["tags", "sku", "identity"] {
        if let Some(value) = request.get(field).filter(|value| !value.is_null()) {
            stored[field] = value.clone();
        }
    }
    body::fill_defaults(schema, &mut stored);

    // An AKS compute without a resource id: Azure ML creates the cluster, and records that it did.
    let mut underlying = underlying;
    if previous.is_none()
        && !attaching
        && schema.api.lifecycle == Lifecycle::CreateOrAttach
        && schema
            .api
            .underlying_types
            .iter()
            .any(|kind| kind == "Microsoft.ContainerService/managedClusters")
    {
        let cluster = create_managed_cluster(tx, workspace, name, &key, &stored, ctx.now)?;
        stored["properties"]["resourceId"] = json!(cluster.id);
        let kind = underlying::type_of(
            "Microsoft.ContainerService",
            &["managedClusters".to_owned()],
        )
        .expect("managed clusters are a known type");
        underlying = Some((cluster, kind));
    }
    if let Some((resource, kind)) = &underlying {
        for (target, value) in underlying::copied_values(kind, resource) {
            let Some(attribute) = body::attribute_at(schema, &target) else {
                continue;
            };
            let unset = get_path(&stored, &crate::arm::path(&target)).is_none_or(Json::is_null);
            if attribute.presence == model::schema::Presence::Computed || unset {
                set_path(&mut stored, &crate::arm::path(&target), value);
            }
        }
    }
    rules::check_quota(
        tx,
        &ctx.registry,
        schema,
        &stored,
        &workspace.subscription,
        &key,
        ctx.now,
    )?;
    service_properties(&compute_type, &mut stored, previous.as_ref(), ctx.now);

    let done_at = ctx.now + ctx.delay_ms;
    let creating = previous.is_none();
    stored["properties"]["provisioningState"] =
        json!(if creating { "Creating" } else { "Updating" });
    let instance_state =
        (compute_type == "ComputeInstance" && creating).then(|| "Running".to_owned());
    let mut record = Record {
        key: key.clone(),
        id,
        kind: COMPUTE_KIND.to_owned(),
        parent: workspace_record.key.clone(),
        subscription: workspace.subscription.to_ascii_lowercase(),
        name: name.to_owned(),
        body: stored,
        meta: Meta {
            created_at,
            modified_at: ctx.now,
            ready_at: Some(done_at),
            pending: Some(Pending {
                provisioning_state: "Succeeded".to_owned(),
                instance_state,
            }),
            ..Meta::default()
        },
    };
    if schema.can_attach() {
        rules::break_duplicates(
            tx,
            schema,
            &workspace_record.key,
            &key,
            name,
            &record.body,
            ctx.now,
        )?;
    }
    record.settle(ctx.now);
    store::put(tx, &record)?;
    let headers = operations::begin(
        tx,
        ctx,
        &workspace.subscription,
        &location,
        &key,
        "put",
        done_at,
    )?;
    let status = if creating {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Reply::json(status, render(ctx, &record)).with_headers(headers))
}

/// Read-only properties the service reports for the kinds it runs (instances and clusters).
fn service_properties(compute_type: &str, stored: &mut Json, previous: Option<&Record>, now: i64) {
    let previous_properties = previous
        .map(|record| record.body["properties"]["properties"].clone())
        .unwrap_or(Json::Null);
    let properties = &mut stored["properties"]["properties"];
    match compute_type {
        "ComputeInstance" => {
            properties["state"] = previous_properties
                .get("state")
                .cloned()
                .unwrap_or_else(|| json!("Creating"));
            let ssh_enabled = properties["sshSettings"]["sshPublicAccess"] == json!("Enabled");
            properties["sshSettings"]["adminUserName"] = json!("azureuser");
            // The public port of the instance's SSH endpoint; without public access, the node's
            // own port on the private address.
            properties["sshSettings"]["sshPort"] = json!(if ssh_enabled { 50000 } else { 22 });
            // The OS image is chosen at creation and stays until the instance is recreated.
            properties["osImageMetadata"] = previous_properties
                .get("osImageMetadata")
                .filter(|metadata| metadata.is_object())
                .cloned()
                .unwrap_or_else(|| {
                    let version = image_version(now);
                    json!({ "currentImageVersion": version, "latestImageVersion": version, "isLatestOsImageVersion": true })
                });
            let applications = applications(stored);
            let octet =
                u8::from_str_radix(&digest(stored["id"].as_str().unwrap_or_default())[..2], 16)
                    .unwrap_or(1);
            let properties = &mut stored["properties"]["properties"];
            properties["applications"] = applications;
            properties["connectivityEndpoints"] = json!({ "publicIpAddress": format!("20.84.0.{octet}"), "privateIpAddress": format!("10.0.1.{octet}") });
            properties["createdBy"] = json!({ "userName": "azureml-emulator", "userOrgId": crate::DEMO_TENANT, "userId": "00000000-0000-0000-0000-0000000000e1" });
            properties["lastOperation"] = json!({ "operationName": "Create", "operationTime": timestamp(now), "operationStatus": "Succeeded", "operationTrigger": "User" });
            properties["errors"] = json!([]);
        }
        "AmlCompute" => {
            let nodes = properties["scaleSettings"]["minNodeCount"]
                .as_i64()
                .unwrap_or(0);
            if properties["remoteLoginPortPublicAccess"]
                .as_str()
                .is_none_or(|value| value == "NotSpecified")
            {
                properties["remoteLoginPortPublicAccess"] = json!("Enabled");
            }
            properties["allocationState"] = json!("Steady");
            properties["allocationStateTransitionTime"] = json!(timestamp(now));
            properties["currentNodeCount"] = json!(nodes);
            properties["targetNodeCount"] = json!(nodes);
            properties["errors"] = Json::Null;
            properties["nodeStateCounts"] = json!({
                "idleNodeCount": nodes, "runningNodeCount": 0, "preparingNodeCount": 0,
                "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0,
            });
        }
        // The release train of the Azure ML extension the service installs.
        "Kubernetes"
            if properties["extensionInstanceReleaseTrain"]
                .as_str()
                .is_none_or(str::is_empty) =>
        {
            properties["extensionInstanceReleaseTrain"] = json!("stable");
        }
        _ => {}
    }
}

/// The OS image version of instances created at `now` (`YY.MM.DD`, as the service numbers them).
fn image_version(now: i64) -> String {
    let date = timestamp(now);
    format!("{}.{}.{}", &date[2..4], &date[5..7], &date[8..10])
}

/// The applications an instance serves: Jupyter, JupyterLab and VS Code, plus one per published
/// endpoint of its custom services.
fn applications(stored: &Json) -> Json {
    let name = stored["name"].as_str().unwrap_or_default();
    let location = stored["location"].as_str().unwrap_or("eastus");
    let host = format!("{name}.{location}.instances.azureml.ms");
    let mut applications = vec![
        json!({ "displayName": "Jupyter", "endpointUri": format!("https://{host}/tree/") }),
        json!({ "displayName": "Jupyter Lab", "endpointUri": format!("https://{host}/lab") }),
        json!({ "displayName": "VS Code", "endpointUri": format!("vscode://vscode-remote/amlext+{}", stored["id"].as_str().unwrap_or_default().trim_start_matches('/')) }),
    ];
    for service in stored["properties"]["properties"]["customServices"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let service_name = service["name"].as_str().unwrap_or("service");
        for endpoint in service["endpoints"].as_array().into_iter().flatten() {
            if let Some(port) = endpoint["published"].as_i64() {
                applications.push(json!({
                    "displayName": service_name,
                    "endpointUri": format!("https://{name}-{port}.{location}.instances.azureml.ms"),
                }));
            }
        }
    }
    Json::Array(applications)
}

fn create_managed_cluster(
    tx: &Connection,
    workspace: &WorkspaceRef,
    name: &str,
    compute_key: &str,
    stored: &Json,
    now: i64,
) -> Result<Record, ArmError> {
    let suffix = &digest(compute_key)[..8];
    let cluster_name = format!("{name}-{suffix}");
    let id = UnderlyingId::parse(&format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{cluster_name}",
        workspace.subscription, workspace.group
    ))
    .ok_or_else(|| ArmError::internal("managed cluster id"))?;
    let count = stored["properties"]["properties"]["agentCount"]
        .as_i64()
        .unwrap_or(3);
    let size = stored["properties"]["properties"]["agentVmSize"]
        .as_str()
        .unwrap_or("Standard_D3_v2")
        .to_owned();
    underlying::upsert(
        tx,
        &id,
        json!({
            "location": stored["location"],
            "properties": {
                "fqdn": format!("{cluster_name}-dns.hcp.{}.azmk8s.io", stored["location"].as_str().unwrap_or("eastus")),
                "agentPoolProfiles": [ { "name": "agentpool", "count": count, "vmSize": size } ],
            },
        }),
        now,
    )?;
    let mut record = store::get(tx, &key_of(&id.id()), now)?
        .ok_or_else(|| ArmError::internal("cluster vanished"))?;
    record.meta.created_by_compute = Some(compute_key.to_owned());
    store::put(tx, &record)?;
    Ok(record)
}

fn patch(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
    request: Json,
) -> Result<Reply, ArmError> {
    let request = current_update_shape(request);
    let mut record = existing(tx, ctx, workspace, name)?;
    if record.is_deleting(ctx.now) {
        return Err(ArmError::conflict(format!(
            "compute `{name}` is being deleted"
        )));
    }
    let schema = schema_of(ctx, &record)?;
    let roots: Vec<String> = schema
        .attributes
        .values()
        .filter(|attribute| attribute.update == UpdateMode::Patch)
        .filter_map(|attribute| attribute.arm.as_ref())
        .map(|arm| arm.segments()[..arm.segments().len() - 1].join("."))
        .collect();
    let compute_type = record.body["properties"]["computeType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if roots.is_empty() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "`{compute_type}` computes cannot be updated by PATCH; send a PUT with the whole compute"
            ),
        ));
    }
    let mut leaves = Vec::new();
    collect_leaves(&request, String::new(), &mut leaves);
    if leaves.is_empty() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("the PATCH body changes nothing; send `{}`", roots[0]),
        ));
    }
    for leaf in &leaves {
        if !roots
            .iter()
            .any(|root| leaf.starts_with(&format!("{root}.")))
        {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!("`{leaf}` cannot be changed by PATCH: only `{}` can; change other properties with a PUT (tags) or by recreating the compute", roots[0]),
            )
            .with_target(leaf.clone()));
        }
    }
    body::validate(schema, &request, false)?;
    merge(&mut record.body, &request);
    rules::check_values(&compute_type, &mut record.body)?;
    rules::check_quota(
        tx,
        &ctx.registry,
        schema,
        &record.body,
        &workspace.subscription,
        &record.key,
        ctx.now,
    )?;
    let before = record.clone();
    service_properties(&compute_type, &mut record.body, Some(&before), ctx.now);
    record.body["properties"]["modifiedOn"] = json!(timestamp(ctx.now));
    record.body["systemData"] = system_data(record.meta.created_at, ctx.now);
    record.meta.modified_at = ctx.now;
    store::put(tx, &record)?;
    let headers = begin_operation(
        tx,
        ctx,
        &workspace.subscription,
        &record,
        "patch",
        ctx.now + ctx.delay_ms,
    )?;
    Ok(Reply::json(StatusCode::OK, render(ctx, &record)).with_headers(headers))
}

/// A cluster update body in the current shape. Up to api-version 2020-08-01 `ClusterUpdateParameters`
/// held `properties.scaleSettings`; later versions nest it one level deeper
/// (`properties.properties.scaleSettings`). The old key means nothing in the current shape, so a
/// body with it (and without `properties.properties`) is moved, whatever api-version it names.
fn current_update_shape(mut request: Json) -> Json {
    if let Some(properties) = request.get_mut("properties").and_then(Json::as_object_mut)
        && !properties.contains_key("properties")
        && let Some(scale) = properties.remove("scaleSettings")
    {
        properties.insert("properties".to_owned(), json!({ "scaleSettings": scale }));
    }
    request
}

fn collect_leaves(json: &Json, prefix: String, leaves: &mut Vec<String>) {
    match json.as_object() {
        Some(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                let here = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                collect_leaves(value, here, leaves);
            }
        }
        _ if !prefix.is_empty() => leaves.push(prefix),
        _ => {}
    }
}

fn merge(target: &mut Json, update: &Json) {
    match (target.as_object_mut(), update.as_object()) {
        (Some(target), Some(update)) => {
            for (key, value) in update {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *target = update.clone(),
    }
}

fn delete(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Reply, ArmError> {
    let action = ctx.query("underlyingResourceAction").unwrap_or_default();
    let deleting = if action.eq_ignore_ascii_case("Delete") {
        true
    } else if action.eq_ignore_ascii_case("Detach") {
        false
    } else {
        return Err(ArmError::bad_request(
            "BadRequest",
            "the query parameter `underlyingResourceAction` is required: `Detach` removes only the compute from the workspace, `Delete` also deletes a compute Azure ML created",
        )
        .with_target("underlyingResourceAction"));
    };
    store::workspace(tx, workspace, ctx.now)?;
    let Some(mut record) = store::get(tx, &key_of(&compute_id(workspace, name)), ctx.now)? else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let schema = schema_of(ctx, &record)?;
    let compute_type = record.body["properties"]["computeType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let attached = record.body["properties"]["isAttachedCompute"] == json!(true);
    if deleting && attached {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("compute `{name}` is an attached `{compute_type}`: Azure ML does not delete resources it did not create; use `underlyingResourceAction=Detach` (the resource stays)"),
        )
        .with_target("underlyingResourceAction"));
    }
    if !deleting && !schema.can_attach() {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!("`{compute_type}` computes are created by Azure ML and cannot be detached; use `underlyingResourceAction=Delete`"),
        )
        .with_target("underlyingResourceAction"));
    }
    let done_at = record
        .meta
        .delete_at
        .filter(|at| *at > ctx.now)
        .unwrap_or(ctx.now + ctx.delay_ms);
    if !record.is_deleting(ctx.now) {
        record.meta.delete_at = Some(done_at);
        store::put(tx, &record)?;
        // The cluster of an AKS compute Azure ML created goes with `Delete`; with `Detach` it stays.
        if let Some(parsed) =
            text(&record.body, "properties.resourceId").and_then(UnderlyingId::parse)
            && let Some(mut cluster) = store::get(tx, &key_of(&parsed.id()), ctx.now)?
            && cluster.meta.created_by_compute.as_deref() == Some(record.key.as_str())
        {
            if deleting {
                cluster.meta.delete_at = Some(done_at);
            } else {
                cluster.meta.created_by_compute = None;
            }
            store::put(tx, &cluster)?;
        }
    }
    let headers = begin_operation(tx, ctx, &workspace.subscription, &record, "delete", done_at)?;
    Ok(Reply::empty(StatusCode::ACCEPTED).with_headers(headers))
}

/// `POST …/computes/{name}/{action}`.
pub(crate) fn action(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
    name: &str,
    action: &str,
) -> Result<Reply, ArmError> {
    if *method != Method::POST {
        return Err(method_not_allowed(method));
    }
    let action = action.to_ascii_lowercase();
    let known = ["start", "stop", "restart", "listkeys", "listnodes"];
    if !known.contains(&action.as_str()) {
        return Err(ArmError::not_found(format!(
            "`{action}` is not an action of computes"
        )));
    }
    let record = existing(tx, ctx, workspace, name)?;
    let schema = schema_of(ctx, &record)?;
    match action.as_str() {
        "listkeys" => list_keys(schema, &record),
        "listnodes" => list_nodes(ctx, &record),
        _ => power(tx, ctx, workspace, schema, record, &action),
    }
}

fn list_keys(schema: &ResourceSchema, record: &Record) -> Result<Reply, ArmError> {
    let compute_type = record.body["properties"]["computeType"].clone();
    let mut keys = body::secrets_view(schema, &record.body);
    keys.insert("computeType".to_owned(), compute_type.clone());
    if compute_type == json!("AKS") {
        let cluster = text(&record.body, "properties.resourceId").unwrap_or_default();
        let kubeconfig = |user: &str| {
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: https://{fqdn}:443\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {user}\ncurrent-context: {name}\nusers:\n- name: {user}\n  user:\n    token: {token}\n",
                name = record.name,
                fqdn = record.body["properties"]["properties"]["clusterFqdn"]
                    .as_str()
                    .unwrap_or("cluster.local"),
                token = digest(&format!("{cluster}/{user}")),
            )
        };
        keys.insert(
            "userKubeConfig".to_owned(),
            json!(kubeconfig("clusterUser")),
        );
        keys.insert(
            "adminKubeConfig".to_owned(),
            json!(kubeconfig("clusterAdmin")),
        );
        keys.insert(
            "imagePullSecretName".to_owned(),
            json!(format!("{}-pull-secret", record.name)),
        );
    }
    Ok(Reply::json(StatusCode::OK, Json::Object(keys)))
}

fn list_nodes(ctx: &Ctx, record: &Record) -> Result<Reply, ArmError> {
    let properties = &record.body["properties"]["properties"];
    let count = match record.body["properties"]["computeType"].as_str() {
        Some("AmlCompute") => properties["currentNodeCount"].as_i64().unwrap_or(0),
        Some("ComputeInstance") => i64::from(properties["state"] == json!("Running")),
        other => {
            return Err(ArmError::bad_request(
                "BadRequest",
                format!(
                    "`listNodes` applies to `AmlCompute` and `ComputeInstance` computes, not `{}`",
                    other.unwrap_or_default()
                ),
            ));
        }
    };
    let total = usize::try_from(count).unwrap_or(0);
    let skip = ctx.skip()?;
    let nodes = (skip..total).map(|index| {
        json!({
            "nodeId": format!("tvmps_{}_d", &digest(&format!("{}/{index}", record.key))[..24]),
            "privateIpAddress": format!("10.0.2.{}", index + 4),
            "publicIpAddress": format!("20.85.0.{}", index + 4),
            "port": 50000 + index,
            "nodeState": "idle",
        })
    });
    Ok(Reply::json(
        StatusCode::OK,
        page_of(total, skip, "nodes", nodes, |skip| ctx.next_link(skip)),
    ))
}

fn power(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    schema: &ResourceSchema,
    mut record: Record,
    action: &str,
) -> Result<Reply, ArmError> {
    let actions: Vec<&String> = schema
        .attributes
        .values()
        .filter(|attribute| attribute.update == UpdateMode::Action)
        .flat_map(|attribute| attribute.actions.values())
        .collect();
    let compute_type = record.body["properties"]["computeType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if actions.is_empty()
        || (action != "restart" && !actions.iter().any(|known| known.as_str() == action))
    {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "`{action}` applies to compute instances; compute `{}` is `{compute_type}`",
                record.name
            ),
        ));
    }
    if record.busy(ctx.now) {
        let state = record.view(ctx.now)["properties"]["properties"]["state"]
            .as_str()
            .unwrap_or("busy")
            .to_owned();
        return Err(ArmError::conflict(format!(
            "compute `{}` is `{state}`; retry `{action}` when the current operation has finished",
            record.name
        )));
    }
    let state = get_path(&record.body, &crate::arm::path(INSTANCE_STATE_PATH))
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let transition = match (action, state.as_str()) {
        ("start", "Running") | ("stop", "Stopped") => None,
        ("start", "Stopped") => Some(("Starting", "Running")),
        ("stop", "Running") => Some(("Stopping", "Stopped")),
        ("restart", "Running") => Some(("Restarting", "Running")),
        _ => {
            return Err(ArmError::conflict(format!(
                "compute `{}` is `{state}`: `{action}` is not possible now{}",
                record.name,
                if action == "restart" {
                    "; start it first"
                } else {
                    ""
                }
            )));
        }
    };
    let done_at = if transition.is_some() {
        ctx.now + ctx.delay_ms
    } else {
        ctx.now
    };
    if let Some((during, after)) = transition {
        let provisioning = record.body["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("Succeeded")
            .to_owned();
        set_path(
            &mut record.body,
            &crate::arm::path(INSTANCE_STATE_PATH),
            json!(during),
        );
        record.body["properties"]["properties"]["lastOperation"] = json!({
            "operationName": capitalise(action), "operationTime": timestamp(ctx.now), "operationStatus": "Succeeded", "operationTrigger": "User",
        });
        record.meta.ready_at = Some(done_at);
        record.meta.pending = Some(Pending {
            provisioning_state: provisioning,
            instance_state: Some(after.to_owned()),
        });
        record.meta.modified_at = ctx.now;
        record.settle(ctx.now);
        store::put(tx, &record)?;
    }
    let headers = begin_operation(tx, ctx, &workspace.subscription, &record, action, done_at)?;
    Ok(Reply::empty(StatusCode::ACCEPTED).with_headers(headers))
}

/// Starts the status monitor of an operation on the compute `record`, in its location.
fn begin_operation(
    tx: &Connection,
    ctx: &Ctx,
    subscription: &str,
    record: &Record,
    kind: &str,
    done_at: i64,
) -> Result<Vec<(axum::http::HeaderName, String)>, ArmError> {
    let location = record.body["location"].as_str().unwrap_or_default();
    operations::begin(tx, ctx, subscription, location, &record.key, kind, done_at)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Renders the target of an operation for the `Location` monitor.
pub(crate) fn render_key(tx: &Connection, ctx: &Ctx, key: &str) -> Result<Option<Json>, ArmError> {
    Ok(
        store::get(tx, key, ctx.now)?.map(|record| match record.kind.as_str() {
            COMPUTE_KIND => render(ctx, &record),
            _ => {
                let mut view = record.view(ctx.now);
                if let Some(schema) = ctx.registry.get("azureml_workspace") {
                    body::strip_secrets(schema, &mut view);
                }
                view
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2020_08_01_cluster_update_shape_is_moved_to_the_current_one() {
        let scale = json!({ "maxNodeCount": 4, "minNodeCount": 1 });
        assert_eq!(
            current_update_shape(json!({ "properties": { "scaleSettings": scale } })),
            json!({ "properties": { "properties": { "scaleSettings": scale } } })
        );
        let current = json!({ "properties": { "properties": { "scaleSettings": scale } } });
        assert_eq!(current_update_shape(current.clone()), current);
        let both = json!({ "properties": { "properties": {}, "scaleSettings": scale } });
        assert_eq!(current_update_shape(both.clone()), both);
        assert_eq!(
            current_update_shape(json!({ "tags": {} })),
            json!({ "tags": {} })
        );
    }
}
