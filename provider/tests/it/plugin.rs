//! Starting the provider binary as Terraform does, and reading its handshake line.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;

/// Terraform's magic cookie.
pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The provider binary built by cargo for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-azureml")
}

/// A command for the binary with a clean plugin environment (no inherited TF_/PLUGIN_ vars).
pub fn command() -> Command {
    let mut command = Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("TF_")
            || key.starts_with("PLUGIN_")
            || key.starts_with("AZUREML_")
            || key.starts_with("ARM_")
        {
            command.env_remove(key);
        }
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running provider process; killed on drop.
pub struct Plugin {
    /// The process.
    pub child: Child,
    /// The first stdout line.
    pub handshake: String,
    /// Everything it wrote to stderr so far.
    pub stderr: Arc<Mutex<String>>,
    /// Every stdout line so far (go-plugin reads and discards them after the handshake).
    pub stdout: Arc<Mutex<Vec<String>>>,
}

impl Plugin {
    /// Starts the binary as Terraform does: magic cookie, versions, port range unset (port 0),
    /// and `client_cert_pem` as `PLUGIN_CLIENT_CERT` when given.
    pub fn start(client_cert_pem: Option<&str>, working_dir: &std::path::Path) -> Plugin {
        let mut command = command();
        command
            .current_dir(working_dir)
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6");
        if let Some(pem) = client_cert_pem {
            command.env("PLUGIN_CLIENT_CERT", pem);
        }
        Plugin::spawn(command)
    }

    /// Spawns `command` and waits (bounded) for the first stdout line.
    pub fn spawn(mut command: Command) -> Plugin {
        let mut child = command.spawn().expect("the provider binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        drain(
            child.stderr.take().expect("stderr is piped"),
            stderr.clone(),
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (sender, receiver) = mpsc::channel();
        let collected = lines.clone();
        std::thread::spawn(move || {
            // Keep reading after the first line, so the pipe never fills.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = sender.send(line.clone());
                if let Ok(mut lines) = collected.lock() {
                    lines.push(line);
                }
            }
        });
        let handshake = receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_default();
        Plugin {
            child,
            handshake,
            stderr,
            stdout: lines,
        }
    }

    /// Waits (bounded) for a stdout line containing `needle`.
    pub fn wait_for_line(&self, needle: &str) -> Option<String> {
        for _ in 0..500 {
            if let Some(line) = self
                .stdout
                .lock()
                .ok()?
                .iter()
                .find(|line| line.contains(needle))
            {
                return Some(line.clone());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The handshake fields.
    pub fn fields(&self) -> Vec<&str> {
        self.handshake.split('|').collect()
    }

    /// The address of field 4.
    pub fn address(&self) -> String {
        self.fields()
            .get(3)
            .map(|address| (*address).to_owned())
            .unwrap_or_default()
    }

    /// The server certificate of field 6, decoded.
    pub fn server_certificate(&self) -> Vec<u8> {
        let field = self
            .fields()
            .get(5)
            .map(|field| (*field).to_owned())
            .unwrap_or_default();
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(field)
            .expect("field 6 is unpadded standard base64")
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(mut source: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        while let Ok(count) = source.read(&mut buffer) {
            if count == 0 {
                break;
            }
            if let Ok(mut text) = into.lock() {
                text.push_str(&String::from_utf8_lossy(&buffer[..count]));
            }
        }
    });
}
