//! Where the provider's ARM calls go once configured: a URL with credentials, or the emulator
//! started inside this process (`endpoint = "embedded"`, DESIGN §6) on
//! `<working dir>/.azureml/emulator.db`, reached over HTTP on 127.0.0.1 like any other endpoint.

use std::path::{Path, PathBuf};

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
    /// The embedded emulator is not part of this build yet.
    #[error(
        "the embedded emulator is not available in this build; set `endpoint` to a served emulator or ARM URL"
    )]
    EmbeddedUnavailable,
}

/// A configured target.
#[derive(Debug)]
pub struct Target {
    /// The resolved settings (the embedded case has its URL and token filled in).
    pub settings: ProviderSettings,
    /// The base URL of ARM calls.
    pub base_url: String,
    /// The embedded emulator's database, when embedded.
    pub embedded_database: Option<PathBuf>,
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
}

/// Resolves the target; for `embedded`, starts the emulator in this process.
pub async fn connect(
    settings: ProviderSettings,
    working_dir: &Path,
) -> Result<Target, TargetError> {
    match settings.endpoint.clone() {
        Endpoint::Url(url) => Ok(Target {
            settings,
            base_url: url,
            embedded_database: None,
        }),
        Endpoint::Embedded => {
            let data_dir = working_dir.join(".azureml");
            std::fs::create_dir_all(&data_dir).map_err(|source| TargetError::DataDir {
                path: data_dir.clone(),
                source,
            })?;
            Err(TargetError::EmbeddedUnavailable)
        }
    }
}
