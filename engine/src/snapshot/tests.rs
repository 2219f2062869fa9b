//! Snapshot scans and hashes over real folders: the SDK's own vectors, ignore files, links,
//! one-file changes, and git state of a real repository.

use std::path::Path;
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::Value as Json;

use super::*;

/// Hashes computed by azure-ai-ml itself (copied from `reference/code-hash-vectors.json`).
const VECTORS: &str = include_str!("fixtures/code-hash-vectors.json");

fn write(root: &Path, files: &[(&str, &str)]) {
    for (relative, content) in files {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
    }
}

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), files);
    dir
}

fn names(snapshot: &Snapshot) -> Vec<&str> {
    snapshot.files.iter().map(|f| f.relative.as_str()).collect()
}

fn scan(files: &[(&str, &str)]) -> Vec<String> {
    let dir = folder(files);
    let snapshot = Snapshot::scan(dir.path()).expect("scan");
    names(&snapshot).into_iter().map(str::to_owned).collect()
}

#[test]
fn every_sdk_vector_reproduces() {
    let doc: Json = serde_json::from_str(VECTORS).expect("vectors json");
    assert_eq!(doc["hash_version"].to_string(), HASH_VERSION);
    let vectors = doc["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 8, "the fixture lost vectors");
    let mut failures = Vec::new();
    for vector in vectors {
        let name = vector["name"].as_str().expect("name");
        let files: Vec<(&str, &str)> = vector["files"]
            .as_object()
            .expect("files")
            .iter()
            .map(|(path, content)| (path.as_str(), content.as_str().expect("utf-8 content")))
            .collect();
        let dir = folder(&files);
        let snapshot = Snapshot::scan(dir.path()).expect("scan");
        let actual = snapshot.content_hash().expect("hash");
        let expected = vector["hash_sha256"].as_str().expect("hash");
        if actual != expected {
            failures.push(format!(
                "{name}: {actual} != {expected} (files {:?})",
                names(&snapshot)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn a_single_file_root_hashes_as_a_one_file_folder() {
    let dir = folder(&[("train.py", "print('hello')\n")]);
    let snapshot = Snapshot::scan(&dir.path().join("train.py")).expect("scan");
    assert_eq!(names(&snapshot), ["train.py"]);
    // The single-file vector's folder holds just this file, so the SDK's hashes agree.
    assert_eq!(
        snapshot.content_hash().expect("hash"),
        "5554367b66d94f315f904ced7ae03cbf2851377d60db506cd008cc2b6f3aac00"
    );
}

#[test]
fn files_sort_by_lower_cased_path_with_ties_in_walk_order() {
    let files = scan(&[
        ("b.py", ""),
        ("A/z.py", ""),
        ("a.py", ""),
        ("C.py", ""),
        ("a_b", ""),
    ]);
    // Code-point order of the lower-cased path: `.` < `/` < `_`.
    assert_eq!(files, ["a.py", "A/z.py", "a_b", "b.py", "C.py"]);
    // Case-only twins: byte order within a directory (upper case first), root files before
    // subdirectories.
    let files = scan(&[("x.PY", ""), ("X.py", ""), ("x.py", "")]);
    assert_eq!(files, ["X.py", "x.PY", "x.py"]);
}

#[test]
fn the_root_ignore_file_applies_to_files_and_is_itself_hashed() {
    let files = scan(&[
        (".gitignore", "*.log\nbuild/\n"),
        ("train.py", ""),
        ("run.log", ""),
        ("src/deep.log", ""),
        ("build/out.bin", ""),
        ("src/build/x.o", ""),
        ("build.txt", ""),
    ]);
    assert_eq!(files, [".gitignore", "build.txt", "train.py"]);
}

#[test]
fn amlignore_wins_over_gitignore_even_when_empty() {
    let files = scan(&[
        (".amlignore", ""),
        (".gitignore", "*.py\n"),
        ("train.py", ""),
    ]);
    assert_eq!(files, [".amlignore", ".gitignore", "train.py"]);
}

#[test]
fn an_ignore_file_can_exclude_itself() {
    let files = scan(&[
        (".amlignore", ".amlignore\n.gitignore\n"),
        (".gitignore", ""),
        ("a", ""),
    ]);
    assert_eq!(files, ["a"]);
}

#[test]
fn only_the_root_ignore_file_counts() {
    let files = scan(&[
        ("sub/.gitignore", "*.csv\n"),
        ("sub/data.csv", ""),
        ("top.csv", ""),
    ]);
    assert_eq!(files, ["sub/.gitignore", "sub/data.csv", "top.csv"]);
}

#[test]
fn negation_reincludes_a_file_under_an_excluded_directory() {
    // git would keep nothing under `build/`; the SDK keeps `build/keep.txt`.
    let files = scan(&[
        (".amlignore", "build/\n!build/keep.txt\n"),
        ("build/keep.txt", ""),
        ("build/out.bin", ""),
    ]);
    assert_eq!(files, [".amlignore", "build/keep.txt"]);
    let files = scan(&[
        (".amlignore", "!build/keep.txt\nbuild/\n"),
        ("build/keep.txt", ""),
        ("build/out.bin", ""),
    ]);
    assert_eq!(files, [".amlignore"]);
}

#[test]
fn an_invalid_ignore_file_is_an_error() {
    let dir = folder(&[(".amlignore", "ok\n!\n")]);
    let err = Snapshot::scan(dir.path()).expect_err("invalid");
    assert!(
        matches!(err, SnapshotError::InvalidPattern { line: 2, .. }),
        "{err:?}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(".gitignore"), [0xff, 0xfe, b'\n']).expect("write");
    let err = Snapshot::scan(dir.path()).expect_err("not utf-8");
    assert!(
        matches!(err, SnapshotError::IgnoreFileEncoding { .. }),
        "{err:?}"
    );
}

#[test]
fn a_missing_root_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Snapshot::scan(&dir.path().join("nope")).expect_err("missing");
    assert!(matches!(err, SnapshotError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn empty_folders_hash_as_zero_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let snapshot = Snapshot::scan(dir.path()).expect("scan");
    assert!(snapshot.files.is_empty());
    use sha2::{Digest, Sha256};
    assert_eq!(
        snapshot.content_hash().expect("hash"),
        hex::encode(Sha256::digest(b"0"))
    );
}

#[test]
fn a_one_file_change_changes_one_digest_and_the_hash() {
    let dir = folder(&[
        (".amlignore", "*.log\n"),
        ("train.py", "print(1)\n"),
        ("lib/util.py", "X = 1\n"),
        ("notes.log", "a"),
    ]);
    let before = Snapshot::scan(dir.path()).expect("scan");
    let hash_before = before.content_hash().expect("hash");

    // An ignored file changes nothing.
    write(dir.path(), &[("notes.log", "bbbb")]);
    let ignored = Snapshot::scan(dir.path()).expect("scan");
    assert_eq!(ignored, before);
    assert_eq!(ignored.content_hash().expect("hash"), hash_before);

    // Same length, other bytes: only the content tells.
    write(dir.path(), &[("lib/util.py", "X = 2\n")]);
    let after = Snapshot::scan(dir.path()).expect("scan");
    assert_eq!(names(&after), names(&before));
    let changed: Vec<&str> = before
        .files
        .iter()
        .zip(&after.files)
        .filter(|(a, b)| a.sha256 != b.sha256)
        .map(|(a, _)| a.relative.as_str())
        .collect();
    assert_eq!(changed, ["lib/util.py"]);
    assert_eq!(after.total_bytes(), before.total_bytes());
    assert_ne!(after.content_hash().expect("hash"), hash_before);
}

#[test]
fn file_digests_and_sizes_are_of_the_bytes() {
    let dir = folder(&[("a.txt", "abc"), ("b/c.txt", "")]);
    let snapshot = Snapshot::scan(dir.path()).expect("scan");
    let a = &snapshot.files[0];
    assert_eq!((a.relative.as_str(), a.size), ("a.txt", 3));
    assert_eq!(
        a.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(a.path, dir.path().join("a.txt"));
    assert_eq!(
        snapshot.files[1].sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(snapshot.total_bytes(), 3);
    assert_eq!(snapshot.root, dir.path());
}

#[cfg(unix)]
mod links {
    use std::os::unix::fs::symlink;

    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_linked_file_is_followed_under_its_link_name() {
        let outside = folder(&[("real.py", "print('linked')\n")]);
        let dir = folder(&[("main.py", "m")]);
        symlink(outside.path().join("real.py"), dir.path().join("linked.py")).expect("symlink");
        let snapshot = Snapshot::scan(dir.path()).expect("scan");
        assert_eq!(names(&snapshot), ["linked.py", "main.py"]);
        assert_eq!(snapshot.files[0].size, 16);
        // The same bytes as a plain file under that name give the same hash.
        let plain = folder(&[("main.py", "m"), ("linked.py", "print('linked')\n")]);
        let expected = Snapshot::scan(plain.path()).expect("scan");
        assert_eq!(snapshot.files[0].sha256, expected.files[0].sha256);
        assert_eq!(
            snapshot.content_hash().expect("hash"),
            expected.content_hash().expect("hash")
        );
    }

    #[test]
    fn a_linked_directory_is_walked() {
        let outside = folder(&[("x.py", "x"), ("y/z.py", "z")]);
        let dir = folder(&[("main.py", "m")]);
        symlink(outside.path(), dir.path().join("lib")).expect("symlink");
        let snapshot = Snapshot::scan(dir.path()).expect("scan");
        assert_eq!(names(&snapshot), ["lib/x.py", "lib/y/z.py", "main.py"]);
    }

    #[test]
    fn a_linked_single_file_root_is_named_by_its_target() {
        let dir = folder(&[("train.py", "print('hello')\n")]);
        symlink(dir.path().join("train.py"), dir.path().join("alias.py")).expect("symlink");
        let snapshot = Snapshot::scan(&dir.path().join("alias.py")).expect("scan");
        assert_eq!(names(&snapshot), ["train.py"]);
    }

    #[test]
    fn a_link_loop_is_an_error_not_a_hang() {
        let dir = folder(&[("a/f.txt", "f")]);
        symlink(dir.path().join("a"), dir.path().join("a/again")).expect("symlink");
        let err = Snapshot::scan(dir.path()).expect_err("loop");
        assert!(matches!(err, SnapshotError::SymlinkLoop { .. }), "{err:?}");
    }

    #[test]
    fn a_dangling_link_is_an_error() {
        let dir = folder(&[("a.txt", "a")]);
        symlink(dir.path().join("gone"), dir.path().join("dangling")).expect("symlink");
        let err = Snapshot::scan(dir.path()).expect_err("dangling");
        assert!(matches!(err, SnapshotError::Io { .. }), "{err:?}");
    }
}

/// Whether `git` runs; when it does not, a test skips unless `CI=1` or `REQUIRE_GIT=1`.
fn git_available(test: &str) -> bool {
    if Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    let required = ["CI", "REQUIRE_GIT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| v == "1" || v == "true"));
    assert!(
        !required,
        "{test}: the `git` binary is required (CI=1 or REQUIRE_GIT=1) but cannot be run"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping {test}: the `git` binary cannot be run");
    }
    false
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Snapshot Test",
            "-c",
            "user.email=t@example.com",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[test]
fn git_info_reads_a_real_repository() {
    if !git_available("git_info_reads_a_real_repository") {
        return;
    }
    let repo = folder(&[("src/train.py", "print(1)\n")]);
    let src = repo.path().join("src");
    run_git(repo.path(), &["init", "-q", "-b", "main"]);

    // No commit yet: the branch is known, the commit is not, the untracked file is dirt.
    let info = git_info(&src).expect("work tree");
    assert_eq!(info.commit, None);
    assert_eq!(info.branch.as_deref(), Some("main"));
    assert!(info.dirty);

    run_git(repo.path(), &["add", "."]);
    run_git(repo.path(), &["commit", "-q", "-m", "first"]);
    let head = run_git(repo.path(), &["rev-parse", "HEAD"]);
    let info = git_info(&src).expect("work tree");
    assert_eq!(
        info,
        GitInfo {
            commit: Some(head.clone()),
            branch: Some("main".into()),
            dirty: false,
            repository: None
        }
    );
    assert_eq!(head.len(), 40);
    // A file root uses its folder.
    assert_eq!(git_info(&src.join("train.py")), Some(info));

    write(repo.path(), &[("src/train.py", "print(2)\n")]);
    assert!(git_info(&src).expect("work tree").dirty);

    run_git(
        repo.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://bot:s3cret@example.com/org/repo.git",
        ],
    );
    let info = git_info(&src).expect("work tree");
    assert_eq!(
        info.repository.as_deref(),
        Some("https://example.com/org/repo.git")
    );

    run_git(repo.path(), &["checkout", "-q", "--detach"]);
    let info = git_info(&src).expect("work tree");
    assert_eq!(info.branch, None);
    assert_eq!(info.commit, Some(head));
}

#[test]
fn git_info_is_none_outside_a_work_tree() {
    if !git_available("git_info_is_none_outside_a_work_tree") {
        return;
    }
    let dir = folder(&[("a.txt", "a")]);
    // Inside the `.git` folder of a repository is not a work tree either.
    run_git(dir.path(), &["init", "-q"]);
    assert_eq!(git_info(&dir.path().join(".git")), None);
    let plain = folder(&[("a.txt", "a")]);
    assert_eq!(git_info(plain.path()), None);
}
