//! The job executor: a background task of the running emulator that really runs submitted jobs.
//!
//! Each tick (on every submission, cancel, delete and process exit, and every 250 ms) it moves
//! `NotStarted` jobs to `Queued`, starts queued jobs in submission order while their compute has a
//! free slot, and keeps clusters' node counts in step with their running jobs:
//!
//! | compute | slots |
//! |---|---|
//! | `ComputeInstance` | 2 × the cores of its `vmSize` (the emulator's VM size table; 1 core when unknown), only while its state is `Running` (a stopped instance runs nothing: jobs stay `Queued`) |
//! | `AmlCompute` | `scaleSettings.maxNodeCount`, once provisioned; `currentNodeCount` = max(`minNodeCount`, running jobs), `nodeStateCounts.runningNodeCount` = running jobs |
//!
//! A started job is `Preparing` while the code version's snapshot is copied from blob storage into
//! a fresh `<data_dir>/runs/<job>/snapshot`, then `Running`: `sh -c <command>` in that folder, in
//! its own process group, with the environment version's `environmentVariables`, the job's
//! `environmentVariables`, `AZUREML_INPUT_<name>` per input (literal value or URI),
//! `AZUREML_RUN_ID` and `AZUREML_EXPERIMENT_NAME`; `${{inputs.<name>}}` in the command is replaced
//! by the input's value. Its stdout and stderr both go to `<data_dir>/runs/<job>/std_log.txt`.
//! Exit 0 → `Completed`; another code → `Failed` (exit code and message kept); past
//! `limits.timeout` → killed, `Failed`; cancel → the process group is killed, `Canceled`; a deleted
//! job's process is killed.
//!
//! On start, jobs left `Preparing`/`Running` by a previous emulator become `Failed` ("the emulator
//! stopped while the job was running"; `CancelRequested` ones `Canceled`); `Queued` ones resume.
//! On shutdown the executor kills its processes and leaves their rows as they are (so the next
//! start reports them).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};
use tokio::sync::{Notify, watch};

use crate::arm::{ArmError, WorkspaceRef, now_ms};
use crate::assets;
use crate::duration;
use crate::jobs::{self, LOG_FILE};
use crate::store::{self, Store};

/// Why a job left running by a previous emulator failed.
pub(crate) const STOPPED_REASON: &str = "the emulator stopped while the job was running";

/// The executor shared by the request handlers and its background task.
pub(crate) struct Executor {
    store: Store,
    data_dir: PathBuf,
    wake: Arc<Notify>,
    /// Job key → process group id of its running command.
    running: Mutex<HashMap<String, i32>>,
    stopping: AtomicBool,
}

/// What a tick decided to start.
struct Start {
    key: String,
    name: String,
    run_dir: PathBuf,
    command: String,
    variables: Vec<(String, String)>,
    files: Vec<(String, String)>,
    timeout: Option<Duration>,
}

impl Executor {
    pub(crate) fn new(store: Store, data_dir: PathBuf) -> Arc<Executor> {
        Arc::new(Executor {
            store,
            data_dir,
            wake: Arc::new(Notify::new()),
            running: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
        })
    }

    /// Asks for a tick soon.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// The signal [`Executor::wake`] raises, for requests to raise without holding the executor.
    pub(crate) fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Marks the jobs a previous emulator left running (call before serving).
    pub(crate) fn recover(&self) -> Result<(), ArmError> {
        let now = now_ms();
        self.store.transact_blocking(|tx| {
            tx.execute(
                "UPDATE job_runs SET status = 'Failed', error = ?1, ended_at = ?2 WHERE status IN ('Preparing', 'Running')",
                params![STOPPED_REASON, now],
            )?;
            let canceled: Vec<String> = {
                let mut statement = tx.prepare("SELECT key FROM job_runs WHERE status = 'CancelRequested'")?;
                statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?
            };
            for key in canceled {
                tx.execute("UPDATE job_runs SET status = 'Canceled', ended_at = ?2, error = ?3 WHERE key = ?1", params![key, now, STOPPED_REASON])?;
                store::finish_operations(tx, &key, "cancel", now)?;
            }
            Ok(())
        })
    }

    /// Runs ticks until `stopped` flips; then kills the running commands.
    pub(crate) fn spawn(
        self: Arc<Executor>,
        mut stopped: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(error) = self.clone().tick().await {
                    tracing::warn!(message = %error.message, "job executor tick failed");
                }
                tokio::select! {
                    _ = stopped.changed() => break,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
            self.stopping.store(true, Ordering::SeqCst);
            let groups: Vec<i32> = self
                .running
                .lock()
                .map(|running| running.values().copied().collect())
                .unwrap_or_default();
            for group in groups {
                kill_group(group);
            }
        })
    }

    async fn tick(self: Arc<Executor>) -> Result<(), ArmError> {
        let data_dir = self.data_dir.clone();
        let (starts, keep): (Vec<Start>, HashSet<String>) = self
            .store
            .transact(move |tx| schedule(tx, &data_dir))
            .await?;
        // Kill processes whose job was canceled or deleted.
        let doomed: Vec<i32> = self
            .running
            .lock()
            .map(|running| {
                running
                    .iter()
                    .filter(|(key, _)| !keep.contains(*key))
                    .map(|(_, group)| *group)
                    .collect()
            })
            .unwrap_or_default();
        for group in doomed {
            kill_group(group);
        }
        for start in starts {
            tokio::spawn(self.clone().run(start));
        }
        Ok(())
    }

    async fn run(self: Arc<Executor>, start: Start) {
        let outcome = self.execute(&start).await;
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        let key = start.key.clone();
        let now = now_ms();
        let result = self
            .store
            .transact(move |tx| {
                let Some(run) = jobs::run_of(tx, &key)? else { return Ok(()) };
                let (status, exit_code, error) = match outcome {
                    _ if run.cancel_requested => ("Canceled", None, Some("canceled by the user".to_owned())),
                    Outcome::Exited(0) => ("Completed", Some(0), None),
                    Outcome::Exited(code) => ("Failed", Some(code), Some(format!("the command exited with code {code}"))),
                    Outcome::Error(message) => ("Failed", None, Some(message)),
                };
                tx.execute(
                    "UPDATE job_runs SET status = ?2, exit_code = ?3, error = ?4, ended_at = ?5 WHERE key = ?1",
                    params![key, status, exit_code, error, now],
                )?;
                store::finish_operations(tx, &key, "cancel", now)?;
                Ok(())
            })
            .await;
        if let Err(error) = result {
            tracing::warn!(message = %error.message, "failed to record a job's end");
        }
        self.wake();
    }

    async fn execute(&self, start: &Start) -> Outcome {
        let snapshot = start.run_dir.join("snapshot");
        let (data_dir, files, run_dir) = (
            self.data_dir.clone(),
            start.files.clone(),
            start.run_dir.clone(),
        );
        let prepared =
            tokio::task::spawn_blocking(move || prepare(&data_dir, &run_dir, &files)).await;
        match prepared {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Outcome::Error(message),
            Err(error) => return Outcome::Error(format!("preparing the snapshot failed: {error}")),
        }
        let log = match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(start.run_dir.join(LOG_FILE))
        {
            Ok(log) => log,
            Err(error) => return Outcome::Error(format!("failed to open the log file: {error}")),
        };
        let Ok(log_for_stderr) = log.try_clone() else {
            return Outcome::Error("failed to open the log file".to_owned());
        };
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(&start.command)
            .current_dir(&snapshot)
            .envs(
                start
                    .variables
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr)
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => return Outcome::Error(format!("failed to start `sh`: {error}")),
        };
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .unwrap_or(0);
        if let Ok(mut running) = self.running.lock() {
            running.insert(start.key.clone(), group);
        }
        let key = start.key.clone();
        let now = now_ms();
        let marked = self
            .store
            .transact(move |tx| {
                Ok(tx.execute("UPDATE job_runs SET status = 'Running', started_at = ?2 WHERE key = ?1 AND status = 'Preparing'", params![key, now])?)
            })
            .await;
        if !matches!(marked, Ok(1)) {
            // Canceled or deleted while preparing.
            kill_group(group);
        }
        let waited = match start.timeout {
            Some(timeout) => tokio::time::timeout(timeout, child.wait()).await.ok(),
            None => Some(child.wait().await),
        };
        let outcome = match waited {
            None => {
                kill_group(group);
                let _ = child.wait().await;
                Outcome::Error(format!(
                    "the job exceeded its timeout of {} s and was stopped",
                    start.timeout.unwrap_or_default().as_secs_f64()
                ))
            }
            Some(Ok(status)) => match status.code() {
                Some(code) => Outcome::Exited(i64::from(code)),
                None => Outcome::Error(format!("the command was killed by a signal ({status})")),
            },
            Some(Err(error)) => Outcome::Error(format!("waiting for the command failed: {error}")),
        };
        if let Ok(mut running) = self.running.lock() {
            running.remove(&start.key);
        }
        tracing::debug!(job = %start.name, "job process ended");
        outcome
    }
}

enum Outcome {
    Exited(i64),
    Error(String),
}

#[allow(unsafe_code, reason = "signalling a process group needs `kill(2)`")]
fn kill_group(group: i32) {
    if group > 0 {
        // SAFETY: `kill` has no memory effects; a negative pid names the process group.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// Writes the snapshot into a fresh `snapshot` folder.
fn prepare(
    data_dir: &std::path::Path,
    run_dir: &std::path::Path,
    files: &[(String, String)],
) -> Result<(), String> {
    let snapshot = run_dir.join("snapshot");
    if snapshot.exists() {
        std::fs::remove_dir_all(&snapshot)
            .map_err(|error| format!("failed to clear `{}`: {error}", snapshot.display()))?;
    }
    std::fs::create_dir_all(&snapshot)
        .map_err(|error| format!("failed to create `{}`: {error}", snapshot.display()))?;
    for (relative, sha) in files {
        let target = snapshot.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| format!("failed to create `{}`: {error}", parent.display()))?;
        }
        std::fs::copy(crate::blobs::content_path(data_dir, sha), &target)
            .map_err(|error| format!("failed to write `{relative}` into the snapshot: {error}"))?;
    }
    Ok(())
}

/// One scheduling pass: returns the jobs to start and the keys whose processes may keep running.
fn schedule(
    tx: &rusqlite::Transaction<'_>,
    data_dir: &std::path::Path,
) -> Result<(Vec<Start>, HashSet<String>), ArmError> {
    let now = now_ms();
    tx.execute(
        "UPDATE job_runs SET status = 'Queued' WHERE status = 'NotStarted'",
        [],
    )?;
    let rows: Vec<(String, String, String, String)> = {
        let mut statement = tx.prepare(
            "SELECT key, compute_key, status, run_dir FROM job_runs WHERE status IN ('Queued', 'Preparing', 'Running', 'CancelRequested') ORDER BY submitted_at, rowid",
        )?;
        statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?
    };
    let mut busy: HashMap<String, i64> = HashMap::new();
    let mut keep = HashSet::new();
    for (key, compute, status, _) in &rows {
        if status != "Queued" {
            *busy.entry(compute.clone()).or_default() += 1;
        }
        if matches!(status.as_str(), "Preparing" | "Running") {
            keep.insert(key.clone());
        }
    }
    let mut starts = Vec::new();
    for (key, compute_key, status, run_dir) in rows.iter().filter(|row| row.2 == "Queued") {
        let _ = status;
        let Some(compute) = store::get(tx, compute_key, now)? else {
            fail(tx, key, "the job's compute no longer exists", now)?;
            continue;
        };
        let slots = slots(&compute.body);
        let used = busy.entry(compute_key.clone()).or_default();
        if *used >= slots {
            continue;
        }
        match launch_plan(tx, key, data_dir, run_dir, now) {
            Ok(start) => {
                *used += 1;
                tx.execute(
                    "UPDATE job_runs SET status = 'Preparing' WHERE key = ?1",
                    [key],
                )?;
                keep.insert(key.clone());
                starts.push(start);
            }
            Err(message) => fail(tx, key, &message, now)?,
        }
    }
    update_node_counts(tx, now)?;
    Ok((starts, keep))
}

fn fail(tx: &Connection, key: &str, message: &str, now: i64) -> Result<(), ArmError> {
    tx.execute(
        "UPDATE job_runs SET status = 'Failed', error = ?2, ended_at = ?3 WHERE key = ?1",
        params![key, message, now],
    )?;
    Ok(())
}

/// How many jobs a compute runs at once now.
fn slots(compute: &Json) -> i64 {
    let properties = &compute["properties"];
    if properties["provisioningState"].as_str() != Some("Succeeded") {
        return 0;
    }
    match properties["computeType"].as_str() {
        Some("ComputeInstance")
            if properties["properties"]["state"].as_str() == Some("Running") =>
        {
            let cores = properties["properties"]["vmSize"]
                .as_str()
                .and_then(crate::quota::vm_size)
                .map_or(1, |size| size.cores);
            2 * cores
        }
        Some("AmlCompute") => properties["properties"]["scaleSettings"]["maxNodeCount"]
            .as_i64()
            .unwrap_or(1),
        _ => 0,
    }
}

/// Everything a job needs to start, read from its stored body and assets.
fn launch_plan(
    tx: &Connection,
    key: &str,
    data_dir: &std::path::Path,
    run_dir: &str,
    now: i64,
) -> Result<Start, String> {
    let record = store::get(tx, key, now)
        .map_err(|error| error.message)?
        .ok_or("the job no longer exists")?;
    let properties = &record.body["properties"];
    let workspace = workspace_of(&record.id).ok_or("the job's id does not name a workspace")?;
    let ctx_free = |kind: &assets::AssetKind, id: &str| resolve(tx, kind, &workspace, id, now);
    let environment = ctx_free(
        &assets::ENVIRONMENT,
        properties["environmentId"].as_str().unwrap_or_default(),
    )?;
    let mut variables: Vec<(String, String)> = Vec::new();
    let strings = |map: &Json| -> Vec<(String, String)> {
        map.as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
            .collect()
    };
    variables.extend(strings(&environment["properties"]["environmentVariables"]));
    variables.extend(strings(&properties["environmentVariables"]));
    let mut command = properties["command"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for (name, input) in properties["inputs"].as_object().into_iter().flatten() {
        let value = input["value"]
            .as_str()
            .or_else(|| input["uri"].as_str())
            .unwrap_or_default()
            .to_owned();
        command = command.replace(&format!("${{{{inputs.{name}}}}}"), &value);
        variables.push((format!("AZUREML_INPUT_{name}"), value));
    }
    variables.push(("AZUREML_RUN_ID".to_owned(), record.name.clone()));
    variables.push((
        "AZUREML_EXPERIMENT_NAME".to_owned(),
        properties["experimentName"]
            .as_str()
            .unwrap_or("Default")
            .to_owned(),
    ));
    let files = match properties["codeId"].as_str() {
        Some(code_id) => {
            let code = ctx_free(&assets::CODE, code_id)?;
            match code["properties"]["codeUri"].as_str() {
                Some(uri) => crate::blobs::snapshot_files(tx, uri)?,
                None => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let timeout = properties["limits"]["timeout"]
        .as_str()
        .and_then(duration::parse);
    Ok(Start {
        key: key.to_owned(),
        name: record.name.clone(),
        run_dir: data_dir.join("runs").join(run_dir),
        command,
        variables,
        files,
        timeout,
    })
}

fn resolve(
    tx: &Connection,
    kind: &assets::AssetKind,
    workspace: &WorkspaceRef,
    id: &str,
    now: i64,
) -> Result<Json, String> {
    assets::resolve(tx, now, kind, workspace, id)
}

fn workspace_of(job_id: &str) -> Option<WorkspaceRef> {
    let parts: Vec<&str> = job_id.trim_matches('/').split('/').collect();
    // subscriptions/{s}/resourceGroups/{g}/providers/{ns}/workspaces/{w}/jobs/{name}
    (parts.len() >= 10).then(|| WorkspaceRef {
        subscription: parts[1].to_owned(),
        group: parts[3].to_owned(),
        name: parts[7].to_owned(),
    })
}

/// Clusters report one busy node per running job (at least their minimum node count).
fn update_node_counts(tx: &Connection, now: i64) -> Result<(), ArmError> {
    let computes: Vec<(String, i64)> = {
        let mut statement = tx.prepare(
            "SELECT compute_key, SUM(status IN ('Preparing', 'Running', 'CancelRequested')) FROM job_runs GROUP BY compute_key",
        )?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (compute_key, running) in computes {
        let Some(mut compute) = store::get(tx, &compute_key, now)? else {
            continue;
        };
        if compute.body["properties"]["computeType"].as_str() != Some("AmlCompute")
            || compute.busy(now)
        {
            continue;
        }
        let properties = &mut compute.body["properties"]["properties"];
        let minimum = properties["scaleSettings"]["minNodeCount"]
            .as_i64()
            .unwrap_or(0);
        let nodes = minimum.max(running);
        if properties["currentNodeCount"].as_i64() == Some(nodes)
            && properties["nodeStateCounts"]["runningNodeCount"].as_i64() == Some(running)
        {
            continue;
        }
        properties["currentNodeCount"] = json!(nodes);
        properties["targetNodeCount"] = json!(nodes);
        properties["allocationState"] = json!("Steady");
        properties["nodeStateCounts"] = json!({
            "idleNodeCount": nodes - running, "runningNodeCount": running, "preparingNodeCount": 0,
            "unusableNodeCount": 0, "leavingNodeCount": 0, "preemptedNodeCount": 0,
        });
        store::put(tx, &compute)?;
    }
    Ok(())
}
