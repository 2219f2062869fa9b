//! go-plugin AutoMTLS, server side: a fresh self-signed ECDSA P-521 certificate for this process,
//! and a rustls configuration that accepts exactly one client certificate (the one Terraform
//! passed in `PLUGIN_CLIENT_CERT`), byte for byte, with ALPN `h2`. No serving here.
//!
//! Why not tonic's `ServerTlsConfig`: it verifies clients with webpki, which refuses Terraform's
//! certificate (it is `CA:TRUE`, so "CA used as end entity"). And the crypto provider must be
//! aws-lc-rs: Terraform's key is P-521, and when the server's CertificateRequest does not list
//! `ecdsa_secp521r1_sha512` Terraform silently sends no certificate at all.

use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName as TlsName, SignatureScheme,
};

/// The ALPN protocol of gRPC over TLS; grpc-go (Terraform >= 1.12) refuses a connection without it.
pub const ALPN_H2: &[u8] = b"h2";

/// Errors setting up TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `PLUGIN_CLIENT_CERT` holds no PEM certificate.
    #[error("`PLUGIN_CLIENT_CERT` does not hold a PEM certificate")]
    ClientCertificate(#[source] rustls::pki_types::pem::Error),
    /// The server certificate could not be generated.
    #[error("failed to generate the server certificate")]
    Generate(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("failed to build the TLS server configuration")]
    Config(#[source] rustls::Error),
}

/// This process's server certificate and its key.
pub struct ServerIdentity {
    /// The certificate, DER (goes into the handshake line).
    pub certificate: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// Generates a self-signed certificate as go-plugin does: ECDSA P-521 with SHA-512, subject
    /// and SAN `localhost` (the name Terraform verifies), valid from 30 seconds ago. EKU
    /// serverAuth (Go checks EKUs); not a CA, since Terraform pins this exact certificate.
    pub fn generate() -> Result<ServerIdentity, TlsError> {
        let key_pair =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).map_err(TlsError::Generate)?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "terraform-provider-azureml");
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.subject_alt_names = vec![SanType::DnsName(
            "localhost".try_into().map_err(TlsError::Generate)?,
        )];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(365);
        params.is_ca = IsCa::NoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyAgreement,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let certificate = params.self_signed(&key_pair).map_err(TlsError::Generate)?;
        Ok(ServerIdentity {
            certificate: certificate.der().clone(),
            key: PrivatePkcs8KeyDer::from(key_pair.serialize_der()),
        })
    }
}

/// Parses the first certificate of a PEM document (Terraform's `PLUGIN_CLIENT_CERT`).
pub fn parse_client_certificate(pem: &str) -> Result<CertificateDer<'static>, TlsError> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(TlsError::ClientCertificate)
}

/// The crypto provider for every TLS use in the provider (P-521 needs aws-lc-rs).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The server configuration: our certificate, mandatory client authentication by exact
/// certificate, ALPN `h2`, TLS 1.2 and 1.3.
pub fn server_config(
    identity: &ServerIdentity,
    client_certificate: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TlsError> {
    let provider = crypto_provider();
    let verifier = PinnedClientCertificate {
        certificate: client_certificate,
        provider: provider.clone(),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.certificate.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, compared byte for byte. Signatures are still checked
/// (the client must hold the key), chains are not: there is nothing to chain to.
#[derive(Debug)]
struct PinnedClientCertificate {
    certificate: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCertificate {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[TlsName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_ref() && intermediates.is_empty() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!(
                "refused a TLS client: its certificate is not the one Terraform passed in PLUGIN_CLIENT_CERT"
            );
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    /// Includes `ECDSA_NISTP521_SHA512`, so Terraform presents its P-521 certificate.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_is_p521_for_localhost() {
        let identity = ServerIdentity::generate().expect("certificate generation");
        // id-ecdsa-with-SHA512 (1.2.840.10045.4.3.4) and the secp521r1 curve (1.3.132.0.35).
        let der = identity.certificate.as_ref();
        let contains = |needle: &[u8]| der.windows(needle.len()).any(|window| window == needle);
        assert!(
            contains(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04]),
            "signed with ecdsa-with-SHA512"
        );
        assert!(
            contains(&[0x2b, 0x81, 0x04, 0x00, 0x23]),
            "key on secp521r1"
        );
        // SAN dNSName [2] "localhost".
        assert!(contains(b"\x82\x09localhost"), "SAN DNS:localhost");
    }

    #[test]
    fn verifier_requests_p521_signatures_and_pins_one_certificate() {
        let ours = ServerIdentity::generate().expect("certificate generation");
        let other = ServerIdentity::generate().expect("certificate generation");
        let verifier = PinnedClientCertificate {
            certificate: ours.certificate.clone(),
            provider: crypto_provider(),
        };
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
        );
        assert!(verifier.client_auth_mandatory());
        let now = UnixTime::now();
        assert!(
            verifier
                .verify_client_cert(&ours.certificate, &[], now)
                .is_ok()
        );
        assert!(
            verifier
                .verify_client_cert(&other.certificate, &[], now)
                .is_err()
        );
        assert!(
            verifier
                .verify_client_cert(
                    &ours.certificate,
                    std::slice::from_ref(&other.certificate),
                    now
                )
                .is_err()
        );
    }

    #[test]
    fn malformed_client_certificate_is_an_error() {
        assert!(parse_client_certificate("not a certificate").is_err());
    }
}
