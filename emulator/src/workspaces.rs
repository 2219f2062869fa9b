//! Resource groups (synchronous PUT/GET) and workspaces (PUT, GET, PATCH, DELETE, list by group and
//! by subscription, `listKeys`), validated against the catalogue's `azureml_workspace` schema.
//!
//! | call | answer |
//! |---|---|
//! | PUT group | 201 created / 200 updated |
//! | PUT workspace | 202 + `Azure-AsyncOperation`, `Location`, `Retry-After`; body shows `Creating`/`Updating` until the provisioning delay passes. The body is stored as given, schema defaults filled in (system-assigned identity, public network access, …), plus what the service computes: identity principal ids, the ids of the associated resources it provisions when the request names none (storage account, key vault, Application Insights, container registry: ids only, the emulator serves no such resources), managed network id, private link count |
//! | PATCH workspace | 200, applied at once (`tags`, `sku`, `identity`, `properties`) |
//! | DELETE workspace | 202 + polling headers (its computes go with it; attached resources stay); 204 when absent |
//! | POST listKeys | 200 with keys derived from the workspace id |

use axum::http::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Value as Json, json};

use crate::arm::{
    ArmError, Reply, WorkspaceRef, digest, group_id, key_of, method_not_allowed, new_guid, page,
    system_data,
};
use crate::body;
use crate::context::Ctx;
use crate::operations;
use crate::store::{self, Meta, Pending, Record};

/// Stored kind of resource groups.
pub(crate) const GROUP_KIND: &str = "resourcegroups";
/// Stored kind of workspaces.
pub(crate) const WORKSPACE_KIND: &str = "microsoft.machinelearningservices/workspaces";
const WORKSPACE_TYPE: &str = "Microsoft.MachineLearningServices/workspaces";
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
    "kind",
];
const PATCHABLE: &[&str] = &["tags", "sku", "identity", "properties"];

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

/// Creates or updates a resource group; true when it was created.
pub(crate) fn put_group(
    tx: &Connection,
    subscription: &str,
    group: &str,
    request: &Json,
    now: i64,
) -> Result<bool, ArmError> {
    let id = group_id(subscription, group);
    let key = key_of(&id);
    let previous = store::get(tx, &key, now)?;
    let location = request
        .get("location")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            ArmError::bad_request("LocationRequired", "`location` is required")
                .with_target("location")
        })?;
    let mut body = json!({
        "id": id,
        "name": group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": { "provisioningState": "Succeeded" },
    });
    if let Some(tags) = request.get("tags").filter(|tags| tags.is_object()) {
        body["tags"] = tags.clone();
    }
    store::put(
        tx,
        &Record {
            key,
            id,
            kind: GROUP_KIND.to_owned(),
            parent: key_of(&format!("/subscriptions/{subscription}")),
            subscription: subscription.to_ascii_lowercase(),
            name: group.to_owned(),
            body,
            meta: Meta {
                created_at: previous
                    .as_ref()
                    .map_or(now, |record| record.meta.created_at),
                modified_at: now,
                ..Meta::default()
            },
        },
    )?;
    Ok(previous.is_none())
}

/// `…/resourceGroups/{g}`.
pub(crate) fn group(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    subscription: &str,
    group: &str,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    match *method {
        Method::PUT => {
            let request = parse_body(bytes)?;
            let created = put_group(tx, subscription, group, &request, ctx.now)?;
            let record = store::get(tx, &key_of(&group_id(subscription, group)), ctx.now)?
                .ok_or_else(|| ArmError::internal("group vanished"))?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(Reply::json(status, record.view(ctx.now)))
        }
        Method::GET => store::get(tx, &key_of(&group_id(subscription, group)), ctx.now)?
            .map(|record| Reply::json(StatusCode::OK, record.view(ctx.now)))
            .ok_or_else(|| group_not_found(group)),
        _ => Err(method_not_allowed(method)),
    }
}

fn group_not_found(group: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("resource group `{group}` could not be found"),
    )
}

fn render(ctx: &Ctx, record: &Record) -> Json {
    let mut view = record.view(ctx.now);
    if let Some(schema) = ctx.registry.get("azureml_workspace") {
        body::strip_secrets(schema, &mut view);
    }
    view
}

/// Lists workspaces of a group or a subscription.
pub(crate) fn list(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    subscription: &str,
    group: Option<&str>,
) -> Result<Reply, ArmError> {
    if *method != Method::GET {
        return Err(method_not_allowed(method));
    }
    let records = match group {
        Some(group) => {
            let key = key_of(&group_id(subscription, group));
            if store::get(tx, &key, ctx.now)?.is_none() {
                return Err(group_not_found(group));
            }
            store::children(tx, &key, WORKSPACE_KIND, ctx.now)?
        }
        None => store::in_subscription(
            tx,
            &subscription.to_ascii_lowercase(),
            WORKSPACE_KIND,
            ctx.now,
        )?,
    };
    let items = records.iter().map(|record| render(ctx, record)).collect();
    Ok(Reply::json(
        StatusCode::OK,
        page(items, ctx.skip()?, "value", |skip| ctx.next_link(skip)),
    ))
}

/// `…/workspaces/{w}`.
pub(crate) fn workspace(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    match *method {
        Method::GET => Ok(Reply::json(
            StatusCode::OK,
            render(ctx, &store::workspace(tx, workspace, ctx.now)?),
        )),
        Method::PUT => put_workspace(tx, ctx, workspace, parse_body(bytes)?),
        Method::PATCH => patch_workspace(tx, ctx, workspace, parse_body(bytes)?),
        Method::DELETE => delete_workspace(tx, ctx, workspace),
        _ => Err(method_not_allowed(method)),
    }
}

fn valid_workspace_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric());
    first_ok
        && (3..=33).contains(&name.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn put_workspace(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    mut request: Json,
) -> Result<Reply, ArmError> {
    let schema = ctx
        .registry
        .get("azureml_workspace")
        .ok_or_else(|| ArmError::internal("the catalogue has no `azureml_workspace`"))?;
    body::refuse_unknown_keys(&request, ENVELOPE, "")?;
    if !valid_workspace_name(&workspace.name) {
        return Err(ArmError::bad_request(
            "ValidationError",
            format!(
                "workspace name `{}` is invalid: 3 to 33 letters, digits, `_` or `-`, starting with a letter or digit",
                workspace.name
            ),
        ));
    }
    let group_key = key_of(&group_id(&workspace.subscription, &workspace.group));
    let group =
        store::get(tx, &group_key, ctx.now)?.ok_or_else(|| group_not_found(&workspace.group))?;
    let key = key_of(&workspace.id());
    let previous = store::get(tx, &key, ctx.now)?;
    if let Some(previous) = &previous {
        if previous.is_deleting(ctx.now) {
            return Err(ArmError::conflict(format!(
                "workspace `{}` is being deleted; retry when the deletion has finished",
                workspace.name
            )));
        }
        body::carry_over(schema, &previous.body, &mut request);
        if let Some(path) = body::forbidden_change(schema, &previous.body, &request) {
            return Err(ArmError::bad_request("Conflict", format!("`{path}` of workspace `{}` cannot be changed in place; delete and create the workspace again", workspace.name)).with_target(path));
        }
    }
    if request.get("location").is_none_or(Json::is_null)
        && let Some(location) = group.body.get("location")
    {
        request["location"] = location.clone();
    }
    body::validate(schema, &request, previous.is_none())?;

    let mut properties = request
        .get("properties")
        .cloned()
        .filter(Json::is_object)
        .unwrap_or_else(|| json!({}));
    let workspace_id = previous
        .as_ref()
        .and_then(|record| {
            record.body["properties"]["workspaceId"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(new_guid);
    let location = request["location"].as_str().unwrap_or("eastus").to_owned();
    properties["workspaceId"] = json!(workspace_id);
    properties["discoveryUrl"] = json!(format!("{}/discovery", ctx.base_url));
    properties["mlFlowTrackingUri"] = json!(format!(
        "azureml://{location}.api.azureml.ms/mlflow/v1.0{}",
        workspace.id()
    ));
    properties["tenantId"] = json!(crate::DEMO_TENANT);
    let (working, pending) = if previous.is_some() {
        ("Updating", "Succeeded")
    } else {
        ("Creating", "Succeeded")
    };
    properties["provisioningState"] = json!(working);
    let created_at = previous
        .as_ref()
        .map_or(ctx.now, |record| record.meta.created_at);
    let mut stored = json!({
        "id": workspace.id(),
        "name": workspace.name,
        "type": WORKSPACE_TYPE,
        "location": location,
        "properties": properties,
        "systemData": system_data(created_at, ctx.now),
    });
    for field in ["tags", "sku", "identity", "kind"] {
        if let Some(value) = request.get(field).filter(|value| !value.is_null()) {
            stored[field] = value.clone();
        }
    }
    body::fill_defaults(schema, &mut stored);
    service_properties(
        &mut stored,
        previous.as_ref().map(|record| &record.body),
        workspace,
    );
    let done_at = ctx.now + ctx.delay_ms;
    let record = Record {
        key: key.clone(),
        id: workspace.id(),
        kind: WORKSPACE_KIND.to_owned(),
        parent: group_key,
        subscription: workspace.subscription.to_ascii_lowercase(),
        name: workspace.name.clone(),
        body: stored,
        meta: Meta {
            created_at,
            modified_at: ctx.now,
            ready_at: Some(done_at),
            pending: Some(Pending {
                provisioning_state: pending.to_owned(),
                instance_state: None,
            }),
            ..Meta::default()
        },
    };
    let mut record = record;
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
    Ok(Reply::json(StatusCode::ACCEPTED, render(ctx, &record)).with_headers(headers))
}

/// Read-only properties the service reports, kept from `previous` where they are stable: the
/// identities' principal ids, the associated resources it provisions when the request names none
/// (storage account, key vault, Application Insights, container registry, in the workspace's
/// group), the managed network's id, private endpoint connections (none: the emulator makes none)
/// and the resource group of service-provisioned resources.
fn service_properties(stored: &mut Json, previous: Option<&Json>, workspace: &WorkspaceRef) {
    let kept = |path: &str| {
        previous
            .and_then(|previous| previous.pointer(path))
            .filter(|value| !value.is_null())
            .cloned()
    };
    let workspace_id = stored["properties"]["workspaceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if let Some(identity) = stored
        .get_mut("identity")
        .filter(|identity| identity.is_object())
    {
        let kind = identity["type"].as_str().unwrap_or_default().to_owned();
        if kind.contains("SystemAssigned") {
            identity["principalId"] = kept("/identity/principalId")
                .unwrap_or_else(|| json!(derived_guid(&format!("{workspace_id}/identity"))));
            identity["tenantId"] = json!(crate::DEMO_TENANT);
        } else {
            let entries = identity.as_object_mut().expect("an object");
            entries.remove("principalId");
            entries.remove("tenantId");
        }
        if let Some(Json::Object(assigned)) = identity.get_mut("userAssignedIdentities") {
            // A user-assigned identity's ids belong to the identity resource: derived from its id.
            for (id, entry) in assigned.iter_mut() {
                if !entry.is_object() {
                    *entry = json!({});
                }
                let id = id.to_ascii_lowercase();
                entry["principalId"] = json!(derived_guid(&format!("{id}/principal")));
                entry["clientId"] = json!(derived_guid(&format!("{id}/client")));
            }
        }
    }
    let group = group_id(&workspace.subscription, &workspace.group);
    let short: String = workspace
        .name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let suffix = &digest(&workspace_id)[..8];
    let associated = [
        (
            "storageAccount",
            format!("Microsoft.Storage/storageAccounts/{short}{suffix}"),
        ),
        (
            "keyVault",
            format!("Microsoft.KeyVault/vaults/kv{short}{suffix}"),
        ),
        (
            "applicationInsights",
            format!("Microsoft.Insights/components/{}{suffix}", workspace.name),
        ),
        (
            "containerRegistry",
            format!("Microsoft.ContainerRegistry/registries/{short}{suffix}"),
        ),
    ];
    let properties = &mut stored["properties"];
    for (field, resource) in associated {
        if properties[field].as_str().is_none_or(str::is_empty) {
            properties[field] = kept(&format!("/properties/{field}"))
                .unwrap_or_else(|| json!(format!("{group}/providers/{resource}")));
        }
    }
    if let Some(network) = properties
        .get_mut("managedNetwork")
        .filter(|network| network.is_object())
    {
        network["networkId"] = kept("/properties/managedNetwork/networkId")
            .unwrap_or_else(|| json!(derived_guid(&format!("{workspace_id}/network"))));
        if network.get("status").is_none_or(Json::is_null) {
            network["status"] = json!({ "status": "Inactive", "sparkReady": false });
        }
    }
    let connections = kept("/properties/privateEndpointConnections").unwrap_or_else(|| json!([]));
    properties["privateLinkCount"] = json!(connections.as_array().map_or(0, Vec::len));
    properties["privateEndpointConnections"] = connections;
    properties["serviceProvisionedResourceGroup"] = json!(format!(
        "azureml-rg-{}_{}",
        workspace.name,
        &digest(&workspace_id)[..16]
    ));
    properties["storageHnsEnabled"] = json!(false);
}

/// A GUID-shaped id derived from `seed` (stable across restarts and PUTs).
fn derived_guid(seed: &str) -> String {
    let hex = digest(seed);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn patch_workspace(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    request: Json,
) -> Result<Reply, ArmError> {
    let schema = ctx
        .registry
        .get("azureml_workspace")
        .ok_or_else(|| ArmError::internal("the catalogue has no `azureml_workspace`"))?;
    body::refuse_unknown_keys(&request, PATCHABLE, "")?;
    let mut record = store::workspace(tx, workspace, ctx.now)?;
    if record.is_deleting(ctx.now) {
        return Err(ArmError::conflict(format!(
            "workspace `{}` is being deleted",
            workspace.name
        )));
    }
    body::validate(schema, &request, false)?;
    for field in ["tags", "sku", "identity"] {
        if let Some(value) = request.get(field) {
            record.body[field] = value.clone();
        }
    }
    if let Some(Json::Object(properties)) = request.get("properties") {
        for (name, value) in properties {
            record.body["properties"][name] = value.clone();
        }
    }
    let before = record.body.clone();
    service_properties(&mut record.body, Some(&before), workspace);
    record.meta.modified_at = ctx.now;
    record.body["systemData"] = system_data(record.meta.created_at, ctx.now);
    store::put(tx, &record)?;
    Ok(Reply::json(StatusCode::OK, render(ctx, &record)))
}

fn delete_workspace(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
) -> Result<Reply, ArmError> {
    let key = key_of(&workspace.id());
    let Some(mut record) = store::get(tx, &key, ctx.now)? else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    let done_at = ctx.now + ctx.delay_ms;
    if !record.is_deleting(ctx.now) {
        record.meta.delete_at = Some(done_at);
        store::put(tx, &record)?;
        for mut compute in store::children(tx, &key, store::COMPUTE_KIND, ctx.now)? {
            if !compute.is_deleting(ctx.now) {
                compute.meta.delete_at = Some(done_at);
                store::put(tx, &compute)?;
            }
        }
    }
    let location = record.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let headers = operations::begin(
        tx,
        ctx,
        &workspace.subscription,
        &location,
        &key,
        "delete",
        done_at,
    )?;
    Ok(Reply::empty(StatusCode::ACCEPTED).with_headers(headers))
}

/// `POST …/workspaces/{w}/listKeys`.
pub(crate) fn action(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
    action: &str,
) -> Result<Reply, ArmError> {
    if !action.eq_ignore_ascii_case("listKeys") {
        return Err(ArmError::not_found(format!(
            "`{action}` is not an action of workspaces"
        )));
    }
    if *method != Method::POST {
        return Err(method_not_allowed(method));
    }
    let record = store::workspace(tx, workspace, ctx.now)?;
    let seed = record.body["properties"]["workspaceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = |label: &str| digest(&format!("{seed}/{label}"));
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "userStorageKey": key("storage"),
            "userStorageResourceId": record.body["properties"]["storageAccount"],
            "appInsightsInstrumentationKey": key("insights"),
            "containerRegistryCredentials": {
                "location": record.body["location"],
                "username": workspace.name,
                "passwords": [ { "name": "password", "value": key("acr1") }, { "name": "password2", "value": key("acr2") } ],
            },
            "notebookAccessKeys": { "primaryAccessKey": key("nb1"), "secondaryAccessKey": key("nb2") },
        }),
    ))
}
