//! Environments and runs under Terraform: immutable objects (`ResourceSchema::keeps_replaced`)
//! applied through the same operations as amlplan's apply (`engine::resource`, whose kind
//! hooks submit and wait for runs and archive environment versions); status changes, upload
//! progress and log lines go to the provider's log at `info` ([`log_event`]; Terraform shows
//! them with `TF_LOG=info`). What this module adds is Terraform's side: which delete is the old
//! half of a replacement.
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

use engine::runs::RunEvent;

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
