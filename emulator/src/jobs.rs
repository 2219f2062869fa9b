//! Jobs (`CommandJob`): submission, reads, cancel and delete; the execution itself is the
//! `executor`'s. The body is stored as given (unknown fields echoed); the run's state lives in the
//! `job_runs` table and is merged into every read.
//!
//! | call | answer |
//! |---|---|
//! | PUT `{WS}/jobs/{id}` | 201 `status: NotStarted` (queued for execution); a re-PUT may change `tags` (and `isArchived`) only: 200, else 409 `Conflict` naming the fields |
//! | GET `{WS}/jobs/{id}` | 200 with `status`, `parameters` (literal inputs), `services.Studio.endpoint` = the log URL below, and `emulatorRun` `{exitCode?, error?, startTime?, endTime?, logUri}` |
//! | GET `{WS}/jobs[?$skip&jobType&tag&listViewType]` | 200 paged, creation order; `tag=k` or `tag=k=v` |
//! | POST `{WS}/jobs/{id}/cancel` | 202 + polling headers (`Location` answers 202 until the job is `Canceled`); 200 + headers when already finished |
//! | DELETE `{WS}/jobs/{id}` | 202 + polling headers (a running process is killed); 204 when absent |
//! | GET `{WS}/jobs/{id}/_emulator/logs?offset=N` | 200 `text/plain`: the job's combined stdout+stderr from byte `N` (default 0); headers `x-ms-emulator-log-offset` (the offset to ask next) and `x-ms-emulator-job-status`; same bearer auth as ARM, `api-version` optional |
//!
//! Submission checks: `jobType` `Command`; `command` (non-empty); `environmentId` an existing
//! environment version of the workspace (or a curated one); `computeId` an existing compute of the
//! workspace, `ComputeInstance` or `AmlCompute` (400 otherwise, explaining); `codeId` (optional) an
//! existing code version; `environmentVariables` a map of strings; `inputs` typed
//! (`literal` needs `value`, the others `uri`); `limits.timeout` an ISO 8601 duration.

use axum::http::{HeaderName, Method, StatusCode};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value as Json, json};

use crate::arm::{
    ArmError, ML_PROVIDER, Reply, WorkspaceRef, digest, key_of, method_not_allowed, page,
    system_data, timestamp,
};
use crate::assets;
use crate::body::{parse_body, properties_of};
use crate::context::Ctx;
use crate::duration;
use crate::operations;
use crate::store::{self, Meta, Record};

/// Stored kind of jobs.
pub(crate) const JOB_KIND: &str = "microsoft.machinelearningservices/workspaces/jobs";

/// Statuses after which nothing changes.
pub(crate) const TERMINAL: &[&str] = &["Completed", "Failed", "Canceled"];

/// A `job_runs` row.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub status: String,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub exit_code: Option<i64>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub run_dir: String,
}

/// The run state of a job.
pub(crate) fn run_of(tx: &Connection, key: &str) -> Result<Option<Run>, ArmError> {
    Ok(tx
        .query_row(
            "SELECT status, started_at, ended_at, exit_code, error, cancel_requested, run_dir FROM job_runs WHERE key = ?1",
            [key],
            |row| {
                Ok(Run {
                    status: row.get(0)?,
                    started_at: row.get(1)?,
                    ended_at: row.get(2)?,
                    exit_code: row.get(3)?,
                    error: row.get(4)?,
                    cancel_requested: row.get::<_, i64>(5)? != 0,
                    run_dir: row.get(6)?,
                })
            },
        )
        .optional()?)
}

/// The folder name of a job's run under `<data_dir>/runs/`.
pub(crate) fn run_dir_name(name: &str, key: &str) -> String {
    let readable: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect();
    format!("{readable}-{}", &digest(key)[..12])
}

fn job_id(workspace: &WorkspaceRef, name: &str) -> String {
    format!("{}/jobs/{name}", workspace.id())
}

/// The log URL of a job.
fn log_url(ctx: &Ctx, workspace: &WorkspaceRef, name: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!(
        "{}{}/jobs/{}/_emulator/logs",
        ctx.base_url,
        workspace.id(),
        encoded.replace('+', "%20")
    )
}

/// Routes `{WS}/jobs/…`.
pub(crate) fn handle(
    tx: &Connection,
    ctx: &Ctx,
    method: &Method,
    workspace: &WorkspaceRef,
    rest: &[String],
    body: &[u8],
) -> Result<Reply, ArmError> {
    let workspace_record = store::workspace(tx, workspace, ctx.now)?;
    match (rest, method.clone()) {
        ([], Method::GET) => list(tx, ctx, workspace, &workspace_record),
        ([name], Method::GET) => Ok(Reply::json(
            StatusCode::OK,
            render(tx, ctx, workspace, &existing(tx, ctx, workspace, name)?)?,
        )),
        ([name], Method::PUT) => put(tx, ctx, workspace, &workspace_record, name, body),
        ([name], Method::DELETE) => delete(tx, ctx, workspace, &workspace_record, name),
        ([name, action], Method::POST) if action.eq_ignore_ascii_case("cancel") => {
            cancel(tx, ctx, workspace, &workspace_record, name)
        }
        ([name, emulator, logs], Method::GET) if emulator == "_emulator" && logs == "logs" => {
            read_logs(tx, ctx, workspace, name)
        }
        ([] | [_] | [_, _], _) => Err(method_not_allowed(method)),
        _ => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no ARM route matches `jobs/{}`", rest.join("/")),
        )),
    }
}

fn existing(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Record, ArmError> {
    store::get(tx, &key_of(&job_id(workspace, name)), ctx.now)?.ok_or_else(|| {
        ArmError::not_found(format!(
            "job `{name}` was not found in workspace `{}`",
            workspace.name
        ))
    })
}

/// A job as every read returns it.
fn render(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    record: &Record,
) -> Result<Json, ArmError> {
    let run = run_of(tx, &record.key)?;
    let mut view = record.body.clone();
    view["systemData"] = system_data(record.meta.created_at, record.meta.modified_at);
    let properties = &mut view["properties"];
    let status = run
        .as_ref()
        .map_or("Unknown", |run| run.status.as_str())
        .to_owned();
    properties["status"] = json!(status);
    let parameters: Map<String, Json> = properties["inputs"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, input)| Some((name.clone(), json!(input["value"].as_str()?))))
        .collect();
    properties["parameters"] = Json::Object(parameters);
    let logs = log_url(ctx, workspace, &record.name);
    let mut services = properties["services"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for service in services.values_mut() {
        if service.is_object() {
            service["status"] = json!("Unsupported");
            service["errorMessage"] = json!("the emulator does not run job services");
        }
    }
    let mut studio = json!({ "jobServiceType": "Studio", "endpoint": logs, "status": status });
    if let Some(error) = run.as_ref().and_then(|run| run.error.clone()) {
        studio["errorMessage"] = json!(error);
    }
    services.insert("Studio".to_owned(), studio);
    properties["services"] = Json::Object(services);
    let mut emulator_run = json!({ "logUri": logs });
    if let Some(run) = &run {
        if let Some(code) = run.exit_code {
            emulator_run["exitCode"] = json!(code);
        }
        if let Some(error) = &run.error {
            emulator_run["error"] = json!({ "code": if run.status == "Canceled" { "JobCanceled" } else { "JobFailed" }, "message": error });
        }
        if let Some(at) = run.started_at {
            emulator_run["startTime"] = json!(timestamp(at));
        }
        if let Some(at) = run.ended_at {
            emulator_run["endTime"] = json!(timestamp(at));
        }
    }
    properties["emulatorRun"] = emulator_run;
    Ok(view)
}

fn list(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
) -> Result<Reply, ArmError> {
    let job_type = ctx
        .query("jobType")
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let tag = ctx
        .query("tag")
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    let archived = match ctx
        .query("listViewType")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("activeonly") => Some(false),
        Some("archivedonly") => Some(true),
        Some("all") => None,
        Some(other) => {
            return Err(ArmError::bad_request(
                "InvalidQueryParameterValue",
                format!(
                    "`listViewType` must be `ActiveOnly`, `ArchivedOnly` or `All`, not `{other}`"
                ),
            ));
        }
    };
    let mut items = Vec::new();
    for record in store::children(tx, &workspace_record.key, JOB_KIND, ctx.now)? {
        let properties = &record.body["properties"];
        if job_type.as_ref().is_some_and(|wanted| {
            properties["jobType"]
                .as_str()
                .is_none_or(|found| !found.eq_ignore_ascii_case(wanted))
        }) {
            continue;
        }
        if let Some(tag) = &tag {
            let (key, value) = tag
                .split_once('=')
                .map_or((tag.as_str(), None), |(key, value)| (key, Some(value)));
            match properties["tags"].get(key).and_then(Json::as_str) {
                Some(found) if value.is_none_or(|value| value == found) => {}
                _ => continue,
            }
        }
        if archived
            .is_some_and(|archived| properties["isArchived"].as_bool().unwrap_or(false) != archived)
        {
            continue;
        }
        items.push(render(tx, ctx, workspace, &record)?);
    }
    Ok(Reply::json(
        StatusCode::OK,
        page(items, ctx.skip()?, "value", |skip| ctx.next_link(skip)),
    ))
}

fn invalid(field: &str, message: impl Into<String>) -> ArmError {
    ArmError::bad_request("ValidationError", message).with_target(format!("properties.{field}"))
}

/// Checks a submission; returns the compute's key.
fn validate(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    properties: &Map<String, Json>,
) -> Result<String, ArmError> {
    match properties.get("jobType").and_then(Json::as_str) {
        Some("Command") => {}
        Some(other) => {
            return Err(invalid(
                "jobType",
                format!("the emulator runs `Command` jobs only, not `{other}`"),
            ));
        }
        None => {
            return Err(invalid(
                "jobType",
                "`properties.jobType` is required (`Command`)",
            ));
        }
    }
    if properties
        .get("command")
        .and_then(Json::as_str)
        .is_none_or(|command| command.trim().is_empty())
    {
        return Err(invalid(
            "command",
            "`properties.command` is required: the shell command the job runs",
        ));
    }
    let environment = properties
        .get("environmentId")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            invalid(
                "environmentId",
                "`properties.environmentId` is required: the ARM id of an environment version",
            )
        })?;
    assets::resolve(tx, ctx.now, &assets::ENVIRONMENT, workspace, environment)
        .map_err(|message| invalid("environmentId", message))?;
    if let Some(code) = properties.get("codeId").filter(|code| !code.is_null()) {
        let code = code
            .as_str()
            .ok_or_else(|| invalid("codeId", "`properties.codeId` must be a string"))?;
        assets::resolve(tx, ctx.now, &assets::CODE, workspace, code)
            .map_err(|message| invalid("codeId", message))?;
    }
    let compute = properties.get("computeId").and_then(Json::as_str).ok_or_else(|| {
        invalid("computeId", "`properties.computeId` is required: the emulator runs jobs on a compute instance or a compute cluster of the workspace")
    })?;
    let prefix = format!("{}/computes/", workspace.id());
    let compute_record =
        if compute.len() > prefix.len() && compute[..prefix.len()].eq_ignore_ascii_case(&prefix) {
            store::get(tx, &key_of(compute), ctx.now)?
                .filter(|record| record.kind == store::COMPUTE_KIND)
        } else {
            None
        };
    let compute_record = compute_record.ok_or_else(|| {
        invalid(
            "computeId",
            format!(
                "`{compute}` is not a compute of workspace `{}` (`{prefix}{{name}}`)",
                workspace.name
            ),
        )
    })?;
    match compute_record.body["properties"]["computeType"].as_str() {
        Some("ComputeInstance" | "AmlCompute") => {}
        other => {
            return Err(invalid(
                "computeId",
                format!(
                    "compute `{}` is `{}`: the emulator runs jobs on `ComputeInstance` and `AmlCompute` computes only (attached computes run their own schedulers)",
                    compute_record.name,
                    other.unwrap_or_default()
                ),
            ));
        }
    }
    if let Some(variables) = properties
        .get("environmentVariables")
        .filter(|value| !value.is_null())
        && !variables
            .as_object()
            .is_some_and(|map| map.values().all(Json::is_string))
    {
        return Err(invalid(
            "environmentVariables",
            "`properties.environmentVariables` must be a map of strings",
        ));
    }
    if let Some(inputs) = properties.get("inputs").filter(|value| !value.is_null()) {
        let inputs = inputs
            .as_object()
            .ok_or_else(|| invalid("inputs", "`properties.inputs` must be a map"))?;
        for (name, input) in inputs {
            match input["jobInputType"].as_str() {
                Some("literal") if input["value"].is_string() => {}
                Some("literal") => {
                    return Err(invalid(
                        &format!("inputs.{name}"),
                        format!("literal input `{name}` needs a string `value`"),
                    ));
                }
                Some(_) if input["uri"].is_string() => {}
                Some(kind) => {
                    return Err(invalid(
                        &format!("inputs.{name}"),
                        format!("`{kind}` input `{name}` needs a `uri`"),
                    ));
                }
                None => {
                    return Err(invalid(
                        &format!("inputs.{name}"),
                        format!("input `{name}` needs a `jobInputType`"),
                    ));
                }
            }
        }
    }
    if let Some(timeout) = properties
        .get("limits")
        .and_then(|limits| limits.get("timeout"))
        .filter(|value| !value.is_null())
        && timeout.as_str().and_then(duration::parse).is_none()
    {
        return Err(invalid(
            "limits.timeout",
            format!(
                "`properties.limits.timeout` must be an ISO 8601 duration such as `PT30M`, not {timeout}"
            ),
        ));
    }
    Ok(key_of(&compute_record.id))
}

/// Fields a client may send back that the service computes.
fn strip_read_only(properties: &mut Map<String, Json>) {
    for field in ["status", "parameters", "emulatorRun"] {
        properties.remove(field);
    }
    if let Some(services) = properties.get_mut("services").and_then(Json::as_object_mut) {
        services.remove("Studio");
        for service in services.values_mut().filter_map(Json::as_object_mut) {
            service.remove("status");
            service.remove("errorMessage");
        }
    }
}

fn put(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
    bytes: &[u8],
) -> Result<Reply, ArmError> {
    let body = parse_body(bytes)?;
    let mut properties = properties_of(&body)?;
    strip_read_only(&mut properties);
    properties.retain(|_, value| !value.is_null());
    properties
        .entry("experimentName")
        .or_insert(json!("Default"));
    properties.entry("isArchived").or_insert(json!(false));
    let id = job_id(workspace, name);
    let key = key_of(&id);
    if let Some(mut record) = store::get(tx, &key, ctx.now)? {
        let stored = record.body["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mutable = ["tags", "isArchived"];
        let mut fields: Vec<&String> = stored
            .keys()
            .chain(properties.keys())
            .filter(|field| !mutable.contains(&field.as_str()))
            .collect();
        fields.sort();
        fields.dedup();
        let changed: Vec<String> = fields
            .into_iter()
            .filter(|field| stored.get(*field) != properties.get(*field))
            .map(|field| format!("`{field}`"))
            .collect();
        if !changed.is_empty() {
            return Err(ArmError::conflict(format!(
                "job `{}` was already submitted: only `tags` (and `isArchived`) can change; {} differ. Submit a new job instead",
                record.name,
                changed.join(", ")
            )));
        }
        record.body["properties"] = Json::Object(properties);
        record.meta.modified_at = ctx.now;
        store::put(tx, &record)?;
        return Ok(Reply::json(
            StatusCode::OK,
            render(tx, ctx, workspace, &record)?,
        ));
    }
    let compute_key = validate(tx, ctx, workspace, &properties)?;
    let record = Record {
        key: key.clone(),
        body: json!({ "id": id, "name": name, "type": format!("{ML_PROVIDER}/workspaces/jobs"), "properties": properties }),
        id,
        kind: JOB_KIND.to_owned(),
        parent: workspace_record.key.clone(),
        subscription: workspace.subscription.to_ascii_lowercase(),
        name: name.to_owned(),
        meta: Meta {
            created_at: ctx.now,
            modified_at: ctx.now,
            ..Meta::default()
        },
    };
    store::put(tx, &record)?;
    tx.execute(
        "INSERT OR REPLACE INTO job_runs (key, workspace_key, compute_key, status, submitted_at, cancel_requested, run_dir) VALUES (?1, ?2, ?3, 'NotStarted', ?4, 0, ?5)",
        params![key, workspace_record.key, compute_key, ctx.now, run_dir_name(name, &key)],
    )?;
    ctx.wake_executor();
    Ok(Reply::json(
        StatusCode::CREATED,
        render(tx, ctx, workspace, &record)?,
    ))
}

fn polling(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    key: &str,
    kind: &str,
    done_at: i64,
) -> Result<Vec<(HeaderName, String)>, ArmError> {
    let location = workspace_record.body["location"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    operations::begin(
        tx,
        ctx,
        &workspace.subscription,
        &location,
        key,
        kind,
        done_at,
    )
}

fn cancel(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
) -> Result<Reply, ArmError> {
    let record = existing(tx, ctx, workspace, name)?;
    let run =
        run_of(tx, &record.key)?.ok_or_else(|| ArmError::internal("the job has no run state"))?;
    if TERMINAL.contains(&run.status.as_str()) {
        let headers = polling(
            tx,
            ctx,
            workspace,
            workspace_record,
            &record.key,
            "cancel",
            ctx.now,
        )?;
        return Ok(Reply::empty(StatusCode::OK).with_headers(headers));
    }
    let done_at = if matches!(run.status.as_str(), "NotStarted" | "Queued") {
        tx.execute(
            "UPDATE job_runs SET status = 'Canceled', cancel_requested = 1, ended_at = ?2, error = 'canceled before it started' WHERE key = ?1",
            params![record.key, ctx.now],
        )?;
        ctx.now
    } else {
        tx.execute(
            "UPDATE job_runs SET status = 'CancelRequested', cancel_requested = 1 WHERE key = ?1",
            [&record.key],
        )?;
        // Finished by the executor when the process has ended.
        i64::MAX / 2
    };
    let headers = polling(
        tx,
        ctx,
        workspace,
        workspace_record,
        &record.key,
        "cancel",
        done_at,
    )?;
    ctx.wake_executor();
    Ok(Reply::empty(StatusCode::ACCEPTED).with_headers(headers))
}

fn delete(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    workspace_record: &Record,
    name: &str,
) -> Result<Reply, ArmError> {
    let key = key_of(&job_id(workspace, name));
    if store::get(tx, &key, ctx.now)?.is_none() {
        return Ok(Reply::empty(StatusCode::NO_CONTENT));
    }
    store::remove(tx, &key)?;
    // The executor kills a process whose run row is gone.
    tx.execute("DELETE FROM job_runs WHERE key = ?1", [&key])?;
    store::finish_operations(tx, &key, "cancel", ctx.now)?;
    let headers = polling(
        tx,
        ctx,
        workspace,
        workspace_record,
        &key,
        "delete",
        ctx.now,
    )?;
    ctx.wake_executor();
    Ok(Reply::empty(StatusCode::ACCEPTED).with_headers(headers))
}

/// The combined log file of a run.
pub(crate) const LOG_FILE: &str = "std_log.txt";

fn read_logs(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &WorkspaceRef,
    name: &str,
) -> Result<Reply, ArmError> {
    let record = existing(tx, ctx, workspace, name)?;
    let run =
        run_of(tx, &record.key)?.ok_or_else(|| ArmError::internal("the job has no run state"))?;
    let offset: u64 = match ctx.query("offset") {
        None => 0,
        Some(text) => text.parse().map_err(|_| {
            ArmError::bad_request(
                "InvalidQueryParameterValue",
                format!("`offset` must be a non-negative integer, not `{text}`"),
            )
        })?,
    };
    let path = ctx.data_dir.join("runs").join(&run.run_dir).join(LOG_FILE);
    let bytes = std::fs::read(&path).unwrap_or_default();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let tail = bytes[start..].to_vec();
    let next = start + tail.len();
    Ok(
        Reply::bytes(StatusCode::OK, "text/plain; charset=utf-8", tail).with_headers(vec![
            (
                HeaderName::from_static("x-ms-emulator-log-offset"),
                next.to_string(),
            ),
            (
                HeaderName::from_static("x-ms-emulator-job-status"),
                run.status,
            ),
        ]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folders_are_readable_and_distinct() {
        let a = run_dir_name("http://x/y", "k1");
        let b = run_dir_name("http://x/y", "k2");
        assert!(a.starts_with("httpxy-"));
        assert_ne!(a, b);
    }
}
