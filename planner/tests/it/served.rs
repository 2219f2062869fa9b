//! `amlplan` against a served emulator over HTTPS with a token (the way CI drift jobs and real
//! endpoints are reached): a second apply sends no writes, two applies on one state exclude each
//! other, and `kill -9` at random points of an apply always converges with no duplicate
//! attachment and nothing orphaned.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value as Json;

const TOKEN: &str = "served-token";

struct Served {
    emulator: emulator::RunningEmulator,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Served {
    async fn start(provision_delay: Duration) -> Served {
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = emulator::EmulatorConfig::new(data.path());
        config.token = Some(TOKEN.to_owned());
        config.provision_delay = provision_delay;
        let emulator = emulator::start(config).await.expect("the emulator starts");
        let pem =
            std::fs::read(emulator.ca_certificate().expect("a certificate")).expect("readable");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
            .build()
            .expect("client");
        Served {
            emulator,
            http,
            _data: data,
        }
    }

    async fn get(&self, path: &str) -> Json {
        let separator = if path.contains('?') { '&' } else { '?' };
        self.http
            .get(format!(
                "{}{path}{separator}api-version=2026-07-01",
                self.emulator.url()
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON")
    }

    async fn stats(&self) -> Json {
        self.get("/_emulator/stats").await
    }

    /// An `amlplan` command aimed at this emulator, in `dir`.
    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_amlplan"));
        command
            .args(args)
            .current_dir(dir)
            .env("AZUREML_ENDPOINT", self.emulator.url())
            .env("AZUREML_TOKEN", TOKEN)
            .env(
                "AZUREML_CA_CERTIFICATE",
                self.emulator.ca_certificate().expect("a certificate"),
            )
            .env("ARM_SUBSCRIPTION_ID", emulator::DEMO_SUBSCRIPTION)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

fn copy_example(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    for entry in std::fs::read_dir(&source).expect("example") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|ext| ext == "tf") {
            std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    dir
}

#[track_caller]
fn expect_code(output: &Output, code: i32, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn run(served: &Served, dir: &Path, args: &[&str]) -> Output {
    let mut command = served.command(dir, args);
    tokio::task::spawn_blocking(move || command.output().expect("amlplan runs"))
        .await
        .expect("joined")
}

fn writes(stats: &Json) -> u64 {
    ["PUT", "PATCH", "DELETE", "POST"]
        .iter()
        .map(|method| stats["requests"][method].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_sends_no_writes() {
    let served = Served::start(Duration::ZERO).await;
    let work = copy_example("attach-everything");
    let output = run(&served, work.path(), &["apply", "--auto-approve"]).await;
    expect_code(&output, 0, "first apply");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("Target: {}", served.emulator.url()))
            && first.contains(emulator::DEMO_SUBSCRIPTION),
        "{first}"
    );
    let before = served.stats().await;
    let output = run(&served, work.path(), &["apply", "--auto-approve"]).await;
    expect_code(&output, 0, "second apply");
    let after = served.stats().await;
    assert_eq!(
        writes(&before),
        writes(&after),
        "the second apply wrote: {before} -> {after}"
    );
    assert!(
        after["requests"]["GET"].as_u64() > before["requests"]["GET"].as_u64(),
        "it refreshed"
    );
    assert_eq!(after["duplicate_attachments"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_on_one_state_exclude_each_other() {
    // Slow provisioning keeps the first apply holding the lock.
    let served = Served::start(Duration::from_secs(2)).await;
    let work = copy_example("quickstart");
    let first = served
        .command(work.path(), &["apply", "--auto-approve"])
        .spawn()
        .expect("first apply");
    // Wait until the first holds the lock (its lock file exists).
    let info = work.path().join(".terraform.tfstate.lock.info");
    for _ in 0..200 {
        if info.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(info.exists(), "the first apply took the lock");
    let second = run(&served, work.path(), &["apply", "--auto-approve"]).await;
    expect_code(&second, 1, "the second apply fails fast");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is locked by") && stderr.contains("operation `apply`"),
        "{stderr}"
    );
    let first =
        tokio::task::spawn_blocking(move || first.wait_with_output().expect("first finishes"))
            .await
            .expect("joined");
    expect_code(&first, 0, "the first apply completes");
}

/// Kills `child` with SIGKILL after `delay`.
fn kill_after(mut child: Child, delay: Duration) -> Output {
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait_with_output().expect("killed child")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_always_converges() {
    use rand::Rng as _;
    let served = Served::start(Duration::from_millis(150)).await;
    let mut rng = rand::rng();
    let rounds = 20;
    let workspace = format!(
        "/subscriptions/{}/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/attach-mlw",
        emulator::DEMO_SUBSCRIPTION
    );
    let work = copy_example("attach-everything");
    for round in 0..rounds {
        // Alternate between building up (apply) and tearing down (destroy) so kills land in
        // attaches and in detaches.
        let args: &[&str] = if round % 2 == 0 {
            &["apply", "--auto-approve"]
        } else {
            &["destroy", "--auto-approve"]
        };
        let delay = Duration::from_millis(rng.random_range(20..900));
        let child = served
            .command(work.path(), args)
            .spawn()
            .expect("amlplan starts");
        let killed = tokio::task::spawn_blocking(move || kill_after(child, delay))
            .await
            .expect("joined");
        let state_text =
            std::fs::read_to_string(work.path().join("terraform.tfstate")).unwrap_or_default();
        if !state_text.is_empty() {
            serde_json::from_str::<Json>(&state_text).unwrap_or_else(|error| {
                panic!("round {round}: the state does not parse after kill -9: {error}")
            });
        }
        // A killed run leaves its lock info behind; the OS lock died with it.
        let converge = run(&served, work.path(), &["apply", "--auto-approve"]).await;
        expect_code(
            &converge,
            0,
            &format!(
                "round {round}: apply after kill -9 at {delay:?} (killed run exit {:?})",
                killed.status.code()
            ),
        );
        let plan = run(&served, work.path(), &["plan", "--detailed-exitcode"]).await;
        expect_code(&plan, 0, &format!("round {round}: plan after converging"));
        let stats = served.stats().await;
        assert_eq!(stats["duplicate_attachments"], 0, "round {round}: {stats}");
        // Nothing orphaned: every compute in the workspace is in the state.
        let state = std::fs::read_to_string(work.path().join("terraform.tfstate")).expect("state");
        let computes = served.get(&format!("{workspace}/computes")).await;
        for compute in computes["value"].as_array().expect("a list") {
            let id = compute["id"].as_str().expect("an id");
            assert!(
                state.contains(id),
                "round {round}: `{id}` exists but is not in the state"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_operations_are_reported_as_still_running() {
    // Provisioning takes 12 s: apply says so every 10 s, as Terraform does.
    let served = Served::start(Duration::from_secs(12)).await;
    let work = copy_example("quickstart");
    let output = run(&served, work.path(), &["apply", "--auto-approve"]).await;
    expect_code(&output, 0, "apply");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("azureml_workspace.main: Still creating... [10s elapsed]"),
        "{stdout}"
    );
}
