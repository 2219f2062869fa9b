//! The `run` hooks: a run (a command job) is submitted once and never changed but for its tags.
//! Its snapshot hash and command are computed at plan time ([`crate::runs::fill_run`]); adding
//! one uploads the snapshot and submits the job ([`crate::runs::submit_run`]), records it at
//! once (an interrupted wait must not submit it again), then waits for a final status
//! ([`crate::runs::wait_for_run`]) unless `wait_for_completion = false`, reporting status and
//! log text to the [`Observer`](super::Observer). A failed, canceled or timed-out run is an
//! error that carries the run, so it is recorded, not lost. Removing a run only forgets it: it
//! stays in the workspace's history.

use std::path::Path;

use super::{Operation, OperationError, OperationFuture, Removal, Removed, ResourceHooks};
use crate::addr::ResourceAddr;
use crate::diag::Diagnostics;
use crate::plan::UpdateKind;
use crate::runs::RunEvent;
use crate::value::{ObjectValue, Value};

/// The hooks of runs.
pub struct Run;

impl ResourceHooks for Run {
    fn fill_plan_time_values(
        &self,
        addr: &ResourceAddr,
        values: &mut ObjectValue,
        base_dir: &Path,
    ) -> Diagnostics {
        let mut diags = Diagnostics::default();
        crate::runs::fill_run(addr, values, base_dir, &mut diags);
        diags
    }

    fn add<'a>(
        &'a self,
        operation: Operation<'a>,
        desired: &'a ObjectValue,
    ) -> OperationFuture<'a, ObjectValue> {
        Box::pin(submit_and_wait(operation, desired))
    }

    fn update<'a>(
        &'a self,
        operation: Operation<'a>,
        before: &'a ObjectValue,
        _kind: &'a UpdateKind,
        desired: &'a ObjectValue,
    ) -> OperationFuture<'a, ObjectValue> {
        Box::pin(async move {
            Ok(crate::runs::update_run(operation.cloud, operation.schema, before, desired).await?)
        })
    }

    fn remove<'a>(
        &'a self,
        _operation: Operation<'a>,
        _before: &'a ObjectValue,
        removal: Removal,
    ) -> OperationFuture<'a, Removed> {
        Box::pin(async move {
            Ok(match removal {
                Removal::Replaced(_) => Removed::Kept,
                Removal::Destroy(_) => Removed::Forgotten,
            })
        })
    }
}

async fn submit_and_wait(
    operation: Operation<'_>,
    desired: &ObjectValue,
) -> Result<ObjectValue, OperationError> {
    let Operation {
        cloud,
        schema,
        observer,
    } = operation;
    let events = |event: RunEvent| observer.event(event);
    let submitted =
        crate::runs::submit_run(cloud, schema, desired, observer.base_dir(), &events).await?;
    let kept = |message: String, object: ObjectValue| OperationError {
        summary: Some(format!(
            "Run `{}` did not complete",
            object.get_str("name").unwrap_or("?")
        )),
        message,
        object: Some(object),
    };
    observer
        .record(&submitted)
        .map_err(|message| kept(message, submitted.clone()))?;
    let Some(id) = submitted.get_str("id").map(str::to_owned) else {
        return Err(kept(
            "the service answered the job without an `id`".to_owned(),
            submitted,
        ));
    };
    let name = submitted.get_str("name").unwrap_or(&id).to_owned();
    observer.event(RunEvent::Progress(format!("submitted as `{name}`")));
    if desired.get("wait_for_completion") == &Value::Bool(false) {
        return Ok(submitted);
    }
    let timeout = crate::runs::submit::run_timeout(desired)
        .map_err(|message| kept(message, submitted.clone()))?;
    tokio::select! {
        finished = crate::runs::wait_for_run(cloud, schema, &id, desired, timeout, &events) => {
            finished.map_err(|(last, message)| kept(message, last.unwrap_or_else(|| submitted.clone())))
        }
        () = observer.cancelled() => Err(kept(
            format!("interrupted while waiting for run `{name}`; it keeps running"),
            submitted.clone(),
        )),
    }
}
