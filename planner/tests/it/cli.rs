//! The commands a Terraform user reaches for: `state mv|pull|push`, `force-unlock`,
//! `providers`, `graph` and `fmt`, run as the real `amlplan` binary on temporary folders (the
//! embedded emulator where a project is applied), checking output, exit codes and the files
//! left on disk. Expected outputs were compared with Terraform 1.11.4's where Terraform has
//! the same command.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pretty_assertions::assert_eq;
use serde_json::Value as Json;

/// A temporary configuration folder.
struct Project {
    dir: tempfile::TempDir,
}

/// What one `amlplan` run did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    command: String,
}

impl Run {
    /// Requires exit code `code`; returns the run for its output.
    #[track_caller]
    fn exits(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            Some(code),
            "`amlplan {}`\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let project = Project {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for (name, text) in files {
            project.write(name, text);
        }
        project
    }

    /// A project with the `main.tf` of `examples/<name>`.
    fn from_example(name: &str) -> Project {
        let main = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name)
            .join("main.tf");
        Project::new(&[("main.tf", &std::fs::read_to_string(main).expect("example"))])
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(path, text).expect("write");
    }

    #[track_caller]
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|_| panic!("no `{name}`"))
    }

    /// Takes the state lock in this process, as a running `amlplan apply` holds it.
    fn hold_lock(&self) -> engine::state::StateLock {
        let options = engine::state::lock::LockOptions {
            operation: "apply".to_owned(),
            version: "the test".to_owned(),
            timeout: std::time::Duration::ZERO,
        };
        engine::state::StateLock::acquire(&self.path("terraform.tfstate"), &options)
            .expect("the test takes the lock")
    }

    fn state(&self) -> Json {
        serde_json::from_str(&self.read("terraform.tfstate")).expect("state JSON")
    }

    /// Runs `amlplan ARGS` in the folder, with `input` on standard input (no terminal).
    fn amlplan(&self, args: &[&str], input: &str) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_amlplan"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("AZUREML_ENDPOINT")
            .env_remove("AZUREML_TOKEN")
            .env_remove("ARM_SUBSCRIPTION_ID")
            .env_remove("TF_WORKSPACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("amlplan starts");
        child
            .stdin
            .take()
            .expect("a pipe")
            .write_all(input.as_bytes())
            .expect("stdin");
        let output = child.wait_with_output().expect("amlplan ends");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            command: args.join(" "),
        }
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        self.amlplan(args, "").exits(0).stdout
    }

    /// Runs and requires exit code `code`; returns stderr.
    #[track_caller]
    fn fails(&self, args: &[&str], code: i32) -> String {
        self.amlplan(args, "").exits(code).stderr
    }
}

fn resource_addresses(state: &Json) -> Vec<String> {
    let mut addresses: Vec<String> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .flat_map(|entry| {
            let module = entry["module"]
                .as_str()
                .map(|module| format!("{module}."))
                .unwrap_or_default();
            let base = format!(
                "{module}{}.{}",
                entry["type"].as_str().unwrap_or_default(),
                entry["name"].as_str().unwrap_or_default()
            );
            entry["instances"]
                .as_array()
                .expect("instances")
                .iter()
                .map(move |instance| match &instance["index_key"] {
                    Json::Null => base.clone(),
                    key => format!("{base}[{key}]"),
                })
        })
        .collect();
    addresses.sort();
    addresses
}

const PROVIDER: &str = "provider[\\\"azureml.local/azureml/azureml\\\"]";

/// A state with modules, a counted resource and a recorded dependency.
fn modules_state() -> String {
    format!(
        r#"{{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 5,
  "lineage": "5a0e1c2d-3b4f-4a6b-8c7d-9e0f1a2b3c4d",
  "outputs": {{}},
  "resources": [
    {{"mode": "managed", "type": "azureml_compute_cluster", "name": "cpu", "provider": "{PROVIDER}",
      "instances": [{{"index_key": 0, "schema_version": 0, "attributes": {{"id": "c0"}}}},
                    {{"index_key": 1, "schema_version": 0, "attributes": {{"id": "c1"}}}}]}},
    {{"mode": "managed", "type": "azureml_workspace", "name": "main", "provider": "{PROVIDER}",
      "instances": [{{"schema_version": 0, "attributes": {{"id": "w"}}}}]}},
    {{"module": "module.team[\"ml\"]", "mode": "managed", "type": "azureml_compute_cluster", "name": "cpu", "provider": "{PROVIDER}",
      "instances": [{{"schema_version": 0, "attributes": {{"id": "ml"}}, "dependencies": ["azureml_workspace.main"]}}]}},
    {{"module": "module.team[\"ml\"].module.environment", "mode": "managed", "type": "azureml_environment", "name": "this", "provider": "{PROVIDER}",
      "instances": [{{"schema_version": 0, "attributes": {{"id": "env"}}}}]}},
    {{"module": "module.team[\"vision\"]", "mode": "managed", "type": "azureml_compute_cluster", "name": "cpu", "provider": "{PROVIDER}",
      "instances": [{{"schema_version": 0, "attributes": {{"id": "vision"}}}}]}}
  ]
}}
"#
    )
}

#[test]
fn state_mv_moves_module_instances_whole_resources_and_instances() {
    let project = Project::new(&[("terraform.tfstate", &modules_state())]);
    let before = project.read("terraform.tfstate");

    let moved = project.ok(&[
        "state",
        "mv",
        "-dry-run",
        "module.team[\"ml\"]",
        "module.team[\"research\"]",
    ]);
    assert_eq!(
        moved,
        "Would move \"module.team[\\\"ml\\\"]\" to \"module.team[\\\"research\\\"]\"\n\
         Would move \"module.team[\\\"ml\\\"].module.environment\" to \"module.team[\\\"research\\\"].module.environment\"\n"
    );
    assert_eq!(
        project.read("terraform.tfstate"),
        before,
        "a dry run writes nothing"
    );

    let moved = project.ok(&[
        "state",
        "mv",
        "module.team[\"ml\"]",
        "module.team[\"research\"]",
    ]);
    assert_eq!(
        moved,
        "Move \"module.team[\\\"ml\\\"]\" to \"module.team[\\\"research\\\"]\"\n\
         Move \"module.team[\\\"ml\\\"].module.environment\" to \"module.team[\\\"research\\\"].module.environment\"\n\
         Successfully moved 2 object(s).\n"
    );
    assert_eq!(
        project.read("terraform.tfstate.backup"),
        before,
        "the backup is the previous state"
    );
    let state = project.state();
    assert_eq!(state["serial"], 6);
    assert_eq!(state["lineage"], "5a0e1c2d-3b4f-4a6b-8c7d-9e0f1a2b3c4d");
    assert_eq!(
        resource_addresses(&state),
        [
            "azureml_compute_cluster.cpu[0]",
            "azureml_compute_cluster.cpu[1]",
            "azureml_workspace.main",
            "module.team[\"research\"].azureml_compute_cluster.cpu",
            "module.team[\"research\"].module.environment.azureml_environment.this",
            "module.team[\"vision\"].azureml_compute_cluster.cpu",
        ]
    );

    // A resource with instances moves whole; a resource without key is its instance.
    let moved = project.ok(&[
        "state",
        "mv",
        "azureml_compute_cluster.cpu",
        "azureml_compute_cluster.gpu",
    ]);
    assert_eq!(
        moved,
        "Move \"azureml_compute_cluster.cpu\" to \"azureml_compute_cluster.gpu\"\nSuccessfully moved 1 object(s).\n"
    );
    let moved = project.ok(&[
        "state",
        "mv",
        "azureml_workspace.main",
        "module.shared.azureml_workspace.main",
    ]);
    assert_eq!(
        moved,
        "Move \"azureml_workspace.main\" to \"module.shared.azureml_workspace.main\"\nSuccessfully moved 1 object(s).\n"
    );
    let moved = project.ok(&[
        "state",
        "mv",
        "azureml_compute_cluster.gpu[1]",
        "module.team[\"vision\"].azureml_compute_cluster.extra",
    ]);
    assert_eq!(
        moved,
        "Move \"azureml_compute_cluster.gpu[1]\" to \"module.team[\\\"vision\\\"].azureml_compute_cluster.extra\"\nSuccessfully moved 1 object(s).\n"
    );
    let state = project.state();
    assert_eq!(
        resource_addresses(&state),
        [
            "azureml_compute_cluster.gpu[0]",
            "module.shared.azureml_workspace.main",
            "module.team[\"research\"].azureml_compute_cluster.cpu",
            "module.team[\"research\"].module.environment.azureml_environment.this",
            "module.team[\"vision\"].azureml_compute_cluster.cpu",
            "module.team[\"vision\"].azureml_compute_cluster.extra",
        ]
    );
    let research = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|entry| entry["module"] == "module.team[\"research\"]")
        .expect("the moved module");
    assert_eq!(
        research["instances"][0].get("dependencies"),
        None,
        "a dependency on a moved resource is forgotten, as Terraform does"
    );
    assert_eq!(state["serial"], 9);

    // Refusals change nothing.
    let before = project.read("terraform.tfstate");
    for (args, message) in [
        (
            [
                "azureml_compute_cluster.gpu",
                "azureml_compute_cluster.cpu[0]",
            ],
            "the source is a whole resource (not a resource instance), so the target must also be a whole resource",
        ),
        (
            ["module.team[\"vision\"]", "module.team[\"research\"]"],
            "the destination module `module.team[\"research\"]` already exists",
        ),
        (
            ["module.team[\"vision\"]", "azureml_workspace.main"],
            "the target must also be a module",
        ),
        (
            [
                "azureml_compute_cluster.gpu[0]",
                "module.team[\"vision\"].azureml_compute_cluster.cpu",
            ],
            "there is already a resource instance at that address in the current state",
        ),
        (
            ["azureml_compute_cluster.gpu[0]", "azureml_workspace.other"],
            "resource types don't match",
        ),
        (
            [
                "azureml_compute_cluster.nothing",
                "azureml_compute_cluster.other",
            ],
            "cannot move `azureml_compute_cluster.nothing`: it does not match anything in the current state",
        ),
        (
            ["module.nothing", "module.other"],
            "it does not match anything",
        ),
        (
            ["not an address", "module.other"],
            "`not an address` is not an address",
        ),
    ] {
        let stderr = project.fails(&["state", "mv", args[0], args[1]], 1);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    assert_eq!(project.read("terraform.tfstate"), before);

    let empty = Project::new(&[]);
    let stderr = empty.fails(&["state", "mv", "a.b", "a.c"], 1);
    assert!(stderr.contains("no state file was found"), "{stderr}");
    assert!(!empty.path("terraform.tfstate").exists());
}

#[test]
fn state_mv_of_an_attachment_moves_its_entry_without_detaching_it() {
    let project = Project::from_example("reattach");
    project.ok(&["apply", "-auto-approve"]);
    // The block is renamed, the compute keeps its name: `state mv` instead of a `moved` block.
    let main = project
        .read("main.tf")
        .replace("\"train-vm-renamed\"", "\"train-vm\"");
    project.write("main.tf", &main);
    let vars = ["-var", "vm_block=renamed"];
    let plan = project
        .amlplan(&[&["plan"][..], &vars].concat(), "")
        .exits(0)
        .stdout;
    assert!(
        plan.contains("will be detached"),
        "without the move, a detach: {plan}"
    );

    let before = project.read("terraform.tfstate");
    let serial = project.state()["serial"].as_u64().expect("serial");
    let moved = project.ok(&[
        "state",
        "mv",
        "azureml_attached_virtual_machine.original[0]",
        "azureml_attached_virtual_machine.renamed[0]",
    ]);
    assert_eq!(
        moved,
        "Move \"azureml_attached_virtual_machine.original[0]\" to \"azureml_attached_virtual_machine.renamed[0]\"\nSuccessfully moved 1 object(s).\n"
    );
    assert_eq!(project.read("terraform.tfstate.backup"), before);
    let state = project.state();
    assert_eq!(state["serial"].as_u64(), Some(serial + 1));
    assert!(
        resource_addresses(&state)
            .contains(&"azureml_attached_virtual_machine.renamed[0]".to_owned())
    );
    // The cloud already matches: nothing to detach or attach.
    let plan = project.amlplan(&[&["plan", "-detailed-exitcode"][..], &vars].concat(), "");
    let plan = plan.exits(0).stdout;
    assert!(plan.contains("No changes."), "{plan}");

    // The destination is taken: refused.
    let stderr = project.fails(
        &[
            "state",
            "mv",
            "azureml_attached_virtual_machine.renamed[0]",
            "azureml_attached_virtual_machine.renamed[0]",
        ],
        1,
    );
    assert!(
        stderr.contains("there is already a resource instance"),
        "{stderr}"
    );

    // It takes the state lock.
    let held = project.hold_lock();
    let stderr = project.fails(
        &[
            "state",
            "mv",
            "azureml_inference_cluster.aks",
            "azureml_inference_cluster.scoring",
        ],
        1,
    );
    assert!(stderr.contains("is locked by"), "{stderr}");
    drop(held);
}

/// A state without catalogue objects (those need ids the integrity checks accept).
fn plain_state(lineage: &str, serial: u64, output: &str) -> String {
    format!(
        "{{\"version\":4,\"terraform_version\":\"1.11.4\",\"serial\":{serial},\"lineage\":\"{lineage}\",\"outputs\":{{\"note\":{{\"value\":\"{output}\",\"type\":\"string\"}}}},\"resources\":[]}}\n"
    )
}

#[test]
fn state_pull_prints_the_stored_bytes_and_push_checks_lineage_and_serial() {
    let project = Project::new(&[]);
    assert_eq!(project.ok(&["state", "pull"]), "", "no state, no output");
    let stored = plain_state("lineage-a", 4, "first");
    project.write("terraform.tfstate", &stored);
    assert_eq!(
        project.ok(&["state", "pull"]),
        stored,
        "byte for byte, not rewritten"
    );

    project.write("other.tfstate", &plain_state("lineage-b", 9, "other"));
    let stderr = project.fails(&["state", "push", "other.tfstate"], 1);
    assert!(
        stderr.contains("cannot import state with lineage `lineage-b` over unrelated state with lineage `lineage-a`"),
        "{stderr}"
    );
    project.write("older.tfstate", &plain_state("lineage-a", 3, "older"));
    let stderr = project.fails(&["state", "push", "older.tfstate"], 1);
    assert!(
        stderr.contains("cannot import state with serial 3 over newer state with serial 4"),
        "{stderr}"
    );
    assert_eq!(
        project.read("terraform.tfstate"),
        stored,
        "refused pushes write nothing"
    );

    project.write("newer.tfstate", &plain_state("lineage-a", 7, "newer"));
    assert_eq!(project.ok(&["state", "push", "newer.tfstate"]), "");
    let state = project.state();
    assert_eq!(state["outputs"]["note"]["value"], "newer");
    assert_eq!(state["serial"], 8, "one above the pushed serial");
    assert_eq!(project.read("terraform.tfstate.backup"), stored);
    assert!(!project.path(".terraform.tfstate.lock.info").exists());

    // --force replaces an unrelated or older state; `-` reads standard input.
    let pushed = project
        .amlplan(
            &["state", "push", "-force", "-"],
            &plain_state("lineage-b", 1, "forced"),
        )
        .exits(0);
    assert_eq!(pushed.stdout, "");
    let state = project.state();
    assert_eq!(
        (
            state["lineage"].as_str(),
            state["outputs"]["note"]["value"].as_str()
        ),
        (Some("lineage-b"), Some("forced"))
    );
    assert_eq!(state["serial"], 9);

    let stderr = project
        .amlplan(&["state", "push", "-"], "{ not json")
        .exits(1)
        .stderr;
    assert!(stderr.contains("is not valid state JSON"), "{stderr}");
    let stderr = project.fails(&["state", "push", "missing.tfstate"], 1);
    assert!(
        stderr.contains("failed to read the state `missing.tfstate`"),
        "{stderr}"
    );

    // Into a folder without state: written as it is.
    let fresh = Project::new(&[("in.tfstate", &plain_state("lineage-c", 2, "new"))]);
    fresh.ok(&["state", "push", "in.tfstate"]);
    assert_eq!(fresh.state()["lineage"], "lineage-c");
}

#[test]
fn force_unlock_removes_a_stale_lock_and_never_a_held_one() {
    let project = Project::new(&[("terraform.tfstate", &plain_state("lineage-a", 1, "x"))]);
    let info = project.path(".terraform.tfstate.lock.info");
    let stderr = project.fails(&["force-unlock", "1234"], 1);
    assert!(stderr.contains("is not locked"), "{stderr}");

    // Held by a live process: this test.
    let held = project.hold_lock();
    let id = held.info().id.clone();
    let stderr = project.fails(&["force-unlock", "not-the-id"], 1);
    assert!(
        stderr.contains(&format!(
            "lock ID `not-the-id` does not match existing lock ID `{id}`"
        )),
        "{stderr}"
    );
    let stderr = project.fails(&["force-unlock", &id], 1);
    assert!(
        stderr.contains("the lock is held by a running process")
            && stderr.contains(&format!("ID:        {id}"))
            && stderr.contains("Operation: apply")
            && stderr.contains(&held.info().who),
        "{stderr}"
    );
    assert!(info.exists(), "refused: the lock stays");
    // A live holder's OS locks cannot be broken: `-force` only skips the question.
    let stderr = project.fails(&["force-unlock", "-force", &id], 1);
    assert!(
        stderr.contains("the lock is held by a running process"),
        "{stderr}"
    );
    assert!(info.exists());
    drop(held);

    // Left by a process that is gone: asked on a terminal, removed with --force.
    std::fs::write(
        &info,
        r#"{"ID":"stale-id","Operation":"OperationTypeApply","Info":"","Who":"someone@elsewhere","Version":"1.11.4","Created":"2026-01-01T00:00:00Z","Path":"terraform.tfstate"}"#,
    )
    .expect("write");
    let stderr = project.fails(&["force-unlock", "stale-id"], 1);
    assert!(
        stderr.contains("no terminal to ask for confirmation"),
        "{stderr}"
    );
    assert!(info.exists());
    let unlocked = project.ok(&["force-unlock", "-force", "stale-id"]);
    assert!(
        unlocked.contains("someone@elsewhere, operation OperationTypeApply) is no longer running"),
        "{unlocked}"
    );
    assert!(!info.exists());
    assert_eq!(
        project.state()["serial"],
        1,
        "the state itself is untouched"
    );
}

#[test]
fn providers_prints_each_modules_requirements_and_the_states() {
    let project = Project::new(&[
        (
            "main.tf",
            r#"terraform {
  required_providers {
    azureml = {
      source  = "azureml.local/azureml/azureml"
      version = ">= 0.1, < 2"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 3.0"
    }
  }
}

resource "terraform_data" "network" {}

resource "azureml_workspace" "main" {
  name                = "w"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}

module "team" {
  source       = "./modules/team"
  for_each     = toset(["ml"])
  workspace_id = azureml_workspace.main.id
}
"#,
        ),
        (
            // No `required_providers`: `azureml` is then hashicorp's, as in Terraform.
            "modules/team/main.tf",
            r#"variable "workspace_id" {
  type = string
}

resource "azureml_environment" "this" {
  name         = "env"
  workspace_id = var.workspace_id
  image        = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
}
"#,
        ),
    ]);
    // What `terraform providers` 1.11.4 prints for this configuration (in its map order).
    let tree = "
Providers required by configuration:
.
├── provider[azureml.local/azureml/azureml] >= 0.1.0, < 2.0.0
├── provider[registry.terraform.io/hashicorp/azurerm] ~> 3.0
├── provider[terraform.io/builtin/terraform]
└── module.team
    └── provider[registry.terraform.io/hashicorp/azureml]

";
    assert_eq!(project.ok(&["providers"]), tree);

    project.write("terraform.tfstate", &modules_state().replace(
        "\"resources\": [",
        "\"resources\": [\n    {\"mode\": \"managed\", \"type\": \"terraform_data\", \"name\": \"network\", \"provider\": \"provider[\\\"terraform.io/builtin/terraform\\\"]\", \"instances\": []},",
    ));
    assert_eq!(
        project.ok(&["providers"]),
        format!(
            "{tree}Providers required by state:\n\n    provider[azureml.local/azureml/azureml]\n\n    provider[terraform.io/builtin/terraform]\n\n"
        )
    );

    let broken = Project::new(&[("main.tf", "resource \"azureml_workspace\" {\n")]);
    broken.fails(&["providers"], 1);
}

#[test]
fn graph_draws_the_apply_steps_with_detach_before_attach() {
    let project = Project::from_example("reattach");
    let created = project.ok(&["graph"]);
    assert!(
        created.starts_with("digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n")
            && created.contains("\t\t\"[root] azureml_workspace.main (create)\" [label = \"azureml_workspace.main (create)\", shape = \"box\"]\n")
            && created.contains("\t\t\"[root] azureml_workspace.main (create)\" -> \"[root] azureml_inference_cluster.aks (attach)\"\n")
            && created.ends_with("\t}\n}\n"),
        "only DOT on stdout, no target line: {created}"
    );
    assert!(
        !project.path("terraform.tfstate").exists(),
        "graph applies nothing"
    );

    project.ok(&["apply", "-auto-approve"]);
    let state = project.read("terraform.tfstate");
    let vars = ["-var", "vm_block=renamed", "-var", "tls=Disabled"];
    let graph = project.ok(&[&["graph"][..], &vars].concat());
    assert_eq!(
        graph,
        r#"digraph {
	compound = "true"
	newrank = "true"
	subgraph "root" {
		"[root] azureml_attached_virtual_machine.original[0] (detach)" [label = "azureml_attached_virtual_machine.original[0] (detach)", shape = "box"]
		"[root] azureml_attached_virtual_machine.renamed[0] (attach)" [label = "azureml_attached_virtual_machine.renamed[0] (attach)", shape = "box"]
		"[root] azureml_inference_cluster.aks (attach)" [label = "azureml_inference_cluster.aks (attach)", shape = "box"]
		"[root] azureml_inference_cluster.aks (detach)" [label = "azureml_inference_cluster.aks (detach)", shape = "box"]
		"[root] azureml_attached_virtual_machine.original[0] (detach)" -> "[root] azureml_attached_virtual_machine.renamed[0] (attach)" [label = "detach before attach", style = "bold"]
		"[root] azureml_inference_cluster.aks (detach)" -> "[root] azureml_inference_cluster.aks (attach)" [label = "detach before attach", style = "bold"]
	}
}
"#
    );
    assert_eq!(
        project.read("terraform.tfstate"),
        state,
        "graph writes no state"
    );

    // A saved plan draws the same; -type=plan-destroy draws destroy's steps.
    project.ok(&[&["plan", "-out=change.plan"][..], &vars].concat());
    assert_eq!(project.ok(&["graph", "-plan=change.plan"]), graph);
    let destroy = project.ok(&["graph", "-type=plan-destroy"]);
    assert!(
        destroy.contains("\"[root] azureml_inference_cluster.aks (detach)\" -> \"[root] azureml_workspace.main (destroy)\"\n"),
        "{destroy}"
    );
    let refresh = project.ok(&["graph", "-type=plan-refresh-only"]);
    assert!(
        !refresh.contains("->") && !refresh.contains("[label"),
        "{refresh}"
    );
    let stderr = project.fails(&["graph", "-type=nonsense"], 2);
    assert!(stderr.contains("plan-destroy"), "{stderr}");
}

/// Files as `terraform fmt` finds them: some formatted, some not, some it skips.
fn messy_project() -> Project {
    Project::new(&[
        (
            "main.tf",
            "resource \"azureml_workspace\" \"main\" {\nname=\"a\"\n  location    = \"westeurope\"\n}\n\n# unchanged\nlocals {\n  a = 1\n  b = 2\n  c = 3\n  d = 4\n  e = 5\n  f = 6\n  g = 7\n  h = 8\n}\nvariable \"x\" {\ntype = \"string\"\n}",
        ),
        ("ok.tf", "a = 1\n"),
        ("notes.txt", "x=1\n"),
        ("sub/s.tfvars", "b=2\n"),
        ("sub/.terraform/x.tf", "c=3\n"),
        ("sub/deeper/d.tf", "d=4\n"),
    ])
}

#[test]
fn fmt_lists_writes_checks_and_diffs_as_terraform_fmt_does() {
    let project = messy_project();
    let originals: Vec<(&str, String)> = [
        "main.tf",
        "sub/s.tfvars",
        "sub/deeper/d.tf",
        "sub/.terraform/x.tf",
    ]
    .into_iter()
    .map(|name| (name, project.read(name)))
    .collect();
    let unchanged = |project: &Project| {
        for (name, text) in &originals {
            assert_eq!(&project.read(name), text, "{name}");
        }
    };

    assert_eq!(
        project.amlplan(&["fmt", "-check"], "").exits(3).stdout,
        "main.tf\n"
    );
    assert_eq!(
        project
            .amlplan(&["fmt", "-check", "-list=false"], "")
            .exits(3)
            .stdout,
        ""
    );
    // Terraform 1.11.4's output (its `diff -u`), byte for byte.
    let diff = project
        .amlplan(&["fmt", "-check", "-diff", "-recursive"], "")
        .exits(3)
        .stdout;
    assert_eq!(
        diff,
        r#"main.tf
--- old/main.tf
+++ new/main.tf
@@ -1,6 +1,6 @@
 resource "azureml_workspace" "main" {
-name="a"
-  location    = "westeurope"
+  name     = "a"
+  location = "westeurope"
 }
 
 # unchanged
@@ -15,5 +15,5 @@
   h = 8
 }
 variable "x" {
-type = "string"
+  type = string
 }
\ No newline at end of file
sub/deeper/d.tf
--- old/sub/deeper/d.tf
+++ new/sub/deeper/d.tf
@@ -1 +1 @@
-d=4
+d = 4
sub/s.tfvars
--- old/sub/s.tfvars
+++ new/sub/s.tfvars
@@ -1 +1 @@
-b=2
+b = 2
"#
    );
    assert_eq!(
        project.ok(&["fmt", "-write=false", "-recursive"]),
        "main.tf\nsub/deeper/d.tf\nsub/s.tfvars\n"
    );
    unchanged(&project);

    // Written back: listed, formatted, `.terraform` and other files left alone.
    assert_eq!(
        project.ok(&["fmt", "-recursive"]),
        "main.tf\nsub/deeper/d.tf\nsub/s.tfvars\n"
    );
    assert_eq!(project.read("sub/s.tfvars"), "b = 2\n");
    assert_eq!(project.read("sub/.terraform/x.tf"), "c=3\n");
    assert_eq!(project.read("notes.txt"), "x=1\n");
    assert!(
        project.read("main.tf").ends_with("  type = string\n}"),
        "no line end added"
    );
    assert_eq!(
        project
            .amlplan(&["fmt", "-check", "-recursive"], "")
            .exits(0)
            .stdout,
        ""
    );
    assert_eq!(project.ok(&["fmt", "-recursive"]), "");

    // Named files and folders; --chdir as Terraform's -chdir.
    let project = messy_project();
    assert_eq!(
        project.ok(&["fmt", "-write=false", "sub", "sub/deeper/d.tf"]),
        "sub/s.tfvars\nsub/deeper/d.tf\n"
    );
    let outside = Project::new(&[]);
    let dir = project
        .dir
        .path()
        .to_str()
        .expect("a UTF-8 path")
        .to_owned();
    assert_eq!(
        outside.ok(&[&format!("-chdir={dir}"), "fmt", "-write=false"]),
        "main.tf\n"
    );
    unchanged(&project);
}

#[test]
fn fmt_reads_standard_input_and_refuses_what_does_not_parse() {
    let project = messy_project();
    let run = project.amlplan(&["fmt", "-"], "x=1").exits(0);
    assert_eq!(run.stdout, "x = 1\n");
    let run = project.amlplan(&["fmt", "-diff", "-"], "x=1\n").exits(0);
    assert_eq!(
        run.stdout,
        "--- old/<stdin>\n+++ new/<stdin>\n@@ -1 +1 @@\n-x=1\n+x = 1\n"
    );
    assert_eq!(
        project
            .amlplan(&["fmt", "-check", "-"], "x=1\n")
            .exits(3)
            .stdout,
        ""
    );
    assert_eq!(
        project
            .amlplan(&["fmt", "-check", "-"], "x = 1\n")
            .exits(0)
            .stdout,
        ""
    );
    // Printed without listing or writing: the formatted text, one line end at the end.
    assert_eq!(
        project.ok(&["fmt", "-list=false", "-write=false", "ok.tf"]),
        "a = 1\n"
    );

    project.write(
        "broken.tf",
        "resource \"azureml_workspace\" \"w\" {\n  name = \n}\n",
    );
    let run = project.amlplan(&["fmt"], "").exits(2);
    assert!(
        run.stderr.contains("error: Invalid HCL syntax") && run.stderr.contains("--> broken.tf:2:"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stdout, "main.tf\n",
        "the other files are still formatted"
    );
    assert_eq!(
        project.read("broken.tf"),
        "resource \"azureml_workspace\" \"w\" {\n  name = \n}\n"
    );
    let run = project.amlplan(&["fmt", "-"], "x=").exits(2);
    assert!(run.stderr.contains("--> <stdin>:1:"), "{}", run.stderr);

    let stderr = project.fails(&["fmt", "missing"], 2);
    assert!(
        stderr.contains("there is no file or folder at `missing`"),
        "{stderr}"
    );
    let stderr = project.fails(&["fmt", "notes.txt"], 2);
    assert!(stderr.contains("only .tf, .tfvars"), "{stderr}");
}
