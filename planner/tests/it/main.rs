//! Integration tests of the `planner` crate, one binary (STYLE §6).

mod cli;
mod config;
mod diagnostics;
mod examples;
mod flags;
mod fmt;
mod plan_snapshots;
mod render;
mod runs;
mod scenarios;
mod served;

use std::path::Path;

use engine::diag::Diagnostics;
use planner::config::{Configuration, EvaluatedConfig, InputValues, KnownValues, evaluate};
use planner::render::diagnostic::diagnostics_to_string;

/// Loads inline files as the folder `examples/demo`.
#[track_caller]
pub fn load(files: &[(&str, &str)]) -> (Configuration, Diagnostics) {
    let registry = engine::schema::load_registry().expect("the catalogue is valid");
    Configuration::from_sources(Path::new("examples/demo"), files, &registry)
}

/// Loads and, when loading found no error, evaluates; returns everything and all diagnostics.
#[track_caller]
pub fn load_and_evaluate(
    files: &[(&str, &str)],
    inputs: &InputValues,
    known: &dyn KnownValues,
) -> (Configuration, Option<EvaluatedConfig>, Diagnostics) {
    let (config, mut diagnostics) = load(files);
    if diagnostics.has_errors() {
        return (config, None, diagnostics);
    }
    let (evaluated, more) = evaluate(&config, inputs, known);
    diagnostics.extend(more);
    (config, Some(evaluated), diagnostics)
}

/// What `amlplan validate` would print for these files.
#[track_caller]
pub fn rendered(files: &[(&str, &str)]) -> String {
    let (config, _, diagnostics) =
        load_and_evaluate(files, &InputValues::new(), &planner::config::NoKnownValues);
    diagnostics_to_string(&config.locate_all(diagnostics), config.sources())
}
