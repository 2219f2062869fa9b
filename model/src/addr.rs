//! Resource addresses (`azureml_compute_cluster.gpu`, `data.azureml_workspace.main`,
//! `azureml_attached_virtual_machine.vm["a"]`) and attribute paths (`ssl.cert`). Parsing and
//! display only; no lookup logic.

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

/// The address of one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceAddr {
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
            mode: Mode::Managed,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            key: None,
        }
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

    /// Parses `type.name`, `data.type.name`, `type.name[0]` or `type.name["key"]`.
    ///
    /// ```
    /// use model::addr::{InstanceKey, ResourceAddr};
    /// let addr: ResourceAddr = "azureml_compute_cluster.gpu[\"a\"]".parse().unwrap();
    /// assert_eq!(addr.key, Some(InstanceKey::Key("a".into())));
    /// assert!("nonsense".parse::<ResourceAddr>().is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ResourceAddr, AddrError> {
        let bad = || AddrError(text.to_owned());
        let (base, key) = match text.find('[') {
            Some(open) => {
                let inner = text[open + 1..].strip_suffix(']').ok_or_else(bad)?;
                let key = if let Some(quoted) = inner.strip_prefix('"') {
                    InstanceKey::Key(quoted.strip_suffix('"').ok_or_else(bad)?.to_owned())
                } else {
                    InstanceKey::Index(inner.parse().map_err(|_| bad())?)
                };
                (&text[..open], Some(key))
            }
            None => (text, None),
        };
        let parts: Vec<&str> = base.split('.').collect();
        let (mode, resource_type, name) = match parts.as_slice() {
            ["data", resource_type, name] => (Mode::Data, *resource_type, *name),
            [resource_type, name] => (Mode::Managed, *resource_type, *name),
            _ => return Err(bad()),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !s.starts_with(|c: char| c.is_ascii_digit())
        };
        if !valid(resource_type) || !valid(name) {
            return Err(bad());
        }
        Ok(ResourceAddr {
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
        if self.mode == Mode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.resource_type, self.name)?;
        match &self.key {
            Some(InstanceKey::Index(index)) => write!(f, "[{index}]"),
            Some(InstanceKey::Key(key)) => write!(f, "[{key:?}]"),
            None => Ok(()),
        }
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
