//! The emulator's TLS material under `<data_dir>/tls/`: a CA certificate (`cert.pem`, the file
//! clients trust), its key, and a server certificate for `localhost`, `127.0.0.1` and `::1`
//! signed by it. Existing files are reused when they load, so clients keep trusting the same CA
//! across restarts. A CA plus leaf (rather than one self-signed leaf) satisfies strict verifiers
//! (webpki, OpenSSL's `X509_STRICT`) that refuse a CA certificate used as an end entity.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::EmulatorError;

/// Paths of the TLS files in a data folder.
pub(crate) struct TlsFiles {
    /// The CA certificate clients trust.
    pub ca_certificate: PathBuf,
    ca_key: PathBuf,
    server_certificate: PathBuf,
    server_key: PathBuf,
}

impl TlsFiles {
    pub(crate) fn in_dir(data_dir: &Path) -> TlsFiles {
        let dir = data_dir.join("tls");
        TlsFiles {
            ca_certificate: dir.join("cert.pem"),
            ca_key: dir.join("ca-key.pem"),
            server_certificate: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
        }
    }
}

/// Loads the TLS files, generating them when missing or unusable, and builds the server config.
pub(crate) fn server_config(
    data_dir: &Path,
) -> Result<(Arc<ServerConfig>, PathBuf), EmulatorError> {
    let files = TlsFiles::in_dir(data_dir);
    let config = match load(&files) {
        Ok(config) => config,
        Err(_) => {
            generate(&files, data_dir)?;
            load(&files).map_err(|message| tls_error(data_dir, message))?
        }
    };
    Ok((Arc::new(config), files.ca_certificate))
}

fn tls_error(data_dir: &Path, message: String) -> EmulatorError {
    EmulatorError::Tls {
        path: data_dir.join("tls"),
        message,
    }
}

fn load(files: &TlsFiles) -> Result<ServerConfig, String> {
    // The CA must load too: it is what clients were told to trust.
    read_certificates(&files.ca_certificate)?;
    let mut chain = read_certificates(&files.server_certificate)?;
    chain.extend(read_certificates(&files.ca_certificate)?);
    let key_pem = fs::read(&files.server_key).map_err(|error| error.to_string())?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|error| error.to_string())?
        .ok_or_else(|| "no private key".to_owned())?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| error.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|error| error.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = fs::read(path).map_err(|error| error.to_string())?;
    let certificates = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    if certificates.is_empty() {
        return Err(format!("no certificate in `{}`", path.display()));
    }
    Ok(certificates)
}

fn generate(files: &TlsFiles, data_dir: &Path) -> Result<(), EmulatorError> {
    let fail = |message: String| tls_error(data_dir, message);
    let now = time::OffsetDateTime::now_utc();
    let valid_until = now + time::Duration::days(3650);

    let ca_key = KeyPair::generate().map_err(|error| fail(error.to_string()))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|error| fail(error.to_string()))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "azureml-emulator local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = valid_until;
    let ca_certificate = ca_params
        .self_signed(&ca_key)
        .map_err(|error| fail(error.to_string()))?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate().map_err(|error| fail(error.to_string()))?;
    let mut server_params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(|error| fail(error.to_string()))?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    server_params.not_before = now - time::Duration::days(1);
    server_params.not_after = valid_until;
    let server_certificate = server_params
        .signed_by(&server_key, &issuer)
        .map_err(|error| fail(error.to_string()))?;

    let dir = data_dir.join("tls");
    fs::create_dir_all(&dir).map_err(|source| EmulatorError::Io {
        path: dir.clone(),
        source,
    })?;
    for (path, contents) in [
        (&files.ca_key, ca_key.serialize_pem()),
        (&files.server_key, server_key.serialize_pem()),
        (&files.server_certificate, server_certificate.pem()),
        // Written last: its presence means the set is complete.
        (&files.ca_certificate, ca_certificate.pem()),
    ] {
        write_private(path, &contents)?;
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> Result<(), EmulatorError> {
    let io_error = |source| EmulatorError::Io {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    fs::write(&temporary, contents).map_err(io_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&temporary, fs::Permissions::from_mode(0o600)).map_err(io_error)?;
    }
    fs::rename(&temporary, path).map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_is_reused_across_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, path) = server_config(dir.path()).expect("first load generates");
        let first = fs::read_to_string(&path).expect("ca written");
        let (_, again) = server_config(dir.path()).expect("second load reuses");
        assert_eq!(path, again);
        assert_eq!(first, fs::read_to_string(&again).expect("ca still there"));
    }

    #[test]
    fn broken_files_are_regenerated() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (_, path) = server_config(dir.path()).expect("generates");
        fs::write(dir.path().join("tls/server-key.pem"), "garbage").expect("overwrite key");
        let (_, again) = server_config(dir.path()).expect("regenerates");
        assert!(
            fs::read_to_string(again)
                .expect("ca")
                .contains("BEGIN CERTIFICATE")
        );
        assert!(path.exists());
    }
}
