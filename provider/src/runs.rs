//! Environments and runs under Terraform: immutable objects (`Collection::keeps_replaced`)
//! applied through the same engine functions as amlplan's apply (`engine::runs`).
//!
//! | Terraform asks | environment version | run |
//! |---|---|---|
//! | create | PUT of the version | [`engine::runs::submit_run`] (snapshot upload, job), then [`engine::runs::wait_for_run`] unless `wait_for_completion = false`; status changes, upload progress and log lines go to the provider's log at `info` (Terraform shows them with `TF_LOG=info`) |
//! | update | PUT (description, tags) | [`engine::runs::update_run`]: a PUT of the job only when its tags changed |
//! | delete, half of a replacement | nothing: the old version is kept | nothing: the old run stays in history |
//! | delete (destroy) | [`engine::runs::archive`] | nothing: the run is forgotten |
//!
//! **Telling the two deletes apart.** Terraform sends both as the same `ApplyResourceChange`
//! (prior object, null planned object). But it carries a replacement's private data through:
//! the second `PlanResourceChange` of a replacement (null prior) receives the first one's
//! `planned_private` as `prior_private`, and the removal half of the replacement is applied with
//! the private data planned for the change. So the provider marks a planned replacement with
//! [`REPLACING`] and keeps the old object when a delete arrives with it. A destroy is planned
//! from the stored state's private data, which never holds the mark (apply answers it
//! stripped). Not marked, so archived as on destroy: the old version of a replacement forced by
//! `-replace` / `taint` (the provider is not asked), and a deposed object of
//! `create_before_destroy` (Terraform plans its removal again from its stored private data).
//!
//! A failed, canceled or timed-out run is an error diagnostic with the tail of its log, and the
//! run is returned as the new state: Terraform records it **tainted** (its rule for a create
//! that reports an error), so the next plan replaces it (amlplan does not resubmit a failed run
//! unless its inputs change).

use std::path::Path;

use engine::api::CloudApi;
use engine::runs::RunEvent;
use engine::schema::ResourceSchema;
use engine::value::{ObjectValue, Value};
use tokio::sync::watch;

/// The private data of a planned replacement of an environment version or a run.
pub const REPLACING: &[u8] = b"azureml:replacing";

/// True when `private` is the replacement mark.
pub fn is_marker(private: &[u8]) -> bool {
    private == REPLACING
}

/// `private` without the replacement mark (what a create or a destroy plan carries on).
pub fn without_marker(private: &[u8]) -> Vec<u8> {
    if is_marker(private) {
        Vec::new()
    } else {
        private.to_vec()
    }
}

/// Logs a run's progress at `info`, one line per log line, prefixed with the resource.
pub fn log_event(who: &str, event: RunEvent) {
    match event {
        RunEvent::Progress(message) => tracing::info!("{who}: {message}"),
        RunEvent::Status(status) => tracing::info!("{who}: status {status}"),
        RunEvent::Log(text) => {
            for line in text.lines() {
                tracing::info!("{who}: log: {line}");
            }
        }
    }
}

/// Submits the run `desired` (values resolved, `source_dir` relative to `base_dir`) and waits
/// for it unless `wait_for_completion = false`, giving up when `stop` changes (Terraform's
/// `StopProvider`). Returns the run as the service shows it, or the error and the run when it
/// was submitted.
pub async fn submit_and_wait(
    cloud: &dyn CloudApi,
    schema: &ResourceSchema,
    desired: &ObjectValue,
    base_dir: &Path,
    mut stop: watch::Receiver<u64>,
) -> Result<ObjectValue, (Option<ObjectValue>, String)> {
    stop.mark_unchanged();
    let who = format!(
        "{} of experiment `{}`",
        schema.type_name,
        desired.get_str("experiment_name").unwrap_or("Default")
    );
    let events = |event: RunEvent| log_event(&who, event);
    let submitted = engine::runs::submit_run(cloud, schema, desired, base_dir, &events)
        .await
        .map_err(|message| (None, message))?;
    let id = submitted
        .get_str("id")
        .ok_or((
            Some(submitted.clone()),
            "the service answered the job without an `id`".to_owned(),
        ))?
        .to_owned();
    tracing::info!(
        "{who}: submitted as `{}`",
        submitted.get_str("name").unwrap_or(&id)
    );
    if desired.get("wait_for_completion") == &Value::Bool(false) {
        return Ok(submitted);
    }
    let timeout = engine::runs::submit::run_timeout(desired)
        .map_err(|message| (Some(submitted.clone()), message))?;
    tokio::select! {
        finished = engine::runs::wait_for_run(cloud, schema, &id, desired, timeout, &events) => {
            finished.map_err(|(last, message)| (last.or(Some(submitted.clone())), message))
        }
        _ = stop.changed() => Err((
            Some(submitted.clone()),
            format!(
                "terraform was interrupted while waiting for run `{}`; it keeps running",
                submitted.get_str("name").unwrap_or(&id)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_is_carried_only_where_it_belongs() {
        assert!(is_marker(REPLACING));
        assert!(!is_marker(b""));
        assert!(without_marker(REPLACING).is_empty());
        assert_eq!(without_marker(b"other"), b"other".to_vec());
    }
}
