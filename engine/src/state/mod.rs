//! Terraform's state format, version 4 (`terraform.tfstate`), read and written so that either
//! `terraform` (through the provider) or `amlplan` can pick up where the other stopped (DESIGN §3).
//! File IO only: reading, crash-safe in-place writes (a journal), backups and the lock ([`lock`]); no planning.
//!
//! - Reads what Terraform 1.0–1.11 writes; unknown fields are kept and written back.
//! - Writes like Terraform: two-space indented JSON, Go's HTML escaping (`\u003c` for `<`),
//!   resources sorted by mode, type and name, a trailing newline. Reading then writing an
//!   unchanged state gives the same bytes.
//! - `serial` grows by one per write that changes something; `lineage` is kept (a new random one
//!   for a new state).
//! - Each write goes to a temporary file in the same folder, is flushed to disk, renamed over the
//!   state file, and the folder is flushed, so a crash leaves either the old or the new state.
//!   The first write of a command keeps the previous state as `terraform.tfstate.backup`.
//! - Resource attributes use the provider's layout: every schema attribute present (null when
//!   unset), repeated nested blocks as lists (empty when none). Sensitive and write-only values
//!   are stored as keyed digests ([`crate::secret`]) by [`State::set_object`], never in plaintext.
//! - Reading checks the state's integrity (see `integrity`): duplicate resources or instance
//!   keys, ids that are not their objects', and two entries for one ARM object are refused with
//!   [`StateError::Integrity`], naming the entries. Only the repair commands read without it
//!   ([`read_unchecked`], [`StateStore::open_unchecked`]).
//! - Entries in modules have module paths in their addresses (`module.team["ml"].x.y`).

mod integrity;
pub mod key;
pub mod lock;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::addr::{InstanceKey, Mode, ModulePath, ResourceAddr};
use crate::diag::Diagnostics;
use crate::plan::{Move, PriorObject, PriorState};
use crate::schema::{AttrType, Attribute, Presence, Registry, ResourceSchema};
use crate::secret::{self, SecretKey};
use crate::value::{ObjectValue, Value};

pub use lock::{LockError, LockInfo, LockOptions, StateLock};

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// The provider address written into state (`provider["..."]`).
pub const PROVIDER_CONFIG: &str = "provider[\"azureml.local/azureml/azureml\"]";

/// The `terraform_version` of a state `amlplan` creates: the oldest Terraform we support, so
/// every supported Terraform reads it. An existing state keeps its own.
pub const TERRAFORM_VERSION: &str = "1.0.3";

/// A whole state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version; always 4.
    pub version: u64,
    /// The Terraform version that wrote it.
    pub terraform_version: String,
    /// Grows by one with every write.
    pub serial: u64,
    /// A random id given at creation, kept for the life of the state.
    pub lineage: String,
    /// Root module outputs (`{name: {value, type, sensitive?}}`), kept as JSON.
    pub outputs: JsonMap,
    /// Resources, sorted by mode, type and name.
    pub resources: Vec<StateResource>,
    /// Fields this version does not model (`check_results`, ...), kept in order.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// One resource block's instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateResource {
    /// Module path; absent for the root module (the only one amlplan writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `managed` or `data`.
    pub mode: Mode,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Block label.
    pub name: String,
    /// `list` (count) or `map` (for_each) when instances have keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    /// `provider["azureml.local/azureml/azureml"]`.
    pub provider: String,
    /// The instances.
    pub instances: Vec<StateInstance>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// One resource instance object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateInstance {
    /// `count` index or `for_each` key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<InstanceKey>,
    /// `tainted`, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Set on a deposed object of a create-before-destroy replacement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    /// The resource schema version that wrote `attributes`.
    pub schema_version: u64,
    /// The attributes as JSON (cty JSON of the resource object type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<serde_json::Value>,
    /// Paths Terraform marked sensitive (kept as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_attributes: Option<serde_json::Value>,
    /// Provider private data (base64), kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    /// Addresses this object depended on when it was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Written by `create_before_destroy` resources.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// Reading or writing state failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// File IO failed.
    #[error("failed to access the state file `{path}`")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("the state file `{path}` is not valid state JSON")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A format version other than 4.
    #[error(
        "the state file `{path}` has format version `{version}`; only version 4 (Terraform 0.12 and later) is supported"
    )]
    UnsupportedVersion {
        /// The file.
        path: String,
        /// The version found.
        version: u64,
    },
    /// The state fails its integrity checks (the diagnostics name the entries and the repair).
    #[error("the state file `{path}` is inconsistent: {}", summaries(.diagnostics))]
    Integrity {
        /// The file.
        path: String,
        /// What the checks found (at least one error).
        diagnostics: Diagnostics,
    },
    /// The state is locked by someone else.
    #[error(transparent)]
    Lock(#[from] LockError),
}

fn summaries(diagnostics: &Diagnostics) -> String {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == crate::diag::Severity::Error)
        .map(|diagnostic| diagnostic.summary.to_lowercase())
        .collect();
    errors.join("; ")
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    /// An empty state with a new lineage.
    ///
    /// ```
    /// let state = engine::state::State::new();
    /// assert_eq!((state.version, state.serial), (4, 0));
    /// assert_eq!(state.lineage.len(), 36);
    /// ```
    pub fn new() -> State {
        let mut extra = JsonMap::new();
        extra.insert("check_results".to_owned(), serde_json::Value::Null);
        State {
            version: 4,
            terraform_version: TERRAFORM_VERSION.to_owned(),
            serial: 0,
            lineage: lock::random_id(),
            outputs: JsonMap::new(),
            resources: Vec::new(),
            extra,
        }
    }

    /// Parses state JSON and checks its integrity against the catalogue (see [`State::check`]).
    ///
    /// ```
    /// use std::path::Path;
    /// let text = r#"{"version": 4, "terraform_version": "1.0.3", "serial": 1, "lineage": "l",
    ///   "outputs": {}, "resources": [
    ///     {"mode": "managed", "type": "azureml_workspace", "name": "w", "provider": "p",
    ///      "instances": [{"schema_version": 0, "attributes": {"id": "w", "name": "w"}}]}]}"#;
    /// let error = engine::state::State::from_json(text, Path::new("t")).unwrap_err();
    /// assert_eq!(error.to_string(), "the state file `t` is inconsistent: invalid id in state");
    /// ```
    pub fn from_json(text: &str, path: &Path) -> Result<State, StateError> {
        let state = State::from_json_unchecked(text, path)?;
        let registry = crate::schema::load_registry()
            .expect("the embedded catalogue is valid (its own tests load it)");
        let diagnostics = state.check(&registry);
        if diagnostics.has_errors() {
            return Err(StateError::Integrity {
                path: path.display().to_string(),
                diagnostics,
            });
        }
        Ok(state)
    }

    /// Parses state JSON without the integrity checks: for the commands that repair a state
    /// (`state list`, `state show`, `state rm`).
    pub fn from_json_unchecked(text: &str, path: &Path) -> Result<State, StateError> {
        let state: State = serde_json::from_str(text).map_err(|source| StateError::Parse {
            path: path.display().to_string(),
            source,
        })?;
        if state.version != 4 {
            return Err(StateError::UnsupportedVersion {
                path: path.display().to_string(),
                version: state.version,
            });
        }
        Ok(state)
    }

    /// The integrity findings of this state (`integrity`'s table); each makes it unusable.
    pub fn check(&self, registry: &Registry) -> Diagnostics {
        integrity::check(self, registry)
    }

    /// The file content: as Terraform writes it (see the module docs).
    ///
    /// ```
    /// let state = engine::state::State::new();
    /// let text = state.to_json();
    /// assert!(text.starts_with("{\n  \"version\": 4,\n"));
    /// assert!(text.ends_with("}\n"));
    /// ```
    pub fn to_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.sort();
        sorted.sorted_json()
    }

    /// The JSON of a state already in Terraform's order (no copy: large states are written
    /// after every operation).
    fn sorted_json(&self) -> String {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter::new());
        self.serialize(&mut serializer)
            .expect("state serializes to memory");
        out.push(b'\n');
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    /// Sorts `self` in place and returns its JSON with `serial` written as 0: two states with
    /// the same content give the same text, whatever their serials.
    fn content_json(&mut self) -> String {
        self.sort();
        let serial = std::mem::replace(&mut self.serial, 0);
        let json = self.sorted_json();
        self.serial = serial;
        json
    }

    /// Sorts resources and instances as Terraform does.
    fn sort(&mut self) {
        self.resources.sort_by(|a, b| {
            (&a.module, mode_name(a.mode), &a.resource_type, &a.name).cmp(&(
                &b.module,
                mode_name(b.mode),
                &b.resource_type,
                &b.name,
            ))
        });
        for resource in &mut self.resources {
            resource
                .instances
                .sort_by(|a, b| (&a.index_key, &a.deposed).cmp(&(&b.index_key, &b.deposed)));
        }
    }

    /// The current (not deposed) object of `addr`.
    pub fn instance(&self, addr: &ResourceAddr) -> Option<&StateInstance> {
        self.resource(addr)?
            .instances
            .iter()
            .find(|instance| instance.index_key == addr.key && instance.deposed.is_none())
    }

    fn resource(&self, addr: &ResourceAddr) -> Option<&StateResource> {
        self.resources.iter().find(|resource| resource.holds(addr))
    }

    /// The addresses of every current object, modules included, sorted.
    pub fn addrs(&self) -> Vec<ResourceAddr> {
        let mut addrs: Vec<ResourceAddr> = self
            .resources
            .iter()
            .filter_map(|resource| Some((resource, resource.module_path()?)))
            .flat_map(|(resource, module)| {
                resource
                    .instances
                    .iter()
                    .filter(|instance| instance.deposed.is_none())
                    .map(move |instance| ResourceAddr {
                        module: module.clone(),
                        mode: resource.mode,
                        resource_type: resource.resource_type.clone(),
                        name: resource.name.clone(),
                        key: instance.index_key.clone(),
                    })
            })
            .collect();
        addrs.sort();
        addrs
    }

    /// The attributes of `addr` as a catalogue object: only schema attributes, empty repeated
    /// blocks as null (the provider's layout read back). `None` when absent.
    pub fn object(&self, addr: &ResourceAddr, schema: &ResourceSchema) -> Option<ObjectValue> {
        let attributes = self.instance(addr)?.attributes.as_ref()?;
        let mut object = ObjectValue::default();
        for (name, attribute) in &schema.attributes {
            let value = attributes
                .get(name)
                .map(Value::from_json)
                .unwrap_or(Value::Null);
            object.set(name, from_state_value(attribute, value));
        }
        Some(object)
    }

    /// The managed objects of the root module, as the planner's prior state. Types the
    /// catalogue does not know are passed through with their raw attributes, so the plan can
    /// report them.
    pub fn prior(&self, registry: &Registry) -> PriorState {
        let mut resources = BTreeMap::new();
        for addr in self.addrs() {
            if addr.mode != Mode::Managed || !is_azureml(&addr.resource_type) {
                continue;
            }
            let Some(instance) = self.instance(&addr) else {
                continue;
            };
            let values = match registry.get(&addr.resource_type) {
                Some(schema) => self.object(&addr, schema).unwrap_or_default(),
                None => match instance.attributes.as_ref().map(Value::from_json) {
                    Some(Value::Map(entries)) => ObjectValue(entries),
                    _ => ObjectValue::default(),
                },
            };
            let dependencies = instance
                .dependencies
                .iter()
                .filter_map(|text| text.parse().ok())
                .collect();
            resources.insert(
                addr,
                PriorObject {
                    values,
                    dependencies,
                },
            );
        }
        PriorState { resources }
    }

    /// The objects of other providers (root module, resources and data sources) as Terraform
    /// last wrote them: amlplan does not plan them, references read these values.
    pub fn foreign_values(&self) -> BTreeMap<ResourceAddr, ObjectValue> {
        self.addrs()
            .into_iter()
            .filter(|addr| !is_azureml(&addr.resource_type))
            .filter_map(|addr| {
                let attributes = self.instance(&addr)?.attributes.as_ref()?.as_object()?;
                let entries = attributes
                    .iter()
                    .map(|(name, json)| (name.clone(), Value::from_json(unwrap_dynamic(json))))
                    .collect();
                Some((addr, ObjectValue(entries)))
            })
            .collect()
    }

    /// Records the object of `addr`: every schema attribute present, unknowns as null, secrets
    /// digested with `key` (without a key, secret values are not stored at all). Keeps the
    /// instance's private data and Terraform's sensitive paths.
    pub fn set_object(
        &mut self,
        addr: &ResourceAddr,
        schema: &ResourceSchema,
        values: &ObjectValue,
        dependencies: &[ResourceAddr],
        key: Option<&SecretKey>,
    ) {
        let mut values = values.clone();
        match key {
            Some(key) => secret::digest_secrets(&schema.attributes, key, &mut values),
            None => drop_secrets(&schema.attributes, &mut values.0),
        }
        let mut attributes = JsonMap::new();
        for (name, attribute) in &schema.attributes {
            attributes.insert(name.clone(), to_state_value(attribute, values.get(name)));
        }
        let mut dependencies: Vec<String> = dependencies.iter().map(ToString::to_string).collect();
        dependencies.sort();
        dependencies.dedup();

        let position = self
            .resources
            .iter()
            .position(|resource| resource.holds(addr));
        let resource = match position {
            Some(position) => &mut self.resources[position],
            None => {
                self.resources.push(StateResource {
                    module: module_field(&addr.module),
                    mode: addr.mode,
                    resource_type: addr.resource_type.clone(),
                    name: addr.name.clone(),
                    each: None,
                    provider: PROVIDER_CONFIG.to_owned(),
                    instances: Vec::new(),
                    extra: JsonMap::new(),
                });
                self.resources.last_mut().expect("just pushed")
            }
        };
        resource.each = match &addr.key {
            Some(InstanceKey::Index(_)) => Some("list".to_owned()),
            Some(InstanceKey::Key(_)) => Some("map".to_owned()),
            None => None,
        };
        let instance = StateInstance {
            index_key: addr.key.clone(),
            status: None,
            deposed: None,
            schema_version: schema.version,
            attributes: Some(serde_json::Value::Object(attributes)),
            sensitive_attributes: Some(serde_json::Value::Array(Vec::new())),
            private: None,
            dependencies,
            create_before_destroy: false,
            extra: JsonMap::new(),
        };
        match resource
            .instances
            .iter_mut()
            .find(|existing| existing.index_key == addr.key && existing.deposed.is_none())
        {
            Some(existing) => {
                existing.schema_version = instance.schema_version;
                existing.attributes = instance.attributes;
                existing.dependencies = instance.dependencies;
                existing.status = None;
                if existing.sensitive_attributes.is_none() {
                    existing.sensitive_attributes = instance.sensitive_attributes;
                }
            }
            None => resource.instances.push(instance),
        }
    }

    /// Replaces the root outputs with `outputs` (name, value, sensitive) as Terraform saves them:
    /// `{"value": ..., "type": <cty type>, "sensitive": true}` (the flag only when set); null
    /// and unknown values are not saved.
    ///
    /// ```
    /// let mut state = engine::state::State::new();
    /// let value = engine::value::Value::from("x");
    /// state.set_outputs([("id", &value, true)]);
    /// assert_eq!(state.outputs["id"], serde_json::json!({"sensitive": true, "type": "string", "value": "x"}));
    /// ```
    pub fn set_outputs<'v>(
        &mut self,
        outputs: impl IntoIterator<Item = (&'v str, &'v Value, bool)>,
    ) {
        self.outputs = outputs
            .into_iter()
            .filter(|(_, value, _)| !value.is_null() && !value.contains_unknown())
            .map(|(name, value, sensitive)| {
                let mut entry = JsonMap::new();
                if sensitive {
                    entry.insert("sensitive".to_owned(), true.into());
                }
                entry.insert("type".to_owned(), value.cty_type_json());
                entry.insert("value".to_owned(), value.to_json());
                (name.to_owned(), serde_json::Value::Object(entry))
            })
            .collect();
    }

    /// Moves the current object of `from` to `to` in the root module (an implied move, see
    /// [`crate::plan::repetition`]), keeping everything it holds. Returns whether it was there;
    /// nothing moves when `to` is taken.
    pub fn move_instance(&mut self, from: &ResourceAddr, to: &ResourceAddr) -> bool {
        if self.instance(to).is_some() {
            return false;
        }
        let Some((resource_index, instance_index)) =
            self.resources
                .iter()
                .enumerate()
                .find_map(|(index, resource)| {
                    let matches = resource.holds(from);
                    let position = resource.instances.iter().position(|instance| {
                        instance.index_key == from.key && instance.deposed.is_none()
                    });
                    matches
                        .then_some(position)
                        .flatten()
                        .map(|position| (index, position))
                })
        else {
            return false;
        };
        let mut instance = self.resources[resource_index]
            .instances
            .remove(instance_index);
        instance.index_key = to.key.clone();
        let provider = self.resources[resource_index].provider.clone();
        let target = match self
            .resources
            .iter()
            .position(|resource| resource.holds(to))
        {
            Some(position) => position,
            None => {
                self.resources.push(StateResource {
                    module: module_field(&to.module),
                    mode: to.mode,
                    resource_type: to.resource_type.clone(),
                    name: to.name.clone(),
                    each: None,
                    provider,
                    instances: Vec::new(),
                    extra: JsonMap::new(),
                });
                self.resources.len() - 1
            }
        };
        self.resources[target].instances.push(instance);
        for resource in &mut self.resources {
            resource.each = each_of(&resource.instances);
        }
        self.resources
            .retain(|resource| !resource.instances.is_empty());
        true
    }

    /// Applies the moves of `moves` ([`crate::plan::implied_moves`]) that find their object.
    pub fn apply_moves(&mut self, moves: &[Move]) {
        for one in moves {
            self.move_instance(&one.from, &one.to);
        }
    }

    /// The provider configuration the entry of `addr` belongs to: the alias of its `provider`
    /// (`provider["…"].prod` is `prod`), `None` for the default one or no entry.
    pub fn provider_alias(&self, addr: &ResourceAddr) -> Option<String> {
        let resource = self
            .resources
            .iter()
            .find(|resource| resource.holds(addr))?;
        let (_, alias) = resource.provider.rsplit_once("\"].")?;
        Some(alias.to_owned())
    }

    /// Records that the entry of `addr` (if any) belongs to the provider configuration `alias`
    /// (`None`: the default one), keeping the provider's source address.
    pub fn set_provider_alias(&mut self, addr: &ResourceAddr, alias: Option<&str>) {
        let Some(resource) = self
            .resources
            .iter_mut()
            .find(|resource| resource.holds(addr))
        else {
            return;
        };
        let end = resource.provider.find("\"]").map_or(0, |end| end + 2);
        let base = match &resource.provider[..end] {
            "" => PROVIDER_CONFIG,
            base => base,
        };
        resource.provider = match alias {
            None => base.to_owned(),
            Some(alias) => format!("{base}.{alias}"),
        };
    }

    /// Forgets `addr` (its resource entry goes when it has no instances left). Returns whether it
    /// was there.
    pub fn remove(&mut self, addr: &ResourceAddr) -> bool {
        let mut removed = false;
        for resource in &mut self.resources {
            if resource.holds(addr) {
                let before = resource.instances.len();
                resource.instances.retain(|instance| {
                    !(instance.index_key == addr.key && instance.deposed.is_none())
                });
                removed |= resource.instances.len() != before;
            }
        }
        self.resources
            .retain(|resource| !resource.instances.is_empty());
        removed
    }
}

impl StateResource {
    /// The module instance of this entry (`None` when its `module` is not a module path).
    pub fn module_path(&self) -> Option<ModulePath> {
        match &self.module {
            None => Some(ModulePath::default()),
            Some(text) => ModulePath::parse(text).ok(),
        }
    }

    /// Whether this entry is the resource `addr` belongs to (module, mode, type and name).
    pub fn holds(&self, addr: &ResourceAddr) -> bool {
        self.mode == addr.mode
            && self.resource_type == addr.resource_type
            && self.name == addr.name
            && self.module_path().as_ref() == Some(&addr.module)
    }
}

/// The `module` field of an entry in module instance `module` (absent for the root).
fn module_field(module: &ModulePath) -> Option<String> {
    (!module.is_root()).then(|| module.to_string())
}

/// An attribute of a dynamic type as Terraform stores it, `{"value": V, "type": T}`, is `V`
/// (without the provider's schema, an object of exactly those two members with a type is
/// taken to be one, as `terraform_data`'s `input` and `output`).
fn unwrap_dynamic(json: &serde_json::Value) -> &serde_json::Value {
    match json.as_object() {
        Some(members)
            if members.len() == 2
                && members.contains_key("value")
                && members
                    .get("type")
                    .is_some_and(|ty| ty.is_string() || ty.is_array()) =>
        {
            &members["value"]
        }
        _ => json,
    }
}

/// Whether a resource type is the `azureml` provider's (the others are left to Terraform).
pub fn is_azureml(resource_type: &str) -> bool {
    resource_type.starts_with("azureml_")
}

/// `each` as Terraform writes it: `list` when an instance has an index, `map` when one has a
/// string key, absent otherwise.
fn each_of(instances: &[StateInstance]) -> Option<String> {
    let keys = || {
        instances
            .iter()
            .filter_map(|instance| instance.index_key.as_ref())
    };
    if keys().any(|key| matches!(key, InstanceKey::Index(_))) {
        Some("list".to_owned())
    } else if keys().any(|key| matches!(key, InstanceKey::Key(_))) {
        Some("map".to_owned())
    } else {
        None
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Managed => "managed",
        Mode::Data => "data",
    }
}

/// A repeated nested block (list of objects the configuration sets): Terraform stores "no
/// blocks" as an empty list.
fn is_list_block(attribute: &Attribute) -> bool {
    matches!(attribute.presence, Presence::Required | Presence::Optional)
        && matches!(&attribute.ty, AttrType::List(element) if matches!(**element, AttrType::Object(_)))
}

fn to_state_value(attribute: &Attribute, value: &Value) -> serde_json::Value {
    match value {
        Value::Null | Value::Unknown if is_list_block(attribute) => {
            serde_json::Value::Array(Vec::new())
        }
        other => typed_json(&attribute.ty, other),
    }
}

/// JSON of a value, with every member of nested objects present (null when unset).
fn typed_json(ty: &AttrType, value: &Value) -> serde_json::Value {
    match (ty, value) {
        (AttrType::Object(nested), Value::Map(entries)) => serde_json::Value::Object(
            nested
                .iter()
                .map(|(name, attribute)| {
                    (
                        name.clone(),
                        to_state_value(attribute, entries.get(name).unwrap_or(&Value::Null)),
                    )
                })
                .collect(),
        ),
        (AttrType::List(element), Value::List(items)) => {
            serde_json::Value::Array(items.iter().map(|item| typed_json(element, item)).collect())
        }
        (AttrType::Map(element), Value::Map(entries)) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(key, item)| (key.clone(), typed_json(element, item)))
                .collect(),
        ),
        (_, other) => other.to_json(),
    }
}

fn from_state_value(attribute: &Attribute, value: Value) -> Value {
    match value {
        Value::List(items) if items.is_empty() && is_list_block(attribute) => Value::Null,
        other => other,
    }
}

fn drop_secrets(attributes: &BTreeMap<String, Attribute>, values: &mut BTreeMap<String, Value>) {
    for (name, value) in values.iter_mut() {
        let Some(attribute) = attributes.get(name) else {
            continue;
        };
        if attribute.sensitive || attribute.write_only {
            if !matches!(value, Value::String(text) if secret::is_digest(text)) {
                *value = Value::Null;
            }
        } else if let (AttrType::Object(nested), Value::Map(entries)) = (&attribute.ty, value) {
            drop_secrets(nested, entries);
        }
    }
}

/// Go's `json.MarshalIndent(v, "", "  ")`: two-space indent, and `<`, `>`, `&`, U+2028, U+2029
/// escaped as `\uXXXX`.
struct GoFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

impl GoFormatter<'_> {
    fn new() -> Self {
        GoFormatter(serde_json::ser::PrettyFormatter::with_indent(b"  "))
    }
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name<W: ?Sized + Write>(&mut self, writer: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(writer $(, $arg)*)
        })*
    };
}

impl serde_json::ser::Formatter for GoFormatter<'_> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (index, character) in fragment.char_indices() {
            let escaped = match character {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escaped.as_bytes())?;
            start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// A locked state file for one command: read once, saved after every completed operation.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    last_saved: Option<Saved>,
    /// The file's bytes as the command found them, until the first save writes them to the
    /// backup file.
    original: Option<Vec<u8>>,
    lock: StateLock,
}

impl StateStore {
    /// Locks the state at `path` (see [`StateLock::acquire`]) and reads it; a missing or empty
    /// file gives a new empty state.
    pub fn open(path: &Path, options: &LockOptions) -> Result<(StateStore, State), StateError> {
        StateStore::open_with(path, options, State::from_json)
    }

    /// [`StateStore::open`] without the integrity checks, for `state rm` (which repairs what
    /// they find).
    pub fn open_unchecked(
        path: &Path,
        options: &LockOptions,
    ) -> Result<(StateStore, State), StateError> {
        StateStore::open_with(path, options, State::from_json_unchecked)
    }

    fn open_with(
        path: &Path,
        options: &LockOptions,
        parse: fn(&str, &Path) -> Result<State, StateError>,
    ) -> Result<(StateStore, State), StateError> {
        let lock = StateLock::acquire(path, options)?;
        let bytes = recover_journal(path, lock.state_file())?;
        let existing = parse_bytes(&bytes, path, parse)?;
        let state = existing.clone().unwrap_or_default();
        let existing = existing.map(|mut existing| Saved {
            serial: existing.serial,
            content: existing.content_json(),
        });
        Ok((
            StateStore {
                path: path.to_owned(),
                last_saved: existing,
                original: Some(bytes),
                lock,
            },
            state,
        ))
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the state file holds a state: it did when the command opened it, or the
    /// command has saved one since.
    pub fn existed(&self) -> bool {
        self.last_saved.is_some()
    }

    /// Writes `state` if it differs from what was last written, bumping its serial. Returns
    /// whether it wrote. The write goes through the locked file, crash-safely (see
    /// [`write_locked`]).
    pub fn save(&mut self, state: &mut State) -> Result<bool, StateError> {
        // One serialization per save and no copy of the state: apply saves after every
        // operation, and a 10,000-resource state is about 10 MB of JSON.
        let content = state.content_json();
        if let Some(last) = &self.last_saved {
            if last.content == content {
                return Ok(false);
            }
            state.serial = state.serial.max(last.serial) + 1;
        } else {
            state.serial += 1;
        }
        if let Some(bytes) = self.original.take()
            && !bytes.is_empty()
        {
            write_atomic(&backup_path(&self.path), &bytes)?;
        }
        let bytes = with_serial(&content, state.serial);
        write_locked(&self.path, self.lock.state_file(), bytes.as_bytes())?;
        self.last_saved = Some(Saved {
            serial: state.serial,
            content,
        });
        Ok(true)
    }

    /// Applies `change` to `state`, then [`StateStore::save`]s it.
    pub fn update(
        &mut self,
        state: &mut State,
        change: impl FnOnce(&mut State),
    ) -> Result<bool, StateError> {
        change(state);
        self.save(state)
    }
}

/// What was last written: its serial and its content JSON (serial written as 0).
#[derive(Debug)]
struct Saved {
    serial: u64,
    content: String,
}

/// `content` (from [`State::content_json`]) with its top-level `"serial": 0` line set to
/// `serial`. The serial is the third top-level key, so its line is the first such line.
fn with_serial(content: &str, serial: u64) -> String {
    const ZERO: &str = "\n  \"serial\": 0,\n";
    debug_assert!(
        content.contains(ZERO),
        "the state JSON has a top-level serial"
    );
    content.replacen(ZERO, &format!("\n  \"serial\": {serial},\n"), 1)
}

/// Reads the state at `path` without locking it (`show`, `plan -lock=false`) and checks its
/// integrity ([`State::from_json`]); `None` when the file is missing or empty.
pub fn read(path: &Path) -> Result<Option<State>, StateError> {
    read_text(path, State::from_json)
}

/// [`read`] without the integrity checks, for `state list` and `state show` (which help to
/// repair what they find).
pub fn read_unchecked(path: &Path) -> Result<Option<State>, StateError> {
    read_text(path, State::from_json_unchecked)
}

fn read_text(
    path: &Path,
    parse: fn(&str, &Path) -> Result<State, StateError>,
) -> Result<Option<State>, StateError> {
    match read_bytes(path)? {
        Some(bytes) => parse_bytes(&bytes, path, parse),
        None => Ok(None),
    }
}

/// The state in `bytes` (of the file `path`); `None` when they are empty.
fn parse_bytes(
    bytes: &[u8],
    path: &Path,
    parse: fn(&str, &Path) -> Result<State, StateError>,
) -> Result<Option<State>, StateError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse(&String::from_utf8_lossy(bytes), path).map(Some)
}

/// The journal of an in-place write of `path`: `.NAME.journal` beside it.
fn journal_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.journal"))
}

/// Writes `bytes` into the locked state `file` in place, as Terraform writes its state
/// (replacing the file would leave a Terraform waiting on the lock with the old, unlinked
/// one): first the whole content to the journal (temporary file, fsync, rename), then
/// truncate, write and fsync the state file, then the journal is removed. A crash inside the
/// in-place write leaves a torn state file beside a complete journal, which the next
/// [`StateStore::open`] puts back ([`recover_journal`]).
fn write_locked(path: &Path, file: &File, bytes: &[u8]) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    let journal = journal_path(path);
    write_atomic(&journal, bytes)?;
    overwrite(file, bytes).map_err(io)?;
    std::fs::remove_file(&journal).map_err(io)?;
    Ok(())
}

/// Replaces the content of `file` by `bytes` in place (truncate, write, fsync), as Terraform
/// writes its state.
fn overwrite(mut file: &File, bytes: &[u8]) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads the locked state `file`, first completing a write a crash interrupted: when the
/// journal of `path` exists and the state file is not valid JSON (torn), or is an older serial
/// of the same lineage (the crash came before the in-place write), the journal's content is
/// written in place. Otherwise (the write completed, or Terraform wrote the state since) the
/// journal is dropped. Returns the state file's bytes.
fn recover_journal(path: &Path, mut file: &File) -> Result<Vec<u8>, StateError> {
    let io = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    file.rewind().map_err(io)?;
    file.read_to_end(&mut bytes).map_err(io)?;
    let journal = journal_path(path);
    let Some(journaled) = read_bytes(&journal)? else {
        return Ok(bytes);
    };
    let identity = |json: &serde_json::Value| -> Option<(String, u64)> {
        Some((
            json["lineage"].as_str()?.to_owned(),
            json["serial"].as_u64()?,
        ))
    };
    let complete = serde_json::from_slice(&journaled)
        .ok()
        .and_then(|json| identity(&json));
    let on_disk = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
    let restore = match (&complete, on_disk) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(complete), Some(on_disk)) => identity(&on_disk)
            .is_some_and(|(lineage, serial)| lineage == complete.0 && serial < complete.1),
    };
    if restore {
        overwrite(file, &journaled).map_err(io)?;
        bytes = journaled;
    }
    std::fs::remove_file(&journal).map_err(io)?;
    Ok(bytes)
}

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// `terraform.tfstate.backup` beside the state file.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    name.push(".backup");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through a temporary file in the same folder, fsync, rename and a
/// fsync of the folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        lock::random_id()
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests;
