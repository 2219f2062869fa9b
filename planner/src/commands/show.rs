//! `amlplan show [PLANFILE]` and `amlplan output`: read the saved plan or the state. Secrets are
//! never shown (the state holds only their digests anyway).

use std::io::Write as _;
use std::path::Path;

use engine::addr::ResourceAddr;
use engine::value::Value;

use crate::cli::{OutputArgs, ShowArgs};

use super::Outcome;
use super::plan::read_saved;
use super::session::state_path;

/// Runs `show`.
pub fn run(dir: &Path, args: &ShowArgs) -> anyhow::Result<Outcome> {
    let registry = engine::schema::load_registry()?;
    let mut out = std::io::stdout().lock();
    if let Some(path) = &args.plan_file {
        let saved = read_saved(path)?;
        if args.json {
            let json = crate::render::json::plan_json(&saved.plan, &registry);
            writeln!(out, "{}", serde_json::to_string(&json)?)?;
        } else {
            crate::render::plan::render_plan(
                &saved.plan,
                &registry,
                &mut out,
                &Default::default(),
            )?;
        }
        return Ok(Outcome::Success);
    }
    let path = state_path(dir, args.state.as_deref(), None)?;
    let Some(state) = engine::state::read(&path)? else {
        writeln!(out, "No state.")?;
        return Ok(Outcome::Success);
    };
    if args.json {
        writeln!(out, "{}", state.to_json())?;
        return Ok(Outcome::Success);
    }
    for addr in state.addrs() {
        show_resource(&mut out, &state, &registry, &addr)?;
    }
    Ok(Outcome::Success)
}

/// Runs `output`: the root outputs as Terraform's `output` shows them.
pub fn run_output(dir: &Path, args: &OutputArgs) -> anyhow::Result<Outcome> {
    let path = state_path(dir, args.state.as_deref(), None)?;
    let state = engine::state::read(&path)?.unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let Some(name) = &args.name else {
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&state.outputs)?)?;
        } else if state.outputs.is_empty() {
            eprintln_warning(
                "No outputs found",
                "The state either has no outputs defined, or all the defined outputs are null.",
            );
        } else {
            for (name, entry) in &state.outputs {
                let sensitive = entry["sensitive"].as_bool().unwrap_or(false);
                let shown = if sensitive {
                    "<sensitive>".to_owned()
                } else {
                    hcl_value(&Value::from_json(&entry["value"]), 0)
                };
                writeln!(out, "{name} = {shown}")?;
            }
        }
        return Ok(Outcome::Success);
    };
    let Some(entry) = state.outputs.get(name) else {
        anyhow::bail!(
            "output `{name}` not found: the state has no output of that name (declare it and apply, or check `amlplan output`)"
        );
    };
    let value = Value::from_json(&entry["value"]);
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&entry["value"])?)?;
    } else if args.raw {
        match &value {
            Value::String(text) => write!(out, "{text}")?,
            Value::Number(_) | Value::Bool(_) => write!(out, "{value}")?,
            _ => anyhow::bail!(
                "output `{name}` is a {}, and --raw prints only strings, numbers and bools; use --json",
                value.kind_name()
            ),
        }
    } else {
        writeln!(out, "{}", hcl_value(&value, 0))?;
    }
    Ok(Outcome::Success)
}

fn eprintln_warning(summary: &str, detail: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "warning: {summary}
  = note: {detail}"
    );
}

/// A value in the layout `terraform output` uses: collections one element per line.
fn hcl_value(value: &Value, depth: usize) -> String {
    let indent = "  ".repeat(depth + 1);
    let closing = "  ".repeat(depth);
    match value {
        Value::List(items) if items.is_empty() => "[]".to_owned(),
        Value::List(items) => {
            let lines: Vec<String> = items
                .iter()
                .map(|item| format!("{indent}{},\n", hcl_value(item, depth + 1)))
                .collect();
            format!("[\n{}{closing}]", lines.concat())
        }
        Value::Map(entries) if entries.is_empty() => "{}".to_owned(),
        Value::Map(entries) => {
            let width = entries
                .keys()
                .map(|key| key_text(key).len())
                .max()
                .unwrap_or(0);
            let lines: Vec<String> = entries
                .iter()
                .map(|(key, item)| {
                    format!(
                        "{indent}{:width$} = {}\n",
                        key_text(key),
                        hcl_value(item, depth + 1)
                    )
                })
                .collect();
            format!("{{\n{}{closing}}}", lines.concat())
        }
        Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// An object key as Terraform prints it: bare when it is an identifier, else quoted.
fn key_text(key: &str) -> String {
    let identifier = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if identifier {
        key.to_owned()
    } else {
        serde_json::to_string(key).unwrap_or_default()
    }
}

/// Prints one resource of the state as `terraform state show` does (secrets hidden).
pub(super) fn show_resource(
    out: &mut impl std::io::Write,
    state: &engine::state::State,
    registry: &engine::schema::Registry,
    addr: &ResourceAddr,
) -> anyhow::Result<()> {
    let Some(schema) = registry.get(&addr.resource_type) else {
        return Ok(());
    };
    let Some(object) = state.object(addr, schema) else {
        return Ok(());
    };
    writeln!(
        out,
        "# {addr}:\nresource \"{}\" \"{}\" {{",
        addr.resource_type, addr.name
    )?;
    let width = object.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, value) in object.iter() {
        if value.is_null() {
            continue;
        }
        let secret = schema
            .attribute(name)
            .is_some_and(|attribute| attribute.sensitive || attribute.write_only);
        let shown = match value {
            _ if secret => "(sensitive value)".to_owned(),
            Value::String(text) => serde_json::to_string(text)?,
            other => serde_json::to_string(&other.to_json())?,
        };
        writeln!(out, "    {name:<width$} = {shown}")?;
    }
    writeln!(out, "}}\n")?;
    Ok(())
}
