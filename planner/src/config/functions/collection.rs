//! Collection functions: `alltrue anytrue chunklist coalesce coalescelist compact concat contains
//! distinct element flatten index keys length lookup matchkeys merge one range reverse slice sort
//! transpose values zipmap`, and the removed `list` and `map`. Lists, tuples and sets are all
//! lists here; maps and objects are maps.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use engine::value::{Number, Value};

use super::conversion::{Type, convert, type_of, unified_list, unify};
use super::set::identity;
use super::{
    boolean, grapheme, kind_of, list, map, number, room_for_elements, string, string_list,
    whole_number,
};

fn bools(value: &Value) -> Result<Vec<Option<bool>>, String> {
    list(value, "list")?
        .iter()
        .map(|item| match item {
            Value::Null => Ok(None),
            other => boolean(other, "list").map(Some),
        })
        .collect()
}

pub(super) fn alltrue(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::Bool(
        bools(&args[0])?.into_iter().all(|item| item == Some(true)),
    ))
}

pub(super) fn anytrue(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::Bool(
        bools(&args[0])?.into_iter().any(|item| item == Some(true)),
    ))
}

pub(super) fn chunklist(args: &[Value], _: &Path) -> Result<Value, String> {
    if matches!(args[0], Value::Unknown) || args[1].contains_unknown() {
        return Ok(Value::Unknown);
    }
    let items = unified_list(&args[0], "list")?;
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    let size = whole_number(&args[1], "size")?;
    if size < 0 {
        return Err("the size argument must be positive".to_owned());
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items)]));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    room_for_elements(items.len().saturating_add(items.len().div_ceil(size)))?;
    Ok(Value::List(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    ))
}

/// Terraform's `coalesce`: the arguments are converted to their common type; the first that is
/// not null (nor an empty string, for strings) wins.
pub(super) fn coalesce(args: &[Value], _: &Path) -> Result<Value, String> {
    let types: Vec<Type> = args.iter().map(type_of).collect();
    let common = unify(&types).ok_or("all arguments must have the same type")?;
    for argument in args {
        let value = convert(argument, &common)?;
        match &value {
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => {}
            Value::String(text) if text.is_empty() && common == Type::String => {}
            _ => return Ok(value),
        }
    }
    Err("no non-null, non-empty-string arguments".to_owned())
}

pub(super) fn coalescelist(args: &[Value], _: &Path) -> Result<Value, String> {
    for argument in args {
        match argument {
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => {}
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(argument.clone()),
            _ => return Err("coalescelist arguments must be lists or tuples".to_owned()),
        }
    }
    Err("no non-null arguments".to_owned())
}

pub(super) fn compact(args: &[Value], _: &Path) -> Result<Value, String> {
    let items = list(&args[0], "list")?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if item.is_null() {
            continue;
        }
        let text = string(item, "list")?;
        if !text.is_empty() {
            out.push(Value::String(text));
        }
    }
    Ok(Value::List(out))
}

pub(super) fn concat(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut items = Vec::new();
    for (position, argument) in args.iter().enumerate() {
        match argument {
            Value::Unknown => return Ok(Value::Unknown),
            Value::List(more) => items.extend(more.iter().cloned()),
            other => {
                return Err(format!(
                    "argument {} must be a list, a set or a tuple, not a {}",
                    position + 1,
                    kind_of(other)
                ));
            }
        }
    }
    Ok(Value::List(items))
}

/// Terraform's equality: numbers by value, collections element by element, types must agree.
fn equal(left: &Value, right: &Value) -> bool {
    left == right
}

pub(super) fn contains(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::List(items) => Ok(Value::Bool(items.iter().any(|item| equal(item, &args[1])))),
        Value::Null => Err("cannot search a nil list or set".to_owned()),
        _ => Err("argument must be list, tuple, or set".to_owned()),
    }
}

pub(super) fn distinct(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut seen = HashSet::new();
    Ok(Value::List(
        unified_list(&args[0], "list")?
            .into_iter()
            .filter(|item| seen.insert(identity(item)))
            .collect(),
    ))
}

pub(super) fn element(args: &[Value], _: &Path) -> Result<Value, String> {
    if args[1].contains_unknown() {
        return Ok(Value::Unknown);
    }
    let index = number(&args[1], "index")?;
    if index < 0.0 {
        return Err("cannot use element function with a negative index".to_owned());
    }
    let index = Number(index)
        .as_i64()
        .ok_or("invalid index: value must be a whole number")?;
    let items = match &args[0] {
        Value::Unknown => return Ok(Value::Unknown),
        Value::List(items) => items,
        other => return Err(format!("cannot read elements from {}", kind_of(other))),
    };
    if items.is_empty() {
        return Err("cannot use element function with an empty list".to_owned());
    }
    Ok(items[(index as usize) % items.len()].clone())
}

pub(super) fn flatten(args: &[Value], _: &Path) -> Result<Value, String> {
    /// `false` when an unknown element might be a list.
    fn flatten_into(items: &[Value], out: &mut Vec<Value>) -> bool {
        for item in items {
            match item {
                Value::List(inner) => {
                    if !flatten_into(inner, out) {
                        return false;
                    }
                }
                Value::Unknown => return false,
                other => out.push(other.clone()),
            }
        }
        true
    }
    let items = match &args[0] {
        Value::Unknown => return Ok(Value::Unknown),
        Value::List(items) => items,
        _ => return Err("can only flatten lists, sets and tuples".to_owned()),
    };
    let mut out = Vec::new();
    if !flatten_into(items, &mut out) {
        return Ok(Value::Unknown);
    }
    Ok(Value::List(out))
}

pub(super) fn index(args: &[Value], _: &Path) -> Result<Value, String> {
    let items = match &args[0] {
        Value::List(items) => items,
        _ => return Err("argument must be a list or tuple".to_owned()),
    };
    if items.is_empty() {
        return Err("cannot search an empty list".to_owned());
    }
    items
        .iter()
        .position(|item| equal(item, &args[1]))
        .map(|position| Value::from(position as i64))
        .ok_or_else(|| "item not found".to_owned())
}

pub(super) fn keys(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::Map(entries) => Ok(Value::List(
            entries.keys().cloned().map(Value::String).collect(),
        )),
        Value::Null => Err("argument `inputMap` must not be null".to_owned()),
        _ => Err("must have map or object type".to_owned()),
    }
}

pub(super) fn length(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::String(text) => Ok(Value::from(grapheme::count(text) as i64)),
        Value::List(items) => Ok(Value::from(items.len() as i64)),
        Value::Map(entries) => Ok(Value::from(entries.len() as i64)),
        Value::Null => Err("argument must not be null".to_owned()),
        _ => Err("argument must be a string, a collection type, or a structural type".to_owned()),
    }
}

pub(super) fn lookup(args: &[Value], _: &Path) -> Result<Value, String> {
    if matches!(args[0], Value::Unknown) || args[1].contains_unknown() {
        return Ok(Value::Unknown);
    }
    let entries = match &args[0] {
        Value::Map(entries) => entries,
        _ => return Err("lookup() requires a map as the first argument".to_owned()),
    };
    let key = string(&args[1], "key")?;
    match (entries.get(&key), args.get(2)) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!("lookup failed to find key \"{key}\"")),
    }
}

pub(super) fn matchkeys(args: &[Value], _: &Path) -> Result<Value, String> {
    let values = list(&args[0], "values")?;
    let (keys, searchset) = (list(&args[1], "keys")?, list(&args[2], "searchset")?);
    let types: Vec<Type> = keys.iter().chain(searchset).map(type_of).collect();
    let common = unify(&types).ok_or("keys and searchset must be of the same type")?;
    if values.len() != keys.len() {
        return Err("length of keys and values should be equal".to_owned());
    }
    let convert_all = |items: &[Value]| -> Result<Vec<Value>, String> {
        items.iter().map(|item| convert(item, &common)).collect()
    };
    let (keys, searchset) = (convert_all(keys)?, convert_all(searchset)?);
    let wanted: HashSet<String> = searchset.iter().map(identity).collect();
    Ok(Value::List(
        values
            .iter()
            .zip(&keys)
            .filter(|(_, key)| wanted.contains(&identity(key)))
            .map(|(value, _)| value.clone())
            .collect(),
    ))
}

pub(super) fn merge(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut merged = BTreeMap::new();
    let mut all_null = true;
    for argument in args {
        match argument {
            Value::Null => {}
            Value::Unknown => return Ok(Value::Unknown),
            Value::Map(entries) => {
                all_null = false;
                merged.extend(
                    entries
                        .iter()
                        .map(|(key, value)| (key.clone(), value.clone())),
                );
            }
            other => {
                return Err(format!(
                    "arguments must be maps or objects, got \"{}\"",
                    kind_of(other)
                ));
            }
        }
    }
    if all_null && !args.is_empty() {
        return Ok(Value::Null);
    }
    Ok(Value::Map(merged))
}

pub(super) fn one(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::List(items) if items.is_empty() => Ok(Value::Null),
        Value::List(items) if items.len() == 1 => Ok(items[0].clone()),
        Value::Null => Err("argument must not be null".to_owned()),
        _ => Err("must be a list, set, or tuple value with either zero or one elements".to_owned()),
    }
}

/// Terraform's limit on the length of a `range`.
const RANGE_LIMIT: usize = 1024;

pub(super) fn range(args: &[Value], _: &Path) -> Result<Value, String> {
    let numbers: Vec<f64> = args
        .iter()
        .map(|value| number(value, "numbers"))
        .collect::<Result<_, _>>()?;
    let (start, limit, step) = match numbers.as_slice() {
        [limit] => (0.0, *limit, if *limit < 0.0 { -1.0 } else { 1.0 }),
        [start, limit] => (*start, *limit, if limit < start { -1.0 } else { 1.0 }),
        [start, limit, step] => (*start, *limit, *step),
        _ => unreachable!("the table allows 1 to 3 arguments"),
    };
    if step == 0.0 {
        return Err("step must not be zero".to_owned());
    }
    let mut out = Vec::new();
    let mut current = start;
    while (step > 0.0 && current < limit) || (step < 0.0 && current > limit) {
        if out.len() >= RANGE_LIMIT {
            return Err(format!(
                "more than {RANGE_LIMIT} values were generated; either decrease the difference between start and end or use a smaller step"
            ));
        }
        out.push(Value::Number(Number(current)));
        current += step;
    }
    Ok(Value::List(out))
}

pub(super) fn removed_list(_: &[Value], _: &Path) -> Result<Value, String> {
    Err("the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list".to_owned())
}

pub(super) fn removed_map(_: &[Value], _: &Path) -> Result<Value, String> {
    Err("the \"map\" function was deprecated in Terraform v0.12 and is no longer available; use tomap({ ... }) syntax to write a literal map".to_owned())
}

pub(super) fn reverse(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::List(items) => Ok(Value::List(items.iter().rev().cloned().collect())),
        other => Err(format!(
            "can only reverse list or tuple values, not {}",
            kind_of(other)
        )),
    }
}

pub(super) fn slice(args: &[Value], _: &Path) -> Result<Value, String> {
    let items = match &args[0] {
        Value::Unknown => return Ok(Value::Unknown),
        Value::List(items) => items,
        _ => return Err("must be a list or tuple value".to_owned()),
    };
    if args[1].contains_unknown() || args[2].contains_unknown() {
        return Ok(Value::Unknown);
    }
    let index = |value: &Value, name: &str| -> Result<usize, String> {
        let index =
            whole_number(value, name).map_err(|error| format!("invalid {name}: {error}"))?;
        if index < 0 {
            return Err(format!("{name} must not be less than zero"));
        }
        let index = index as usize;
        if index > items.len() {
            return Err(format!(
                "{name} must not be greater than the length of the list"
            ));
        }
        Ok(index)
    };
    let (start, end) = (
        index(&args[1], "start index")?,
        index(&args[2], "end index")?,
    );
    if start > end {
        return Err("start index must not be greater than end index".to_owned());
    }
    Ok(Value::List(items[start..end].to_vec()))
}

pub(super) fn sort(args: &[Value], _: &Path) -> Result<Value, String> {
    let items = list(&args[0], "list")?;
    if let Some(position) = items.iter().position(Value::is_null) {
        return Err(format!(
            "given list element {position} is null; a null string cannot be sorted"
        ));
    }
    let mut texts = string_list(&args[0], "list")?;
    texts.sort_unstable();
    Ok(Value::List(texts.into_iter().map(Value::String).collect()))
}

pub(super) fn transpose(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, values) in map(&args[0], "values")? {
        let values = string_list(values, "values")
            .map_err(|_| "input must be a map of lists of strings".to_owned())?;
        for value in values {
            out.entry(value).or_default().push(key.clone());
        }
    }
    Ok(Value::Map(
        out.into_iter()
            .map(|(key, mut values)| {
                values.sort_unstable();
                (
                    key,
                    Value::List(values.into_iter().map(Value::String).collect()),
                )
            })
            .collect(),
    ))
}

pub(super) fn values(args: &[Value], _: &Path) -> Result<Value, String> {
    match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::Map(entries) => Ok(Value::List(entries.values().cloned().collect())),
        _ => Err("values() requires a map as the first argument".to_owned()),
    }
}

pub(super) fn zipmap(args: &[Value], _: &Path) -> Result<Value, String> {
    if args[0].contains_unknown() || matches!(args[1], Value::Unknown) {
        return Ok(Value::Unknown);
    }
    let keys = list(&args[0], "keys")?;
    if let Some(position) = keys.iter().position(Value::is_null) {
        return Err(format!("keys list has null value at index {position}"));
    }
    let keys = string_list(&args[0], "keys")?;
    let values = match &args[1] {
        Value::List(values) => values,
        _ => return Err("values argument must be a list or tuple value".to_owned()),
    };
    if keys.len() != values.len() {
        return Err(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        ));
    }
    Ok(Value::Map(
        keys.into_iter().zip(values.iter().cloned()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, numbers, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    fn bools(items: &[bool]) -> Value {
        Value::List(items.iter().map(|item| Value::Bool(*item)).collect())
    }

    #[test]
    fn documented_examples() {
        assert_eq!(run("alltrue", vec![strings(&["true"])]), Ok(true.into()));
        assert_eq!(
            run("alltrue", vec![bools(&[true, false])]),
            Ok(false.into())
        );
        assert_eq!(run("alltrue", vec![Value::List(vec![])]), Ok(true.into()));
        assert_eq!(run("anytrue", vec![strings(&["true"])]), Ok(true.into()));
        assert_eq!(run("anytrue", vec![bools(&[true, false])]), Ok(true.into()));
        assert_eq!(run("anytrue", vec![Value::List(vec![])]), Ok(false.into()));
        assert_eq!(
            run(
                "chunklist",
                vec![strings(&["a", "b", "c", "d", "e"]), 2.into()]
            ),
            Ok(Value::List(vec![
                strings(&["a", "b"]),
                strings(&["c", "d"]),
                strings(&["e"])
            ]))
        );
        assert_eq!(
            run(
                "chunklist",
                vec![strings(&["a", "b", "c", "d", "e"]), 1.into()]
            ),
            Ok(Value::List(vec![
                strings(&["a"]),
                strings(&["b"]),
                strings(&["c"]),
                strings(&["d"]),
                strings(&["e"])
            ]))
        );
        assert_eq!(
            run("coalesce", vec!["a".into(), "b".into()]),
            Ok("a".into())
        );
        assert_eq!(run("coalesce", vec!["".into(), "b".into()]), Ok("b".into()));
        assert_eq!(run("coalesce", vec![1.into(), 2.into()]), Ok(1.into()));
        assert_eq!(
            run("coalesce", vec![1.into(), "hello".into()]),
            Ok("1".into())
        );
        assert_eq!(
            run("coalesce", vec![true.into(), "hello".into()]),
            Ok("true".into())
        );
        assert_eq!(
            run("coalesce", vec![Value::List(vec![]), strings(&["a"])]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run("coalesce", vec![Value::List(vec![]), "a".into()]),
            Err("all arguments must have the same type".to_owned())
        );
        assert_eq!(
            run(
                "coalescelist",
                vec![strings(&["a", "b"]), strings(&["c", "d"])]
            ),
            Ok(strings(&["a", "b"]))
        );
        assert_eq!(
            run(
                "coalescelist",
                vec![Value::List(vec![]), strings(&["c", "d"])]
            ),
            Ok(strings(&["c", "d"]))
        );
        assert_eq!(
            run("compact", vec![strings(&["a", "", "b", "c"])]),
            Ok(strings(&["a", "b", "c"]))
        );
        assert_eq!(
            run("concat", vec![strings(&["a", ""]), strings(&["b", "c"])]),
            Ok(strings(&["a", "", "b", "c"]))
        );
        assert_eq!(
            run("contains", vec![strings(&["a", "b", "c"]), "a".into()]),
            Ok(true.into())
        );
        assert_eq!(
            run("contains", vec![strings(&["a", "b", "c"]), "d".into()]),
            Ok(false.into())
        );
        assert_eq!(
            run("distinct", vec![strings(&["a", "b", "a", "c", "d", "b"])]),
            Ok(strings(&["a", "b", "c", "d"]))
        );
        assert_eq!(
            run("element", vec![strings(&["a", "b", "c"]), 1.into()]),
            Ok("b".into())
        );
        assert_eq!(
            run("element", vec![strings(&["a", "b", "c"]), 3.into()]),
            Ok("a".into())
        );
        assert_eq!(
            run(
                "flatten",
                vec![Value::List(vec![
                    strings(&["a", "b"]),
                    Value::List(vec![]),
                    strings(&["c"])
                ])]
            ),
            Ok(strings(&["a", "b", "c"]))
        );
        assert_eq!(
            run(
                "flatten",
                vec![Value::List(vec![
                    Value::List(vec![strings(&["a", "b"]), Value::List(vec![])]),
                    strings(&["c"])
                ])]
            ),
            Ok(strings(&["a", "b", "c"]))
        );
        assert_eq!(
            run("index", vec![strings(&["a", "b", "c"]), "b".into()]),
            Ok(1.into())
        );
        let abc = object(&[("a", 1.into()), ("c", 2.into()), ("d", 3.into())]);
        assert_eq!(
            run("keys", vec![abc.clone()]),
            Ok(strings(&["a", "c", "d"]))
        );
        assert_eq!(run("length", vec![Value::List(vec![])]), Ok(0.into()));
        assert_eq!(run("length", vec![strings(&["a", "b"])]), Ok(2.into()));
        assert_eq!(
            run("length", vec![object(&[("a", "b".into())])]),
            Ok(1.into())
        );
        assert_eq!(run("length", vec!["hello".into()]), Ok(5.into()));
        assert_eq!(run("length", vec!["👾🕹️".into()]), Ok(2.into()));
        let ab = object(&[("a", "ay".into()), ("b", "bee".into())]);
        assert_eq!(
            run("lookup", vec![ab.clone(), "a".into(), "what?".into()]),
            Ok("ay".into())
        );
        assert_eq!(
            run("lookup", vec![ab.clone(), "c".into(), "what?".into()]),
            Ok("what?".into())
        );
        assert_eq!(
            run(
                "matchkeys",
                vec![
                    strings(&["i-123", "i-abc", "i-def"]),
                    strings(&["us-west", "us-east", "us-east"]),
                    strings(&["us-east"])
                ]
            ),
            Ok(strings(&["i-abc", "i-def"]))
        );
        assert_eq!(
            run(
                "merge",
                vec![
                    object(&[("a", "b".into()), ("c", "d".into())]),
                    object(&[("e", "f".into()), ("c", "z".into())])
                ]
            ),
            Ok(object(&[
                ("a", "b".into()),
                ("c", "z".into()),
                ("e", "f".into())
            ]))
        );
        assert_eq!(run("one", vec![Value::List(vec![])]), Ok(Value::Null));
        assert_eq!(run("one", vec![strings(&["hello"])]), Ok("hello".into()));
        assert_eq!(
            run("one", vec![strings(&["hello", "goodbye"])]),
            Err("must be a list, set, or tuple value with either zero or one elements".to_owned())
        );
        assert_eq!(run("range", vec![3.into()]), Ok(numbers(&[0.0, 1.0, 2.0])));
        assert_eq!(
            run("range", vec![1.into(), 4.into()]),
            Ok(numbers(&[1.0, 2.0, 3.0]))
        );
        assert_eq!(
            run("range", vec![1.into(), 8.into(), 2.into()]),
            Ok(numbers(&[1.0, 3.0, 5.0, 7.0]))
        );
        assert_eq!(
            run("range", vec![1.into(), 4.into(), num(0.5)]),
            Ok(numbers(&[1.0, 1.5, 2.0, 2.5, 3.0, 3.5]))
        );
        assert_eq!(
            run("range", vec![4.into(), 1.into()]),
            Ok(numbers(&[4.0, 3.0, 2.0]))
        );
        assert_eq!(
            run("range", vec![10.into(), 5.into(), (-2).into()]),
            Ok(numbers(&[10.0, 8.0, 6.0]))
        );
        assert_eq!(
            run("reverse", vec![numbers(&[1.0, 2.0, 3.0])]),
            Ok(numbers(&[3.0, 2.0, 1.0]))
        );
        assert_eq!(
            run(
                "slice",
                vec![strings(&["a", "b", "c", "d"]), 1.into(), 3.into()]
            ),
            Ok(strings(&["b", "c"]))
        );
        assert_eq!(
            run("sort", vec![strings(&["e", "d", "a", "x"])]),
            Ok(strings(&["a", "d", "e", "x"]))
        );
        assert_eq!(
            run(
                "transpose",
                vec![object(&[
                    ("a", strings(&["1", "2"])),
                    ("b", strings(&["2", "3"]))
                ])]
            ),
            Ok(object(&[
                ("1", strings(&["a"])),
                ("2", strings(&["a", "b"])),
                ("3", strings(&["b"]))
            ]))
        );
        assert_eq!(run("values", vec![abc]), Ok(numbers(&[1.0, 2.0, 3.0])));
        assert_eq!(
            run("zipmap", vec![strings(&["a", "b"]), numbers(&[1.0, 2.0])]),
            Ok(object(&[("a", 1.into()), ("b", 2.into())]))
        );
    }

    #[test]
    fn errors() {
        let error = |name: &str, args: Vec<Value>| run(name, args).expect_err(name);
        assert_eq!(
            error("coalesce", vec![Value::Null, "".into()]),
            "no non-null, non-empty-string arguments"
        );
        assert_eq!(
            error("coalescelist", vec![Value::List(vec![])]),
            "no non-null arguments"
        );
        assert_eq!(
            error("coalescelist", vec!["a".into()]),
            "coalescelist arguments must be lists or tuples"
        );
        assert_eq!(
            error("contains", vec![object(&[]), "a".into()]),
            "argument must be list, tuple, or set"
        );
        assert_eq!(
            error("element", vec![strings(&["a"]), (-1).into()]),
            "cannot use element function with a negative index"
        );
        assert_eq!(
            error("element", vec![Value::List(vec![]), 0.into()]),
            "cannot use element function with an empty list"
        );
        assert_eq!(
            error("index", vec![strings(&["a"]), "z".into()]),
            "item not found"
        );
        assert_eq!(
            error("index", vec![Value::List(vec![]), "z".into()]),
            "cannot search an empty list"
        );
        assert_eq!(
            error("keys", vec![strings(&[])]),
            "must have map or object type"
        );
        assert_eq!(
            error("length", vec![Value::Null]),
            "argument must not be null"
        );
        assert_eq!(
            error("length", vec![1.into()]),
            "argument must be a string, a collection type, or a structural type"
        );
        assert_eq!(
            error("lookup", vec![object(&[]), "z".into()]),
            "lookup failed to find key \"z\""
        );
        assert_eq!(
            error(
                "matchkeys",
                vec![strings(&["a"]), strings(&[]), strings(&[])]
            ),
            "length of keys and values should be equal"
        );
        assert_eq!(
            error("merge", vec![strings(&[])]),
            "arguments must be maps or objects, got \"list\""
        );
        assert_eq!(
            error("range", vec![0.into(), 1.into(), 0.into()]),
            "step must not be zero"
        );
        assert!(
            error("range", vec![2000.into()]).starts_with("more than 1024 values were generated")
        );
        assert_eq!(
            error("slice", vec![strings(&["a"]), 0.into(), 2.into()]),
            "end index must not be greater than the length of the list"
        );
        assert_eq!(
            error("slice", vec![strings(&["a"]), 1.into(), 0.into()]),
            "start index must not be greater than end index"
        );
        assert_eq!(
            error("slice", vec![strings(&["a"]), (-1).into(), 0.into()]),
            "start index must not be less than zero"
        );
        assert_eq!(
            error("sort", vec![Value::List(vec!["a".into(), Value::Null])]),
            "given list element 1 is null; a null string cannot be sorted"
        );
        assert_eq!(
            error("zipmap", vec![strings(&["a"]), strings(&[])]),
            "number of keys (1) does not match number of values (0)"
        );
        assert_eq!(
            error("chunklist", vec![strings(&["a"]), (-1).into()]),
            "the size argument must be positive"
        );
        assert!(error("list", vec![]).contains("tolist"));
        assert!(error("map", vec![]).contains("tomap"));
        assert_eq!(
            error("transpose", vec![object(&[("a", "b".into())])]),
            "input must be a map of lists of strings"
        );
    }

    #[test]
    fn conversions_and_unknowns() {
        assert_eq!(
            run("sort", vec![numbers(&[10.0, 9.0, 1.0])]),
            Ok(strings(&["1", "10", "9"]))
        );
        assert_eq!(
            run(
                "compact",
                vec![Value::List(vec!["a".into(), Value::Null, 1.into()])]
            ),
            Ok(strings(&["a", "1"]))
        );
        assert_eq!(
            run("distinct", vec![Value::List(vec!["1".into(), 1.into()])]),
            Ok(strings(&["1"]))
        );
        assert_eq!(
            run("contains", vec![strings(&["1"]), 1.into()]),
            Ok(false.into())
        );
        assert_eq!(
            run("alltrue", vec![Value::List(vec![true.into(), Value::Null])]),
            Ok(false.into())
        );
        assert_eq!(
            run("anytrue", vec![Value::List(vec![Value::Null, true.into()])]),
            Ok(true.into())
        );
        assert_eq!(
            run("chunklist", vec![strings(&["a", "b"]), 0.into()]),
            Ok(Value::List(vec![strings(&["a", "b"])]))
        );
        assert_eq!(
            run("coalesce", vec![Value::Unknown, "a".into()]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("coalesce", vec!["a".into(), Value::Unknown]),
            Ok("a".into())
        );
        assert_eq!(
            run(
                "element",
                vec![Value::List(vec![Value::Unknown, 1.into()]), 1.into()]
            ),
            Ok(1.into())
        );
        assert_eq!(
            run(
                "flatten",
                vec![Value::List(vec![strings(&["a"]), Value::Unknown])]
            ),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("keys", vec![object(&[("a", Value::Unknown)])]),
            Ok(strings(&["a"]))
        );
        assert_eq!(
            run("lookup", vec![object(&[("a", Value::Unknown)]), "a".into()]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("merge", vec![Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(run("merge", vec![]), Ok(object(&[])));
        assert_eq!(
            run("one", vec![Value::List(vec![Value::Unknown])]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run(
                "slice",
                vec![
                    Value::List(vec![Value::Unknown, 1.into()]),
                    1.into(),
                    2.into()
                ]
            ),
            Ok(Value::List(vec![1.into()]))
        );
        assert_eq!(
            run(
                "zipmap",
                vec![strings(&["a"]), Value::List(vec![Value::Unknown])]
            ),
            Ok(object(&[("a", Value::Unknown)]))
        );
        assert_eq!(
            run(
                "zipmap",
                vec![Value::List(vec![Value::Unknown]), strings(&["a"])]
            ),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("transpose", vec![object(&[("a", numbers(&[1.0]))])]),
            Ok(object(&[("1", strings(&["a"]))]))
        );
        assert_eq!(
            run("range", vec![(-3).into()]),
            Ok(numbers(&[0.0, -1.0, -2.0]))
        );
        assert_eq!(
            run("range", vec![5.into(), 1.into(), 1.into()]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run(
                "matchkeys",
                vec![strings(&["a", "b"]), numbers(&[1.0, 2.0]), strings(&["2"])]
            ),
            Ok(strings(&["b"]))
        );
    }
}
