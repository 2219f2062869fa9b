//! Checks of a resource configuration that Terraform cannot do from the schema alone: the
//! catalogue's constraints and rules (`engine::schema::check`, the same check `amlplan` makes),
//! with attribute paths so Terraform points at the offending argument. Terraform itself checks
//! names, types and required arguments before it calls the provider, so presence is only
//! re-checked here at any depth as a safety net. Unknown values pass: `PlanResourceChange`
//! checks them again once known.

use std::collections::BTreeMap;

use engine::addr::{AttrPath, PathStep, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics};
use engine::schema::{AttrType, Attribute, Presence, ResourceSchema};
use engine::value::{ObjectValue, Value};

/// Checks one resource configuration. `addr` only labels the diagnostics' subjects (the
/// provider does not know the block's name; Terraform attaches its own).
pub fn resource_config(schema: &ResourceSchema, config: &ObjectValue) -> Diagnostics {
    let addr = ResourceAddr::managed(&schema.type_name, "config");
    let mut diagnostics = Diagnostics::default();
    object(
        &schema.type_name,
        &addr,
        &schema.attributes,
        &config.0,
        &AttrPath::default(),
        &mut diagnostics,
    );
    diagnostics.extend(engine::schema::check::resource(schema, &addr, config));
    diagnostics
}

fn object(
    type_name: &str,
    addr: &ResourceAddr,
    attributes: &BTreeMap<String, Attribute>,
    values: &BTreeMap<String, Value>,
    base: &AttrPath,
    diagnostics: &mut Diagnostics,
) {
    for (name, attribute) in attributes {
        let path = base.join(PathStep::Attr(name.clone()));
        let value = values.get(name).unwrap_or(&Value::Null);
        match (attribute.presence, value) {
            (Presence::Required, Value::Null) => diagnostics.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("The argument `{path}` is required by `{type_name}`, but it is not set."),
                )
                .at_attr(addr, path.clone()),
            ),
            (Presence::Computed, value) if !value.is_null() && !value.contains_unknown() => diagnostics.push(
                Diagnostic::error(
                    "Value for unconfigurable attribute",
                    format!("`{path}` of `{type_name}` is set by the service and cannot be configured; remove it."),
                )
                .at_attr(addr, path.clone()),
            ),
            _ => {}
        }
        nested(type_name, addr, attribute, value, &path, diagnostics);
    }
}

fn nested(
    type_name: &str,
    addr: &ResourceAddr,
    attribute: &Attribute,
    value: &Value,
    path: &AttrPath,
    diagnostics: &mut Diagnostics,
) {
    match (&attribute.ty, value) {
        (AttrType::Object(nested), Value::Map(values)) => {
            object(type_name, addr, nested, values, path, diagnostics)
        }
        (AttrType::List(element), Value::List(items)) => {
            if let AttrType::Object(nested) = &**element {
                for (index, item) in items.iter().enumerate() {
                    if let Value::Map(values) = item {
                        let path = path.join(PathStep::Index(index as u64));
                        object(type_name, addr, nested, values, &path, diagnostics);
                    }
                }
            }
        }
        (AttrType::Map(element), Value::Map(entries)) => {
            if let AttrType::Object(nested) = &**element {
                for (key, item) in entries {
                    if let Value::Map(values) = item {
                        let path = path.join(PathStep::Key(key.clone()));
                        object(type_name, addr, nested, values, &path, diagnostics);
                    }
                }
            }
        }
        _ => {}
    }
}
