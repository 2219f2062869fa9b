//! The JSON encoding of Terraform values (go-cty `cty/json`), typed by [`CtyType`]: what a
//! DynamicValue's `json` field and the stored state (`RawState.json`) hold. JSON has no
//! unknowns; a `dynamic` value is `{"value": ..., "type": ...}`. Objects: a missing attribute
//! is null. Decode only: the provider always answers in msgpack.

use std::collections::BTreeMap;

use engine::value::{Number, Value};
use serde_json::Value as Json;

use super::ConvertError;
use super::cty::CtyType;

/// What to do with object attributes the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraAttributes {
    /// Fail, as go-cty does ("unsupported attribute").
    Reject,
    /// Drop them: stored state written by an older schema may still hold removed attributes.
    Drop,
}

/// Decodes JSON bytes of type `ty`.
pub fn decode(bytes: &[u8], ty: &CtyType, extra: ExtraAttributes) -> Result<Value, ConvertError> {
    let json: Json = serde_json::from_slice(bytes).map_err(ConvertError::Json)?;
    from_json(&json, ty, extra, &mut String::new())
}

fn from_json(
    json: &Json,
    ty: &CtyType,
    extra: ExtraAttributes,
    path: &mut String,
) -> Result<Value, ConvertError> {
    let mismatch = |path: &str, found: &str| ConvertError::Type {
        path: path.to_owned(),
        expected: ty.friendly_name(),
        found: found.to_owned(),
    };
    match (json, ty) {
        (Json::Null, _) => Ok(Value::Null),
        (Json::Object(wrapper), CtyType::Dynamic) => {
            let inner_type = wrapper
                .get("type")
                .and_then(CtyType::from_json)
                .ok_or_else(|| mismatch(path, "object without a valid `type`"))?;
            from_json(
                wrapper.get("value").unwrap_or(&Json::Null),
                &inner_type,
                extra,
                path,
            )
        }
        (Json::String(text), CtyType::String) => Ok(Value::String(text.clone())),
        (Json::Bool(flag), CtyType::Bool) => Ok(Value::Bool(*flag)),
        (Json::Number(number), CtyType::Number) => number
            .as_f64()
            .map(|value| Value::Number(Number(value)))
            .ok_or_else(|| mismatch(path, "number")),
        // go-cty accepts numbers written as strings.
        (Json::String(text), CtyType::Number) => text
            .parse::<f64>()
            .map(|value| Value::Number(Number(value)))
            .map_err(|_| mismatch(path, "string")),
        (Json::Array(items), CtyType::List(element) | CtyType::Set(element)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                nested(path, &format!("[{index}]"), |path| {
                    from_json(item, element, extra, path)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Json::Array(items), CtyType::Tuple(elements)) if items.len() == elements.len() => items
            .iter()
            .zip(elements)
            .enumerate()
            .map(|(index, (item, element))| {
                nested(path, &format!("[{index}]"), |path| {
                    from_json(item, element, extra, path)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Json::Object(entries), CtyType::Map(element)) => entries
            .iter()
            .map(|(key, item)| {
                let value = nested(path, &format!("[{key:?}]"), |path| {
                    from_json(item, element, extra, path)
                })?;
                Ok((key.clone(), value))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Value::Map),
        (Json::Object(entries), CtyType::Object(attributes)) => {
            let mut object = BTreeMap::new();
            for (key, item) in entries {
                let Some(attribute_type) = attributes.get(key) else {
                    match extra {
                        ExtraAttributes::Drop => continue,
                        ExtraAttributes::Reject => {
                            return Err(ConvertError::UnsupportedAttribute {
                                path: path.clone(),
                                name: key.clone(),
                            });
                        }
                    }
                };
                let value = nested(path, &format!(".{key}"), |path| {
                    from_json(item, attribute_type, extra, path)
                })?;
                object.insert(key.clone(), value);
            }
            for name in attributes.keys() {
                object.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Map(object))
        }
        (other, _) => Err(mismatch(path, json_kind(other))),
    }
}

fn nested<T>(path: &mut String, step: &str, body: impl FnOnce(&mut String) -> T) -> T {
    let length = path.len();
    path.push_str(step);
    let result = body(path);
    path.truncate(length);
    result
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn ty() -> CtyType {
        CtyType::Object(BTreeMap::from([
            ("name".to_owned(), CtyType::String),
            ("count".to_owned(), CtyType::Number),
            ("tags".to_owned(), CtyType::Map(Box::new(CtyType::String))),
            ("any".to_owned(), CtyType::Dynamic),
        ]))
    }

    #[test]
    fn missing_attributes_are_null_and_dynamic_is_unwrapped() {
        let json = br#"{"name":"a","count":3,"any":{"value":["x",1],"type":["tuple",["string","number"]]}}"#;
        let value = decode(json, &ty(), ExtraAttributes::Reject).expect("decodes");
        let expected = Value::Map(BTreeMap::from([
            ("name".to_owned(), Value::from("a")),
            ("count".to_owned(), Value::from(3)),
            ("tags".to_owned(), Value::Null),
            (
                "any".to_owned(),
                Value::List(vec![Value::from("x"), Value::from(1)]),
            ),
        ]));
        assert_eq!(value, expected);
    }

    #[test]
    fn extra_attributes_are_rejected_or_dropped() {
        let json = br#"{"name":"a","removed_later":true}"#;
        let error = decode(json, &ty(), ExtraAttributes::Reject).expect_err("extra");
        assert_eq!(
            error.to_string(),
            "unsupported attribute `removed_later` at ``"
        );
        let value = decode(json, &ty(), ExtraAttributes::Drop).expect("dropped");
        assert_eq!(value.as_map().map(|map| map.len()), Some(4));
        let wrong =
            decode(br#"{"count":"many"}"#, &ty(), ExtraAttributes::Reject).expect_err("type");
        assert_eq!(
            wrong.to_string(),
            "expected number at `.count`, found string"
        );
    }
}
