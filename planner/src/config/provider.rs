//! The `provider "azureml"` block resolved into plain settings, with the same argument names and
//! environment fallbacks as the provider plugin. Secrets are wrapped in [`Secret`] so they never
//! reach logs or `Debug` output. No network or file access here.

use std::fmt;
use std::path::PathBuf;

use engine::diag::{Diagnostic, Diagnostics};
use engine::value::Value;

use super::eval::{Evaluator, kind_of};
use super::variables::{Environment, eval_diagnostic};
use super::{AttrExpr, Configuration};

/// One provider argument: its name, the environment variable used when it is unset, and
/// whether it is secret.
pub(crate) struct ProviderArgument {
    pub name: &'static str,
    pub env: Option<&'static str>,
    pub sensitive: bool,
}

/// The provider arguments (shared vocabulary with `terraform-provider-azureml`).
pub(crate) const PROVIDER_ARGUMENTS: &[ProviderArgument] = &[
    ProviderArgument {
        name: "endpoint",
        env: Some("AZUREML_ENDPOINT"),
        sensitive: false,
    },
    ProviderArgument {
        name: "subscription_id",
        env: Some("ARM_SUBSCRIPTION_ID"),
        sensitive: false,
    },
    ProviderArgument {
        name: "token",
        env: Some("AZUREML_TOKEN"),
        sensitive: true,
    },
    ProviderArgument {
        name: "ca_certificate",
        env: Some("AZUREML_CA_CERTIFICATE"),
        sensitive: false,
    },
    ProviderArgument {
        name: "api_version",
        env: None,
        sensitive: false,
    },
    ProviderArgument {
        name: "tenant_id",
        env: Some("ARM_TENANT_ID"),
        sensitive: false,
    },
    ProviderArgument {
        name: "client_id",
        env: Some("ARM_CLIENT_ID"),
        sensitive: false,
    },
    ProviderArgument {
        name: "client_secret",
        env: Some("ARM_CLIENT_SECRET"),
        sensitive: true,
    },
    ProviderArgument {
        name: "authority_host",
        env: Some("ARM_AUTHORITY_HOST"),
        sensitive: false,
    },
];

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

/// Where the provider talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The emulator runs inside `amlplan` on `DIR/.azureml/emulator.db` (the default).
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
    /// `ca_certificate` / `AZUREML_CA_CERTIFICATE`: a PEM file trusted for TLS (relative paths
    /// start at the configuration folder).
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
        }
    }
}

/// Evaluates the provider block (if any) and applies the environment fallbacks.
pub(crate) fn resolve(
    config: &Configuration,
    evaluator: &Evaluator<'_>,
    environment: &Environment,
    diagnostics: &mut Diagnostics,
) -> ProviderSettings {
    let configured: Vec<&AttrExpr> = config
        .provider
        .iter()
        .flat_map(|block| block.attributes.iter())
        .collect();
    let mut value_of = |argument: &ProviderArgument| -> Option<String> {
        if let Some(attribute) = configured
            .iter()
            .find(|attribute| attribute.name == argument.name)
        {
            let subject = Some(config.span(attribute.file, attribute.value_span.clone()));
            match evaluator.eval(&attribute.expr) {
                Ok(Value::Null) => {}
                Ok(Value::String(text)) => return Some(text),
                Ok(Value::Unknown) => {
                    diagnostics.push(Diagnostic {
                        subject,
                        ..Diagnostic::error(
                            "Provider setting not known",
                            format!("`{}` depends on a value known only after apply; the provider must be configured before planning\nhelp: use a variable or a literal", argument.name),
                        )
                    });
                    return None;
                }
                Ok(other) => {
                    diagnostics.push(Diagnostic {
                        subject,
                        ..Diagnostic::error(
                            "Incorrect attribute value type",
                            format!(
                                "`{}` must be a string, not a {}",
                                argument.name,
                                kind_of(&other)
                            ),
                        )
                    });
                    return None;
                }
                Err(error) => {
                    diagnostics.push(eval_diagnostic(config, attribute.file, error));
                    return None;
                }
            }
        }
        argument
            .env
            .and_then(|name| environment.get(name))
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let mut values = std::collections::BTreeMap::new();
    for argument in PROVIDER_ARGUMENTS {
        if let Some(text) = value_of(argument) {
            values.insert(argument.name, text);
        }
    }
    let mut take = |name: &str| values.remove(name);
    let endpoint = match take("endpoint") {
        None => Endpoint::Embedded,
        Some(text) if text == "embedded" => Endpoint::Embedded,
        Some(text) if text.starts_with("https://") || text.starts_with("http://") => {
            Endpoint::Url(text.trim_end_matches('/').to_owned())
        }
        Some(text) => {
            let subject = configured
                .iter()
                .find(|attribute| attribute.name == "endpoint")
                .map(|attribute| config.span(attribute.file, attribute.value_span.clone()));
            diagnostics.push(Diagnostic {
                subject,
                ..Diagnostic::error(
                    "Invalid endpoint",
                    format!("`{text}` is neither `embedded` nor an `http://` or `https://` URL"),
                )
            });
            Endpoint::Embedded
        }
    };
    let settings = ProviderSettings {
        endpoint,
        subscription_id: take("subscription_id"),
        token: take("token").map(Secret),
        ca_certificate: take("ca_certificate").map(|path| {
            let path = PathBuf::from(path);
            if path.is_absolute() {
                path
            } else {
                config.dir.join(path)
            }
        }),
        api_version: take("api_version"),
        tenant_id: take("tenant_id"),
        client_id: take("client_id"),
        client_secret: take("client_secret").map(Secret),
        authority_host: take("authority_host"),
    };
    debug_assert!(
        PROVIDER_ARGUMENTS
            .iter()
            .filter(|argument| argument.sensitive)
            .all(|argument| matches!(argument.name, "token" | "client_secret"))
    );
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_from_debug_output() {
        let settings = ProviderSettings {
            token: Some(Secret::new("abc123")),
            ..ProviderSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("abc123"), "{shown}");
        assert!(shown.contains("Secret(sensitive)"));
        assert_eq!(Secret::new("x").expose(), "x");
    }
}
