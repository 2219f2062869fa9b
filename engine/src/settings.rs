//! The `provider "azureml"` block, once for both front ends: its arguments ([`SETTINGS`]: name,
//! environment fallback, sensitivity, description), their checks, and the [`ProviderSettings`]
//! they resolve to (configuration first, then the environment, as azurerm reads `ARM_*`).
//! amlplan evaluates the block's expressions and the provider decodes Terraform's value; both
//! hand the values to [`resolve`]. Secrets are [`Secret`]s, never shown by `Debug` or
//! `Display`. No connecting here ([`crate::target`] does), no file access.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::value::Value;

/// Default bound on the provider's wait for another attachment of a resource to go away.
pub const DEFAULT_ATTACH_WAIT: Duration = Duration::from_secs(5 * 60);

/// One provider argument.
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

/// Every provider argument: all optional strings.
pub const SETTINGS: [Setting; 10] = [
    Setting {
        name: "endpoint",
        env: Some("AZUREML_ENDPOINT"),
        sensitive: false,
        description: "ARM endpoint URL, or `embedded` to run the emulator inside the tool on `.azureml/emulator.db` in the configuration (Terraform's working) folder. Unset: Azure (`https://management.azure.com`) when a credential (`token`, `client_id`, `client_secret`, `tenant_id` or their environment variables) is configured, else `embedded`.",
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
        description: "Path of a PEM CA certificate to trust for the endpoint (e.g. the emulator's); relative to the configuration folder.",
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
        description: "How long the Terraform provider's attach waits for another attachment of the same resource to go away, e.g. `5m` (the default). amlplan orders detaches before attaches in its plan and does not wait.",
    },
];

/// The argument called `name`, if there is one.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|setting| setting.name == name)
}

/// A secret string: shown as `(sensitive)` by `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(sensitive)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// Azure Resource Manager of the public cloud: the target when a credential (`token`,
/// `client_id`, `client_secret` or `tenant_id`, from the block or the environment) is
/// configured and no `endpoint` is.
pub const AZURE_ENDPOINT: &str = "https://management.azure.com";

/// Where ARM calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The emulator, run inside the tool's process on `.azureml/emulator.db` (the default).
    Embedded,
    /// An ARM endpoint URL (`https://management.azure.com` or a served emulator).
    Url(String),
}

/// The provider settings after environment fallbacks.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    /// `endpoint` / `AZUREML_ENDPOINT`; unset or `"embedded"` means [`Endpoint::Embedded`].
    pub endpoint: Endpoint,
    /// `subscription_id` / `ARM_SUBSCRIPTION_ID`.
    pub subscription_id: Option<String>,
    /// `token` / `AZUREML_TOKEN`: a static bearer token.
    pub token: Option<Secret>,
    /// `ca_certificate` / `AZUREML_CA_CERTIFICATE`: a PEM file trusted for TLS, as given
    /// (relative paths start at the configuration folder; [`crate::target`] resolves them).
    pub ca_certificate: Option<PathBuf>,
    /// `api_version`: overrides the client's default ARM api-version.
    pub api_version: Option<String>,
    /// `tenant_id` / `ARM_TENANT_ID` (client credentials).
    pub tenant_id: Option<String>,
    /// `client_id` / `ARM_CLIENT_ID` (client credentials).
    pub client_id: Option<String>,
    /// `client_secret` / `ARM_CLIENT_SECRET` (client credentials).
    pub client_secret: Option<Secret>,
    /// `authority_host` / `ARM_AUTHORITY_HOST`: where client-credentials tokens are requested.
    pub authority_host: Option<String>,
    /// `attach_wait_timeout` / `AZUREML_ATTACH_WAIT_TIMEOUT`: the provider's attachment guard.
    pub attach_wait_timeout: Duration,
}

impl Default for ProviderSettings {
    fn default() -> ProviderSettings {
        ProviderSettings {
            endpoint: Endpoint::Embedded,
            subscription_id: None,
            token: None,
            ca_certificate: None,
            api_version: None,
            tenant_id: None,
            client_id: None,
            client_secret: None,
            authority_host: None,
            attach_wait_timeout: DEFAULT_ATTACH_WAIT,
        }
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

/// Checks the configured values (unknowns are fine here: [`resolve`] refuses them).
pub fn validate(config: &BTreeMap<String, Value>) -> Vec<SettingProblem> {
    let mut problems = Vec::new();
    for setting in &SETTINGS {
        match config.get(setting.name) {
            None | Some(Value::Null | Value::Unknown | Value::String(_)) => {}
            Some(other) => problems.push(SettingProblem {
                name: setting.name,
                summary: "Incorrect attribute value type".to_owned(),
                detail: format!(
                    "`{}` must be a string, not a {}.",
                    setting.name,
                    other.kind_name()
                ),
            }),
        }
    }
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

/// Resolves the settings from the provider block's values (`config`, by argument name) and the
/// environment (`lookup`). Unknown values are refused: the tools need them to connect before
/// anything is planned.
///
/// ```
/// use engine::settings::{resolve, Endpoint};
/// let env = |name: &str| (name == "ARM_SUBSCRIPTION_ID").then(|| "s1".to_owned());
/// let settings = resolve(&Default::default(), env).unwrap();
/// assert_eq!(settings.endpoint, Endpoint::Embedded);
/// assert_eq!(settings.subscription_id.as_deref(), Some("s1"));
/// ```
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
        let env = setting(name).and_then(|setting| setting.env)?;
        lookup(env).filter(|value| !value.is_empty())
    };
    let endpoint = get("endpoint");
    let mut settings = ProviderSettings {
        endpoint: Endpoint::Embedded,
        subscription_id: get("subscription_id"),
        token: get("token").map(Secret),
        ca_certificate: get("ca_certificate").map(PathBuf::from),
        api_version: get("api_version"),
        tenant_id: get("tenant_id"),
        client_id: get("client_id"),
        client_secret: get("client_secret").map(Secret),
        authority_host: get("authority_host"),
        attach_wait_timeout: get("attach_wait_timeout")
            .and_then(|text| humantime::parse_duration(&text).ok())
            .unwrap_or(DEFAULT_ATTACH_WAIT),
    };
    // A configured credential points at Azure: only a configuration that names nothing of
    // Azure's runs against the embedded emulator.
    let credential = settings.token.is_some()
        || settings.client_id.is_some()
        || settings.client_secret.is_some()
        || settings.tenant_id.is_some();
    settings.endpoint = match endpoint.as_deref() {
        Some("embedded") => Endpoint::Embedded,
        Some(url) => Endpoint::Url(url.trim_end_matches('/').to_owned()),
        None if credential => Endpoint::Url(AZURE_ENDPOINT.to_owned()),
        None => Endpoint::Embedded,
    };
    if problems.is_empty()
        && let Endpoint::Url(url) = &settings.endpoint
        && settings.subscription_id.is_none()
    {
        problems.push(SettingProblem {
            name: "subscription_id",
            summary: "Missing subscription id".to_owned(),
            detail: format!(
                "the target is `{url}`{}, which needs a subscription: set `subscription_id` in the provider block or `ARM_SUBSCRIPTION_ID`.",
                if endpoint.is_none() {
                    " (a credential is configured and no `endpoint`)"
                } else {
                    ""
                }
            ),
        });
    }
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
        let settings = resolve(&config(&[]), env).expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Embedded);
        assert_eq!(settings.subscription_id.as_deref(), Some("sub-from-env"));
        // A credential points at Azure.
        let settings = resolve(&config(&[("token", "t".into())]), env).expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Url(AZURE_ENDPOINT.to_owned()));
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
                ("api_version", Value::Bool(true)),
            ]),
            |_| None,
        )
        .expect_err("invalid");
        let names: Vec<_> = problems.iter().map(|problem| problem.name).collect();
        assert_eq!(
            names,
            [
                "api_version",
                "endpoint",
                "attach_wait_timeout",
                "subscription_id"
            ]
        );
        let settings = resolve(
            &config(&[
                ("endpoint", "https://h/".into()),
                ("subscription_id", "s".into()),
                ("attach_wait_timeout", "90s".into()),
            ]),
            |_| None,
        )
        .expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Url("https://h".to_owned()));
        assert_eq!(settings.attach_wait_timeout, Duration::from_secs(90));
    }

    #[test]
    fn credentials_without_an_endpoint_target_azure_and_a_remote_target_needs_a_subscription() {
        let ci = |name: &str| -> Option<String> {
            match name {
                "ARM_CLIENT_ID" => Some("c".to_owned()),
                "ARM_CLIENT_SECRET" => Some("s".to_owned()),
                "ARM_TENANT_ID" => Some("t".to_owned()),
                _ => None,
            }
        };
        let problems = resolve(&config(&[]), ci).expect_err("no subscription");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].name, "subscription_id");
        assert!(
            problems[0]
                .detail
                .contains("`https://management.azure.com`")
                && problems[0]
                    .detail
                    .contains("a credential is configured and no `endpoint`"),
            "{}",
            problems[0].detail
        );
        let settings = resolve(&config(&[("subscription_id", "s1".into())]), ci).expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Url(AZURE_ENDPOINT.to_owned()));
        // `embedded` said explicitly stays embedded, credentials or not.
        let settings = resolve(&config(&[("endpoint", "embedded".into())]), ci).expect("valid");
        assert_eq!(settings.endpoint, Endpoint::Embedded);
        let problems = resolve(&config(&[("endpoint", "https://h".into())]), |_| None)
            .expect_err("no subscription");
        assert_eq!(problems[0].summary, "Missing subscription id");
    }

    #[test]
    fn secrets_are_hidden_from_debug_output() {
        let settings = ProviderSettings {
            token: Some(Secret::new("abc123")),
            client_secret: Some(Secret::new("s3cret")),
            ..ProviderSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("abc123") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("Secret(sensitive)"));
        assert_eq!(Secret::new("x").expose(), "x");
    }

    #[test]
    fn only_the_credentials_are_sensitive() {
        let sensitive: Vec<_> = SETTINGS
            .iter()
            .filter(|setting| setting.sensitive)
            .map(|setting| setting.name)
            .collect();
        assert_eq!(sensitive, ["token", "client_secret"]);
    }
}
