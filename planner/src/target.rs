//! Where `amlplan` sends its ARM calls: a URL with credentials, or the emulator started inside
//! this process (`endpoint` unset or `"embedded"`, DESIGN §6) on `DIR/.azureml/emulator.db`
//! with the demo seed on first use. The embedded emulator is reached over HTTP on 127.0.0.1
//! with a one-off token, through the same client as Azure, so the embedded path runs exactly
//! the code that talks to the cloud.

use std::path::{Path, PathBuf};

use engine::api::{ArmClient, ClientConfig, Credential};
use url::Url;

use crate::config::{Endpoint, ProviderSettings};

/// Reaching the target failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
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
    /// The client could not be built (e.g. an unreadable CA certificate).
    #[error("failed to set up the ARM client")]
    Client(#[source] Box<engine::api::ApiError>),
}

/// A connected target.
pub struct Target {
    /// The client every call goes through.
    pub client: ArmClient,
    /// The first output line of plan/apply/destroy/drift.
    pub description: String,
    /// The embedded emulator, kept running while the target lives.
    embedded: Option<emulator::RunningEmulator>,
}

impl Target {
    /// Connects to what `settings` name; `dir` is the configuration folder.
    pub async fn connect(dir: &Path, settings: &ProviderSettings) -> Result<Target, TargetError> {
        match &settings.endpoint {
            Endpoint::Embedded => embedded(dir, settings).await,
            Endpoint::Url(endpoint) => remote(dir, endpoint, settings),
        }
    }

    /// Stops the embedded emulator, if any (its data stays in the folder).
    pub async fn close(self) {
        if let Some(emulator) = self.embedded {
            emulator.shutdown().await;
        }
    }
}

async fn embedded(dir: &Path, settings: &ProviderSettings) -> Result<Target, TargetError> {
    let data_dir = dir.join(".azureml");
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
    let database = running.database().to_owned();
    let client =
        ArmClient::new(client_config).map_err(|error| TargetError::Client(Box::new(error)))?;
    Ok(Target {
        client,
        description: format!(
            "Target: embedded emulator ({})",
            absolute(&database).display()
        ),
        embedded: Some(running),
    })
}

fn remote(dir: &Path, endpoint: &str, settings: &ProviderSettings) -> Result<Target, TargetError> {
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
            Some((tenant.as_str(), client.as_str(), secret.expose()))
        }
        _ => None,
    };
    let credential = Credential::select(
        settings.token.as_ref().map(|token| token.expose()),
        client_credentials,
        settings.authority_host.as_deref(),
        &url,
    );
    let mut config = ClientConfig::new(credential);
    config.endpoint = url;
    config.subscription_id.clone_from(&settings.subscription_id);
    config.ca_certificate = settings.ca_certificate.as_ref().map(|path| dir.join(path));
    if let Some(version) = &settings.api_version {
        config.api_version.clone_from(version);
    }
    let subscription = settings
        .subscription_id
        .as_deref()
        .unwrap_or("(from the ids)");
    let description = format!("Target: {endpoint} (subscription {subscription})");
    let client = ArmClient::new(config).map_err(|error| TargetError::Client(Box::new(error)))?;
    Ok(Target {
        client,
        description,
        embedded: None,
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
