//! The machine plan: the `terraform show -json` plan shape, format 1.2, so tools written for
//! Terraform plans (policy checks, CI summaries, the parity test against `terraform plan`) read
//! `amlplan plan --json` unchanged. A consumer of [`Plan`] like the human renderer; it decides
//! nothing.
//!
//! ```json
//! {
//!   "format_version": "1.2",
//!   "terraform_version": "0.1.0",
//!   "planned_values": {"root_module": {"resources": [...]}},
//!   "resource_drift": [...],
//!   "resource_changes": [{
//!     "address": "azureml_compute_cluster.cpu", "mode": "managed",
//!     "type": "azureml_compute_cluster", "name": "cpu",
//!     "provider_name": "azureml.local/azureml/azureml",
//!     "change": {"actions": ["update"], "before": {...}, "after": {...}, "after_unknown": {},
//!                "before_sensitive": {}, "after_sensitive": {}},
//!   }],
//!   "applyable": true, "complete": true, "errored": false
//! }
//! ```
//!
//! As in Terraform: `after` leaves out unknown values (unknown list elements are `null`) and
//! `after_unknown` mirrors it with `true` where a value is unknown; `before_sensitive` and
//! `after_sensitive` mirror the values with `true` for sensitive attributes; `replace_paths` is
//! left out when empty, `action_reason` when there is none, `index` without an instance key.
//! Unlike Terraform, sensitive and write-only values are `null` in `before`/`after` (a plan file
//! may be shared; secrets, and their state digests, never leave amlplan), and
//! `resource_changes`/`resource_drift` are always present (possibly empty). Outputs, variables,
//! the configuration and the prior state are not included.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use engine::addr::{InstanceKey, Mode, PathStep, ResourceAddr};
use engine::plan::{Plan, ResourceChange};
use engine::schema::{AttrType, Attribute, Registry};
use engine::value::{ObjectValue, Value};

/// The provider address in `provider_name` (as configurations spell it in `required_providers`).
pub const PROVIDER_NAME: &str = "azureml.local/azureml/azureml";

/// The plan format version this module writes.
pub const FORMAT_VERSION: &str = "1.2";

/// Options of [`plan_json_with`].
#[derive(Debug, Clone, Default)]
pub struct JsonOptions {
    /// The plan was restricted with `--target` (`complete` is then `false`, as in Terraform).
    pub targeted: bool,
}

/// The plan as `terraform show -json` shows a saved plan.
pub fn plan_json(plan: &Plan, registry: &Registry) -> Json {
    plan_json_with(plan, registry, &JsonOptions::default())
}

/// [`plan_json`] with options.
pub fn plan_json_with(plan: &Plan, registry: &Registry, options: &JsonOptions) -> Json {
    let mut resources: Vec<&ResourceChange> = plan.changes.iter().collect();
    resources.sort_by(|a, b| a.addr.cmp(&b.addr));
    let planned: Vec<Json> = resources
        .iter()
        .filter_map(|change| {
            let after = change.after.as_ref()?;
            let mut entry = address_fields(&change.addr);
            let schema = registry
                .get(&change.addr.resource_type)
                .map(|schema| change.view(schema));
            let attributes = schema.as_ref().map(|schema| &schema.attributes);
            entry.insert(
                "schema_version".to_owned(),
                json!(schema.as_ref().map_or(0, |schema| schema.version)),
            );
            entry.insert("values".to_owned(), object_values(attributes, after));
            entry.insert(
                "sensitive_values".to_owned(),
                object_sensitive(attributes, after),
            );
            Some(Json::Object(entry))
        })
        .collect();
    let mut changes: Vec<Json> = resources
        .iter()
        .map(|change| resource_change_json(change, registry))
        .collect();
    for addr in &plan.forgotten {
        // Terraform 1.7's action for a `removed` block with `destroy = false`.
        let mut entry = address_fields(addr);
        entry.insert(
            "change".to_owned(),
            json!({"actions": ["forget"], "before": null, "after": null}),
        );
        changes.push(Json::Object(entry));
    }
    let mut drift: Vec<&ResourceChange> = plan.drift.iter().collect();
    drift.sort_by(|a, b| a.addr.cmp(&b.addr));
    let drift: Vec<Json> = drift
        .iter()
        .map(|change| resource_change_json(change, registry))
        .collect();
    let mut document = json!({
        "format_version": FORMAT_VERSION,
        "terraform_version": env!("CARGO_PKG_VERSION"),
        "planned_values": {"root_module": {"resources": planned}},
        "resource_drift": drift,
        "resource_changes": changes,
        "applyable": plan.has_changes(),
        "complete": !options.targeted,
        "errored": false,
    });
    if !plan.outputs.is_empty() {
        document["output_changes"] = output_changes(plan);
    }
    document
}

/// `output_changes`: each changed root output, as Terraform writes it (sensitive values null).
fn output_changes(plan: &Plan) -> Json {
    let value = |value: &Option<Value>, sensitive: bool| match value {
        Some(value) if !sensitive && !value.contains_unknown() => value.to_json(),
        _ => Json::Null,
    };
    let entries: Map<String, Json> = plan
        .outputs
        .iter()
        .map(|output| {
            let after_unknown = output.after.as_ref().is_some_and(Value::contains_unknown);
            (
                output.name.clone(),
                json!({
                    "actions": [output.action()],
                    "before": value(&output.before, output.sensitive),
                    "after": value(&output.after, output.sensitive),
                    "after_unknown": after_unknown,
                    "before_sensitive": output.sensitive,
                    "after_sensitive": output.sensitive,
                }),
            )
        })
        .collect();
    Json::Object(entries)
}

/// One entry of `resource_changes` or `resource_drift`.
pub fn resource_change_json(change: &ResourceChange, registry: &Registry) -> Json {
    let schema = registry
        .get(&change.addr.resource_type)
        .map(|schema| change.view(schema));
    let attributes = schema.as_ref().map(|schema| &schema.attributes);
    let mut body = Map::new();
    body.insert(
        "actions".to_owned(),
        json!(change.action.terraform_actions()),
    );
    if let Some(id) = &change.importing {
        body.insert("importing".to_owned(), json!({"id": id}));
    }
    body.insert(
        "before".to_owned(),
        change
            .before
            .as_ref()
            .map_or(Json::Null, |before| object_values(attributes, before)),
    );
    body.insert(
        "after".to_owned(),
        change
            .after
            .as_ref()
            .map_or(Json::Null, |after| object_values(attributes, after)),
    );
    body.insert(
        "after_unknown".to_owned(),
        change
            .after
            .as_ref()
            .map_or_else(|| json!({}), object_unknown),
    );
    body.insert(
        "before_sensitive".to_owned(),
        change.before.as_ref().map_or(Json::Bool(false), |before| {
            object_sensitive(attributes, before)
        }),
    );
    body.insert(
        "after_sensitive".to_owned(),
        change.after.as_ref().map_or(Json::Bool(false), |after| {
            object_sensitive(attributes, after)
        }),
    );
    if !change.replace_paths.is_empty() {
        body.insert(
            "replace_paths".to_owned(),
            Json::Array(
                change
                    .replace_paths
                    .iter()
                    .map(|path| {
                        Json::Array(
                            path.0
                                .iter()
                                .map(|step| match step {
                                    PathStep::Attr(name) | PathStep::Key(name) => json!(name),
                                    PathStep::Index(index) => json!(index),
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            ),
        );
    }
    let mut entry = address_fields(&change.addr);
    if let Some(previous) = &change.previous_addr {
        entry.insert("previous_address".to_owned(), json!(previous.to_string()));
    }
    entry.insert("change".to_owned(), Json::Object(body));
    if let Some(reason) = change.reason.and_then(|reason| reason.terraform_reason()) {
        entry.insert("action_reason".to_owned(), json!(reason));
    }
    Json::Object(entry)
}

/// `address`, `mode`, `type`, `name`, `index` (with a key) and `provider_name`.
fn address_fields(addr: &ResourceAddr) -> Map<String, Json> {
    let mut fields = Map::new();
    fields.insert("address".to_owned(), json!(addr.to_string()));
    if !addr.module.is_root() {
        fields.insert("module_address".to_owned(), json!(addr.module.to_string()));
    }
    fields.insert(
        "mode".to_owned(),
        json!(match addr.mode {
            Mode::Managed => "managed",
            Mode::Data => "data",
        }),
    );
    fields.insert("type".to_owned(), json!(addr.resource_type));
    fields.insert("name".to_owned(), json!(addr.name));
    match &addr.key {
        Some(InstanceKey::Index(index)) => {
            fields.insert("index".to_owned(), json!(index));
        }
        Some(InstanceKey::Key(key)) => {
            fields.insert("index".to_owned(), json!(key));
        }
        None => {}
    }
    fields.insert("provider_name".to_owned(), json!(PROVIDER_NAME));
    fields
}

/// The schema facts of one value.
#[derive(Clone, Copy)]
struct Typed<'a> {
    ty: Option<&'a AttrType>,
    secret: bool,
}

impl<'a> Typed<'a> {
    fn of(attribute: Option<&'a Attribute>) -> Typed<'a> {
        Typed {
            ty: attribute.map(|attribute| &attribute.ty),
            secret: attribute.is_some_and(|attribute| attribute.sensitive || attribute.write_only),
        }
    }

    fn element(self) -> Typed<'a> {
        Typed {
            ty: match self.ty {
                Some(AttrType::List(element) | AttrType::Map(element)) => Some(element),
                _ => None,
            },
            secret: false,
        }
    }

    fn attributes(self) -> Option<&'a BTreeMap<String, Attribute>> {
        match self.ty {
            Some(AttrType::Object(attributes)) => Some(attributes),
            _ => None,
        }
    }
}

/// The names of an object: its values plus every schema attribute (absent ones are null).
fn member_names<'a>(
    attributes: Option<&'a BTreeMap<String, Attribute>>,
    values: &'a BTreeMap<String, Value>,
) -> Vec<&'a String> {
    let mut names: Vec<&String> = values
        .keys()
        .chain(attributes.into_iter().flat_map(BTreeMap::keys))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A resource object for `before`/`after`/`values`: unknowns left out, secrets `null`.
fn object_values(attributes: Option<&BTreeMap<String, Attribute>>, object: &ObjectValue) -> Json {
    members_values(attributes, &object.0)
}

fn members_values(
    attributes: Option<&BTreeMap<String, Attribute>>,
    values: &BTreeMap<String, Value>,
) -> Json {
    let mut members = Map::new();
    for name in member_names(attributes, values) {
        let typed = Typed::of(attributes.and_then(|attributes| attributes.get(name)));
        let value = values.get(name).unwrap_or(&Value::Null);
        if let Some(json) = value_json(typed, value) {
            members.insert(name.clone(), json);
        }
    }
    Json::Object(members)
}

/// `None` for an unknown value (left out of its object).
fn value_json(typed: Typed<'_>, value: &Value) -> Option<Json> {
    if matches!(value, Value::Unknown) {
        return None;
    }
    if typed.secret {
        return Some(Json::Null);
    }
    Some(match value {
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|item| value_json(typed.element(), item).unwrap_or(Json::Null))
                .collect(),
        ),
        Value::Map(entries) => match typed.attributes() {
            Some(attributes) => members_values(Some(attributes), entries),
            None => Json::Object(
                entries
                    .iter()
                    .filter_map(|(key, item)| {
                        value_json(typed.element(), item).map(|json| (key.clone(), json))
                    })
                    .collect(),
            ),
        },
        other => other.to_json(),
    })
}

/// `after_unknown` of a resource object: `true` where unknown; known leaves are left out.
fn object_unknown(object: &ObjectValue) -> Json {
    unknown_json(&Value::Map(object.0.clone()))
}

/// Terraform's `unknownAsBool`.
fn unknown_json(value: &Value) -> Json {
    match value {
        Value::Unknown => Json::Bool(true),
        Value::List(items) => Json::Array(items.iter().map(unknown_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), unknown_json(item)))
                .filter(|(_, json)| *json != Json::Bool(false))
                .collect(),
        ),
        _ => Json::Bool(false),
    }
}

/// `before_sensitive`/`after_sensitive`/`sensitive_values` of a resource object.
fn object_sensitive(
    attributes: Option<&BTreeMap<String, Attribute>>,
    object: &ObjectValue,
) -> Json {
    members_sensitive(attributes, &object.0)
}

fn members_sensitive(
    attributes: Option<&BTreeMap<String, Attribute>>,
    values: &BTreeMap<String, Value>,
) -> Json {
    let mut members = Map::new();
    for name in member_names(attributes, values) {
        let typed = Typed::of(attributes.and_then(|attributes| attributes.get(name)));
        let value = values.get(name).unwrap_or(&Value::Null);
        let json = sensitive_json(typed, value);
        if json != Json::Bool(false) {
            members.insert(name.clone(), json);
        }
    }
    Json::Object(members)
}

/// Terraform's `SensitiveAsBool`: `true` for a sensitive value (set or not), containers
/// mirrored (false members left out of objects), `false` for everything else.
fn sensitive_json(typed: Typed<'_>, value: &Value) -> Json {
    if typed.secret {
        return Json::Bool(true);
    }
    match value {
        Value::List(items) => Json::Array(
            items
                .iter()
                .map(|item| sensitive_json(typed.element(), item))
                .collect(),
        ),
        Value::Map(entries) => match typed.attributes() {
            Some(attributes) => members_sensitive(Some(attributes), entries),
            None => Json::Object(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), sensitive_json(typed.element(), item)))
                    .filter(|(_, json)| *json != Json::Bool(false))
                    .collect(),
            ),
        },
        Value::Unknown => match typed.ty {
            Some(AttrType::List(_)) => json!([]),
            Some(AttrType::Map(_) | AttrType::Object(_)) => json!({}),
            _ => Json::Bool(false),
        },
        _ => Json::Bool(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn unknowns_are_left_out_of_values_and_marked_in_after_unknown() {
        let value = Value::Map(BTreeMap::from([
            ("id".to_owned(), Value::Unknown),
            ("name".to_owned(), Value::from("x")),
            (
                "list".to_owned(),
                Value::List(vec![Value::from("a"), Value::Unknown]),
            ),
        ]));
        let any = Typed {
            ty: None,
            secret: false,
        };
        assert_eq!(
            value_json(any, &value),
            Some(json!({"name": "x", "list": ["a", null]}))
        );
        assert_eq!(
            unknown_json(&value),
            json!({"id": true, "list": [false, true]})
        );
    }

    #[test]
    fn secrets_are_null_and_marked_sensitive_even_when_unset() {
        let secret = Typed {
            ty: Some(&AttrType::String),
            secret: true,
        };
        assert_eq!(
            value_json(secret, &Value::from("hunter2")),
            Some(Json::Null)
        );
        assert_eq!(sensitive_json(secret, &Value::Null), Json::Bool(true));
        assert_eq!(value_json(secret, &Value::Unknown), None);
    }
}
