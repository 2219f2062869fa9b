//! The command line of `amlplan`: clap definitions only (a long declarative file, STYLE §8).
//! Terraform's single-dash spellings (`-auto-approve`, `-var=x=1`, `-chdir=DIR`) are rewritten
//! to double-dash ones by [`normalize_args`] before clap sees them, so infra repos can swap
//! `terraform` for `amlplan` in scripts.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Plan and apply Azure ML workspaces and compute from Terraform-language configurations.
#[derive(Debug, Parser)]
#[command(name = "amlplan", version = crate::config::version::VERSION_LINE, about, long_about = None)]
pub struct Cli {
    /// The configuration folder (default: the current folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration (syntax, references, types against the schemas); no API calls.
    Validate(ValidateArgs),
    /// Refresh, then show what apply would change.
    Plan(PlanArgs),
    /// Apply a saved plan, or plan and apply.
    Apply(ApplyArgs),
    /// Remove everything the state manages (attached compute is detached, never deleted).
    Destroy(DestroyArgs),
    /// Compare the cloud with the state; exit code 2 when they differ (for CI drift jobs).
    Drift(DriftArgs),
    /// Bring an existing object under management: `amlplan import ADDR ARM_ID`.
    Import(ImportArgs),
    /// Show a saved plan, or the state.
    Show(ShowArgs),
    /// Show the root outputs saved in the state.
    Output(OutputArgs),
    /// Inspect or edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Show amlplan's version, the Terraform language version it implements, and its provider.
    Version(VersionArgs),
    /// List, show, select, create or delete workspaces (each has its own state).
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Remove a stuck state lock: `amlplan force-unlock LOCK_ID` (the cloud is untouched).
    ForceUnlock(ForceUnlockArgs),
    /// Show the providers the configuration (each module) and the state require.
    Providers(ProvidersArgs),
    /// Print the plan's apply steps and their order as a Graphviz DOT graph.
    Graph(GraphArgs),
    /// Rewrite configuration files in Terraform's canonical layout, as `terraform fmt` does.
    Fmt(FmtArgs),
}

/// `amlplan force-unlock LOCK_ID`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock's id, as the error of the command that found the state locked names it.
    #[arg(value_name = "LOCK_ID")]
    pub lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
    /// The state file (default: the selected workspace's).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// `amlplan providers`.
#[derive(Debug, Args)]
pub struct ProvidersArgs {
    /// The state file (default: the selected workspace's).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// Which operation `amlplan graph` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphType {
    /// The steps `apply` would run now.
    Plan,
    /// The steps `destroy` would run.
    PlanDestroy,
    /// A refresh-only plan: no steps.
    PlanRefreshOnly,
    /// The steps of applying a plan (`--plan FILE`, else the current plan).
    Apply,
}

/// `amlplan graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The plan to draw.
    #[arg(long = "type", value_enum, default_value = "plan", value_name = "TYPE")]
    pub graph_type: GraphType,
    /// Draw a plan saved by `amlplan plan --out` instead of planning.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Planning options (when no plan file is given).
    #[command(flatten)]
    pub options: PlanOptions,
}

/// `amlplan fmt [TARGET...]`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files and folders to format (default: the configuration folder); `-` reads standard
    /// input and prints the result.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
    /// List the files whose formatting differs.
    #[arg(long = "list", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub list: bool,
    /// Write the result back to the files (off with `--check`).
    #[arg(long = "write", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub write: bool,
    /// Print a unified diff of the changes.
    #[arg(long)]
    pub diff: bool,
    /// Change nothing; exit code 3 when a file needs formatting.
    #[arg(long)]
    pub check: bool,
    /// Also process the files in sub-folders.
    #[arg(long)]
    pub recursive: bool,
    /// Accepted for Terraform's scripts; amlplan's fmt output has no colours.
    #[arg(long)]
    pub no_color: bool,
}

/// `amlplan workspace ...`, as `terraform workspace`.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// List the workspaces; the selected one is marked with `*`.
    List,
    /// Print the selected workspace.
    Show,
    /// Select a workspace.
    Select(WorkspaceSelectArgs),
    /// Create a workspace and select it.
    New(WorkspaceNameArgs),
    /// Delete a workspace (its state must manage nothing, unless --force).
    Delete(WorkspaceDeleteArgs),
}

/// A workspace name.
#[derive(Debug, Args)]
pub struct WorkspaceNameArgs {
    /// The workspace.
    pub name: String,
}

/// `workspace select`.
#[derive(Debug, Args)]
pub struct WorkspaceSelectArgs {
    /// The workspace.
    pub name: String,
    /// Create it when it does not exist.
    #[arg(long)]
    pub or_create: bool,
}

/// `workspace delete`.
#[derive(Debug, Args)]
pub struct WorkspaceDeleteArgs {
    /// The workspace.
    pub name: String,
    /// Delete it even when its state still manages objects (they are kept, unmanaged).
    #[arg(long)]
    pub force: bool,
}

/// `amlplan version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Print JSON, in the layout of `terraform version -json`.
    #[arg(long)]
    pub json: bool,
}

/// Input variables, shared by every command that evaluates the configuration.
#[derive(Debug, Args, Default, Clone)]
pub struct VarArgs {
    /// Set a variable: `--var NAME=VALUE` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a `.tfvars` file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

/// State file and lock options.
#[derive(Debug, Args, Clone)]
pub struct StateArgs {
    /// The state file (default: `terraform.tfstate` in the configuration folder).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// How long to wait for the state lock (e.g. `30s`); 0 fails at once when it is held.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

/// Options of every command that plans.
#[derive(Debug, Args, Clone)]
pub struct PlanOptions {
    /// Input variables.
    #[command(flatten)]
    pub vars: VarArgs,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
    /// Only update the state to match the cloud; plan no change to the cloud.
    #[arg(long)]
    pub refresh_only: bool,
    /// Limit the plan to this resource and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Plan this resource as replaced even if nothing changed (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// How many operations run at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
    /// Skip the refresh (plan against the state as it is).
    #[arg(long = "refresh", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
}

/// `amlplan validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Input variables (validated when given).
    #[command(flatten)]
    pub vars: VarArgs,
    /// Print diagnostics as JSON (`terraform validate -json` shape).
    #[arg(long)]
    pub json: bool,
}

/// `amlplan plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Planning options.
    #[command(flatten)]
    pub options: PlanOptions,
    /// Plan to remove everything.
    #[arg(long)]
    pub destroy: bool,
    /// Save the plan to this file for `amlplan apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan as `terraform show -json` does (format 1.2).
    #[arg(long)]
    pub json: bool,
    /// Exit code 0: no changes, 1: error, 2: changes present.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// `amlplan apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `amlplan plan --out`.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Planning options (when no plan file is given).
    #[command(flatten)]
    pub options: PlanOptions,
    /// Apply without asking.
    #[arg(long)]
    pub auto_approve: bool,
    /// Print progress as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `amlplan destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Planning options.
    #[command(flatten)]
    pub options: PlanOptions,
    /// Destroy without asking.
    #[arg(long)]
    pub auto_approve: bool,
}

/// `amlplan drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Input variables.
    #[command(flatten)]
    pub vars: VarArgs,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
    /// Print the drift as JSON (`resource_drift` of the plan format).
    #[arg(long)]
    pub json: bool,
}

/// `amlplan import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The resource address in the configuration, e.g. `azureml_attached_virtual_machine.vm`.
    #[arg(value_name = "ADDR")]
    pub addr: String,
    /// The ARM id of the existing object.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Input variables.
    #[command(flatten)]
    pub vars: VarArgs,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
}

/// `amlplan show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan; without it, the state is shown.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The state file.
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// `amlplan output [NAME]`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output; without it, every output (sensitive ones hidden).
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print JSON (one output: its value; all: name, value, type and sensitivity).
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// Print one string, number or bool output as it is, for scripts.
    #[arg(long, requires = "name")]
    pub raw: bool,
    /// The state file.
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// `amlplan state ...`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in the state.
    List(StateListArgs),
    /// Show one resource's attributes (secrets hidden).
    Show(StateAddrArgs),
    /// Forget a resource without touching the cloud.
    Rm(StateAddrArgs),
    /// Track an object under another address (a resource instance, a resource or a module);
    /// the cloud is untouched.
    Mv(StateMvArgs),
    /// Print the state as it is stored.
    Pull(StatePullArgs),
    /// Replace the state with a state file (`-` reads standard input).
    Push(StatePushArgs),
}

/// `amlplan state mv SOURCE DESTINATION`.
#[derive(Debug, Args)]
pub struct StateMvArgs {
    /// What to move: `TYPE.NAME`, `TYPE.NAME[KEY]` or `module.NAME[KEY]`, in any module.
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// Where to: an address of the same kind (and, for resources, the same type).
    #[arg(value_name = "DESTINATION")]
    pub destination: String,
    /// Print what would move; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
}

/// `amlplan state pull`.
#[derive(Debug, Args)]
pub struct StatePullArgs {
    /// The state file (default: the selected workspace's).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// `amlplan state push PATH`.
#[derive(Debug, Args)]
pub struct StatePushArgs {
    /// The state file to push; `-` reads standard input.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Push even when the lineage differs or the current state has a higher serial.
    #[arg(long)]
    pub force: bool,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
}

/// `amlplan state list`.
#[derive(Debug, Args)]
pub struct StateListArgs {
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
}

/// `amlplan state show|rm ADDR`.
#[derive(Debug, Args)]
pub struct StateAddrArgs {
    /// The resource address.
    #[arg(value_name = "ADDR")]
    pub addr: String,
    /// State options.
    #[command(flatten)]
    pub state: StateArgs,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| format!("`{text}` is not a duration: {error}"))
}

/// Rewrites Terraform's single-dash long options (`-auto-approve`, `-var=a=b`, `-chdir=DIR`) as
/// double-dash ones. Single letters (`-h`, `-V`) and values that follow an option are left as
/// they are; `--` ends option processing.
///
/// ```
/// let args = planner::cli::normalize_args(["amlplan", "-chdir=x", "apply", "-auto-approve", "-var", "n=-1"]);
/// assert_eq!(args, ["amlplan", "--chdir=x", "apply", "--auto-approve", "--var", "n=-1"]);
/// ```
pub fn normalize_args<I, T>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut out = Vec::new();
    let mut options_done = false;
    for arg in args {
        let arg: OsString = arg.into();
        if options_done {
            out.push(arg);
            continue;
        }
        let rewritten = arg.to_str().and_then(|text| {
            if text == "--" {
                options_done = true;
                return None;
            }
            let rest = text.strip_prefix('-')?;
            let mut chars = rest.chars();
            let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
            let is_long = rest.split('=').next().is_some_and(|name| name.len() > 1);
            (starts_with_letter && is_long).then(|| OsString::from(format!("-{text}")))
        });
        out.push(rewritten.unwrap_or(arg));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(normalize_args(args.iter().copied())).expect("valid arguments")
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn terraform_spellings_are_accepted() {
        let cli = parse(&[
            "amlplan",
            "-chdir=examples/quickstart",
            "plan",
            "-detailed-exitcode",
            "-var",
            "a=1",
            "-target=azureml_workspace.main",
            "-parallelism=2",
        ]);
        assert_eq!(cli.chdir, Some(PathBuf::from("examples/quickstart")));
        let Command::Plan(plan) = cli.command else {
            panic!("a plan command")
        };
        assert!(plan.detailed_exitcode);
        assert_eq!(plan.options.vars.vars, ["a=1"]);
        assert_eq!(plan.options.targets, ["azureml_workspace.main"]);
        assert_eq!(plan.options.parallelism, 2);
    }

    #[test]
    fn defaults_follow_terraform() {
        let Command::Apply(apply) = parse(&["amlplan", "apply"]).command else {
            panic!("an apply command")
        };
        assert_eq!(apply.options.parallelism, 10);
        assert!(!apply.auto_approve);
        assert!(apply.options.refresh);
        assert_eq!(apply.options.state.lock_timeout, Duration::ZERO);
    }

    #[test]
    fn values_after_double_dash_are_kept() {
        let args = normalize_args(["amlplan", "import", "--", "-odd", "id"]);
        assert_eq!(args, ["amlplan", "import", "--", "-odd", "id"]);
    }

    #[test]
    fn terraform_spellings_of_the_state_and_fmt_commands_are_accepted() {
        let Command::State(StateCommand::Mv(mv)) =
            parse(&["amlplan", "state", "mv", "-dry-run", "module.a", "module.b"]).command
        else {
            panic!("a state mv command")
        };
        assert!(mv.dry_run);
        assert_eq!(
            (mv.source.as_str(), mv.destination.as_str()),
            ("module.a", "module.b")
        );
        let Command::State(StateCommand::Push(push)) =
            parse(&["amlplan", "state", "push", "-force", "-"]).command
        else {
            panic!("a state push command")
        };
        assert!(push.force);
        assert_eq!(push.path, PathBuf::from("-"));
        let Command::ForceUnlock(unlock) =
            parse(&["amlplan", "force-unlock", "-force", "abc"]).command
        else {
            panic!("a force-unlock command")
        };
        assert!(unlock.force);
        assert_eq!(unlock.lock_id, "abc");
        let Command::Fmt(fmt) = parse(&[
            "amlplan",
            "fmt",
            "-check",
            "-write=false",
            "-list=false",
            "-recursive",
            "-no-color",
            "-",
        ])
        .command
        else {
            panic!("a fmt command")
        };
        assert!(fmt.check && fmt.recursive && !fmt.write && !fmt.list && !fmt.diff);
        assert_eq!(fmt.targets, [PathBuf::from("-")]);
        let Command::Graph(graph) =
            parse(&["amlplan", "graph", "-type=plan-destroy", "-var", "a=1"]).command
        else {
            panic!("a graph command")
        };
        assert_eq!(graph.graph_type, GraphType::PlanDestroy);
        assert_eq!(graph.options.vars.vars, ["a=1"]);
        let Command::Graph(graph) = parse(&["amlplan", "graph"]).command else {
            panic!("a graph command")
        };
        assert_eq!(graph.graph_type, GraphType::Plan);
    }

    #[test]
    fn zero_parallelism_is_refused() {
        let error = Cli::try_parse_from(["amlplan", "plan", "--parallelism", "0"])
            .expect_err("0 is out of range");
        assert!(error.to_string().contains("parallelism"), "{error}");
    }
}
