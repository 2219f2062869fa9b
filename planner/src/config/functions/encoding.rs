//! Encoding functions: `base64decode base64encode base64gzip csvdecode jsondecode jsonencode
//! textdecodebase64 textencodebase64 urlencode`. JSON is written as Go's encoder writes it
//! (keys sorted, `<>&` and U+2028/U+2029 escaped, numbers without exponent), CSV read as Go's
//! `encoding/csv` reads RFC 4180.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use engine::value::Value;

use super::{
    MAX_VALUE_BYTES, MAX_VALUE_ELEMENTS, gzip, room_for, room_for_elements, string, too_long,
};

/// Go's `base64.StdEncoding`: padded, and lenient about the unused bits of the last symbol.
const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

pub(super) fn base64_encode(bytes: &[u8]) -> Result<String, String> {
    room_for(bytes.len().div_ceil(3).saturating_mul(4))?;
    Ok(STANDARD.encode(bytes))
}

/// Decodes Go-style base64 (line breaks in the input are skipped, as Go skips them).
pub(super) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    STANDARD.decode(cleaned.as_bytes()).map_err(|error| {
        let offset = match error {
            base64::DecodeError::InvalidByte(offset, _)
            | base64::DecodeError::InvalidLastSymbol(offset, _) => offset,
            _ => cleaned.len(),
        };
        format!("failed to decode base64 data: illegal base64 data at input byte {offset}")
    })
}

pub(super) fn base64decode(args: &[Value], _: &Path) -> Result<Value, String> {
    let bytes = base64_decode(&string(&args[0], "str")?)?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the result of decoding the provided string is not valid UTF-8".to_owned())
}

pub(super) fn base64encode(args: &[Value], _: &Path) -> Result<Value, String> {
    base64_encode(string(&args[0], "str")?.as_bytes()).map(Value::String)
}

pub(super) fn base64gzip(args: &[Value], _: &Path) -> Result<Value, String> {
    base64_encode(&gzip::compress(string(&args[0], "str")?.as_bytes())).map(Value::String)
}

/// Appends `text` as a JSON string, escaped as Go's `encoding/json` escapes it.
fn push_json_string(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", character as u32));
            }
            control if (control as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", control as u32));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// `text` as a JSON string literal.
pub(super) fn json_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_json_string(text, &mut out);
    out
}

/// Terraform's `jsonencode` of a known value; refuses before growing past [`MAX_VALUE_BYTES`].
pub(super) fn json_encode(value: &Value) -> Result<String, String> {
    fn write(value: &Value, out: &mut String) -> Result<(), String> {
        if out.len() > MAX_VALUE_BYTES {
            return Err(too_long());
        }
        match value {
            Value::Null | Value::Unknown => out.push_str("null"),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Number(number) if !number.0.is_finite() => {
                return Err("cannot encode an infinite number as JSON".to_owned());
            }
            Value::Number(number) => out.push_str(&number.to_string()),
            Value::String(text) => {
                room_for(out.len().saturating_add(text.len()))?;
                push_json_string(text, out);
            }
            Value::List(items) => {
                out.push('[');
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    write(item, out)?;
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (position, (key, item)) in entries.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    push_json_string(key, out);
                    out.push(':');
                    write(item, out)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }
    let mut out = String::new();
    write(value, &mut out)?;
    room_for(out.len())?;
    Ok(out)
}

pub(super) fn jsonencode(args: &[Value], _: &Path) -> Result<Value, String> {
    json_encode(&args[0]).map(Value::String)
}

/// An upper bound on the values a JSON text holds: its structural characters outside strings.
fn json_elements(text: &str) -> usize {
    let (mut count, mut in_string, mut escaped) = (1usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b',' | b'[' | b'{' | b':' => count += 1,
                _ => {}
            }
        }
    }
    count
}

pub(super) fn jsondecode(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    room_for_elements(json_elements(&text))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map(|json| Value::from_json(&json))
        .map_err(|error| format!("the string is not valid JSON: {error}"))
}

/// Reads RFC 4180 CSV as Go's `encoding/csv` does (no lazy quotes, `\r\n` or `\n` line ends,
/// blank lines skipped).
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut characters = text.chars().peekable();
    let mut line = 1usize;
    let mut fields = 0usize;
    loop {
        // Skip blank lines.
        while let Some(&next) = characters.peek() {
            if next == '\n' {
                characters.next();
                line += 1;
            } else if next == '\r' {
                characters.next();
                if characters.peek() == Some(&'\n') {
                    characters.next();
                }
                line += 1;
            } else {
                break;
            }
        }
        if characters.peek().is_none() {
            break;
        }
        let mut record = Vec::new();
        loop {
            let mut field = String::new();
            if characters.peek() == Some(&'"') {
                characters.next();
                loop {
                    match characters.next() {
                        None => {
                            return Err(format!(
                                "parse error on line {line}: extraneous or missing \" in quoted-field"
                            ));
                        }
                        Some('"') if characters.peek() == Some(&'"') => {
                            characters.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some('\r') if characters.peek() == Some(&'\n') => {}
                        Some(other) => {
                            if other == '\n' {
                                line += 1;
                            }
                            field.push(other);
                        }
                    }
                }
                match characters.peek() {
                    None | Some(',') | Some('\n') => {}
                    Some('\r') => {}
                    Some(_) => {
                        return Err(format!(
                            "parse error on line {line}: extraneous or missing \" in quoted-field"
                        ));
                    }
                }
            } else {
                while let Some(&next) = characters.peek() {
                    match next {
                        ',' | '\n' => break,
                        '\r' => {
                            let mut ahead = characters.clone();
                            ahead.next();
                            if matches!(ahead.peek(), None | Some('\n')) {
                                break;
                            }
                            field.push('\r');
                            characters.next();
                        }
                        '"' => {
                            return Err(format!(
                                "parse error on line {line}: bare \" in non-quoted-field"
                            ));
                        }
                        other => {
                            field.push(other);
                            characters.next();
                        }
                    }
                }
            }
            fields += 1;
            room_for_elements(fields)?;
            record.push(field);
            match characters.next() {
                Some(',') => continue,
                Some('\r') => {
                    if characters.peek() == Some(&'\n') {
                        characters.next();
                    }
                    line += 1;
                    break;
                }
                Some('\n') => {
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push(record);
    }
    Ok(records)
}

pub(super) fn csvdecode(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    let mut records = csv_records(&text)?.into_iter();
    let header = records.next().ok_or("missing header line")?;
    let mut rows = Vec::new();
    for (position, record) in records.enumerate() {
        if record.len() != header.len() {
            return Err(format!(
                "record on line {}: wrong number of fields",
                position + 2
            ));
        }
        rows.push(Value::Map(
            header
                .iter()
                .cloned()
                .zip(record.into_iter().map(Value::String))
                .collect::<BTreeMap<_, _>>(),
        ));
    }
    if rows.len().saturating_mul(header.len() + 1) > MAX_VALUE_ELEMENTS {
        return Err(super::too_many());
    }
    Ok(Value::List(rows))
}

pub(super) fn urlencode(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "str")?;
    room_for(text.len().saturating_mul(3))?;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::String(out))
}

/// The character encodings `textencodebase64` and `textdecodebase64` support, by IANA name
/// or alias (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Charset {
    Utf8,
    Utf16Bom,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
    Latin1,
    Windows1252,
    Ascii,
}

fn charset(name: &str) -> Result<Charset, String> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "utf-8" | "utf8" | "csutf8" => Charset::Utf8,
        "utf-16" | "csutf16" => Charset::Utf16Bom,
        "utf-16le" | "csutf16le" => Charset::Utf16Le,
        "utf-16be" | "csutf16be" => Charset::Utf16Be,
        "utf-32le" | "csutf32le" => Charset::Utf32Le,
        "utf-32be" | "csutf32be" => Charset::Utf32Be,
        "iso-8859-1" | "iso_8859-1:1987" | "iso-ir-100" | "iso_8859-1" | "latin1" | "l1"
        | "ibm819" | "cp819" | "csisolatin1" => Charset::Latin1,
        "windows-1252" | "cswindows1252" => Charset::Windows1252,
        "us-ascii" | "iso-ir-6" | "ansi_x3.4-1968" | "ansi_x3.4-1986" | "iso_646.irv:1991"
        | "iso646-us" | "us" | "ibm367" | "cp367" | "csascii" => Charset::Ascii,
        _ => {
            return Err(format!(
                "\"{name}\" is not a supported IANA encoding name or alias in this Terraform version"
            ));
        }
    })
}

/// Windows-1252's 0x80..0x9F (undefined bytes map to the C1 controls, as WHATWG does).
const WINDOWS_1252_HIGH: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
];

fn encode_text(text: &str, charset: Charset, name: &str) -> Result<Vec<u8>, String> {
    let unrepresentable =
        || format!("the given string contains characters that cannot be represented in {name}");
    let mut out = Vec::with_capacity(text.len());
    match charset {
        Charset::Utf8 => out.extend_from_slice(text.as_bytes()),
        Charset::Utf16Bom | Charset::Utf16Be | Charset::Utf16Le => {
            if charset == Charset::Utf16Bom {
                out.extend_from_slice(&[0xFE, 0xFF]);
            }
            for unit in text.encode_utf16() {
                let bytes = if charset == Charset::Utf16Le {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                };
                out.extend_from_slice(&bytes);
            }
        }
        Charset::Utf32Le | Charset::Utf32Be => {
            for character in text.chars() {
                let code = character as u32;
                out.extend_from_slice(&if charset == Charset::Utf32Le {
                    code.to_le_bytes()
                } else {
                    code.to_be_bytes()
                });
            }
        }
        Charset::Latin1 | Charset::Ascii | Charset::Windows1252 => {
            for character in text.chars() {
                let code = character as u32;
                let byte = match charset {
                    Charset::Ascii if code < 0x80 => Some(code as u8),
                    Charset::Latin1 if code < 0x100 => Some(code as u8),
                    Charset::Windows1252 if code < 0x80 || (0xA0..0x100).contains(&code) => {
                        Some(code as u8)
                    }
                    Charset::Windows1252 => WINDOWS_1252_HIGH
                        .iter()
                        .position(|mapped| *mapped == code)
                        .map(|position| 0x80 + position as u8),
                    _ => None,
                };
                out.push(byte.ok_or_else(unrepresentable)?);
            }
        }
    }
    Ok(out)
}

fn decode_text(bytes: &[u8], charset: Charset, name: &str) -> Result<String, String> {
    let invalid = || format!("the given value is not valid {name}");
    match charset {
        Charset::Utf8 => String::from_utf8(bytes.to_vec()).map_err(|_| invalid()),
        Charset::Utf16Bom | Charset::Utf16Be | Charset::Utf16Le => {
            let (mut body, mut little) = (bytes, charset == Charset::Utf16Le);
            if charset == Charset::Utf16Bom {
                if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
                    (body, little) = (rest, true);
                } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
                    body = rest;
                }
            }
            let units = body.chunks(2).map(|pair| match pair {
                [a, b] if little => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            Ok(char::decode_utf16(units)
                .map(|unit| unit.unwrap_or('\u{FFFD}'))
                .collect())
        }
        Charset::Utf32Le | Charset::Utf32Be => Ok(bytes
            .chunks(4)
            .map(|quad| match quad {
                [a, b, c, d] if charset == Charset::Utf32Le => u32::from_le_bytes([*a, *b, *c, *d]),
                [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
                _ => 0xFFFD,
            })
            .map(|code| char::from_u32(code).unwrap_or('\u{FFFD}'))
            .collect()),
        Charset::Latin1 => Ok(bytes.iter().map(|byte| char::from(*byte)).collect()),
        Charset::Ascii => Ok(bytes
            .iter()
            .map(|byte| {
                if *byte < 0x80 {
                    char::from(*byte)
                } else {
                    '\u{FFFD}'
                }
            })
            .collect()),
        Charset::Windows1252 => Ok(bytes
            .iter()
            .map(|byte| match byte {
                0x80..=0x9F => char::from_u32(WINDOWS_1252_HIGH[usize::from(byte - 0x80)])
                    .unwrap_or('\u{FFFD}'),
                other => char::from(*other),
            })
            .collect()),
    }
}

pub(super) fn textencodebase64(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, name) = (string(&args[0], "string")?, string(&args[1], "encoding")?);
    let charset = charset(&name)?;
    room_for(text.len().saturating_mul(4).div_ceil(3).saturating_mul(4))?;
    base64_encode(&encode_text(&text, charset, &name)?).map(Value::String)
}

pub(super) fn textdecodebase64(args: &[Value], _: &Path) -> Result<Value, String> {
    let (text, name) = (string(&args[0], "source")?, string(&args[1], "encoding")?);
    let charset = charset(&name)?;
    let bytes = base64_decode(&text)?;
    decode_text(&bytes, charset, &name).map(Value::String)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn documented_examples() {
        assert_eq!(
            run("base64decode", vec!["SGVsbG8gV29ybGQ=".into()]),
            Ok("Hello World".into())
        );
        assert_eq!(
            run("base64encode", vec!["Hello World".into()]),
            Ok("SGVsbG8gV29ybGQ=".into())
        );
        assert_eq!(
            run("csvdecode", vec!["a,b,c\n1,2,3\n4,5,6".into()]),
            Ok(Value::List(vec![
                object(&[("a", "1".into()), ("b", "2".into()), ("c", "3".into())]),
                object(&[("a", "4".into()), ("b", "5".into()), ("c", "6".into())]),
            ]))
        );
        assert_eq!(
            run("jsondecode", vec!["{\"hello\": \"world\"}".into()]),
            Ok(object(&[("hello", "world".into())]))
        );
        assert_eq!(run("jsondecode", vec!["true".into()]), Ok(true.into()));
        assert_eq!(
            run("jsonencode", vec![object(&[("hello", "world".into())])]),
            Ok("{\"hello\":\"world\"}".into())
        );
        assert_eq!(
            run(
                "textencodebase64",
                vec!["Hello World".into(), "UTF-16LE".into()]
            ),
            Ok("SABlAGwAbABvACAAVwBvAHIAbABkAA==".into())
        );
        assert_eq!(
            run(
                "textdecodebase64",
                vec!["SABlAGwAbABvACAAVwBvAHIAbABkAA==".into(), "UTF-16LE".into()]
            ),
            Ok("Hello World".into())
        );
        assert_eq!(
            run("urlencode", vec!["Hello World!".into()]),
            Ok("Hello+World%21".into())
        );
        assert_eq!(run("urlencode", vec!["☃".into()]), Ok("%E2%98%83".into()));
        assert_eq!(
            run(
                "urlencode",
                vec!["foo:bar@localhost?foo=bar&bar=baz".into()]
            ),
            Ok("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz".into())
        );
    }

    #[test]
    fn base64_details() {
        assert_eq!(
            run("base64decode", vec!["SGVs\nbG8=".into()]),
            Ok("Hello".into())
        );
        assert_eq!(
            run("base64decode", vec!["SGVsbG8".into()]),
            Err("failed to decode base64 data: illegal base64 data at input byte 7".to_owned())
        );
        assert_eq!(
            run("base64decode", vec!["/w==".into()]),
            Err("the result of decoding the provided string is not valid UTF-8".to_owned())
        );
        assert_eq!(run("base64encode", vec![12.into()]), Ok("MTI=".into()));
        let gzipped = run("base64gzip", vec!["test".into()]).expect("gzip");
        let bytes = base64_decode(gzipped.as_str().expect("string")).expect("base64");
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(
            gzip::inflate_for_tests(&bytes[10..bytes.len() - 8]),
            b"test".to_vec()
        );
    }

    #[test]
    fn json_details() {
        let value = object(&[
            (
                "b",
                Value::List(vec![num(1.5), Value::Null, true.into(), num(1e20)]),
            ),
            ("a", "<&>\u{2028}\"\\\n\t\u{1}\u{7f}é".into()),
        ]);
        assert_eq!(
            run("jsonencode", vec![value]),
            Ok(r#"{"a":"\u003c\u0026\u003e\u2028\"\\\n\t\u0001é","b":[1.5,null,true,100000000000000000000]}"#.into())
        );
        assert_eq!(run("jsonencode", vec![strings(&[])]), Ok("[]".into()));
        assert_eq!(run("jsonencode", vec![Value::Null]), Ok("null".into()));
        assert!(
            run("jsondecode", vec!["{".into()])
                .expect_err("bad")
                .starts_with("the string is not valid JSON")
        );
        assert_eq!(
            run("jsondecode", vec!["[1, 2.5, null]".into()]),
            Ok(Value::List(vec![1.into(), num(2.5), Value::Null]))
        );
        let wide = format!("[{}0]", "0,".repeat(MAX_VALUE_ELEMENTS));
        assert!(run("jsondecode", vec![wide.into()]).is_err());
        assert_eq!(json_elements("{\"a,b\": [1, 2]}"), 5);
    }

    #[test]
    fn csv_details() {
        assert_eq!(
            run(
                "csvdecode",
                vec!["name,note\r\n\"Doe, J\",\"say \"\"hi\"\"\nthen\"\r\n\nx,\r\n".into()]
            ),
            Ok(Value::List(vec![
                object(&[
                    ("name", "Doe, J".into()),
                    ("note", "say \"hi\"\nthen".into())
                ]),
                object(&[("name", "x".into()), ("note", "".into())]),
            ]))
        );
        assert_eq!(
            run("csvdecode", vec!["a,b\n".into()]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run("csvdecode", vec!["".into()]),
            Err("missing header line".to_owned())
        );
        assert_eq!(
            run("csvdecode", vec!["a,b\n1\n".into()]),
            Err("record on line 2: wrong number of fields".to_owned())
        );
        assert_eq!(
            run("csvdecode", vec!["a\nx\"y\n".into()]),
            Err("parse error on line 2: bare \" in non-quoted-field".to_owned())
        );
        assert_eq!(
            run("csvdecode", vec!["a\n\"x\"y\n".into()]),
            Err("parse error on line 2: extraneous or missing \" in quoted-field".to_owned())
        );
    }

    #[test]
    fn text_encodings() {
        let encode =
            |text: &str, name: &str| run("textencodebase64", vec![text.into(), name.into()]);
        assert_eq!(encode("é", "utf-8"), Ok("w6k=".into()));
        assert_eq!(encode("é", "ISO-8859-1"), Ok("6Q==".into()));
        assert_eq!(encode("€", "windows-1252"), Ok("gA==".into()));
        assert_eq!(encode("a", "UTF-16"), Ok("/v8AYQ==".into()));
        assert_eq!(encode("a", "UTF-16BE"), Ok("AGE=".into()));
        assert_eq!(
            encode("é", "US-ASCII"),
            Err(
                "the given string contains characters that cannot be represented in US-ASCII"
                    .to_owned()
            )
        );
        assert_eq!(
            encode("a", "EBCDIC-X"),
            Err("\"EBCDIC-X\" is not a supported IANA encoding name or alias in this Terraform version".to_owned())
        );
        let decode =
            |text: &str, name: &str| run("textdecodebase64", vec![text.into(), name.into()]);
        assert_eq!(decode("/v8AYQ==", "UTF-16"), Ok("a".into()));
        assert_eq!(decode("//5hAA==", "UTF-16"), Ok("a".into()));
        assert_eq!(decode("gA==", "windows-1252"), Ok("€".into()));
        assert_eq!(decode("6Q==", "latin1"), Ok("é".into()));
        assert_eq!(
            decode("/w==", "UTF-8"),
            Err("the given value is not valid UTF-8".to_owned())
        );
    }
}
