//! `format` and `formatlist`: Terraform's printf verbs, which follow Go's `fmt` for numbers
//! (`%d %b %o %x %X` as big integers, `%e %E %f %g %G` as big floats) and measure strings in
//! grapheme clusters.
//!
//! | verb        | argument converted to | result                                          |
//! |-------------|-----------------------|-------------------------------------------------|
//! | `%v`        | any                   | string as is, number as `%g`, other as JSON     |
//! | `%#v`       | any                   | JSON                                            |
//! | `%t`        | bool                  | `true` / `false` (width ignored)                |
//! | `%d %b %o %x %X` | whole number     | Go integer formatting (flags `+ - 0 #`, precision = digits) |
//! | `%e %E %f %g %G` | number           | Go float formatting (precision 6, shortest for `%g`) |
//! | `%s`        | string                | precision truncates, width pads                 |
//! | `%q`        | string                | JSON-quoted                                     |
//!
//! `%[n]` picks argument `n` (1-based); later verbs continue from `n+1`. Null is only allowed
//! for `%v` (`null`).

use std::path::Path;

use engine::value::{Number, Value};

use super::conversion::{Type, convert};
use super::encoding::{json_encode, json_quote};
use super::{
    MAX_VALUE_BYTES, grapheme, kind_of, room_for, room_for_elements, scalar_to_string, string,
};

pub(super) fn format_function(args: &[Value], _: &Path) -> Result<Value, String> {
    format(&string(&args[0], "format")?, &args[1..]).map(Value::String)
}

/// One `%` sequence of a format string.
#[derive(Debug, Default)]
struct Verb {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
    mode: char,
    /// The sequence as written, for messages.
    raw: String,
}

/// Formats `spec` with `args` (Terraform's `format`).
pub(super) fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let characters: Vec<(usize, char)> = spec.char_indices().collect();
    let mut position = 0;
    let mut next_arg = 0usize;
    while position < characters.len() {
        let (offset, character) = characters[position];
        position += 1;
        if character != '%' {
            out.push(character);
            continue;
        }
        let mut verb = Verb::default();
        while let Some(&(_, flag)) = characters.get(position) {
            match flag {
                '-' => verb.minus = true,
                '+' => verb.plus = true,
                ' ' => verb.space = true,
                '0' => verb.zero = true,
                '#' => verb.sharp = true,
                _ => break,
            }
            position += 1;
        }
        if characters.get(position).map(|(_, c)| *c) == Some('[') {
            let digits = take_digits(&characters, &mut position, 1);
            if characters.get(position).map(|(_, c)| *c) != Some(']') || digits.is_empty() {
                return Err(format!(
                    "invalid argument index in format at offset {offset}"
                ));
            }
            position += 1;
            let index: usize = digits.parse().unwrap_or(usize::MAX);
            if index == 0 {
                return Err(format!(
                    "invalid argument index in format at offset {offset}"
                ));
            }
            next_arg = index - 1;
        }
        let width = take_digits(&characters, &mut position, 0);
        if characters.get(position).map(|(_, c)| *c) == Some('.') {
            position += 1;
            let digits = take_digits(&characters, &mut position, 0);
            if digits.is_empty() {
                return Err(format!(
                    "a precision at offset {offset} must be a number after the period"
                ));
            }
            verb.precision = Some(bounded(&digits)?);
        }
        if !width.is_empty() {
            verb.width = Some(bounded(&width)?);
        }
        let Some(&(end, mode)) = characters.get(position) else {
            return Err("the format ends in the middle of a verb".to_owned());
        };
        position += 1;
        verb.mode = mode;
        verb.raw = spec[offset..end + mode.len_utf8()].to_owned();
        if mode == '%' {
            out.push('%');
            continue;
        }
        let argument = args.get(next_arg).ok_or_else(|| {
            format!(
                "not enough arguments for `{}` at {offset}: need index {} but have {} total",
                verb.raw,
                next_arg + 1,
                args.len()
            )
        })?;
        next_arg += 1;
        room_for(out.len().saturating_add(verb.width.unwrap_or(0)))?;
        let rendered = render(&verb, argument, offset)?;
        room_for(out.len().saturating_add(rendered.len()))?;
        out.push_str(&rendered);
    }
    if next_arg < args.len() {
        return Err(format!(
            "too many arguments; no verbs left for argument {}",
            next_arg + 1
        ));
    }
    Ok(out)
}

fn take_digits(characters: &[(usize, char)], position: &mut usize, skip: usize) -> String {
    *position += skip;
    let mut digits = String::new();
    while let Some(&(_, digit)) = characters
        .get(*position)
        .filter(|(_, c)| c.is_ascii_digit())
    {
        digits.push(digit);
        *position += 1;
    }
    digits
}

fn bounded(digits: &str) -> Result<usize, String> {
    digits
        .parse::<usize>()
        .ok()
        .filter(|value| *value <= MAX_VALUE_BYTES)
        .ok_or_else(|| {
            format!(
                "the width or precision of a verb is larger than {} MiB, the most text amlplan builds in one value",
                MAX_VALUE_BYTES >> 20
            )
        })
}

fn render(verb: &Verb, argument: &Value, offset: usize) -> Result<String, String> {
    let unsupported =
        |reason: String| format!("unsupported value for `{}` at {offset}: {reason}", verb.raw);
    if verb.mode != 'v' && argument.is_null() {
        return Err(unsupported("null value cannot be formatted".to_owned()));
    }
    match verb.mode {
        'v' => {
            let text = match argument {
                Value::String(text) if !verb.sharp => text.clone(),
                Value::Number(number) if !verb.sharp => shortest(number.0),
                other => json_encode(other).map_err(unsupported)?,
            };
            Ok(pad(verb, text))
        }
        't' => match convert(argument, &Type::Bool).map_err(unsupported)? {
            Value::Bool(flag) => Ok(flag.to_string()),
            other => Err(unsupported(format!(
                "a bool is required, not a {}",
                kind_of(&other)
            ))),
        },
        'b' | 'd' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G' => {
            let value = match convert(argument, &Type::Number).map_err(unsupported)? {
                Value::Number(number) => number.0,
                other => {
                    return Err(unsupported(format!(
                        "a number is required, not a {}",
                        kind_of(&other)
                    )));
                }
            };
            if matches!(verb.mode, 'b' | 'd' | 'o' | 'x' | 'X') {
                let integer = Number(value)
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| {
                        (value.fract() == 0.0 && value.is_finite()).then_some(value as i128)
                    })
                    .ok_or_else(|| unsupported("an integer is required".to_owned()))?;
                Ok(integer_verb(verb, integer))
            } else {
                Ok(float_verb(verb, value))
            }
        }
        's' | 'q' => {
            let text = match argument {
                Value::String(text) => text.clone(),
                other => scalar_to_string(other).ok_or_else(|| {
                    unsupported(format!("a string is required, not a {}", kind_of(other)))
                })?,
            };
            let text = match verb.precision {
                Some(limit) if limit > 0 => {
                    grapheme::clusters(&text).into_iter().take(limit).collect()
                }
                _ => text,
            };
            let text = if verb.mode == 'q' {
                json_quote(&text)
            } else {
                text
            };
            Ok(pad(verb, text))
        }
        other => Err(format!(
            "unsupported format verb `{other}` in `{}` at offset {offset}",
            verb.raw
        )),
    }
}

/// Terraform's padding of `%v`, `%s` and `%q`: to the width in grapheme clusters, with zeros
/// under the `0` flag, on the right under `-`.
fn pad(verb: &Verb, text: String) -> String {
    let Some(width) = verb.width else {
        return text;
    };
    let length = grapheme::count(&text);
    if length >= width {
        return text;
    }
    let padding = (if verb.zero { "0" } else { " " }).repeat(width - length);
    if verb.minus {
        text + &padding
    } else {
        padding + &text
    }
}

/// Go's `big.Int` formatting: `[left pad][sign][prefix][zeros][digits][right pad]`.
fn integer_verb(verb: &Verb, value: i128) -> String {
    let magnitude = value.unsigned_abs();
    let mut digits = match verb.mode {
        'b' => format!("{magnitude:b}"),
        'o' => format!("{magnitude:o}"),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let sign = if value < 0 {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let prefix = match (verb.sharp, verb.mode) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(precision) = verb.precision {
        if digits.len() < precision {
            zeros = precision - digits.len();
        } else if digits == "0" && precision == 0 {
            digits.clear();
        }
    }
    let length = sign.len() + prefix.len() + zeros + digits.len();
    let (mut left, mut right) = (0, 0);
    if let Some(width) = verb.width.filter(|width| *width > length) {
        let extra = width - length;
        if verb.minus {
            right = extra;
        } else if verb.zero && verb.precision.is_none() {
            zeros = extra;
        } else {
            left = extra;
        }
    }
    format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    )
}

/// Go's `big.Float` formatting of `%e %E %f %g %G` with flags and width.
fn float_verb(verb: &Verb, value: f64) -> String {
    let body = float(value.abs(), verb.mode, verb.precision);
    let sign = if value < 0.0 {
        "-"
    } else if verb.plus || (value == f64::INFINITY && !verb.space) {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let length = sign.len() + body.len();
    let padding = verb.width.map_or(0, |width| width.saturating_sub(length));
    if verb.zero && value.is_finite() {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if verb.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// The decimal digits of `value` (non-negative) and the position of its decimal point:
/// `value = 0.DIGITS × 10^point`. `significant: None` is the shortest that reads back.
fn digits_of(value: f64, significant: Option<usize>) -> (String, i32) {
    if value == 0.0 {
        return (String::new(), 1);
    }
    let scientific = match significant {
        None => format!("{value:e}"),
        Some(count) => format!("{:.*e}", count.max(1) - 1, value),
    };
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("scientific notation has an exponent");
    let exponent: i32 = exponent.parse().expect("the exponent is a number");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0').to_owned();
    (digits, exponent + 1)
}

/// `d.ddde±dd`, with `fraction` digits after the point.
fn exponent_form(digits: &str, point: i32, fraction: usize, letter: char) -> String {
    let mut all: Vec<char> = digits.chars().collect();
    if all.is_empty() {
        all.push('0');
    }
    all.resize(fraction + 1, '0');
    let mut out = String::new();
    out.push(all[0]);
    if fraction > 0 {
        out.push('.');
        out.extend(&all[1..]);
    }
    let exponent = if digits.is_empty() { 0 } else { point - 1 };
    out.push(letter);
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    out
}

/// Plain decimal digits with `fraction` digits after the point.
fn fixed_form(digits: &str, point: i32, fraction: usize) -> String {
    let mut out = String::new();
    if point <= 0 {
        out.push('0');
    } else {
        let point = point as usize;
        for index in 0..point {
            out.push(digits.as_bytes().get(index).map_or('0', |b| *b as char));
        }
    }
    if fraction > 0 {
        out.push('.');
        for index in 0..fraction as i64 {
            let position = i64::from(point) + index;
            let digit = if position < 0 {
                '0'
            } else {
                digits
                    .as_bytes()
                    .get(position as usize)
                    .map_or('0', |b| *b as char)
            };
            out.push(digit);
        }
    }
    out
}

/// Go's `%g` with the shortest digits, signed (`big.Float.Text('g', -1)`).
pub(super) fn shortest(value: f64) -> String {
    let body = float(value.abs(), 'g', None);
    if value < 0.0 {
        format!("-{body}")
    } else if value == f64::INFINITY {
        format!("+{body}")
    } else {
        body
    }
}

/// Go's float formatting of a non-negative `value` for `mode` (`e E f g G`).
fn float(value: f64, mode: char, precision: Option<usize>) -> String {
    if value.is_infinite() {
        return "Inf".to_owned();
    }
    match mode {
        'e' | 'E' => {
            let precision = precision.unwrap_or(6);
            let (digits, point) = digits_of(value, Some(precision + 1));
            exponent_form(
                &digits,
                point,
                precision,
                if mode == 'e' { 'e' } else { 'E' },
            )
        }
        'f' => format!("{:.*}", precision.unwrap_or(6), value),
        _ => {
            let shortest = precision.is_none();
            let (digits, point) = digits_of(value, precision.map(|p| p.max(1)));
            let count = digits.len().max(1);
            let mut precision = precision.map_or(count, |p| p.max(1));
            let mut limit = precision;
            if limit > count && count as i32 >= point {
                limit = count;
            }
            if shortest {
                limit = 6;
            }
            let exponent = point - 1;
            if exponent < -4 || exponent >= limit as i32 {
                precision = precision.min(count);
                let letter = if mode == 'G' { 'E' } else { 'e' };
                return exponent_form(&digits, point, precision - 1, letter);
            }
            if precision as i32 > point {
                precision = count;
            }
            fixed_form(&digits, point, (precision as i32 - point).max(0) as usize)
        }
    }
}

/// Terraform's `formatlist`: list arguments (all of one length) are iterated together, other
/// arguments repeat; an unknown list makes the whole result unknown, an unknown element its
/// own result.
pub(super) fn formatlist(args: &[Value], _: &Path) -> Result<Value, String> {
    let spec = match &args[0] {
        Value::Unknown => return Ok(Value::Unknown),
        other => string(other, "format")?,
    };
    let values = &args[1..];
    let mut length: Option<(usize, usize)> = None;
    for (position, argument) in values.iter().enumerate() {
        match argument {
            Value::Unknown => return Ok(Value::Unknown),
            Value::List(items) => match length {
                None => length = Some((items.len(), position)),
                Some((expected, first)) if expected != items.len() => {
                    return Err(format!(
                        "argument {} has length {}, which is inconsistent with argument {} of length {expected}",
                        position + 2,
                        items.len(),
                        first + 2
                    ));
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    let iterations = length.map_or(1, |(count, _)| count);
    room_for_elements(iterations)?;
    let mut results = Vec::with_capacity(iterations);
    let mut total = 0usize;
    for iteration in 0..iterations {
        let current: Vec<Value> = values
            .iter()
            .map(|argument| match argument {
                Value::List(items) => items[iteration].clone(),
                other => other.clone(),
            })
            .collect();
        if current.iter().any(Value::contains_unknown) {
            results.push(Value::Unknown);
            continue;
        }
        let text = format(&spec, &current)
            .map_err(|error| format!("error on format iteration {iteration}: {error}"))?;
        total = total.saturating_add(text.len());
        room_for(total)?;
        results.push(Value::String(text));
    }
    Ok(Value::List(results))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn formatted(spec: &str, args: Vec<Value>) -> String {
        format(spec, &args).unwrap_or_else(|error| panic!("{spec}: {error}"))
    }

    #[test]
    fn documented_examples() {
        assert_eq!(
            formatted("Hello, %s!", vec!["Ander".into()]),
            "Hello, Ander!"
        );
        assert_eq!(
            formatted("There are %d lights", vec![4.into()]),
            "There are 4 lights"
        );
        assert_eq!(
            formatted("%9.2f|%-5d|%05d", vec![num(12.34567), 42.into(), 42.into()]),
            "    12.35|42   |00042"
        );
        assert_eq!(
            run(
                "formatlist",
                vec![
                    "Hello, %s!".into(),
                    strings(&["Valentina", "Ander", "Olivia", "Sam"])
                ]
            ),
            Ok(strings(&[
                "Hello, Valentina!",
                "Hello, Ander!",
                "Hello, Olivia!",
                "Hello, Sam!"
            ]))
        );
        assert_eq!(
            run(
                "formatlist",
                vec![
                    "%s, %s!".into(),
                    "Salutations".into(),
                    strings(&["Valentina", "Ander"])
                ]
            ),
            Ok(strings(&["Salutations, Valentina!", "Salutations, Ander!"]))
        );
    }

    #[test]
    fn go_verbs() {
        assert_eq!(
            formatted("%s-%03d", vec!["gpu".into(), 7.into()]),
            "gpu-007"
        );
        assert_eq!(formatted("%.2f%%", vec![num(1.5)]), "1.50%");
        assert_eq!(
            formatted("%-4s|%q", vec!["a".into(), "b<".into()]),
            "a   |\"b\\u003c\""
        );
        assert_eq!(formatted("%v", vec![strings(&["x"])]), "[\"x\"]");
        assert_eq!(formatted("%#v", vec!["x".into()]), "\"x\"");
        assert_eq!(
            formatted(
                "%v %v %v",
                vec![true.into(), Value::Null, object(&[("a", 1.into())])]
            ),
            "true null {\"a\":1}"
        );
        assert_eq!(formatted("%v", vec![1234567.into()]), "1.234567e+06");
        assert_eq!(formatted("%v", vec![123456.into()]), "123456");
        assert_eq!(formatted("%v", vec![num(0.00001)]), "1e-05");
        assert_eq!(formatted("%v", vec![num(0.0001)]), "0.0001");
        assert_eq!(
            formatted("%e|%E", vec![num(-1234.5678), 0.into()]),
            "-1.234568e+03|0.000000E+00"
        );
        assert_eq!(
            formatted("%g|%.3g|%G", vec![num(1e21), 1.into(), num(1e-7)]),
            "1e+21|1|1E-07"
        );
        assert_eq!(
            formatted("%.3g|%.2g", vec![num(1234.5), num(0.000123)]),
            "1.23e+03|0.00012"
        );
        assert_eq!(
            formatted(
                "%f|%.0f|%+.1f|% .1f",
                vec![num(2.5), num(2.5), num(1.25), num(1.0)]
            ),
            "2.500000|2|+1.2| 1.0"
        );
        assert_eq!(
            formatted("%08.3f|%-8.3f|", vec![num(-12.34567), num(12.34567)]),
            "-012.346|12.346  |"
        );
        assert_eq!(
            formatted(
                "%b %o %x %X %#x %#o",
                vec![
                    5.into(),
                    8.into(),
                    255.into(),
                    255.into(),
                    255.into(),
                    8.into()
                ]
            ),
            "101 10 ff FF 0xff 010"
        );
        assert_eq!(
            formatted(
                "%+d|% d|%.3d|%6.3d|%-6d|%.0d",
                vec![
                    5.into(),
                    5.into(),
                    7.into(),
                    (-7).into(),
                    3.into(),
                    0.into()
                ]
            ),
            "+5| 5|007|  -007|3     |"
        );
        assert_eq!(formatted("%d", vec!["12".into()]), "12");
        assert_eq!(
            formatted("%t %t", vec![true.into(), "false".into()]),
            "true false"
        );
        assert_eq!(formatted("%s %s", vec![1.into(), true.into()]), "1 true");
        assert_eq!(
            formatted(
                "%.3s|%5s|%05s",
                vec!["abcdef".into(), "é".into(), "x".into()]
            ),
            "abc|    é|0000x"
        );
        assert_eq!(
            formatted("%[2]s %[1]s %s", vec!["a".into(), "b".into()]),
            "b a b"
        );
        assert_eq!(formatted("%s %[1]s", vec!["a".into()]), "a a");
    }

    #[test]
    fn errors() {
        let error = |spec: &str, args: Vec<Value>| format(spec, &args).expect_err(spec);
        assert_eq!(
            error("%s %s", vec!["a".into()]),
            "not enough arguments for `%s` at 3: need index 2 but have 1 total"
        );
        assert_eq!(
            error("%s", vec!["a".into(), "b".into()]),
            "too many arguments; no verbs left for argument 2"
        );
        assert_eq!(
            error("%d", vec![num(1.5)]),
            "unsupported value for `%d` at 0: an integer is required"
        );
        assert_eq!(
            error("%s", vec![Value::Null]),
            "unsupported value for `%s` at 0: null value cannot be formatted"
        );
        assert!(error("%s", vec![strings(&["a"])]).starts_with("unsupported value for `%s`"));
        assert!(error("%d", vec!["x".into()]).starts_with("unsupported value for `%d`"));
        assert_eq!(
            error("%z", vec![1.into()]),
            "unsupported format verb `z` in `%z` at offset 0"
        );
        assert_eq!(
            error("abc %", vec![]),
            "the format ends in the middle of a verb"
        );
        assert!(error("%999999999d", vec![1.into()]).contains("16 MiB"));
    }

    #[test]
    fn formatlist_details() {
        assert_eq!(
            run(
                "formatlist",
                vec!["%s=%s".into(), strings(&["a", "b"]), strings(&["1"])]
            ),
            Err(
                "argument 3 has length 1, which is inconsistent with argument 2 of length 2"
                    .to_owned()
            )
        );
        assert_eq!(run("formatlist", vec!["x".into()]), Ok(strings(&["x"])));
        assert_eq!(
            run("formatlist", vec!["%s".into(), Value::List(vec![])]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run(
                "formatlist",
                vec!["%s".into(), Value::List(vec!["a".into(), Value::Unknown])]
            ),
            Ok(Value::List(vec!["a".into(), Value::Unknown]))
        );
        assert_eq!(
            run("formatlist", vec!["%s".into(), Value::Unknown]),
            Ok(Value::Unknown)
        );
        assert!(
            run("formatlist", vec!["%d".into(), strings(&["x"])])
                .expect_err("not a number")
                .starts_with("error on format iteration 0: ")
        );
        let many = Value::List(vec![Value::from("x".repeat(1 << 10)); 1 << 15]);
        assert!(run("formatlist", vec!["%s%s".into(), many.clone(), many]).is_err());
    }
}
