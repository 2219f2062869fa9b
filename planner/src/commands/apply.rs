//! `amlplan apply` and `amlplan destroy`: plan (or read a saved plan), ask, then run the plan
//! through `engine::apply` with the state saved after every completed operation.

use std::io::{BufRead as _, IsTerminal as _, Write};
use std::path::Path;

use engine::apply::ApplyOutcome;

use crate::cli::{ApplyArgs, DestroyArgs, PlanOptions, VarArgs};

use super::plan::{configuration_digest, read_saved};
use super::session::{Hooks, Planned, Session, state_values};
use super::{Outcome, Reported, load};

/// Runs `apply`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &ApplyArgs,
) -> anyhow::Result<Outcome> {
    match &args.plan_file {
        Some(path) => apply_saved(runtime, dir, path, args),
        None => plan_and_apply(
            runtime,
            dir,
            &args.options,
            false,
            args.auto_approve,
            args.json,
        ),
    }
}

/// Runs `destroy`.
pub fn run_destroy(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &DestroyArgs,
) -> anyhow::Result<Outcome> {
    plan_and_apply(runtime, dir, &args.options, true, args.auto_approve, false)
}

fn plan_and_apply(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    options: &PlanOptions,
    destroy: bool,
    auto_approve: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    let loaded = load(dir, &options.vars)?;
    runtime.block_on(async {
        let operation = if destroy { "destroy" } else { "apply" };
        let mut session = Session::open(dir, loaded, &options.state, operation).await?;
        let planned = session.plan(options, destroy).await?;
        {
            let mut out = std::io::stdout().lock();
            crate::render::plan::render_plan(
                &planned.plan,
                &session.loaded.registry,
                &mut out,
                &Default::default(),
            )?;
        }
        session.record_refresh(&planned)?;
        if !planned.plan.has_changes() || options.refresh_only {
            session.target.close().await;
            return Ok(Outcome::Success);
        }
        if !auto_approve && !confirm(destroy)? {
            session.target.close().await;
            anyhow::bail!("{operation} cancelled");
        }
        let outcome = execute(&mut session, &planned, options.parallelism.into(), json).await;
        session.target.close().await;
        finish(outcome?, destroy)
    })
}

fn apply_saved(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    path: &Path,
    args: &ApplyArgs,
) -> anyhow::Result<Outcome> {
    let saved = read_saved(path)?;
    let vars = VarArgs {
        vars: saved.vars.clone(),
        var_files: saved.var_files.clone(),
    };
    let loaded = load(dir, &vars)?;
    runtime.block_on(async {
        let mut session = Session::open(dir, loaded, &args.options.state, "apply").await?;
        if session.state.lineage != saved.lineage && saved.serial != 0 || session.state.serial != saved.serial {
            session.target.close().await;
            anyhow::bail!(
                "the saved plan `{}` is stale: the state changed since it was made (serial {} then, {} now); run `amlplan plan` again",
                path.display(),
                saved.serial,
                session.state.serial
            );
        }
        if !saved.configuration.is_empty()
            && saved.configuration != configuration_digest(&session.loaded, &session.key)
        {
            session.target.close().await;
            anyhow::bail!(
                "the saved plan `{}` was made from another configuration: a `.tf` or variables file, or an input value (`TF_VAR_*`), changed since; nothing was applied; run `amlplan plan` again",
                path.display()
            );
        }
        let known = state_values(&session.state, &session.loaded);
        let (evaluated, diagnostics) = crate::config::evaluate(&session.loaded.config, &session.loaded.inputs, &known);
        super::report(&session.loaded.config, &diagnostics)?;
        let planned = Planned {
            plan: saved.plan,
            evaluated,
            known,
            gone: Vec::new(),
        };
        let outcome = execute(&mut session, &planned, args.options.parallelism.into(), args.json).await;
        session.target.close().await;
        finish(outcome?, planned.plan.destroy)
    })
}

async fn execute(
    session: &mut Session,
    planned: &Planned,
    parallelism: usize,
    json: bool,
) -> anyhow::Result<ApplyOutcome> {
    let Session {
        dir,
        loaded,
        store,
        state,
        moves,
        key,
        target,
    } = session;
    for import in &planned.plan.imports {
        // An `import` block: the object read at plan time is recorded first.
        if let (Some(schema), Some(object)) = (
            loaded.registry.get(&import.addr.resource_type),
            &import.object,
        ) {
            state.set_object(&import.addr, schema, object, &[], Some(key));
            let alias = planned
                .plan
                .changes
                .iter()
                .find(|change| change.addr == import.addr)
                .and_then(|change| change.provider.as_deref());
            state.set_provider_alias(&import.addr, alias);
        }
    }
    for addr in &planned.plan.forgotten {
        // A `removed` block with `destroy = false`: only the state forgets the object.
        state.remove(addr);
    }
    if !moves.moved.is_empty()
        || !planned.plan.forgotten.is_empty()
        || !planned.plan.imports.is_empty()
    {
        // Moves and forgotten objects touch only the state: saved first, as Terraform does
        // before any operation.
        store.save(state)?;
    }
    let hooks = Hooks::new(loaded, key, store, state, planned, json).with_base_dir(dir);
    let outcome = engine::apply::apply(
        &planned.plan,
        &loaded.registry,
        &target.clouds(),
        &hooks,
        parallelism,
    )
    .await;
    let evaluated = hooks.final_evaluation();
    drop(hooks);
    // Root outputs are saved as Terraform saves them (none after a destroy), so that either
    // tool plans no output change afterwards.
    if planned.plan.destroy {
        state.set_outputs([]);
    } else {
        state.set_outputs(
            evaluated
                .outputs
                .iter()
                .map(|(name, output)| (name.as_str(), &output.value, output.sensitive)),
        );
    }
    store.save(state)?;
    if outcome.succeeded() {
        print_outputs(&evaluated)?;
    }
    Ok(outcome)
}

fn finish(outcome: ApplyOutcome, destroy: bool) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if outcome.succeeded() {
        if destroy {
            writeln!(
                out,
                "\nDestroy complete! Resources: {} destroyed.",
                outcome.removed
            )?;
        } else {
            writeln!(
                out,
                "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
                outcome.added, outcome.changed, outcome.removed
            )?;
        }
        return Ok(Outcome::Success);
    }
    drop(out);
    let mut err = std::io::stderr().lock();
    for failure in &outcome.failures {
        writeln!(err, "error: {}\n  {}\n", failure.addr, failure.message)?;
    }
    if !outcome.skipped.is_empty() {
        let skipped: Vec<String> = outcome.skipped.iter().map(ToString::to_string).collect();
        writeln!(
            err,
            "not applied because a dependency failed: {}",
            skipped.join(", ")
        )?;
    }
    writeln!(
        err,
        "what completed is saved in the state ({} added, {} changed, {} destroyed); fix the error and run apply again",
        outcome.added, outcome.changed, outcome.removed
    )?;
    Err(Reported.into())
}

fn print_outputs(evaluated: &crate::config::EvaluatedConfig) -> anyhow::Result<()> {
    if evaluated.outputs.is_empty() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nOutputs:\n")?;
    for (name, output) in &evaluated.outputs {
        let shown = if output.sensitive {
            "<sensitive>".to_owned()
        } else {
            serde_json::to_string(&output.value.to_json())?
        };
        writeln!(out, "{name} = {shown}")?;
    }
    Ok(())
}

/// Asks on a terminal; refuses without one (a CI job must pass `--auto-approve`).
fn confirm(destroy: bool) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "no terminal to ask for confirmation: pass --auto-approve to {} without asking",
            if destroy { "destroy" } else { "apply" }
        );
    }
    let mut out = std::io::stdout().lock();
    let question = if destroy {
        "Do you really want to destroy all resources?"
    } else {
        "Do you want to perform these actions?"
    };
    write!(
        out,
        "\n{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
