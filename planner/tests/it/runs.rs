//! Training runs end to end: the real `amlplan` binary on copies of `examples/training-run`
//! (source folder included), against its embedded emulator or a served one whose upload
//! statistics cover the whole session. Runs really execute (the emulator runs `python` in a
//! fresh folder holding the snapshot), so every test is bounded by the runs' own `timeout`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

const TOKEN: &str = "runs-token";

/// A copy of `examples/training-run` (with `src/`) in a temporary folder.
struct Workdir {
    dir: tempfile::TempDir,
    /// A served emulator to aim at, instead of the embedded one.
    served: Option<(String, PathBuf)>,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("readable folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a name").to_owned();
        if name == ".azureml" || name == "terraform.tfstate" {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

impl Workdir {
    fn new() -> Workdir {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/training-run");
        copy_tree(&source, dir.path());
        Workdir { dir, served: None }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
        std::fs::write(path, text).expect("write");
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_amlplan"));
        command
            .args(args)
            .current_dir(self.path())
            .env_remove("AZUREML_ENDPOINT")
            .env_remove("AZUREML_TOKEN")
            .env_remove("ARM_SUBSCRIPTION_ID")
            .stdin(Stdio::null());
        if let Some((url, certificate)) = &self.served {
            command
                .env("AZUREML_ENDPOINT", url)
                .env("AZUREML_TOKEN", TOKEN)
                .env("AZUREML_CA_CERTIFICATE", certificate)
                .env("ARM_SUBSCRIPTION_ID", emulator::DEMO_SUBSCRIPTION);
        }
        command.output().expect("amlplan runs")
    }

    /// Runs and requires exit code `code`; returns stdout and stderr together.
    #[track_caller]
    fn expect(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            output.status.code(),
            Some(code),
            "`amlplan {}` exited with {:?}\n{text}",
            args.join(" "),
            output.status.code()
        );
        text
    }

    /// The attributes of every instance of `address` in the state.
    fn state_objects(&self, resource_type: &str) -> Vec<Json> {
        let text =
            std::fs::read_to_string(self.path().join("terraform.tfstate")).expect("a state file");
        let state: Json = serde_json::from_str(&text).expect("state JSON");
        state["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|resource| resource["type"] == resource_type)
            .flat_map(|resource| {
                resource["instances"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|instance| instance["attributes"].clone())
            .collect()
    }
}

#[test]
fn training_run_completes_with_its_log_then_plans_empty_and_ignores_ignored_files() {
    let work = Workdir::new();
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("azureml_run.train | epoch 3: loss 0.7290"),
        "{applied}"
    );
    assert!(
        applied.contains("azureml_run.train: status Completed"),
        "{applied}"
    );
    assert!(applied.contains("run_status = \"Completed\""), "{applied}");
    let runs = work.state_objects("azureml_run");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "Completed");
    assert_eq!(runs[0]["git_dirty"], Json::Null, "not in a git work tree");
    let environment = &work.state_objects("azureml_environment")[0];
    assert!(
        environment["id"]
            .as_str()
            .is_some_and(|id| id.ends_with(&format!(
                "/versions/{}",
                environment["version"].as_str().unwrap_or("?")
            ))),
        "{environment}"
    );

    work.expect(&["plan", "--detailed-exitcode"], 0);
    // Only ignored content changes: the snapshot is the same.
    work.write("src/notes/more.txt", "still ignored\n");
    work.write("src/debug.log", "ignored too\n");
    work.expect(&["plan", "--detailed-exitcode"], 0);

    // A real change: one new run, caused by the snapshot hash; nothing else moves.
    work.write("src/helper.py", "VALUE = 1\n");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains(
            "# azureml_run.train will be submitted as a new run (the previous run is kept)"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("`snapshot_hash` changed: a new run is submitted"),
        "{plan}"
    );
    assert!(plan.contains("# forces a new run"), "{plan}");
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    assert!(!plan.contains("azureml_environment.python will"), "{plan}");
    assert!(!plan.contains("azureml_compute_cluster.cpu will"), "{plan}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_changed_file_submits_one_new_run_that_uploads_one_file() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = emulator::EmulatorConfig::new(data.path());
    config.token = Some(TOKEN.to_owned());
    let running = emulator::start(config).await.expect("the emulator starts");
    let certificate = running.ca_certificate().expect("a certificate").to_owned();
    let pem = std::fs::read(&certificate).expect("readable");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
        .build()
        .expect("client");
    let stats = || async {
        http.get(format!(
            "{}/_emulator/stats?api-version=2026-07-01",
            running.url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer")
        .json::<Json>()
        .await
        .expect("JSON")
    };
    let mut work = Workdir::new();
    work.served = Some((running.url().to_owned(), certificate.clone()));

    let first = tokio::task::block_in_place(|| work.expect(&["apply", "--auto-approve"], 0));
    assert!(first.contains("2 uploaded, 0 copied"), "{first}");
    let before = stats().await;
    assert_eq!(before["uploads"]["files"], 2, "{before}");
    let first_job = work.state_objects("azureml_run")[0]["id"].clone();

    let source = std::fs::read_to_string(work.path().join("src/train.py")).expect("read");
    work.write("src/train.py", &format!("{source}print('one more line')\n"));
    let applied = tokio::task::block_in_place(|| work.expect(&["apply", "--auto-approve"], 0));
    assert!(
        applied.contains("azureml_run.train | one more line"),
        "{applied}"
    );
    assert!(
        applied.contains("Resources: 1 added, 0 changed, 0 destroyed"),
        "{applied}"
    );
    let after = stats().await;
    let delta = |field: &str| {
        after["uploads"][field].as_u64().unwrap_or(0)
            - before["uploads"][field].as_u64().unwrap_or(0)
    };
    assert_eq!(delta("files"), 1, "{before} -> {after}");
    assert_eq!(
        delta("copies"),
        1,
        "the unchanged `.amlignore` is copied: {before} -> {after}"
    );

    // The previous run is still in the workspace's history; the state follows the new one.
    let runs = work.state_objects("azureml_run");
    assert_eq!(runs.len(), 1);
    assert_ne!(runs[0]["id"], first_job);
    let jobs: Json = http
        .get(format!(
            "{}{}?api-version=2026-07-01",
            running.url(),
            first_job.as_str().expect("an id")
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jobs["properties"]["status"], "Completed", "{jobs}");

    // Resubmitting the same content reuses the code version: nothing is uploaded.
    tokio::task::block_in_place(|| work.expect(&["plan", "--detailed-exitcode"], 0));
    let replaced = tokio::task::block_in_place(|| {
        work.expect(
            &["apply", "--auto-approve", "--replace", "azureml_run.train"],
            0,
        )
    });
    assert!(replaced.contains("reused from code version"), "{replaced}");
    assert_eq!(stats().await["uploads"]["files"], after["uploads"]["files"]);
    running.shutdown().await;
}

#[test]
fn a_failing_script_fails_apply_with_the_log_tail_and_is_not_resubmitted() {
    let work = Workdir::new();
    work.write(
        "src/train.py",
        "print('loading data')\nraise SystemExit('diverged at epoch 2')\n",
    );
    let failed = work.expect(&["apply", "--auto-approve"], 1);
    assert!(failed.contains("ended `Failed`"), "{failed}");
    assert!(
        failed.contains("last lines of its log:\nloading data\ndiverged at epoch 2"),
        "{failed}"
    );
    let runs = work.state_objects("azureml_run");
    assert_eq!(runs[0]["status"], "Failed", "the failed run is recorded");
    // Not resubmitted: the configuration did not change.
    work.expect(&["plan", "--detailed-exitcode"], 0);
    // A new input is a new run.
    let plan = work.expect(
        &["plan", "--detailed-exitcode", "-var", "learning_rate=0.2"],
        2,
    );
    assert!(
        plan.contains("`inputs` changed: a new run is submitted"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn more_runs_than_nodes_all_complete_one_at_a_time() {
    let work = Workdir::new();
    let config = std::fs::read_to_string(work.path().join("main.tf")).expect("read");
    let config = config
        .replace("max_node_count = 2", "max_node_count = 1")
        .replace(
            "resource \"azureml_run\" \"train\" {\n",
            "resource \"azureml_run\" \"train\" {\n  count = 3\n  tags = { index = count.index }\n",
        )
        .replace("azureml_run.train.status", "azureml_run.train[0].status")
        .replace(
            "azureml_run.train.snapshot_hash",
            "azureml_run.train[0].snapshot_hash",
        );
    std::fs::write(work.path().join("main.tf"), config).expect("write");
    let applied = tokio::task::block_in_place(|| work.expect(&["apply", "--auto-approve"], 0));
    let runs = work.state_objects("azureml_run");
    assert_eq!(runs.len(), 3, "{applied}");
    for run in &runs {
        assert_eq!(run["status"], "Completed", "{run}");
    }
    tokio::task::block_in_place(|| work.expect(&["plan", "--detailed-exitcode"], 0));

    // The limit held: on a 1-node cluster no two runs were running at the same time. Read each
    // job's start and end from the emulator that ran them (its database, served again).
    let mut config = emulator::EmulatorConfig::new(work.path().join(".azureml"));
    config.tls = false;
    config.token = Some(TOKEN.to_owned());
    let running = emulator::start(config)
        .await
        .expect("the emulator starts on the same folder");
    let parse = |text: &Json| {
        time::OffsetDateTime::parse(
            text.as_str().expect("a timestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339")
    };
    let mut spans = Vec::new();
    for run in &runs {
        let id = run["id"].as_str().expect("a job id");
        let job: Json = reqwest::Client::new()
            .get(format!("{}{id}?api-version=2026-07-01", running.url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON");
        let times = &job["properties"]["emulatorRun"];
        spans.push((parse(&times["startTime"]), parse(&times["endTime"])));
    }
    running.shutdown().await;
    spans.sort();
    for pair in spans.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "two runs overlapped on a 1-node cluster: {spans:?}"
        );
    }
}
