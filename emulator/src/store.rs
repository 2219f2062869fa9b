//! SQLite persistence: one connection behind a mutex, used from async handlers through
//! `spawn_blocking`. Every request's reads and writes run in one `IMMEDIATE` transaction that is
//! committed before the response is sent (WAL, `synchronous=FULL`: an acknowledged write survives
//! `kill -9`). Requests are therefore serialised, which makes rules such as the duplicate
//! attachment check atomic.
//!
//! Tables:
//!
//! | table        | rows                                                                        |
//! |--------------|-----------------------------------------------------------------------------|
//! | `resources`  | every ARM resource (groups, workspaces, computes, underlying), keyed by lower-cased id; `body` is the stored document (secrets included), `meta` the emulator's bookkeeping ([`Meta`]) |
//! | `operations` | long-running operations and when they finish                                |
//! | `clients`    | client-credentials clients (secret as SHA-256) and their subscriptions      |
//! | `tokens`     | issued tokens (as SHA-256), their subscriptions and expiry                  |
//! | `quotas`     | cores per VM family and subscription (`*` = every other family)            |
//! | `counters`   | persistent counters (`duplicate_attachments`)                               |
//! | `job_runs`   | the execution state of each job (status, compute, times, exit code, error, cancel flag); the job's body is in `resources` |
//! | `blobs`      | blob metadata (account, container, name → sha256 of the content file under `<data_dir>/blobs/`, size, MD5, `x-ms-meta-*`) |
//! | `blob_blocks`| uncommitted blocks of a block blob (content files under `<data_dir>/blobs/` too) |
//! | `pending_uploads` | code uploads started with `startPendingUpload`: the SAS token (as SHA-256), its container and path prefix |
//!
//! Time-based states: a write records when an in-progress state ends (`Meta::ready_at`) and what
//! it becomes; readers apply it when that time has passed, so progress survives restarts.
//!
//! Besides rows, it names what several handlers look up alike: the stored kind of computes
//! ([`COMPUTE_KIND`]) and a request's live workspace ([`workspace`], or its 404).

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, WorkspaceRef, get_path, key_of, path, set_path};

/// The database handle.
#[derive(Clone)]
pub(crate) struct Store {
    connection: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT NOT NULL,
    subscription TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    meta TEXT NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_parent ON resources(parent, kind, seq);
CREATE INDEX IF NOT EXISTS resources_subscription ON resources(subscription, kind, seq);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    subscription TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    done_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS clients (
    tenant TEXT NOT NULL,
    client_id TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    subscriptions TEXT NOT NULL,
    PRIMARY KEY (tenant, client_id)
);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    subscriptions TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quotas (
    subscription TEXT NOT NULL,
    family TEXT NOT NULL,
    cores INTEGER NOT NULL,
    PRIMARY KEY (subscription, family)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS job_runs (
    key TEXT PRIMARY KEY,
    workspace_key TEXT NOT NULL,
    compute_key TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    exit_code INTEGER,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    run_dir TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_runs_status ON job_runs(status, submitted_at);
CREATE TABLE IF NOT EXISTS blobs (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    metadata TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    PRIMARY KEY (account, container, name)
);
CREATE TABLE IF NOT EXISTS blob_blocks (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    block_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (account, container, name, block_id)
);
CREATE TABLE IF NOT EXISTS pending_uploads (
    id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    prefix TEXT NOT NULL,
    workspace_key TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

impl Store {
    /// Opens (creating when missing) the database; the flag is true when it was just created.
    pub(crate) fn open(path: &Path) -> Result<(Store, bool), rusqlite::Error> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        let existed: bool = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'resources'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count > 0)?;
        connection.execute_batch(SCHEMA)?;
        Ok((
            Store {
                connection: Arc::new(Mutex::new(connection)),
            },
            !existed,
        ))
    }

    /// Runs `work` in one transaction on a blocking thread; commits on `Ok`, rolls back on `Err`.
    pub(crate) async fn transact<T, F>(&self, work: F) -> Result<T, ArmError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, ArmError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.transact_blocking(work))
            .await
            .map_err(|error| ArmError::internal(format!("database task failed: {error}")))?
    }

    /// [`Store::transact`] on the calling thread.
    pub(crate) fn transact_blocking<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, ArmError>,
    ) -> Result<T, ArmError> {
        let mut connection = self
            .connection
            .lock()
            .map_err(|_| ArmError::internal("database lock poisoned"))?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let result = work(&transaction)?;
        transaction.commit()?;
        Ok(result)
    }
}

/// Bookkeeping stored beside a resource body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Meta {
    /// Creation time (ms since epoch).
    pub created_at: i64,
    /// Last write (ms since epoch).
    pub modified_at: i64,
    /// When the in-progress state ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<i64>,
    /// What the in-progress state becomes at `ready_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// When a deletion completes; the resource reads as `Deleting` until then, absent after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_at: Option<i64>,
    /// For underlying resources Azure ML created (an AKS cluster): the key of the compute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_compute: Option<String>,
    /// For a compute whose attachment a later one broke: the later compute's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

/// The states a resource reaches when its current operation finishes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Pending {
    /// Final `properties.provisioningState`.
    pub provisioning_state: String,
    /// Final `properties.properties.state` (compute instances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_state: Option<String>,
}

/// Stored kind of computes (listed by their workspace, which deletes them with it, and read by
/// jobs and the compute rules).
pub(crate) const COMPUTE_KIND: &str = "microsoft.machinelearningservices/workspaces/computes";

/// JSON path of a compute instance's state.
pub(crate) const INSTANCE_STATE_PATH: &str = "properties.properties.state";

/// One stored resource.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub key: String,
    pub id: String,
    pub kind: String,
    pub parent: String,
    pub subscription: String,
    pub name: String,
    pub body: Json,
    pub meta: Meta,
}

impl Record {
    /// Whether a finished deletion removed it.
    pub(crate) fn is_gone(&self, now: i64) -> bool {
        self.meta.delete_at.is_some_and(|at| at <= now)
    }

    /// Whether a deletion is in progress.
    pub(crate) fn is_deleting(&self, now: i64) -> bool {
        self.meta.delete_at.is_some_and(|at| at > now)
    }

    /// Applies a pending state whose time has come.
    pub(crate) fn settle(&mut self, now: i64) {
        if self.meta.ready_at.is_some_and(|at| at <= now) {
            if let Some(pending) = self.meta.pending.take() {
                set_path(
                    &mut self.body,
                    &path("properties.provisioningState"),
                    json!(pending.provisioning_state),
                );
                if let Some(state) = pending.instance_state {
                    set_path(&mut self.body, &path(INSTANCE_STATE_PATH), json!(state));
                }
            }
            self.meta.ready_at = None;
        }
    }

    /// The body as a reader sees it (secrets still included).
    pub(crate) fn view(&self, now: i64) -> Json {
        let mut body = self.body.clone();
        if self.is_deleting(now)
            && get_path(&body, &path("properties")).is_some_and(Json::is_object)
        {
            set_path(
                &mut body,
                &path("properties.provisioningState"),
                json!("Deleting"),
            );
        }
        body
    }

    /// Whether an operation is still running on it.
    pub(crate) fn busy(&self, now: i64) -> bool {
        self.meta.ready_at.is_some_and(|at| at > now) || self.is_deleting(now)
    }
}

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Record, String, String)> {
    Ok((
        Record {
            key: row.get(0)?,
            id: row.get(1)?,
            kind: row.get(2)?,
            parent: row.get(3)?,
            subscription: row.get(4)?,
            name: row.get(5)?,
            body: Json::Null,
            meta: Meta::default(),
        },
        row.get(6)?,
        row.get(7)?,
    ))
}

fn finish(parts: (Record, String, String), now: i64) -> Result<Record, ArmError> {
    let (mut record, body, meta) = parts;
    record.body = serde_json::from_str(&body)
        .map_err(|error| ArmError::internal(format!("stored body: {error}")))?;
    record.meta = serde_json::from_str(&meta)
        .map_err(|error| ArmError::internal(format!("stored meta: {error}")))?;
    record.settle(now);
    Ok(record)
}

const COLUMNS: &str = "key, id, kind, parent, subscription, name, body, meta";

/// The resource stored under `key` unless a finished deletion removed it.
pub(crate) fn get(tx: &Connection, key: &str, now: i64) -> Result<Option<Record>, ArmError> {
    let row = tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM resources WHERE key = ?1"),
            [key],
            record_from_row,
        )
        .optional()?;
    match row {
        Some(parts) => {
            let record = finish(parts, now)?;
            Ok((!record.is_gone(now)).then_some(record))
        }
        None => Ok(None),
    }
}

/// The live workspace, or a 404.
pub(crate) fn workspace(
    tx: &Connection,
    workspace: &WorkspaceRef,
    now: i64,
) -> Result<Record, ArmError> {
    get(tx, &key_of(&workspace.id()), now)?.ok_or_else(|| {
        ArmError::not_found(format!(
            "workspace `{}` was not found in resource group `{}`",
            workspace.name, workspace.group
        ))
    })
}

/// Live resources of `kind` under `parent`, in creation order.
pub(crate) fn children(
    tx: &Connection,
    parent: &str,
    kind: &str,
    now: i64,
) -> Result<Vec<Record>, ArmError> {
    query_records(
        tx,
        &format!("SELECT {COLUMNS} FROM resources WHERE parent = ?1 AND kind = ?2 ORDER BY seq"),
        [parent, kind],
        now,
    )
}

/// Live resources of `kind` in a subscription, in creation order.
pub(crate) fn in_subscription(
    tx: &Connection,
    subscription: &str,
    kind: &str,
    now: i64,
) -> Result<Vec<Record>, ArmError> {
    query_records(
        tx,
        &format!(
            "SELECT {COLUMNS} FROM resources WHERE subscription = ?1 AND kind = ?2 ORDER BY seq"
        ),
        [subscription, kind],
        now,
    )
}

fn query_records(
    tx: &Connection,
    sql: &str,
    parameters: [&str; 2],
    now: i64,
) -> Result<Vec<Record>, ArmError> {
    let mut statement = tx.prepare(sql)?;
    let rows = statement.query_map(parameters, record_from_row)?;
    let mut records = Vec::new();
    for row in rows {
        let record = finish(row?, now)?;
        if !record.is_gone(now) {
            records.push(record);
        }
    }
    Ok(records)
}

/// Inserts or replaces a resource (keeping its list position when it already exists).
pub(crate) fn put(tx: &Connection, record: &Record) -> Result<(), ArmError> {
    let body = serde_json::to_string(&record.body)
        .map_err(|error| ArmError::internal(error.to_string()))?;
    let meta = serde_json::to_string(&record.meta)
        .map_err(|error| ArmError::internal(error.to_string()))?;
    tx.execute(
        "INSERT INTO resources (key, id, kind, parent, subscription, name, body, meta, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT COALESCE(MAX(seq), 0) + 1 FROM resources))
         ON CONFLICT(key) DO UPDATE SET id = excluded.id, kind = excluded.kind, parent = excluded.parent,
             subscription = excluded.subscription, name = excluded.name, body = excluded.body, meta = excluded.meta",
        params![record.key, record.id, record.kind, record.parent, record.subscription, record.name, body, meta],
    )?;
    Ok(())
}

/// Removes a resource row.
pub(crate) fn remove(tx: &Connection, key: &str) -> Result<(), ArmError> {
    tx.execute("DELETE FROM resources WHERE key = ?1", [key])?;
    Ok(())
}

/// Adds one to a persistent counter.
pub(crate) fn increment(tx: &Connection, name: &str) -> Result<(), ArmError> {
    tx.execute(
        "INSERT INTO counters (name, value) VALUES (?1, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
        [name],
    )?;
    Ok(())
}

/// A persistent counter's value.
pub(crate) fn counter(tx: &Connection, name: &str) -> Result<i64, ArmError> {
    Ok(tx
        .query_row(
            "SELECT value FROM counters WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// A long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub id: String,
    pub subscription: String,
    pub resource_key: String,
    /// `put`, `patch`, `delete` or an action name.
    pub kind: String,
    pub started_at: i64,
    pub done_at: i64,
    /// Final status: `Succeeded` or `Failed`.
    pub status: String,
    pub error: Option<Json>,
}

/// Records an operation.
pub(crate) fn insert_operation(tx: &Connection, operation: &Operation) -> Result<(), ArmError> {
    tx.execute(
        "INSERT INTO operations (id, subscription, resource_key, kind, started_at, done_at, status, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            operation.id,
            operation.subscription,
            operation.resource_key,
            operation.kind,
            operation.started_at,
            operation.done_at,
            operation.status,
            operation.error.as_ref().map(Json::to_string),
        ],
    )?;
    Ok(())
}

/// The operation `id`.
pub(crate) fn operation(tx: &Connection, id: &str) -> Result<Option<Operation>, ArmError> {
    let row = tx
        .query_row(
            "SELECT id, subscription, resource_key, kind, started_at, done_at, status, error FROM operations WHERE id = ?1",
            [id],
            |row| {
                Ok((
                    Operation {
                        id: row.get(0)?,
                        subscription: row.get(1)?,
                        resource_key: row.get(2)?,
                        kind: row.get(3)?,
                        started_at: row.get(4)?,
                        done_at: row.get(5)?,
                        status: row.get(6)?,
                        error: None,
                    },
                    row.get::<_, Option<String>>(7)?,
                ))
            },
        )
        .optional()?;
    Ok(row.map(|(mut operation, error)| {
        operation.error = error.and_then(|text| serde_json::from_str(&text).ok());
        operation
    }))
}

/// Fails the unfinished operations on a resource, ending them now.
pub(crate) fn fail_running_operations(
    tx: &Connection,
    resource_key: &str,
    now: i64,
    error: &Json,
) -> Result<(), ArmError> {
    tx.execute(
        "UPDATE operations SET status = 'Failed', error = ?1, done_at = ?2 WHERE resource_key = ?3 AND done_at > ?2",
        params![error.to_string(), now, resource_key],
    )?;
    Ok(())
}

/// Ends the unfinished operations of `kind` on a resource now, as succeeded (a job's cancel
/// finishes when the job does).
pub(crate) fn finish_operations(
    tx: &Connection,
    resource_key: &str,
    kind: &str,
    now: i64,
) -> Result<(), ArmError> {
    tx.execute(
        "UPDATE operations SET done_at = ?1 WHERE resource_key = ?2 AND kind = ?3 AND done_at > ?1",
        params![now, resource_key, kind],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, parent: &str) -> Record {
        Record {
            key: key.to_owned(),
            id: key.to_owned(),
            kind: "k".to_owned(),
            parent: parent.to_owned(),
            subscription: "s".to_owned(),
            name: key.to_owned(),
            body: json!({ "properties": { "provisioningState": "Creating" } }),
            meta: Meta::default(),
        }
    }

    #[test]
    fn pending_state_applies_when_its_time_comes() {
        let mut item = record("a", "p");
        item.meta.ready_at = Some(100);
        item.meta.pending = Some(Pending {
            provisioning_state: "Succeeded".into(),
            instance_state: Some("Running".into()),
        });
        let mut early = item.clone();
        early.settle(99);
        assert_eq!(
            early.body["properties"]["provisioningState"],
            json!("Creating")
        );
        item.settle(100);
        assert_eq!(
            item.body["properties"]["provisioningState"],
            json!("Succeeded")
        );
        assert_eq!(
            item.body["properties"]["properties"]["state"],
            json!("Running")
        );
    }

    #[test]
    fn deleted_rows_vanish_after_their_time_and_lists_keep_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, fresh) = Store::open(&dir.path().join("db")).expect("open");
        assert!(fresh);
        store
            .transact_blocking(|tx| {
                put(tx, &record("b", "p"))?;
                put(tx, &record("a", "p"))?;
                let mut deleting = record("c", "p");
                deleting.meta.delete_at = Some(50);
                put(tx, &deleting)?;
                let names: Vec<String> = children(tx, "p", "k", 40)?
                    .into_iter()
                    .map(|r| r.name)
                    .collect();
                assert_eq!(names, ["b", "a", "c"]);
                assert_eq!(
                    get(tx, "c", 40)?
                        .map(|r| r.view(40)["properties"]["provisioningState"].clone()),
                    Some(json!("Deleting"))
                );
                assert!(get(tx, "c", 50)?.is_none());
                increment(tx, "n")?;
                increment(tx, "n")?;
                assert_eq!(counter(tx, "n")?, 2);
                Ok(())
            })
            .expect("transaction");
        let (_, fresh_again) = Store::open(&dir.path().join("db")).expect("reopen");
        assert!(!fresh_again);
    }
}
