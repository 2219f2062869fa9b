//! Splits HCL native syntax into the tokens Terraform's formatter works on: the kinds and the
//! boundaries of HCL's scanner (`hclsyntax`), each with the number of bytes of blank (spaces and
//! tabs) before it, as hclwrite counts them. No layout decisions here.
//!
//! | mode            | what it produces                                                     |
//! |-----------------|----------------------------------------------------------------------|
//! | expressions     | punctuation, operators, identifiers, numbers, comments, newlines     |
//! | `"…"` templates | literal runs; `$`, `%`, `$${`, `%%{` each alone; `${`, `%{` sequences |
//! | heredocs        | one literal per line piece; the closing marker line; then a newline   |
//!
//! A `#` or `//` comment keeps its line end (`\n` or `\r\n`), as in HCL's scanner: the formatter
//! treats such a comment as the end of its line.

use std::borrow::Cow;

use super::FmtError;

/// What a token is, as HCL's scanner classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    /// A literal piece of a `"…"` template.
    QuotedLit,
    /// A literal piece of a heredoc.
    StringLit,
    NumberLit,
    Ident,
    Comment,
    Newline,
    /// A character HCL's scanner knows but no expression uses (`&`, `|`, `~`, `^`, `;`, `` ` ``, `'`).
    Invalid,
    Eof,
}

impl Kind {
    /// +1 for an opening bracket (including `${` and `%{`), -1 for a closing one, else 0.
    pub(crate) fn bracket_change(self) -> i32 {
        match self {
            Kind::OBrace
            | Kind::OBrack
            | Kind::OParen
            | Kind::TemplateInterp
            | Kind::TemplateControl => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }
}

/// One token: its kind, its text and the blank the formatter puts before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind,
    pub(crate) text: Cow<'a, str>,
    /// Byte offset in the source (for a token made by a rewrite: where the replaced text was).
    pub(crate) start: usize,
    /// Blank before the token: in the source, the bytes of spaces and tabs; after layout, spaces.
    pub(crate) spaces_before: usize,
}

impl<'a> Token<'a> {
    /// A token made by a rewrite, not read from the source.
    pub(crate) fn made(kind: Kind, text: impl Into<Cow<'a, str>>, start: usize) -> Token<'a> {
        Token {
            kind,
            text: text.into(),
            start,
            spaces_before: 0,
        }
    }

    /// Whether this is a `#` or `//` comment, which ends its line.
    pub(crate) fn ends_line(&self) -> bool {
        self.kind == Kind::Newline || (self.kind == Kind::Comment && self.text.ends_with('\n'))
    }
}

/// Where the scanner is: the bottom of the stack is always `Expressions`.
#[derive(Debug, Clone, Copy)]
enum Mode<'a> {
    Expressions,
    Quoted,
    Heredoc {
        marker: &'a str,
        start_of_line: bool,
    },
}

struct Lexer<'a> {
    source: &'a str,
    position: usize,
    last_end: usize,
    tokens: Vec<Token<'a>>,
    braces: i64,
    /// The brace depth at which each open `${`/`%{` sequence closes.
    sequence_braces: Vec<i64>,
    modes: Vec<Mode<'a>>,
}

/// Splits `source` (without its byte-order mark) into tokens ending with [`Kind::Eof`].
pub(crate) fn tokens(source: &str) -> Result<Vec<Token<'_>>, FmtError> {
    let mut lexer = Lexer {
        source,
        position: 0,
        last_end: 0,
        tokens: Vec::new(),
        braces: 0,
        sequence_braces: Vec::new(),
        modes: vec![Mode::Expressions],
    };
    while lexer.position < source.len() {
        match *lexer
            .modes
            .last()
            .expect("the expression mode is never popped")
        {
            Mode::Expressions => lexer.expression_token()?,
            Mode::Quoted => lexer.quoted_token()?,
            Mode::Heredoc {
                marker,
                start_of_line,
            } => lexer.heredoc_token(marker, start_of_line)?,
        }
    }
    match lexer.modes.last() {
        Some(Mode::Quoted) => {
            return Err(FmtError::new("unterminated template string", source.len()));
        }
        Some(Mode::Heredoc { .. }) => {
            return Err(FmtError::new(
                "unterminated heredoc: no line with its closing marker",
                source.len(),
            ));
        }
        _ => {}
    }
    if lexer.modes.len() > 1 {
        return Err(FmtError::new(
            "unclosed template sequence `${` or `%{`",
            source.len(),
        ));
    }
    lexer.emit(Kind::Eof, source.len());
    Ok(lexer.tokens)
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.source[self.position..]
    }

    /// Emits the token from the current position to `end` and moves past it.
    fn emit(&mut self, kind: Kind, end: usize) {
        let start = self.position;
        self.tokens.push(Token {
            kind,
            text: Cow::Borrowed(&self.source[start..end]),
            start,
            spaces_before: start - self.last_end,
        });
        self.position = end;
        self.last_end = end;
    }

    fn expression_token(&mut self) -> Result<(), FmtError> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let start = self.position;
        let first = rest.chars().next().expect("not at the end");
        let at = |index: usize| bytes.get(index).copied();
        match first {
            ' ' | '\t' => {
                let blank = bytes
                    .iter()
                    .take_while(|byte| **byte == b' ' || **byte == b'\t')
                    .count();
                self.position += blank;
            }
            '0'..='9' => self.emit(Kind::NumberLit, start + number_length(bytes)),
            '#' => self.emit(Kind::Comment, start + line_comment_length(rest)),
            '/' if at(1) == Some(b'/') => {
                self.emit(Kind::Comment, start + line_comment_length(rest))
            }
            '/' if at(1) == Some(b'*') => match rest[2..].find("*/") {
                Some(close) => self.emit(Kind::Comment, start + 2 + close + 2),
                None => self.emit(Kind::Slash, start + 1),
            },
            '\n' => self.emit(Kind::Newline, start + 1),
            '\r' if at(1) == Some(b'\n') => self.emit(Kind::Newline, start + 2),
            '"' => {
                self.emit(Kind::OQuote, start + 1);
                self.modes.push(Mode::Quoted);
            }
            '<' if rest.starts_with("<<") => {
                if let Some((length, marker)) = heredoc_introducer(rest) {
                    self.emit(Kind::OHeredoc, start + length);
                    self.modes.push(Mode::Heredoc {
                        marker,
                        start_of_line: true,
                    });
                } else {
                    self.emit(Kind::LessThan, start + 1);
                }
            }
            '{' => {
                self.emit(Kind::OBrace, start + 1);
                self.braces += 1;
            }
            '}' => self.close_brace(start + 1),
            '~' if at(1) == Some(b'}') => self.close_brace(start + 2),
            character if is_ident_start(character) => {
                self.emit(Kind::Ident, start + ident_length(rest));
            }
            _ => {
                let (kind, length) = operator(bytes).ok_or_else(|| {
                    FmtError::new(
                        format!("invalid character `{}`", first.escape_default()),
                        start,
                    )
                })?;
                self.emit(kind, start + length);
            }
        }
        Ok(())
    }

    /// `}` or `~}`: the end of a template sequence when its brace depth is reached, else an object
    /// or block brace (HCL's scanner also makes every `~}` a sequence end; the parser rejects a
    /// stray one).
    fn close_brace(&mut self, end: usize) {
        let closes_sequence = self.sequence_braces.last() == Some(&self.braces);
        let strip = end - self.position == 2;
        if closes_sequence {
            self.emit(Kind::TemplateSeqEnd, end);
            self.sequence_braces.pop();
            self.modes.pop();
        } else if strip {
            self.emit(Kind::TemplateSeqEnd, end);
        } else {
            self.emit(Kind::CBrace, end);
        }
        self.braces -= 1;
    }

    /// `${`/`%{` (with an optional `~`), then expressions until the matching `}`.
    fn open_sequence(&mut self, kind: Kind) {
        let length = if self.rest()[2..].starts_with('~') {
            3
        } else {
            2
        };
        self.emit(kind, self.position + length);
        self.braces += 1;
        self.sequence_braces.push(self.braces);
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = false;
        }
        self.modes.push(Mode::Expressions);
    }

    fn quoted_token(&mut self) -> Result<(), FmtError> {
        let rest = self.rest();
        let start = self.position;
        if rest.starts_with("${") {
            self.open_sequence(Kind::TemplateInterp);
            return Ok(());
        }
        if rest.starts_with("%{") {
            self.open_sequence(Kind::TemplateControl);
            return Ok(());
        }
        if rest.starts_with('"') {
            self.emit(Kind::CQuote, start + 1);
            self.modes.pop();
            return Ok(());
        }
        if rest.starts_with(['\r', '\n']) {
            return Err(FmtError::new(
                "a quoted string cannot contain a line break (use `\\n`, or a heredoc)",
                start,
            ));
        }
        if let Some(length) = lone_template_sign(rest) {
            self.emit(Kind::QuotedLit, start + length);
            return Ok(());
        }
        // A run of plain characters and backslash escapes.
        let mut length = 0;
        let mut characters = rest.char_indices().peekable();
        while let Some((index, character)) = characters.next() {
            match character {
                '$' | '%' | '"' | '\r' | '\n' => break,
                '\\' => match characters.peek() {
                    Some((_, '\r' | '\n')) | None => break,
                    Some(&(next, escaped)) => {
                        characters.next();
                        length = next + escaped.len_utf8();
                    }
                },
                _ => length = index + character.len_utf8(),
            }
        }
        if length == 0 {
            return Err(FmtError::new(
                "a backslash must be followed by an escaped character",
                start,
            ));
        }
        self.emit(Kind::QuotedLit, start + length);
        Ok(())
    }

    fn heredoc_token(&mut self, marker: &'a str, start_of_line: bool) -> Result<(), FmtError> {
        let rest = self.rest();
        let start = self.position;
        if rest.starts_with("${") {
            self.open_sequence(Kind::TemplateInterp);
            return Ok(());
        }
        if rest.starts_with("%{") {
            self.open_sequence(Kind::TemplateControl);
            return Ok(());
        }
        // A literal up to the next sequence or through the end of the line.
        let bytes = rest.as_bytes();
        let mut length = 0;
        let mut ends_line = false;
        while length < bytes.len() {
            match bytes[length] {
                b'\n' => {
                    length += 1;
                    ends_line = true;
                    break;
                }
                b'\r' if bytes.get(length + 1) != Some(&b'\n') => {
                    return Err(FmtError::new("invalid character `\\r`", start + length));
                }
                sign @ (b'$' | b'%') => {
                    if bytes.get(length + 1) == Some(&b'{') {
                        break;
                    }
                    if bytes.get(length + 1) == Some(&sign) && bytes.get(length + 2) == Some(&b'{')
                    {
                        length += 3;
                    } else {
                        length += 1;
                    }
                }
                _ => length += 1,
            }
        }
        let literal = &rest[..length];
        if ends_line && start_of_line && literal.trim() == marker {
            let line_end = if literal.ends_with("\r\n") { 2 } else { 1 };
            self.emit(Kind::CHeredoc, start + length - line_end);
            self.emit(Kind::Newline, start + length);
            self.modes.pop();
            return Ok(());
        }
        self.emit(Kind::StringLit, start + length);
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = ends_line;
        }
        Ok(())
    }
}

/// `$`, `%`, `$${`, `%%{` (with an optional `~`) at the start of a quoted literal: each is a token
/// of its own in HCL's scanner (`${` and `%{` are handled before).
fn lone_template_sign(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let sign = *bytes.first()?;
    if sign != b'$' && sign != b'%' {
        return None;
    }
    if bytes.get(1) == Some(&sign) && bytes.get(2) == Some(&b'{') {
        return Some(if bytes.get(3) == Some(&b'~') { 4 } else { 3 });
    }
    Some(1)
}

/// `<<EOT` or `<<-EOT` followed by a line end: the introducer's length (with the line end) and
/// the marker.
fn heredoc_introducer(rest: &str) -> Option<(usize, &str)> {
    let after = &rest[2..];
    let dash = usize::from(after.starts_with('-'));
    let name = &after[dash..];
    if !name.chars().next().is_some_and(is_ident_start) {
        return None;
    }
    let name_length = ident_length(name);
    let line_end = if name[name_length..].starts_with('\n') {
        1
    } else if name[name_length..].starts_with("\r\n") {
        2
    } else {
        return None;
    };
    Some((2 + dash + name_length + line_end, &name[..name_length]))
}

/// The length of a `#` or `//` comment, through its line end when there is one.
fn line_comment_length(rest: &str) -> usize {
    rest.find('\n').map_or(rest.len(), |newline| newline + 1)
}

/// HCL's number literal: digits, then any of digits, `.` and exponents (`e`, `E` with an optional
/// sign and a digit), never ending with `.`.
fn number_length(bytes: &[u8]) -> usize {
    let mut length = 1;
    let mut last_good = 1;
    loop {
        match bytes.get(length) {
            Some(b'0'..=b'9') => {
                length += 1;
                last_good = length;
            }
            Some(b'.') => length += 1,
            Some(b'e' | b'E') => {
                let digit_at = if matches!(bytes.get(length + 1), Some(b'+' | b'-')) {
                    length + 2
                } else {
                    length + 1
                };
                if bytes.get(digit_at).is_some_and(u8::is_ascii_digit) {
                    length = digit_at + 1;
                    last_good = length;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    last_good
}

fn is_ident_start(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_alphabetic() || character == '_';
    }
    hcl::edit::Ident::try_new(character.to_string()).is_ok()
}

fn is_ident_continue(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_alphanumeric() || character == '_' || character == '-';
    }
    hcl::edit::Ident::try_new(format!("a{character}")).is_ok()
}

/// The length of the identifier at the start of `rest` (its first character already checked).
fn ident_length(rest: &str) -> usize {
    let mut characters = rest.char_indices();
    let first = characters
        .next()
        .map_or(0, |(_, character)| character.len_utf8());
    characters
        .find(|(_, character)| !is_ident_continue(*character))
        .map_or(rest.len(), |(index, _)| index)
        .max(first)
}

/// Operators and punctuation, longest first.
fn operator(bytes: &[u8]) -> Option<(Kind, usize)> {
    let two = match bytes.get(..2) {
        Some(b"==") => Some(Kind::EqualOp),
        Some(b"!=") => Some(Kind::NotEqual),
        Some(b">=") => Some(Kind::GreaterThanEq),
        Some(b"<=") => Some(Kind::LessThanEq),
        Some(b"&&") => Some(Kind::And),
        Some(b"||") => Some(Kind::Or),
        Some(b"::") => Some(Kind::DoubleColon),
        Some(b"=>") => Some(Kind::FatArrow),
        _ => None,
    };
    if bytes.starts_with(b"...") {
        return Some((Kind::Ellipsis, 3));
    }
    if let Some(kind) = two {
        return Some((kind, 2));
    }
    let kind = match bytes.first()? {
        b'[' => Kind::OBrack,
        b']' => Kind::CBrack,
        b'(' => Kind::OParen,
        b')' => Kind::CParen,
        b'.' => Kind::Dot,
        b',' => Kind::Comma,
        b'*' => Kind::Star,
        b'/' => Kind::Slash,
        b'%' => Kind::Percent,
        b'+' => Kind::Plus,
        b'-' => Kind::Minus,
        b'=' => Kind::Equal,
        b'<' => Kind::LessThan,
        b'>' => Kind::GreaterThan,
        b'!' => Kind::Bang,
        b'?' => Kind::Question,
        b':' => Kind::Colon,
        b'&' | b'|' | b'~' | b'^' | b';' | b'`' | b'\'' => Kind::Invalid,
        _ => return None,
    };
    Some((kind, 1))
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[track_caller]
    fn kinds_and_texts(source: &str) -> Vec<(Kind, String, usize)> {
        tokens(source)
            .expect("lexes")
            .into_iter()
            .map(|token| (token.kind, token.text.into_owned(), token.spaces_before))
            .collect()
    }

    #[test]
    fn attribute_with_blank_and_comment() {
        use Kind::*;
        assert_eq!(
            kinds_and_texts("a \t= 1.5e+3 # c\r\n"),
            vec![
                (Ident, "a".into(), 0),
                (Equal, "=".into(), 2),
                (NumberLit, "1.5e+3".into(), 1),
                (Comment, "# c\r\n".into(), 1),
                (Eof, "".into(), 0),
            ]
        );
    }

    #[test]
    fn quoted_template_pieces() {
        use Kind::*;
        assert_eq!(
            kinds_and_texts(r#""a$b$${c}%%{~d}\"${ x }""#),
            vec![
                (OQuote, "\"".into(), 0),
                (QuotedLit, "a".into(), 0),
                (QuotedLit, "$".into(), 0),
                (QuotedLit, "b".into(), 0),
                (QuotedLit, "$${".into(), 0),
                (QuotedLit, "c}".into(), 0),
                (QuotedLit, "%%{~".into(), 0),
                (QuotedLit, "d}\\\"".into(), 0),
                (TemplateInterp, "${".into(), 0),
                (Ident, "x".into(), 1),
                (TemplateSeqEnd, "}".into(), 1),
                (CQuote, "\"".into(), 0),
                (Eof, "".into(), 0),
            ]
        );
    }

    #[test]
    fn heredoc_ends_at_its_marker_line_only() {
        use Kind::*;
        let source = "x = <<-EOT\n  a ${ {b = 1} }EOT\n  EOT \nEOT\n";
        assert_eq!(
            kinds_and_texts(source),
            vec![
                (Ident, "x".into(), 0),
                (Equal, "=".into(), 1),
                (OHeredoc, "<<-EOT\n".into(), 1),
                (StringLit, "  a ".into(), 0),
                (TemplateInterp, "${".into(), 0),
                (OBrace, "{".into(), 1),
                (Ident, "b".into(), 0),
                (Equal, "=".into(), 1),
                (NumberLit, "1".into(), 1),
                (CBrace, "}".into(), 0),
                (TemplateSeqEnd, "}".into(), 1),
                (StringLit, "EOT\n".into(), 0),
                (CHeredoc, "  EOT ".into(), 0),
                (Newline, "\n".into(), 0),
                (Ident, "EOT".into(), 0),
                (Newline, "\n".into(), 0),
                (Eof, "".into(), 0),
            ]
        );
    }

    #[test]
    fn operators_take_the_longest_match() {
        use Kind::*;
        let kinds: Vec<Kind> = tokens("a...b=>c==d!=e<=f>=g&&h||i::j.k<<l")
            .expect("lexes")
            .into_iter()
            .map(|token| token.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                Ident,
                Ellipsis,
                Ident,
                FatArrow,
                Ident,
                EqualOp,
                Ident,
                NotEqual,
                Ident,
                LessThanEq,
                Ident,
                GreaterThanEq,
                Ident,
                And,
                Ident,
                Or,
                Ident,
                DoubleColon,
                Ident,
                Dot,
                Ident,
                LessThan,
                LessThan,
                Ident,
                Eof
            ]
        );
    }

    #[test]
    fn numbers_never_end_with_a_dot() {
        assert_eq!(number_length(b"1.x"), 1);
        assert_eq!(number_length(b"12.50"), 5);
        assert_eq!(number_length(b"1e"), 1);
        assert_eq!(number_length(b"1E-7]"), 4);
    }

    #[track_caller]
    fn error_offset(source: &str) -> usize {
        tokens(source).expect_err("not valid").offset
    }

    #[test]
    fn unterminated_strings_and_stray_characters_are_errors() {
        assert_eq!(error_offset("a = \"x"), 6);
        assert_eq!(error_offset("a = <<EOT\nx\nEOT"), 15);
        assert_eq!(error_offset("a = 1\r"), 5);
        assert_eq!(error_offset("a = \"x\ny\""), 6);
    }

    #[test]
    fn identifiers_may_be_unicode_and_contain_dashes() {
        let kinds: Vec<(Kind, String, usize)> = kinds_and_texts("héllo-wörld_1 ");
        assert_eq!(kinds[0], (Kind::Ident, "héllo-wörld_1".into(), 0));
    }
}
