//! The whitespace rules of hclwrite's formatter, which `terraform fmt` applies to every file:
//! they set the blank before each token and change nothing else (no token is added, removed or
//! rewritten here).
//!
//! The token stream is cut into lines after each newline (a `#`/`//` comment ends its line too).
//! Each line has up to three cells:
//!
//! | cell    | what                                                                        |
//! |---------|-----------------------------------------------------------------------------|
//! | lead    | the line up to the assign or comment cell                                    |
//! | assign  | from the first `=` after the first token to the end, when its brackets balance |
//! | comment | a trailing comment, when the line has something before it                   |
//!
//! Then, in order:
//!
//! 1. indent: two spaces per level; a line whose brackets open more than they close opens one
//!    level (whatever the count), a line that closes dedents by the levels it closes, itself
//!    included (`}` sits with its opener), blank lines get nothing;
//! 2. spaces between the tokens of each cell ([`space_after`]); an assign cell starts with one;
//! 3. alignment: in each run of consecutive lines that have an assign cell, every `=` lines up
//!    one column after the longest lead; then, in each run of consecutive lines with a comment
//!    cell, every comment lines up one column after the longest lead and assign. A line without
//!    the cell (blank, comment-only, a block or a multi-line value opening) ends the run.

use std::ops::Range;

use super::columns::columns;
use super::lex::{Kind, Token};

#[derive(Debug, Clone)]
struct Line {
    lead: Range<usize>,
    assign: Option<Range<usize>>,
    comment: Option<Range<usize>>,
}

/// Sets `spaces_before` of every token except the end of file, whose blank is kept as it is.
pub(crate) fn lay_out(tokens: &mut [Token<'_>]) {
    let lines = lines(tokens);
    indent(&lines, tokens);
    space(&lines, tokens);
    align(&lines, tokens);
}

fn lines(tokens: &[Token<'_>]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut line_start = 0;
    for (index, token) in tokens.iter().enumerate() {
        if token.kind == Kind::Eof {
            lines.push(line_start..index);
            line_start = tokens.len();
            break;
        }
        if token.ends_line() {
            lines.push(line_start..index + 1);
            line_start = index + 1;
        }
    }
    if line_start < tokens.len() {
        lines.push(line_start..tokens.len());
    }
    lines.into_iter().map(|lead| cells(tokens, lead)).collect()
}

fn cells(tokens: &[Token<'_>], mut lead: Range<usize>) -> Line {
    let mut comment = None;
    if lead.len() > 1 && tokens[lead.end - 1].kind == Kind::Comment {
        comment = Some(lead.end - 1..lead.end);
        lead.end -= 1;
    }
    let mut assign = None;
    if let Some(equals) =
        (lead.start + 1..lead.end).find(|index| tokens[*index].kind == Kind::Equal)
    {
        // Only a value that closes every bracket it opens on this line is a one-line assignment.
        if net_brackets(&tokens[equals..lead.end]) == 0 {
            assign = Some(equals..lead.end);
            lead.end = equals;
        }
    }
    Line {
        lead,
        assign,
        comment,
    }
}

fn net_brackets(tokens: &[Token<'_>]) -> i32 {
    tokens.iter().map(|token| token.kind.bracket_change()).sum()
}

fn indent(lines: &[Line], tokens: &mut [Token<'_>]) {
    // Each entry: how many brackets the line that opened this level left open.
    let mut levels: Vec<i32> = Vec::new();
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        let first = line.lead.start;
        if tokens[first].kind == Kind::Newline {
            tokens[first].spaces_before = 0;
            continue;
        }
        // A heredoc's content cannot unbalance the line; the count stops at its introducer.
        let mut net = 0;
        for token in &tokens[line.lead.clone()] {
            net += token.kind.bracket_change();
            if token.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(assign) = &line.assign {
            net += net_brackets(&tokens[assign.clone()]);
        }
        if net > 0 {
            tokens[first].spaces_before = 2 * levels.len();
            levels.push(net);
            continue;
        }
        let mut closed = -net;
        while closed > 0 {
            let Some(open) = levels.last_mut() else {
                break;
            };
            if closed >= *open {
                closed -= *open;
                levels.pop();
            } else {
                *open -= closed;
                closed = 0;
            }
        }
        tokens[first].spaces_before = 2 * levels.len();
    }
}

fn space(lines: &[Line], tokens: &mut [Token<'_>]) {
    for line in lines {
        space_cell(tokens, line.lead.clone());
        if let Some(assign) = &line.assign {
            tokens[assign.start].spaces_before = 1;
            space_cell(tokens, assign.clone());
        }
    }
}

fn space_cell(tokens: &mut [Token<'_>], cell: Range<usize>) {
    for index in cell.start..cell.end.saturating_sub(1) {
        let before = (index > cell.start).then(|| tokens[index - 1].kind);
        let spaces = usize::from(space_after(&tokens[index], before, &tokens[index + 1]));
        tokens[index + 1].spaces_before = spaces;
    }
}

/// Whether one space goes between `subject` and `after` (`before` is the token before
/// `subject` in the same cell, `None` at the start of the cell). The first rule that applies
/// decides.
fn space_after(subject: &Token<'_>, before: Option<Kind>, after: &Token<'_>) -> bool {
    use Kind::*;
    let (subject_kind, after_kind) = (subject.kind, after.kind);
    match (subject_kind, after_kind) {
        (_, Newline | Eof) => false,
        // A function name and its parenthesis; namespace segments (`provider::name::fn`).
        (Ident, OParen) | (Ident, DoubleColon) | (DoubleColon, Ident) => false,
        (Dot, _) | (_, Dot) => false,
        (_, Comma | Ellipsis) => false,
        (Comma, _) => true,
        // Nothing inside a template's literal text.
        (QuotedLit | StringLit | OQuote | OHeredoc, _)
        | (_, QuotedLit | StringLit | CQuote | CHeredoc) => false,
        // `for x in [a]`: `in` is the keyword here, not a value being indexed.
        (Ident, _) if subject.text == "in" && before == Some(Ident) => true,
        (Ident | NumberLit, OBrack) => false,
        (_, OBrack) if subject_kind.bracket_change() < 0 => false,
        (Bang, _) => false,
        (Minus, _) => minus_is_binary(before),
        // Braces keep a space inside (`{ a = 1 }`) except when empty (`{}`).
        (OBrace, CBrace) => false,
        (OBrace, _) | (_, CBrace) => true,
        // `${ {…} }`: a space between a sequence's brace and an object's.
        (TemplateInterp | TemplateControl, OBrace) => true,
        (CBrace, TemplateSeqEnd) => true,
        (TemplateSeqEnd, TemplateInterp | TemplateControl) => false,
        _ if subject_kind.bracket_change() > 0 => false,
        _ if after_kind.bracket_change() < 0 => false,
        _ => true,
    }
}

/// A `-` after something that ends an operand is a subtraction (spaced); after an opening
/// bracket, a separator or another operator it is a negation (`-1`).
fn minus_is_binary(before: Option<Kind>) -> bool {
    use Kind::*;
    !matches!(
        before,
        None | Some(
            OParen
                | OBrace
                | OBrack
                | Equal
                | Colon
                | Comma
                | Question
                | Plus
                | Star
                | Slash
                | Percent
                | Minus
                | EqualOp
                | NotEqual
                | GreaterThan
                | GreaterThanEq
                | LessThan
                | LessThanEq
                | And
                | Or
                | Bang
        )
    )
}

fn cell_columns(tokens: &[Token<'_>], cell: &Range<usize>) -> usize {
    tokens[cell.clone()]
        .iter()
        .map(|token| token.spaces_before + columns(&token.text))
        .sum()
}

fn align(lines: &[Line], tokens: &mut [Token<'_>]) {
    for run in runs(lines, |line| line.assign.is_some()) {
        let widest = run
            .clone()
            .map(|index| cell_columns(tokens, &lines[index].lead))
            .max()
            .unwrap_or(0);
        for index in run {
            let line = &lines[index];
            let lead = cell_columns(tokens, &line.lead);
            let assign = line.assign.as_ref().expect("the run has assign cells");
            tokens[assign.start].spaces_before = widest - lead + 1;
        }
    }
    let before_comment = |tokens: &[Token<'_>], line: &Line| {
        cell_columns(tokens, &line.lead)
            + line
                .assign
                .as_ref()
                .map_or(0, |assign| cell_columns(tokens, assign))
    };
    for run in runs(lines, |line| line.comment.is_some()) {
        let widest = run
            .clone()
            .map(|index| before_comment(tokens, &lines[index]))
            .max()
            .unwrap_or(0);
        for index in run {
            let line = &lines[index];
            let width = before_comment(tokens, line);
            let comment = line.comment.as_ref().expect("the run has comment cells");
            tokens[comment.start].spaces_before = widest - width + 1;
        }
    }
}

/// The runs of consecutive lines for which `has_cell` holds.
fn runs(lines: &[Line], has_cell: impl Fn(&Line) -> bool) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (index, line) in lines.iter().enumerate() {
        match (has_cell(line), start) {
            (true, None) => start = Some(index),
            (false, Some(run_start)) => {
                runs.push(run_start..index);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(run_start) = start {
        runs.push(run_start..lines.len());
    }
    runs
}
