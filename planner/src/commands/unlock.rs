//! `amlplan force-unlock LOCK_ID`: removes a stuck state lock, never touching the cloud.
//!
//! The local lock is held by the OS for as long as a command runs (Terraform's record lock on
//! the state file, and amlplan's `flock` on `.terraform.tfstate.lock.info`; see
//! `engine::state::lock`), so a crashed command leaves only its info file, which blocks
//! nobody. Terraform refuses to force-unlock a local state; amlplan removes such a leftover:
//!
//! | the lock                                 | result                                        |
//! |------------------------------------------|-----------------------------------------------|
//! | none, or another id than `LOCK_ID`       | refused                                       |
//! | left by a process that is gone           | asks (not with `--force`), then removes it    |
//! | held by a running process                | refused, naming the holder: an OS lock of a live process cannot be broken |
//!
//! Asking needs a terminal, as `apply` does; without one the command is refused.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use engine::state::lock::{self, LockInfo, LockStatus};

use crate::cli::ForceUnlockArgs;

use super::Outcome;
use super::session::state_path;

/// Runs `force-unlock`.
pub fn run(dir: &Path, args: &ForceUnlockArgs) -> anyhow::Result<Outcome> {
    let path = state_path(dir, args.state.as_deref(), None)?;
    let info_file = lock::info_path(&path);
    let Some(found) = lock::status(&path)? else {
        anyhow::bail!(
            "failed to unlock state: the state `{}` is not locked (there is no `{}`)",
            path.display(),
            info_file.display()
        );
    };
    anyhow::ensure!(
        found.info.id == args.lock_id,
        "failed to unlock state: lock ID `{}` does not match existing lock ID `{}`\n{}\n  help: pass the ID of the lock as the refused command printed it",
        args.lock_id,
        found.info.id,
        describe(&found.info)
    );
    if found.held {
        anyhow::bail!(
            "failed to unlock state: the lock is held by a running process\n{}\n  help: wait for it to finish, or stop that process; the operating system releases its lock when it exits",
            describe(&found.info)
        );
    }
    if !args.force && !confirm()? {
        writeln!(std::io::stdout().lock(), "force-unlock cancelled.")?;
        return Err(super::Reported.into());
    }
    let Some(removed) = lock::remove(&path, &args.lock_id)? else {
        anyhow::bail!(
            "failed to unlock state: the lock `{}` was released while force-unlock ran",
            args.lock_id
        );
    };
    print_unlocked(&removed, &info_file)?;
    Ok(Outcome::Success)
}

/// What the unlocked lock was, and what removing it means.
fn print_unlocked(removed: &LockStatus, info_file: &Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "The state has been successfully unlocked!\n")?;
    writeln!(
        out,
        "The process that took the lock ({}, operation {}) is no longer running; its lock\ninfo `{}` was removed, and commands can take the lock again.",
        removed.info.who,
        removed.info.operation,
        info_file.display()
    )?;
    Ok(())
}

/// The lock info as Terraform prints it under a refused lock.
fn describe(info: &LockInfo) -> String {
    let fields = [
        ("ID", &info.id),
        ("Path", &info.path),
        ("Operation", &info.operation),
        ("Who", &info.who),
        ("Version", &info.version),
        ("Created", &info.created),
        ("Info", &info.info),
    ];
    let lines: Vec<String> = fields
        .iter()
        .map(|(name, value)| {
            format!("    {:<10} {value}", format!("{name}:"))
                .trim_end()
                .to_owned()
        })
        .collect();
    format!("  Lock Info:\n{}", lines.join("\n"))
}

/// Asks on a terminal; refuses without one (scripts pass `--force`).
fn confirm() -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    anyhow::ensure!(
        stdin.is_terminal(),
        "no terminal to ask for confirmation: pass --force to unlock without asking"
    );
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "Do you really want to force-unlock?\n  amlplan will remove the lock on the state.\n  This will allow amlplan and Terraform commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    writeln!(out)?;
    Ok(answer.trim() == "yes")
}
