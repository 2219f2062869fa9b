//! The git state of a snapshot's source folder (commit, branch, dirty flag, origin), recorded on
//! a run. It runs the `git` command line, so there is no libgit2 dependency; without git, or
//! outside a work tree, there is no git information.

use std::path::Path;
use std::process::{Command, Stdio};

/// The git state of a source folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitInfo {
    /// The full hash of `HEAD`; none before the first commit.
    pub commit: Option<String>,
    /// The checked-out branch; none on a detached `HEAD`.
    pub branch: Option<String>,
    /// Whether the work tree has changes, untracked files included (`git status --porcelain`
    /// over the whole work tree). Also true when the status cannot be read: an unknown state is
    /// never reported as clean.
    pub dirty: bool,
    /// The URL of the `origin` remote, with any user name and password removed.
    pub repository: Option<String>,
}

/// The git state of the work tree holding `root` (a folder, or a file whose folder is used);
/// `None` when `root` is not in a git work tree or the `git` binary cannot be run.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use engine::snapshot::git_info;
/// let dir = tempfile::tempdir()?;
/// // A fresh temporary folder is no work tree (nor is anything without a `git` binary).
/// assert!(git_info(dir.path()).is_none());
/// # Ok(()) }
/// ```
pub fn git_info(root: &Path) -> Option<GitInfo> {
    let dir = if root.is_dir() {
        root
    } else {
        root.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    if git(dir, &["rev-parse", "--is-inside-work-tree"])? != "true" {
        return None;
    }
    let commit = git(dir, &["rev-parse", "HEAD"]);
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"])
        // Before the first commit `HEAD` names a branch that does not exist yet.
        .or_else(|| git(dir, &["symbolic-ref", "--short", "-q", "HEAD"]))
        .filter(|branch| branch != "HEAD" && !branch.is_empty());
    let dirty = git(dir, &["status", "--porcelain"]).is_none_or(|status| !status.is_empty());
    let repository = git(dir, &["remote", "get-url", "origin"])
        .filter(|url| !url.is_empty())
        .map(|url| without_credentials(&url));
    Some(GitInfo {
        commit,
        branch,
        dirty,
        repository,
    })
}

/// The trimmed standard output of `git -C dir args`, or `None` when git cannot be run or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never prompt, and let `status` skip refreshing the index (no lock taken).
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// `url` without the `user:password@` of an `scheme://` URL, so a token never reaches a run's
/// properties or the logs. `scp`-like addresses (`git@host:org/repo`) hold no secret and stay.
fn without_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| authority_start + at);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}{}",
            &url[..authority_start],
            &url[authority_start + at + 1..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_from_remote_urls() {
        assert_eq!(
            without_credentials("https://user:s3cret@dev.azure.com/org/p/_git/repo"),
            "https://dev.azure.com/org/p/_git/repo"
        );
        assert_eq!(
            without_credentials("https://x-access-token:t@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            without_credentials("https://github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            without_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(
            without_credentials("ssh://git@host:22/o/r@v.git"),
            "ssh://host:22/o/r@v.git"
        );
    }
}
