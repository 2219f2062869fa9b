//! Managed resources and data sources over the engine: what `ReadResource`,
//! `PlanResourceChange`, `ApplyResourceChange` and `ReadDataSource` do once their values are
//! decoded. The engine decides (`engine::plan::plan_resource`); this module adapts its answers
//! to Terraform's rules (DESIGN §6, `terraform-plugin-protocol.md` §3):
//!
//! | RPC | engine | Terraform rule kept here |
//! |---|---|---|
//! | read | one cached list per parent and collection ([`crate::refresh`]); `from_arm`, the desired power `state` from `current_state`, `merge_sent` with the prior state | gone is null |
//! | plan | `engine::resource::fill_plan_time_values` (base: Terraform's working folder), then `plan_resource(schema, prior, config)` | no-op plans the prior object unchanged; `Replace`/`Reattach` answer the forcing paths as `requires_replace` |
//! | apply | [`apply`]: `engine::resource::{add, update, remove}` (the same operations as amlplan's apply; kinds' hooks submit runs and archive environment versions); an attachment waits for the attachment guard first; the update's calls by `UpdateKind`, detach or delete by `is_attachment`, a replacement's old half told by the private mark of [`crate::runs`] | the new object keeps every known planned value and is wholly known |
//! | data source | `resource_id` from name and parent, then GET | wholly known, never null |
//!
//! Write-only attributes with Terraform >= 1.11: Terraform stores none, so the prior object
//! holds null; a configured write-only value is sent on create and never compared (changing
//! it alone plans nothing, as Terraform's write-only contract says).

use std::collections::BTreeMap;
use std::path::Path;

use engine::addr::{AttrPath, ResourceAddr};
use engine::api::id::same_id;
use engine::api::{ApiError, ArmObject, CloudApi, UnderlyingResourceAction};
use engine::diag::{Diagnostics, error_chain};
use engine::plan::{Action, ResourceChange, ResourceOptions, UpdateKind, WriteMethod};
use engine::resource::{Observer, Operation, OperationError, Removal};
use engine::runs::RunEvent;
use engine::schema::{Attribute, Collection, Registry, ResourceSchema};
use engine::value::{ObjectValue, Value};
use tokio::sync::watch;

use crate::refresh::{ListKey, RefreshCache};
use crate::target::Target;

/// Every object of one list call as catalogue values (kinds the catalogue does not know are
/// left out). A parent that is gone (404) holds nothing.
pub async fn list_objects(
    cloud: &dyn CloudApi,
    registry: &Registry,
    parent: &str,
    collection: Collection,
) -> Result<Vec<ObjectValue>, ApiError> {
    let listed = match cloud.list(parent, collection).await {
        Ok(listed) => listed,
        Err(error) if error.status() == Some(404) => Vec::new(),
        Err(error) => return Err(error),
    };
    Ok(listed
        .iter()
        .filter_map(|object: &ArmObject| object.to_object(registry, collection))
        .map(|(_, values)| values)
        .collect())
}

/// Refreshes `prior` from the cached listing of its parent: `None` when the object is gone.
pub async fn read(
    cloud: &dyn CloudApi,
    cache: &RefreshCache,
    registry: &Registry,
    schema: &ResourceSchema,
    prior: &ObjectValue,
) -> Result<Option<ObjectValue>, ApiError> {
    let Some(id) = prior.get_str("id") else {
        return Ok(None);
    };
    let Some((parent, collection)) = engine::refresh::parent_listing(schema, id) else {
        return Ok(None);
    };
    let listing = cache
        .get_or_load(ListKey::new(&parent, collection), || {
            list_objects(cloud, registry, &parent, collection)
        })
        .await?;
    let found = listing
        .iter()
        .find(|object| object.get_str("id").is_some_and(|other| same_id(other, id)));
    Ok(found.map(|object| {
        engine::resource::read_back(schema, conform(&schema.attributes, object), prior)
    }))
}

/// Only the attributes of `attributes` (a listed compute may be read with another kind's
/// schema; Terraform refuses unknown attributes).
pub fn conform(attributes: &BTreeMap<String, Attribute>, object: &ObjectValue) -> ObjectValue {
    ObjectValue(
        object
            .0
            .iter()
            .filter(|(name, _)| attributes.contains_key(*name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
    )
}

/// A planned change as Terraform takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The engine's change (action, `after`).
    pub change: ResourceChange,
    /// The planned object to answer.
    pub planned: ObjectValue,
    /// Paths whose change forces delete-then-create.
    pub requires_replace: Vec<AttrPath>,
    /// Problems found while computing the plan-time values (`engine::runs`).
    pub diagnostics: Diagnostics,
}

/// Plans one resource: `prior` as Terraform holds it, `config` with unknowns. The values the
/// client computes at plan time (a run's `snapshot_hash` and `command`, an environment's
/// derived `version`) are filled in first by `engine::resource::fill_plan_time_values`, reading a
/// run's `source_dir` relative to `base_dir` (Terraform's working folder), as amlplan does.
pub fn plan(
    schema: &ResourceSchema,
    prior: Option<&ObjectValue>,
    config: &ObjectValue,
    write_only_allowed: bool,
    base_dir: &Path,
) -> Planned {
    let addr = ResourceAddr::managed(&schema.type_name, "this");
    let mut desired = config.clone();
    let mut diagnostics =
        engine::resource::fill_plan_time_values(schema, &addr, &mut desired, base_dir);
    // Values unknown at validation are known now (Terraform validated the configuration first).
    diagnostics.extend(engine::schema::check::resource(schema, &addr, &desired));
    if write_only_allowed && let Some(prior) = prior {
        // Terraform >= 1.11 stores no write-only value: nothing to compare with.
        for (name, attribute) in &schema.attributes {
            if attribute.write_only {
                desired.set(name, prior.get(name).clone());
            }
        }
    }
    let change =
        engine::plan::plan_resource(schema, &addr, prior, &desired, &ResourceOptions::default());
    let planned = match (&change.action, prior) {
        // Terraform decides "no-op" by equality with the prior object.
        (Action::NoOp, Some(prior)) => prior.clone(),
        _ => change.after.clone().unwrap_or_default(),
    };
    let requires_replace = match change.action {
        Action::Replace | Action::Reattach => change.replace_paths.clone(),
        _ => Vec::new(),
    };
    Planned {
        change,
        planned,
        requires_replace,
        diagnostics,
    }
}

/// The new state after apply: every value the plan knew (Terraform refuses any other), the
/// service's values where the plan said "known after apply", nothing unknown.
pub fn reconcile(
    schema: &ResourceSchema,
    planned: &ObjectValue,
    result: &ObjectValue,
) -> ObjectValue {
    let mut state = ObjectValue::default();
    for name in schema.attributes.keys() {
        let mut value = merge_known(planned.get(name), result.get(name));
        engine::resource::strip_unknown(&mut value);
        state.set(name, value);
    }
    state
}

fn merge_known(planned: &Value, result: &Value) -> Value {
    if !planned.contains_unknown() {
        return planned.clone();
    }
    match (planned, result) {
        (Value::Unknown, result) => result.clone(),
        (Value::Map(planned), Value::Map(result)) => Value::Map(
            planned
                .iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        merge_known(value, result.get(key).unwrap_or(&Value::Null)),
                    )
                })
                .collect(),
        ),
        (Value::List(planned), Value::List(result)) if planned.len() == result.len() => {
            Value::List(
                planned
                    .iter()
                    .zip(result)
                    .map(|(planned, result)| merge_known(planned, result))
                    .collect(),
            )
        }
        (planned, _) => planned.clone(),
    }
}

/// A failed `ApplyResourceChange`, as Terraform is told.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyFailure {
    /// The diagnostic's summary.
    pub summary: String,
    /// Its detail, with the service's message verbatim.
    pub detail: String,
    /// The object to answer as the new state despite the error (a submitted run that failed:
    /// Terraform records it tainted), already reconciled with the plan.
    pub object: Option<ObjectValue>,
}

/// What one `ApplyResourceChange` asks for, decoded.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    /// The resource type.
    pub schema: &'a ResourceSchema,
    /// The prior object; `None` for a create.
    pub prior: Option<&'a ObjectValue>,
    /// The planned object; `None` for a removal.
    pub planned: Option<&'a ObjectValue>,
    /// The configuration (wholly known at apply time).
    pub config: Option<&'a ObjectValue>,
    /// The removal is the old half of a planned replacement (the private mark, [`crate::runs`]).
    pub replaced: bool,
}

/// Where an apply's calls go and what it may wait for.
pub struct ApplyContext<'a> {
    /// The configured target.
    pub target: &'a Target,
    /// The catalogue (the attachment guard lists computes of every kind).
    pub registry: &'a Registry,
    /// Terraform's working folder (a run's `source_dir` is relative to it).
    pub working_dir: &'a Path,
    /// Changes on `StopProvider`; long waits give up then.
    pub stop: watch::Receiver<u64>,
}

/// Applies one change through the engine's resource operations: the new object (`None` after a
/// removal), or the failure.
pub async fn apply(
    context: &ApplyContext<'_>,
    request: ApplyRequest<'_>,
) -> Result<Option<ObjectValue>, ApplyFailure> {
    let schema = request.schema;
    let observer = ProviderObserver {
        who: display_name(schema, request.planned.or(request.prior)),
        base_dir: context.working_dir,
        stop: context.stop.clone(),
    };
    let operation = Operation {
        cloud: &context.target.client,
        schema,
        observer: &observer,
    };
    match (request.prior, request.planned) {
        (Some(prior), None) => {
            let action = removal(schema, prior);
            let verb = match action {
                UnderlyingResourceAction::Detach => "detach",
                UnderlyingResourceAction::Delete => "delete",
            };
            let removal = if request.replaced && schema.keeps_replaced() {
                Removal::Replaced(action)
            } else {
                Removal::Destroy(action)
            };
            let removed = engine::resource::remove(operation, prior, removal)
                .await
                .map_err(|error| failure(&format!("Failed to {verb}"), schema, prior, error))?;
            tracing::info!("{}: {}", observer.who, removed.describe());
            Ok(None)
        }
        (None, Some(planned)) => {
            let config = request.config.unwrap_or(planned);
            let attach = engine::plan::is_attachment(schema, planned, true);
            let verb = if attach {
                "Failed to attach"
            } else {
                "Failed to create"
            };
            let desired = engine::resource::to_send(&observer.who, schema, planned, config)
                .map_err(|message| failure(verb, schema, planned, message.into()))?;
            if attach {
                wait_for_other_attachments(context, schema, &desired)
                    .await
                    .map_err(|detail| ApplyFailure {
                        summary: format!("{verb} {}", observer.who),
                        detail,
                        object: None,
                    })?;
            }
            match engine::resource::add(operation, &desired).await {
                Ok(object) => Ok(Some(reconcile(schema, planned, &object))),
                Err(error) => {
                    let object = error
                        .object
                        .as_ref()
                        .map(|object| reconcile(schema, planned, object));
                    Err(ApplyFailure {
                        object,
                        ..failure(verb, schema, &desired, error)
                    })
                }
            }
        }
        (Some(prior), Some(planned)) => {
            let config = request.config.unwrap_or(planned);
            let summary = "Failed to update";
            let kind = update_kind(schema, prior, config, context.working_dir);
            let desired = engine::resource::to_send(&observer.who, schema, planned, config)
                .map_err(|message| failure(summary, schema, prior, message.into()))?;
            let object = engine::resource::update(operation, prior, &kind, &desired)
                .await
                .map_err(|error| failure(summary, schema, prior, error))?;
            Ok(Some(reconcile(schema, planned, &object)))
        }
        (None, None) => Ok(None),
    }
}

fn failure(
    verb: &str,
    schema: &ResourceSchema,
    object: &ObjectValue,
    error: OperationError,
) -> ApplyFailure {
    ApplyFailure {
        summary: error
            .summary
            .unwrap_or_else(|| format!("{verb} {}", display_name(schema, Some(object)))),
        detail: error.message,
        object: None,
    }
}

/// Terraform runs a rename's create and delete in parallel: an attachment waits (bounded) until
/// no other attachment of its underlying resource exists ([`crate::attach_guard`]).
async fn wait_for_other_attachments(
    context: &ApplyContext<'_>,
    schema: &ResourceSchema,
    desired: &ObjectValue,
) -> Result<(), String> {
    let Some(workspace) = desired.get_str(&schema.api.parent_attribute) else {
        return Ok(());
    };
    let client = &context.target.client;
    crate::attach_guard::wait_until_alone(
        schema,
        desired,
        context.target.settings.attach_wait_timeout,
        crate::attach_guard::POLL_INTERVAL,
        context.stop.clone(),
        || list_objects(client, context.registry, workspace, Collection::Computes),
    )
    .await
    .map_err(|error| {
        let detail = error_chain(&error);
        match error.advice() {
            advice if advice.is_empty() => detail,
            advice => format!("{detail}.\n\n{advice}"),
        }
    })
}

/// A resource's name for diagnostics and logs.
pub fn display_name(schema: &ResourceSchema, object: Option<&ObjectValue>) -> String {
    let name = object
        .and_then(|object| object.get_str(&schema.api.name_attribute))
        .unwrap_or("?");
    format!("`{}` `{name}`", schema.type_name)
}

/// An operation's progress goes to the provider's log (Terraform shows it with `TF_LOG=info`);
/// long waits stop on `StopProvider`.
struct ProviderObserver<'a> {
    who: String,
    base_dir: &'a Path,
    stop: watch::Receiver<u64>,
}

impl Observer for ProviderObserver<'_> {
    fn event(&self, event: RunEvent) {
        crate::runs::log_event(&self.who, event);
    }

    fn base_dir(&self) -> &Path {
        self.base_dir
    }

    fn cancelled(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        let mut stop = self.stop.clone();
        stop.mark_unchanged();
        Box::pin(async move {
            if stop.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// What an apply of an existing object does.
pub fn update_kind(
    schema: &ResourceSchema,
    prior: &ObjectValue,
    config: &ObjectValue,
    base_dir: &Path,
) -> UpdateKind {
    // Write-only values are not compared (see the module doc); the rest decides.
    let planned = plan(schema, Some(prior), config, true, base_dir);
    match planned.change.action {
        Action::Update(kind) => kind,
        // Terraform asks for an update only when the planned object differs from the prior
        // one; a body write is then the safe answer.
        _ => UpdateKind {
            write: Some(WriteMethod::Put),
            actions: Vec::new(),
        },
    }
}

/// How a removal treats the underlying resource: attachments are detached (the VM, cluster or
/// workspace stays), everything else deleted.
pub fn removal(schema: &ResourceSchema, prior: &ObjectValue) -> UnderlyingResourceAction {
    if engine::plan::is_attachment(schema, prior, false) {
        UnderlyingResourceAction::Detach
    } else {
        UnderlyingResourceAction::Delete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        engine::schema::load_registry().expect("catalogue")
    }

    fn object(pairs: &[(&str, Value)]) -> ObjectValue {
        let mut object = ObjectValue::default();
        for (name, value) in pairs {
            object.set(name, value.clone());
        }
        object
    }

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

    fn to_send(
        schema: &ResourceSchema,
        planned: &ObjectValue,
        config: &ObjectValue,
    ) -> Result<ObjectValue, String> {
        engine::resource::to_send("this", schema, planned, config)
    }

    fn cluster_config(max: i64) -> ObjectValue {
        object(&[
            ("name", "cpu".into()),
            ("workspace_id", WS.into()),
            ("vm_size", "STANDARD_DS3_V2".into()),
            ("max_node_count", max.into()),
        ])
    }

    #[test]
    fn listings_are_the_resource_group_for_workspaces_and_the_workspace_for_computes() {
        let registry = registry();
        let workspace = registry.get("azureml_workspace").expect("workspace");
        let cluster = registry.get("azureml_compute_cluster").expect("cluster");
        assert_eq!(
            engine::refresh::parent_listing(workspace, WS),
            Some((
                "/subscriptions/s/resourcegroups/rg".to_owned(),
                Collection::Workspaces
            ))
        );
        let (parent, collection) =
            engine::refresh::parent_listing(cluster, &format!("{WS}/computes/cpu"))
                .expect("compute id");
        assert!(same_id(&parent, WS), "{parent}");
        assert_eq!(collection, Collection::Computes);
        assert_eq!(engine::refresh::parent_listing(cluster, "not an id"), None);
    }

    #[test]
    fn create_then_noop_then_patch_update() {
        let registry = registry();
        let schema = registry.get("azureml_compute_cluster").expect("cluster");
        let create = plan(schema, None, &cluster_config(4), false, Path::new("."));
        assert_eq!(create.change.action, Action::Create);
        assert_eq!(create.planned.get("id"), &Value::Unknown);
        assert!(create.requires_replace.is_empty());
        // What the service answers fills every unknown.
        let mut result = to_send(schema, &create.planned, &cluster_config(4)).expect("known");
        assert!(!result.0.values().any(Value::contains_unknown));
        result.set("id", format!("{WS}/computes/cpu").into());
        let state = reconcile(schema, &create.planned, &result);
        assert!(!state.0.values().any(Value::contains_unknown));
        assert_eq!(
            state.get_str("id"),
            Some(format!("{WS}/computes/cpu").as_str())
        );

        let same = plan(
            schema,
            Some(&state),
            &cluster_config(4),
            false,
            Path::new("."),
        );
        assert_eq!(same.change.action, Action::NoOp);
        assert_eq!(same.planned, state, "a no-op plans the prior object");
        let scaled = plan(
            schema,
            Some(&state),
            &cluster_config(8),
            false,
            Path::new("."),
        );
        assert_eq!(scaled.change.action, Action::Update(UpdateKind::patch()));
        assert_eq!(scaled.planned.get_str("id"), state.get_str("id"));
        assert_eq!(
            update_kind(schema, &state, &cluster_config(8), Path::new(".")),
            UpdateKind::patch()
        );
    }

    #[test]
    fn reattach_names_the_forcing_path_and_detaches() {
        let registry = registry();
        let schema = registry
            .get("azureml_attached_virtual_machine")
            .expect("attached VM");
        let vm = |name: &str| {
            format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}"
            )
        };
        let config = |resource: &str| {
            object(&[
                ("name", "vm".into()),
                ("workspace_id", WS.into()),
                ("resource_id", vm(resource).into()),
                ("admin_username", "azureuser".into()),
                ("ssh_private_key", "key".into()),
            ])
        };
        let create = plan(schema, None, &config("a"), true, Path::new("."));
        assert_eq!(create.change.action, Action::Attach);
        let mut state = to_send(schema, &create.planned, &config("a")).expect("known");
        state.set("id", format!("{WS}/computes/vm").into());
        let state = reconcile(schema, &create.planned, &state);
        assert_eq!(removal(schema, &state), UnderlyingResourceAction::Detach);
        // Terraform >= 1.11 stores no write-only value: a prior null key is not a change.
        let mut stored = state.clone();
        stored.set("ssh_private_key", Value::Null);
        assert_eq!(
            plan(schema, Some(&stored), &config("a"), true, Path::new("."))
                .change
                .action,
            Action::NoOp
        );
        let moved = plan(schema, Some(&state), &config("b"), false, Path::new("."));
        assert_eq!(moved.change.action, Action::Reattach);
        assert_eq!(moved.requires_replace, vec![AttrPath::attr("resource_id")]);
    }

    #[test]
    fn reconcile_keeps_known_planned_values_and_fills_unknowns() {
        let registry = registry();
        let schema = registry.get("azureml_workspace").expect("workspace");
        let planned = object(&[
            ("name", "w".into()),
            ("id", Value::Unknown),
            ("friendly_name", "planned".into()),
        ]);
        let result = object(&[
            ("name", "w".into()),
            ("id", WS.into()),
            ("friendly_name", "other".into()),
        ]);
        let state = reconcile(schema, &planned, &result);
        assert_eq!(state.get_str("id"), Some(WS));
        assert_eq!(state.get_str("friendly_name"), Some("planned"));
        assert_eq!(state.0.len(), schema.attributes.len());
    }
}
