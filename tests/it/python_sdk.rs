//! The emulator against the official Azure SDK for Python clients (DESIGN §7): the scripts of
//! `tests/python/` run with the `.venv` python of `scripts/install-test-clients` against an
//! emulator served over HTTPS with no static token, so every call carries a token that
//! `azure-identity`'s `ClientSecretCredential` got from the emulator's token endpoint (the
//! emulator is the credential's authority; instance discovery is off, the emulator's CA is the
//! trust root of both the credential and the ARM client).
//!
//! | script | shows |
//! |---|---|
//! | `mgmt_computes.py` | `azure-mgmt-machinelearningservices` 1.0.1 (api-version 2020-08-01): workspace and AmlCompute created through `begin_create_or_update` pollers, the demo VM attached, computes listed over two pages, scale settings changed through `begin_update`, secrets only in `list_keys` of the VM, `begin_delete` with `Detach` (the VM stays) and `Delete` |
//!
//! The emulator runs with a 200 ms provisioning delay, so its polling answers carry
//! `Retry-After: 1` (azure-core reads `Retry-After: 0` as absent and then waits 30 s).
//!
//! Without the `.venv` python or its packages these tests fail, saying so; they never skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION, DEMO_TENANT,
    EmulatorConfig, RunningEmulator,
};
use pretty_assertions::assert_eq;
use serde_json::Value as Json;

/// How long one client script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(50);
/// What a script exits with when a package is missing.
const MISSING_PACKAGE: i32 = 3;

const VM_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm";
const WORKSPACE_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/sdk-mlw";

/// Fails the test: a missing client is never a skip.
fn unavailable(reason: &str) -> ! {
    panic!("{reason}: run scripts/install-test-clients (the Python SDK clients are required)")
}

/// The `.venv` python, which must import the SDK clients (else [`unavailable`]).
fn python() -> PathBuf {
    let python = e2e::workspace_root().join(".venv/bin/python");
    if !python.is_file() {
        unavailable(&format!("`{}` does not exist", python.display()));
    }
    let imports = Command::new(&python)
        .args([
            "-c",
            "import azure.identity, azure.mgmt.machinelearningservices",
        ])
        .stdin(Stdio::null())
        .output();
    match imports {
        Ok(output) if output.status.success() => python,
        Ok(output) => unavailable(&format!(
            "the Azure SDK for Python packages are not installed in `.venv`: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => unavailable(&format!("`{}` does not run: {error}", python.display())),
    }
}

/// An emulator served over HTTPS on 127.0.0.1:0 with no static token, on its own runtime.
struct Served {
    runtime: tokio::runtime::Runtime,
    emulator: Option<RunningEmulator>,
    http: reqwest::Client,
    data: tempfile::TempDir,
}

impl Served {
    fn start() -> Served {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = EmulatorConfig::new(data.path());
        config.provision_delay = Duration::from_millis(200);
        assert!(
            config.tls && config.token.is_none(),
            "HTTPS, tokens only from the token endpoint"
        );
        let emulator = runtime
            .block_on(emulator::start(config))
            .expect("the emulator starts");
        let pem = std::fs::read(emulator.ca_certificate().expect("a CA certificate"))
            .expect("the CA certificate is readable");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
            .build()
            .expect("client");
        Served {
            runtime,
            emulator: Some(emulator),
            http,
            data,
        }
    }

    fn running(&self) -> &RunningEmulator {
        self.emulator.as_ref().expect("running")
    }

    fn url(&self) -> String {
        self.running().url().trim_end_matches('/').to_owned()
    }

    fn ca(&self) -> &Path {
        self.running().ca_certificate().expect("a CA certificate")
    }

    /// A token for the demo client from the token endpoint (client credentials, plain HTTPS).
    fn token(&self) -> String {
        let url = format!("{}/{DEMO_TENANT}/oauth2/v2.0/token", self.url());
        let scope = format!("{}/.default", self.url());
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("scope", scope.as_str()),
        ];
        self.runtime.block_on(async {
            let answer = self
                .http
                .post(url)
                .form(&form)
                .send()
                .await
                .expect("answer");
            assert_eq!(answer.status().as_u16(), 200, "the token endpoint answers");
            let body: Json = answer.json().await.expect("JSON");
            body["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned()
        })
    }

    /// `GET path` with `token`: the status and the JSON body (`Null` when empty).
    fn get(&self, path: &str, token: &str) -> (u16, Json) {
        let url = format!("{}{path}?api-version=2025-06-01", self.url());
        self.runtime.block_on(async {
            let answer = self
                .http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("answer");
            let status = answer.status().as_u16();
            let bytes = answer.bytes().await.expect("a body");
            (status, serde_json::from_slice(&bytes).unwrap_or(Json::Null))
        })
    }

    /// Runs `tests/python/<script>` with the emulator's URL, CA and demo ids in its environment;
    /// its JSON output. A missing package is [`unavailable`].
    fn run(&self, python: &Path, script: &str) -> Json {
        let root = e2e::workspace_root();
        let home = self.data.path().join("home");
        std::fs::create_dir_all(&home).expect("HOME");
        let mut command = Command::new(python);
        command.env_clear();
        for key in ["PATH", "LANG", "LC_ALL", "TMPDIR"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        let ca = self.ca().display().to_string();
        let mut child = command
            .arg(root.join("tests/python").join(script))
            .env("HOME", &home)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("EMULATOR_URL", self.url())
            .env("EMULATOR_CA", &ca)
            .env("REQUESTS_CA_BUNDLE", &ca)
            .env("AZURE_TENANT_ID", DEMO_TENANT)
            .env("AZURE_CLIENT_ID", DEMO_CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", DEMO_CLIENT_SECRET)
            .env("AZURE_SUBSCRIPTION_ID", DEMO_SUBSCRIPTION)
            .env("RESOURCE_GROUP", DEMO_RESOURCE_GROUP)
            .env("VM_ID", VM_ID)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python runs");
        let stdout = read_in_background(child.stdout.take().expect("stdout"));
        let stderr = read_in_background(child.stderr.take().expect("stderr"));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if started.elapsed() > SCRIPT_TIMEOUT {
                child.kill().expect("kill the script");
                let _ = child.wait();
                panic!(
                    "`{script}` ran longer than {SCRIPT_TIMEOUT:?}:\n{}",
                    stderr.join().expect("stderr")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stdout = stdout.join().expect("stdout");
        let stderr = stderr.join().expect("stderr");
        if status.code() == Some(MISSING_PACKAGE) {
            unavailable(stderr.trim());
        }
        assert!(
            status.success(),
            "`{script}` failed ({status}):\n{stdout}\n{stderr}"
        );
        let line = stdout
            .lines()
            .rev()
            .find(|line| line.starts_with('{'))
            .unwrap_or_else(|| panic!("no JSON line from `{script}`:\n{stdout}\n{stderr}"));
        serde_json::from_str(line).expect("the script's JSON")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

fn names(json: &Json) -> Vec<String> {
    json.as_array()
        .expect("a list")
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn the_machine_learning_mgmt_client_manages_workspaces_and_computes() {
    let python = python();
    let served = Served::start();
    let out = served.run(&python, "mgmt_computes.py");

    // The token azure-identity got from the emulator's token endpoint.
    assert_eq!(
        out["token"]["expires_in"].as_i64().map(|s| s > 3000),
        Some(true),
        "{out}"
    );

    // Workspace: the poller's result is the provisioned workspace.
    let workspace = &out["workspace"];
    assert_eq!(workspace["id"], WORKSPACE_ID);
    assert_eq!(workspace["provisioning_state"], "Succeeded");
    assert_eq!(workspace["friendly_name"], "SDK workspace");
    assert_eq!(workspace["tags"]["client"], "python-sdk");
    assert_eq!(workspace["identity"]["type"], "SystemAssigned");
    for associated in ["storage_account", "key_vault", "application_insights"] {
        assert!(
            workspace[associated]
                .as_str()
                .is_some_and(|id| id.starts_with("/subscriptions/")),
            "`{associated}` of {workspace}"
        );
    }

    // AmlCompute: created through the LRO, read back as the SDK's model.
    let cluster = &out["cluster"]["properties"];
    assert_eq!(cluster["compute_type"], "AmlCompute");
    assert_eq!(cluster["provisioning_state"], "Succeeded");
    assert_eq!(cluster["is_attached_compute"], false);
    let scale = &cluster["properties"]["scale_settings"];
    assert_eq!(scale["max_node_count"], 2);
    assert_eq!(scale["min_node_count"], 0);

    // The demo VM attached; its secret is not in the read.
    let vm = &out["vm"]["properties"];
    assert_eq!(vm["compute_type"], "VirtualMachine");
    assert_eq!(vm["provisioning_state"], "Succeeded");
    assert_eq!(vm["resource_id"], VM_ID);
    assert_eq!(vm["is_attached_compute"], true);
    assert_eq!(vm["properties"]["address"], "20.81.10.4");
    assert_eq!(
        vm["properties"]["administrator_account"]["username"],
        "azureuser"
    );
    assert!(
        !out["vm"].to_string().contains("PRIVATE KEY"),
        "a secret in a read: {}",
        out["vm"]
    );

    // Listing: both computes, then 24 over two pages.
    assert_eq!(names(&out["list"]), ["sdk-cluster", "sdk-vm"]);
    assert_eq!(out["paging_states"], serde_json::json!(["Succeeded"]));
    assert_eq!(out["pages"], serde_json::json!([20, 4]));
    let mut expected: Vec<String> = (0..22).map(|index| format!("page{index:02}")).collect();
    expected.extend(["sdk-cluster".to_owned(), "sdk-vm".to_owned()]);
    assert_eq!(names(&out["paged"]), expected);

    // Scale settings changed through begin_update (the 2020-08-01 body), in the poller's result
    // and in a later read; nodes follow the new minimum.
    for read in [&out["updated"], &out["cluster_after_update"]] {
        let properties = &read["properties"]["properties"];
        assert_eq!(properties["scale_settings"]["max_node_count"], 4, "{read}");
        assert_eq!(properties["scale_settings"]["min_node_count"], 1, "{read}");
        assert_eq!(
            properties["scale_settings"]["node_idle_time_before_scale_down"], "PT5M",
            "{read}"
        );
        assert_eq!(properties["target_node_count"], 1, "{read}");
        assert_eq!(read["properties"]["provisioning_state"], "Succeeded");
    }

    // Secrets only through list_keys, and only those the attachment holds.
    assert_eq!(out["vm_keys"]["compute_type"], "VirtualMachine");
    assert_eq!(
        out["vm_keys"]["administrator_account"]["username"],
        "azureuser"
    );
    assert_eq!(
        out["vm_keys"]["administrator_account"]["private_key_data"],
        "-----BEGIN OPENSSH PRIVATE KEY-----\nsdk-test-key\n-----END OPENSSH PRIVATE KEY-----\n"
    );
    assert!(
        !out["cluster_keys"]
            .to_string()
            .contains("administrator_account"),
        "{}",
        out["cluster_keys"]
    );

    // Detach and delete: both computes gone, the paging clusters remain.
    assert_eq!(names(&out["gone"]), ["sdk-vm", "sdk-cluster"]);
    assert_eq!(names(&out["list_after_delete"]), expected[..22]);

    // Every long-running operation waited on the emulator's `Retry-After: 1`, not 30 s.
    for (step, seconds) in out["seconds"].as_object().expect("timings") {
        let seconds = seconds.as_f64().expect("seconds");
        assert!(seconds < 10.0, "`{step}` took {seconds} s");
    }

    // Plain HTTPS with a token of the same client: the detached VM stays, the computes are gone.
    let token = served.token();
    let (status, machine) = served.get(VM_ID, &token);
    assert_eq!(status, 200, "{machine}");
    assert_eq!(machine["id"], VM_ID);
    for name in ["sdk-vm", "sdk-cluster"] {
        let (status, body) = served.get(&format!("{WORKSPACE_ID}/computes/{name}"), &token);
        assert_eq!(status, 404, "`{name}`: {body}");
    }
    let (status, body) = served.get(&format!("{WORKSPACE_ID}/computes/page00"), &token);
    assert_eq!(status, 200, "{body}");
}
