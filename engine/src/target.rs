//! Where the ARM calls of both front ends go, from their [`ProviderSettings`]: a URL with the
//! credential the settings select ([`Target::remote`]), or an emulator on this machine that the
//! front end has started in its own process ([`Target::embedded`], DESIGN §6: the engine does
//! not depend on the emulator, so starting it is each front end's edge glue). Either way the
//! calls go through the same [`ArmClient`] as to Azure, so the embedded path runs exactly the
//! code that talks to the cloud.

use std::path::{Path, PathBuf};

use url::Url;

use crate::api::{ApiError, ArmClient, ClientConfig, Credential};
use crate::settings::{Endpoint, ProviderSettings};

/// Reaching the target failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `endpoint` is not a URL.
    #[error("`endpoint` `{endpoint}` is not a URL (use `\"embedded\"` or `https://...`)")]
    Endpoint {
        /// What was given.
        endpoint: String,
        /// Why.
        #[source]
        source: url::ParseError,
    },
    /// The CA certificate file is unreadable or holds no certificate.
    #[error("`ca_certificate` `{}` holds no readable PEM certificate", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
    },
    /// [`Target::remote`] was asked for the embedded endpoint.
    #[error("the embedded endpoint is started by the front end, not reached by URL")]
    NotRemote,
    /// The client could not be built.
    #[error("failed to set up the ARM client")]
    Client(#[source] Box<ApiError>),
}

/// A connected target.
#[derive(Debug)]
pub struct Target {
    /// The client every call goes through.
    pub client: ArmClient,
    /// The settings it was made from.
    pub settings: ProviderSettings,
    /// The base URL of ARM calls.
    pub base_url: String,
    /// The embedded emulator's database, when embedded.
    pub embedded_database: Option<PathBuf>,
}

impl Target {
    /// The target of a URL endpoint: the credential [`Credential::select`] picks from the
    /// settings (static token, client credentials, or the Azure CLI), the CA certificate
    /// resolved against `base_dir` (the configuration folder) and checked now, so a bad file is
    /// reported before anything is planned.
    pub fn remote(settings: ProviderSettings, base_dir: &Path) -> Result<Target, TargetError> {
        let Endpoint::Url(endpoint) = &settings.endpoint else {
            return Err(TargetError::NotRemote);
        };
        let url = Url::parse(endpoint).map_err(|source| TargetError::Endpoint {
            endpoint: endpoint.clone(),
            source,
        })?;
        let ca_certificate = settings
            .ca_certificate
            .as_ref()
            .map(|path| base_dir.join(path));
        if let Some(path) = &ca_certificate {
            check_ca_certificate(path)?;
        }
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
        config.ca_certificate = ca_certificate;
        if let Some(version) = &settings.api_version {
            config.api_version.clone_from(version);
        }
        let client =
            ArmClient::new(config).map_err(|error| TargetError::Client(Box::new(error)))?;
        Ok(Target {
            client,
            base_url: endpoint.clone(),
            embedded_database: None,
            settings,
        })
    }

    /// The target of an emulator this process started at `url`, accepting `token`, on
    /// `database`; the subscription is the settings' or `default_subscription` (the emulator's
    /// demo one).
    pub fn embedded(
        settings: ProviderSettings,
        url: &str,
        token: String,
        database: PathBuf,
        default_subscription: &str,
    ) -> Result<Target, TargetError> {
        let endpoint = Url::parse(url).map_err(|source| TargetError::Endpoint {
            endpoint: url.to_owned(),
            source,
        })?;
        let mut config = ClientConfig::local(endpoint, token);
        config.subscription_id = Some(
            settings
                .subscription_id
                .clone()
                .unwrap_or_else(|| default_subscription.to_owned()),
        );
        if let Some(version) = &settings.api_version {
            config.api_version.clone_from(version);
        }
        let client =
            ArmClient::new(config).map_err(|error| TargetError::Client(Box::new(error)))?;
        Ok(Target {
            client,
            base_url: url.to_owned(),
            embedded_database: Some(database),
            settings,
        })
    }
}

/// Fails early on a CA file the client could not use.
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

    fn settings(endpoint: Endpoint, ca_certificate: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            endpoint,
            subscription_id: Some("s".to_owned()),
            ca_certificate: ca_certificate.map(PathBuf::from),
            ..ProviderSettings::default()
        }
    }

    #[test]
    fn url_targets_check_their_ca_file_relative_to_the_configuration_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = Endpoint::Url("https://127.0.0.1:1".to_owned());
        let missing = Target::remote(settings(url.clone(), Some("ca.pem")), dir.path())
            .expect_err("missing file");
        assert!(missing.to_string().contains("ca.pem"), "{missing}");
        std::fs::write(dir.path().join("ca.pem"), "not a certificate").expect("write");
        assert!(Target::remote(settings(url.clone(), Some("ca.pem")), dir.path()).is_err());
        let target = Target::remote(settings(url, None), dir.path()).expect("no CA file");
        assert_eq!(target.base_url, "https://127.0.0.1:1");
        assert_eq!(target.client.config().subscription_id.as_deref(), Some("s"));
        assert!(matches!(
            Target::remote(settings(Endpoint::Embedded, None), dir.path()),
            Err(TargetError::NotRemote)
        ));
    }

    #[test]
    fn embedded_targets_use_the_demo_subscription_unless_one_is_set() {
        let mut unset = settings(Endpoint::Embedded, None);
        unset.subscription_id = None;
        let target = Target::embedded(unset, "http://127.0.0.1:9", "t".into(), "db".into(), "demo")
            .expect("embedded");
        assert_eq!(
            target.client.config().subscription_id.as_deref(),
            Some("demo")
        );
        assert_eq!(target.embedded_database.as_deref(), Some(Path::new("db")));
    }
}
