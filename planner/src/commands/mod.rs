//! The commands of `amlplan`: each loads what it needs (configuration, state, target), calls the
//! engine, and hands results to `render`. Command logic only: no HCL handling (that is
//! `config`), no diffing (that is `engine::plan`), no formatting of plans (that is `render`).
//!
//! Exit codes follow Terraform: 0 success, 1 error, and with `--detailed-exitcode` (and always
//! for `drift`) 2 when changes are present.

pub mod apply;
mod drift;
mod fmt;
mod graph;
mod import;
pub mod plan;
mod providers;
pub mod session;
mod show;
mod state;
mod unlock;
mod validate;
pub mod workspace;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use engine::diag::Diagnostics;
use engine::schema::Registry;

use crate::cli::{Cli, Command, VarArgs};
use crate::config::{CliVariable, Configuration, Environment, InputValues};

/// What a command reports besides its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing (more) to change.
    Success,
    /// Done; changes are present (exit code 2 where asked for).
    Changes,
    /// Done; exit with this code (`fmt`: 2 for unreadable input, 3 when `--check` finds work).
    Exit(u8),
}

/// A failure already reported to the user (diagnostics were printed).
#[derive(Debug, thiserror::Error)]
#[error("the configuration has errors")]
pub struct Reported;

/// Runs one command and maps the outcome to an exit code; errors are printed with their causes.
pub fn run(cli: Cli) -> ExitCode {
    let dir = cli.chdir.clone().unwrap_or_else(|| PathBuf::from("."));
    let detailed = matches!(&cli.command, Command::Plan(args) if args.detailed_exitcode)
        || matches!(cli.command, Command::Drift(_));
    match dispatch(&dir, cli.command) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) if detailed => ExitCode::from(2),
        Ok(Outcome::Changes) => ExitCode::SUCCESS,
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(error) => {
            if let Some(engine::state::StateError::Integrity { diagnostics, .. }) =
                error.downcast_ref()
            {
                // The findings name the entries and how to repair them.
                let sources = crate::source::Sources::new();
                let text = crate::render::diagnostic::diagnostics_to_string(diagnostics, &sources);
                let _ = write!(std::io::stderr().lock(), "{text}");
            } else if error.downcast_ref::<Reported>().is_none() {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "error: {error}");
                for cause in error.chain().skip(1) {
                    let _ = writeln!(err, "  Caused by: {cause}");
                }
            }
            ExitCode::from(1)
        }
    }
}

fn dispatch(dir: &Path, command: Command) -> anyhow::Result<Outcome> {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    };
    match command {
        Command::Validate(args) => validate::run(dir, &args),
        Command::Plan(args) => plan::run(&runtime()?, dir, &args),
        Command::Apply(args) => apply::run(&runtime()?, dir, &args),
        Command::Destroy(args) => apply::run_destroy(&runtime()?, dir, &args),
        Command::Drift(args) => drift::run(&runtime()?, dir, &args),
        Command::Import(args) => import::run(&runtime()?, dir, &args),
        Command::Show(args) => show::run(dir, &args),
        Command::Output(args) => show::run_output(dir, &args),
        Command::State(command) => state::run(dir, &command),
        Command::Version(args) => version(&args),
        Command::Workspace(command) => workspace::run(dir, &command),
        Command::ForceUnlock(args) => unlock::run(dir, &args),
        Command::Providers(args) => providers::run(dir, &args),
        Command::Graph(args) => graph::run(&runtime()?, dir, &args),
        Command::Fmt(args) => fmt::run(dir, &args),
    }
}

/// `amlplan version`: the version, the Terraform language it implements, its provider.
fn version(args: &crate::cli::VersionArgs) -> anyhow::Result<Outcome> {
    use crate::config::version::{AMLPLAN_VERSION, LANGUAGE_VERSION};
    let mut out = std::io::stdout().lock();
    let provider = engine::state::PROVIDER_CONFIG
        .trim_start_matches("provider[\"")
        .trim_end_matches("\"]");
    if args.json {
        let json = serde_json::json!({
            "amlplan_version": AMLPLAN_VERSION,
            "terraform_version": LANGUAGE_VERSION,
            "platform": format!("{}_{}", std::env::consts::OS, go_arch()),
            "provider_selections": { provider: AMLPLAN_VERSION },
            "terraform_outdated": false,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        writeln!(out, "amlplan v{AMLPLAN_VERSION}")?;
        writeln!(
            out,
            "implements the Terraform language of v{LANGUAGE_VERSION}"
        )?;
        writeln!(out, "+ provider {provider} v{AMLPLAN_VERSION} (built in)")?;
    }
    Ok(Outcome::Success)
}

/// The architecture as Terraform names it in `platform`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// A configuration with its input values, loaded and checked.
pub struct Loaded {
    /// The catalogue.
    pub registry: Registry,
    /// The parsed configuration.
    pub config: Configuration,
    /// Input variable values.
    pub inputs: InputValues,
}

/// Loads the configuration in `dir` and its inputs; prints every diagnostic (warnings too) to
/// stderr and fails with [`Reported`] when there is an error.
pub fn load(dir: &Path, vars: &VarArgs) -> anyhow::Result<Loaded> {
    let registry = engine::schema::load_registry()?;
    let (mut config, mut diagnostics) = Configuration::load_dir(dir, &registry)?;
    let cli_variables = cli_variables(vars);
    let (inputs, more) = config.load_inputs(&cli_variables, &Environment::from_process());
    let inputs = inputs.with_workspace(&workspace::current(dir)?);
    diagnostics.extend(more);
    report(&config, &diagnostics)?;
    Ok(Loaded {
        registry,
        config,
        inputs,
    })
}

/// Prints `diagnostics` to stderr; fails with [`Reported`] if one is an error.
pub fn report(config: &Configuration, diagnostics: &Diagnostics) -> anyhow::Result<()> {
    if !diagnostics.is_empty() {
        let mut err = std::io::stderr().lock();
        config.render_diagnostics(diagnostics, &mut err)?;
        writeln!(err)?;
    }
    if diagnostics.has_errors() {
        return Err(Reported.into());
    }
    Ok(())
}

/// `--var` and `--var-file` in command-line order. clap keeps each list's order; Terraform
/// applies all of them in order, so files and vars given separately keep theirs.
fn cli_variables(vars: &VarArgs) -> Vec<CliVariable> {
    vars.var_files
        .iter()
        .cloned()
        .map(CliVariable::File)
        .chain(vars.vars.iter().cloned().map(CliVariable::Var))
        .collect()
}
