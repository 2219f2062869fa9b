//! `amlplan drift`: refresh and compare the cloud with the state, changing nothing (not even the
//! state). Exit code 0 when they agree, 2 when something changed outside (CI drift jobs).

use std::io::Write as _;
use std::path::Path;

use crate::cli::{DriftArgs, PlanOptions};

use super::session::Session;
use super::{Outcome, load};

/// Runs `drift`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &DriftArgs,
) -> anyhow::Result<Outcome> {
    let loaded = load(dir, &args.vars)?;
    let options = PlanOptions {
        vars: args.vars.clone(),
        state: args.state.clone(),
        refresh_only: true,
        targets: Vec::new(),
        replace: Vec::new(),
        parallelism: 10,
        refresh: true,
    };
    runtime.block_on(async {
        let session = Session::open(dir, loaded, &args.state, "drift").await?;
        let planned = session.plan(&options, false).await?;
        let drifted = !planned.plan.drift.is_empty();
        let mut out = std::io::stdout().lock();
        if args.json {
            let json = crate::render::json::plan_json(&planned.plan, &session.loaded.registry);
            writeln!(out, "{}", serde_json::to_string(&json)?)?;
        } else if drifted {
            crate::render::plan::render_plan(
                &planned.plan,
                &session.loaded.registry,
                &mut out,
                &Default::default(),
            )?;
        } else {
            writeln!(
                out,
                "\nNo drift: the cloud matches the state ({} resources).",
                session.state.addrs().len()
            )?;
        }
        drop(out);
        session.target.close().await;
        Ok(if drifted {
            Outcome::Changes
        } else {
            Outcome::Success
        })
    })
}
