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
    /// The CA certificate file is unreadable or holds no certificate.
    #[error("`ca_certificate` `{}` holds no readable PEM certificate", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
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
        Endpoint::Url(url) => {
            if let Some(path) = &settings.ca_certificate {
                check_ca_certificate(&working_dir.join(path))?;
            }
            Ok(Target {
                settings,
                base_url: url,
                embedded_database: None,
            })
        }
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
}
