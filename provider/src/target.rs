//! Where the provider's ARM calls go once configured: `engine::target` builds the client from
//! the settings; this module adds the provider's edge glue, starting the embedded emulator
//! (`endpoint = "embedded"` or unset, DESIGN §6) in this process on
//! `<working dir>/.azureml/emulator.db`, and keeps it running while the target lives.

use std::path::{Path, PathBuf};

use engine::settings::{Endpoint, ProviderSettings};

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

/// A configured target.
pub struct Target {
    /// The client, the settings and where they point.
    pub inner: engine::target::Target,
    /// The embedded emulator, kept running while the target lives.
    embedded: Option<emulator::RunningEmulator>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Target {
    type Target = engine::target::Target;

    fn deref(&self) -> &engine::target::Target {
        &self.inner
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
    if let Endpoint::Url(_) = settings.endpoint {
        return Ok(Target {
            inner: engine::target::Target::remote(settings, working_dir)?,
            embedded: None,
        });
    }
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
    let inner = engine::target::Target::embedded(
        settings,
        running.url(),
        token,
        running.database().to_owned(),
        emulator::DEMO_SUBSCRIPTION,
    )?;
    Ok(Target {
        inner,
        embedded: Some(running),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: Endpoint, ca_certificate: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            endpoint,
            subscription_id: Some("s".to_owned()),
            ca_certificate: ca_certificate.map(PathBuf::from),
            ..ProviderSettings::default()
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
