//! Fuzz targets (the engine is `e2e::fuzz`): HCL loading and evaluation with the diagnostics
//! rendered, the state reader, the provider's msgpack and JSON value decoders, and the
//! emulator's request bodies over real HTTP. Each runs `FUZZ_ITERATIONS` inputs (1,500 by
//! default) and fails on any panic, naming the files the inputs were written to; the emulator
//! target also fails on a 5xx or a non-ARM error body. `scripts/fuzz` runs long ones.

use std::path::Path;

use e2e::fuzz::{self, Report};
use engine::value::Value;
use provider::convert::cty::{self, CtyType};
use provider::convert::json::ExtraAttributes;

#[track_caller]
#[allow(
    clippy::print_stdout,
    reason = "the figures of a fuzz run are its output (`scripts/fuzz`)"
)]
fn no_panics(target: &str, report: &Report) {
    println!("{}", report.summary(target));
    assert!(
        report.panics.is_empty(),
        "{}\n{}",
        report.summary(target),
        report
            .panics
            .iter()
            .take(5)
            .map(|(message, path)| format!("  {message} (input: {})", path.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every `.tf` file of `examples/`.
fn example_files() -> Vec<Vec<u8>> {
    let root = e2e::workspace_root().join("examples");
    let mut files = Vec::new();
    for example in std::fs::read_dir(&root).expect("examples") {
        let example = example.expect("entry").path();
        let Ok(entries) = std::fs::read_dir(&example) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "tf") {
                files.push(std::fs::read(&path).expect("read"));
            }
        }
    }
    assert!(!files.is_empty(), "no example configurations");
    files
}

const HCL_TOKENS: &[&str] = &[
    "${",
    "%{",
    "%{ for x in [1, 2] }",
    "%{ endfor }",
    "%{ if true }",
    "%{ endif }",
    "<<EOT\n",
    "\nEOT\n",
    "count = 3\n",
    "for_each = toset([\"a\"])\n",
    "var.",
    "local.",
    "each.key",
    "count.index",
    "format(\"%5d\", ",
    "format(\"%999999999d\", 1)",
    "jsondecode(\"[[[[1]]]]\")",
    "sensitive(",
    "nonsensitive(",
    "try(",
    "can(",
    "[for x in [1] : x]",
    "{for k, v in {} : k => v}",
    "...",
    "? 1 : 2",
    "&&",
    "||",
    "!",
    "==",
    "azureml_workspace.main.id",
    ".*.",
    "[*]",
    "resource \"azureml_compute_cluster\" \"c\" {\n",
    "locals {\n",
    "output \"o\" {\n",
    "variable \"v\" {\n  sensitive = true\n  default = \"s\"\n}\n",
    "terraform {\n",
    "required_version = \">= 1.0\"\n",
    "# comment\n",
    "/* c */",
    "//",
    "replace(",
    "join(",
];

#[test]
fn hcl_loading_evaluation_and_diagnostics_never_panic() {
    let registry = engine::schema::load_registry().expect("catalogue");
    let dir = tempfile::tempdir().expect("temp dir");
    let report = fuzz::run("hcl", &example_files(), HCL_TOKENS, |input| {
        let text = String::from_utf8_lossy(input);
        let (config, diagnostics) = planner::config::Configuration::from_sources(
            dir.path(),
            &[("main.tf", &text)],
            &registry,
        );
        let mut all = diagnostics;
        if !all.has_errors() {
            let inputs = planner::config::InputValues::new();
            let (_, more) =
                planner::config::evaluate(&config, &inputs, &planner::config::NoKnownValues);
            all.extend(more);
        }
        let mut rendered = Vec::new();
        config
            .render_diagnostics(&all, &mut rendered)
            .expect("rendering to memory");
        !all.has_errors()
    });
    no_panics("hcl", &report);
}

/// States as amlplan and Terraform write them: every fixture state the tests keep, plus one
/// with each resource type.
fn state_seeds() -> Vec<Vec<u8>> {
    let workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
    let resources: Vec<serde_json::Value> = [
        ("azureml_workspace", workspace.to_owned(), None),
        ("azureml_compute_cluster", format!("{workspace}/computes/cpu"), Some(0)),
        ("azureml_compute_cluster", format!("{workspace}/computes/gpu"), Some(1)),
        ("azureml_attached_virtual_machine", format!("{workspace}/computes/vm"), None),
    ]
    .into_iter()
    .map(|(kind, id, key)| {
        let mut instance = serde_json::json!({"schema_version": 0, "attributes": {
            "id": id, "name": id.rsplit('/').next(), "workspace_id": workspace,
            "max_node_count": 4, "ssh_private_key": "sha256:digest", "tags": {"a": "b"}},
            "sensitive_attributes": [], "dependencies": ["azureml_workspace.w"]});
        if let Some(key) = key {
            instance["index_key"] = key.into();
        }
        serde_json::json!({"mode": "managed", "type": kind, "name": format!("r{}", key.unwrap_or(9)),
            "provider": engine::state::PROVIDER_CONFIG, "instances": [instance]})
    })
    .collect();
    let state = serde_json::json!({"version": 4, "terraform_version": "1.11.4", "serial": 3,
        "lineage": "l", "outputs": {"o": {"value": "x", "type": "string"}},
        "resources": resources, "check_results": null});
    vec![
        serde_json::to_vec_pretty(&state).expect("JSON"),
        br#"{"version": 4, "terraform_version": "1.0.3", "serial": 1, "lineage": "l", "outputs": {}, "resources": []}"#.to_vec(),
    ]
}

#[test]
fn the_state_reader_never_panics() {
    let registry = engine::schema::load_registry().expect("catalogue");
    let tokens = &[
        "\"index_key\": 0,",
        "\"index_key\": \"k\",",
        "\"module\": \"module.x\",",
        "\"deposed\": \"d\",",
        "\"mode\": \"data\",",
        "\"each\": \"map\",",
        "\"attributes\": null,",
        "\"id\": \"/subscriptions\",",
    ];
    let report = fuzz::run("state", &state_seeds(), tokens, |input| {
        let text = String::from_utf8_lossy(input);
        let Ok(mut state) =
            engine::state::State::from_json_unchecked(&text, Path::new("terraform.tfstate"))
        else {
            return false;
        };
        let findings = state.check(&registry);
        let _ = state.prior(&registry);
        let _ = state.to_json();
        for addr in state.addrs() {
            let _ = state.move_instance(&addr, &addr.without_key());
        }
        !findings.has_errors()
    });
    no_panics("state", &report);
}

/// Each resource type's object type, with a value of it encoded by the provider itself.
fn typed_seeds(encode: impl Fn(&Value, &CtyType) -> Vec<u8>) -> (Vec<CtyType>, Vec<Vec<u8>>) {
    let registry = engine::schema::load_registry().expect("catalogue");
    let mut types = Vec::new();
    let mut seeds = Vec::new();
    for schema in registry.iter() {
        let ty = cty::resource_type(schema);
        let mut object = std::collections::BTreeMap::new();
        for (name, attribute) in &schema.attributes {
            let value = match &attribute.ty {
                engine::schema::AttrType::String => Value::from("text"),
                engine::schema::AttrType::Number => Value::from(4),
                engine::schema::AttrType::Bool => Value::Bool(true),
                _ => Value::Null,
            };
            object.insert(name.clone(), value);
        }
        seeds.push(encode(&Value::Map(object), &ty));
        types.push(ty);
    }
    (types, seeds)
}

#[test]
fn the_providers_msgpack_decoder_never_panics() {
    let (types, seeds) = typed_seeds(|value, ty| {
        provider::convert::msgpack::encode(value, ty).expect("the provider encodes its own values")
    });
    let tokens = &[
        "\u{c0}",
        "\u{c3}",
        "\u{d4}\u{00}\u{00}",
        "\u{dc}\u{ff}\u{ff}",
        "\u{df}\u{7f}\u{ff}\u{ff}\u{ff}",
    ];
    // Every input is decoded as every resource type (the seeds are of one each).
    let report = fuzz::run("msgpack", &seeds, tokens, |input| {
        let mut accepted = false;
        for ty in &types {
            if let Ok(value) = provider::convert::msgpack::decode(input, ty) {
                let again = provider::convert::msgpack::encode(&value, ty)
                    .expect("a decoded value encodes");
                assert_eq!(
                    provider::convert::msgpack::decode(&again, ty).ok(),
                    Some(value),
                    "a decoded value round-trips"
                );
                accepted = true;
            }
        }
        accepted
    });
    no_panics("msgpack", &report);
}

#[test]
fn the_providers_json_decoder_never_panics() {
    let (types, seeds) = typed_seeds(|value, _| value.to_json().to_string().into_bytes());
    let tokens = &[
        "{\"unknown\": 1}",
        "[[[[[[[[[[[[[[[[",
        "1e400",
        "\"\\ud800\"",
    ];
    let report = fuzz::run("json", &seeds, tokens, |input| {
        let mut accepted = false;
        for ty in &types {
            for extra in [ExtraAttributes::Reject, ExtraAttributes::Drop] {
                accepted |= provider::convert::json::decode(input, ty, extra).is_ok();
            }
        }
        accepted
    });
    no_panics("json", &report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulators_request_bodies_never_panic_or_answer_5xx() {
    use emulator::{DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION};
    let served = crate::client::serve(|config| config.tls = false).await;
    let workspace = format!(
        "/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/fuzzing"
    );
    let client = reqwest::Client::new();
    let put = |path: String, body: Vec<u8>| {
        client
            .put(format!("{}{path}?api-version=2026-07-01", served.url()))
            .bearer_auth(crate::client::TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let created = put(
        workspace.clone(),
        br#"{"location": "eastus", "properties": {}}"#.to_vec(),
    )
    .await
    .expect("the emulator answers");
    assert!(created.status().is_success(), "{created:?}");
    // The official examples' request bodies, each sent to a path of its kind.
    let examples = e2e::workspace_root().join("tests/fixtures/azureml-examples");
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (folder, path) in [
        (
            "Compute/createOrUpdate",
            format!("{workspace}/computes/fuzzed"),
        ),
        ("Job/CommandJob", format!("{workspace}/jobs/fuzzed-job")),
        (
            "Workspace/EnvironmentVersion",
            format!("{workspace}/environments/fuzzed/versions/1"),
        ),
    ] {
        for entry in std::fs::read_dir(examples.join(folder)).expect("examples") {
            let file = entry.expect("entry").path();
            if !file.file_name().is_some_and(|name| {
                name.to_string_lossy().starts_with("createOrUpdate")
                    || folder.starts_with("Compute")
            }) {
                continue;
            }
            let example: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("JSON");
            let parameters = &example["parameters"];
            let body = if parameters["parameters"].is_object() {
                &parameters["parameters"]
            } else {
                &parameters["body"]
            };
            assert!(body.is_object(), "{} has a request body", file.display());
            // One compute name per example: one kind per name.
            let path = path.replace(
                "fuzzed",
                &format!("fuzz{}", char::from(b'a' + seeds.len() as u8)),
            );
            seeds.push((path, serde_json::to_vec(body).expect("JSON")));
        }
    }
    assert!(seeds.len() >= 10, "the examples' bodies: {}", seeds.len());
    // A seed is the index of its path, then its body: mutations mostly keep the pair.
    let bodies: Vec<Vec<u8>> = seeds
        .iter()
        .enumerate()
        .map(|(index, (_, body))| [vec![b'0'.wrapping_add(index as u8)], body.clone()].concat())
        .collect();
    let tokens = &[
        "\"maxNodeCount\": 1e30,",
        "\"computeType\": \"Kubernetes\",",
        "\"properties\": null,",
        "\"tags\": {},",
    ];
    // The fuzz engine is synchronous: each input is sent from a blocking thread.
    let handle = tokio::runtime::Handle::current();
    let failures = std::sync::Mutex::new(Vec::new());
    let report = tokio::task::block_in_place(|| {
        fuzz::run("emulator", &bodies, tokens, |input| {
            let Some((&first, body)) = input.split_first() else {
                return false;
            };
            let (path, _) = &seeds[usize::from(first.wrapping_sub(b'0')) % seeds.len()];
            let answer = handle.block_on(async {
                let response = put(path.clone(), body.to_vec())
                    .await
                    .expect("the emulator answers");
                let status = response.status();
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                (
                    status,
                    content_type,
                    response.text().await.unwrap_or_default(),
                )
            });
            let (status, content_type, text) = answer;
            if status.is_server_error() {
                failures
                    .lock()
                    .expect("lock")
                    .push(format!("{status} for {path}: {text}"));
            } else if status.is_client_error() {
                let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if !content_type.starts_with("application/json")
                    || !json["error"]["code"].is_string()
                {
                    failures
                        .lock()
                        .expect("lock")
                        .push(format!("{status} is not ARM-shaped: {text}"));
                }
            }
            status.is_success()
        })
    });
    no_panics("emulator", &report);
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} bad answers, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
}
