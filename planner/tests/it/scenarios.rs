//! `amlplan` end to end: the real binary on copies of `examples/`, against its embedded
//! emulator (a real SQLite file under `.azureml/`), with real state files and locks. After a
//! run, the test opens the same emulator database itself (a served emulator on 127.0.0.1:0) to
//! check what the service saw: duplicate attachments, underlying resources kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

const TOKEN: &str = "scenario-token";

/// A copy of `examples/<name>` in a temporary folder.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn example(name: &str) -> Workdir {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name);
        copy_tf_tree(&source, dir.path());
        Workdir { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `amlplan` in the folder with no terminal on stdin.
    #[track_caller]
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_amlplan"))
            .args(args)
            .current_dir(self.path())
            .env_remove("AZUREML_ENDPOINT")
            .env_remove("AZUREML_TOKEN")
            .env_remove("ARM_SUBSCRIPTION_ID")
            .stdin(Stdio::null())
            .output()
            .expect("amlplan runs")
    }

    /// Runs and requires exit code `code`; returns stderr.
    #[track_caller]
    fn expect_stderr(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(code),
            "`amlplan {}`:\n{stderr}",
            args.join(" ")
        );
        stderr
    }

    /// Runs and requires exit code `code`; returns stdout.
    #[track_caller]
    fn expect(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "`amlplan {}` exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" "),
            output.status.code()
        );
        stdout
    }

    fn state(&self) -> String {
        std::fs::read_to_string(self.path().join("terraform.tfstate")).expect("a state file")
    }

    fn data_dir(&self) -> PathBuf {
        self.path().join(".azureml")
    }
}

/// Copies the `.tf` files of `from` and of its sub-folders (modules) to `to`.
fn copy_tf_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("example folder") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() && !path.ends_with(".azureml") && !path.ends_with(".terraform") {
            std::fs::create_dir_all(&target).expect("folder");
            copy_tf_tree(&path, &target);
        } else if path.extension().is_some_and(|ext| ext == "tf") {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// Serves the embedded emulator's database after amlplan exited, and GETs `path`.
async fn emulator_get(data_dir: &Path, path: &str) -> (u16, Json) {
    let mut config = emulator::EmulatorConfig::new(data_dir);
    config.tls = false;
    config.token = Some(TOKEN.to_owned());
    let running = emulator::start(config)
        .await
        .expect("the emulator starts on the same folder");
    let separator = if path.contains('?') { '&' } else { '?' };
    let url = format!("{}{path}{separator}api-version=2026-07-01", running.url());
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("the emulator answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Json::Null);
    running.shutdown().await;
    (status, body)
}

const DEMO_RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg";

#[test]
fn quickstart_applies_then_plans_empty_and_scales_in_place() {
    let work = Workdir::example("quickstart");
    let applied = work.expect(&["apply", "-auto-approve"], 0);
    let first_line = applied.lines().next().expect("output");
    assert!(
        first_line.starts_with("Target: embedded emulator (")
            && first_line.ends_with(".azureml/emulator.db)"),
        "{first_line}"
    );
    assert!(
        applied.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    work.expect(&["plan", "-detailed-exitcode"], 0);

    let plan = work.expect(&["plan", "--detailed-exitcode", "--var", "max_nodes=8"], 2);
    assert!(
        plan.contains("azureml_compute_cluster.cpu will be updated in place (PATCH)"),
        "{plan}"
    );
    assert!(
        plan.contains("max_node_count") && plan.contains("4 -> 8"),
        "{plan}"
    );
    let json = work.expect(&["plan", "--json", "--var", "max_nodes=8"], 0);
    let json: Json =
        serde_json::from_str(json.lines().last().expect("a JSON line")).expect("plan JSON");
    let actions: Vec<(String, Json)> = json["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|change| {
            (
                change["address"].as_str().unwrap_or_default().to_owned(),
                change["change"]["actions"].clone(),
            )
        })
        .collect();
    assert!(
        actions.contains(&(
            "azureml_compute_cluster.cpu".to_owned(),
            serde_json::json!(["update"])
        )),
        "{actions:?}"
    );

    let applied = work.expect(&["apply", "--auto-approve", "--var", "max_nodes=8"], 0);
    assert!(applied.contains("1 changed"), "{applied}");
    work.expect(&["plan", "--detailed-exitcode", "--var", "max_nodes=8"], 0);
    work.expect(&["drift"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_tls_change_never_attach_twice_and_destroy_keeps_resources() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    let vars = ["--var", "vm_block=renamed", "--var", "tls=Disabled"];
    let plan = work.expect(&[&["plan"][..], &vars].concat(), 0);
    assert!(
        plan.contains(
            "azureml_attached_virtual_machine.original[0] will be detached (resource kept)"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("azureml_inference_cluster.aks must be detached and attached again"),
        "{plan}"
    );

    let applied = work.expect(&[&["apply", "--auto-approve"][..], &vars].concat(), 0);
    // The detach of each resource is reported complete before its new attachment starts.
    let position = |needle: &str| {
        applied
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{applied}"))
    };
    assert!(
        position("azureml_attached_virtual_machine.original[0]: Detach complete")
            < position("azureml_attached_virtual_machine.renamed[0]: Attaching...")
    );
    assert!(
        position("azureml_inference_cluster.aks: Detach complete")
            < position("azureml_inference_cluster.aks: Attaching...")
    );
    work.expect(&[&["plan", "--detailed-exitcode"][..], &vars].concat(), 0);

    let destroyed = work.expect(&[&["destroy", "--auto-approve"][..], &vars].concat(), 0);
    assert!(
        destroyed.contains("Destroy complete! Resources: 3 destroyed."),
        "{destroyed}"
    );

    let (_, stats) = emulator_get(&work.data_dir(), "/_emulator/stats").await;
    assert_eq!(stats["duplicate_attachments"], 0, "{stats}");
    for underlying in [
        "/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        "/providers/Microsoft.ContainerService/managedClusters/demo-aks",
    ] {
        let (status, body) =
            emulator_get(&work.data_dir(), &format!("{DEMO_RG}{underlying}")).await;
        assert_eq!(
            status, 200,
            "`{underlying}` must survive detach and destroy: {body}"
        );
    }
}

#[test]
fn secrets_are_digests_in_state_and_hidden_in_plans() {
    let work = Workdir::example("attach-everything");
    let plan = work.expect(&["plan"], 0);
    assert!(plan.contains("(sensitive value)"), "{plan}");
    for secret in [
        "demo-key-for-the-emulator",
        "Demo-Passw0rd!",
        "dapi-demo-token",
    ] {
        assert!(!plan.contains(secret), "the plan shows `{secret}`");
    }
    work.expect(&["apply", "--auto-approve"], 0);
    let state = work.state();
    for secret in [
        "demo-key-for-the-emulator",
        "Demo-Passw0rd!",
        "dapi-demo-token",
    ] {
        assert!(
            !state.contains(secret),
            "the state holds `{secret}` in plaintext"
        );
    }
    assert!(
        state.contains("hmac-sha256:"),
        "secrets are kept as keyed digests"
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);
    // A changed secret is a change (detach, then attach again), found through the digest.
    let plan = work.expect(
        &[
            "plan",
            "--detailed-exitcode",
            "--var",
            "databricks_access_token=dapi-rotated",
        ],
        2,
    );
    assert!(
        plan.contains("azureml_attached_databricks.dbx must be detached and attached again"),
        "{plan}"
    );
    assert!(!plan.contains("dapi-rotated"), "{plan}");
}

#[test]
fn a_failed_apply_keeps_what_finished_and_the_next_apply_converges() {
    let work = Workdir::example("quickstart");
    // A VM size only the service knows it does not offer: the workspace is created, the
    // instance fails.
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let instance = "vm_size                   = \"STANDARD_DS3_V2\"";
    assert!(text.contains(instance), "the quickstart's instance size");
    std::fs::write(
        &main,
        text.replace(instance, "vm_size                   = \"STANDARD_NOPE_V9\""),
    )
    .expect("write");
    let output = work.run(&["apply", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("azureml_compute_instance.dev") && stderr.contains("STANDARD_NOPE_V9"),
        "{stderr}"
    );
    let listed = work.expect(&["state", "list"], 0);
    assert!(listed.contains("azureml_workspace.main"), "{listed}");
    assert!(!listed.contains("azureml_compute_instance.dev"), "{listed}");
    std::fs::write(&main, text).expect("write");
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(applied.contains("Resources: 1 added"), "{applied}");
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn a_held_state_lock_fails_fast_and_names_its_holder() {
    let work = Workdir::example("quickstart");
    let options = engine::state::lock::LockOptions {
        operation: "apply".to_owned(),
        version: "the test".to_owned(),
        timeout: std::time::Duration::ZERO,
    };
    let held = engine::state::StateStore::open(&work.path().join("terraform.tfstate"), &options)
        .expect("the test takes the lock");
    let output = work.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is locked by") && stderr.contains("apply"),
        "{stderr}"
    );
    drop(held);
    work.expect(&["plan"], 0);
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let work = Workdir::example("quickstart");
    let output = work.run(&["apply"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--auto-approve"), "{stderr}");
    assert!(
        !work.path().join("terraform.tfstate").exists()
            || !work.state().contains("azureml_workspace")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_exits_2_after_an_out_of_band_change() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["drift"], 0);
    // Out of band: stop the compute instance through the API.
    let mut config = emulator::EmulatorConfig::new(work.data_dir());
    config.tls = false;
    config.token = Some(TOKEN.to_owned());
    let running = emulator::start(config).await.expect("the emulator starts");
    let url = format!(
        "{}{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/quickstart-mlw/computes/quickstart-dev/stop?api-version=2026-07-01",
        running.url()
    );
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer");
    assert!(response.status().is_success(), "{}", response.status());
    running.shutdown().await;
    let drift = work.expect(&["drift"], 2);
    assert!(drift.contains("azureml_compute_instance.dev"), "{drift}");
    // Apply converges back to the configuration (start again).
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn an_attachment_under_another_name_is_refused_at_plan_time() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(
        &[
            "state",
            "rm",
            "azureml_attached_virtual_machine.original[0]",
        ],
        0,
    );
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(&main, text.replace("\"train-vm\"", "\"train-vm-other\"")).expect("write");
    let output = work.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Resource already attached under another name")
            && stderr.contains("amlplan import"),
        "{stderr}"
    );
    assert!(
        stderr.contains("main.tf:"),
        "the error points at the configuration: {stderr}"
    );
}

#[test]
fn import_then_plan_is_empty() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    let id = format!(
        "{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/reattach-mlw/computes/train-vm"
    );
    work.expect(
        &[
            "state",
            "rm",
            "azureml_attached_virtual_machine.original[0]",
        ],
        0,
    );
    // Without the state entry the attachment under the configured name is adopted (what an
    // interrupted apply leaves), with a warning that offers import.
    let output = work.run(&["plan"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Existing attachment adopted") && stderr.contains("amlplan import"),
        "{stderr}"
    );
    let imported = work.expect(
        &[
            "import",
            "azureml_attached_virtual_machine.original[0]",
            &id,
        ],
        0,
    );
    assert!(imported.contains("Import complete"), "{imported}");
    // The SSH key is write-only: after import amlplan cannot know it, so the first plan
    // re-attaches to send it; apply, and plan is empty.
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn data_sources_read_existing_objects_at_plan_time() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    std::fs::write(
        work.path().join("lookup.tf"),
        r#"
data "azureml_workspace" "existing" {
  name                = "quickstart-mlw"
  resource_group_name = "demo-rg"
}

data "azureml_environment" "sklearn" {
  name         = "AzureML-sklearn-1.5"
  version      = "1"
  workspace_id = data.azureml_workspace.existing.id
}

resource "azureml_compute_cluster" "looked_up" {
  name           = "lookup-cluster"
  workspace_id   = data.azureml_workspace.existing.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1
}

output "existing_location" {
  value = data.azureml_workspace.existing.location
}

output "curated_image" {
  value = data.azureml_environment.sklearn.image
}
"#,
    )
    .expect("lookup.tf");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("azureml_compute_cluster.looked_up will be created"),
        "{plan}"
    );
    // The workspace id came from the data source: it is known in the plan.
    assert!(plan.contains("/workspaces/quickstart-mlw\""), "{plan}");
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("existing_location = \"westeurope\""),
        "{applied}"
    );
    assert!(applied.contains("curated_image = \""), "{applied}");
    work.expect(&["plan", "--detailed-exitcode"], 0);

    // A data source for an object that does not exist fails the plan, naming it.
    std::fs::write(
        work.path().join("missing.tf"),
        "data \"azureml_workspace\" \"missing\" {\n  name                = \"no-such-mlw\"\n  resource_group_name = \"demo-rg\"\n}\n",
    )
    .expect("missing.tf");
    let output = work.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("data.azureml_workspace.missing") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

/// `main.tf` with the cluster block's first line followed by `line`.
fn with_cluster_line(work: &Workdir, line: &str) {
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let block = "resource \"azureml_compute_cluster\" \"cpu\" {\n";
    assert!(text.contains(block), "the quickstart's cluster");
    let reference = if line.contains("count") {
        "cpu[0].id"
    } else {
        "cpu.id"
    };
    let text = text
        .replace("  count = 1\n", "")
        .replace(block, &format!("{block}{line}"))
        .replace(
            "azureml_compute_cluster.cpu[0].id",
            "azureml_compute_cluster.cpu.id",
        )
        .replace(
            "azureml_compute_cluster.cpu.id",
            &format!("azureml_compute_cluster.{reference}"),
        );
    std::fs::write(&main, text).expect("write");
}

#[test]
fn adding_or_removing_count_moves_the_object_and_a_key_out_of_place_is_destroyed_first() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);

    // `count = 1`: the object of `cpu` is `cpu[0]`, as Terraform moves it; nothing to do.
    with_cluster_line(&work, "  count = 1\n");
    // A move alone is a change, as in Terraform (exit 2); apply saves it.
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("# azureml_compute_cluster.cpu has moved to azureml_compute_cluster.cpu[0]")
            && plan.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    let json = work.expect(&["plan", "--json"], 0);
    assert!(
        json.contains(r#""address":"azureml_compute_cluster.cpu[0]""#)
            && json.contains(r#""previous_address":"azureml_compute_cluster.cpu""#),
        "{json}"
    );
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("0 added, 0 changed, 0 destroyed"),
        "{applied}"
    );
    let listed = work.expect(&["state", "list"], 0);
    assert!(
        listed.contains("azureml_compute_cluster.cpu[0]\n"),
        "{listed}"
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);

    // The state's instance at index 5 while the block has no count: Terraform destroys it
    // (wrong repetition) and creates `cpu`, the same ARM object: the delete must finish first.
    let state = work
        .state()
        .replace("\"index_key\": 0,", "\"index_key\": 5,");
    std::fs::write(work.path().join("terraform.tfstate"), state).expect("write");
    with_cluster_line(&work, "");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("# azureml_compute_cluster.cpu[5] will be destroyed")
            && plan.contains("(resource does not use count)")
            && plan.contains("# azureml_compute_cluster.cpu will be created"),
        "{plan}"
    );
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("1 added, 0 changed, 1 destroyed"),
        "{applied}"
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn an_inconsistent_state_is_refused_naming_its_entries_and_state_commands_still_read_it() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    let state: Json = serde_json::from_str(&work.state()).expect("state JSON");
    let mut state = state;
    let resources = state["resources"].as_array_mut().expect("resources");
    let cluster = resources
        .iter()
        .find(|resource| resource["type"] == "azureml_compute_cluster")
        .expect("the cluster")
        .clone();
    let mut copy = cluster.clone();
    copy["name"] = "copy".into();
    copy["module"] = "module.team".into();
    resources.push(copy);
    let text = serde_json::to_string_pretty(&state).expect("JSON");
    std::fs::write(work.path().join("terraform.tfstate"), &text).expect("write");

    for command in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["drift"],
        &["show"],
    ] {
        let output = work.run(command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {stderr}");
        assert!(
            stderr.contains("One object recorded twice in state")
                && stderr.contains(
                    "`azureml_compute_cluster.cpu` and `module.team.azureml_compute_cluster.copy` record the same ARM object"
                )
                && stderr.contains("nothing was planned or written"),
            "{command:?}: {stderr}"
        );
    }
    assert_eq!(work.state(), text, "the state is untouched");
    let listed = work.expect(&["state", "list"], 0);
    assert!(listed.contains("azureml_compute_cluster.cpu"), "{listed}");
}

#[test]
fn an_argument_set_from_a_sensitive_variable_is_never_shown() {
    const SECRET: &str = "friendly-but-secret-name";
    let work = Workdir::example("quickstart");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let literal = "friendly_name       = \"Quickstart workspace\"";
    assert!(text.contains(literal), "the quickstart's workspace");
    let text = text.replace(literal, "friendly_name       = var.shown_name")
        + "\nvariable \"shown_name\" {\n  type      = string\n  sensitive = true\n}\n";
    std::fs::write(&main, text).expect("write");
    let var = format!("shown_name={SECRET}");
    let plan = work.expect(&["plan", "--var", &var], 0);
    assert!(
        plan.contains("+ friendly_name           = (sensitive value)"),
        "{plan}"
    );
    let json = work.expect(&["plan", "--json", "--var", &var], 0);
    let applied = work.expect(&["apply", "--auto-approve", "--var", &var], 0);
    for (what, output) in [("plan", &plan), ("plan --json", &json), ("apply", &applied)] {
        assert!(
            !output.contains(SECRET),
            "{what} shows the secret:\n{output}"
        );
    }
    assert!(json.contains(r#""friendly_name":true"#), "{json}");
}

#[test]
fn root_outputs_are_saved_as_terraform_saves_them_and_a_new_one_is_a_change() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    let state: Json = serde_json::from_str(&work.state()).expect("state JSON");
    let cluster_id = format!(
        "{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/quickstart-mlw/computes/cpu-cluster"
    );
    assert_eq!(
        state["outputs"]["cluster_id"],
        serde_json::json!({"type": "string", "value": cluster_id}),
        "{state}"
    );
    assert_eq!(
        work.expect(&["output", "--raw", "cluster_id"], 0),
        cluster_id
    );
    let all = work.expect(&["output"], 0);
    assert!(
        all.contains(&format!("cluster_id = \"{cluster_id}\"\n")),
        "{all}"
    );
    let json: Json =
        serde_json::from_str(&work.expect(&["output", "--json"], 0)).expect("output JSON");
    assert_eq!(json["workspace_id"]["type"], "string");

    // A new output alone is a change (exit 2); apply saves it, sensitive and hidden.
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf")
        + "\noutput \"names\" {\n  value     = [azureml_compute_cluster.cpu.name, \"x\"]\n  sensitive = true\n}\n";
    std::fs::write(&main, text).expect("write");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("Changes to Outputs:\n  + names = (sensitive value)")
            && plan.contains("without changing any real infrastructure"),
        "{plan}"
    );
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(applied.contains("names = <sensitive>"), "{applied}");
    work.expect(&["plan", "--detailed-exitcode"], 0);
    let state: Json = serde_json::from_str(&work.state()).expect("state JSON");
    assert_eq!(
        state["outputs"]["names"],
        serde_json::json!({"sensitive": true, "type": ["tuple", ["string", "string"]], "value": ["cpu-cluster", "x"]})
    );
    assert_eq!(
        work.expect(&["output", "names"], 0),
        "[\n  \"cpu-cluster\",\n  \"x\",\n]\n"
    );
    assert!(work.expect(&["output"], 0).contains("names = <sensitive>"));
    let output = work.run(&["output", "--raw", "names"]);
    assert_eq!(output.status.code(), Some(1));

    work.expect(&["destroy", "--auto-approve"], 0);
    let state: Json = serde_json::from_str(&work.state()).expect("state JSON");
    assert_eq!(state["outputs"], serde_json::json!({}));
}

#[test]
fn workspaces_keep_their_states_where_terraform_keeps_them() {
    let work = Workdir::example("quickstart");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let name = "name                = \"${var.prefix}-mlw\"";
    assert!(text.contains(name), "the quickstart's workspace name");
    std::fs::write(
        &main,
        text.replace(
            name,
            "name                = \"${var.prefix}-${terraform.workspace}\"",
        ),
    )
    .expect("write");
    work.expect(&["apply", "--auto-approve"], 0);
    assert!(work.state().contains("workspaces/quickstart-default"));

    let created = work.expect(&["workspace", "new", "dev"], 0);
    assert!(
        created.starts_with("Created and switched to workspace \"dev\"!"),
        "{created}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join(".terraform/environment")).expect("environment"),
        "dev"
    );
    assert_eq!(
        work.expect(&["workspace", "list"], 0),
        "  default\n* dev\n\n"
    );
    assert_eq!(work.expect(&["workspace", "show"], 0), "dev\n");
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("3 added"),
        "a new workspace starts empty: {applied}"
    );
    let dev_state = std::fs::read_to_string(
        work.path()
            .join("terraform.tfstate.d/dev/terraform.tfstate"),
    )
    .expect("the dev workspace's state");
    assert!(
        dev_state.contains("workspaces/quickstart-dev"),
        "{dev_state}"
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);

    // TF_WORKSPACE overrides the selection, as in Terraform.
    let output = Command::new(env!("CARGO_BIN_EXE_amlplan"))
        .args(["plan", "--detailed-exitcode"])
        .current_dir(work.path())
        .env("TF_WORKSPACE", "default")
        .env_remove("AZUREML_ENDPOINT")
        .output()
        .expect("amlplan runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let refused = work.run(&["workspace", "delete", "dev"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("your active workspace"));
    work.expect(&["workspace", "select", "default"], 0);
    assert!(!work.path().join(".terraform/environment").exists());
    let refused = work.run(&["workspace", "delete", "dev"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not empty"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    work.expect(&["workspace", "delete", "-force", "dev"], 0);
    assert_eq!(work.expect(&["workspace", "list"], 0), "* default\n\n");
    let missing = work.run(&["workspace", "select", "prod"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("doesn't exist"));
}

/// Two entries of other providers as Terraform 1.11 writes them (`terraform_data`'s `output`
/// is of a dynamic type, so it is stored with its type).
const FOREIGN_STATE: &str = r#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 2,
  "lineage": "6c0b9c55-0c2c-4f59-a8d9-2b3f2f0e5f11",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "azurerm_resource_group",
      "name": "shared",
      "provider": "provider[\"registry.terraform.io/hashicorp/azurerm\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shared-rg",
            "location": "westeurope",
            "managed_by": "",
            "name": "shared-rg",
            "tags": {},
            "timeouts": null
          },
          "sensitive_attributes": [],
          "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjAifQ=="
        }
      ]
    },
    {
      "mode": "managed",
      "type": "terraform_data",
      "name": "rg",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "0c7c3f0e-8f5e-4a71-9d59-3c8e0a1b2c3d",
            "input": {"value": "demo-rg", "type": "string"},
            "output": {"value": "demo-rg", "type": "string"},
            "triggers_replace": null
          },
          "sensitive_attributes": []
        }
      ]
    }
  ],
  "check_results": null
}
"#;

#[test]
fn other_providers_objects_are_read_from_the_state_and_written_back_unchanged() {
    let work = Workdir::example("quickstart");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let group = "resource_group_name = \"demo-rg\"";
    assert!(text.contains(group), "the quickstart's resource group");
    let text = text.replace(group, "resource_group_name = terraform_data.rg.output")
        + r#"
provider "azurerm" {
  features {}
}

resource "terraform_data" "rg" {
  input = "demo-rg"
}

resource "azurerm_resource_group" "shared" {
  name     = "shared-rg"
  location = "westeurope"
  lifecycle {
    ignore_changes = [tags]
  }
}

output "shared_group" {
  value = azurerm_resource_group.shared.id
}
"#;
    std::fs::write(&main, text).expect("write");

    // Nothing in the state: the workspace's group is unknown, and applying it is refused.
    let output = work.run(&["plan"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "Note: 2 objects of other providers (azurerm: 1, terraform: 1) are left to Terraform"
        ) && stdout.contains("resource_group_name     = (known after apply)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Depends on objects missing from the state")
            && stderr.contains("`azureml_workspace.main` uses values of `terraform_data.rg`"),
        "{stderr}"
    );
    let output = work.run(&["apply", "--auto-approve"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`azureml_workspace.main` cannot be applied: `resource_group_name` come from `terraform_data.rg`")
            && stderr.contains("run `terraform apply` first"),
        "{stderr}"
    );
    let (_, workspaces) = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(emulator_get(
            &work.data_dir(),
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces",
        ));
    assert_eq!(
        workspaces["value"],
        serde_json::json!([]),
        "nothing was created"
    );

    // Terraform applied its part: amlplan reads it, applies its own, keeps Terraform's.
    std::fs::write(work.path().join("terraform.tfstate"), FOREIGN_STATE).expect("write");
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(applied.contains("3 added"), "{applied}");
    assert!(applied.contains("shared_group = \"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/shared-rg\""), "{applied}");
    let written: Json = serde_json::from_str(&work.state()).expect("state");
    let terraform: Json = serde_json::from_str(FOREIGN_STATE).expect("fixture");
    for entry in terraform["resources"].as_array().expect("resources") {
        assert!(
            written["resources"]
                .as_array()
                .expect("resources")
                .contains(entry),
            "{entry} is kept as Terraform wrote it"
        );
    }
    assert!(work.state().contains("workspaces/quickstart-mlw"));
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

/// `terraform_data.network` of the platform example as Terraform 1.11 writes it.
const PLATFORM_NETWORK: &str = r#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 1,
  "lineage": "0d4f2b8e-6a1c-4c3e-9f5d-7b2a1c0e9d8f",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "terraform_data",
      "name": "network",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "id": "5e1c7a0b-2d3f-4e6a-8b9c-0d1e2f3a4b5c",
            "input": {"value": {"location": "westeurope", "resource_group": "demo-rg"}, "type": ["object", {"location": "string", "resource_group": "string"}]},
            "output": {"value": {"location": "westeurope", "resource_group": "demo-rg"}, "type": ["object", {"location": "string", "resource_group": "string"}]},
            "triggers_replace": null
          },
          "sensitive_attributes": [],
          "dependencies": ["terraform_data.subscription"]
        }
      ]
    },
    {
      "mode": "managed",
      "type": "terraform_data",
      "name": "subscription",
      "provider": "provider[\"terraform.io/builtin/terraform\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {"id": "6f2d8b1c-3e4a-4f7b-9cad-1e2f3a4b5c6d", "input": null, "output": null, "triggers_replace": null},
          "sensitive_attributes": []
        }
      ]
    }
  ]
}
"#;

#[test]
fn modules_are_planned_and_applied_with_terraforms_addresses() {
    let work = Workdir::example("platform");
    std::fs::write(work.path().join("terraform.tfstate"), PLATFORM_NETWORK).expect("write");
    let json = work.expect(&["plan", "--json"], 0);
    let json: Json = serde_json::from_str(json.lines().last().expect("JSON")).expect("plan JSON");
    let changes: Vec<(String, Json, Json)> = json["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            (
                change["address"].as_str().unwrap_or_default().to_owned(),
                change["module_address"].clone(),
                change["change"]["actions"].clone(),
            )
        })
        .collect();
    let create = serde_json::json!(["create"]);
    assert_eq!(
        changes,
        [
            (
                "azureml_compute_instance.shared".to_owned(),
                Json::Null,
                create.clone()
            ),
            (
                "azureml_workspace.main".to_owned(),
                Json::Null,
                create.clone()
            ),
            (
                "azureml_workspace.shared".to_owned(),
                Json::Null,
                create.clone()
            ),
            (
                "module.base_environment.azureml_environment.this".to_owned(),
                "module.base_environment".into(),
                create.clone()
            ),
            (
                "module.team[\"ml\"].azureml_compute_cluster.cpu".to_owned(),
                "module.team[\"ml\"]".into(),
                create.clone()
            ),
            (
                "module.team[\"ml\"].module.environment.azureml_environment.this".to_owned(),
                "module.team[\"ml\"].module.environment".into(),
                create.clone()
            ),
            (
                "module.team[\"vision\"].azureml_compute_cluster.cpu".to_owned(),
                "module.team[\"vision\"]".into(),
                create.clone()
            ),
            (
                "module.team[\"vision\"].module.environment.azureml_environment.this".to_owned(),
                "module.team[\"vision\"].module.environment".into(),
                create
            ),
        ]
    );

    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(applied.contains("8 added"), "{applied}");
    let state: Json = serde_json::from_str(&work.state()).expect("state");
    let modules: Vec<&str> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|resource| resource["module"].as_str())
        .collect();
    assert_eq!(
        modules,
        [
            "module.base_environment",
            "module.team[\"ml\"]",
            "module.team[\"ml\"].module.environment",
            "module.team[\"vision\"]",
            "module.team[\"vision\"].module.environment",
        ],
        "{state}"
    );
    let cluster = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["module"] == "module.team[\"ml\"]")
        .expect("the ml cluster");
    assert_eq!(
        cluster["instances"][0]["dependencies"],
        serde_json::json!([
            "azureml_workspace.main",
            "terraform_data.network",
            "terraform_data.subscription"
        ]),
        "a module's objects depend on what the call's arguments use, and on what that depends \
         on, through other providers' objects too (Terraform records the dependencies \
         transitively)"
    );
    assert!(work.state().contains("\"ml-cpu\""));
    work.expect(&["plan", "--detailed-exitcode"], 0);
    let listed = work.expect(&["state", "list"], 0);
    assert!(
        listed.contains("module.team[\"vision\"].azureml_compute_cluster.cpu\n"),
        "{listed}"
    );
    let output = work.expect(&["output", "--json", "clusters"], 0);
    assert!(output.contains("computes/vision-cpu"), "{output}");

    // One team less: its module instance's objects are destroyed, the others kept.
    let plan = work.expect(
        &[
            "plan",
            "--detailed-exitcode",
            "--var",
            "teams={ml = {max_nodes = 4}}",
        ],
        2,
    );
    assert!(
        plan.contains("# module.team[\"vision\"].azureml_compute_cluster.cpu will be destroyed")
            && plan.contains("Plan: 0 to add, 0 to change, 2 to destroy."),
        "{plan}"
    );

    // A module's own validation is reported in the module's file.
    let output = work.run(&["validate", "--var", "teams={x = {max_nodes = 1}}"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("A team name has at least two letters.")
            && stderr.contains("modules/team/main.tf:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_block_renames_an_attachment_without_detaching_it() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    let main = work.path().join("main.tf");
    // The block is renamed, the compute keeps its name: a move, not a new attachment.
    let text = std::fs::read_to_string(&main)
        .expect("main.tf")
        .replace("\"train-vm-renamed\"", "\"train-vm\"")
        + "\nmoved {\n  from = azureml_attached_virtual_machine.original[0]\n  to   = azureml_attached_virtual_machine.renamed[0]\n}\n";
    std::fs::write(&main, text).expect("write");
    let vars = ["--var", "vm_block=renamed"];
    let plan = work.expect(&[&["plan", "--detailed-exitcode"][..], &vars].concat(), 2);
    assert!(
        plan.contains("# azureml_attached_virtual_machine.original[0] has moved to azureml_attached_virtual_machine.renamed[0]")
            && plan.contains("Plan: 0 to add, 0 to change, 0 to destroy.")
            && !plan.contains("detached"),
        "{plan}"
    );
    let applied = work.expect(&[&["apply", "--auto-approve"][..], &vars].concat(), 0);
    assert!(
        applied.contains("0 added, 0 changed, 0 destroyed") && !applied.contains("Detach"),
        "{applied}"
    );
    let listed = work.expect(&["state", "list"], 0);
    assert!(
        listed.contains("azureml_attached_virtual_machine.renamed[0]\n")
            && !listed.contains("original"),
        "{listed}"
    );
    work.expect(&[&["plan", "--detailed-exitcode"][..], &vars].concat(), 0);
    let (_, stats) = emulator_get(&work.data_dir(), "/_emulator/stats").await;
    assert_eq!(stats["duplicate_attachments"], 0, "{stats}");
    let (status, _) = emulator_get(
        &work.data_dir(),
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/reattach-mlw/computes/train-vm",
    )
    .await;
    assert_eq!(
        status, 200,
        "the attachment is the same compute, never detached"
    );

    // A move between kinds, or to itself, is refused where it is written.
    let text = std::fs::read_to_string(&main).expect("main.tf")
        + "\nmoved {\n  from = azureml_workspace.main\n  to   = azureml_compute_cluster.main\n}\n";
    std::fs::write(&main, text).expect("write");
    let output = work.run(&["validate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Resource type mismatch") && stderr.contains("--> main.tf:"),
        "{stderr}"
    );
}

#[test]
fn a_configuration_in_json_syntax_is_refused_not_ignored() {
    let work = Workdir::example("quickstart");
    std::fs::write(
        work.path().join("extra.tf.json"),
        r#"{"resource": {"azureml_compute_cluster": {"gpu": {"name": "gpu"}}}}"#,
    )
    .expect("write");
    let output = work.run(&["validate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Unsupported configuration file") && stderr.contains("extra.tf.json"),
        "{stderr}"
    );

    // In a module's folder too.
    let work = Workdir::example("platform");
    std::fs::write(work.path().join("modules/team/extra.tf.json"), "{}").expect("write");
    let output = work.run(&["validate"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`modules/team/extra.tf.json` is in Terraform's JSON syntax"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_block_forgets_the_object_and_keeps_it() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let start = text
        .find("resource \"azureml_compute_instance\" \"dev\"")
        .expect("the instance");
    let end = start + text[start..].find("}\n").expect("its end") + 2;
    let without = format!(
        "{}{}removed {{\n  from = azureml_compute_instance.dev\n  lifecycle {{\n    destroy = false\n  }}\n}}\n",
        &text[..start],
        &text[end..]
    );
    std::fs::write(&main, &without).expect("write");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("# azureml_compute_instance.dev will no longer be managed by amlplan")
            && plan.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    let json = work.expect(&["plan", "--json"], 0);
    assert!(json.contains(r#""actions":["forget"]"#), "{json}");
    work.expect(&["apply", "--auto-approve"], 0);
    assert!(!work.state().contains("azureml_compute_instance"));
    work.expect(&["plan", "--detailed-exitcode"], 0);
    let (status, _) = emulator_get(
        &work.data_dir(),
        &format!("{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/quickstart-mlw/computes/quickstart-dev"),
    )
    .await;
    assert_eq!(status, 200, "the instance is kept");

    // A removed block for a resource still declared is refused.
    std::fs::write(
        &main,
        without.replace(
            "azureml_compute_instance.dev",
            "azureml_compute_cluster.cpu",
        ),
    )
    .expect("write");
    let output = work.run(&["validate"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Removed resource still exists"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn an_import_block_adopts_an_existing_object_at_plan_and_apply() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["state", "rm", "azureml_compute_cluster.cpu"], 0);
    let id = format!(
        "{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/quickstart-mlw/computes/cpu-cluster"
    );
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(
        &main,
        format!("{text}\nimport {{\n  to = azureml_compute_cluster.cpu\n  id = \"{id}\"\n}}\n"),
    )
    .expect("write");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("# azureml_compute_cluster.cpu will be imported")
            && plan.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    let json = work.expect(&["plan", "--json"], 0);
    assert!(
        json.contains(&format!(r#""importing":{{"id":"{id}"}}"#)),
        "{json}"
    );
    let applied = work.expect(&["apply", "--auto-approve"], 0);
    assert!(
        applied.contains("0 added, 0 changed, 0 destroyed"),
        "{applied}"
    );
    assert!(
        work.expect(&["state", "list"], 0)
            .contains("azureml_compute_cluster.cpu\n")
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);

    // A target that is not declared, and an object that does not exist.
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(
        &main,
        format!("{text}\nimport {{\n  to = azureml_compute_cluster.gpu\n  id = \"{id}\"\n}}\n"),
    )
    .expect("write");
    let output = work.run(&["validate"]);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("Configuration for import target does not exist"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(
        &main,
        format!(
            "{text}\nimport {{\n  to = azureml_compute_instance.dev\n  id = \"{id}-nope\"\n}}\n"
        ),
    )
    .expect("write");
    work.expect(&["state", "rm", "azureml_compute_instance.dev"], 0);
    let output = work.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("Cannot import non-existent remote object"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn replace_triggered_by_replaces_when_the_trigger_changes() {
    let work = Workdir::example("quickstart");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let cluster = "resource \"azureml_compute_cluster\" \"cpu\" {\n";
    let text = text.replace(
        cluster,
        &format!("{cluster}  lifecycle {{\n    replace_triggered_by = [azureml_workspace.main.friendly_name]\n  }}\n"),
    );
    std::fs::write(&main, &text).expect("write");
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
    // Another attribute of the workspace changes: nothing is triggered.
    std::fs::write(
        &main,
        text.replace("managed = \"amlplan\"", "managed = \"amlplan-2\""),
    )
    .expect("write");
    let plan = work.expect(&["plan"], 0);
    assert!(
        !plan.contains("azureml_compute_cluster.cpu must be replaced"),
        "{plan}"
    );
    // The trigger changes: the cluster is replaced.
    std::fs::write(
        &main,
        text.replace("Quickstart workspace", "Quickstart workspace (renamed)"),
    )
    .expect("write");
    let plan = work.expect(&["plan"], 0);
    assert!(
        plan.contains("azureml_workspace.main will be updated in place")
            && plan.contains("azureml_compute_cluster.cpu must be replaced"),
        "{plan}"
    );
}

#[test]
fn a_moved_block_inside_a_module_moves_every_instance_of_it() {
    let work = Workdir::example("platform");
    std::fs::write(work.path().join("terraform.tfstate"), PLATFORM_NETWORK).expect("write");
    work.expect(&["apply", "--auto-approve"], 0);
    let team = work.path().join("modules/team/main.tf");
    let text = std::fs::read_to_string(&team)
        .expect("the team module")
        .replace(
            "resource \"azureml_compute_cluster\" \"cpu\"",
            "resource \"azureml_compute_cluster\" \"training\"",
        )
        .replace(
            "azureml_compute_cluster.cpu.id",
            "azureml_compute_cluster.training.id",
        )
        + "\nmoved {\n  from = azureml_compute_cluster.cpu\n  to   = azureml_compute_cluster.training\n}\n";
    std::fs::write(&team, text).expect("write");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    for team in ["ml", "vision"] {
        assert!(
            plan.contains(&format!(
                "# module.team[\"{team}\"].azureml_compute_cluster.cpu has moved to module.team[\"{team}\"].azureml_compute_cluster.training"
            )),
            "{plan}"
        );
    }
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn an_import_block_with_for_each_adopts_one_object_per_element() {
    let work = Workdir::example("attach-everything");
    work.expect(&["apply", "--auto-approve"], 0);
    for key in ["batch", "training"] {
        work.expect(
            &[
                "state",
                "rm",
                &format!("azureml_attached_kubernetes.arc[\"{key}\"]"),
            ],
            0,
        );
    }
    let workspace =
        format!("{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/attach-mlw");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(
        &main,
        format!(
            "{text}\nimport {{\n  for_each = {{\n    batch    = \"{workspace}/computes/arc-batch\"\n    training = \"{workspace}/computes/arc-training\"\n  }}\n  to = azureml_attached_kubernetes.arc[each.key]\n  id = each.value\n}}\n"
        ),
    )
    .expect("write");
    let plan = work.expect(&["plan", "--detailed-exitcode"], 2);
    assert!(
        plan.contains("# azureml_attached_kubernetes.arc[\"batch\"] will be imported")
            && plan.contains("# azureml_attached_kubernetes.arc[\"training\"] will be imported")
            && plan.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn a_module_instance_can_be_targeted() {
    let work = Workdir::example("platform");
    std::fs::write(work.path().join("terraform.tfstate"), PLATFORM_NETWORK).expect("write");
    work.expect(&["apply", "--auto-approve"], 0);
    let vars = [
        "--var",
        "teams={ml = {max_nodes = 6}, vision = {max_nodes = 3}}",
    ];
    let plan = work.expect(
        &[&["plan", "--target", "module.team[\"ml\"]"][..], &vars].concat(),
        0,
    );
    assert!(
        plan.contains("# module.team[\"ml\"].azureml_compute_cluster.cpu will be updated in place")
            && !plan.contains("module.team[\"vision\"].azureml_compute_cluster.cpu will")
            && plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{plan}"
    );
    let all = work.expect(
        &[&["plan", "--target", "module.team"][..], &vars].concat(),
        0,
    );
    assert!(
        all.contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{all}"
    );
    let output = work.run(&["plan", "--target", "module.nothing"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn the_state_commands_read_the_local_backends_path() {
    let work = Workdir::example("quickstart");
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(
        &main,
        text.replacen(
            "terraform {\n",
            "terraform {\n  backend \"local\" {\n    path = \"state/quickstart.tfstate\"\n  }\n",
            1,
        ),
    )
    .expect("write");
    std::fs::create_dir(work.path().join("state")).expect("folder");
    work.expect(&["apply", "--auto-approve"], 0);
    assert!(work.path().join("state/quickstart.tfstate").is_file());
    assert!(!work.path().join("terraform.tfstate").exists());
    let listed = work.expect(&["state", "list"], 0);
    assert!(listed.contains("azureml_compute_cluster.cpu"), "{listed}");
    let pulled = work.expect(&["state", "pull"], 0);
    assert!(pulled.contains("\"lineage\""), "{pulled}");
    assert!(
        work.expect(&["output", "--raw", "cluster_id"], 0)
            .ends_with("cpu-cluster")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aliased_provider_configuration_reaches_its_own_subscription() {
    let work = Workdir::example("platform");
    // The shared workspace and the module it passes `azureml.shared` to: the second
    // subscription's part of the platform repository (the rest waits for Terraform's part).
    let applied = work.expect(
        &[
            "apply",
            "--auto-approve",
            "--target",
            "azureml_workspace.shared",
            "--target",
            "module.base_environment",
        ],
        0,
    );
    assert!(
        applied.contains(
            "Target of azureml.shared: embedded emulator (" // the second target line
        ) && applied.contains(", subscription 00000000-0000-0000-0000-000000000001\n"),
        "{applied}"
    );
    assert!(applied.contains("2 added"), "{applied}");
    let shared = |subscription: &str, group: &str| {
        format!(
            "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.MachineLearningServices/workspaces/shared-default"
        )
    };
    let (status, _) = emulator_get(
        &work.data_dir(),
        &shared(emulator::DEMO_OTHER_SUBSCRIPTION, "prod-rg"),
    )
    .await;
    assert_eq!(status, 200, "the workspace is in the second subscription");
    let (status, _) = emulator_get(
        &work.data_dir(),
        &shared(emulator::DEMO_SUBSCRIPTION, "prod-rg"),
    )
    .await;
    assert_eq!(status, 404, "and not in the default one");
    // The state names the configuration as Terraform does, in the module too.
    let state: Json = serde_json::from_str(&work.state()).expect("state JSON");
    let providers: Vec<(&str, &str)> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|resource| {
            (
                resource["type"].as_str().expect("type"),
                resource["provider"].as_str().expect("provider"),
            )
        })
        .collect();
    assert_eq!(
        providers,
        [
            (
                "azureml_workspace",
                "provider[\"azureml.local/azureml/azureml\"].shared"
            ),
            (
                "azureml_environment",
                "provider[\"azureml.local/azureml/azureml\"].shared"
            ),
        ]
    );
    // Refreshed through the same configuration: no object changes (the root outputs that
    // wait for Terraform's part are all the plan has).
    let plan = work.expect(
        &[
            "plan",
            "--target",
            "azureml_workspace.shared",
            "--target",
            "module.base_environment",
        ],
        0,
    );
    assert!(
        !plan.contains(" will be ") && !plan.contains(" must be "),
        "{plan}"
    );

    // A configuration that is gone while the state still holds its objects stops the plan,
    // naming both (nothing is destroyed through another subscription's client).
    let main = work.path().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(&main, "provider \"azureml\" {}\n").expect("write");
    let stderr = work.expect_stderr(&["plan"], 1);
    assert!(
        stderr.contains("the provider configuration `azureml.shared` is not configured"),
        "{stderr}"
    );
    std::fs::write(&main, &text).expect("write");

    // Mistakes are located: an alias no block configures, a module that needs an alias the
    // call does not pass, a module that configures `azureml` itself.
    let typo = text.replace(
        "provider            = azureml.shared",
        "provider            = azureml.sharde",
    );
    std::fs::write(&main, &typo).expect("write");
    let stderr = work.expect_stderr(&["validate"], 1);
    assert!(
        stderr.contains("Provider configuration not present")
            && stderr.contains("no `provider \"azureml\"` block has `alias = \"sharde\"`")
            && stderr.contains("did you mean `shared`?")
            && stderr.contains("main.tf:"),
        "{stderr}"
    );
    std::fs::write(&main, &text).expect("write");
    let environment = work.path().join("modules/environment/main.tf");
    let module = std::fs::read_to_string(&environment).expect("module");
    std::fs::write(
        &environment,
        module.replace(
            "source = \"azureml.local/azureml/azureml\"",
            "source = \"azureml.local/azureml/azureml\"\n      configuration_aliases = [azureml.images]",
        ),
    )
    .expect("write");
    let stderr = work.expect_stderr(&["validate"], 1);
    assert!(
        stderr.contains("Missing provider configuration")
            && stderr.contains("needs `azureml.images`"),
        "{stderr}"
    );
    std::fs::write(
        &environment,
        format!("{module}\nprovider \"azureml\" {{\n  subscription_id = \"x\"\n}}\n"),
    )
    .expect("write");
    let stderr = work.expect_stderr(&["validate"], 1);
    assert!(
        stderr.contains("Provider configuration in a module")
            && stderr.contains("modules/environment/main.tf:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postcondition_unknown_at_plan_time_is_checked_after_apply() {
    let work = Workdir {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    std::fs::write(
        work.path().join("main.tf"),
        r#"resource "azureml_workspace" "main" {
  name                = "checked-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"

  lifecycle {
    postcondition {
      condition     = self.provisioning_state != "Succeeded"
      error_message = "The workspace provisioned as ${self.provisioning_state}."
    }
  }
}

resource "azureml_compute_cluster" "cpu" {
  name           = "cpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1
}

resource "azureml_workspace" "unrelated" {
  name                = "unrelated-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}
"#,
    )
    .expect("write");
    // Unknown until the workspace exists: the plan cannot tell.
    work.expect(&["plan"], 0);
    // One step at a time, so the unrelated workspace comes after the failed postcondition.
    let output = work.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Resource postcondition failed")
            && stdout.contains("The workspace provisioned as Succeeded.")
            && stdout.contains("main.tf:8:23"),
        "{stdout}"
    );
    // The workspace exists and is recorded; what depends on it was not applied.
    let state = work.state();
    assert!(state.contains("checked-ws"), "{state}");
    assert!(!state.contains("azureml_compute_cluster"), "{state}");
    assert!(
        state.contains("unrelated-ws"),
        "what does not depend on the object is applied: {stdout}"
    );
    let (status, _) = emulator_get(
        &work.data_dir(),
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/checked-ws/computes/cpu",
    )
    .await;
    assert_eq!(status, 404, "the cluster waits for a workspace that passes");
    // Known now, so the next plan reports it before anything is sent.
    let stderr = work.expect_stderr(&["plan"], 1);
    assert!(stderr.contains("Resource postcondition failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_blocks_own_data_source_warns_instead_of_failing() {
    let work = Workdir {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let main = |expected: &str| {
        format!(
            r#"resource "azureml_workspace" "main" {{
  name                = "probed-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}}

check "workspace_ready" {{
  data "azureml_workspace" "probe" {{
    name                = "probed-ws"
    resource_group_name = "demo-rg"
  }}

  assert {{
    condition     = data.azureml_workspace.probe.provisioning_state == "{expected}"
    error_message = "The workspace is ${{data.azureml_workspace.probe.provisioning_state}}."
  }}
}}
"#
        )
    };
    std::fs::write(work.path().join("main.tf"), main("Succeeded")).expect("write");
    // Before the workspace exists its probe cannot be read: a warning, not a failed plan.
    let stderr = work.expect_stderr(&["plan"], 0);
    assert!(
        stderr.contains("Check block data source not read")
            && stderr.contains("`data.azureml_workspace.probe` (check `workspace_ready`)")
            && stderr.contains("does not exist"),
        "{stderr}"
    );
    work.expect(&["apply", "--auto-approve"], 0);
    // Read now, and the assertion holds: nothing to say.
    let stderr = work.expect_stderr(&["plan", "--detailed-exitcode"], 0);
    assert!(!stderr.contains("Check block"), "{stderr}");
    // An assertion on it that fails is the check's warning, with the value read.
    std::fs::write(work.path().join("main.tf"), main("Failed")).expect("write");
    let stderr = work.expect_stderr(&["plan", "--detailed-exitcode"], 0);
    assert!(
        stderr.contains("Check block assertion failed")
            && stderr.contains("The workspace is Succeeded."),
        "{stderr}"
    );
    // Outside its check the data source cannot be referenced.
    std::fs::write(
        work.path().join("main.tf"),
        main("Succeeded") + "\noutput \"probe\" {\n  value = data.azureml_workspace.probe.id\n}\n",
    )
    .expect("write");
    let stderr = work.expect_stderr(&["validate"], 1);
    assert!(
        stderr.contains("Reference to scoped resource")
            && stderr.contains("declared in check `workspace_ready`")
            && stderr.contains("main.tf:19:1"),
        "{stderr}"
    );
}

#[test]
fn a_configured_credential_targets_azure_never_the_embedded_emulator() {
    let work = Workdir {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    std::fs::write(
        work.path().join("main.tf"),
        "resource \"azureml_workspace\" \"main\" {\n  name                = \"ws1\"\n  resource_group_name = \"rg\"\n  location            = \"westeurope\"\n}\n",
    )
    .expect("write");
    // A CI job's service principal and no endpoint: Azure, which needs a subscription, and
    // that is known before anything connects.
    let output = Command::new(env!("CARGO_BIN_EXE_amlplan"))
        .arg("plan")
        .current_dir(work.path())
        .env_remove("AZUREML_ENDPOINT")
        .env_remove("AZUREML_TOKEN")
        .env_remove("ARM_SUBSCRIPTION_ID")
        .env("ARM_CLIENT_ID", "00000000-0000-0000-0000-0000000000c1")
        .env("ARM_CLIENT_SECRET", "not-a-real-secret")
        .env("ARM_TENANT_ID", "00000000-0000-0000-0000-0000000000aa")
        .stdin(Stdio::null())
        .output()
        .expect("amlplan runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Missing subscription id")
            && stderr.contains(
                "`https://management.azure.com` (a credential is configured and no `endpoint`)"
            ),
        "{stderr}"
    );
    assert!(
        !work.data_dir().join("emulator.db").exists(),
        "the embedded emulator was not started"
    );
    assert!(!stderr.contains("not-a-real-secret"), "{stderr}");
}
