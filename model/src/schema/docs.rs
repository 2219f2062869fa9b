//! Renders the Markdown reference page of a resource type (`docs/resources/<kind>.md`) from its
//! [`ResourceSchema`]. The pages are generated, never edited: a unit test compares every page
//! with a fresh rendering and fails when one is stale, missing or left over
//! (`UPDATE_DOCS=1 cargo test -p model schema::docs` rewrites them). No IO outside that test.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{AttrType, Attribute, Collection, Lifecycle, Presence, ResourceSchema, UpdateMode};
use crate::value::Value;

/// The file name of a type's page under `docs/resources/`: the type name without `azureml_`.
///
/// ```
/// let registry = model::schema::load_registry().expect("the embedded catalogue is valid");
/// let schema = registry.get("azureml_compute_cluster").expect("in the catalogue");
/// assert_eq!(model::schema::docs::doc_file_name(schema), "compute_cluster.md");
/// ```
pub fn doc_file_name(schema: &ResourceSchema) -> String {
    let short = schema
        .type_name
        .strip_prefix("azureml_")
        .unwrap_or(&schema.type_name);
    format!("{short}.md")
}

/// The Markdown reference page of `schema`: what the type is, how objects are created or
/// attached and destroyed, an example, every argument (type, presence, how a change is applied,
/// sensitivity, ARM path, description), nested attributes, and the read-only attributes.
///
/// ```
/// let registry = model::schema::load_registry().expect("the embedded catalogue is valid");
/// let schema = registry.get("azureml_attached_databricks").expect("in the catalogue");
/// let page = model::schema::docs::render_resource_doc(schema);
/// assert!(page.starts_with("# `azureml_attached_databricks`"));
/// assert!(page.contains("detach (resource kept), then attach"));
/// ```
pub fn render_resource_doc(schema: &ResourceSchema) -> String {
    let mut page = String::new();
    let out = &mut page;
    line(out, &format!("# `{}`", schema.type_name));
    line(out, "");
    line(
        out,
        "<!-- Generated from `schemas/` by `model::schema::docs`; do not edit. \
         Regenerate with `UPDATE_DOCS=1 cargo test -p model schema::docs`. -->",
    );
    line(out, "");
    line(out, &schema.description);
    line(out, "");
    render_lifecycle(out, schema);
    render_example(out, schema);
    render_arguments(out, schema);
    render_nested(out, schema, &schema.attributes, "");
    render_rules(out, schema);
    render_read_only(out, schema);
    page
}

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

fn render_lifecycle(out: &mut String, schema: &ResourceSchema) {
    let api = &schema.api;
    line(out, "## Lifecycle");
    line(out, "");
    let kind = match &api.compute_type {
        Some(compute_type) => format!("`properties.computeType = \"{compute_type}\"`"),
        None => String::new(),
    };
    let underlying = api.underlying_attribute.as_deref().unwrap_or("resource_id");
    let types = api
        .underlying_types
        .iter()
        .map(|ty| format!("`{ty}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    match (api.collection, api.lifecycle) {
        (Collection::Computes, Lifecycle::Create) => {
            line(
                out,
                &format!(
                    "Azure ML creates it: `PUT {{workspace}}/computes/{{name}}` with {kind} and no \
                     `properties.resourceId` (the service refuses one: this kind cannot be attached). \
                     Destroying it deletes it: `DELETE {{workspace}}/computes/{{name}}?underlyingResourceAction=Delete`."
                ),
            );
        }
        (Collection::Environments, _) => {
            line(
                out,
                "Versioned: `PUT {workspace}/environments/{name}/versions/{version}` creates a version, \
                 which never changes afterwards except for its description and tags (PUT again). A \
                 change of content plans a new version (the old one is kept, and runs that use it are \
                 untouched). Destroying it archives the version (`PUT` with `isArchived: true`): \
                 Azure ML keeps versions, so it is never deleted.",
            );
        }
        (Collection::Jobs, _) => {
            line(
                out,
                "Submitted once: apply snapshots `source_dir`, reuses the code version the service \
                 already holds with the same hash (`GET {workspace}/codes/{name}/versions?hash=...`) or \
                 uploads only the files it does not hold (`startPendingUpload`, then blob uploads), \
                 then `PUT {workspace}/jobs/{name}` (a `Command` job), and waits for a final status \
                 while printing the log. A run is never updated (only its tags, by PUT): a change of \
                 anything else submits a new run and the old one stays in the workspace's history. \
                 Destroying a run only forgets it. A failed or canceled run is not submitted again \
                 unless something it depends on changes or `--replace` asks for it.",
            );
        }
        (collection, Lifecycle::Create) => {
            line(
                out,
                &format!(
                    "Created with `PUT` on its ARM id (collection `{}`), changed in place with `PATCH` \
                     or `PUT` as the table below says, and deleted with `DELETE`.",
                    collection.segment()
                ),
            );
        }
        (_, Lifecycle::Attach) => {
            line(
                out,
                &format!(
                    "Attach-only: Azure ML cannot create this kind. The resource named by `{underlying}` \
                     ({types}) must already exist; `PUT {{workspace}}/computes/{{name}}` with {kind} and \
                     `properties.resourceId` attaches it. Destroying it detaches it \
                     (`DELETE {{workspace}}/computes/{{name}}?underlyingResourceAction=Detach`): the \
                     resource itself is kept."
                ),
            );
        }
        (_, Lifecycle::CreateOrAttach) => {
            line(
                out,
                &format!(
                    "Create or attach, by `{underlying}`: when it is set, the existing resource ({types}) \
                     is attached (`PUT {{workspace}}/computes/{{name}}` with {kind} and \
                     `properties.resourceId`) and destroying detaches it, keeping the resource \
                     (`underlyingResourceAction=Detach`); when it is unset, Azure ML creates the \
                     resource and destroying deletes it (`underlyingResourceAction=Delete`)."
                ),
            );
        }
    }
    line(out, "");
    if schema.can_attach() {
        let identity = api
            .attachment_identity
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        line(
            out,
            &format!(
                "One attachment per resource and workspace, identified by {identity}: attaching the same \
                 resource again under another name breaks the earlier attachment. So a change of \
                 settings is applied as detach, then attach (the detach finishes before the attach \
                 starts), and a configuration that attaches one resource twice is refused at plan time."
            ),
        );
        line(out, "");
    }
    if has_write_only(&schema.attributes) {
        line(
            out,
            "Write-only arguments (secrets) are sent when the object is created or attached and never \
             returned by reads; plans and state keep only a keyed digest of them, to detect a change.",
        );
        line(out, "");
    }
}

fn has_write_only(attributes: &BTreeMap<String, Attribute>) -> bool {
    attributes.values().any(|attribute| {
        attribute.write_only || attribute.ty.nested_attributes().is_some_and(has_write_only)
    })
}

fn render_example(out: &mut String, schema: &ResourceSchema) {
    line(out, "## Example");
    line(out, "");
    line(out, "```hcl");
    line(
        out,
        &format!("resource \"{}\" \"example\" {{", schema.type_name),
    );
    let shown: Vec<(&String, &String)> = schema
        .attributes
        .iter()
        .filter_map(|(name, attribute)| attribute.example.as_ref().map(|example| (name, example)))
        .collect();
    let width = shown.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    // URL attributes first (name, parent), then the rest in catalogue order, as people write them.
    let url_first =
        |name: &str| !(name == schema.api.name_attribute || name == schema.api.parent_attribute);
    let mut ordered = shown.clone();
    ordered.sort_by_key(|(name, _)| (url_first(name), name.to_string()));
    for (name, example) in ordered {
        line(out, &format!("  {name:<width$} = {example}"));
    }
    line(out, "}");
    line(out, "```");
    line(out, "");
}

fn render_arguments(out: &mut String, schema: &ResourceSchema) {
    line(out, "## Arguments");
    line(out, "");
    render_table_header(out);
    for (name, attribute) in &schema.attributes {
        if attribute.presence.is_configurable() {
            render_row(out, schema, name, attribute, true);
        }
    }
    line(out, "");
}

fn render_table_header(out: &mut String) {
    line(
        out,
        "| Argument | Type | Presence | A change is applied | ARM path | Description |",
    );
    line(out, "|---|---|---|---|---|---|");
}

fn render_row(
    out: &mut String,
    schema: &ResourceSchema,
    name: &str,
    attribute: &Attribute,
    top_level: bool,
) {
    let arm = match (&attribute.arm, top_level) {
        (Some(arm), _) => format!("`{arm}`"),
        (None, true) if attribute.update == UpdateMode::Action => "(POST action)".to_owned(),
        (None, true) if name == "id" => "(the resource's ARM id)".to_owned(),
        (None, true)
            if schema.api.collection == Collection::Jobs
                && name != schema.api.name_attribute
                && name != schema.api.parent_attribute =>
        {
            "(client-side)".to_owned()
        }
        (None, _) => "(URL)".to_owned(),
    };
    line(
        out,
        &format!(
            "| `{name}` | {} | {} | {} | {arm} | {} |",
            type_words(&attribute.ty),
            presence_words(attribute.presence),
            update_words(schema, attribute),
            cell(&describe(attribute)),
        ),
    );
}

fn render_nested(
    out: &mut String,
    schema: &ResourceSchema,
    attributes: &BTreeMap<String, Attribute>,
    prefix: &str,
) {
    for (name, attribute) in attributes {
        let Some(nested) = attribute.ty.nested_attributes() else {
            continue;
        };
        let path = format!("{prefix}{name}");
        let shape = match &attribute.ty {
            AttrType::List(_) => "list of objects; each element has",
            AttrType::Map(_) => "map of objects; each value has",
            _ => "object with",
        };
        line(out, &format!("### `{path}`"));
        line(out, "");
        let base = match (&attribute.arm, &attribute.ty) {
            (Some(arm), AttrType::Object(_)) => format!(" ARM paths are relative to `{arm}`."),
            (Some(arm), _) => format!(" ARM paths are relative to each element of `{arm}`."),
            (None, _) => String::new(),
        };
        line(
            out,
            &format!("`{path}` is a {shape} these attributes.{base}"),
        );
        line(out, "");
        render_table_header(out);
        for (member, member_attribute) in nested {
            render_row(out, schema, member, member_attribute, false);
        }
        line(out, "");
        render_nested(out, schema, nested, &format!("{path}."));
    }
}

fn render_read_only(out: &mut String, schema: &ResourceSchema) {
    let computed: Vec<(&String, &Attribute)> = schema
        .attributes
        .iter()
        .filter(|(_, attribute)| attribute.presence == Presence::Computed)
        .collect();
    if computed.is_empty() {
        return;
    }
    line(out, "## Read-only attributes");
    line(out, "");
    line(out, "Set by the service; never planned as a change.");
    line(out, "");
    line(out, "| Attribute | Type | ARM path | Description |");
    line(out, "|---|---|---|---|");
    for (name, attribute) in computed {
        let arm = match &attribute.arm {
            Some(arm) => format!("`{arm}`"),
            None if name == "id" => "(the resource's ARM id)".to_owned(),
            None => "(the last segment of the ARM id)".to_owned(),
        };
        line(
            out,
            &format!(
                "| `{name}` | {} | {arm} | {} |",
                type_words(&attribute.ty),
                cell(&describe(attribute))
            ),
        );
    }
    line(out, "");
}

fn type_words(ty: &AttrType) -> String {
    match ty {
        AttrType::List(element) if matches!(**element, AttrType::Object(_)) => {
            "list(object)".to_owned()
        }
        AttrType::Map(element) if matches!(**element, AttrType::Object(_)) => {
            "map(object)".to_owned()
        }
        other => other.to_string(),
    }
}

fn presence_words(presence: Presence) -> &'static str {
    match presence {
        Presence::Required => "required",
        Presence::Optional => "optional",
        Presence::OptionalComputed => "optional (the service fills it in when unset)",
        Presence::Computed => "read-only",
    }
}

/// How a change is applied, in words (the module table of [`super`]).
fn update_words(schema: &ResourceSchema, attribute: &Attribute) -> String {
    match attribute.update {
        UpdateMode::Put if schema.api.collection == Collection::Jobs && attribute.arm.is_none() => {
            "in place (recorded; no API call)".to_owned()
        }
        UpdateMode::Put => "in place (PUT)".to_owned(),
        UpdateMode::Patch => "in place (PATCH)".to_owned(),
        UpdateMode::Replace if schema.api.collection == Collection::Environments => {
            "new version (the old one is kept)".to_owned()
        }
        UpdateMode::Replace if schema.api.collection == Collection::Jobs => {
            "new run (the old one stays in history)".to_owned()
        }
        UpdateMode::Replace => "replaces (delete, then create)".to_owned(),
        UpdateMode::Reattach if schema.can_create() => {
            "detach (resource kept), then attach; if Azure ML created it: delete, then create"
                .to_owned()
        }
        UpdateMode::Reattach => "detach (resource kept), then attach".to_owned(),
        UpdateMode::Action => {
            let actions = attribute
                .actions
                .iter()
                .map(|(value, action)| format!("`{action}` for `{value}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("in place (POST {actions})")
        }
        UpdateMode::None => "never (read-only)".to_owned(),
    }
}

/// Marks, allowed values, default, then the one-line description.
fn describe(attribute: &Attribute) -> String {
    let mut text = String::new();
    match (attribute.sensitive, attribute.write_only) {
        (true, true) => text.push_str("**Sensitive, write-only.** "),
        (true, false) => text.push_str("**Sensitive.** "),
        _ => {}
    }
    text.push_str(&attribute.description);
    if !attribute.one_of.is_empty() {
        let values = attribute
            .one_of
            .iter()
            .map(|value| format!("`{value}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(text, " One of {values}.");
    }
    if let Some(constraints) = constraint_words(attribute) {
        let _ = write!(text, " {constraints}");
    }
    if let Some(default) = &attribute.default {
        let _ = write!(text, " Default: `{}`.", value_words(default));
    }
    text
}

/// The attribute's [`super::Constraints`] as sentences, e.g. `Whole number, 0 to 10.`
fn constraint_words(attribute: &Attribute) -> Option<String> {
    let constraints = &attribute.constraints;
    let mut sentences = Vec::new();
    let show = |limit: f64| crate::value::Number(limit).to_string();
    let range = match (constraints.minimum, constraints.maximum) {
        (Some(min), Some(max)) => Some(format!("{} to {}", show(min), show(max))),
        (Some(min), None) => Some(format!("at least {}", show(min))),
        (None, Some(max)) => Some(format!("at most {}", show(max))),
        (None, None) => None,
    };
    match (constraints.integer, range) {
        (true, Some(range)) => sentences.push(format!("Whole number, {range}.")),
        (true, None) => sentences.push("Whole number.".to_owned()),
        (false, Some(range)) => sentences.push(format!("From {range}.")),
        (false, None) => {}
    }
    let unit = if attribute.ty == AttrType::String {
        "characters"
    } else {
        "elements"
    };
    match (constraints.min_length, constraints.max_length) {
        (Some(1), None) if attribute.ty == AttrType::String => {
            sentences.push("Not empty.".to_owned())
        }
        (Some(min), Some(max)) => sentences.push(format!("{min} to {max} {unit}.")),
        (Some(min), None) => sentences.push(format!("At least {min} {unit}.")),
        (None, Some(max)) => sentences.push(format!("At most {max} {unit}.")),
        (None, None) => {}
    }
    for pattern in &constraints.patterns {
        sentences.push(format!("Must {}.", pattern.rule));
    }
    match &constraints.format {
        Some(super::Format::Duration { min, max }) => sentences.push(match (min, max) {
            (Some(min), Some(max)) => format!(
                "ISO 8601 duration from `{min}` ({}) to `{max}` ({}).",
                min.in_words(),
                max.in_words()
            ),
            (Some(min), None) => format!(
                "ISO 8601 duration of at least `{min}` ({}).",
                min.in_words()
            ),
            (None, Some(max)) => {
                format!("ISO 8601 duration of at most `{max}` ({}).", max.in_words())
            }
            (None, None) => "ISO 8601 duration (`PT20M`, `P1DT12H`).".to_owned(),
        }),
        Some(super::Format::ArmId { types }) => {
            let types: Vec<String> = types.iter().map(|ty| format!("`{ty}`")).collect();
            sentences.push(format!("ARM id of a {}.", types.join(" or ")));
        }
        None => {}
    }
    (!sentences.is_empty()).then(|| sentences.join(" "))
}

fn render_rules(out: &mut String, schema: &ResourceSchema) {
    if schema.rules.is_empty() {
        return;
    }
    line(out, "## Rules between arguments");
    line(out, "");
    line(
        out,
        "Checked when the configuration is planned, by `amlplan` and by the provider.",
    );
    line(out, "");
    let names = |names: &[String], joiner: &str| {
        names
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(joiner)
    };
    for rule in &schema.rules {
        let text = match rule {
            super::Rule::Ordered { lesser, greater } => {
                format!("`{lesser}` is not greater than `{greater}`.")
            }
            super::Rule::OneRequired { attributes, reason } => {
                format!(
                    "At least one of {} is set: {reason}.",
                    names(attributes, ", ")
                )
            }
            super::Rule::Exclusive { attributes } => {
                format!("At most one of {} is set.", names(attributes, ", "))
            }
            super::Rule::Requires {
                attribute,
                requires,
            } => {
                format!("`{attribute}` needs {}.", names(requires, " and "))
            }
        };
        line(out, &format!("- {text}"));
    }
    line(out, "");
}

fn value_words(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        other => format!("{other:?}"),
    }
}

/// A Markdown table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::schema::{load_registry, parse_schema};

    fn docs_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("docs")
            .join("resources")
    }

    /// Every page under `docs/resources/` equals a fresh rendering of its schema, every schema has
    /// a page, and no other page exists. `UPDATE_DOCS=1` rewrites the folder instead of failing.
    #[test]
    fn docs_resources_are_up_to_date() {
        let registry = load_registry().expect("catalogue is valid");
        let dir = docs_dir();
        let expected: BTreeMap<String, String> = registry
            .iter()
            .map(|schema| (doc_file_name(schema), render_resource_doc(schema)))
            .collect();
        let update = std::env::var_os("UPDATE_DOCS").is_some_and(|value| value == "1");
        if update {
            std::fs::create_dir_all(&dir).expect("create docs/resources");
        }
        let mut existing = BTreeMap::new();
        if dir.is_dir() {
            for entry in std::fs::read_dir(&dir).expect("read docs/resources") {
                let path = entry.expect("docs/resources entry").path();
                if path.extension().is_some_and(|ext| ext == "md") {
                    let name = path
                        .file_name()
                        .expect("file name")
                        .to_string_lossy()
                        .into_owned();
                    existing.insert(
                        name,
                        std::fs::read_to_string(&path).expect("read a doc page"),
                    );
                }
            }
        }
        let mut problems = Vec::new();
        for (name, page) in &expected {
            match existing.get(name) {
                Some(current) if current == page => {}
                Some(_) => problems.push(format!("`docs/resources/{name}` is stale")),
                None => problems.push(format!("`docs/resources/{name}` is missing")),
            }
            if update {
                std::fs::write(dir.join(name), page).expect("write a doc page");
            }
        }
        for name in existing.keys().filter(|name| !expected.contains_key(*name)) {
            problems.push(format!(
                "`docs/resources/{name}` has no schema in `schemas/`"
            ));
            if update {
                std::fs::remove_file(dir.join(name)).expect("remove a leftover doc page");
            }
        }
        assert!(
            update || problems.is_empty(),
            "{}\nregenerate with: UPDATE_DOCS=1 cargo test -p model schema::docs",
            problems.join("\n")
        );
    }

    const SCHEMA: &str = r#"
type_name = "azureml_test_attached"
version = 0
description = "A test attach-only type."
[api]
collection = "computes"
compute_type = "VirtualMachine"
lifecycle = "attach"
name_attribute = "name"
parent_attribute = "workspace_id"
underlying_attribute = "resource_id"
underlying_types = ["Microsoft.Compute/virtualMachines"]
attachment_identity = ["resource_id"]
[attributes.id]
type = "string"
presence = "computed"
description = "Id."
[attributes.name]
type = "string"
presence = "required"
update = "reattach"
example = '"vm"'
description = "Name."
[attributes.workspace_id]
type = "string"
presence = "required"
update = "reattach"
example = 'azureml_workspace.example.id'
description = "Workspace."
[attributes.resource_id]
type = "string"
presence = "required"
update = "reattach"
arm = "properties.resourceId"
example = '"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v"'
description = "The VM."
[attributes.description]
type = "string"
presence = "optional"
update = "put"
arm = "properties.description"
description = "Text with a | pipe."
[attributes.password]
type = "string"
presence = "optional"
update = "reattach"
arm = "properties.properties.administratorAccount.password"
sensitive = true
write_only = true
example = 'var.password'
description = "Password."
[attributes.port]
type = "number"
presence = "optional"
update = "reattach"
arm = "properties.properties.sshPort"
default = 22
description = "Port."
[attributes.account]
type = "object"
presence = "optional"
update = "reattach"
arm = "properties.properties.extra"
description = "Extra."
[attributes.account.attributes.mode]
type = "string"
presence = "required"
update = "reattach"
arm = "mode"
one_of = ["A", "B"]
description = "Mode."
[attributes.address]
type = "string"
presence = "computed"
arm = "properties.properties.address"
description = "Address."
"#;

    fn page() -> String {
        render_resource_doc(&parse_schema("test.toml", SCHEMA).expect("valid test schema"))
    }

    #[track_caller]
    fn row<'a>(page: &'a str, name: &str) -> &'a str {
        page.lines()
            .find(|line| line.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for `{name}` in:\n{page}"))
    }

    #[test]
    fn arguments_say_how_a_change_is_applied() {
        let page = page();
        assert_eq!(
            row(&page, "resource_id"),
            "| `resource_id` | string | required | detach (resource kept), then attach | `properties.resourceId` | The VM. ARM id of a `Microsoft.Compute/virtualMachines`. |"
        );
        assert!(row(&page, "description").contains("| in place (PUT) |"));
        assert!(row(&page, "description").contains("Text with a \\| pipe."));
        assert!(row(&page, "name").contains("| (URL) |"));
    }

    #[test]
    fn secrets_are_marked_and_defaults_shown() {
        let page = page();
        assert!(row(&page, "password").contains("**Sensitive, write-only.** Password."));
        assert!(row(&page, "port").contains("Port. Default: `22`."));
        assert!(page.contains("Write-only arguments (secrets)"));
    }

    #[test]
    fn nested_and_read_only_attributes_have_their_sections() {
        let page = page();
        let nested = page.find("### `account`").expect("nested section");
        let read_only = page
            .find("## Read-only attributes")
            .expect("read-only section");
        assert!(nested < read_only);
        assert!(page.contains("ARM paths are relative to `properties.properties.extra`."));
        assert!(row(&page, "mode").contains("Mode. One of `A`, `B`."));
        let arguments = &page[page.find("## Arguments").expect("arguments")..nested];
        assert!(
            !arguments.contains("`address`"),
            "computed attributes are not arguments"
        );
        assert!(row(&page[read_only..], "address").contains("`properties.properties.address`"));
    }

    #[test]
    fn lifecycle_and_example_follow_the_binding() {
        let page = page();
        assert!(page.contains("Attach-only: Azure ML cannot create this kind."));
        assert!(page.contains("underlyingResourceAction=Detach"));
        assert!(page.contains("identified by `resource_id`"));
        let example = &page[page.find("```hcl").expect("example")..];
        let example = &example[..example.find("\n```\n").expect("end of example")];
        assert_eq!(
            example,
            "```hcl\nresource \"azureml_test_attached\" \"example\" {\n  \
             name         = \"vm\"\n  \
             workspace_id = azureml_workspace.example.id\n  \
             password     = var.password\n  \
             resource_id  = \"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/v\"\n}"
        );
    }

    #[test]
    fn action_updates_name_their_post_actions() {
        let registry = load_registry().expect("catalogue is valid");
        let instance = registry
            .get("azureml_compute_instance")
            .expect("compute instance");
        let page = render_resource_doc(instance);
        assert!(
            row(&page, "state")
                .contains("in place (POST `start` for `Running`, `stop` for `Stopped`)")
        );
    }
}
