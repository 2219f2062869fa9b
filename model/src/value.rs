//! Dynamic attribute values with an explicit "unknown" (known only after apply), shared by every
//! part of the project. JSON conversion lives here because JSON is how values meet ARM bodies
//! and state files; msgpack and HCL conversions live at their edges (provider, planner).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A value of a resource attribute.
///
/// Maps and objects share [`Value::Map`]: the schema says which one an attribute is.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value (unset, or `null`).
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list (or tuple).
    List(Vec<Value>),
    /// A map or an object, by key.
    Map(BTreeMap<String, Value>),
    /// Not known until apply (e.g. an id the service assigns).
    Unknown,
}

/// A number. Terraform numbers are arbitrary precision; the ARM API only uses integers and small
/// decimals, so an `f64` with integer-preserving formatting is enough.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Number(pub f64);

impl Number {
    /// The value as an integer, when it is one.
    pub fn as_i64(self) -> Option<i64> {
        let value = self.0;
        (value.fract() == 0.0 && value.abs() < 9.0e15).then_some(value as i64)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_i64() {
            Some(integer) => write!(f, "{integer}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Number(Number(value as f64))
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::String(value)
    }
}

impl Value {
    /// A short name of the value's kind, for messages: `null`, `bool`, `number`, `string`,
    /// `list`, `map`, or `value not known yet`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "value not known yet",
        }
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when this value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::contains_unknown),
            Value::Map(entries) => entries.values().any(Value::contains_unknown),
            _ => false,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean inside, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// The number inside, if this is a number.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(number) => Some(*number),
            _ => None,
        }
    }

    /// The entries inside, if this is a map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items inside, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// Converts from JSON. JSON has no "unknown"; use [`Value::from_json_with_unknowns`] for
    /// documents that mark unknowns.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => {
                Value::Number(Number(number.as_f64().unwrap_or_default()))
            }
            serde_json::Value::String(text) => Value::String(text.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), Value::from_json(value)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON. Unknown becomes `null`: callers that must not lose unknowns check
    /// [`Value::contains_unknown`] first.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(number) => match number.as_i64() {
                Some(integer) => serde_json::Value::from(integer),
                None => serde_json::Number::from_f64(number.0)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
            },
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Value {
    /// The cty type of this value as Terraform writes it in JSON (state outputs, plans): a
    /// literal's type, as HCL gives it — `"string"`, `"number"`, `"bool"`, `["tuple", [...]]`
    /// for lists, `["object", {...}]` for maps; `"dynamic"` for null and unknown.
    ///
    /// ```
    /// use model::value::Value;
    /// let value = Value::List(vec![Value::from("a"), Value::from(1)]);
    /// assert_eq!(value.cty_type_json(), serde_json::json!(["tuple", ["string", "number"]]));
    /// ```
    pub fn cty_type_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => "dynamic".into(),
            Value::Bool(_) => "bool".into(),
            Value::Number(_) => "number".into(),
            Value::String(_) => "string".into(),
            Value::List(items) => serde_json::json!([
                "tuple",
                items.iter().map(Value::cty_type_json).collect::<Vec<_>>()
            ]),
            Value::Map(entries) => serde_json::json!([
                "object",
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.cty_type_json()))
                    .collect::<serde_json::Map<String, serde_json::Value>>()
            ]),
        }
    }
}

impl fmt::Display for Value {
    /// Terraform-like literal syntax, for plans and diagnostics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(flag) => write!(f, "{flag}"),
            Value::Number(number) => write!(f, "{number}"),
            Value::String(text) => write!(f, "{text:?}"),
            Value::Unknown => f.write_str("(known after apply)"),
            Value::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key} = {value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The top-level attributes of one resource object, by attribute name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectValue(pub BTreeMap<String, Value>);

impl ObjectValue {
    /// An object holding only `id`.
    pub fn with_id(id: &str) -> ObjectValue {
        let mut object = ObjectValue::default();
        object.set("id", Value::from(id));
        object
    }

    /// The value of `name`, or `Null` when absent.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.0.get(name).unwrap_or(&NULL)
    }

    /// The string value of `name`, if it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).as_str()
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: Value) {
        self.0.insert(name.to_owned(), value);
    }

    /// The attributes, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn json_round_trip_keeps_integers_integral() {
        let json = serde_json::json!({"a": 4, "b": [true, "x", null], "c": 1.5});
        let value = Value::from_json(&json);
        assert_eq!(value.to_json(), json);
        assert_eq!(
            value.to_string(),
            r#"{a = 4, b = [true, "x", null], c = 1.5}"#
        );
    }

    #[test]
    fn unknown_is_found_in_nested_values() {
        let value = Value::List(vec![Value::Map(BTreeMap::from([(
            "x".to_owned(),
            Value::Unknown,
        )]))]);
        assert!(value.contains_unknown());
        assert!(!Value::from("known").contains_unknown());
    }
}
