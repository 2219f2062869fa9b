//! `amlplan` flags end to end: the real binary on copies of `examples/`, with its embedded
//! emulator. Saved plans (`--out`, `apply FILE`, `show FILE`), `--target`, `--replace`,
//! `--refresh-only`, `--parallelism`, the `state` subcommands, `validate`, the ways to set
//! variables, and Terraform's single-dash spellings.

use std::process::{Command, Stdio};

use serde_json::Value as Json;

use crate::plan_snapshots::{Workdir, plan_json};

const TOKEN: &str = "flags-token";
const DEMO_RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg";

/// `(address, actions)` of every resource change of a `--json` plan.
fn actions(json: &Json) -> Vec<(String, Json)> {
    json["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|change| {
            (
                change["address"].as_str().expect("an address").to_owned(),
                change["change"]["actions"].clone(),
            )
        })
        .collect()
}

/// `(address, actions)` for actions other than no-op.
fn changes(json: &Json) -> Vec<(String, Json)> {
    actions(json)
        .into_iter()
        .filter(|(_, actions)| *actions != serde_json::json!(["no-op"]))
        .collect()
}

fn owned(pairs: &[(&str, Json)]) -> Vec<(String, Json)> {
    pairs
        .iter()
        .map(|(addr, actions)| ((*addr).to_owned(), actions.clone()))
        .collect()
}

/// The value `state show` prints for `attribute` of `addr`.
#[track_caller]
fn state_value(work: &Workdir, addr: &str, attribute: &str) -> String {
    let shown = work.expect(&["state", "show", addr], 0);
    shown
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(" = ")?;
            (name.trim() == attribute).then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no `{attribute}` in:\n{shown}"))
}

#[test]
fn a_saved_plan_is_applied_exactly_and_refused_once_the_configuration_changed() {
    let work = Workdir::example("quickstart");
    let planned = work.expect(&["plan", "--var", "max_nodes=5", "--out", "tfplan"], 0);
    assert!(
        planned.contains("Saved the plan to: tfplan")
            && planned.contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{planned}"
    );
    // The plan's variables come from the plan file, not from this command line.
    let applied = work.expect(&["apply", "tfplan"], 0);
    assert!(
        applied.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    assert_eq!(
        state_value(&work, "azureml_compute_cluster.cpu", "max_node_count"),
        "5"
    );
    work.expect(&["plan", "--detailed-exitcode", "--var", "max_nodes=5"], 0);

    // A plan whose configuration changed before apply is refused before any operation.
    work.expect(&["plan", "--var", "max_nodes=6", "--out", "scale.plan"], 0);
    work.edit("main.tf", "\"PT5M\"", "\"PT9M\"");
    let output = work.run(&["apply", "scale.plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the saved plan `scale.plan` was made from another configuration"),
        "{stderr}"
    );
    assert_eq!(
        state_value(&work, "azureml_compute_cluster.cpu", "max_node_count"),
        "5"
    );
    assert_eq!(
        state_value(
            &work,
            "azureml_compute_cluster.cpu",
            "idle_time_before_scale_down"
        ),
        "\"PT5M\""
    );
}

#[test]
fn a_saved_plan_made_before_another_apply_is_stale() {
    let work = Workdir::example("quickstart");
    work.expect(&["plan", "--out", "old.plan"], 0);
    work.expect(&["apply", "--auto-approve"], 0);
    let output = work.run(&["apply", "old.plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the saved plan `old.plan` is stale") && stderr.contains("amlplan plan"),
        "{stderr}"
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

#[test]
fn show_reads_a_saved_plan_as_text_and_json() {
    let work = Workdir::example("quickstart");
    let planned = work.expect(&["plan", "--out", "tfplan"], 0);
    let shown = work.expect(&["show", "tfplan"], 0);
    assert!(
        shown.contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{shown}"
    );
    assert!(
        shown.contains("# azureml_compute_cluster.cpu will be created"),
        "{shown}"
    );
    // The same plan text as `plan` printed (after its target line, before the save note).
    let body = planned
        .split_once('\n')
        .expect("a target line")
        .1
        .split("\nSaved the plan to:")
        .next()
        .expect("text");
    assert_eq!(shown.trim_end(), body.trim_end());

    let json: Json = serde_json::from_str(work.expect(&["show", "--json", "tfplan"], 0).trim())
        .expect("show --json prints one JSON document");
    assert_eq!(json["format_version"], "1.2");
    let create = serde_json::json!(["create"]);
    assert_eq!(
        actions(&json),
        owned(&[
            ("azureml_compute_cluster.cpu", create.clone()),
            ("azureml_compute_instance.dev", create.clone()),
            ("azureml_workspace.main", create),
        ])
    );
}

#[test]
fn target_plans_only_that_resource_and_its_dependencies() {
    let work = Workdir::example("quickstart");
    let args = ["plan", "--target", "azureml_compute_cluster.cpu"];
    let output = work.run(&args);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{stdout}"
    );
    assert!(!stdout.contains("azureml_compute_instance.dev"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Resource targeting is in effect"),
        "{stderr}"
    );

    let json = plan_json(&work.expect(&[&args[..], &["--json"]].concat(), 0));
    let create = serde_json::json!(["create"]);
    assert_eq!(
        changes(&json),
        owned(&[
            ("azureml_compute_cluster.cpu", create.clone()),
            ("azureml_workspace.main", create),
        ])
    );
    let applied = work.expect(
        &[
            "apply",
            "--auto-approve",
            "-target=azureml_compute_cluster.cpu",
        ],
        0,
    );
    assert!(applied.contains("Resources: 2 added"), "{applied}");
    assert_eq!(
        work.expect(&["state", "list"], 0),
        "azureml_compute_cluster.cpu\nazureml_workspace.main\n"
    );
}

#[test]
fn replace_plans_a_replacement_or_a_detach_then_attach() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    let plan = work.expect(
        &[
            "plan",
            "--replace",
            "azureml_workspace.main",
            "--target",
            "azureml_workspace.main",
        ],
        0,
    );
    assert!(
        plan.contains("azureml_workspace.main must be replaced"),
        "{plan}"
    );
    let json = plan_json(&work.expect(
        &[
            "plan",
            "--json",
            "--replace",
            "azureml_attached_virtual_machine.original[0]",
        ],
        0,
    ));
    assert_eq!(
        changes(&json),
        owned(&[(
            "azureml_attached_virtual_machine.original[0]",
            serde_json::json!(["delete", "create"])
        )])
    );
    let plan = work.expect(
        &[
            "plan",
            "--replace",
            "azureml_attached_virtual_machine.original[0]",
        ],
        0,
    );
    assert!(
        plan.contains(
            "azureml_attached_virtual_machine.original[0] must be detached and attached again"
        ),
        "{plan}"
    );
    let applied = work.expect(
        &[
            "apply",
            "--auto-approve",
            "--replace",
            "azureml_attached_virtual_machine.original[0]",
        ],
        0,
    );
    let position = |needle: &str| {
        applied
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{applied}"))
    };
    assert!(
        position("azureml_attached_virtual_machine.original[0]: Detach complete")
            < position("azureml_attached_virtual_machine.original[0]: Attaching...")
    );
    work.expect(&["plan", "--detailed-exitcode"], 0);
}

/// Stops the quickstart's compute instance out of band, through a served emulator on the
/// embedded database (amlplan is not running).
async fn stop_the_instance(work: &Workdir) {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_only_records_an_out_of_band_change_without_touching_the_cloud() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    stop_the_instance(&work).await;
    work.expect(&["drift"], 2);

    let json = plan_json(&work.expect(&["plan", "--refresh-only", "--json"], 0));
    assert_eq!(changes(&json), Vec::new(), "no change to the cloud: {json}");
    let drifted: Vec<&str> = json["resource_drift"]
        .as_array()
        .expect("resource_drift")
        .iter()
        .map(|change| change["address"].as_str().expect("an address"))
        .collect();
    assert_eq!(drifted, ["azureml_compute_instance.dev"]);
    assert_eq!(
        state_value(&work, "azureml_compute_instance.dev", "current_state"),
        "\"Running\"",
        "plan --refresh-only does not write the state"
    );

    let applied = work.expect(&["apply", "--refresh-only", "--auto-approve"], 0);
    assert!(!applied.contains("Starting..."), "{applied}");
    assert_eq!(
        state_value(&work, "azureml_compute_instance.dev", "current_state"),
        "\"Stopped\""
    );
    work.expect(&["drift"], 0);
    // The configuration still asks for a running instance: a normal plan starts it again.
    work.expect(&["plan", "--detailed-exitcode"], 2);
}

#[test]
fn parallelism_1_still_converges() {
    let work = Workdir::example("attach-everything");
    let applied = work.expect(&["apply", "--auto-approve", "--parallelism", "1"], 0);
    assert!(
        applied.contains("Apply complete! Resources: 9 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    // One operation at a time: every start follows the previous completion.
    let mut running = 0;
    for line in applied.lines() {
        if line.ends_with("...") {
            running += 1;
            assert_eq!(running, 1, "two operations at once:\n{applied}");
        } else if line.contains(" complete after ") {
            running -= 1;
        }
    }
    work.expect(&["plan", "--detailed-exitcode", "-parallelism=1"], 0);
}

#[test]
fn state_show_hides_secrets() {
    let work = Workdir::example("attach-everything");
    work.expect(&["apply", "--auto-approve"], 0);
    for (addr, attribute, secret) in [
        (
            "azureml_attached_databricks.dbx",
            "databricks_access_token",
            "dapi-demo-token",
        ),
        (
            "azureml_attached_hdinsight.hdi",
            "admin_password",
            "Demo-Passw0rd!",
        ),
        (
            "azureml_attached_virtual_machine.ubuntu",
            "ssh_private_key",
            "demo-key-for-the-emulator",
        ),
    ] {
        let shown = work.expect(&["state", "show", addr], 0);
        assert!(shown.starts_with(&format!("# {addr}:\n")), "{shown}");
        assert_eq!(state_value(&work, addr, attribute), "(sensitive value)");
        assert!(
            !shown.contains(secret) && !shown.contains("hmac-sha256:"),
            "{shown}"
        );
    }
    let output = work.run(&["state", "show", "azureml_attached_databricks.missing"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not in the state"));
}

#[test]
fn state_rm_forgets_a_resource_and_the_next_plan_adopts_or_creates_it() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    let removed = work.expect(&["state", "rm", "azureml_compute_cluster.cpu"], 0);
    assert_eq!(
        removed,
        "Removed azureml_compute_cluster.cpu (the object itself is untouched)\n"
    );
    assert_eq!(
        work.expect(&["state", "list"], 0),
        "azureml_compute_instance.dev\nazureml_workspace.main\n"
    );
    let json = plan_json(&work.expect(&["plan", "--json"], 0));
    assert_eq!(
        changes(&json),
        owned(&[("azureml_compute_cluster.cpu", serde_json::json!(["create"]))])
    );
    work.expect(&["apply", "--auto-approve"], 0);
    work.expect(&["plan", "--detailed-exitcode"], 0);
    let output = work.run(&["state", "rm", "azureml_compute_cluster.gone"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn validate_names_file_line_and_column() {
    let work = Workdir::example("quickstart");
    work.edit(
        "main.tf",
        "  max_node_count              =",
        "  max_node_cont               =",
    );
    let line = work
        .read("main.tf")
        .lines()
        .position(|line| line.contains("max_node_cont "))
        .expect("the edited line")
        + 1;
    let output = work.run(&["validate"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: Unsupported argument"), "{stderr}");
    assert!(
        stderr.contains(&format!("--> main.tf:{line}:3")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{line} |   max_node_cont")),
        "{stderr}"
    );
    assert!(stderr.contains("^^^^^^^^^^^^^"), "{stderr}");
    assert!(
        stderr.contains("`max_node_count`"),
        "the closest argument is suggested: {stderr}"
    );

    let good = Workdir::example("quickstart");
    let output = good.run(&["validate"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!good.data_dir().exists(), "validate makes no API call");
}

#[test]
fn variables_come_from_var_files_auto_tfvars_and_the_environment_in_order() {
    let work = Workdir::example("quickstart");
    let planned_max = |args: &[&str], env: &[(&str, &str)]| -> Json {
        let output = work.run_env(&[&["plan", "--json"][..], args].concat(), env);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json = plan_json(&String::from_utf8_lossy(&output.stdout));
        json["resource_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|change| change["address"] == "azureml_compute_cluster.cpu")
            .expect("the cluster")["change"]["after"]["max_node_count"]
            .clone()
    };
    assert_eq!(planned_max(&[], &[]), 4, "the default");
    assert_eq!(planned_max(&[], &[("TF_VAR_max_nodes", "6")]), 6);
    work.write("custom.tfvars", "max_nodes = 7\n");
    assert_eq!(planned_max(&["--var-file", "custom.tfvars"], &[]), 7);
    assert_eq!(planned_max(&["-var-file=custom.tfvars"], &[]), 7);
    work.write("scale.auto.tfvars", "max_nodes = 5\n");
    // Terraform's order: environment, then *.auto.tfvars, then the command line.
    assert_eq!(planned_max(&[], &[("TF_VAR_max_nodes", "6")]), 5);
    assert_eq!(planned_max(&["--var-file", "custom.tfvars"], &[]), 7);
    assert_eq!(
        planned_max(
            &["--var-file", "custom.tfvars", "--var", "max_nodes=9"],
            &[]
        ),
        9
    );
    // A wrong value in a variables file is located there.
    work.write("scale.auto.tfvars", "max_nodes = \"many\"\n");
    let output = work.run(&["plan"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("scale.auto.tfvars:1:"), "{stderr}");
}

#[test]
fn terraform_single_dash_spellings_work_end_to_end() {
    let work = Workdir::example("quickstart");
    let parent = work.path().parent().expect("a parent folder");
    let folder = work.path().file_name().expect("a name").to_string_lossy();
    let run = |args: &[&str]| {
        let chdir = format!("-chdir={folder}");
        Command::new(env!("CARGO_BIN_EXE_amlplan"))
            .arg(&chdir)
            .args(args)
            .current_dir(parent)
            .env_remove("AZUREML_ENDPOINT")
            .env_remove("TF_VAR_max_nodes")
            .stdin(Stdio::null())
            .output()
            .expect("amlplan runs")
    };
    let code = |args: &[&str]| run(args).status.code();
    let applied = run(&["apply", "-auto-approve", "-var", "max_nodes=3"]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let stdout = String::from_utf8_lossy(&applied.stdout);
    assert!(
        stdout.contains("Apply complete! Resources: 3 added"),
        "{stdout}"
    );
    assert!(
        work.path().join("terraform.tfstate").is_file(),
        "-chdir is the configuration folder"
    );
    assert!(
        !parent.join(".azureml").join("emulator.db").exists()
            || !parent.join("terraform.tfstate").exists()
    );
    assert_eq!(
        code(&["plan", "-detailed-exitcode", "-var=max_nodes=3"]),
        Some(0)
    );
    assert_eq!(
        code(&["plan", "-detailed-exitcode", "-var", "max_nodes=4"]),
        Some(2)
    );
    assert_eq!(
        code(&["plan", "-var", "max_nodes=4"]),
        Some(0),
        "without -detailed-exitcode"
    );
    assert_eq!(
        code(&["destroy", "-auto-approve", "-var=max_nodes=3"]),
        Some(0)
    );
    assert_eq!(work.expect(&["state", "list"], 0), "");
}
