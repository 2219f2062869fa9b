//! The state lock, as both tools see it: Terraform's OS lock (a POSIX record write lock,
//! `fcntl(F_SETLK)`, over the whole state file, on the open state file itself, the file then
//! read and written through that descriptor) and its lock-info file
//! (`.terraform.tfstate.lock.info`, same JSON fields), so a running `terraform apply` or
//! `terraform console` stops an amlplan command and the other way round. Record locks belong to
//! a process, not to a descriptor (and closing any descriptor of the file drops them), so
//! amlplan also holds `flock` on the info file, which excludes a second command or thread of
//! the same process; that lock is taken first, so a waiter never opens the state file. A
//! second writer fails fast naming the holder, or waits up to a timeout. The OS releases both
//! locks if the process dies, so a crash never leaves a lock behind; the info file is only
//! information: [`status`] tells a live holder from a leftover, and [`remove`] is
//! `force-unlock`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// How often a waiting command tries again.
const RETRY_INTERVAL: Duration = Duration::from_millis(200);

/// Terraform's lock info (`statemgr.LockInfo`), as written to the info file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A random id of this lock.
    #[serde(rename = "ID")]
    pub id: String,
    /// The command holding it (`OperationTypeApply`, or amlplan's command name).
    #[serde(rename = "Operation")]
    pub operation: String,
    /// Free text.
    #[serde(rename = "Info")]
    pub info: String,
    /// `user@host` of the holder.
    #[serde(rename = "Who")]
    pub who: String,
    /// The holder's tool version.
    #[serde(rename = "Version")]
    pub version: String,
    /// When it was taken (RFC 3339, UTC).
    #[serde(rename = "Created")]
    pub created: String,
    /// The locked state file.
    #[serde(rename = "Path")]
    pub path: String,
}

/// What a command says about itself when it takes the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOptions {
    /// The operation (`apply`, `plan`, ...).
    pub operation: String,
    /// The tool and version, e.g. `amlplan 0.1.0`.
    pub version: String,
    /// How long to wait for another holder (`--lock-timeout`); zero fails at once.
    pub timeout: Duration,
}

/// Taking the lock failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "the state `{path}` is locked by `{who}` (operation `{operation}`, since {created}, lock id `{id}`); \
         wait for it to finish or pass a longer --lock-timeout",
        who = .holder.who, operation = .holder.operation, created = .holder.created, id = .holder.id
    )]
    Held {
        /// The locked state file.
        path: String,
        /// What the holder wrote (fields empty when it wrote nothing readable).
        holder: Box<LockInfo>,
    },
    /// The lock file could not be opened, read or written.
    #[error("failed to access the lock file `{path}`")]
    Io {
        /// The lock-info file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A held state lock; released (info file removed, OS locks dropped) on drop.
#[derive(Debug)]
pub struct StateLock {
    file: Option<File>,
    /// The state file, open read-write and record-locked: read and write it only through
    /// [`StateLock::state_file`] while the lock is held.
    state: Option<File>,
    /// Whether taking the lock created the (empty) state file: removed again if still empty.
    created_state: bool,
    state_path: PathBuf,
    info_path: PathBuf,
    info: LockInfo,
}

/// Elsewhere Terraform locks its state with `LockFileEx`, which this module does not take:
/// only amlplan's own lock (`flock`, which std maps to it) excludes commands there.
#[cfg(not(unix))]
fn try_record_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(not(unix))]
fn record_locked_by_another(_file: &File) -> std::io::Result<bool> {
    Ok(false)
}

/// The refusal naming the holder of the lock of `state_path`, as its info `file` says (best
/// effort: the holder may be writing it right now).
fn held_by(file: &mut File, state_path: &Path) -> LockError {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    let holder = serde_json::from_str(&text).unwrap_or_else(|_| unknown_holder(state_path));
    LockError::Held {
        path: state_path.display().to_string(),
        holder: Box::new(holder),
    }
}

/// A write lock over the whole file (`l_start = 0`, `l_len = 0`), as Terraform takes it.
#[cfg(unix)]
#[allow(unsafe_code, reason = "a C struct for `fcntl(2)`")]
fn whole_file_write_lock() -> libc::flock {
    // SAFETY: `flock` is a plain C struct; zeroed is a valid value before the fields are set.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock
}

/// Tries Terraform's lock on `file`: `Ok(false)` when another process holds a lock on it.
#[cfg(unix)]
#[allow(unsafe_code, reason = "POSIX record locks need `fcntl(2)`")]
fn try_record_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let lock = whole_file_write_lock();
    // SAFETY: the descriptor is open for the duration of the call; `lock` outlives it.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) };
    if result == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EACCES | libc::EAGAIN) => Ok(false),
        _ => Err(error),
    }
}

/// Whether another process holds a record lock on `file` (`F_GETLK`).
#[cfg(unix)]
#[allow(unsafe_code, reason = "POSIX record locks need `fcntl(2)`")]
fn record_locked_by_another(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut lock = whole_file_write_lock();
    // SAFETY: the descriptor is open for the duration of the call; `lock` is written by it.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(lock.l_type != libc::F_UNLCK as libc::c_short)
}

/// The lock-info file of a state file: `.NAME.lock.info` beside it, as Terraform names it.
///
/// ```
/// let path = engine::state::lock::info_path(std::path::Path::new("dir/terraform.tfstate"));
/// assert_eq!(path, std::path::Path::new("dir/.terraform.tfstate.lock.info"));
/// ```
pub fn info_path(state_path: &Path) -> PathBuf {
    let name = state_path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "terraform.tfstate".to_owned());
    state_path.with_file_name(format!(".{name}.lock.info"))
}

impl StateLock {
    /// Takes the lock of `state_path`, waiting up to `options.timeout`.
    pub fn acquire(state_path: &Path, options: &LockOptions) -> Result<StateLock, LockError> {
        let info_path = info_path(state_path);
        let io = |source| LockError::Io {
            path: info_path.display().to_string(),
            source,
        };
        // The state's folder, as Terraform creates it.
        if let Some(parent) = state_path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let started = Instant::now();
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&info_path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= options.timeout {
                        return Err(held_by(&mut file, state_path));
                    }
                    drop(file);
                    std::thread::sleep(RETRY_INTERVAL);
                    continue;
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(io(error)),
            }
            // The previous holder removes the file before unlocking: if the path no longer names
            // the file we locked, we locked a removed file; start again.
            if !same_file(&file, &info_path) {
                continue;
            }
            // Terraform's lock, on the state file (created if missing, as Terraform does).
            let state_io = |source| LockError::Io {
                path: state_path.display().to_string(),
                source,
            };
            let created_state = !state_path.exists();
            let state = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(state_path)
                .map_err(state_io)?;
            if !try_record_lock(&state).map_err(state_io)? {
                // Held by another process (terraform): its info file names it.
                drop(state);
                let _ = file.unlock();
                if started.elapsed() >= options.timeout {
                    return Err(held_by(&mut file, state_path));
                }
                drop(file);
                std::thread::sleep(RETRY_INTERVAL);
                continue;
            }
            let info = LockInfo {
                id: random_id(),
                operation: options.operation.clone(),
                info: String::new(),
                who: who(),
                version: options.version.clone(),
                created: now_rfc3339(),
                path: state_path.display().to_string(),
            };
            let json = serde_json::to_vec(&info).expect("lock info serializes");
            file.set_len(0).map_err(io)?;
            file.rewind().map_err(io)?;
            file.write_all(&json).map_err(io)?;
            file.sync_all().map_err(io)?;
            return Ok(StateLock {
                file: Some(file),
                state: Some(state),
                created_state,
                state_path: state_path.to_owned(),
                info_path,
                info,
            });
        }
    }

    /// What this lock wrote.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// The locked state file, open for reading and writing. Opening the state file any other
    /// way in this process (and closing it) would drop Terraform's lock.
    pub fn state_file(&self) -> &File {
        self.state.as_ref().expect("held until drop")
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Remove the info file while still holding the OS lock, so a waiter that locks the old
        // file notices (see `same_file`) instead of sharing the lock. After a forced unlock the
        // path names another command's lock file: that one is left alone.
        if let Some(file) = self.file.take() {
            if same_file(&file, &self.info_path) {
                let _ = std::fs::remove_file(&self.info_path);
            }
            // Closing the state file drops the record lock; a state file this lock created
            // and nothing wrote goes too, as Terraform leaves none behind.
            if let Some(state) = self.state.take() {
                let empty = state.metadata().is_ok_and(|metadata| metadata.len() == 0);
                drop(state);
                if self.created_state && empty {
                    let _ = std::fs::remove_file(&self.state_path);
                }
            }
            let _ = file.unlock();
        }
    }
}

/// The lock of a state file as found on disk (`amlplan force-unlock`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// What the holder wrote (fields empty when it wrote nothing readable).
    pub info: LockInfo,
    /// True when a running process holds the OS lock; false when the info file was left by a
    /// process that is gone.
    pub held: bool,
}

/// The lock of `state_path`: `None` when there is no lock-info file.
pub fn status(state_path: &Path) -> Result<Option<LockStatus>, LockError> {
    let Some((file, info)) = open_info(state_path)? else {
        return Ok(None);
    };
    let held = is_held(&file, state_path)?;
    Ok(Some(LockStatus { info, held }))
}

/// Removes the lock `id` of `state_path` (`force-unlock`) when the process that took it is
/// gone: its info file is removed while holding the info file's OS lock, so no command takes
/// the lock meanwhile. A lock a running process holds is [`LockError::Held`]: its OS locks
/// cannot be broken. Returns what was removed; `None` when the info file is not (or no longer)
/// the lock `id`.
pub fn remove(state_path: &Path, id: &str) -> Result<Option<LockStatus>, LockError> {
    let info_path = info_path(state_path);
    let Some((file, info)) = open_info(state_path)? else {
        return Ok(None);
    };
    let held = is_held(&file, state_path)?;
    if info.id != id || !same_file(&file, &info_path) {
        return Ok(None);
    }
    if held {
        return Err(LockError::Held {
            path: state_path.display().to_string(),
            holder: Box::new(info),
        });
    }
    std::fs::remove_file(&info_path).map_err(|error| info_error(state_path, error))?;
    Ok(Some(LockStatus { info, held }))
}

/// Whether a running command holds the lock: amlplan's `flock` on the info `file` (when none
/// does, this call holds it until `file` is closed) or a record lock (Terraform's, or
/// amlplan's) on the state file. Never call it from a process that holds the lock: opening
/// the state file here and closing it would drop that process's record lock.
fn is_held(file: &File, state_path: &Path) -> Result<bool, LockError> {
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(true),
        Err(std::fs::TryLockError::Error(error)) => return Err(info_error(state_path, error)),
    }
    let state = match OpenOptions::new().read(true).write(true).open(state_path) {
        Ok(state) => state,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(info_error(state_path, error)),
    };
    record_locked_by_another(&state).map_err(|error| info_error(state_path, error))
}

/// The open lock-info file of `state_path` and what it says; `None` when there is none.
fn open_info(state_path: &Path) -> Result<Option<(File, LockInfo)>, LockError> {
    let mut file = match File::open(info_path(state_path)) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(info_error(state_path, error)),
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|error| info_error(state_path, error))?;
    let info = serde_json::from_str(&text).unwrap_or_else(|_| unknown_holder(state_path));
    Ok(Some((file, info)))
}

fn info_error(state_path: &Path, source: std::io::Error) -> LockError {
    LockError::Io {
        path: info_path(state_path).display().to_string(),
        source,
    }
}

/// The holder of a lock whose info file is unreadable (being written, or not JSON).
fn unknown_holder(state_path: &Path) -> LockInfo {
    LockInfo {
        id: String::new(),
        operation: String::new(),
        info: String::new(),
        who: "another process".to_owned(),
        version: String::new(),
        created: "an unknown time".to_owned(),
        path: state_path.display().to_string(),
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// A random UUID (version 4 layout).
pub(crate) fn random_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|host| host.trim().to_owned())
        .ok()
        .filter(|host| !host.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{user}@{host}")
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(operation: &str, timeout: Duration) -> LockOptions {
        LockOptions {
            operation: operation.to_owned(),
            version: "amlplan test".to_owned(),
            timeout,
        }
    }

    /// The info file of a lock whose holder is gone (id `stale`, by `x@y`).
    fn write_stale_info(state: &Path) {
        std::fs::write(info_path(state), r#"{"ID":"stale","Operation":"apply","Info":"","Who":"x@y","Version":"1.0.3","Created":"2020-01-01T00:00:00Z","Path":"terraform.tfstate"}"#)
            .expect("write");
    }

    #[test]
    fn second_writer_fails_fast_naming_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("terraform.tfstate");
        let lock = StateLock::acquire(&state, &options("apply", Duration::ZERO)).expect("first");
        let written: LockInfo =
            serde_json::from_slice(&std::fs::read(info_path(&state)).expect("info file"))
                .expect("json");
        assert_eq!(&written, lock.info());
        assert_eq!(written.operation, "apply");
        assert!(written.who.contains('@'));
        assert_eq!(written.id.len(), 36);

        let started = Instant::now();
        let error = StateLock::acquire(&state, &options("plan", Duration::ZERO)).expect_err("held");
        assert!(started.elapsed() < Duration::from_secs(1));
        let message = error.to_string();
        assert!(message.contains(&written.who), "{message}");
        assert!(message.contains("operation `apply`"), "{message}");
        assert!(message.contains(&written.created), "{message}");

        drop(lock);
        assert!(
            !info_path(&state).exists(),
            "the info file goes with the lock"
        );
        let again =
            StateLock::acquire(&state, &options("plan", Duration::ZERO)).expect("free again");
        assert_eq!(again.info().operation, "plan");
    }

    #[test]
    fn waiter_gets_the_lock_when_the_holder_releases_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("terraform.tfstate");
        let lock = StateLock::acquire(&state, &options("apply", Duration::ZERO)).expect("first");
        let waiter = {
            let state = state.clone();
            std::thread::spawn(move || {
                StateLock::acquire(&state, &options("apply", Duration::from_secs(10)))
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        drop(lock);
        let second = waiter
            .join()
            .expect("thread")
            .expect("acquired after release");
        assert_eq!(second.info().operation, "apply");
    }

    #[test]
    fn a_held_lock_is_never_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("terraform.tfstate");
        assert_eq!(status(&state).expect("status"), None);
        let lock = StateLock::acquire(&state, &options("apply", Duration::ZERO)).expect("first");
        let id = lock.info().id.clone();
        let found = status(&state).expect("status").expect("a lock");
        assert!(found.held);
        assert_eq!(&found.info, lock.info());
        assert_eq!(remove(&state, "other-id").expect("no match"), None);
        let error = remove(&state, &id).expect_err("held");
        assert!(matches!(error, LockError::Held { .. }), "{error}");
        assert!(info_path(&state).exists());
        drop(lock);
        assert_eq!(status(&state).expect("status"), None);
    }

    #[test]
    fn the_lock_creates_a_missing_state_file_and_removes_it_if_nothing_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("env/terraform.tfstate");
        let lock = StateLock::acquire(&state, &options("plan", Duration::ZERO)).expect("lock");
        assert!(state.is_file(), "Terraform locks the state file itself");
        drop(lock);
        assert!(!state.exists());
        std::fs::write(&state, "{}").expect("write");
        drop(StateLock::acquire(&state, &options("plan", Duration::ZERO)).expect("lock"));
        assert!(state.exists(), "a state that was there stays");
    }

    #[test]
    fn a_stale_lock_is_removed_under_the_os_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("terraform.tfstate");
        write_stale_info(&state);
        let found = status(&state).expect("status").expect("a lock");
        assert!(!found.held);
        assert_eq!(found.info.who, "x@y");
        let removed = remove(&state, "stale").expect("stale").expect("removed");
        assert!(!removed.held);
        assert!(!info_path(&state).exists());
        assert_eq!(remove(&state, "stale").expect("gone"), None);
    }

    #[test]
    fn a_leftover_info_file_without_a_holder_does_not_block() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("terraform.tfstate");
        write_stale_info(&state);
        let lock = StateLock::acquire(&state, &options("apply", Duration::ZERO))
            .expect("stale info is ignored");
        assert_ne!(lock.info().id, "stale");
    }
}
