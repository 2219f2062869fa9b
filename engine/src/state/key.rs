//! The per-state secret key file (`.azureml/state.key`, mode 0600): the only file IO of the
//! keyed digests of `model::secret`.

use std::io::Write;
use std::path::Path;

use crate::secret::{KEY_LEN, SecretKey};

/// Reading or creating the key file failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    /// The file could not be read, created or written.
    #[error("failed to access the state key `{path}`")]
    Io {
        /// The key file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold a hex key of the right length.
    #[error(
        "the state key `{path}` is not {KEY_LEN} bytes of hex; restore it or delete it (secrets will then show as changed once)"
    )]
    Malformed {
        /// The key file.
        path: String,
    },
}

/// Reads the key at `path`, or creates it (mode 0600, parent folders included) when missing.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join(".azureml/state.key");
/// let first = engine::state::key::load_or_create(&path).unwrap();
/// let again = engine::state::key::load_or_create(&path).unwrap();
/// assert_eq!(first, again);
/// ```
pub fn load_or_create(path: &Path) -> Result<SecretKey, SecretKeyError> {
    let io = |source| SecretKeyError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => SecretKey::from_hex(&text).ok_or_else(|| SecretKeyError::Malformed {
            path: path.display().to_string(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let key = SecretKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(format!("{}\n", key.to_hex()).as_bytes())
                        .map_err(io)?;
                    file.sync_all().map_err(io)?;
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create(path)
                }
                Err(error) => Err(io(error)),
            }
        }
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/state.key");
        let key = load_or_create(&path).expect("create");
        assert_eq!(load_or_create(&path).expect("load"), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "nothex").expect("write");
        assert!(matches!(
            load_or_create(&path),
            Err(SecretKeyError::Malformed { .. })
        ));
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
    }
}
