//! The configuration's source files, kept after parsing so that every diagnostic can quote the
//! line it is about. Owns byte offset → line/column conversion (1-based; columns count
//! characters, not bytes). No parsing and no rendering here.

use std::ops::Range;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

/// A byte range of one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceSpan {
    /// The file.
    pub file: FileId,
    /// Byte offsets into the file's text.
    pub range: Range<usize>,
}

impl SourceSpan {
    /// A span of `file`.
    pub fn new(file: FileId, range: Range<usize>) -> SourceSpan {
        SourceSpan { file, range }
    }
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

/// One source file: its name as shown to the user and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    /// Byte ranges that hold sensitive values (a sensitive variable's default, a secret
    /// argument's literal): quoted lines show them as `*`.
    masked: Vec<Range<usize>>,
}

impl SourceFile {
    /// A file named `name` (as the user should read it, e.g. `main.tf` or `examples/x/main.tf`).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(offset, _)| offset + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            masked: Vec::new(),
        }
    }

    /// Marks `range` as holding a sensitive value: [`SourceFile::quoted_line`] hides it.
    pub fn mask(&mut self, range: Range<usize>) {
        self.masked.push(range);
    }

    /// A 1-based line as diagnostics quote it: [`SourceFile::line_text`] with every character
    /// of a masked range replaced by `*` (so columns and carets stay where they were).
    ///
    /// ```
    /// use planner::source::SourceFile;
    /// let mut file = SourceFile::new("main.tf", "default = \"hunter2\"\n");
    /// file.mask(10..19);
    /// assert_eq!(file.quoted_line(1), "default = *********");
    /// ```
    pub fn quoted_line(&self, line: usize) -> String {
        let start = self.line_start(line);
        let text = self.line_text(line);
        if self.masked.is_empty() {
            return text.to_owned();
        }
        text.char_indices()
            .map(|(offset, character)| {
                let at = start + offset;
                if self.masked.iter().any(|range| range.contains(&at)) {
                    '*'
                } else {
                    character
                }
            })
            .collect()
    }

    /// The file name as shown in diagnostics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of a byte offset (clamped to the end of the file).
    pub fn location(&self, offset: usize) -> Location {
        let offset = self.floor_char_boundary(offset.min(self.text.len()));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index - 1,
        };
        let line_start = self.line_starts[line_index];
        Location {
            line: line_index + 1,
            column: self.text[line_start..offset].chars().count() + 1,
        }
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The text of a span, if it is inside the file.
    pub fn slice(&self, range: Range<usize>) -> Option<&str> {
        self.text.get(range)
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Every source file of a configuration, in load order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0)
    }

    /// Marks `range` of file `id` as sensitive ([`SourceFile::mask`]).
    pub fn mask(&mut self, id: FileId, range: Range<usize>) {
        if let Some(file) = self.files.get_mut(id.0) {
            file.mask(range);
        }
    }

    /// The file with this name.
    pub fn by_name(&self, name: &str) -> Option<&SourceFile> {
        self.files.iter().find(|file| file.name == name)
    }

    /// The name of a file, or `?` for an id from another set.
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("?", SourceFile::name)
    }

    /// Every file, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let file = SourceFile::new("main.tf", "a = 1\nnamé = \"x\"\n");
        assert_eq!(file.location(0), Location { line: 1, column: 1 });
        assert_eq!(file.location(6), Location { line: 2, column: 1 });
        // `=` after the two-byte `é` is the 6th character of line 2 (5 bytes would say 7).
        let equals = file.text().find(" = \"").expect("present") + 1;
        assert_eq!(file.location(equals), Location { line: 2, column: 6 });
        assert_eq!(file.line_text(2), "namé = \"x\"");
        assert_eq!(file.line_text(9), "");
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let file = SourceFile::new("main.tf", "x");
        assert_eq!(file.location(99), Location { line: 1, column: 2 });
    }
}
