//! Workspaces as Terraform's local backend keeps them: the selected one is `TF_WORKSPACE`, else
//! the name in `.terraform/environment` (in `TF_DATA_DIR` when set), else `default`. The
//! `default` workspace's state is the backend's path (`terraform.tfstate`); any other's is
//! `terraform.tfstate.d/NAME/terraform.tfstate`. `amlplan workspace list|show|select|new|delete`
//! prints what `terraform workspace` prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::WorkspaceCommand;

use super::Outcome;

/// The workspace every configuration has.
pub const DEFAULT: &str = "default";

/// Where the non-default workspaces' states are, beside the configuration.
const WORKSPACE_DIR: &str = "terraform.tfstate.d";

/// Terraform's data folder of the configuration in `dir` (`TF_DATA_DIR`, else `.terraform`).
fn data_dir(dir: &Path) -> PathBuf {
    match std::env::var_os("TF_DATA_DIR") {
        Some(data) => dir.join(data),
        None => dir.join(".terraform"),
    }
}

/// The selected workspace of the configuration in `dir`.
pub fn current(dir: &Path) -> anyhow::Result<String> {
    if let Some(name) = std::env::var_os("TF_WORKSPACE") {
        let name = name
            .into_string()
            .map_err(|_| anyhow::anyhow!("TF_WORKSPACE is not valid UTF-8"))?;
        check_name(&name).context("the workspace named by TF_WORKSPACE")?;
        return Ok(name);
    }
    let file = data_dir(dir).join("environment");
    match std::fs::read_to_string(&file) {
        Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
        Ok(_) => Ok(DEFAULT.to_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT.to_owned()),
        Err(error) => Err(error).with_context(|| format!("failed to read `{}`", file.display())),
    }
}

/// The state file of `workspace`: `default` at `default_path`, any other one in
/// `terraform.tfstate.d/NAME/`.
pub fn state_path(dir: &Path, default_path: &Path, workspace: &str) -> PathBuf {
    if workspace == DEFAULT {
        dir.join(default_path)
    } else {
        dir.join(WORKSPACE_DIR)
            .join(workspace)
            .join("terraform.tfstate")
    }
}

/// Terraform's rule: a name that is a URL path segment as it is (no `/`, `%`, spaces, ...).
fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    anyhow::ensure!(
        valid,
        "the workspace name `{name}` is not allowed: it must be a valid URL path segment (letters, digits, `-`, `.`, `_`, `~`)"
    );
    Ok(())
}

/// Every workspace: `default` and each folder under `terraform.tfstate.d/`, sorted.
fn list(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = vec![DEFAULT.to_owned()];
    let folder = dir.join(WORKSPACE_DIR);
    match std::fs::read_dir(&folder) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                if entry.file_type()?.is_dir()
                    && let Ok(name) = entry.file_name().into_string()
                    && name != DEFAULT
                {
                    names.push(name);
                }
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read `{}`", folder.display()));
        }
    }
    names[1..].sort();
    Ok(names)
}

fn select(dir: &Path, name: &str) -> anyhow::Result<()> {
    let data = data_dir(dir);
    std::fs::create_dir_all(&data)
        .with_context(|| format!("failed to create `{}`", data.display()))?;
    let file = data.join("environment");
    if name == DEFAULT {
        match std::fs::remove_file(&file) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("failed to remove `{}`", file.display()));
            }
        }
    }
    std::fs::write(&file, name).with_context(|| format!("failed to write `{}`", file.display()))
}

fn not_overridden() -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var_os("TF_WORKSPACE").is_none(),
        "the selected workspace is currently overridden using the TF_WORKSPACE environment variable; unset it to select another one"
    );
    Ok(())
}

/// Runs `workspace list|show|select|new|delete`.
pub fn run(dir: &Path, command: &WorkspaceCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let selected = current(dir)?;
    match command {
        WorkspaceCommand::List => {
            for name in list(dir)? {
                let mark = if name == selected { '*' } else { ' ' };
                writeln!(out, "{mark} {name}")?;
            }
            writeln!(out)?;
        }
        WorkspaceCommand::Show => writeln!(out, "{selected}")?,
        WorkspaceCommand::Select(args) => {
            not_overridden()?;
            check_name(&args.name)?;
            if !list(dir)?.contains(&args.name) {
                anyhow::ensure!(
                    args.or_create,
                    "workspace `{}` doesn't exist; create it with `amlplan workspace new {}` (or select with --or-create)",
                    args.name,
                    args.name
                );
                create(dir, &args.name)?;
            }
            select(dir, &args.name)?;
            writeln!(out, "Switched to workspace \"{}\".", args.name)?;
        }
        WorkspaceCommand::New(args) => {
            not_overridden()?;
            check_name(&args.name)?;
            anyhow::ensure!(
                !list(dir)?.contains(&args.name),
                "workspace `{}` already exists",
                args.name
            );
            create(dir, &args.name)?;
            select(dir, &args.name)?;
            writeln!(
                out,
                "Created and switched to workspace \"{}\"!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"amlplan plan\" amlplan will not see any existing state\nfor this configuration.",
                args.name
            )?;
        }
        WorkspaceCommand::Delete(args) => {
            anyhow::ensure!(
                args.name != DEFAULT,
                "the `default` workspace cannot be deleted"
            );
            anyhow::ensure!(
                list(dir)?.contains(&args.name),
                "workspace `{}` doesn't exist",
                args.name
            );
            anyhow::ensure!(
                args.name != selected,
                "workspace `{}` is your active workspace: you cannot delete the currently active workspace; select another one first",
                args.name
            );
            let path = state_path(dir, Path::new("terraform.tfstate"), &args.name);
            if let Some(state) = engine::state::read_unchecked(&path)? {
                anyhow::ensure!(
                    args.force || state.addrs().is_empty(),
                    "workspace `{}` is not empty: its state still manages {} objects; destroy them first, or pass --force to forget them (the objects are kept, unmanaged)",
                    args.name,
                    state.addrs().len()
                );
            }
            let folder = dir.join(WORKSPACE_DIR).join(&args.name);
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("failed to remove `{}`", folder.display()))?;
            writeln!(out, "Deleted workspace \"{}\"!", args.name)?;
        }
    }
    Ok(Outcome::Success)
}

fn create(dir: &Path, name: &str) -> anyhow::Result<()> {
    let folder = dir.join(WORKSPACE_DIR).join(name);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("failed to create `{}`", folder.display()))
}
