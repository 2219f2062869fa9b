//! Managed resources and data sources over the engine: what `ReadResource`,
//! `PlanResourceChange`, `ApplyResourceChange` and `ReadDataSource` do once their values are
//! decoded. The engine decides (`engine::plan::plan_resource`); this module adapts its answers
//! to Terraform's rules (DESIGN §6, `terraform-plugin-protocol.md` §3):
//!
//! | RPC | engine | Terraform rule kept here |
//! |---|---|---|
//! | read | one cached list per parent and collection ([`crate::refresh`]); `from_arm`, the desired power `state` from `current_state`, `merge_sent` with the prior state | gone is null |
//! | plan | `engine::runs::fill_plan_time_values` (base: Terraform's working folder), then `plan_resource(schema, prior, config)` | no-op plans the prior object unchanged; `Replace`/`Reattach` answer the forcing paths as `requires_replace` |
//! | apply | environments and runs: [`crate::runs`]; the rest: create/attach (after the attachment guard), PUT/PATCH/actions by `UpdateKind`, delete or detach by `is_attachment`; `merge_sent` | the new object keeps every known planned value and is wholly known |
//! | data source | `resource_id` from name and parent, then GET | wholly known, never null |
//!
//! Write-only attributes with Terraform >= 1.11: Terraform stores none, so the prior object
//! holds null; a configured write-only value is sent on create and never compared (changing
//! it alone plans nothing, as Terraform's write-only contract says).

use std::collections::BTreeMap;
use std::path::Path;

use engine::addr::{AttrPath, ResourceAddr};
use engine::api::{ApiError, ArmId, ArmObject, CloudApi, UnderlyingResourceAction};
use engine::diag::Diagnostics;
use engine::plan::{Action, ResourceChange, ResourceOptions, UpdateKind, WriteMethod};
use engine::schema::{Attribute, Collection, Registry, ResourceSchema};
use engine::value::{ObjectValue, Value};

use crate::refresh::{ListKey, RefreshCache};

/// The key and parent id of the list call that holds the object with ARM id `id`.
pub fn listing_of(schema: &ResourceSchema, id: &str) -> Option<(String, Collection)> {
    let id = ArmId::parse(id).ok()?;
    let collection = schema.api.collection;
    let parent = match collection {
        Collection::Workspaces => ArmId::resource_group_id(id.subscription(), id.resource_group()?),
        // A version is listed with its container's versions.
        collection if collection.is_versioned() => id.ancestor(2)?,
        _ => id.ancestor(1)?,
    };
    Some((parent.as_str().to_owned(), collection))
}

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
    let Some((parent, collection)) = listing_of(schema, id) else {
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
    Ok(found.map(|object| read_back(schema, object, prior)))
}

fn same_id(left: &str, right: &str) -> bool {
    left.trim_end_matches('/')
        .eq_ignore_ascii_case(right.trim_end_matches('/'))
}

/// What the service holds, as `engine::refresh` reads it back: an action attribute (`state`) is
/// observed through its computed `current_<name>`, and values the service never returns come
/// from the prior object.
fn read_back(schema: &ResourceSchema, listed: &ObjectValue, prior: &ObjectValue) -> ObjectValue {
    let mut values = conform(&schema.attributes, listed);
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
    engine::apply::merge_sent(schema, values, prior)
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
/// derived `version`) are filled in first by `engine::runs::fill_plan_time_values`, reading a
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
    let diagnostics = engine::runs::fill_plan_time_values(schema, &addr, &mut desired, base_dir);
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

/// The object to send: the planned object, with values the plan did not know (and secrets,
/// which Terraform >= 1.11 keeps out of plans) from the configuration, which is wholly known at
/// apply time; computed values still unknown are left to the service.
pub fn to_send(
    schema: &ResourceSchema,
    planned: &ObjectValue,
    config: &ObjectValue,
) -> ObjectValue {
    let mut desired = planned.clone();
    for (name, attribute) in &schema.attributes {
        let planned_value = desired.get(name).clone();
        if attribute.presence.is_configurable()
            && (planned_value.contains_unknown() || attribute.sensitive || attribute.write_only)
        {
            let configured = config.get(name);
            if !configured.is_null() || planned_value.contains_unknown() {
                desired.set(name, configured.clone());
            }
        }
    }
    for value in desired.0.values_mut() {
        strip_unknown(value);
    }
    desired
}

fn strip_unknown(value: &mut Value) {
    match value {
        Value::Unknown => *value = Value::Null,
        Value::List(items) => items.iter_mut().for_each(strip_unknown),
        Value::Map(entries) => entries.values_mut().for_each(strip_unknown),
        _ => {}
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
        strip_unknown(&mut value);
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
            listing_of(workspace, WS),
            Some((
                "/subscriptions/s/resourceGroups/rg".to_owned(),
                Collection::Workspaces
            ))
        );
        let (parent, collection) =
            listing_of(cluster, &format!("{WS}/computes/cpu")).expect("compute id");
        assert!(same_id(&parent, WS), "{parent}");
        assert_eq!(collection, Collection::Computes);
        assert_eq!(listing_of(cluster, "not an id"), None);
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
        let mut result = to_send(schema, &create.planned, &cluster_config(4));
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
        let mut state = to_send(schema, &create.planned, &config("a"));
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
