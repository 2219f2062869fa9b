//! SHA-256 digests of a snapshot: each file's own digest, and the content hash of the whole
//! snapshot as the Azure ML SDK computes it (`get_content_hash`, hash version
//! [`HASH_VERSION`](super::HASH_VERSION)). Files are streamed, never loaded whole.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{SnapshotError, SnapshotFile};

/// The lower-case hex SHA-256 of the bytes of the file at `path`, and their count.
pub(crate) fn file_sha256(path: &Path) -> Result<(String, u64), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let size = io::copy(&mut file, &mut hasher).map_err(io)?;
    Ok((hex::encode(hasher.finalize()), size))
}

/// The content hash of `files`, which must already be in hash order: SHA-256 over the file
/// count, then `#relative#size` for each file, then every file's bytes in the same order.
///
/// A file whose length differs from the size recorded at scan time is an error, since the
/// header would then describe other bytes than the ones hashed.
pub(crate) fn content_hash(files: &[SnapshotFile]) -> Result<String, SnapshotError> {
    let mut hasher = Sha256::new();
    hasher.update(files.len().to_string().as_bytes());
    for file in files {
        hasher.update(format!("#{}#", file.relative).as_bytes());
        hasher.update(file.size.to_string().as_bytes());
    }
    for file in files {
        let io = |source| SnapshotError::Io {
            path: file.path.clone(),
            source,
        };
        let reader = File::open(&file.path).map_err(io)?;
        // Read one byte past the recorded size to notice a file that grew.
        let copied =
            io::copy(&mut reader.take(file.size.saturating_add(1)), &mut hasher).map_err(io)?;
        if copied != file.size {
            return Err(SnapshotError::Changed {
                path: file.path.clone(),
                size: file.size,
            });
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_digest_streams_files_larger_than_one_buffer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("write");
        let (digest, size) = file_sha256(&path).expect("digest");
        assert_eq!(size, 300_000);
        assert_eq!(digest, hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn content_hash_layout_is_count_headers_then_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = Vec::new();
        for (name, content) in [("a.txt", "a"), ("sub/B.txt", "bee")] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, content).expect("write");
            let (sha256, size) = file_sha256(&path).expect("digest");
            files.push(SnapshotFile {
                relative: name.to_owned(),
                path,
                size,
                sha256,
            });
        }
        let expected = hex::encode(Sha256::digest(b"2#a.txt#1#sub/B.txt#3abee"));
        assert_eq!(content_hash(&files).expect("hash"), expected);
    }

    #[test]
    fn a_file_changed_since_the_scan_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one").expect("write");
        let (sha256, size) = file_sha256(&path).expect("digest");
        let files = vec![SnapshotFile {
            relative: "a.txt".into(),
            path: path.clone(),
            size,
            sha256,
        }];
        std::fs::write(&path, "longer").expect("write");
        let err = content_hash(&files).expect_err("grew");
        assert!(
            matches!(err, SnapshotError::Changed { size: 3, .. }),
            "{err:?}"
        );
        std::fs::write(&path, "x").expect("write");
        assert!(matches!(
            content_hash(&files),
            Err(SnapshotError::Changed { .. })
        ));
    }
}
