//! `amlplan plan`: refresh, diff, render; `--out` saves the plan for `amlplan apply FILE`.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use engine::plan::Plan;
use serde::{Deserialize, Serialize};

use crate::cli::{PlanArgs, VarArgs};

use super::session::Session;
use super::{Outcome, load};

/// A saved plan: the plan, what it was made from (state lineage and serial, so a plan made
/// against another state is refused), and the variables given, so apply evaluates the same
/// configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always [`SAVED_PLAN_FORMAT`].
    pub format: String,
    /// The state's lineage when planned.
    pub lineage: String,
    /// The state's serial when planned.
    pub serial: u64,
    /// `--var` values, in order.
    pub vars: Vec<String>,
    /// `--var-file` paths, in order.
    pub var_files: Vec<std::path::PathBuf>,
    /// [`configuration_digest`] when planned: apply refuses the plan if the configuration,
    /// a variables file or an input value changed since.
    #[serde(default)]
    pub configuration: String,
    /// The plan.
    pub plan: Plan,
}

/// The format tag of saved plans.
pub const SAVED_PLAN_FORMAT: &str = "amlplan-plan/1";

/// Runs `plan`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &PlanArgs,
) -> anyhow::Result<Outcome> {
    let loaded = load(dir, &args.options.vars)?;
    runtime.block_on(async {
        let mut session = Session::open(dir, loaded, &args.options.state, "plan").await?;
        let planned = session.plan(&args.options, args.destroy).await?;
        let mut out = std::io::stdout().lock();
        let registry = &session.loaded.registry;
        if args.json {
            let json = crate::render::json::plan_json(&planned.plan, registry);
            writeln!(out, "{}", serde_json::to_string(&json)?)?;
        } else {
            crate::render::plan::render_plan(&planned.plan, registry, &mut out, &Default::default())?;
        }
        if let Some(path) = &args.out {
            save(path, &session, &args.options.vars, &planned.plan)?;
            if !args.json {
                writeln!(out, "\nSaved the plan to: {}\nTo perform exactly these actions, run: amlplan apply {}", path.display(), path.display())?;
            }
        }
        let changes = planned.plan.has_changes();
        drop(out);
        let _ = &mut session;
        session.target.close().await;
        Ok(if changes { Outcome::Changes } else { Outcome::Success })
    })
}

fn save(path: &Path, session: &Session, vars: &VarArgs, plan: &Plan) -> anyhow::Result<()> {
    let saved = SavedPlan {
        format: SAVED_PLAN_FORMAT.to_owned(),
        lineage: session.state.lineage.clone(),
        serial: session.state.serial,
        vars: vars.vars.clone(),
        var_files: vars.var_files.clone(),
        configuration: configuration_digest(&session.loaded, &session.key),
        plan: without_secrets(plan, session),
    };
    let text = serde_json::to_string_pretty(&saved)?;
    std::fs::write(path, text)
        .with_context(|| format!("failed to write the plan `{}`", path.display()))
}

/// A keyed digest of what a plan is made from: every configuration and variables file (name
/// and text) and the input values. Keyed because input values may be secrets.
pub fn configuration_digest(loaded: &super::Loaded, key: &engine::secret::SecretKey) -> String {
    let mut text = String::new();
    for file in loaded.config.sources().iter() {
        text.push_str(&format!("{}\0{}\0", file.name(), file.text()));
    }
    text.push_str(&loaded.inputs.fingerprint());
    engine::secret::digest(key, &text)
}

/// The plan with every secret replaced by its keyed digest: a plan file never holds a secret
/// in plaintext. Apply sends the values it re-evaluates from the configuration, not these.
fn without_secrets(plan: &Plan, session: &Session) -> Plan {
    let mut plan = plan.clone();
    for change in plan.changes.iter_mut().chain(plan.drift.iter_mut()) {
        let Some(schema) = session.loaded.registry.get(&change.addr.resource_type) else {
            continue;
        };
        for object in [change.before.as_mut(), change.after.as_mut()]
            .into_iter()
            .flatten()
        {
            engine::secret::digest_secrets(&schema.attributes, &session.key, object);
        }
    }
    plan
}

/// Reads a plan saved by `plan --out`.
pub fn read_saved(path: &Path) -> anyhow::Result<SavedPlan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the plan `{}`", path.display()))?;
    let saved: SavedPlan = serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}` is not a plan saved by `amlplan plan --out`",
            path.display()
        )
    })?;
    anyhow::ensure!(
        saved.format == SAVED_PLAN_FORMAT,
        "`{}` has format `{}`; this amlplan reads `{SAVED_PLAN_FORMAT}`",
        path.display(),
        saved.format
    );
    Ok(saved)
}
