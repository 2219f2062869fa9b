//! Schema-driven reshaping of values at the edge, so the engine sees catalogue values and
//! Terraform sees what its protocol requires:
//!
//! | rule | towards the engine | towards Terraform |
//! |---|---|---|
//! | LIST / MAP nested blocks | no blocks (empty collection) → null | null → empty collection (Terraform rejects null) |
//! | write-only attributes (Terraform >= 1.11) | unchanged (the config carries them) | always null (never stored in plan or state) |

use std::collections::BTreeMap;

use engine::schema::{AttrType, Attribute};
use engine::value::Value;

use super::cty::{BlockNesting, block_nesting};

/// Incoming: a LIST or MAP block collection with no blocks becomes null (the catalogue's
/// "unset"), at any depth.
pub fn blocks_from_proto(attributes: &BTreeMap<String, Attribute>, object: &mut BTreeMap<String, Value>) {
    walk(attributes, object, &|attribute, value| {
        let empty = match value {
            Value::List(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
            _ => false,
        };
        if empty && matches!(block_nesting(attribute), Some(BlockNesting::List | BlockNesting::Map)) {
            *value = Value::Null;
        }
    });
}

/// Outgoing: a null LIST or MAP block collection becomes an empty collection, at any depth.
pub fn blocks_to_proto(attributes: &BTreeMap<String, Attribute>, object: &mut BTreeMap<String, Value>) {
    walk(attributes, object, &|attribute, value| {
        if value.is_null() {
            match block_nesting(attribute) {
                Some(BlockNesting::List) => *value = Value::List(Vec::new()),
                Some(BlockNesting::Map) => *value = Value::Map(BTreeMap::new()),
                _ => {}
            }
        }
    });
}

/// Outgoing, for clients that honour write-only attributes: every write-only value becomes
/// null, at any depth (Terraform >= 1.11 refuses a plan or state that holds one).
pub fn null_write_only(attributes: &BTreeMap<String, Attribute>, object: &mut BTreeMap<String, Value>) {
    walk(attributes, object, &|attribute, value| {
        if attribute.write_only {
            *value = Value::Null;
        }
    });
}

/// Applies `visit` to every attribute value of `object`, depth first (children before the
/// attribute itself), descending into nested objects, lists of objects and maps of objects.
fn walk(
    attributes: &BTreeMap<String, Attribute>,
    object: &mut BTreeMap<String, Value>,
    visit: &dyn Fn(&Attribute, &mut Value),
) {
    for (name, attribute) in attributes {
        let Some(value) = object.get_mut(name) else { continue };
        match (&attribute.ty, &mut *value) {
            (AttrType::Object(nested), Value::Map(inner)) => walk(nested, inner, visit),
            (AttrType::List(element), Value::List(items)) => {
                if let AttrType::Object(nested) = &**element {
                    for item in items {
                        if let Value::Map(inner) = item {
                            walk(nested, inner, visit);
                        }
                    }
                }
            }
            (AttrType::Map(element), Value::Map(entries)) => {
                if let AttrType::Object(nested) = &**element {
                    for item in entries.values_mut() {
                        if let Value::Map(inner) = item {
                            walk(nested, inner, visit);
                        }
                    }
                }
            }
            _ => {}
        }
        visit(attribute, value);
    }
}
