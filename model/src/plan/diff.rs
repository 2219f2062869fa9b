//! Diffing a whole configuration: desired resources + prior state + refreshed actual objects →
//! [`Plan`] and plan-time [`Diagnostics`]. Pure: refresh happened before (it produced
//! [`Actual`]); rendering and applying come after.
//!
//! Besides one [`plan_resource`] per configured instance, this module owns what needs the whole
//! picture: orphans in state (delete or detach), `--replace`, `--target`, destroy and
//! refresh-only modes, drift, and the plan-time checks of the attachment invariant (DESIGN §4):
//!
//! | check                                                          | severity |
//! |----------------------------------------------------------------|----------|
//! | two configured attachments of one resource in one workspace     | error    |
//! | a configured attachment already attached under an unmanaged name| error    |
//! | `create_before_destroy` on an attachment                        | error    |
//! | an attach-only kind without its resource id; a create-only kind given one | error |
//! | `prevent_destroy` on a resource the plan deletes or replaces    | error    |
//! | an attachment the service reports as `Failed` (broken)          | warning  |

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::{AttrPath, InstanceKey, PathStep, ResourceAddr};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::schema::{AttrType, Attribute, Lifecycle as KindLifecycle, Registry, ResourceSchema};
use crate::secret::{self, SecretKey};
use crate::value::{ObjectValue, Value};

use super::{
    Action, AttachmentKey, ChangeReason, Expansion, LifecycleOptions, Moves, ObjectKey, Plan,
    ResourceChange, ResourceOptions, UpdateKind, is_attachment, orphan_reason, plan_resource,
};

/// One managed resource instance of the configuration, as the planner evaluated it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredResource {
    /// The address (its type is `addr.resource_type`).
    pub addr: ResourceAddr,
    /// Configured values converted to schema types (unset attributes absent or null; nested
    /// blocks as maps, repeated blocks as lists of maps). May contain unknowns.
    pub values: ObjectValue,
    /// Managed instances this one depends on (references and `depends_on`).
    pub depends_on: Vec<ResourceAddr>,
    /// The `lifecycle` block.
    pub lifecycle: LifecycleOptions,
    /// Top-level attributes set from sensitive values, besides the schema's secrets
    /// ([`super::ResourceChange::sensitive`]).
    pub sensitive: BTreeSet<String>,
}

impl DesiredResource {
    /// A resource with no dependencies and a default `lifecycle`.
    pub fn new(addr: ResourceAddr, values: ObjectValue) -> DesiredResource {
        DesiredResource {
            addr,
            values,
            depends_on: Vec::new(),
            lifecycle: LifecycleOptions::default(),
            sensitive: BTreeSet::new(),
        }
    }
}

/// The managed resources of the configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Desired {
    /// One entry per instance.
    pub resources: Vec<DesiredResource>,
}

/// One object recorded in state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriorObject {
    /// The stored attributes (secrets as digests, or as another tool stored them).
    pub values: ObjectValue,
    /// The recorded dependencies.
    pub dependencies: Vec<ResourceAddr>,
}

/// The managed objects in state, by address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriorState {
    /// Objects by address.
    pub resources: BTreeMap<ResourceAddr, PriorObject>,
}

/// An object found by refresh in a workspace listing, managed or not.
#[derive(Debug, Clone, PartialEq)]
pub struct ActualObject {
    /// Its resource type (from the compute type).
    pub type_name: String,
    /// Its attributes as read (no write-only values).
    pub values: ObjectValue,
}

/// What refresh found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Actual {
    /// The refreshed object of each state address: `None` when it is gone (deleted or detached
    /// outside). An address without an entry was not refreshed; its state is used as it is.
    pub objects: BTreeMap<ResourceAddr, Option<ObjectValue>>,
    /// Every compute of each listed workspace, by workspace ARM id (any case), for the
    /// attachment checks.
    pub workspaces: BTreeMap<String, Vec<ActualObject>>,
}

/// Options of [`diff`].
#[derive(Debug, Clone, Default)]
pub struct DiffOptions<'a> {
    /// `--target`: plan only these (an address without key targets every instance), plus what
    /// they depend on, plus the removals the attachment invariant requires first.
    pub targets: Vec<ResourceAddr>,
    /// `--replace`: replace (or re-attach) these even when unchanged.
    pub replace: Vec<ResourceAddr>,
    /// `--refresh-only`: only record drift.
    pub refresh_only: bool,
    /// `destroy`: remove everything in state.
    pub destroy: bool,
    /// The state's secret key, to compare write-only values with stored digests.
    pub secret_key: Option<&'a SecretKey>,
    /// How each configured resource block repeats, by address without key. A block not listed
    /// is taken from its instances in [`Desired`] (no key: neither; an index: `count`; a string
    /// key: `for_each`), so only blocks with no instances (`count = 0`, an empty `for_each`)
    /// must be listed for the orphans' reasons to be Terraform's.
    pub expansions: BTreeMap<ResourceAddr, Expansion>,
    /// The implied moves the caller made in state before planning ([`super::implied_moves`]):
    /// `prior` and `actual` are already at the new addresses. Moved changes get their
    /// `previous_addr`; blocked moves are reported.
    pub moves: Moves,
}

/// Plans the configuration against state and the refreshed objects.
///
/// ```
/// use model::plan::{diff, Action, Actual, Desired, DesiredResource, DiffOptions, PriorState};
/// use model::{addr::ResourceAddr, value::ObjectValue};
/// let registry = model::schema::load_registry().unwrap();
/// let mut values = ObjectValue::default();
/// for (name, value) in [("name", "w"), ("resource_group_name", "rg"), ("location", "westeurope")] {
///     values.set(name, value.into());
/// }
/// let addr = ResourceAddr::managed("azureml_workspace", "w");
/// let desired = Desired { resources: vec![DesiredResource::new(addr, values)] };
/// let (plan, diags) = diff(&desired, &PriorState::default(), &Actual::default(), &registry, &DiffOptions::default());
/// assert!(diags.is_empty());
/// assert_eq!(plan.changes[0].action, Action::Create);
/// ```
pub fn diff(
    desired: &Desired,
    prior: &PriorState,
    actual: &Actual,
    registry: &Registry,
    options: &DiffOptions<'_>,
) -> (Plan, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut plan = Plan {
        refresh_only: options.refresh_only,
        destroy: options.destroy,
        ..Plan::default()
    };

    // Current objects: state, refreshed.
    let mut current: BTreeMap<ResourceAddr, ObjectValue> = BTreeMap::new();
    let mut gone: BTreeSet<ResourceAddr> = BTreeSet::new();
    for (addr, object) in &prior.resources {
        let Some(schema) = registry.get(&addr.resource_type) else {
            diags.push(unknown_type(addr).at_attr(addr, AttrPath::default()));
            continue;
        };
        match actual.objects.get(addr) {
            None => {
                current.insert(addr.clone(), object.values.clone());
            }
            Some(None) => {
                gone.insert(addr.clone());
                let mut change = ResourceChange::new(addr.clone(), Action::Delete);
                change.before = Some(object.values.clone());
                change.before_attachment = AttachmentKey::of(schema, &object.values, false);
                plan.drift.push(change);
            }
            Some(Some(read)) => {
                let merged = merge_secrets(schema, &object.values, read);
                if !same_object(schema, &object.values, &merged, options.secret_key) {
                    let mut change =
                        ResourceChange::new(addr.clone(), Action::Update(UpdateKind::put()));
                    change.before = Some(object.values.clone());
                    change.after = Some(merged.clone());
                    plan.drift.push(change);
                }
                if schema.can_attach()
                    && is_attachment(schema, &merged, false)
                    && merged.get_str("provisioning_state") == Some("Failed")
                {
                    diags.push(broken_attachment(addr, schema, &merged));
                }
                current.insert(addr.clone(), merged);
            }
        }
    }

    if options.refresh_only {
        return (plan, diags);
    }

    let desired_by_addr: BTreeMap<&ResourceAddr, &DesiredResource> = desired
        .resources
        .iter()
        .map(|resource| (&resource.addr, resource))
        .collect();

    if options.destroy {
        for (addr, object) in &current {
            let schema = registry
                .get(&addr.resource_type)
                .expect("state types were checked above");
            if let Some(resource) = desired_by_addr.get(addr)
                && resource.lifecycle.prevent_destroy
            {
                diags.push(prevent_destroy(addr, "destroy"));
            }
            plan.changes
                .push(removal(schema, addr, object, prior, None));
        }
    } else {
        for resource in &desired.resources {
            let addr = &resource.addr;
            let Some(schema) = registry.get(&addr.resource_type) else {
                diags.push(unknown_type(addr).at_attr(addr, AttrPath::default()));
                continue;
            };
            check_kind(schema, resource, &mut diags);
            let before = current.get(addr);
            let mut lifecycle = resource.lifecycle.clone();
            let attached = before.is_some_and(|before| is_attachment(schema, before, false))
                || is_attachment(schema, &resource.values, true);
            if lifecycle.create_before_destroy && attached {
                diags.push(
                    Diagnostic::error(
                        "create_before_destroy on an attached compute",
                        format!(
                            "`{addr}` is an attachment of an existing resource. Attaching a replacement before \
                             detaching the old one would attach the resource twice, which breaks the earlier \
                             attachment. Remove `create_before_destroy` from its `lifecycle` block: amlplan \
                             always detaches first, then attaches."
                        ),
                    )
                    .at_attr(addr, lifecycle_path("create_before_destroy")),
                );
                lifecycle.create_before_destroy = false;
            }
            let force_replace = options.replace.iter().any(|target| {
                target == addr || (target.key.is_none() && *target == addr.without_key())
            });
            let resource_options = ResourceOptions {
                lifecycle,
                secret_key: options.secret_key,
                force_replace,
            };
            let mut change =
                plan_resource(schema, addr, before, &resource.values, &resource_options);
            if gone.contains(addr) {
                change.reason = Some(ChangeReason::RecreateBecauseGone);
            }
            change.depends_on = resource.depends_on.clone();
            change.sensitive = resource.sensitive.clone();
            if change.action.removes() {
                if resource.lifecycle.prevent_destroy {
                    diags.push(prevent_destroy(addr, "replace"));
                }
                if let Some(object) = prior.resources.get(addr) {
                    for dependency in &object.dependencies {
                        if !change.depends_on.contains(dependency) {
                            change.depends_on.push(dependency.clone());
                        }
                    }
                }
            }
            plan.changes.push(change);
        }
        let expansions = expansions(desired, options);
        for (addr, object) in &current {
            if desired_by_addr.contains_key(addr) {
                continue;
            }
            let schema = registry
                .get(&addr.resource_type)
                .expect("state types were checked above");
            let reason = orphan_reason(addr, expansions.get(&addr.without_key()).copied());
            plan.changes
                .push(removal(schema, addr, object, prior, Some(reason)));
        }
        check_duplicate_attachments(&plan.changes, registry, &mut diags);
        check_unmanaged_attachments(&plan.changes, &current, actual, registry, &mut diags);
    }

    annotate_moves(&mut plan, &options.moves, &mut diags);
    if !options.targets.is_empty() {
        check_moves_targeted(&options.moves, &options.targets, &mut diags);
        restrict_to_targets(&mut plan, &options.targets);
        diags.push(Diagnostic::warning(
            "Resource targeting is in effect",
            "The plan may be incomplete: only the targeted resources, what they depend on, and the \
             detachments they need first are included. Run a plan without --target to see every change.",
        ));
    }

    plan.changes.sort_by(|a, b| a.addr.cmp(&b.addr));
    plan.drift.sort_by(|a, b| a.addr.cmp(&b.addr));
    (plan, diags)
}

fn lifecycle_path(name: &str) -> AttrPath {
    AttrPath(vec![
        PathStep::Attr("lifecycle".to_owned()),
        PathStep::Attr(name.to_owned()),
    ])
}

/// A Delete or Detach of a state object.
fn removal(
    schema: &ResourceSchema,
    addr: &ResourceAddr,
    object: &ObjectValue,
    prior: &PriorState,
    reason: Option<ChangeReason>,
) -> ResourceChange {
    let attached = is_attachment(schema, object, false);
    let mut change = ResourceChange::new(
        addr.clone(),
        if attached {
            Action::Detach
        } else {
            Action::Delete
        },
    );
    change.before = Some(object.clone());
    change.reason = reason;
    change.before_attachment = AttachmentKey::of(schema, object, false);
    change.before_object = ObjectKey::of(schema, object);
    change.depends_on = prior
        .resources
        .get(addr)
        .map(|object| object.dependencies.clone())
        .unwrap_or_default();
    change
}

/// How each configured block repeats: the caller's list, else what its instances show.
fn expansions(desired: &Desired, options: &DiffOptions<'_>) -> BTreeMap<ResourceAddr, Expansion> {
    let mut expansions = options.expansions.clone();
    for resource in &desired.resources {
        let expansion = match resource.addr.key {
            None => Expansion::Single,
            Some(InstanceKey::Index(_)) => Expansion::Count,
            Some(InstanceKey::Key(_)) => Expansion::ForEach,
        };
        expansions
            .entry(resource.addr.without_key())
            .or_insert(expansion);
    }
    expansions
}

/// Records each made move on the change at its new address, and warns about blocked ones (as
/// Terraform does: the object left at the old address is planned for destruction).
fn annotate_moves(plan: &mut Plan, moves: &Moves, diags: &mut Diagnostics) {
    for one in &moves.moved {
        if let Some(change) = plan.changes.iter_mut().find(|change| change.addr == one.to) {
            change.previous_addr = Some(one.from.clone());
        }
    }
    if moves.blocked.is_empty() {
        return;
    }
    let items: String = moves
        .blocked
        .iter()
        .map(|one| format!("\n  - {} could not move to {}", one.from, one.to))
        .collect();
    diags.push(Diagnostic::warning(
        "Unresolved resource instance address changes",
        format!(
            "amlplan tried to adjust resource instance addresses in the prior state to how the \
             configuration now repeats them (with or without `count`), but some adjustments did not \
             succeed because objects already exist at the intended addresses:{items}\n\namlplan has \
             planned to destroy these objects. If that is not what you want, resolve the conflict \
             with `amlplan state rm` first, then plan again."
        ),
    ));
}

/// With `--target`, both addresses of every move must be targeted (Terraform refuses otherwise).
fn check_moves_targeted(moves: &Moves, targets: &[ResourceAddr], diags: &mut Diagnostics) {
    let targeted = |addr: &ResourceAddr| {
        targets
            .iter()
            .any(|target| target == addr || (target.key.is_none() && *target == addr.without_key()))
    };
    let missing: BTreeSet<&ResourceAddr> = moves
        .moved
        .iter()
        .flat_map(|one| [&one.from, &one.to])
        .filter(|addr| !targeted(addr))
        .collect();
    if missing.is_empty() {
        return;
    }
    let flags: String = missing
        .iter()
        .map(|addr| format!("\n  --target={:?}", addr.to_string()))
        .collect();
    diags.push(Diagnostic::error(
        "Moved resource instances excluded by targeting",
        format!(
            "Resource instances in the state have moved to new addresses in the configuration \
             (`count` was added or removed). amlplan must plan both addresses of each move to get a \
             correct result, but the --target options do not cover all of them.\n\nTo create a \
             valid plan, either remove the --target options or add these:{flags}"
        ),
    ));
}

fn unknown_type(addr: &ResourceAddr) -> Diagnostic {
    let type_name = &addr.resource_type;
    let detail = if type_name.contains("container_instance") || type_name.ends_with("_aci") {
        "Azure Container Instances cannot be attached to an Azure ML workspace: the service creates them \
         itself when a model is deployed to ACI. Deploy the model instead, or use `azureml_inference_cluster` \
         for a Kubernetes-based endpoint."
            .to_owned()
    } else if type_name.contains("batch") {
        "Azure Batch could only be attached by the retired v1 SDK; the Azure ML ARM API has no Batch compute \
         type. Use `azureml_compute_cluster` for batch workloads."
            .to_owned()
    } else {
        format!(
            "`{type_name}` is not in the azureml catalogue. Check the spelling against the provider's documentation."
        )
    };
    Diagnostic::error("Unsupported resource type", detail)
}

fn prevent_destroy(addr: &ResourceAddr, verb: &str) -> Diagnostic {
    Diagnostic::error(
        "Instance cannot be destroyed",
        format!(
            "`{addr}` has `lifecycle {{ prevent_destroy = true }}`, but this plan would {verb} it. Remove \
             `prevent_destroy` if the change is intended, or change the configuration so that the resource \
             is kept (for example, revert the attribute that forces the replacement)."
        ),
    )
    .at_attr(addr, lifecycle_path("prevent_destroy"))
}

fn broken_attachment(
    addr: &ResourceAddr,
    schema: &ResourceSchema,
    object: &ObjectValue,
) -> Diagnostic {
    let underlying = schema
        .api
        .underlying_attribute
        .as_deref()
        .unwrap_or("resource_id");
    let resource = object
        .get_str(underlying)
        .unwrap_or("the underlying resource");
    Diagnostic::warning(
        "Broken attachment",
        format!(
            "Azure ML reports `{addr}` (`{resource}`) as Failed. This usually means the resource was attached \
             again under another name, which breaks the earlier attachment. Detach the other attachment, then \
             run `amlplan apply --replace {addr}` to attach it again."
        ),
    )
    .at_attr(addr, AttrPath::attr(underlying))
}

/// Attach-only kinds need their resource id; create-only kinds cannot take one.
fn check_kind(schema: &ResourceSchema, resource: &DesiredResource, diags: &mut Diagnostics) {
    let addr = &resource.addr;
    match schema.api.lifecycle {
        KindLifecycle::Attach => {
            let underlying = schema
                .api
                .underlying_attribute
                .as_deref()
                .unwrap_or("resource_id");
            if resource.values.get(underlying).is_null() {
                diags.push(
                    Diagnostic::error(
                        "Attach-only compute without a resource",
                        format!(
                            "Azure ML cannot create a `{}`: it can only attach an existing one. Set `{underlying}` \
                             to the ARM id of the existing resource ({}).",
                            schema.type_name,
                            schema.api.underlying_types.join(" or ")
                        ),
                    )
                    .at_attr(addr, AttrPath::attr(underlying)),
                );
            }
        }
        KindLifecycle::Create => {
            for name in ["resource_id", "underlying_resource_id"] {
                if !resource.values.get(name).is_null() {
                    diags.push(
                        Diagnostic::error(
                            "Create-only compute cannot be attached",
                            format!(
                                "`{}` is always created by Azure ML; an existing resource cannot be attached as \
                                 one. Remove `{name}` to let Azure ML create it, or use an attached kind (for \
                                 example `azureml_attached_virtual_machine`) for an existing resource.",
                                schema.type_name
                            ),
                        )
                        .at_attr(addr, AttrPath::attr(name)),
                    );
                }
            }
        }
        KindLifecycle::CreateOrAttach => {}
    }
}

/// Two configured attachments with the same known key.
fn check_duplicate_attachments(
    changes: &[ResourceChange],
    registry: &Registry,
    diags: &mut Diagnostics,
) {
    let mut seen: BTreeMap<&AttachmentKey, &ResourceAddr> = BTreeMap::new();
    for change in changes {
        if change.action.removes() && !change.action.adds() {
            continue;
        }
        let Some(key) = change
            .after_attachment
            .as_ref()
            .filter(|key| key.is_known())
        else {
            continue;
        };
        match seen.get(key) {
            Some(first) => {
                let underlying = underlying_attribute(registry, &change.addr);
                let namespace_hint = if key.identity.contains_key("namespace") {
                    " A Kubernetes cluster may be attached several times only with a different `namespace` each."
                } else {
                    ""
                };
                diags.push(
                    Diagnostic::error(
                        "Resource attached twice",
                        format!(
                            "`{}` and `{first}` attach the same resource `{}` to one workspace. Azure ML keeps only \
                             the latest attachment and breaks the earlier one. Keep one of the two blocks (use \
                             `count`/`for_each` or a reference if several parts of the configuration need it).{namespace_hint}",
                            change.addr,
                            key.identity.get(&underlying).cloned().flatten().unwrap_or_default(),
                        ),
                    )
                    .at_attr(&change.addr, AttrPath::attr(&underlying))
                    .with_code(Code::DuplicateAttachment),
                );
            }
            None => {
                seen.insert(key, &change.addr);
            }
        }
    }
}

fn underlying_attribute(registry: &Registry, addr: &ResourceAddr) -> String {
    registry
        .get(&addr.resource_type)
        .and_then(|schema| schema.api.underlying_attribute.clone())
        .unwrap_or_else(|| "resource_id".to_owned())
}

/// An actual attachment of a configured resource that no state object accounts for.
fn check_unmanaged_attachments(
    changes: &[ResourceChange],
    current: &BTreeMap<ResourceAddr, ObjectValue>,
    actual: &Actual,
    registry: &Registry,
    diags: &mut Diagnostics,
) {
    let lower = |value: &Value| value.as_str().map(str::to_ascii_lowercase);
    // Objects state accounts for, by id and by (workspace, name).
    let mut managed_ids = BTreeSet::new();
    let mut managed_names = BTreeSet::new();
    for (addr, object) in current {
        if let Some(id) = lower(object.get("id")) {
            managed_ids.insert(id);
        }
        if let Some(schema) = registry.get(&addr.resource_type) {
            managed_names.insert((
                lower(object.get(&schema.api.parent_attribute)),
                lower(object.get(&schema.api.name_attribute)),
            ));
        }
    }
    let workspaces: BTreeMap<String, &Vec<ActualObject>> = actual
        .workspaces
        .iter()
        .map(|(id, objects)| (id.to_ascii_lowercase(), objects))
        .collect();
    for change in changes {
        if !change.action.adds() && !matches!(change.action, Action::NoOp | Action::Update(_)) {
            continue;
        }
        let Some(key) = change
            .after_attachment
            .as_ref()
            .filter(|key| key.is_known())
        else {
            continue;
        };
        let Some(objects) = key
            .workspace
            .as_ref()
            .and_then(|workspace| workspaces.get(workspace))
        else {
            continue;
        };
        for object in objects.iter() {
            let Some(schema) = registry.get(&object.type_name) else {
                continue;
            };
            let Some(theirs) = AttachmentKey::of(schema, &object.values, false) else {
                continue;
            };
            if !theirs.may_equal(key) {
                continue;
            }
            let name = object
                .values
                .get_str(&schema.api.name_attribute)
                .unwrap_or_default();
            let id = object.values.get_str("id").unwrap_or_default();
            let is_managed = managed_ids.contains(&id.to_ascii_lowercase())
                || managed_names
                    .contains(&(key.workspace.clone(), Some(name.to_ascii_lowercase())));
            if is_managed {
                continue;
            }
            let underlying = underlying_attribute(registry, &change.addr);
            let resource = key
                .identity
                .get(&underlying)
                .cloned()
                .flatten()
                .unwrap_or_default();
            let planned_name = change
                .after
                .as_ref()
                .and_then(|after| after.get_str(&schema.api.name_attribute))
                .unwrap_or_default();
            if planned_name.eq_ignore_ascii_case(name) {
                // The same attachment under the configured name but not in state: what an apply
                // interrupted between the service's answer and the state save leaves behind.
                // Attaching it again is a PUT to the same compute record (create-or-replace),
                // which never makes a second attachment, so the plan adopts it (DESIGN §4: a
                // crash followed by a new apply converges) and says so.
                diags.push(
                    Diagnostic::warning(
                        "Existing attachment adopted",
                        format!(
                            "`{resource}` is already attached to this workspace as `{name}`, the name `{addr}` \
                             configures, but `{addr}` is not in the state (an interrupted apply, or `state rm`). \
                             Apply attaches it again under the same name, which updates that record in place; \
                             `amlplan import {addr} {id}` records it without a write.",
                            addr = change.addr
                        ),
                    )
                    .at_attr(&change.addr, AttrPath::attr(&underlying)),
                );
                continue;
            }
            let detail = format!(
                "`{resource}` is already attached to this workspace as `{name}`, which this configuration does \
                 not manage. Attaching it again as `{planned_name}` would break that attachment (Azure ML keeps \
                 only the latest one). Either import it with `amlplan import {addr} {id}` (and set the name to \
                 `{name}`), or detach `{name}` first (for example `az ml compute detach --name {name}`), then \
                 plan again.",
                addr = change.addr
            );
            diags.push(
                Diagnostic::error("Resource already attached under another name", detail)
                    .at_attr(&change.addr, AttrPath::attr(&underlying)),
            );
        }
    }
}

/// Keeps the targeted changes, their dependencies, and the removals of every attachment a kept
/// change adds (the attachment invariant holds across `--target`).
fn restrict_to_targets(plan: &mut Plan, targets: &[ResourceAddr]) {
    let matches_target = |addr: &ResourceAddr| {
        targets
            .iter()
            .any(|target| target == addr || (target.key.is_none() && *target == addr.without_key()))
    };
    let mut included: BTreeSet<ResourceAddr> = plan
        .changes
        .iter()
        .filter(|change| matches_target(&change.addr))
        .map(|change| change.addr.clone())
        .collect();
    loop {
        let before = included.len();
        for change in &plan.changes {
            if !included.contains(&change.addr) {
                continue;
            }
            let mut add = change.depends_on.clone();
            if change.action.adds()
                && let Some(key) = &change.after_attachment
            {
                add.extend(
                    plan.changes
                        .iter()
                        .filter(|other| other.action.removes())
                        .filter(|other| {
                            other
                                .before_attachment
                                .as_ref()
                                .is_some_and(|theirs| theirs.may_equal(key))
                        })
                        .map(|other| other.addr.clone()),
                );
            }
            included.extend(add);
        }
        if included.len() == before {
            break;
        }
    }
    plan.changes
        .retain(|change| included.contains(&change.addr));
}

/// The read object with the secrets state holds (reads never return write-only values).
fn merge_secrets(schema: &ResourceSchema, stored: &ObjectValue, read: &ObjectValue) -> ObjectValue {
    let mut merged = read.0.clone();
    merge_secret_map(&schema.attributes, &stored.0, &mut merged);
    ObjectValue(merged)
}

fn merge_secret_map(
    attributes: &BTreeMap<String, Attribute>,
    stored: &BTreeMap<String, Value>,
    read: &mut BTreeMap<String, Value>,
) {
    for (name, attribute) in attributes {
        let stored_value = stored.get(name).unwrap_or(&Value::Null);
        if attribute.sensitive || attribute.write_only {
            if read.get(name).is_none_or(Value::is_null) {
                read.insert(name.clone(), stored_value.clone());
            }
            continue;
        }
        if let (
            AttrType::Object(nested),
            Value::Map(stored_entries),
            Some(Value::Map(read_entries)),
        ) = (&attribute.ty, stored_value, read.get_mut(name))
        {
            merge_secret_map(nested, stored_entries, read_entries);
        }
    }
}

/// Whether the read object equals the stored one (secrets by digest).
fn same_object(
    schema: &ResourceSchema,
    stored: &ObjectValue,
    read: &ObjectValue,
    key: Option<&SecretKey>,
) -> bool {
    schema.attributes.iter().all(|(name, attribute)| {
        let stored = stored.get(name);
        let read = read.get(name);
        if attribute.sensitive || attribute.write_only {
            stored == read || secret::value_matches(key, stored, read)
        } else {
            stored == read
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::IgnoreChanges;
    use crate::schema::load_registry;
    use pretty_assertions::assert_eq;

    const WS: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
    const VM: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";
    const K8S: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/arc";

    fn object(pairs: &[(&str, Value)]) -> ObjectValue {
        let mut object = ObjectValue::default();
        for (name, value) in pairs {
            object.set(name, value.clone());
        }
        object
    }

    fn vm_values(name: &str) -> ObjectValue {
        object(&[
            ("name", name.into()),
            ("workspace_id", WS.into()),
            ("resource_id", VM.into()),
            ("admin_username", "azureuser".into()),
        ])
    }

    fn vm_state(name: &str) -> ObjectValue {
        let mut values = vm_values(name);
        values.set("id", format!("{WS}/computes/{name}").into());
        values.set("ssh_port", 22.into());
        values.set("location", "westeurope".into());
        values.set("provisioning_state", "Succeeded".into());
        values.set("is_attached_compute", true.into());
        values
    }

    fn desired(addr: &str, values: ObjectValue) -> DesiredResource {
        DesiredResource::new(addr.parse().expect("address"), values)
    }

    fn prior(entries: &[(&str, ObjectValue)]) -> PriorState {
        PriorState {
            resources: entries
                .iter()
                .map(|(addr, values)| {
                    (
                        addr.parse().expect("address"),
                        PriorObject {
                            values: values.clone(),
                            dependencies: Vec::new(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[track_caller]
    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.changes
            .iter()
            .map(|change| (change.addr.to_string(), change.action.clone()))
            .collect()
    }

    #[test]
    fn rename_of_an_attachment_is_detach_plus_attach() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![desired(
                "azureml_attached_virtual_machine.new",
                vm_values("vm-new"),
            )],
        };
        let state = prior(&[("azureml_attached_virtual_machine.old", vm_state("vm-old"))]);
        let (plan, diags) = diff(
            &config,
            &state,
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            actions(&plan),
            vec![
                (
                    "azureml_attached_virtual_machine.new".to_owned(),
                    Action::Attach
                ),
                (
                    "azureml_attached_virtual_machine.old".to_owned(),
                    Action::Detach
                ),
            ]
        );
        let detach = &plan.changes[1];
        assert_eq!(
            detach.reason,
            Some(ChangeReason::DeleteBecauseNoResourceConfig)
        );
        assert!(
            detach
                .before_attachment
                .as_ref()
                .expect("key")
                .may_equal(plan.changes[0].after_attachment.as_ref().expect("key"))
        );
    }

    #[test]
    fn rename_plan_orders_the_detach_before_the_attach() {
        use crate::plan::{ApplyGraph, StepKind};
        let registry = load_registry().expect("catalogue");
        // The new block sorts first, so plan order alone would attach first.
        let config = Desired {
            resources: vec![desired(
                "azureml_attached_virtual_machine.a_new",
                vm_values("vm-new"),
            )],
        };
        let state = prior(&[("azureml_attached_virtual_machine.z_old", vm_state("vm-old"))]);
        let (plan, diags) = diff(
            &config,
            &state,
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:?}");
        let graph = ApplyGraph::build(&plan).expect("acyclic");
        let order: Vec<(String, StepKind)> = graph
            .topological_order()
            .into_iter()
            .map(|step| {
                (
                    plan.changes[graph.steps[step].change].addr.to_string(),
                    graph.steps[step].kind,
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                (
                    "azureml_attached_virtual_machine.z_old".to_owned(),
                    StepKind::Remove
                ),
                (
                    "azureml_attached_virtual_machine.a_new".to_owned(),
                    StepKind::Add
                ),
            ]
        );
    }

    #[test]
    fn two_attachments_of_one_vm_are_refused() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![
                desired("azureml_attached_virtual_machine.a", vm_values("vm-a")),
                desired("azureml_attached_virtual_machine.b", vm_values("vm-b")),
            ],
        };
        let (_, diags) = diff(
            &config,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.has_errors());
        let diag = &diags.0[0];
        assert_eq!(diag.summary, "Resource attached twice");
        assert_eq!(diag.code, Some(Code::DuplicateAttachment));
        assert_eq!(
            diag.subject,
            Some(crate::diag::Subject::Attr {
                addr: "azureml_attached_virtual_machine.b".parse().expect("addr"),
                path: AttrPath::attr("resource_id"),
            })
        );
    }

    #[test]
    fn kubernetes_in_two_namespaces_is_fine_but_not_in_one() {
        let registry = load_registry().expect("catalogue");
        let k8s = |name: &str, namespace: Option<&str>| {
            let mut values = object(&[
                ("name", name.into()),
                ("workspace_id", WS.into()),
                ("resource_id", K8S.into()),
            ]);
            if let Some(namespace) = namespace {
                values.set("namespace", namespace.into());
            }
            values
        };
        let two = Desired {
            resources: vec![
                desired("azureml_attached_kubernetes.a", k8s("k-a", Some("train"))),
                desired("azureml_attached_kubernetes.b", k8s("k-b", Some("serve"))),
            ],
        };
        let (_, diags) = diff(
            &two,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:?}");
        // `namespace` defaults to "default": explicit "default" and unset are the same attachment.
        let same = Desired {
            resources: vec![
                desired("azureml_attached_kubernetes.a", k8s("k-a", None)),
                desired("azureml_attached_kubernetes.b", k8s("k-b", Some("default"))),
            ],
        };
        let (_, diags) = diff(
            &same,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.has_errors());
    }

    #[test]
    fn unmanaged_attachment_is_reported_with_import_advice() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![desired(
                "azureml_attached_virtual_machine.vm",
                vm_values("vm-new"),
            )],
        };
        let actual = Actual {
            objects: BTreeMap::new(),
            workspaces: [(
                WS.to_ascii_uppercase(),
                vec![ActualObject {
                    type_name: "azureml_attached_virtual_machine".to_owned(),
                    values: vm_state("by-hand"),
                }],
            )]
            .into(),
        };
        let (_, diags) = diff(
            &config,
            &PriorState::default(),
            &actual,
            &registry,
            &DiffOptions::default(),
        );
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        let detail = diags.0[0].detail.clone().expect("detail");
        assert!(
            detail.contains("amlplan import azureml_attached_virtual_machine.vm"),
            "{detail}"
        );
        assert!(detail.contains("`by-hand`"), "{detail}");
    }

    #[test]
    fn attachment_managed_in_state_is_not_reported() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![desired(
                "azureml_attached_virtual_machine.vm",
                vm_values("vm-old"),
            )],
        };
        let state = prior(&[("azureml_attached_virtual_machine.vm", vm_state("vm-old"))]);
        let actual = Actual {
            objects: BTreeMap::new(),
            workspaces: [(
                WS.to_owned(),
                vec![ActualObject {
                    type_name: "azureml_attached_virtual_machine".to_owned(),
                    values: vm_state("vm-old"),
                }],
            )]
            .into(),
        };
        let (plan, diags) = diff(&config, &state, &actual, &registry, &DiffOptions::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(plan.changes[0].action, Action::NoOp);
        assert!(!plan.has_changes());
    }

    #[test]
    fn create_before_destroy_on_attachment_is_an_error() {
        let registry = load_registry().expect("catalogue");
        let mut resource = desired("azureml_attached_virtual_machine.vm", vm_values("vm"));
        resource.lifecycle.create_before_destroy = true;
        let config = Desired {
            resources: vec![resource],
        };
        let (plan, diags) = diff(
            &config,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert_eq!(
            diags.0[0].summary,
            "create_before_destroy on an attached compute"
        );
        assert!(!plan.changes[0].create_before_destroy);
    }

    #[test]
    fn attach_only_kind_without_resource_id_is_an_error() {
        let registry = load_registry().expect("catalogue");
        let mut values = vm_values("vm");
        values.0.remove("resource_id");
        let config = Desired {
            resources: vec![desired("azureml_attached_virtual_machine.vm", values)],
        };
        let (_, diags) = diff(
            &config,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert_eq!(diags.0[0].summary, "Attach-only compute without a resource");
    }

    #[test]
    fn create_only_kind_with_resource_id_and_unknown_types_are_errors() {
        let registry = load_registry().expect("catalogue");
        let cluster = object(&[
            ("name", "c".into()),
            ("workspace_id", WS.into()),
            ("vm_size", "STANDARD_DS3_V2".into()),
            ("max_node_count", 2.into()),
            ("resource_id", VM.into()),
        ]);
        let config = Desired {
            resources: vec![
                desired("azureml_compute_cluster.c", cluster),
                desired("azureml_attached_batch.b", ObjectValue::default()),
            ],
        };
        let (_, diags) = diff(
            &config,
            &PriorState::default(),
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        let summaries: Vec<&str> = diags.iter().map(|diag| diag.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Create-only compute cannot be attached",
                "Unsupported resource type"
            ]
        );
        assert!(
            diags.0[1]
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("retired v1 SDK")
        );
    }

    #[test]
    fn prevent_destroy_blocks_destroy_and_replace() {
        let registry = load_registry().expect("catalogue");
        let mut resource = desired("azureml_attached_virtual_machine.vm", vm_values("vm-old"));
        resource.lifecycle.prevent_destroy = true;
        let config = Desired {
            resources: vec![resource.clone()],
        };
        let state = prior(&[("azureml_attached_virtual_machine.vm", vm_state("vm-old"))]);
        let destroy = DiffOptions {
            destroy: true,
            ..Default::default()
        };
        let (plan, diags) = diff(&config, &state, &Actual::default(), &registry, &destroy);
        assert_eq!(plan.changes[0].action, Action::Detach);
        assert_eq!(diags.0[0].summary, "Instance cannot be destroyed");

        let replace = DiffOptions {
            replace: vec![resource.addr.clone()],
            ..Default::default()
        };
        let (plan, diags) = diff(&config, &state, &Actual::default(), &registry, &replace);
        assert_eq!(plan.changes[0].action, Action::Reattach);
        assert_eq!(plan.changes[0].reason, Some(ChangeReason::ReplaceByRequest));
        assert!(diags.has_errors());
    }

    #[test]
    fn gone_object_is_drift_and_planned_again() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![desired(
                "azureml_attached_virtual_machine.vm",
                vm_values("vm-old"),
            )],
        };
        let state = prior(&[("azureml_attached_virtual_machine.vm", vm_state("vm-old"))]);
        let actual = Actual {
            objects: [(
                "azureml_attached_virtual_machine.vm".parse().expect("addr"),
                None,
            )]
            .into(),
            workspaces: BTreeMap::new(),
        };
        let (plan, diags) = diff(&config, &state, &actual, &registry, &DiffOptions::default());
        assert!(diags.is_empty());
        assert_eq!(plan.drift[0].action, Action::Delete);
        assert_eq!(plan.changes[0].action, Action::Attach);
        assert_eq!(
            plan.changes[0].reason,
            Some(ChangeReason::RecreateBecauseGone)
        );
    }

    #[test]
    fn drift_keeps_stored_secrets_and_refresh_only_plans_nothing() {
        let registry = load_registry().expect("catalogue");
        let key = SecretKey::from_bytes(&[3; 32]);
        let mut stored = vm_state("vm");
        stored.set("admin_password", secret::digest(&key, "pw").into());
        let mut read = vm_state("vm");
        read.set("description", "changed by hand".into());
        read.set("provisioning_state", "Failed".into());
        let addr: ResourceAddr = "azureml_attached_virtual_machine.vm".parse().expect("addr");
        let state = prior(&[("azureml_attached_virtual_machine.vm", stored.clone())]);
        let actual = Actual {
            objects: [(addr.clone(), Some(read))].into(),
            workspaces: BTreeMap::new(),
        };
        let options = DiffOptions {
            refresh_only: true,
            secret_key: Some(&key),
            ..Default::default()
        };
        let (plan, diags) = diff(&Desired::default(), &state, &actual, &registry, &options);
        assert!(plan.changes.is_empty());
        assert!(plan.has_changes());
        let drift = &plan.drift[0];
        let after = drift.after.as_ref().expect("after");
        assert_eq!(after.get("admin_password"), stored.get("admin_password"));
        assert_eq!(after.get_str("description"), Some("changed by hand"));
        assert_eq!(diags.0[0].summary, "Broken attachment");
        assert_eq!(diags.0[0].severity, crate::diag::Severity::Warning);

        // In a normal plan the config wins back: description is cleared by PUT, the password
        // (same digest) is no change.
        let mut values = vm_values("vm");
        values.set("admin_password", "pw".into());
        let config = Desired {
            resources: vec![desired("azureml_attached_virtual_machine.vm", values)],
        };
        let options = DiffOptions {
            secret_key: Some(&key),
            ..Default::default()
        };
        let (plan, _) = diff(&config, &state, &actual, &registry, &options);
        assert_eq!(plan.changes[0].action, Action::Update(UpdateKind::put()));
    }

    #[test]
    fn targets_pull_in_dependencies_and_detachments_of_the_same_resource() {
        let registry = load_registry().expect("catalogue");
        let workspace = object(&[
            ("name", "w".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
        ]);
        let mut vm = desired("azureml_attached_virtual_machine.new", vm_values("vm-new"));
        vm.depends_on = vec!["azureml_workspace.w".parse().expect("addr")];
        let config = Desired {
            resources: vec![desired("azureml_workspace.w", workspace), vm],
        };
        let mut other_vm = vm_state("other");
        other_vm.set(
            "resource_id",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm2"
                .into(),
        );
        let state = prior(&[
            ("azureml_attached_virtual_machine.old", vm_state("vm-old")),
            ("azureml_attached_virtual_machine.other", other_vm),
        ]);
        let options = DiffOptions {
            targets: vec![
                "azureml_attached_virtual_machine.new"
                    .parse()
                    .expect("addr"),
            ],
            ..Default::default()
        };
        let (plan, diags) = diff(&config, &state, &Actual::default(), &registry, &options);
        assert_eq!(diags.0[0].summary, "Resource targeting is in effect");
        let addrs: Vec<String> = plan
            .changes
            .iter()
            .map(|change| change.addr.to_string())
            .collect();
        assert_eq!(
            addrs,
            [
                "azureml_attached_virtual_machine.new",
                "azureml_attached_virtual_machine.old",
                "azureml_workspace.w"
            ]
        );
    }

    #[test]
    fn ignore_changes_all_keeps_state() {
        let registry = load_registry().expect("catalogue");
        let mut values = vm_values("vm");
        values.set("description", "new".into());
        let mut resource = desired("azureml_attached_virtual_machine.vm", values);
        resource.lifecycle.ignore_changes = IgnoreChanges::All;
        let config = Desired {
            resources: vec![resource],
        };
        let state = prior(&[("azureml_attached_virtual_machine.vm", vm_state("vm"))]);
        let (plan, _) = diff(
            &config,
            &state,
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert_eq!(plan.changes[0].action, Action::NoOp);
    }

    fn cluster(name: &str) -> ObjectValue {
        object(&[
            ("name", name.into()),
            ("workspace_id", WS.into()),
            ("vm_size", "STANDARD_DS3_V2".into()),
            ("max_node_count", 2.into()),
        ])
    }

    fn cluster_state(name: &str) -> ObjectValue {
        let mut values = cluster(name);
        values.set("id", format!("{WS}/computes/{name}").into());
        values
    }

    /// Diagnostics as the user reads them (summary, then detail).
    fn text(diags: &Diagnostics) -> String {
        diags
            .iter()
            .map(|diag| format!("{}\n{}", diag.summary, diag.detail.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    #[test]
    fn an_orphaned_key_is_destroyed_before_its_object_is_created_again() {
        // `cpu[5]` in state, `cpu` without `count` in the configuration, one compute name.
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![desired("azureml_compute_cluster.cpu", cluster("cpu"))],
        };
        let state = prior(&[("azureml_compute_cluster.cpu[5]", cluster_state("cpu"))]);
        let (plan, diags) = diff(
            &config,
            &state,
            &Actual::default(),
            &registry,
            &DiffOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            actions(&plan),
            [
                ("azureml_compute_cluster.cpu".to_owned(), Action::Create),
                ("azureml_compute_cluster.cpu[5]".to_owned(), Action::Delete),
            ]
        );
        let orphan = &plan.changes[1];
        assert_eq!(
            orphan.reason,
            Some(ChangeReason::DeleteBecauseWrongRepetition)
        );
        assert_eq!(
            orphan.describe_reason(None).as_deref(),
            Some("resource does not use count")
        );
        let graph = crate::plan::ApplyGraph::build(&plan).expect("acyclic");
        // Steps: 0 create `cpu`, 1 destroy `cpu[5]`.
        assert_eq!(graph.deps, vec![vec![1], vec![]]);
    }

    #[test]
    fn orphaned_instance_keys_get_terraforms_reasons() {
        let registry = load_registry().expect("catalogue");
        let config = Desired {
            resources: vec![
                desired("azureml_compute_cluster.cpu[0]", cluster("cpu-0")),
                desired("azureml_compute_cluster.cpu[1]", cluster("cpu-1")),
                desired("azureml_compute_cluster.gpu[\"a\"]", cluster("gpu-a")),
            ],
        };
        let state = prior(&[
            ("azureml_compute_cluster.cpu[2]", cluster_state("cpu-2")),
            ("azureml_compute_cluster.cpu[\"x\"]", cluster_state("cpu-x")),
            ("azureml_compute_cluster.gpu[\"b\"]", cluster_state("gpu-b")),
            ("azureml_compute_cluster.gpu", cluster_state("gpu")),
            ("azureml_compute_cluster.none[0]", cluster_state("none-0")),
            ("azureml_compute_cluster.gone", cluster_state("gone")),
        ]);
        let options = DiffOptions {
            // `count = 0`: no instance shows how the block repeats.
            expansions: [(
                "azureml_compute_cluster.none".parse().expect("addr"),
                Expansion::Count,
            )]
            .into(),
            ..DiffOptions::default()
        };
        let (plan, diags) = diff(&config, &state, &Actual::default(), &registry, &options);
        assert!(diags.is_empty(), "{diags:?}");
        let reasons: Vec<(String, Option<&str>, String)> = plan
            .changes
            .iter()
            .filter(|change| change.action == Action::Delete)
            .map(|change| {
                (
                    change.addr.to_string(),
                    change.reason.and_then(ChangeReason::terraform_reason),
                    change.describe_reason(None).unwrap_or_default(),
                )
            })
            .collect();
        let expected = [
            (
                "azureml_compute_cluster.cpu[2]",
                "delete_because_count_index",
                "index [2] is out of range for count",
            ),
            (
                "azureml_compute_cluster.cpu[\"x\"]",
                "delete_because_wrong_repetition",
                "resource does not use for_each",
            ),
            (
                "azureml_compute_cluster.gone",
                "delete_because_no_resource_config",
                "not in the configuration any more",
            ),
            (
                "azureml_compute_cluster.gpu",
                "delete_because_wrong_repetition",
                "resource uses count or for_each",
            ),
            (
                "azureml_compute_cluster.gpu[\"b\"]",
                "delete_because_each_key",
                "key [\"b\"] is not in for_each map",
            ),
            (
                "azureml_compute_cluster.none[0]",
                "delete_because_count_index",
                "index [0] is out of range for count",
            ),
        ]
        .map(|(addr, reason, text)| (addr.to_owned(), Some(reason), text.to_owned()));
        assert_eq!(reasons, expected);
    }

    #[test]
    fn moved_instances_keep_their_previous_address_and_blocked_moves_warn() {
        let registry = load_registry().expect("catalogue");
        let addr = |text: &str| text.parse::<ResourceAddr>().expect("addr");
        let config = Desired {
            resources: vec![
                desired("azureml_compute_cluster.cpu", cluster("cpu")),
                desired("azureml_compute_cluster.gpu", cluster("gpu")),
            ],
        };
        // As the caller left the state: `cpu[0]` moved to `cpu`; `gpu[0]` could not move.
        let state = prior(&[
            ("azureml_compute_cluster.cpu", cluster_state("cpu")),
            ("azureml_compute_cluster.gpu", cluster_state("gpu")),
            ("azureml_compute_cluster.gpu[0]", cluster_state("gpu-0")),
        ]);
        let options = DiffOptions {
            moves: Moves {
                moved: vec![crate::plan::Move {
                    from: addr("azureml_compute_cluster.cpu[0]"),
                    to: addr("azureml_compute_cluster.cpu"),
                }],
                blocked: vec![crate::plan::Move {
                    from: addr("azureml_compute_cluster.gpu[0]"),
                    to: addr("azureml_compute_cluster.gpu"),
                }],
            },
            ..DiffOptions::default()
        };
        let (plan, diags) = diff(&config, &state, &Actual::default(), &registry, &options);
        let moved = plan
            .change(&addr("azureml_compute_cluster.cpu"))
            .expect("planned");
        assert_eq!(
            moved.previous_addr,
            Some(addr("azureml_compute_cluster.cpu[0]"))
        );
        let left = plan
            .change(&addr("azureml_compute_cluster.gpu[0]"))
            .expect("planned");
        assert_eq!(left.action, Action::Delete);
        assert_eq!(
            left.reason,
            Some(ChangeReason::DeleteBecauseWrongRepetition)
        );
        assert!(!diags.has_errors());
        insta::assert_snapshot!(text(&diags), @r#"
        Unresolved resource instance address changes
        amlplan tried to adjust resource instance addresses in the prior state to how the configuration now repeats them (with or without `count`), but some adjustments did not succeed because objects already exist at the intended addresses:
          - azureml_compute_cluster.gpu[0] could not move to azureml_compute_cluster.gpu

        amlplan has planned to destroy these objects. If that is not what you want, resolve the conflict with `amlplan state rm` first, then plan again.
        "#);

        // With --target, both addresses of a move must be targeted.
        let targeted = DiffOptions {
            targets: vec![addr("azureml_compute_cluster.cpu")],
            ..options.clone()
        };
        let (_, diags) = diff(&config, &state, &Actual::default(), &registry, &targeted);
        assert!(
            !diags
                .iter()
                .any(|diag| diag.severity == crate::diag::Severity::Error)
        );
        let targeted = DiffOptions {
            targets: vec![addr("azureml_compute_cluster.cpu[0]")],
            ..options
        };
        let (_, diags) = diff(&config, &state, &Actual::default(), &registry, &targeted);
        let errors: Diagnostics = Diagnostics(
            diags
                .iter()
                .filter(|diag| diag.severity == crate::diag::Severity::Error)
                .cloned()
                .collect(),
        );
        insta::assert_snapshot!(text(&errors), @r#"
        Moved resource instances excluded by targeting
        Resource instances in the state have moved to new addresses in the configuration (`count` was added or removed). amlplan must plan both addresses of each move to get a correct result, but the --target options do not cover all of them.

        To create a valid plan, either remove the --target options or add these:
          --target="azureml_compute_cluster.cpu"
        "#);
    }
}
