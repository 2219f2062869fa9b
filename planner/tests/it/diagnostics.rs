//! What a user sees for typical configuration mistakes: rendered diagnostics, as snapshots in
//! `planner/tests/snapshots/`. Each test also asserts the summary it is about, so a snapshot
//! update cannot silently turn one mistake into another.

use engine::addr::{AttrPath, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics};
use planner::render::diagnostic::diagnostics_to_string;

use crate::{load, rendered};

#[track_caller]
fn snapshot(name: &str, files: &[(&str, &str)], expected_summary: &str) {
    let output = rendered(files);
    assert!(
        output.contains(&format!(": {expected_summary}\n")),
        "expected `{expected_summary}` in:\n{output}"
    );
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, output);
    });
}

const WORKSPACE: &str = r#"resource "azureml_workspace" "main" {
  name                = "demo-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}
"#;

fn with_workspace(rest: &str) -> String {
    format!("{WORKSPACE}\n{rest}")
}

#[test]
fn typo_in_an_argument_name() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  vm_sise        = "STANDARD_NC6"
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}
"#,
    );
    snapshot(
        "typo_in_an_argument_name",
        &[("main.tf", &main)],
        "Unsupported argument",
    );
}

#[test]
fn wrong_value_type() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = "four"
  tags           = ["not", "a", "map"]
}
"#,
    );
    snapshot(
        "wrong_value_type",
        &[("main.tf", &main)],
        "Incorrect attribute value type",
    );
}

#[test]
fn missing_required_argument() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  max_node_count = 2
}
"#,
    );
    snapshot(
        "missing_required_argument",
        &[("main.tf", &main)],
        "Missing required argument",
    );
}

#[test]
fn unknown_resource_type() {
    let main = with_workspace(
        r#"resource "azureml_compute_clustr" "gpu" {
  name = "gpu"
}
"#,
    );
    snapshot(
        "unknown_resource_type",
        &[("main.tf", &main)],
        "Unknown resource type",
    );
}

#[test]
fn a_module_that_is_not_there_is_located_and_other_providers_blocks_accepted() {
    let main = r#"provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "rg" {
  name     = "demo-rg"
  location = "westeurope"
}

module "network" {
  source = "./network"
}

module "registry" {
  source  = "Azure/avm-res-network-virtualnetwork/azurerm"
  version = "0.7.1"
}
"#;
    snapshot(
        "module_not_there",
        &[("main.tf", main)],
        "Unreadable module directory",
    );
    let output = rendered(&[("main.tf", main)]);
    assert!(
        output.contains("Module not installed") && output.contains("run `terraform init`"),
        "{output}"
    );
    assert!(
        !output.contains("azurerm_resource_group"),
        "other providers' blocks are accepted: {output}"
    );
}

#[test]
fn reference_cycle() {
    let main = with_workspace(
        r#"locals {
  name   = "${local.suffix}-cluster"
  suffix = lower(local.name)
}
"#,
    );
    snapshot(
        "reference_cycle",
        &[("main.tf", &main)],
        "Cycle in references",
    );
}

#[test]
fn reference_to_an_undeclared_resource() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.mian.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}

output "workspace" {
  value = azureml_workspace.main.workspace_guid
}
"#,
    );
    snapshot(
        "reference_to_an_undeclared_resource",
        &[("main.tf", &main)],
        "Reference to undeclared resource",
    );
}

#[test]
fn undefined_variable() {
    let main = with_workspace(
        r#"variable "region" {
  type    = string
  default = "westeurope"
}

variable "size" {
  type = string
}

output "where" {
  value = "${var.regoin}/${local.missing}"
}
"#,
    );
    snapshot(
        "undefined_variable",
        &[("main.tf", &main)],
        "Reference to undeclared input variable",
    );
}

#[test]
fn missing_variable_value() {
    let main = r#"variable "size" {
  type = string
}

output "size" {
  value = var.size
}
"#;
    snapshot(
        "missing_variable_value",
        &[("variables.tf", main)],
        "No value for required variable",
    );
}

#[test]
fn for_each_given_a_tuple() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "tuple" {
  for_each       = ["a", "b"]
  name           = each.key
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}
"#,
    );
    snapshot(
        "for_each_given_a_tuple",
        &[("main.tf", &main)],
        "Invalid for_each argument",
    );
}

#[test]
fn bad_for_each_and_count_values() {
    let main = with_workspace(
        r#"variable "names" {
  default = ["a", "a"]
}

resource "azureml_compute_cluster" "number" {
  for_each       = 3
  name           = "n"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}

resource "azureml_compute_cluster" "later" {
  for_each       = toset([azureml_workspace.main.id])
  name           = "later"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}

resource "azureml_compute_cluster" "twice" {
  for_each       = var.names
  name           = each.value
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}

resource "azureml_compute_cluster" "counted" {
  count          = -1
  name           = "c${count.index}"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}
"#,
    );
    snapshot(
        "bad_for_each_and_count_values",
        &[("main.tf", &main)],
        "Invalid for_each argument",
    );
    assert!(rendered(&[("main.tf", &main)]).contains("error: Invalid count argument"));
}

#[test]
fn syntax_error_in_one_file() {
    let broken = r#"resource "azureml_compute_cluster" "gpu" {
  name = "gpu"
  vm_size = = "STANDARD_NC6"
}
"#;
    snapshot(
        "syntax_error_in_one_file",
        &[("a.tf", WORKSPACE), ("b.tf", broken)],
        "Invalid syntax",
    );
}

#[test]
fn computed_attribute_set() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  id             = "/subscriptions/x"
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}
"#,
    );
    snapshot(
        "computed_attribute_set",
        &[("main.tf", &main)],
        "Unconfigurable attribute",
    );
}

#[test]
fn value_outside_a_closed_set() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  vm_priority    = "LowPriorty"
  max_node_count = 2
}
"#,
    );
    snapshot(
        "value_outside_a_closed_set",
        &[("main.tf", &main)],
        "Invalid value",
    );
}

#[test]
fn instance_keys_and_counted_context() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "pool" {
  count          = 2
  name           = "pool-${count.index}"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
}

output "first" {
  value = azureml_compute_cluster.pool.id
}

output "index" {
  value = count.index
}
"#,
    );
    snapshot(
        "instance_keys_and_counted_context",
        &[("main.tf", &main)],
        "Missing resource instance key",
    );
}

#[test]
fn unknown_data_source_and_provider_argument() {
    let main = r#"provider "azureml" {
  endpont = "embedded"
}

data "azureml_computes" "all" {
  workspace_id = "x"
}
"#;
    snapshot(
        "unknown_data_source_and_provider_argument",
        &[("main.tf", main)],
        "Unknown data source type",
    );
}

#[test]
fn nested_block_mistakes() {
    let main = with_workspace(
        r#"resource "azureml_compute_instance" "dev" {
  name         = "dev"
  workspace_id = azureml_workspace.main.id
  vm_size      = "STANDARD_DS3_V2"

  schedule {
    action = "Pause"
  }

  assigned_user {
    object_id = "00000000-0000-0000-0000-000000000001"
    tenant    = "00000000-0000-0000-0000-000000000002"
  }

  tags {
    owner = "me"
  }
}
"#,
    );
    snapshot(
        "nested_block_mistakes",
        &[("main.tf", &main)],
        "Missing required argument",
    );
}

#[test]
fn engine_attribute_subjects_are_located() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "gpu" {
  name           = "gpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_NC6"
  max_node_count = 2
  min_node_count = 5
}
"#,
    );
    let (config, diagnostics) = load(&[("main.tf", &main)]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let addr = ResourceAddr::managed("azureml_compute_cluster", "gpu");
    let mut from_engine = Diagnostics::default();
    from_engine.push(
        Diagnostic::error("Invalid scale settings", "`min_node_count` (5) is larger than `max_node_count` (2)\nhelp: lower `min_node_count` or raise `max_node_count`")
            .at_attr(&addr, AttrPath::attr("min_node_count")),
    );
    from_engine.push(
        Diagnostic::warning("Quota", "this cluster may exceed the core quota")
            .at_attr(&addr, AttrPath::default()),
    );
    let output = diagnostics_to_string(&config.locate_all(from_engine), config.sources());
    assert!(output.contains("--> main.tf:12:20"), "{output}");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("engine_attribute_subjects_are_located", output);
    });
}

#[test]
fn values_the_service_refuses_are_errors_at_plan_time() {
    let main = with_workspace(
        r#"resource "azureml_compute_cluster" "fraction" {
  name           = "fraction"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1.5
}

resource "azureml_compute_cluster" "negative" {
  name           = "negative"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = -5
}

resource "azureml_compute_cluster" "huge" {
  name           = "huge"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 99999999999999999999999
}

resource "azureml_compute_cluster" "inverted" {
  name           = "inverted"
  workspace_id   = azureml_workspace.main.id
  vm_size        = ""
  min_node_count = 5
  max_node_count = 2

  idle_time_before_scale_down = "five minutes"
}

resource "azureml_compute_cluster" "numbered" {
  name           = "cpu-${1 + 1}"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 2
}

resource "azureml_compute_instance" "sleepy" {
  name                      = "sleepy"
  workspace_id              = azureml_workspace.main.id
  vm_size                   = "STANDARD_DS3_V2"
  subnet_id                 = "default"
  idle_time_before_shutdown = "PT5M"
}

resource "azureml_attached_virtual_machine" "keyless" {
  name           = "keyless"
  workspace_id   = azureml_workspace.main.id
  resource_id    = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/disks/d"
  admin_username = "azureuser"
}
"#,
    );
    snapshot(
        "values_the_service_refuses",
        &[("main.tf", &main)],
        "Invalid value",
    );
}

#[test]
fn a_huge_name_is_refused_without_echoing_it() {
    let name = "a".repeat(1 << 20);
    let main = with_workspace(&format!(
        r#"resource "azureml_compute_cluster" "long" {{
  name           = "{name}"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 2
}}
"#
    ));
    let output = rendered(&[("main.tf", &main)]);
    assert!(
        output.contains("`name` must be 3 to 24 characters long"),
        "{}",
        &output[..output.len().min(2000)]
    );
    assert!(
        output.contains("--> main.tf:8:20"),
        "{}",
        &output[..output.len().min(2000)]
    );
    assert!(
        output.len() < 2048,
        "the diagnostic quotes the whole value ({} bytes)",
        output.len()
    );
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("a_huge_name_is_refused", output);
    });
}

#[test]
fn a_required_version_that_excludes_the_language_version_is_refused() {
    let main = with_workspace(
        r#"terraform {
  required_version = ">= 99.0"

  required_providers {
    azureml = {
      source  = "azureml.local/azureml/azureml"
      version = "~> 7.0"
    }
  }
}
"#,
    );
    snapshot(
        "required_version_excludes_the_language",
        &[("main.tf", &main)],
        "Unsupported Terraform Core version",
    );
    let output = rendered(&[("main.tf", &main)]);
    assert!(output.contains("Unsupported provider version"), "{output}");
}

#[test]
fn required_versions_that_allow_the_language_version_load_and_malformed_ones_are_located() {
    for allowed in [">= 1.0", "~> 1.5", ">= 1.3, < 2.0", "1.11.4"] {
        let main = with_workspace(&format!(
            "terraform {{\n  required_version = \"{allowed}\"\n}}\n"
        ));
        let output = rendered(&[("main.tf", &main)]);
        assert!(output.is_empty(), "{allowed}: {output}");
    }
    let main = with_workspace("terraform {\n  required_version = \">= one\"\n}\n");
    let output = rendered(&[("main.tf", &main)]);
    assert!(
        output.contains("Invalid required_version constraint")
            && output.contains("`one` is not a version")
            && output.contains("--> main.tf:8:22"),
        "{output}"
    );
}

const SECRET: &str = "hunter2-the-secret";

fn with_secret(rest: &str) -> String {
    with_workspace(&format!(
        r#"variable "secret" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}

{rest}"#
    ))
}

#[test]
fn an_output_of_a_sensitive_value_must_say_so() {
    let main = with_secret(
        r#"output "leak" {
  value = "prefix-${var.secret}"
}
"#,
    );
    snapshot(
        "output_refers_to_sensitive_values",
        &[("main.tf", &main)],
        "Output refers to sensitive values",
    );
}

#[test]
fn sensitivity_travels_through_locals_functions_and_attributes() {
    let refused = [
        "local.derived",
        "upper(local.derived)",
        "sensitive(\"plain\")",
        "[for part in split(\"-\", var.secret) : part]",
        "azureml_attached_virtual_machine.vm.ssh_private_key",
        "azureml_attached_virtual_machine.vm",
        "azureml_compute_cluster.cpu.description",
    ];
    let accepted = [
        "nonsensitive(var.secret)",
        "azureml_attached_virtual_machine.vm.id",
        "azureml_compute_cluster.cpu.name",
        "length(nonsensitive(local.derived)) > 0",
    ];
    for (value, refuse) in refused
        .iter()
        .map(|value| (value, true))
        .chain(accepted.iter().map(|value| (value, false)))
    {
        let main = with_secret(&format!(
            r#"locals {{
  derived = "x-${{var.secret}}"
}}

resource "azureml_attached_virtual_machine" "vm" {{
  name            = "trainvm"
  workspace_id    = azureml_workspace.main.id
  resource_id     = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
  admin_username  = "azureuser"
  ssh_private_key = "-----BEGIN KEY-----"
}}

resource "azureml_compute_cluster" "cpu" {{
  name           = "cpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1
  description    = local.derived
}}

output "out" {{
  value = {value}
}}
"#
        ));
        let output = rendered(&[("main.tf", &main)]);
        assert_eq!(
            output.contains("Output refers to sensitive values"),
            refuse,
            "`{value}`:\n{output}"
        );
        assert!(
            !output.contains(SECRET),
            "`{value}` quoted the secret:\n{output}"
        );
        let marked = output.contains("sensitive = true");
        assert_eq!(marked, refuse, "`{value}`: {output}");
    }
}

#[test]
fn diagnostics_never_quote_a_sensitive_default_or_secret_literal() {
    let main = format!(
        r#"variable "pin" {{
  type      = number
  sensitive = true
  default   = "{SECRET}"
}}

{WORKSPACE}
resource "azureml_attached_virtual_machine" "vm" {{
  name           = "trainvm"
  workspace_id   = azureml_workspace.main.id
  resource_id    = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
  admin_username = "azureuser"
  admin_password = ["{SECRET}"]
}}
"#
    );
    let output = rendered(&[("main.tf", &main)]);
    assert!(
        output.contains("Invalid value for input variable")
            && output.contains("Incorrect attribute value type")
            && output.contains("--> main.tf:4:15")
            && output.contains("the value is sensitive, so it is not shown"),
        "{output}"
    );
    assert!(!output.contains(SECRET), "a secret is quoted:\n{output}");
    assert!(!output.contains("hunter2"), "a secret is quoted:\n{output}");
}

#[test]
fn a_sensitive_for_each_is_refused_and_validation_messages_hide_secrets() {
    let main = with_secret(
        r#"resource "azureml_compute_cluster" "each" {
  for_each       = toset([var.secret])
  name           = "cpu"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1
}
"#,
    );
    let output = rendered(&[("main.tf", &main)]);
    assert!(
        output.contains("Invalid for_each argument")
            && output.contains("sensitive values, or values derived from sensitive values"),
        "{output}"
    );
    assert!(!output.contains(SECRET), "{output}");
}

#[test]
fn a_function_result_too_large_to_build_is_an_error() {
    snapshot(
        "format_width_too_large",
        &[("main.tf", "locals {\n  s = format(\"%999999999d\", 1)\n}\n")],
        "Error in function call",
    );
}

#[test]
fn values_that_grow_past_the_bounds_are_errors_not_gigabytes() {
    // Forty locals that double the one before: 2^40 bytes unbounded.
    let mut doubling = String::from("locals {\n  l0 = \"0123456789abcdef\"\n");
    for index in 1..=40 {
        doubling.push_str(&format!(
            "  l{index} = \"${{local.l{}}}${{local.l{}}}\"\n",
            index - 1,
            index - 1
        ));
    }
    doubling.push_str("}\n");
    let cases = [
        (doubling.as_str(), "this template's text is too large"),
        (
            "locals {\n  a = replace(format(\"%1000000s\", \"\"), \" \", format(\"%1000s\", \"\"))\n}\n",
            "more than 16 MiB of text",
        ),
        (
            "locals {\n  a = join(format(\"%1000000s\", \"\"), [for i in split(\",\", format(\"%99s\", \"\")) : i])\n  b = join(format(\"%100000s\", \"\"), split(\"\", format(\"%1000s\", \"\")))\n}\n",
            "more than 16 MiB of text",
        ),
        (
            "locals {\n  s = split(\"\", format(\"%2000s\", \"\"))\n  a = [for x in local.s : [for y in local.s : x]]\n}\n",
            "the result of this `for` expression is too large",
        ),
    ];
    for (text, expected) in cases {
        let started = std::time::Instant::now();
        let output = rendered(&[("main.tf", text)]);
        assert!(output.contains(expected), "{expected}:\n{output}");
        assert!(
            output.len() < 16 * 1024,
            "the error quotes the value ({} bytes)",
            output.len()
        );
        // Not a timing test: a guard that the bound stops the work (seconds, not minutes).
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }
}

#[test]
fn custom_conditions_are_checked_at_plan_time() {
    let main = with_workspace(
        r#"variable "max_nodes" {
  type    = number
  default = 10
}

resource "azureml_compute_cluster" "cpu" {
  name           = "cpu-cluster"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = var.max_nodes

  lifecycle {
    precondition {
      condition     = var.max_nodes <= 8
      error_message = "At most 8 nodes, not ${var.max_nodes}."
    }
    postcondition {
      condition     = self.vm_priority == "LowPriority"
      error_message = "Clusters must be low priority."
    }
    postcondition {
      condition     = self.id != ""
      error_message = "Not known until apply: not checked at plan time."
    }
  }
}

output "nodes" {
  value = var.max_nodes
  precondition {
    condition     = var.max_nodes > 20
    error_message = "The output wants more than 20 nodes."
  }
}

check "naming" {
  assert {
    condition     = startswith(azureml_workspace.main.name, "prod-")
    error_message = "Workspace names start with prod-."
  }
}
"#,
    );
    snapshot(
        "custom_conditions",
        &[("main.tf", &main)],
        "Resource precondition failed",
    );
    let output = rendered(&[("main.tf", &main)]);
    for expected in [
        "error: Resource postcondition failed",
        "error: Module output value precondition failed",
        "warning: Check block assertion failed",
    ] {
        assert!(output.contains(expected), "{expected}:\n{output}");
    }
    assert!(!output.contains("Not known until apply"), "{output}");
}
