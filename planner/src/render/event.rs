//! Apply progress as the user reads it: Terraform-style lines (`addr: Creating...`,
//! `addr: Creation complete after 3s [id=...]`), or one JSON object per line with `--json`.
//! Only formatting; the events come from `engine::apply`.

use std::io::Write;

use engine::apply::ApplyEvent;

/// One progress line, as Terraform prints them (`--json`: one JSON object per line).
pub fn print_event(out: &mut impl Write, event: &ApplyEvent, json: bool) -> std::io::Result<()> {
    if json {
        let value = match event {
            ApplyEvent::Started { addr, verb } => {
                serde_json::json!({"type": "apply_start", "address": addr.to_string(), "message": verb})
            }
            ApplyEvent::Finished {
                addr,
                verb,
                elapsed,
                id,
            } => {
                serde_json::json!({"type": "apply_complete", "address": addr.to_string(), "message": verb, "elapsed_seconds": elapsed.as_secs_f64(), "id": id})
            }
            ApplyEvent::Failed { addr, message } => {
                serde_json::json!({"type": "apply_errored", "address": addr.to_string(), "message": message})
            }
            ApplyEvent::Skipped { addr } => {
                serde_json::json!({"type": "apply_skipped", "address": addr.to_string()})
            }
            ApplyEvent::Progress { addr, message } => {
                serde_json::json!({"type": "apply_progress", "address": addr.to_string(), "message": message})
            }
            ApplyEvent::Log { addr, text } => {
                serde_json::json!({"type": "run_log", "address": addr.to_string(), "text": text})
            }
        };
        return writeln!(out, "{value}");
    }
    match event {
        ApplyEvent::Started { addr, verb } => writeln!(out, "{addr}: {verb}..."),
        ApplyEvent::Finished {
            addr,
            verb,
            elapsed,
            id,
        } => {
            let id = id
                .as_deref()
                .map(|id| format!(" [id={id}]"))
                .unwrap_or_default();
            writeln!(out, "{addr}: {verb} after {}s{id}", elapsed.as_secs())
        }
        ApplyEvent::Failed { addr, message } => writeln!(out, "{addr}: failed: {message}"),
        ApplyEvent::Skipped { addr } => writeln!(out, "{addr}: skipped (a dependency failed)"),
        ApplyEvent::Progress { addr, message } => writeln!(out, "{addr}: {message}"),
        ApplyEvent::Log { addr, text } => {
            for line in text.lines() {
                writeln!(out, "{addr} | {line}")?;
            }
            Ok(())
        }
    }
}
