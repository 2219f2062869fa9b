//! `amlplan validate`: load, evaluate with nothing known, report. No API calls, no state.

use std::io::Write as _;
use std::path::Path;

use crate::cli::ValidateArgs;
use crate::config::{NoKnownValues, evaluate};

use super::{Outcome, load, report};

/// Runs `validate`.
pub fn run(dir: &Path, args: &ValidateArgs) -> anyhow::Result<Outcome> {
    let loaded = load(dir, &args.vars)?;
    let (_, diagnostics) = evaluate(&loaded.config, &loaded.inputs, &NoKnownValues);
    report(&loaded.config, &diagnostics)?;
    let count = loaded.config.resource_blocks().len();
    writeln!(
        std::io::stdout().lock(),
        "Success! The configuration is valid ({count} resource blocks)."
    )?;
    Ok(Outcome::Success)
}
