//! The built-in functions of the Terraform language (1.11) that need no network, as a table of
//! plain functions over [`Value`], with Terraform's argument conversions, results and errors.
//! `try`, `can`, `templatefile`, `sensitive` and `nonsensitive` need the evaluator (unevaluated
//! arguments or marks) and live in `eval.rs`; they are listed here so that suggestions know
//! them. Relative paths start at the configuration folder (what `terraform -chdir=DIR` does).
//! `docs/functions.md` lists every Terraform function with its status here.
//!
//! Unknowns: unless a function is marked `structural`, any unknown anywhere in its arguments
//! makes the result unknown. Structural functions (`length`, `concat`, `merge`, ...) only look
//! at the shape of their arguments, so unknown elements flow through them. `timestamp()` and
//! `uuid()` are unknown while planning, as in Terraform.
//!
//! Bounds: every result is checked by [`check_bounds`]; a function that can build a large
//! result from a small input (`range`, `formatlist`, `setproduct`, `indent`, `replace`, ...)
//! refuses before it allocates.
//!
//! | module        | functions                                                               |
//! |---------------|-------------------------------------------------------------------------|
//! | `number`      | abs ceil floor log max min parseint pow signum sum                      |
//! | `text`        | chomp endswith indent join lower split startswith strcontains strrev substr title trim* upper |
//! | `pattern`     | regex regexall replace                                                  |
//! | `format`      | format formatlist                                                       |
//! | `collection`  | alltrue anytrue chunklist coalesce* compact concat contains distinct element flatten index keys length lookup matchkeys merge one range reverse slice sort transpose values zipmap |
//! | `set`         | setintersection setproduct setsubtract setunion (and the order of `toset`) |
//! | `conversion`  | tobool tolist tomap tonumber toset tostring, and Terraform's type unification |
//! | `encoding`    | base64* csvdecode json* text*base64 urlencode                          |
//! | `yaml`        | yamldecode yamlencode                                                   |
//! | `filesystem`  | abspath basename dirname file* fileexists fileset pathexpand            |
//! | `datetime`    | formatdate plantimestamp timeadd timecmp timestamp                      |
//! | `digest`      | md5 sha1 sha256 sha512 base64sha* file*sha* filemd5 uuid uuidv5         |
//! | `cidr`        | cidrhost cidrnetmask cidrsubnet cidrsubnets                             |

mod cidr;
mod collection;
mod conversion;
mod datetime;
mod digest;
mod encoding;
mod filesystem;
mod format;
mod grapheme;
mod gzip;
mod number;
mod pattern;
mod set;
mod text;
mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use engine::value::{Number, Value};

use super::eval::{kind_of, scalar_to_string};

/// What a function computes from its (already evaluated) arguments and the configuration folder.
type Run = fn(&[Value], &Path) -> Result<Value, String>;

/// One built-in function.
pub(crate) struct Function {
    name: &'static str,
    min_args: usize,
    /// `None`: variadic.
    max_args: Option<usize>,
    structural: bool,
    run: Run,
}

const fn function(
    name: &'static str,
    min_args: usize,
    max_args: Option<usize>,
    run: Run,
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
    run: Run,
) -> Function {
    Function {
        name,
        min_args,
        max_args,
        structural: true,
        run,
    }
}

/// Every function, by name (sorted, for reading).
static FUNCTIONS: &[Function] = &[
    function("abs", 1, Some(1), number::abs),
    function("abspath", 1, Some(1), filesystem::abspath),
    function("alltrue", 1, Some(1), collection::alltrue),
    function("anytrue", 1, Some(1), collection::anytrue),
    function("base64decode", 1, Some(1), encoding::base64decode),
    function("base64encode", 1, Some(1), encoding::base64encode),
    function("base64gzip", 1, Some(1), encoding::base64gzip),
    function("base64sha256", 1, Some(1), digest::base64sha256),
    function("base64sha512", 1, Some(1), digest::base64sha512),
    function("basename", 1, Some(1), filesystem::basename),
    function("ceil", 1, Some(1), number::ceil),
    function("chomp", 1, Some(1), text::chomp),
    structural("chunklist", 2, Some(2), collection::chunklist),
    function("cidrhost", 2, Some(2), cidr::cidrhost),
    function("cidrnetmask", 1, Some(1), cidr::cidrnetmask),
    function("cidrsubnet", 3, Some(3), cidr::cidrsubnet),
    function("cidrsubnets", 1, None, cidr::cidrsubnets),
    structural("coalesce", 1, None, collection::coalesce),
    structural("coalescelist", 1, None, collection::coalescelist),
    function("compact", 1, Some(1), collection::compact),
    structural("concat", 0, None, collection::concat),
    function("contains", 2, Some(2), collection::contains),
    function("csvdecode", 1, Some(1), encoding::csvdecode),
    function("dirname", 1, Some(1), filesystem::dirname),
    function("distinct", 1, Some(1), collection::distinct),
    structural("element", 2, Some(2), collection::element),
    function("endswith", 2, Some(2), text::endswith),
    structural("ephemeralasnull", 1, Some(1), conversion::ephemeralasnull),
    function("file", 1, Some(1), filesystem::file),
    function("filebase64", 1, Some(1), filesystem::filebase64),
    function("filebase64sha256", 1, Some(1), digest::filebase64sha256),
    function("filebase64sha512", 1, Some(1), digest::filebase64sha512),
    function("fileexists", 1, Some(1), filesystem::fileexists),
    function("filemd5", 1, Some(1), digest::filemd5),
    function("fileset", 2, Some(2), filesystem::fileset),
    function("filesha1", 1, Some(1), digest::filesha1),
    function("filesha256", 1, Some(1), digest::filesha256),
    function("filesha512", 1, Some(1), digest::filesha512),
    structural("flatten", 1, Some(1), collection::flatten),
    function("floor", 1, Some(1), number::floor),
    function("format", 1, None, format::format_function),
    function("formatdate", 2, Some(2), datetime::formatdate),
    structural("formatlist", 1, None, format::formatlist),
    function("indent", 2, Some(2), text::indent),
    function("index", 2, Some(2), collection::index),
    function("join", 2, None, text::join),
    function("jsondecode", 1, Some(1), encoding::jsondecode),
    function("jsonencode", 1, Some(1), encoding::jsonencode),
    structural("keys", 1, Some(1), collection::keys),
    structural("length", 1, Some(1), collection::length),
    function("list", 0, None, collection::removed_list),
    function("log", 2, Some(2), number::log),
    structural("lookup", 2, Some(3), collection::lookup),
    function("lower", 1, Some(1), text::lower),
    function("map", 0, None, collection::removed_map),
    function("matchkeys", 3, Some(3), collection::matchkeys),
    function("max", 1, None, number::max),
    function("md5", 1, Some(1), digest::md5),
    structural("merge", 0, None, collection::merge),
    function("min", 1, None, number::min),
    structural("one", 1, Some(1), collection::one),
    function("parseint", 2, Some(2), number::parseint),
    function("pathexpand", 1, Some(1), filesystem::pathexpand),
    function("plantimestamp", 0, Some(0), datetime::plantimestamp),
    function("pow", 2, Some(2), number::pow),
    function("range", 1, Some(3), collection::range),
    function("regex", 2, Some(2), pattern::regex),
    function("regexall", 2, Some(2), pattern::regexall),
    function("replace", 3, Some(3), pattern::replace),
    structural("reverse", 1, Some(1), collection::reverse),
    function("setintersection", 1, None, set::setintersection),
    function("setproduct", 2, None, set::setproduct),
    function("setsubtract", 2, Some(2), set::setsubtract),
    function("setunion", 1, None, set::setunion),
    function("sha1", 1, Some(1), digest::sha1),
    function("sha256", 1, Some(1), digest::sha256),
    function("sha512", 1, Some(1), digest::sha512),
    function("signum", 1, Some(1), number::signum),
    structural("slice", 3, Some(3), collection::slice),
    function("sort", 1, Some(1), collection::sort),
    function("split", 2, Some(2), text::split),
    function("startswith", 2, Some(2), text::startswith),
    function("strcontains", 2, Some(2), text::strcontains),
    function("strrev", 1, Some(1), text::strrev),
    function("substr", 3, Some(3), text::substr),
    function("sum", 1, Some(1), number::sum),
    function("textdecodebase64", 2, Some(2), encoding::textdecodebase64),
    function("textencodebase64", 2, Some(2), encoding::textencodebase64),
    function("timeadd", 2, Some(2), datetime::timeadd),
    function("timecmp", 2, Some(2), datetime::timecmp),
    function("timestamp", 0, Some(0), datetime::timestamp),
    function("title", 1, Some(1), text::title),
    function("tobool", 1, Some(1), conversion::tobool),
    structural("tolist", 1, Some(1), conversion::tolist),
    structural("tomap", 1, Some(1), conversion::tomap),
    function("tonumber", 1, Some(1), conversion::tonumber),
    structural("toset", 1, Some(1), conversion::toset),
    function("tostring", 1, Some(1), conversion::tostring),
    function("transpose", 1, Some(1), collection::transpose),
    function("trim", 2, Some(2), text::trim),
    function("trimprefix", 2, Some(2), text::trimprefix),
    function("trimspace", 1, Some(1), text::trimspace),
    function("trimsuffix", 2, Some(2), text::trimsuffix),
    function("upper", 1, Some(1), text::upper),
    function("urlencode", 1, Some(1), encoding::urlencode),
    function("uuid", 0, Some(0), digest::uuid),
    function("uuidv5", 2, Some(2), digest::uuidv5),
    structural("values", 1, Some(1), collection::values),
    function("yamldecode", 1, Some(1), yaml::yamldecode),
    function("yamlencode", 1, Some(1), yaml::yamlencode),
    structural("zipmap", 2, Some(2), collection::zipmap),
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
            return Err(too_many());
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

fn too_many() -> String {
    format!(
        "it holds more than {MAX_VALUE_ELEMENTS} elements, the most amlplan builds in one value"
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

/// Refuses to build a value of `count` elements over [`MAX_VALUE_ELEMENTS`] (checked before it
/// is allocated).
fn room_for_elements(count: usize) -> Result<(), String> {
    if count > MAX_VALUE_ELEMENTS {
        return Err(too_many());
    }
    Ok(())
}

/// Functions implemented by the evaluator itself (`eval.rs`), by name before [`lookup`].
const EVALUATOR_FUNCTIONS: &[&str] = &[
    "can",
    "issensitive",
    "nonsensitive",
    "sensitive",
    "templatefile",
    "templatestring",
    "try",
];

/// The function named `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}

/// Every supported function name (for suggestions).
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .map(|function| function.name)
        .filter(|name| !matches!(*name, "list" | "map"))
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
    let (relative, bytes) = filesystem::read_bytes(path, base_dir)?;
    String::from_utf8(bytes).map_err(|_| {
        format!("contents of `{relative}` are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead")
    })
}

/// A string argument; numbers and bools convert to strings, as Terraform converts them.
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

/// Terraform's conversion of a string to a number: a decimal number, no spaces, no `inf`.
fn parse_number(text: &str) -> Option<f64> {
    let plausible = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && text.chars().any(|c| c.is_ascii_digit());
    plausible
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|number| number.is_finite())
}

/// A number argument; numeric strings convert.
fn number(value: &Value, parameter: &str) -> Result<f64, String> {
    match value {
        Value::Number(number) => Ok(number.0),
        Value::String(text) => parse_number(text).ok_or_else(|| {
            format!("argument `{parameter}` must be a number, and `{text}` is not one")
        }),
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => Err(format!(
            "argument `{parameter}` must be a number, not a {}",
            kind_of(other)
        )),
    }
}

/// A whole-number argument.
fn whole_number(value: &Value, parameter: &str) -> Result<i64, String> {
    let value = number(value, parameter)?;
    Number(value)
        .as_i64()
        .ok_or_else(|| format!("argument `{parameter}` must be a whole number, not {value}"))
}

/// A bool argument; the strings `"true"` and `"false"` convert.
fn boolean(value: &Value, parameter: &str) -> Result<bool, String> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text == "true" => Ok(true),
        Value::String(text) if text == "false" => Ok(false),
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => Err(format!(
            "argument `{parameter}` must be a bool, not a {}",
            kind_of(other)
        )),
    }
}

/// A list, tuple or set argument (all three are lists here).
fn list<'v>(value: &'v Value, parameter: &str) -> Result<&'v [Value], String> {
    match value {
        Value::List(items) => Ok(items),
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => Err(format!(
            "argument `{parameter}` must be a list, not a {}",
            kind_of(other)
        )),
    }
}

/// A map or object argument.
fn map<'v>(value: &'v Value, parameter: &str) -> Result<&'v BTreeMap<String, Value>, String> {
    match value {
        Value::Map(entries) => Ok(entries),
        Value::Null => Err(format!("argument `{parameter}` must not be null")),
        other => Err(format!(
            "argument `{parameter}` must be a map, not a {}",
            kind_of(other)
        )),
    }
}

/// A `list(string)` argument: each element converted to a string; a null element is an error.
fn string_list(value: &Value, parameter: &str) -> Result<Vec<String>, String> {
    list(value, parameter)?
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Null => Err(format!("element {index} of `{parameter}` is null")),
            other => scalar_to_string(other).ok_or_else(|| {
                format!(
                    "element {index} of `{parameter}` must be a string, not a {}",
                    kind_of(other)
                )
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// Calls the function `name` with `args`, relative to `/config`.
    #[track_caller]
    pub(super) fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
        call(
            lookup(name).expect("known function"),
            args,
            Path::new("/config"),
        )
    }

    /// A list of strings.
    pub(super) fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|item| Value::from(*item)).collect())
    }

    /// A list of numbers.
    pub(super) fn numbers(items: &[f64]) -> Value {
        Value::List(
            items
                .iter()
                .map(|item| Value::Number(Number(*item)))
                .collect(),
        )
    }

    /// A map from pairs.
    pub(super) fn object(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect(),
        )
    }

    /// A number.
    pub(super) fn num(value: f64) -> Value {
        Value::Number(Number(value))
    }

    #[test]
    fn the_table_is_sorted_and_unique() {
        let names: Vec<&str> = FUNCTIONS.iter().map(|function| function.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        for name in EVALUATOR_FUNCTIONS {
            assert!(lookup(name).is_none(), "{name} is the evaluator's");
        }
    }

    #[test]
    fn arity_and_unknowns() {
        assert_eq!(
            run("lower", vec![]),
            Err("it takes 1 argument(s), 0 given".to_owned())
        );
        assert_eq!(
            run("lookup", vec![Value::Null]),
            Err("it takes 2 to 3 argument(s), 1 given".to_owned())
        );
        assert_eq!(run("upper", vec![Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            run("join", vec!["-".into(), Value::List(vec![Value::Unknown])]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("length", vec![Value::List(vec![Value::Unknown])]),
            Ok(1.into())
        );
    }

    #[test]
    fn names_include_the_evaluators_functions() {
        let names: Vec<&str> = names().collect();
        for name in [
            "try",
            "can",
            "templatefile",
            "sensitive",
            "nonsensitive",
            "yamlencode",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        assert!(!names.contains(&"list"));
    }

    #[test]
    fn conversions_of_arguments() {
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number(" 1"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("-"), None);
        assert_eq!(number(&"12".into(), "n"), Ok(12.0));
        assert_eq!(
            whole_number(&num(1.5), "n"),
            Err("argument `n` must be a whole number, not 1.5".to_owned())
        );
        assert_eq!(boolean(&"true".into(), "b"), Ok(true));
        assert!(boolean(&"yes".into(), "b").is_err());
        assert_eq!(
            string_list(&Value::List(vec![1.into(), true.into()]), "l"),
            Ok(vec!["1".to_owned(), "true".to_owned()])
        );
        assert_eq!(
            string_list(&Value::List(vec![Value::Null]), "l"),
            Err("element 0 of `l` is null".to_owned())
        );
    }

    #[test]
    fn results_are_bounded() {
        let big = Value::String("x".repeat(MAX_VALUE_BYTES / 2 + 1));
        assert!(run("join", vec!["".into(), Value::List(vec![big.clone(), big])]).is_err());
        assert!(room_for_elements(MAX_VALUE_ELEMENTS + 1).is_err());
    }
}
