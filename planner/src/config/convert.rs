//! Converts evaluated values to the type an attribute's schema declares, with Terraform's safe
//! conversions (number ↔ string, `"true"` → bool), and checks nested object attributes (names,
//! presence); value constraints are `engine::schema::check`'s. Unknown and null pass through. Errors name the path inside the attribute.

use std::collections::BTreeMap;

use engine::addr::PathStep;
use engine::schema::{AttrType, Attribute, Presence};
use engine::value::{Number, Value};

use super::eval::{kind_of, scalar_to_string};
use super::spelling::did_you_mean;

/// Why a value does not fit: where inside the attribute, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TypeMismatch {
    /// Steps below the attribute (empty: the attribute itself).
    pub path: Vec<PathStep>,
    pub message: String,
}

impl TypeMismatch {
    fn new(message: String) -> TypeMismatch {
        TypeMismatch {
            path: Vec::new(),
            message,
        }
    }

    fn under(mut self, step: PathStep) -> TypeMismatch {
        self.path.insert(0, step);
        self
    }
}

/// Converts `value` for `attribute` (its allowed values and other constraints are checked on
/// the whole resource by `engine::schema::check`).
pub(crate) fn convert_attribute(
    value: Value,
    attribute: &Attribute,
) -> Result<Value, TypeMismatch> {
    convert_type(value, &attribute.ty)
}

/// Converts `value` to `ty`.
pub(crate) fn convert_type(value: Value, ty: &AttrType) -> Result<Value, TypeMismatch> {
    match (value, ty) {
        (value @ (Value::Unknown | Value::Null), _) => Ok(value),
        (value, AttrType::String) => to_string(value).map_err(TypeMismatch::new),
        (value, AttrType::Number) => to_number(value).map_err(TypeMismatch::new),
        (value, AttrType::Bool) => to_bool(value).map_err(TypeMismatch::new),
        (Value::List(items), AttrType::List(element)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                convert_type(item, element)
                    .map_err(|error| error.under(PathStep::Index(index as u64)))
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Value::Map(entries), AttrType::Map(element)) => entries
            .into_iter()
            .map(|(key, item)| {
                convert_type(item, element)
                    .map(|converted| (key.clone(), converted))
                    .map_err(|error| error.under(PathStep::Key(key)))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Value::Map(entries), AttrType::Object(attributes)) => {
            convert_object(entries, attributes).map(Value::Map)
        }
        (other, ty) => Err(TypeMismatch::new(format!(
            "{} is required, not a {}",
            describe(ty),
            kind_of(&other)
        ))),
    }
}

/// Converts an object's entries; unknown keys, computed keys and missing required keys fail.
pub(crate) fn convert_object(
    entries: BTreeMap<String, Value>,
    attributes: &BTreeMap<String, Attribute>,
) -> Result<BTreeMap<String, Value>, TypeMismatch> {
    let mut converted = BTreeMap::new();
    for (key, item) in entries {
        let Some(attribute) = attributes.get(&key) else {
            let configurable = attributes
                .iter()
                .filter(|(_, attribute)| attribute.presence.is_configurable())
                .map(|(name, _)| name.as_str());
            return Err(TypeMismatch::new(format!(
                "unexpected attribute `{key}`{}",
                did_you_mean(&key, configurable)
            )));
        };
        if attribute.presence == Presence::Computed {
            return Err(TypeMismatch::new(format!(
                "`{key}` is set by the service and cannot be configured"
            )));
        }
        let value = convert_attribute(item, attribute)
            .map_err(|error| error.under(PathStep::Attr(key.clone())))?;
        converted.insert(key, value);
    }
    for (name, attribute) in attributes {
        if attribute.presence == Presence::Required
            && converted.get(name).is_none_or(Value::is_null)
        {
            return Err(TypeMismatch::new(format!("attribute `{name}` is required")));
        }
    }
    Ok(converted)
}

fn describe(ty: &AttrType) -> String {
    match ty {
        AttrType::String => "a string".to_owned(),
        AttrType::Number => "a number".to_owned(),
        AttrType::Bool => "a bool".to_owned(),
        AttrType::List(_) => format!("a {ty}"),
        AttrType::Map(_) => format!("a {ty}"),
        AttrType::Object(attributes) => {
            let names: Vec<&str> = attributes
                .iter()
                .filter(|(_, attribute)| attribute.presence.is_configurable())
                .map(|(name, _)| name.as_str())
                .collect();
            format!("an object with attributes {}", names.join(", "))
        }
    }
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

/// String conversion: numbers and bools become their literal text.
pub(crate) fn to_string(value: Value) -> Result<Value, String> {
    match value {
        Value::String(_) | Value::Null | Value::Unknown => Ok(value),
        other => scalar_to_string(&other)
            .map(Value::String)
            .ok_or_else(|| format!("a string is required, not a {}", kind_of(&other))),
    }
}

/// Number conversion: numeric strings become numbers.
pub(crate) fn to_number(value: Value) -> Result<Value, String> {
    match value {
        Value::Number(_) | Value::Null | Value::Unknown => Ok(value),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .map(|number| Value::Number(Number(number)))
            .map_err(|_| {
                format!(
                    "a number is required, and `{}` is not one",
                    shown(&Value::String(text.clone())).trim_matches('"')
                )
            }),
        other => Err(format!("a number is required, not a {}", kind_of(&other))),
    }
}

/// Bool conversion: `"true"`/`"false"` become bools.
pub(crate) fn to_bool(value: Value) -> Result<Value, String> {
    match value {
        Value::Bool(_) | Value::Null | Value::Unknown => Ok(value),
        Value::String(text) if text == "true" => Ok(Value::Bool(true)),
        Value::String(text) if text == "false" => Ok(Value::Bool(false)),
        other => Err(format!(
            "a bool is required, not a {} ({})",
            kind_of(&other),
            shown(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// An optional attribute of type `ty` (cloned from the catalogue, so new schema fields
    /// need no change here).
    fn attribute(ty: AttrType) -> Attribute {
        let registry = engine::schema::load_registry().expect("the catalogue is valid");
        let mut attribute = registry
            .get("azureml_workspace")
            .and_then(|schema| schema.attribute("description"))
            .expect("workspaces have a description")
            .clone();
        attribute.ty = ty;
        attribute.presence = Presence::Optional;
        attribute.one_of.clear();
        attribute.default = None;
        attribute
    }

    #[test]
    fn safe_conversions_apply() {
        assert_eq!(
            convert_type(Value::from("4"), &AttrType::Number),
            Ok(Value::from(4))
        );
        assert_eq!(
            convert_type(Value::from(4), &AttrType::String),
            Ok(Value::from("4"))
        );
        assert_eq!(
            convert_type(Value::from("true"), &AttrType::Bool),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            convert_type(Value::Unknown, &AttrType::Number),
            Ok(Value::Unknown)
        );
    }

    #[test]
    fn mismatches_name_the_inner_path() {
        let ty = AttrType::Map(Box::new(AttrType::Number));
        let value = Value::Map(BTreeMap::from([("a".to_owned(), Value::from("x"))]));
        let error = convert_type(value, &ty).expect_err("mismatch");
        assert_eq!(error.path, vec![PathStep::Key("a".to_owned())]);
        assert_eq!(error.message, "a number is required, and `x` is not one");
        let error = convert_type(Value::List(vec![]), &AttrType::String).expect_err("mismatch");
        assert_eq!(error.message, "a string is required, not a list");
    }

    #[test]
    fn objects_reject_unknown_and_missing_attributes() {
        let mut required = attribute(AttrType::String);
        required.presence = Presence::Required;
        let attributes = BTreeMap::from([
            ("cert".to_owned(), required),
            ("key".to_owned(), attribute(AttrType::String)),
        ]);
        let error = convert_object(
            BTreeMap::from([("crt".to_owned(), Value::from("x"))]),
            &attributes,
        )
        .expect_err("unknown");
        assert!(
            error.message.contains("did you mean `cert`?"),
            "{}",
            error.message
        );
        let error = convert_object(
            BTreeMap::from([("key".to_owned(), Value::from("x"))]),
            &attributes,
        )
        .expect_err("missing");
        assert_eq!(error.message, "attribute `cert` is required");
    }
}
