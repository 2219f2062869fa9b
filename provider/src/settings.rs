//! The `provider "azureml"` block: its schema, its validation, and the settings it resolves to
//! (configuration first, then the environment variables `amlplan` also reads). No connecting
//! here: [`crate::server`] acts on the settings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use engine::value::Value;

use crate::convert::cty::CtyType;
use crate::proto::tfplugin6 as proto;

/// Default bound on the attachment race guard's wait.
pub const DEFAULT_ATTACH_WAIT: Duration = Duration::from_secs(5 * 60);

/// One provider setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Attribute name in the provider block.
    pub name: &'static str,
    /// Environment variable used when the block leaves it unset.
    pub env: Option<&'static str>,
    /// Hidden in plans and logs.
    pub sensitive: bool,
    /// One line for humans (markdown).
    pub description: &'static str,
}

/// Every provider setting: all optional strings.
pub const SETTINGS: [Setting; 10] = [
    Setting {
        name: "endpoint",
        env: Some("AZUREML_ENDPOINT"),
        sensitive: false,
        description: "ARM endpoint URL, or `embedded` (the default) to run the emulator inside the provider on `.azureml/emulator.db` in Terraform's working folder.",
    },
    Setting {
        name: "subscription_id",
        env: Some("ARM_SUBSCRIPTION_ID"),
        sensitive: false,
        description: "Azure subscription id.",
    },
    Setting {
        name: "token",
        env: Some("AZUREML_TOKEN"),
        sensitive: true,
        description: "Static bearer token for ARM.",
    },
    Setting {
        name: "ca_certificate",
        env: Some("AZUREML_CA_CERTIFICATE"),
        sensitive: false,
        description: "Path of a PEM CA certificate to trust for the endpoint (e.g. the emulator's).",
    },
    Setting {
        name: "api_version",
        env: None,
        sensitive: false,
        description: "ARM `api-version` of Microsoft.MachineLearningServices calls.",
    },
    Setting {
        name: "tenant_id",
        env: Some("ARM_TENANT_ID"),
        sensitive: false,
        description: "Entra tenant of the client-credentials flow.",
    },
    Setting {
        name: "client_id",
        env: Some("ARM_CLIENT_ID"),
        sensitive: false,
        description: "Application (client) id of the client-credentials flow.",
    },
    Setting {
        name: "client_secret",
        env: Some("ARM_CLIENT_SECRET"),
        sensitive: true,
        description: "Client secret of the client-credentials flow.",
    },
    Setting {
        name: "authority_host",
        env: Some("ARM_AUTHORITY_HOST"),
        sensitive: false,
        description: "Token authority URL of the client-credentials flow (e.g. the emulator's token endpoint).",
    },
    Setting {
        name: "attach_wait_timeout",
        env: Some("AZUREML_ATTACH_WAIT_TIMEOUT"),
        sensitive: false,
        description: "How long attaching waits for another attachment of the same resource to go away, e.g. `5m` (the default).",
    },
];

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

/// Where the provider sends its ARM calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The emulator, run inside the provider process.
    Embedded,
    /// A real (or served) ARM endpoint.
    Url(String),
}

/// The resolved settings.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// Where ARM calls go.
    pub endpoint: Endpoint,
    /// The subscription.
    pub subscription_id: Option<String>,
    /// A static bearer token.
    pub token: Option<String>,
    /// A CA certificate to trust.
    pub ca_certificate: Option<PathBuf>,
    /// The api-version override.
    pub api_version: Option<String>,
    /// Client credentials: tenant.
    pub tenant_id: Option<String>,
    /// Client credentials: application id.
    pub client_id: Option<String>,
    /// Client credentials: secret.
    pub client_secret: Option<String>,
    /// Client credentials: authority.
    pub authority_host: Option<String>,
    /// Attachment race guard bound.
    pub attach_wait_timeout: Duration,
}

impl std::fmt::Debug for ProviderSettings {
    /// Secrets are never shown, only whether they are set.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("endpoint", &self.endpoint)
            .field("subscription_id", &self.subscription_id)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("ca_certificate", &self.ca_certificate)
            .field("api_version", &self.api_version)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .field("authority_host", &self.authority_host)
            .field("attach_wait_timeout", &self.attach_wait_timeout)
            .finish()
    }
}

/// A problem with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The attribute.
    pub name: &'static str,
    /// Summary, as Terraform words them.
    pub summary: String,
    /// What to do.
    pub detail: String,
}

/// Checks the configured values (unknowns are fine: they are checked again at configure time).
pub fn validate(config: &BTreeMap<String, Value>) -> Vec<SettingProblem> {
    let mut problems = Vec::new();
    if let Some(endpoint) = config.get("endpoint").and_then(Value::as_str)
        && endpoint != "embedded"
        && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
    {
        problems.push(SettingProblem {
            name: "endpoint",
            summary: "Invalid endpoint".to_owned(),
            detail: format!("`endpoint` must be `embedded` or an http(s) URL, not `{endpoint}`."),
        });
    }
    if let Some(timeout) = config.get("attach_wait_timeout").and_then(Value::as_str)
        && humantime::parse_duration(timeout).is_err()
    {
        problems.push(SettingProblem {
            name: "attach_wait_timeout",
            summary: "Invalid duration".to_owned(),
            detail: format!(
                "`attach_wait_timeout` must be a duration such as `90s` or `5m`, not `{timeout}`."
            ),
        });
    }
    problems
}

/// Resolves the settings from the provider block and the environment (`lookup`). Unknown
/// values are refused: Terraform sends them only when the block depends on resources not yet
/// created, and there is no endpoint to talk to until they are.
pub fn resolve(
    config: &BTreeMap<String, Value>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<ProviderSettings, Vec<SettingProblem>> {
    let mut problems = validate(config);
    let mut get = |name: &'static str| -> Option<String> {
        match config.get(name) {
            Some(Value::String(text)) => return Some(text.clone()),
            Some(Value::Unknown) => {
                problems.push(SettingProblem {
                    name,
                    summary: "Provider setting not known yet".to_owned(),
                    detail: format!(
                        "`{name}` depends on a value known only after apply; the provider needs it to connect. \
                         Set it from variables or literals."
                    ),
                });
                return None;
            }
            _ => {}
        }
        let env = SETTINGS
            .iter()
            .find(|setting| setting.name == name)
            .and_then(|setting| setting.env)?;
        lookup(env).filter(|value| !value.is_empty())
    };
    let endpoint = match get("endpoint").as_deref() {
        None | Some("embedded") => Endpoint::Embedded,
        Some(url) => Endpoint::Url(url.trim_end_matches('/').to_owned()),
    };
    let settings = ProviderSettings {
        endpoint,
        subscription_id: get("subscription_id"),
        token: get("token"),
        ca_certificate: get("ca_certificate").map(PathBuf::from),
        api_version: get("api_version"),
        tenant_id: get("tenant_id"),
        client_id: get("client_id"),
        client_secret: get("client_secret"),
        authority_host: get("authority_host"),
        attach_wait_timeout: get("attach_wait_timeout")
            .and_then(|text| humantime::parse_duration(&text).ok())
            .unwrap_or(DEFAULT_ATTACH_WAIT),
    };
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn unset_endpoint_is_embedded_and_environment_fills_gaps() {
        let env = |name: &str| (name == "ARM_SUBSCRIPTION_ID").then(|| "sub-from-env".to_owned());
        let settings = resolve(&config(&[("token", "t".into())]), env).expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Embedded);
        assert_eq!(settings.subscription_id.as_deref(), Some("sub-from-env"));
        assert_eq!(settings.attach_wait_timeout, DEFAULT_ATTACH_WAIT);
        assert!(
            !format!("{settings:?}").contains("\"t\""),
            "the token is not shown"
        );
    }

    #[test]
    fn bad_values_and_unknowns_are_problems() {
        let problems = resolve(
            &config(&[
                ("endpoint", "ftp://x".into()),
                ("attach_wait_timeout", "soon".into()),
                ("subscription_id", Value::Unknown),
            ]),
            |_| None,
        )
        .expect_err("invalid");
        let names: Vec<_> = problems.iter().map(|problem| problem.name).collect();
        assert_eq!(
            names,
            ["endpoint", "attach_wait_timeout", "subscription_id"]
        );
        let settings = resolve(
            &config(&[
                ("endpoint", "https://h/".into()),
                ("attach_wait_timeout", "90s".into()),
            ]),
            |_| None,
        )
        .expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Url("https://h".to_owned()));
        assert_eq!(settings.attach_wait_timeout, Duration::from_secs(90));
    }
}
