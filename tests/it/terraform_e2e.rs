//! Real terraform and `amlplan` on the same configurations, the same state file and the same
//! emulator served over HTTPS with a token (the provider and `amlplan` both read
//! `AZUREML_ENDPOINT`, `AZUREML_TOKEN`, `AZUREML_CA_CERTIFICATE`, `ARM_SUBSCRIPTION_ID`), for
//! every terraform binary found:
//!
//! | test | shows |
//! |---|---|
//! | offline init | `terraform init` from the filesystem mirror of `scripts/install-provider` with every network call failing, then apply of two examples and an empty `plan -detailed-exitcode` |
//! | parity | the `(address, actions)` of `terraform show -json` of a saved plan equal those of `amlplan plan --json`, for every example on empty state, and after a terraform apply for a scale change |
//! | state interop | `amlplan plan` on the state terraform applied plans the same no-ops as terraform, for every example; |
//! | drift | `amlplan drift` on the state terraform wrote exits 0, then 2 naming the resource after an out-of-band change |
//! | import | `terraform state rm` + `terraform import` of an attached compute, then the plan each version gives |
//! | destroy | every underlying resource alive afterwards, no attachment left, none ever made twice |
//! | training run | `examples/training-run`: the same actions as amlplan on empty state, the run completes, an empty plan, one changed source file plans one replacement of the run (same actions as amlplan) and uploads one file, the old run and environment version are kept, destroy archives the version and keeps the runs |

use std::process::Output;
use std::sync::OnceLock;

use e2e::{Install, Project, ServedEmulator, Terraform, plan_actions, terraform_binaries, text};
use serde_json::Value as Json;

const DEMO_RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg";

fn workspace(name: &str) -> String {
    format!("{DEMO_RG}/providers/Microsoft.MachineLearningServices/workspaces/{name}")
}

/// The underlying resources `examples/attach-everything` attaches.
fn underlying() -> Vec<String> {
    [
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
    .collect()
}

#[track_caller]
fn expect_code(output: &Output, code: i32, what: &str) -> String {
    let all = text(output);
    assert_eq!(output.status.code(), Some(code), "{what}:\n{all}");
    all
}

const APPLY: [&str; 4] = ["apply", "-auto-approve", "-no-color", "-input=false"];

fn apply(project: &Project, terraform: &Terraform, vars: &[&str]) -> String {
    let mut args = APPLY.to_vec();
    args.extend_from_slice(vars);
    let output = project.terraform(terraform, &args);
    expect_code(
        &output,
        0,
        &format!("{}: terraform {args:?}", terraform.version),
    )
}

/// `terraform plan -detailed-exitcode`: the code and the output.
fn plan_exit(project: &Project, terraform: &Terraform, vars: &[&str]) -> (i32, String) {
    let mut args = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
    args.extend_from_slice(vars);
    let output = project.terraform(terraform, &args);
    (output.status.code().unwrap_or(-1), text(&output))
}

/// The actions of terraform's saved plan (`plan -out` + `show -json`, which every version has).
fn terraform_actions(
    project: &Project,
    terraform: &Terraform,
    vars: &[&str],
) -> Vec<(String, Vec<String>)> {
    let mut args = vec!["plan", "-out=e2e.tfplan", "-no-color", "-input=false"];
    args.extend_from_slice(vars);
    let output = project.terraform(terraform, &args);
    expect_code(
        &output,
        0,
        &format!("{}: terraform plan", terraform.version),
    );
    let output = project.terraform(terraform, &["show", "-json", "e2e.tfplan"]);
    expect_code(
        &output,
        0,
        &format!("{}: terraform show", terraform.version),
    );
    std::fs::remove_file(project.config_dir().join("e2e.tfplan")).expect("plan file");
    let json: Json = serde_json::from_slice(&output.stdout).expect("terraform's plan JSON");
    plan_actions(&json)
}

/// The actions of `amlplan plan --json` (`--var` for each `-var`).
fn amlplan_actions(project: &Project, vars: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut args = vec!["plan", "--json"];
    for pair in vars.chunks(2) {
        assert_eq!(pair[0], "-var");
        args.extend_from_slice(&["--var", pair[1]]);
    }
    let output = project.amlplan(&args);
    expect_code(&output, 0, "amlplan plan --json");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line in:\n{stdout}"));
    let json: Json = serde_json::from_str(line).expect("amlplan's plan JSON");
    plan_actions(&json)
}

/// [`Project::example`] plus the example's other files (a run's source folder), which it
/// leaves out.
fn project(example: &str, served: &ServedEmulator, install: Install) -> Project {
    let project = Project::example(example, served, install);
    copy_tree(
        &e2e::workspace_root().join("examples").join(example),
        &project.config_dir(),
    );
    project
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("folder").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let target = to.join(&name);
        if name == ".terraform" || name == ".azureml" || target.exists() {
            continue;
        }
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("folder");
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A filesystem mirror and CLI config written by `scripts/install-provider --dev`, once.
fn mirror() -> &'static std::path::Path {
    static MIRROR: OnceLock<tempfile::TempDir> = OnceLock::new();
    MIRROR
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let mirror = dir.path().join("mirror");
            let rc = dir.path().join("tf.rc");
            let output = std::process::Command::new("bash")
                .arg(e2e::workspace_root().join("scripts/install-provider"))
                .args(["--dev", "--mirror"])
                .arg(&mirror)
                .arg("--cli-config")
                .arg(&rc)
                .env("CARGO", env!("CARGO"))
                .stdin(std::process::Stdio::null())
                .output()
                .expect("install-provider runs");
            let all = expect_code(&output, 0, "scripts/install-provider --dev");
            let installed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            assert!(
                std::path::Path::new(&installed).is_file(),
                "the script prints the installed binary: {all}"
            );
            assert!(
                installed.contains("/azureml.local/azureml/azureml/"),
                "{installed}"
            );
            dir
        })
        .path()
}

#[test]
fn offline_init_from_the_mirror_then_apply_and_an_empty_plan() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        for (example, added) in [("quickstart", 3), ("attach-everything", 9)] {
            let project =
                Project::example(example, &served, Install::CliConfig(mirror().join("tf.rc")));
            // Any network call fails: proxies that refuse connections.
            let output = project.terraform_with(
                &terraform,
                &["init", "-input=false", "-no-color"],
                &[
                    ("HTTPS_PROXY", "http://127.0.0.1:9"),
                    ("HTTP_PROXY", "http://127.0.0.1:9"),
                ],
            );
            let init = expect_code(&output, 0, &format!("{version}: offline init of {example}"));
            assert!(
                init.contains("Installing azureml.local/azureml/azureml v"),
                "{version}: {init}"
            );
            assert!(
                init.contains("Terraform has been successfully initialized!"),
                "{version}: {init}"
            );
            let applied = apply(&project, &terraform, &[]);
            assert!(
                applied.contains(&format!(
                    "Apply complete! Resources: {added} added, 0 changed, 0 destroyed."
                )),
                "{version}: {example}: {applied}"
            );
            let (code, plan) = plan_exit(&project, &terraform, &[]);
            assert_eq!(code, 0, "{version}: {example}: plan after apply:\n{plan}");
        }
        assert!(
            served.get(&workspace("quickstart-mlw")).is_some(),
            "{version}: applied through the served emulator"
        );
        assert!(
            served
                .get(&format!("{}/computes/databricks", workspace("attach-mlw")))
                .is_some(),
            "{version}: attached through the served emulator"
        );
        assert_eq!(served.stats()["duplicate_attachments"], 0, "{version}");
    }
}

#[test]
fn plan_actions_match_amlplan_for_every_example_and_a_scale_change() {
    let examples = examples();
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        for example in &examples {
            let served = ServedEmulator::start();
            let project = project(example, &served, Install::DevOverrides);
            let ours = terraform_actions(&project, &terraform, &[]);
            assert!(!ours.is_empty(), "{version}: {example}: nothing planned");
            assert!(
                ours.iter().all(|(_, actions)| actions == &["create"]),
                "{version}: {example}: {ours:?}"
            );
            assert_eq!(
                ours,
                amlplan_actions(&project, &[]),
                "{version}: {example}: terraform (left) and amlplan (right) differ"
            );
        }

        let served = ServedEmulator::start();
        let project = Project::example("quickstart", &served, Install::DevOverrides);
        apply(&project, &terraform, &[]);
        let unchanged = terraform_actions(&project, &terraform, &[]);
        assert_eq!(
            unchanged,
            amlplan_actions(&project, &[]),
            "{version}: after apply"
        );
        assert!(
            unchanged.iter().all(|(_, actions)| actions == &["no-op"]),
            "{version}: {unchanged:?}"
        );
        let scale = ["-var", "max_nodes=8"];
        let scaled = terraform_actions(&project, &terraform, &scale);
        assert_eq!(
            scaled,
            amlplan_actions(&project, &scale),
            "{version}: scale change"
        );
        let updated: Vec<&str> = scaled
            .iter()
            .filter(|(_, actions)| actions != &["no-op"])
            .map(|(address, _)| address.as_str())
            .collect();
        assert_eq!(
            updated,
            ["azureml_compute_cluster.cpu"],
            "{version}: {scaled:?}"
        );
        assert!(
            scaled.contains(&(
                "azureml_compute_cluster.cpu".to_owned(),
                vec!["update".to_owned()]
            )),
            "{version}: {scaled:?}"
        );
    }
}

fn examples() -> Vec<String> {
    let mut examples: Vec<String> = std::fs::read_dir(e2e::workspace_root().join("examples"))
        .expect("examples")
        .flatten()
        .filter(|entry| entry.path().join("main.tf").is_file())
        // The platform example needs `terraform init` (modules) and Terraform's part applied
        // first; it has its own test.
        .filter(|entry| entry.file_name() != "platform")
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "{examples:?}");
    examples
}

#[test]
fn amlplan_plans_nothing_on_the_state_terraform_applied() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        for example in examples() {
            let served = ServedEmulator::start();
            let project = project(&example, &served, Install::DevOverrides);
            apply(&project, &terraform, &[]);
            let output = project.amlplan(&["drift"]);
            expect_code(&output, 0, &format!("{version}: {example}: amlplan drift"));
            let ours = terraform_actions(&project, &terraform, &[]);
            assert!(
                ours.iter().all(|(_, actions)| actions == &["no-op"]),
                "{version}: {example}: {ours:?}"
            );
            assert_eq!(
                ours,
                amlplan_actions(&project, &[]),
                "{version}: {example}: terraform (left) and amlplan (right) differ on the state terraform wrote"
            );
        }
    }
}

#[test]
fn after_either_tool_applies_the_other_plans_nothing_outputs_included() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        // The examples without secrets: a state's secret digests are keyed per folder, so
        // terraform's provider sees amlplan's digests of attachment secrets as changes (the
        // shared state key is issue "shared state").
        for example in ["quickstart", "training-run"] {
            // amlplan applies, terraform plans: no resource and no output changes.
            let served = ServedEmulator::start();
            let first = project(example, &served, Install::DevOverrides);
            let output = first.amlplan(&["apply", "--auto-approve"]);
            expect_code(&output, 0, &format!("{version}: {example}: amlplan apply"));
            let (code, text) = plan_exit(&first, &terraform, &[]);
            assert_eq!(
                code, 0,
                "{version}: {example}: terraform plan after amlplan apply:\n{text}"
            );

            // terraform applies, amlplan plans nothing (outputs included).
            let served = ServedEmulator::start();
            let second = project(example, &served, Install::DevOverrides);
            apply(&second, &terraform, &[]);
            let output = second.amlplan(&["plan", "--detailed-exitcode"]);
            expect_code(
                &output,
                0,
                &format!("{version}: {example}: amlplan plan after terraform apply"),
            );
        }
    }
}

#[test]
fn a_workspace_amlplan_creates_is_terraforms_and_the_other_way_round() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = project("quickstart", &served, Install::DevOverrides);
        let output = project.amlplan(&["workspace", "new", "dev"]);
        expect_code(&output, 0, &format!("{version}: amlplan workspace new"));
        let output = project.amlplan(&["apply", "--auto-approve"]);
        expect_code(&output, 0, &format!("{version}: amlplan apply in dev"));
        let shown = expect_code(
            &project.terraform(&terraform, &["workspace", "show"]),
            0,
            &format!("{version}: terraform workspace show"),
        );
        assert!(shown.contains("dev"), "{version}: {shown}");
        let (code, text) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: terraform plan in amlplan's dev workspace:\n{text}"
        );

        let output = project.terraform(&terraform, &["workspace", "new", "-no-color", "prod"]);
        expect_code(&output, 0, &format!("{version}: terraform workspace new"));
        let listed = expect_code(
            &project.amlplan(&["workspace", "list"]),
            0,
            "amlplan workspace list",
        );
        assert_eq!(listed, "  default\n  dev\n* prod\n\n", "{version}");
        apply(&project, &terraform, &[]);
        let output = project.amlplan(&["plan", "--detailed-exitcode"]);
        expect_code(
            &output,
            0,
            &format!("{version}: amlplan plan in terraform's prod workspace"),
        );
    }
}

/// The quickstart with its workspace's resource group taken from another provider's object:
/// `terraform_data` (Terraform 1.4 and later), or on older versions a `terraform_remote_state`
/// of a local state file written here; both are Terraform's built-in provider, offline.
fn with_foreign_group(project: &Project, terraform: &Terraform) -> &'static str {
    let main = project.config_dir().join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let group = "resource_group_name = \"demo-rg\"";
    assert!(text.contains(group), "the quickstart's resource group");
    let (reference, block, target) = if terraform.semver >= (1, 4, 0) {
        (
            "terraform_data.rg.output",
            "resource \"terraform_data\" \"rg\" {\n  input = \"demo-rg\"\n}\n",
            "terraform_data.rg",
        )
    } else {
        let network = serde_json::json!({"version": 4, "terraform_version": "1.0.3", "serial": 1,
            "lineage": "net", "outputs": {"rg": {"value": "demo-rg", "type": "string"}}, "resources": []});
        std::fs::write(
            project.config_dir().join("network.tfstate"),
            network.to_string(),
        )
        .expect("write");
        (
            "data.terraform_remote_state.network.outputs.rg",
            "data \"terraform_remote_state\" \"network\" {\n  backend = \"local\"\n  config = {\n    path = \"network.tfstate\"\n  }\n}\n",
            "data.terraform_remote_state.network",
        )
    };
    std::fs::write(
        &main,
        format!(
            "{}\n{block}",
            text.replace(group, &format!("resource_group_name = {reference}"))
        ),
    )
    .expect("write");
    target
}

#[test]
fn other_providers_objects_come_from_terraforms_state_and_stay_terraforms() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = project("quickstart", &served, Install::DevOverrides);
        let foreign = with_foreign_group(&project, &terraform);

        // Before Terraform applied its part, amlplan refuses the workspace, naming it.
        let output = project.amlplan(&["apply", "--auto-approve"]);
        let refused = expect_code(&output, 1, &format!("{version}: amlplan apply first"));
        assert!(
            refused.contains("`azureml_workspace.main` cannot be applied")
                && refused.contains(&format!("`{foreign}`"))
                && refused.contains("run `terraform apply` first"),
            "{version}: {refused}"
        );

        // Terraform applies only its part; amlplan then applies the rest.
        let target = if foreign.starts_with("data.") {
            vec![
                "apply",
                "-refresh-only",
                "-auto-approve",
                "-no-color",
                "-input=false",
            ]
        } else {
            vec![
                "apply",
                "-auto-approve",
                "-no-color",
                "-input=false",
                "-target=terraform_data.rg",
            ]
        };
        expect_code(
            &project.terraform(&terraform, &target),
            0,
            &format!("{version}: terraform {target:?}"),
        );
        let output = project.amlplan(&["apply", "--auto-approve"]);
        let applied = expect_code(&output, 0, &format!("{version}: amlplan apply"));
        assert!(
            applied
                .contains("Note: 1 object of other providers (terraform: 1) is left to Terraform"),
            "{version}: {applied}"
        );
        let (code, text) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: terraform plan after amlplan apply:\n{text}"
        );
        let output = project.amlplan(&["plan", "--detailed-exitcode"]);
        expect_code(&output, 0, &format!("{version}: amlplan plan"));
    }
}

#[test]
fn the_platform_repository_is_planned_alike_and_applied_by_either_tool() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = project(
            "platform",
            &served,
            Install::CliConfig(mirror().join("tf.rc")),
        );
        let output = project.terraform(&terraform, &["init", "-input=false", "-no-color"]);
        if terraform.semver < (1, 7, 0) {
            // The repository is written for 1.7 and later (`terraform_data`, `optional()`
            // defaults, `import` blocks with `for_each`): an older Terraform refuses it at
            // init, before any change.
            let refused = expect_code(&output, 1, &format!("{version}: init"));
            assert!(
                refused.contains("Unsupported Terraform Core version")
                    || refused.contains("Invalid type specification"),
                "{version}: {refused}"
            );
            continue;
        }
        expect_code(&output, 0, &format!("{version}: terraform init"));
        let azureml = |actions: Vec<(String, Vec<String>)>| -> Vec<(String, Vec<String>)> {
            actions
                .into_iter()
                .filter(|(address, _)| !address.contains("terraform_data"))
                .collect()
        };
        // Terraform's part first, then both tools plan the same actions for the rest.
        let target = [
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-target=terraform_data.network",
        ];
        expect_code(
            &project.terraform(&terraform, &target),
            0,
            &format!("{version}: {target:?}"),
        );
        let ours = azureml(terraform_actions(&project, &terraform, &[]));
        assert_eq!(ours.len(), 8, "{version}: {ours:?}");
        assert_eq!(
            ours,
            amlplan_actions(&project, &[]),
            "{version}: terraform (left) and amlplan (right) differ on the platform repository"
        );
        let output = project.amlplan(&["apply", "--auto-approve"]);
        expect_code(&output, 0, &format!("{version}: amlplan apply"));
        let (code, text) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: terraform plan after amlplan apply:\n{text}"
        );
        let output = project.amlplan(&["drift"]);
        expect_code(&output, 0, &format!("{version}: amlplan drift"));
        // The second subscription's objects went through the `azureml.shared` configuration,
        // and the state says so as Terraform writes it.
        let state: Json = serde_json::from_str(
            &std::fs::read_to_string(project.config_dir().join("terraform.tfstate"))
                .expect("state"),
        )
        .expect("state JSON");
        let shared: Vec<&str> = state["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter(|resource| {
                resource["provider"]
                    .as_str()
                    .is_some_and(|provider| provider.ends_with("].shared"))
            })
            .map(|resource| resource["type"].as_str().expect("type"))
            .collect();
        assert_eq!(
            shared,
            ["azureml_workspace", "azureml_environment"],
            "{version}: {state}"
        );
        let in_other_subscription = served
            .get(&format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.MachineLearningServices/workspaces/shared-default",
                emulator::DEMO_OTHER_SUBSCRIPTION,
                emulator::DEMO_OTHER_RESOURCE_GROUP
            ))
            .is_some();
        assert!(in_other_subscription, "{version}: the shared workspace");
        // A cluster made before the repository (outside both tools) is adopted by the
        // `import` block: both tools plan only its import, and after it nothing.
        let workspace = format!(
            "/subscriptions/{}/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/platform-default",
            emulator::DEMO_SUBSCRIPTION
        );
        let (status, body) = served.request(
            "PUT",
            &format!("{workspace}/computes/legacy"),
            Some(&serde_json::json!({
                "location": "westeurope",
                "properties": {
                    "computeType": "AmlCompute",
                    "properties": {
                        "vmSize": "STANDARD_DS3_V2",
                        "scaleSettings": { "minNodeCount": 0, "maxNodeCount": 3 }
                    }
                }
            })),
        );
        assert!(matches!(status, 200 | 201), "{version}: {status} {body}");
        let adopt = [
            "-var",
            "adopted_clusters={legacy = {vm_size = \"STANDARD_DS3_V2\", max_nodes = 3}}",
        ];
        let imports = azureml(terraform_actions(&project, &terraform, &adopt));
        assert_eq!(
            changes(&imports),
            [(
                "azureml_compute_cluster.adopted[\"legacy\"]".to_owned(),
                vec!["no-op".to_owned(), "import".to_owned()]
            )],
            "{version}: {imports:?}"
        );
        assert_eq!(
            imports,
            amlplan_actions(&project, &adopt),
            "{version}: the import block"
        );
        let mut args = vec!["apply", "--auto-approve"];
        args.extend(["--var", adopt[1]]);
        let output = project.amlplan(&args);
        expect_code(
            &output,
            0,
            &format!("{version}: amlplan apply of the import"),
        );
        let (code, text) = plan_exit(&project, &terraform, &adopt);
        assert_eq!(
            code, 0,
            "{version}: terraform plan after amlplan imported:\n{text}"
        );
        // Adopted, then left alone: the rest of the test plans without it.
        let output =
            project.amlplan(&["state", "rm", "azureml_compute_cluster.adopted[\"legacy\"]"]);
        expect_code(&output, 0, &format!("{version}: amlplan state rm"));
        // A refactor: the workspace's block renamed with a `moved` block (after the one the
        // repository has, a chain); both tools plan only the move, and after amlplan applies
        // it terraform plans nothing.
        let main = project.config_dir().join("main.tf");
        let text = std::fs::read_to_string(&main)
            .expect("main.tf")
            .replace(
                "resource \"azureml_workspace\" \"main\"",
                "resource \"azureml_workspace\" \"primary\"",
            )
            .replace("azureml_workspace.main.id", "azureml_workspace.primary.id")
            + "\nmoved {\n  from = azureml_workspace.main\n  to   = azureml_workspace.primary\n}\n";
        std::fs::write(&main, text).expect("write");
        let moved = azureml(terraform_actions(&project, &terraform, &[]));
        assert!(
            moved.iter().all(|(_, actions)| actions == &["no-op"]),
            "{version}: {moved:?}"
        );
        assert_eq!(
            moved,
            amlplan_actions(&project, &[]),
            "{version}: after the moved refactor"
        );
        let output = project.amlplan(&["apply", "--auto-approve"]);
        expect_code(&output, 0, &format!("{version}: amlplan apply of the move"));
        let (code, text) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: terraform plan after amlplan moved:\n{text}"
        );
        // Another workspace: its own state, the workspace name from `terraform.workspace`.
        let output = project.terraform(&terraform, &["workspace", "new", "-no-color", "prod"]);
        expect_code(
            &output,
            0,
            &format!("{version}: terraform workspace new prod"),
        );
        expect_code(
            &project.terraform(&terraform, &target),
            0,
            &format!("{version}: prod {target:?}"),
        );
        let prod = azureml(terraform_actions(&project, &terraform, &[]));
        assert_eq!(prod.len(), 8, "{version}: prod starts empty: {prod:?}");
        assert_eq!(
            prod,
            amlplan_actions(&project, &[]),
            "{version}: the prod workspace"
        );
        let output = project.amlplan(&["apply", "--auto-approve"]);
        let applied = expect_code(&output, 0, &format!("{version}: amlplan apply in prod"));
        assert!(applied.contains("platform-prod"), "{version}: {applied}");
        let (code, text) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: terraform plan in prod after amlplan apply:\n{text}"
        );
        let output =
            project.terraform(&terraform, &["workspace", "select", "-no-color", "default"]);
        expect_code(
            &output,
            0,
            &format!("{version}: terraform workspace select default"),
        );
        // One team less, planned alike; applied by terraform, amlplan then plans nothing.
        let vars = ["-var", "teams={ml = {max_nodes = 4}}"];
        let fewer = changes(&azureml(terraform_actions(&project, &terraform, &vars)));
        assert_eq!(fewer.len(), 2, "{version}: {fewer:?}");
        assert_eq!(
            fewer,
            changes(&amlplan_actions(&project, &vars)),
            "{version}: one team less"
        );
        let mut args = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
        args.extend_from_slice(&vars);
        expect_code(
            &project.terraform(&terraform, &args),
            0,
            &format!("{version}: terraform apply of one team less"),
        );
        let output = project.amlplan(&["plan", "--detailed-exitcode", "--var", vars[1]]);
        expect_code(
            &output,
            0,
            &format!("{version}: amlplan plan after terraform applied"),
        );
        // Drift on the state terraform wrote: none, then an out-of-band scale change.
        let drift = ["drift", "--var", vars[1]];
        expect_code(
            &project.amlplan(&drift),
            0,
            &format!("{version}: amlplan drift on terraform's state"),
        );
        let cluster = format!("{workspace}/computes/ml-cpu");
        let (status, body) = served.request(
            "PATCH",
            &cluster,
            Some(&serde_json::json!({
                "properties": {
                    "properties": { "scaleSettings": { "minNodeCount": 0, "maxNodeCount": 1 } }
                }
            })),
        );
        assert!(matches!(status, 200 | 202), "{version}: {status} {body}");
        let drifted = expect_code(
            &project.amlplan(&drift),
            2,
            &format!("{version}: amlplan drift after the out-of-band change"),
        );
        assert!(
            drifted.contains("module.team[\"ml\"].azureml_compute_cluster.cpu"),
            "{version}: {drifted}"
        );
    }
}

#[test]
fn amlplan_drift_reads_the_state_terraform_wrote() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = Project::example("quickstart", &served, Install::DevOverrides);
        apply(&project, &terraform, &[]);
        let output = project.amlplan(&["drift"]);
        let clean = expect_code(
            &output,
            0,
            &format!("{version}: drift after terraform apply"),
        );
        assert!(clean.contains("No drift"), "{version}: {clean}");

        let instance = format!("{}/computes/quickstart-dev", workspace("quickstart-mlw"));
        let (status, body) = served.request("POST", &format!("{instance}/stop"), None);
        assert!(
            (200..300).contains(&status),
            "{version}: stop: {status} {body}"
        );
        let output = project.amlplan(&["drift"]);
        let drift = expect_code(&output, 2, &format!("{version}: drift after a stop"));
        assert!(
            drift.contains("azureml_compute_instance.dev"),
            "{version}: {drift}"
        );
        assert!(
            !drift.contains("azureml_compute_cluster.cpu"),
            "{version}: {drift}"
        );

        let cluster = format!("{}/computes/cpu-cluster", workspace("quickstart-mlw"));
        let patch = serde_json::json!({"properties": {"properties": {"scaleSettings": {
            "maxNodeCount": 6, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT5M"
        }}}});
        let (status, body) = served.request("PATCH", &cluster, Some(&patch));
        assert!(
            (200..300).contains(&status),
            "{version}: patch: {status} {body}"
        );
        let output = project.amlplan(&["drift"]);
        let drift = expect_code(&output, 2, &format!("{version}: drift after a scale"));
        assert!(
            drift.contains("azureml_compute_cluster.cpu"),
            "{version}: {drift}"
        );
        // Drift changes nothing, not even the state: terraform sees the same drift.
        let (code, plan) = plan_exit(&project, &terraform, &[]);
        assert_eq!(code, 2, "{version}: terraform plans the way back:\n{plan}");
        assert!(
            plan.contains("azureml_compute_cluster.cpu will be updated in-place"),
            "{version}: {plan}"
        );
    }
}

#[test]
fn import_of_an_attached_compute_then_plan() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = Project::example("attach-everything", &served, Install::DevOverrides);
        apply(&project, &terraform, &[]);
        let address = "azureml_attached_databricks.dbx";
        let id = format!("{}/computes/databricks", workspace("attach-mlw"));
        let output = project.terraform(&terraform, &["state", "rm", "-no-color", address]);
        expect_code(&output, 0, &format!("{version}: state rm"));
        let output = project.terraform(
            &terraform,
            &["import", "-no-color", "-input=false", address, &id],
        );
        let imported = expect_code(&output, 0, &format!("{version}: import"));
        assert!(
            imported.contains("Import successful!"),
            "{version}: {imported}"
        );
        let (code, plan) = plan_exit(&project, &terraform, &[]);
        if terraform.write_only() {
            // Terraform >= 1.11: the token is write-only, never stored nor compared; the read
            // fills in everything else.
            assert_eq!(code, 0, "{version}: plan after import:\n{plan}");
            assert!(
                plan.contains("No changes. Your infrastructure matches the configuration."),
                "{version}: {plan}"
            );
        } else {
            // Older Terraform stores the (sensitive) token in the state; an import cannot read
            // it back, so the configured token is a change of a re-attach attribute: detach
            // (the Databricks workspace is kept) and attach again, the same plan `amlplan`
            // makes after its own import.
            assert_eq!(code, 2, "{version}: plan after import:\n{plan}");
            assert!(
                plan.contains(&format!("{address} must be replaced")),
                "{version}: {plan}"
            );
            assert!(
                plan.contains("databricks_access_token = (sensitive value) # forces replacement"),
                "{version}: {plan}"
            );
            assert!(
                plan.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
                "{version}: {plan}"
            );
            assert!(
                !plan.contains("dapi-demo-token"),
                "{version}: a secret in the plan"
            );
        }
        let imported = served.get(&id).expect("the attachment");
        assert_eq!(
            imported["properties"]["provisioningState"], "Succeeded",
            "{version}: import and plan touch nothing: {imported}"
        );
        // Either way one apply converges, never attaching twice.
        apply(&project, &terraform, &[]);
        let (code, plan) = plan_exit(&project, &terraform, &[]);
        assert_eq!(
            code, 0,
            "{version}: plan after the apply that follows the import:\n{plan}"
        );
        assert_eq!(served.stats()["duplicate_attachments"], 0, "{version}");
    }
}

#[test]
fn destroy_detaches_and_keeps_every_underlying_resource() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = Project::example("attach-everything", &served, Install::DevOverrides);
        apply(&project, &terraform, &[]);
        let computes = format!("{}/computes", workspace("attach-mlw"));
        let listed = served.get(&computes).expect("the workspace's computes");
        assert_eq!(
            listed["value"].as_array().map(Vec::len),
            Some(8),
            "{version}: {listed}"
        );
        let output = project.terraform(
            &terraform,
            &["destroy", "-auto-approve", "-no-color", "-input=false"],
        );
        let destroyed = expect_code(&output, 0, &format!("{version}: destroy"));
        assert!(
            destroyed.contains("Resources: 9 destroyed."),
            "{version}: {destroyed}"
        );
        for id in underlying() {
            assert!(
                served.get(&id).is_some(),
                "{version}: `{id}` is gone after destroy"
            );
        }
        assert_eq!(
            served.get(&workspace("attach-mlw")),
            None,
            "{version}: the created workspace is deleted"
        );
        assert_eq!(served.stats()["duplicate_attachments"], 0, "{version}");
        let state: Json = serde_json::from_str(
            &std::fs::read_to_string(project.config_dir().join("terraform.tfstate"))
                .expect("state"),
        )
        .expect("state JSON");
        assert_eq!(
            state["resources"].as_array().map(Vec::len),
            Some(0),
            "{version}: {state}"
        );
    }
}

/// The values of `address` in terraform's state (`show -json`).
fn state_values(project: &Project, terraform: &Terraform, address: &str) -> Json {
    let output = project.terraform(terraform, &["show", "-json"]);
    expect_code(
        &output,
        0,
        &format!("{}: terraform show", terraform.version),
    );
    let json: Json = serde_json::from_slice(&output.stdout).expect("state JSON");
    json["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["address"] == address)
        .unwrap_or_else(|| panic!("{address} in the state"))["values"]
        .clone()
}

/// The actions that do something (not `no-op`).
fn changes(actions: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    actions
        .iter()
        .filter(|(_, actions)| actions != &["no-op"])
        .cloned()
        .collect()
}

#[test]
fn training_run_completes_and_one_changed_file_replaces_only_the_run_like_amlplan() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = project("training-run", &served, Install::DevOverrides);
        let empty = terraform_actions(&project, &terraform, &[]);
        assert_eq!(
            empty,
            amlplan_actions(&project, &[]),
            "{version}: empty state"
        );
        assert_eq!(empty.len(), 4, "{version}: {empty:?}");

        let applied = apply(&project, &terraform, &[]);
        assert!(
            applied.contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
            "{version}: {applied}"
        );
        assert!(
            applied.contains("run_status = \"Completed\""),
            "{version}: {applied}"
        );
        let run = state_values(&project, &terraform, "azureml_run.train");
        let first_run = run["id"].as_str().expect("run id").to_owned();
        let job = served
            .get(&first_run)
            .expect("the run on the served emulator");
        assert_eq!(job["properties"]["status"], "Completed", "{version}: {job}");
        let environment = state_values(&project, &terraform, "azureml_environment.python");
        let version_id = environment["id"]
            .as_str()
            .expect("environment id")
            .to_owned();
        let (code, plan) = plan_exit(&project, &terraform, &[]);
        assert_eq!(code, 0, "{version}: plan after apply:\n{plan}");

        // One changed source file: one new run, the same actions as amlplan.
        let script = project.config_dir().join("src/train.py");
        let mut text = std::fs::read_to_string(&script).expect("train.py");
        text.push_str("print(\"one more line\")\n");
        std::fs::write(&script, text).expect("train.py");
        let changed = terraform_actions(&project, &terraform, &[]);
        assert_eq!(
            changed,
            amlplan_actions(&project, &[]),
            "{version}: one file changed"
        );
        assert_eq!(
            changes(&changed),
            vec![(
                "azureml_run.train".to_owned(),
                vec!["delete".to_owned(), "create".to_owned()]
            )],
            "{version}"
        );
        let before = served.stats()["uploads"]["files"].as_u64().unwrap_or(0);
        let applied = apply(&project, &terraform, &[]);
        assert!(
            applied.contains("Apply complete! Resources: 1 added, 0 changed, 1 destroyed."),
            "{version}: {applied}"
        );
        let after = served.stats()["uploads"]["files"].as_u64().unwrap_or(0);
        assert_eq!(after - before, 1, "{version}: one file uploaded");
        let run = state_values(&project, &terraform, "azureml_run.train");
        let second_run = run["id"].as_str().expect("run id").to_owned();
        assert_ne!(second_run, first_run, "{version}: a new run");
        let job = served.get(&second_run).expect("the new run");
        assert_eq!(job["properties"]["status"], "Completed", "{version}: {job}");
        assert!(
            served.get(&first_run).is_some(),
            "{version}: the old run stays in history"
        );
        let (code, plan) = plan_exit(&project, &terraform, &[]);
        assert_eq!(code, 0, "{version}: plan after the new run:\n{plan}");

        // Destroy archives the environment version and keeps every run (the workspace stays:
        // its deletion would take its versions and jobs with it).
        let output = project.terraform(
            &terraform,
            &[
                "destroy",
                "-auto-approve",
                "-no-color",
                "-input=false",
                "-target=azureml_environment.python",
            ],
        );
        expect_code(&output, 0, &format!("{version}: terraform destroy"));
        let kept = served.get(&version_id).expect("the version is kept");
        assert_eq!(kept["properties"]["isArchived"], true, "{version}: {kept}");
        assert!(served.get(&first_run).is_some() && served.get(&second_run).is_some());
    }
}

#[test]
fn a_replaced_environment_version_is_kept_unarchived_and_a_failed_run_fails_apply_with_its_log() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = project("training-run", &served, Install::DevOverrides);
        apply(&project, &terraform, &[]);
        let old = state_values(&project, &terraform, "azureml_environment.python");
        let old_id = old["id"].as_str().expect("environment id").to_owned();

        // A new environment variable: a new version (and so a new run); the old one is kept.
        let main_tf = project.config_dir().join("main.tf");
        let config = std::fs::read_to_string(&main_tf).expect("main.tf");
        let config = config.replace(
            "TRAINING_MODE = \"demo\"",
            "TRAINING_MODE = \"demo\"\n    EXTRA = \"1\"",
        );
        std::fs::write(&main_tf, &config).expect("main.tf");
        // Both tools replace the run: its `environment_id` is unknown until the new version
        // exists (amlplan forgets a replaced object's computed values while planning).
        let changed = changes(&terraform_actions(&project, &terraform, &[]));
        assert_eq!(
            changed,
            changes(&amlplan_actions(&project, &[])),
            "{version}: amlplan and terraform plan the environment change alike"
        );
        let replace = vec!["delete".to_owned(), "create".to_owned()];
        assert_eq!(
            changed,
            vec![
                ("azureml_environment.python".to_owned(), replace.clone()),
                ("azureml_run.train".to_owned(), replace)
            ],
            "{version}"
        );
        let applied = apply(&project, &terraform, &[]);
        assert!(
            applied.contains("Apply complete! Resources: 2 added, 0 changed, 2 destroyed."),
            "{version}: {applied}"
        );
        let kept = served.get(&old_id).expect("the old version is kept");
        assert_ne!(kept["properties"]["isArchived"], true, "{version}: {kept}");

        // A script that fails: apply fails with the log tail, and the run is kept in state.
        let script = project.config_dir().join("src/train.py");
        std::fs::write(&script, "print('about to fail')\nraise SystemExit(3)\n").expect("train.py");
        let output = project.terraform(&terraform, &APPLY);
        let failed = expect_code(&output, 1, &format!("{version}: apply of a failing run"));
        assert!(failed.contains("did not complete"), "{version}: {failed}");
        assert!(
            failed.contains("about to fail"),
            "{version}: the log tail: {failed}"
        );
        let run = state_values(&project, &terraform, "azureml_run.train");
        assert_eq!(run["status"], "Failed", "{version}: {run}");
    }
}

#[test]
fn terraform_and_amlplan_exclude_each_other_on_a_local_state() {
    for terraform in terraform_binaries() {
        let version = &terraform.version;
        let served = ServedEmulator::start();
        let project = Project::example("quickstart", &served, Install::DevOverrides);
        let state = project.config_dir().join("terraform.tfstate");
        let info = engine::state::lock::info_path(&state);

        // `terraform apply` holds Terraform's lock while it asks for approval (`terraform
        // console` would too, up to 1.11; 1.15 reads its input before locking).
        let mut holder_process = project.spawn_terraform(&terraform, &["apply", "-no-color"]);
        let started = std::time::Instant::now();
        while !info.exists() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{version}: terraform apply never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let holder: Json =
            serde_json::from_slice(&std::fs::read(&info).expect("lock info")).expect("JSON");
        let output = project.amlplan(&["plan"]);
        let refused = expect_code(&output, 1, &format!("{version}: amlplan plan while locked"));
        let id = holder["ID"].as_str().expect("a lock id");
        assert!(
            refused.contains("is locked by") && refused.contains(id),
            "{version}: {refused}"
        );
        // With a lock timeout amlplan waits until terraform lets go.
        let stdin = holder_process.stdin.take().expect("terraform input");
        let closer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            drop(stdin);
        });
        let waited = std::time::Instant::now();
        let output = project.amlplan(&["plan", "--lock-timeout", "60s"]);
        expect_code(
            &output,
            0,
            &format!("{version}: amlplan plan after the wait"),
        );
        assert!(
            waited.elapsed() >= std::time::Duration::from_secs(1),
            "{version}: amlplan did not wait for terraform"
        );
        closer.join().expect("closer");
        // Its approval never came: nothing was applied.
        holder_process.wait().expect("terraform exits");
        assert!(
            !state.exists()
                || !std::fs::read_to_string(&state)
                    .expect("state")
                    .contains("azureml_"),
            "{version}: the unapproved apply changed nothing"
        );

        // And the other way round: amlplan's lock (the engine's, held here) stops terraform.
        let lock = engine::state::StateLock::acquire(
            &state,
            &engine::state::LockOptions {
                operation: "apply".to_owned(),
                version: "amlplan test".to_owned(),
                timeout: std::time::Duration::ZERO,
            },
        )
        .expect("amlplan's lock");
        let output = project.terraform(
            &terraform,
            &["plan", "-input=false", "-no-color", "-lock-timeout=0s"],
        );
        let refused = expect_code(
            &output,
            1,
            &format!("{version}: terraform plan while locked"),
        );
        assert!(
            refused.contains("Error acquiring the state lock") && refused.contains(&lock.info().id),
            "{version}: {refused}"
        );
        drop(lock);
        let output = project.terraform(&terraform, &["plan", "-input=false", "-no-color"]);
        expect_code(
            &output,
            0,
            &format!("{version}: terraform plan after the lock"),
        );
    }
}
