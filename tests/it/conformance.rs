//! Conformance: every official API example (`tests/fixtures/azureml-examples/`, copied verbatim
//! from the Azure REST API specs) for an operation the emulator implements is sent to a served
//! emulator over HTTPS; the status code must be one the example lists, and the response must
//! have the example's shape: every key of the example's body, recursively through objects, is
//! present with the same JSON kind (a `null` in the example matches anything: the specs echo
//! secrets as null). Prerequisites (resource group, workspace, the underlying AKS cluster, the
//! compute a GET example reads) are created first, through the same API.
//!
//! Prints `conformance: covered N of M examples` and the examples it did not cover, with why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

const TOKEN: &str = "conformance-token";

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/azureml-examples")
}

/// Every example file, relative to the examples folder, sorted.
fn example_files() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable examples folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = examples_dir();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    files
}

/// How one example maps to a request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Operation {
    ComputePut,
    ComputeGet,
    ComputeList,
    ComputeDelete,
    ComputePatch,
    ComputePost(&'static str),
    WorkspacePut,
    WorkspaceGet,
    WorkspaceDelete,
    WorkspaceList,
    WorkspacePatch,
}

fn operation_of(file: &str) -> Option<Operation> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let stem = name.split('.').next().unwrap_or(name);
    Some(match (file.split('/').next()?, file.contains("createOrUpdate/"), file.contains("/get/"), stem) {
        ("Compute", true, _, _) => Operation::ComputePut,
        ("Compute", _, true, _) => Operation::ComputeGet,
        ("Compute", _, _, "list") => Operation::ComputeList,
        ("Compute", _, _, "delete") => Operation::ComputeDelete,
        ("Compute", _, _, "patch") => Operation::ComputePatch,
        ("Compute", _, _, "listKeys") => Operation::ComputePost("listKeys"),
        ("Compute", _, _, "listNodes") => Operation::ComputePost("listNodes"),
        ("Compute", _, _, "start") => Operation::ComputePost("start"),
        ("Compute", _, _, "stop") => Operation::ComputePost("stop"),
        ("Compute", _, _, "restart") => Operation::ComputePost("restart"),
        ("Workspace", _, _, "create") if file.matches('/').count() == 1 => Operation::WorkspacePut,
        ("Workspace", _, _, "get") if file.matches('/').count() == 1 => Operation::WorkspaceGet,
        ("Workspace", _, _, "delete") if file.matches('/').count() == 1 => Operation::WorkspaceDelete,
        ("Workspace", _, _, "listByResourceGroup") => Operation::WorkspaceList,
        ("Workspace", _, _, "update") if file.matches('/').count() == 1 => Operation::WorkspacePatch,
        _ => return None,
    })
}

/// A served emulator and an HTTPS client that trusts its certificate.
struct Served {
    emulator: emulator::RunningEmulator,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Served {
    async fn start() -> Served {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = emulator::EmulatorConfig::new(dir.path());
        config.token = Some(TOKEN.to_owned());
        let emulator = emulator::start(config).await.expect("the emulator starts");
        let pem = std::fs::read(emulator.ca_certificate().expect("HTTPS writes a certificate"))
            .expect("readable certificate");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM certificate"))
            .build()
            .expect("a client");
        Served { emulator, http, _dir: dir }
    }

    async fn send(&self, method: Method, path: &str, query: &str, body: Option<&Json>) -> (StatusCode, Json) {
        let url = format!("{}{path}?api-version=2026-07-01{query}", self.emulator.url());
        let mut request = self.http.request(method, url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() { Json::Null } else { serde_json::from_str(&text).unwrap_or(Json::String(text)) };
        (status, body)
    }

    /// Sends and requires success (prerequisites).
    async fn ensure(&self, method: Method, path: &str, body: &Json) {
        let (status, answer) = self.send(method.clone(), path, "", Some(body)).await;
        assert!(status.is_success(), "prerequisite {method} {path} failed with {status}: {answer}");
    }
}

fn text<'a>(parameters: &'a Json, name: &str) -> &'a str {
    parameters.get(name).and_then(Json::as_str).unwrap_or_default()
}

fn rg_path(parameters: &Json) -> String {
    format!("/subscriptions/{}/resourceGroups/{}", text(parameters, "subscriptionId"), text(parameters, "resourceGroupName"))
}

fn workspace_path(parameters: &Json) -> String {
    format!("{}/providers/Microsoft.MachineLearningServices/workspaces/{}", rg_path(parameters), text(parameters, "workspaceName"))
}

fn compute_path(parameters: &Json) -> String {
    format!("{}/computes/{}", workspace_path(parameters), text(parameters, "computeName"))
}

/// The keys of `expected` missing (or of another kind) in `actual`, as dotted paths.
fn shape_mismatches(expected: &Json, actual: &Json, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Json::Null, _) => {}
        (Json::Object(expected), Json::Object(actual)) => {
            for (key, value) in expected {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match actual.get(key) {
                    Some(found) => shape_mismatches(value, found, &child, out),
                    None if value.is_null() => {}
                    None => out.push(child),
                }
            }
        }
        (Json::Array(expected), Json::Array(actual)) => {
            if let (Some(first), Some(found)) = (expected.first(), actual.first()) {
                shape_mismatches(first, found, &format!("{path}[0]"), out);
            }
        }
        (Json::String(_), Json::String(_)) | (Json::Bool(_), Json::Bool(_)) | (Json::Number(_), Json::Number(_)) => {}
        _ => out.push(format!("{path} (kind)")),
    }
}

/// Creates what the example's request needs to exist.
async fn prepare(served: &Served, operation: Operation, parameters: &Json, file: &str) {
    served.ensure(Method::PUT, &rg_path(parameters), &json!({"location": "eastus"})).await;
    if matches!(operation, Operation::WorkspacePut | Operation::WorkspaceList) {
        return;
    }
    served.ensure(Method::PUT, &workspace_path(parameters), &json!({"location": "eastus", "properties": {}})).await;
    let compute_type = match operation {
        Operation::ComputeGet => file.rsplit('/').next().unwrap_or_default().trim_end_matches(".json").replace("Compute", ""),
        Operation::ComputePatch | Operation::ComputeDelete | Operation::ComputePost("listNodes") => "Aml".to_owned(),
        Operation::ComputePost("listKeys") => "AKS".to_owned(),
        Operation::ComputePost(_) => "Instance".to_owned(),
        _ => String::new(),
    };
    if compute_type.is_empty() {
        return;
    }
    let body = match compute_type.as_str() {
        "Aml" => json!({"properties": {"computeType": "AmlCompute", "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 1, "minNodeCount": 0}}}}),
        "Instance" => json!({"properties": {"computeType": "ComputeInstance", "properties": {"vmSize": "STANDARD_DS3_V2"}}}),
        "AKS" => json!({"properties": {"computeType": "AKS", "resourceId": aks_cluster(served, parameters).await}}),
        "Kubernetes" => json!({"properties": {"computeType": "Kubernetes", "resourceId": aks_cluster(served, parameters).await, "properties": {"namespace": "default"}}}),
        other => panic!("no prerequisite for compute type `{other}` ({file})"),
    };
    let path = compute_path(parameters);
    served.ensure(Method::PUT, &path, &body).await;
    wait_succeeded(served, &path).await;
}

/// An AKS cluster in the example's resource group to attach.
async fn aks_cluster(served: &Served, parameters: &Json) -> String {
    let id = format!("{}/providers/Microsoft.ContainerService/managedClusters/conformance-aks", rg_path(parameters));
    served
        .ensure(Method::PUT, &id, &json!({"location": "eastus", "properties": {"fqdn": "aks.example", "agentPoolProfiles": [{"count": 3, "vmSize": "Standard_D3_v2"}]}}))
        .await;
    id
}

async fn wait_succeeded(served: &Served, path: &str) {
    for _ in 0..100 {
        let (_, body) = served.send(Method::GET, path, "", None).await;
        if body.pointer("/properties/provisioningState").and_then(Json::as_str) == Some("Succeeded") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("`{path}` did not reach Succeeded");
}

/// Rewrites `resourceId`s in an example body to an underlying resource that exists.
async fn with_existing_resources(served: &Served, parameters: &Json, mut body: Json) -> Json {
    if let Some(resource_id) = body.pointer_mut("/properties/resourceId")
        && resource_id.is_string()
    {
        *resource_id = Json::String(aks_cluster(served, parameters).await);
    }
    body
}

#[tokio::test]
async fn every_implemented_example_conforms() {
    let files = example_files();
    let mut covered = Vec::new();
    let mut not_covered = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        let Some(operation) = operation_of(file) else {
            not_covered.push(format!("{file} (operation not implemented by the emulator yet)"));
            continue;
        };
        let example: Json = serde_json::from_str(&std::fs::read_to_string(examples_dir().join(file)).expect("readable"))
            .expect("examples are JSON");
        // A fresh emulator per example: the examples reuse names (`compute123`) across kinds.
        let served = Served::start().await;
        let parameters = &example["parameters"];
        let responses = example["responses"].as_object().expect("responses");
        let codes: BTreeSet<u16> = responses.keys().filter_map(|code| code.parse().ok()).collect();
        prepare(&served, operation, parameters, file).await;
        let body = parameters.get("parameters").or_else(|| parameters.get("body")).cloned();
        let (method, path, query) = match operation {
            Operation::ComputePut => (Method::PUT, compute_path(parameters), String::new()),
            Operation::ComputeGet => (Method::GET, compute_path(parameters), String::new()),
            Operation::ComputeList => (Method::GET, format!("{}/computes", workspace_path(parameters)), String::new()),
            Operation::ComputeDelete => (
                Method::DELETE,
                compute_path(parameters),
                format!("&underlyingResourceAction={}", text(parameters, "underlyingResourceAction")),
            ),
            Operation::ComputePatch => (Method::PATCH, compute_path(parameters), String::new()),
            Operation::ComputePost(action) => (Method::POST, format!("{}/{action}", compute_path(parameters)), String::new()),
            Operation::WorkspacePut => (Method::PUT, workspace_path(parameters), String::new()),
            Operation::WorkspaceGet => (Method::GET, workspace_path(parameters), String::new()),
            Operation::WorkspaceDelete => (Method::DELETE, workspace_path(parameters), String::new()),
            Operation::WorkspaceList => (
                Method::GET,
                format!("{}/providers/Microsoft.MachineLearningServices/workspaces", rg_path(parameters)),
                String::new(),
            ),
            Operation::WorkspacePatch => (Method::PATCH, workspace_path(parameters), String::new()),
        };
        let body = match body {
            Some(body) if matches!(method, Method::PUT | Method::PATCH) => Some(with_existing_resources(&served, parameters, body).await),
            _ => None,
        };
        let (status, answer) = served.send(method.clone(), &path, &query, body.as_ref()).await;
        if !codes.contains(&status.as_u16()) {
            failures.push(format!("{file}: {method} {path} answered {status}, the example lists {codes:?}: {answer}"));
            served.emulator.shutdown().await;
            continue;
        }
        if let Some(expected) = responses.get(status.as_str()).and_then(|response| response.get("body")) {
            let mut missing = Vec::new();
            shape_mismatches(expected, &answer, "", &mut missing);
            if !missing.is_empty() {
                failures.push(format!("{file}: the {status} body lacks {missing:?}"));
                served.emulator.shutdown().await;
                continue;
            }
        }
        served.emulator.shutdown().await;
        covered.push(file.clone());
    }
    println!("conformance: covered {} of {} examples", covered.len(), files.len());
    for file in &not_covered {
        println!("  not covered: {file}");
    }
    assert!(failures.is_empty(), "{} examples do not conform:\n{}", failures.len(), failures.join("\n"));
    assert!(covered.len() >= 20, "only {} examples covered", covered.len());
}
