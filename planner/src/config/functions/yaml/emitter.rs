//! The YAML writer of `yamlencode`: go-yaml's emitter, reduced to the events go-cty-yaml
//! produces (block collections, flow `[]`/`{}` when empty, plain, double-quoted and literal
//! scalars), with its indentation, folding and style rules.

use std::collections::BTreeMap;

use engine::value::Value;

use super::super::{MAX_VALUE_BYTES, too_long};

/// Where a node is emitted, which decides its indentation and scalar style.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Context {
    Root,
    SequenceItem,
    MappingValue,
    SimpleKey,
    ComplexKey,
}

/// go-yaml's emitter state, for the events yamlencode produces.
pub(super) struct Emitter {
    pub(super) out: String,
    column: usize,
    /// The indentation of the current collection (`-1` before the root).
    indent: isize,
    whitespace: bool,
    indention: bool,
    pub(super) open_ended: bool,
}

impl Default for Emitter {
    fn default() -> Self {
        Emitter {
            out: String::new(),
            column: 0,
            indent: -1,
            whitespace: true,
            indention: true,
            open_ended: false,
        }
    }
}

const BEST_INDENT: isize = 2;
const BEST_WIDTH: usize = 80;

/// go-yaml's `is_printable` (with Unicode output): no C0/C1 controls but `\n`, no BOM, nothing
/// outside the Basic Multilingual Plane.
fn printable(character: char) -> bool {
    matches!(character as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD)
        && character != '\u{FEFF}'
}

fn is_break(character: char) -> bool {
    matches!(character, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

impl Emitter {
    fn put(&mut self, character: char) {
        self.out.push(character);
        self.column += 1;
    }

    fn put_str(&mut self, text: &str) {
        for character in text.chars() {
            self.put(character);
        }
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    pub(super) fn write_indent(&mut self, indent: isize) {
        let indent = indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    pub(super) fn indicator(&mut self, text: &str, need_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(text);
        self.whitespace = false;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn check_room(&self) -> Result<(), String> {
        if self.out.len() > MAX_VALUE_BYTES {
            return Err(too_long());
        }
        Ok(())
    }

    pub(super) fn node(&mut self, value: &Value, context: Context) -> Result<(), String> {
        self.check_room()?;
        match value {
            Value::List(items) if items.is_empty() => self.empty("[", "]"),
            Value::Map(entries) if entries.is_empty() => self.empty("{", "}"),
            Value::List(items) => self.sequence(items, context)?,
            Value::Map(entries) => self.mapping(entries)?,
            Value::Unknown => return Err("cannot serialize unknown value as YAML".to_owned()),
            scalar => self.scalar(scalar, context),
        }
        Ok(())
    }

    fn empty(&mut self, open: &str, close: &str) {
        self.indicator(open, true, false);
        self.whitespace = true;
        self.indicator(close, false, false);
    }

    fn sequence(&mut self, items: &[Value], context: Context) -> Result<(), String> {
        let saved = self.indent;
        let indentless = context == Context::MappingValue && !self.indention;
        if self.indent < 0 {
            self.indent = 0;
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
        for item in items {
            self.write_indent(self.indent);
            self.indicator("-", true, true);
            self.node(item, Context::SequenceItem)?;
        }
        self.indent = saved;
        Ok(())
    }

    fn mapping(&mut self, entries: &BTreeMap<String, Value>) -> Result<(), String> {
        let saved = self.indent;
        self.indent = if self.indent < 0 {
            0
        } else {
            self.indent + BEST_INDENT
        };
        for (key, value) in entries {
            self.write_indent(self.indent);
            let simple = key.len() <= 128 && !key.chars().any(is_break);
            if simple {
                self.string(key, Context::SimpleKey);
                self.indicator(":", false, false);
            } else {
                self.indicator("?", true, true);
                self.string(key, Context::ComplexKey);
                self.write_indent(self.indent);
                self.indicator(":", true, true);
            }
            self.node(value, Context::MappingValue)?;
        }
        self.indent = saved;
        Ok(())
    }

    fn scalar(&mut self, value: &Value, context: Context) {
        match value {
            Value::String(text) => self.string(text, context),
            Value::Number(number) => {
                let text = if number.0 == f64::INFINITY {
                    "+.Inf".to_owned()
                } else if number.0 == f64::NEG_INFINITY {
                    "-.Inf".to_owned()
                } else {
                    number.to_string()
                };
                self.plain(&text, context);
            }
            Value::Bool(flag) => self.plain(if *flag { "true" } else { "false" }, context),
            _ => self.plain("null", context),
        }
    }

    fn plain(&mut self, text: &str, context: Context) {
        if !self.whitespace {
            self.put(' ');
        }
        self.put_str(text);
        self.whitespace = false;
        self.indention = false;
        if context == Context::Root {
            self.open_ended = true;
        }
    }

    /// The indentation of a scalar's continuation lines (go-yaml's flow increase).
    fn scalar_indent(&self) -> isize {
        if self.indent < 0 {
            BEST_INDENT
        } else {
            self.indent + BEST_INDENT
        }
    }

    fn string(&mut self, text: &str, context: Context) {
        let literal = text.contains('\n') && context != Context::SimpleKey && block_allowed(text);
        let indent = self.scalar_indent();
        if literal {
            self.literal(text, indent);
        } else {
            self.double_quoted(text, indent, context != Context::SimpleKey);
        }
    }

    fn double_quoted(&mut self, text: &str, indent: isize, allow_breaks: bool) {
        self.indicator("\"", true, false);
        let characters: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (index, &character) in characters.iter().enumerate() {
            if !printable(character) || is_break(character) || character == '"' || character == '\\'
            {
                self.put('\\');
                let code = character as u32;
                match character {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ if code <= 0xFF => self.put_str(&format!("x{code:02X}")),
                    _ if code <= 0xFFFF => self.put_str(&format!("u{code:04X}")),
                    _ => self.put_str(&format!("U{code:08X}")),
                }
                spaces = false;
            } else if character == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && index != 0
                    && index != characters.len() - 1
                {
                    self.indention = false;
                    self.write_indent(indent);
                    if characters.get(index + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.put(character);
                spaces = false;
            }
        }
        self.indicator("\"", false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, text: &str, indent: isize) {
        self.indicator("|", true, false);
        if text.starts_with([' ', '\n']) {
            self.indicator(&BEST_INDENT.to_string(), false, false);
        }
        let mut chomp = None;
        let characters: Vec<char> = text.chars().collect();
        match characters.as_slice() {
            [] => chomp = Some("-"),
            [.., last] if !is_break(*last) => chomp = Some("-"),
            [_] => chomp = Some("+"),
            [.., before, _] if is_break(*before) => chomp = Some("+"),
            _ => {}
        }
        if let Some(hint) = chomp {
            self.indicator(hint, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &character in &characters {
            if is_break(character) {
                if character == '\n' {
                    self.put_break();
                } else {
                    self.out.push(character);
                    self.column = 0;
                }
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                    breaks = false;
                }
                self.put(character);
                self.indention = false;
            }
        }
    }
}

/// go-yaml's `block_allowed`: no trailing space, no space before a line break, only printable
/// characters.
fn block_allowed(text: &str) -> bool {
    let characters: Vec<char> = text.chars().collect();
    if characters.last() == Some(&' ') {
        return false;
    }
    let mut previous_space = false;
    for &character in &characters {
        if !printable(character) {
            return false;
        }
        if is_break(character) && previous_space {
            return false;
        }
        previous_space = character == ' ';
    }
    true
}
