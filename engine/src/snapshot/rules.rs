//! The ignore rules of a code snapshot, as the Azure ML SDK applies them: the root's `.amlignore`,
//! else its `.gitignore`, read line by line into gitignore patterns that are tested against each
//! *file's* path, the last matching pattern deciding.
//!
//! Git itself never looks inside an ignored directory, so `build/` followed by `!build/keep.txt`
//! keeps nothing under `build/` in git. The SDK (its vendored `pathspec` `GitWildMatchPattern`)
//! instead matches every pattern against the full path of every file: a pattern matches a file
//! when it matches the file itself or one of the directories above it, and the last pattern that
//! matches wins, so `!build/keep.txt` after `build/` does re-include that file, while the same
//! negation written *before* `build/` does not. This module reproduces that with one
//! [`ignore::gitignore::Gitignore`] matcher per pattern.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::SnapshotError;

/// The file name that takes precedence as the ignore file of a snapshot root.
pub const AML_IGNORE_FILE: &str = ".amlignore";
/// The ignore file used when the root has no [`AML_IGNORE_FILE`].
pub const GIT_IGNORE_FILE: &str = ".gitignore";

/// The compiled patterns of a snapshot root's ignore file.
#[derive(Debug)]
pub(crate) struct IgnoreRules {
    /// The directory the patterns are relative to: the parent of the resolved ignore file.
    base: PathBuf,
    /// One matcher per pattern line, in file order; negations are whitelist matchers.
    patterns: Vec<Gitignore>,
}

impl IgnoreRules {
    /// Rules that exclude nothing.
    pub(crate) fn none() -> Self {
        Self {
            base: PathBuf::new(),
            patterns: Vec::new(),
        }
    }

    /// Loads `.amlignore`, else `.gitignore`, from `root` (a directory); no ignore file, or one
    /// without patterns, excludes nothing.
    pub(crate) fn load(root: &Path) -> Result<Self, SnapshotError> {
        // `Path.exists()` in the SDK follows symbolic links: a dangling link is no ignore file.
        let Some(file) = [AML_IGNORE_FILE, GIT_IGNORE_FILE]
            .iter()
            .map(|name| root.join(name))
            .find(|path| std::fs::metadata(path).is_ok())
        else {
            return Ok(Self::none());
        };
        let io = |source| SnapshotError::Io {
            path: file.clone(),
            source,
        };
        // The SDK resolves the ignore file's path and takes its parent as the base of the patterns.
        let resolved = std::fs::canonicalize(&file).map_err(io)?;
        let base = resolved.parent().map(Path::to_path_buf).unwrap_or_default();
        let bytes = std::fs::read(&resolved).map_err(io)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| SnapshotError::IgnoreFileEncoding { path: file.clone() })?;
        let patterns = parse(&text, &file)?;
        Ok(Self { base, patterns })
    }

    /// The directory the patterns are relative to.
    pub(crate) fn base(&self) -> &Path {
        &self.base
    }

    /// Whether the file at `relative` ('/'-separated, relative to [`Self::base`]; may start with
    /// `..` for a file reached through a link that leaves the base) is excluded.
    pub(crate) fn is_excluded(&self, relative: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        // Every leading part is a directory above the file; the whole path is the file.
        let parts: Vec<(&str, bool)> = relative
            .char_indices()
            .filter(|&(_, c)| c == '/')
            .map(|(at, _)| (&relative[..at], true))
            .filter(|(prefix, _)| !prefix.is_empty())
            .chain(std::iter::once((relative, false)))
            .collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            let hit = parts.iter().find_map(|&(path, is_dir)| {
                let found = pattern.matched(path, is_dir);
                (!found.is_none()).then(|| found.is_ignore())
            });
            if let Some(ignore) = hit {
                excluded = ignore;
            }
        }
        excluded
    }
}

/// Reads the lines of an ignore file into one matcher per pattern, skipping blanks, comments and
/// a lone `/` (which matches nothing), as `GitWildMatchPattern` does.
fn parse(text: &str, file: &Path) -> Result<Vec<Gitignore>, SnapshotError> {
    // A UTF-8 byte-order mark is not part of the first pattern.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut patterns = Vec::new();
    // Python reads the file in text mode: `\n`, `\r\n` and a lone `\r` all end a line; the SDK
    // strips trailing whitespace and `pathspec` strips both ends of what remains.
    for (index, raw) in split_lines(text).enumerate() {
        let line = raw.trim_matches(is_python_whitespace);
        if line.is_empty() || line.starts_with('#') || line == "/" {
            continue;
        }
        let invalid = |source| SnapshotError::InvalidPattern {
            path: file.to_path_buf(),
            line: index + 1,
            pattern: line.to_owned(),
            source,
        };
        // `pathspec` rejects a pattern that is empty once its `!` is removed.
        if line == "!" {
            return Err(invalid(None));
        }
        let mut builder = GitignoreBuilder::new("");
        builder.add_line(None, line).map_err(|e| invalid(Some(e)))?;
        patterns.push(builder.build().map_err(|e| invalid(Some(e)))?);
    }
    Ok(patterns)
}

/// The lines of `text` as Python's universal-newline mode splits them.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match rest.find(['\n', '\r']) {
            Some(at) if rest[at..].starts_with("\r\n") => (&rest[..at], &rest[at + 2..]),
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        rest = next;
        Some(line)
    })
}

/// Python's `str.strip()` set: Unicode whitespace plus the ASCII separators `\x1c`..`\x1f`.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules {
            base: PathBuf::new(),
            patterns: parse(text, Path::new(".amlignore")).expect("valid patterns"),
        }
    }

    #[test]
    fn directory_pattern_excludes_every_file_below_any_such_directory() {
        let r = rules("build/\n");
        assert!(r.is_excluded("build/out.bin"));
        assert!(r.is_excluded("build/deep/er/x.o"));
        assert!(r.is_excluded("src/build/x.o"));
        // A file named like the directory is not a directory.
        assert!(!r.is_excluded("build"));
        assert!(!r.is_excluded("src/build"));
        assert!(!r.is_excluded("builds/x"));
    }

    #[test]
    fn name_pattern_matches_files_and_directories_at_any_depth() {
        let r = rules("*.log\ndata\n");
        assert!(r.is_excluded("run.log"));
        assert!(r.is_excluded("a/b/run.log"));
        assert!(r.is_excluded("data"));
        assert!(r.is_excluded("data/x.csv"));
        assert!(r.is_excluded("src/data/x.csv"));
        assert!(!r.is_excluded("run.log.txt"));
        assert!(!r.is_excluded("database/x"));
    }

    #[test]
    fn slash_anchors_to_the_root() {
        let r = rules("/top.txt\ndocs/*.md\n");
        assert!(r.is_excluded("top.txt"));
        assert!(!r.is_excluded("sub/top.txt"));
        assert!(r.is_excluded("docs/a.md"));
        assert!(!r.is_excluded("x/docs/a.md"));
        assert!(!r.is_excluded("docs/sub/a.md"));
    }

    #[test]
    fn double_star_spans_directories() {
        let r = rules("a/**/z.txt\nlogs/**\n");
        assert!(r.is_excluded("a/z.txt"));
        assert!(r.is_excluded("a/b/c/z.txt"));
        assert!(!r.is_excluded("b/a/z.txt"));
        assert!(r.is_excluded("logs/x"));
        assert!(r.is_excluded("logs/x/y"));
    }

    #[test]
    fn last_matching_pattern_wins_even_inside_an_excluded_directory() {
        // Unlike git, the SDK re-includes a file below an excluded directory.
        let r = rules("build/\n!build/keep.txt\n");
        assert!(r.is_excluded("build/out.bin"));
        assert!(!r.is_excluded("build/keep.txt"));
        // Written first, the negation is overridden by the later pattern.
        let r = rules("!build/keep.txt\nbuild/\n");
        assert!(r.is_excluded("build/keep.txt"));
        let r = rules("*.py\n!keep.py\n");
        assert!(r.is_excluded("x.py"));
        assert!(!r.is_excluded("keep.py"));
        assert!(!r.is_excluded("sub/keep.py"));
    }

    #[test]
    fn comments_blanks_whitespace_and_line_endings() {
        let r = rules("\u{feff}# a comment\r\n\r\n   *.tmp   \r/\n\\#hash.txt\n\\!bang.txt\n");
        assert!(r.is_excluded("x.tmp"));
        assert!(!r.is_excluded("# a comment"));
        assert!(r.is_excluded("#hash.txt"));
        assert!(r.is_excluded("!bang.txt"));
        assert!(!r.is_excluded("other.txt"));
        assert_eq!(r.patterns.len(), 3);
    }

    #[test]
    fn matching_is_case_sensitive() {
        let r = rules("*.LOG\n");
        assert!(r.is_excluded("A.LOG"));
        assert!(!r.is_excluded("a.log"));
    }

    #[test]
    fn relative_paths_leaving_the_base_still_match_unanchored_patterns() {
        let r = rules("*.log\n/x.txt\n");
        assert!(r.is_excluded("../elsewhere/a.log"));
        assert!(!r.is_excluded("../x.txt"));
    }

    #[test]
    fn a_lone_negation_is_an_invalid_pattern() {
        let err = parse("ok\n!\n", Path::new(".gitignore")).expect_err("invalid");
        assert!(
            matches!(err, SnapshotError::InvalidPattern { line: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn no_patterns_exclude_nothing() {
        assert!(!IgnoreRules::none().is_excluded("anything"));
        assert!(!rules("# only a comment\n\n").is_excluded("anything"));
    }
}
