//! Regular-expression functions: `regex`, `regexall` and `replace` (whose `/.../` form is a
//! pattern). Terraform uses RE2; the `regex` crate has the same syntax and semantics (leftmost
//! first, no backreferences, `$name` expansion) except that RE2's `\d \w \s \b` are ASCII-only
//! and RE2 knows `\Q...\E`, so patterns are translated before compiling.

use std::collections::BTreeMap;
use std::path::Path;

use engine::value::Value;
use regex::Regex;

use super::{room_for, room_for_elements, string};

/// Rewrites RE2-only syntax into the `regex` crate's.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut characters = pattern.chars().peekable();
    let mut class_depth = 0usize;
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                let Some(escaped) = characters.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class_depth > 0;
                match (escaped, inside) {
                    ('d', false) => out.push_str("[0-9]"),
                    ('d', true) => out.push_str("0-9"),
                    ('D', _) => out.push_str("[^0-9]"),
                    ('w', false) => out.push_str("[0-9A-Za-z_]"),
                    ('w', true) => out.push_str("0-9A-Za-z_"),
                    ('W', _) => out.push_str("[^0-9A-Za-z_]"),
                    ('s', false) => out.push_str("[\\t\\n\\f\\r ]"),
                    ('s', true) => out.push_str("\\t\\n\\f\\r "),
                    ('S', _) => out.push_str("[^\\t\\n\\f\\r ]"),
                    ('b', false) => out.push_str("(?-u:\\b)"),
                    ('B', false) => out.push_str("(?-u:\\B)"),
                    ('Q', _) => {
                        let mut literal = String::new();
                        while let Some(next) = characters.next() {
                            if next == '\\' && characters.peek() == Some(&'E') {
                                characters.next();
                                break;
                            }
                            literal.push(next);
                        }
                        out.push_str(&regex::escape(&literal));
                    }
                    (other, _) => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '[' => {
                if class_depth > 0 && characters.peek() == Some(&':') {
                    // `[:alpha:]` inside a class: copy through to its closing `:]`.
                    out.push('[');
                    for next in characters.by_ref() {
                        out.push(next);
                        if next == ']' {
                            break;
                        }
                    }
                    continue;
                }
                class_depth += 1;
                out.push('[');
                // A `]` or `^]` right after the opening bracket is a literal.
                if characters.peek() == Some(&'^') {
                    out.push('^');
                    characters.next();
                }
                if characters.peek() == Some(&']') {
                    out.push_str("\\]");
                    characters.next();
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(&translate(pattern)).map_err(|error| {
        let message = error.to_string();
        let last = message.lines().last().unwrap_or_default().trim().to_owned();
        format!(
            "invalid regexp pattern: {}",
            last.trim_start_matches("error: ")
        )
    })
}

/// The shape of a pattern's result: the whole match, a list of groups, or a map of named ones.
enum Shape {
    Whole,
    Groups,
    Named(Vec<String>),
}

fn shape_of(regex: &Regex) -> Result<Shape, String> {
    let names: Vec<Option<&str>> = regex.capture_names().skip(1).collect();
    let named = names.iter().filter(|name| name.is_some()).count();
    match (names.len(), named) {
        (0, _) => Ok(Shape::Whole),
        (_, 0) => Ok(Shape::Groups),
        (all, named) if all == named => Ok(Shape::Named(
            names.into_iter().flatten().map(str::to_owned).collect(),
        )),
        _ => Err(
            "invalid regexp pattern: cannot mix both named and unnamed capture groups".to_owned(),
        ),
    }
}

fn result_of(shape: &Shape, captures: &regex::Captures<'_>) -> Value {
    let group = |index: usize| {
        captures
            .get(index)
            .map_or(Value::Null, |found| Value::from(found.as_str()))
    };
    match shape {
        Shape::Whole => group(0),
        Shape::Groups => Value::List((1..captures.len()).map(group).collect()),
        Shape::Named(names) => Value::Map(
            names
                .iter()
                .map(|name| {
                    let value = captures
                        .name(name)
                        .map_or(Value::Null, |found| Value::from(found.as_str()));
                    (name.clone(), value)
                })
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

pub(super) fn regex(args: &[Value], _: &Path) -> Result<Value, String> {
    let (pattern, text) = (string(&args[0], "pattern")?, string(&args[1], "string")?);
    let regex = compile(&pattern)?;
    let shape = shape_of(&regex)?;
    let captures = regex
        .captures(&text)
        .ok_or("pattern did not match any part of the given string")?;
    Ok(result_of(&shape, &captures))
}

pub(super) fn regexall(args: &[Value], _: &Path) -> Result<Value, String> {
    let (pattern, text) = (string(&args[0], "pattern")?, string(&args[1], "string")?);
    let regex = compile(&pattern)?;
    let shape = shape_of(&regex)?;
    let groups = regex.captures_len().max(1);
    let mut matches = Vec::new();
    for captures in regex.captures_iter(&text) {
        room_for_elements((matches.len() + 1).saturating_mul(groups + 1))?;
        matches.push(result_of(&shape, &captures));
    }
    Ok(Value::List(matches))
}

pub(super) fn replace(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, search, replacement) = (
        string(&args[0], "str")?,
        string(&args[1], "substr")?,
        string(&args[2], "replace")?,
    );
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let regex = compile(&search[1..search.len() - 1])?;
        let mut out = String::new();
        let mut last = 0;
        for captures in regex.captures_iter(&text) {
            let whole = captures.get(0).expect("group 0 is the match");
            out.push_str(&text[last..whole.start()]);
            captures.expand(&replacement, &mut out);
            last = whole.end();
            room_for(out.len().saturating_add(text.len() - last))?;
        }
        out.push_str(&text[last..]);
        return Ok(Value::String(out));
    }
    let occurrences = if search.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(search.as_str()).count()
    };
    room_for(
        (text.len() - search.len().saturating_mul(occurrences).min(text.len()))
            .saturating_add(replacement.len().saturating_mul(occurrences)),
    )?;
    Ok(Value::String(text.replace(&search, &replacement)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(
            run(
                "regex",
                vec!["[a-z]+".into(), "53453453.345345aaabbbccc23454".into()]
            ),
            Ok("aaabbbccc".into())
        );
        assert_eq!(
            run(
                "regex",
                vec![
                    "(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)".into(),
                    "2019-02-01".into()
                ]
            ),
            Ok(strings(&["2019", "02", "01"]))
        );
        assert_eq!(
            run(
                "regex",
                vec![
                    "^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?".into(),
                    "https://terraform.io/docs/".into()
                ]
            ),
            Ok(object(&[
                ("authority", "terraform.io".into()),
                ("scheme", "https".into())
            ]))
        );
        assert_eq!(
            run(
                "regex",
                vec!["[a-z]+".into(), "53453453.34534523454".into()]
            ),
            Err("pattern did not match any part of the given string".to_owned())
        );
        assert_eq!(
            run(
                "regexall",
                vec!["[a-z]+".into(), "1234abcd5678efgh9".into()]
            ),
            Ok(strings(&["abcd", "efgh"]))
        );
        assert_eq!(
            run("regexall", vec!["[a-z]+".into(), "123456789".into()]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run("replace", vec!["1 + 2 + 3".into(), "+".into(), "-".into()]),
            Ok("1 - 2 - 3".into())
        );
        assert_eq!(
            run(
                "replace",
                vec!["hello world".into(), "/w.*d/".into(), "everybody".into()]
            ),
            Ok("hello everybody".into())
        );
    }

    #[test]
    fn re2_details() {
        assert_eq!(
            run(
                "replace",
                vec!["hello world".into(), "/(o)/".into(), "[$1]".into()]
            ),
            Ok("hell[o] w[o]rld".into())
        );
        assert_eq!(
            run(
                "replace",
                vec!["abc".into(), "/(?P<x>b)/".into(), "${x}${x}$$".into()]
            ),
            Ok("abb$c".into())
        );
        assert_eq!(
            run("replace", vec!["abc".into(), "".into(), "-".into()]),
            Ok("-a-b-c-".into())
        );
        assert_eq!(
            run("regex", vec!["\\d+".into(), "x١٢3".into()]),
            Ok("3".into())
        );
        assert_eq!(
            run("regex", vec!["\\Qa.b\\E".into(), "xa.by".into()]),
            Ok("a.b".into())
        );
        assert_eq!(
            run("regex", vec!["[\\d]+x\\b".into(), "12x y".into()]),
            Ok("12x".into())
        );
        assert_eq!(
            run("regex", vec!["\\Bb".into(), "ab".into()]),
            Ok("b".into())
        );
        assert_eq!(
            run("regex", vec!["[[:alpha:]]+".into(), "12ab".into()]),
            Ok("ab".into())
        );
        assert_eq!(
            run("regex", vec!["(a)|(b)".into(), "b".into()]),
            Ok(Value::List(vec![Value::Null, "b".into()]))
        );
        assert_eq!(
            run("regex", vec!["(?P<a>x)(y)".into(), "xy".into()]),
            Err(
                "invalid regexp pattern: cannot mix both named and unnamed capture groups"
                    .to_owned()
            )
        );
        let error = run("regex", vec!["(".into(), "x".into()]).expect_err("bad pattern");
        assert!(error.starts_with("invalid regexp pattern: "), "{error}");
        assert!(
            run(
                "replace",
                vec![
                    "a".repeat(1 << 20).into(),
                    "/a/".into(),
                    "b".repeat(17).into()
                ]
            )
            .is_err()
        );
        assert!(
            run(
                "replace",
                vec![
                    "a".repeat(1 << 20).into(),
                    "a".into(),
                    "b".repeat(17).into()
                ]
            )
            .is_err()
        );
    }
}
