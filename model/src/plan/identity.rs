//! Which ARM object a change touches ([`ObjectKey`]), as far as it is known at plan time, so the
//! order of apply can keep two changes of one object apart (see [`super::order`]). Pure; no ARM
//! id parsing (that is `engine::api`): the key is built from the catalogue's name, parent and
//! version attributes, which are what the object's ARM id is made of.

use serde::{Deserialize, Serialize};

use crate::schema::{Presence, ResourceSchema, VERSION_ATTRIBUTE};
use crate::value::{ObjectValue, Value};

/// The ARM object of one side of a change. Values are lowercased (ARM ids are
/// case-insensitive); `None` means unknown until apply.
///
/// | collection     | `parent`                   | `name`          | `version`     |
/// |----------------|----------------------------|-----------------|---------------|
/// | `workspaces`   | the resource group name    | workspace name  | empty         |
/// | `computes`     | the workspace's ARM id     | compute name    | empty         |
/// | `environments` | the workspace's ARM id     | environment name| the version   |
/// | `jobs`         | the workspace's ARM id     | run name        | empty         |
///
/// A workspace's subscription is not part of the key (it is the provider's, not the object's):
/// two workspaces of one name in one resource group name compare as the same, which only ever
/// orders two changes that could have run at once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// The ARM collection (`workspaces`, `computes`, `environments`, `jobs`): every kind of
    /// compute shares `computes`, so a cluster and an instance of one name are one object.
    pub collection: String,
    /// Where the object lives (see the table).
    pub parent: Option<String>,
    /// The object's name.
    pub name: Option<String>,
    /// The version of a versioned kind; empty for others.
    pub version: Option<String>,
}

impl ObjectKey {
    /// The key of `values` of `schema`. `None` when the object is certainly a new one: a name the
    /// service generates (a run's) that is still unknown names no existing object.
    ///
    /// ```
    /// use model::plan::ObjectKey;
    /// use model::value::{ObjectValue, Value};
    /// let registry = model::schema::load_registry().unwrap();
    /// let mut cluster = ObjectValue::default();
    /// cluster.set("name", "CPU".into());
    /// cluster.set("workspace_id", Value::Unknown);
    /// let key = ObjectKey::of(registry.get("azureml_compute_cluster").unwrap(), &cluster).unwrap();
    /// assert_eq!(key.name.as_deref(), Some("cpu"));
    /// assert_eq!(key.parent, None);
    /// ```
    pub fn of(schema: &ResourceSchema, values: &ObjectValue) -> Option<ObjectKey> {
        let api = &schema.api;
        let name = values.get(&api.name_attribute);
        let generated = schema
            .attribute(&api.name_attribute)
            .is_some_and(|attribute| attribute.presence == Presence::Computed);
        if generated && matches!(name, Value::Unknown) {
            return None;
        }
        let version = if api.collection.is_versioned() {
            text(values.get(VERSION_ATTRIBUTE))
        } else {
            Some(String::new())
        };
        Some(ObjectKey {
            collection: api.collection.segment().to_owned(),
            parent: text(values.get(&api.parent_attribute)),
            name: text(name),
            version,
        })
    }

    /// True when both keys may name the same object: same collection, and every part known on
    /// both sides equal.
    ///
    /// ```
    /// use model::plan::ObjectKey;
    /// let key = |parent: Option<&str>, name: &str| ObjectKey {
    ///     collection: "computes".to_owned(),
    ///     parent: parent.map(str::to_owned),
    ///     name: Some(name.to_owned()),
    ///     version: Some(String::new()),
    /// };
    /// assert!(key(Some("w"), "cpu").may_equal(&key(None, "cpu")));
    /// assert!(!key(Some("w"), "cpu").may_equal(&key(Some("w"), "gpu")));
    /// assert!(key(Some("w"), "cpu").is_same(&key(Some("w"), "cpu")));
    /// assert!(!key(Some("w"), "cpu").is_same(&key(None, "cpu")));
    /// ```
    pub fn may_equal(&self, other: &ObjectKey) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.collection == other.collection
            && same(&self.parent, &other.parent)
            && same(&self.name, &other.name)
            && same(&self.version, &other.version)
    }

    /// True when both keys are fully known and equal: certainly the same object.
    pub fn is_same(&self, other: &ObjectKey) -> bool {
        self.is_known() && self == other
    }

    /// True when every part is known.
    pub fn is_known(&self) -> bool {
        self.parent.is_some() && self.name.is_some() && self.version.is_some()
    }
}

/// A key part: lowercased text, empty for null, `None` for unknown (or a non-text value).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim_end_matches('/').to_ascii_lowercase()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}
