//! The msgpack encoding of Terraform values (go-cty `cty/msgpack`), typed by [`CtyType`]:
//!
//! | value | msgpack |
//! |---|---|
//! | null | `nil` |
//! | unknown | any extension on read (type 0 from go-cty < 1.13, type 12 "refined unknown" from Terraform >= 1.6, refinements dropped); `d4 00 00` on write |
//! | string / bool | str / bool |
//! | number | any int width, float32/64, or a decimal str on read; the smallest int, else float64, on write |
//! | list, set, tuple | array |
//! | map, object | map with str keys; objects always carry every attribute |
//! | dynamic | `[type JSON (bin or str), value]`; bare nil / extension when the type itself is unknown |
//!
//! No schema knowledge beyond the type; block normalisation lives in [`super::blocks`].

use std::collections::BTreeMap;

use engine::value::{Number, Value};
use rmpv::Value as Pack;

use super::ConvertError;
use super::cty::CtyType;

/// Extension type of a plain unknown (what go-cty writes).
const UNKNOWN_EXTENSION: i8 = 0;

/// Decodes msgpack bytes of type `ty`.
pub fn decode(bytes: &[u8], ty: &CtyType) -> Result<Value, ConvertError> {
    let mut reader = bytes;
    let packed = rmpv::decode::read_value(&mut reader)
        .map_err(|error| ConvertError::Msgpack(error.to_string()))?;
    if !reader.is_empty() {
        return Err(ConvertError::Msgpack(format!(
            "{} trailing bytes after the value",
            reader.len()
        )));
    }
    from_pack(&packed, ty, &mut Vec::new())
}

/// Encodes a value of type `ty` as msgpack.
pub fn encode(value: &Value, ty: &CtyType) -> Result<Vec<u8>, ConvertError> {
    let packed = to_pack(value, ty, &mut Vec::new())?;
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &packed)
        .map_err(|error| ConvertError::Msgpack(error.to_string()))?;
    Ok(bytes)
}

fn mismatch(path: &[String], ty: &CtyType, found: &str) -> ConvertError {
    ConvertError::Type {
        path: path.join(""),
        expected: ty.friendly_name(),
        found: found.to_owned(),
    }
}

fn from_pack(packed: &Pack, ty: &CtyType, path: &mut Vec<String>) -> Result<Value, ConvertError> {
    match (packed, ty) {
        (Pack::Nil, _) => Ok(Value::Null),
        // Refinements (extension 12: not-null, string prefix, bounds) only narrow an unknown;
        // dropping them leaves a plain unknown, which is always correct.
        (Pack::Ext(_, _), _) => Ok(Value::Unknown),
        (_, CtyType::Dynamic) => from_dynamic(packed, path),
        (Pack::String(text), CtyType::String) => text
            .as_str()
            .map(|text| Value::String(text.to_owned()))
            .ok_or_else(|| mismatch(path, ty, "invalid UTF-8")),
        (Pack::Boolean(flag), CtyType::Bool) => Ok(Value::Bool(*flag)),
        (Pack::Integer(integer), CtyType::Number) => {
            let number = integer
                .as_i64()
                .map(|value| value as f64)
                .or_else(|| integer.as_u64().map(|value| value as f64));
            number
                .map(|value| Value::Number(Number(value)))
                .ok_or_else(|| mismatch(path, ty, "integer"))
        }
        (Pack::F32(value), CtyType::Number) => Ok(Value::Number(Number(f64::from(*value)))),
        (Pack::F64(value), CtyType::Number) => Ok(Value::Number(Number(*value))),
        // go-cty writes numbers that fit neither int64 nor float64 exactly as decimal strings.
        (Pack::String(text), CtyType::Number) => text
            .as_str()
            .and_then(|text| text.parse::<f64>().ok())
            .map(|value| Value::Number(Number(value)))
            .ok_or_else(|| mismatch(path, ty, "string")),
        (Pack::Array(items), CtyType::List(element) | CtyType::Set(element)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                with_step(path, format!("[{index}]"), |path| {
                    from_pack(item, element, path)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Pack::Array(items), CtyType::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(mismatch(path, ty, &format!("array of {}", items.len())));
            }
            items
                .iter()
                .zip(elements)
                .enumerate()
                .map(|(index, (item, element))| {
                    with_step(path, format!("[{index}]"), |path| {
                        from_pack(item, element, path)
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List)
        }
        (Pack::Map(entries), CtyType::Map(element)) => {
            let mut map = BTreeMap::new();
            for (key, item) in entries {
                let key = key
                    .as_str()
                    .ok_or_else(|| mismatch(path, ty, "map with a non-string key"))?;
                let value = with_step(path, format!("[{key:?}]"), |path| {
                    from_pack(item, element, path)
                })?;
                map.insert(key.to_owned(), value);
            }
            Ok(Value::Map(map))
        }
        (Pack::Map(entries), CtyType::Object(attributes)) => {
            let mut object = BTreeMap::new();
            for (key, item) in entries {
                let key = key
                    .as_str()
                    .ok_or_else(|| mismatch(path, ty, "map with a non-string key"))?;
                let attribute_type =
                    attributes
                        .get(key)
                        .ok_or_else(|| ConvertError::UnsupportedAttribute {
                            path: path.join(""),
                            name: key.to_owned(),
                        })?;
                let value = with_step(path, format!(".{key}"), |path| {
                    from_pack(item, attribute_type, path)
                })?;
                object.insert(key.to_owned(), value);
            }
            // Terraform always sends every attribute; tolerate omissions as null.
            for name in attributes.keys() {
                object.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Map(object))
        }
        (other, _) => Err(mismatch(path, ty, pack_kind(other))),
    }
}

fn from_dynamic(packed: &Pack, path: &mut Vec<String>) -> Result<Value, ConvertError> {
    let Pack::Array(pair) = packed else {
        return Err(ConvertError::Type {
            path: path.join(""),
            expected: "[type, value] pair of a dynamic value".to_owned(),
            found: pack_kind(packed).to_owned(),
        });
    };
    let (type_json, inner) = match pair.as_slice() {
        [Pack::Binary(bytes), inner] => (bytes.as_slice(), inner),
        [Pack::String(text), inner] => (text.as_bytes(), inner),
        _ => {
            return Err(ConvertError::Type {
                path: path.join(""),
                expected: "[type, value] pair of a dynamic value".to_owned(),
                found: format!("array of {}", pair.len()),
            });
        }
    };
    let ty = serde_json::from_slice(type_json)
        .ok()
        .and_then(|json| CtyType::from_json(&json))
        .ok_or_else(|| {
            ConvertError::Msgpack(format!(
                "invalid type JSON in a dynamic value at `{}`",
                path.join("")
            ))
        })?;
    from_pack(inner, &ty, path)
}

fn to_pack(value: &Value, ty: &CtyType, path: &mut Vec<String>) -> Result<Pack, ConvertError> {
    match (value, ty) {
        (Value::Null, _) => Ok(Pack::Nil),
        (Value::Unknown, _) => Ok(Pack::Ext(UNKNOWN_EXTENSION, vec![0])),
        (_, CtyType::Dynamic) => {
            let inferred = infer_type(value);
            let inner = to_pack(value, &inferred, path)?;
            Ok(Pack::Array(vec![
                Pack::Binary(inferred.to_json().to_string().into_bytes()),
                inner,
            ]))
        }
        (Value::String(text), CtyType::String) => Ok(Pack::from(text.as_str())),
        (Value::Bool(flag), CtyType::Bool) => Ok(Pack::Boolean(*flag)),
        (Value::Number(number), CtyType::Number) => Ok(match number.as_i64() {
            Some(integer) => Pack::from(integer),
            None => Pack::F64(number.0),
        }),
        (Value::List(items), CtyType::List(element) | CtyType::Set(element)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                with_step(path, format!("[{index}]"), |path| {
                    to_pack(item, element, path)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Pack::Array),
        (Value::List(items), CtyType::Tuple(elements)) if items.len() == elements.len() => items
            .iter()
            .zip(elements)
            .enumerate()
            .map(|(index, (item, element))| {
                with_step(path, format!("[{index}]"), |path| {
                    to_pack(item, element, path)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Pack::Array),
        (Value::Map(entries), CtyType::Map(element)) => entries
            .iter()
            .map(|(key, item)| {
                let packed = with_step(path, format!("[{key:?}]"), |path| {
                    to_pack(item, element, path)
                })?;
                Ok((Pack::from(key.as_str()), packed))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Pack::Map),
        (Value::Map(entries), CtyType::Object(attributes)) => {
            if let Some(extra) = entries.keys().find(|key| !attributes.contains_key(*key)) {
                return Err(ConvertError::UnsupportedAttribute {
                    path: path.join(""),
                    name: extra.clone(),
                });
            }
            // Every attribute, sorted by name (go-cty's order; BTreeMap iterates sorted).
            attributes
                .iter()
                .map(|(name, attribute_type)| {
                    let item = entries.get(name).unwrap_or(&Value::Null);
                    let packed = with_step(path, format!(".{name}"), |path| {
                        to_pack(item, attribute_type, path)
                    })?;
                    Ok((Pack::from(name.as_str()), packed))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Pack::Map)
        }
        (other, _) => Err(mismatch(path, ty, value_kind(other))),
    }
}

/// The most specific type of a known value, for writing it where the schema says `dynamic`.
fn infer_type(value: &Value) -> CtyType {
    match value {
        Value::Null | Value::Unknown => CtyType::Dynamic,
        Value::Bool(_) => CtyType::Bool,
        Value::Number(_) => CtyType::Number,
        Value::String(_) => CtyType::String,
        Value::List(items) => CtyType::Tuple(items.iter().map(infer_type).collect()),
        Value::Map(entries) => CtyType::Object(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), infer_type(item)))
                .collect(),
        ),
    }
}

fn with_step<T>(
    path: &mut Vec<String>,
    step: String,
    body: impl FnOnce(&mut Vec<String>) -> T,
) -> T {
    path.push(step);
    let result = body(path);
    path.pop();
    result
}

fn pack_kind(packed: &Pack) -> &'static str {
    match packed {
        Pack::Nil => "nil",
        Pack::Boolean(_) => "bool",
        Pack::Integer(_) => "integer",
        Pack::F32(_) | Pack::F64(_) => "float",
        Pack::String(_) => "string",
        Pack::Binary(_) => "binary",
        Pack::Array(_) => "array",
        Pack::Map(_) => "map",
        Pack::Ext(_, _) => "extension",
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn object(fields: &[(&str, CtyType)]) -> CtyType {
        CtyType::Object(
            fields
                .iter()
                .map(|(name, ty)| ((*name).to_owned(), ty.clone()))
                .collect(),
        )
    }

    fn map(fields: &[(&str, Value)]) -> Value {
        Value::Map(
            fields
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect(),
        )
    }

    /// The worked example of the protocol reference (§4.1), byte for byte.
    #[test]
    fn encodes_the_reference_example_exactly() {
        let ty = object(&[
            ("id", CtyType::String),
            ("name", CtyType::String),
            ("port", CtyType::Number),
            ("tags", CtyType::Map(Box::new(CtyType::String))),
        ]);
        let value = map(&[
            ("id", Value::Unknown),
            ("name", "hello".into()),
            ("port", 8080.into()),
        ]);
        let bytes = encode(&value, &ty).expect("encodes");
        let expected: Vec<u8> = [
            &[0x84][..],
            &[0xa2, b'i', b'd', 0xd4, 0x00, 0x00],
            &[
                0xa4, b'n', b'a', b'm', b'e', 0xa5, b'h', b'e', b'l', b'l', b'o',
            ],
            &[0xa4, b'p', b'o', b'r', b't', 0xcd, 0x1f, 0x90],
            &[0xa4, b't', b'a', b'g', b's', 0xc0],
        ]
        .concat();
        assert_eq!(bytes, expected);
        let decoded = decode(&bytes, &ty).expect("decodes");
        assert_eq!(
            decoded,
            map(&[
                ("id", Value::Unknown),
                ("name", "hello".into()),
                ("port", 8080.into()),
                ("tags", Value::Null)
            ])
        );
    }

    #[test]
    fn round_trips_nested_values_with_unknowns() {
        let inner = object(&[("status", CtyType::String), ("cert", CtyType::String)]);
        let ty = object(&[
            ("ssl", inner.clone()),
            ("schedule", CtyType::List(Box::new(inner.clone()))),
            ("types", CtyType::Map(Box::new(inner))),
            ("size", CtyType::Number),
            ("ratio", CtyType::Number),
            ("on", CtyType::Bool),
        ]);
        let ssl = map(&[("status", "Enabled".into()), ("cert", Value::Unknown)]);
        let value = map(&[
            ("ssl", ssl.clone()),
            ("schedule", Value::List(vec![ssl.clone(), Value::Unknown])),
            ("types", map(&[("gpu", ssl)])),
            ("size", Value::from(-3)),
            ("ratio", Value::Number(Number(0.25))),
            ("on", Value::Unknown),
        ]);
        let bytes = encode(&value, &ty).expect("encodes");
        assert_eq!(decode(&bytes, &ty).expect("decodes"), value);
    }

    #[test]
    fn refined_unknowns_and_any_extension_decode_as_unknown() {
        // Extension 12 (ext8, 3 bytes) holding the refinement map {1: false}: "not null".
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(
            decode(&refined, &CtyType::String).expect("decodes"),
            Value::Unknown
        );
        // A string-prefix refinement {2: "ab"} on a string.
        let prefix = [0xc7, 0x05, 0x0c, 0x81, 0x02, 0xa2, b'a', b'b'];
        assert_eq!(
            decode(&prefix, &CtyType::String).expect("decodes"),
            Value::Unknown
        );
        // An unknown object (the whole value), as fixext1 type 0.
        let ty = object(&[("a", CtyType::String)]);
        assert_eq!(
            decode(&[0xd4, 0x00, 0x00], &ty).expect("decodes"),
            Value::Unknown
        );
        assert_eq!(
            encode(&Value::Unknown, &ty).expect("encodes"),
            vec![0xd4, 0x00, 0x00]
        );
    }

    #[test]
    fn numbers_accept_every_width_and_decimal_strings() {
        let cases: [(&[u8], f64); 6] = [
            (&[0x05], 5.0),
            (&[0xff], -1.0),
            (&[0xcc, 0xc8], 200.0),
            (&[0xd2, 0xff, 0xff, 0xff, 0x38], -200.0),
            (&[0xca, 0x3f, 0x80, 0x00, 0x00], 1.0),
            (&[0xa3, b'1', b'.', b'5'], 1.5),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                decode(bytes, &CtyType::Number).expect("decodes"),
                Value::Number(Number(expected)),
                "{bytes:x?}"
            );
        }
        assert_eq!(
            encode(&Value::Number(Number(1.5)), &CtyType::Number).expect("encodes")[0],
            0xcb
        );
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        // The reference's example: [bin("\"string\""), "x"].
        let bytes = [
            0x92, 0xc4, 0x08, b'"', b's', b't', b'r', b'i', b'n', b'g', b'"', 0xa1, b'x',
        ];
        assert_eq!(
            decode(&bytes, &CtyType::Dynamic).expect("decodes"),
            Value::from("x")
        );
        assert_eq!(
            encode(&Value::from("x"), &CtyType::Dynamic).expect("encodes"),
            bytes.to_vec()
        );
    }

    #[test]
    fn unsupported_attributes_and_wrong_types_are_errors() {
        let ty = object(&[("a", CtyType::String)]);
        let extra = encode(&map(&[("b", "x".into())]), &ty).expect_err("extra attribute");
        assert_eq!(extra.to_string(), "unsupported attribute `b` at ``");
        let wrong = encode(&map(&[("a", Value::from(true))]), &ty).expect_err("wrong type");
        assert_eq!(wrong.to_string(), "expected string at `.a`, found bool");
        assert!(decode(&[0x81, 0xa1, b'z', 0xc0], &ty).is_err());
        assert!(decode(&[0xc0, 0xc0], &ty).is_err(), "trailing bytes");
    }
}
