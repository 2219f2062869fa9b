//! The `provider "azureml"` block: its expressions evaluated, then resolved by
//! `engine::settings` (the one table of arguments, environment fallbacks and checks that the
//! Terraform provider uses too). What stays here is the HCL side: evaluating each argument and
//! placing every problem at its attribute's span. No network or file access here.

use std::collections::BTreeMap;

use engine::diag::{Diagnostic, Diagnostics};
use engine::settings::{ProviderSettings, SETTINGS};

use super::eval::Evaluator;
use super::variables::{Environment, eval_diagnostic};
use super::{AttrExpr, Configuration};

/// The names of the provider's arguments, for decoding and suggestions.
pub(crate) fn argument_names() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().map(|setting| setting.name)
}

/// Evaluates the provider block (if any) and applies the environment fallbacks. Problems are
/// pushed to `diagnostics` at the argument they concern; the defaults are returned then.
pub(crate) fn resolve(
    config: &Configuration,
    evaluator: &Evaluator<'_>,
    environment: &Environment,
    diagnostics: &mut Diagnostics,
) -> ProviderSettings {
    let configured: Vec<&AttrExpr> = config
        .provider
        .iter()
        .flat_map(|block| block.attributes.iter())
        .collect();
    let mut values = BTreeMap::new();
    let mut failed = false;
    for attribute in &configured {
        match evaluator.eval(&attribute.expr) {
            Ok(value) => {
                values.insert(attribute.name.clone(), value);
            }
            Err(error) => {
                diagnostics.push(eval_diagnostic(config, attribute.file, error));
                failed = true;
            }
        }
    }
    match engine::settings::resolve(&values, |name| environment.get(name).map(str::to_owned)) {
        Ok(mut settings) => {
            settings.ca_certificate = settings.ca_certificate.map(|path| {
                if path.is_absolute() {
                    path
                } else {
                    config.dir.join(path)
                }
            });
            if failed {
                ProviderSettings::default()
            } else {
                settings
            }
        }
        Err(problems) => {
            for problem in problems {
                let subject = configured
                    .iter()
                    .find(|attribute| attribute.name == problem.name)
                    .map(|attribute| config.span(attribute.file, attribute.value_span.clone()));
                diagnostics.push(Diagnostic {
                    subject,
                    ..Diagnostic::error(problem.summary, problem.detail)
                });
            }
            ProviderSettings::default()
        }
    }
}
