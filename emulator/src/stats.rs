//! `GET /_emulator/stats`: request counts by method (in memory, since start; ARM requests only,
//! faulted ones included), injected faults (in memory), and `duplicate_attachments` (persisted).

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
        })
    }
}
