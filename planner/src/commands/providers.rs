//! `amlplan providers`: the provider requirements of the configuration, module by module, and
//! of the state, printed as `terraform providers` prints them (a tree of `module.NAME`
//! branches). Read-only: no lock, no API call.
//!
//! A module requires what Terraform's `ProviderRequirementsByModule` finds in it:
//!
//! | from                                       | provider                                          |
//! |--------------------------------------------|---------------------------------------------------|
//! | `required_providers { NAME = {...} }`      | its `source` (with its `version` constraints)     |
//! | `provider "NAME"` (its legacy `version`)   | NAME's source in `required_providers`, else below |
//! | a `resource`/`data` block                  | the provider its `provider` argument or its type's prefix names |
//! | a local name without `source`              | `registry.terraform.io/hashicorp/NAME` (`terraform`: the built-in one) |
//!
//! Terraform prints them in Go map order (it differs from run to run); amlplan sorts them.
//! Constraints are written in Terraform's canonical form (`>= 0.1, < 2` is `>= 0.1.0, <
//! 2.0.0`).
//!
//! The requirements come from each configuration's decoded `terraform` and `provider` blocks
//! (`TerraformSettings::required_providers`, `provider_blocks`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;

use crate::cli::ProvidersArgs;
use crate::config::Configuration;

use super::{Outcome, report};

/// One module's requirements and its calls'.
#[derive(Debug, Default)]
struct Requirements {
    /// Provider address → version constraints.
    providers: BTreeMap<String, Vec<String>>,
    /// Module call name → its module's requirements.
    children: BTreeMap<String, Requirements>,
}

/// Runs `providers`.
pub fn run(dir: &Path, args: &ProvidersArgs) -> anyhow::Result<Outcome> {
    let registry = engine::schema::load_registry()?;
    let (config, diagnostics) = Configuration::load_dir(dir, &registry)?;
    report(&config, &diagnostics)?;
    let requirements = requirements(&config);
    let mut tree = String::from(".\n");
    write_tree(&requirements, "", &mut tree);
    let mut out = std::io::stdout().lock();
    write!(out, "\nProviders required by configuration:\n{tree}\n")?;

    let path = match &args.state {
        Some(path) => path.clone(),
        None => {
            let default = config
                .terraform_settings()
                .state_path
                .clone()
                .unwrap_or_else(|| "terraform.tfstate".to_owned());
            let workspace = super::workspace::current(dir)?;
            super::workspace::state_path(dir, Path::new(&default), &workspace)
        }
    };
    let from_state: BTreeSet<String> = engine::state::read_unchecked(&path)?
        .map(|state| {
            state
                .resources
                .iter()
                .filter_map(|entry| provider_of_entry(&entry.provider))
                .collect()
        })
        .unwrap_or_default();
    if !from_state.is_empty() {
        write!(out, "Providers required by state:\n\n")?;
        for provider in from_state {
            write!(out, "    provider[{provider}]\n\n")?;
        }
    }
    Ok(Outcome::Success)
}

/// The requirements of `config` and of every module it calls.
fn requirements(config: &Configuration) -> Requirements {
    let settings = config.terraform_settings();
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    let mut constraints: Vec<(String, String)> = Vec::new();
    let mut local_names: BTreeSet<String> = BTreeSet::new();
    for (name, requirement) in &settings.required_providers {
        sources.insert(
            name.clone(),
            requirement.source.clone().unwrap_or_else(|| name.clone()),
        );
        for version in &requirement.versions {
            constraints.push((name.clone(), version.clone()));
        }
    }
    for (name, version) in &settings.provider_blocks {
        if let Some(version) = version {
            constraints.push((name.clone(), version.clone()));
        }
        local_names.insert(name.clone());
    }
    for block in config.resource_blocks() {
        let resource_type = &block.addr().resource_type;
        let name = block
            .foreign_provider()
            .unwrap_or_else(|| resource_type.split('_').next().unwrap_or(resource_type));
        local_names.insert(name.to_owned());
    }
    let address = |name: &str| {
        sources
            .get(name)
            .map_or_else(|| implied_address(name), |source| source_address(source))
    };
    let mut providers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in sources.keys().chain(&local_names) {
        providers.entry(address(name)).or_default();
    }
    for (name, constraint) in constraints {
        providers
            .entry(address(&name))
            .or_default()
            .push(constraint);
    }
    let children = config
        .modules
        .iter()
        .map(|(name, call)| {
            let child = call.config.as_deref().map(requirements).unwrap_or_default();
            (name.clone(), child)
        })
        .collect();
    Requirements {
        providers,
        children,
    }
}

/// The provider a local name stands for when `required_providers` does not say.
fn implied_address(name: &str) -> String {
    match name {
        "terraform" => "terraform.io/builtin/terraform".to_owned(),
        other => format!("registry.terraform.io/hashicorp/{}", other.to_lowercase()),
    }
}

/// A `source` as a full provider address (`hashicorp/azurerm` is
/// `registry.terraform.io/hashicorp/azurerm`).
fn source_address(source: &str) -> String {
    let source = source.to_lowercase();
    match source.split('/').count() {
        1 => implied_address(&source),
        2 => format!("registry.terraform.io/{source}"),
        _ => source,
    }
}

/// The provider of a state entry (`provider["ADDRESS"]`, maybe `.alias`, maybe in a module).
fn provider_of_entry(provider: &str) -> Option<String> {
    let start = provider.find("provider[\"")? + "provider[\"".len();
    let end = provider[start..].find("\"]")? + start;
    Some(provider[start..end].to_owned())
}

/// The tree as `treeprint` draws it: providers first, then module branches.
fn write_tree(requirements: &Requirements, indent: &str, out: &mut String) {
    let mut items: Vec<(String, Option<&Requirements>)> = requirements
        .providers
        .iter()
        .map(|(provider, constraints)| {
            let constraints = canonical_constraints(constraints);
            let shown = if constraints.is_empty() {
                format!("provider[{provider}]")
            } else {
                format!("provider[{provider}] {constraints}")
            };
            (shown, None)
        })
        .collect();
    items.extend(
        requirements
            .children
            .iter()
            .map(|(name, child)| (format!("module.{name}"), Some(child))),
    );
    let count = items.len();
    for (index, (shown, child)) in items.into_iter().enumerate() {
        let last = index + 1 == count;
        let (branch, continuation) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        out.push_str(&format!("{indent}{branch}{shown}\n"));
        if let Some(child) = child {
            write_tree(child, &format!("{indent}{continuation}"), out);
        }
    }
}

/// Terraform's `VersionConstraintsString`: every part once, sorted by version then operator,
/// versions written in full (`~> 1.2` keeps two parts).
fn canonical_constraints(constraints: &[String]) -> String {
    // Terraform's operator order for equal versions.
    const ORDER: [&str; 8] = [">", ">=", "=", "~>3", "~>2", "<=", "<", "!="];
    let mut parts: Vec<(Vec<u64>, bool, String, usize, String)> = Vec::new();
    for part in constraints.iter().flat_map(|text| text.split(',')) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (operator, version) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .into_iter()
            .find_map(|operator| Some((operator, part.strip_prefix(operator)?.trim())))
            .unwrap_or(("=", part));
        let (numbers, extra) = version
            .find(['-', '+'])
            .map_or((version, ""), |at| version.split_at(at));
        let Ok(mut segments) = numbers
            .split('.')
            .map(str::parse::<u64>)
            .collect::<Result<Vec<u64>, _>>()
        else {
            parts.push((Vec::new(), false, String::new(), 0, part.to_owned()));
            continue;
        };
        let written = segments.len();
        segments.resize(3, 0);
        let (rank, shown) = match operator {
            "~>" if written < 3 => ("~>2", format!("~> {}.{}", segments[0], segments[1])),
            "~>" => ("~>3", format!("~> {}", join(&segments))),
            "=" => ("=", join(&segments)),
            other => (other, format!("{other} {}", join(&segments))),
        };
        let rank = ORDER.iter().position(|name| *name == rank).unwrap_or(0);
        let pre_release = extra.split('+').next().unwrap_or_default().to_owned();
        parts.push((
            segments,
            pre_release.is_empty(),
            pre_release,
            rank,
            format!("{shown}{extra}"),
        ));
    }
    parts.sort();
    let mut seen = BTreeSet::new();
    parts
        .into_iter()
        .map(|(.., shown)| shown)
        .filter(|shown| seen.insert(shown.clone()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(segments: &[u64]) -> String {
    segments
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_are_written_as_terraform_writes_them() {
        let text = |parts: &[&str]| {
            canonical_constraints(
                &parts
                    .iter()
                    .map(|part| (*part).to_owned())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(text(&[">= 0.1, < 2"]), ">= 0.1.0, < 2.0.0");
        assert_eq!(text(&["~> 3.0"]), "~> 3.0");
        assert_eq!(text(&["~> 2"]), "~> 2.0");
        assert_eq!(text(&["~> 1.2.3", "1.2.3"]), "1.2.3, ~> 1.2.3");
        assert_eq!(text(&["< 2.0", ">= 1.0", ">= 1"]), ">= 1.0.0, < 2.0.0");
        assert_eq!(text(&["!= 1.5.0-beta"]), "!= 1.5.0-beta");
        assert_eq!(text(&[]), "");
    }

    #[test]
    fn sources_are_full_addresses() {
        assert_eq!(
            source_address("hashicorp/azurerm"),
            "registry.terraform.io/hashicorp/azurerm"
        );
        assert_eq!(
            source_address("azureml.local/azureml/azureml"),
            "azureml.local/azureml/azureml"
        );
        assert_eq!(
            implied_address("terraform"),
            "terraform.io/builtin/terraform"
        );
        assert_eq!(
            provider_of_entry("module.a.provider[\"registry.terraform.io/hashicorp/aws\"].west"),
            Some("registry.terraform.io/hashicorp/aws".to_owned())
        );
    }
}
