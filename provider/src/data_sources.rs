//! Data sources, derived from the catalogue as `amlplan` derives them: a data source reads an
//! existing object by its name and parent, so those two arguments are required and every other
//! attribute is read from the service (computed). Write-only attributes are never read back, so
//! a data source does not have them (Terraform also allows write-only only on managed resources).
//!
//! The derivation is the engine's (`ResourceSchema::data_source`), shared with `amlplan`'s decoder.

use engine::schema::Registry;

pub use engine::schema::DATA_SOURCES;

/// The data sources of `resources` ([`Registry::data_sources`]).
pub fn registry(resources: &Registry) -> Registry {
    resources.data_sources()
}

#[cfg(test)]
mod tests {
    use engine::schema::Presence;

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
