//! Conformance: every official API example (`tests/fixtures/azureml-examples/`, copied verbatim
//! from the Azure REST API specs) for an operation the emulator implements is sent to a served
//! emulator over HTTPS; the status code must be one the example lists, and the response must
//! have the example's shape: every key of the example's body, recursively through objects, is
//! present with the same JSON kind (a `null` in the example matches anything: the specs echo
//! secrets as null). Prerequisites are created first, through the same API, so that the request
//! meets the state the example assumes: the resource group, the workspace, the underlying AKS
//! clusters the example's `resourceId`s name, and, for a read or an update example, the object
//! itself, PUT from the example's response body without its read-only fields (the service
//! computes those, so the emulator must produce them). List examples create every listed item.
//! Job bodies name their compute, environment and code by placeholder (`"string"`): those are
//! replaced by the ids of a cluster, an environment version and a code version created first, as
//! an attach example's `resourceId` is replaced by an AKS cluster created first. Free-form maps
//! (`properties.tags`) are compared by kind: their keys are data (one example answers other keys
//! than it sends).
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
    /// `codes` or `environments`; `true` for a version.
    AssetPut(&'static str, bool),
    AssetGet(&'static str, bool),
    StartPendingUpload,
    JobPut,
    JobGet,
    JobList,
    JobCancel,
    JobDelete,
}

fn operation_of(file: &str) -> Option<Operation> {
    let name = file.rsplit('/').next().unwrap_or(file);
    let stem = name.split('.').next().unwrap_or(name);
    Some(
        match (
            file.split('/').next()?,
            file.contains("createOrUpdate/"),
            file.contains("/get/"),
            stem,
        ) {
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
            ("Workspace", _, _, "create") if file.matches('/').count() == 1 => {
                Operation::WorkspacePut
            }
            ("Workspace", _, _, "get") if file.matches('/').count() == 1 => Operation::WorkspaceGet,
            ("Workspace", _, _, "delete") if file.matches('/').count() == 1 => {
                Operation::WorkspaceDelete
            }
            ("Workspace", _, _, "listByResourceGroup") => Operation::WorkspaceList,
            ("Workspace", _, _, "update") if file.matches('/').count() == 1 => {
                Operation::WorkspacePatch
            }
            ("Workspace", _, _, stem) if file.matches('/').count() == 2 => {
                let folder = file.split('/').nth(1).unwrap_or_default();
                let collection = if folder.starts_with("Code") {
                    "codes"
                } else if folder.starts_with("Environment") {
                    "environments"
                } else {
                    return None;
                };
                let version = folder.ends_with("Version");
                match stem {
                    "createOrUpdate" => Operation::AssetPut(collection, version),
                    "get" => Operation::AssetGet(collection, version),
                    "createOrGetStartPendingUpload" if collection == "codes" => {
                        Operation::StartPendingUpload
                    }
                    _ => return None,
                }
            }
            ("Job", _, _, "createOrUpdate") => Operation::JobPut,
            ("Job", _, _, "get") => Operation::JobGet,
            ("Job", _, _, "list") => Operation::JobList,
            ("Job", _, _, "cancel") => Operation::JobCancel,
            ("Job", _, _, "delete") => Operation::JobDelete,
            _ => return None,
        },
    )
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
        let pem = std::fs::read(
            emulator
                .ca_certificate()
                .expect("HTTPS writes a certificate"),
        )
        .expect("readable certificate");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM certificate"))
            .build()
            .expect("a client");
        Served {
            emulator,
            http,
            _dir: dir,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<&Json>,
    ) -> (StatusCode, Json) {
        let url = format!(
            "{}{path}?api-version=2026-07-01{query}",
            self.emulator.url()
        );
        let mut request = self.http.request(method, url).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        (status, body)
    }

    /// Sends and requires success (prerequisites).
    async fn ensure(&self, method: Method, path: &str, body: &Json) {
        let (status, answer) = self.send(method.clone(), path, "", Some(body)).await;
        assert!(
            status.is_success(),
            "prerequisite {method} {path} failed with {status}: {answer}"
        );
    }
}

fn text<'a>(parameters: &'a Json, name: &str) -> &'a str {
    parameters
        .get(name)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

fn rg_path(parameters: &Json) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}",
        text(parameters, "subscriptionId"),
        text(parameters, "resourceGroupName")
    )
}

fn workspace_path(parameters: &Json) -> String {
    format!(
        "{}/providers/Microsoft.MachineLearningServices/workspaces/{}",
        rg_path(parameters),
        text(parameters, "workspaceName")
    )
}

fn compute_path(parameters: &Json) -> String {
    format!(
        "{}/computes/{}",
        workspace_path(parameters),
        text(parameters, "computeName")
    )
}

/// The path of an asset's or job's item (`{WS}/codes/{name}[/versions/{version}]`, `{WS}/jobs/{id}`).
fn item_path(parameters: &Json, collection: &str, version: bool) -> String {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    if collection == "jobs" {
        return format!(
            "{}/jobs/{}",
            workspace_path(parameters),
            encode(text(parameters, "id"))
        );
    }
    let mut path = format!(
        "{}/{collection}/{}",
        workspace_path(parameters),
        encode(text(parameters, "name"))
    );
    if version {
        path.push_str(&format!(
            "/versions/{}",
            encode(text(parameters, "version"))
        ));
    }
    path
}

/// Free-form string maps: their keys are data, so only the kinds of their values are compared.
const MAP_PATHS: &[&str] = &["properties.tags"];

/// The keys of `expected` missing (or of another kind) in `actual`, as dotted paths.
fn shape_mismatches(expected: &Json, actual: &Json, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Json::Null, _) => {}
        (Json::Object(expected), Json::Object(actual)) if MAP_PATHS.contains(&path) => {
            if let Some(kind) = expected.values().next() {
                for (key, value) in actual {
                    shape_mismatches(kind, value, &format!("{path}.{key}"), out);
                }
            }
        }
        (Json::Object(expected), Json::Object(actual)) => {
            for (key, value) in expected {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match actual.get(key) {
                    Some(found) => shape_mismatches(value, found, &child, out),
                    None if value.is_null() => {}
                    None => out.push(child),
                }
            }
        }
        (Json::Array(expected), Json::Array(actual)) => {
            // Elements of one array may differ (listNodes: the running node has a `runId`, the idle
            // one has not): every element found must have the keys all example elements share.
            if let Some(element) = common_shape(expected) {
                for (index, found) in actual.iter().enumerate() {
                    shape_mismatches(&element, found, &format!("{path}[{index}]"), out);
                }
            }
        }
        (Json::String(_), Json::String(_))
        | (Json::Bool(_), Json::Bool(_))
        | (Json::Number(_), Json::Number(_)) => {}
        _ => out.push(format!("{path} (kind)")),
    }
}

/// The first element, restricted (for objects) to the keys every element has.
fn common_shape(elements: &[Json]) -> Option<Json> {
    let first = elements.first()?.clone();
    let Json::Object(mut shape) = first else {
        return Some(first);
    };
    shape.retain(|key, _| elements.iter().all(|element| element.get(key).is_some()));
    Some(Json::Object(shape))
}

/// Fields the spec marks read-only (`visibility=["read"]`): a client never sends them, the service
/// computes them. Dotted paths from the resource body; `*` is any map key.
const READ_ONLY: &[&str] = &[
    "id",
    "name",
    "type",
    "systemData",
    "identity.principalId",
    "identity.tenantId",
    "identity.userAssignedIdentities.*.principalId",
    "identity.userAssignedIdentities.*.clientId",
    // Compute base.
    "properties.provisioningState",
    "properties.createdOn",
    "properties.modifiedOn",
    "properties.provisioningErrors",
    "properties.isAttachedCompute",
    // AmlCompute.
    "properties.properties.allocationState",
    "properties.properties.allocationStateTransitionTime",
    "properties.properties.errors",
    "properties.properties.currentNodeCount",
    "properties.properties.targetNodeCount",
    "properties.properties.nodeStateCounts",
    // ComputeInstance.
    "properties.properties.osImageMetadata",
    "properties.properties.connectivityEndpoints",
    "properties.properties.applications",
    "properties.properties.createdBy",
    "properties.properties.state",
    "properties.properties.lastOperation",
    "properties.properties.containers",
    "properties.properties.dataDisks",
    "properties.properties.dataMounts",
    "properties.properties.versions",
    "properties.properties.sshSettings.adminUserName",
    "properties.properties.sshSettings.sshPort",
    // AKS.
    "properties.properties.systemServices",
    // Workspace.
    "properties.workspaceId",
    "properties.tenantId",
    "properties.mlFlowTrackingUri",
    "properties.serviceProvisionedResourceGroup",
    "properties.storageHnsEnabled",
    "properties.privateLinkCount",
    "properties.privateEndpointConnections",
    "properties.notebookInfo",
    "properties.managedNetwork.networkId",
    "properties.managedNetwork.changeableIsolationModes",
    // Asset containers and versions.
    "properties.latestVersion",
    "properties.nextVersion",
    "properties.environmentType",
    // Jobs.
    "properties.status",
    "properties.parameters",
    "properties.services.*.status",
    "properties.services.*.errorMessage",
];

fn remove_path(json: &mut Json, segments: &[&str]) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let Some(object) = json.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        if *first == "*" {
            object.clear();
        } else {
            object.remove(*first);
        }
        return;
    }
    for (key, value) in object.iter_mut() {
        if *first == "*" || key == first {
            remove_path(value, rest);
        }
    }
}

/// What a client sends to get `body`: the body without its read-only fields.
fn writable(body: &Json) -> Json {
    let mut body = body.clone();
    for path in READ_ONLY {
        remove_path(&mut body, &path.split('.').collect::<Vec<_>>());
    }
    body
}

/// `base` with `overlay` merged in, recursively through objects.
fn merged(mut base: Json, overlay: &Json) -> Json {
    match (base.as_object_mut(), overlay.as_object()) {
        (Some(target), Some(entries)) => {
            for (key, value) in entries {
                let merged_value = match target.remove(key) {
                    Some(existing) => merged(existing, value),
                    None => value.clone(),
                };
                target.insert(key.clone(), merged_value);
            }
            base
        }
        _ => overlay.clone(),
    }
}

/// The spec's PUT examples that update an existing compute (the spec titles it "Update a AML
/// Compute": its request carries only the changed scale settings).
const UPDATE_EXAMPLES: &[&str] = &["Compute/createOrUpdate/AmlCompute.json"];

/// The smallest valid creation body of a compute type (what the example leaves out is filled from
/// it: the update examples' responses omit e.g. the `vmSize` a creation needs).
fn minimal_compute(compute_type: &str) -> Json {
    match compute_type {
        "AmlCompute" => {
            json!({"properties": {"computeType": "AmlCompute", "properties": {"vmSize": "STANDARD_DS3_V2", "scaleSettings": {"maxNodeCount": 1, "minNodeCount": 0}}}})
        }
        "ComputeInstance" => {
            json!({"properties": {"computeType": "ComputeInstance", "properties": {"vmSize": "STANDARD_DS3_V2"}}})
        }
        "AKS" => json!({"properties": {"computeType": "AKS", "resourceId": AKS_CLUSTER}}),
        "Kubernetes" => {
            json!({"properties": {"computeType": "Kubernetes", "resourceId": AKS_CLUSTER, "properties": {"namespace": "default"}}})
        }
        other => panic!("no creation body for compute type `{other}`"),
    }
}

/// Stands for the conformance AKS cluster in [`minimal_compute`]; [`with_existing_resources`]
/// replaces it.
const AKS_CLUSTER: &str = "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/conformance-aks";

/// Creates a compute as `body` describes it (missing creation inputs from the minimal body of its
/// type) and waits until it is provisioned.
async fn create_compute(served: &Served, parameters: &Json, name: &str, body: &Json) {
    let compute_type = body
        .pointer("/properties/computeType")
        .and_then(Json::as_str)
        .expect("a computeType");
    let body = merged(minimal_compute(compute_type), &writable(body));
    let body = with_existing_resources(served, parameters, body).await;
    let path = format!("{}/computes/{name}", workspace_path(parameters));
    served.ensure(Method::PUT, &path, &body).await;
    wait_succeeded(served, &path).await;
}

/// Creates a workspace as `body` describes it and waits until it is provisioned.
async fn create_workspace(served: &Served, parameters: &Json, name: &str, body: &Json) {
    let body = merged(
        json!({"location": "eastus", "properties": {}}),
        &writable(body),
    );
    let path = format!(
        "{}/providers/Microsoft.MachineLearningServices/workspaces/{name}",
        rg_path(parameters)
    );
    served.ensure(Method::PUT, &path, &body).await;
    wait_succeeded(served, &path).await;
}

/// The body of the example's success response (200 first).
fn response_body(example: &Json) -> Option<&Json> {
    ["200", "201", "202"]
        .iter()
        .find_map(|code| example["responses"][*code].get("body"))
}

/// Creates what the example's request needs to exist.
async fn prepare(served: &Served, operation: Operation, example: &Json, file: &str) {
    let parameters = &example["parameters"];
    served
        .ensure(
            Method::PUT,
            &rg_path(parameters),
            &json!({"location": "eastus"}),
        )
        .await;
    let existing = response_body(example).cloned().unwrap_or(Json::Null);
    match operation {
        Operation::WorkspacePut => return,
        Operation::WorkspaceList => {
            for item in existing["value"].as_array().into_iter().flatten() {
                create_workspace(
                    served,
                    parameters,
                    item["name"].as_str().expect("named"),
                    item,
                )
                .await;
            }
            return;
        }
        Operation::WorkspaceGet | Operation::WorkspacePatch => {
            create_workspace(
                served,
                parameters,
                text(parameters, "workspaceName"),
                &existing,
            )
            .await;
            return;
        }
        _ => {}
    }
    served
        .ensure(
            Method::PUT,
            &workspace_path(parameters),
            &json!({"location": "eastus", "properties": {}}),
        )
        .await;
    match operation {
        Operation::AssetGet(collection, version) => {
            served
                .ensure(
                    Method::PUT,
                    &item_path(parameters, collection, version),
                    &writable(&existing),
                )
                .await;
            return;
        }
        Operation::JobGet => {
            let body = with_job_prerequisites(served, parameters, writable(&existing)).await;
            served
                .ensure(Method::PUT, &item_path(parameters, "jobs", false), &body)
                .await;
            return;
        }
        Operation::JobList => {
            for item in existing["value"].as_array().into_iter().flatten() {
                let body = with_job_prerequisites(served, parameters, writable(item)).await;
                let path = format!(
                    "{}/jobs/{}",
                    workspace_path(parameters),
                    item["name"].as_str().expect("named")
                );
                served.ensure(Method::PUT, &path, &body).await;
            }
            return;
        }
        Operation::JobCancel | Operation::JobDelete => {
            // A running job (the examples' success codes include both 200 and 202).
            let body = json!({"properties": {"jobType": "Command", "command": "sleep 30", "environmentId": "string", "computeId": "string"}});
            let body = with_job_prerequisites(served, parameters, body).await;
            served
                .ensure(Method::PUT, &item_path(parameters, "jobs", false), &body)
                .await;
            return;
        }
        _ => {}
    }
    let name = text(parameters, "computeName");
    match operation {
        Operation::ComputeList => {
            for item in existing["value"].as_array().into_iter().flatten() {
                create_compute(
                    served,
                    parameters,
                    item["name"].as_str().expect("named"),
                    item,
                )
                .await;
            }
        }
        Operation::ComputeGet | Operation::ComputePatch => {
            create_compute(served, parameters, name, &existing).await
        }
        Operation::ComputePut if UPDATE_EXAMPLES.contains(&file) => {
            // The compute as it was before the update, in the location the update names.
            let mut before = existing;
            if let Some(location) = parameters["parameters"].get("location") {
                before["location"] = location.clone();
            }
            create_compute(served, parameters, name, &before).await;
        }
        Operation::ComputePost("listNodes") => {
            // As many nodes as the example lists, kept by the minimum node count.
            let nodes = existing["nodes"].as_array().map_or(0, Vec::len);
            let body = json!({"properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": nodes.max(1), "minNodeCount": nodes}}}});
            create_compute(served, parameters, name, &body).await;
        }
        Operation::ComputePost("listKeys") => {
            create_compute(
                served,
                parameters,
                name,
                &json!({"properties": {"computeType": "AKS"}}),
            )
            .await
        }
        Operation::ComputePost(_) => {
            create_compute(
                served,
                parameters,
                name,
                &json!({"properties": {"computeType": "ComputeInstance"}}),
            )
            .await
        }
        Operation::ComputeDelete => {
            create_compute(
                served,
                parameters,
                name,
                &json!({"properties": {"computeType": "AmlCompute"}}),
            )
            .await
        }
        _ => {}
    }
}

/// Creates the AKS cluster `id` names (in the example's subscription and group) for an attach.
async fn aks_cluster(served: &Served, parameters: &Json, id: &str) -> String {
    let id = id
        .replace("{subscription}", text(parameters, "subscriptionId"))
        .replace("{group}", text(parameters, "resourceGroupName"));
    served
        .ensure(Method::PUT, &id, &json!({"location": "eastus", "properties": {"fqdn": "aks.example", "agentPoolProfiles": [{"count": 3, "vmSize": "Standard_D3_v2"}]}}))
        .await;
    id
}

/// Replaces a job body's placeholder `computeId`, `environmentId` and `codeId` by the ids of a
/// cluster, an environment version and a code version it creates (bodies without `jobType` are
/// returned as they are).
async fn with_job_prerequisites(served: &Served, parameters: &Json, mut body: Json) -> Json {
    if body.pointer("/properties/jobType").is_none() {
        return body;
    }
    let workspace = workspace_path(parameters);
    let compute = format!("{workspace}/computes/conformance-cpu");
    if served.send(Method::GET, &compute, "", None).await.0 != StatusCode::OK {
        create_compute(
            served,
            parameters,
            "conformance-cpu",
            &json!({"properties": {"computeType": "AmlCompute"}}),
        )
        .await;
    }
    let environment = format!("{workspace}/environments/conformance-env/versions/1");
    served
        .ensure(
            Method::PUT,
            &environment,
            &json!({"properties": {"image": "python:3.12"}}),
        )
        .await;
    let code = format!("{workspace}/codes/conformance-code/versions/1");
    served
        .ensure(
            Method::PUT,
            &code,
            &json!({"properties": {"codeUri": "https://blobStorage/folderName"}}),
        )
        .await;
    let properties = &mut body["properties"];
    properties["computeId"] = json!(compute);
    properties["environmentId"] = json!(environment);
    if properties.get("codeId").is_some() {
        properties["codeId"] = json!(code);
    }
    body
}

async fn wait_succeeded(served: &Served, path: &str) {
    for _ in 0..100 {
        let (_, body) = served.send(Method::GET, path, "", None).await;
        if body
            .pointer("/properties/provisioningState")
            .and_then(Json::as_str)
            == Some("Succeeded")
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("`{path}` did not reach Succeeded");
}

/// Creates the underlying resource a body's `resourceId` names, so that the attach finds it.
async fn with_existing_resources(served: &Served, parameters: &Json, mut body: Json) -> Json {
    if let Some(id) = body
        .pointer("/properties/resourceId")
        .and_then(Json::as_str)
        .map(str::to_owned)
    {
        body["properties"]["resourceId"] = Json::String(aks_cluster(served, parameters, &id).await);
    }
    body
}

#[tokio::test]
#[allow(
    clippy::print_stdout,
    reason = "the coverage report is what this test prints"
)]
async fn every_implemented_example_conforms() {
    let files = example_files();
    let mut covered = Vec::new();
    let mut not_covered = Vec::new();
    let mut failures = Vec::new();
    for file in &files {
        let Some(operation) = operation_of(file) else {
            not_covered.push(format!(
                "{file} (operation not implemented by the emulator yet)"
            ));
            continue;
        };
        let example: Json = serde_json::from_str(
            &std::fs::read_to_string(examples_dir().join(file)).expect("readable"),
        )
        .expect("examples are JSON");
        // A fresh emulator per example: the examples reuse names (`compute123`) across kinds.
        let served = Served::start().await;
        let parameters = &example["parameters"];
        let responses = example["responses"].as_object().expect("responses");
        let codes: BTreeSet<u16> = responses
            .keys()
            .filter_map(|code| code.parse().ok())
            .collect();
        prepare(&served, operation, &example, file).await;
        let body = parameters
            .get("parameters")
            .or_else(|| parameters.get("body"))
            .cloned();
        let (method, path, query) = match operation {
            Operation::ComputePut => (Method::PUT, compute_path(parameters), String::new()),
            Operation::ComputeGet => (Method::GET, compute_path(parameters), String::new()),
            Operation::ComputeList => (
                Method::GET,
                format!("{}/computes", workspace_path(parameters)),
                String::new(),
            ),
            Operation::ComputeDelete => (
                Method::DELETE,
                compute_path(parameters),
                format!(
                    "&underlyingResourceAction={}",
                    text(parameters, "underlyingResourceAction")
                ),
            ),
            Operation::ComputePatch => (Method::PATCH, compute_path(parameters), String::new()),
            Operation::ComputePost(action) => (
                Method::POST,
                format!("{}/{action}", compute_path(parameters)),
                String::new(),
            ),
            Operation::WorkspacePut => (Method::PUT, workspace_path(parameters), String::new()),
            Operation::WorkspaceGet => (Method::GET, workspace_path(parameters), String::new()),
            Operation::WorkspaceDelete => {
                (Method::DELETE, workspace_path(parameters), String::new())
            }
            Operation::WorkspaceList => (
                Method::GET,
                format!(
                    "{}/providers/Microsoft.MachineLearningServices/workspaces",
                    rg_path(parameters)
                ),
                String::new(),
            ),
            Operation::WorkspacePatch => (Method::PATCH, workspace_path(parameters), String::new()),
            Operation::AssetPut(collection, version) => (
                Method::PUT,
                item_path(parameters, collection, version),
                String::new(),
            ),
            Operation::AssetGet(collection, version) => (
                Method::GET,
                item_path(parameters, collection, version),
                String::new(),
            ),
            Operation::StartPendingUpload => (
                Method::POST,
                format!(
                    "{}/startPendingUpload",
                    item_path(parameters, "codes", true)
                ),
                String::new(),
            ),
            Operation::JobPut => (
                Method::PUT,
                item_path(parameters, "jobs", false),
                String::new(),
            ),
            Operation::JobGet => (
                Method::GET,
                item_path(parameters, "jobs", false),
                String::new(),
            ),
            Operation::JobList => (
                Method::GET,
                format!("{}/jobs", workspace_path(parameters)),
                String::new(),
            ),
            Operation::JobCancel => (
                Method::POST,
                format!("{}/cancel", item_path(parameters, "jobs", false)),
                String::new(),
            ),
            Operation::JobDelete => (
                Method::DELETE,
                item_path(parameters, "jobs", false),
                String::new(),
            ),
        };
        let body = match body {
            Some(body) if matches!(method, Method::PUT | Method::PATCH) => {
                let body = with_existing_resources(&served, parameters, body).await;
                Some(with_job_prerequisites(&served, parameters, body).await)
            }
            Some(body) if operation == Operation::StartPendingUpload => Some(body),
            _ => None,
        };
        let (status, answer) = served
            .send(method.clone(), &path, &query, body.as_ref())
            .await;
        if !codes.contains(&status.as_u16()) {
            failures.push(format!(
                "{file}: {method} {path} answered {status}, the example lists {codes:?}: {answer}"
            ));
            served.emulator.shutdown().await;
            continue;
        }
        if let Some(expected) = responses
            .get(status.as_str())
            .and_then(|response| response.get("body"))
        {
            let mut expected = expected.clone();
            // ARM sends `nextLink` only when another page follows and omits it on the last page;
            // the examples show a first page of a longer list, the emulator's lists here fit one.
            if let Some(object) = expected.as_object_mut() {
                object.remove("nextLink");
            }
            let mut missing = Vec::new();
            shape_mismatches(&expected, &answer, "", &mut missing);
            if !missing.is_empty() {
                failures.push(format!("{file}: the {status} body lacks {missing:?}"));
                served.emulator.shutdown().await;
                continue;
            }
        }
        served.emulator.shutdown().await;
        covered.push(file.clone());
    }
    println!(
        "conformance: covered {} of {} examples",
        covered.len(),
        files.len()
    );
    for file in &not_covered {
        println!("  not covered: {file}");
    }
    assert!(
        failures.is_empty(),
        "{} examples do not conform:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every example: computes, workspaces, code and environment assets, jobs.
    assert!(
        not_covered.is_empty(),
        "examples not covered: {not_covered:?}"
    );
    assert!(
        covered.len() >= 39,
        "only {} examples covered",
        covered.len()
    );
}
