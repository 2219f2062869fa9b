//! The `provider "azureml"` block: its expressions evaluated, then resolved by
//! `engine::settings` (the one table of arguments, environment fallbacks and checks that the
//! Terraform provider uses too). What stays here is the HCL side: evaluating each argument and
//! placing every problem at its attribute's span. No network or file access here.

use std::collections::{BTreeMap, BTreeSet};

use engine::diag::{Diagnostic, Diagnostics};
use engine::settings::{ProviderSettings, SETTINGS};

use super::eval::Evaluator;
use super::spelling::did_you_mean;
use super::variables::{Environment, eval_diagnostic};
use super::{AttrExpr, Configuration, ProviderBlock};

/// The provider configurations a module's blocks may name (`provider = azureml.ALIAS`) and
/// pass on: the root's aliased `provider` blocks, or the `configuration_aliases` a module
/// declares (its caller passes them).
fn usable_aliases(config: &Configuration) -> BTreeSet<&str> {
    if config.is_module() {
        config
            .terraform
            .azureml_configuration_aliases
            .iter()
            .map(String::as_str)
            .collect()
    } else {
        config
            .aliased_providers
            .keys()
            .map(String::as_str)
            .collect()
    }
}

/// The provider references of one configuration: a block's `provider = azureml.ALIAS` and a
/// module call's `providers` values must name a configuration it has; a module configures no
/// `azureml` provider itself (amlplan, as Terraform since 0.13 recommends, takes every
/// configuration from the root module).
pub(crate) fn check_references(config: &Configuration, diagnostics: &mut Diagnostics) {
    if config.is_module() {
        let blocks = config
            .provider
            .iter()
            .chain(config.aliased_providers.values());
        for block in blocks {
            diagnostics.push(Diagnostic {
                subject: Some(config.span(block.file, block.header.clone())),
                ..Diagnostic::error(
                    "Provider configuration in a module",
                    "amlplan takes every `azureml` configuration from the root module: configure it there and pass an aliased one with the module call's `providers` (declare it in this module's `configuration_aliases`)".to_owned(),
                )
            });
        }
    }
    let usable = usable_aliases(config);
    let missing = |alias: &str| -> String {
        if config.is_module() {
            format!(
                "this module has no `azureml.{alias}`: declare it in `required_providers {{ azureml = {{ configuration_aliases = [azureml.{alias}] }} }}` and pass it from the caller's `providers`"
            )
        } else {
            format!(
                "no `provider \"azureml\"` block has `alias = \"{alias}\"`{}",
                did_you_mean(alias, usable.iter().copied())
            )
        }
    };
    for block in &config.blocks {
        if let Some((alias, range)) = &block.provider_alias
            && !usable.contains(alias.as_str())
        {
            diagnostics.push(Diagnostic {
                subject: Some(config.span(block.spans.file, range.clone())),
                ..Diagnostic::error("Provider configuration not present", missing(alias))
            });
        }
    }
    for call in config.modules.values() {
        for pass in &call.providers {
            if let Some(alias) = &pass.parent
                && !usable.contains(alias.as_str())
            {
                diagnostics.push(Diagnostic {
                    subject: Some(config.span(call.file, pass.span.clone())),
                    ..Diagnostic::error("Provider configuration not present", missing(alias))
                });
            }
        }
    }
}

/// A module call's `providers` against the module: every configuration alias the module
/// declares is passed, and only those are.
pub(crate) fn check_passes(
    config: &Configuration,
    name: &str,
    child: &Configuration,
    diagnostics: &mut Diagnostics,
) {
    let call = &config.modules[name];
    let expected = &child.terraform.azureml_configuration_aliases;
    for pass in &call.providers {
        if let Some(alias) = &pass.child
            && !expected.contains(alias)
        {
            diagnostics.push(Diagnostic {
                subject: Some(config.span(call.file, pass.span.clone())),
                ..Diagnostic::error(
                    "Unexpected provider configuration",
                    format!(
                        "the module `{name}` declares no `azureml.{alias}` in its `configuration_aliases`"
                    ),
                )
            });
        }
    }
    for alias in expected {
        if !call
            .providers
            .iter()
            .any(|pass| pass.child.as_ref() == Some(alias))
        {
            diagnostics.push(Diagnostic {
                subject: Some(config.span(call.file, call.header.clone())),
                ..Diagnostic::error(
                    "Missing provider configuration",
                    format!(
                        "the module `{name}` needs `azureml.{alias}`: pass it in `providers = {{ azureml.{alias} = azureml.… }}`"
                    ),
                )
            });
        }
    }
}

/// Which root configuration each of a module instance's `azureml` configurations is: `None`
/// is the root's default one. The root maps every name to itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProviderMap {
    /// The module's default configuration; `None` (the root's default) unless a call passed
    /// another.
    default: Option<String>,
    /// The module's aliases; `None` at the root, where an alias is itself.
    aliases: Option<BTreeMap<String, Option<String>>>,
}

impl ProviderMap {
    /// The root configuration that `alias` (this module's name; `None` for its default) is.
    pub(crate) fn resolve(&self, alias: Option<&str>) -> Option<String> {
        match (alias, &self.aliases) {
            (None, _) => self.default.clone(),
            (Some(alias), None) => Some(alias.to_owned()),
            (Some(alias), Some(aliases)) => aliases.get(alias).cloned().flatten(),
        }
    }

    /// The map of a module called with `passes` from the module this map belongs to: the
    /// default configuration is inherited unless passed.
    pub(crate) fn child(&self, passes: &[super::modules::ProviderPass]) -> ProviderMap {
        let mut default = self.default.clone();
        let mut aliases = BTreeMap::new();
        for pass in passes {
            let parent = self.resolve(pass.parent.as_deref());
            match &pass.child {
                None => default = parent,
                Some(alias) => {
                    aliases.insert(alias.clone(), parent);
                }
            }
        }
        ProviderMap {
            default,
            aliases: Some(aliases),
        }
    }
}

/// The names of the provider's arguments, for decoding and suggestions.
pub(crate) fn argument_names() -> impl Iterator<Item = &'static str> {
    SETTINGS.iter().map(|setting| setting.name)
}

/// Evaluates a provider block (`None`: the default configuration has no block) and applies
/// the environment fallbacks. Problems are pushed to `diagnostics` at the argument they
/// concern; the defaults are returned then.
pub(crate) fn resolve(
    config: &Configuration,
    block: Option<&ProviderBlock>,
    evaluator: &Evaluator<'_>,
    environment: &Environment,
    diagnostics: &mut Diagnostics,
) -> ProviderSettings {
    let configured: Vec<&AttrExpr> = block
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
