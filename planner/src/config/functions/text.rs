//! String functions: `chomp endswith indent join lower split startswith strcontains strrev substr
//! title trim trimprefix trimspace trimsuffix upper`, with Go's semantics (`strings.Title`,
//! `strings.Trim` with a cut set, simple case mapping) and characters counted as grapheme
//! clusters.

use std::path::Path;

use engine::value::Value;

use super::{grapheme, room_for, room_for_elements, string, string_list, whole_number};

pub(super) fn chomp(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    Ok(Value::String(
        text.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

pub(super) fn startswith(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, prefix) = (string(&args[0], "str")?, string(&args[1], "prefix")?);
    Ok(Value::Bool(text.starts_with(&prefix)))
}

pub(super) fn endswith(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, suffix) = (string(&args[0], "str")?, string(&args[1], "suffix")?);
    Ok(Value::Bool(text.ends_with(&suffix)))
}

pub(super) fn strcontains(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, part) = (string(&args[0], "str")?, string(&args[1], "substr")?);
    Ok(Value::Bool(text.contains(&part)))
}

pub(super) fn indent(args: &[Value], _: &Path) -> Result<Value, String> {
    let spaces = whole_number(&args[0], "spaces")?;
    let text = string(&args[1], "str")?;
    let spaces = usize::try_from(spaces).unwrap_or(0);
    let lines = text.matches('\n').count();
    room_for(text.len().saturating_add(spaces.saturating_mul(lines)))?;
    let padding = " ".repeat(spaces);
    Ok(Value::String(text.replace('\n', &format!("\n{padding}"))))
}

pub(super) fn join(args: &[Value], _: &Path) -> Result<Value, String> {
    let separator = string(&args[0], "separator")?;
    let mut parts = Vec::new();
    for (position, argument) in args[1..].iter().enumerate() {
        let name = if args.len() > 2 {
            format!("lists[{position}]")
        } else {
            "list".to_owned()
        };
        parts.extend(string_list(argument, &name).map_err(|error| {
            error.replace(" is null", " is null; cannot concatenate null values")
        })?);
    }
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
}

/// Go's `strings.ToLower`/`ToUpper` map each character on its own (simple case mapping):
/// `ß` stays `ß` in upper case.
fn map_case(text: &str, upper: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        let mut mapped: Vec<char> = if upper {
            character.to_uppercase().collect()
        } else {
            character.to_lowercase().collect()
        };
        if mapped.len() != 1 {
            mapped = if upper {
                vec![character]
            } else {
                mapped[..1].to_vec()
            };
        }
        out.extend(mapped);
    }
    out
}

pub(super) fn lower(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::String(map_case(&string(&args[0], "str")?, false)))
}

pub(super) fn upper(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::String(map_case(&string(&args[0], "str")?, true)))
}

pub(super) fn split(args: &[Value], _: &Path) -> Result<Value, String> {
    let (separator, text) = (string(&args[0], "separator")?, string(&args[1], "str")?);
    // Go's strings.Split: an empty separator splits after each character; an empty string
    // gives one empty element.
    let parts: Vec<Value> = if separator.is_empty() {
        room_for_elements(text.chars().count())?;
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        room_for_elements(text.matches(separator.as_str()).count().saturating_add(1))?;
        text.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

pub(super) fn strrev(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    Ok(Value::String(
        grapheme::clusters(&text).into_iter().rev().collect(),
    ))
}

/// Terraform's `substr`: `offset` and `length` count grapheme clusters; a negative offset counts
/// from the end; a length of -1 (any negative) takes the rest.
pub(super) fn substr(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    let mut offset = whole_number(&args[1], "offset")?;
    let length = whole_number(&args[2], "length")?;
    let clusters = grapheme::clusters(&text);
    let total = clusters.len() as i64;
    if offset < 0 {
        offset += total;
    } else if length == 0 {
        return Ok(Value::from(""));
    }
    let start = offset.clamp(0, total) as usize;
    let rest = &clusters[start..];
    // Terraform's loop never stops on a zero length after a negative offset: the rest.
    let taken = if length <= 0 {
        rest.len()
    } else {
        rest.len()
            .min(usize::try_from(length).unwrap_or(usize::MAX))
    };
    Ok(Value::String(rest[..taken].concat()))
}

/// Go's `strings.Title` word separators.
fn separates_words(character: char) -> bool {
    if character.is_ascii() {
        return !(character.is_ascii_alphanumeric() || character == '_');
    }
    if character.is_alphanumeric() {
        return false;
    }
    character.is_whitespace()
}

pub(super) fn title(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    let mut out = String::with_capacity(text.len());
    let mut previous = ' ';
    for character in text.chars() {
        if separates_words(previous) {
            let mut upper = character.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(single), None) => out.push(single),
                _ => out.push(character),
            }
        } else {
            out.push(character);
        }
        previous = character;
    }
    Ok(Value::String(out))
}

pub(super) fn trim(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, cutset) = (string(&args[0], "str")?, string(&args[1], "cutset")?);
    let cut: Vec<char> = cutset.chars().collect();
    Ok(Value::String(text.trim_matches(cut.as_slice()).to_owned()))
}

pub(super) fn trimprefix(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, prefix) = (string(&args[0], "str")?, string(&args[1], "prefix")?);
    Ok(Value::String(
        text.strip_prefix(prefix.as_str())
            .unwrap_or(&text)
            .to_owned(),
    ))
}

pub(super) fn trimsuffix(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, suffix) = (string(&args[0], "str")?, string(&args[1], "suffix")?);
    Ok(Value::String(
        text.strip_suffix(suffix.as_str())
            .unwrap_or(&text)
            .to_owned(),
    ))
}

pub(super) fn trimspace(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(Value::String(string(&args[0], "str")?.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn text(name: &str, args: Vec<Value>) -> String {
        match run(name, args) {
            Ok(Value::String(text)) => text,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn documented_examples() {
        assert_eq!(text("chomp", vec!["hello\n".into()]), "hello");
        assert_eq!(text("chomp", vec!["hello\r\n".into()]), "hello");
        assert_eq!(text("chomp", vec!["hello\n\n".into()]), "hello");
        assert_eq!(
            run("endswith", vec!["hello world".into(), "world".into()]),
            Ok(true.into())
        );
        assert_eq!(
            run("endswith", vec!["hello world".into(), "hello".into()]),
            Ok(false.into())
        );
        assert_eq!(
            run("startswith", vec!["hello world".into(), "hello".into()]),
            Ok(true.into())
        );
        assert_eq!(
            run("startswith", vec!["hello world".into(), "world".into()]),
            Ok(false.into())
        );
        assert_eq!(
            run("strcontains", vec!["hello world".into(), "wor".into()]),
            Ok(true.into())
        );
        assert_eq!(
            run("strcontains", vec!["hello world".into(), "wod".into()]),
            Ok(false.into())
        );
        assert_eq!(
            text("indent", vec![2.into(), "[\n  foo,\n  bar,\n]\n".into()]),
            "[\n    foo,\n    bar,\n  ]\n  "
        );
        assert_eq!(
            text("join", vec!["-".into(), strings(&["foo", "bar", "baz"])]),
            "foo-bar-baz"
        );
        assert_eq!(text("join", vec![", ".into(), strings(&["foo"])]), "foo");
        assert_eq!(text("lower", vec!["HELLO".into()]), "hello");
        assert_eq!(text("lower", vec!["АЛЛО!".into()]), "алло!");
        assert_eq!(text("upper", vec!["hello".into()]), "HELLO");
        assert_eq!(text("upper", vec!["алло!".into()]), "АЛЛО!");
        assert_eq!(
            run("split", vec![",".into(), "foo".into()]),
            Ok(strings(&["foo"]))
        );
        assert_eq!(
            run("split", vec![",".into(), "foo,bar,baz".into()]),
            Ok(strings(&["foo", "bar", "baz"]))
        );
        assert_eq!(
            run("split", vec![",".into(), "".into()]),
            Ok(strings(&[""]))
        );
        assert_eq!(text("strrev", vec!["hello".into()]), "olleh");
        assert_eq!(text("strrev", vec!["a ☃".into()]), "☃ a");
        assert_eq!(
            text("substr", vec!["hello world".into(), 1.into(), 4.into()]),
            "ello"
        );
        assert_eq!(
            text("substr", vec!["🤔🤷".into(), 0.into(), 1.into()]),
            "🤔"
        );
        assert_eq!(
            text(
                "substr",
                vec!["hello world".into(), (-5).into(), (-1).into()]
            ),
            "world"
        );
        assert_eq!(
            text("substr", vec!["hello world".into(), 6.into(), 10.into()]),
            "world"
        );
        assert_eq!(text("title", vec!["hello world".into()]), "Hello World");
        assert_eq!(text("trim", vec!["?!hello?!".into(), "!?".into()]), "hello");
        assert_eq!(text("trim", vec!["foobar".into(), "far".into()]), "oob");
        assert_eq!(
            text("trim", vec!["   hello! world.!  ".into(), "! ".into()]),
            "hello! world."
        );
        assert_eq!(
            text("trimprefix", vec!["helloworld".into(), "hello".into()]),
            "world"
        );
        assert_eq!(
            text("trimprefix", vec!["helloworld".into(), "cat".into()]),
            "helloworld"
        );
        assert_eq!(
            text("trimsuffix", vec!["helloworld".into(), "world".into()]),
            "hello"
        );
        assert_eq!(text("trimspace", vec!["  hello\n\n".into()]), "hello");
    }

    #[test]
    fn go_details() {
        assert_eq!(text("upper", vec!["straße".into()]), "STRAßE");
        assert_eq!(
            text("title", vec!["it's o'neil_x-ray".into()]),
            "It'S O'Neil_x-Ray"
        );
        assert_eq!(
            run("split", vec!["".into(), "ab".into()]),
            Ok(strings(&["a", "b"]))
        );
        assert_eq!(
            text("substr", vec!["hello".into(), 10.into(), 2.into()]),
            ""
        );
        assert_eq!(text("substr", vec!["hello".into(), 1.into(), 0.into()]), "");
        assert_eq!(
            text("substr", vec!["hello".into(), (-10).into(), 2.into()]),
            "he"
        );
        assert_eq!(
            text("substr", vec!["e\u{301}tat".into(), 0.into(), 1.into()]),
            "e\u{301}"
        );
        assert!(
            run(
                "substr",
                vec![
                    "hello".into(),
                    Value::Number(engine::value::Number(1.5)),
                    1.into()
                ]
            )
            .is_err()
        );
        assert_eq!(
            text(
                "join",
                vec!["-".into(), strings(&["a"]), strings(&["b", "c"])]
            ),
            "a-b-c"
        );
        assert_eq!(
            run("join", vec!["-".into(), Value::List(vec![Value::Null])]),
            Err("element 0 of `list` is null; cannot concatenate null values".to_owned())
        );
        assert_eq!(
            text(
                "join",
                vec!["-".into(), Value::List(vec![1.into(), true.into()])]
            ),
            "1-true"
        );
        assert!(run("indent", vec![(1 << 24).into(), "a\nb".into()]).is_err());
        assert_eq!(text("chomp", vec!["a\n \n".into()]), "a\n ");
    }
}
