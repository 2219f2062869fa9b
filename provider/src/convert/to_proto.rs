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
//! | configurable `map(object)` | nested block, MAP (block label = key) |
//! | computed objects, scalars, `list(T)`, `map(T)` | attribute with cty type JSON |
//! | descriptions | markdown (they use backticks) |

use std::collections::BTreeMap;

use engine::addr::{AttrPath, PathStep};
use engine::diag::{Diagnostic, Diagnostics, Severity, Subject};
use engine::schema::{Attribute, Presence, ResourceSchema};
use engine::value::{ObjectValue, Value};

use super::ConvertError;
use super::cty::{BlockNesting, block_nesting, from_attr_type, object_type};
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
        match (block_nesting(attribute), attribute.ty.nested_attributes()) {
            (Some(nesting), Some(nested)) => result.block_types.push(nested_block(name, attribute, nesting, nested)),
            _ => result.attributes.push(self::attribute(name, attribute)),
        }
    }
    result
}

fn nested_block(
    name: &str,
    attribute: &Attribute,
    nesting: BlockNesting,
    nested: &BTreeMap<String, Attribute>,
) -> proto::schema::NestedBlock {
    let required = attribute.presence == Presence::Required;
    let (mode, min_items, max_items) = match nesting {
        // Terraform requires min = max for SINGLE.
        BlockNesting::Single if required => (NestingMode::Single, 1, 1),
        BlockNesting::Single => (NestingMode::Single, 0, 0),
        BlockNesting::List => (NestingMode::List, i64::from(required), 0),
        BlockNesting::Map => (NestingMode::Map, 0, 0),
    };
    proto::schema::NestedBlock {
        type_name: name.to_owned(),
        block: Some(block(nested, &attribute.description)),
        nesting: mode as i32,
        min_items,
        max_items,
    }
}

fn attribute(name: &str, attribute: &Attribute) -> proto::schema::Attribute {
    let (required, optional, computed) = match attribute.presence {
        Presence::Required => (true, false, false),
        Presence::Optional => (false, true, attribute.default.is_some()),
        Presence::Computed => (false, false, true),
        Presence::OptionalComputed => (false, true, true),
    };
    proto::schema::Attribute {
        name: name.to_owned(),
        r#type: from_attr_type(&attribute.ty).to_json().to_string().into_bytes(),
        description: attribute.description.clone(),
        description_kind: proto::StringKind::Markdown as i32,
        required,
        optional,
        computed,
        sensitive: attribute.sensitive || attribute.write_only,
        write_only: attribute.write_only,
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
    Ok(proto::DynamicValue { msgpack: msgpack::encode(&value, &object_type(attributes))?, json: Vec::new() })
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
                PathStep::Index(index) => Selector::ElementKeyInt(i64::try_from(*index).unwrap_or(i64::MAX)),
                PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
            }),
        })
        .collect();
    proto::AttributePath { steps }
}
