//! The catalogue's constraints checked on one resource's values: `one_of`, whole numbers,
//! ranges, lengths, patterns, ISO 8601 durations, ARM ids of the right type ([`Constraints`]),
//! and the rules between attributes ([`Rule`]). One implementation for both tools: `amlplan`
//! calls it when it evaluates a block (`validate` and `plan`), the provider in
//! `ValidateResourceConfig` and `PlanResourceChange`, and the engine once more before it sends
//! a resource, for values that were unknown at plan time.
//!
//! Unknown values pass (they are checked again when known); null values pass the attribute
//! checks (presence is the front ends' business: they report a missing argument at its block).
//! Diagnostics have attribute subjects; a sensitive value is never quoted.

use std::collections::BTreeMap;

use super::duration::IsoDuration;
use super::{AttrType, Attribute, Constraints, Format, ResourceSchema, Rule};
use crate::addr::{AttrPath, PathStep, ResourceAddr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::spelling::did_you_mean;
use crate::value::{ObjectValue, Value};

/// Checks `values` (a resource's configured values, converted to the schema's types) against
/// every constraint and rule of `schema`. Diagnostics name `addr` and the attribute path.
///
/// ```
/// use model::{addr::ResourceAddr, value::ObjectValue};
/// let registry = model::schema::load_registry().unwrap();
/// let schema = registry.get("azureml_compute_cluster").unwrap();
/// let mut values = ObjectValue::default();
/// values.set("max_node_count", model::value::Value::from(-5));
/// let addr = ResourceAddr::managed("azureml_compute_cluster", "cpu");
/// let diagnostics = model::schema::check::resource(schema, &addr, &values);
/// assert!(diagnostics.has_errors());
/// ```
pub fn resource(schema: &ResourceSchema, addr: &ResourceAddr, values: &ObjectValue) -> Diagnostics {
    let mut checker = Checker {
        addr,
        diagnostics: Diagnostics::default(),
        invalid: Default::default(),
    };
    checker.object(&schema.attributes, &values.0, &AttrPath::default());
    for rule in &schema.rules {
        checker.rule(schema, rule, values);
    }
    checker.diagnostics
}

/// Checks one attribute's `value` (at `path` of `addr`) against the attribute's constraints,
/// and those of its nested attributes.
pub fn value(
    attribute: &Attribute,
    value: &Value,
    addr: &ResourceAddr,
    path: &AttrPath,
) -> Diagnostics {
    let mut checker = Checker {
        addr,
        diagnostics: Diagnostics::default(),
        invalid: Default::default(),
    };
    checker.value(attribute, value, path);
    checker.diagnostics
}

struct Checker<'a> {
    addr: &'a ResourceAddr,
    diagnostics: Diagnostics,
    /// Attribute paths already reported: a rule that names one is not checked again.
    invalid: std::collections::BTreeSet<String>,
}

impl Checker<'_> {
    fn error(&mut self, path: &AttrPath, detail: String) {
        self.invalid.insert(path.to_string());
        self.diagnostics
            .push(Diagnostic::error("Invalid value", detail).at_attr(self.addr, path.clone()));
    }

    fn object(
        &mut self,
        attributes: &BTreeMap<String, Attribute>,
        values: &BTreeMap<String, Value>,
        base: &AttrPath,
    ) {
        for (name, attribute) in attributes {
            if let Some(value) = values.get(name) {
                self.value(attribute, value, &base.join(PathStep::Attr(name.clone())));
            }
        }
    }

    fn value(&mut self, attribute: &Attribute, value: &Value, path: &AttrPath) {
        if matches!(value, Value::Null | Value::Unknown) {
            return;
        }
        let shown = Shown {
            value,
            sensitive: attribute.sensitive,
        };
        if let Value::String(text) = value
            && !attribute.one_of.is_empty()
            && !attribute.one_of.contains(text)
        {
            let allowed: Vec<String> = attribute
                .one_of
                .iter()
                .map(|option| format!("`{option}`"))
                .collect();
            let hint = if attribute.sensitive {
                String::new()
            } else {
                did_you_mean(text, attribute.one_of.iter().map(String::as_str))
            };
            self.error(
                path,
                format!(
                    "`{path}` must be one of {}, not {shown}.{hint}",
                    allowed.join(", ")
                ),
            );
        }
        self.constraints(&attribute.constraints, value, shown, path);
        match (&attribute.ty, value) {
            (AttrType::Object(nested), Value::Map(values)) => self.object(nested, values, path),
            (AttrType::List(element), Value::List(items)) => {
                if let AttrType::Object(nested) = &**element {
                    for (index, item) in items.iter().enumerate() {
                        if let Value::Map(values) = item {
                            self.object(nested, values, &path.join(PathStep::Index(index as u64)));
                        }
                    }
                }
            }
            (AttrType::Map(element), Value::Map(entries)) => {
                if let AttrType::Object(nested) = &**element {
                    for (key, item) in entries {
                        if let Value::Map(values) = item {
                            self.object(nested, values, &path.join(PathStep::Key(key.clone())));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn constraints(
        &mut self,
        constraints: &Constraints,
        value: &Value,
        shown: Shown<'_>,
        path: &AttrPath,
    ) {
        if constraints.is_empty() {
            return;
        }
        match value {
            Value::Number(number) => {
                let number = number.0;
                if constraints.integer && number.fract() != 0.0 {
                    self.error(
                        path,
                        format!("`{path}` must be a whole number, not {shown}."),
                    );
                    return;
                }
                if let Some(bounds) = bounds(constraints.minimum, constraints.maximum, number) {
                    self.error(path, format!("`{path}` must be {bounds}, not {shown}."));
                }
            }
            Value::String(text) => {
                let length = text.chars().count();
                if let Some(bounds) = length_bounds(constraints, length, "character") {
                    let got = if length == 0 {
                        "it is empty".to_owned()
                    } else {
                        format!("{shown} has {length}")
                    };
                    self.error(path, format!("`{path}` must be {bounds} long; {got}."));
                    return;
                }
                for pattern in &constraints.patterns {
                    if pattern.regex.is_match(text) != pattern.matches {
                        self.error(
                            path,
                            format!("`{path}` must {}: {shown} does not.", pattern.rule),
                        );
                        return;
                    }
                }
                match &constraints.format {
                    Some(Format::Duration { min, max }) => {
                        self.duration(text, min.as_ref(), max.as_ref(), shown, path)
                    }
                    Some(Format::ArmId { types }) => self.arm_id(text, types, shown, path),
                    None => {}
                }
            }
            Value::List(items) => {
                if let Some(bounds) = length_bounds(constraints, items.len(), "element") {
                    self.error(
                        path,
                        format!("`{path}` must have {bounds}; it has {}.", items.len()),
                    );
                }
            }
            Value::Map(entries) => {
                if let Some(bounds) = length_bounds(constraints, entries.len(), "element") {
                    self.error(
                        path,
                        format!("`{path}` must have {bounds}; it has {}.", entries.len()),
                    );
                }
            }
            _ => {}
        }
    }

    fn duration(
        &mut self,
        text: &str,
        min: Option<&IsoDuration>,
        max: Option<&IsoDuration>,
        shown: Shown<'_>,
        path: &AttrPath,
    ) {
        let Ok(duration) = IsoDuration::parse(text) else {
            self.error(
                path,
                format!(
                    "`{path}` must be an ISO 8601 duration such as `PT20M` (20 minutes) or `P1DT12H` (1 day 12 hours), \
                     not {shown}."
                ),
            );
            return;
        };
        let too_short = min.is_some_and(|min| duration.seconds() < min.seconds());
        let too_long = max.is_some_and(|max| duration.seconds() > max.seconds());
        if too_short || too_long {
            let range = match (min, max) {
                (Some(min), Some(max)) => format!(
                    "between {min} ({}) and {max} ({})",
                    min.in_words(),
                    max.in_words()
                ),
                (Some(min), None) => format!("at least {min} ({})", min.in_words()),
                (None, Some(max)) => format!("at most {max} ({})", max.in_words()),
                (None, None) => unreachable!("a bound was crossed"),
            };
            self.error(
                path,
                format!(
                    "`{path}` must be {range}, not {shown} ({}).",
                    duration.in_words()
                ),
            );
        }
    }

    fn arm_id(&mut self, text: &str, types: &[String], shown: Shown<'_>, path: &AttrPath) {
        let found = arm_resource_type(text);
        if found.as_deref().is_some_and(|found| {
            types
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(found))
        }) {
            return;
        }
        let wanted: Vec<String> = types.iter().map(|ty| format!("`{ty}`")).collect();
        let example = types
            .first()
            .map(|ty| {
                let (namespace, kinds) = ty.split_once('/').unwrap_or((ty, ""));
                let names: Vec<String> = kinds.split('/').map(|kind| format!("{kind}/{{name}}")).collect();
                format!(
                    "\nhelp: an id of this type reads `/subscriptions/{{subscription}}/resourceGroups/{{group}}/providers/{namespace}/{}`",
                    names.join("/")
                )
            })
            .unwrap_or_default();
        let what = match found {
            Some(found) => format!("{shown} is the id of a `{found}`"),
            None => format!("{shown} is not an ARM resource id"),
        };
        self.error(
            path,
            format!(
                "`{path}` must be the ARM id of a {}; {what}.{example}",
                wanted.join(" or ")
            ),
        );
    }

    fn rule(&mut self, schema: &ResourceSchema, rule: &Rule, values: &ObjectValue) {
        if rule
            .attributes()
            .iter()
            .any(|name| self.invalid.contains(*name))
        {
            return;
        }
        let lookup = |name: &str| lookup(schema, values, name);
        let path = |name: &str| {
            AttrPath(
                name.split('.')
                    .map(|step| PathStep::Attr(step.to_owned()))
                    .collect(),
            )
        };
        match rule {
            Rule::Ordered { lesser, greater } => {
                let (Some(Value::Number(low)), Some(Value::Number(high))) =
                    (lookup(lesser), lookup(greater))
                else {
                    return;
                };
                if low.0 > high.0 {
                    self.error(
                        &path(lesser),
                        format!(
                            "`{lesser}` ({low}) must not be greater than `{greater}` ({high})."
                        ),
                    );
                }
            }
            Rule::OneRequired { attributes, reason } => {
                let values: Vec<Option<Value>> =
                    attributes.iter().map(|name| lookup(name)).collect();
                let unknown = values
                    .iter()
                    .any(|value| matches!(value, Some(Value::Unknown)));
                if !unknown && values.iter().all(Option::is_none) {
                    let names: Vec<String> =
                        attributes.iter().map(|name| format!("`{name}`")).collect();
                    self.diagnostics.push(
                        Diagnostic::error(
                            "Missing required argument",
                            format!(
                                "`{}` needs one of {}: {reason}.",
                                schema.type_name,
                                names.join(" or ")
                            ),
                        )
                        .at_attr(self.addr, AttrPath::default()),
                    );
                }
            }
            Rule::Exclusive { attributes } => {
                let set: Vec<&String> = attributes
                    .iter()
                    .filter(|name| {
                        lookup(name).is_some_and(|value| !matches!(value, Value::Unknown))
                    })
                    .collect();
                if set.len() > 1 {
                    let names: Vec<String> = set.iter().map(|name| format!("`{name}`")).collect();
                    self.diagnostics.push(
                        Diagnostic::error(
                            "Conflicting arguments",
                            format!(
                                "Only one of {} can be set; remove all but one.",
                                names.join(" and ")
                            ),
                        )
                        .at_attr(self.addr, path(set[1])),
                    );
                }
            }
            Rule::Requires {
                attribute,
                requires,
            } => {
                if lookup(attribute).is_none() {
                    return;
                }
                for needed in requires {
                    if lookup(needed).is_none() {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "Missing required argument",
                                format!("`{attribute}` needs `{needed}` to be set too."),
                            )
                            .at_attr(self.addr, path(attribute)),
                        );
                    }
                }
            }
        }
    }
}

/// The value at a dotted path through nested objects, or the attribute's default when unset;
/// `None` when neither (null counts as unset).
fn lookup(schema: &ResourceSchema, values: &ObjectValue, dotted: &str) -> Option<Value> {
    let mut attributes = &schema.attributes;
    let mut current = &values.0;
    let mut steps = dotted.split('.').peekable();
    while let Some(step) = steps.next() {
        let attribute = attributes.get(step)?;
        let value = current.get(step).unwrap_or(&Value::Null);
        if steps.peek().is_none() {
            return match value {
                Value::Null => attribute.default.clone(),
                other => Some(other.clone()),
            };
        }
        match (value, &attribute.ty) {
            (Value::Map(inner), AttrType::Object(nested)) => {
                current = inner;
                attributes = nested;
            }
            (Value::Unknown, _) => return Some(Value::Unknown),
            _ => return None,
        }
    }
    None
}

/// `between 0 and 10`, `at least 0`, `at most 10`, when `number` is outside; otherwise `None`.
fn bounds(minimum: Option<f64>, maximum: Option<f64>, number: f64) -> Option<String> {
    let below = minimum.is_some_and(|minimum| number < minimum);
    let above = maximum.is_some_and(|maximum| number > maximum);
    if !(below || above) && number.is_finite() {
        return None;
    }
    let show = |limit: f64| crate::value::Number(limit).to_string();
    Some(match (minimum, maximum) {
        (Some(minimum), Some(maximum)) => {
            format!("between {} and {}", show(minimum), show(maximum))
        }
        (Some(minimum), None) => format!("at least {}", show(minimum)),
        (None, Some(maximum)) => format!("at most {}", show(maximum)),
        (None, None) => "a finite number".to_owned(),
    })
}

/// `3 to 24 characters`, `at least 1 element`, when `length` is outside; otherwise `None`.
fn length_bounds(constraints: &Constraints, length: usize, unit: &str) -> Option<String> {
    let below = constraints.min_length.is_some_and(|min| length < min);
    let above = constraints.max_length.is_some_and(|max| length > max);
    if !(below || above) {
        return None;
    }
    let plural = |count: usize| {
        if count == 1 {
            unit.to_owned()
        } else {
            format!("{unit}s")
        }
    };
    Some(match (constraints.min_length, constraints.max_length) {
        (Some(min), Some(max)) if min == max => format!("exactly {min} {}", plural(min)),
        (Some(min), Some(max)) => format!("{min} to {max} {}", plural(max)),
        (Some(min), None) => format!("at least {min} {}", plural(min)),
        (None, Some(max)) => format!("at most {max} {}", plural(max)),
        (None, None) => unreachable!("a bound was crossed"),
    })
}

/// The resource type an ARM id names (`Microsoft.Network/virtualNetworks/subnets`), if `text`
/// is one: `/subscriptions/{s}/resourceGroups/{g}/providers/{namespace}/{type}/{name}[/{type}/{name}]...`.
///
/// ```
/// use model::schema::check::arm_resource_type;
/// let id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/net/subnets/default";
/// assert_eq!(arm_resource_type(id).as_deref(), Some("Microsoft.Network/virtualNetworks/subnets"));
/// assert_eq!(arm_resource_type("vm-1"), None);
/// ```
pub fn arm_resource_type(text: &str) -> Option<String> {
    let segments: Vec<&str> = text.strip_prefix('/')?.split('/').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return None;
    }
    let [subscriptions, _, groups, _, providers, namespace, rest @ ..] = segments.as_slice() else {
        return None;
    };
    if !subscriptions.eq_ignore_ascii_case("subscriptions")
        || !groups.eq_ignore_ascii_case("resourceGroups")
        || !providers.eq_ignore_ascii_case("providers")
        || rest.is_empty()
        || rest.len() % 2 != 0
    {
        return None;
    }
    let kinds: Vec<&str> = rest.iter().step_by(2).copied().collect();
    Some(format!("{namespace}/{}", kinds.join("/")))
}

/// A value as a diagnostic quotes it: sensitive ones never, long strings cut.
#[derive(Clone, Copy)]
struct Shown<'a> {
    value: &'a Value,
    sensitive: bool,
}

/// How many characters of a string value a diagnostic quotes.
const QUOTED_CHARACTERS: usize = 40;

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sensitive {
            return f.write_str("the (sensitive) value given");
        }
        match self.value {
            Value::String(text) if text.chars().count() > QUOTED_CHARACTERS => {
                let head: String = text.chars().take(QUOTED_CHARACTERS).collect();
                write!(f, "`{head}…`")
            }
            Value::String(text) => write!(f, "`{text}`"),
            // Beyond what an f64 holds exactly, the digits printed would not be the ones written.
            Value::Number(number) if number.0.abs() >= 1e16 => write!(f, "{:e}", number.0),
            Value::Number(number) => write!(f, "{number}"),
            other => write!(f, "a {}", other.kind_name()),
        }
    }
}

#[cfg(test)]
mod tests;
