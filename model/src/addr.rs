//! Resource addresses (`azureml_compute_cluster.gpu`, `data.azureml_workspace.main`,
//! `azureml_attached_virtual_machine.vm["a"]`, `module.team["ml"].azureml_compute_cluster.cpu`)
//! and attribute paths (`ssl.cert`). Parsing and display only; no lookup logic.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether an address names a managed resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A `resource` block.
    Managed,
    /// A `data` block.
    Data,
}

/// The instance key of a resource with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InstanceKey {
    /// `count` index.
    Index(u64),
    /// `for_each` key.
    Key(String),
}

/// One module call instance on a path: `module.team["ml"]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ModuleStep {
    /// The `module` block's label.
    pub name: String,
    /// Its `count`/`for_each` key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<InstanceKey>,
}

/// The module instance a resource is in: empty for the root module, else each call from the
/// root down (`module.team["ml"].module.network`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModulePath(pub Vec<ModuleStep>);

impl ModulePath {
    /// Whether this is the root module.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path of a call inside this module instance.
    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> ModulePath {
        let mut steps = self.0.clone();
        steps.push(ModuleStep {
            name: name.to_owned(),
            key,
        });
        ModulePath(steps)
    }

    /// Parses `module.a`, `module.a[0].module.b["k"]` (the empty string is the root).
    ///
    /// ```
    /// use model::addr::ModulePath;
    /// let path = ModulePath::parse("module.team[\"ml\"].module.net").unwrap();
    /// assert_eq!(path.to_string(), "module.team[\"ml\"].module.net");
    /// assert!(ModulePath::parse("").unwrap().is_root());
    /// ```
    pub fn parse(text: &str) -> Result<ModulePath, AddrError> {
        let (path, rest) = split_module_prefix(text).ok_or_else(|| AddrError(text.to_owned()))?;
        if !rest.is_empty() {
            return Err(AddrError(text.to_owned()));
        }
        Ok(path)
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}", step.name)?;
            write_key(f, &step.key)?;
        }
        Ok(())
    }
}

fn write_key(f: &mut fmt::Formatter<'_>, key: &Option<InstanceKey>) -> fmt::Result {
    match key {
        Some(InstanceKey::Index(index)) => write!(f, "[{index}]"),
        Some(InstanceKey::Key(key)) => write!(f, "[{key:?}]"),
        None => Ok(()),
    }
}

/// Reads `[0]` or `["k"]` at the start of `text`: the key and the rest.
fn read_key(text: &str) -> Option<(Option<InstanceKey>, &str)> {
    let Some(inner) = text.strip_prefix('[') else {
        return Some((None, text));
    };
    if let Some(quoted) = inner.strip_prefix('"') {
        let end = quoted.find("\"]")?;
        let key = quoted[..end].to_owned();
        return Some((Some(InstanceKey::Key(key)), &quoted[end + 2..]));
    }
    let end = inner.find(']')?;
    let index = inner[..end].parse().ok()?;
    Some((Some(InstanceKey::Index(index)), &inner[end + 1..]))
}

/// Splits the leading `module.NAME[KEY].` steps off `text`.
fn split_module_prefix(text: &str) -> Option<(ModulePath, &str)> {
    let mut steps = Vec::new();
    let mut rest = text;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['[', '.']).unwrap_or(after.len());
        let name = &after[..end];
        if !valid_label(name) {
            return None;
        }
        let (key, after_key) = read_key(&after[end..])?;
        steps.push(ModuleStep {
            name: name.to_owned(),
            key,
        });
        rest = match after_key.strip_prefix('.') {
            Some(next) => next,
            None if after_key.is_empty() => after_key,
            None => return None,
        };
    }
    Some((ModulePath(steps), rest))
}

/// A block label or name: letters, digits, `_`, `-`, not starting with a digit.
fn valid_label(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

/// The address of one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceAddr {
    /// The module instance (root when empty).
    #[serde(default, skip_serializing_if = "ModulePath::is_root")]
    pub module: ModulePath,
    /// Managed or data.
    pub mode: Mode,
    /// The resource type, e.g. `azureml_compute_cluster`.
    pub resource_type: String,
    /// The block label, e.g. `gpu`.
    pub name: String,
    /// The `count`/`for_each` key, if any.
    pub key: Option<InstanceKey>,
}

impl ResourceAddr {
    /// A managed resource address without instance key.
    ///
    /// ```
    /// let addr = model::addr::ResourceAddr::managed("azureml_workspace", "main");
    /// assert_eq!(addr.to_string(), "azureml_workspace.main");
    /// ```
    pub fn managed(resource_type: &str, name: &str) -> ResourceAddr {
        ResourceAddr {
            module: ModulePath::default(),
            mode: Mode::Managed,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            key: None,
        }
    }

    /// The same address in module instance `module`.
    pub fn in_module(mut self, module: ModulePath) -> ResourceAddr {
        self.module = module;
        self
    }

    /// The same address with an instance key.
    pub fn with_key(mut self, key: InstanceKey) -> ResourceAddr {
        self.key = Some(key);
        self
    }

    /// The address without its instance key (`azureml_x.y` for `azureml_x.y[0]`).
    pub fn without_key(&self) -> ResourceAddr {
        ResourceAddr {
            key: None,
            ..self.clone()
        }
    }

    /// Parses `type.name`, `data.type.name`, `type.name[0]` or `type.name["key"]`, each
    /// optionally after a module path (`module.team["ml"].type.name`).
    ///
    /// ```
    /// use model::addr::{InstanceKey, ResourceAddr};
    /// let addr: ResourceAddr = "azureml_compute_cluster.gpu[\"a\"]".parse().unwrap();
    /// assert_eq!(addr.key, Some(InstanceKey::Key("a".into())));
    /// assert!("nonsense".parse::<ResourceAddr>().is_err());
    /// let addr: ResourceAddr = "module.team[\"ml\"].azureml_compute_cluster.cpu".parse().unwrap();
    /// assert_eq!(addr.module.to_string(), "module.team[\"ml\"]");
    /// assert_eq!(addr.to_string(), "module.team[\"ml\"].azureml_compute_cluster.cpu");
    /// ```
    pub fn parse(text: &str) -> Result<ResourceAddr, AddrError> {
        let bad = || AddrError(text.to_owned());
        let (module, text) = split_module_prefix(text).ok_or_else(bad)?;
        let (base, key) = match text.find('[') {
            Some(open) => {
                let (key, rest) = read_key(&text[open..]).ok_or_else(bad)?;
                if !rest.is_empty() {
                    return Err(bad());
                }
                (&text[..open], key)
            }
            None => (text, None),
        };
        let parts: Vec<&str> = base.split('.').collect();
        let (mode, resource_type, name) = match parts.as_slice() {
            ["data", resource_type, name] => (Mode::Data, *resource_type, *name),
            [resource_type, name] => (Mode::Managed, *resource_type, *name),
            _ => return Err(bad()),
        };
        if !valid_label(resource_type) || !valid_label(name) {
            return Err(bad());
        }
        Ok(ResourceAddr {
            module,
            mode,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            key,
        })
    }
}

impl std::str::FromStr for ResourceAddr {
    type Err = AddrError;
    fn from_str(text: &str) -> Result<ResourceAddr, AddrError> {
        ResourceAddr::parse(text)
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.resource_type, self.name)?;
        write_key(f, &self.key)
    }
}

/// A string that is not a resource address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a resource address (expected `TYPE.NAME`, `TYPE.NAME[INDEX]` or `data.TYPE.NAME`)"
)]
pub struct AddrError(pub String);

/// One step of an attribute path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStep {
    /// An attribute of an object.
    Attr(String),
    /// An element of a list.
    Index(u64),
    /// An element of a map.
    Key(String),
}

/// A path to a value inside a resource: `ssl.cert`, `setup_scripts[0].path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// A path of one top-level attribute.
    pub fn attr(name: &str) -> AttrPath {
        AttrPath(vec![PathStep::Attr(name.to_owned())])
    }

    /// This path extended by one step.
    pub fn join(&self, step: PathStep) -> AttrPath {
        let mut steps = self.0.clone();
        steps.push(step);
        AttrPath(steps)
    }

    /// The top-level attribute name, if the path starts with one.
    pub fn root(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathStep::Attr(name)) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if position == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in [
            "azureml_workspace.main",
            "data.azureml_compute.existing",
            "azureml_compute_cluster.gpu[3]",
            "azureml_attached_virtual_machine.vm[\"a-b\"]",
        ] {
            let addr = ResourceAddr::parse(text).expect("valid address");
            assert_eq!(addr.to_string(), text);
        }
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for text in ["", "a", "a.b.c.d", "a.b[", "a.b[x]", "1a.b", "a.b[\"x]"] {
            assert!(
                ResourceAddr::parse(text).is_err(),
                "{text} should be rejected"
            );
        }
    }

    #[test]
    fn paths_display_like_terraform() {
        let path = AttrPath::attr("setup_scripts")
            .join(PathStep::Index(0))
            .join(PathStep::Attr("path".into()));
        assert_eq!(path.to_string(), "setup_scripts[0].path");
        assert_eq!(path.root(), Some("setup_scripts"));
    }
}
