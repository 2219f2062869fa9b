//! The operations on one resource, written once for both front ends: amlplan's apply walker
//! ([`crate::apply`]) and the provider's `ApplyResourceChange` call [`add`], [`update`] and
//! [`remove`]; refresh and the provider's `ReadResource` read objects back with [`read_back`];
//! both fill plan-time values with [`fill_plan_time_values`]. The callers decide *what* to do
//! (amlplan from its plan, the provider from what Terraform asks); this module does it.
//!
//! Behaviour beyond the generic calls belongs to a kind, not to a name compare: the catalogue
//! names it (`[api] hooks = "..."`) and [`hooks_for`] finds its [`ResourceHooks`]:
//!
//! | operation | generic (no `hooks`) | `environment_version` ([`environment`]) | `run` ([`run`]) |
//! |---|---|---|---|
//! | plan-time values | none | derived `version` | `snapshot_hash`, `command` |
//! | add | PUT (create or attach), read the result | PUT of the version | snapshot upload, job submission, recorded, then waited for unless `wait_for_completion = false` |
//! | update | PUT and/or PATCH by the plan's [`UpdateKind`], then POST actions, then a read when needed | PUT (description, tags) | PUT of the job's tags, only when they changed |
//! | removal of a replacement | DELETE (detach or delete) | nothing: the old version is kept | nothing: the old run stays in history |
//! | destroy | DELETE (detach or delete) | archive (`isArchived: true`) | nothing: the run is forgotten |
//!
//! Every call is safe to repeat after a crash: a PUT to a known id is create-or-replace, and a
//! delete of something already gone succeeds.

pub mod environment;
pub mod run;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use crate::addr::ResourceAddr;
use crate::api::{ApiError, CloudApi, UnderlyingResourceAction};
use crate::diag::{Diagnostics, error_chain};
use crate::plan::{UpdateKind, WriteMethod};
use crate::runs::RunEvent;
use crate::schema::ResourceSchema;
use crate::value::{ObjectValue, Value};

/// A boxed operation, as [`ResourceHooks`] methods return them.
pub type OperationFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, OperationError>> + Send + 'a>>;

/// An operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct OperationError {
    /// A short title for front ends that show one (the provider's diagnostic summary), when the
    /// kind words it itself (e.g. "Run `x` did not complete"); otherwise the caller's.
    pub summary: Option<String>,
    /// What failed, with the service's message verbatim.
    pub message: String,
    /// The object as it exists after the failure, to be recorded (a run that was submitted and
    /// then failed is kept, not lost).
    pub object: Option<ObjectValue>,
}

impl OperationError {
    /// A failure with nothing left behind.
    pub fn new(message: impl Into<String>) -> OperationError {
        OperationError {
            summary: None,
            message: message.into(),
            object: None,
        }
    }
}

impl From<ApiError> for OperationError {
    fn from(error: ApiError) -> OperationError {
        OperationError::new(error_chain(&error))
    }
}

impl From<String> for OperationError {
    fn from(message: String) -> OperationError {
        OperationError::new(message)
    }
}

impl From<&str> for OperationError {
    fn from(message: &str) -> OperationError {
        OperationError::new(message)
    }
}

/// What an operation tells its caller while it runs.
pub trait Observer: Send + Sync {
    /// Progress of a long operation (a run's upload, status changes, log text).
    fn event(&self, _event: RunEvent) {}

    /// Saves an intermediate object before the operation finishes (a run right after it was
    /// submitted, so an interrupted wait never submits it again). Does nothing by default.
    fn record(&self, _object: &ObjectValue) -> Result<(), String> {
        Ok(())
    }

    /// The configuration folder: a run's `source_dir` is relative to it.
    fn base_dir(&self) -> &Path;

    /// Resolves when the caller wants long waits to stop (Terraform's `StopProvider`). Never,
    /// by default.
    fn cancelled(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

/// One resource's operation: the cloud, the resource type, and who observes it.
#[derive(Clone, Copy)]
pub struct Operation<'a> {
    /// Where the calls go.
    pub cloud: &'a dyn CloudApi,
    /// The resource type.
    pub schema: &'a ResourceSchema,
    /// Progress and intermediate saves.
    pub observer: &'a dyn Observer,
}

/// Why an object is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// It leaves the configuration (or is destroyed): delete it, or detach an attachment.
    Destroy(UnderlyingResourceAction),
    /// It is the old half of a replacement: immutable kinds keep it, the rest delete or detach
    /// it as on destroy.
    Replaced(UnderlyingResourceAction),
}

impl Removal {
    /// The DELETE's `underlyingResourceAction`.
    pub fn action(self) -> UnderlyingResourceAction {
        match self {
            Removal::Destroy(action) | Removal::Replaced(action) => action,
        }
    }
}

/// What a removal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// Deleted (`underlyingResourceAction=Delete`, or a workspace).
    Deleted,
    /// Detached: the underlying resource is kept.
    Detached,
    /// An immutable object kept as it is (the old half of a replacement): nothing to forget.
    Kept,
    /// An asset version archived (versions are never deleted).
    Archived,
    /// Forgotten without a call (a run stays in the workspace's history).
    Forgotten,
}

impl Removed {
    /// In words, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Removed::Deleted => "deleted",
            Removed::Detached => "detached; the underlying resource is kept",
            Removed::Kept => "replaced; the previous object is kept",
            Removed::Archived => "archived",
            Removed::Forgotten => "forgotten; it stays in the workspace's history",
        }
    }
}

/// A kind's behaviour beyond the generic calls (the module table). Every method defaults to the
/// generic operation, so a kind overrides only what differs.
pub trait ResourceHooks: Send + Sync {
    /// Fills the values of one configured object that the client computes at plan time
    /// (`base_dir`: the configuration folder); returns the problems found, at their attribute.
    fn fill_plan_time_values(
        &self,
        _addr: &ResourceAddr,
        _values: &mut ObjectValue,
        _base_dir: &Path,
    ) -> Diagnostics {
        Diagnostics::default()
    }

    /// Creates or attaches `desired` (values resolved); returns the object to record.
    fn add<'a>(
        &'a self,
        operation: Operation<'a>,
        desired: &'a ObjectValue,
    ) -> OperationFuture<'a, ObjectValue> {
        Box::pin(put(operation, desired))
    }

    /// Changes `before` into `desired` in place as `kind` says; returns the object to record.
    fn update<'a>(
        &'a self,
        operation: Operation<'a>,
        before: &'a ObjectValue,
        kind: &'a UpdateKind,
        desired: &'a ObjectValue,
    ) -> OperationFuture<'a, ObjectValue> {
        Box::pin(update_in_place(operation, before, kind, desired))
    }

    /// Removes `before`.
    fn remove<'a>(
        &'a self,
        operation: Operation<'a>,
        before: &'a ObjectValue,
        removal: Removal,
    ) -> OperationFuture<'a, Removed> {
        Box::pin(delete(operation, before, removal.action()))
    }
}

/// The kinds with only the generic operations.
struct Generic;

impl ResourceHooks for Generic {}

/// Every hook implementation, by the name the catalogue gives it (`[api] hooks`).
const HOOKS: &[(&str, &dyn ResourceHooks)] = &[
    ("environment_version", &environment::EnvironmentVersion),
    ("run", &run::Run),
];

/// The hooks of `schema`'s kind: the catalogue's `hooks` name, or the generic operations.
/// A name with no implementation is caught by a test over the whole catalogue.
pub fn hooks_for(schema: &ResourceSchema) -> &'static dyn ResourceHooks {
    schema
        .api
        .hooks
        .as_deref()
        .and_then(|name| HOOKS.iter().find(|(known, _)| *known == name))
        .map_or(&Generic, |(_, hooks)| *hooks)
}

/// Fills the plan-time values of one configured object of `schema` at `addr` (see
/// [`ResourceHooks::fill_plan_time_values`]), reading files relative to `base_dir`.
pub fn fill_plan_time_values(
    schema: &ResourceSchema,
    addr: &ResourceAddr,
    values: &mut ObjectValue,
    base_dir: &Path,
) -> Diagnostics {
    hooks_for(schema).fill_plan_time_values(addr, values, base_dir)
}

/// Values the catalogue's constraints refuse (`schema::check`), as the failure of the operation
/// that would have sent them: values unknown at plan time are checked here, once known, before
/// anything is sent.
fn refuse_invalid(schema: &ResourceSchema, desired: &ObjectValue) -> Result<(), OperationError> {
    let addr = ResourceAddr::managed(&schema.type_name, "this");
    let problems: Vec<String> = crate::schema::check::resource(schema, &addr, desired)
        .iter()
        .filter(|problem| problem.severity == crate::diag::Severity::Error)
        .map(|problem| {
            problem
                .detail
                .clone()
                .unwrap_or_else(|| problem.summary.clone())
        })
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(OperationError {
        summary: Some("Invalid value".to_owned()),
        message: format!("nothing was sent: {}", problems.join(" ")),
        object: None,
    })
}

/// Creates or attaches `desired`, through its kind's hooks (nothing is sent when a value breaks
/// the catalogue's constraints).
pub async fn add(
    operation: Operation<'_>,
    desired: &ObjectValue,
) -> Result<ObjectValue, OperationError> {
    refuse_invalid(operation.schema, desired)?;
    hooks_for(operation.schema).add(operation, desired).await
}

/// Updates `before` into `desired` in place, through its kind's hooks.
pub async fn update(
    operation: Operation<'_>,
    before: &ObjectValue,
    kind: &UpdateKind,
    desired: &ObjectValue,
) -> Result<ObjectValue, OperationError> {
    refuse_invalid(operation.schema, desired)?;
    hooks_for(operation.schema)
        .update(operation, before, kind, desired)
        .await
}

/// Removes `before`, through its kind's hooks.
pub async fn remove(
    operation: Operation<'_>,
    before: &ObjectValue,
    removal: Removal,
) -> Result<Removed, OperationError> {
    hooks_for(operation.schema)
        .remove(operation, before, removal)
        .await
}

/// The generic add: PUT of the body (create or attach), the long-running operation, a read of
/// the result, plus what was sent that the service never returns.
pub async fn put(
    operation: Operation<'_>,
    desired: &ObjectValue,
) -> Result<ObjectValue, OperationError> {
    let schema = operation.schema;
    let created = operation.cloud.create_or_update(schema, desired).await?;
    Ok(schema.merge_sent(created, desired))
}

/// The generic update: PUT and/or PATCH as `kind` says, then its POST actions, then a read when
/// no write answered with the object (or an action changed it).
pub async fn update_in_place(
    operation: Operation<'_>,
    before: &ObjectValue,
    kind: &UpdateKind,
    desired: &ObjectValue,
) -> Result<ObjectValue, OperationError> {
    let Operation { cloud, schema, .. } = operation;
    let id = prior_id(before)?;
    let mut object = match kind.write {
        Some(WriteMethod::Put) => Some(cloud.create_or_update(schema, desired).await?),
        Some(WriteMethod::Patch) => Some(cloud.patch(schema, id, desired).await?),
        None => None,
    };
    for name in &kind.actions {
        cloud.action(schema, id, name).await?;
    }
    if !kind.actions.is_empty() || object.is_none() {
        object = cloud.read(schema, id).await?;
    }
    let object = object.ok_or_else(|| format!("`{id}` disappeared during the update"))?;
    Ok(schema.merge_sent(object, desired))
}

/// The generic removal: DELETE with `action` (detach keeps the underlying resource), waiting
/// until the object is gone. Already gone is success.
pub async fn delete(
    operation: Operation<'_>,
    before: &ObjectValue,
    action: UnderlyingResourceAction,
) -> Result<Removed, OperationError> {
    let id = prior_id(before)?;
    operation.cloud.delete(operation.schema, id, action).await?;
    Ok(match action {
        UnderlyingResourceAction::Detach => Removed::Detached,
        UnderlyingResourceAction::Delete => Removed::Deleted,
    })
}

/// The `id` of a stored object.
pub fn prior_id(before: &ObjectValue) -> Result<&str, OperationError> {
    before
        .get_str("id")
        .ok_or_else(|| OperationError::new("the state holds no `id` for this object"))
}

/// The object to send for an add or update: the `planned` object (defaults and kept values
/// included), with every value the plan did not know, and every secret, taken from
/// `configured` (the configuration evaluated at apply time, wholly known). A configured value
/// the plan knew must come out the same; computed values still unknown are left to the
/// service. `who` names the resource in errors.
pub fn to_send(
    who: &str,
    schema: &ResourceSchema,
    planned: &ObjectValue,
    configured: &ObjectValue,
) -> Result<ObjectValue, String> {
    let mut desired = planned.clone();
    for (name, attribute) in &schema.attributes {
        let planned_value = desired.get(name).clone();
        if !attribute.presence.is_configurable() {
            if planned_value.contains_unknown() {
                desired.set(name, Value::Null);
            }
            continue;
        }
        let value = configured.get(name);
        if value.contains_unknown() {
            return Err(format!("`{who}`: `{name}` is still unknown at apply time"));
        }
        if planned_value.contains_unknown() || attribute.sensitive || attribute.write_only {
            // Secrets: the plan may hold a digest (or nothing, with write-only attributes);
            // the configuration holds the value to send.
            if !value.is_null() || planned_value.contains_unknown() {
                desired.set(name, value.clone());
            }
            continue;
        }
        if !planned_value.is_null() && !agrees(&planned_value, value) {
            return Err(format!(
                "`{who}`: the planned value of `{name}` changed during apply; run plan again"
            ));
        }
    }
    for value in desired.0.values_mut() {
        strip_unknown(value);
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

/// `value` with every nested unknown as null (left to the service).
pub fn strip_unknown(value: &mut Value) {
    match value {
        Value::Unknown => *value = Value::Null,
        Value::List(items) => items.iter_mut().for_each(strip_unknown),
        Value::Map(entries) => entries.values_mut().for_each(strip_unknown),
        _ => {}
    }
}

/// An object as read from the service (`values`, already mapped from its ARM body), completed
/// from what state holds (`stored`): an action attribute (`state`) is observed through its
/// computed `current_<name>` (a settled observed value the attribute can take is the actual
/// one), and values the service never returns come from `stored`.
pub fn read_back(
    schema: &ResourceSchema,
    mut values: ObjectValue,
    stored: &ObjectValue,
) -> ObjectValue {
    for (name, attribute) in &schema.attributes {
        if attribute.arm.is_none() && !attribute.actions.is_empty() {
            let observed = values
                .get_str(&format!("current_{name}"))
                .map(str::to_owned);
            if let Some(observed) = observed.filter(|value| attribute.actions.contains_key(value)) {
                values.set(name, Value::from(observed));
            }
        }
    }
    schema.merge_sent(values, stored)
}

#[cfg(test)]
mod tests;
