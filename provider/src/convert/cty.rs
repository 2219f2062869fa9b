//! Terraform's value types (go-cty's type system) as the provider needs them: the type a
//! catalogue attribute or resource implies, and its JSON form for `Schema.Attribute.type`.
//! Wire encodings live in [`super::msgpack`] and [`super::json`].

use std::collections::BTreeMap;

use engine::schema::{AttrType, Attribute, Presence, ResourceSchema};

/// A cty type.
#[derive(Debug, Clone, PartialEq)]
pub enum CtyType {
    /// `string`
    String,
    /// `number`
    Number,
    /// `bool`
    Bool,
    /// `dynamic`: the value carries its own type on the wire.
    Dynamic,
    /// `list(T)`
    List(Box<CtyType>),
    /// `set(T)`
    Set(Box<CtyType>),
    /// `map(T)`
    Map(Box<CtyType>),
    /// `object({...})`: every attribute is always present on the wire.
    Object(BTreeMap<String, CtyType>),
    /// `tuple([...])`
    Tuple(Vec<CtyType>),
}

impl CtyType {
    /// The type JSON go-cty reads (`"string"`, `["list","string"]`, `["object",{...}]`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            CtyType::String => json!("string"),
            CtyType::Number => json!("number"),
            CtyType::Bool => json!("bool"),
            CtyType::Dynamic => json!("dynamic"),
            CtyType::List(element) => json!(["list", element.to_json()]),
            CtyType::Set(element) => json!(["set", element.to_json()]),
            CtyType::Map(element) => json!(["map", element.to_json()]),
            CtyType::Object(attributes) => {
                let fields: serde_json::Map<String, serde_json::Value> = attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect();
                json!(["object", fields])
            }
            CtyType::Tuple(elements) => {
                json!([
                    "tuple",
                    elements.iter().map(CtyType::to_json).collect::<Vec<_>>()
                ])
            }
        }
    }

    /// Parses type JSON (the inverse of [`CtyType::to_json`]); `None` when it is not a type.
    pub fn from_json(json: &serde_json::Value) -> Option<CtyType> {
        use serde_json::Value as Json;
        match json {
            Json::String(name) => match name.as_str() {
                "string" => Some(CtyType::String),
                "number" => Some(CtyType::Number),
                "bool" => Some(CtyType::Bool),
                "dynamic" => Some(CtyType::Dynamic),
                _ => None,
            },
            Json::Array(parts) => match (parts.first()?.as_str()?, parts.get(1)?) {
                ("list", element) => Some(CtyType::List(Box::new(CtyType::from_json(element)?))),
                ("set", element) => Some(CtyType::Set(Box::new(CtyType::from_json(element)?))),
                ("map", element) => Some(CtyType::Map(Box::new(CtyType::from_json(element)?))),
                ("object", Json::Object(fields)) => fields
                    .iter()
                    .map(|(name, ty)| Some((name.clone(), CtyType::from_json(ty)?)))
                    .collect::<Option<BTreeMap<_, _>>>()
                    .map(CtyType::Object),
                ("tuple", Json::Array(elements)) => elements
                    .iter()
                    .map(CtyType::from_json)
                    .collect::<Option<Vec<_>>>()
                    .map(CtyType::Tuple),
                _ => None,
            },
            _ => None,
        }
    }

    /// A short name for error messages (`list(string)`, `object`).
    pub fn friendly_name(&self) -> String {
        match self {
            CtyType::String => "string".to_owned(),
            CtyType::Number => "number".to_owned(),
            CtyType::Bool => "bool".to_owned(),
            CtyType::Dynamic => "dynamic".to_owned(),
            CtyType::List(element) => format!("list({})", element.friendly_name()),
            CtyType::Set(element) => format!("set({})", element.friendly_name()),
            CtyType::Map(element) => format!("map({})", element.friendly_name()),
            CtyType::Object(_) => "object".to_owned(),
            CtyType::Tuple(_) => "tuple".to_owned(),
        }
    }
}

/// The type of a catalogue value type.
pub fn from_attr_type(ty: &AttrType) -> CtyType {
    match ty {
        AttrType::String => CtyType::String,
        AttrType::Number => CtyType::Number,
        AttrType::Bool => CtyType::Bool,
        AttrType::List(element) => CtyType::List(Box::new(from_attr_type(element))),
        AttrType::Map(element) => CtyType::Map(Box::new(from_attr_type(element))),
        AttrType::Object(attributes) => object_type(attributes),
    }
}

/// The object type of a set of attributes (a resource, or a nested object).
pub fn object_type(attributes: &BTreeMap<String, Attribute>) -> CtyType {
    CtyType::Object(
        attributes
            .iter()
            .map(|(name, attribute)| (name.clone(), from_attr_type(&attribute.ty)))
            .collect(),
    )
}

/// The type of a whole resource object (what every DynamicValue of the resource encodes).
pub fn resource_type(schema: &ResourceSchema) -> CtyType {
    object_type(&schema.attributes)
}

/// How a configurable nested object attribute appears in the Terraform schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Block `ssl { ... }`: at most one (exactly one when required).
    SingleBlock,
    /// Blocks `schedule { ... }`, repeated, in order.
    ListBlock,
    /// Attribute `instance_types = { gpu = { ... } }` with a protocol-6 nested type (MAP).
    MapAttribute,
}

/// Whether an attribute is presented as a nested block or nested attribute, and how.
///
/// Configurable objects and lists of objects are nested **blocks**: Terraform 1.0 supports them
/// fully (protocol-6 nested attributes were new in 1.0), they let inner attributes be optional,
/// and `amlplan` reads the same block syntax. Configurable maps of objects are nested
/// **attributes** of MAP nesting (blocks would need labels, and `amlplan` reads them as
/// `name = { key = { ... } }`). Computed objects stay plain attributes of object type, since a
/// block cannot be computed.
///
/// On the wire the value is the same either way (an object, a list or a map of objects), except
/// that a LIST block with no blocks is an empty list, never null; see [`super::shape`].
pub fn nesting(attribute: &Attribute) -> Option<Nesting> {
    if !matches!(attribute.presence, Presence::Required | Presence::Optional) {
        return None;
    }
    match &attribute.ty {
        AttrType::Object(_) => Some(Nesting::SingleBlock),
        AttrType::List(element) if matches!(**element, AttrType::Object(_)) => {
            Some(Nesting::ListBlock)
        }
        AttrType::Map(element) if matches!(**element, AttrType::Object(_)) => {
            Some(Nesting::MapAttribute)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_json_round_trips() {
        let ty = CtyType::Object(BTreeMap::from([
            ("a".to_owned(), CtyType::List(Box::new(CtyType::String))),
            ("b".to_owned(), CtyType::Map(Box::new(CtyType::Number))),
            (
                "c".to_owned(),
                CtyType::Tuple(vec![CtyType::Bool, CtyType::Dynamic]),
            ),
            ("d".to_owned(), CtyType::Set(Box::new(CtyType::String))),
        ]));
        let json = ty.to_json();
        assert_eq!(
            json.to_string(),
            r#"["object",{"a":["list","string"],"b":["map","number"],"c":["tuple",["bool","dynamic"]],"d":["set","string"]}]"#
        );
        assert_eq!(CtyType::from_json(&json), Some(ty));
        assert_eq!(CtyType::from_json(&serde_json::json!("strin")), None);
    }
}
