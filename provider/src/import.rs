//! `terraform import ADDR ID`: the ARM id becomes a state skeleton holding the id, the name and
//! the parent (so `ReadResource`, which Terraform calls next, knows where to look); every other
//! attribute is null until that read fills it in.
//!
//! | collection | id | skeleton |
//! |---|---|---|
//! | workspaces | `/subscriptions/S/resourceGroups/G/providers/Microsoft.MachineLearningServices/workspaces/N` | name `N`, `resource_group_name` `G` |
//! | computes | `<workspace id>/computes/N` | name `N`, `workspace_id` `<workspace id>` |
//! | jobs (runs) | `<workspace id>/jobs/N` | name `N`, `workspace_id` `<workspace id>` (the run's client-side settings are null until the configuration sets them: an in-place update that records them) |
//! | environments | `<workspace id>/environments/N/versions/V` | name `N`, `version` `V`, `workspace_id` `<workspace id>` |

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
    let mut version = None;
    let (parent, name) = match collection {
        Collection::Workspaces | Collection::Computes | Collection::Jobs => {
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
        Collection::Environments => {
            let [.., kind, name, versions, number] = segments.as_slice() else {
                return Err(not_an_id());
            };
            if !kind.eq_ignore_ascii_case(collection.segment())
                || !versions.eq_ignore_ascii_case("versions")
                || name.is_empty()
                || number.is_empty()
            {
                return Err(not_an_id());
            }
            version = Some((*number).to_owned());
            (segments[..segments.len() - 4].join("/"), (*name).to_owned())
        }
    };
    if collection != Collection::Workspaces
        && !segments
            .iter()
            .any(|segment| segment.eq_ignore_ascii_case("workspaces"))
    {
        return Err(not_an_id());
    }
    let mut skeleton = ObjectValue::with_id(id);
    skeleton.set(&schema.api.name_attribute, name.into());
    skeleton.set(&schema.api.parent_attribute, parent.into());
    if let Some(version) = version {
        skeleton.set(engine::schema::VERSION_ATTRIBUTE, version.into());
    }
    Ok(skeleton)
}

fn expected(collection: Collection) -> String {
    match collection {
        Collection::Workspaces => {
            "a workspace (`/subscriptions/S/resourceGroups/G/providers/Microsoft.MachineLearningServices/workspaces/NAME`)"
                .to_owned()
        }
        Collection::Environments => {
            "an environment version (`<workspace id>/environments/NAME/versions/VERSION`)".to_owned()
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
    fn run_and_environment_version_ids_give_name_version_and_workspace() {
        let id = format!("{WORKSPACE}/jobs/train-abcd1234-0000001f");
        let run = skeleton(&schema("azureml_run"), &id).expect("a job id");
        assert_eq!(run.get_str("name"), Some("train-abcd1234-0000001f"));
        assert_eq!(run.get_str("workspace_id"), Some(WORKSPACE));
        let id = format!("{WORKSPACE}/environments/python-train/versions/3");
        let environment = skeleton(&schema("azureml_environment"), &id).expect("a version id");
        assert_eq!(environment.get_str("id"), Some(id.as_str()));
        assert_eq!(environment.get_str("name"), Some("python-train"));
        assert_eq!(environment.get_str("version"), Some("3"));
        assert_eq!(environment.get_str("workspace_id"), Some(WORKSPACE));
        let container = format!("{WORKSPACE}/environments/python-train");
        let error = skeleton(&schema("azureml_environment"), &container).expect_err("no version");
        assert!(error.to_string().contains("/versions/VERSION"), "{error}");
        assert!(skeleton(&schema("azureml_run"), &format!("{WORKSPACE}/computes/c")).is_err());
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
