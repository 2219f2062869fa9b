//! `amlplan fmt`: rewrites a `.tf` file exactly as `terraform fmt` does (Terraform 1.x, whose
//! layout is hclwrite's `Format`), byte for byte. Pure text in, text out: no file system, no
//! printing; the command decides where the text comes from and goes.
//!
//! | step | module       | what                                                                 |
//! |------|--------------|----------------------------------------------------------------------|
//! | 1    | here         | drop a UTF-8 byte-order mark                                          |
//! | 2    | `lex`        | tokens as HCL's scanner cuts them, with the blank before each          |
//! | 3    | `parse`      | refuse what Terraform's parser refuses; find bodies, attributes, labels |
//! | 4    | `rewrite`    | Terraform's own rewrites: quoted labels, `"${x}"` → `x`, legacy types    |
//! | 5    | `layout`     | hclwrite's whitespace: indentation, spaces, `=` and comment alignment   |
//! | 6    | here         | the tokens written back                                               |
//!
//! What is never changed: the text of any token (strings, heredoc bodies, comments with their
//! trailing blanks, numbers), line ends (`\r\n` stays `\r\n`), blank lines, and the blank at the
//! very end of a file that does not end with a line end. `terraform fmt` writes a file back
//! without adding a final line end; `terraform fmt -` (standard input) prints one when the
//! result has none: [`format_source`] and [`format_for_stdout`].
//!
//! Known differences from Terraform:
//!
//! - the syntax check follows `hclsyntax`'s grammar but is its own code (not hcl-edit, the
//!   planner's parser, which refuses a repeated object key that Terraform accepts), and it
//!   refuses nesting deeper than 200 levels, which Terraform does not;
//! - a block label Terraform rewrites is also put in Unicode normal form C by Terraform
//!   (`"e\u{301}"` becomes `"é"`); here it keeps its characters;
//! - grapheme clusters, identifier characters and Go's "printable" come from compact tables
//!   (`columns`, `rewrite`), not full Unicode data;
//! - namespaced function calls (`provider::p::f()`) are accepted, as Terraform 1.8+ accepts
//!   them; Terraform 1.0 refuses them.

mod columns;
mod layout;
mod lex;
mod parse;
mod rewrite;

/// Why a file cannot be formatted: it is not valid HCL native syntax. Terraform refuses to
/// format such a file too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HCL syntax at byte {offset}: {message}")]
pub struct FmtError {
    /// What is wrong, as one lowercase phrase.
    pub message: String,
    /// Byte offset of the problem in the text given to [`format_source`].
    pub offset: usize,
}

impl FmtError {
    fn new(message: impl Into<String>, offset: usize) -> FmtError {
        FmtError {
            message: message.into(),
            offset,
        }
    }

    /// The 1-based line and column (in characters) of [`FmtError::offset`] in `text`, the text
    /// that was given to [`format_source`].
    pub fn line_column(&self, text: &str) -> (usize, usize) {
        let mut offset = self.offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

/// Formats the text of one `.tf` file as `terraform fmt` rewrites the file.
///
/// ```
/// let text = "resource aml x {\nname=\"${var.n}\"\n  size    = 2\n}";
/// let formatted = planner::fmt::format_source(text).expect("valid HCL");
/// assert_eq!(formatted, "resource \"aml\" \"x\" {\n  name = var.n\n  size = 2\n}");
/// ```
pub fn format_source(text: &str) -> Result<String, FmtError> {
    let bom = if text.starts_with('\u{FEFF}') {
        '\u{FEFF}'.len_utf8()
    } else {
        0
    };
    let source = &text[bom..];
    let shift = |error: FmtError| FmtError {
        offset: error.offset + bom,
        ..error
    };
    let mut tokens = lex::tokens(source).map_err(shift)?;
    // hclwrite counts the mark as blank before the first token; only an end of file keeps it.
    tokens[0].spaces_before += bom;
    let body = parse::parse(&tokens).map_err(shift)?;
    let mut tokens = rewrite::rewrite(tokens, &body);
    layout::lay_out(&mut tokens);
    let mut formatted = String::with_capacity(source.len() + source.len() / 4 + 1);
    for token in &tokens {
        formatted.extend(std::iter::repeat_n(' ', token.spaces_before));
        formatted.push_str(&token.text);
    }
    Ok(formatted)
}

/// What `terraform fmt -` prints for `text` read from standard input: [`format_source`], then a
/// `\n` when the result does not end with one (a file written back gets none).
///
/// ```
/// assert_eq!(planner::fmt::format_for_stdout("a=1").as_deref(), Ok("a = 1\n"));
/// assert_eq!(planner::fmt::format_source("a=1").as_deref(), Ok("a = 1"));
/// ```
pub fn format_for_stdout(text: &str) -> Result<String, FmtError> {
    let mut formatted = format_source(text)?;
    if !formatted.ends_with('\n') {
        formatted.push('\n');
    }
    Ok(formatted)
}

/// Each expected text below is what `terraform fmt` (1.0.3 and 1.11.4 alike) wrote for the
/// input; `tests/it/fmt.rs` checks many more inputs against the binaries themselves.
#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[track_caller]
    fn assert_formats(input: &str, expected: &str) {
        assert_eq!(format_source(input).as_deref(), Ok(expected));
        assert_eq!(
            format_source(expected).as_deref(),
            Ok(expected),
            "formatting again"
        );
    }

    #[test]
    fn indents_two_spaces_per_level() {
        assert_formats(
            "resource \"a\" \"b\" {\nsettings {\n        x = [\n1,\n      {\nk = 1\n}\n]\n}\n}\n",
            "resource \"a\" \"b\" {\n  settings {\n    x = [\n      1,\n      {\n        k = 1\n      }\n    ]\n  }\n}\n",
        );
    }

    #[test]
    fn a_line_that_opens_several_brackets_indents_once() {
        assert_formats(
            "a = [{\nb = 1\n}]\nc = f(g(\n1))\n",
            "a = [{\n  b = 1\n}]\nc = f(g(\n1))\n",
        );
    }

    #[test]
    fn aligns_equals_of_consecutive_attributes() {
        assert_formats(
            "a = 1\nlong_name = 2\nbb = 3\n",
            "a         = 1\nlong_name = 2\nbb        = 3\n",
        );
    }

    #[test]
    fn a_blank_line_ends_the_alignment_run() {
        assert_formats(
            "a = 1\nlong_name = 2\n\nbb = 3\nc = 4\n",
            "a         = 1\nlong_name = 2\n\nbb = 3\nc  = 4\n",
        );
    }

    #[test]
    fn a_comment_line_ends_the_alignment_run() {
        assert_formats(
            "a = 1\n# note\nlong_name = 2\n",
            "a = 1\n# note\nlong_name = 2\n",
        );
    }

    #[test]
    fn a_nested_block_or_multi_line_value_ends_the_run() {
        assert_formats(
            "a = 1\nb {\n}\nlong_name = 2\nc = {\nd = 1\n}\nee = 3\n",
            "a = 1\nb {\n}\nlong_name = 2\nc = {\n  d = 1\n}\nee = 3\n",
        );
    }

    #[test]
    fn object_items_align_like_attributes() {
        assert_formats(
            "m = {\na = 1\n\"long key\" = 2\n(var.k) = 3\nk: 4\n}\n",
            "m = {\n  a          = 1\n  \"long key\" = 2\n  (var.k)    = 3\n  k : 4\n}\n",
        );
    }

    #[test]
    fn operators_get_one_space() {
        assert_formats(
            "a = 1+2*3-4/5%6\nb = x==y&&z!=w||!v\nc = a<b\nd = a>=b ? -1 : 2\n",
            "a = 1 + 2 * 3 - 4 / 5 % 6\nb = x == y && z != w || !v\nc = a < b\nd = a >= b ? -1 : 2\n",
        );
    }

    #[test]
    fn negation_keeps_no_space() {
        assert_formats(
            "a = -1\nb = [-1, - 2]\nc = x - -y\nd = (-x)\ne = !x\n",
            "a = -1\nb = [-1, -2]\nc = x - -y\nd = (-x)\ne = !x\n",
        );
    }

    #[test]
    fn commas_brackets_parentheses_and_calls() {
        assert_formats(
            "a = f( 1 ,2 , [ 3,4 ] )\nb = x [ 0 ] [ \"k\" ]\nc = x . y . z\nd = [ ]\ne = f ( x... )\n",
            "a = f(1, 2, [3, 4])\nb = x[0][\"k\"]\nc = x.y.z\nd = []\ne = f(x...)\n",
        );
    }

    #[test]
    fn single_line_objects_have_spaces_inside_braces() {
        assert_formats(
            "a = {x=1,y=2}\nb = {}\nc = { }\nd = {for k,v in m: k=>v...}\n",
            "a = { x = 1, y = 2 }\nb = {}\nc = {}\nd = { for k, v in m : k => v... }\n",
        );
    }

    #[test]
    fn for_expressions_splats_and_conditionals() {
        assert_formats(
            "a = [for x in var.l: x if x!=null]\nb = [for x in [1,2]: x]\nc = var.l[*].id\nd = var.l.*.id\ne = var.c?1:2\n",
            "a = [for x in var.l : x if x != null]\nb = [for x in [1, 2] : x]\nc = var.l[*].id\nd = var.l.*.id\ne = var.c ? 1 : 2\n",
        );
    }

    #[test]
    fn template_sequences_lose_inner_blanks() {
        assert_formats(
            "a = \"${ var.x }-${  f(1,2)  }\"\nb = \"%{ if a }x%{ else }y%{ endif }\"\nc = \"${ {a=1} }\"\nd = \"%{ for x in l ~} ${x} %{~ endfor }\"\n",
            "a = \"${var.x}-${f(1, 2)}\"\nb = \"%{if a}x%{else}y%{endif}\"\nc = { a = 1 }\nd = \"%{for x in l~} ${x} %{~endfor}\"\n",
        );
    }

    #[test]
    fn trailing_blanks_are_removed_but_comments_keep_theirs() {
        assert_formats(
            "a = 1   \n# comment   \nb = 2 // c  \n  \n",
            "a = 1\n# comment   \nb = 2 // c  \n\n",
        );
    }

    #[test]
    fn heredocs_are_kept_as_written() {
        assert_formats(
            "b {\n      x = <<-EOT\n   keep   ${ var.y }\n        as is = {\n      EOT\n  yy = 1\n}\n",
            "b {\n  x  = <<-EOT\n   keep   ${var.y}\n        as is = {\n      EOT\n  yy = 1\n}\n",
        );
    }

    #[test]
    fn a_heredoc_ends_only_at_a_line_of_its_marker() {
        assert_formats(
            "x = <<EOT\n EOT is not the end\n${a}EOT\n  EOT\n",
            "x = <<EOT\n EOT is not the end\n${a}EOT\n  EOT\n",
        );
    }

    #[test]
    fn trailing_comments_align_in_runs() {
        assert_formats(
            "a = 1 # one\nlong_name = 2 // two\nc = [ # three\n1, # four\n22, # five\n]\n",
            "a         = 1 # one\nlong_name = 2 // two\nc = [         # three\n  1,          # four\n  22,         # five\n]\n",
        );
    }

    #[test]
    fn block_comments_stay_put() {
        assert_formats(
            "/*\n   block\n  */\nresource \"a\" \"b\" { /* c */\nx = 1 /* d */\n}\n",
            "/*\n   block\n  */\nresource \"a\" \"b\" { /* c */\n  x = 1 /* d */\n}\n",
        );
    }

    #[test]
    fn blank_lines_and_a_missing_final_line_end_are_kept() {
        assert_formats("\n\na = 1\n\n\n\nb = 2  ", "\n\na = 1\n\n\n\nb = 2  ");
    }

    #[test]
    fn crlf_line_ends_are_kept() {
        assert_formats(
            "a=1\r\nb = {\r\nc=2 # x\r\n}\r\n",
            "a = 1\r\nb = {\r\n  c = 2 # x\r\n}\r\n",
        );
    }

    #[test]
    fn tabs_count_as_blank() {
        assert_formats("a\t=\t1\n\tb = 2\n", "a = 1\nb = 2\n");
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_formats("\u{feff}a=1\n", "a = 1\n");
    }

    #[test]
    fn one_line_blocks() {
        assert_formats(
            "b { x = 1 }\nc {}\nd \"x\"{\n}\n",
            "b { x = 1 }\nc {}\nd \"x\" {\n}\n",
        );
    }

    #[test]
    fn sole_interpolations_are_unwrapped() {
        assert_formats(
            "a = \"${var.x}\"\nb = \"${var.x}-y\"\nc = \"${a}${b}\"\nd = { k = \"${var.x}\" }\nb {\n  e = \"${~ f(1) ~}\"\n}\n",
            "a = var.x\nb = \"${var.x}-y\"\nc = \"${a}${b}\"\nd = { k = \"${var.x}\" }\nb {\n  e = f(1)\n}\n",
        );
    }

    #[test]
    fn a_multi_line_interpolation_is_unwrapped_in_parentheses() {
        assert_formats(
            "a = \"${var.c ?\n1 : 2}\"\nb = \"${\n  var.x\n}\"\nc = \"${(var.d\n)}\"\n",
            "a = (var.c ?\n1 : 2)\nb = var.x\nc = (var.d\n)\n",
        );
    }

    #[test]
    fn nested_interpolations_unwrap_one_level_per_run() {
        // Terraform itself is not idempotent here: each run unwraps one level.
        let once = format_source("a = \"${\"${var.x}\"}\"\n");
        assert_eq!(once.as_deref(), Ok("a = \"${var.x}\"\n"));
        assert_eq!(
            format_source("a = \"${var.x}\"\n").as_deref(),
            Ok("a = var.x\n")
        );
    }

    #[test]
    fn legacy_variable_types_are_rewritten() {
        assert_formats(
            "variable \"a\" {\n  type = \"string\"\n}\nvariable \"b\" { type = \"list\" }\nvariable \"c\" { type = \"map\" }\nvariable \"d\" { type = list }\nvariable \"e\" { type = set }\nvariable \"f\" { type = \"set\" }\noutput \"g\" { type = \"string\" }\nvariable \"h\" {\n  validation {\n    type = \"string\"\n  }\n}\n",
            "variable \"a\" {\n  type = string\n}\nvariable \"b\" { type = list(string) }\nvariable \"c\" { type = map(string) }\nvariable \"d\" { type = list(any) }\nvariable \"e\" { type = set(any) }\nvariable \"f\" { type = \"set\" }\noutput \"g\" { type = \"string\" }\nvariable \"h\" {\n  validation {\n    type = \"string\"\n  }\n}\n",
        );
    }

    #[test]
    fn labels_are_quoted_and_comments_between_them_dropped() {
        assert_formats(
            "resource aml_x /* a */ \"y\" /* b */ {\n}\nblock \"a\\u0041\" \"\\u00a0\" {}\n",
            "resource \"aml_x\" \"y\" /* b */ {\n}\nblock \"aA\" \"\\u00a0\" {}\n",
        );
    }

    #[test]
    fn labels_terraform_cannot_read_back_are_dropped() {
        assert_formats(
            "b \"a$b\" \"c\" \"a%b\" \"$\" \"$${\" \"\" {}\n",
            "b \"c\" \"$\" \"$${\" \"\" {}\n",
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_formats(
            "m = {\n\"é\" = 1\n\"ééé\" = 2\n\"日本\" = 3\nx = 4\n}\n",
            "m = {\n  \"é\"   = 1\n  \"ééé\" = 2\n  \"日本\"  = 3\n  x     = 4\n}\n",
        );
    }

    #[test]
    fn in_keyword_before_a_tuple() {
        assert_formats("a = [for x in[1]: x]\n", "a = [for x in [1] : x]\n");
    }

    #[test]
    fn empty_input() {
        assert_formats("", "");
    }

    #[test]
    fn only_a_byte_order_mark() {
        assert_formats("\u{feff}", "   ");
    }

    #[test]
    fn standard_output_ends_with_a_line_end() {
        assert_eq!(format_for_stdout("a = 1   ").as_deref(), Ok("a = 1   \n"));
        assert_eq!(format_for_stdout("").as_deref(), Ok("\n"));
        assert_eq!(format_for_stdout("a = 1\n\n").as_deref(), Ok("a = 1\n\n"));
    }

    #[test]
    fn refuses_what_terraform_refuses_with_the_offset() {
        let cases = [
            // The second `a`; the line end where a value is missing; the line break in a quoted
            // string; the comma of a second argument in a one-line block.
            ("a = 1\na = 2\n", 6),
            ("b {\n  a = \n}\n", 10),
            ("a = \"x\ny\"\n", 6),
            ("b { a = 1, c = 2 }\n", 9),
            ("a = x ?\n1 : 2\n", 7),
            // The end of the text, counting the byte-order mark; a heredoc without its marker line.
            ("\u{feff}a = {\n", 9),
            ("x = <<EOT\nhi\nEOT", 16),
        ];
        for (input, offset) in cases {
            let error = format_source(input).expect_err(input);
            assert_eq!(error.offset, offset, "{input:?}: {error}");
        }
    }

    #[test]
    fn errors_locate_their_line_and_column() {
        let text = "a = 1\nb = é +\n";
        let error = format_source(text).expect_err("incomplete");
        assert_eq!(error.line_column(text), (2, 8));
        assert!(
            error
                .to_string()
                .starts_with("invalid HCL syntax at byte 14: "),
            "{error}"
        );
    }
}
