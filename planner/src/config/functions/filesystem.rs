//! Filesystem functions: `abspath basename dirname file filebase64 fileexists fileset
//! pathexpand`. Paths are read relative to the configuration folder after `~` is expanded, as
//! Terraform reads them; path strings follow Go's `filepath` (`Clean`, `Base`, `Dir`). `fileset`
//! matches with the doublestar rules Terraform documents: `*`, `**` as a whole component, `?`,
//! `[class]`, `[^class]` and `{alternatives}`.

use std::path::{Path, PathBuf};

use engine::value::Value;

use super::encoding::base64_encode;
use super::{MAX_VALUE_BYTES, room_for_elements, string, too_long};

/// The home directory for `~`.
fn home() -> Result<String, String> {
    std::env::var("HOME")
        .ok()
        .filter(|home| !home.is_empty())
        .ok_or_else(|| "cannot expand `~`: HOME is not set".to_owned())
}

/// go-homedir's `Expand`: `~` and `~/...` only.
fn expand_home(path: &str) -> Result<String, String> {
    match path.strip_prefix('~') {
        None => Ok(path.to_owned()),
        Some("") => home(),
        Some(rest) if rest.starts_with('/') => Ok(format!("{}{rest}", home()?)),
        Some(_) => Err("cannot expand user-specific home dir".to_owned()),
    }
}

/// `path` (relative to `base_dir` unless absolute) as a file-system path.
fn resolve(path: &str, base_dir: &Path) -> Result<PathBuf, String> {
    let expanded = expand_home(path)?;
    Ok(base_dir.join(expanded))
}

/// Reads the bytes of the file named by `path` (relative to `base_dir`), with the name as given.
pub(super) fn read_bytes(path: &Value, base_dir: &Path) -> Result<(String, Vec<u8>), String> {
    let relative = string(path, "path")?;
    let full = resolve(&relative, base_dir)?;
    let metadata = std::fs::metadata(&full).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => format!(
            "no file exists at `{relative}`; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"
        ),
        _ => format!("cannot read `{relative}`: {error}"),
    })?;
    if metadata.is_dir() {
        return Err(format!("`{relative}` is a directory, not a file"));
    }
    if metadata.len() > MAX_VALUE_BYTES as u64 {
        return Err(format!("cannot read `{relative}`: {}", too_long()));
    }
    let bytes =
        std::fs::read(&full).map_err(|error| format!("cannot read `{relative}`: {error}"))?;
    Ok((relative, bytes))
}

pub(super) fn file(args: &[Value], base: &Path) -> Result<Value, String> {
    super::read_file(&args[0], base).map(Value::String)
}

pub(super) fn filebase64(args: &[Value], base: &Path) -> Result<Value, String> {
    let (_, bytes) = read_bytes(&args[0], base)?;
    base64_encode(&bytes).map(Value::String)
}

pub(super) fn fileexists(args: &[Value], base: &Path) -> Result<Value, String> {
    let relative = string(&args[0], "path")?;
    let full = resolve(&relative, base)?;
    match std::fs::metadata(&full) {
        Ok(metadata) if metadata.is_file() => Ok(Value::Bool(true)),
        Ok(metadata) if metadata.is_dir() => Err(format!("{relative} is a directory, not a file")),
        Ok(_) => Err(format!("{relative} is not a regular file")),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(_) => Err(format!("failed to stat {relative}")),
    }
}

pub(super) fn pathexpand(args: &[Value], _: &Path) -> Result<Value, String> {
    expand_home(&string(&args[0], "path")?).map(Value::String)
}

/// Go's `filepath.Clean` of a slash-separated path.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

pub(super) fn abspath(args: &[Value], base: &Path) -> Result<Value, String> {
    let path = string(&args[0], "path")?;
    let joined = if path.starts_with('/') {
        path
    } else {
        format!("{}/{path}", base.display())
    };
    Ok(Value::String(clean(&joined)))
}

pub(super) fn basename(args: &[Value], _: &Path) -> Result<Value, String> {
    let path = string(&args[0], "path")?;
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::from(trimmed.rsplit('/').next().unwrap_or(trimmed)))
}

pub(super) fn dirname(args: &[Value], _: &Path) -> Result<Value, String> {
    let path = string(&args[0], "path")?;
    let directory = match path.rfind('/') {
        Some(position) => &path[..=position],
        None => "",
    };
    Ok(Value::String(clean(directory)))
}

/// Expands `{a,b}` alternatives (nested too) into plain patterns.
fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut depth = 0;
    let mut open = None;
    let mut escaped = false;
    for (index, byte) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match byte {
            b'\\' => escaped = true,
            b'{' => {
                if depth == 0 {
                    open = Some(index);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let start = open.expect("an opening brace was seen");
                    let (prefix, body, suffix) = (
                        &pattern[..start],
                        &pattern[start + 1..index],
                        &pattern[index + 1..],
                    );
                    let mut alternatives = Vec::new();
                    let (mut level, mut from, mut skip) = (0, 0, false);
                    for (position, character) in body.char_indices() {
                        if skip {
                            skip = false;
                            continue;
                        }
                        match character {
                            '\\' => skip = true,
                            '{' => level += 1,
                            '}' => level -= 1,
                            ',' if level == 0 => {
                                alternatives.push(&body[from..position]);
                                from = position + 1;
                            }
                            _ => {}
                        }
                    }
                    alternatives.push(&body[from..]);
                    return alternatives
                        .into_iter()
                        .flat_map(|alternative| {
                            expand_braces(&format!("{prefix}{alternative}{suffix}"))
                        })
                        .collect();
                }
            }
            _ => {}
        }
    }
    vec![pattern.to_owned()]
}

/// Matches one path component against one pattern component (`*`, `?`, classes, escapes).
fn match_component(pattern: &[char], name: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => {
            let rest = &pattern[1..];
            (0..=name.len()).any(|skip| match_component(rest, &name[skip..]))
        }
        Some('?') => !name.is_empty() && match_component(&pattern[1..], &name[1..]),
        Some('[') => {
            let Some(&character) = name.first() else {
                return false;
            };
            let mut index = 1;
            let negated = matches!(pattern.get(1), Some('^' | '!'));
            if negated {
                index += 1;
            }
            let mut matched = false;
            let mut first = true;
            while index < pattern.len() && (first || pattern[index] != ']') {
                first = false;
                let mut low = pattern[index];
                if low == '\\' && index + 1 < pattern.len() {
                    index += 1;
                    low = pattern[index];
                }
                let mut high = low;
                if pattern.get(index + 1) == Some(&'-')
                    && pattern.get(index + 2).is_some_and(|c| *c != ']')
                {
                    high = pattern[index + 2];
                    index += 2;
                }
                if low <= character && character <= high {
                    matched = true;
                }
                index += 1;
            }
            if index >= pattern.len() {
                return false;
            }
            matched != negated && match_component(&pattern[index + 1..], &name[1..])
        }
        Some('\\') if pattern.len() > 1 => {
            name.first() == Some(&pattern[1]) && match_component(&pattern[2..], &name[1..])
        }
        Some(literal) => {
            name.first() == Some(literal) && match_component(&pattern[1..], &name[1..])
        }
    }
}

/// Matches path components against pattern components, `**` standing for any number of them.
fn match_path(pattern: &[Vec<char>], path: &[Vec<char>]) -> bool {
    match pattern.first() {
        None => path.is_empty(),
        Some(component) if component.iter().collect::<String>() == "**" => {
            (0..=path.len()).any(|skip| match_path(&pattern[1..], &path[skip..]))
        }
        Some(component) => {
            !path.is_empty()
                && match_component(component, &path[0])
                && match_path(&pattern[1..], &path[1..])
        }
    }
}

/// The regular files below `directory`, as slash-separated paths relative to it.
fn walk(directory: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Ok(());
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&entry.path(), &relative, out)?;
        } else if std::fs::metadata(entry.path()).is_ok_and(|metadata| metadata.is_file()) {
            room_for_elements(out.len() + 1)?;
            out.push(relative);
        }
    }
    Ok(())
}

pub(super) fn fileset(args: &[Value], base: &Path) -> Result<Value, String> {
    let (path, pattern) = (string(&args[0], "path")?, string(&args[1], "pattern")?);
    let root = resolve(&path, base)?;
    let patterns: Vec<Vec<Vec<char>>> = expand_braces(&clean(&pattern))
        .iter()
        .map(|pattern| {
            pattern
                .split('/')
                .filter(|part| !part.is_empty() && *part != ".")
                .map(|part| part.chars().collect())
                .collect()
        })
        .collect();
    let mut files = Vec::new();
    walk(&root, "", &mut files)?;
    let mut matched: Vec<String> = files
        .into_iter()
        .filter(|file| {
            let parts: Vec<Vec<char>> =
                file.split('/').map(|part| part.chars().collect()).collect();
            patterns.iter().any(|pattern| match_path(pattern, &parts))
        })
        .collect();
    matched.sort();
    Ok(Value::List(
        matched.into_iter().map(Value::String).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run, strings};
    use super::*;
    use pretty_assertions::assert_eq;

    fn call_in(name: &str, args: Vec<Value>, base: &Path) -> Result<Value, String> {
        super::super::call(super::super::lookup(name).expect("known"), args, base)
    }

    #[test]
    fn path_strings() {
        assert_eq!(
            run("basename", vec!["foo/bar/baz.txt".into()]),
            Ok("baz.txt".into())
        );
        assert_eq!(run("basename", vec!["foo/bar/".into()]), Ok("bar".into()));
        assert_eq!(run("basename", vec!["/".into()]), Ok("/".into()));
        assert_eq!(run("basename", vec!["".into()]), Ok(".".into()));
        assert_eq!(
            run("dirname", vec!["foo/bar/baz.txt".into()]),
            Ok("foo/bar".into())
        );
        assert_eq!(run("dirname", vec!["baz.txt".into()]), Ok(".".into()));
        assert_eq!(run("dirname", vec!["/baz.txt".into()]), Ok("/".into()));
        assert_eq!(run("dirname", vec!["a//b/../c/x".into()]), Ok("a/c".into()));
        assert_eq!(
            run("abspath", vec!["./scripts/../setup.sh".into()]),
            Ok("/config/setup.sh".into())
        );
        assert_eq!(run("abspath", vec!["/x/./y/".into()]), Ok("/x/y".into()));
        assert_eq!(clean("../../a/.."), "../..");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean(""), ".");
    }

    #[test]
    fn home_expansion() {
        let home = std::env::var("HOME").unwrap_or_default();
        if home.is_empty() {
            return;
        }
        assert_eq!(
            run("pathexpand", vec!["~/.ssh/id_rsa".into()]),
            Ok(format!("{home}/.ssh/id_rsa").into())
        );
        assert_eq!(
            run("pathexpand", vec!["/etc/resolv.conf".into()]),
            Ok("/etc/resolv.conf".into())
        );
        assert_eq!(run("pathexpand", vec!["~".into()]), Ok(home.into()));
        assert!(run("pathexpand", vec!["~bob/x".into()]).is_err());
    }

    #[test]
    fn files_are_read_relative_to_the_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("setup.sh"), "echo hi\n").expect("write");
        std::fs::write(dir.path().join("blob.bin"), [0xff, 0x00]).expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let base = dir.path();
        assert_eq!(
            call_in("file", vec!["setup.sh".into()], base),
            Ok("echo hi\n".into())
        );
        let missing = call_in("file", vec!["nope.sh".into()], base).expect_err("missing");
        assert!(
            missing.starts_with("no file exists at `nope.sh`"),
            "{missing}"
        );
        assert!(
            call_in("file", vec!["blob.bin".into()], base)
                .expect_err("binary")
                .contains("filebase64")
        );
        assert_eq!(
            call_in("filebase64", vec!["blob.bin".into()], base),
            Ok("/wA=".into())
        );
        assert_eq!(
            call_in("fileexists", vec!["setup.sh".into()], base),
            Ok(true.into())
        );
        assert_eq!(
            call_in("fileexists", vec!["nope".into()], base),
            Ok(false.into())
        );
        assert_eq!(
            call_in("fileexists", vec!["sub".into()], base),
            Err("sub is a directory, not a file".to_owned())
        );
        assert_eq!(
            call_in("file", vec!["sub".into()], base),
            Err("`sub` is a directory, not a file".to_owned())
        );
    }

    #[test]
    fn fileset_matches_doublestar_patterns() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        for file in [
            "files/hello.txt",
            "files/world.txt",
            "files/notes.md",
            "files/subdirectory/anotherfile.txt",
            "files/.hidden",
        ] {
            let path = base.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "x").expect("write");
        }
        let set =
            |path: &str, pattern: &str| call_in("fileset", vec![path.into(), pattern.into()], base);
        assert_eq!(
            set(".", "files/*.txt"),
            Ok(strings(&["files/hello.txt", "files/world.txt"]))
        );
        assert_eq!(
            set(".", "files/{hello,world}.txt"),
            Ok(strings(&["files/hello.txt", "files/world.txt"]))
        );
        assert_eq!(
            set("files", "*"),
            Ok(strings(&[".hidden", "hello.txt", "notes.md", "world.txt"]))
        );
        assert_eq!(
            set("files", "**"),
            Ok(strings(&[
                ".hidden",
                "hello.txt",
                "notes.md",
                "subdirectory/anotherfile.txt",
                "world.txt"
            ]))
        );
        assert_eq!(
            set("files", "**/*.txt"),
            Ok(strings(&[
                "hello.txt",
                "subdirectory/anotherfile.txt",
                "world.txt"
            ]))
        );
        assert_eq!(
            set("files", "[hw]*.txt"),
            Ok(strings(&["hello.txt", "world.txt"]))
        );
        assert_eq!(set("files", "[^h]*.???"), Ok(strings(&["world.txt"])));
        assert_eq!(set("files", "?otes.md"), Ok(strings(&["notes.md"])));
        assert_eq!(set("missing", "*"), Ok(strings(&[])));
        assert_eq!(expand_braces("a{b,c{d,e}}f"), vec!["abf", "acdf", "acef"]);
    }
}
