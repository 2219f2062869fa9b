//! Checks that the tokens form a configuration as Terraform's parser (`hclsyntax`) accepts it,
//! and records the structure the rewrites need: each body's attributes (with the tokens of
//! their value) and blocks (with their labels). Expressions are checked, not kept.
//!
//! Line ends follow `hclsyntax`: they end an attribute and separate object items, and are
//! ignored inside parentheses, brackets, `${ }` sequences and `for` expressions; a `#` or `//`
//! comment counts as the line end it contains, other comments are ignored. Like `hclsyntax`,
//! an attribute set twice in one body is an error, an object key used twice is not.

use std::collections::HashSet;
use std::ops::Range;

use super::FmtError;
use super::lex::{Kind, Token};

/// A body: the file or a block's content.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) items: Vec<Item>,
}

/// One item of a body; ranges are token indices.
#[derive(Debug)]
pub(crate) enum Item {
    Attribute {
        name: usize,
        /// The value's tokens, from its first to its last (comments around it excluded).
        value: Range<usize>,
    },
    Block {
        type_name: usize,
        /// Each label: an identifier, or a quoted string from its `"` to its `"`.
        labels: Vec<Range<usize>>,
        body: Body,
    },
}

/// Parses a whole file.
pub(crate) fn parse(tokens: &[Token<'_>]) -> Result<Body, FmtError> {
    if let Some(invalid) = tokens.iter().find(|token| token.kind == Kind::Invalid) {
        return Err(FmtError::new(
            format!("invalid character `{}`", invalid.text),
            invalid.start,
        ));
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        last: 0,
        newlines: vec![true],
        depth: 0,
    };
    let body = parser.body(Kind::Eof)?;
    Ok(body)
}

/// How deep blocks and expressions may nest: far beyond any configuration, low enough that the
/// recursive descent stays within a 2 MiB thread stack. Terraform has no such limit.
const MAX_DEPTH: usize = 200;

struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    /// The index from which the next token is looked for.
    next: usize,
    /// The index of the last token read.
    last: usize,
    /// Whether line ends are significant, innermost last.
    newlines: Vec<bool>,
    /// How many bodies, expressions and operands are being parsed, one inside the other.
    depth: usize,
}

/// The binary operators, from the loosest to the tightest.
const PRECEDENCE: &[&[Kind]] = &[
    &[Kind::Or],
    &[Kind::And],
    &[Kind::EqualOp, Kind::NotEqual],
    &[
        Kind::GreaterThan,
        Kind::GreaterThanEq,
        Kind::LessThan,
        Kind::LessThanEq,
    ],
    &[Kind::Plus, Kind::Minus],
    &[Kind::Star, Kind::Slash, Kind::Percent],
];

impl Parser<'_, '_> {
    /// The next significant token: its index and kind (a line comment is a `Newline` where line
    /// ends count).
    fn peek(&self) -> (usize, Kind) {
        let newlines = *self
            .newlines
            .last()
            .expect("the body level is never popped");
        let mut index = self.next;
        loop {
            let token = &self.tokens[index];
            match token.kind {
                Kind::Comment if newlines && token.ends_line() => return (index, Kind::Newline),
                Kind::Comment => index += 1,
                Kind::Newline if !newlines => index += 1,
                kind => return (index, kind),
            }
        }
    }

    fn peek_kind(&self) -> Kind {
        self.peek().1
    }

    fn read(&mut self) -> usize {
        let (index, kind) = self.peek();
        if kind != Kind::Eof {
            self.next = index + 1;
        }
        self.last = index;
        index
    }

    fn text(&self, index: usize) -> &str {
        &self.tokens[index].text
    }

    fn error<T>(&self, index: usize, message: impl Into<String>) -> Result<T, FmtError> {
        Err(FmtError::new(message, self.tokens[index].start))
    }

    /// Reads a token of `kind`, or fails with `message`.
    fn expect(&mut self, kind: Kind, message: &str) -> Result<usize, FmtError> {
        let (index, found) = self.peek();
        if found != kind {
            return self.error(index, message);
        }
        Ok(self.read())
    }

    fn with_newlines<T>(&mut self, newlines: bool, parse: impl FnOnce(&mut Self) -> T) -> T {
        self.newlines.push(newlines);
        let result = parse(self);
        self.newlines.pop();
        result
    }

    /// Runs `parse` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, FmtError>,
    ) -> Result<T, FmtError> {
        if self.depth >= MAX_DEPTH {
            let (index, _) = self.peek();
            return self.error(index, format!("nested more than {MAX_DEPTH} levels deep"));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn body(&mut self, end: Kind) -> Result<Body, FmtError> {
        self.nested(|parser| parser.body_items(end))
    }

    fn body_items(&mut self, end: Kind) -> Result<Body, FmtError> {
        let mut body = Body::default();
        let mut names = HashSet::new();
        loop {
            let (index, kind) = self.peek();
            match kind {
                _ if kind == end => return Ok(body),
                Kind::Newline => {
                    self.read();
                }
                Kind::Ident => {
                    let item = self.item()?;
                    if let Item::Attribute { name, .. } = &item
                        && !names.insert(self.text(*name).to_owned())
                    {
                        return self.error(
                            *name,
                            format!(
                                "attribute redefined: the argument `{}` was already set; each argument may be set only once",
                                self.text(*name)
                            ),
                        );
                    }
                    body.items.push(item);
                }
                Kind::Eof => {
                    return self.error(index, "unclosed configuration block: expected `}`");
                }
                _ => return self.error(index, "argument or block definition required"),
            }
        }
    }

    fn item(&mut self) -> Result<Item, FmtError> {
        let name = self.read();
        let (index, kind) = self.peek();
        match kind {
            Kind::Equal => self.attribute(name, false),
            Kind::OQuote | Kind::OBrace | Kind::Ident => self.block(name),
            _ => self.error(
                index,
                "argument or block definition required: use `=` to set an argument",
            ),
        }
    }

    fn attribute(&mut self, name: usize, single_line: bool) -> Result<Item, FmtError> {
        self.read();
        let value = self.expression()?;
        if !single_line {
            let (index, kind) = self.peek();
            match kind {
                Kind::Newline => {
                    self.read();
                }
                Kind::Eof => {}
                _ => return self.error(index, "missing newline after argument"),
            }
        }
        Ok(Item::Attribute { name, value })
    }

    fn block(&mut self, type_name: usize) -> Result<Item, FmtError> {
        let mut labels = Vec::new();
        loop {
            let (index, kind) = self.peek();
            match kind {
                Kind::OBrace => break,
                Kind::Ident => {
                    self.read();
                    labels.push(index..index + 1);
                }
                Kind::OQuote => {
                    let open = self.read();
                    let close = self.label_literal()?;
                    labels.push(open..close + 1);
                }
                Kind::Newline => {
                    return self.error(
                        index,
                        "invalid block definition: a block's `{` must be on the same line as its type and labels",
                    );
                }
                _ => {
                    return self.error(
                        index,
                        "invalid block definition: expected a quoted label or `{`",
                    );
                }
            }
        }
        self.read();
        let body = match self.peek_kind() {
            Kind::Newline | Kind::Eof | Kind::CBrace => self.body(Kind::CBrace)?,
            _ => self.single_attribute_body()?,
        };
        self.read();
        let (index, kind) = self.peek();
        match kind {
            Kind::Newline => {
                self.read();
            }
            Kind::Eof => {}
            _ => return self.error(index, "missing newline after block definition"),
        }
        Ok(Item::Block {
            type_name,
            labels,
            body,
        })
    }

    /// `b { name = value }`: one attribute, then the closing brace on the same line.
    fn single_attribute_body(&mut self) -> Result<Body, FmtError> {
        let (index, kind) = self.peek();
        if kind != Kind::Ident {
            return self.error(index, "argument or block definition required");
        }
        let name = self.read();
        let (index, kind) = self.peek();
        let attribute = match kind {
            Kind::Equal => self.attribute(name, true)?,
            Kind::OQuote | Kind::OBrace | Kind::Ident => {
                return self.error(
                    index,
                    "a single-line block definition can contain only a single argument; place a nested block on a line of its own",
                );
            }
            _ => {
                return self.error(
                    index,
                    "argument or block definition required: use `=` to set an argument",
                );
            }
        };
        let (index, kind) = self.peek();
        match kind {
            Kind::CBrace => Ok(Body {
                items: vec![attribute],
            }),
            Kind::Comma => self.error(
                index,
                "invalid single-argument block definition: a single-line block can include only one argument",
            ),
            _ => self.error(
                index,
                "invalid single-argument block definition: a single-line block must be closed on the same line, right after its argument",
            ),
        }
    }

    /// A quoted label after its `"`: literal text only. Returns the index of the closing `"`.
    fn label_literal(&mut self) -> Result<usize, FmtError> {
        loop {
            let (index, kind) = self.peek();
            match kind {
                Kind::QuotedLit => {
                    self.read();
                    self.check_escapes(index)?;
                }
                Kind::CQuote => return Ok(self.read()),
                Kind::TemplateInterp | Kind::TemplateControl => {
                    return self.error(
                        index,
                        "invalid string literal: template sequences are not allowed in a block label; to include a literal `$`, double it (`$${`)",
                    );
                }
                _ => return self.error(index, "unterminated template string"),
            }
        }
    }

    fn check_escapes(&self, index: usize) -> Result<(), FmtError> {
        if unescape(self.text(index)).is_none() {
            return self.error(
                index,
                "invalid escape sequence: the only escapes are `\\n`, `\\r`, `\\t`, `\\\"`, `\\\\`, `\\uNNNN` and `\\UNNNNNNNN`",
            );
        }
        Ok(())
    }

    /// An expression; returns the indices of its tokens.
    fn expression(&mut self) -> Result<Range<usize>, FmtError> {
        let (start, _) = self.peek();
        self.nested(Self::conditional)?;
        Ok(start..self.last + 1)
    }

    fn conditional(&mut self) -> Result<(), FmtError> {
        self.binary(0)?;
        if self.peek_kind() == Kind::Question {
            self.read();
            self.expression()?;
            self.expect(
                Kind::Colon,
                "missing false expression: a conditional needs `:` and the result when the condition is false",
            )?;
            self.expression()?;
        }
        Ok(())
    }

    fn binary(&mut self, level: usize) -> Result<(), FmtError> {
        let Some(operators) = PRECEDENCE.get(level) else {
            return self.with_traversals();
        };
        self.binary(level + 1)?;
        while operators.contains(&self.peek_kind()) {
            self.read();
            self.binary(level + 1)?;
        }
        Ok(())
    }

    fn with_traversals(&mut self) -> Result<(), FmtError> {
        self.nested(Self::term)?;
        // Within an attribute splat (`.*` up to the next `[`), another `.*` is refused.
        let mut in_attribute_splat = false;
        loop {
            match self.peek_kind() {
                Kind::Dot => {
                    self.read();
                    let (index, kind) = self.peek();
                    match kind {
                        Kind::Ident => {
                            self.read();
                        }
                        Kind::Star if in_attribute_splat => {
                            return self.error(
                                index,
                                "nested splat expression not allowed: a splat cannot follow an attribute splat (`.*`) directly",
                            );
                        }
                        Kind::Star => {
                            self.read();
                            in_attribute_splat = true;
                        }
                        Kind::NumberLit
                            if !self.text(index).contains('.') && is_number(self.text(index)) =>
                        {
                            self.read();
                        }
                        Kind::NumberLit => {
                            return self.error(
                                index,
                                "invalid legacy index syntax: chaining two indexes as `.1.2` is not permitted; use `[1][2]`",
                            );
                        }
                        _ => {
                            return self.error(
                                index,
                                "invalid attribute name: an attribute name is required after a dot",
                            );
                        }
                    }
                }
                Kind::OBrack => {
                    self.read();
                    in_attribute_splat = false;
                    // `[*]` is recognized before line ends stop counting.
                    if self.peek_kind() == Kind::Star {
                        self.read();
                        self.expect(Kind::CBrack, "missing close bracket on splat index")?;
                    } else {
                        self.with_newlines(false, |parser| {
                            parser.expression()?;
                            parser.expect(Kind::CBrack, "missing close bracket on index")
                        })?;
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn term(&mut self) -> Result<(), FmtError> {
        let (index, kind) = self.peek();
        match kind {
            Kind::OParen => {
                self.read();
                self.with_newlines(false, |parser| {
                    parser.expression()?;
                    parser.expect(Kind::CParen, "unbalanced parentheses: expected `)`")
                })?;
            }
            Kind::NumberLit => {
                if !is_number(self.text(index)) {
                    return self.error(
                        index,
                        format!("invalid number literal `{}`", self.text(index)),
                    );
                }
                self.read();
            }
            Kind::Ident => {
                self.read();
                match self.peek_kind() {
                    Kind::OParen => self.call()?,
                    Kind::DoubleColon => {
                        // A provider-defined function: `provider::name::function(…)`.
                        while self.peek_kind() == Kind::DoubleColon {
                            self.read();
                            self.expect(
                                Kind::Ident,
                                "invalid function name: expected a name after `::`",
                            )?;
                        }
                        if self.peek_kind() != Kind::OParen {
                            return self.error(
                                self.peek().0,
                                "missing function arguments: a namespaced function name must be followed by `(`",
                            );
                        }
                        self.call()?;
                    }
                    _ => {}
                }
            }
            Kind::OQuote => self.template(Kind::CQuote)?,
            Kind::OHeredoc => self.template(Kind::CHeredoc)?,
            Kind::Minus | Kind::Bang => {
                self.read();
                self.with_traversals()?;
            }
            Kind::OBrack => self.tuple()?,
            Kind::OBrace => self.object()?,
            _ => {
                return self.error(
                    index,
                    "invalid expression: expected the start of an expression",
                );
            }
        }
        Ok(())
    }

    fn call(&mut self) -> Result<(), FmtError> {
        self.read();
        self.with_newlines(false, |parser| {
            loop {
                if parser.peek_kind() == Kind::CParen {
                    parser.read();
                    return Ok(());
                }
                parser.expression()?;
                let (index, kind) = parser.peek();
                match kind {
                    Kind::Ellipsis => {
                        parser.read();
                        parser.expect(
                            Kind::CParen,
                            "missing closing parenthesis: an expanded argument (with `...`) must be the last one",
                        )?;
                        return Ok(());
                    }
                    Kind::CParen => {
                        parser.read();
                        return Ok(());
                    }
                    Kind::Comma => {
                        parser.read();
                    }
                    _ => {
                        return parser.error(
                            index,
                            "missing argument separator: a comma is required between function arguments",
                        );
                    }
                }
            }
        })
    }

    fn tuple(&mut self) -> Result<(), FmtError> {
        self.read();
        self.with_newlines(false, |parser| {
            if parser.is_for() {
                return parser.for_expression(Kind::CBrack);
            }
            loop {
                if parser.peek_kind() == Kind::CBrack {
                    parser.read();
                    return Ok(());
                }
                parser.expression()?;
                let (index, kind) = parser.peek();
                match kind {
                    Kind::Comma => {
                        parser.read();
                    }
                    Kind::CBrack => {
                        parser.read();
                        return Ok(());
                    }
                    _ => {
                        return parser.error(
                            index,
                            "missing item separator: expected a comma before the next item",
                        );
                    }
                }
            }
        })
    }

    fn is_for(&self) -> bool {
        let (index, kind) = self.peek();
        kind == Kind::Ident && self.text(index) == "for"
    }

    fn object(&mut self) -> Result<(), FmtError> {
        self.read();
        // `for` expressions ignore line ends, so the keyword is looked for across them.
        if self.with_newlines(false, |parser| parser.is_for()) {
            return self.with_newlines(false, |parser| parser.for_expression(Kind::CBrace));
        }
        self.with_newlines(true, |parser| {
            loop {
                let (index, kind) = parser.peek();
                match kind {
                    Kind::Newline => {
                        parser.read();
                        continue;
                    }
                    Kind::CBrace => {
                        parser.read();
                        return Ok(());
                    }
                    Kind::Eof => return parser.error(index, "unclosed object: expected `}`"),
                    _ => {}
                }
                parser.expression()?;
                let (index, kind) = parser.peek();
                if !matches!(kind, Kind::Equal | Kind::Colon) {
                    return parser.error(
                        index,
                        "missing key/value separator: expected `=` after the key",
                    );
                }
                parser.read();
                parser.expression()?;
                let (index, kind) = parser.peek();
                match kind {
                    Kind::Comma | Kind::Newline => {
                        parser.read();
                    }
                    Kind::CBrace => {}
                    _ => {
                        return parser.error(
                            index,
                            "missing attribute separator: expected a newline or a comma before the next attribute",
                        );
                    }
                }
            }
        })
    }

    /// `for k, v in collection : …` after its `[` or `{`, through `close`.
    fn for_expression(&mut self, close: Kind) -> Result<(), FmtError> {
        self.for_header("expression")?;
        self.expect(
            Kind::Colon,
            "invalid `for` expression: a colon is required after the collection",
        )?;
        if close == Kind::CBrace {
            self.expression()?;
            self.expect(
                Kind::FatArrow,
                "invalid `for` expression: an object `for` needs `=>` between key and value",
            )?;
            self.expression()?;
            if self.peek_kind() == Kind::Ellipsis {
                self.read();
            }
        } else {
            self.expression()?;
        }
        let (index, kind) = self.peek();
        if kind == Kind::Ident && self.text(index) == "if" {
            self.read();
            self.expression()?;
        }
        self.expect(
            close,
            "invalid `for` expression: extra characters after the end of the `for` expression",
        )?;
        Ok(())
    }

    /// `for k, v in collection` from the `for` keyword, in a `for` expression or directive
    /// (`what`, for messages).
    fn for_header(&mut self, what: &str) -> Result<(), FmtError> {
        self.read();
        self.expect(
            Kind::Ident,
            &format!("invalid `for` {what}: a variable name is required after `for`"),
        )?;
        if self.peek_kind() == Kind::Comma {
            self.read();
            self.expect(
                Kind::Ident,
                &format!("invalid `for` {what}: a value variable name is required after the comma"),
            )?;
        }
        let (index, kind) = self.peek();
        if kind != Kind::Ident || self.text(index) != "in" {
            return self.error(
                index,
                format!(
                    "invalid `for` {what}: the `in` keyword is required after the variable names"
                ),
            );
        }
        self.read();
        self.expression()?;
        Ok(())
    }

    /// A quoted string or heredoc from its opening token through `close`, with its sequences.
    fn template(&mut self, close: Kind) -> Result<(), FmtError> {
        self.read();
        // Open `%{ if }` (false) and `%{ for }` (true) directives; `else` already seen.
        let mut open: Vec<(usize, bool, bool)> = Vec::new();
        loop {
            let (index, kind) = self.peek();
            match kind {
                _ if kind == close => {
                    self.read();
                    break;
                }
                Kind::QuotedLit => {
                    self.read();
                    self.check_escapes(index)?;
                }
                Kind::StringLit => {
                    self.read();
                }
                Kind::TemplateInterp => {
                    self.read();
                    self.with_newlines(false, |parser| {
                        parser.expression()?;
                        parser.expect(
                            Kind::TemplateSeqEnd,
                            "extra characters after interpolation expression: expected `}`; to write a literal `${`, double the `$` (`$${`)",
                        )
                    })?;
                }
                Kind::TemplateControl => {
                    self.read();
                    self.with_newlines(false, |parser| parser.directive(index, &mut open))?;
                }
                _ => return self.error(index, "unterminated template string"),
            }
        }
        if let Some((index, _, _)) = open.last() {
            return self.error(
                *index,
                "unterminated template directive: a `%{ if }` needs `%{ endif }` and a `%{ for }` needs `%{ endfor }`",
            );
        }
        Ok(())
    }

    /// A `%{ … }` directive after its `%{` (at `start`).
    fn directive(
        &mut self,
        start: usize,
        open: &mut Vec<(usize, bool, bool)>,
    ) -> Result<(), FmtError> {
        let (index, kind) = self.peek();
        let keyword = if kind == Kind::Ident {
            self.text(index).to_owned()
        } else {
            String::new()
        };
        match keyword.as_str() {
            "if" => {
                self.read();
                self.expression()?;
                open.push((start, false, false));
            }
            "else" => {
                self.read();
                match open.last_mut() {
                    Some((_, false, seen_else)) if !*seen_else => *seen_else = true,
                    _ => return self.error(index, "unexpected `else` directive outside an `if`"),
                }
            }
            "endif" => {
                self.read();
                if !matches!(open.pop(), Some((_, false, _))) {
                    return self.error(index, "unexpected `endif` directive");
                }
            }
            "for" => {
                self.for_header("directive")?;
                open.push((start, true, false));
            }
            "endfor" => {
                self.read();
                if !matches!(open.pop(), Some((_, true, _))) {
                    return self.error(index, "unexpected `endfor` directive");
                }
            }
            _ => {
                return self.error(
                    index,
                    "invalid template directive: expected `if`, `else`, `endif`, `for` or `endfor`",
                );
            }
        }
        self.expect(
            Kind::TemplateSeqEnd,
            "extra characters in template directive: expected `}`",
        )?;
        Ok(())
    }
}

/// A decimal number as HCL reads it (Go's `big.Float` parsing in base 10): digits, an optional
/// `.` with optional digits (`1.E-2` is a number), an optional exponent.
fn is_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count()
    };
    let mut at = digits(0);
    if at == 0 {
        return false;
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1 + digits(at + 1);
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

/// The value of one quoted literal token: backslash escapes, `$${` and `%%{`. `None` for an
/// invalid escape.
pub(crate) fn unescape(literal: &str) -> Option<String> {
    let mut value = String::with_capacity(literal.len());
    let mut characters = literal.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                let escaped = match characters.next()? {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '"' => '"',
                    '\\' => '\\',
                    letter @ ('u' | 'U') => {
                        let digits = if letter == 'u' { 4 } else { 8 };
                        let mut code = 0;
                        for _ in 0..digits {
                            code = code * 16 + characters.next()?.to_digit(16)?;
                        }
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    }
                    _ => return None,
                };
                value.push(escaped);
            }
            '$' | '%' if characters.peek() == Some(&character) => {
                characters.next();
                if characters.peek() != Some(&'{') {
                    value.push(character);
                }
                value.push(character);
            }
            _ => value.push(character),
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn accepts(source: &str) -> bool {
        let tokens = super::super::lex::tokens(source).expect("lexes");
        parse(&tokens).is_ok()
    }

    #[test]
    fn line_ends_count_only_outside_brackets() {
        assert!(accepts("a = (x ?\n1 : 2)\n"));
        assert!(!accepts("a = x ?\n1 : 2\n"));
        assert!(accepts("a = x[\n0]\n"));
        assert!(!accepts("a = x[\n*]\n"));
        assert!(accepts("a = {\nfor k, v in y: k => v\n}\n"));
        assert!(!accepts("a = { a = 1\n, b = 2 }\n"));
        assert!(accepts("a = { # c\n  b = 1 // d\n}\n"));
    }

    #[test]
    fn blocks_and_attributes() {
        assert!(accepts("b x \"y\" { a = 1 }\n"));
        assert!(!accepts("b { a = 1, c = 2 }\n"));
        assert!(!accepts("b { c {} }\n"));
        assert!(!accepts("b {\n} c {}\n"));
        assert!(!accepts("a = 1\na = 2\n"));
        assert!(accepts("a = { x = 1, x = 2 }\n"));
        assert!(!accepts("b \"${x}\" {}\n"));
        assert!(accepts("a /* c */ = 1"));
    }

    #[test]
    fn deep_nesting_is_refused_before_the_stack_runs_out() {
        // Each level of `[` costs two nesting steps (the item and its operand).
        let deep = |levels: usize| format!("a = {}1{}\n", "[".repeat(levels), "]".repeat(levels));
        assert!(accepts(&deep(90)));
        assert!(!accepts(&deep(120)));
        assert!(!accepts(&format!("a = {}1\n", "-".repeat(10_000))));
        let blocks = |levels: usize| format!("{}{}", "b {\n".repeat(levels), "}\n".repeat(levels));
        assert!(accepts(&blocks(150)));
        assert!(!accepts(&blocks(250)));
    }

    #[test]
    fn numbers_escapes_and_directives() {
        assert!(!accepts("a = 1.2.3\n"));
        assert!(accepts("a = 1.E-2\n"));
        assert!(accepts("a = x.01\n"));
        assert!(!accepts("a = x.1.5\n"));
        assert!(!accepts("a = \"\\u12\"\n"));
        assert!(accepts("a = \"\\u00e9\\U0001F600\"\n"));
        assert!(!accepts("a = \"%{ else }\"\n"));
        assert!(accepts("a = \"%{ for k, v in y }${x}%{ endfor }\"\n"));
        assert!(!accepts("a = \"%{ foo }\"\n"));
        assert!(accepts("a = provider::x::y(1)\n"));
        assert!(!accepts("a = x::y\n"));
        assert!(!accepts("a = x.*.y.*.z\n"));
        assert!(!accepts("a = x.*.0.*\n"));
        assert!(accepts("a = x.*.y[0].*\n"));
        assert!(accepts("a = x[*].y[*].*\n"));
    }
}
