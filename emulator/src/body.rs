//! Schema-driven handling of request and response bodies, for any resource type of the catalogue:
//! validation of PUT bodies, write-only secrets (stripped from reads, carried over when a PUT omits
//! them), and the in-place change check. Only `model::schema` drives it: no per-type code. Also
//! the first step of every handler that takes a body: reading it as a JSON object.
//!
//! | rule                | behaviour                                                                 |
//! |---------------------|---------------------------------------------------------------------------|
//! | types               | a value at an attribute's ARM path must have the attribute's type (400 naming the path) |
//! | closed sets         | a string attribute with `one_of` accepts only those values                |
//! | required            | on create, every `required` attribute with an ARM path must be present    |
//! | unknown properties  | accepted and echoed below the type-specific level (the API has more fields than the catalogue models); refused at the envelope and compute base levels, which the API defines completely |
//! | computed            | ignored in requests (clients echo GET bodies); the service fills them     |
//! | secrets             | `sensitive`/`write_only` attributes are stored, never returned by reads   |
//! | carry-over          | a PUT that omits a write-only value, or a value that cannot change in place, keeps the stored one; so does a PUT of a compute that omits a type-specific property the catalogue does not model |
//! | defaults            | schema defaults fill what a stored body leaves unset, so reads report them |
//! | in-place changes    | a PUT changing a `replace`/`reattach` attribute is refused (400 `Conflict`) |

use std::collections::BTreeMap;

use model::schema::{AttrType, Attribute, Presence, ResourceSchema};
use serde_json::{Map, Value as Json};

use crate::arm::{ArmError, get_path, set_path, shown};

/// The JSON object of a request body (400 `InvalidRequestContent` when empty, not JSON or not an
/// object).
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Json, ArmError> {
    if bytes.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "the request body is empty",
        ));
    }
    let body: Json = serde_json::from_slice(bytes).map_err(|error| {
        ArmError::bad_request(
            "InvalidRequestContent",
            format!("the request body is not valid JSON: {error}"),
        )
    })?;
    if !body.is_object() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "the request body must be a JSON object",
        ));
    }
    Ok(body)
}

/// The `properties` object of a body (required).
pub(crate) fn properties_of(body: &Json) -> Result<Map<String, Json>, ArmError> {
    match body.get("properties") {
        Some(Json::Object(properties)) => Ok(properties.clone()),
        _ => Err(ArmError::bad_request(
            "ValidationError",
            "`properties` is required and must be an object",
        )
        .with_target("properties")),
    }
}

/// Checks `body` against the schema; `creating` adds the presence check of required attributes.
pub(crate) fn validate(
    schema: &ResourceSchema,
    body: &Json,
    creating: bool,
) -> Result<(), ArmError> {
    let mut problems = Vec::new();
    check_attributes(&schema.attributes, body, "", creating, &mut problems);
    match problems.first() {
        None => Ok(()),
        Some((target, message)) => {
            let mut error = ArmError::bad_request("ValidationError", message.clone())
                .with_target(target.clone());
            error.details = problems
                .iter()
                .skip(1)
                .map(|(_, message)| ("ValidationError".to_owned(), message.clone()))
                .collect();
            Err(error)
        }
    }
}

fn join(prefix: &str, suffix: &str) -> String {
    if prefix.is_empty() {
        suffix.to_owned()
    } else {
        format!("{prefix}.{suffix}")
    }
}

fn check_attributes(
    attributes: &BTreeMap<String, Attribute>,
    object: &Json,
    at: &str,
    creating: bool,
    problems: &mut Vec<(String, String)>,
) {
    for attribute in attributes.values() {
        let Some(arm) = &attribute.arm else { continue };
        if attribute.presence == Presence::Computed {
            continue;
        }
        let here = join(at, &arm.to_string());
        match get_path(object, arm.segments()) {
            None | Some(Json::Null) => {
                if creating && attribute.presence == Presence::Required {
                    problems.push((here.clone(), format!("`{here}` is required")));
                }
            }
            Some(value) => check_value(attribute, &attribute.ty, value, &here, creating, problems),
        }
    }
}

fn check_value(
    attribute: &Attribute,
    ty: &AttrType,
    value: &Json,
    here: &str,
    creating: bool,
    problems: &mut Vec<(String, String)>,
) {
    let mut wrong = |expected: &str| {
        problems.push((
            here.to_owned(),
            format!("`{here}` must be {expected}, not `{}`", shown(value)),
        ));
    };
    match ty {
        _ if value.is_null() => {}
        AttrType::String => match value.as_str() {
            None => wrong("a string"),
            Some(text)
                if !attribute.one_of.is_empty()
                    && !attribute.one_of.iter().any(|allowed| allowed == text) =>
            {
                let allowed = attribute
                    .one_of
                    .iter()
                    .map(|allowed| format!("`{allowed}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                problems.push((
                    here.to_owned(),
                    format!("`{here}` must be one of {allowed}, not `{text}`"),
                ));
            }
            Some(_) => {}
        },
        AttrType::Number => {
            if !value.is_number() {
                wrong("a number");
            }
        }
        AttrType::Bool => {
            if !value.is_boolean() {
                wrong("a boolean");
            }
        }
        AttrType::List(element) => match value.as_array() {
            None => wrong("a list"),
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    check_value(
                        attribute,
                        element,
                        item,
                        &format!("{here}[{index}]"),
                        creating,
                        problems,
                    );
                }
            }
        },
        AttrType::Map(element) => match value.as_object() {
            None => wrong("an object (map)"),
            Some(entries) => {
                for (key, item) in entries {
                    check_value(
                        attribute,
                        element,
                        item,
                        &format!("{here}.{key}"),
                        creating,
                        problems,
                    );
                }
            }
        },
        AttrType::Object(nested) => {
            if value.is_object() {
                check_attributes(nested, value, here, creating, problems);
            } else {
                wrong("an object");
            }
        }
    }
}

/// Refuses keys of `object` outside `allowed` (a level of the body the API defines completely).
pub(crate) fn refuse_unknown_keys(
    object: &Json,
    allowed: &[&str],
    at: &str,
) -> Result<(), ArmError> {
    let Some(entries) = object.as_object() else {
        let place = if at.is_empty() {
            "the request body".to_owned()
        } else {
            format!("`{at}`")
        };
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            format!("{place} must be a JSON object"),
        ));
    };
    for key in entries.keys() {
        if !allowed.iter().any(|known| known.eq_ignore_ascii_case(key)) {
            let here = join(at, key);
            return Err(ArmError::bad_request(
                "ValidationError",
                format!(
                    "`{here}` is not a property of this resource; known properties here: {}",
                    allowed.join(", ")
                ),
            )
            .with_target(here));
        }
    }
    Ok(())
}

fn is_secret(attribute: &Attribute) -> bool {
    attribute.sensitive || attribute.write_only
}

/// Removes every secret value from a body that is about to be returned.
pub(crate) fn strip_secrets(schema: &ResourceSchema, body: &mut Json) {
    strip_attributes(&schema.attributes, body);
}

fn strip_attributes(attributes: &BTreeMap<String, Attribute>, object: &mut Json) {
    for attribute in attributes.values() {
        let Some(arm) = &attribute.arm else { continue };
        if is_secret(attribute) {
            remove_path(object, arm.segments());
            continue;
        }
        let Some(nested) = attribute.ty.nested_attributes() else {
            continue;
        };
        let Some(value) = get_path_mut(object, arm.segments()) else {
            continue;
        };
        match (&attribute.ty, value) {
            (AttrType::Object(_), value @ Json::Object(_)) => strip_attributes(nested, value),
            (AttrType::List(_), Json::Array(items)) => items
                .iter_mut()
                .for_each(|item| strip_attributes(nested, item)),
            (AttrType::Map(_), Json::Object(entries)) => {
                entries
                    .values_mut()
                    .for_each(|item| strip_attributes(nested, item));
            }
            _ => {}
        }
    }
}

fn contains_secret(attribute: &Attribute) -> bool {
    is_secret(attribute)
        || attribute
            .ty
            .nested_attributes()
            .is_some_and(|nested| nested.values().any(contains_secret))
}

/// The `listKeys` view of a stored body: `computeType` plus, for every secret-bearing part of
/// the type-specific properties, that part as stored (the object holding the secret, so that the
/// VM shape `administratorAccount: {username, password, publicKeyData, privateKeyData}` of the
/// reference comes out as is).
pub(crate) fn secrets_view(schema: &ResourceSchema, stored: &Json) -> Map<String, Json> {
    let mut keys = Map::new();
    for attribute in schema.attributes.values() {
        let Some(arm) = &attribute.arm else { continue };
        if !contains_secret(attribute) {
            continue;
        }
        let segments = arm.segments();
        let Some(first) = segments
            .strip_prefix(&["properties".to_owned(), "properties".to_owned()])
            .and_then(|relative| relative.first())
        else {
            continue;
        };
        if let Some(value) = stored
            .get("properties")
            .and_then(|properties| properties.get("properties"))
            .and_then(|properties| properties.get(first))
        {
            keys.insert(first.clone(), value.clone());
        }
    }
    keys
}

/// Fills into `new` what a PUT may omit: write-only values and values that cannot change in
/// place, from the `stored` body.
pub(crate) fn carry_over(schema: &ResourceSchema, stored: &Json, new: &mut Json) {
    carry_attributes(&schema.attributes, stored, new);
}

fn carry_attributes(attributes: &BTreeMap<String, Attribute>, stored: &Json, new: &mut Json) {
    for attribute in attributes.values() {
        let Some(arm) = &attribute.arm else { continue };
        if attribute.presence == Presence::Computed {
            continue;
        }
        let old = get_path(stored, arm.segments()).filter(|value| !value.is_null());
        let current = get_path(new, arm.segments()).filter(|value| !value.is_null());
        match (old, current) {
            (Some(old), None) if is_secret(attribute) || attribute.update.forces_new() => {
                set_path(new, arm.segments(), old.clone());
            }
            (Some(old), Some(_)) => {
                if let (AttrType::Object(nested), Some(target)) =
                    (&attribute.ty, get_path_mut(new, arm.segments()))
                {
                    carry_attributes(nested, old, target);
                }
            }
            _ => {}
        }
    }
}

/// Fills into `new` the type-specific properties (`properties.properties.*`) that no attribute of
/// the schema models and that a PUT omits, from `stored`: the service keeps them (the spec's
/// "Update a AML Compute" example sends only `scaleSettings`, and its response still reports
/// `isolatedNetwork` and `subnet`). Modelled attributes follow [`carry_over`].
pub(crate) fn carry_unmodelled(schema: &ResourceSchema, stored: &Json, new: &mut Json) {
    let Some(old) = stored
        .get("properties")
        .and_then(|properties| properties.get("properties"))
        .and_then(Json::as_object)
    else {
        return;
    };
    let modelled: Vec<&str> = schema
        .attributes
        .values()
        .filter_map(|attribute| attribute.arm.as_ref())
        .filter_map(|arm| match arm.segments() {
            [first, second, key, ..] if first == "properties" && second == "properties" => {
                Some(key.as_str())
            }
            _ => None,
        })
        .collect();
    let missing: Vec<(&String, &Json)> = old
        .iter()
        .filter(|(key, value)| !modelled.contains(&key.as_str()) && !value.is_null())
        .filter(|(key, _)| {
            get_path(
                new,
                &[
                    "properties".to_owned(),
                    "properties".to_owned(),
                    (*key).clone(),
                ],
            )
            .is_none()
        })
        .collect();
    if missing.is_empty() || !new.get("properties").is_some_and(Json::is_object) {
        return;
    }
    if !new["properties"]
        .get("properties")
        .is_some_and(Json::is_object)
    {
        new["properties"]["properties"] = Json::Object(Map::new());
    }
    for (key, value) in missing {
        new["properties"]["properties"][key.as_str()] = value.clone();
    }
}

/// Sets the schema defaults of attributes (top-level ones, by ARM path) that `stored` leaves unset.
pub(crate) fn fill_defaults(schema: &ResourceSchema, stored: &mut Json) {
    for attribute in schema.attributes.values() {
        let (Some(arm), Some(default)) = (&attribute.arm, &attribute.default) else {
            continue;
        };
        if get_path(stored, arm.segments()).is_none_or(Json::is_null) {
            set_path(stored, arm.segments(), default.to_json());
        }
    }
}

/// The first attribute whose value differs between `stored` and `new` although it cannot change
/// in place (`replace`/`reattach`); defaults count as set. Resource ids compare case-insensitively.
pub(crate) fn forbidden_change(
    schema: &ResourceSchema,
    stored: &Json,
    new: &Json,
) -> Option<String> {
    for (name, attribute) in &schema.attributes {
        let Some(arm) = &attribute.arm else { continue };
        if !attribute.update.forces_new() || attribute.presence == Presence::Computed {
            continue;
        }
        let default = attribute.default.as_ref().map(model::value::Value::to_json);
        let read = |body: &Json| {
            get_path(body, arm.segments())
                .filter(|value| !value.is_null())
                .cloned()
                .or_else(|| default.clone())
        };
        let (old, current) = (read(stored), read(new));
        let same = match (&old, &current) {
            (Some(Json::String(a)), Some(Json::String(b))) if name.ends_with("_id") => {
                a.eq_ignore_ascii_case(b)
            }
            // An optional-computed value the request leaves out keeps the service's value.
            (Some(_), None) if attribute.presence == Presence::OptionalComputed => true,
            _ => old == current,
        };
        if !same {
            return Some(arm.to_string());
        }
    }
    None
}

/// The attribute whose ARM path (from the body root) is `path`.
pub(crate) fn attribute_at<'a>(schema: &'a ResourceSchema, path: &str) -> Option<&'a Attribute> {
    schema.attributes.values().find(|attribute| {
        attribute
            .arm
            .as_ref()
            .is_some_and(|arm| arm.to_string() == path)
    })
}

fn remove_path(json: &mut Json, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    if let Some(Json::Object(parent)) = get_path_mut(json, parents) {
        parent.remove(last);
    }
}

pub(crate) fn get_path_mut<'a>(json: &'a mut Json, path: &[String]) -> Option<&'a mut Json> {
    path.iter()
        .try_fold(json, |current, segment| current.get_mut(segment.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry() -> model::schema::Registry {
        model::schema::load_registry().expect("catalogue loads")
    }

    #[test]
    fn wrong_types_name_the_path() {
        let registry = registry();
        let cluster = registry
            .by_compute_type("AmlCompute")
            .expect("cluster schema");
        let body = json!({"properties": {"computeType": "AmlCompute", "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": "four"}}}});
        let error = validate(cluster, &body, true).expect_err("string for a number");
        assert_eq!(
            error.target.as_deref(),
            Some("properties.properties.scaleSettings.maxNodeCount")
        );
        assert!(
            error.message.contains("must be a number"),
            "{}",
            error.message
        );
    }

    #[test]
    fn required_attributes_are_checked_on_create_only() {
        let registry = registry();
        let cluster = registry
            .by_compute_type("AmlCompute")
            .expect("cluster schema");
        let body = json!({"properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": 2}}}});
        let error = validate(cluster, &body, true).expect_err("vmSize missing");
        assert_eq!(
            error.target.as_deref(),
            Some("properties.properties.vmSize")
        );
        validate(cluster, &body, false).expect("updates may omit it");
    }

    #[test]
    fn closed_sets_are_enforced() {
        let registry = registry();
        let cluster = registry
            .by_compute_type("AmlCompute")
            .expect("cluster schema");
        let body = json!({"properties": {"properties": {"vmSize": "x", "vmPriority": "Spot", "scaleSettings": {"maxNodeCount": 1}}}});
        let error = validate(cluster, &body, true).expect_err("Spot is not allowed");
        assert!(error.message.contains("`Dedicated`"), "{}", error.message);
    }

    #[test]
    fn secrets_are_stripped_including_nested_ones() {
        let registry = registry();
        let aks = registry.by_compute_type("AKS").expect("aks schema");
        let mut body = json!({"properties": {"properties": {"agentCount": 3, "sslConfiguration": {"status": "Enabled", "cert": "C", "key": "K", "cname": "x"}}}});
        strip_secrets(aks, &mut body);
        assert_eq!(
            body,
            json!({"properties": {"properties": {"agentCount": 3, "sslConfiguration": {"status": "Enabled", "cname": "x"}}}})
        );
    }

    #[test]
    fn list_keys_view_holds_the_secret_objects() {
        let registry = registry();
        let vm = registry
            .by_compute_type("VirtualMachine")
            .expect("vm schema");
        let stored = json!({"properties": {"properties": {"sshPort": 22, "administratorAccount": {"username": "u", "password": "p"}}}});
        let keys = secrets_view(vm, &stored);
        assert_eq!(
            Json::Object(keys),
            json!({"administratorAccount": {"username": "u", "password": "p"}})
        );
    }

    #[test]
    fn unmodelled_properties_are_carried_over_unless_given() {
        let registry = registry();
        let cluster = registry
            .by_compute_type("AmlCompute")
            .expect("cluster schema");
        let stored = json!({"properties": {"properties": {"vmSize": "A", "isolatedNetwork": false, "propertyBag": {"x": 1}, "enableNodePublicIp": true}}});
        let mut new = json!({"properties": {"properties": {"propertyBag": {"y": 2}}}});
        carry_unmodelled(cluster, &stored, &mut new);
        assert_eq!(
            new,
            json!({"properties": {"properties": {"isolatedNetwork": false, "propertyBag": {"y": 2}}}}),
            "modelled attributes (vmSize, enableNodePublicIp) are left to carry_over"
        );
    }

    #[test]
    fn omitted_secrets_are_carried_over_and_changes_that_force_new_are_found() {
        let registry = registry();
        let vm = registry
            .by_compute_type("VirtualMachine")
            .expect("vm schema");
        let stored = json!({"properties": {"resourceId": "/A", "properties": {"administratorAccount": {"username": "u", "password": "p"}}}});
        let mut new = json!({"properties": {"resourceId": "/a", "properties": {"administratorAccount": {"username": "u"}}}});
        carry_over(vm, &stored, &mut new);
        assert_eq!(
            new["properties"]["properties"]["administratorAccount"]["password"],
            json!("p")
        );
        assert_eq!(forbidden_change(vm, &stored, &new), None);
        new["properties"]["properties"]["sshPort"] = json!(2222);
        assert_eq!(
            forbidden_change(vm, &stored, &new).as_deref(),
            Some("properties.properties.sshPort")
        );
    }
}
