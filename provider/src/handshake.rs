//! The go-plugin handshake: what Terraform tells the plugin through its environment, and the
//! one line the plugin answers on stdout. Pure functions over the environment; binding, TLS and
//! serving live in [`crate::tls`] and [`crate::serve`].
//!
//! | step | variable / output | what we do |
//! |---|---|---|
//! | magic cookie | `TF_PLUGIN_MAGIC_COOKIE` | must equal [`MAGIC_COOKIE_VALUE`], else [`HandshakeError::NotLaunchedByTerraform`] |
//! | app protocol | `PLUGIN_PROTOCOL_VERSIONS` (`6,5`, any order) | we speak 6 only and always answer 6 |
//! | port range | `PLUGIN_MIN_PORT`, `PLUGIN_MAX_PORT` | TCP port on 127.0.0.1 tried in order; port 0 when unset |
//! | AutoMTLS | `PLUGIN_CLIENT_CERT` (PEM) | required client certificate; empty = plaintext (`TF_DISABLE_PLUGIN_TLS`) |
//! | answer | stdout, one line | `1\|6\|tcp\|127.0.0.1:PORT\|grpc\|BASE64(DER)` (standard alphabet, no padding) |

use std::net::SocketAddr;

use base64::Engine;
use rustls::pki_types::CertificateDer;

use crate::tls::{self, TlsError};

/// The environment variable carrying go-plugin's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value (the same for protocol 5 and 6, and for OpenTofu).
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version (field 1 of the handshake line).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks (field 2).
pub const APP_PROTOCOL_VERSION: u32 = 6;

/// A launch that cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The magic cookie is missing or wrong: someone ran the binary by hand.
    #[error(
        "this binary is a Terraform plugin: it is started by `terraform`, not run by hand\n\
         To use it, install it for Terraform (see `scripts/install-provider`) and run `terraform init` and \
         `terraform plan`; to debug it, run it with `--debug` and export the `TF_REATTACH_PROVIDERS` value it prints"
    )]
    NotLaunchedByTerraform,
    /// `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` are not a port range.
    #[error("`PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` are not a valid port range: `{min}`..`{max}`")]
    PortRange {
        /// The minimum given.
        min: String,
        /// The maximum given.
        max: String,
    },
    /// `PLUGIN_CLIENT_CERT` is set but unusable.
    #[error("Terraform's client certificate is unusable")]
    ClientCertificate(#[source] TlsError),
}

/// What Terraform asked for, read from the environment.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The protocol versions the client offered (`PLUGIN_PROTOCOL_VERSIONS`), in its order.
    pub offered_versions: Vec<u32>,
    /// The ports to try, in order (`0` alone = any free port).
    pub ports: Vec<u16>,
    /// Terraform's client certificate; `None` means serve without TLS.
    pub client_certificate: Option<CertificateDer<'static>>,
}

impl Launch {
    /// Reads the launch from the environment (`lookup` is `std::env::var` in production).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Launch, HandshakeError> {
        if lookup(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(HandshakeError::NotLaunchedByTerraform);
        }
        let offered_versions = lookup("PLUGIN_PROTOCOL_VERSIONS")
            .map(|text| parse_versions(&text))
            .unwrap_or_default();
        let ports = port_range(lookup("PLUGIN_MIN_PORT"), lookup("PLUGIN_MAX_PORT"))?;
        let client_certificate = match lookup("PLUGIN_CLIENT_CERT")
            .filter(|pem| !pem.trim().is_empty())
        {
            Some(pem) => Some(
                tls::parse_client_certificate(&pem).map_err(HandshakeError::ClientCertificate)?,
            ),
            None => None,
        };
        Ok(Launch {
            offered_versions,
            ports,
            client_certificate,
        })
    }

    /// Whether the client offered protocol 6. When it did not (Terraform < 0.15.4 offers only 5)
    /// we still answer 6, as go-plugin does, and the client reports the mismatch.
    pub fn client_speaks_ours(&self) -> bool {
        self.offered_versions.is_empty() || self.offered_versions.contains(&APP_PROTOCOL_VERSION)
    }
}

/// Parses `PLUGIN_PROTOCOL_VERSIONS` (`6,5`; order is random, junk entries are skipped).
pub fn parse_versions(text: &str) -> Vec<u32> {
    text.split(',')
        .filter_map(|part| part.trim().parse().ok())
        .collect()
}

fn port_range(min: Option<String>, max: Option<String>) -> Result<Vec<u16>, HandshakeError> {
    match (min, max) {
        (Some(min), Some(max)) => match (min.trim().parse::<u16>(), max.trim().parse::<u16>()) {
            (Ok(low), Ok(high)) if low <= high => Ok((low..=high).collect()),
            _ => Err(HandshakeError::PortRange { min, max }),
        },
        _ => Ok(vec![0]),
    }
}

/// The handshake line (without newline): `1|6|tcp|ADDR|grpc|CERT`, where CERT is the server
/// certificate's DER in standard base64 without padding (Go's `RawStdEncoding`; Terraform
/// fails on `=`), or empty when serving without TLS.
pub fn handshake_line(
    address: SocketAddr,
    server_certificate: Option<&CertificateDer<'_>>,
) -> String {
    let certificate = server_certificate
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der.as_ref()))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{address}|grpc|{certificate}")
}

/// The `TF_REATTACH_PROVIDERS` value for a provider served by hand (`--debug`): plaintext
/// HTTP/2 (reattach carries no certificates), `Test: true` (Terraform 1.0 needs it to keep the
/// protocol version; it also means Terraform does not kill the process).
pub fn reattach_json(provider_address: &str, address: SocketAddr, pid: u32) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": address.to_string() },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn missing_or_wrong_cookie_is_refused() {
        assert!(matches!(
            Launch::from_env(env(&[])),
            Err(HandshakeError::NotLaunchedByTerraform)
        ));
        let wrong = env(&[(MAGIC_COOKIE_KEY, "nope")]);
        assert!(matches!(
            Launch::from_env(wrong),
            Err(HandshakeError::NotLaunchedByTerraform)
        ));
    }

    #[test]
    fn versions_are_a_set_in_any_order() {
        let launch = Launch::from_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5, 6"),
        ]))
        .expect("valid launch");
        assert_eq!(launch.offered_versions, vec![5, 6]);
        assert!(launch.client_speaks_ours());
        let old = Launch::from_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5"),
        ]))
        .expect("valid launch");
        assert!(!old.client_speaks_ours());
    }

    #[test]
    fn port_range_is_honoured_and_checked() {
        let launch = Launch::from_env(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "10002"),
        ]))
        .expect("valid launch");
        assert_eq!(launch.ports, vec![10000, 10001, 10002]);
        let bad = env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_MIN_PORT", "9"),
            ("PLUGIN_MAX_PORT", "8"),
        ]);
        assert!(matches!(
            Launch::from_env(bad),
            Err(HandshakeError::PortRange { .. })
        ));
        let unset =
            Launch::from_env(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])).expect("valid launch");
        assert_eq!(unset.ports, vec![0]);
        assert!(unset.client_certificate.is_none());
    }

    #[test]
    fn handshake_line_has_six_fields_and_unpadded_certificate() {
        let address: SocketAddr = "127.0.0.1:10001".parse().expect("address");
        // 4 bytes encode to 6 characters + "==" with padding.
        let der = CertificateDer::from(vec![1_u8, 2, 3, 4]);
        assert_eq!(
            handshake_line(address, Some(&der)),
            "1|6|tcp|127.0.0.1:10001|grpc|AQIDBA"
        );
        assert_eq!(
            handshake_line(address, None),
            "1|6|tcp|127.0.0.1:10001|grpc|"
        );
    }

    #[test]
    fn reattach_json_has_terraform_fields() {
        let address: SocketAddr = "127.0.0.1:4000".parse().expect("address");
        let json: serde_json::Value =
            serde_json::from_str(&reattach_json("azureml.local/azureml/azureml", address, 42))
                .expect("json");
        let entry = &json["azureml.local/azureml/azureml"];
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["String"], "127.0.0.1:4000");
        assert_eq!(entry["Pid"], 42);
    }
}
