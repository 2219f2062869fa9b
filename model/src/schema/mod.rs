//! The resource catalogue as typed values: one [`ResourceSchema`] per resource type, loaded from the
//! data files in `schemas/` (see [`load`]). Every consumer (planner, provider, emulator, docs)
//! reads these types; none of them hard-codes a resource type. No IO and no planning here.
//!
//! How an attribute change is applied ([`UpdateMode`]):
//!
//! | mode       | meaning                                                                 |
//! |------------|-------------------------------------------------------------------------|
//! | `put`      | in place: the whole resource is PUT again with the new value            |
//! | `patch`    | in place: a PATCH carrying only the patchable part (compute scale)      |
//! | `replace`  | the managed resource is deleted, then created again                     |
//! | `reattach` | the attachment is detached (resource kept), then attached again         |
//! | `action`   | in place: a POST action named by [`Attribute::actions`] (instance start/stop) |
//! | `none`     | computed by the service; never planned as a change                      |

pub mod check;
pub mod docs;
pub mod duration;
pub mod load;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::value::Value;

pub use load::{SchemaError, load_registry, parse_schema};

/// The type name of a resource as Terraform spells it, e.g. `azureml_compute_cluster`.
pub type TypeName = String;

/// All resource types of the catalogue, by type name.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    /// Resource schemas keyed by [`ResourceSchema::type_name`].
    pub resources: BTreeMap<TypeName, ResourceSchema>,
}

impl Registry {
    /// The schema of `type_name`, if the catalogue has it.
    pub fn get(&self, type_name: &str) -> Option<&ResourceSchema> {
        self.resources.get(type_name)
    }

    /// The compute schema whose ARM discriminator is `compute_type` (e.g. `AmlCompute`).
    pub fn by_compute_type(&self, compute_type: &str) -> Option<&ResourceSchema> {
        self.resources
            .values()
            .find(|schema| schema.api.compute_type.as_deref() == Some(compute_type))
    }

    /// Every schema, sorted by type name.
    pub fn iter(&self) -> impl Iterator<Item = &ResourceSchema> {
        self.resources.values()
    }
}

/// One resource type: how it is named, where it lives in ARM, and its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    /// Terraform type name, e.g. `azureml_compute_cluster`.
    pub type_name: TypeName,
    /// Schema version, stored in state as `schema_version`.
    pub version: u64,
    /// One line for humans (docs, `--help`, provider schema description).
    pub description: String,
    /// Where and how the resource lives in the ARM API.
    pub api: ApiBinding,
    /// Attributes by name, sorted.
    pub attributes: BTreeMap<String, Attribute>,
    /// Rules between attributes (`[[rules]]`): ordered pairs, required or exclusive groups.
    /// Checked with the attributes' own [`Constraints`] by [`check::resource`].
    pub rules: Vec<Rule>,
}

/// The data sources of DESIGN §2 (a data source has the name of the resource type it reads).
/// `azureml_compute` is named by the design but has no single catalogue type (computes are typed
/// by kind), so no edge offers it yet.
pub const DATA_SOURCES: &[&str] = &[
    "azureml_compute",
    "azureml_environment",
    "azureml_workspace",
];

impl Registry {
    /// The data sources the catalogue describes, each derived with
    /// [`ResourceSchema::data_source`]: what `amlplan` decodes and the provider serves.
    ///
    /// ```
    /// let registry = model::schema::load_registry().unwrap();
    /// let data = registry.data_sources();
    /// assert!(data.get("azureml_workspace").is_some());
    /// assert!(data.get("azureml_compute_cluster").is_none());
    /// ```
    pub fn data_sources(&self) -> Registry {
        Registry {
            resources: self
                .iter()
                .filter(|schema| DATA_SOURCES.contains(&schema.type_name.as_str()))
                .map(|schema| (schema.type_name.clone(), schema.data_source()))
                .collect(),
        }
    }
}

impl ResourceSchema {
    /// This schema with the top-level attributes `names` marked sensitive (set from sensitive
    /// values in a configuration), so that plans and diagnostics hide them as they hide the
    /// schema's own secrets. Borrowed when `names` is empty.
    pub fn with_sensitive(&self, names: &BTreeSet<String>) -> std::borrow::Cow<'_, ResourceSchema> {
        if names.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut marked = self.clone();
        for name in names {
            if let Some(attribute) = marked.attributes.get_mut(name) {
                attribute.sensitive = true;
            }
        }
        std::borrow::Cow::Owned(marked)
    }

    /// True for immutable kinds ([`ApiBinding::immutable`]): a replacement creates the new object
    /// first and keeps the previous one (a versioned asset is kept; a run stays in the
    /// workspace's history).
    ///
    /// ```
    /// let registry = model::schema::load_registry().unwrap();
    /// assert!(registry.get("azureml_run").unwrap().keeps_replaced());
    /// assert!(!registry.get("azureml_compute_cluster").unwrap().keeps_replaced());
    /// ```
    pub fn keeps_replaced(&self) -> bool {
        self.api.immutable.is_some()
    }

    /// `read` (an object as the service returned it) plus what was `sent` that the service
    /// never returns: write-only and sensitive values, and attributes with no ARM path other
    /// than the name, parent and id. State needs them to detect a later change.
    pub fn merge_sent(
        &self,
        mut read: crate::value::ObjectValue,
        sent: &crate::value::ObjectValue,
    ) -> crate::value::ObjectValue {
        for (name, attribute) in &self.attributes {
            let unreadable = attribute.arm.is_none()
                && name != &self.api.name_attribute
                && name != &self.api.parent_attribute
                && name != "id";
            let hidden = attribute.write_only || attribute.sensitive;
            if (unreadable || hidden) && read.get(name).is_null() {
                let value = sent.get(name);
                if !value.is_null() {
                    read.set(name, value.clone());
                }
            }
        }
        read
    }

    /// The data source of this type: it reads an existing object by its lookup arguments (the
    /// name, the parent, and the version of a versioned asset), which are required; every other
    /// attribute is read from the service (computed, no default); write-only attributes are
    /// dropped (they are never read back).
    ///
    /// ```
    /// use model::schema::Presence;
    /// let registry = model::schema::load_registry().unwrap();
    /// let data = registry.get("azureml_environment").unwrap().data_source();
    /// assert_eq!(data.attributes["version"].presence, Presence::Required);
    /// assert_eq!(data.attributes["image"].presence, Presence::Computed);
    /// ```
    pub fn data_source(&self) -> ResourceSchema {
        let mut schema = self.clone();
        schema
            .attributes
            .retain(|_, attribute| !attribute.write_only);
        let versioned = self.api.collection.is_versioned();
        for (name, attribute) in &mut schema.attributes {
            let lookup = *name == self.api.name_attribute
                || *name == self.api.parent_attribute
                || (versioned && name == VERSION_ATTRIBUTE);
            attribute.presence = if lookup {
                Presence::Required
            } else {
                Presence::Computed
            };
            attribute.default = None;
        }
        schema
    }

    /// The attribute named `name`, at the top level.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.get(name)
    }

    /// True for kinds whose objects are attachments of an existing resource (always or optionally).
    pub fn can_attach(&self) -> bool {
        matches!(
            self.api.lifecycle,
            Lifecycle::Attach | Lifecycle::CreateOrAttach
        )
    }

    /// True for kinds Azure ML can create.
    pub fn can_create(&self) -> bool {
        matches!(
            self.api.lifecycle,
            Lifecycle::Create | Lifecycle::CreateOrAttach
        )
    }
}

/// The ARM side of a resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiBinding {
    /// Which ARM collection holds the objects.
    pub collection: Collection,
    /// The `properties.computeType` discriminator, for computes.
    pub compute_type: Option<String>,
    /// Whether objects are created by Azure ML, attached, or either.
    pub lifecycle: Lifecycle,
    /// The attribute holding the object's name (the last URL segment).
    pub name_attribute: String,
    /// The attribute holding the parent: `resource_group_name` for a workspace, `workspace_id` for a compute.
    pub parent_attribute: String,
    /// For attachable kinds: the attribute holding the underlying resource's ARM id.
    pub underlying_attribute: Option<String>,
    /// For attachable kinds: the ARM resource types that may be attached
    /// (e.g. `Microsoft.Compute/virtualMachines`).
    pub underlying_types: Vec<String>,
    /// For attachable kinds: the attributes that together identify one attachment of the
    /// underlying resource. Two attachments with equal values here are duplicates
    /// (Kubernetes adds `namespace`; every other kind uses the resource id alone).
    pub attachment_identity: Vec<String>,
    /// The name of the engine's behaviour for this kind beyond the generic PUT / PATCH / DELETE
    /// (`engine::resource::hooks_for`), e.g. `run` (submitted and waited for) or
    /// `environment_version` (archived on destroy). `None`: the generic operations only.
    pub hooks: Option<String>,
    /// Set for immutable kinds (environment versions, runs): a change creates a new object and
    /// keeps the previous one. `None`: replacement deletes (or detaches) the old object.
    pub immutable: Option<Immutable>,
}

/// How an immutable kind's replacement is worded: the new object is created first and the old
/// one is kept, never deleted (`[api.immutable]` in the catalogue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Immutable {
    /// Completes "`addr` will be ..." in a plan, e.g. `submitted as a new run (the previous run
    /// is kept)`.
    pub new_object: String,
    /// Why, after the changed paths: "`x` changed: ...", e.g. `a new version is created; the
    /// old one is kept`.
    pub reason: String,
    /// The note on an attribute that forces it, e.g. `forces a new run`.
    pub forces: String,
}

/// ARM collections the catalogue uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// `.../providers/Microsoft.MachineLearningServices/workspaces/{name}`
    Workspaces,
    /// `{workspace}/computes/{name}`
    Computes,
    /// `{workspace}/environments/{name}/versions/{version}`
    Environments,
    /// `{workspace}/jobs/{name}`
    Jobs,
}

/// The attribute holding the version of a versioned kind (the last URL segment of
/// `{workspace}/environments/{name}/versions/{version}`); see [`Collection::is_versioned`].
pub const VERSION_ATTRIBUTE: &str = "version";

impl Collection {
    /// True for asset collections whose objects are immutable versions under a named container
    /// (`{name}/versions/{version}`): the schema has a [`VERSION_ATTRIBUTE`], a content change is
    /// a new version, and the old one is kept (destroy archives it).
    pub fn is_versioned(self) -> bool {
        matches!(self, Collection::Environments)
    }

    /// The URL segment of the collection.
    pub fn segment(self) -> &'static str {
        match self {
            Collection::Workspaces => "workspaces",
            Collection::Computes => "computes",
            Collection::Environments => "environments",
            Collection::Jobs => "jobs",
        }
    }
}

/// How objects of a kind come into being (DESIGN §1 rule 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Created by Azure ML; a `resourceId` is refused.
    Create,
    /// Only attached: the underlying resource must exist; creation is refused.
    Attach,
    /// Either (AKS): attached when the underlying id is set, created otherwise.
    CreateOrAttach,
}

/// One attribute (top level, or nested inside an object).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The value type.
    pub ty: AttrType,
    /// Who sets the value.
    pub presence: Presence,
    /// Hidden in output and logs.
    pub sensitive: bool,
    /// Sent on write, never returned by reads; the planner stores only a keyed digest.
    pub write_only: bool,
    /// How a change of the value is applied.
    pub update: UpdateMode,
    /// JSON path in the ARM body, relative to the enclosing object (top level: the resource body).
    /// `None` for attributes that live in the URL (name, parent) or are derived (id).
    pub arm: Option<ArmPath>,
    /// Value assumed when the configuration leaves the attribute unset (what the service fills in),
    /// so that a server default is never a diff.
    pub default: Option<Value>,
    /// Allowed values, for string attributes with a closed set.
    pub one_of: Vec<String>,
    /// What a value must satisfy beyond its type and `one_of` (ranges, lengths, patterns,
    /// formats), checked by [`check::resource`].
    pub constraints: Constraints,
    /// For [`UpdateMode::Action`]: the POST action (`{id}/{action}`) that brings the resource to
    /// each value, e.g. `Running` → `start`, `Stopped` → `stop`. Empty otherwise.
    pub actions: BTreeMap<String, String>,
    /// Plan-time rules.
    pub on_plan: Vec<PlanRule>,
    /// An HCL expression shown for the attribute in the generated docs' example block
    /// (top-level attributes only; every required one has one).
    pub example: Option<String>,
    /// One line for humans.
    pub description: String,
}

/// What a configured value must satisfy beyond its type (the service's own rules, as data).
/// Every field is optional; the default constrains nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// Numbers only: a whole number.
    pub integer: bool,
    /// Numbers only: the smallest value allowed.
    pub minimum: Option<f64>,
    /// Numbers only: the largest value allowed.
    pub maximum: Option<f64>,
    /// Strings: the fewest characters; lists and maps: the fewest elements.
    pub min_length: Option<usize>,
    /// Strings: the most characters; lists and maps: the most elements.
    pub max_length: Option<usize>,
    /// Strings only: patterns the value must match (or must not match), each with the rule it
    /// states for people.
    pub patterns: Vec<Pattern>,
    /// Strings only: a format the value must have.
    pub format: Option<Format>,
}

impl Constraints {
    /// True when nothing is constrained.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }
}

/// A regular expression a string must match (or, with `matches = false`, must not match).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The compiled expression.
    pub regex: regex::Regex,
    /// False: the value must *not* match.
    pub matches: bool,
    /// The rule in words, completing "`name` must ...", e.g. `start with a letter`.
    pub rule: String,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.regex.as_str() == other.regex.as_str()
            && self.matches == other.matches
            && self.rule == other.rule
    }
}

/// Formats a string attribute can require.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    /// An ISO 8601 duration (`PT5M`, `P1DT2H`), optionally within bounds (inclusive).
    Duration {
        /// The shortest duration allowed.
        min: Option<duration::IsoDuration>,
        /// The longest duration allowed.
        max: Option<duration::IsoDuration>,
    },
    /// The ARM id of a resource of one of these types (`Microsoft.Network/virtualNetworks/subnets`),
    /// compared without regard to case as ARM does.
    ArmId {
        /// The resource types allowed.
        types: Vec<String>,
    },
}

/// A rule between attributes of one resource (`[[rules]]` in the catalogue). Attributes are named
/// by dotted paths through nested objects (`auto_scale.min_node_count`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The first number must not exceed the second (`min_node_count` ≤ `max_node_count`); an
    /// unset one takes its default.
    Ordered {
        /// The smaller one.
        lesser: String,
        /// The larger one.
        greater: String,
    },
    /// At least one of the attributes is set.
    OneRequired {
        /// The group.
        attributes: Vec<String>,
        /// Why, completing "... is needed: ...", e.g. `the service signs in with a password or a key`.
        reason: String,
    },
    /// At most one of the attributes is set.
    Exclusive {
        /// The group.
        attributes: Vec<String>,
    },
    /// When `attribute` is set, every one of `requires` is set too.
    Requires {
        /// The attribute that needs the others.
        attribute: String,
        /// What it needs.
        requires: Vec<String>,
    },
}

impl Rule {
    /// Every attribute path the rule names.
    pub fn attributes(&self) -> Vec<&str> {
        match self {
            Rule::Ordered { lesser, greater } => vec![lesser, greater],
            Rule::OneRequired { attributes, .. } | Rule::Exclusive { attributes } => {
                attributes.iter().map(String::as_str).collect()
            }
            Rule::Requires {
                attribute,
                requires,
            } => std::iter::once(attribute.as_str())
                .chain(requires.iter().map(String::as_str))
                .collect(),
        }
    }
}

/// Value types.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrType {
    /// A string.
    String,
    /// A number (integers in practice).
    Number,
    /// A boolean.
    Bool,
    /// A list of `T`.
    List(Box<AttrType>),
    /// A map of string to `T`.
    Map(Box<AttrType>),
    /// An object with its own attributes (an HCL nested block or object value).
    Object(BTreeMap<String, Attribute>),
}

impl AttrType {
    /// The nested attributes of an object, or of the element of a list or map of objects.
    pub fn nested_attributes(&self) -> Option<&BTreeMap<String, Attribute>> {
        match self {
            AttrType::Object(attributes) => Some(attributes),
            AttrType::List(element) | AttrType::Map(element) => element.nested_attributes(),
            _ => None,
        }
    }
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::String => f.write_str("string"),
            AttrType::Number => f.write_str("number"),
            AttrType::Bool => f.write_str("bool"),
            AttrType::List(element) => write!(f, "list({element})"),
            AttrType::Map(element) => write!(f, "map({element})"),
            AttrType::Object(_) => f.write_str("object"),
        }
    }
}

/// Who sets an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The configuration must set it.
    Required,
    /// The configuration may set it.
    Optional,
    /// Only the service sets it.
    Computed,
    /// The configuration may set it; otherwise the service does.
    OptionalComputed,
}

impl Presence {
    /// Whether a configuration may set the attribute.
    pub fn is_configurable(self) -> bool {
        !matches!(self, Presence::Computed)
    }
}

/// How a change of an attribute's value is applied (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateMode {
    /// In place, by PUT of the whole resource.
    Put,
    /// In place, by PATCH.
    Patch,
    /// Delete, then create.
    Replace,
    /// Detach (resource kept), then attach.
    Reattach,
    /// In place, by the POST action [`Attribute::actions`] names for the new value; the
    /// attribute is not part of the PUT body.
    Action,
    /// Never changed by the configuration (computed attributes).
    None,
}

impl UpdateMode {
    /// True when a change forces a new object (replace or re-attach).
    pub fn forces_new(self) -> bool {
        matches!(self, UpdateMode::Replace | UpdateMode::Reattach)
    }
}

/// Plan-time rules (terraform-plugin-framework plan modifiers, as data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanRule {
    /// A later plan shows the value known from state instead of "known after apply".
    UseStateForUnknown,
}

/// A dotted JSON path inside an ARM body, e.g. `properties.properties.scaleSettings.maxNodeCount`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArmPath(pub Vec<String>);

impl ArmPath {
    /// Parses `a.b.c`; a segment in double quotes may contain dots
    /// (`properties.properties."mlflow.source.git.commit"`). Empty segments are refused by the
    /// loader.
    ///
    /// ```
    /// use model::schema::ArmPath;
    /// let path = ArmPath::parse(r#"properties.properties."azureml.git.dirty""#);
    /// assert_eq!(path.segments(), ["properties", "properties", "azureml.git.dirty"]);
    /// assert_eq!(path.to_string(), r#"properties.properties."azureml.git.dirty""#);
    /// ```
    pub fn parse(text: &str) -> ArmPath {
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for character in text.chars() {
            match character {
                '"' => quoted = !quoted,
                '.' if !quoted => segments.push(std::mem::take(&mut current)),
                other => current.push(other),
            }
        }
        segments.push(current);
        ArmPath(segments)
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for ArmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|segment| {
                if segment.contains('.') {
                    format!("\"{segment}\"")
                } else {
                    segment.clone()
                }
            })
            .collect();
        f.write_str(&shown.join("."))
    }
}
