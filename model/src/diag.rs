//! Diagnostics: problems in a configuration or with a resource, collected rather than thrown so
//! one run reports all of them. The engine only produces [`Subject::Attr`]; the planner maps
//! attribute subjects to source spans, the provider sends them as tfplugin6 attribute paths.

use serde::{Deserialize, Serialize};

use crate::addr::{AttrPath, ResourceAddr};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Stops the command.
    Error,
    /// Reported; the command goes on.
    Warning,
}

/// What a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// An attribute of a resource (the path may be empty: the whole resource).
    Attr {
        /// The resource.
        addr: ResourceAddr,
        /// The attribute inside it.
        path: AttrPath,
    },
    /// A byte range of a source file.
    Span {
        /// The file, as the user named it (relative to the configuration folder).
        file: String,
        /// Byte offsets into the file.
        range: std::ops::Range<usize>,
    },
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short title, as terraform writes them ("Unsupported argument").
    pub summary: String,
    /// Full sentences saying what is wrong and how to fix it.
    pub detail: Option<String>,
    /// What it is about, if anything specific.
    pub subject: Option<Subject>,
    /// Which known problem it is, for callers that act on one (never matched by its text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
}

/// Known problems that a caller treats specially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// One underlying resource attached twice in a workspace (DESIGN §1 rule 1): amlplan plans
    /// again with placeholders to find these among objects not created yet.
    DuplicateAttachment,
}

impl Diagnostic {
    /// An error with a summary and detail.
    ///
    /// ```
    /// use model::diag::{Diagnostic, Severity};
    /// let diag = Diagnostic::error("Invalid value", "Use a positive number.");
    /// assert_eq!(diag.severity, Severity::Error);
    /// ```
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: Some(detail.into()),
            subject: None,
            code: None,
        }
    }

    /// A warning with a summary and detail.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    /// The same diagnostic with its [`Code`].
    pub fn with_code(self, code: Code) -> Diagnostic {
        Diagnostic {
            code: Some(code),
            ..self
        }
    }

    /// The same diagnostic about an attribute of a resource.
    pub fn at_attr(mut self, addr: &ResourceAddr, path: AttrPath) -> Diagnostic {
        self.subject = Some(Subject::Attr {
            addr: addr.clone(),
            path,
        });
        self
    }

    /// The same diagnostic about a span of a file.
    pub fn at_span(mut self, file: &str, range: std::ops::Range<usize>) -> Diagnostic {
        self.subject = Some(Subject::Span {
            file: file.to_owned(),
            range,
        });
        self
    }
}

/// A collection of diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds all of another collection.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when at least one is an error.
    pub fn has_errors(&self) -> bool {
        self.0
            .iter()
            .any(|diagnostic| diagnostic.severity == Severity::Error)
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over them.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

/// An error and its causes on one line, each cause once (a message that already contains its
/// cause's text does not repeat it), so a service's message reaches the user verbatim.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("request failed")]
/// struct Outer(#[source] std::io::Error);
/// let error = Outer(std::io::Error::other("connection reset"));
/// assert_eq!(model::diag::error_chain(&error), "request failed: connection reset");
/// ```
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_detected_among_warnings() {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::warning("Deprecated", "Use x."));
        assert!(!diags.has_errors());
        diags.push(Diagnostic::error("Broken", "Fix y."));
        assert!(diags.has_errors());
    }
}
