//! Data sources, derived from the catalogue as `amlplan` derives them: a data source reads an
//! existing object by its name and parent, so those two arguments are required and every other
//! attribute is read from the service (computed). Write-only attributes are never read back, so
//! a data source does not have them (Terraform also allows write-only only on managed resources).
//!
//! TODO(#3): move the derivation into the engine, shared with `amlplan`'s decoder.

use engine::schema::{Presence, Registry, ResourceSchema};

/// The data source type names offered, when the catalogue has the resource type
/// (the same list as `amlplan`'s).
pub const DATA_SOURCES: &[&str] = &[
    "azureml_compute",
    "azureml_environment",
    "azureml_workspace",
];

/// The data sources of `resources`.
pub fn registry(resources: &Registry) -> Registry {
    Registry {
        resources: resources
            .iter()
            .filter(|schema| DATA_SOURCES.contains(&schema.type_name.as_str()))
            .map(|schema| (schema.type_name.clone(), data_schema(schema)))
            .collect(),
    }
}

/// The data source schema of one resource type.
pub fn data_schema(resource: &ResourceSchema) -> ResourceSchema {
    let mut schema = resource.clone();
    schema
        .attributes
        .retain(|_, attribute| !attribute.write_only);
    for (name, attribute) in &mut schema.attributes {
        let lookup = *name == resource.api.name_attribute || *name == resource.api.parent_attribute;
        attribute.presence = if lookup {
            Presence::Required
        } else {
            Presence::Computed
        };
        attribute.default = None;
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_data_source_looks_up_by_name_and_parent() {
        let registry = engine::schema::load_registry().expect("catalogue");
        let data = super::registry(&registry);
        let workspace = data
            .get("azureml_workspace")
            .expect("workspace data source");
        for (name, attribute) in &workspace.attributes {
            let lookup =
                *name == workspace.api.name_attribute || *name == workspace.api.parent_attribute;
            assert_eq!(attribute.presence == Presence::Required, lookup, "{name}");
            assert!(!attribute.write_only, "{name}");
        }
    }
}
