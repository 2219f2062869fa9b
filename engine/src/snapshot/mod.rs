//! Code snapshots: the files of a run's source folder after its ignore rules, and the content
//! hash the official Azure ML Python SDK (`azure-ai-ml` `get_content_hash`, hash version
//! [`HASH_VERSION`]) computes for them, so a folder hashes here exactly as with `az ml`.
//!
//! The algorithm (`reference/code-snapshot-hash.md`):
//! 1. The root's `.amlignore`, else its `.gitignore`, is the only ignore file; its patterns are
//!    matched against each *file's* path ([`rules`] explains how that differs from git). The
//!    ignore file itself is part of the snapshot unless a pattern excludes it.
//! 2. The folder is walked, following symbolic links, as Python's `os.walk` does: a directory's
//!    files first, then its subdirectories one after the other. `os.walk` lists entries in the
//!    file system's order; here they are taken in byte order of their names, which only matters
//!    for paths that differ in case alone (see step 3).
//! 3. Files are sorted by their relative path lower-cased; ties keep walk order.
//! 4. SHA-256 over the file count, then `#relative#size` per file, then all files' bytes.
//!
//! [`git_info`] reads the commit, branch and dirty flag of the folder's git work tree.

mod git;
mod hash;
pub mod rules;

use std::path::{Component, Path, PathBuf};

pub use git::{GitInfo, git_info};

use rules::IgnoreRules;

/// The content hash version of [`Snapshot::content_hash`], as the service names it
/// (`hashVersion` on a code version).
pub const HASH_VERSION: &str = "202208";

/// The files of a code folder that a run uploads, in the order the content hash takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The folder (or single file) that was scanned, as given.
    pub root: PathBuf,
    /// The files not excluded by the ignore file, sorted as the hash sorts them.
    pub files: Vec<SnapshotFile>,
}

/// One file of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// The path below the root with `/` separators (through links, not their targets); for a
    /// single-file snapshot, the file name.
    pub relative: String,
    /// Where the file's bytes are read from (a link here is followed when read).
    pub path: PathBuf,
    /// The file's length in bytes.
    pub size: u64,
    /// The lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Why a snapshot could not be taken or hashed.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The root does not exist (or is a dangling link).
    #[error("the snapshot source `{}` does not exist", .path.display())]
    NotFound {
        /// The root given.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("failed to read `{}`", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The ignore file is not UTF-8 text.
    #[error("the ignore file `{}` is not valid UTF-8", .path.display())]
    IgnoreFileEncoding {
        /// The ignore file.
        path: PathBuf,
    },
    /// A line of the ignore file is not a valid pattern.
    #[error("invalid ignore pattern `{pattern}` on line {line} of `{}`", .path.display())]
    InvalidPattern {
        /// The ignore file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The pattern as read (trimmed).
        pattern: String,
        /// The cause, when the glob itself is malformed.
        #[source]
        source: Option<ignore::Error>,
    },
    /// A file or directory name is not UTF-8, so it has no relative path for the hash.
    #[error("the path `{}` is not valid UTF-8", .path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// Following symbolic links leads back into a directory being walked.
    #[error("a symbolic link loop at `{}`", .path.display())]
    SymlinkLoop {
        /// The directory reached again.
        path: PathBuf,
    },
    /// A file's length changed between the scan and the hash.
    #[error("`{}` changed after the snapshot was taken (it had {size} bytes); scan again", .path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Its length at scan time.
        size: u64,
    },
}

impl Snapshot {
    /// Lists the files of `root` that a run uploads: `.amlignore` (else `.gitignore`) in the
    /// root applies with gitignore semantics to each file's path, symbolic links are followed,
    /// and each file's size and SHA-256 are read. A root that is a file gives a one-file
    /// snapshot named by the file name (of the link's target, when the root is a link, as in
    /// the SDK).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use engine::snapshot::Snapshot;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join(".amlignore"), "*.log\n")?;
    /// std::fs::write(dir.path().join("train.py"), "print('hi')\n")?;
    /// std::fs::write(dir.path().join("run.log"), "noise")?;
    ///
    /// let snapshot = Snapshot::scan(dir.path())?;
    /// let names: Vec<&str> = snapshot.files.iter().map(|f| f.relative.as_str()).collect();
    /// assert_eq!(names, [".amlignore", "train.py"]);
    /// assert_eq!(snapshot.files[1].size, 12);
    /// # Ok(()) }
    /// ```
    pub fn scan(root: &Path) -> Result<Snapshot, SnapshotError> {
        let metadata = std::fs::metadata(root).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => SnapshotError::NotFound {
                path: root.to_path_buf(),
            },
            _ => SnapshotError::Io {
                path: root.to_path_buf(),
                source,
            },
        })?;
        let resolved = std::fs::canonicalize(root).map_err(|source| SnapshotError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let mut files = Vec::new();
        if metadata.is_dir() {
            let rules = IgnoreRules::load(&resolved)?;
            let mut walk = Walk {
                rules: &rules,
                active: Vec::new(),
                files: &mut files,
            };
            walk.directory(root, "")?;
        } else {
            let name = resolved.file_name().unwrap_or(resolved.as_os_str());
            let relative = utf8(name, &resolved)?.to_owned();
            files.push(read_file(root, relative)?);
        }
        // Stable: equal keys keep walk order.
        files.sort_by_cached_key(|file| file.relative.to_lowercase());
        Ok(Snapshot {
            root: root.to_path_buf(),
            files,
        })
    }

    /// The content hash of the snapshot as the Azure ML SDK computes it (hash version
    /// [`HASH_VERSION`]), lower-case hex. The files are read again, streamed; one whose length
    /// changed since [`Snapshot::scan`] is an error.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use engine::snapshot::Snapshot;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("train.py"), "print('hello')\n")?;
    /// // The hash the SDK itself computed for this folder (code-hash-vectors.json).
    /// assert_eq!(
    ///     Snapshot::scan(dir.path())?.content_hash()?,
    ///     "5554367b66d94f315f904ced7ae03cbf2851377d60db506cd008cc2b6f3aac00"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn content_hash(&self) -> Result<String, SnapshotError> {
        hash::content_hash(&self.files)
    }

    /// The total size of the snapshot's files in bytes.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use engine::snapshot::Snapshot;
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.txt"), "abc")?;
    /// std::fs::write(dir.path().join("b.txt"), "de")?;
    /// assert_eq!(Snapshot::scan(dir.path())?.total_bytes(), 5);
    /// # Ok(()) }
    /// ```
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|file| file.size).sum()
    }
}

/// The state of a walk over a snapshot root.
struct Walk<'a> {
    rules: &'a IgnoreRules,
    /// The resolved directories being walked, outermost first, to stop at a link loop.
    active: Vec<PathBuf>,
    files: &'a mut Vec<SnapshotFile>,
}

impl Walk<'_> {
    /// Collects the files of `dir` (at `relative` below the root, "" for the root), then walks
    /// its subdirectories, as `os.walk(top, followlinks=True)` visits them.
    fn directory(&mut self, dir: &Path, relative: &str) -> Result<(), SnapshotError> {
        let io = |source| SnapshotError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let resolved = std::fs::canonicalize(dir).map_err(io)?;
        if self.active.contains(&resolved) {
            return Err(SnapshotError::SymlinkLoop {
                path: dir.to_path_buf(),
            });
        }
        let mut entries = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        entries.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));

        let mut subdirectories = Vec::new();
        // The SDK matches patterns against the resolved directory joined with the entry's name,
        // relative to the ignore file's directory.
        let match_dir = relative_path(&resolved, self.rules.base());
        for name in entries {
            let path = dir.join(&name);
            let name = utf8(&name, &path)?;
            let child = join(relative, name);
            // `DirEntry.is_dir()` in `os.walk` follows links; anything else (a dangling link
            // included, which then fails to read, as in the SDK) is a file.
            if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                subdirectories.push((path, child));
            } else if !self.rules.is_excluded(&join(&match_dir, name)) {
                self.files.push(read_file(&path, child)?);
            }
        }
        self.active.push(resolved);
        for (path, child) in subdirectories {
            self.directory(&path, &child)?;
        }
        self.active.pop();
        Ok(())
    }
}

/// The [`SnapshotFile`] for `path`, read once for its size and digest.
fn read_file(path: &Path, relative: String) -> Result<SnapshotFile, SnapshotError> {
    let (sha256, size) = hash::file_sha256(path)?;
    Ok(SnapshotFile {
        relative,
        path: path.to_path_buf(),
        size,
        sha256,
    })
}

fn utf8<'a>(name: &'a std::ffi::OsStr, path: &Path) -> Result<&'a str, SnapshotError> {
    name.to_str().ok_or_else(|| SnapshotError::NonUtf8Path {
        path: path.to_path_buf(),
    })
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// `path` relative to `base`, both absolute and resolved, with `/` separators and `..` where
/// `path` is not below `base` (Python's `os.path.relpath`); "" when they are equal.
fn relative_path(path: &Path, base: &Path) -> String {
    let path: Vec<Component<'_>> = path.components().collect();
    let base: Vec<Component<'_>> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_owned(), base.len() - common);
    let downs = path[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests;
