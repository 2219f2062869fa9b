//! Long-running operations: every asynchronous write records an operation that finishes at a
//! stored time, and two monitors report it (ARM RPC conventions, reference §1):
//!
//! | header                 | URL                                                              | answers |
//! |------------------------|------------------------------------------------------------------|---------|
//! | `Azure-AsyncOperation` | `/subscriptions/{s}/providers/Microsoft.MachineLearningServices/locations/{l}/operationsStatus/{id}` | 200 `{id,name,status,startTime,endTime?,percentComplete,error?}`, status `InProgress`/`Succeeded`/`Failed` |
//! | `Location`             | `…/operationResults/{id}`                                         | 202 while running; then 200 with the resource (PUT/PATCH) or 204; a failed operation answers its error as 400 |
//!
//! `Retry-After` is `1`, or `0` when the emulator runs with no provisioning delay.

use axum::http::{HeaderName, StatusCode, header};
use rusqlite::Connection;
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, ML_PROVIDER, Reply, new_guid, timestamp};
use crate::context::Ctx;
use crate::store::{self, Operation};

/// Starts tracking an operation on `resource_key` that ends at `done_at`; returns the polling
/// headers for the reply.
pub(crate) fn begin(
    tx: &Connection,
    ctx: &Ctx,
    subscription: &str,
    location: &str,
    resource_key: &str,
    kind: &str,
    done_at: i64,
) -> Result<Vec<(HeaderName, String)>, ArmError> {
    let (base_url, now) = (&ctx.base_url, ctx.now);
    let operation = Operation {
        id: new_guid(),
        subscription: subscription.to_ascii_lowercase(),
        resource_key: resource_key.to_owned(),
        kind: kind.to_owned(),
        started_at: now,
        done_at,
        status: "Succeeded".to_owned(),
        error: None,
    };
    store::insert_operation(tx, &operation)?;
    let location = if location.is_empty() {
        "eastus"
    } else {
        location
    };
    let prefix = format!(
        "{base_url}/subscriptions/{subscription}/providers/{ML_PROVIDER}/locations/{location}"
    );
    let retry_after = if done_at > now { "1" } else { "0" };
    Ok(vec![
        (
            HeaderName::from_static("azure-asyncoperation"),
            format!(
                "{prefix}/operationsStatus/{}?api-version={}",
                operation.id, API_VERSION
            ),
        ),
        (
            header::LOCATION,
            format!(
                "{prefix}/operationResults/{}?api-version={}",
                operation.id, API_VERSION
            ),
        ),
        (header::RETRY_AFTER, retry_after.to_owned()),
    ])
}

/// The api-version written into monitor URLs (clients replace it with their own anyway).
const API_VERSION: &str = "2026-07-01";

fn find(tx: &Connection, subscription: &str, id: &str) -> Result<Operation, ArmError> {
    store::operation(tx, id)?
        .filter(|operation| operation.subscription.eq_ignore_ascii_case(subscription))
        .ok_or_else(|| ArmError::not_found(format!("operation `{id}` was not found")))
}

fn status(operation: &Operation, now: i64) -> &str {
    if now < operation.done_at {
        "InProgress"
    } else {
        &operation.status
    }
}

/// `Azure-AsyncOperation` monitor.
pub(crate) fn status_monitor(
    tx: &Connection,
    subscription: &str,
    id: &str,
    now: i64,
) -> Result<Reply, ArmError> {
    let operation = find(tx, subscription, id)?;
    let status = status(&operation, now);
    let mut body = json!({
        "id": id,
        "name": id,
        "status": status,
        "startTime": timestamp(operation.started_at),
    });
    if status == "InProgress" {
        let total = (operation.done_at - operation.started_at).max(1) as f64;
        body["percentComplete"] = json!(
            (((now - operation.started_at) as f64 / total) * 100.0)
                .clamp(0.0, 99.0)
                .floor()
        );
        return Ok(Reply::json(StatusCode::OK, body)
            .with_headers(vec![(header::RETRY_AFTER, "1".to_owned())]));
    }
    body["endTime"] = json!(timestamp(operation.done_at));
    body["percentComplete"] = json!(100);
    if let Some(error) = &operation.error {
        body["error"] = error.clone();
    }
    Ok(Reply::json(StatusCode::OK, body))
}

/// `Location` monitor. `current` renders the target resource as a GET would, when it exists.
pub(crate) fn result_monitor(
    tx: &Connection,
    subscription: &str,
    id: &str,
    now: i64,
    current: impl FnOnce(&Connection, &str) -> Result<Option<Json>, ArmError>,
) -> Result<Reply, ArmError> {
    let operation = find(tx, subscription, id)?;
    match status(&operation, now) {
        "InProgress" => Ok(Reply::empty(StatusCode::ACCEPTED)
            .with_headers(vec![(header::RETRY_AFTER, "1".to_owned())])),
        "Failed" => {
            let error = operation.error.unwrap_or_else(
                || json!({"code": "OperationFailed", "message": "the operation failed"}),
            );
            Ok(Reply::json(
                StatusCode::BAD_REQUEST,
                json!({ "error": error }),
            ))
        }
        _ if matches!(operation.kind.as_str(), "put" | "patch") => {
            match current(tx, &operation.resource_key)? {
                Some(body) => Ok(Reply::json(StatusCode::OK, body)),
                None => Ok(Reply::empty(StatusCode::NO_CONTENT)),
            }
        }
        _ => Ok(Reply::empty(StatusCode::NO_CONTENT)),
    }
}
