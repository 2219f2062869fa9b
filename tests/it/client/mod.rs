//! The ARM client (`engine::api`) against a real emulator served over HTTPS on 127.0.0.1:0:
//! authentication, every compute kind, workspaces, paging, long-running operations, retries
//! under injected faults.

mod auth;
mod computes;
mod operations;
mod reliability;
mod workspaces;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use emulator::{DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION, EmulatorConfig, RunningEmulator};
use engine::api::{ArmClient, ArmId, ClientConfig, CloudApi, Credential, PollPolicy, RetryPolicy};
use engine::schema::{Registry, ResourceSchema};
use engine::value::{ObjectValue, Value};
use tempfile::TempDir;

/// The static token the test emulators accept for every subscription.
pub const TOKEN: &str = "client-test-static-token";

/// A running emulator and the folder it lives in (removed on drop).
pub struct Served {
    pub emulator: RunningEmulator,
    _dir: TempDir,
}

impl Served {
    /// A client with the static token, fast polling and quick retries.
    pub fn client(&self) -> ArmClient {
        self.client_with(Credential::Static(TOKEN.to_owned()))
    }

    /// A client with `credential`.
    pub fn client_with(&self, credential: Credential) -> ArmClient {
        ArmClient::new(self.config(credential)).expect("client for the emulator")
    }

    /// The client configuration for this emulator.
    pub fn config(&self, credential: Credential) -> ClientConfig {
        let mut config = ClientConfig::new(credential);
        config.endpoint = url::Url::parse(&self.url()).expect("emulator URL");
        config.ca_certificate = Some(
            self.emulator
                .ca_certificate()
                .expect("an HTTPS emulator")
                .to_path_buf(),
        );
        config.subscription_id = Some(DEMO_SUBSCRIPTION.to_owned());
        config.retry = RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
        };
        config.poll = PollPolicy {
            default_interval: Duration::from_millis(20),
            timeout: Duration::from_secs(60),
        };
        config
    }

    /// The emulator's base URL.
    pub fn url(&self) -> String {
        self.emulator.url().to_string()
    }

    /// A plain reqwest client trusting the emulator, for raw requests to compare with.
    pub fn http(&self) -> reqwest::Client {
        let certificate = std::fs::read(self.emulator.ca_certificate().expect("an HTTPS emulator"))
            .expect("CA file");
        reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&certificate).expect("PEM"))
            .build()
            .expect("http client")
    }

    /// `GET /_emulator/stats` with the static token.
    pub async fn stats(&self) -> serde_json::Value {
        self.http()
            .get(format!(
                "{}/_emulator/stats",
                self.url().trim_end_matches('/')
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("stats answer")
            .error_for_status()
            .expect("stats status")
            .json()
            .await
            .expect("stats JSON")
    }
}

/// Starts an emulator (HTTPS, demo seed, static [`TOKEN`]) after `adjust` changes its config.
pub async fn serve(adjust: impl FnOnce(&mut EmulatorConfig)) -> Served {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = EmulatorConfig::new(dir.path());
    config.token = Some(TOKEN.to_owned());
    adjust(&mut config);
    let emulator = emulator::start(config).await.expect("emulator starts");
    Served {
        emulator,
        _dir: dir,
    }
}

/// The catalogue.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| engine::schema::load_registry().expect("catalogue"))
}

/// The schema of `type_name`.
pub fn schema(type_name: &str) -> &'static ResourceSchema {
    registry().get(type_name).expect("type in the catalogue")
}

/// The id of an underlying demo resource, e.g. `Microsoft.Compute/virtualMachines/demo-ubuntu-vm`.
pub fn demo_resource(path: &str) -> String {
    format!(
        "/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_RESOURCE_GROUP}/providers/{path}"
    )
}

/// An object of attributes from `(name, value)` pairs.
pub fn object(pairs: &[(&str, Value)]) -> ObjectValue {
    let mut object = ObjectValue::default();
    for (name, value) in pairs {
        object.set(name, value.clone());
    }
    object
}

/// Creates workspace `name` in the demo resource group through [`CloudApi`]; returns its id.
pub async fn workspace(client: &ArmClient, name: &str) -> ArmId {
    let created = client
        .create_or_update(
            schema("azureml_workspace"),
            &object(&[
                ("name", name.into()),
                ("resource_group_name", DEMO_RESOURCE_GROUP.into()),
                ("location", "eastus".into()),
            ]),
        )
        .await
        .expect("workspace created");
    ArmId::parse(created.get_str("id").expect("workspace id")).expect("ARM id")
}

/// A buffer that collects `tracing` output of the current thread.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs lock")).into_owned()
    }

    /// Installs a subscriber for the current thread (use in `#[tokio::test]`, which runs the test
    /// on one thread) and returns the guard.
    pub fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
