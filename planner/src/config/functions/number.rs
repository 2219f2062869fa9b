//! Numeric functions: `abs ceil floor log max min parseint pow signum sum`. Numbers are `f64`
//! (Terraform's are arbitrary precision; the difference shows only past 2^53).

use std::path::Path;

use engine::value::{Number, Value};

use super::{kind_of, number, whole_number};

fn numeric(value: f64) -> Value {
    Value::Number(Number(value))
}

pub(super) fn abs(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(numeric(number(&args[0], "num")?.abs()))
}

pub(super) fn ceil(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(numeric(number(&args[0], "num")?.ceil()))
}

pub(super) fn floor(args: &[Value], _: &Path) -> Result<Value, String> {
    Ok(numeric(number(&args[0], "num")?.floor()))
}

pub(super) fn log(args: &[Value], _: &Path) -> Result<Value, String> {
    let (value, base) = (number(&args[0], "num")?, number(&args[1], "base")?);
    Ok(numeric(value.ln() / base.ln()))
}

pub(super) fn pow(args: &[Value], _: &Path) -> Result<Value, String> {
    let (base, exponent) = (number(&args[0], "num")?, number(&args[1], "power")?);
    Ok(numeric(base.powf(exponent)))
}

pub(super) fn signum(args: &[Value], _: &Path) -> Result<Value, String> {
    let value = number(&args[0], "num")?;
    Ok(numeric(if value > 0.0 {
        1.0
    } else if value < 0.0 {
        -1.0
    } else {
        0.0
    }))
}

fn numbers(args: &[Value]) -> Result<Vec<f64>, String> {
    args.iter().map(|value| number(value, "numbers")).collect()
}

pub(super) fn max(args: &[Value], _: &Path) -> Result<Value, String> {
    let values = numbers(args)?;
    Ok(numeric(
        values.into_iter().fold(f64::NEG_INFINITY, f64::max),
    ))
}

pub(super) fn min(args: &[Value], _: &Path) -> Result<Value, String> {
    let values = numbers(args)?;
    Ok(numeric(values.into_iter().fold(f64::INFINITY, f64::min)))
}

pub(super) fn sum(args: &[Value], _: &Path) -> Result<Value, String> {
    let items = match &args[0] {
        Value::List(items) => items,
        Value::Map(_) => return Err("cannot sum noniterable".to_owned()),
        other => {
            return Err(format!(
                "argument must be list, set, or tuple, not a {}",
                kind_of(other)
            ));
        }
    };
    if items.is_empty() {
        return Err("cannot sum an empty list".to_owned());
    }
    let mut total = 0.0;
    for item in items {
        let value = match item {
            Value::Null => None,
            other => number(other, "list").ok(),
        }
        .ok_or("argument must be list, set, or tuple of number values")?;
        total += value;
    }
    if total.is_nan() {
        return Err("can't compute sum of opposing infinities".to_owned());
    }
    Ok(numeric(total))
}

/// Go's `big.Int.SetString` digits: `0-9a-z` then `A-Z` for bases over 36 (case-insensitive up
/// to 36).
fn digit_value(character: char, base: u32) -> Option<u32> {
    let value = match character {
        '0'..='9' => character as u32 - '0' as u32,
        'a'..='z' => character as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => character as u32 - 'A' as u32 + 10,
        'A'..='Z' => character as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (value < base).then_some(value)
}

pub(super) fn parseint(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = match &args[0] {
        Value::String(text) => text.clone(),
        other => {
            return Err(format!(
                "first argument must be a string, not {}",
                kind_of(other)
            ));
        }
    };
    let base = whole_number(&args[1], "base")?;
    if !(2..=62).contains(&base) {
        return Err("base must be a whole number between 2 and 62 inclusive".to_owned());
    }
    let base = base as u32;
    let invalid = || format!("cannot parse `{text}` as a base {base} integer");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut value = 0f64;
    for character in digits.chars() {
        let digit = digit_value(character, base).ok_or_else(invalid)?;
        value = value * f64::from(base) + f64::from(digit);
    }
    Ok(numeric(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, numbers as list_of, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(run("abs", vec![23.into()]), Ok(23.into()));
        assert_eq!(run("abs", vec![0.into()]), Ok(0.into()));
        assert_eq!(run("abs", vec![num(-12.4)]), Ok(num(12.4)));
        assert_eq!(run("ceil", vec![5.into()]), Ok(5.into()));
        assert_eq!(run("ceil", vec![num(5.1)]), Ok(6.into()));
        assert_eq!(run("floor", vec![num(4.9)]), Ok(4.into()));
        assert_eq!(
            run("log", vec![50.into(), 10.into()]),
            Ok(num(50f64.ln() / 10f64.ln()))
        );
        assert_eq!(run("log", vec![16.into(), 2.into()]), Ok(4.into()));
        assert_eq!(run("log", vec![1.into(), 0.into()]), Ok(num(-0.0)));
        assert_eq!(
            run("max", vec![12.into(), 54.into(), 3.into()]),
            Ok(54.into())
        );
        assert_eq!(
            run("min", vec![12.into(), 54.into(), 3.into()]),
            Ok(3.into())
        );
        assert_eq!(run("pow", vec![3.into(), 2.into()]), Ok(9.into()));
        assert_eq!(run("pow", vec![4.into(), 0.into()]), Ok(1.into()));
        assert_eq!(run("signum", vec![(-13).into()]), Ok((-1).into()));
        assert_eq!(run("signum", vec![0.into()]), Ok(0.into()));
        assert_eq!(run("signum", vec![344.into()]), Ok(1.into()));
        assert_eq!(
            run("sum", vec![list_of(&[10.0, 13.0, 6.0, 4.5])]),
            Ok(num(33.5))
        );
    }

    #[test]
    fn numbers_convert_from_strings() {
        assert_eq!(run("abs", vec!["-3".into()]), Ok(3.into()));
        assert_eq!(run("max", vec!["7".into(), 2.into()]), Ok(7.into()));
        assert_eq!(run("sum", vec![strings(&["1", "2"])]), Ok(3.into()));
        assert!(run("abs", vec!["x".into()]).is_err());
        assert!(run("max", vec![true.into()]).is_err());
    }

    #[test]
    fn sum_errors() {
        assert_eq!(
            run("sum", vec![Value::List(vec![])]),
            Err("cannot sum an empty list".to_owned())
        );
        assert_eq!(
            run("sum", vec![Value::List(vec![1.into(), Value::Null])]),
            Err("argument must be list, set, or tuple of number values".to_owned())
        );
        assert!(run("sum", vec![1.into()]).is_err());
    }

    #[test]
    fn parseint_follows_go() {
        assert_eq!(
            run("parseint", vec!["100".into(), 10.into()]),
            Ok(100.into())
        );
        assert_eq!(
            run("parseint", vec!["FF".into(), 16.into()]),
            Ok(255.into())
        );
        assert_eq!(
            run("parseint", vec!["-10".into(), 16.into()]),
            Ok((-16).into())
        );
        assert_eq!(
            run("parseint", vec!["1011111011101111".into(), 2.into()]),
            Ok(48879.into())
        );
        assert_eq!(
            run("parseint", vec!["aA".into(), 62.into()]),
            Ok(656.into())
        );
        assert_eq!(
            run("parseint", vec!["12".into(), 2.into()]),
            Err("cannot parse `12` as a base 2 integer".to_owned())
        );
        assert_eq!(
            run("parseint", vec!["1".into(), 1.into()]),
            Err("base must be a whole number between 2 and 62 inclusive".to_owned())
        );
        assert!(run("parseint", vec![10.into(), 10.into()]).is_err());
        assert!(run("parseint", vec!["".into(), 10.into()]).is_err());
    }
}
