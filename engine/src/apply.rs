//! Apply: runs a [`Plan`]'s steps through a [`CloudApi`] in the order of
//! [`ApplyGraph`](crate::plan::ApplyGraph), at most `parallelism` at once. It executes the plan;
//! it does not re-decide (STYLE §4): the caller resolves each step's final values (unknowns
//! filled in from what already finished), and a resolved value that contradicts a known planned
//! value stops that resource with an error naming it.
//!
//! Every completed operation is handed to [`ApplyHooks::record`] before any step that depends
//! on it starts, so state is saved after each operation and a crash loses at most the
//! operations in flight. A failed step skips its dependents and lets the rest finish.
//!
//! Each call is safe to repeat after a crash: PUT to a known id is create-or-replace, and a
//! delete of something already gone succeeds.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use crate::addr::ResourceAddr;
use crate::api::{CloudApi, UnderlyingResourceAction};
use crate::plan::{Action, ApplyGraph, Plan, ResourceChange, Scheduler, StepKind, WriteMethod};
use crate::schema::{Registry, ResourceSchema};
use crate::value::{ObjectValue, Value};

/// How often a long operation is reported as still running (Terraform prints the same line
/// every 10 seconds).
pub const STILL_RUNNING_EVERY: Duration = Duration::from_secs(10);

/// What apply needs from its caller.
pub trait ApplyHooks: Send + Sync {
    /// The object to send for an add or update step of `change`, with every configured value
    /// known (the planner re-evaluates the configuration with the objects finished so far).
    fn resolve(&self, change: &ResourceChange) -> Result<ObjectValue, String>;

    /// Saves the outcome of one completed operation: `Some` is the object now at `addr`
    /// (including the values sent that the service does not return), `None` means it is gone.
    fn record(&self, change: &ResourceChange, object: Option<&ObjectValue>) -> Result<(), String>;

    /// Progress, for display. No-op by default.
    fn event(&self, _event: &ApplyEvent) {}

    /// The configuration folder: a run's `source_dir` is relative to it. The current folder by
    /// default.
    fn base_dir(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(".")
    }
}

/// A progress event.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyEvent {
    /// A step started.
    Started {
        /// The resource.
        addr: ResourceAddr,
        /// What it does, in words ("Creating", "Detaching", ...).
        verb: &'static str,
    },
    /// A step finished.
    Finished {
        /// The resource.
        addr: ResourceAddr,
        /// Past tense ("Creation complete", ...).
        verb: &'static str,
        /// How long it took.
        elapsed: Duration,
        /// The object's id, when there is one.
        id: Option<String>,
    },
    /// A step failed.
    Failed {
        /// The resource.
        addr: ResourceAddr,
        /// The error, as the user reads it.
        message: String,
    },
    /// A step did not run because something it depends on failed.
    Skipped {
        /// The resource.
        addr: ResourceAddr,
    },
    /// A step in progress says what it is doing (a run's upload, its status changes).
    Progress {
        /// The resource.
        addr: ResourceAddr,
        /// What happened, in words.
        message: String,
    },
    /// New text of a run's log, as the run wrote it.
    Log {
        /// The resource.
        addr: ResourceAddr,
        /// The text (may end mid-line).
        text: String,
    },
}

/// One failed resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyFailure {
    /// The resource.
    pub addr: ResourceAddr,
    /// The error, with the API's message verbatim.
    pub message: String,
}

/// What apply did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyOutcome {
    /// Steps completed, by kind.
    pub added: usize,
    /// Updated in place.
    pub changed: usize,
    /// Removed (deleted or detached).
    pub removed: usize,
    /// Failed resources.
    pub failures: Vec<ApplyFailure>,
    /// Resources not touched because a dependency failed.
    pub skipped: Vec<ResourceAddr>,
}

impl ApplyOutcome {
    /// True when every step completed.
    pub fn succeeded(&self) -> bool {
        self.failures.is_empty() && self.skipped.is_empty()
    }
}

/// Applies `plan`. Ordering errors (a cycle) are reported as a failure of the first resource
/// of the cycle; nothing runs then.
pub async fn apply(
    plan: &Plan,
    registry: &Registry,
    cloud: &dyn CloudApi,
    hooks: &dyn ApplyHooks,
    parallelism: usize,
) -> ApplyOutcome {
    let mut outcome = ApplyOutcome::default();
    let graph = match ApplyGraph::build(plan) {
        Ok(graph) => graph,
        Err(error) => {
            let addr = plan
                .changes
                .first()
                .map(|change| change.addr.clone())
                .unwrap_or_else(|| ResourceAddr::managed("azureml_workspace", "unknown"));
            outcome.failures.push(ApplyFailure {
                addr,
                message: error.to_string(),
            });
            return outcome;
        }
    };
    let mut scheduler = Scheduler::new(&graph);
    let mut running = FuturesUnordered::new();
    // The steps in flight, for the "still running" lines of long operations.
    let mut in_flight: Vec<(usize, &ResourceAddr, &'static str, Instant)> = Vec::new();
    loop {
        for step in scheduler.next_batch(parallelism.max(1)) {
            let kind = graph.steps[step].kind;
            let change = &plan.changes[graph.steps[step].change];
            in_flight.push((
                step,
                &change.addr,
                started_verb(&change.action, kind),
                Instant::now(),
            ));
            running.push(async move {
                let started = Instant::now();
                let result = run_step(change, kind, registry, cloud, hooks).await;
                (step, kind, change, started.elapsed(), result)
            });
        }
        if running.is_empty() {
            break;
        }
        let next = loop {
            match tokio::time::timeout(STILL_RUNNING_EVERY, running.next()).await {
                Ok(next) => break next,
                Err(_) => {
                    for (_, addr, verb, started) in &in_flight {
                        hooks.event(&ApplyEvent::Progress {
                            addr: (*addr).clone(),
                            message: format!(
                                "Still {}... [{}s elapsed]",
                                verb.to_ascii_lowercase(),
                                started.elapsed().as_secs()
                            ),
                        });
                    }
                }
            }
        };
        let Some((step, kind, change, elapsed, result)) = next else {
            break;
        };
        in_flight.retain(|(running_step, ..)| *running_step != step);
        match result {
            Ok(id) => {
                // The previous environment version or run of a replacement is kept, not removed.
                let kept = kind == StepKind::Remove
                    && change.action == Action::Replace
                    && registry
                        .get(&change.addr.resource_type)
                        .is_some_and(|schema| schema.api.collection.keeps_replaced());
                match kind {
                    StepKind::Add => outcome.added += 1,
                    StepKind::Update => outcome.changed += 1,
                    StepKind::Remove if kept => {}
                    StepKind::Remove => outcome.removed += 1,
                }
                hooks.event(&ApplyEvent::Finished {
                    addr: change.addr.clone(),
                    verb: if kept {
                        "Previous object kept"
                    } else {
                        finished_verb(&change.action, kind)
                    },
                    elapsed,
                    id,
                });
                scheduler.complete(step);
            }
            Err(message) => {
                hooks.event(&ApplyEvent::Failed {
                    addr: change.addr.clone(),
                    message: message.clone(),
                });
                outcome.failures.push(ApplyFailure {
                    addr: change.addr.clone(),
                    message,
                });
                for skipped in scheduler.fail(step) {
                    let addr = plan.changes[graph.steps[skipped].change].addr.clone();
                    hooks.event(&ApplyEvent::Skipped { addr: addr.clone() });
                    if !outcome.skipped.contains(&addr)
                        && !outcome.failures.iter().any(|f| f.addr == addr)
                    {
                        outcome.skipped.push(addr);
                    }
                }
            }
        }
    }
    outcome
}

/// Runs one step; returns the object's id on success, or the error as the user reads it.
async fn run_step(
    change: &ResourceChange,
    kind: StepKind,
    registry: &Registry,
    cloud: &dyn CloudApi,
    hooks: &dyn ApplyHooks,
) -> Result<Option<String>, String> {
    let schema = registry
        .get(&change.addr.resource_type)
        .ok_or_else(|| format!("`{}` is not in the catalogue", change.addr.resource_type))?;
    let kept = schema.api.collection.keeps_replaced()
        && kind == StepKind::Remove
        && change.action == Action::Replace;
    hooks.event(&ApplyEvent::Started {
        addr: change.addr.clone(),
        verb: if kept {
            "Keeping the previous object"
        } else {
            started_verb(&change.action, kind)
        },
    });
    if schema.api.collection.keeps_replaced() {
        return run_immutable_step(change, kind, schema, cloud, hooks).await;
    }
    match kind {
        StepKind::Remove => {
            let before = change
                .before
                .as_ref()
                .ok_or("a removal without a prior object")?;
            let id = before.get_str("id").ok_or("the prior object has no `id`")?;
            let action = if change.before_attachment.is_some()
                || matches!(change.action, Action::Detach | Action::Reattach)
            {
                UnderlyingResourceAction::Detach
            } else {
                UnderlyingResourceAction::Delete
            };
            cloud
                .delete(schema, id, action)
                .await
                .map_err(|error| error_chain(&error))?;
            hooks.record(change, None)?;
            Ok(Some(id.to_owned()))
        }
        StepKind::Add => {
            let desired = resolved(change, schema, hooks)?;
            let created = cloud
                .create_or_update(schema, &desired)
                .await
                .map_err(|error| error_chain(&error))?;
            let object = merge_sent(schema, created, &desired);
            hooks.record(change, Some(&object))?;
            Ok(object.get_str("id").map(str::to_owned))
        }
        StepKind::Update => {
            let desired = resolved(change, schema, hooks)?;
            let Action::Update(update) = &change.action else {
                return Err(format!("`{}` is not an update", change.addr));
            };
            let before = change
                .before
                .as_ref()
                .ok_or("an update without a prior object")?;
            let id = before
                .get_str("id")
                .ok_or("the prior object has no `id`")?
                .to_owned();
            let mut object = match update.write {
                Some(WriteMethod::Put) => Some(
                    cloud
                        .create_or_update(schema, &desired)
                        .await
                        .map_err(|error| error_chain(&error))?,
                ),
                Some(WriteMethod::Patch) => Some(
                    cloud
                        .patch(schema, &id, &desired)
                        .await
                        .map_err(|error| error_chain(&error))?,
                ),
                None => None,
            };
            for name in &update.actions {
                cloud
                    .action(schema, &id, name)
                    .await
                    .map_err(|error| error_chain(&error))?;
            }
            if !update.actions.is_empty() || object.is_none() {
                object = cloud
                    .read(schema, &id)
                    .await
                    .map_err(|error| error_chain(&error))?;
            }
            let object = object.ok_or_else(|| format!("`{id}` disappeared during the update"))?;
            let object = merge_sent(schema, object, &desired);
            hooks.record(change, Some(&object))?;
            Ok(Some(id))
        }
    }
}

/// A step of an environment version or a run (immutable objects, `Collection::keeps_replaced`):
///
/// | step | environment | run |
/// |---|---|---|
/// | add | PUT of the version | [`crate::runs::submit_run`], recorded, then waited for unless `wait_for_completion = false` |
/// | update | PUT (description, tags) | PUT of the job with the new tags, only when they changed |
/// | remove of a replacement | nothing: the old version is kept | nothing: the old run stays in history |
/// | delete | archive: PUT with `isArchived: true` | nothing: the run is forgotten |
async fn run_immutable_step(
    change: &ResourceChange,
    kind: StepKind,
    schema: &ResourceSchema,
    cloud: &dyn CloudApi,
    hooks: &dyn ApplyHooks,
) -> Result<Option<String>, String> {
    let is_run = schema.api.collection == crate::schema::Collection::Jobs;
    match kind {
        StepKind::Remove => {
            let before = change
                .before
                .as_ref()
                .ok_or("a removal without a prior object")?;
            let id = before.get_str("id").map(str::to_owned);
            if matches!(change.action, Action::Replace) {
                // The replacement was recorded at this address: nothing to forget.
                return Ok(id);
            }
            if !is_run && let Some(id) = &id {
                crate::runs::archive(cloud, id).await?;
            }
            hooks.record(change, None)?;
            Ok(id)
        }
        StepKind::Add if is_run => {
            let desired = resolved(change, schema, hooks)?;
            let addr = change.addr.clone();
            let events = move |event: crate::runs::RunEvent| {
                use crate::runs::RunEvent;
                hooks.event(&match event {
                    RunEvent::Progress(message) => ApplyEvent::Progress {
                        addr: addr.clone(),
                        message,
                    },
                    RunEvent::Status(status) => ApplyEvent::Progress {
                        addr: addr.clone(),
                        message: format!("status {status}"),
                    },
                    RunEvent::Log(text) => ApplyEvent::Log {
                        addr: addr.clone(),
                        text,
                    },
                });
            };
            let submitted =
                crate::runs::submit_run(cloud, schema, &desired, &hooks.base_dir(), &events)
                    .await?;
            // Recorded at once: an interrupted wait must not submit the run again.
            hooks.record(change, Some(&submitted))?;
            let id = submitted
                .get_str("id")
                .ok_or("the service answered the job without an `id`")?
                .to_owned();
            hooks.event(&ApplyEvent::Progress {
                addr: change.addr.clone(),
                message: format!(
                    "submitted as `{}`",
                    submitted.get_str("name").unwrap_or(&id)
                ),
            });
            if desired.get("wait_for_completion") == &Value::Bool(false) {
                return Ok(Some(id));
            }
            let timeout = crate::runs::submit::run_timeout(&desired)?;
            match crate::runs::wait_for_run(cloud, schema, &id, &desired, timeout, &events).await {
                Ok(finished) => {
                    hooks.record(change, Some(&finished))?;
                    Ok(Some(id))
                }
                Err((last, message)) => {
                    if let Some(last) = last {
                        hooks.record(change, Some(&last))?;
                    }
                    Err(message)
                }
            }
        }
        StepKind::Add => {
            let desired = resolved(change, schema, hooks)?;
            let created = cloud
                .create_or_update(schema, &desired)
                .await
                .map_err(|error| error_chain(&error))?;
            let object = merge_sent(schema, created, &desired);
            hooks.record(change, Some(&object))?;
            Ok(object.get_str("id").map(str::to_owned))
        }
        StepKind::Update => {
            let desired = resolved(change, schema, hooks)?;
            let before = change
                .before
                .as_ref()
                .ok_or("an update without a prior object")?;
            let id = before
                .get_str("id")
                .ok_or("the prior object has no `id`")?
                .to_owned();
            let object = if is_run {
                crate::runs::update_run(cloud, schema, before, &desired).await?
            } else {
                let updated = cloud
                    .create_or_update(schema, &desired)
                    .await
                    .map_err(|error| error_chain(&error))?;
                merge_sent(schema, updated, &desired)
            };
            hooks.record(change, Some(&object))?;
            Ok(Some(id))
        }
    }
}

/// The object to send: the planned `after` (defaults and kept values included), with every
/// value the plan did not know taken from the caller's re-evaluated configuration. A configured
/// value the plan knew must come out the same; computed values still unknown are left out
/// (the service fills them in).
fn resolved(
    change: &ResourceChange,
    schema: &ResourceSchema,
    hooks: &dyn ApplyHooks,
) -> Result<ObjectValue, String> {
    let configured = hooks.resolve(change)?;
    let mut desired = change.after.clone().unwrap_or_else(|| configured.clone());
    for (name, attribute) in &schema.attributes {
        let planned = desired.get(name).clone();
        if !attribute.presence.is_configurable() {
            if planned.contains_unknown() {
                desired.set(name, Value::Null);
            }
            continue;
        }
        let value = configured.get(name);
        if value.contains_unknown() {
            return Err(format!(
                "`{}`: `{name}` is still unknown at apply time",
                change.addr
            ));
        }
        if planned.contains_unknown() || attribute.sensitive || attribute.write_only {
            // Secrets: the plan may hold a digest; the configuration holds the value to send.
            if !value.is_null() || planned.contains_unknown() {
                desired.set(name, value.clone());
            }
            continue;
        }
        if !planned.is_null() && !agrees(&planned, value) {
            return Err(format!(
                "`{}`: the planned value of `{name}` changed during apply; run plan again",
                change.addr
            ));
        }
    }
    Ok(desired)
}

/// True when every value set in `configured` equals the planned one (the plan adds defaults
/// and kept values, so unset parts of the configuration say nothing).
fn agrees(planned: &Value, configured: &Value) -> bool {
    match (planned, configured) {
        (_, Value::Null) => true,
        (Value::Map(planned), Value::Map(configured)) => configured
            .iter()
            .all(|(key, value)| agrees(planned.get(key).unwrap_or(&Value::Null), value)),
        (Value::List(planned), Value::List(configured)) => {
            planned.len() == configured.len()
                && planned
                    .iter()
                    .zip(configured)
                    .all(|(planned, configured)| agrees(planned, configured))
        }
        (planned, configured) => planned == configured,
    }
}

/// The object the service returned, plus what was sent that the service never returns
/// (write-only and sensitive values, attributes with no ARM path): state needs them to detect
/// a later change.
pub fn merge_sent(
    schema: &ResourceSchema,
    mut read: ObjectValue,
    sent: &ObjectValue,
) -> ObjectValue {
    for (name, attribute) in &schema.attributes {
        let unreadable = attribute.arm.is_none()
            && name != &schema.api.name_attribute
            && name != &schema.api.parent_attribute
            && name != "id";
        let hidden = attribute.write_only || attribute.sensitive;
        if (unreadable || hidden) && matches!(read.get(name), Value::Null) {
            let value = sent.get(name);
            if !value.is_null() {
                read.set(name, value.clone());
            }
        }
    }
    read
}

fn started_verb(action: &Action, kind: StepKind) -> &'static str {
    match (action, kind) {
        (Action::Detach | Action::Reattach, StepKind::Remove) => "Detaching",
        (_, StepKind::Remove) => "Destroying",
        (Action::Attach | Action::Reattach, StepKind::Add) => "Attaching",
        (_, StepKind::Add) => "Creating",
        (_, StepKind::Update) => "Modifying",
    }
}

fn finished_verb(action: &Action, kind: StepKind) -> &'static str {
    match (action, kind) {
        (Action::Detach | Action::Reattach, StepKind::Remove) => "Detach complete",
        (_, StepKind::Remove) => "Destruction complete",
        (Action::Attach | Action::Reattach, StepKind::Add) => "Attach complete",
        (_, StepKind::Add) => "Creation complete",
        (_, StepKind::Update) => "Modifications complete",
    }
}

/// An error and its causes on one line each, so the API's message reaches the user verbatim.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
