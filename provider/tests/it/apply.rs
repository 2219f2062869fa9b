//! `terraform apply` for real: every terraform binary found runs the examples against the
//! embedded emulator (the provider's default endpoint, on `.azureml/` in the working folder),
//! through the provider binary installed with `dev_overrides`. After an apply the plan is empty;
//! a scale change is an in-place update; destroy detaches attachments and leaves the underlying
//! resources alive, which a fresh emulator on the same data folder confirms over HTTP, with no
//! duplicate attachment ever made.

use std::path::Path;
use std::process::Output;

use engine::api::{ArmClient, ArmId, ClientConfig, Credential};

use crate::terraform::{Workdir, terraform_binaries, workspace_root};

const DEMO_RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg";

/// The example's `main.tf`, as both tools read it.
fn example(name: &str) -> String {
    let path = workspace_root().join("examples").join(name).join("main.tf");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn succeed(workdir: &Workdir, terraform: &Path, version: &str, args: &[&str]) -> String {
    let output = workdir.run(terraform, args);
    let text = text(&output);
    assert!(
        output.status.success(),
        "{version}: terraform {args:?} failed:\n{text}"
    );
    text
}

/// `plan -detailed-exitcode`: 0 no changes, 2 changes.
fn plan_exit(workdir: &Workdir, terraform: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
    all.extend_from_slice(args);
    let output = workdir.run(terraform, &all);
    (output.status.code().unwrap_or(-1), text(&output))
}

/// What a fresh emulator on the working folder's `.azureml/` says: each id's GET body (or
/// `None`), and the `duplicate_attachments` counter.
fn inspect(data_dir: &Path, ids: &[String]) -> (Vec<Option<serde_json::Value>>, i64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let token = "inspect-token".to_owned();
        let mut config = emulator::EmulatorConfig::new(data_dir);
        config.tls = false;
        config.token = Some(token.clone());
        let running = emulator::start(config)
            .await
            .expect("emulator on the data folder");
        let mut client_config = ClientConfig::new(Credential::Static(token.clone()));
        client_config.endpoint = running.url().parse().expect("url");
        let client = ArmClient::new(client_config).expect("client");
        let mut found = Vec::new();
        for id in ids {
            let id = ArmId::parse(id).expect("an ARM id");
            found.push(client.get_resource(&id).await.expect("GET"));
        }
        let stats: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/_emulator/stats", running.url()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON");
        running.shutdown().await;
        let duplicates = stats["duplicate_attachments"]
            .as_i64()
            .expect("duplicate_attachments");
        (found, duplicates)
    })
}

#[test]
fn quickstart_applies_converges_and_scales_in_place() {
    let main_tf = example("quickstart");
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let applied = succeed(
            &workdir,
            &terraform,
            &version,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        );
        assert!(
            applied.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
            "{version}: {applied}"
        );
        assert!(
            workdir.config_dir().join(".azureml/emulator.db").is_file(),
            "{version}: the embedded emulator keeps its database in the working folder"
        );
        let (code, plan) = plan_exit(&workdir, &terraform, &[]);
        assert_eq!(code, 0, "{version}: plan after apply is not empty:\n{plan}");

        let (code, plan) = plan_exit(&workdir, &terraform, &["-var", "max_nodes=8"]);
        assert_eq!(code, 2, "{version}: a scale change plans a change:\n{plan}");
        assert!(
            plan.contains("Plan: 0 to add, 1 to change, 0 to destroy."),
            "{version}: {plan}"
        );
        assert!(
            plan.contains("azureml_compute_cluster.cpu will be updated in-place"),
            "{version}: {plan}"
        );
        assert!(
            plan.contains("max_node_count") && plan.contains("4 -> 8"),
            "{version}: {plan}"
        );
        assert!(!plan.contains("must be replaced"), "{version}: {plan}");

        let scaled = succeed(
            &workdir,
            &terraform,
            &version,
            &[
                "apply",
                "-auto-approve",
                "-no-color",
                "-input=false",
                "-var",
                "max_nodes=8",
            ],
        );
        assert!(
            scaled.contains("Resources: 0 added, 1 changed, 0 destroyed."),
            "{version}: {scaled}"
        );
        let (code, plan) = plan_exit(&workdir, &terraform, &["-var", "max_nodes=8"]);
        assert_eq!(code, 0, "{version}: plan after the scale change:\n{plan}");

        let destroyed = succeed(
            &workdir,
            &terraform,
            &version,
            &[
                "destroy",
                "-auto-approve",
                "-no-color",
                "-input=false",
                "-var",
                "max_nodes=8",
            ],
        );
        assert!(
            destroyed.contains("Resources: 3 destroyed."),
            "{version}: {destroyed}"
        );
        let workspace = format!(
            "{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/quickstart-mlw"
        );
        let (found, _) = inspect(&workdir.config_dir().join(".azureml"), &[workspace]);
        assert_eq!(
            found,
            vec![None],
            "{version}: destroy deletes a created workspace"
        );
    }
}

#[test]
fn attach_everything_converges_and_destroy_keeps_the_underlying_resources() {
    let main_tf = example("attach-everything");
    let underlying: Vec<String> = [
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        "Microsoft.HDInsight/clusters/demo-hdi",
        "Microsoft.Databricks/workspaces/demo-databricks",
        "Microsoft.DataLakeAnalytics/accounts/demo-adla",
        "Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool",
        "Microsoft.Kubernetes/connectedClusters/demo-arc",
        "Microsoft.ContainerService/managedClusters/demo-aks",
    ]
    .iter()
    .map(|path| format!("{DEMO_RG}/providers/{path}"))
    .collect();
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let applied = succeed(
            &workdir,
            &terraform,
            &version,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        );
        assert!(
            applied.contains("Apply complete! Resources: 9 added, 0 changed, 0 destroyed."),
            "{version}: {applied}"
        );
        for secret in [
            "Demo-Passw0rd!",
            "dapi-demo-token",
            "demo-key-for-the-emulator",
        ] {
            assert!(
                !applied.contains(secret),
                "{version}: a secret in the output"
            );
        }
        let (code, plan) = plan_exit(&workdir, &terraform, &[]);
        assert_eq!(code, 0, "{version}: plan after apply is not empty:\n{plan}");

        let destroyed = succeed(
            &workdir,
            &terraform,
            &version,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        );
        assert!(
            destroyed.contains("Resources: 9 destroyed."),
            "{version}: {destroyed}"
        );
        let mut ids = underlying.clone();
        let workspace =
            format!("{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/attach-mlw");
        ids.push(format!("{workspace}/computes/ubuntu-vm"));
        let (found, duplicates) = inspect(&workdir.config_dir().join(".azureml"), &ids);
        for (id, body) in underlying.iter().zip(&found) {
            assert!(body.is_some(), "{version}: `{id}` is gone after destroy");
        }
        assert_eq!(
            found.last(),
            Some(&None),
            "{version}: the attachment is detached"
        );
        assert_eq!(duplicates, 0, "{version}: duplicate attachments");
    }
}

#[test]
fn rename_across_blocks_and_tls_change_converge_without_duplicate_attachments() {
    let main_tf = example("reattach");
    let vm = format!("{DEMO_RG}/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm");
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let apply = |vars: &[&str]| {
            let mut args = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
            args.extend_from_slice(vars);
            succeed(&workdir, &terraform, &version, &args)
        };
        apply(&[]);
        let renamed = apply(&["-var", "vm_block=renamed"]);
        assert!(
            renamed.contains("Resources: 1 added, 0 changed, 1 destroyed."),
            "{version}: {renamed}"
        );
        let (code, plan) = plan_exit(&workdir, &terraform, &["-var", "vm_block=renamed"]);
        assert_eq!(code, 0, "{version}: after the rename:\n{plan}");
        let tls = apply(&["-var", "vm_block=renamed", "-var", "tls=Disabled"]);
        assert!(
            tls.contains("azureml_inference_cluster.aks must be replaced"),
            "{version}: {tls}"
        );
        let (code, plan) = plan_exit(
            &workdir,
            &terraform,
            &["-var", "vm_block=renamed", "-var", "tls=Disabled"],
        );
        assert_eq!(code, 0, "{version}: after the TLS change:\n{plan}");
        let workspace = format!(
            "{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/reattach-mlw"
        );
        let (found, duplicates) = inspect(
            &workdir.config_dir().join(".azureml"),
            &[
                format!("{workspace}/computes/train-vm"),
                format!("{workspace}/computes/train-vm-renamed"),
                vm.clone(),
            ],
        );
        assert!(found[0].is_none(), "{version}: the old attachment is gone");
        let renamed = found[1].as_ref().expect("the renamed attachment");
        assert_eq!(
            renamed["properties"]["provisioningState"], "Succeeded",
            "{version}: {renamed}"
        );
        assert!(found[2].is_some(), "{version}: the VM is alive");
        assert_eq!(duplicates, 0, "{version}: duplicate attachments");
    }
}

#[test]
fn create_before_destroy_on_an_attachment_fails_with_the_guards_message() {
    let vm = format!("{DEMO_RG}/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm");
    let main_tf = |name: &str| {
        format!(
            r#"terraform {{
  required_providers {{
    azureml = {{ source = "{address}" }}
  }}
}}

provider "azureml" {{
  attach_wait_timeout = "3s"
}}

resource "azureml_workspace" "main" {{
  name                = "cbd-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}}

resource "azureml_attached_virtual_machine" "vm" {{
  name            = "{name}"
  workspace_id    = azureml_workspace.main.id
  resource_id     = "{vm}"
  admin_username  = "azureuser"
  ssh_private_key = "demo-key"

  lifecycle {{
    create_before_destroy = true
  }}
}}
"#,
            address = provider::PROVIDER_ADDRESS
        )
    };
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf("vm-a"));
        succeed(
            &workdir,
            &terraform,
            &version,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        );
        std::fs::write(workdir.config_dir().join("main.tf"), main_tf("vm-b")).expect("main.tf");
        let output = workdir.run(
            &terraform,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        );
        let flat = text(&output)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(!output.status.success(), "{version}: {flat}");
        assert!(
            flat.contains("is still attached as `vm-a`"),
            "{version}: {flat}"
        );
        assert!(
            flat.contains("do not use `create_before_destroy` on attached compute"),
            "{version}: {flat}"
        );
        let workspace =
            format!("{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/cbd-mlw");
        let (found, duplicates) = inspect(
            &workdir.config_dir().join(".azureml"),
            &[
                format!("{workspace}/computes/vm-a"),
                format!("{workspace}/computes/vm-b"),
            ],
        );
        assert!(found[0].is_some(), "{version}: the first attachment stays");
        assert!(found[1].is_none(), "{version}: nothing attached twice");
        assert_eq!(duplicates, 0, "{version}: duplicate attachments");
    }
}
