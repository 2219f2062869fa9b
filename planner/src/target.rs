//! Where `amlplan` sends its ARM calls: `engine::target` builds the client from the provider
//! settings (a URL with credentials); this module adds amlplan's edge glue, starting the
//! emulator inside this process (`endpoint` unset or `"embedded"`, DESIGN §6) on
//! `DIR/.azureml/emulator.db` with the demo seed on first use, and the first output line that
//! names the target.

use std::path::{Path, PathBuf};

use engine::api::ArmClient;

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
    /// The engine could not make the target.
    #[error(transparent)]
    Target(#[from] engine::target::TargetError),
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
        if let Endpoint::Url(endpoint) = &settings.endpoint {
            let subscription = settings
                .subscription_id
                .as_deref()
                .unwrap_or("(from the ids)");
            let description = format!("Target: {endpoint} (subscription {subscription})");
            let target = engine::target::Target::remote(settings.clone(), dir)?;
            return Ok(Target {
                client: target.client,
                description,
                embedded: None,
            });
        }
        let data_dir = dir.join(".azureml");
        let (running, token) = emulator::start_embedded(&data_dir)
            .await
            .map_err(|source| TargetError::Embedded {
                path: data_dir.clone(),
                source: Box::new(source),
            })?;
        let database = running.database().to_owned();
        let target = engine::target::Target::embedded(
            settings.clone(),
            running.url(),
            token,
            database.clone(),
            emulator::DEMO_SUBSCRIPTION,
        )?;
        Ok(Target {
            client: target.client,
            description: format!(
                "Target: embedded emulator ({})",
                absolute(&database).display()
            ),
            embedded: Some(running),
        })
    }

    /// Stops the embedded emulator, if any (its data stays in the folder).
    pub async fn close(self) {
        if let Some(emulator) = self.embedded {
            emulator.shutdown().await;
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
