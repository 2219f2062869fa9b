//! Loading and evaluating realistic configurations: instances, unknowns, known values,
//! variables, provider settings, lifecycle and spans.

use std::collections::BTreeMap;
use std::path::Path;

use engine::addr::{AttrPath, InstanceKey, ResourceAddr};
use engine::value::{ObjectValue, Value};
use planner::config::{
    CliVariable, Configuration, Endpoint, Environment, IgnoreChanges, InputValues, NoKnownValues,
    evaluate,
};
use pretty_assertions::assert_eq;

use crate::{load, load_and_evaluate};

const QUICKSTART: &str = r#"
terraform {
  required_providers {
    azureml = {
      source  = "example/azureml"
      version = ">= 0.1"
    }
  }
}

provider "azureml" {}

variable "prefix" {
  type    = string
  default = "demo"
}

variable "clusters" {
  type = map(object({
    size = string
    max  = optional(number, 2)
  }))
  default = {
    cpu = { size = "STANDARD_DS3_V2" }
    gpu = { size = "STANDARD_NC6", max = 4 }
  }
}

locals {
  tags = {
    owner = "platform"
    env   = upper(var.prefix)
  }
}

resource "azureml_workspace" "main" {
  name                = "${var.prefix}-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"
  tags                = local.tags
}

resource "azureml_compute_cluster" "pool" {
  for_each       = var.clusters
  name           = "${each.key}-pool"
  workspace_id   = azureml_workspace.main.id
  vm_size        = each.value.size
  max_node_count = each.value.max
  tags           = merge(local.tags, { cluster = each.key })
}

resource "azureml_compute_instance" "dev" {
  count        = 2
  name         = format("%s-dev%02d", var.prefix, count.index)
  workspace_id = azureml_workspace.main.id
  vm_size      = "STANDARD_DS3_V2"

  schedule {
    action          = "Stop"
    cron_expression = "0 18 * * *"
  }
  schedule {
    action          = "Start"
    cron_expression = "0 8 * * 1-5"
  }

  lifecycle {
    ignore_changes  = [tags, schedule[0].status]
    prevent_destroy = true
  }

  depends_on = [azureml_compute_cluster.pool]
}

output "workspace_id" {
  value = azureml_workspace.main.id
}

output "cluster_names" {
  value     = [for key, cluster in azureml_compute_cluster.pool : cluster.name]
  sensitive = true
}
"#;

fn managed(resource_type: &str, name: &str) -> ResourceAddr {
    ResourceAddr::managed(resource_type, name)
}

#[test]
fn a_plan_from_scratch_has_every_instance_with_unknown_ids() {
    let (_, evaluated, diagnostics) = load_and_evaluate(
        &[("main.tf", QUICKSTART)],
        &InputValues::new(),
        &NoKnownValues,
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let evaluated = evaluated.expect("evaluated");
    let addrs: Vec<String> = evaluated
        .resources
        .keys()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        addrs,
        [
            "azureml_compute_cluster.pool[\"cpu\"]",
            "azureml_compute_cluster.pool[\"gpu\"]",
            "azureml_compute_instance.dev[0]",
            "azureml_compute_instance.dev[1]",
            "azureml_workspace.main",
        ]
    );
    let workspace = &evaluated.resources[&managed("azureml_workspace", "main")];
    assert_eq!(workspace.values.get("name"), &Value::from("demo-ws"));
    assert_eq!(
        workspace.values.get("tags").to_string(),
        r#"{env = "DEMO", owner = "platform"}"#
    );
    assert_eq!(
        workspace.values.get("id"),
        &Value::Null,
        "computed attributes are not configured values"
    );

    let gpu = &evaluated.resources
        [&managed("azureml_compute_cluster", "pool").with_key(InstanceKey::Key("gpu".into()))];
    assert_eq!(gpu.values.get("workspace_id"), &Value::Unknown);
    assert_eq!(gpu.values.get("max_node_count"), &Value::from(4));
    assert_eq!(
        gpu.values.get("tags").to_string(),
        r#"{cluster = "gpu", env = "DEMO", owner = "platform"}"#
    );
    assert_eq!(gpu.depends_on, vec![managed("azureml_workspace", "main")]);
    let cpu = &evaluated.resources
        [&managed("azureml_compute_cluster", "pool").with_key(InstanceKey::Key("cpu".into()))];
    assert_eq!(
        cpu.values.get("max_node_count"),
        &Value::from(2),
        "optional attribute default of the variable type"
    );

    let dev = &evaluated.resources
        [&managed("azureml_compute_instance", "dev").with_key(InstanceKey::Index(1))];
    assert_eq!(dev.values.get("name"), &Value::from("demo-dev01"));
    assert_eq!(
        dev.values.get("schedule").to_string(),
        r#"[{action = "Stop", cron_expression = "0 18 * * *"}, {action = "Start", cron_expression = "0 8 * * 1-5"}]"#
    );
    let depends: Vec<String> = dev.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(
        depends,
        [
            "azureml_compute_cluster.pool[\"cpu\"]",
            "azureml_compute_cluster.pool[\"gpu\"]",
            "azureml_workspace.main"
        ]
    );
    assert!(dev.lifecycle.prevent_destroy);
    assert_eq!(
        dev.lifecycle.ignore_changes,
        IgnoreChanges::Paths(vec![
            AttrPath::attr("tags"),
            AttrPath::attr("schedule")
                .join(engine::addr::PathStep::Index(0))
                .join(engine::addr::PathStep::Attr("status".into())),
        ])
    );

    assert_eq!(evaluated.outputs["workspace_id"].value, Value::Unknown);
    let names = &evaluated.outputs["cluster_names"];
    assert!(names.sensitive);
    assert_eq!(
        names.value.to_string(),
        r#"["cpu-pool", "gpu-pool"]"#,
        "configured names are known before apply"
    );
    assert_eq!(evaluated.provider.endpoint, Endpoint::Embedded);
}

#[test]
fn known_values_fill_unknowns_on_the_next_evaluation() {
    let (config, diagnostics) = load(&[("main.tf", QUICKSTART)]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let id = "/subscriptions/0/resourceGroups/demo-rg/providers/Microsoft.MachineLearningServices/workspaces/demo-ws";
    let mut known = BTreeMap::new();
    known.insert(
        managed("azureml_workspace", "main"),
        ObjectValue::with_id(id),
    );
    let (evaluated, diagnostics) = evaluate(&config, &InputValues::new(), &known);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let gpu = &evaluated.resources
        [&managed("azureml_compute_cluster", "pool").with_key(InstanceKey::Key("gpu".into()))];
    assert_eq!(gpu.values.get("workspace_id"), &Value::from(id));
    assert_eq!(evaluated.outputs["workspace_id"].value, Value::from(id));
}

#[test]
fn spans_map_attributes_back_to_lines() {
    let (config, _) = load(&[("main.tf", QUICKSTART)]);
    let block = config
        .resource_block(&managed("azureml_compute_instance", "dev"))
        .expect("declared");
    let source = config.sources().get(block.spans().file).expect("loaded");
    let line_of = |path: &AttrPath| {
        source
            .location(block.spans().span_of(path).range.start)
            .line
    };
    assert_eq!(
        source.line_text(line_of(&AttrPath::attr("vm_size"))).trim(),
        "vm_size      = \"STANDARD_DS3_V2\""
    );
    let nested = AttrPath::attr("schedule")
        .join(engine::addr::PathStep::Index(1))
        .join(engine::addr::PathStep::Attr("action".into()));
    assert_eq!(
        source.line_text(line_of(&nested)).trim(),
        "action          = \"Start\""
    );
    // An attribute that is not configured maps to the block header.
    assert_eq!(
        source.line_text(line_of(&AttrPath::attr("subnet_id"))),
        "resource \"azureml_compute_instance\" \"dev\" {"
    );
}

#[test]
fn variable_sources_follow_terraform_precedence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let main = r#"
variable "a" {}
variable "b" {}
variable "c" {}
variable "d" {
  type = list(number)
}
output "all" {
  value = [var.a, var.b, var.c, var.d]
}
"#;
    std::fs::write(dir.path().join("main.tf"), main).expect("write");
    std::fs::write(
        dir.path().join("terraform.tfvars"),
        "a = \"file\"\nb = \"file\"\nc = \"file\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("x.auto.tfvars"),
        "b = \"auto\"\nc = \"auto\"\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("extra.tfvars"), "c = \"var-file\"\n").expect("write");
    let registry = engine::schema::load_registry().expect("catalogue");
    let (mut config, diagnostics) =
        Configuration::load_dir(dir.path(), &registry).expect("readable");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let environment = Environment::from_pairs([
        ("TF_VAR_a", "env"),
        ("TF_VAR_d", "[1, 2]"),
        ("TF_VAR_undeclared", "ignored"),
    ]);
    let cli = [
        CliVariable::Var("c=cli".into()),
        CliVariable::File("extra.tfvars".into()),
    ];
    let (inputs, diagnostics) = config.load_inputs(&cli, &environment);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let (evaluated, diagnostics) = evaluate(&config, &inputs, &NoKnownValues);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        evaluated.outputs["all"].value.to_string(),
        r#"["file", "auto", "var-file", [1, 2]]"#
    );
}

#[test]
fn provider_settings_fall_back_to_the_environment() {
    let files = [(
        "provider.tf",
        r#"
variable "endpoint" {
  default = "https://127.0.0.1:8443/"
}
provider "azureml" {
  endpoint        = var.endpoint
  subscription_id = "00000000-0000-0000-0000-000000000000"
  ca_certificate  = "certs/ca.pem"
}
"#,
    )];
    let environment = Environment::from_pairs([
        ("AZUREML_TOKEN", "s3cret"),
        ("ARM_SUBSCRIPTION_ID", "ignored"),
        ("ARM_CLIENT_ID", "app"),
    ]);
    let inputs = InputValues::from_vars([], environment);
    let (_, evaluated, diagnostics) = load_and_evaluate(&files, &inputs, &NoKnownValues);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let provider = evaluated.expect("evaluated").provider;
    assert_eq!(
        provider.endpoint,
        Endpoint::Url("https://127.0.0.1:8443".into())
    );
    assert_eq!(
        provider.subscription_id.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        provider.token.as_ref().map(|token| token.expose()),
        Some("s3cret")
    );
    assert_eq!(provider.client_id.as_deref(), Some("app"));
    assert_eq!(
        provider.ca_certificate.as_deref(),
        Some(Path::new("examples/demo/certs/ca.pem"))
    );
    assert!(!format!("{provider:?}").contains("s3cret"));
}

#[test]
fn data_sources_are_instances_and_references_to_them_wait_for_reads() {
    let files = [(
        "main.tf",
        r#"
data "azureml_workspace" "shared" {
  name                = "shared"
  resource_group_name = "demo-rg"
}
data "azureml_compute" "existing" {
  name         = "gpu"
  workspace_id = data.azureml_workspace.shared.id
}
resource "azureml_compute_cluster" "copy" {
  name           = "copy"
  workspace_id   = data.azureml_workspace.shared.id
  vm_size        = "STANDARD_DS3_V2"
  max_node_count = 1
  description    = "copy of ${data.azureml_compute.existing.name}"
}
"#,
    )];
    let (config, evaluated, diagnostics) =
        load_and_evaluate(&files, &InputValues::new(), &NoKnownValues);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let evaluated = evaluated.expect("evaluated");
    let copy = &evaluated.resources[&managed("azureml_compute_cluster", "copy")];
    assert_eq!(copy.values.get("workspace_id"), &Value::Unknown);
    assert_eq!(copy.values.get("description"), &Value::Unknown);
    assert!(
        copy.depends_on.is_empty(),
        "data sources are read, not applied"
    );
    assert_eq!(evaluated.data.len(), 2);

    let shared: ResourceAddr = "data.azureml_workspace.shared".parse().expect("address");
    let existing: ResourceAddr = "data.azureml_compute.existing".parse().expect("address");
    let mut known = BTreeMap::new();
    known.insert(shared, ObjectValue::with_id("/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/shared"));
    let mut compute = ObjectValue::with_id(
        "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/shared/computes/gpu",
    );
    compute.set("name", Value::from("gpu"));
    known.insert(existing, compute);
    let (evaluated, diagnostics) = evaluate(&config, &InputValues::new(), &known);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let copy = &evaluated.resources[&managed("azureml_compute_cluster", "copy")];
    assert_eq!(
        copy.values.get("workspace_id"),
        &Value::from(
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/shared"
        )
    );
    assert_eq!(copy.values.get("description"), &Value::from("copy of gpu"));
}

#[test]
fn files_load_in_name_order_and_a_broken_file_does_not_hide_the_others() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("b.tf"), "locals {\n  b = 2\n}\n").expect("write");
    std::fs::write(dir.path().join("a.tf"), "locals {\n  a = 1\n}\n").expect("write");
    std::fs::write(dir.path().join("c.tf"), "locals {\n  c = \n}\n").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "not hcl {").expect("write");
    let registry = engine::schema::load_registry().expect("catalogue");
    let (config, diagnostics) = Configuration::load_dir(dir.path(), &registry).expect("readable");
    let names: Vec<&str> = config
        .sources()
        .iter()
        .map(|file| file.name().rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(names, ["a.tf", "b.tf", "c.tf"]);
    assert_eq!(diagnostics.0.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics.0[0].summary, "Invalid syntax");
    let (evaluated, _) = evaluate(&config, &InputValues::new(), &NoKnownValues);
    assert!(evaluated.resources.is_empty());
}

#[test]
fn an_empty_folder_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = engine::schema::load_registry().expect("catalogue");
    let (_, diagnostics) = Configuration::load_dir(dir.path(), &registry).expect("readable");
    assert_eq!(diagnostics.0[0].summary, "No configuration files");
    assert!(Configuration::load_dir(&dir.path().join("missing"), &registry).is_err());
}

#[test]
fn file_and_templatefile_read_relative_to_the_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("setup.sh"), "#!/bin/sh\necho ready\n").expect("write");
    std::fs::write(
        dir.path().join("motd.tpl"),
        "%{ for name in names ~}\nhello ${name}\n%{ endfor ~}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("main.tf"),
        r#"
output "script" {
  value = sha256(file("${path.module}/setup.sh"))
}
output "motd" {
  value = templatefile("motd.tpl", { names = ["a", "b"] })
}
output "json" {
  value = jsonencode({ b = [1, true], a = "x" })
}
"#,
    )
    .expect("write");
    let registry = engine::schema::load_registry().expect("catalogue");
    let (config, diagnostics) = Configuration::load_dir(dir.path(), &registry).expect("readable");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let (evaluated, diagnostics) = evaluate(&config, &InputValues::new(), &NoKnownValues);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(
        evaluated.outputs["motd"].value,
        Value::from("hello a\nhello b\n")
    );
    assert_eq!(
        evaluated.outputs["json"].value,
        Value::from(r#"{"a":"x","b":[1,true]}"#)
    );
    assert_eq!(
        evaluated.outputs["script"].value,
        Value::from("4cd170152c4cdc851a8d365a7ce19868dff1006779c2186108e6b7ae0253d8b4".to_owned())
    );
}

#[test]
fn reevaluation_after_one_resource_matches_a_full_evaluation() {
    let (config, diagnostics) = load(&[("main.tf", QUICKSTART)]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let (first, _) = evaluate(&config, &InputValues::new(), &NoKnownValues);
    let mut known = BTreeMap::new();
    known.insert(
        managed("azureml_workspace", "main"),
        ObjectValue::with_id("/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/demo"),
    );
    let (incremental, diagnostics) = planner::config::reevaluate(
        &config,
        first,
        &InputValues::new(),
        &known,
        &[managed("azureml_workspace", "main")],
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let (full, _) = evaluate(&config, &InputValues::new(), &known);
    assert_eq!(incremental.resources, full.resources);
    assert_eq!(incremental.outputs, full.outputs);
    assert_eq!(
        incremental.outputs["workspace_id"].value,
        Value::from(
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/demo"
        )
    );
    let dev = &incremental.resources
        [&managed("azureml_compute_instance", "dev").with_key(InstanceKey::Index(0))];
    assert_eq!(
        dev.values.get("workspace_id"),
        &Value::from(
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/demo"
        )
    );
}

/// The instance `dev`'s values, evaluated from `instance_body` (a compute instance's extra
/// arguments and blocks) with `locals`.
fn instance_values(locals: &str, instance_body: &str) -> (engine::value::ObjectValue, String) {
    let main = format!(
        r#"{locals}
resource "azureml_workspace" "main" {{
  name                = "demo-ws"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}}

resource "azureml_compute_instance" "dev" {{
  name         = "dev-box"
  workspace_id = azureml_workspace.main.id
  vm_size      = "STANDARD_DS3_V2"
{instance_body}
}}
"#
    );
    let (config, evaluated, diagnostics) = crate::load_and_evaluate(
        &[("main.tf", &main)],
        &planner::config::InputValues::new(),
        &planner::config::NoKnownValues,
    );
    let rendered = planner::render::diagnostic::diagnostics_to_string(
        &config.locate_all(diagnostics),
        config.sources(),
    );
    let values = evaluated
        .and_then(|evaluated| {
            evaluated
                .resources
                .get(&managed("azureml_compute_instance", "dev"))
                .map(|instance| instance.values.clone())
        })
        .unwrap_or_default();
    (values, rendered)
}

#[test]
fn dynamic_blocks_make_one_block_per_element() {
    let locals = r#"locals {
  schedules = {
    morning = { action = "Start", cron = "0 8 * * 1-5" }
    evening = { action = "Stop", cron = "0 19 * * 1-5" }
  }
}"#;
    let (dynamic, diagnostics) = instance_values(
        locals,
        r#"  dynamic "schedule" {
    for_each = local.schedules
    iterator = each_schedule
    content {
      action          = each_schedule.value.action
      cron_expression = each_schedule.value.cron
      time_zone       = "UTC"
    }
  }"#,
    );
    assert_eq!(diagnostics, "");
    let (written, diagnostics) = instance_values(
        locals,
        r#"  schedule {
    action          = "Stop"
    cron_expression = "0 19 * * 1-5"
    time_zone       = "UTC"
  }
  schedule {
    action          = "Start"
    cron_expression = "0 8 * * 1-5"
    time_zone       = "UTC"
  }"#,
    );
    assert_eq!(diagnostics, "");
    assert_eq!(dynamic.get("schedule"), written.get("schedule"));
    assert!(
        matches!(dynamic.get("schedule"), engine::value::Value::List(items) if items.len() == 2)
    );

    // No element: no block; a wrong for_each is located.
    let (none, diagnostics) = instance_values(
        "",
        "  dynamic \"schedule\" {\n    for_each = []\n    content {\n      action          = \"Stop\"\n      cron_expression = \"0 19 * * *\"\n    }\n  }",
    );
    assert_eq!(diagnostics, "");
    assert_eq!(
        none.get("schedule"),
        &engine::value::Value::List(Vec::new())
    );
    let (_, diagnostics) = instance_values(
        "",
        "  dynamic \"schedule\" {\n    for_each = 3\n    content {\n      action          = \"Stop\"\n      cron_expression = \"x\"\n    }\n  }",
    );
    assert!(
        diagnostics.contains("Invalid dynamic for_each value")
            && diagnostics.contains("--> main.tf:13:16"),
        "{diagnostics}"
    );
    let (_, diagnostics) = instance_values("", "  dynamic \"schedule\" {\n    for_each = []\n  }");
    assert!(
        diagnostics.contains("needs `for_each` and a `content` block"),
        "{diagnostics}"
    );
}

#[test]
fn templatestring_and_issensitive_are_evaluated() {
    let main = r#"variable "secret" {
  type      = string
  sensitive = true
  default   = "s3cret"
}

locals {
  template = "Hello, $${name}!"
  greeting = templatestring(local.template, { name = "team" })
  marked   = issensitive(var.secret)
  plain    = issensitive("x")
}

output "greeting" {
  value = local.greeting
}

output "marks" {
  value = [local.marked, local.plain]
}
"#;
    let (_, evaluated, diagnostics) = crate::load_and_evaluate(
        &[("main.tf", main)],
        &planner::config::InputValues::new(),
        &planner::config::NoKnownValues,
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let evaluated = evaluated.expect("evaluated");
    assert_eq!(
        evaluated.outputs["greeting"].value,
        engine::value::Value::from("Hello, team!")
    );
    assert_eq!(
        evaluated.outputs["marks"].value,
        engine::value::Value::List(vec![
            engine::value::Value::Bool(true),
            engine::value::Value::Bool(false)
        ])
    );
}
