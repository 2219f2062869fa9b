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

use std::time::Duration;

use tokio::time::Instant;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use crate::addr::ResourceAddr;
use crate::api::{CloudApi, Clouds, UnderlyingResourceAction};
use crate::plan::{Action, ApplyGraph, Plan, ResourceChange, Scheduler, StepKind};
use crate::resource::{self, Observer, Operation, Removal, Removed};
use crate::runs::RunEvent;
use crate::schema::{Registry, ResourceSchema};
use crate::value::ObjectValue;

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

/// Applies `plan`, each change through the cloud of its provider configuration
/// ([`ResourceChange::provider`]). Ordering errors (a cycle) are reported as a failure of the
/// first resource of the cycle; nothing runs then.
pub async fn apply(
    plan: &Plan,
    registry: &Registry,
    clouds: &Clouds<'_>,
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
                let result = match clouds.get(change.provider.as_deref()) {
                    Ok(cloud) => run_step(change, kind, registry, cloud, hooks).await,
                    Err(message) => Err(message),
                };
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
                        .is_some_and(ResourceSchema::keeps_replaced);
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

/// Runs one step through the resource operations ([`crate::resource`]); returns the object's id
/// on success, or the error as the user reads it. What to do comes from the plan: the removal's
/// detach or delete, whether it is the old half of a replacement, the update's calls.
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
    let replaced = matches!(change.action, Action::Replace | Action::Reattach);
    let kept = kind == StepKind::Remove && replaced && schema.keeps_replaced();
    hooks.event(&ApplyEvent::Started {
        addr: change.addr.clone(),
        verb: if kept {
            "Keeping the previous object"
        } else {
            started_verb(&change.action, kind)
        },
    });
    let base_dir = hooks.base_dir();
    let observer = StepObserver {
        change,
        hooks,
        base_dir: &base_dir,
    };
    let operation = Operation {
        cloud,
        schema,
        observer: &observer,
    };
    // A failed operation may leave an object behind (a submitted run that failed): record it.
    let failed = |error: resource::OperationError| {
        if let Some(object) = &error.object
            && let Err(message) = hooks.record(change, Some(object))
        {
            return format!("{error}; {message}");
        }
        error.message
    };
    match kind {
        StepKind::Remove => {
            let before = change
                .before
                .as_ref()
                .ok_or("a removal without a prior object")?;
            let action = if change.before_attachment.is_some()
                || matches!(change.action, Action::Detach | Action::Reattach)
            {
                UnderlyingResourceAction::Detach
            } else {
                UnderlyingResourceAction::Delete
            };
            let removal = if replaced {
                Removal::Replaced(action)
            } else {
                Removal::Destroy(action)
            };
            let removed = resource::remove(operation, before, removal)
                .await
                .map_err(failed)?;
            if removed != Removed::Kept {
                hooks.record(change, None)?;
            }
            Ok(before.get_str("id").map(str::to_owned))
        }
        StepKind::Add => {
            let desired = resolved(change, schema, hooks)?;
            let object = resource::add(operation, &desired).await.map_err(failed)?;
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
            let object = resource::update(operation, before, update, &desired)
                .await
                .map_err(failed)?;
            hooks.record(change, Some(&object))?;
            Ok(before.get_str("id").map(str::to_owned))
        }
    }
}

/// What one step's operation reports, passed on to the caller's [`ApplyHooks`].
struct StepObserver<'a> {
    change: &'a ResourceChange,
    hooks: &'a dyn ApplyHooks,
    base_dir: &'a std::path::Path,
}

impl Observer for StepObserver<'_> {
    fn event(&self, event: RunEvent) {
        let addr = self.change.addr.clone();
        self.hooks.event(&match event {
            RunEvent::Progress(message) => ApplyEvent::Progress { addr, message },
            RunEvent::Status(status) => ApplyEvent::Progress {
                addr,
                message: format!("status {status}"),
            },
            RunEvent::Log(text) => ApplyEvent::Log { addr, text },
        });
    }

    fn record(&self, object: &ObjectValue) -> Result<(), String> {
        self.hooks.record(self.change, Some(object))
    }

    fn base_dir(&self) -> &std::path::Path {
        self.base_dir
    }
}

/// The object to send: the planned `after` (defaults and kept values included), with every
/// value the plan did not know taken from the caller's re-evaluated configuration
/// ([`resource::to_send`]).
fn resolved(
    change: &ResourceChange,
    schema: &ResourceSchema,
    hooks: &dyn ApplyHooks,
) -> Result<ObjectValue, String> {
    let configured = hooks.resolve(change)?;
    let planned = change.after.as_ref().unwrap_or(&configured);
    resource::to_send(&change.addr.to_string(), schema, planned, &configured)
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

#[cfg(test)]
mod tests;
