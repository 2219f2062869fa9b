//! `amlplan fmt [TARGET...]`: `terraform fmt` over files, folders and standard input; the text
//! itself is formatted by [`crate::fmt`]. Which files, what is printed and the exit codes
//! follow Terraform's command:
//!
//! - Targets default to the configuration folder; a folder gives its `.tf`, `.tfvars`,
//!   `.tftest.hcl` and `.tfmock.hcl` files, in name order, and with `--recursive` its
//!   sub-folders' too. Names starting with `.` (so `.terraform`), ending with `~` or enclosed
//!   in `#` are skipped. `-` reads standard input and prints the result.
//! - For each file that changes: its name (unless `--list=false`), the file rewritten (unless
//!   `--write=false`), a unified diff as `diff -u` prints it (with `--diff`). With neither
//!   list, write nor diff, the formatted text is printed.
//! - `--check` writes nothing; exit code 3 when a file needs formatting.
//! - A file that does not parse is not formatted: its error is printed, exit code 2.

use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};

use engine::diag::{Diagnostic, Diagnostics, Subject};

use crate::cli::FmtArgs;
use crate::source::{SourceFile, Sources};

use super::Outcome;

/// The endings of the files `fmt` formats.
const EXTENSIONS: [&str; 4] = [".tf", ".tfvars", ".tftest.hcl", ".tfmock.hcl"];

/// Context lines around a change in a diff (`diff -u`).
const CONTEXT: usize = 3;

/// Runs `fmt`.
pub fn run(dir: &Path, args: &FmtArgs) -> anyhow::Result<Outcome> {
    let stdin = args
        .targets
        .first()
        .is_some_and(|target| target == Path::new("-"));
    let list = args.list && !stdin;
    let mut run = Formatter {
        list: list || args.check,
        write: args.write && !stdin && !args.check,
        diff: args.diff,
        recursive: args.recursive,
        // `--check` decides from the listing, printed (when listing) only at the end.
        stream: !args.check,
        out: Vec::new(),
        changed: false,
        diagnostics: Diagnostics::default(),
        sources: Sources::new(),
    };
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| anyhow::anyhow!("failed to read standard input: {error}"))?;
        run.format("<stdin>", None, &text)?;
    } else {
        let targets = match args.targets.as_slice() {
            [] => vec![PathBuf::from(".")],
            targets => targets.to_vec(),
        };
        for target in &targets {
            let shown = clean(target);
            let real = dir.join(target);
            let Ok(metadata) = std::fs::metadata(&real) else {
                run.problem(
                    "No file or directory",
                    format!("there is no file or folder at `{shown}`"),
                );
                break;
            };
            if metadata.is_dir() {
                run.folder(&shown, &real)?;
            } else if EXTENSIONS.iter().any(|ending| shown.ends_with(ending)) {
                run.file(&shown, &real)?;
            } else {
                run.problem(
                    "Unsupported file",
                    format!("`{shown}` is not formatted: only .tf, .tfvars, .tftest.hcl and .tfmock.hcl files can be processed with amlplan fmt"),
                );
            }
        }
    }
    run.flush()?;
    if !run.diagnostics.is_empty() {
        let text = crate::render::diagnostic::diagnostics_to_string(&run.diagnostics, &run.sources);
        write!(std::io::stderr().lock(), "{text}")?;
    }
    if run.diagnostics.has_errors() {
        return Ok(Outcome::Exit(2));
    }
    if args.check {
        if list {
            std::io::stdout().lock().write_all(&run.out)?;
        }
        return Ok(if run.changed {
            Outcome::Exit(3)
        } else {
            Outcome::Success
        });
    }
    Ok(Outcome::Success)
}

/// One `fmt` run: what it does with each file, and what it has found so far.
struct Formatter {
    list: bool,
    write: bool,
    diff: bool,
    recursive: bool,
    stream: bool,
    out: Vec<u8>,
    changed: bool,
    diagnostics: Diagnostics,
    sources: Sources,
}

impl Formatter {
    fn problem(&mut self, summary: &str, detail: String) {
        self.diagnostics.push(Diagnostic::error(summary, detail));
    }

    /// The formattable files of `real` (shown as `shown`), and of its sub-folders when
    /// recursive, in name order.
    fn folder(&mut self, shown: &str, real: &Path) -> anyhow::Result<()> {
        let mut entries: Vec<(String, bool)> = match std::fs::read_dir(real) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|entry| {
                    let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
                    (entry.file_name().to_string_lossy().into_owned(), is_dir)
                })
                .collect(),
            Err(_) => {
                self.problem(
                    "Unreadable folder",
                    format!("cannot read the folder `{shown}`"),
                );
                return Ok(());
            }
        };
        entries.sort();
        for (name, is_dir) in entries {
            // Terraform's `configs.IsIgnoredFile`: hidden, editor backups, emacs lock files.
            let ignored = name.starts_with('.')
                || name.ends_with('~')
                || (name.starts_with('#') && name.ends_with('#'));
            if ignored {
                continue;
            }
            let shown = clean(&Path::new(shown).join(&name));
            if is_dir {
                if self.recursive {
                    self.folder(&shown, &real.join(&name))?;
                }
            } else if EXTENSIONS.iter().any(|ending| name.ends_with(ending)) {
                self.file(&shown, &real.join(&name))?;
            }
        }
        Ok(())
    }

    fn file(&mut self, shown: &str, real: &Path) -> anyhow::Result<()> {
        match std::fs::read_to_string(real) {
            Ok(text) => self.format(shown, Some(real), &text),
            Err(_) => {
                self.problem(
                    "Unreadable file",
                    format!("failed to read the file `{shown}`"),
                );
                Ok(())
            }
        }
    }

    /// Formats one text: a file's (`real`), or standard input's.
    fn format(&mut self, shown: &str, real: Option<&Path>, text: &str) -> anyhow::Result<()> {
        let formatted = match crate::fmt::format_source(text) {
            Ok(formatted) => formatted,
            Err(error) => {
                let start = error.offset.min(text.len());
                self.sources.add(SourceFile::new(shown, text));
                self.diagnostics.push(Diagnostic {
                    subject: Some(Subject::Span {
                        file: shown.to_owned(),
                        range: start..(start + 1).min(text.len()).max(start),
                    }),
                    ..Diagnostic::error(
                        "Invalid HCL syntax",
                        format!(
                            "{}\nhelp: a file that does not parse is not formatted; fix the syntax first",
                            error.message
                        ),
                    )
                });
                return Ok(());
            }
        };
        if formatted != text {
            self.changed = true;
            if self.list {
                writeln!(self.out, "{shown}")?;
            }
            if let (true, Some(real)) = (self.write, real)
                && std::fs::write(real, &formatted).is_err()
            {
                self.problem("Unwritable file", format!("failed to write `{shown}`"));
                return Ok(());
            }
            if self.diff {
                self.out
                    .extend_from_slice(unified_diff(text, &formatted, shown).as_bytes());
            }
        }
        if !self.list && !self.write && !self.diff {
            // Terraform prints through its UI, which ends the text with a line end.
            self.out.extend_from_slice(formatted.as_bytes());
            if !formatted.ends_with('\n') {
                self.out.push(b'\n');
            }
        }
        if self.stream {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.stream && !self.out.is_empty() {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&self.out)?;
            stdout.flush()?;
            self.out.clear();
        }
        Ok(())
    }
}

/// A path as Go's `filepath.Clean` writes it: no `.` parts, `..` resolved where it can be,
/// `/` between parts, `.` when nothing is left.
fn clean(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut root = String::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.last().is_some_and(|last| last != "..") {
                    parts.pop();
                } else if root.is_empty() {
                    parts.push("..".to_owned());
                }
            }
            Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
            Component::RootDir => root = "/".to_owned(),
            Component::Prefix(prefix) => root = prefix.as_os_str().to_string_lossy().into_owned(),
        }
    }
    match (root.as_str(), parts.is_empty()) {
        ("", true) => ".".to_owned(),
        (root, _) => format!("{root}{}", parts.join("/")),
    }
}

/// One line of a line diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// In both texts.
    Same,
    /// Only in the old text.
    Removed,
    /// Only in the new text.
    Added,
}

/// What `diff --label=old/NAME --label=new/NAME -u OLD NEW` prints (Terraform runs exactly
/// that): hunks with three lines of context, merged when at most six lines apart, a change's
/// removed lines before its added ones, and `\ No newline at end of file` after a last line
/// without one.
fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let edits = line_edits(&old_lines, &new_lines);
    // Lines of each text before each edit.
    let mut before = Vec::with_capacity(edits.len() + 1);
    let (mut old_count, mut new_count) = (0, 0);
    for edit in &edits {
        before.push((old_count, new_count));
        match edit {
            Edit::Same => (old_count, new_count) = (old_count + 1, new_count + 1),
            Edit::Removed => old_count += 1,
            Edit::Added => new_count += 1,
        }
    }
    before.push((old_count, new_count));
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (index, _) in edits
        .iter()
        .enumerate()
        .filter(|(_, edit)| **edit != Edit::Same)
    {
        match groups.last_mut() {
            Some(group) if index - group.1 - 1 <= 2 * CONTEXT => group.1 = index,
            _ => groups.push((index, index)),
        }
    }
    let mut text = format!("--- old/{name}\n+++ new/{name}\n");
    for (first, last) in groups {
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(edits.len());
        let (old_start, new_start) = before[start];
        let (old_end, new_end) = before[end];
        text.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(old_start, old_end - old_start),
            range(new_start, new_end - new_start)
        ));
        for (index, edit) in edits.iter().enumerate().take(end).skip(start) {
            let (old_index, new_index) = before[index];
            let (marker, line) = match edit {
                Edit::Same => (' ', old_lines[old_index]),
                Edit::Removed => ('-', old_lines[old_index]),
                Edit::Added => ('+', new_lines[new_index]),
            };
            text.push(marker);
            text.push_str(line);
            if !line.ends_with('\n') {
                text.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    text
}

/// A hunk range as `diff -u` writes it: `START,LENGTH`, `START` alone for one line, and for
/// none the line before.
fn range(start: usize, length: usize) -> String {
    match length {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{length}", start + 1),
    }
}

/// The shortest edit script from `old` to `new` (Myers' algorithm between the common start
/// and end), each change's removals before its additions.
fn line_edits(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let prefix = old
        .iter()
        .zip(new)
        .take_while(|(old, new)| old == new)
        .count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(old, new)| old == new)
        .count();
    let (old_middle, new_middle) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    let middle = myers(old_middle, new_middle).unwrap_or_else(|| {
        // Too different to search: everything removed, then everything added.
        std::iter::repeat_n(Edit::Removed, old_middle.len())
            .chain(std::iter::repeat_n(Edit::Added, new_middle.len()))
            .collect()
    });
    let mut edits = vec![Edit::Same; prefix];
    let mut index = 0;
    while index < middle.len() {
        if middle[index] == Edit::Same {
            edits.push(Edit::Same);
            index += 1;
            continue;
        }
        let run_end = middle[index..]
            .iter()
            .position(|edit| *edit == Edit::Same)
            .map_or(middle.len(), |offset| index + offset);
        let run = &middle[index..run_end];
        edits.extend(run.iter().filter(|edit| **edit == Edit::Removed));
        edits.extend(run.iter().filter(|edit| **edit == Edit::Added));
        index = run_end;
    }
    edits.extend(std::iter::repeat_n(Edit::Same, suffix));
    edits
}

/// How many differences Myers' search may go through (its trace grows with their square).
const MAX_DIFFERENCES: usize = 2048;

/// Myers' O(ND) diff; `None` when there are more than [`MAX_DIFFERENCES`] differences.
fn myers(old: &[&str], new: &[&str]) -> Option<Vec<Edit>> {
    let (n, m) = (old.len() as isize, new.len() as isize);
    let max = n + m;
    let offset = max + 1;
    let mut furthest = vec![0isize; 2 * offset as usize + 1];
    let at = |k: isize| (k + offset) as usize;
    // trace[d]: the furthest x of each diagonal -d..=d after d differences.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = None;
    'search: for d in 0..=max {
        if d as usize > MAX_DIFFERENCES {
            return None;
        }
        for k in (-d..=d).step_by(2) {
            let down = k == -d || (k != d && furthest[at(k - 1)] < furthest[at(k + 1)]);
            let mut x = if down {
                furthest[at(k + 1)]
            } else {
                furthest[at(k - 1)] + 1
            };
            let mut y = x - k;
            while x < n && y < m && old[x as usize] == new[y as usize] {
                x += 1;
                y += 1;
            }
            furthest[at(k)] = x;
            if x >= n && y >= m {
                trace.push(furthest[at(-d)..=at(d)].to_vec());
                found = Some(d);
                break 'search;
            }
        }
        trace.push(furthest[at(-d)..=at(d)].to_vec());
    }
    let differences = found.expect("the search ends at d = n + m at the latest");
    let mut edits = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..=differences).rev() {
        let previous = &trace[d as usize - 1];
        let get = |k: isize| previous[(k + d - 1) as usize];
        let k = x - y;
        let down = k == -d || (k != d && get(k - 1) < get(k + 1));
        let previous_k = if down { k + 1 } else { k - 1 };
        let previous_x = get(previous_k);
        let previous_y = previous_x - previous_k;
        let (start_x, start_y) = if down {
            (previous_x, previous_y + 1)
        } else {
            (previous_x + 1, previous_y)
        };
        while x > start_x && y > start_y {
            edits.push(Edit::Same);
            x -= 1;
            y -= 1;
        }
        edits.push(if down { Edit::Added } else { Edit::Removed });
        (x, y) = (previous_x, previous_y);
    }
    while x > 0 && y > 0 {
        edits.push(Edit::Same);
        x -= 1;
        y -= 1;
    }
    edits.reverse();
    Some(edits)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn diffs_are_written_as_diff_u_writes_them() {
        // What GNU diff 3.8 prints (`tests/it/cli.rs` compares a whole `fmt -diff` run): one
        // line; last lines without line end; an empty side's range names the line before;
        // the shortest edit.
        for (old, new, diff) in [
            ("d=4\n", "d = 4\n", "@@ -1 +1 @@\n-d=4\n+d = 4\n"),
            (
                "a\nb",
                "a\nc",
                "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
            ),
            ("", "a\nb\n", "@@ -0,0 +1,2 @@\n+a\n+b\n"),
            ("a\nb\nc\n", "a\nc\n", "@@ -1,3 +1,2 @@\n a\n-b\n c\n"),
        ] {
            assert_eq!(
                unified_diff(old, new, "x.tf"),
                format!("--- old/x.tf\n+++ new/x.tf\n{diff}")
            );
        }
    }

    #[test]
    fn changes_at_most_six_lines_apart_share_a_hunk() {
        let old: Vec<String> = (0..40).map(|line| format!("{line}\n")).collect();
        let mut new = old.clone();
        new[3] = "three\n".to_owned();
        new[10] = "ten\n".to_owned();
        new[30] = "thirty\n".to_owned();
        let diff = unified_diff(&old.concat(), &new.concat(), "x");
        let headers: Vec<&str> = diff.lines().filter(|line| line.starts_with("@@")).collect();
        assert_eq!(headers, ["@@ -1,14 +1,14 @@", "@@ -28,7 +28,7 @@"]);
    }

    #[test]
    fn paths_are_cleaned_as_go_cleans_them() {
        assert_eq!(clean(Path::new(".")), ".");
        assert_eq!(clean(&Path::new(".").join("main.tf")), "main.tf");
        assert_eq!(clean(Path::new("./sub//x/../y.tf")), "sub/y.tf");
        assert_eq!(clean(Path::new("../a")), "../a");
    }
}
