//! Renders diagnostics the one way `amlplan` shows them (STYLE §5), hcl parse errors included:
//!
//! ```text
//! error: Unsupported argument
//!   --> examples/basic/main.tf:12:3
//!    |
//! 12 |   vm_sise = "STANDARD_NC6"
//!    |   ^^^^^^^ `azureml_compute_cluster` has no argument `vm_sise`
//!    |
//!    = help: did you mean `vm_size`?
//! ```
//!
//! The first line of a diagnostic's `detail` is the label under the carets; every further
//! non-empty line becomes a `= help:` line when it starts with `help: `, else a `= note:` line.
//! Subjects must already be spans (see `config::Configuration::locate`); an attribute subject that
//! could not be mapped is named instead of quoted. No ANSI colours: callers that want them wrap
//! the writer.

use std::io::{self, Write};

use engine::diag::{Diagnostic, Diagnostics, Severity, Subject};

use crate::source::Sources;

/// How many characters before a span's start a long source line is quoted from.
const QUOTED_BEFORE_SPAN: usize = 40;

/// How many characters of a source line are quoted, from the window's start.
const QUOTED_LINE_WIDTH: usize = 160;

/// Writes every diagnostic, separated by blank lines.
pub fn render_diagnostics(
    diagnostics: &Diagnostics,
    sources: &Sources,
    out: &mut impl Write,
) -> io::Result<()> {
    for (index, diagnostic) in diagnostics.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        render_diagnostic(diagnostic, sources, out)?;
    }
    Ok(())
}

/// Writes one diagnostic.
pub fn render_diagnostic(
    diagnostic: &Diagnostic,
    sources: &Sources,
    out: &mut impl Write,
) -> io::Result<()> {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    writeln!(out, "{severity}: {}", diagnostic.summary)?;
    let mut lines = diagnostic
        .detail
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty());
    let quoted = match &diagnostic.subject {
        Some(Subject::Span { file, range }) => {
            sources.by_name(file).map(|source| (file, source, range))
        }
        _ => None,
    };
    let Some((name, source, range)) = quoted else {
        let indent = "  ";
        match &diagnostic.subject {
            Some(Subject::Span { file, .. }) => writeln!(out, "{indent}--> {file}")?,
            Some(Subject::Attr { addr, path }) if path.0.is_empty() => {
                writeln!(out, "{indent}--> `{addr}`")?
            }
            Some(Subject::Attr { addr, path }) => {
                writeln!(out, "{indent}--> `{addr}`, argument `{path}`")?
            }
            None => {}
        }
        for line in lines {
            write_note(out, indent, line)?;
        }
        return Ok(());
    };
    let start = source.location(range.start);
    let gutter = " ".repeat(start.line.to_string().len());
    writeln!(out, "{gutter}--> {name}:{}:{}", start.line, start.column)?;
    writeln!(out, "{gutter} |")?;
    let line_text = source.line_text(start.line);
    // Carets under the span's part of its first line (a block's span continues below).
    let line_end = source.line_start(start.line) + line_text.len();
    let underlined = source
        .slice(range.start.min(line_end)..range.end.clamp(range.start.min(line_end), line_end))
        .map_or(0, |text| text.chars().count())
        .max(1);
    // A long line is quoted as a window around the span's start, so a huge value is never
    // printed whole.
    let characters: Vec<char> = source.quoted_line(start.line).chars().collect();
    let column = (start.column - 1).min(characters.len());
    let first = column.saturating_sub(QUOTED_BEFORE_SPAN);
    let last = characters.len().min(first + QUOTED_LINE_WIDTH);
    let cut_before = if first > 0 { "…" } else { "" };
    let cut_after = if last < characters.len() { "…" } else { "" };
    let window: String = characters[first..last].iter().collect();
    writeln!(out, "{} | {cut_before}{window}{cut_after}", start.line)?;
    let underlined = underlined.min(last.saturating_sub(column).max(1));
    let padding: String = cut_before
        .chars()
        .map(|_| ' ')
        .chain(
            characters[first..column]
                .iter()
                .map(|character| if *character == '\t' { '\t' } else { ' ' }),
        )
        .collect();
    let carets = "^".repeat(underlined);
    match lines.next() {
        Some(label) => writeln!(out, "{gutter} | {padding}{carets} {label}")?,
        None => writeln!(out, "{gutter} | {padding}{carets}")?,
    }
    let rest: Vec<&str> = lines.collect();
    if !rest.is_empty() {
        writeln!(out, "{gutter} |")?;
        for line in rest {
            write_note(out, &format!("{gutter} "), line)?;
        }
    }
    Ok(())
}

fn write_note(out: &mut impl Write, indent: &str, line: &str) -> io::Result<()> {
    match line.strip_prefix("help: ") {
        Some(help) => writeln!(out, "{indent}= help: {help}"),
        None => writeln!(out, "{indent}= note: {line}"),
    }
}

/// Renders to a string (for tests and for callers that collect output).
pub fn diagnostics_to_string(diagnostics: &Diagnostics, sources: &Sources) -> String {
    let mut buffer = Vec::new();
    render_diagnostics(diagnostics, sources, &mut buffer).expect("writing to a Vec cannot fail");
    String::from_utf8_lossy(&buffer).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use engine::addr::{AttrPath, ResourceAddr};
    use pretty_assertions::assert_eq;

    fn sources(text: &str) -> Sources {
        let mut sources = Sources::new();
        sources.add(SourceFile::new("examples/basic/main.tf", text));
        sources
    }

    #[test]
    fn renders_the_style_guide_example() {
        let text = "resource \"azureml_compute_cluster\" \"gpu\" {\n".to_owned()
            + &"\n".repeat(10)
            + "  vm_sise = \"STANDARD_NC6\"\n}\n";
        let start = text.find("vm_sise").expect("present");
        let diagnostic = Diagnostic::error(
            "Unsupported argument",
            "`azureml_compute_cluster` has no argument `vm_sise`\nhelp: did you mean `vm_size`?",
        )
        .at_span("examples/basic/main.tf", start..start + 7);
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(diagnostic);
        let expected = "\
error: Unsupported argument
  --> examples/basic/main.tf:12:3
   |
12 |   vm_sise = \"STANDARD_NC6\"
   |   ^^^^^^^ `azureml_compute_cluster` has no argument `vm_sise`
   |
   = help: did you mean `vm_size`?
";
        assert_eq!(
            diagnostics_to_string(&diagnostics, &sources(&text)),
            expected
        );
    }

    #[test]
    fn multi_line_spans_underline_the_first_line_only() {
        let text = "locals {\n  a = 1\n}\n";
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(
            Diagnostic::warning("Empty", "note this")
                .at_span("examples/basic/main.tf", 0..text.len()),
        );
        assert_eq!(
            diagnostics_to_string(&diagnostics, &sources(text)),
            "warning: Empty\n --> examples/basic/main.tf:1:1\n  |\n1 | locals {\n  | ^^^^^^^^ note this\n"
        );
    }

    #[test]
    fn unmapped_subjects_are_named() {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(
            Diagnostic::error("Bad value", "It is bad.\nhelp: fix it").at_attr(
                &ResourceAddr::managed("azureml_workspace", "main"),
                AttrPath::attr("kind"),
            ),
        );
        diagnostics.push(Diagnostic::error("No subject", "Plain detail."));
        assert_eq!(
            diagnostics_to_string(&diagnostics, &Sources::new()),
            "error: Bad value\n  --> `azureml_workspace.main`, argument `kind`\n  = note: It is bad.\n  = help: fix it\n\nerror: No subject\n  = note: Plain detail.\n"
        );
    }
}
