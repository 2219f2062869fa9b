//! Where `amlplan` sends its ARM calls: `engine::target` builds the client from the provider
//! settings (a URL with credentials); this module adds amlplan's edge glue, starting the
//! emulator inside this process (`endpoint` unset or `"embedded"`, DESIGN §6) on
//! `DIR/.azureml/emulator.db` with the demo seed on first use, and the first output line that
//! names the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine::api::{ArmClient, Clouds};

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

/// A connected target: one client per `azureml` provider configuration.
pub struct Target {
    /// The client of the default configuration.
    pub client: ArmClient,
    /// The clients of the aliased configurations, by alias.
    pub aliased: BTreeMap<String, ArmClient>,
    /// The first output line of plan/apply/destroy/drift, then one line per aliased
    /// configuration.
    pub description: String,
    /// The embedded emulator, kept running while the target lives (one for every
    /// configuration that uses it).
    embedded: Option<Embedded>,
}

struct Embedded {
    running: emulator::RunningEmulator,
    token: String,
}

impl Target {
    /// Connects to what the default configuration's `settings` and each aliased one's name;
    /// `dir` is the configuration folder.
    pub async fn connect(
        dir: &Path,
        settings: &ProviderSettings,
        aliased: &BTreeMap<String, ProviderSettings>,
    ) -> Result<Target, TargetError> {
        let mut embedded = None;
        let (client, description) = Self::client(dir, settings, &mut embedded).await?;
        let mut description = format!("Target: {description}");
        let mut clients = BTreeMap::new();
        for (alias, settings) in aliased {
            let (client, line) = Self::client(dir, settings, &mut embedded).await?;
            let subscription = client.config().subscription_id.as_deref();
            let line = match (&settings.endpoint, subscription) {
                (Endpoint::Embedded, Some(subscription)) => {
                    format!("{line}, subscription {subscription}")
                }
                _ => line,
            };
            description.push_str(&format!("\nTarget of azureml.{alias}: {line}"));
            clients.insert(alias.clone(), client);
        }
        Ok(Target {
            client,
            aliased: clients,
            description,
            embedded,
        })
    }

    /// The client of one configuration and what the target line says of it; the embedded
    /// emulator is started by the first configuration that needs it.
    async fn client(
        dir: &Path,
        settings: &ProviderSettings,
        embedded: &mut Option<Embedded>,
    ) -> Result<(ArmClient, String), TargetError> {
        if let Endpoint::Url(endpoint) = &settings.endpoint {
            let subscription = settings
                .subscription_id
                .as_deref()
                .unwrap_or("(from the ids)");
            let target = engine::target::Target::remote(settings.clone(), dir)?;
            return Ok((
                target.client,
                format!("{endpoint} (subscription {subscription})"),
            ));
        }
        if embedded.is_none() {
            let data_dir = dir.join(".azureml");
            let (running, token) = emulator::start_embedded(&data_dir)
                .await
                .map_err(|source| TargetError::Embedded {
                    path: data_dir.clone(),
                    source: Box::new(source),
                })?;
            *embedded = Some(Embedded { running, token });
        }
        let running = embedded.as_ref().expect("started above");
        let target = engine::target::Target::embedded(
            settings.clone(),
            running.running.url(),
            running.token.clone(),
            running.running.database().to_owned(),
            emulator::DEMO_SUBSCRIPTION,
        )?;
        let line = format!(
            "embedded emulator ({})",
            absolute(running.running.database()).display()
        );
        Ok((target.client, line))
    }

    /// Where each configuration's calls go, for apply.
    pub fn clouds(&self) -> Clouds<'_> {
        self.aliased
            .iter()
            .fold(Clouds::one(&self.client), |clouds, (alias, client)| {
                clouds.with_alias(alias.clone(), client)
            })
    }

    /// The client of configuration `alias` (`None`: the default one); an error naming an
    /// alias no `provider` block configures.
    pub fn client_of(&self, alias: Option<&str>) -> anyhow::Result<&ArmClient> {
        match alias {
            None => Ok(&self.client),
            Some(alias) => self.aliased.get(alias).ok_or_else(|| {
                anyhow::anyhow!(
                    "the provider configuration `azureml.{alias}` is not configured: add `provider \"azureml\" {{ alias = \"{alias}\" }}`"
                )
            }),
        }
    }

    /// Stops the embedded emulator, if any (its data stays in the folder).
    pub async fn close(self) {
        if let Some(embedded) = self.embedded {
            embedded.running.shutdown().await;
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
