//! A gRPC client as Terraform's: TLS with a fresh P-521 client certificate (go-plugin's
//! recipe: `CA:TRUE`, O=HashiCorp, CN=localhost), trusting exactly the certificate of the
//! handshake line, server name `localhost`, ALPN `h2`.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

/// A client identity like the one Terraform generates for every plugin launch.
pub struct ClientIdentity {
    /// PEM, for `PLUGIN_CLIENT_CERT`.
    pub pem: String,
    /// DER.
    pub der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl ClientIdentity {
    /// Generates one (ECDSA P-521, SHA-512, CA:TRUE: go-plugin's `generateCert`).
    pub fn generate() -> ClientIdentity {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "HashiCorp");
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::ServerAuth,
        ];
        let certificate = params.self_signed(&key).expect("self-signed");
        ClientIdentity {
            pem: certificate.pem(),
            der: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    fn tls_config(&self, server_certificate: &[u8]) -> rustls::ClientConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(server_certificate.to_vec()))
            .expect("the server certificate is a valid root");
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_client_auth_cert(
                vec![self.der.clone()],
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .expect("client certificate");
        config.alpn_protocols = vec![b"h2".to_vec()];
        config
    }

    /// Opens one TLS connection to the plugin (for handshake-level checks).
    pub async fn tls_connect(
        &self,
        address: &str,
        server_certificate: &[u8],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let connector = TlsConnector::from(Arc::new(self.tls_config(server_certificate)));
        let tcp = tokio::net::TcpStream::connect(address).await?;
        let name = ServerName::try_from("localhost").expect("valid name");
        connector.connect(name, tcp).await
    }

    /// A gRPC channel over mutual TLS.
    pub async fn channel(
        &self,
        address: &str,
        server_certificate: &[u8],
    ) -> Result<Channel, tonic::transport::Error> {
        let connector = TlsConnector::from(Arc::new(self.tls_config(server_certificate)));
        let address = address.to_owned();
        Endpoint::from_static("http://localhost")
            .connect_with_connector(tower::service_fn(move |_| {
                let connector = connector.clone();
                let address = address.clone();
                async move {
                    let tcp = tokio::net::TcpStream::connect(&address).await?;
                    let name = ServerName::try_from("localhost").expect("valid name");
                    let tls = connector.connect(name, tcp).await?;
                    Ok::<_, std::io::Error>(TokioIo::new(tls))
                }
            }))
            .await
    }
}

/// A plaintext gRPC channel (debug mode, or TLS disabled).
pub async fn plaintext_channel(address: &str) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("valid URI")
        .connect()
        .await
}
