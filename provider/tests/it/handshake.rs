//! The go-plugin launch contract, checked on the real binary.

use std::time::Duration;

use crate::client::{ClientIdentity, plaintext_channel};
use crate::plugin::{self, Plugin};
use provider::proto::plugin::Empty;
use provider::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[test]
fn without_the_magic_cookie_it_explains_and_exits_non_zero() {
    let output = plugin::command().output().expect("the binary runs");
    assert!(!output.status.success());
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("this binary is a Terraform plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("--debug"), "{stderr}");
}

#[test]
fn handshake_line_has_the_six_fields_terraform_parses() {
    let client = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    let plugin = Plugin::start(Some(&client.pem), workdir.path());
    let fields = plugin.fields();
    assert_eq!(fields.len(), 6, "handshake: {:?}", plugin.handshake);
    assert_eq!(&fields[..3], ["1", "6", "tcp"]);
    assert_eq!(fields[4], "grpc");
    let address: std::net::SocketAddr = fields[3].parse().expect("host:port");
    assert_eq!(address.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert_ne!(address.port(), 0);
    assert!(!fields[5].contains('='), "certificate must be unpadded");
    assert!(
        fields[5].len() > 50,
        "go-plugin ignores a certificate field of 50 characters or less"
    );
    let der = plugin.server_certificate();
    assert!(
        der.windows(b"localhost".len())
            .any(|window| window == b"localhost")
    );
}

#[test]
fn honours_the_port_range_terraform_sets() {
    let client = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    // Find a free port, then offer a one-port range holding it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|socket| socket.local_addr())
        .expect("free port")
        .port();
    let mut command = plugin::command();
    command
        .current_dir(workdir.path())
        .env("TF_PLUGIN_MAGIC_COOKIE", plugin::COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_MIN_PORT", port.to_string())
        .env("PLUGIN_MAX_PORT", port.to_string())
        .env("PLUGIN_CLIENT_CERT", &client.pem);
    let plugin = Plugin::spawn(command);
    assert_eq!(
        plugin.address(),
        format!("127.0.0.1:{port}"),
        "stderr: {}",
        plugin.stderr.lock().expect("lock")
    );
}

#[tokio::test]
async fn mutual_tls_negotiates_h2_and_serves_health() {
    let client = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    let plugin = Plugin::start(Some(&client.pem), workdir.path());
    let server_certificate = plugin.server_certificate();

    let tls = client
        .tls_connect(&plugin.address(), &server_certificate)
        .await
        .expect("TLS handshake");
    let (_, connection) = tls.get_ref();
    assert_eq!(connection.alpn_protocol(), Some(&b"h2"[..]));
    let peer = connection.peer_certificates().expect("server certificate");
    assert_eq!(peer[0].as_ref(), server_certificate.as_slice());

    let channel = client
        .channel(&plugin.address(), &server_certificate)
        .await
        .expect("channel");
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .expect("health check");
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_client_with_another_certificate_is_refused() {
    let terraform = ClientIdentity::generate();
    let intruder = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    let plugin = Plugin::start(Some(&terraform.pem), workdir.path());
    let server_certificate = plugin.server_certificate();

    let refused = async {
        let channel = intruder
            .channel(&plugin.address(), &server_certificate)
            .await?;
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: "plugin".to_owned(),
            })
            .await;
        Ok::<_, tonic::transport::Error>(status)
    }
    .await;
    match refused {
        Err(_) | Ok(Err(_)) => {}
        Ok(Ok(response)) => panic!("a foreign certificate was served: {response:?}"),
    }
    // Terraform's own certificate still works.
    let channel = terraform
        .channel(&plugin.address(), &server_certificate)
        .await
        .expect("channel");
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .expect("terraform's certificate is accepted");
    assert!(
        plugin
            .stderr
            .lock()
            .expect("lock")
            .contains("refused a TLS client")
    );
}

#[tokio::test]
async fn shutdown_makes_the_process_exit_promptly() {
    let client = ClientIdentity::generate();
    let workdir = tempfile::tempdir().expect("tempdir");
    let mut plugin = Plugin::start(Some(&client.pem), workdir.path());
    let channel = client
        .channel(&plugin.address(), &plugin.server_certificate())
        .await
        .expect("channel");
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("shutdown answered");
    // Terraform kills a plugin that has not exited 2 s after Shutdown.
    let status = plugin
        .wait_exit(Duration::from_millis(1500))
        .expect("exited before terraform's 2 s deadline");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn without_a_client_certificate_it_serves_plaintext() {
    // TF_DISABLE_PLUGIN_TLS: Terraform passes no PLUGIN_CLIENT_CERT and dials plaintext h2.
    let workdir = tempfile::tempdir().expect("tempdir");
    let plugin = Plugin::start(None, workdir.path());
    assert!(
        plugin.handshake.ends_with("|grpc|"),
        "empty certificate field: {}",
        plugin.handshake
    );
    let channel = plaintext_channel(&plugin.address()).await.expect("channel");
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .expect("health check");
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn debug_mode_prints_a_reattach_value_and_serves_plaintext() {
    let workdir = tempfile::tempdir().expect("tempdir");
    let mut command = plugin::command();
    command.current_dir(workdir.path()).arg("--debug");
    let plugin = Plugin::spawn(command);
    assert!(
        plugin.handshake.starts_with("Provider started."),
        "{}",
        plugin.handshake
    );
    let line = plugin
        .wait_for_line("TF_REATTACH_PROVIDERS=")
        .expect("the reattach line");
    let json = line
        .split_once("TF_REATTACH_PROVIDERS='")
        .and_then(|(_, rest)| rest.strip_suffix('\''))
        .expect("quoted JSON");
    let reattach: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    let entry = &reattach[provider::PROVIDER_ADDRESS];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], plugin.child.id());
    assert_eq!(entry["Addr"]["Network"], "tcp");
    let address = entry["Addr"]["String"]
        .as_str()
        .expect("address")
        .to_owned();
    assert!(address.starts_with("127.0.0.1:"));
    let channel = plaintext_channel(&address).await.expect("channel");
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_owned(),
        })
        .await
        .expect("health check");
    assert_eq!(response.into_inner().status(), ServingStatus::Serving);
}
