//! Snapshots of what the real `amlplan` binary prints, on temporary copies of `examples/` with
//! its embedded emulator: the human plan and the `--json` plan (pretty-printed) of each
//! example on an empty state, of a scale change and of a rename + TLS change after an apply,
//! and the rendered diagnostic (file:line:column, source line, caret) of every plan-time
//! error. Temporary paths, ports and the version are filtered out so the snapshots are stable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

/// A temporary configuration folder: a copy of an example, or inline files.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// A copy of the `.tf` files of `examples/<name>`.
    pub fn example(name: &str) -> Workdir {
        let work = Workdir::files(&[]);
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name);
        for entry in std::fs::read_dir(&source).expect("example folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                let file_name = path.file_name().expect("a file name");
                std::fs::copy(&path, work.path().join(file_name)).expect("copy");
            }
        }
        work
    }

    /// A folder holding these files.
    pub fn files(files: &[(&str, &str)]) -> Workdir {
        let work = Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for (name, text) in files {
            work.write(name, text);
        }
        work
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("read")
    }

    /// Replaces `from` (which must occur) by `to` in `file`.
    #[track_caller]
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let text = self.read(file);
        assert!(text.contains(from), "`{from}` is not in {file}");
        self.write(file, &text.replace(from, to));
    }

    pub fn data_dir(&self) -> PathBuf {
        self.path().join(".azureml")
    }

    /// Runs `amlplan` in the folder, with no terminal and no amlplan/Terraform environment.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_amlplan"));
        command.args(args).current_dir(self.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("TF_VAR_") || key.starts_with("AZUREML_") || key.starts_with("ARM_")
            {
                command.env_remove(key);
            }
        }
        command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("amlplan runs")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// Runs and requires exit code `code`; returns stdout.
    #[track_caller]
    pub fn expect(&self, args: &[&str], code: i32) -> String {
        expect_code(&self.run(args), args, code)
    }

    /// Runs, requires exit code 1, and returns stderr.
    #[track_caller]
    pub fn fail(&self, args: &[&str]) -> String {
        let output = self.run(args);
        expect_code(&output, args, 1);
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Insta settings that replace this folder's path by `[DIR]`, loopback ports by `[PORT]`,
    /// generated GUIDs and name suffixes by `[GUID]`/`[SUFFIX]` and amlplan's version by
    /// `[VERSION]`.
    pub fn settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        let mut paths = vec![self.path().to_path_buf()];
        if let Ok(canonical) = self.path().canonicalize() {
            paths.push(canonical);
        }
        for path in paths {
            settings.add_filter(&regex_escape(&path.display().to_string()), "[DIR]");
        }
        settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
        // GUIDs the service generates (a workspace's `workspace_id`); ARM ids keep theirs.
        settings.add_filter(
            r#"(=|:) "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}""#,
            r#"$1 "[GUID]""#,
        );
        // The random suffix of the resources the service provisions with a workspace.
        settings.add_filter(
            r#"/(components|registries|vaults|storageAccounts)/([a-z0-9-]*?)[0-9a-f]{8}""#,
            r#"/$1/$2[SUFFIX]""#,
        );
        settings.add_filter(
            &format!(
                r#""terraform_version": "{}""#,
                regex_escape(env!("CARGO_PKG_VERSION"))
            ),
            r#""terraform_version": "[VERSION]""#,
        );
        settings
    }
}

#[track_caller]
fn expect_code(output: &Output, args: &[&str], code: i32) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "`amlplan {}` exited with {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The JSON document of `plan --json` output (the last line; the first names the target),
/// pretty-printed.
#[track_caller]
pub fn plan_json(stdout: &str) -> Json {
    let line = stdout.lines().last().expect("a JSON line");
    serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"))
}

/// Snapshots the human plan and the JSON plan of `args` (a plan command) as `<name>` and
/// `<name>_json`.
#[track_caller]
fn snapshot_plans(work: &Workdir, name: &str, args: &[&str]) {
    let human = work.expect(args, 0);
    let json = work.expect(&[args, &["--json"]].concat(), 0);
    let json = serde_json::to_string_pretty(&plan_json(&json)).expect("JSON");
    work.settings().bind(|| {
        insta::assert_snapshot!(name.to_owned(), human);
        insta::assert_snapshot!(format!("{name}_json"), json);
    });
}

#[track_caller]
fn snapshot_error(work: &Workdir, name: &str, stderr: &str) {
    work.settings()
        .bind(|| insta::assert_snapshot!(name.to_owned(), stderr));
}

#[test]
fn quickstart_on_an_empty_state() {
    snapshot_plans(
        &Workdir::example("quickstart"),
        "plan_quickstart_create",
        &["plan"],
    );
}

#[test]
fn attach_everything_on_an_empty_state() {
    snapshot_plans(
        &Workdir::example("attach-everything"),
        "plan_attach_everything_create",
        &["plan"],
    );
}

#[test]
fn reattach_on_an_empty_state() {
    snapshot_plans(
        &Workdir::example("reattach"),
        "plan_reattach_create",
        &["plan"],
    );
}

#[test]
fn quickstart_scale_change_after_apply() {
    let work = Workdir::example("quickstart");
    work.expect(&["apply", "--auto-approve"], 0);
    snapshot_plans(
        &work,
        "plan_quickstart_scale",
        &["plan", "--var", "max_nodes=8"],
    );
}

#[test]
fn reattach_rename_and_tls_change_after_apply() {
    let work = Workdir::example("reattach");
    work.expect(&["apply", "--auto-approve"], 0);
    snapshot_plans(
        &work,
        "plan_reattach_rename_tls",
        &["plan", "--var", "vm_block=renamed", "--var", "tls=Disabled"],
    );
}

const VM_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm";

/// A workspace and two blocks attaching the demo VM.
fn two_attachments_of_one_vm() -> String {
    format!(
        r#"resource "azureml_workspace" "main" {{
  name                = "twice-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}}

resource "azureml_attached_virtual_machine" "first" {{
  name           = "vm-first"
  workspace_id   = azureml_workspace.main.id
  resource_id    = "{VM_ID}"
  admin_username = "azureuser"
  ssh_private_key = "key"
}}

resource "azureml_attached_virtual_machine" "second" {{
  name           = "vm-second"
  workspace_id   = azureml_workspace.main.id
  resource_id    = "{VM_ID}"
  admin_username = "azureuser"
  ssh_private_key = "key"
}}
"#
    )
}

#[test]
fn error_two_attachments_of_one_resource_in_an_existing_workspace() {
    let config = two_attachments_of_one_vm();
    let (workspace, _) = config
        .split_once("\n\n")
        .expect("the workspace block first");
    let work = Workdir::files(&[("main.tf", workspace)]);
    work.expect(&["apply", "--auto-approve"], 0);
    work.write("main.tf", &config);
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_attached_twice", &stderr);
}

#[test]
fn error_two_attachments_of_one_resource_in_a_workspace_the_plan_creates() {
    let work = Workdir::files(&[("main.tf", &two_attachments_of_one_vm())]);
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_attached_twice_new_workspace", &stderr);
    // Apply refuses the same way, before attaching anything.
    let output = work.run(&["apply", "--auto-approve"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        work.expect(&["state", "list"], 0),
        "",
        "nothing was applied"
    );
}

#[test]
fn error_an_attachment_under_another_name() {
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
    work.edit("main.tf", "\"train-vm\"", "\"train-vm-other\"");
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_attached_under_another_name", &stderr);
}

#[test]
fn error_an_attach_only_kind_without_its_resource() {
    // The schema makes `resource_id` required, so the configuration check refuses it before
    // the plan's own check (which guards configurations the schema cannot see, e.g. JSON).
    let work = Workdir::files(&[(
        "main.tf",
        r#"resource "azureml_workspace" "main" {
  name                = "kinds-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}

resource "azureml_attached_data_lake_analytics" "adla" {
  name         = "adla"
  workspace_id = azureml_workspace.main.id
  resource_id  = null
}
"#,
    )]);
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_attach_only_without_resource_id", &stderr);
}

#[test]
fn error_a_create_only_kind_given_a_resource() {
    let work = Workdir::files(&[(
        "main.tf",
        &format!(
            r#"resource "azureml_workspace" "main" {{
  name                = "kinds-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}}

resource "azureml_compute_instance" "dev" {{
  name         = "dev"
  workspace_id = azureml_workspace.main.id
  vm_size      = "STANDARD_DS3_V2"
  resource_id  = "{VM_ID}"
}}
"#
        ),
    )]);
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_create_only_with_resource_id", &stderr);
}

#[test]
fn error_create_before_destroy_on_an_attached_kind() {
    let work = Workdir::example("reattach");
    work.edit(
        "main.tf",
        "    leaf_domain_label = var.tls == \"Auto\" ? \"reattach-demo\" : null\n  }\n",
        "    leaf_domain_label = var.tls == \"Auto\" ? \"reattach-demo\" : null\n  }\n  lifecycle {\n    create_before_destroy = true\n  }\n",
    );
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_create_before_destroy_on_attachment", &stderr);
}

#[test]
fn error_prevent_destroy_blocks_destroy() {
    let work = Workdir::example("quickstart");
    work.edit(
        "main.tf",
        "  friendly_name       = \"Quickstart workspace\"\n",
        "  friendly_name       = \"Quickstart workspace\"\n  lifecycle {\n    prevent_destroy = true\n  }\n",
    );
    work.expect(&["apply", "--auto-approve"], 0);
    let stderr = work.fail(&["destroy", "--auto-approve"]);
    snapshot_error(&work, "error_prevent_destroy", &stderr);
    assert_eq!(
        work.expect(&["state", "list"], 0).lines().count(),
        3,
        "nothing was destroyed"
    );
}

#[test]
fn a_resource_of_another_provider_is_left_to_terraform() {
    let work = Workdir::files(&[(
        "main.tf",
        r#"resource "azurerm_resource_group" "rg" {
  count    = 2
  name     = "demo-rg-${count.index}"
  location = "westeurope"
}
"#,
    )]);
    let plan = work.expect(&["plan", "--detailed-exitcode"], 0);
    assert!(
        plan.contains("Note: 2 objects of other providers (azurerm: 2) are left to Terraform")
            && plan.contains("No changes."),
        "{plan}"
    );
}

#[test]
fn error_azure_container_instances_and_batch() {
    let work = Workdir::files(&[(
        "main.tf",
        r#"resource "azureml_container_instance" "aci" {
  name = "aci"
}

resource "azureml_attached_batch" "batch" {
  name = "batch"
}
"#,
    )]);
    let stderr = work.fail(&["plan"]);
    snapshot_error(&work, "error_container_instances_and_batch", &stderr);
}
