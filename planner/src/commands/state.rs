//! `amlplan state list|show|rm|mv|pull|push`: Terraform's state commands. They read and edit the
//! state file only, never the cloud: moving an attachment moves its state entry, it is not
//! detached. Writes go through the engine's locked [`engine::state::StateStore`] (crash-safe, the
//! previous state kept as the backup, the serial bumped); reads for repair skip the integrity
//! checks, as `state rm` does.
//!
//! `state mv` follows `terraform state mv`:
//!
//! | SOURCE                               | DESTINATION                  | moves                                  |
//! |--------------------------------------|------------------------------|----------------------------------------|
//! | `module.a`, `module.a["x"]`          | a module instance            | its objects and its child modules'     |
//! | `TYPE.NAME` with `count`/`for_each`  | `TYPE.NAME` (same type)      | the whole resource, every instance     |
//! | `TYPE.NAME`, `TYPE.NAME[KEY]`        | an instance (same type)      | one instance                           |
//!
//! A destination that holds something is refused; nothing is written unless every move is
//! valid. Moving a resource forgets the recorded dependencies that name it, as Terraform does
//! (the next apply records them again).

use std::io::{Read as _, Write as _};
use std::path::Path;

use anyhow::Context as _;
use engine::addr::{Mode, ModulePath, ResourceAddr};
use engine::state::{State, StateResource};

use crate::cli::{StateCommand, StateMvArgs, StatePullArgs, StatePushArgs};

use super::Outcome;
use super::session::{open_state_unchecked, state_path};
use super::show::show_resource;

/// Runs `state list|show|rm|mv|pull|push`.
pub fn run(dir: &Path, command: &StateCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        StateCommand::List(args) => {
            let path = state_path(dir, args.state.state.as_deref(), None)?;
            if let Some(state) = engine::state::read_unchecked(&path)? {
                for addr in state.addrs() {
                    writeln!(out, "{addr}")?;
                }
            }
        }
        StateCommand::Show(args) => {
            let registry = engine::schema::load_registry()?;
            let addr = parse(&args.addr)?;
            let path = state_path(dir, args.state.state.as_deref(), None)?;
            let state = engine::state::read_unchecked(&path)?
                .ok_or_else(|| anyhow::anyhow!("no state at `{}`", path.display()))?;
            anyhow::ensure!(
                state.instance(&addr).is_some(),
                "`{addr}` is not in the state"
            );
            show_resource(&mut out, &state, &registry, &addr)?;
        }
        StateCommand::Rm(args) => {
            let addr = parse(&args.addr)?;
            let path = state_path(dir, args.state.state.as_deref(), None)?;
            let (mut store, mut state) = open_state_unchecked(&path, &args.state, "state rm")?;
            anyhow::ensure!(state.remove(&addr), "`{addr}` is not in the state");
            store.save(&mut state)?;
            writeln!(out, "Removed {addr} (the object itself is untouched)")?;
        }
        StateCommand::Mv(args) => return mv(dir, args, &mut out),
        StateCommand::Pull(args) => return pull(dir, args, &mut out),
        StateCommand::Push(args) => return push(dir, args),
    }
    Ok(Outcome::Success)
}

fn parse(text: &str) -> anyhow::Result<ResourceAddr> {
    ResourceAddr::parse(text)
        .map_err(|error| anyhow::anyhow!("`{text}` is not a resource address: {error}"))
}

/// What a `state mv` address names.
#[derive(Debug, Clone)]
enum Object {
    /// `module.a["x"]`.
    Module(ModulePath),
    /// `TYPE.NAME` without key: the whole resource, or its one instance without key.
    Resource(ResourceAddr),
    /// `TYPE.NAME[KEY]` (or a resolved `TYPE.NAME` without key).
    Instance(ResourceAddr),
}

impl Object {
    fn parse(text: &str) -> anyhow::Result<Object> {
        if let Ok(path) = ModulePath::parse(text)
            && !path.is_root()
        {
            return Ok(Object::Module(path));
        }
        let addr = ResourceAddr::parse(text).map_err(|_| {
            anyhow::anyhow!(
                "`{text}` is not an address: write `TYPE.NAME`, `TYPE.NAME[KEY]` or `module.NAME[KEY]`, each optionally after a module path"
            )
        })?;
        Ok(match addr.key {
            None => Object::Resource(addr),
            Some(_) => Object::Instance(addr),
        })
    }
}

/// `state mv SOURCE DESTINATION`.
fn mv(dir: &Path, args: &StateMvArgs, out: &mut impl std::io::Write) -> anyhow::Result<Outcome> {
    let source = Object::parse(&args.source)?;
    let destination = Object::parse(&args.destination)?;
    let path = state_path(dir, args.state.state.as_deref(), None)?;
    anyhow::ensure!(
        path.exists(),
        "no state file was found at `{}`: state commands need a state; run them in a folder amlplan or Terraform has applied, or pass --state",
        path.display()
    );
    let (mut store, mut state) = open_state_unchecked(&path, &args.state, "state mv")?;
    let sources = expand(&state, &source);
    anyhow::ensure!(
        !sources.is_empty(),
        "invalid source address: cannot move `{}`: it does not match anything in the current state",
        args.source
    );
    let prefix = if args.dry_run { "Would move" } else { "Move" };
    // Child modules first, so a destination inside the source is free when its turn comes;
    // printed parents first.
    let mut lines = Vec::new();
    for from in sources.iter().rev() {
        let (shown_from, shown_to) = move_one(&mut state, &source, from, &destination, args)?;
        lines.push(format!("{prefix} {shown_from:?} to {shown_to:?}"));
    }
    lines.reverse();
    if !args.dry_run {
        store.save(&mut state)?;
    }
    for line in &lines {
        writeln!(out, "{line}")?;
    }
    if !args.dry_run {
        writeln!(out, "Successfully moved {} object(s).", lines.len())?;
    }
    Ok(Outcome::Success)
}

/// The objects `source` names in `state` (Terraform's `sourceObjectAddrs`): a module instance
/// and each module instance inside it; a resource without key that has an instance without key
/// is that instance.
fn expand(state: &State, source: &Object) -> Vec<Object> {
    match source {
        Object::Module(module) => {
            let mut found: Vec<ModulePath> = state
                .resources
                .iter()
                .filter_map(StateResource::module_path)
                .filter(|path| path.0.starts_with(&module.0))
                .collect();
            found.sort();
            found.dedup();
            found.into_iter().map(Object::Module).collect()
        }
        Object::Resource(addr) => match state.resources.iter().find(|entry| entry.holds(addr)) {
            Some(entry) if entry.instances.iter().any(|one| one.index_key.is_none()) => {
                vec![Object::Instance(addr.clone())]
            }
            Some(_) => vec![source.clone()],
            None => Vec::new(),
        },
        Object::Instance(_) => vec![source.clone()],
    }
}

/// Moves `from` (one of `source`'s objects) to where `destination` puts it; returns the two
/// addresses as Terraform prints them.
fn move_one(
    state: &mut State,
    source: &Object,
    from: &Object,
    destination: &Object,
    args: &StateMvArgs,
) -> anyhow::Result<(String, String)> {
    match (from, destination) {
        (Object::Module(from), Object::Module(to)) => {
            let Object::Module(searched) = source else {
                unreachable!("only a module source expands to modules")
            };
            let mut steps = to.0.clone();
            steps.extend_from_slice(&from.0[searched.0.len()..]);
            let to = ModulePath(steps);
            anyhow::ensure!(
                !state
                    .resources
                    .iter()
                    .any(|entry| entry.module_path().as_ref() == Some(&to)),
                "error moving state: the destination module `{to}` already exists; nothing was moved"
            );
            for entry in &mut state.resources {
                if entry.module_path().as_ref() == Some(from) {
                    entry.module = Some(to.to_string());
                }
            }
            Ok((from.to_string(), to.to_string()))
        }
        (Object::Module(from), _) => anyhow::bail!(
            "invalid target address: cannot move `{from}` to `{}`: the target must also be a module",
            args.destination
        ),
        (Object::Resource(from), Object::Resource(to)) => {
            same_kind(from, to)?;
            anyhow::ensure!(
                !state.resources.iter().any(|entry| entry.holds(to)),
                "invalid target address: cannot move to `{to}`: there is already a resource at that address in the current state"
            );
            let entry = state
                .resources
                .iter_mut()
                .find(|entry| entry.holds(from))
                .expect("expand found the resource");
            entry.module = module_field(&to.module);
            entry.name.clone_from(&to.name);
            forget_dependencies_on(state, from);
            Ok((from.to_string(), to.to_string()))
        }
        (Object::Resource(from), _) => anyhow::bail!(
            "invalid target address: cannot move `{from}` to `{}`: the source is a whole resource (not a resource instance), so the target must also be a whole resource",
            args.destination
        ),
        (Object::Instance(from), Object::Instance(to) | Object::Resource(to)) => {
            same_kind(from, to)?;
            anyhow::ensure!(
                state.instance(to).is_none(),
                "invalid target address: cannot move to `{to}`: there is already a resource instance at that address in the current state"
            );
            // The engine's move keeps everything the object holds (not its deposed objects).
            anyhow::ensure!(
                state.move_instance(from, to),
                "invalid source address: the current state does not contain `{from}`"
            );
            forget_dependencies_on(state, from);
            Ok((from.to_string(), args.destination.clone()))
        }
        (Object::Instance(from), Object::Module(_)) => anyhow::bail!(
            "invalid target address: cannot move `{from}` to `{}`: the target must also be a resource instance",
            args.destination
        ),
    }
}

/// Terraform's `validateResourceMove`: the mode and the type stay.
fn same_kind(from: &ResourceAddr, to: &ResourceAddr) -> anyhow::Result<()> {
    if from.mode != to.mode {
        let kind = match from.mode {
            Mode::Managed => {
                "a managed resource can be moved only to another managed resource address"
            }
            Mode::Data => "a data resource can be moved only to another data resource address",
        };
        anyhow::bail!("invalid state move request: cannot move `{from}` to `{to}`: {kind}");
    }
    anyhow::ensure!(
        from.resource_type == to.resource_type,
        "invalid state move request: cannot move `{from}` to `{to}`: resource types don't match"
    );
    Ok(())
}

/// The `module` field of an entry in `module` (absent for the root).
fn module_field(module: &ModulePath) -> Option<String> {
    (!module.is_root()).then(|| module.to_string())
}

/// Forgets the recorded dependencies of every object that depends on the resource of `moved`
/// (dependencies are recorded per resource, module keys aside), as Terraform does after a move.
fn forget_dependencies_on(state: &mut State, moved: &ResourceAddr) {
    let names = |module: &ModulePath| -> Vec<String> {
        module.0.iter().map(|step| step.name.clone()).collect()
    };
    let names_moved = |text: &String| {
        ResourceAddr::parse(text).is_ok_and(|dependency| {
            dependency.mode == moved.mode
                && dependency.resource_type == moved.resource_type
                && dependency.name == moved.name
                && names(&dependency.module) == names(&moved.module)
        })
    };
    for entry in &mut state.resources {
        for instance in &mut entry.instances {
            if instance.dependencies.iter().any(names_moved) {
                instance.dependencies.clear();
            }
        }
    }
}

/// `state pull`: the state file's bytes, unchanged; nothing when there is no state.
fn pull(
    dir: &Path,
    args: &StatePullArgs,
    out: &mut impl std::io::Write,
) -> anyhow::Result<Outcome> {
    let path = state_path(dir, args.state.as_deref(), None)?;
    match std::fs::read(&path) {
        Ok(bytes) => out.write_all(&bytes)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read `{}`", path.display()));
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

/// `state push PATH`: Terraform's safety checks (the same lineage, a serial not lower than the
/// current one) unless `--force`, then one write through the lock. The written serial is one above both
/// (the store never writes a serial it has already written), where Terraform keeps the pushed
/// one.
fn push(dir: &Path, args: &StatePushArgs) -> anyhow::Result<Outcome> {
    let from_stdin = args.path.as_os_str() == "-";
    let (text, name) = if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("failed to read the state from standard input")?;
        (text, "<stdin>".to_owned())
    } else {
        let file = dir.join(&args.path);
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("failed to read the state `{}`", args.path.display()))?;
        (text, args.path.display().to_string())
    };
    let mut pushed = State::from_json(&text, Path::new(&name))?;
    let path = state_path(dir, args.state.state.as_deref(), None)?;
    let (mut store, current) = open_state_unchecked(&path, &args.state, "state push")?;
    let existing = store.existed();
    if existing && !args.force {
        anyhow::ensure!(
            pushed.lineage == current.lineage,
            "failed to write state: cannot import state with lineage `{}` over unrelated state with lineage `{}`\n  help: a different lineage is another state; pass --force to replace it anyway",
            pushed.lineage,
            current.lineage
        );
        anyhow::ensure!(
            pushed.serial >= current.serial,
            "failed to write state: cannot import state with serial {} over newer state with serial {}\n  help: the current state has changes the pushed one lacks; pass --force to replace it anyway",
            pushed.serial,
            current.serial
        );
    }
    store.save(&mut pushed)?;
    Ok(Outcome::Success)
}
