//! `GET /_emulator/stats`: request counts by method (in memory, since start; ARM requests only,
//! faulted ones included), injected faults (in memory), `duplicate_attachments` (persisted), and
//! blob uploads since start: `uploads.files` (Put Blob with a body, Put Block List), `uploads.bytes`
//! (body bytes of Put Blob and Put Block) and `uploads.copies` (server-side copies).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;
use serde_json::{Value as Json, json};

/// In-memory counters.
#[derive(Default)]
pub(crate) struct Stats {
    requests: Mutex<BTreeMap<String, u64>>,
    faults: AtomicU64,
    upload_files: AtomicU64,
    upload_bytes: AtomicU64,
    copies: AtomicU64,
}

impl Stats {
    /// Counts an ARM request.
    pub(crate) fn request(&self, method: &Method) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry(method.as_str().to_owned()).or_default() += 1;
        }
    }

    /// Counts an injected fault.
    pub(crate) fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an upload: a whole file (`file`) or a block, of `bytes` received.
    pub(crate) fn upload(&self, file: bool, bytes: u64) {
        if file {
            self.upload_files.fetch_add(1, Ordering::Relaxed);
        }
        self.upload_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts a server-side copy.
    pub(crate) fn copy(&self) {
        self.copies.fetch_add(1, Ordering::Relaxed);
    }

    /// The stats document.
    pub(crate) fn document(&self, duplicate_attachments: i64) -> Json {
        let mut requests: BTreeMap<String, u64> = ["GET", "PUT", "PATCH", "DELETE", "POST"]
            .iter()
            .map(|method| ((*method).to_owned(), 0))
            .collect();
        if let Ok(counted) = self.requests.lock() {
            for (method, count) in counted.iter() {
                requests.insert(method.clone(), *count);
            }
        }
        json!({
            "duplicate_attachments": duplicate_attachments,
            "requests": requests,
            "faults_injected": self.faults.load(Ordering::Relaxed),
            "uploads": {
                "files": self.upload_files.load(Ordering::Relaxed),
                "bytes": self.upload_bytes.load(Ordering::Relaxed),
                "copies": self.copies.load(Ordering::Relaxed),
            },
        })
    }
}
