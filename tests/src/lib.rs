//! Helpers shared by the end-to-end tests: the workspace's binaries (`amlplan`,
//! `terraform-provider-azureml`, built on demand), the terraform versions the project installs, an
//! emulator served over HTTPS with a token, and a scratch project folder both tools run in.
//!
//! Terraform binaries: the three versions `scripts/install-terraform` puts in `.venv/bin`
//! (1.0.3, 1.11.4, 1.15.5); any of them missing is a failure, never a skip.

pub mod fuzz;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value as Json;

/// The token the served emulators accept.
pub const TOKEN: &str = "e2e-served-token";

/// The workspace root (the folder holding `examples/` and `scripts/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// Cargo's target folder for the debug profile.
fn target_debug() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_relative() {
                workspace_root().join(dir)
            } else {
                dir
            };
            dir.join("debug")
        }
        None => workspace_root().join("target/debug"),
    }
}

/// The workspace binary `name` (`amlplan` or `terraform-provider-azureml`) from the target
/// folder. When either is missing (`cargo test -p e2e` builds no other package's binaries),
/// both are built once with cargo.
pub fn workspace_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<bool> = Mutex::new(false);
    let path = target_debug().join(name);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !*built && !path.is_file() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "planner", "-p", "provider", "--bins"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "cargo build of amlplan and the provider failed"
        );
        *built = true;
    }
    assert!(path.is_file(), "`{}` is not built", path.display());
    path
}

/// One terraform binary.
#[derive(Debug, Clone)]
pub struct Terraform {
    /// The executable.
    pub path: PathBuf,
    /// Its version line, e.g. `Terraform v1.0.3`.
    pub version: String,
    /// Major, minor, patch.
    pub semver: (u32, u32, u32),
}

impl Terraform {
    /// Whether this terraform honours write-only attributes (1.11 and later).
    pub fn write_only(&self) -> bool {
        self.semver >= (1, 11, 0)
    }
}

fn parse_version(line: &str) -> Option<(u32, u32, u32)> {
    let rest = line.strip_prefix("Terraform v")?;
    let core = rest.split(['-', ' ']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// The Terraform versions every terraform test runs against, as `scripts/install-terraform`
/// installs them: the executable's name in `.venv/bin` and the version it must report.
pub const TERRAFORM_VERSIONS: [(&str, &str); 3] = [
    ("terraform-1.0", "1.0.3"),
    ("terraform-1.11", "1.11.4"),
    ("terraform-1.15", "1.15.5"),
];

/// The three terraform versions of [`TERRAFORM_VERSIONS`], oldest first, from the project's own
/// installation (`scripts/install-terraform`, which `scripts/test` runs). Nothing else is looked
/// for: a `terraform` on this machine's PATH is not on CI's. Panics, naming what is missing,
/// when any of them is absent or reports another version; a terraform test never skips.
pub fn terraform_binaries() -> Vec<Terraform> {
    static FOUND: OnceLock<Result<Vec<Terraform>, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let bin = workspace_root().join(".venv/bin");
        TERRAFORM_VERSIONS
            .iter()
            .map(|(name, expected)| {
                let path = bin.join(name);
                let output = Command::new(&path)
                    .arg("version")
                    .env("CHECKPOINT_DISABLE", "1")
                    .env("TF_CLI_CONFIG_FILE", "/dev/null")
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|error| format!("`{}` does not run: {error}", path.display()))?;
                let version = String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                match parse_version(&version) {
                    Some(semver) if version == format!("Terraform v{expected}") => Ok(Terraform {
                        path,
                        version,
                        semver,
                    }),
                    _ => Err(format!(
                        "`{}` reports `{version}`, expected `Terraform v{expected}`",
                        path.display()
                    )),
                }
            })
            .collect()
    });
    match found {
        Ok(found) => found.clone(),
        Err(reason) => panic!(
            "{reason}: run scripts/install-terraform (the terraform tests need all of {TERRAFORM_VERSIONS:?})"
        ),
    }
}

/// An emulator served over HTTPS on 127.0.0.1:0 with a static token, on its own runtime (so
/// synchronous tests can run processes against it), in a temporary data folder.
pub struct ServedEmulator {
    runtime: tokio::runtime::Runtime,
    emulator: Option<emulator::RunningEmulator>,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl ServedEmulator {
    /// A fresh emulator (the demo seed, no provisioning delay).
    pub fn start() -> ServedEmulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = emulator::EmulatorConfig::new(data.path());
        config.token = Some(TOKEN.to_owned());
        assert!(config.tls, "the emulator serves HTTPS by default");
        let emulator = runtime
            .block_on(emulator::start(config))
            .expect("the emulator starts");
        let pem = std::fs::read(emulator.ca_certificate().expect("a CA certificate"))
            .expect("the CA certificate is readable");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
            .build()
            .expect("client");
        ServedEmulator {
            runtime,
            emulator: Some(emulator),
            http,
            _data: data,
        }
    }

    fn running(&self) -> &emulator::RunningEmulator {
        self.emulator.as_ref().expect("running")
    }

    /// Base URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        self.running().url()
    }

    /// The environment both tools read to reach this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZUREML_ENDPOINT", self.url().to_owned()),
            ("AZUREML_TOKEN", TOKEN.to_owned()),
            (
                "AZUREML_CA_CERTIFICATE",
                self.running()
                    .ca_certificate()
                    .expect("a CA certificate")
                    .display()
                    .to_string(),
            ),
            (
                "ARM_SUBSCRIPTION_ID",
                emulator::DEMO_SUBSCRIPTION.to_owned(),
            ),
        ]
    }

    /// One request; the status and the JSON body (`Null` when empty).
    pub fn request(&self, method: &str, path: &str, body: Option<&Json>) -> (u16, Json) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{separator}api-version=2025-06-01", self.url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.runtime.block_on(async {
            let response = request.send().await.expect("the emulator answers");
            let status = response.status().as_u16();
            let bytes = response.bytes().await.expect("a body");
            let json = if bytes.is_empty() {
                Json::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or(Json::Null)
            };
            (status, json)
        })
    }

    /// `GET path`: the body, or `None` on 404. Panics on any other failure.
    pub fn get(&self, path: &str) -> Option<Json> {
        let (status, body) = self.request("GET", path, None);
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET `{path}`: status {other}: {body}"),
        }
    }

    /// The emulator's counters (`requests`, `duplicate_attachments`, ...).
    pub fn stats(&self) -> Json {
        self.get("/_emulator/stats").expect("stats")
    }
}

impl Drop for ServedEmulator {
    fn drop(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            self.runtime.block_on(emulator.shutdown());
        }
    }
}

/// How terraform finds the provider.
pub enum Install {
    /// `dev_overrides` on the target folder's binary: no `terraform init`.
    DevOverrides,
    /// A CLI config file (e.g. the filesystem mirror's from `scripts/install-provider`).
    CliConfig(PathBuf),
}

/// A scratch project: a copy of an example's `.tf` files, its own HOME and CLI config; runs
/// terraform and `amlplan` in it against a served emulator.
pub struct Project {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl Project {
    /// A copy of `examples/<name>` (only `*.tf`), reaching `served`.
    pub fn example(name: &str, served: &ServedEmulator, install: Install) -> Project {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("config")).expect("config folder");
        let source = workspace_root().join("examples").join(name);
        for entry in std::fs::read_dir(&source).expect("the example") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                let file = path.file_name().expect("a name");
                std::fs::copy(&path, dir.path().join("config").join(file)).expect("copy");
            }
        }
        let cli_config = match install {
            Install::CliConfig(path) => path,
            Install::DevOverrides => {
                let provider = workspace_binary("terraform-provider-azureml");
                let config = format!(
                    "provider_installation {{\n  dev_overrides {{\n    \"azureml.local/azureml/azureml\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                    provider.parent().expect("target folder").display()
                );
                let path = dir.path().join("terraformrc");
                std::fs::write(&path, config).expect("CLI config");
                path
            }
        };
        let mut env = served.env();
        env.push(("TF_CLI_CONFIG_FILE", cli_config.display().to_string()));
        Project { dir, env }
    }

    /// The configuration folder (where the state lives).
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command.env_clear();
        for key in ["PATH", "LANG", "LC_ALL", "TMPDIR"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        command
            .envs(self.env.iter().map(|(key, value)| (*key, value)))
            .env("HOME", self.dir.path())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("NO_COLOR", "1")
            .current_dir(self.config_dir())
            .stdin(Stdio::null());
        command
    }

    /// Runs `terraform args` in the configuration folder.
    pub fn terraform(&self, terraform: &Terraform, args: &[&str]) -> Output {
        self.terraform_with(terraform, args, &[])
    }

    /// Runs `terraform args` with extra environment variables.
    pub fn terraform_with(
        &self,
        terraform: &Terraform,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        self.command(&terraform.path)
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("terraform runs")
    }

    /// Starts `terraform args` with its standard input a pipe the caller holds, for a command
    /// that runs until its input ends (`terraform console`); its output is discarded.
    pub fn spawn_terraform(&self, terraform: &Terraform, args: &[&str]) -> std::process::Child {
        self.command(&terraform.path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("terraform starts")
    }

    /// Runs `amlplan --chdir CONFIG args`.
    pub fn amlplan(&self, args: &[&str]) -> Output {
        let config = self.config_dir();
        let mut all = vec!["--chdir", config.to_str().expect("UTF-8 path")];
        all.extend_from_slice(args);
        self.command(&workspace_binary("amlplan"))
            .args(all)
            .output()
            .expect("amlplan runs")
    }
}

/// Stdout and stderr of `output`, one after the other.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `(address, actions)` of every `resource_changes` entry of a `terraform show -json` plan,
/// sorted; an import (`change.importing`) adds `"import"` to the actions.
pub fn plan_actions(plan: &Json) -> Vec<(String, Vec<String>)> {
    let mut actions: Vec<(String, Vec<String>)> = plan["resource_changes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|change| {
            let address = change["address"].as_str().expect("an address").to_owned();
            let mut actions: Vec<String> = change["change"]["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|action| action.as_str().expect("an action").to_owned())
                .collect();
            if change["change"].get("importing").is_some() {
                actions.push("import".to_owned());
            }
            (address, actions)
        })
        .collect();
    actions.sort();
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("Terraform v1.0.3"), Some((1, 0, 3)));
        assert_eq!(parse_version("Terraform v1.11.4"), Some((1, 11, 4)));
        assert_eq!(parse_version("Terraform v1.12.0-beta1"), Some((1, 12, 0)));
        assert_eq!(parse_version("OpenTofu v1.8.0"), None);
    }

    #[test]
    fn plan_actions_are_sorted_pairs() {
        let plan = serde_json::json!({"resource_changes": [
            {"address": "b.x", "change": {"actions": ["update"]}},
            {"address": "a.x", "change": {"actions": ["delete", "create"]}},
        ]});
        assert_eq!(
            plan_actions(&plan),
            vec![
                (
                    "a.x".to_owned(),
                    vec!["delete".to_owned(), "create".to_owned()]
                ),
                ("b.x".to_owned(), vec!["update".to_owned()]),
            ]
        );
    }
}
