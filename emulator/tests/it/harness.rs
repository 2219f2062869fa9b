//! Starting an emulator for a test and talking to it: a reqwest client that trusts the emulator's
//! CA, a static token, and shortcuts for ARM paths of the demo seed.

use std::time::Duration;

use emulator::{DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION, EmulatorConfig, RunningEmulator};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value as Json, json};

/// The static token every harness configures.
pub const TOKEN: &str = "test-token";
/// The api-version the harness sends.
pub const API_VERSION: &str = "2026-07-01";
/// The workspace [`Harness::workspace`] creates.
pub const WORKSPACE: &str = "ws-test";

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Json,
}

impl Answer {
    /// `error.code` of an ARM error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.message` of an ARM error body.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A running emulator plus a client.
pub struct Harness {
    pub running: Option<RunningEmulator>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub token: Option<String>,
    config: EmulatorConfig,
}

/// A client trusting the CA certificate of `running` (when HTTPS).
pub fn client_for(running: &RunningEmulator) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Some(ca) = running.ca_certificate() {
        let pem = std::fs::read(ca).expect("CA certificate readable");
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(&pem).expect("CA certificate parses"),
        );
    }
    builder.build().expect("client builds")
}

impl Harness {
    /// HTTPS, static token, no delay.
    pub async fn start() -> Harness {
        Harness::start_with(|_| {}).await
    }

    /// Like [`Harness::start`], with changes to the configuration.
    pub async fn start_with(configure: impl FnOnce(&mut EmulatorConfig)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = EmulatorConfig::new(dir.path());
        config.token = Some(TOKEN.to_owned());
        configure(&mut config);
        let running = emulator::start(config.clone())
            .await
            .expect("emulator starts");
        let client = client_for(&running);
        Harness {
            running: Some(running),
            client,
            dir,
            token: Some(TOKEN.to_owned()),
            config,
        }
    }

    /// Stops and starts the emulator again on the same data folder.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// Restarts with changes to the configuration.
    pub async fn restart_with(&mut self, configure: impl FnOnce(&mut EmulatorConfig)) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
        configure(&mut self.config);
        let running = emulator::start(self.config.clone())
            .await
            .expect("emulator restarts");
        self.client = client_for(&running);
        self.running = Some(running);
    }

    /// The emulator.
    pub fn emulator(&self) -> &RunningEmulator {
        self.running.as_ref().expect("running")
    }

    /// Absolute URL of a path (or URL), with `api-version` added when the path has no query.
    pub fn url(&self, path: &str) -> String {
        let absolute = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.emulator().url())
        };
        if absolute.contains('?') {
            absolute
        } else {
            format!("{absolute}?api-version={API_VERSION}")
        }
    }

    /// Sends a request with the harness token.
    pub async fn send(&self, method: Method, path: &str, body: Option<Json>) -> Answer {
        let url = self.url(path);
        self.send_raw(method, &url, body, self.token.as_deref())
            .await
    }

    /// Sends a request to an exact URL with an optional bearer token.
    pub async fn send_raw(
        &self,
        method: Method,
        url: &str,
        body: Option<Json>,
        token: Option<&str>,
    ) -> Answer {
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body readable");
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Json) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Json) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn post(&self, path: &str) -> Answer {
        self.send(Method::POST, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Polls the `Azure-AsyncOperation` monitor of a write until it is terminal; returns the status.
    pub async fn wait(&self, answer: &Answer) -> String {
        let monitor = answer
            .header("azure-asyncoperation")
            .expect("Azure-AsyncOperation header");
        // Rebased onto the running emulator: a restart on port 0 changes the port.
        let monitor = monitor
            .find("/subscriptions/")
            .map(|start| &monitor[start..])
            .expect("monitor path")
            .to_owned();
        for _ in 0..200 {
            let status = self.get(&monitor).await;
            assert_eq!(status.status, StatusCode::OK, "{status:?}");
            let state = status.body["status"]
                .as_str()
                .expect("status field")
                .to_owned();
            if state != "InProgress" {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("operation did not finish");
    }

    /// Creates (and waits for) the test workspace in the demo resource group.
    pub async fn workspace(&self) {
        let answer = self
            .put(
                &workspace_path(WORKSPACE),
                json!({ "location": "eastus", "properties": { "friendlyName": "test" } }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{answer:?}");
        assert_eq!(self.wait(&answer).await, "Succeeded");
    }

    /// `GET /_emulator/stats`.
    pub async fn stats(&self) -> Json {
        let url = format!("{}/_emulator/stats", self.emulator().url());
        let answer = self.send_raw(Method::GET, &url, None, Some(TOKEN)).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        answer.body
    }
}

/// Path of the demo resource group.
pub fn group_path() -> String {
    format!("/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_RESOURCE_GROUP}")
}

/// Path of a workspace in the demo resource group.
pub fn workspace_path(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.MachineLearningServices/workspaces/{name}",
        group_path()
    )
}

/// Path of a compute in the test workspace.
pub fn compute_path(name: &str) -> String {
    format!("{}/computes/{name}", workspace_path(WORKSPACE))
}

/// ARM id of a demo resource, e.g. `resource_id("Microsoft.Compute/virtualMachines/demo-ubuntu-vm")`.
pub fn resource_id(type_and_name: &str) -> String {
    format!("{}/providers/{type_and_name}", group_path())
}

/// An attach body.
pub fn attach(compute_type: &str, resource: &str, properties: Json) -> Json {
    json!({ "properties": { "computeType": compute_type, "resourceId": resource_id(resource), "properties": properties } })
}

/// A compute cluster body.
pub fn cluster(vm_size: &str, max_nodes: i64) -> Json {
    json!({ "properties": { "computeType": "AmlCompute", "properties": { "vmSize": vm_size, "scaleSettings": { "minNodeCount": 0, "maxNodeCount": max_nodes } } } })
}

/// A compute instance body.
pub fn instance(vm_size: &str) -> Json {
    json!({ "properties": { "computeType": "ComputeInstance", "properties": { "vmSize": vm_size } } })
}
