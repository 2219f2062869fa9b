//! Set functions: `setintersection setproduct setsubtract setunion`. A set is a list without
//! duplicates in Terraform's set order: strings lexically (by bytes), numbers by value, `false`
//! before `true`, anything else by its JSON text. The element types of all arguments are unified
//! first, so `setunion(["a"], [1])` is `["1", "a"]`.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::Path;

use engine::value::Value;

use super::conversion::{Type, convert, type_of, unify};
use super::encoding::json_encode;
use super::{MAX_VALUE_ELEMENTS, kind_of, room_for_elements};

/// A key that is equal for equal values (numbers by value), for duplicate detection.
pub(super) fn identity(value: &Value) -> String {
    match value {
        Value::String(text) => format!("s{text}"),
        Value::Number(number) => format!("n{}", number.0),
        Value::Bool(flag) => format!("b{flag}"),
        Value::Null => "z".to_owned(),
        Value::Unknown => "u".to_owned(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(identity).collect();
            format!(
                "l{}:{}",
                parts.len(),
                parts
                    .iter()
                    .map(|p| format!("{}:{p}", p.len()))
                    .collect::<String>()
            )
        }
        Value::Map(entries) => {
            let parts: String = entries
                .iter()
                .map(|(key, item)| {
                    let part = identity(item);
                    format!("{}:{key}{}:{part}", key.len(), part.len())
                })
                .collect();
            format!("m{}:{parts}", entries.len())
        }
    }
}

fn set_order(left: &Value, right: &Value) -> Ordering {
    match (left, right) {
        (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Value::Number(a), Value::Number(b)) => a.0.total_cmp(&b.0),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        _ => {
            let text = |value: &Value| json_encode(value).unwrap_or_else(|_| identity(value));
            text(left).cmp(&text(right))
        }
    }
}

/// Removes duplicates and puts `items` in set order.
pub(super) fn sort_set(items: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut unique: Vec<Value> = items
        .into_iter()
        .filter(|item| seen.insert(identity(item)))
        .collect();
    unique.sort_by(set_order);
    unique
}

/// The arguments as sets of one unified element type.
fn sets(args: &[Value]) -> Result<Vec<Vec<Value>>, String> {
    let mut types = Vec::new();
    for (position, argument) in args.iter().enumerate() {
        match argument {
            Value::List(items) => types.extend(items.iter().map(type_of)),
            Value::Null => return Err(format!("argument {} must not be null", position + 1)),
            other => {
                return Err(format!(
                    "argument {} must be a set or a list, not a {}",
                    position + 1,
                    kind_of(other)
                ));
            }
        }
    }
    let element = unify(&types).ok_or("given sets must all have compatible element types")?;
    args.iter()
        .map(|argument| {
            let items = argument.as_list().expect("checked above");
            items.iter().map(|item| convert(item, &element)).collect()
        })
        .collect()
}

pub(super) fn setunion(args: &[Value], _: &Path) -> Result<Value, String> {
    let all: Vec<Value> = sets(args)?.into_iter().flatten().collect();
    Ok(Value::List(sort_set(all)))
}

pub(super) fn setintersection(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut sets = sets(args)?.into_iter();
    let first = sets.next().expect("at least one argument");
    let others: Vec<HashSet<String>> = sets.map(|set| set.iter().map(identity).collect()).collect();
    let common = first
        .into_iter()
        .filter(|item| {
            let key = identity(item);
            others.iter().all(|other| other.contains(&key))
        })
        .collect();
    Ok(Value::List(sort_set(common)))
}

pub(super) fn setsubtract(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut sets = sets(args)?.into_iter();
    let (first, second) = (
        sets.next().expect("two arguments"),
        sets.next().expect("two arguments"),
    );
    let removed: HashSet<String> = second.iter().map(identity).collect();
    let rest = first
        .into_iter()
        .filter(|item| !removed.contains(&identity(item)))
        .collect();
    Ok(Value::List(sort_set(rest)))
}

/// Terraform's `setproduct`: every combination, the first argument varying slowest. Each
/// argument's elements are unified on their own (the result is a list of tuples).
pub(super) fn setproduct(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut columns = Vec::with_capacity(args.len());
    for (position, argument) in args.iter().enumerate() {
        let items = match argument {
            Value::List(items) => items,
            other => {
                return Err(format!(
                    "argument {} must be a set or a list, not a {}",
                    position + 1,
                    kind_of(other)
                ));
            }
        };
        let types: Vec<Type> = items.iter().map(type_of).collect();
        let element = unify(&types).ok_or_else(|| {
            format!(
                "argument {}: all elements must be of the same type",
                position + 1
            )
        })?;
        let converted: Vec<Value> = items
            .iter()
            .map(|item| convert(item, &element))
            .collect::<Result<_, _>>()?;
        columns.push(converted);
    }
    let total = columns
        .iter()
        .try_fold(1usize, |product, column| product.checked_mul(column.len()))
        .unwrap_or(usize::MAX);
    if total == 0 {
        return Ok(Value::List(Vec::new()));
    }
    room_for_elements(
        total
            .saturating_mul(columns.len() + 1)
            .min(MAX_VALUE_ELEMENTS + 1),
    )?;
    let mut product = Vec::with_capacity(total);
    let mut positions = vec![0usize; columns.len()];
    for _ in 0..total {
        product.push(Value::List(
            positions
                .iter()
                .zip(&columns)
                .map(|(position, column)| column[*position].clone())
                .collect(),
        ));
        for index in (0..positions.len()).rev() {
            positions[index] += 1;
            if positions[index] < columns[index].len() {
                break;
            }
            positions[index] = 0;
        }
    }
    Ok(Value::List(product))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(
            run(
                "setintersection",
                vec![
                    strings(&["a", "b"]),
                    strings(&["b", "c"]),
                    strings(&["b", "d"])
                ]
            ),
            Ok(strings(&["b"]))
        );
        assert_eq!(
            run(
                "setsubtract",
                vec![strings(&["a", "b", "c"]), strings(&["a", "c"])]
            ),
            Ok(strings(&["b"]))
        );
        assert_eq!(
            run(
                "setunion",
                vec![strings(&["a", "b"]), strings(&["b", "c"]), strings(&["d"])]
            ),
            Ok(strings(&["a", "b", "c", "d"]))
        );
        assert_eq!(
            run(
                "setproduct",
                vec![
                    strings(&["development", "staging", "production"]),
                    strings(&["app1", "app2"])
                ]
            ),
            Ok(Value::List(vec![
                strings(&["development", "app1"]),
                strings(&["development", "app2"]),
                strings(&["staging", "app1"]),
                strings(&["staging", "app2"]),
                strings(&["production", "app1"]),
                strings(&["production", "app2"]),
            ]))
        );
        assert_eq!(
            run("setproduct", vec![strings(&["a"]), Value::List(vec![])]),
            Ok(Value::List(vec![]))
        );
    }

    #[test]
    fn set_details() {
        assert_eq!(
            run(
                "setunion",
                vec![strings(&["a"]), Value::List(vec![1.into()])]
            ),
            Ok(strings(&["1", "a"]))
        );
        assert_eq!(
            run(
                "setunion",
                vec![Value::List(vec![num(10.0), num(9.0), num(10.0)])]
            ),
            Ok(Value::List(vec![num(9.0), num(10.0)]))
        );
        assert_eq!(
            run(
                "setunion",
                vec![Value::List(vec![true.into()]), Value::List(vec![1.into()])]
            ),
            Err("given sets must all have compatible element types".to_owned())
        );
        assert!(run("setsubtract", vec!["a".into(), strings(&[])]).is_err());
        assert_eq!(
            run("setproduct", vec![strings(&["a"])]),
            Err("it takes at least 2 argument(s), 1 given".to_owned())
        );
        let wide = Value::List((0..1100).map(Value::from).collect());
        assert!(run("setproduct", vec![wide.clone(), wide]).is_err());
        assert_eq!(
            sort_set(vec![strings(&["b"]), strings(&["a"]), strings(&["a"])]),
            vec![strings(&["a"]), strings(&["b"])]
        );
    }
}
