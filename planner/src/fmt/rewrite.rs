//! The token rewrites `terraform fmt` makes on top of hclwrite's layout, found by walking the
//! bodies of the file (blocks and their attributes; object constructors are not bodies):
//!
//! | what                                   | before                        | after              |
//! |----------------------------------------|-------------------------------|--------------------|
//! | every block's labels, quoted           | `resource aws_x /* c */ "y" {` | `resource "aws_x" "y" {` |
//! | a label that is not one plain literal  | `b "a${x}" "a$b" "c" {`         | `b "c" {`           |
//! | an attribute that is one interpolation | `a = "${var.x}"`               | `a = var.x`        |
//! | … spread over lines                    | `a = "${x ?\n1 : 2}"`          | `a = (x ?\n1 : 2)`  |
//! | a root `variable` block's `type`       | `type = "string"`, `"list"`, `"map"` | `string`, `list(string)`, `map(string)` |
//! | … a bare collection keyword            | `type = list`, `map`, `set`     | `list(any)`, `map(any)`, `set(any)` |
//!
//! Labels are re-escaped as Terraform writes strings (`\n`, `\t`, `\"`, `\\`, `$${`, `%%{`,
//! `\uXXXX` for characters that are not printable); comments between a block's type and its last
//! label are dropped with the old labels. Attributes inside object constructors (`{ a = "${x}" }`)
//! and every other expression keep their tokens. No layout here: new tokens get no blank.

use super::lex::{Kind, Token};
use super::parse::{Body, Item, unescape};

/// Applies every rewrite to the tokens of a file whose structure is `body`.
pub(crate) fn rewrite<'a>(tokens: Vec<Token<'a>>, body: &Body) -> Vec<Token<'a>> {
    let mut edits = Vec::new();
    collect_edits(&tokens, body, &mut Vec::new(), &mut edits);
    edits.sort_by_key(|edit| edit.range.start);
    let mut rewritten = Vec::with_capacity(tokens.len());
    let mut tokens = tokens.into_iter().enumerate().peekable();
    for edit in edits {
        while let Some((_, token)) = tokens.next_if(|(index, _)| *index < edit.range.start) {
            rewritten.push(token);
        }
        while tokens
            .next_if(|(index, _)| *index < edit.range.end)
            .is_some()
        {}
        rewritten.extend(edit.replacement);
    }
    rewritten.extend(tokens.map(|(_, token)| token));
    rewritten
}

/// Replaces the tokens in `range`.
struct Edit<'a> {
    range: std::ops::Range<usize>,
    replacement: Vec<Token<'a>>,
}

/// `blocks`: the types of the enclosing blocks, outermost first.
fn collect_edits<'a>(
    tokens: &[Token<'a>],
    body: &Body,
    blocks: &mut Vec<String>,
    edits: &mut Vec<Edit<'a>>,
) {
    for item in &body.items {
        match item {
            Item::Attribute { name, value } => {
                let expression = &tokens[value.clone()];
                let replacement = if *blocks == ["variable"] && tokens[*name].text == "type" {
                    legacy_type(expression)
                } else {
                    unwrapped_interpolation(expression)
                };
                if let Some(replacement) = replacement {
                    edits.push(Edit {
                        range: value.clone(),
                        replacement,
                    });
                }
            }
            Item::Block {
                type_name,
                labels,
                body,
            } => {
                if let Some(last) = labels.last() {
                    let start = tokens[type_name + 1].start;
                    let replacement = labels
                        .iter()
                        .filter_map(|label| label_value(&tokens[label.clone()]))
                        .flat_map(|label| {
                            [
                                Token::made(Kind::OQuote, "\"", start),
                                Token::made(Kind::QuotedLit, escape_string(&label), start),
                                Token::made(Kind::CQuote, "\"", start),
                            ]
                        })
                        .collect();
                    edits.push(Edit {
                        range: type_name + 1..last.end,
                        replacement,
                    });
                }
                blocks.push(tokens[*type_name].text.to_string());
                collect_edits(tokens, body, blocks, edits);
                blocks.pop();
            }
        }
    }
}

/// A label's value, `None` when Terraform drops it: a quoted label that is not exactly one
/// literal token (`$` and `%` split literals in HCL's scanner).
fn label_value(label: &[Token<'_>]) -> Option<String> {
    match label {
        [ident] => Some(ident.text.to_string()),
        [_, _] => Some(String::new()),
        [_, literal, _] => unescape(&literal.text),
        _ => None,
    }
}

/// `"${expression}"` alone → `expression`, in parentheses when it spans lines (unless it
/// already is one parenthesized expression). `None` when the value is anything else, including
/// a template with literal text or a second sequence.
fn unwrapped_interpolation<'a>(expression: &[Token<'a>]) -> Option<Vec<Token<'a>>> {
    let kinds: Vec<Kind> = expression.iter().map(|token| token.kind).collect();
    let [
        Kind::OQuote,
        Kind::TemplateInterp,
        ..,
        Kind::TemplateSeqEnd,
        Kind::CQuote,
    ] = kinds[..]
    else {
        return None;
    };
    if kinds.len() < 5 {
        return None;
    }
    let inside = &expression[2..expression.len() - 2];
    let mut quotes = 0;
    for token in inside {
        match token.kind {
            Kind::OQuote => quotes += 1,
            Kind::CQuote => quotes -= 1,
            // Sequences inside a nested string belong to a nested expression.
            _ if quotes > 0 => {}
            Kind::TemplateInterp | Kind::TemplateSeqEnd | Kind::QuotedLit => return None,
            _ => {}
        }
    }
    let first = inside
        .iter()
        .position(|token| token.kind != Kind::Newline)?;
    let last = inside
        .iter()
        .rposition(|token| token.kind != Kind::Newline)?;
    let trimmed = &inside[first..=last];
    let spans_lines = trimmed.iter().any(|token| token.kind == Kind::Newline);
    let parenthesized = trimmed
        .first()
        .is_some_and(|token| token.kind == Kind::OParen)
        && trimmed.len() > 1
        && trimmed
            .last()
            .is_some_and(|token| token.kind == Kind::CParen);
    let start = expression[0].start;
    let mut replacement = Vec::with_capacity(trimmed.len() + 2);
    let wrap = spans_lines && !parenthesized;
    if wrap {
        replacement.push(Token::made(Kind::OParen, "(", start));
    }
    replacement.extend_from_slice(trimmed);
    if wrap {
        replacement.push(Token::made(Kind::CParen, ")", start));
    }
    Some(replacement)
}

/// Terraform 0.11's quoted type names and bare collection keywords, as Terraform 0.12+ writes
/// them.
fn legacy_type<'a>(expression: &[Token<'a>]) -> Option<Vec<Token<'a>>> {
    let start = expression.first()?.start;
    let ident = |text: &'static str| Token::made(Kind::Ident, text, start);
    let collection = |keyword: &'static str, element: &'static str| {
        vec![
            ident(keyword),
            Token::made(Kind::OParen, "(", start),
            ident(element),
            Token::made(Kind::CParen, ")", start),
        ]
    };
    match expression {
        [keyword] if keyword.kind == Kind::Ident => match &*keyword.text {
            "list" => Some(collection("list", "any")),
            "map" => Some(collection("map", "any")),
            "set" => Some(collection("set", "any")),
            _ => None,
        },
        [open, name, close]
            if open.kind == Kind::OQuote
                && name.kind == Kind::QuotedLit
                && close.kind == Kind::CQuote =>
        {
            match &*name.text {
                "string" => Some(vec![ident("string")]),
                "list" => Some(collection("list", "string")),
                "map" => Some(collection("map", "string")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A string's text inside quotes, as Terraform writes a string value.
fn escape_string(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let mut characters = value.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '$' | '%' => {
                escaped.push(character);
                if characters.peek() == Some(&'{') {
                    escaped.push(character);
                }
            }
            _ if !is_printable(character) => {
                let code = u32::from(character);
                if code < 0x10000 {
                    escaped.push_str(&format!("\\u{code:04x}"));
                } else {
                    escaped.push_str(&format!("\\U{code:08x}"));
                }
            }
            _ => escaped.push(character),
        }
    }
    escaped
}

/// Go's `unicode.IsPrint`, approximately: letters, marks, numbers, punctuation, symbols and the
/// ASCII space; not controls, other spaces, format characters or private use.
fn is_printable(character: char) -> bool {
    const NOT_PRINTABLE: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0378, 0x0379),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0xD800, 0xF8FF),
        (0xFEFF, 0xFEFF),
        (0xFFF0, 0xFFFB),
        (0xFFFE, 0xFFFF),
        (0x110BD, 0x110BD),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
        (0xF0000, 0x10FFFF),
    ];
    if character == ' ' {
        return true;
    }
    if character.is_control() || character.is_whitespace() {
        return false;
    }
    let code = u32::from(character);
    !NOT_PRINTABLE
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_escaping() {
        for literal in [
            r"a",
            r#"\\ \""#,
            r"\n\r\t",
            "$${",
            "é",
            r"\u00a0",
            r"\U0001f600",
        ] {
            let value = unescape(literal).expect("valid literal");
            let expected = if literal == r"\U0001f600" {
                "😀"
            } else {
                literal
            };
            assert_eq!(escape_string(&value), expected, "{literal}");
        }
        assert_eq!(unescape(r"\u0041"), Some("A".to_owned()));
        assert_eq!(unescape(r"\q"), None);
    }

    #[test]
    fn printable_as_go_sees_it() {
        assert!(is_printable('é'));
        assert!(is_printable('😀'));
        assert!(!is_printable('\u{a0}'));
        assert!(!is_printable('\u{200b}'));
        assert!(!is_printable('\u{3000}'));
        assert!(!is_printable('\u{e000}'));
        assert!(!is_printable('\u{7}'));
    }
}
