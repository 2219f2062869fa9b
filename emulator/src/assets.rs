//! Code and environment assets: containers and immutable versions, one handler set for both kinds
//! (schema-light: bodies are stored as given, with the required fields checked and the read-only
//! fields the service computes filled in).
//!
//! | call | answer |
//! |---|---|
//! | GET `{WS}/{codes\|environments}[?$skip&listViewType]` | 200 paged containers (`listViewType` `ActiveOnly` (default) / `ArchivedOnly` / `All` on `isArchived`) |
//! | GET / PUT / DELETE `…/{name}` | container; PUT 201 created / 200 updated; DELETE 200 (its versions go too) / 204 absent |
//! | GET `…/{name}/versions[?$skip&$orderBy&$top&listViewType&hash&hashVersion]` | 200 paged versions; `$orderBy` `createdtime asc\|desc` or `version asc\|desc` (default: creation order); `hash`/`hashVersion` match `properties.properties.hash_sha256`/`hash_version` |
//! | GET / PUT / DELETE `…/{name}/versions/{version}` | version; PUT 201 / 200 (creates the container when missing); a re-PUT that changes a create-only field → 409 `Conflict` naming the fields |
//! | POST `{WS}/codes/{name}/versions/{version}/startPendingUpload` | 200 `PendingUploadResponseDto` (`blobs`) |
//!
//! Create-only fields: code `codeUri`, `isAnonymous`; environment `image`, `condaFile`, `build`,
//! `osType`, `inferenceConfig`, `autoRebuild`, `isAnonymous`, `environmentVariables`. Mutable:
//! `description`, `tags`, `properties`, `isArchived`, `stage`.
//! An environment version needs `image` or `build.contextUri` (400 without either; the spec's
//! example sends both and the service accepts it, so both are accepted).
//! `properties.environmentVariables` (a map) is an emulator extension: jobs on the version get them.
//!
//! Containers report `latestVersion` (the last created version) and `nextVersion` (one more than
//! the largest numeric version, `1` when none). Curated environments ([`CURATED`]) exist in every
//! workspace (read-only, `environmentType: Curated`, not listed).

use axum::http::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Map, Value as Json, json};

use crate::arm::{
    ArmError, ML_PROVIDER, Reply, WorkspaceRef, key_of, method_not_allowed, page, system_data,
};
use crate::body::{parse_body, properties_of};
use crate::context::Ctx;
use crate::store::{self, Meta, Record};

/// One asset kind.
pub(crate) struct AssetKind {
    /// Path segment: `codes` or `environments`.
    pub collection: &'static str,
    /// What messages call it.
    noun: &'static str,
    create_only: &'static [&'static str],
}

/// Code assets.
pub(crate) const CODE: AssetKind = AssetKind {
    collection: "codes",
    noun: "code",
    create_only: &["codeUri", "isAnonymous"],
};

/// Environment assets.
pub(crate) const ENVIRONMENT: AssetKind = AssetKind {
    collection: "environments",
    noun: "environment",
    create_only: &[
        "image",
        "condaFile",
        "build",
        "osType",
        "inferenceConfig",
        "autoRebuild",
        "isAnonymous",
        "environmentVariables",
    ],
};

/// Curated environments every workspace has: `(name, version, image, description)`.
pub(crate) const CURATED: &[(&str, &str, &str, &str)] = &[
    (
        "AzureML-sklearn-1.5",
        "1",
        "mcr.microsoft.com/azureml/curated/sklearn-1.5:1",
        "An environment for tasks such as regression, clustering, and classification with Scikit-learn. Contains the Azure ML SDK and other Python packages.",
    ),
    (
        "AzureML-lightgbm-3.3",
        "1",
        "mcr.microsoft.com/azureml/curated/lightgbm-3.3:1",
        "An environment for machine learning with LightGBM and Scikit-learn.",
    ),
];

impl AssetKind {
    fn container_kind(&self) -> String {
        format!(
            "{}/workspaces/{}",
            ML_PROVIDER.to_ascii_lowercase(),
            self.collection
        )
    }

    fn version_kind(&self) -> String {
        format!("{}/versions", self.container_kind())
    }

    fn container_type(&self) -> String {
        format!("{ML_PROVIDER}/workspaces/{}", self.collection)
    }

    fn container_id(&self, workspace: &WorkspaceRef, name: &str) -> String {
        format!("{}/{}/{name}", workspace.id(), self.collection)
    }

    fn version_id(&self, workspace: &WorkspaceRef, name: &str, version: &str) -> String {
        format!("{}/versions/{version}", self.container_id(workspace, name))
    }

    fn curated(
        &self,
        name: &str,
    ) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
        if self.collection != "environments" {
            return None;
        }
        CURATED
            .iter()
            .find(|entry| entry.0.eq_ignore_ascii_case(name))
    }
}

/// Routes `{WS}/{codes|environments}/…`.
pub(crate) fn handle(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    rest: &[String],
    body: &[u8],
) -> Result<Reply, ArmError> {
    let workspace_record = store::workspace(tx, workspace, ctx.now)?;
    match (rest, method.clone()) {
        ([], Method::GET) => list_containers(tx, ctx, kind, &workspace_record),
        ([name], Method::GET) => get_container(tx, ctx, kind, workspace, name),
        ([name], Method::PUT) => {
            put_container(tx, ctx, kind, workspace, &workspace_record, name, body)
        }
        ([name], Method::DELETE) => delete_container(tx, ctx, kind, workspace, name),
        ([name, versions], Method::GET) if versions.eq_ignore_ascii_case("versions") => {
            list_versions(tx, ctx, kind, workspace, name)
        }
        ([name, versions, version], Method::GET) if versions.eq_ignore_ascii_case("versions") => {
            Ok(Reply::json(
                StatusCode::OK,
                get_version(tx, ctx.now, kind, workspace, name, version)?,
            ))
        }
        ([name, versions, version], Method::PUT) if versions.eq_ignore_ascii_case("versions") => {
            put_version(
                tx,
                ctx,
                kind,
                workspace,
                &workspace_record,
                name,
                version,
                body,
            )
        }
        ([name, versions, version], Method::DELETE)
            if versions.eq_ignore_ascii_case("versions") =>
        {
            delete_version(tx, ctx, kind, workspace, name, version)
        }
        ([name, versions, version, action], Method::POST)
            if versions.eq_ignore_ascii_case("versions")
                && kind.collection == "codes"
                && action.eq_ignore_ascii_case("startPendingUpload") =>
        {
            let request = if body.is_empty() {
                json!({})
            } else {
                parse_body(body)?
            };
            let answer = crate::blobs::start_pending_upload(
                tx,
                ctx,
                &workspace_record,
                &request,
                &format!("{name}/{version}"),
            )?;
            Ok(Reply::json(StatusCode::OK, answer))
        }
        ([_, versions, _, action], Method::POST)
            if versions.eq_ignore_ascii_case("versions")
                && action.eq_ignore_ascii_case("publish") =>
        {
            Err(ArmError::bad_request(
                "BadRequest",
                "publishing assets to a registry is not emulated",
            ))
        }
        ([], _) | ([_], _) | ([_, _], _) | ([_, _, _], _) => Err(method_not_allowed(method)),
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "no ARM route matches `{}` under `{}`",
                rest.join("/"),
                kind.collection
            ),
        )),
    }
}

/// The view filter of `listViewType`.
fn view_filter(ctx: &Ctx) -> Result<fn(&Json) -> bool, ArmError> {
    fn archived(body: &Json) -> bool {
        body["properties"]["isArchived"].as_bool().unwrap_or(false)
    }
    match ctx
        .query("listViewType")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("activeonly") => Ok(|body| !archived(body)),
        Some("archivedonly") => Ok(archived),
        Some("all") => Ok(|_| true),
        Some(other) => Err(ArmError::bad_request(
            "InvalidQueryParameterValue",
            format!("`listViewType` must be `ActiveOnly`, `ArchivedOnly` or `All`, not `{other}`"),
        )),
    }
}

fn render(record: &Record) -> Json {
    let mut view = record.body.clone();
    view["systemData"] = system_data(record.meta.created_at, record.meta.modified_at);
    view
}

fn render_container(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    record: &Record,
) -> Result<Json, ArmError> {
    let versions = store::children(tx, &record.key, &kind.version_kind(), ctx.now)?;
    let mut view = render(record);
    let properties = &mut view["properties"];
    if let Some(latest) = versions
        .iter()
        .max_by_key(|version| (version.meta.created_at, version_number(&version.name)))
    {
        properties["latestVersion"] = json!(latest.name);
    }
    let next = versions
        .iter()
        .filter_map(|version| version_number(&version.name))
        .max()
        .map_or(1, |max| max + 1);
    properties["nextVersion"] = json!(next.to_string());
    properties["provisioningState"] = json!("Succeeded");
    Ok(view)
}

fn version_number(version: &str) -> Option<u64> {
    version.parse().ok()
}

fn list_containers(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &Record,
) -> Result<Reply, ArmError> {
    let keep = view_filter(ctx)?;
    let mut items = Vec::new();
    for record in store::children(tx, &workspace.key, &kind.container_kind(), ctx.now)? {
        let view = render_container(tx, ctx, kind, &record)?;
        if keep(&view) {
            items.push(view);
        }
    }
    Ok(Reply::json(
        StatusCode::OK,
        page(items, ctx.skip()?, "value", |skip| ctx.next_link(skip)),
    ))
}

fn container_record(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Option<Record>, ArmError> {
    store::get(tx, &key_of(&kind.container_id(workspace, name)), ctx.now)
}

fn get_container(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Reply, ArmError> {
    if let Some(curated) = kind.curated(name) {
        let id = kind.container_id(workspace, curated.0);
        return Ok(Reply::json(
            StatusCode::OK,
            json!({
                "id": id, "name": curated.0, "type": kind.container_type(),
                "properties": { "description": curated.3, "tags": {}, "properties": {}, "isArchived": false,
                    "latestVersion": curated.1, "nextVersion": (version_number(curated.1).unwrap_or(0) + 1).to_string(), "provisioningState": "Succeeded" },
                "systemData": system_data(0, 0),
            }),
        ));
    }
    let record = container_record(tx, ctx, kind, workspace, name)?.ok_or_else(|| {
        ArmError::not_found(format!(
            "{} container `{name}` was not found in workspace `{}`",
            kind.noun, workspace.name
        ))
    })?;
    Ok(Reply::json(
        StatusCode::OK,
        render_container(tx, ctx, kind, &record)?,
    ))
}

/// Read-only fields a client may send back; the service computes them.
const CONTAINER_READ_ONLY: &[&str] = &["latestVersion", "nextVersion", "provisioningState"];
const VERSION_READ_ONLY: &[&str] = &["provisioningState", "environmentType"];

fn refuse_curated(kind: &AssetKind, name: &str) -> Result<(), ArmError> {
    if let Some(curated) = kind.curated(name) {
        return Err(ArmError::bad_request(
            "BadRequest",
            format!(
                "`{}` is a curated environment: curated environments are read-only; choose another name",
                curated.0
            ),
        ));
    }
    Ok(())
}

fn put_container(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    refuse_curated(kind, name)?;
    let body = parse_body(bytes)?;
    let mut properties = properties_of(&body)?;
    for field in CONTAINER_READ_ONLY {
        properties.remove(*field);
    }
    properties.entry("isArchived").or_insert(json!(false));
    let existing = container_record(tx, ctx, kind, workspace, name)?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let record = write_container(
        tx,
        ctx,
        kind,
        workspace,
        workspace_record,
        name,
        properties,
        existing,
    )?;
    Ok(Reply::json(
        status,
        render_container(tx, ctx, kind, &record)?,
    ))
}

#[allow(clippy::too_many_arguments, reason = "the parts of one write")]
fn write_container(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
    properties: Map<String, Json>,
    existing: Option<Record>,
) -> Result<Record, ArmError> {
    let id = kind.container_id(workspace, name);
    let name = existing
        .as_ref()
        .map_or(name, |record| record.name.as_str())
        .to_owned();
    let meta = Meta {
        created_at: existing
            .as_ref()
            .map_or(ctx.now, |record| record.meta.created_at),
        modified_at: ctx.now,
        ..Meta::default()
    };
    let record = Record {
        key: key_of(&id),
        body: json!({ "id": id, "name": name, "type": kind.container_type(), "properties": properties }),
        id,
        kind: kind.container_kind(),
        parent: workspace_record.key.clone(),
        subscription: workspace.subscription.to_ascii_lowercase(),
        name,
        meta,
    };
    store::put(tx, &record)?;
    Ok(record)
}

fn delete_container(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Reply, ArmError> {
    refuse_curated(kind, name)?;
    let Some(record) = container_record(tx, ctx, kind, workspace, name)? else {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    };
    for version in store::children(tx, &record.key, &kind.version_kind(), ctx.now)? {
        store::remove(tx, &version.key)?;
    }
    store::remove(tx, &record.key)?;
    Ok(Reply::empty(StatusCode::OK))
}

fn list_versions(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Reply, ArmError> {
    let keep = view_filter(ctx)?;
    let mut records = match container_record(tx, ctx, kind, workspace, name)? {
        Some(container) => store::children(tx, &container.key, &kind.version_kind(), ctx.now)?,
        None => Vec::new(),
    };
    let hash = ctx.query("hash").map(str::to_ascii_lowercase);
    let hash_version = ctx.query("hashVersion").map(str::to_owned);
    records.retain(|record| {
        let properties = &record.body["properties"]["properties"];
        keep(&record.body)
            && hash.as_ref().is_none_or(|hash| {
                properties["hash_sha256"]
                    .as_str()
                    .is_some_and(|found| found.eq_ignore_ascii_case(hash))
            })
            && hash_version
                .as_ref()
                .is_none_or(|wanted| properties["hash_version"].as_str() == Some(wanted.as_str()))
    });
    if let Some(order) = ctx.query("$orderBy") {
        let words: Vec<String> = order
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let descending = match words.get(1).map(String::as_str) {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(order_error(other)),
        };
        match words.first().map(String::as_str) {
            Some("createdtime" | "createdat" | "properties/createdtime") => {
                records.sort_by_key(|record| record.meta.created_at)
            }
            Some("version" | "name") => {
                records.sort_by(
                    |a, b| match (version_number(&a.name), version_number(&b.name)) {
                        (Some(x), Some(y)) => x.cmp(&y),
                        _ => a.name.cmp(&b.name),
                    },
                )
            }
            _ => return Err(order_error(order)),
        }
        if descending {
            records.reverse();
        }
    }
    if let Some(top) = ctx.query("$top") {
        let top: usize = top.parse().map_err(|_| {
            ArmError::bad_request(
                "InvalidQueryParameterValue",
                format!("`$top` must be a non-negative integer, not `{top}`"),
            )
        })?;
        records.truncate(top);
    }
    let items = records.iter().map(render).collect();
    Ok(Reply::json(
        StatusCode::OK,
        page(items, ctx.skip()?, "value", |skip| ctx.next_link(skip)),
    ))
}

fn order_error(order: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidQueryParameterValue",
        format!(
            "`$orderBy` must be `createdtime` or `version`, optionally followed by `asc` or `desc`, not `{order}`"
        ),
    )
}

fn curated_version(
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
    version: &str,
) -> Option<Json> {
    let curated = kind.curated(name)?;
    (curated.1 == version).then(|| {
        json!({
            "id": kind.version_id(workspace, curated.0, curated.1), "name": curated.1,
            "type": format!("{}/versions", kind.container_type()),
            "properties": { "description": curated.3, "tags": {}, "properties": {}, "isAnonymous": false, "isArchived": false,
                "environmentType": "Curated", "image": curated.2, "osType": "Linux", "autoRebuild": "Disabled", "provisioningState": "Succeeded" },
            "systemData": system_data(0, 0),
        })
    })
}

/// A version as GET returns it (curated environments included), or a 404.
pub(crate) fn get_version(
    tx: &Connection,
    now: i64,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
    version: &str,
) -> Result<Json, ArmError> {
    if let Some(curated) = curated_version(kind, workspace, name, version) {
        return Ok(curated);
    }
    store::get(tx, &key_of(&kind.version_id(workspace, name, version)), now)?
        .map(|record| render(&record))
        .ok_or_else(|| {
            ArmError::not_found(format!(
                "version `{version}` of {} `{name}` was not found in workspace `{}`",
                kind.noun, workspace.name
            ))
        })
}

fn defaults(kind: &AssetKind, properties: &mut Map<String, Json>) {
    // A `null` is the same as leaving the field out.
    properties.retain(|_, value| !value.is_null());
    properties.entry("isAnonymous").or_insert(json!(false));
    properties.entry("isArchived").or_insert(json!(false));
    if kind.collection == "environments" {
        properties.entry("osType").or_insert(json!("Linux"));
        properties.entry("autoRebuild").or_insert(json!("Disabled"));
        properties.insert("environmentType".to_owned(), json!("UserCreated"));
    }
    properties.insert("provisioningState".to_owned(), json!("Succeeded"));
}

fn validate_version(kind: &AssetKind, properties: &Map<String, Json>) -> Result<(), ArmError> {
    let text = |field: &str| {
        properties
            .get(field)
            .and_then(Json::as_str)
            .filter(|value| !value.is_empty())
    };
    for field in ["description", "codeUri", "image", "condaFile", "stage"] {
        if properties
            .get(field)
            .is_some_and(|value| !value.is_string())
        {
            return Err(ArmError::bad_request(
                "ValidationError",
                format!("`properties.{field}` must be a string"),
            )
            .with_target(format!("properties.{field}")));
        }
    }
    for field in ["tags", "properties", "environmentVariables"] {
        if let Some(map) = properties.get(field)
            && !map
                .as_object()
                .is_some_and(|map| map.values().all(Json::is_string))
        {
            return Err(ArmError::bad_request(
                "ValidationError",
                format!("`properties.{field}` must be a map of strings"),
            )
            .with_target(format!("properties.{field}")));
        }
    }
    if kind.collection != "environments" {
        return Ok(());
    }
    let build = properties.get("build");
    if build.is_some_and(|build| build["contextUri"].as_str().is_none_or(str::is_empty)) {
        return Err(ArmError::bad_request("ValidationError", "`properties.build.contextUri` is required when `build` is given (the Docker build context's blob or git URI)").with_target("properties.build.contextUri"));
    }
    if text("image").is_none() && build.is_none() {
        return Err(ArmError::bad_request(
            "ValidationError",
            "an environment version needs a Docker image (`properties.image`) or a Docker build context (`properties.build.contextUri`); a conda file alone is not enough",
        ));
    }
    if let Some(os) = properties.get("osType")
        && !matches!(os.as_str(), Some("Linux" | "Windows"))
    {
        return Err(ArmError::bad_request(
            "ValidationError",
            format!("`properties.osType` must be `Linux` or `Windows`, not {os}"),
        )
        .with_target("properties.osType"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments, reason = "the parts of one write")]
fn put_version(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
    version: &str,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    refuse_curated(kind, name)?;
    let body = parse_body(bytes)?;
    let mut properties = properties_of(&body)?;
    for field in VERSION_READ_ONLY {
        properties.remove(*field);
    }
    validate_version(kind, &properties)?;
    defaults(kind, &mut properties);
    let id = kind.version_id(workspace, name, version);
    let key = key_of(&id);
    let existing = store::get(tx, &key, ctx.now)?;
    if let Some(existing) = &existing {
        let stored = &existing.body["properties"];
        let changed: Vec<String> = kind
            .create_only
            .iter()
            .filter(|field| stored.get(**field) != properties.get(**field))
            .map(|field| format!("`{field}`"))
            .collect();
        if !changed.is_empty() {
            return Err(ArmError::conflict(format!(
                "version `{version}` of {} `{name}` is immutable: {} cannot change (only description, tags, properties, isArchived and stage can); create a new version instead",
                kind.noun,
                changed.join(", ")
            )));
        }
    }
    let container = match container_record(tx, ctx, kind, workspace, name)? {
        Some(container) => container,
        None => write_container(
            tx,
            ctx,
            kind,
            workspace,
            workspace_record,
            name,
            Map::from_iter([("isArchived".to_owned(), json!(false))]),
            None,
        )?,
    };
    let version_name = existing
        .as_ref()
        .map_or(version, |record| record.name.as_str())
        .to_owned();
    let record = Record {
        key,
        body: json!({ "id": id, "name": version_name, "type": format!("{}/versions", kind.container_type()), "properties": properties }),
        id,
        kind: kind.version_kind(),
        parent: container.key,
        subscription: workspace.subscription.to_ascii_lowercase(),
        name: version_name,
        meta: Meta {
            created_at: existing
                .as_ref()
                .map_or(ctx.now, |record| record.meta.created_at),
            modified_at: ctx.now,
            ..Meta::default()
        },
    };
    store::put(tx, &record)?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(Reply::json(status, render(&record)))
}

fn delete_version(
    tx: &Connection,
    ctx: &Ctx,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    name: &str,
    version: &str,
) -> Result<Reply, ArmError> {
    refuse_curated(kind, name)?;
    let key = key_of(&kind.version_id(workspace, name, version));
    if store::get(tx, &key, ctx.now)?.is_none() {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    }
    store::remove(tx, &key)?;
    Ok(Reply::empty(StatusCode::OK))
}

/// Resolves an asset version id a job names (`{WS}/{collection}/{name}/versions/{version}` in the
/// job's workspace, or `azureml://registries/azureml/environments/{name}/versions/{version}` for a
/// curated environment) to its body.
pub(crate) fn resolve(
    tx: &Connection,
    now: i64,
    kind: &AssetKind,
    workspace: &WorkspaceRef,
    id: &str,
) -> Result<Json, String> {
    let trimmed = id.trim_end_matches('/');
    let rest = if let Some(rest) = trimmed.strip_prefix("azureml://registries/azureml/") {
        rest.to_owned()
    } else {
        let prefix = format!("{}/", workspace.id());
        if trimmed.len() <= prefix.len() || !trimmed[..prefix.len()].eq_ignore_ascii_case(&prefix) {
            return Err(format!(
                "`{id}` is not the id of a {} version in workspace `{}` (`{prefix}{}/{{name}}/versions/{{version}}`)",
                kind.noun, workspace.name, kind.collection
            ));
        }
        trimmed[prefix.len()..].to_owned()
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [collection, name, versions, version]
            if collection.eq_ignore_ascii_case(kind.collection)
                && versions.eq_ignore_ascii_case("versions") =>
        {
            get_version(tx, now, kind, workspace, name, version).map_err(|error| error.message)
        }
        _ => Err(format!(
            "`{id}` does not name a {} version (`…/{}/{{name}}/versions/{{version}}`)",
            kind.noun, kind.collection
        )),
    }
}
