//! Terraform's type conversions (`tobool tolist tomap tonumber toset tostring`) and the type
//! unification behind them: `tolist(["a", 1])` is `["a", "1"]` because string is the one type
//! both elements convert to. [`Value`] has no types, so a value's type is read from its shape
//! (a list literal is a tuple, a map literal an object), as HCL gives literals their types.
//!
//! | from \ to | string        | number          | bool                  |
//! |-----------|---------------|-----------------|-----------------------|
//! | string    | itself        | decimal parse   | `"true"` / `"false"`  |
//! | number    | decimal text  | itself          | error                 |
//! | bool      | `true`/`false`| error           | itself                |

use std::collections::BTreeMap;
use std::path::Path;

use engine::value::{Number, Value};

use super::set::sort_set;
use super::{kind_of, parse_number};

/// A Terraform type, as far as conversions need it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Type {
    /// Any type (`null`, unknown, or an empty collection's element).
    Dynamic,
    Bool,
    Number,
    String,
    List(Box<Type>),
    Tuple(Vec<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    fn name(&self) -> String {
        match self {
            Type::Dynamic => "any".to_owned(),
            Type::Bool => "bool".to_owned(),
            Type::Number => "number".to_owned(),
            Type::String => "string".to_owned(),
            Type::List(element) => format!("list of {}", element.name()),
            Type::Tuple(_) => "tuple".to_owned(),
            Type::Map(element) => format!("map of {}", element.name()),
            Type::Object(_) => "object".to_owned(),
        }
    }
}

/// The type of a value, read from its shape.
pub(super) fn type_of(value: &Value) -> Type {
    match value {
        Value::Null | Value::Unknown => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::Tuple(items.iter().map(type_of).collect()),
        Value::Map(entries) => Type::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), type_of(value)))
                .collect(),
        ),
    }
}

/// The one type all of `types` convert to (cty's unsafe unification), if there is one.
pub(super) fn unify(types: &[Type]) -> Option<Type> {
    let known: Vec<&Type> = types.iter().filter(|ty| **ty != Type::Dynamic).collect();
    let Some(first) = known.first() else {
        return Some(Type::Dynamic);
    };
    if known.iter().all(|ty| ty == first) {
        return Some((*first).clone());
    }
    let primitive = |ty: &&Type| matches!(ty, Type::Bool | Type::Number | Type::String);
    if known.iter().all(primitive) {
        // Numbers and bools both convert to string, but not to each other.
        return known
            .iter()
            .any(|ty| **ty == Type::String)
            .then_some(Type::String);
    }
    if known
        .iter()
        .all(|ty| matches!(ty, Type::List(_) | Type::Tuple(_)))
    {
        if let Type::Tuple(first_elements) = first {
            let same_length = known.iter().all(
                |ty| matches!(ty, Type::Tuple(elements) if elements.len() == first_elements.len()),
            );
            if same_length {
                let mut unified = Vec::with_capacity(first_elements.len());
                for position in 0..first_elements.len() {
                    let column: Vec<Type> = known
                        .iter()
                        .map(|ty| match ty {
                            Type::Tuple(elements) => elements[position].clone(),
                            _ => Type::Dynamic,
                        })
                        .collect();
                    unified.push(unify(&column)?);
                }
                return Some(Type::Tuple(unified));
            }
        }
        let elements: Vec<Type> = known
            .iter()
            .flat_map(|ty| match ty {
                Type::Tuple(elements) => elements.clone(),
                Type::List(element) => vec![(**element).clone()],
                _ => Vec::new(),
            })
            .collect();
        return Some(Type::List(Box::new(unify(&elements)?)));
    }
    if known
        .iter()
        .all(|ty| matches!(ty, Type::Map(_) | Type::Object(_)))
    {
        if let Type::Object(first_attributes) = first {
            let same_keys = known.iter().all(|ty| {
                matches!(ty, Type::Object(attributes)
                    if attributes.keys().eq(first_attributes.keys()))
            });
            if same_keys {
                let mut unified = BTreeMap::new();
                for key in first_attributes.keys() {
                    let column: Vec<Type> = known
                        .iter()
                        .map(|ty| match ty {
                            Type::Object(attributes) => attributes[key].clone(),
                            _ => Type::Dynamic,
                        })
                        .collect();
                    unified.insert(key.clone(), unify(&column)?);
                }
                return Some(Type::Object(unified));
            }
        }
        let elements: Vec<Type> = known
            .iter()
            .flat_map(|ty| match ty {
                Type::Object(attributes) => attributes.values().cloned().collect(),
                Type::Map(element) => vec![(**element).clone()],
                _ => Vec::new(),
            })
            .collect();
        return Some(Type::Map(Box::new(unify(&elements)?)));
    }
    None
}

/// Converts `value` to `ty`; null and unknown convert to anything.
pub(super) fn convert(value: &Value, ty: &Type) -> Result<Value, String> {
    let mismatch = || format!("cannot convert {} to {}", describe(value), ty.name());
    match (ty, value) {
        (_, Value::Null | Value::Unknown) | (Type::Dynamic, _) => Ok(value.clone()),
        (Type::String, Value::String(_)) | (Type::Number, Value::Number(_)) | (Type::Bool, Value::Bool(_)) => {
            Ok(value.clone())
        }
        (Type::String, Value::Number(number)) => Ok(Value::String(number.to_string())),
        (Type::String, Value::Bool(flag)) => Ok(Value::String(flag.to_string())),
        (Type::Number, Value::String(text)) => parse_number(text)
            .map(|number| Value::Number(Number(number)))
            .ok_or_else(|| {
                format!("cannot convert \"{text}\" to number; given string must be a decimal representation of a number")
            }),
        (Type::Bool, Value::String(text)) => match text.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "cannot convert \"{text}\" to bool; only the strings \"true\" or \"false\" are allowed"
            )),
        },
        (Type::List(element), Value::List(items)) => items
            .iter()
            .map(|item| convert(item, element))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Type::Tuple(elements), Value::List(items)) if elements.len() == items.len() => items
            .iter()
            .zip(elements)
            .map(|(item, element)| convert(item, element))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Type::Map(element), Value::Map(entries)) => entries
            .iter()
            .map(|(key, item)| Ok((key.clone(), convert(item, element)?)))
            .collect::<Result<_, String>>()
            .map(Value::Map),
        (Type::Object(attributes), Value::Map(entries))
            if attributes.keys().eq(entries.keys()) =>
        {
            entries
                .iter()
                .map(|(key, item)| Ok((key.clone(), convert(item, &attributes[key])?)))
                .collect::<Result<_, String>>()
                .map(Value::Map)
        }
        _ => Err(mismatch()),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "tuple",
        Value::Map(_) => "object",
        other => kind_of(other),
    }
}

/// The elements of a list argument converted to one element type (a `list(any)` parameter).
pub(super) fn unified_list(value: &Value, parameter: &str) -> Result<Vec<Value>, String> {
    match value {
        Value::List(items) => {
            let types: Vec<Type> = items.iter().map(type_of).collect();
            let element = unify(&types).ok_or_else(|| {
                format!("argument `{parameter}`: all elements must have the same type (or convert to one)")
            })?;
            items.iter().map(|item| convert(item, &element)).collect()
        }
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => Err(format!(
            "argument `{parameter}` must be a list, not a {}",
            kind_of(other)
        )),
    }
}

pub(super) fn tostring(args: &[Value], _: &Path) -> Result<Value, String> {
    convert(&args[0], &Type::String)
}

pub(super) fn tonumber(args: &[Value], _: &Path) -> Result<Value, String> {
    convert(&args[0], &Type::Number)
}

pub(super) fn tobool(args: &[Value], _: &Path) -> Result<Value, String> {
    convert(&args[0], &Type::Bool)
}

pub(super) fn tolist(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Null | Value::Unknown => Ok(args[0].clone()),
        Value::List(_) => unified_list(&args[0], "v")
            .map(Value::List)
            .map_err(|_| "cannot convert tuple to list of any single type".to_owned()),
        other => Err(format!(
            "cannot convert {} to list of any single type",
            describe(other)
        )),
    }
}

pub(super) fn toset(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Null | Value::Unknown => Ok(args[0].clone()),
        // A set's order and duplicates depend on every element.
        value if value.contains_unknown() => Ok(Value::Unknown),
        Value::List(_) => unified_list(&args[0], "v")
            .map(|items| Value::List(sort_set(items)))
            .map_err(|_| "cannot convert tuple to set of any single type".to_owned()),
        other => Err(format!(
            "cannot convert {} to set of any single type",
            describe(other)
        )),
    }
}

pub(super) fn tomap(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Null | Value::Unknown => Ok(args[0].clone()),
        Value::Map(entries) => {
            let types: Vec<Type> = entries.values().map(type_of).collect();
            let element = unify(&types)
                .ok_or_else(|| "cannot convert object to map of any single type".to_owned())?;
            convert(&args[0], &Type::Map(Box::new(element)))
        }
        other => Err(format!(
            "cannot convert {} to map of any single type",
            describe(other)
        )),
    }
}

/// amlplan has no ephemeral values, so every value is returned as it is.
pub(super) fn ephemeralasnull(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(args[0].clone())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(run("tobool", vec![true.into()]), Ok(true.into()));
        assert_eq!(run("tobool", vec!["false".into()]), Ok(false.into()));
        assert_eq!(run("tobool", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            run("tobool", vec!["no".into()]),
            Err(
                "cannot convert \"no\" to bool; only the strings \"true\" or \"false\" are allowed"
                    .to_owned()
            )
        );
        assert_eq!(
            run("tobool", vec![1.into()]),
            Err("cannot convert number to bool".to_owned())
        );
        assert_eq!(
            run("tolist", vec![strings(&["a", "b", "c"])]),
            Ok(strings(&["a", "b", "c"]))
        );
        assert_eq!(
            run(
                "tolist",
                vec![Value::List(vec!["a".into(), "b".into(), 3.into()])]
            ),
            Ok(strings(&["a", "b", "3"]))
        );
        assert_eq!(
            run("tomap", vec![object(&[("a", 1.into()), ("b", 2.into())])]),
            Ok(object(&[("a", 1.into()), ("b", 2.into())]))
        );
        assert_eq!(
            run(
                "tomap",
                vec![object(&[("a", "foo".into()), ("b", true.into())])]
            ),
            Ok(object(&[("a", "foo".into()), ("b", "true".into())]))
        );
        assert_eq!(run("tonumber", vec![1.into()]), Ok(1.into()));
        assert_eq!(run("tonumber", vec!["1".into()]), Ok(1.into()));
        assert_eq!(run("tonumber", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            run("tonumber", vec!["no".into()]),
            Err("cannot convert \"no\" to number; given string must be a decimal representation of a number".to_owned())
        );
        assert_eq!(
            run("toset", vec![strings(&["a", "b", "c"])]),
            Ok(strings(&["a", "b", "c"]))
        );
        assert_eq!(
            run(
                "toset",
                vec![Value::List(vec!["a".into(), "b".into(), 3.into()])]
            ),
            Ok(strings(&["3", "a", "b"]))
        );
        assert_eq!(
            run("toset", vec![strings(&["c", "b", "b"])]),
            Ok(strings(&["b", "c"]))
        );
        assert_eq!(run("tostring", vec!["hello".into()]), Ok("hello".into()));
        assert_eq!(run("tostring", vec![1.into()]), Ok("1".into()));
        assert_eq!(run("tostring", vec![true.into()]), Ok("true".into()));
        assert_eq!(run("tostring", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            run("tostring", vec![strings(&["a"])]),
            Err("cannot convert tuple to string".to_owned())
        );
    }

    #[test]
    fn unification() {
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(
            unify(&[Type::Number, Type::Bool, Type::String]),
            Some(Type::String)
        );
        assert_eq!(
            run("tolist", vec![Value::List(vec![true.into(), 1.into()])]),
            Err("cannot convert tuple to list of any single type".to_owned())
        );
        assert_eq!(
            run(
                "tolist",
                vec![Value::List(vec![
                    strings(&["a"]),
                    Value::List(vec![1.into(), 2.into()])
                ])]
            ),
            Ok(Value::List(vec![strings(&["a"]), strings(&["1", "2"])]))
        );
        let mixed = Value::List(vec![
            object(&[("a", 1.into()), ("b", true.into())]),
            object(&[("a", "x".into()), ("b", false.into())]),
        ]);
        assert_eq!(
            run("tolist", vec![mixed]),
            Ok(Value::List(vec![
                object(&[("a", "1".into()), ("b", true.into())]),
                object(&[("a", "x".into()), ("b", false.into())]),
            ]))
        );
        assert_eq!(
            run(
                "tolist",
                vec![Value::List(vec![
                    object(&[("a", 1.into())]),
                    object(&[("b", "x".into())])
                ])]
            ),
            Ok(Value::List(vec![
                object(&[("a", "1".into())]),
                object(&[("b", "x".into())])
            ]))
        );
        assert_eq!(
            run("tolist", vec![Value::List(vec![Value::Null, num(1.5)])]),
            Ok(Value::List(vec![Value::Null, num(1.5)]))
        );
        assert_eq!(run("tolist", vec![Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            run("toset", vec![Value::List(vec![Value::Unknown])]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("tolist", vec![object(&[])]),
            Err("cannot convert object to list of any single type".to_owned())
        );
        assert_eq!(
            run("ephemeralasnull", vec![Value::Unknown]),
            Ok(Value::Unknown)
        );
        assert_eq!(run("ephemeralasnull", vec!["x".into()]), Ok("x".into()));
    }
}
