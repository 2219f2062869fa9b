//! Engine schemas, values and diagnostics → response messages.
//!
//! Schema mapping (one generic function over the catalogue, [`block`]):
//!
//! | catalogue | tfplugin6 |
//! |---|---|
//! | `required` / `optional` / `computed` / `optional_computed` | the same flags; `optional` with a `default` is also `computed` (the plan fills the service default) |
//! | `sensitive` | `sensitive` |
//! | `write_only` | `write_only` + `sensitive`: Terraform >= 1.11 never stores it, older clients do not know the field and treat it as sensitive |
//! | configurable `object` | nested block, SINGLE (min = max = 1 when required, else 0) |
//! | configurable `list(object)` | nested block, LIST (min 1 when required) |
//! | configurable `map(object)` | attribute with a nested type, MAP (`name = { key = { ... } }`) |
//! | computed objects, scalars, `list(T)`, `map(T)` | attribute with cty type JSON |
//! | descriptions | markdown (they use backticks) |

use std::collections::BTreeMap;

use engine::addr::{AttrPath, PathStep};
use engine::diag::{Diagnostic, Diagnostics, Severity, Subject};
use engine::schema::{Attribute, Presence, ResourceSchema};
use engine::value::{ObjectValue, Value};

use super::ConvertError;
use super::cty::{Nesting, from_attr_type, nesting, object_type};
use super::{msgpack, shape};
use crate::proto::tfplugin6 as proto;
use proto::schema::nested_block::NestingMode;

/// The schema of a resource type.
pub fn schema(resource: &ResourceSchema) -> proto::Schema {
    proto::Schema {
        version: i64::try_from(resource.version).unwrap_or(i64::MAX),
        block: Some(block(&resource.attributes, &resource.description)),
    }
}

/// A schema block over catalogue attributes (a resource, the provider, or a nested block).
pub fn block(attributes: &BTreeMap<String, Attribute>, description: &str) -> proto::schema::Block {
    let mut result = proto::schema::Block {
        description: description.to_owned(),
        description_kind: proto::StringKind::Markdown as i32,
        ..Default::default()
    };
    for (name, attribute) in attributes {
        match (nesting(attribute), attribute.ty.nested_attributes()) {
            (Some(Nesting::SingleBlock), Some(nested)) => {
                result
                    .block_types
                    .push(nested_block(name, attribute, NestingMode::Single, nested));
            }
            (Some(Nesting::ListBlock), Some(nested)) => {
                result
                    .block_types
                    .push(nested_block(name, attribute, NestingMode::List, nested));
            }
            _ => result.attributes.push(self::attribute(name, attribute)),
        }
    }
    result
}

fn nested_block(
    name: &str,
    attribute: &Attribute,
    mode: NestingMode,
    nested: &BTreeMap<String, Attribute>,
) -> proto::schema::NestedBlock {
    let required = i64::from(attribute.presence == Presence::Required);
    // SINGLE needs min = max (both 1 when required); LIST has no upper bound (0).
    let max_items = if mode == NestingMode::Single {
        required
    } else {
        0
    };
    proto::schema::NestedBlock {
        type_name: name.to_owned(),
        block: Some(block(nested, &attribute.description)),
        nesting: mode as i32,
        min_items: required,
        max_items,
    }
}

/// One attribute: a plain typed attribute, or (configurable maps of objects, and any object
/// inside one) an attribute with a nested type, which has no type JSON.
fn attribute(name: &str, attribute: &Attribute) -> proto::schema::Attribute {
    let (required, optional, computed) = match attribute.presence {
        Presence::Required => (true, false, false),
        Presence::Optional => (false, true, attribute.default.is_some()),
        Presence::Computed => (false, false, true),
        Presence::OptionalComputed => (false, true, true),
    };
    let mut result = proto::schema::Attribute {
        name: name.to_owned(),
        description: attribute.description.clone(),
        description_kind: proto::StringKind::Markdown as i32,
        required,
        optional,
        computed,
        sensitive: attribute.sensitive || attribute.write_only,
        write_only: attribute.write_only,
        ..Default::default()
    };
    match (nesting(attribute), attribute.ty.nested_attributes()) {
        (Some(Nesting::MapAttribute), Some(nested)) => {
            result.nested_type = Some(nested_type(proto::schema::object::NestingMode::Map, nested));
        }
        _ => {
            result.r#type = from_attr_type(&attribute.ty)
                .to_json()
                .to_string()
                .into_bytes()
        }
    }
    result
}

fn nested_type(
    mode: proto::schema::object::NestingMode,
    attributes: &BTreeMap<String, Attribute>,
) -> proto::schema::Object {
    use proto::schema::object::NestingMode as ObjectNesting;
    let attributes = attributes
        .iter()
        .map(|(name, inner)| {
            // Inside a nested type everything is an attribute: objects nest further.
            let inner_mode = match nesting(inner) {
                Some(Nesting::SingleBlock) => Some(ObjectNesting::Single),
                Some(Nesting::ListBlock) => Some(ObjectNesting::List),
                Some(Nesting::MapAttribute) => Some(ObjectNesting::Map),
                None => None,
            };
            match (inner_mode, inner.ty.nested_attributes()) {
                (Some(inner_mode), Some(nested)) => {
                    let mut converted = attribute(
                        name,
                        &Attribute {
                            ty: engine::schema::AttrType::String,
                            ..inner.clone()
                        },
                    );
                    converted.r#type = Vec::new();
                    converted.nested_type = Some(nested_type(inner_mode, nested));
                    converted
                }
                _ => attribute(name, inner),
            }
        })
        .collect();
    proto::schema::Object {
        attributes,
        nesting: mode as i32,
        ..Default::default()
    }
}

/// Encodes an object (or null) as msgpack against `attributes`; with `write_only_allowed`,
/// write-only values are nulled (Terraform >= 1.11 stores none).
pub fn dynamic_value(
    object: Option<&ObjectValue>,
    attributes: &BTreeMap<String, Attribute>,
    write_only_allowed: bool,
) -> Result<proto::DynamicValue, ConvertError> {
    let value = match object {
        None => Value::Null,
        Some(object) => {
            let mut entries = object.0.clone();
            shape::blocks_to_proto(attributes, &mut entries);
            if write_only_allowed {
                shape::null_write_only(attributes, &mut entries);
            }
            Value::Map(entries)
        }
    };
    Ok(proto::DynamicValue {
        msgpack: msgpack::encode(&value, &object_type(attributes))?,
        json: Vec::new(),
    })
}

/// Engine diagnostics as protocol diagnostics; attribute subjects become attribute paths, which
/// Terraform draws against the configuration.
pub fn diagnostics(diagnostics: &Diagnostics) -> Vec<proto::Diagnostic> {
    diagnostics.iter().map(diagnostic).collect()
}

/// One engine diagnostic.
pub fn diagnostic(diagnostic: &Diagnostic) -> proto::Diagnostic {
    let severity = match diagnostic.severity {
        Severity::Error => proto::diagnostic::Severity::Error,
        Severity::Warning => proto::diagnostic::Severity::Warning,
    };
    let attribute = match &diagnostic.subject {
        Some(Subject::Attr { path, .. }) if !path.0.is_empty() => Some(attribute_path(path)),
        _ => None,
    };
    proto::Diagnostic {
        severity: severity as i32,
        summary: diagnostic.summary.clone(),
        detail: diagnostic.detail.clone().unwrap_or_default(),
        attribute,
    }
}

/// An error diagnostic without an engine counterpart (decoding failures and the like).
pub fn error(summary: &str, detail: impl Into<String>) -> proto::Diagnostic {
    diagnostic(&Diagnostic::error(summary, detail))
}

/// An attribute path as steps.
pub fn attribute_path(path: &AttrPath) -> proto::AttributePath {
    use proto::attribute_path::{Step, step::Selector};
    let steps = path
        .0
        .iter()
        .map(|step| Step {
            selector: Some(match step {
                PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                PathStep::Index(index) => {
                    Selector::ElementKeyInt(i64::try_from(*index).unwrap_or(i64::MAX))
                }
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
            }),
        })
        .collect();
    proto::AttributePath { steps }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    /// A fixture covering every mapping rule of the module table.
    const FIXTURE: &str = r#"
type_name   = "azureml_fixture"
version     = 0
description = "A fixture."

[api]
collection       = "computes"
compute_type     = "AmlCompute"
lifecycle        = "create"
name_attribute   = "name"
parent_attribute = "workspace_id"

[attributes.id]
type        = "string"
presence    = "computed"
description = "Id."

[attributes.name]
type        = "string"
presence    = "required"
example     = '"x"'
update      = "replace"
description = "Name."

[attributes.workspace_id]
type        = "string"
presence    = "required"
example     = '"x"'
update      = "replace"
description = "Workspace."

[attributes.priority]
type        = "string"
presence    = "optional"
update      = "replace"
arm         = "properties.priority"
default     = "Dedicated"
one_of      = ["Dedicated", "LowPriority"]
description = "Priority."

[attributes.location]
type        = "string"
presence    = "optional_computed"
update      = "replace"
arm         = "location"
description = "Region."

[attributes.password]
type        = "string"
presence    = "optional"
update      = "replace"
arm         = "properties.password"
sensitive   = true
write_only  = true
description = "Password."

[attributes.tags]
type        = "map(string)"
presence    = "optional"
update      = "put"
arm         = "tags"
description = "Tags."

[attributes.ssl]
type        = "object"
presence    = "optional"
update      = "replace"
arm         = "properties.ssl"
description = "TLS."

[attributes.ssl.attributes.status]
type        = "string"
presence    = "required"
update      = "replace"
arm         = "status"
description = "Status."

[attributes.ssl.attributes.cert]
type        = "string"
presence    = "optional"
update      = "replace"
arm         = "cert"
sensitive   = true
write_only  = true
description = "Certificate."

[attributes.schedule]
type        = "list(object)"
presence    = "optional"
update      = "replace"
arm         = "properties.schedules"
description = "Schedules."

[attributes.schedule.attributes.cron]
type        = "string"
presence    = "required"
update      = "replace"
arm         = "cron"
description = "Cron."

[attributes.instance_types]
type        = "map(object)"
presence    = "optional"
update      = "replace"
arm         = "properties.instanceTypes"
description = "Instance types."

[attributes.instance_types.attributes.limits]
type        = "map(string)"
presence    = "optional"
update      = "replace"
arm         = "limits"
description = "Limits."
"#;

    fn render_block(block: &proto::schema::Block, indent: usize, out: &mut String) {
        for attribute in &block.attributes {
            render_attribute(attribute, indent, out);
        }
        for nested in &block.block_types {
            let mode = NestingMode::try_from(nested.nesting).map_or("?", |mode| mode.as_str_name());
            let _ = writeln!(
                out,
                "{:indent$}block {} {mode} min={} max={}",
                "", nested.type_name, nested.min_items, nested.max_items
            );
            match &nested.block {
                Some(inner) => render_block(inner, indent + 2, out),
                None => out.push_str("MISSING BLOCK\n"),
            }
        }
    }

    fn render_attribute(attribute: &proto::schema::Attribute, indent: usize, out: &mut String) {
        let flags: Vec<&str> = [
            (attribute.required, "required"),
            (attribute.optional, "optional"),
            (attribute.computed, "computed"),
            (attribute.sensitive, "sensitive"),
            (attribute.write_only, "write_only"),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect();
        let ty = String::from_utf8_lossy(&attribute.r#type);
        let _ = writeln!(
            out,
            "{:indent$}{} {ty} {}",
            "",
            attribute.name,
            flags.join(",")
        );
        if let Some(nested) = &attribute.nested_type {
            let mode = proto::schema::object::NestingMode::try_from(nested.nesting)
                .map_or("?", |mode| mode.as_str_name());
            let _ = writeln!(out, "{:indent$}  nested {mode}", "");
            for inner in &nested.attributes {
                render_attribute(inner, indent + 4, out);
            }
        }
    }

    #[test]
    fn schema_conversion_snapshot() {
        let fixture = engine::schema::parse_schema("fixture.toml", FIXTURE)
            .expect("the fixture is a valid schema");
        let converted = schema(&fixture);
        let mut out = String::new();
        render_block(converted.block.as_ref().expect("block"), 0, &mut out);
        insta::assert_snapshot!(out, @r#"
        id "string" computed
        instance_types  optional
          nested MAP
            limits ["map","string"] optional
        location "string" optional,computed
        name "string" required
        password "string" optional,sensitive,write_only
        priority "string" optional,computed
        tags ["map","string"] optional
        workspace_id "string" required
        block schedule LIST min=0 max=0
          cron "string" required
        block ssl SINGLE min=0 max=0
          cert "string" optional,sensitive,write_only
          status "string" required
        "#);
    }

    #[test]
    fn every_catalogue_schema_converts_with_valid_types_and_blocks() {
        let registry = engine::schema::load_registry().expect("catalogue");
        for resource in registry.iter() {
            let converted = schema(resource);
            let mut out = String::new();
            render_block(converted.block.as_ref().expect("block"), 0, &mut out);
            assert!(!out.contains("MISSING BLOCK"), "{}", resource.type_name);
            // Terraform >= 1.1 rejects an attribute that is required and optional or computed.
            assert!(
                !out.contains("required,optional") && !out.contains("required,computed"),
                "{out}"
            );
        }
    }
}
