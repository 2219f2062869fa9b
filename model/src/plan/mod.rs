//! The plan as a plain value, and planning one resource (STYLE §4). Everything here is pure: no
//! IO, no printing, no API. [`diff`] plans a whole configuration against state and the refreshed
//! actual objects; [`order`] turns a [`Plan`] into the steps apply runs.
//!
//! What each action does and what its `before`/`after` hold:
//!
//! | action     | API calls                                   | `before` | `after`  | Terraform actions      |
//! |------------|---------------------------------------------|----------|----------|------------------------|
//! | `NoOp`     | none                                        | object   | object   | `["no-op"]`            |
//! | `Create`   | PUT (Azure ML creates the resource)         | `None`   | object   | `["create"]`           |
//! | `Attach`   | PUT with the underlying resource id         | `None`   | object   | `["create"]`           |
//! | `Update`   | PUT and/or PATCH and/or POST actions        | object   | object   | `["update"]`           |
//! | `Delete`   | DELETE `?underlyingResourceAction=Delete`   | object   | `None`   | `["delete"]`           |
//! | `Detach`   | DELETE `?underlyingResourceAction=Detach`   | object   | `None`   | `["delete"]`           |
//! | `Replace`  | Delete, then Create (or Attach)             | object   | object   | `["delete","create"]`  |
//! | `Reattach` | Detach, then Attach                         | object   | object   | `["delete","create"]`  |
//! | `Read`     | GET (data sources)                          | `None`   | object   | `["read"]`             |
//!
//! `after` may contain [`Value::Unknown`] ("known after apply"). Write-only attributes hold the
//! configured plaintext in `after` (apply must send it); the state module digests them before
//! they are stored, and `before` holds what state holds (a digest, see [`crate::secret`]).
//!
//! Choosing the action of a resource in the configuration ([`plan_resource`]):
//!
//! | situation                                                   | action                  |
//! |-------------------------------------------------------------|-------------------------|
//! | no prior object                                             | `Create` / `Attach`     |
//! | `--replace`, or a changed `replace`/`reattach` attribute    | `Replace` / `Reattach`  |
//! | changed `put`/`patch`/`action` attributes only              | `Update` (PUT wins over PATCH) |
//! | nothing changed                                             | `NoOp`                  |
//!
//! `Reattach` is chosen when the prior object is an attachment (attach-only kinds, or an AKS
//! compute attached by `resource_id`); otherwise the old object is deleted (`Replace`).

pub mod diff;
pub mod identity;
pub mod order;
pub mod repetition;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::addr::{AttrPath, InstanceKey, PathStep, ResourceAddr};
use crate::schema::{
    AttrType, Attribute, Lifecycle as KindLifecycle, PlanRule, Presence, ResourceSchema, UpdateMode,
};
use crate::secret::{self, SecretKey};
use crate::value::{ObjectValue, Value};

pub use diff::{
    Actual, ActualObject, Desired, DesiredResource, DiffOptions, PriorObject, PriorState, diff,
};
pub use identity::ObjectKey;
pub use order::{ApplyGraph, OrderError, Scheduler, Step, StepKind};
pub use repetition::{
    Expansion, Move, MoveEndpoint, Moves, declared_moves, implied_moves, orphan_reason,
};

/// What apply does to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    NoOp,
    /// Azure ML creates the resource.
    Create,
    /// An existing resource is attached.
    Attach,
    /// Changed in place.
    Update(UpdateKind),
    /// The managed resource is deleted.
    Delete,
    /// The attachment is removed; the underlying resource is kept.
    Detach,
    /// Delete, then create (or attach) again.
    Replace,
    /// Detach (resource kept), then attach again.
    Reattach,
    /// A data source is read.
    Read,
}

/// How an in-place update reaches the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateKind {
    /// The body write, if any body attribute changed (PUT wins over PATCH: it sends everything).
    pub write: Option<WriteMethod>,
    /// POST actions to run after the write, in order (e.g. `stop`), from
    /// [`Attribute::actions`](crate::schema::Attribute::actions).
    pub actions: Vec<String>,
}

impl UpdateKind {
    /// A PUT of the whole resource.
    pub fn put() -> UpdateKind {
        UpdateKind {
            write: Some(WriteMethod::Put),
            actions: Vec::new(),
        }
    }

    /// A PATCH.
    pub fn patch() -> UpdateKind {
        UpdateKind {
            write: Some(WriteMethod::Patch),
            actions: Vec::new(),
        }
    }

    /// POST actions only.
    pub fn actions(names: &[&str]) -> UpdateKind {
        UpdateKind {
            write: None,
            actions: names.iter().map(|name| (*name).to_owned()).collect(),
        }
    }
}

/// The body write of an in-place update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMethod {
    /// PATCH with the patchable part only.
    Patch,
    /// PUT of the whole resource.
    Put,
}

impl Action {
    /// The action list of `terraform show -json` (`change.actions`).
    ///
    /// ```
    /// use model::plan::Action;
    /// assert_eq!(Action::Reattach.terraform_actions(), ["delete", "create"]);
    /// assert_eq!(Action::Attach.terraform_actions(), ["create"]);
    /// ```
    pub fn terraform_actions(&self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create | Action::Attach => &["create"],
            Action::Update(_) => &["update"],
            Action::Delete | Action::Detach => &["delete"],
            Action::Replace | Action::Reattach => &["delete", "create"],
            Action::Read => &["read"],
        }
    }

    /// True when apply has nothing to do.
    pub fn is_noop(&self) -> bool {
        matches!(self, Action::NoOp)
    }

    /// True when the action removes an object (delete, detach, or the first half of a replacement).
    pub fn removes(&self) -> bool {
        matches!(
            self,
            Action::Delete | Action::Detach | Action::Replace | Action::Reattach
        )
    }

    /// True when the action brings an object into being (create, attach, or the second half of a
    /// replacement).
    pub fn adds(&self) -> bool {
        matches!(
            self,
            Action::Create | Action::Attach | Action::Replace | Action::Reattach
        )
    }
}

/// Why a resource is replaced or deleted (`action_reason` of `terraform show -json`, plus one
/// reason Terraform leaves blank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// An attribute that cannot change in place changed (see `replace_paths`).
    ReplaceBecauseCannotUpdate,
    /// `--replace ADDR` asked for it.
    ReplaceByRequest,
    /// The resource is in state but no longer in the configuration.
    DeleteBecauseNoResourceConfig,
    /// The instance's key does not fit how the block repeats now (an index without `count`, a
    /// string key without `for_each`, no key with either).
    DeleteBecauseWrongRepetition,
    /// The index is not below the block's `count`.
    DeleteBecauseCountIndex,
    /// The key is not one of the block's `for_each` keys.
    DeleteBecauseEachKey,
    /// The object was deleted or detached outside this tool; it is created (attached) again.
    RecreateBecauseGone,
    /// An immutable object (an environment version, a run) changed: a new one is created and the
    /// old one is kept (see `replace_paths`).
    NewObjectKeepsOld,
}

impl ChangeReason {
    /// The `action_reason` string of `terraform show -json`, if Terraform has one.
    pub fn terraform_reason(self) -> Option<&'static str> {
        match self {
            ChangeReason::ReplaceBecauseCannotUpdate => Some("replace_because_cannot_update"),
            ChangeReason::ReplaceByRequest => Some("replace_by_request"),
            ChangeReason::DeleteBecauseNoResourceConfig => {
                Some("delete_because_no_resource_config")
            }
            ChangeReason::DeleteBecauseWrongRepetition => Some("delete_because_wrong_repetition"),
            ChangeReason::DeleteBecauseCountIndex => Some("delete_because_count_index"),
            ChangeReason::DeleteBecauseEachKey => Some("delete_because_each_key"),
            ChangeReason::RecreateBecauseGone => None,
            ChangeReason::NewObjectKeepsOld => Some("replace_because_cannot_update"),
        }
    }
}

/// One attachment of an underlying resource in a workspace, as far as it is known at plan time.
/// Values are lowercased (ARM ids are case-insensitive); `None` means unknown until apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttachmentKey {
    /// The workspace's ARM id.
    pub workspace: Option<String>,
    /// The attachment identity (`api.attachment_identity`), by attribute name: the underlying
    /// resource id, plus the namespace for Kubernetes.
    pub identity: BTreeMap<String, Option<String>>,
}

impl AttachmentKey {
    /// The key of an attachment object of `schema`, or `None` when the object is not an
    /// attachment (a created kind, or an AKS compute Azure ML created).
    pub fn of(
        schema: &ResourceSchema,
        values: &ObjectValue,
        created_by_plan: bool,
    ) -> Option<AttachmentKey> {
        if !is_attachment(schema, values, created_by_plan) {
            return None;
        }
        AttachmentKey::from_values(schema, values)
    }

    /// The key of `values` read as an attachment, whatever the object is; `None` only for kinds
    /// that cannot attach.
    pub fn from_values(schema: &ResourceSchema, values: &ObjectValue) -> Option<AttachmentKey> {
        if !schema.can_attach() {
            return None;
        }
        let text = |value: &Value| match value {
            Value::String(text) => Some(text.to_ascii_lowercase()),
            Value::Null => Some(String::new()),
            _ => None,
        };
        Some(AttachmentKey {
            workspace: text(values.get(&schema.api.parent_attribute)),
            identity: schema
                .api
                .attachment_identity
                .iter()
                .map(|name| (name.clone(), text(values.get(name))))
                .collect(),
        })
    }

    /// True when both keys may name the same attachment: unknown parts match anything, and
    /// identity attributes only one side has are not compared (an AKS inference attachment and a
    /// Kubernetes attachment of the same cluster may conflict).
    ///
    /// ```
    /// use model::plan::AttachmentKey;
    /// let key = |ws: Option<&str>, id: Option<&str>| AttachmentKey {
    ///     workspace: ws.map(str::to_owned),
    ///     identity: [("resource_id".to_owned(), id.map(str::to_owned))].into(),
    /// };
    /// assert!(key(Some("w"), Some("vm")).may_equal(&key(Some("w"), None)));
    /// assert!(!key(Some("w"), Some("vm")).may_equal(&key(Some("w"), Some("other"))));
    /// ```
    pub fn may_equal(&self, other: &AttachmentKey) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        same(&self.workspace, &other.workspace)
            && self.identity.iter().all(|(name, value)| {
                other
                    .identity
                    .get(name)
                    .is_none_or(|theirs| same(value, theirs))
            })
    }

    /// True when every part is known.
    pub fn is_known(&self) -> bool {
        self.workspace.is_some() && self.identity.values().all(Option::is_some)
    }
}

/// Whether `values` of `schema` describe an attachment (rather than a resource Azure ML creates).
/// `created_by_plan`: the object is the planned new one (an AKS is attached when `resource_id`
/// is configured); otherwise it is a stored or read object (where the service fills in
/// `resource_id` for clusters it created, so `is_attached_compute` decides when present).
pub fn is_attachment(schema: &ResourceSchema, values: &ObjectValue, created_by_plan: bool) -> bool {
    match schema.api.lifecycle {
        KindLifecycle::Create => false,
        KindLifecycle::Attach => true,
        KindLifecycle::CreateOrAttach => {
            if !created_by_plan && let Some(flag) = values.get("is_attached_compute").as_bool() {
                return flag;
            }
            let underlying = schema
                .api
                .underlying_attribute
                .as_deref()
                .unwrap_or_default();
            !values.get(underlying).is_null()
        }
    }
}

/// The planned change of one resource instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// The resource (its type is `addr.resource_type`).
    pub addr: ResourceAddr,
    /// What apply does.
    pub action: Action,
    /// The prior object (state, refreshed); `None` when there is none.
    #[serde(with = "object_serde")]
    pub before: Option<ObjectValue>,
    /// The planned object; `None` for removals. May contain unknowns.
    #[serde(with = "object_serde")]
    pub after: Option<ObjectValue>,
    /// The attributes that force a replacement. Display only: apply never reads it.
    pub replace_paths: Vec<AttrPath>,
    /// Why the resource is replaced, re-created or deleted.
    pub reason: Option<ChangeReason>,
    /// Managed resources this one depends on (configuration edges for adds and updates, the
    /// recorded state dependencies for removals, both for replacements). Apply orders by these.
    pub depends_on: Vec<ResourceAddr>,
    /// For `Replace`: create the new object before deleting the old one. Never set for
    /// attachments (the plan refuses it).
    pub create_before_destroy: bool,
    /// The attachment the prior object is, if it is one (removal steps free it).
    pub before_attachment: Option<AttachmentKey>,
    /// The attachment the planned object is, if it is one (add steps take it).
    pub after_attachment: Option<AttachmentKey>,
    /// The ARM object the prior object is (removal and update steps touch it).
    #[serde(default)]
    pub before_object: Option<ObjectKey>,
    /// The ARM object the planned object is (add and update steps touch it); `None` for a new
    /// object whose name the service generates.
    #[serde(default)]
    pub after_object: Option<ObjectKey>,
    /// The ARM id an `import` block adopts the object from (its state entry is written by
    /// apply first; see [`Plan::imports`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importing: Option<String>,
    /// Top-level attributes set from sensitive values (a sensitive variable, `sensitive()`),
    /// shown as the schema's secrets are: `(sensitive value)`. See [`ResourceChange::view`].
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sensitive: BTreeSet<String>,
    /// The address the object had in state before an implied move (`x[0]` → `x` when `count` is
    /// removed, see [`repetition`]); `None` when it did not move. Terraform's `previous_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_addr: Option<ResourceAddr>,
    /// The root module's provider configuration the object belongs to: `None` for the default
    /// one, else its alias (`provider = azureml.prod`). Apply sends its calls there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl ResourceChange {
    /// A change with no attachment keys, edges or reason (tests and hand-built plans).
    ///
    /// ```
    /// use model::{addr::ResourceAddr, plan::{Action, ResourceChange}};
    /// let change = ResourceChange::new(ResourceAddr::managed("azureml_workspace", "w"), Action::Create);
    /// assert!(change.before.is_none());
    /// ```
    pub fn new(addr: ResourceAddr, action: Action) -> ResourceChange {
        ResourceChange {
            addr,
            action,
            before: None,
            after: None,
            replace_paths: Vec::new(),
            reason: None,
            depends_on: Vec::new(),
            create_before_destroy: false,
            before_attachment: None,
            after_attachment: None,
            before_object: None,
            after_object: None,
            previous_addr: None,
            provider: None,
            importing: None,
            sensitive: BTreeSet::new(),
        }
    }

    /// The schema as the change is shown: `schema` with the attributes of
    /// [`ResourceChange::sensitive`] marked sensitive (borrowed when there are none).
    pub fn view<'s>(&self, schema: &'s ResourceSchema) -> std::borrow::Cow<'s, ResourceSchema> {
        schema.with_sensitive(&self.sensitive)
    }

    /// One sentence saying why the action was chosen, for humans; `None` for plain creates,
    /// updates and no-ops. `schema` (this change's type) words an immutable kind's new object.
    pub fn describe_reason(&self, schema: Option<&ResourceSchema>) -> Option<String> {
        let paths = self
            .replace_paths
            .iter()
            .map(|path| format!("`{path}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let reason = self.reason?;
        Some(match (reason, &self.action) {
            (ChangeReason::ReplaceByRequest, Action::Reattach) => {
                "detached and attached again, as requested with --replace".to_owned()
            }
            (ChangeReason::ReplaceByRequest, _) => {
                "replaced, as requested with --replace".to_owned()
            }
            (ChangeReason::ReplaceBecauseCannotUpdate, Action::Reattach) => format!(
                "{paths} cannot change on an attachment: it must be detached (resource kept) and attached again"
            ),
            (ChangeReason::ReplaceBecauseCannotUpdate, _) => {
                format!("{paths} cannot change in place: the resource must be replaced")
            }
            (ChangeReason::DeleteBecauseNoResourceConfig, Action::Detach) => {
                "not in the configuration any more: it is detached (resource kept)".to_owned()
            }
            (ChangeReason::DeleteBecauseNoResourceConfig, _) => {
                "not in the configuration any more".to_owned()
            }
            (
                ChangeReason::DeleteBecauseWrongRepetition
                | ChangeReason::DeleteBecauseCountIndex
                | ChangeReason::DeleteBecauseEachKey,
                action,
            ) => {
                // Terraform's wording of the three (`terraform plan`'s "because ..." line).
                let why = match (reason, &self.addr.key) {
                    (ChangeReason::DeleteBecauseCountIndex, Some(InstanceKey::Index(index))) => {
                        format!("index [{index}] is out of range for count")
                    }
                    (ChangeReason::DeleteBecauseEachKey, Some(InstanceKey::Key(key))) => {
                        format!("key [{key:?}] is not in for_each map")
                    }
                    (_, Some(InstanceKey::Index(_))) => "resource does not use count".to_owned(),
                    (_, Some(InstanceKey::Key(_))) => "resource does not use for_each".to_owned(),
                    (_, None) => "resource uses count or for_each".to_owned(),
                };
                if *action == Action::Detach {
                    format!("{why}: it is detached (resource kept)")
                } else {
                    why
                }
            }
            (ChangeReason::NewObjectKeepsOld, _) => {
                let consequence = schema
                    .and_then(|schema| schema.api.immutable.as_ref())
                    .map_or(
                        "a new object is created; the old one is kept",
                        |immutable| immutable.reason.as_str(),
                    );
                format!("{paths} changed: {consequence}")
            }
            (ChangeReason::RecreateBecauseGone, Action::Attach) => {
                "no longer attached (detached outside this configuration)".to_owned()
            }
            (ChangeReason::RecreateBecauseGone, _) => {
                "no longer exists (deleted outside this configuration)".to_owned()
            }
        })
    }
}

/// A whole plan: what apply will do, and what refresh found changed outside.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// One change per resource instance in configuration or state, sorted by address (no-ops
    /// included, so renderers can count them).
    pub changes: Vec<ResourceChange>,
    /// Differences between state and the refreshed actual objects (`resource_drift`): `Update`
    /// with before = state and after = actual, or `Delete` when the object is gone. Sorted by
    /// address.
    pub drift: Vec<ResourceChange>,
    /// Planned with `--refresh-only`: `changes` is empty and apply only records `drift`.
    pub refresh_only: bool,
    /// Planned by `destroy`.
    pub destroy: bool,
    /// Root outputs whose saved value changes, sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputChange>,
    /// How many configured objects of each other provider the plan leaves to Terraform (their
    /// values were read from the state).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_to_terraform: BTreeMap<String, usize>,
    /// Objects a `removed` block (`destroy = false`) takes out of the state; the objects are
    /// kept. Apply forgets them before any operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forgotten: Vec<ResourceAddr>,
    /// Objects `import` blocks bring under management: read at plan time, recorded in the
    /// state by apply before any operation (the plan's change of each is from this object).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<Import>,
}

/// One object an `import` block adopts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Import {
    /// The address it is recorded under.
    pub addr: ResourceAddr,
    /// Its ARM id.
    pub id: String,
    /// The object as read.
    #[serde(with = "object_serde")]
    pub object: Option<ObjectValue>,
}

/// A root output whose value in state changes (Terraform's "Changes to Outputs").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    /// The output's name.
    pub name: String,
    /// The saved value; `None` when none is saved.
    #[serde(
        default,
        serialize_with = "object_serde::serialize_value",
        deserialize_with = "object_serde::deserialize_value"
    )]
    pub before: Option<Value>,
    /// The planned value (possibly unknown); `None` when the output goes away.
    #[serde(
        default,
        serialize_with = "object_serde::serialize_value",
        deserialize_with = "object_serde::deserialize_value"
    )]
    pub after: Option<Value>,
    /// Declared `sensitive` (before or after): values are never shown.
    pub sensitive: bool,
}

impl OutputChange {
    /// `create`, `update` or `delete`.
    pub fn action(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, _) => "create",
            (Some(_), None) => "delete",
            (Some(_), Some(_)) => "update",
        }
    }
}

/// The root outputs whose saved value changes: `saved` is the state's `outputs` JSON
/// (`{name: {value, type, sensitive?}}`), `planned` the evaluated outputs (name, value,
/// sensitive; `None` for all of them when destroying). Values are compared, not types (a
/// `list(string)` Terraform saved and the tuple amlplan evaluates are the same output). An
/// unknown value is always a change; a null one is no output.
///
/// ```
/// use model::{plan::output_changes, value::Value};
/// let saved = serde_json::json!({"a": {"value": "x", "type": "string"}});
/// let saved = saved.as_object().unwrap();
/// let same = output_changes(saved, Some(&[("a".to_owned(), Value::from("x"), false)]));
/// assert!(same.is_empty());
/// let changed = output_changes(saved, Some(&[("a".to_owned(), Value::from("y"), false)]));
/// assert_eq!(changed[0].action(), "update");
/// assert_eq!(output_changes(saved, None)[0].action(), "delete");
/// ```
pub fn output_changes(
    saved: &serde_json::Map<String, serde_json::Value>,
    planned: Option<&[(String, Value, bool)]>,
) -> Vec<OutputChange> {
    let saved_value = |name: &str| {
        saved
            .get(name)
            .and_then(|entry| entry.get("value"))
            .map(Value::from_json)
    };
    let saved_sensitive = |name: &str| {
        saved
            .get(name)
            .and_then(|entry| entry.get("sensitive"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let planned = planned.unwrap_or_default();
    let mut changes: Vec<OutputChange> = planned
        .iter()
        .filter(|(_, value, _)| !value.is_null())
        .filter_map(|(name, value, sensitive)| {
            let before = saved_value(name);
            let unchanged = before.as_ref() == Some(value) && !value.contains_unknown();
            (!unchanged).then(|| OutputChange {
                name: name.clone(),
                before,
                after: Some(value.clone()),
                sensitive: *sensitive || saved_sensitive(name),
            })
        })
        .collect();
    for name in saved.keys() {
        let still = planned
            .iter()
            .any(|(planned, value, _)| planned == name && !value.is_null());
        if !still {
            changes.push(OutputChange {
                name: name.clone(),
                before: saved_value(name),
                after: None,
                sensitive: saved_sensitive(name),
            });
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    changes
}

impl Plan {
    /// True when apply would do anything.
    pub fn has_changes(&self) -> bool {
        // As Terraform's `Changes.Empty`: a move alone is a change (it is saved by apply), and
        // so is a root output's new value.
        self.changes
            .iter()
            .any(|change| !change.action.is_noop() || change.previous_addr.is_some())
            || (self.refresh_only && !self.drift.is_empty())
            || (!self.refresh_only && !self.outputs.is_empty())
            || !self.forgotten.is_empty()
            || !self.imports.is_empty()
    }

    /// The change of `addr`, if any.
    pub fn change(&self, addr: &ResourceAddr) -> Option<&ResourceChange> {
        self.changes.iter().find(|change| &change.addr == addr)
    }
}

/// `lifecycle { ignore_changes = ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreChanges {
    /// Every attribute is compared.
    #[default]
    Nothing,
    /// Changes at these paths (and below) are ignored.
    Paths(Vec<AttrPath>),
    /// `ignore_changes = all`.
    All,
}

/// The `lifecycle` block of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleOptions {
    /// Refuse plans that delete or replace the resource.
    pub prevent_destroy: bool,
    /// Create the replacement before deleting the old object (created kinds only).
    pub create_before_destroy: bool,
    /// Attributes whose changes are ignored.
    pub ignore_changes: IgnoreChanges,
}

/// Options of [`plan_resource`].
#[derive(Debug, Clone, Default)]
pub struct ResourceOptions<'a> {
    /// The resource's `lifecycle` block.
    pub lifecycle: LifecycleOptions,
    /// The state's secret key, to compare write-only values with stored digests. Without it a
    /// stored digest never matches (a change is planned rather than hidden).
    pub secret_key: Option<&'a SecretKey>,
    /// `--replace`: replace (or re-attach) even when nothing changed.
    pub force_replace: bool,
}

/// Plans one resource instance: proposes the new object from the configured values, defaults
/// and prior computed values, compares it with the prior object by schema, and chooses the
/// action (see the module table). `prior` is the refreshed object (secrets as stored digests);
/// `None` plans a creation. `depends_on` is left empty for the caller to fill.
///
/// ```
/// use model::{addr::ResourceAddr, plan::{plan_resource, Action, ResourceOptions, UpdateKind}, value::ObjectValue};
/// let registry = model::schema::load_registry().unwrap();
/// let schema = registry.get("azureml_compute_cluster").unwrap();
/// let addr = ResourceAddr::managed("azureml_compute_cluster", "cpu");
/// let mut desired = ObjectValue::default();
/// for (name, value) in [("name", "cpu"), ("workspace_id", "/ws"), ("vm_size", "STANDARD_DS3_V2")] {
///     desired.set(name, value.into());
/// }
/// desired.set("max_node_count", 4.into());
/// let create = plan_resource(schema, &addr, None, &desired, &ResourceOptions::default());
/// assert_eq!(create.action, Action::Create);
/// let mut prior = create.after.clone().unwrap();
/// // What the service filled in (state never holds unknowns).
/// prior.set("location", "westeurope".into());
/// prior.set("remote_login_port_public_access", "Enabled".into());
/// desired.set("max_node_count", 8.into());
/// let update = plan_resource(schema, &addr, Some(&prior), &desired, &ResourceOptions::default());
/// assert_eq!(update.action, Action::Update(UpdateKind::patch()));
/// ```
pub fn plan_resource(
    schema: &ResourceSchema,
    addr: &ResourceAddr,
    prior: Option<&ObjectValue>,
    desired: &ObjectValue,
    options: &ResourceOptions<'_>,
) -> ResourceChange {
    let prior_map = prior.map(|object| &object.0);
    let mut from_prior = Vec::new();
    let mut after = propose(&schema.attributes, &desired.0, prior_map, &mut from_prior);

    if let Some(prior) = prior {
        apply_ignore_changes(schema, &options.lifecycle.ignore_changes, prior, &mut after);
    }

    let mut change = ResourceChange::new(addr.clone(), Action::NoOp);
    change.create_before_destroy = options.lifecycle.create_before_destroy;
    let Some(prior) = prior else {
        fill_computed(&schema.attributes, &mut after, None, &Action::Create);
        let after = ObjectValue(after);
        let attach = is_attachment(schema, desired, true);
        change.action = if attach {
            Action::Attach
        } else {
            Action::Create
        };
        change.after_attachment = attach
            .then(|| AttachmentKey::from_values(schema, &after))
            .flatten();
        change.after_object = ObjectKey::of(schema, &after);
        change.after = Some(after);
        return change;
    };

    let mut differences = Vec::new();
    collect_differences(
        &schema.attributes,
        &after,
        &prior.0,
        &AttrPath::default(),
        options.secret_key,
        &mut differences,
    );

    let prior_is_attachment = is_attachment(schema, prior, false);
    let replacement = if prior_is_attachment {
        Action::Reattach
    } else {
        Action::Replace
    };
    let forcing: Vec<AttrPath> = differences
        .iter()
        .filter(|(_, mode)| mode.forces_new())
        .map(|(path, _)| path.clone())
        .collect();
    change.action = if options.force_replace {
        change.reason = Some(ChangeReason::ReplaceByRequest);
        replacement
    } else if !forcing.is_empty() {
        change.reason = Some(ChangeReason::ReplaceBecauseCannotUpdate);
        change.replace_paths = forcing;
        replacement
    } else if differences.is_empty() {
        Action::NoOp
    } else {
        let mut kind = UpdateKind::default();
        for (path, mode) in &differences {
            match mode {
                UpdateMode::Put => kind.write = Some(WriteMethod::Put),
                UpdateMode::Patch => kind.write = kind.write.max(Some(WriteMethod::Patch)),
                UpdateMode::Action => {
                    let name = path.root().unwrap_or_default();
                    let target = after.get(name).and_then(Value::as_str).unwrap_or_default();
                    if let Some(action) = schema
                        .attribute(name)
                        .and_then(|attribute| attribute.actions.get(target))
                        && !kind.actions.contains(action)
                    {
                        kind.actions.push(action.clone());
                    }
                }
                UpdateMode::Replace | UpdateMode::Reattach | UpdateMode::None => {}
            }
        }
        Action::Update(kind)
    };

    if change.action == Action::Replace && schema.keeps_replaced() {
        // Immutable objects: the new one is created first and the old one is kept (apply's
        // removal step only forgets it).
        change.create_before_destroy = true;
        if change.reason == Some(ChangeReason::ReplaceBecauseCannotUpdate) {
            change.reason = Some(ChangeReason::NewObjectKeepsOld);
        }
    }
    if matches!(change.action, Action::Replace | Action::Reattach) {
        // The new object is a new object: values the service filled in for the old one are not
        // known for it.
        for name in &from_prior {
            after.insert(name.clone(), Value::Unknown);
        }
    }
    fill_computed(
        &schema.attributes,
        &mut after,
        Some(&prior.0),
        &change.action,
    );
    let after = ObjectValue(after);
    change.before_attachment = AttachmentKey::of(schema, prior, false);
    // The planned object is an attachment when the configuration attaches it, or when the
    // existing attachment stays (an AKS whose `resource_id` is left to the prior value).
    let attach = is_attachment(schema, desired, true)
        || (prior_is_attachment && matches!(change.action, Action::NoOp | Action::Update(_)));
    change.after_attachment = attach
        .then(|| AttachmentKey::from_values(schema, &after))
        .flatten();
    change.before_object = ObjectKey::of(schema, prior);
    change.after_object = ObjectKey::of(schema, &after);
    change.before = Some(prior.clone());
    change.after = Some(after);
    change
}

/// The proposed values of configurable attributes: configured value, else default, else (for
/// optional+computed ones) the prior value, else unknown when the service will choose. Computed
/// attributes are left for [`fill_computed`]. Top-level names taken from prior go to `from_prior`.
fn propose(
    attributes: &BTreeMap<String, Attribute>,
    config: &BTreeMap<String, Value>,
    prior: Option<&BTreeMap<String, Value>>,
    from_prior: &mut Vec<String>,
) -> BTreeMap<String, Value> {
    let mut proposed = BTreeMap::new();
    for (name, attribute) in attributes {
        if !attribute.presence.is_configurable() {
            continue;
        }
        let configured = config.get(name).cloned().unwrap_or(Value::Null);
        let prior_value = prior.and_then(|prior| prior.get(name));
        let value = match configured {
            Value::Null => match (&attribute.default, attribute.presence) {
                (Some(default), _) => default.clone(),
                (None, Presence::OptionalComputed) => match prior_value {
                    Some(value) if !value.is_null() => {
                        from_prior.push(name.clone());
                        value.clone()
                    }
                    _ if prior.is_some() => Value::Null,
                    _ => Value::Unknown,
                },
                _ => Value::Null,
            },
            other => propose_nested(&attribute.ty, other, prior_value),
        };
        proposed.insert(name.clone(), value);
    }
    proposed
}

/// Applies nested defaults inside objects, lists of objects and maps of objects.
fn propose_nested(ty: &AttrType, value: Value, prior: Option<&Value>) -> Value {
    let Some(nested) = ty.nested_attributes() else {
        return value;
    };
    let object = |entries: BTreeMap<String, Value>, prior: Option<&Value>| {
        let prior = prior.and_then(Value::as_map);
        let mut ignored = Vec::new();
        let mut proposed = propose(nested, &entries, prior, &mut ignored);
        fill_computed(nested, &mut proposed, prior, &Action::NoOp);
        Value::Map(proposed)
    };
    match (ty, value) {
        (AttrType::Object(_), Value::Map(entries)) => object(entries, prior),
        (AttrType::List(_), Value::List(items)) => Value::List(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::Map(entries) => object(
                        entries,
                        prior
                            .and_then(Value::as_list)
                            .and_then(|list| list.get(index)),
                    ),
                    other => other,
                })
                .collect(),
        ),
        (AttrType::Map(_), Value::Map(elements)) => Value::Map(
            elements
                .into_iter()
                .map(|(key, element)| {
                    let value = match element {
                        Value::Map(entries) => object(
                            entries,
                            prior.and_then(Value::as_map).and_then(|map| map.get(&key)),
                        ),
                        other => other,
                    };
                    (key, value)
                })
                .collect(),
        ),
        (_, other) => other,
    }
}

/// Sets computed attributes: the prior value when nothing changes or the attribute keeps it
/// (`use_state_for_unknown` on an in-place update), unknown otherwise.
fn fill_computed(
    attributes: &BTreeMap<String, Attribute>,
    values: &mut BTreeMap<String, Value>,
    prior: Option<&BTreeMap<String, Value>>,
    action: &Action,
) {
    for (name, attribute) in attributes {
        if attribute.presence != Presence::Computed {
            continue;
        }
        let prior_value = prior.and_then(|prior| prior.get(name)).cloned();
        let keep = match action {
            Action::NoOp => true,
            Action::Update(_) => attribute.on_plan.contains(&PlanRule::UseStateForUnknown),
            _ => false,
        };
        let value = match (keep, prior_value) {
            (true, Some(value)) => value,
            (true, None) if prior.is_some() => Value::Null,
            _ => Value::Unknown,
        };
        values.insert(name.clone(), value);
    }
}

/// `ignore_changes`: the ignored paths keep their prior values.
fn apply_ignore_changes(
    schema: &ResourceSchema,
    ignore: &IgnoreChanges,
    prior: &ObjectValue,
    after: &mut BTreeMap<String, Value>,
) {
    match ignore {
        IgnoreChanges::Nothing => {}
        IgnoreChanges::All => {
            for (name, attribute) in &schema.attributes {
                if attribute.presence.is_configurable() {
                    after.insert(name.clone(), prior.get(name).clone());
                }
            }
        }
        IgnoreChanges::Paths(paths) => {
            for path in paths {
                let prior_value = value_at(&prior.0, path).cloned().unwrap_or(Value::Null);
                set_at(after, path, prior_value);
            }
        }
    }
}

/// The value at `path` inside an object, if present.
pub fn value_at<'v>(object: &'v BTreeMap<String, Value>, path: &AttrPath) -> Option<&'v Value> {
    let mut steps = path.0.iter();
    let mut current = match steps.next()? {
        PathStep::Attr(name) | PathStep::Key(name) => object.get(name)?,
        PathStep::Index(_) => return None,
    };
    for step in steps {
        current = match (step, current) {
            (PathStep::Attr(name) | PathStep::Key(name), Value::Map(entries)) => {
                entries.get(name)?
            }
            (PathStep::Index(index), Value::List(items)) => {
                items.get(usize::try_from(*index).ok()?)?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// Sets the value at `path`, creating intermediate objects; a path through a list element that
/// does not exist is left alone.
fn set_at(object: &mut BTreeMap<String, Value>, path: &AttrPath, value: Value) {
    let Some((first, rest)) = path.0.split_first() else {
        return;
    };
    let (PathStep::Attr(name) | PathStep::Key(name)) = first else {
        return;
    };
    if rest.is_empty() {
        object.insert(name.clone(), value);
        return;
    }
    let slot = object.entry(name.clone()).or_insert(Value::Null);
    set_in_value(slot, rest, value);
}

fn set_in_value(slot: &mut Value, path: &[PathStep], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    match first {
        PathStep::Attr(name) | PathStep::Key(name) => {
            if !matches!(slot, Value::Map(_)) {
                if value.is_null() {
                    return;
                }
                *slot = Value::Map(BTreeMap::new());
            }
            if let Value::Map(entries) = slot {
                let inner = entries.entry(name.clone()).or_insert(Value::Null);
                set_in_value(inner, rest, value);
            }
        }
        PathStep::Index(index) => {
            if let Value::List(items) = slot
                && let Some(inner) = usize::try_from(*index)
                    .ok()
                    .and_then(|index| items.get_mut(index))
            {
                set_in_value(inner, rest, value);
            }
        }
    }
}

/// The configurable attributes whose planned value differs from the prior one, with the update
/// mode of each. Objects are compared member by member (members have their own modes); lists and
/// maps as a whole.
fn collect_differences(
    attributes: &BTreeMap<String, Attribute>,
    after: &BTreeMap<String, Value>,
    prior: &BTreeMap<String, Value>,
    base: &AttrPath,
    key: Option<&SecretKey>,
    out: &mut Vec<(AttrPath, UpdateMode)>,
) {
    static NULL: Value = Value::Null;
    for (name, attribute) in attributes {
        if !attribute.presence.is_configurable() {
            continue;
        }
        let path = base.join(PathStep::Attr(name.clone()));
        let planned = after.get(name).unwrap_or(&NULL);
        let stored = prior.get(name).unwrap_or(&NULL);
        match (&attribute.ty, stored, planned) {
            (AttrType::Object(nested), Value::Map(stored), Value::Map(planned))
                if !(attribute.sensitive || attribute.write_only) =>
            {
                collect_differences(nested, planned, stored, &path, key, out);
            }
            _ => {
                if !same_value(
                    &attribute.ty,
                    attribute.sensitive || attribute.write_only,
                    stored,
                    planned,
                    key,
                ) {
                    out.push((path, attribute.update));
                }
            }
        }
    }
}

/// Whether a stored value stands for a planned one. Secrets compare by digest; unknown equals
/// nothing; objects compare over their schema members (a missing member is null).
fn same_value(
    ty: &AttrType,
    secret: bool,
    stored: &Value,
    planned: &Value,
    key: Option<&SecretKey>,
) -> bool {
    if secret {
        return secret::value_matches(key, stored, planned);
    }
    match (ty, stored, planned) {
        (_, _, Value::Unknown) | (_, Value::Unknown, _) => false,
        (AttrType::Object(nested), Value::Map(stored), Value::Map(planned)) => {
            nested.iter().all(|(name, attribute)| {
                let stored = stored.get(name).unwrap_or(&Value::Null);
                let planned = planned.get(name).unwrap_or(&Value::Null);
                attribute.presence == Presence::Computed
                    || same_value(
                        &attribute.ty,
                        attribute.sensitive || attribute.write_only,
                        stored,
                        planned,
                        key,
                    )
            })
        }
        (AttrType::List(element), Value::List(stored), Value::List(planned)) => {
            stored.len() == planned.len()
                && stored
                    .iter()
                    .zip(planned)
                    .all(|(stored, planned)| same_value(element, false, stored, planned, key))
        }
        (AttrType::Map(element), Value::Map(stored), Value::Map(planned)) => {
            stored.len() == planned.len()
                && stored.iter().all(|(name, stored)| {
                    planned
                        .get(name)
                        .is_some_and(|planned| same_value(element, false, stored, planned, key))
                })
        }
        (_, stored, planned) => stored == planned,
    }
}

/// Serde for `Option<ObjectValue>` in plan files: values are externally tagged
/// (`{"string": "x"}`, `"unknown"`), so an unknown can never be confused with a map.
mod object_serde {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::value::{Number, ObjectValue, Value};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Repr {
        Null,
        Bool(bool),
        Number(Number),
        String(String),
        List(Vec<Repr>),
        Map(BTreeMap<String, Repr>),
        Unknown,
    }

    fn to_repr(value: &Value) -> Repr {
        match value {
            Value::Null => Repr::Null,
            Value::Bool(flag) => Repr::Bool(*flag),
            Value::Number(number) => Repr::Number(*number),
            Value::String(text) => Repr::String(text.clone()),
            Value::List(items) => Repr::List(items.iter().map(to_repr).collect()),
            Value::Map(entries) => Repr::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), to_repr(v)))
                    .collect(),
            ),
            Value::Unknown => Repr::Unknown,
        }
    }

    fn from_repr(repr: Repr) -> Value {
        match repr {
            Repr::Null => Value::Null,
            Repr::Bool(flag) => Value::Bool(flag),
            Repr::Number(number) => Value::Number(number),
            Repr::String(text) => Value::String(text),
            Repr::List(items) => Value::List(items.into_iter().map(from_repr).collect()),
            Repr::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, from_repr(v)))
                    .collect(),
            ),
            Repr::Unknown => Value::Unknown,
        }
    }

    pub fn serialize<S: Serializer>(
        value: &Option<ObjectValue>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .map(|object| {
                object
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), to_repr(v)))
                    .collect::<BTreeMap<_, _>>()
            })
            .serialize(serializer)
    }

    /// [`serialize`] for one optional value (an output's).
    pub fn serialize_value<S: Serializer>(
        value: &Option<Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.as_ref().map(to_repr).serialize(serializer)
    }

    /// [`deserialize`] for one optional value.
    pub fn deserialize_value<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Value>, D::Error> {
        Ok(Option::<Repr>::deserialize(deserializer)?.map(from_repr))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<ObjectValue>, D::Error> {
        let repr = Option::<BTreeMap<String, Repr>>::deserialize(deserializer)?;
        Ok(repr.map(|entries| {
            ObjectValue(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, from_repr(v)))
                    .collect(),
            )
        }))
    }
}

#[cfg(test)]
mod tests;
