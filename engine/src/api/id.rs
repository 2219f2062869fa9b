//! ARM resource ids (`/subscriptions/S/resourceGroups/G/providers/NS/type/name[/type/name]...`):
//! parsing, the parts a caller needs (subscription, resource group, type, name, parent) and
//! comparison that ignores ASCII case, as ARM does. Pure: no IO, no knowledge of our schemas.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A parsed ARM id. Equality and hashing ignore ASCII case (ARM ids are case-insensitive);
/// [`ArmId::as_str`] and `Display` keep the spelling that was parsed.
#[derive(Debug, Clone)]
pub struct ArmId {
    text: String,
    subscription: String,
    resource_group: Option<String>,
    namespace: Option<String>,
    /// `(type, name)` pairs after the namespace, outermost first.
    segments: Vec<(String, String)>,
}

/// A string that is not an ARM id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{id}` is not an ARM resource id ({reason})")]
pub struct ArmIdError {
    /// The text given.
    pub id: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ArmId {
    /// Parses a subscription, resource group or resource id. A trailing `/` is ignored.
    ///
    /// ```
    /// use engine::api::ArmId;
    /// let id = ArmId::parse(
    ///     "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/cpu",
    /// ).unwrap();
    /// assert_eq!(id.subscription(), "s1");
    /// assert_eq!(id.resource_group(), Some("rg"));
    /// assert_eq!(id.name(), "cpu");
    /// assert_eq!(id.resource_type().as_deref(), Some("Microsoft.MachineLearningServices/workspaces/computes"));
    /// assert_eq!(id.parent().unwrap().name(), "ws");
    /// assert!(ArmId::parse("cpu").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<ArmId, ArmIdError> {
        let trimmed = text.trim().trim_end_matches('/');
        let fail = |reason| ArmIdError {
            id: text.to_owned(),
            reason,
        };
        let rest = trimmed
            .strip_prefix('/')
            .ok_or_else(|| fail("it must start with `/`"))?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.iter().any(|part| part.is_empty()) {
            return Err(fail("it has an empty segment"));
        }
        let [first, subscription, rest @ ..] = parts.as_slice() else {
            return Err(fail("it must start with `/subscriptions/{id}`"));
        };
        if !first.eq_ignore_ascii_case("subscriptions") {
            return Err(fail("it must start with `/subscriptions/{id}`"));
        }
        let mut id = ArmId {
            text: trimmed.to_owned(),
            subscription: (*subscription).to_owned(),
            resource_group: None,
            namespace: None,
            segments: Vec::new(),
        };
        let rest = match rest {
            [group_key, group, rest @ ..] if group_key.eq_ignore_ascii_case("resourceGroups") => {
                id.resource_group = Some((*group).to_owned());
                rest
            }
            other => other,
        };
        match rest {
            [] => Ok(id),
            [providers, namespace, pairs @ ..] if providers.eq_ignore_ascii_case("providers") => {
                if pairs.is_empty() || pairs.len() % 2 != 0 {
                    return Err(fail("a provider path needs `type/name` pairs"));
                }
                id.namespace = Some((*namespace).to_owned());
                id.segments = pairs
                    .chunks(2)
                    .map(|pair| (pair[0].to_owned(), pair[1].to_owned()))
                    .collect();
                Ok(id)
            }
            _ => Err(fail(
                "expected `resourceGroups/{name}` or `providers/{namespace}/...`",
            )),
        }
    }

    /// The id of a resource group.
    ///
    /// ```
    /// let id = engine::api::ArmId::resource_group_id("s1", "demo-rg");
    /// assert_eq!(id.as_str(), "/subscriptions/s1/resourceGroups/demo-rg");
    /// ```
    pub fn resource_group_id(subscription: &str, resource_group: &str) -> ArmId {
        ArmId {
            text: format!("/subscriptions/{subscription}/resourceGroups/{resource_group}"),
            subscription: subscription.to_owned(),
            resource_group: Some(resource_group.to_owned()),
            namespace: None,
            segments: Vec::new(),
        }
    }

    /// The id as text, spelled as parsed (without a trailing `/`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The subscription id.
    pub fn subscription(&self) -> &str {
        &self.subscription
    }

    /// The resource group name, unless this is a subscription-level id.
    pub fn resource_group(&self) -> Option<&str> {
        self.resource_group.as_deref()
    }

    /// The provider namespace (`Microsoft.Compute`), for resource ids.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The full resource type (`Microsoft.Synapse/workspaces/bigDataPools`), for resource ids.
    pub fn resource_type(&self) -> Option<String> {
        let namespace = self.namespace.as_deref()?;
        let mut text = namespace.to_owned();
        for (resource_type, _) in &self.segments {
            text.push('/');
            text.push_str(resource_type);
        }
        Some(text)
    }

    /// The last name in the id: the resource's, else the resource group's, else the subscription.
    pub fn name(&self) -> &str {
        match (self.segments.last(), &self.resource_group) {
            (Some((_, name)), _) => name,
            (None, Some(group)) => group,
            (None, None) => &self.subscription,
        }
    }

    /// How many `type/name` pairs follow the namespace (a workspace is 1, a compute 2).
    pub fn depth(&self) -> usize {
        self.segments.len()
    }

    /// The enclosing resource (a compute's workspace), or for a top-level resource its resource
    /// group; `None` for a resource group or subscription id.
    pub fn parent(&self) -> Option<ArmId> {
        match self.segments.len() {
            0 => None,
            1 => self
                .resource_group
                .as_deref()
                .map(|group| ArmId::resource_group_id(&self.subscription, group)),
            _ => Some(self.truncated(self.segments.len() - 1)),
        }
    }

    /// The ancestor with `depth` `type/name` pairs (1: the top-level resource, e.g. the workspace
    /// of a compute); `None` when the id is not that deep.
    pub fn ancestor(&self, depth: usize) -> Option<ArmId> {
        (depth >= 1 && depth <= self.segments.len()).then(|| self.truncated(depth))
    }

    /// This id extended by `type/name` (`workspace.child("computes", "cpu")`). On a resource
    /// group id, `resource_type` must carry the namespace (`Microsoft.Compute/virtualMachines`).
    pub fn child(&self, resource_type: &str, name: &str) -> ArmId {
        let text = if self.namespace.is_none() {
            format!("{}/providers/{resource_type}/{name}", self.text)
        } else {
            format!("{}/{resource_type}/{name}", self.text)
        };
        ArmId::parse(&text).expect("a child of a valid id is a valid id")
    }

    fn truncated(&self, depth: usize) -> ArmId {
        let mut text = format!("/subscriptions/{}", self.subscription);
        if let Some(group) = &self.resource_group {
            text.push_str("/resourceGroups/");
            text.push_str(group);
        }
        if let Some(namespace) = &self.namespace {
            text.push_str("/providers/");
            text.push_str(namespace);
        }
        for (resource_type, name) in &self.segments[..depth] {
            text.push('/');
            text.push_str(resource_type);
            text.push('/');
            text.push_str(name);
        }
        ArmId {
            text,
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            namespace: self.namespace.clone(),
            segments: self.segments[..depth].to_vec(),
        }
    }

    /// True when `other` names the same resource, ignoring ASCII case.
    pub fn same_as(&self, other: &str) -> bool {
        same_id(&self.text, other)
    }
}

/// Compares two ARM ids as ARM does: ignoring ASCII case and a trailing `/`.
///
/// ```
/// assert!(engine::api::id::same_id("/subscriptions/A/resourcegroups/RG", "/subscriptions/a/resourceGroups/rg/"));
/// ```
pub fn same_id(left: &str, right: &str) -> bool {
    left.trim_end_matches('/')
        .eq_ignore_ascii_case(right.trim_end_matches('/'))
}

impl PartialEq for ArmId {
    fn eq(&self, other: &ArmId) -> bool {
        same_id(&self.text, &other.text)
    }
}

impl Eq for ArmId {}

impl Hash for ArmId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.to_ascii_lowercase().hash(state);
    }
}

impl fmt::Display for ArmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for ArmId {
    type Err = ArmIdError;
    fn from_str(text: &str) -> Result<ArmId, ArmIdError> {
        ArmId::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const POOL: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool";

    #[test]
    fn nested_resource_ids_expose_their_parts() {
        let id = ArmId::parse(POOL).expect("valid");
        assert_eq!(id.subscription(), "00000000-0000-0000-0000-000000000000");
        assert_eq!(id.resource_group(), Some("demo-rg"));
        assert_eq!(id.namespace(), Some("Microsoft.Synapse"));
        assert_eq!(
            id.resource_type().as_deref(),
            Some("Microsoft.Synapse/workspaces/bigDataPools")
        );
        assert_eq!(id.name(), "demo-pool");
        assert_eq!(id.depth(), 2);
        let workspace = id.parent().expect("a pool has a workspace");
        assert_eq!(workspace.name(), "demo-synapse");
        assert_eq!(workspace, id.ancestor(1).expect("depth 1"));
        let group = workspace
            .parent()
            .expect("a workspace has a resource group");
        assert_eq!(
            group.as_str(),
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg"
        );
        assert_eq!(group.name(), "demo-rg");
        assert!(group.parent().is_none());
        assert_eq!(workspace.child("bigDataPools", "demo-pool"), id);
        assert_eq!(
            group.child("Microsoft.Synapse/workspaces", "demo-synapse"),
            workspace
        );
    }

    #[test]
    fn comparison_ignores_case_and_trailing_slash() {
        let upper = ArmId::parse(&POOL.to_ascii_uppercase()).expect("valid");
        let lower = ArmId::parse(&format!("{}/", POOL.to_ascii_lowercase())).expect("valid");
        assert_eq!(upper, lower);
        let mut set = std::collections::HashSet::new();
        set.insert(upper);
        assert!(set.contains(&lower));
        assert!(lower.same_as(POOL));
        assert_eq!(lower.as_str(), POOL.to_ascii_lowercase());
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for text in [
            "",
            "demo",
            "subscriptions/s",
            "/subscriptions",
            "/subscriptions//resourceGroups/g",
            "/tenants/t",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute",
            "/subscriptions/s/resourceGroups/g/things/x",
        ] {
            assert!(ArmId::parse(text).is_err(), "`{text}` should be rejected");
        }
        let error = ArmId::parse("demo").expect_err("not an id");
        assert_eq!(
            error.to_string(),
            "`demo` is not an ARM resource id (it must start with `/`)"
        );
    }

    #[test]
    fn subscription_level_resources_parse() {
        let id = ArmId::parse(
            "/subscriptions/s/providers/Microsoft.MachineLearningServices/workspaces/w",
        )
        .expect("valid");
        assert_eq!(id.resource_group(), None);
        assert_eq!(id.name(), "w");
        assert!(id.parent().is_none());
    }
}
