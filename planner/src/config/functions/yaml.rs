//! `yamlencode` and `yamldecode`. The workspace has no YAML crate, so both are written here.
//!
//! Encoding reproduces the output of Terraform's encoder (go-yaml's emitter as go-cty-yaml drives
//! it): block style, strings double-quoted (literal `|` style for multi-line strings the emitter
//! allows in that style), keys over 128 bytes or with line breaks as `? ` complex keys, empty
//! collections as `[]`/`{}`, long double-quoted strings folded past column 80, and `...` after a
//! top-level plain scalar.
//!
//! Decoding covers the YAML that configurations hold: block mappings and sequences (indentless
//! too), flow collections, plain, quoted and block scalars (`|`, `>`, chomping and indentation
//! indicators), comments, `---`/`...`, anchors, aliases and `<<` merge keys, and the tags
//! `!!str !!int !!float !!bool !!null !!binary !!timestamp !!map !!seq`. Plain scalars resolve
//! as go-cty-yaml resolves them (YAML 1.1 booleans such as `yes` and `on`, `~` and `null`,
//! decimal numbers with `_`, `0b` binary, timestamps as RFC 3339 strings). Complex (`?`) keys
//! and multiple documents are refused.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use engine::value::{Number, Value};

use super::datetime::rfc3339_of;
use super::encoding::base64_decode;
use super::{
    MAX_VALUE_BYTES, MAX_VALUE_DEPTH, MAX_VALUE_ELEMENTS, parse_number, string, too_long, too_many,
};

pub(super) fn yamlencode(args: &[Value], _: &Path) -> Result<Value, String> {
    let mut emitter = Emitter::default();
    emitter.node(&args[0], Context::Root)?;
    emitter.write_indent(-1);
    if emitter.open_ended {
        emitter.indicator("...", true, true);
        emitter.write_indent(-1);
    }
    Ok(Value::String(emitter.out))
}

pub(super) fn yamldecode(args: &[Value], _: &Path) -> Result<Value, String> {
    let text = string(&args[0], "src")?;
    Parser::new(&text).document()
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// Where a node is emitted, which decides its indentation and scalar style.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Root,
    SequenceItem,
    MappingValue,
    SimpleKey,
    ComplexKey,
}

/// go-yaml's emitter state, for the events yamlencode produces.
struct Emitter {
    out: String,
    column: usize,
    /// The indentation of the current collection (`-1` before the root).
    indent: isize,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
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

    fn write_indent(&mut self, indent: isize) {
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

    fn indicator(&mut self, text: &str, need_whitespace: bool, is_indention: bool) {
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

    fn node(&mut self, value: &Value, context: Context) -> Result<(), String> {
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

// ---------------------------------------------------------------------------------------------
// Decoding

/// A YAML node's tag: none, or one of the core schema's.
#[derive(Clone, Copy, PartialEq)]
enum Tag {
    None,
    Str,
    Int,
    Float,
    Bool,
    Null,
    Binary,
    Timestamp,
    Map,
    Seq,
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    position: usize,
    anchors: HashMap<String, (Value, usize)>,
    elements: usize,
    depth: usize,
}

fn count_elements(value: &Value) -> usize {
    1 + match value {
        Value::List(items) => items.iter().map(count_elements).sum(),
        Value::Map(entries) => entries.values().map(count_elements).sum(),
        _ => 0,
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        Parser {
            text,
            bytes: text.as_bytes(),
            position: 0,
            anchors: HashMap::new(),
            elements: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.position + offset).copied()
    }

    fn line_and_column(&self, position: usize) -> (usize, usize) {
        let before = &self.text[..position.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before.len(), |newline| before.len() - newline - 1);
        (line, column + 1)
    }

    fn error(&self, message: &str) -> String {
        let (line, column) = self.line_and_column(self.position);
        format!("on line {line}, column {column}: {message}")
    }

    /// The column of the current position in its line.
    fn column(&self) -> usize {
        self.line_and_column(self.position).1 - 1
    }

    fn count(&mut self) -> Result<(), String> {
        self.elements += 1;
        if self.elements > MAX_VALUE_ELEMENTS {
            return Err(too_many());
        }
        Ok(())
    }

    fn is_blank_or_end(&self, offset: usize) -> bool {
        matches!(
            self.peek_at(offset),
            None | Some(b' ' | b'\t' | b'\n' | b'\r')
        )
    }

    /// Skips spaces and tabs within the line, and a comment.
    fn skip_inline(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.position += 1;
        }
        if self.peek() == Some(b'#') {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.position += 1;
            }
        }
    }

    /// Skips blank lines and comments; stops at the first content character. Returns whether a
    /// line break was crossed.
    fn skip_lines(&mut self) -> bool {
        let mut crossed = false;
        loop {
            self.skip_inline();
            match self.peek() {
                Some(b'\n') => {
                    self.position += 1;
                    crossed = true;
                }
                Some(b'\r') if self.peek_at(1) == Some(b'\n') => {
                    self.position += 2;
                    crossed = true;
                }
                _ => return crossed,
            }
        }
    }

    fn at_document_marker(&self) -> bool {
        self.column() == 0
            && (self.text[self.position..].starts_with("---")
                || self.text[self.position..].starts_with("..."))
            && self.is_blank_or_end(3)
    }

    fn document(&mut self) -> Result<Value, String> {
        self.skip_lines();
        while self.peek() == Some(b'%') && self.column() == 0 {
            while !matches!(self.peek(), None | Some(b'\n')) {
                self.position += 1;
            }
            self.skip_lines();
        }
        let explicit = self.text[self.position..].starts_with("---") && self.is_blank_or_end(3);
        if explicit {
            self.position += 3;
        } else if self.peek().is_none() {
            return Err(self.error("expecting value but found end of stream"));
        }
        self.skip_lines();
        let value = if self.peek().is_none() || self.at_document_marker() {
            Value::Null
        } else {
            self.block_node(-1)?
        };
        self.skip_lines();
        if self.text[self.position..].starts_with("...") && self.is_blank_or_end(3) {
            self.position += 3;
            self.skip_lines();
        }
        if self.peek().is_some() {
            if self.at_document_marker() {
                return Err(self.error("only a single document is allowed"));
            }
            return Err(self.error("did not find expected <document start>"));
        }
        Ok(value)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_VALUE_DEPTH {
            return Err(self.error(&format!(
                "the document nests deeper than {MAX_VALUE_DEPTH} levels, the most amlplan builds"
            )));
        }
        Ok(())
    }

    /// Reads `&anchor` and `!tag` properties before a node.
    fn properties(&mut self) -> Result<(Option<String>, Tag), String> {
        let (mut anchor, mut tag) = (None, Tag::None);
        loop {
            match self.peek() {
                Some(b'&') => {
                    self.position += 1;
                    anchor = Some(self.name());
                }
                Some(b'!') => {
                    let start = self.position;
                    while !self.is_blank_or_end(0)
                        && !matches!(self.peek(), Some(b',' | b']' | b'}'))
                    {
                        self.position += 1;
                    }
                    let text = &self.text[start..self.position];
                    tag = match text.strip_prefix("!!").or_else(|| {
                        text.strip_prefix("!<tag:yaml.org,2002:")
                            .and_then(|t| t.strip_suffix('>'))
                    }) {
                        Some("str") => Tag::Str,
                        Some("int") => Tag::Int,
                        Some("float") => Tag::Float,
                        Some("bool") => Tag::Bool,
                        Some("null") => Tag::Null,
                        Some("binary") => Tag::Binary,
                        Some("timestamp") => Tag::Timestamp,
                        Some("map") => Tag::Map,
                        Some("seq") => Tag::Seq,
                        _ => return Err(self.error(&format!("unsupported tag \"{text}\""))),
                    };
                }
                _ => return Ok((anchor, tag)),
            }
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.position += 1;
            }
        }
    }

    fn name(&mut self) -> String {
        let start = self.position;
        while !self.is_blank_or_end(0)
            && !matches!(self.peek(), Some(b',' | b'[' | b']' | b'{' | b'}'))
        {
            self.position += 1;
        }
        self.text[start..self.position].to_owned()
    }

    fn remember(&mut self, anchor: Option<String>, value: &Value) {
        if let Some(anchor) = anchor {
            self.anchors
                .insert(anchor, (value.clone(), count_elements(value)));
        }
    }

    fn alias(&mut self) -> Result<Value, String> {
        self.position += 1;
        let name = self.name();
        let (value, size) = self
            .anchors
            .get(&name)
            .cloned()
            .ok_or_else(|| self.error(&format!("reference to undefined anchor \"{name}\"")))?;
        self.elements = self.elements.saturating_add(size);
        if self.elements > MAX_VALUE_ELEMENTS {
            return Err(too_many());
        }
        Ok(value)
    }

    /// A node in block context whose content starts at the current position; `parent` is the
    /// indentation of the collection holding it.
    fn block_node(&mut self, parent: isize) -> Result<Value, String> {
        self.enter()?;
        let (anchor, tag) = self.properties()?;
        if matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#')) {
            self.skip_lines();
            let indent = self.column() as isize;
            if self.peek().is_none() || self.at_document_marker() || indent <= parent {
                self.depth -= 1;
                let value = self.tagged_empty(tag)?;
                self.remember(anchor, &value);
                return Ok(value);
            }
        }
        let column = self.column() as isize;
        let value = match self.peek() {
            Some(b'-') if self.is_blank_or_end(1) => self.block_sequence(column)?,
            Some(b'?') if self.is_blank_or_end(1) => {
                return Err(
                    self.error("complex mapping keys (`?`) are not supported by yamldecode")
                );
            }
            Some(b'*') if !self.line_is_mapping() => self.alias()?,
            Some(b'|' | b'>') => self.block_scalar(parent, tag)?,
            _ if self.line_is_mapping() => self.block_mapping(column)?,
            Some(b'[' | b'{') => {
                let value = self.flow_node()?;
                self.check_line_end()?;
                value
            }
            Some(b'"' | b'\'') => {
                let text = self.quoted()?;
                self.check_line_end()?;
                self.count()?;
                resolve_tagged(text, tag, true).map_err(|error| self.error(&error))?
            }
            _ => {
                let text = self.plain_block(parent)?;
                self.count()?;
                resolve_tagged(text, tag, false).map_err(|error| self.error(&error))?
            }
        };
        let value = match (tag, &value) {
            (Tag::Map, Value::Map(_)) | (Tag::Seq, Value::List(_)) => value,
            (Tag::Map | Tag::Seq, _) => return Err(self.error("the node does not match its tag")),
            _ => value,
        };
        self.depth -= 1;
        self.remember(anchor, &value);
        Ok(value)
    }

    fn tagged_empty(&mut self, tag: Tag) -> Result<Value, String> {
        self.count()?;
        resolve_tagged(String::new(), tag, false).map_err(|error| self.error(&error))
    }

    fn check_line_end(&mut self) -> Result<(), String> {
        self.skip_inline();
        if !matches!(self.peek(), None | Some(b'\n' | b'\r')) {
            return Err(self.error("did not find expected key"));
        }
        Ok(())
    }

    /// Whether a `key:` mapping indicator follows on this line, outside quotes and brackets.
    fn line_is_mapping(&self) -> bool {
        let rest = &self.bytes[self.position..];
        let mut index = 0;
        if rest.first() == Some(&b'*') {
            while index < rest.len() && !matches!(rest[index], b' ' | b'\t' | b'\n' | b'\r') {
                index += 1;
            }
            while index < rest.len() && matches!(rest[index], b' ' | b'\t') {
                index += 1;
            }
            return rest.get(index) == Some(&b':')
                && matches!(
                    rest.get(index + 1),
                    None | Some(b' ' | b'\t' | b'\n' | b'\r')
                );
        }
        if let Some(&quote @ (b'"' | b'\'')) = rest.first() {
            index = 1;
            while index < rest.len() {
                match rest[index] {
                    b'\\' if quote == b'"' => index += 1,
                    b'\'' if quote == b'\'' && rest.get(index + 1) == Some(&b'\'') => index += 1,
                    byte if byte == quote => break,
                    _ => {}
                }
                index += 1;
            }
            index += 1;
            while index < rest.len() && matches!(rest[index], b' ' | b'\t') {
                index += 1;
            }
            return rest.get(index) == Some(&b':')
                && matches!(
                    rest.get(index + 1),
                    None | Some(b' ' | b'\t' | b'\n' | b'\r')
                );
        }
        if matches!(rest.first(), Some(b'[' | b'{' | b'|' | b'>' | b'#')) {
            return false;
        }
        while index < rest.len() && !matches!(rest[index], b'\n' | b'\r') {
            if rest[index] == b':'
                && matches!(
                    rest.get(index + 1),
                    None | Some(b' ' | b'\t' | b'\n' | b'\r')
                )
            {
                return true;
            }
            if rest[index] == b'#' && index > 0 && matches!(rest[index - 1], b' ' | b'\t') {
                return false;
            }
            index += 1;
        }
        false
    }

    fn block_sequence(&mut self, indent: isize) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            self.count()?;
            self.position += 1;
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.position += 1;
            }
            let item = self.block_node(indent)?;
            items.push(item);
            self.skip_lines();
            if self.peek().is_none() || self.at_document_marker() {
                break;
            }
            let column = self.column() as isize;
            if column < indent {
                break;
            }
            if column == indent && self.peek() == Some(b'-') && self.is_blank_or_end(1) {
                continue;
            }
            if column == indent {
                break;
            }
            return Err(self.error("did not find expected '-' indicator"));
        }
        Ok(Value::List(items))
    }

    fn block_mapping(&mut self, indent: isize) -> Result<Value, String> {
        let mut entries = BTreeMap::new();
        loop {
            self.count()?;
            let key = self.mapping_key()?;
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.position += 1;
            }
            if self.peek() != Some(b':') {
                return Err(self.error("could not find expected ':'"));
            }
            self.position += 1;
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.position += 1;
            }
            let value = if matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#')) {
                let checkpoint = self.position;
                self.skip_lines();
                let column = self.column() as isize;
                let sequence_here =
                    column == indent && self.peek() == Some(b'-') && self.is_blank_or_end(1);
                if sequence_here {
                    self.block_sequence(indent)?
                } else {
                    self.position = checkpoint;
                    self.block_node(indent)?
                }
            } else {
                self.inline_value(indent)?
            };
            match (key, value) {
                // go-cty-yaml merges one mapping, in place: later keys win.
                (MappingKey::Merge, Value::Map(merged)) => entries.extend(merged),
                (MappingKey::Merge, other) => {
                    return Err(
                        self.error(&format!("cannot merge {} into mapping", describe(&other)))
                    );
                }
                (MappingKey::Text(key), value) => {
                    entries.insert(key, value);
                }
            }
            self.skip_lines();
            if self.peek().is_none() || self.at_document_marker() {
                break;
            }
            let column = self.column() as isize;
            if column < indent {
                break;
            }
            if column > indent {
                return Err(self.error("mapping values are not allowed in this context"));
            }
            if self.peek() == Some(b'-') && self.is_blank_or_end(1) {
                break;
            }
        }
        Ok(Value::Map(entries))
    }

    /// A value on the same line as its key.
    fn inline_value(&mut self, indent: isize) -> Result<Value, String> {
        let (anchor, tag) = self.properties()?;
        if matches!(self.peek(), None | Some(b'\n' | b'\r' | b'#')) {
            let checkpoint = self.position;
            self.skip_lines();
            let column = self.column() as isize;
            let value = if column == indent && self.peek() == Some(b'-') && self.is_blank_or_end(1)
            {
                self.block_sequence(indent)?
            } else if column > indent && self.peek().is_some() && !self.at_document_marker() {
                self.block_node(indent)?
            } else {
                self.position = checkpoint;
                self.tagged_empty(tag)?
            };
            self.remember(anchor, &value);
            return Ok(value);
        }
        self.enter()?;
        let value = match self.peek() {
            Some(b'*') => self.alias()?,
            Some(b'|' | b'>') => self.block_scalar(indent, tag)?,
            Some(b'[' | b'{') => {
                let value = self.flow_node()?;
                self.check_line_end()?;
                value
            }
            Some(b'"' | b'\'') => {
                let text = self.quoted()?;
                self.check_line_end()?;
                self.count()?;
                resolve_tagged(text, tag, true).map_err(|error| self.error(&error))?
            }
            _ if self.line_is_mapping() => {
                return Err(self.error("mapping values are not allowed in this context"));
            }
            _ => {
                let text = self.plain_block(indent)?;
                self.count()?;
                resolve_tagged(text, tag, false).map_err(|error| self.error(&error))?
            }
        };
        self.depth -= 1;
        self.remember(anchor, &value);
        Ok(value)
    }

    fn mapping_key(&mut self) -> Result<MappingKey, String> {
        let (_, tag) = self.properties()?;
        let value = match self.peek() {
            Some(b'"' | b'\'') => Value::String(self.quoted()?),
            Some(b'*') => self.alias()?,
            _ => {
                let start = self.position;
                while let Some(byte) = self.peek() {
                    if byte == b':' && self.is_blank_or_end(1) {
                        break;
                    }
                    if matches!(byte, b'\n' | b'\r') {
                        break;
                    }
                    self.position += 1;
                }
                let raw = self.text[start..self.position].trim_end();
                if raw == "<<" && tag == Tag::None {
                    return Ok(MappingKey::Merge);
                }
                resolve_tagged(raw.to_owned(), tag, false).map_err(|error| self.error(&error))?
            }
        };
        key_text(&value)
            .map(MappingKey::Text)
            .map_err(|error| self.error(&error))
    }

    /// A plain scalar in block context, with its continuation lines (indented deeper than
    /// `parent`) folded into it.
    fn plain_block(&mut self, parent: isize) -> Result<String, String> {
        let mut out = String::new();
        let mut pending_breaks = 0usize;
        loop {
            let start = self.position;
            while let Some(byte) = self.peek() {
                if matches!(byte, b'\n' | b'\r') {
                    break;
                }
                if byte == b':' && self.is_blank_or_end(1) {
                    return Err(self.error("mapping values are not allowed in this context"));
                }
                if byte == b'#'
                    && self.position > start
                    && matches!(self.bytes[self.position - 1], b' ' | b'\t')
                {
                    break;
                }
                self.position += 1;
            }
            let piece = self.text[start..self.position].trim_end_matches([' ', '\t']);
            if !piece.is_empty() {
                if !out.is_empty() {
                    if pending_breaks > 1 {
                        out.push_str(&"\n".repeat(pending_breaks - 1));
                    } else {
                        out.push(' ');
                    }
                }
                out.push_str(piece);
            }
            room_for_text(out.len())?;
            if self.peek() == Some(b'#') {
                self.skip_inline();
                break;
            }
            // Look at the next line: a continuation is indented deeper than the parent.
            let checkpoint = self.position;
            let mut breaks = 0;
            loop {
                match self.peek() {
                    Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.position += 2,
                    Some(b'\n') => self.position += 1,
                    _ => break,
                }
                breaks += 1;
                while matches!(self.peek(), Some(b' ' | b'\t')) {
                    self.position += 1;
                }
                if !matches!(self.peek(), Some(b'\n' | b'\r')) {
                    break;
                }
            }
            let column = self.column() as isize;
            let continues = breaks > 0
                && self.peek().is_some_and(|byte| byte != b'#')
                && column > parent
                && !self.at_document_marker()
                && !(self.peek() == Some(b'-') && self.is_blank_or_end(1) && column <= parent + 1)
                && !self.line_is_mapping();
            if !continues {
                self.position = checkpoint;
                break;
            }
            pending_breaks = breaks;
        }
        Ok(out)
    }

    /// A single- or double-quoted scalar, possibly over several lines.
    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.peek().expect("at a quote");
        self.position += 1;
        let mut out = String::new();
        loop {
            room_for_text(out.len())?;
            let Some(byte) = self.peek() else {
                return Err(
                    self.error("found unexpected end of stream while scanning a quoted scalar")
                );
            };
            match byte {
                b'\'' if quote == b'\'' => {
                    if self.peek_at(1) == Some(b'\'') {
                        out.push('\'');
                        self.position += 2;
                    } else {
                        self.position += 1;
                        return Ok(out);
                    }
                }
                b'"' if quote == b'"' => {
                    self.position += 1;
                    return Ok(out);
                }
                b'\\' if quote == b'"' => {
                    self.position += 1;
                    self.escape(&mut out)?;
                }
                b'\n' | b'\r' => {
                    let trimmed = out.trim_end_matches([' ', '\t']).len();
                    out.truncate(trimmed);
                    let mut breaks = 0;
                    while matches!(self.peek(), Some(b'\n' | b'\r' | b' ' | b'\t')) {
                        if self.peek() == Some(b'\n') {
                            breaks += 1;
                        }
                        self.position += 1;
                    }
                    if breaks > 1 {
                        out.push_str(&"\n".repeat(breaks - 1));
                    } else {
                        out.push(' ');
                    }
                }
                _ => {
                    let character = self.text[self.position..]
                        .chars()
                        .next()
                        .expect("in bounds");
                    out.push(character);
                    self.position += character.len_utf8();
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let Some(byte) = self.peek() else {
            return Err(self.error("found unexpected end of stream while scanning a quoted scalar"));
        };
        self.position += 1;
        let hex = |parser: &mut Parser<'_>, digits: usize| -> Result<char, String> {
            let text = parser
                .text
                .get(parser.position..parser.position + digits)
                .unwrap_or("");
            let code = u32::from_str_radix(text, 16)
                .ok()
                .filter(|_| text.len() == digits)
                .ok_or_else(|| parser.error("did not find expected hexdecimal number"))?;
            parser.position += digits;
            char::from_u32(code)
                .ok_or_else(|| parser.error("found invalid Unicode character escape code"))
        };
        let character = match byte {
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\u{b}',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => hex(self, 2)?,
            b'u' => hex(self, 4)?,
            b'U' => hex(self, 8)?,
            b'\n' | b'\r' => {
                if byte == b'\r' && self.peek() == Some(b'\n') {
                    self.position += 1;
                }
                while matches!(self.peek(), Some(b' ' | b'\t')) {
                    self.position += 1;
                }
                return Ok(());
            }
            _ => {
                return Err(
                    self.error("found unknown escape character while parsing a quoted scalar")
                );
            }
        };
        out.push(character);
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar; `parent` is the indentation of the
    /// collection holding it.
    fn block_scalar(&mut self, parent: isize, tag: Tag) -> Result<Value, String> {
        let folded = self.peek() == Some(b'>');
        self.position += 1;
        let (mut chomp, mut explicit) = (None, None);
        for _ in 0..2 {
            match self.peek() {
                Some(b'+') => chomp = Some(true),
                Some(b'-') => chomp = Some(false),
                Some(digit @ b'1'..=b'9') => explicit = Some(isize::from(digit - b'0')),
                _ => break,
            }
            self.position += 1;
        }
        self.skip_inline();
        match self.peek() {
            None => {}
            Some(b'\n') => self.position += 1,
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.position += 2,
            _ => return Err(self.error("did not find expected comment or line break")),
        }
        // An explicit indentation indicator counts from the parent's indentation.
        let mut indent = explicit.map(|digit| parent.max(0) + digit);
        // Content lines as (more indented, text after the indentation); `None` for empty ones.
        let mut lines: Vec<Option<(bool, &str)>> = Vec::new();
        while self.position < self.bytes.len() {
            let line_end = self.text[self.position..]
                .find('\n')
                .map_or(self.bytes.len(), |at| self.position + at);
            let line = self.text[self.position..line_end].trim_end_matches('\r');
            let spaces = (line.len() - line.trim_start_matches(' ').len()) as isize;
            let empty = line.trim_start_matches(' ').is_empty();
            let marker = spaces == 0
                && (line.starts_with("---") || line.starts_with("..."))
                && matches!(line.as_bytes().get(3), None | Some(b' ' | b'\t'));
            if marker {
                break;
            }
            if indent.is_none() && !empty {
                if spaces <= parent {
                    break;
                }
                indent = Some(spaces);
            }
            let content = indent.unwrap_or(isize::MAX);
            if !empty && spaces < content {
                break;
            }
            if empty && spaces <= content {
                lines.push(None);
            } else {
                let text = &line[content as usize..];
                lines.push(Some((text.starts_with([' ', '\t']), text)));
            }
            self.position = if line_end == self.bytes.len() {
                line_end
            } else {
                line_end + 1
            };
        }
        // Give back the line break before what follows, so the caller sees the next line.
        if self.position < self.bytes.len()
            && self.bytes.get(self.position.wrapping_sub(1)) == Some(&b'\n')
        {
            self.position -= 1;
        }
        let trailing = lines.iter().rev().take_while(|line| line.is_none()).count();
        let body = &lines[..lines.len() - trailing];
        let mut out = String::new();
        let (mut pending, mut first, mut previous_more) = (0usize, true, false);
        for line in body {
            let Some((more, text)) = line else {
                pending += 1;
                continue;
            };
            if first {
                out.push_str(&"\n".repeat(pending));
            } else if folded && !more && !previous_more {
                if pending == 0 {
                    out.push(' ');
                } else {
                    out.push_str(&"\n".repeat(pending));
                }
            } else {
                out.push_str(&"\n".repeat(pending + 1));
            }
            out.push_str(text);
            room_for_text(out.len())?;
            (pending, first, previous_more) = (0, false, *more);
        }
        let has_content = !body.is_empty();
        match chomp {
            Some(false) => {}
            None if has_content => out.push('\n'),
            None => {}
            Some(true) => {
                if has_content {
                    out.push('\n');
                }
                out.push_str(&"\n".repeat(trailing));
            }
        }
        self.count()?;
        resolve_tagged(out, if tag == Tag::None { Tag::Str } else { tag }, true)
            .map_err(|error| self.error(&error))
    }

    fn skip_flow_space(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.position += 1,
                Some(b'#') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.position += 1;
                    }
                }
                _ => return,
            }
        }
    }

    fn flow_node(&mut self) -> Result<Value, String> {
        self.enter()?;
        self.skip_flow_space();
        let (anchor, tag) = self.properties()?;
        self.skip_flow_space();
        let value = match self.peek() {
            Some(b'[') => {
                self.position += 1;
                self.count()?;
                let mut items = Vec::new();
                loop {
                    self.skip_flow_space();
                    match self.peek() {
                        Some(b']') => {
                            self.position += 1;
                            break;
                        }
                        None => return Err(self.error("did not find expected ',' or ']'")),
                        _ => {}
                    }
                    let item = self.flow_node()?;
                    self.skip_flow_space();
                    let item = if self.peek() == Some(b':') {
                        self.position += 1;
                        let value = self.flow_value()?;
                        let key = key_text(&item).map_err(|error| self.error(&error))?;
                        Value::Map(BTreeMap::from([(key, value)]))
                    } else {
                        item
                    };
                    items.push(item);
                    self.skip_flow_space();
                    match self.peek() {
                        Some(b',') => self.position += 1,
                        Some(b']') => {}
                        _ => return Err(self.error("did not find expected ',' or ']'")),
                    }
                }
                Value::List(items)
            }
            Some(b'{') => {
                self.position += 1;
                self.count()?;
                let mut entries = BTreeMap::new();
                loop {
                    self.skip_flow_space();
                    match self.peek() {
                        Some(b'}') => {
                            self.position += 1;
                            break;
                        }
                        None => return Err(self.error("did not find expected ',' or '}'")),
                        _ => {}
                    }
                    let key = self.flow_node()?;
                    let key = key_text(&key).map_err(|error| self.error(&error))?;
                    self.skip_flow_space();
                    let value = if self.peek() == Some(b':') {
                        self.position += 1;
                        self.flow_value()?
                    } else {
                        Value::Null
                    };
                    entries.insert(key, value);
                    self.skip_flow_space();
                    match self.peek() {
                        Some(b',') => self.position += 1,
                        Some(b'}') => {}
                        _ => return Err(self.error("did not find expected ',' or '}'")),
                    }
                }
                Value::Map(entries)
            }
            Some(b'*') => self.alias()?,
            Some(b'"' | b'\'') => {
                let text = self.quoted()?;
                self.count()?;
                resolve_tagged(text, tag, true).map_err(|error| self.error(&error))?
            }
            Some(b']' | b'}' | b',') => {
                self.count()?;
                resolve_tagged(String::new(), tag, false).map_err(|error| self.error(&error))?
            }
            _ => {
                let start = self.position;
                while let Some(byte) = self.peek() {
                    let ends = matches!(byte, b',' | b'[' | b']' | b'{' | b'}')
                        || (byte == b':'
                            && (self.is_blank_or_end(1)
                                || matches!(self.peek_at(1), Some(b',' | b']' | b'}'))))
                        || (byte == b'#'
                            && self.position > start
                            && matches!(self.bytes[self.position - 1], b' ' | b'\t' | b'\n'));
                    if ends {
                        break;
                    }
                    self.position += 1;
                }
                let raw: Vec<&str> = self.text[start..self.position]
                    .split('\n')
                    .map(|line| line.trim_matches([' ', '\t', '\r']))
                    .filter(|line| !line.is_empty())
                    .collect();
                self.count()?;
                resolve_tagged(raw.join(" "), tag, false).map_err(|error| self.error(&error))?
            }
        };
        self.depth -= 1;
        self.remember(anchor, &value);
        Ok(value)
    }

    fn flow_value(&mut self) -> Result<Value, String> {
        self.skip_flow_space();
        if matches!(self.peek(), Some(b',' | b']' | b'}')) {
            self.count()?;
            return Ok(Value::Null);
        }
        self.flow_node()
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "tuple",
        Value::Map(_) => "object",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "null",
    }
}

enum MappingKey {
    Text(String),
    Merge,
}

fn room_for_text(length: usize) -> Result<(), String> {
    if length > MAX_VALUE_BYTES {
        return Err(too_long());
    }
    Ok(())
}

/// A mapping key as a string: go-cty-yaml converts resolved keys to strings.
fn key_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Null => Err("mapping key cannot be null".to_owned()),
        _ => Err("only strings are allowed as mapping keys".to_owned()),
    }
}

/// go-cty-yaml's resolution of a scalar: quoted scalars are strings unless tagged.
fn resolve_tagged(text: String, tag: Tag, quoted: bool) -> Result<Value, String> {
    match tag {
        Tag::Str => Ok(Value::String(text)),
        Tag::Binary => {
            base64_decode(&text)
                .map_err(|_| format!("cannot parse \"{text}\" as !!binary: not valid base64"))?;
            Ok(Value::String(text))
        }
        Tag::Null => Ok(Value::Null),
        Tag::Bool => match resolve_plain(&text) {
            Some(Value::Bool(flag)) => Ok(Value::Bool(flag)),
            _ => Err(format!("cannot parse \"{text}\" as !!bool")),
        },
        Tag::Int | Tag::Float => {
            let plain = text.replace('_', "");
            parse_number(&plain)
                .map(Number)
                .or_else(|| parse_prefixed_integer(&plain))
                .or_else(|| match resolve_plain(&text) {
                    Some(Value::Number(number)) => Some(number),
                    _ => None,
                })
                .map(Value::Number)
                .ok_or_else(|| {
                    let name = if tag == Tag::Int { "int" } else { "float" };
                    format!("cannot parse \"{text}\" as !!{name}")
                })
        }
        Tag::Timestamp => timestamp(&text)
            .map(Value::String)
            .ok_or_else(|| format!("cannot parse \"{text}\" as !!timestamp")),
        Tag::Map | Tag::Seq => Err(format!(
            "cannot use a scalar as !!{}",
            if tag == Tag::Map { "map" } else { "seq" }
        )),
        Tag::None if quoted => Ok(Value::String(text)),
        Tag::None => Ok(resolve_plain(&text).unwrap_or(Value::String(text))),
    }
}

fn parse_prefixed_integer(text: &str) -> Option<Number> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(rest) = digits.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = digits.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = digits.strip_prefix("0b") {
        (2, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        return None;
    };
    let value = u64::from_str_radix(digits, radix).ok()? as f64;
    Some(Number(if negative { -value } else { value }))
}

/// The value of an untagged plain scalar, or `None` for a string.
fn resolve_plain(text: &str) -> Option<Value> {
    let first = text.bytes().next();
    let resolved = match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(Value::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            Some(Value::Number(Number(f64::INFINITY)))
        }
        "-.inf" | "-.Inf" | "-.INF" => Some(Value::Number(Number(f64::NEG_INFINITY))),
        _ => None,
    };
    if resolved.is_some() {
        return resolved;
    }
    match first {
        Some(b'.') => parse_number(text).map(|number| Value::Number(Number(number))),
        Some(b'0'..=b'9' | b'+' | b'-') => {
            if let Some(stamp) = timestamp(text) {
                return Some(Value::String(stamp));
            }
            let plain = text.replace('_', "");
            if let Some(number) = parse_number(&plain) {
                return Some(Value::Number(Number(number)));
            }
            if plain.starts_with("0b") || plain.starts_with("-0b") {
                return parse_prefixed_integer(&plain).map(Value::Number);
            }
            None
        }
        _ => None,
    }
}

/// The YAML timestamp forms go-cty-yaml accepts, as RFC 3339 text.
fn timestamp(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 8 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let mut position = 5;
    let number = |position: &mut usize| -> Option<u32> {
        let start = *position;
        while *position < bytes.len() && bytes[*position].is_ascii_digit() && *position - start < 2
        {
            *position += 1;
        }
        (*position > start)
            .then(|| text[start..*position].parse().ok())
            .flatten()
    };
    let year: i64 = text[..4].parse().ok()?;
    let month = number(&mut position)?;
    if bytes.get(position) != Some(&b'-') {
        return None;
    }
    position += 1;
    let day = number(&mut position)?;
    if position == bytes.len() {
        return rfc3339_of((year, month, day), (0, 0, 0), 0);
    }
    let separator = bytes[position];
    if !matches!(separator, b'T' | b't' | b' ') {
        return None;
    }
    position += 1;
    let hour = number(&mut position)?;
    if bytes.get(position) != Some(&b':') {
        return None;
    }
    position += 1;
    let minute = number(&mut position)?;
    if bytes.get(position) != Some(&b':') {
        return None;
    }
    position += 1;
    let second = number(&mut position)?;
    if bytes.get(position) == Some(&b'.') {
        position += 1;
        let start = position;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            position += 1;
        }
        if position == start || position - start > 9 {
            return None;
        }
    }
    let offset = if separator == b' ' {
        if position != bytes.len() {
            return None;
        }
        0
    } else {
        match bytes.get(position) {
            Some(b'Z') if position + 1 == bytes.len() => 0,
            Some(sign @ (b'+' | b'-'))
                if bytes.len() == position + 6 && bytes[position + 3] == b':' =>
            {
                let hours: i32 = text[position + 1..position + 3].parse().ok()?;
                let minutes: i32 = text[position + 4..position + 6].parse().ok()?;
                let seconds = hours * 3600 + minutes * 60;
                if *sign == b'-' { -seconds } else { seconds }
            }
            _ => return None,
        }
    };
    rfc3339_of((year, month, day), (hour, minute, second), offset)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{num, numbers, object, run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    #[track_caller]
    fn encoded(value: Value) -> String {
        match run("yamlencode", vec![value]) {
            Ok(Value::String(text)) => text,
            other => panic!("{other:?}"),
        }
    }

    #[track_caller]
    fn decoded(text: &str) -> Value {
        run("yamldecode", vec![text.into()]).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn documented_encodings() {
        assert_eq!(
            encoded(object(&[("a", "b".into()), ("c", "d".into())])),
            "\"a\": \"b\"\n\"c\": \"d\"\n"
        );
        assert_eq!(
            encoded(object(&[
                ("foo", numbers(&[1.0, 2.0, 3.0])),
                ("bar", "baz".into())
            ])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"
        );
        assert_eq!(
            encoded(object(&[
                (
                    "foo",
                    Value::List(vec![
                        1.into(),
                        object(&[("a", "b".into()), ("c", "d".into())]),
                        3.into()
                    ])
                ),
                ("bar", "baz".into())
            ])),
            "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"
        );
    }

    #[test]
    fn encoder_details() {
        assert_eq!(encoded(true.into()), "true\n...\n");
        assert_eq!(encoded(0.into()), "0\n...\n");
        assert_eq!(encoded(Value::Null), "null\n...\n");
        assert_eq!(encoded("".into()), "\"\"\n");
        assert_eq!(encoded("hello".into()), "\"hello\"\n");
        assert_eq!(encoded(object(&[])), "{}\n");
        assert_eq!(encoded(strings(&[])), "[]\n");
        assert_eq!(encoded(strings(&["b"])), "- \"b\"\n");
        assert_eq!(
            encoded(object(&[("a", strings(&[])), ("b", object(&[]))])),
            "\"a\": []\n\"b\": {}\n"
        );
        assert_eq!(
            encoded(object(&[(
                "a",
                object(&[("b", object(&[("c", num(1.5))]))])
            )])),
            "\"a\":\n  \"b\":\n    \"c\": 1.5\n"
        );
        assert_eq!(
            encoded(Value::List(vec![strings(&["a", "b"]), strings(&["c"])])),
            "- - \"a\"\n  - \"b\"\n- - \"c\"\n"
        );
        assert_eq!(
            encoded(object(&[("script", "echo hi\nexit 0\n".into())])),
            "\"script\": |\n  echo hi\n  exit 0\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a\nb".into())])),
            "\"s\": |-\n  a\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a\n\nb".into())])),
            "\"s\": |-\n  a\n\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", " a\nb".into())])),
            "\"s\": |2-\n   a\n  b\n"
        );
        assert_eq!(
            encoded(object(&[("s", "a \nb".into())])),
            "\"s\": \"a \\nb\"\n"
        );
        assert_eq!(
            encoded(object(&[("s", "tab\there\n".into())])),
            "\"s\": \"tab\\there\\n\"\n"
        );
        assert_eq!(encoded(strings(&["x\ny"])), "- |-\n  x\n  y\n");
        assert_eq!(
            encoded("a\"b\\c\u{1}é😀".into()),
            "\"a\\\"b\\\\c\\x01é\\U0001F600\"\n"
        );
        let long = ["word"; 30].join(" ");
        assert_eq!(
            encoded(object(&[("k", long.clone().into())])),
            format!(
                "\"k\": \"{}\n  {}\"\n",
                ["word"; 16].join(" "),
                ["word"; 14].join(" ")
            )
        );
        let key = "k".repeat(129);
        assert_eq!(
            encoded(object(&[(key.as_str(), 1.into())])),
            format!("? \"{key}\"\n: 1\n")
        );
        assert_eq!(encoded(num(f64::INFINITY)), "+.Inf\n...\n");
        assert!(
            run("yamlencode", vec![Value::List(vec![Value::Unknown])])
                .is_ok_and(|value| value == Value::Unknown)
        );
    }

    #[test]
    fn documented_decodings() {
        assert_eq!(
            decoded("hello: world"),
            object(&[("hello", "world".into())])
        );
        assert_eq!(decoded("true"), true.into());
        assert_eq!(
            decoded("{a: &foo [1, 2, 3], b: *foo}"),
            object(&[
                ("a", numbers(&[1.0, 2.0, 3.0])),
                ("b", numbers(&[1.0, 2.0, 3.0]))
            ])
        );
        assert_eq!(
            decoded("{a: !!str 1, b: !!str true}"),
            object(&[("a", "1".into()), ("b", "true".into())])
        );
    }

    #[test]
    fn block_structures() {
        let text = "\
# a comment
name: demo   # trailing
count: 3
ratio: 1.5
enabled: yes
nothing:
tilde: ~
list:
- a
- 'b c'
-   \"d\\te\"
nested:
  inner:
    - x: 1
      w: [1, {z: 2}]
    - - deep
  other: \"multi
    line\"
folded: >
  one
  two

  three
literal: |
  keep
    indent
strip: |-
  last
when: 2001-12-14
";
        assert_eq!(
            decoded(text),
            object(&[
                ("name", "demo".into()),
                ("count", 3.into()),
                ("ratio", num(1.5)),
                ("enabled", true.into()),
                ("nothing", Value::Null),
                ("tilde", Value::Null),
                ("list", strings(&["a", "b c", "d\te"])),
                (
                    "nested",
                    object(&[
                        (
                            "inner",
                            Value::List(vec![
                                object(&[
                                    ("w", Value::List(vec![1.into(), object(&[("z", 2.into())])])),
                                    ("x", 1.into())
                                ]),
                                strings(&["deep"]),
                            ])
                        ),
                        ("other", "multi line".into()),
                    ])
                ),
                ("folded", "one two\nthree\n".into()),
                ("literal", "keep\n  indent\n".into()),
                ("strip", "last".into()),
                ("when", "2001-12-14T00:00:00Z".into()),
            ])
        );
    }

    #[test]
    fn scalars_resolve_as_terraform() {
        assert_eq!(decoded("1_000"), 1000.into());
        assert_eq!(decoded("0x1F"), "0x1F".into());
        assert_eq!(decoded("!!int 0x1F"), 31.into());
        assert_eq!(decoded("0b101"), 5.into());
        assert_eq!(decoded("012"), 12.into());
        assert_eq!(decoded("-.5"), num(-0.5));
        assert_eq!(decoded(".5"), num(0.5));
        assert_eq!(decoded("off"), false.into());
        assert_eq!(decoded("'yes'"), "yes".into());
        assert_eq!(
            decoded("2001-12-14t21:59:43.10-05:00"),
            "2001-12-14T21:59:43-05:00".into()
        );
        assert_eq!(
            decoded("2001-12-14 21:59:43.10"),
            "2001-12-14T21:59:43Z".into()
        );
        assert_eq!(
            decoded("1: a\ntrue: b"),
            object(&[("1", "a".into()), ("true", "b".into())])
        );
        assert_eq!(decoded("---\n"), Value::Null);
        assert_eq!(decoded("--- x\n...\n"), "x".into());
        assert_eq!(decoded("\"a\\x41\\u00e9\\\n  b\""), "aAéb".into());
        assert_eq!(decoded("'it''s'"), "it's".into());
        assert_eq!(
            decoded("plain\n  continued\n\n  para"),
            "plain continued\npara".into()
        );
        assert_eq!(decoded("x: |+\n  a\n\n"), object(&[("x", "a\n\n".into())]));
        assert_eq!(decoded("x: !!binary aGk="), object(&[("x", "aGk=".into())]));
    }

    #[test]
    fn merges_and_errors() {
        assert_eq!(
            decoded("base: &b {p: 1, q: 2}\nderived:\n  <<: *b\n  q: 3\n"),
            object(&[
                ("base", object(&[("p", 1.into()), ("q", 2.into())])),
                ("derived", object(&[("p", 1.into()), ("q", 3.into())])),
            ])
        );
        assert_eq!(
            decoded("y: 1\nno: 2"),
            object(&[("false", 2.into()), ("true", 1.into())])
        );
        assert_eq!(
            decoded("a: 1\n<<: {a: 2, b: 3}"),
            object(&[("a", 2.into()), ("b", 3.into())])
        );
        let error = |text: &str| run("yamldecode", vec![text.into()]).expect_err(text);
        assert!(error("a: 1\n---\nb: 2\n").contains("only a single document is allowed"));
        assert!(error("a: b: c").contains("mapping values are not allowed"));
        assert!(error("? complex\n: value").contains("complex mapping keys"));
        assert!(error("x: *missing").contains("reference to undefined anchor \"missing\""));
        assert!(error("<<: [{a: 1}]").contains("cannot merge tuple into mapping"));
        assert!(error("").contains("expecting value but found end of stream"));
        assert!(error("~: 1").contains("mapping key cannot be null"));
        assert!(error("x: !custom 1").contains("unsupported tag"));
        assert!(error("[1, 2").contains("did not find expected"));
        assert!(error("\"open").contains("unexpected end of stream"));
        assert!(error(&"[".repeat(100)).contains("nests deeper"));
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert!(error(bomb).contains("elements"));
    }

    #[test]
    fn round_trips() {
        let value = object(&[
            (
                "a",
                Value::List(vec!["x".into(), num(2.5), true.into(), Value::Null]),
            ),
            (
                "b",
                object(&[
                    ("multi", "line one\nline two\n".into()),
                    ("q", "say \"hi\"".into()),
                ]),
            ),
            ("c", strings(&[])),
        ]);
        assert_eq!(decoded(&encoded(value.clone())), value);
    }
}
