//! The integrity of a state file, checked when it is read ([`super::read`],
//! [`super::StateStore::open`]): a state amlplan would misread is refused, naming its entries and
//! how to repair them, before anything is planned or written. No IO, no repair.
//!
//! | finding                                                       | severity |
//! |---------------------------------------------------------------|----------|
//! | two `resources` entries for one resource address               | error    |
//! | one instance key (or deposed key) twice in one resource         | error    |
//! | an `id` that is not an ARM id, or not of the kind's ARM type    | error    |
//! | an `id` other than the one the name and parent attributes give  | error    |
//! | two entries (any addresses, modules included) for one ARM id    | error    |
//! | a `module` that is not a module path                            | error    |
//!
//! Ids are checked for managed objects of catalogue types (a data source is read again at every
//! plan; an unknown type is reported by the plan). Deposed objects are kept as written and not
//! checked: amlplan neither plans nor writes them.

use std::collections::BTreeMap;

use crate::addr::{InstanceKey, Mode, ModulePath, ResourceAddr};
use crate::api::body::PROVIDER_NAMESPACE;
use crate::api::{ArmId, resource_id};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{Collection, Registry, ResourceSchema};
use crate::value::{ObjectValue, Value};

use super::{State, StateInstance, StateResource};

/// Every finding of the module table, in file order.
pub(super) fn check(state: &State, registry: &Registry) -> Diagnostics {
    let mut diags = Diagnostics::default();
    duplicate_resources(state, &mut diags);
    for resource in &state.resources {
        duplicate_keys(resource, &mut diags);
    }
    let mut by_object: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in &state.resources {
        if resource.mode != Mode::Managed {
            continue;
        }
        let Some(schema) = registry.get(&resource.resource_type) else {
            continue;
        };
        for instance in current(resource) {
            let name = entry_name(resource, &instance.index_key);
            let values = instance
                .attributes
                .as_ref()
                .map(|json| match Value::from_json(json) {
                    Value::Map(entries) => ObjectValue(entries),
                    _ => ObjectValue::default(),
                })
                .unwrap_or_default();
            let object = match check_id(schema, &values, &name) {
                Ok(object) => object,
                Err(diag) => {
                    diags.push(*diag);
                    continue;
                }
            };
            if let Some(object) = object {
                by_object
                    .entry(object.as_str().to_ascii_lowercase())
                    .or_default()
                    .push(name);
            }
        }
    }
    for names in by_object.values().filter(|names| names.len() > 1) {
        diags.push(one_object_twice(names, state));
    }
    invalid_modules(state, &mut diags);
    diags
}

/// The current (not deposed) objects of a resource entry.
fn current(resource: &StateResource) -> impl Iterator<Item = &StateInstance> {
    resource
        .instances
        .iter()
        .filter(|instance| instance.deposed.is_none())
}

/// The full address of an instance, its module included
/// (`module.x.azureml_compute_cluster.cpu[0]`).
fn entry_name(resource: &StateResource, key: &Option<InstanceKey>) -> String {
    let addr = ResourceAddr {
        module: ModulePath::default(),
        mode: resource.mode,
        resource_type: resource.resource_type.clone(),
        name: resource.name.clone(),
        key: key.clone(),
    };
    match &resource.module {
        Some(module) => format!("{module}.{addr}"),
        None => addr.to_string(),
    }
}

fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// How to take one entry out of the state.
fn removal_hint(name: &str) -> String {
    format!("`amlplan state rm '{name}'`")
}

fn duplicate_resources(state: &State, diags: &mut Diagnostics) {
    let mut positions: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, resource) in state.resources.iter().enumerate() {
        positions
            .entry(entry_name(resource, &None))
            .or_default()
            .push(position);
    }
    let mut repeated: Vec<(&String, &Vec<usize>)> = positions
        .iter()
        .filter(|(_, positions)| positions.len() > 1)
        .collect();
    repeated.sort_by_key(|(_, positions)| positions[0]);
    for (name, positions) in repeated {
        let listed: Vec<String> = positions
            .iter()
            .map(|&position| {
                let instances: Vec<String> = state.resources[position]
                    .instances
                    .iter()
                    .map(|instance| entry_name(&state.resources[position], &instance.index_key))
                    .collect();
                format!(
                    "entry {} holds {}",
                    position + 1,
                    if instances.is_empty() {
                        "no instances".to_owned()
                    } else {
                        quoted(&instances)
                    }
                )
            })
            .collect();
        diags.push(Diagnostic::error(
            "Duplicate resource in state",
            format!(
                "The state lists `{name}` in {} entries of `resources` ({}); amlplan would see only \
                 the first one's instances.\n\
                 help: keep one entry per resource: move the instances into one entry by hand, or \
                 remove them with `amlplan state rm` and record each object again with \
                 `amlplan import ADDRESS ID`; nothing was planned or written",
                positions.len(),
                listed.join("; "),
            ),
        ));
    }
}

fn duplicate_keys(resource: &StateResource, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<(&Option<InstanceKey>, &Option<String>), usize> = BTreeMap::new();
    for instance in &resource.instances {
        *seen
            .entry((&instance.index_key, &instance.deposed))
            .or_default() += 1;
    }
    for ((key, deposed), count) in seen {
        if count < 2 {
            continue;
        }
        let name = entry_name(resource, key);
        let what = match deposed {
            Some(deposed) => format!("deposed object `{deposed}`"),
            None => "current object".to_owned(),
        };
        diags.push(Diagnostic::error(
            "Duplicate instance key in state",
            format!(
                "`{name}` has {count} entries for its {what} in the state, so amlplan cannot tell \
                 which one is the object.\n\
                 help: remove them with {} (the objects themselves are untouched), then record the \
                 right one with `amlplan import '{name}' ID`; nothing was planned or written",
                removal_hint(&name),
            ),
        ));
    }
}

/// The ARM type every object of `schema` has
/// (`Microsoft.MachineLearningServices/workspaces/computes`).
fn arm_type(schema: &ResourceSchema) -> String {
    let collection = schema.api.collection;
    let mut arm_type = format!("{PROVIDER_NAMESPACE}/workspaces");
    if collection != Collection::Workspaces {
        arm_type.push('/');
        arm_type.push_str(collection.segment());
    }
    if collection.is_versioned() {
        arm_type.push_str("/versions");
    }
    arm_type
}

/// The entry's ARM id when it is the object's: its `id`, else the one built from its name and
/// parent (`None` when neither is there). An `id` that is not the object's is an error.
fn check_id(
    schema: &ResourceSchema,
    values: &ObjectValue,
    name: &str,
) -> Result<Option<ArmId>, Box<Diagnostic>> {
    let mut without_id = values.clone();
    without_id.set("id", Value::Null);
    let stored = match values.get("id") {
        Value::Null => {
            // Not recorded: the id the name and parent give (a workspace's needs the
            // subscription, which only an id holds).
            return Ok(resource_id(schema, &without_id, None).ok());
        }
        Value::String(text) => text,
        other => {
            return Err(invalid_id(
                name,
                &other.to_json().to_string(),
                "it is not a string".to_owned(),
                None,
            ));
        }
    };
    let id = match ArmId::parse(stored) {
        Ok(id) => id,
        Err(error) => {
            return Err(invalid_id(
                name,
                stored,
                format!("it is not an ARM resource id ({})", error.reason),
                None,
            ));
        }
    };
    let expected_type = arm_type(schema);
    let actual_type = id.resource_type().unwrap_or_default();
    if !actual_type.eq_ignore_ascii_case(&expected_type) {
        let actual = if actual_type.is_empty() {
            "a resource group or subscription".to_owned()
        } else {
            format!("a `{actual_type}`")
        };
        return Err(invalid_id(
            name,
            stored,
            format!(
                "it is the id of {actual}, and every `{}` is a `{expected_type}`",
                schema.type_name
            ),
            None,
        ));
    }
    if let Ok(built) = resource_id(schema, &without_id, Some(id.subscription()))
        && built != id
    {
        let mut attributes = vec![
            schema.api.name_attribute.as_str(),
            schema.api.parent_attribute.as_str(),
        ];
        if schema.api.collection.is_versioned() {
            attributes.push(crate::schema::VERSION_ATTRIBUTE);
        }
        let attributes: Vec<String> = attributes.iter().map(|name| format!("`{name}`")).collect();
        return Err(invalid_id(
            name,
            stored,
            format!(
                "its {} give the id `{built}`: the recorded id is another object's",
                attributes.join(", ")
            ),
            Some(&built),
        ));
    }
    Ok(Some(id))
}

fn invalid_id(name: &str, stored: &str, why: String, built: Option<&ArmId>) -> Box<Diagnostic> {
    let import = match built {
        Some(built) => format!("`amlplan import '{name}' {built}`"),
        None => format!("`amlplan import '{name}' ID`"),
    };
    Box::new(Diagnostic::error(
        "Invalid id in state",
        format!(
            "`{name}` is recorded with the id `{stored}`, but {why}. amlplan reads, changes and \
             deletes the object an id names, so it does not use this entry.\n\
             help: remove the entry with {} (the object itself is untouched), then record the \
             object with {import}; nothing was planned or written",
            removal_hint(name),
        ),
    ))
}

fn one_object_twice(names: &[String], state: &State) -> Diagnostic {
    let id = state
        .resources
        .iter()
        .flat_map(|resource| current(resource).map(move |instance| (resource, instance)))
        .find(|(resource, instance)| entry_name(resource, &instance.index_key) == names[0])
        .and_then(|(_, instance)| instance.attributes.as_ref()?.get("id")?.as_str())
        .map(|id| format!(" (`{id}`)"))
        .unwrap_or_default();
    let hints: Vec<String> = names.iter().map(|name| removal_hint(name)).collect();
    Diagnostic::error(
        "One object recorded twice in state",
        format!(
            "{} record the same ARM object{id}. amlplan would manage it twice: a change planned \
             for one would undo the other, and destroying one would delete the object the other \
             still records.\n\
             help: keep one entry and remove the others, with one of {} (the object itself is \
             untouched); nothing was planned or written",
            quoted(names),
            hints.join(", "),
        ),
    )
}

fn invalid_modules(state: &State, diags: &mut Diagnostics) {
    for resource in &state.resources {
        if resource.module_path().is_none() {
            let module = resource.module.as_deref().unwrap_or_default();
            diags.push(Diagnostic::error(
                "Invalid module path in state",
                format!(
                    "The entry of `{}.{}` says it is in module `{module}`, which is not a module \
                     path (`module.NAME`, `module.NAME[KEY]`, ...).\n\
                     help: correct the entry's `module` by hand; nothing was planned or written",
                    resource.resource_type, resource.name
                ),
            ));
        }
    }
}
