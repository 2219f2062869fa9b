//! The built-in functions of the Terraform language that `amlplan` supports, as a table of
//! plain functions over [`Value`]. `try`, `can` and `templatefile` need the evaluator and live in
//! `eval.rs`; they are listed here so that suggestions know them. Relative paths start at the
//! configuration folder (what `terraform -chdir=DIR` does).
//!
//! Unknowns: unless a function is marked `structural`, any unknown anywhere in its arguments
//! makes the result unknown. Structural functions (`length`, `concat`, `merge`, ...) only look
//! at the shape of their arguments, so unknown elements flow through them.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use engine::value::{Number, Value};
use sha2::Digest as _;

use super::eval::{kind_of, scalar_to_string};

/// One built-in function.
pub(crate) struct Function {
    name: &'static str,
    min_args: usize,
    /// `None`: variadic.
    max_args: Option<usize>,
    structural: bool,
    run: fn(&[Value], &Path) -> Result<Value, String>,
}

const fn function(
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
    run: fn(&[Value], &Path) -> Result<Value, String>,
) -> Function {
    Function {
        name,
        min_args,
        max_args,
        structural: false,
        run,
    }
}

const fn structural(
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
    run: fn(&[Value], &Path) -> Result<Value, String>,
) -> Function {
    Function {
        name,
        min_args,
        max_args,
        structural: true,
        run,
    }
}

static FUNCTIONS: &[Function] = &[
    function("abspath", 1, Some(1), |args, base| {
        Ok(Value::String(
            normalize(&base.join(string(&args[0], "path")?))
                .display()
                .to_string(),
        ))
    }),
    function("base64decode", 1, Some(1), base64decode),
    function("base64encode", 1, Some(1), |args, _| {
        Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(string(&args[0], "str")?),
        ))
    }),
    function("basename", 1, Some(1), |args, _| {
        Ok(Value::String(basename(&string(&args[0], "path")?)))
    }),
    structural("coalesce", 1, None, coalesce),
    structural("concat", 0, None, concat),
    function("contains", 2, Some(2), |args, _| {
        Ok(Value::Bool(list(&args[0], "list")?.contains(&args[1])))
    }),
    function("dirname", 1, Some(1), |args, _| {
        Ok(Value::String(dirname(&string(&args[0], "path")?)))
    }),
    function("distinct", 1, Some(1), |args, _| {
        let mut seen: Vec<Value> = Vec::new();
        for item in list(&args[0], "list")? {
            if !seen.contains(item) {
                seen.push(item.clone());
            }
        }
        Ok(Value::List(seen))
    }),
    structural("element", 2, Some(2), |args, _| {
        let items = list(&args[0], "list")?;
        let index = whole_number(&args[1], "index")?;
        if items.is_empty() {
            return Err("cannot use element function with an empty list".to_owned());
        }
        Ok(items[index.rem_euclid(items.len() as i64) as usize].clone())
    }),
    function("endswith", 2, Some(2), |args, _| {
        Ok(Value::Bool(
            string(&args[0], "str")?.ends_with(&string(&args[1], "suffix")?),
        ))
    }),
    function("file", 1, Some(1), |args, base| {
        read_file(&args[0], base).map(Value::String)
    }),
    function("flatten", 1, Some(1), |args, _| {
        fn flatten_into(value: &Value, out: &mut Vec<Value>) {
            match value {
                Value::List(items) => items.iter().for_each(|item| flatten_into(item, out)),
                other => out.push(other.clone()),
            }
        }
        let mut out = Vec::new();
        flatten_into(&Value::List(list(&args[0], "list")?.to_vec()), &mut out);
        Ok(Value::List(out))
    }),
    function("format", 1, None, |args, _| {
        format(&string(&args[0], "format")?, &args[1..]).map(Value::String)
    }),
    function("join", 2, Some(2), |args, _| {
        let separator = string(&args[0], "separator")?;
        let parts = list(&args[1], "list")?
            .iter()
            .map(|item| {
                scalar_to_string(item)
                    .ok_or_else(|| format!("element must be a string, not a {}", kind_of(item)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let separators = separator
            .len()
            .saturating_mul(parts.len().saturating_sub(1));
        room_for(
            parts
                .iter()
                .map(String::len)
                .fold(separators, usize::saturating_add),
        )?;
        Ok(Value::String(parts.join(&separator)))
    }),
    function("jsondecode", 1, Some(1), |args, _| {
        let text = string(&args[0], "str")?;
        serde_json::from_str::<serde_json::Value>(&text)
            .map(|json| Value::from_json(&json))
            .map_err(|error| format!("the string is not valid JSON: {error}"))
    }),
    function("jsonencode", 1, Some(1), |args, _| {
        Ok(Value::String(jsonencode(&args[0])))
    }),
    structural("keys", 1, Some(1), |args, _| match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        other => Ok(Value::List(
            map(other, "inputMap")?
                .keys()
                .cloned()
                .map(Value::String)
                .collect(),
        )),
    }),
    structural("length", 1, Some(1), |args, _| match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        Value::String(text) => Ok(Value::from(text.chars().count() as i64)),
        Value::List(items) => Ok(Value::from(items.len() as i64)),
        Value::Map(entries) => Ok(Value::from(entries.len() as i64)),
        other => Err(format!(
            "argument must be a string, a list or a map, not a {}",
            kind_of(other)
        )),
    }),
    structural("lookup", 2, Some(3), |args, _| {
        if matches!(args[0], Value::Unknown) || args[1].contains_unknown() {
            return Ok(Value::Unknown);
        }
        let entries = map(&args[0], "inputMap")?;
        let key = string(&args[1], "key")?;
        match (entries.get(&key), args.get(2)) {
            (Some(value), _) => Ok(value.clone()),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => Err(format!("the map has no element with key `{key}`")),
        }
    }),
    function("lower", 1, Some(1), |args, _| {
        Ok(Value::String(string(&args[0], "str")?.to_lowercase()))
    }),
    function("max", 1, None, |args, _| {
        numbers(args)?
            .into_iter()
            .reduce(f64::max)
            .map(|n| Value::Number(Number(n)))
            .ok_or_else(|| "no arguments".to_owned())
    }),
    structural("merge", 0, None, |args, _| {
        let mut merged = BTreeMap::new();
        for (position, argument) in args.iter().enumerate() {
            match argument {
                Value::Null => {}
                Value::Unknown => return Ok(Value::Unknown),
                Value::Map(entries) => merged.extend(entries.clone()),
                other => {
                    return Err(format!(
                        "argument {} must be a map or object, not a {}",
                        position + 1,
                        kind_of(other)
                    ));
                }
            }
        }
        Ok(Value::Map(merged))
    }),
    function("min", 1, None, |args, _| {
        numbers(args)?
            .into_iter()
            .reduce(f64::min)
            .map(|n| Value::Number(Number(n)))
            .ok_or_else(|| "no arguments".to_owned())
    }),
    function("replace", 3, Some(3), |args, _| {
        let (text, search, replacement) = (
            string(&args[0], "str")?,
            string(&args[1], "substr")?,
            string(&args[2], "replace")?,
        );
        if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
            return Err("regular expression patterns (`/.../`) are not supported by amlplan; use a plain substring".to_owned());
        }
        if !search.is_empty() && replacement.len() > search.len() {
            let grows = (replacement.len() - search.len())
                .saturating_mul(text.matches(search.as_str()).count());
            room_for(text.len().saturating_add(grows))?;
        }
        Ok(Value::String(text.replace(&search, &replacement)))
    }),
    function("sha256", 1, Some(1), |args, _| {
        Ok(Value::String(hex::encode(sha2::Sha256::digest(
            string(&args[0], "str")?.as_bytes(),
        ))))
    }),
    function("split", 2, Some(2), |args, _| {
        let (separator, text) = (string(&args[0], "separator")?, string(&args[1], "str")?);
        if text.is_empty() {
            return Ok(Value::List(Vec::new()));
        }
        Ok(Value::List(
            text.split(separator.as_str()).map(Value::from).collect(),
        ))
    }),
    function("startswith", 2, Some(2), |args, _| {
        Ok(Value::Bool(
            string(&args[0], "str")?.starts_with(&string(&args[1], "prefix")?),
        ))
    }),
    function("substr", 3, Some(3), |args, _| {
        let text: Vec<char> = string(&args[0], "str")?.chars().collect();
        let offset = whole_number(&args[1], "offset")?;
        let length = whole_number(&args[2], "length")?;
        let start = if offset < 0 {
            (text.len() as i64 + offset).max(0)
        } else {
            offset.min(text.len() as i64)
        } as usize;
        let end = if length < 0 {
            text.len()
        } else {
            (start + length as usize).min(text.len())
        };
        Ok(Value::String(text[start..end].iter().collect()))
    }),
    structural("tolist", 1, Some(1), |args, _| match &args[0] {
        Value::List(_) | Value::Unknown | Value::Null => Ok(args[0].clone()),
        other => Err(format!("cannot convert a {} to a list", kind_of(other))),
    }),
    structural("tomap", 1, Some(1), |args, _| match &args[0] {
        Value::Map(_) | Value::Unknown | Value::Null => Ok(args[0].clone()),
        other => Err(format!("cannot convert a {} to a map", kind_of(other))),
    }),
    function("tonumber", 1, Some(1), |args, _| match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::Number(_) => Ok(args[0].clone()),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .map(|n| Value::Number(Number(n)))
            .map_err(|_| format!("cannot convert `{text}` to a number")),
        other => Err(format!("cannot convert a {} to a number", kind_of(other))),
    }),
    function("toset", 1, Some(1), |args, _| {
        // Sets of strings are ordered lexically, as Terraform orders them.
        let mut items = list(&args[0], "list")?.to_vec();
        items.sort_by_key(|left| left.to_string());
        items.dedup();
        Ok(Value::List(items))
    }),
    function("tostring", 1, Some(1), |args, _| match &args[0] {
        Value::Null => Ok(Value::Null),
        other => scalar_to_string(other)
            .map(Value::String)
            .ok_or_else(|| format!("cannot convert a {} to a string", kind_of(other))),
    }),
    function("trimprefix", 2, Some(2), |args, _| {
        let (text, prefix) = (string(&args[0], "str")?, string(&args[1], "prefix")?);
        Ok(Value::String(
            text.strip_prefix(prefix.as_str())
                .unwrap_or(&text)
                .to_owned(),
        ))
    }),
    function("trimspace", 1, Some(1), |args, _| {
        Ok(Value::String(string(&args[0], "str")?.trim().to_owned()))
    }),
    function("trimsuffix", 2, Some(2), |args, _| {
        let (text, suffix) = (string(&args[0], "str")?, string(&args[1], "suffix")?);
        Ok(Value::String(
            text.strip_suffix(suffix.as_str())
                .unwrap_or(&text)
                .to_owned(),
        ))
    }),
    function("upper", 1, Some(1), |args, _| {
        Ok(Value::String(string(&args[0], "str")?.to_uppercase()))
    }),
    structural("values", 1, Some(1), |args, _| match &args[0] {
        Value::Unknown => Ok(Value::Unknown),
        other => Ok(Value::List(
            map(other, "mapping")?.values().cloned().collect(),
        )),
    }),
];

/// The most bytes of string one value may hold (every string in it counted), so that a small
/// configuration cannot make amlplan allocate gigabytes (`format("%999999999d", 1)`, a local
/// that doubles another one forty times).
pub(crate) const MAX_VALUE_BYTES: usize = 16 << 20;

/// The most elements (list items, map entries, scalars) one value may hold.
pub(crate) const MAX_VALUE_ELEMENTS: usize = 1 << 20;

/// The deepest nesting of lists and maps in one value.
pub(crate) const MAX_VALUE_DEPTH: usize = 64;

/// Checks `value` against [`MAX_VALUE_BYTES`], [`MAX_VALUE_ELEMENTS`] and [`MAX_VALUE_DEPTH`];
/// the error says which bound it passes. Stops as soon as one is passed.
pub(crate) fn check_bounds(value: &Value) -> Result<(), String> {
    fn walk(
        value: &Value,
        depth: usize,
        bytes: &mut usize,
        elements: &mut usize,
    ) -> Result<(), String> {
        *elements += 1;
        if *elements > MAX_VALUE_ELEMENTS {
            return Err(format!(
                "it holds more than {MAX_VALUE_ELEMENTS} elements, the most amlplan builds in one value"
            ));
        }
        match value {
            Value::String(text) => {
                *bytes += text.len();
                if *bytes > MAX_VALUE_BYTES {
                    return Err(too_long());
                }
            }
            Value::List(items) => {
                nested(depth)?;
                for item in items {
                    walk(item, depth + 1, bytes, elements)?;
                }
            }
            Value::Map(entries) => {
                nested(depth)?;
                for (key, item) in entries {
                    *bytes += key.len();
                    walk(item, depth + 1, bytes, elements)?;
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::Unknown => {}
        }
        Ok(())
    }
    fn nested(depth: usize) -> Result<(), String> {
        if depth >= MAX_VALUE_DEPTH {
            return Err(format!(
                "its lists and maps nest deeper than {MAX_VALUE_DEPTH} levels, the most amlplan builds"
            ));
        }
        Ok(())
    }
    walk(value, 0, &mut 0, &mut 0)
}

/// The error of a string over [`MAX_VALUE_BYTES`].
pub(crate) fn too_long() -> String {
    format!(
        "it would hold more than {} MiB of text, the most amlplan builds in one value",
        MAX_VALUE_BYTES >> 20
    )
}

/// Refuses to build a string of `length` bytes over [`MAX_VALUE_BYTES`] (checked before it is
/// allocated).
fn room_for(length: usize) -> Result<(), String> {
    if length > MAX_VALUE_BYTES {
        return Err(too_long());
    }
    Ok(())
}

/// Functions implemented by the evaluator itself.
const EVALUATOR_FUNCTIONS: &[&str] = &["can", "templatefile", "try"];

/// The function named `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}

/// Every supported function name (for suggestions).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .map(|function| function.name)
        .chain(EVALUATOR_FUNCTIONS.iter().copied())
}

/// Calls `function` after checking the argument count; unknown handling per the module doc.
pub(crate) fn call(
    function: &Function,
    args: Vec<Value>,
    base_dir: &Path,
) -> Result<Value, String> {
    let count = args.len();
    if count < function.min_args || function.max_args.is_some_and(|max| count > max) {
        let expected = match function.max_args {
            Some(max) if max == function.min_args => format!("{max}"),
            Some(max) => format!("{} to {max}", function.min_args),
            None => format!("at least {}", function.min_args),
        };
        return Err(format!("it takes {expected} argument(s), {count} given"));
    }
    if !function.structural && args.iter().any(Value::contains_unknown) {
        return Ok(Value::Unknown);
    }
    let result = (function.run)(&args, base_dir)?;
    check_bounds(&result).map_err(|reason| format!("its result is too large: {reason}"))?;
    Ok(result)
}

/// Reads a UTF-8 file named by `path` (relative to `base_dir`).
pub(crate) fn read_file(path: &Value, base_dir: &Path) -> Result<String, String> {
    let relative = string(path, "path")?;
    let full = base_dir.join(&relative);
    let bytes = std::fs::read(&full).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => format!("no file exists at `{relative}`"),
        _ => format!("cannot read `{relative}`: {error}"),
    })?;
    String::from_utf8(bytes)
        .map_err(|_| format!("`{relative}` is not valid UTF-8; use `filebase64` for binary files"))
}

fn string(value: &Value, parameter: &str) -> Result<String, String> {
    match value {
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => scalar_to_string(other).ok_or_else(|| {
            format!(
                "argument `{parameter}` must be a string, not a {}",
                kind_of(other)
            )
        }),
    }
}

fn list<'v>(value: &'v Value, parameter: &str) -> Result<&'v [Value], String> {
    value.as_list().ok_or_else(|| {
        format!(
            "argument `{parameter}` must be a list, not a {}",
            kind_of(value)
        )
    })
}

fn map<'v>(value: &'v Value, parameter: &str) -> Result<&'v BTreeMap<String, Value>, String> {
    value.as_map().ok_or_else(|| {
        format!(
            "argument `{parameter}` must be a map, not a {}",
            kind_of(value)
        )
    })
}

fn whole_number(value: &Value, parameter: &str) -> Result<i64, String> {
    let number = match value {
        Value::Number(number) => number.0,
        Value::String(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("argument `{parameter}` must be a number"))?,
        other => {
            return Err(format!(
                "argument `{parameter}` must be a number, not a {}",
                kind_of(other)
            ));
        }
    };
    Number(number)
        .as_i64()
        .ok_or_else(|| format!("argument `{parameter}` must be a whole number"))
}

fn numbers(args: &[Value]) -> Result<Vec<f64>, String> {
    args.iter()
        .map(|value| match value {
            Value::Number(number) => Ok(number.0),
            other => Err(format!(
                "arguments must be numbers, not a {}",
                kind_of(other)
            )),
        })
        .collect()
}

fn coalesce(args: &[Value], _: &Path) -> Result<Value, String> {
    for argument in args {
        match argument {
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => {}
            Value::String(text) if text.is_empty() => {}
            other => return Ok(other.clone()),
        }
    }
    Err("no non-null, non-empty-string arguments".to_owned())
}

fn concat(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut items = Vec::new();
    for (position, argument) in args.iter().enumerate() {
        match argument {
            Value::Unknown => return Ok(Value::Unknown),
            Value::List(more) => items.extend(more.iter().cloned()),
            other => {
                return Err(format!(
                    "argument {} must be a list, not a {}",
                    position + 1,
                    kind_of(other)
                ));
            }
        }
    }
    Ok(Value::List(items))
}

fn base64decode(args: &[Value], _: &Path) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(string(&args[0], "str")?)
        .map_err(|error| format!("the string is not valid base64: {error}"))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the decoded bytes are not valid UTF-8".to_owned())
}

/// Terraform's `jsonencode`: keys sorted, integers without a fraction, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped (as Go's JSON encoder does).
fn jsonencode(value: &Value) -> String {
    let text = serde_json::to_string(&value.to_json()).expect("JSON values always serialize");
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("\\u003c"),
            '>' => escaped.push_str("\\u003e"),
            '&' => escaped.push_str("\\u0026"),
            '\u{2028}' => escaped.push_str("\\u2028"),
            '\u{2029}' => escaped.push_str("\\u2029"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Terraform's `format` (Go's `fmt` verbs): `%s %d %f %g %e %t %q %v %x %X %o %b %%`, with the
/// `-` and `0` flags, a width and a precision.
fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut characters = spec.chars().peekable();
    let mut next_arg = 0usize;
    while let Some(character) = characters.next() {
        if character != '%' {
            out.push(character);
            continue;
        }
        let (mut left, mut zero) = (false, false);
        while let Some(&flag) = characters.peek() {
            match flag {
                '-' => left = true,
                '0' => zero = true,
                '+' | ' ' | '#' => {}
                _ => break,
            }
            characters.next();
        }
        let mut width = String::new();
        while let Some(&digit) = characters.peek().filter(|c| c.is_ascii_digit()) {
            width.push(digit);
            characters.next();
        }
        let mut precision: Option<usize> = None;
        if characters.peek() == Some(&'.') {
            characters.next();
            let mut digits = String::new();
            while let Some(&digit) = characters.peek().filter(|c| c.is_ascii_digit()) {
                digits.push(digit);
                characters.next();
            }
            precision = Some(digits.parse().unwrap_or(usize::MAX));
        }
        if width
            .parse::<usize>()
            .map_or(!width.is_empty(), |width| width > MAX_VALUE_BYTES)
            || precision.is_some_and(|precision| precision > MAX_VALUE_BYTES)
        {
            return Err(format!(
                "the width or precision of a verb is larger than {} MiB, the most text amlplan builds in one value",
                MAX_VALUE_BYTES >> 20
            ));
        }
        let verb = characters
            .next()
            .ok_or("the format ends in the middle of a verb")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let argument = args.get(next_arg).ok_or_else(|| {
            format!(
                "not enough arguments for the format (verb {} has none)",
                next_arg + 1
            )
        })?;
        next_arg += 1;
        let number = || match argument {
            Value::Number(number) => Ok(number.0),
            Value::String(text) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("`%{verb}` needs a number, `{text}` is not one")),
            other => Err(format!(
                "`%{verb}` needs a number, not a {}",
                kind_of(other)
            )),
        };
        let integer = || {
            let value = number()?;
            Number(value)
                .as_i64()
                .ok_or_else(|| format!("`%{verb}` needs a whole number, not {value}"))
        };
        let rendered = match verb {
            's' | 'v' => match argument {
                Value::Null => "null".to_owned(),
                other => scalar_to_string(other).unwrap_or_else(|| jsonencode(other)),
            },
            'q' => serde_json::to_string(&scalar_to_string(argument).ok_or("`%q` needs a string")?)
                .expect("strings serialize"),
            't' => match argument {
                Value::Bool(flag) => flag.to_string(),
                other => return Err(format!("`%t` needs a bool, not a {}", kind_of(other))),
            },
            'd' => integer()?.to_string(),
            'x' => format!("{:x}", integer()?),
            'X' => format!("{:X}", integer()?),
            'o' => format!("{:o}", integer()?),
            'b' => format!("{:b}", integer()?),
            'f' => format!("{:.*}", precision.unwrap_or(6), number()?),
            'e' => format!("{:.*e}", precision.unwrap_or(6), number()?),
            'g' => Number(number()?).to_string(),
            other => return Err(format!("unsupported format verb `%{other}`")),
        };
        room_for(out.len().saturating_add(width.parse().unwrap_or(0)))?;
        let rendered = match (verb, precision) {
            ('s' | 'v' | 'q', Some(limit)) => rendered.chars().take(limit).collect(),
            _ => rendered,
        };
        let width: usize = width.parse().unwrap_or(0);
        let length = rendered.chars().count();
        if length >= width {
            out.push_str(&rendered);
        } else if left {
            out.push_str(&rendered);
            out.push_str(&" ".repeat(width - length));
        } else if zero && matches!(verb, 'd' | 'f' | 'e' | 'g' | 'x' | 'X' | 'o' | 'b') {
            let (sign, digits) = rendered
                .strip_prefix('-')
                .map_or(("", rendered.as_str()), |rest| ("-", rest));
            out.push_str(sign);
            out.push_str(&"0".repeat(width - length));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(width - length));
            out.push_str(&rendered);
        }
    }
    if next_arg < args.len() {
        return Err(format!(
            "too many arguments: the format uses {next_arg}, {} given",
            args.len()
        ));
    }
    Ok(out)
}

/// Lexical clean-up of a path: `.` removed, `..` applied (Go's `filepath.Clean`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Go's `filepath.Base`.
fn basename(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() {
            ".".to_owned()
        } else {
            "/".to_owned()
        };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir`.
fn dirname(path: &str) -> String {
    let directory = match path.rfind('/') {
        Some(0) => "/",
        Some(position) => &path[..position],
        None => ".",
    };
    let cleaned = normalize(Path::new(directory));
    let text = cleaned.display().to_string();
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
        call(
            lookup(name).expect("known function"),
            args,
            Path::new("/config"),
        )
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|item| Value::from(*item)).collect())
    }

    #[test]
    fn string_functions() {
        assert_eq!(run("lower", vec!["ABC".into()]), Ok("abc".into()));
        assert_eq!(run("upper", vec!["abc".into()]), Ok("ABC".into()));
        assert_eq!(run("trimspace", vec!["  x \n".into()]), Ok("x".into()));
        assert_eq!(
            run("join", vec!["-".into(), strings(&["a", "b"])]),
            Ok("a-b".into())
        );
        assert_eq!(
            run("split", vec![",".into(), "a,b".into()]),
            Ok(strings(&["a", "b"]))
        );
        assert_eq!(
            run("replace", vec!["a-b-c".into(), "-".into(), "_".into()]),
            Ok("a_b_c".into())
        );
        assert!(run("replace", vec!["a".into(), "/a/".into(), "b".into()]).is_err());
        assert_eq!(
            run("substr", vec!["hello".into(), 1.into(), 3.into()]),
            Ok("ell".into())
        );
    }

    #[test]
    fn format_follows_go_verbs() {
        let formatted = |spec: &str, args: Vec<Value>| format(spec, &args);
        assert_eq!(
            formatted("%s-%03d", vec!["gpu".into(), 7.into()]),
            Ok("gpu-007".to_owned())
        );
        assert_eq!(
            formatted("%.2f%%", vec![Value::Number(Number(1.5))]),
            Ok("1.50%".to_owned())
        );
        assert_eq!(
            formatted("%-4s|%q", vec!["a".into(), "b".into()]),
            Ok("a   |\"b\"".to_owned())
        );
        assert_eq!(
            formatted("%v", vec![strings(&["x"])]),
            Ok("[\"x\"]".to_owned())
        );
        assert!(formatted("%s %s", vec!["a".into()]).is_err());
        assert!(formatted("%s", vec!["a".into(), "b".into()]).is_err());
    }

    #[test]
    fn collection_functions() {
        let map_value = Value::Map(BTreeMap::from([("a".to_owned(), Value::from(1))]));
        assert_eq!(run("length", vec![strings(&["a", "b"])]), Ok(2.into()));
        assert_eq!(
            run("lookup", vec![map_value.clone(), "a".into()]),
            Ok(1.into())
        );
        assert_eq!(
            run("lookup", vec![map_value.clone(), "z".into(), 0.into()]),
            Ok(0.into())
        );
        assert!(run("lookup", vec![map_value.clone(), "z".into()]).is_err());
        assert_eq!(
            run("concat", vec![strings(&["a"]), strings(&["b"])]),
            Ok(strings(&["a", "b"]))
        );
        assert_eq!(
            run("toset", vec![strings(&["b", "a", "b"])]),
            Ok(strings(&["a", "b"]))
        );
        assert_eq!(
            run("coalesce", vec![Value::Null, "".into(), "x".into()]),
            Ok("x".into())
        );
        assert_eq!(
            run(
                "merge",
                vec![
                    map_value,
                    Value::Map(BTreeMap::from([("b".to_owned(), Value::from(2))]))
                ]
            )
            .map(|v| v.to_string()),
            Ok("{a = 1, b = 2}".to_owned())
        );
        assert_eq!(
            run(
                "concat",
                vec![Value::List(vec![Value::Unknown]), strings(&["b"])]
            ),
            Ok(Value::List(vec![Value::Unknown, "b".into()]))
        );
    }

    #[test]
    fn encoding_functions() {
        let object = Value::Map(BTreeMap::from([
            ("b".to_owned(), Value::from("<x>")),
            ("a".to_owned(), Value::from(1)),
        ]));
        assert_eq!(
            run("jsonencode", vec![object]),
            Ok(r#"{"a":1,"b":"\u003cx\u003e"}"#.into())
        );
        assert_eq!(run("base64encode", vec!["hi".into()]), Ok("aGk=".into()));
        assert_eq!(run("base64decode", vec!["aGk=".into()]), Ok("hi".into()));
        assert_eq!(
            run("sha256", vec!["abc".into()]),
            Ok("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into())
        );
    }

    #[test]
    fn path_functions() {
        assert_eq!(
            run("basename", vec!["foo/bar/baz.txt".into()]),
            Ok("baz.txt".into())
        );
        assert_eq!(
            run("dirname", vec!["foo/bar/baz.txt".into()]),
            Ok("foo/bar".into())
        );
        assert_eq!(run("dirname", vec!["baz.txt".into()]), Ok(".".into()));
        assert_eq!(
            run("abspath", vec!["./scripts/../setup.sh".into()]),
            Ok("/config/setup.sh".into())
        );
    }

    #[test]
    fn files_are_read_relative_to_the_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("setup.sh"), "echo hi\n").expect("write");
        let read = call(
            lookup("file").expect("known"),
            vec!["setup.sh".into()],
            dir.path(),
        );
        assert_eq!(read, Ok("echo hi\n".into()));
        let missing = call(
            lookup("file").expect("known"),
            vec!["nope.sh".into()],
            dir.path(),
        );
        assert_eq!(missing, Err("no file exists at `nope.sh`".to_owned()));
    }

    #[test]
    fn arity_and_unknowns() {
        assert!(run("lower", vec![]).is_err());
        assert_eq!(run("upper", vec![Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            run("length", vec![Value::List(vec![Value::Unknown])]),
            Ok(1.into())
        );
    }
}
