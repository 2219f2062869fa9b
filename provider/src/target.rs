//! Where the provider's ARM calls go once configured: a URL with credentials, or the emulator
//! started inside this process (`endpoint = "embedded"` or unset, DESIGN §6) on
//! `<working dir>/.azureml/emulator.db`, reached over HTTP on 127.0.0.1 with a one-off token
//! through the same client as Azure, so the embedded path runs exactly the code that talks to
//! the cloud.

use std::path::{Path, PathBuf};

use engine::api::{ArmClient, ClientConfig, Credential};
use url::Url;

use crate::settings::{Endpoint, ProviderSettings};

/// Errors reaching the target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The embedded emulator's folder could not be created.
    #[error("failed to create `{}`", path.display())]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CA certificate file is unreadable or holds no certificate.
    #[error("`ca_certificate` `{}` holds no readable PEM certificate", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The embedded emulator could not start.
    #[error("failed to start the embedded emulator on `{}`", path.display())]
    Embedded {
        /// Its data folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<emulator::EmulatorError>,
    },
    /// `endpoint` is not a URL.
    #[error("`endpoint` `{endpoint}` is not a URL (use `\"embedded\"` or `https://...`)")]
    Endpoint {
        /// What was given.
        endpoint: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// The client could not be built.
    #[error("failed to set up the ARM client")]
    Client(#[source] Box<engine::api::ApiError>),
}

/// A configured target.
pub struct Target {
    /// The resolved settings.
    pub settings: ProviderSettings,
    /// The base URL of ARM calls.
    pub base_url: String,
    /// The embedded emulator's database, when embedded.
    pub embedded_database: Option<PathBuf>,
    /// The client every call goes through.
    pub client: ArmClient,
    /// The embedded emulator, kept running while the target lives.
    embedded: Option<emulator::RunningEmulator>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("settings", &self.settings)
            .field("base_url", &self.base_url)
            .field("embedded_database", &self.embedded_database)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// One line naming the target, for logs (never secrets).
    pub fn describe(&self) -> String {
        match &self.embedded_database {
            Some(database) => format!(
                "embedded emulator on `{}` at {}",
                database.display(),
                self.base_url
            ),
            None => format!(
                "{} (subscription `{}`)",
                self.base_url,
                self.settings.subscription_id.as_deref().unwrap_or("unset")
            ),
        }
    }

    /// Stops the embedded emulator, if any (its data stays in the folder).
    pub async fn close(mut self) {
        if let Some(emulator) = self.embedded.take() {
            emulator.shutdown().await;
        }
    }
}

/// Resolves the target; for `embedded`, starts the emulator in this process.
pub async fn connect(
    settings: ProviderSettings,
    working_dir: &Path,
) -> Result<Target, TargetError> {
    match settings.endpoint.clone() {
        Endpoint::Url(url) => {
            if let Some(path) = &settings.ca_certificate {
                check_ca_certificate(&working_dir.join(path))?;
            }
            remote(settings, &url, working_dir)
        }
        Endpoint::Embedded => embedded(settings, working_dir).await,
    }
}

async fn embedded(settings: ProviderSettings, working_dir: &Path) -> Result<Target, TargetError> {
    let data_dir = working_dir.join(".azureml");
    std::fs::create_dir_all(&data_dir).map_err(|source| TargetError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let (running, token) = emulator::start_embedded(&data_dir)
        .await
        .map_err(|source| TargetError::Embedded {
            path: data_dir.clone(),
            source: Box::new(source),
        })?;
    let endpoint = Url::parse(running.url()).map_err(|source| TargetError::Endpoint {
        endpoint: running.url().to_owned(),
        source,
    })?;
    let mut client_config = ClientConfig::local(endpoint, token);
    client_config.subscription_id = Some(
        settings
            .subscription_id
            .clone()
            .unwrap_or_else(|| emulator::DEMO_SUBSCRIPTION.to_owned()),
    );
    if let Some(version) = &settings.api_version {
        client_config.api_version.clone_from(version);
    }
    let client =
        ArmClient::new(client_config).map_err(|error| TargetError::Client(Box::new(error)))?;
    Ok(Target {
        settings,
        base_url: running.url().to_owned(),
        embedded_database: Some(running.database().to_owned()),
        client,
        embedded: Some(running),
    })
}

fn remote(
    settings: ProviderSettings,
    endpoint: &str,
    working_dir: &Path,
) -> Result<Target, TargetError> {
    let url = Url::parse(endpoint).map_err(|source| TargetError::Endpoint {
        endpoint: endpoint.to_owned(),
        source,
    })?;
    let client_credentials = match (
        &settings.tenant_id,
        &settings.client_id,
        &settings.client_secret,
    ) {
        (Some(tenant), Some(client), Some(secret)) => {
            Some((tenant.as_str(), client.as_str(), secret.as_str()))
        }
        _ => None,
    };
    let credential = Credential::select(
        settings.token.as_deref(),
        client_credentials,
        settings.authority_host.as_deref(),
        &url,
    );
    let mut config = ClientConfig::new(credential);
    config.endpoint = url;
    config.subscription_id.clone_from(&settings.subscription_id);
    config.ca_certificate = settings
        .ca_certificate
        .as_ref()
        .map(|path| working_dir.join(path));
    if let Some(version) = &settings.api_version {
        config.api_version.clone_from(version);
    }
    let client = ArmClient::new(config).map_err(|error| TargetError::Client(Box::new(error)))?;
    Ok(Target {
        settings,
        base_url: endpoint.to_owned(),
        embedded_database: None,
        client,
        embedded: None,
    })
}

/// Fails early, at configure time, on a CA file the client could not use.
fn check_ca_certificate(path: &Path) -> Result<(), TargetError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let unreadable = || TargetError::CaCertificate {
        path: path.to_owned(),
    };
    let pem = std::fs::read(path).map_err(|_| unreadable())?;
    CertificateDer::pem_slice_iter(&pem)
        .next()
        .and_then(Result::ok)
        .map(|_| ())
        .ok_or_else(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{DEFAULT_ATTACH_WAIT, ProviderSettings};

    fn settings(endpoint: Endpoint, ca_certificate: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            endpoint,
            subscription_id: Some("s".to_owned()),
            token: None,
            ca_certificate: ca_certificate.map(PathBuf::from),
            api_version: None,
            tenant_id: None,
            client_id: None,
            client_secret: None,
            authority_host: None,
            attach_wait_timeout: DEFAULT_ATTACH_WAIT,
        }
    }

    #[tokio::test]
    async fn url_targets_check_their_ca_file_relative_to_the_working_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = Endpoint::Url("https://127.0.0.1:1".to_owned());
        let missing = connect(settings(url.clone(), Some("ca.pem")), dir.path())
            .await
            .expect_err("missing file");
        assert!(missing.to_string().contains("ca.pem"), "{missing}");
        std::fs::write(dir.path().join("ca.pem"), "not a certificate").expect("write");
        assert!(
            connect(settings(url.clone(), Some("ca.pem")), dir.path())
                .await
                .is_err()
        );
        let identity = crate::tls::ServerIdentity::generate().expect("certificate");
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                identity.certificate.as_ref()
            )
        );
        std::fs::write(dir.path().join("ca.pem"), pem).expect("write");
        let target = connect(settings(url, Some("ca.pem")), dir.path())
            .await
            .expect("valid CA");
        assert_eq!(target.describe(), "https://127.0.0.1:1 (subscription `s`)");
    }

    #[tokio::test]
    async fn embedded_starts_the_emulator_in_the_working_folder() {
        use engine::api::CloudApi as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let target = connect(settings(Endpoint::Embedded, None), dir.path())
            .await
            .expect("embedded emulator");
        assert!(dir.path().join(".azureml").is_dir());
        assert!(
            target.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            target.base_url
        );
        // A real call with the one-off token: the demo subscription's resource group lists.
        let demo = format!(
            "/subscriptions/{}/resourceGroups/{}",
            emulator::DEMO_SUBSCRIPTION,
            emulator::DEMO_RESOURCE_GROUP
        );
        target
            .client
            .list(&demo, engine::schema::Collection::Workspaces)
            .await
            .expect("listed");
        target.close().await;
    }
}
