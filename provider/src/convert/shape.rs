//! Schema-driven reshaping of values at the edge, so the engine sees catalogue values and
//! Terraform sees what its protocol requires:
//!
//! | rule | towards the engine | towards Terraform |
//! |---|---|---|
//! | LIST nested blocks | no blocks (empty list) → null | null → empty list (Terraform rejects null) |
//! | write-only attributes (Terraform >= 1.11) | unchanged (the config carries them) | always null (never stored in plan or state) |

use std::collections::BTreeMap;

use engine::schema::{AttrType, Attribute};
use engine::value::Value;

use super::cty::{Nesting, nesting};

/// Incoming: a LIST block collection with no blocks becomes null (the catalogue's "unset"), at
/// any depth.
pub fn blocks_from_proto(
    attributes: &BTreeMap<String, Attribute>,
    object: &mut BTreeMap<String, Value>,
) {
    walk(attributes, object, false, &|attribute, value| {
        let empty = matches!(value, Value::List(items) if items.is_empty());
        if empty && nesting(attribute) == Some(Nesting::ListBlock) {
            *value = Value::Null;
        }
    });
}

/// Outgoing: a null LIST block collection becomes an empty list, at any depth.
pub fn blocks_to_proto(
    attributes: &BTreeMap<String, Attribute>,
    object: &mut BTreeMap<String, Value>,
) {
    walk(attributes, object, false, &|attribute, value| {
        if value.is_null() && nesting(attribute) == Some(Nesting::ListBlock) {
            *value = Value::List(Vec::new());
        }
    });
}

/// Outgoing, for clients that honour write-only attributes: every write-only value becomes
/// null, at any depth (Terraform >= 1.11 refuses a plan or state that holds one).
pub fn null_write_only(
    attributes: &BTreeMap<String, Attribute>,
    object: &mut BTreeMap<String, Value>,
) {
    walk(attributes, object, true, &|attribute, value| {
        if attribute.write_only {
            *value = Value::Null;
        }
    });
}

/// Applies `visit` to every attribute value of `object`, depth first (children before the
/// attribute itself), descending into nested objects and lists of objects, and into maps of
/// objects when `into_maps` (they are nested attributes, where block rules do not apply).
fn walk(
    attributes: &BTreeMap<String, Attribute>,
    object: &mut BTreeMap<String, Value>,
    into_maps: bool,
    visit: &dyn Fn(&Attribute, &mut Value),
) {
    for (name, attribute) in attributes {
        let Some(value) = object.get_mut(name) else {
            continue;
        };
        match (&attribute.ty, &mut *value) {
            (AttrType::Object(nested), Value::Map(inner)) => walk(nested, inner, into_maps, visit),
            (AttrType::List(element), Value::List(items)) => {
                if let AttrType::Object(nested) = &**element {
                    for item in items {
                        if let Value::Map(inner) = item {
                            walk(nested, inner, into_maps, visit);
                        }
                    }
                }
            }
            (AttrType::Map(element), Value::Map(entries)) if into_maps => {
                if let AttrType::Object(nested) = &**element {
                    for item in entries.values_mut() {
                        if let Value::Map(inner) = item {
                            walk(nested, inner, into_maps, visit);
                        }
                    }
                }
            }
            _ => {}
        }
        visit(attribute, value);
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn registry_attributes(type_name: &str) -> BTreeMap<String, Attribute> {
        engine::schema::load_registry()
            .expect("catalogue")
            .get(type_name)
            .expect("type in the catalogue")
            .attributes
            .clone()
    }

    #[test]
    fn list_blocks_are_empty_lists_towards_terraform_and_null_towards_the_engine() {
        let attributes = registry_attributes("azureml_compute_instance");
        assert!(
            attributes.contains_key("schedule"),
            "compute instance has repeated schedule blocks"
        );
        let mut object = BTreeMap::from([("schedule".to_owned(), Value::Null)]);
        blocks_to_proto(&attributes, &mut object);
        assert_eq!(object["schedule"], Value::List(Vec::new()));
        blocks_from_proto(&attributes, &mut object);
        assert_eq!(object["schedule"], Value::Null);
    }

    #[test]
    fn write_only_values_are_nulled_at_any_depth() {
        let attributes = registry_attributes("azureml_inference_cluster");
        let ssl = Value::Map(BTreeMap::from([
            ("status".to_owned(), Value::from("Enabled")),
            ("cert".to_owned(), Value::from("PEM")),
            ("key".to_owned(), Value::from("KEY")),
        ]));
        let mut object = BTreeMap::from([("ssl".to_owned(), ssl)]);
        null_write_only(&attributes, &mut object);
        let ssl = object["ssl"].as_map().expect("object");
        assert_eq!(ssl["status"], Value::from("Enabled"));
        assert_eq!(ssl["cert"], Value::Null);
        assert_eq!(ssl["key"], Value::Null);
    }
}
