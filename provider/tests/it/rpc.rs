//! tfplugin6 RPCs over the real transport (mutual TLS), as Terraform calls them.

use std::collections::BTreeMap;

use engine::value::Value;
use provider::convert::cty::{self, CtyType};
use provider::convert::msgpack;
use provider::proto::tfplugin6 as proto;
use provider::proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::Channel;

use crate::client::ClientIdentity;
use crate::plugin::Plugin;

struct Connected {
    client: ProviderClient<Channel>,
    _plugin: Plugin,
    _workdir: tempfile::TempDir,
}

async fn connect() -> Connected {
    let identity = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    let plugin = Plugin::start(Some(&identity.pem), workdir.path());
    let channel = identity
        .channel(&plugin.address(), &plugin.server_certificate())
        .await
        .expect("channel");
    Connected {
        client: ProviderClient::new(channel),
        _plugin: plugin,
        _workdir: workdir,
    }
}

fn dynamic(value: &Value, ty: &CtyType) -> proto::DynamicValue {
    proto::DynamicValue {
        msgpack: msgpack::encode(value, ty).expect("encodes"),
        json: Vec::new(),
    }
}

fn object(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    )
}

fn path_names(path: &proto::AttributePath) -> Vec<String> {
    use proto::attribute_path::step::Selector;
    path.steps
        .iter()
        .map(|step| match &step.selector {
            Some(Selector::AttributeName(name)) => name.clone(),
            Some(Selector::ElementKeyString(key)) => format!("[{key:?}]"),
            Some(Selector::ElementKeyInt(index)) => format!("[{index}]"),
            None => "?".to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn provider_schema_covers_the_catalogue() {
    let mut connected = connect().await;
    let schema = connected
        .client
        .get_provider_schema(proto::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    let registry = engine::schema::load_registry().expect("catalogue");
    let expected: Vec<&String> = registry
        .iter()
        .map(|resource| &resource.type_name)
        .collect();
    let mut served: Vec<&String> = schema.resource_schemas.keys().collect();
    served.sort();
    assert_eq!(served, expected);
    // Terraform 1.0 dereferences every block without checking: none may be missing.
    for (name, resource) in &schema.resource_schemas {
        let block = resource
            .block
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has a block"));
        for nested in &block.block_types {
            assert!(
                nested.block.is_some(),
                "{name}.{} has a block",
                nested.type_name
            );
        }
        for attribute in &block.attributes {
            // Exactly one of: cty type JSON (Terraform 1.0 panics on invalid JSON), nested type.
            if attribute.nested_type.is_some() {
                assert!(
                    attribute.r#type.is_empty(),
                    "{name}.{}: type and nested type",
                    attribute.name
                );
                continue;
            }
            let json: serde_json::Value =
                serde_json::from_slice(&attribute.r#type).expect("type is JSON");
            assert!(
                CtyType::from_json(&json).is_some(),
                "{name}.{} has a cty type",
                attribute.name
            );
        }
    }
    let provider = schema
        .provider
        .and_then(|schema| schema.block)
        .expect("provider schema");
    let token = provider
        .attributes
        .iter()
        .find(|attribute| attribute.name == "token")
        .expect("token");
    assert!(token.sensitive && token.optional);
    let names: Vec<&str> = provider
        .attributes
        .iter()
        .map(|attribute| attribute.name.as_str())
        .collect();
    for expected in [
        "endpoint",
        "subscription_id",
        "ca_certificate",
        "api_version",
        "tenant_id",
        "client_id",
        "client_secret",
        "authority_host",
        "attach_wait_timeout",
    ] {
        assert!(names.contains(&expected), "provider attribute {expected}");
    }

    let metadata = connected
        .client
        .get_metadata(proto::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    assert_eq!(metadata.resources.len(), expected.len());
}

#[tokio::test]
async fn resource_validation_points_at_the_attribute() {
    let mut connected = connect().await;
    let registry = engine::schema::load_registry().expect("catalogue");
    let cluster = registry
        .get("azureml_compute_cluster")
        .expect("compute cluster in the catalogue");
    let config = object(&[
        ("name", "gpu".into()),
        ("workspace_id", Value::Unknown),
        ("vm_size", "STANDARD_NC6".into()),
        ("vm_priority", "Sometimes".into()),
        ("max_node_count", 2.into()),
    ]);
    let response = connected
        .client
        .validate_resource_config(proto::validate_resource_config::Request {
            type_name: cluster.type_name.clone(),
            config: Some(dynamic(&config, &cty::resource_type(cluster))),
            client_capabilities: None,
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
    let diagnostic = &response.diagnostics[0];
    assert_eq!(diagnostic.severity(), proto::diagnostic::Severity::Error);
    assert_eq!(
        path_names(diagnostic.attribute.as_ref().expect("path")),
        ["vm_priority"]
    );
    assert!(
        diagnostic.detail.contains("`Dedicated`"),
        "{}",
        diagnostic.detail
    );

    let unknown_type = connected
        .client
        .validate_resource_config(proto::validate_resource_config::Request {
            type_name: "azureml_nonsense".to_owned(),
            ..Default::default()
        })
        .await
        .expect("ValidateResourceConfig")
        .into_inner();
    assert_eq!(
        unknown_type.diagnostics[0].summary,
        "Unsupported resource type"
    );
}

#[tokio::test]
async fn provider_config_is_validated_with_paths() {
    let mut connected = connect().await;
    let config = object(&[
        ("endpoint", "ftp://nowhere".into()),
        ("token", Value::Unknown),
    ]);
    let response = connected
        .client
        .validate_provider_config(proto::validate_provider_config::Request {
            config: Some(dynamic(&config, &provider::settings::config_type())),
        })
        .await
        .expect("ValidateProviderConfig")
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
    assert_eq!(
        path_names(response.diagnostics[0].attribute.as_ref().expect("path")),
        ["endpoint"]
    );
}

#[tokio::test]
async fn upgrade_resource_state_reencodes_stored_json() {
    let mut connected = connect().await;
    let registry = engine::schema::load_registry().expect("catalogue");
    let cluster = registry
        .get("azureml_compute_cluster")
        .expect("compute cluster in the catalogue");
    let stored = serde_json::json!({
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/computes/gpu",
        "name": "gpu",
        "max_node_count": 4,
        "attribute_removed_since": "dropped",
    });
    let response = connected
        .client
        .upgrade_resource_state(proto::upgrade_resource_state::Request {
            type_name: cluster.type_name.clone(),
            version: 0,
            raw_state: Some(proto::RawState {
                json: stored.to_string().into_bytes(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    let upgraded = response.upgraded_state.expect("upgraded state");
    let value = msgpack::decode(&upgraded.msgpack, &cty::resource_type(cluster)).expect("decodes");
    let entries: &BTreeMap<String, Value> = value.as_map().expect("object");
    assert_eq!(
        entries.len(),
        cluster.attributes.len(),
        "every attribute present"
    );
    assert_eq!(entries["name"], Value::from("gpu"));
    assert_eq!(entries["max_node_count"], Value::from(4));

    let newer = connected
        .client
        .upgrade_resource_state(proto::upgrade_resource_state::Request {
            type_name: cluster.type_name.clone(),
            version: 99,
            raw_state: Some(proto::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert_eq!(
        newer.diagnostics[0].summary,
        "Resource instance managed by newer provider version"
    );
}

#[tokio::test]
async fn stop_and_unoffered_features_answer_gracefully() {
    let mut connected = connect().await;
    let stop = connected
        .client
        .stop_provider(proto::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert_eq!(stop.error, "");
    let functions = connected
        .client
        .get_functions(proto::get_functions::Request {})
        .await
        .expect("GetFunctions");
    assert!(functions.into_inner().functions.is_empty());
    let identities = connected
        .client
        .get_resource_identity_schemas(proto::get_resource_identity_schemas::Request {})
        .await
        .expect("GetResourceIdentitySchemas");
    assert!(identities.into_inner().identity_schemas.is_empty());
    let moved = connected
        .client
        .move_resource_state(proto::move_resource_state::Request::default())
        .await
        .expect_err("MoveResourceState is not offered");
    assert_eq!(moved.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn import_returns_a_skeleton_terraform_then_reads() {
    let mut connected = connect().await;
    let registry = engine::schema::load_registry().expect("catalogue");
    let vm = registry
        .get("azureml_attached_virtual_machine")
        .expect("attached VM in the catalogue");
    let workspace = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/demo";
    let id = format!("{workspace}/computes/vm1");
    let response = connected
        .client
        .import_resource_state(proto::import_resource_state::Request {
            type_name: vm.type_name.clone(),
            id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    let imported = &response.imported_resources[0];
    assert_eq!(imported.type_name, vm.type_name);
    let state = msgpack::decode(
        &imported.state.as_ref().expect("state").msgpack,
        &cty::resource_type(vm),
    )
    .expect("decodes");
    let entries = state.as_map().expect("object");
    assert_eq!(
        entries.len(),
        vm.attributes.len(),
        "every attribute present"
    );
    assert_eq!(entries["id"], Value::from(id.as_str()));
    assert_eq!(entries["name"], Value::from("vm1"));
    assert_eq!(entries["workspace_id"], Value::from(workspace));

    let refused = connected
        .client
        .import_resource_state(proto::import_resource_state::Request {
            type_name: vm.type_name.clone(),
            id: "vm1".to_owned(),
            ..Default::default()
        })
        .await
        .expect("ImportResourceState")
        .into_inner();
    assert!(refused.imported_resources.is_empty());
    assert_eq!(refused.diagnostics[0].summary, "Invalid import id");
}

/// Terraform >= 1.11 announces write-only support in ConfigureProvider and then refuses
/// write-only values in upgraded state; older clients keep them (as sensitive values).
#[tokio::test]
async fn upgraded_state_drops_write_only_values_only_for_clients_that_support_them() {
    let registry = engine::schema::load_registry().expect("catalogue");
    let aks = registry
        .get("azureml_inference_cluster")
        .expect("inference cluster in the catalogue");
    assert!(
        aks.attribute("ssl")
            .and_then(|ssl| ssl.ty.nested_attributes())
            .is_some_and(|ssl| ssl["cert"].write_only),
        "ssl.cert is write-only in the catalogue"
    );
    let stored = serde_json::json!({"name": "aks", "ssl": {"status": "Enabled", "cert": "PEM"}});
    for write_only in [false, true] {
        let mut connected = connect().await;
        let config = object(&[
            ("endpoint", "http://127.0.0.1:1".into()),
            ("subscription_id", "s".into()),
        ]);
        let configured = connected
            .client
            .configure_provider(proto::configure_provider::Request {
                terraform_version: if write_only { "1.11.4" } else { "1.0.3" }.to_owned(),
                config: Some(dynamic(&config, &provider::settings::config_type())),
                client_capabilities: write_only.then_some(proto::ClientCapabilities {
                    deferral_allowed: true,
                    write_only_attributes_allowed: true,
                }),
            })
            .await
            .expect("ConfigureProvider")
            .into_inner();
        assert!(
            configured.diagnostics.is_empty(),
            "{:?}",
            configured.diagnostics
        );
        let upgraded = connected
            .client
            .upgrade_resource_state(proto::upgrade_resource_state::Request {
                type_name: aks.type_name.clone(),
                version: 0,
                raw_state: Some(proto::RawState {
                    json: stored.to_string().into_bytes(),
                    flatmap: Default::default(),
                }),
            })
            .await
            .expect("UpgradeResourceState")
            .into_inner();
        let state = msgpack::decode(
            &upgraded.upgraded_state.expect("state").msgpack,
            &cty::resource_type(aks),
        )
        .expect("decodes");
        let ssl = state
            .as_map()
            .and_then(|entries| entries["ssl"].as_map())
            .expect("ssl object");
        assert_eq!(ssl["status"], Value::from("Enabled"));
        let expected = if write_only {
            Value::Null
        } else {
            Value::from("PEM")
        };
        assert_eq!(ssl["cert"], expected, "write-only support: {write_only}");
    }
}
