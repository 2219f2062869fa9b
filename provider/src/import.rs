//! `terraform import ADDR ID`: the ARM id becomes a state skeleton holding the id, the name and
//! the parent (so `ReadResource`, which Terraform calls next, knows where to look); every other
//! attribute is null until that read fills it in.
//!
//! | collection | id | skeleton |
//! |---|---|---|
//! | workspaces | `/subscriptions/S/resourceGroups/G/providers/Microsoft.MachineLearningServices/workspaces/N` | name `N`, `resource_group_name` `G` |
//! | computes | `<workspace id>/computes/N` | name `N`, `workspace_id` `<workspace id>` |

use engine::schema::{Collection, ResourceSchema};
use engine::value::ObjectValue;

/// Why an id cannot be imported as a given type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The id does not name an object of the type's collection.
    #[error("`{id}` is not the ARM id of {expected}")]
    NotAnId {
        /// The id given.
        id: String,
        /// What it should look like.
        expected: String,
    },
    /// The type cannot be imported by id (yet).
    #[error("`{type_name}` cannot be imported by id")]
    Unsupported {
        /// The type.
        type_name: String,
    },
}

/// The state skeleton for `id`.
pub fn skeleton(schema: &ResourceSchema, id: &str) -> Result<ObjectValue, ImportError> {
    let id = id.trim().trim_end_matches('/');
    let collection = schema.api.collection;
    let not_an_id = || ImportError::NotAnId {
        id: id.to_owned(),
        expected: expected(collection),
    };
    let segments: Vec<&str> = id.split('/').collect();
    // ["", "subscriptions", S, "resourceGroups", G, "providers", ...]
    if segments.len() < 5
        || !segments[0].is_empty()
        || !segments[1].eq_ignore_ascii_case("subscriptions")
        || !segments[3].eq_ignore_ascii_case("resourceGroups")
    {
        return Err(not_an_id());
    }
    let (parent, name) = match collection {
        Collection::Workspaces | Collection::Computes => {
            let [.., kind, name] = segments.as_slice() else {
                return Err(not_an_id());
            };
            if !kind.eq_ignore_ascii_case(collection.segment()) || name.is_empty() {
                return Err(not_an_id());
            }
            let parent = if schema.api.parent_attribute == "resource_group_name" {
                segments[4].to_owned()
            } else {
                segments[..segments.len() - 2].join("/")
            };
            (parent, (*name).to_owned())
        }
        Collection::Environments | Collection::Jobs => {
            return Err(ImportError::Unsupported {
                type_name: schema.type_name.clone(),
            });
        }
    };
    if collection == Collection::Computes
        && !segments
            .iter()
            .any(|segment| segment.eq_ignore_ascii_case("workspaces"))
    {
        return Err(not_an_id());
    }
    let mut skeleton = ObjectValue::with_id(id);
    skeleton.set(&schema.api.name_attribute, name.into());
    skeleton.set(&schema.api.parent_attribute, parent.into());
    Ok(skeleton)
}

fn expected(collection: Collection) -> String {
    match collection {
        Collection::Workspaces => {
            "a workspace (`/subscriptions/S/resourceGroups/G/providers/Microsoft.MachineLearningServices/workspaces/NAME`)"
                .to_owned()
        }
        other => format!("an object of a workspace's `{}` (`<workspace id>/{}/NAME`)", other.segment(), other.segment()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKSPACE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/demo";

    fn schema(type_name: &str) -> ResourceSchema {
        engine::schema::load_registry()
            .expect("catalogue")
            .get(type_name)
            .expect("type in the catalogue")
            .clone()
    }

    #[test]
    fn compute_ids_give_name_and_workspace() {
        let id = format!("{WORKSPACE}/computes/vm-attach");
        let skeleton =
            skeleton(&schema("azureml_attached_virtual_machine"), &id).expect("valid id");
        assert_eq!(skeleton.get_str("id"), Some(id.as_str()));
        assert_eq!(skeleton.get_str("name"), Some("vm-attach"));
        assert_eq!(skeleton.get_str("workspace_id"), Some(WORKSPACE));
    }

    #[test]
    fn workspace_ids_give_name_and_resource_group() {
        let skeleton = skeleton(&schema("azureml_workspace"), WORKSPACE).expect("valid id");
        assert_eq!(skeleton.get_str("name"), Some("demo"));
        assert_eq!(skeleton.get_str("resource_group_name"), Some("demo-rg"));
    }

    #[test]
    fn wrong_ids_are_refused_with_the_expected_shape() {
        let compute = schema("azureml_attached_virtual_machine");
        for id in [
            "vm-attach",
            WORKSPACE,
            "/subscriptions/s/resourceGroups/g/providers/X/computes/c",
        ] {
            let error = skeleton(&compute, id).expect_err(id);
            assert!(
                error.to_string().contains("<workspace id>/computes/NAME"),
                "{error}"
            );
        }
        assert!(
            skeleton(
                &schema("azureml_workspace"),
                &format!("{WORKSPACE}/computes/c")
            )
            .is_err()
        );
    }
}
