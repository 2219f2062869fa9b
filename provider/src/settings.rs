//! The `provider "azureml"` block as Terraform sees it: its schema and the type its value is
//! encoded with, from the one table of arguments in `engine::settings` (which also checks and
//! resolves them, for amlplan too).

use engine::settings::SETTINGS;

use crate::convert::cty::CtyType;
use crate::proto::tfplugin6 as proto;

/// The provider block's schema.
pub fn schema() -> proto::Schema {
    let attributes = SETTINGS
        .iter()
        .map(|setting| proto::schema::Attribute {
            name: setting.name.to_owned(),
            r#type: CtyType::String.to_json().to_string().into_bytes(),
            description: setting.description.to_owned(),
            description_kind: proto::StringKind::Markdown as i32,
            optional: true,
            sensitive: setting.sensitive,
            ..Default::default()
        })
        .collect();
    proto::Schema {
        version: 0,
        block: Some(proto::schema::Block {
            attributes,
            description: "Azure Machine Learning compute, through ARM or the embedded emulator."
                .to_owned(),
            description_kind: proto::StringKind::Markdown as i32,
            ..Default::default()
        }),
    }
}

/// The type the provider block is encoded with.
pub fn config_type() -> CtyType {
    CtyType::Object(
        SETTINGS
            .iter()
            .map(|setting| (setting.name.to_owned(), CtyType::String))
            .collect(),
    )
}
