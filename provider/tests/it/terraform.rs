//! Real Terraform binaries load the provider through the go-plugin handshake and AutoMTLS and
//! accept its schema: `terraform validate` on a configuration with one block of every resource
//! type, and a `one_of` violation reported at the offending line. Terraform >= 1.1 also runs its
//! own schema checks (`InternalValidate`) on load, so a schema it refuses fails here.
//!
//! Binaries: the three versions `scripts/install-terraform` installs (1.0.3, 1.11.4, 1.15.5); any
//! of them missing fails the tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use engine::schema::{AttrType, Attribute, Format, Presence, ResourceSchema, Rule};

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The terraform versions the project installs (`e2e::terraform_binaries`, which fails when
/// one is missing), each with its version line.
pub(crate) fn terraform_binaries() -> Vec<(PathBuf, String)> {
    e2e::terraform_binaries()
        .into_iter()
        .map(|terraform| (terraform.path, terraform.version))
        .collect()
}

/// A scratch working folder whose CLI config runs the test build of the provider via
/// `dev_overrides` (no `terraform init`).
pub(crate) struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub(crate) fn new(main_tf: &str) -> Workdir {
        let dir = tempfile::tempdir().expect("tempdir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir(&plugins).expect("plugins folder");
        std::os::unix::fs::symlink(
            crate::plugin::binary(),
            plugins.join("terraform-provider-azureml"),
        )
        .expect("symlink");
        let config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider::PROVIDER_ADDRESS,
            plugins.display()
        );
        std::fs::write(dir.path().join("terraformrc"), config).expect("CLI config");
        std::fs::create_dir(dir.path().join("config")).expect("config folder");
        std::fs::write(dir.path().join("config/main.tf"), main_tf).expect("main.tf");
        Workdir { dir }
    }

    /// Terraform's working folder (the configuration; the embedded emulator's `.azureml/`).
    pub(crate) fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub(crate) fn run(&self, terraform: &Path, args: &[&str]) -> std::process::Output {
        let mut command = Command::new(terraform);
        for (key, value) in std::env::vars() {
            if !(key.starts_with("TF_") || key.starts_with("PLUGIN_")) {
                command.env(key, value);
            }
        }
        command
            .args(args)
            .current_dir(self.dir.path().join("config"))
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("terraformrc"))
            .env("HOME", self.dir.path())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs")
    }
}

/// A literal of the attribute's type that meets its constraints (the first allowed value for
/// closed sets, an ARM id of the first type for ids).
fn literal(attribute: &Attribute) -> String {
    match &attribute.ty {
        AttrType::String => match (&attribute.constraints.format, attribute.one_of.first()) {
            (_, Some(first)) => format!("{first:?}"),
            (Some(Format::ArmId { types }), None) => {
                let (namespace, kinds) = types[0].split_once('/').expect("namespace/type");
                let path: Vec<String> =
                    kinds.split('/').map(|kind| format!("{kind}/xyz")).collect();
                format!(
                    "\"/subscriptions/0/resourceGroups/rg/providers/{namespace}/{}\"",
                    path.join("/")
                )
            }
            (Some(Format::Duration { .. }), None) => "\"PT20M\"".to_owned(),
            (None, None) => "\"xyz\"".to_owned(),
        },
        AttrType::Number => attribute
            .constraints
            .minimum
            .unwrap_or(1.0)
            .max(1.0)
            .to_string(),
        AttrType::Bool => "true".to_owned(),
        AttrType::List(_) => "[]".to_owned(),
        AttrType::Map(_) => "{}".to_owned(),
        AttrType::Object(_) => "{}".to_owned(),
    }
}

/// One resource block setting every required argument (and required nested block), and one
/// argument of each group the catalogue's rules require one of.
fn resource_block(schema: &ResourceSchema) -> String {
    let mut block = format!("resource \"{}\" \"each\" {{\n", schema.type_name);
    required_body(&schema.attributes, "  ", &mut block);
    for rule in &schema.rules {
        if let Rule::OneRequired { attributes, .. } = rule {
            let attribute = schema
                .attribute(&attributes[0])
                .expect("a top-level attribute");
            block.push_str(&format!("  {} = {}\n", attributes[0], literal(attribute)));
        }
    }
    block.push_str("}\n");
    block
}

fn required_body(
    attributes: &std::collections::BTreeMap<String, Attribute>,
    indent: &str,
    out: &mut String,
) {
    for (name, attribute) in attributes {
        if attribute.presence != Presence::Required {
            continue;
        }
        match (&attribute.ty, provider::convert::cty::nesting(attribute)) {
            (AttrType::Object(nested), _) => {
                out.push_str(&format!("{indent}{name} {{\n"));
                required_body(nested, &format!("{indent}  "), out);
                out.push_str(&format!("{indent}}}\n"));
            }
            (AttrType::List(element), _) if matches!(**element, AttrType::Object(_)) => {
                if let AttrType::Object(nested) = &**element {
                    out.push_str(&format!("{indent}{name} {{\n"));
                    required_body(nested, &format!("{indent}  "), out);
                    out.push_str(&format!("{indent}}}\n"));
                }
            }
            _ => out.push_str(&format!("{indent}{name} = {}\n", literal(attribute))),
        }
    }
}

fn header() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    azureml = {{ source = \"{}\" }}\n  }}\n}}\n\nprovider \"azureml\" {{}}\n\n",
        provider::PROVIDER_ADDRESS
    )
}

#[test]
fn terraform_accepts_every_resource_schema() {
    let registry = engine::schema::load_registry().expect("catalogue");
    let mut main_tf = header();
    for schema in registry.iter() {
        main_tf.push_str(&resource_block(schema));
    }
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let output = workdir.run(&terraform, &["validate", "-no-color"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "{version}: validate failed:\n{text}\n--- main.tf\n{main_tf}"
        );
        assert!(
            text.contains("The configuration is valid"),
            "{version}: {text}"
        );

        let schema = workdir.run(&terraform, &["providers", "schema", "-json"]);
        assert!(
            schema.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&schema.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&schema.stdout).expect("schema JSON");
        let served = &json["provider_schemas"][provider::PROVIDER_ADDRESS]["resource_schemas"];
        for resource in registry.iter() {
            assert!(
                served.get(&resource.type_name).is_some(),
                "{version}: {} in the schema",
                resource.type_name
            );
        }
    }
}

#[test]
fn terraform_shows_the_catalogue_constraints_at_validate_and_at_plan() {
    // A literal is checked by ValidateResourceConfig; a variable is unknown there and checked by
    // PlanResourceChange once Terraform knows it. Nothing is created either way.
    let main_tf = format!(
        "{}variable \"nodes\" {{\n  default = -5\n}}\n\n\
         resource \"azureml_workspace\" \"main\" {{\n  name = \"constraints-ws\"\n  resource_group_name = \"rg\"\n  location = \"westeurope\"\n}}\n\n\
         resource \"azureml_compute_cluster\" \"fraction\" {{\n  name = \"fraction\"\n  workspace_id = azureml_workspace.main.id\n  vm_size = \"STANDARD_DS3_V2\"\n  max_node_count = 1.5\n}}\n",
        header()
    );
    let fraction_line = main_tf
        .lines()
        .position(|line| line.contains("1.5"))
        .expect("the line")
        + 1;
    let from_variable = main_tf.replace("max_node_count = 1.5", "max_node_count = var.nodes");
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let output = workdir.run(&terraform, &["validate", "-no-color"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{version}: 1.5 nodes passed validate"
        );
        assert!(
            stderr.contains("`max_node_count` must be a whole number, not 1.5.")
                && stderr.contains(&format!("on main.tf line {fraction_line}")),
            "{version}: {stderr}"
        );

        let workdir = Workdir::new(&from_variable);
        let validated = workdir.run(&terraform, &["validate", "-no-color"]);
        assert!(
            validated.status.success(),
            "{version}: an unknown value is checked at plan, not validate: {}",
            String::from_utf8_lossy(&validated.stderr)
        );
        let planned = workdir.run(&terraform, &["plan", "-no-color", "-input=false"]);
        let stderr = String::from_utf8_lossy(&planned.stderr);
        assert!(
            !planned.status.success(),
            "{version}: -5 nodes were planned"
        );
        assert!(
            stderr.contains("`max_node_count` must be between 0 and 2147483647, not -5."),
            "{version}: {stderr}"
        );
        assert!(
            !workdir.config_dir().join("terraform.tfstate").exists(),
            "{version}: plan wrote a state"
        );
    }
}

#[test]
fn terraform_shows_our_validation_at_the_offending_line() {
    let registry = engine::schema::load_registry().expect("catalogue");
    let cluster = registry
        .get("azureml_compute_cluster")
        .expect("compute cluster in the catalogue");
    let priority = cluster.attribute("vm_priority").expect("vm_priority");
    assert!(!priority.one_of.is_empty(), "vm_priority has a closed set");
    let block =
        resource_block(cluster).replace("resource \"azureml_compute_cluster\" \"each\" {\n", "");
    let main_tf = format!(
        "{}resource \"azureml_compute_cluster\" \"each\" {{\n  vm_priority = \"Sometimes\"\n{block}",
        header()
    );
    let line = main_tf
        .lines()
        .position(|line| line.contains("Sometimes"))
        .expect("the line")
        + 1;
    for (terraform, version) in terraform_binaries() {
        let workdir = Workdir::new(&main_tf);
        let output = workdir.run(&terraform, &["validate", "-no-color"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{version}: an invalid value passed"
        );
        assert!(
            stderr.contains("Error: Invalid value"),
            "{version}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("on main.tf line {line}")),
            "{version}: {stderr}"
        );
        assert!(
            stderr.contains("`vm_priority` must be one of"),
            "{version}: {stderr}"
        );
    }
}
