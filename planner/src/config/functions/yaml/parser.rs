//! The YAML reader of `yamldecode`: a recursive-descent parser over block and flow
//! structure, with go-cty-yaml's resolution of scalars, keys, anchors and merges.

use std::collections::{BTreeMap, HashMap};

use engine::value::{Number, Value};

use super::super::datetime::rfc3339_of;
use super::super::encoding::base64_decode;
use super::super::{
    MAX_VALUE_BYTES, MAX_VALUE_DEPTH, MAX_VALUE_ELEMENTS, parse_number, too_long, too_many,
};

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

pub(super) struct Parser<'a> {
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
    pub(super) fn new(text: &'a str) -> Parser<'a> {
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

    pub(super) fn document(&mut self) -> Result<Value, String> {
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
                let mut items = Vec::new();
                self.flow_collection(b']', |parser| {
                    let item = parser.flow_node()?;
                    parser.skip_flow_space();
                    let item = if parser.peek() == Some(b':') {
                        parser.position += 1;
                        let value = parser.flow_value()?;
                        let key = key_text(&item).map_err(|error| parser.error(&error))?;
                        Value::Map(BTreeMap::from([(key, value)]))
                    } else {
                        item
                    };
                    items.push(item);
                    Ok(())
                })?;
                Value::List(items)
            }
            Some(b'{') => {
                let mut entries = BTreeMap::new();
                self.flow_collection(b'}', |parser| {
                    let key = parser.flow_node()?;
                    let key = key_text(&key).map_err(|error| parser.error(&error))?;
                    parser.skip_flow_space();
                    let value = if parser.peek() == Some(b':') {
                        parser.position += 1;
                        parser.flow_value()?
                    } else {
                        Value::Null
                    };
                    entries.insert(key, value);
                    Ok(())
                })?;
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

    /// The entries of a flow collection up to `close`, separated by commas (a trailing comma
    /// allowed); the opening bracket is at the current position.
    fn flow_collection(
        &mut self,
        close: u8,
        mut entry: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        self.position += 1;
        self.count()?;
        let expected = format!("did not find expected ',' or '{}'", char::from(close));
        loop {
            self.skip_flow_space();
            match self.peek() {
                Some(byte) if byte == close => {
                    self.position += 1;
                    return Ok(());
                }
                None => return Err(self.error(&expected)),
                _ => {}
            }
            entry(self)?;
            self.skip_flow_space();
            match self.peek() {
                Some(b',') => self.position += 1,
                Some(byte) if byte == close => {}
                _ => return Err(self.error(&expected)),
            }
        }
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
