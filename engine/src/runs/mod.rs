//! Environments and runs: the values computed on the client before planning, and the submission
//! of a run (code snapshot upload, job, waiting with its log) in [`submit`].
//!
//! Plan-time values (through the kinds' hooks, `crate::resource::fill_plan_time_values`, which
//! both front ends call on each configured object before planning, so a plan shows what causes
//! a new version or a new run):
//!
//! | kind                  | value            | computed from                                            |
//! |-----------------------|------------------|----------------------------------------------------------|
//! | `azureml_environment` | `version` (unset)| a SHA-256 of the definition: image, conda file, python path, variables, OS |
//! | `azureml_run`         | `snapshot_hash`  | the snapshot of `source_dir` ([`crate::snapshot`], the SDK's hash 202208) |
//! | `azureml_run`         | `command` (unset)| `python <script> <arguments>`                            |
//!
//! The same function checks what the catalogue cannot say: an environment is exactly one of an
//! image (with an optional conda file) or a user-managed interpreter; a run has a command or a
//! script, not both; `snapshot_hash` is never configured.

pub mod submit;

use std::path::Path;

use sha2::{Digest as _, Sha256};

use crate::addr::{AttrPath, ResourceAddr};
use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::ResourceSchema;
use crate::snapshot::Snapshot;
use crate::value::{ObjectValue, Value};

pub use submit::{RunEvent, submit_run, wait_for_run};

use crate::api::{ApiError, CloudApi};
use crate::diag::error_chain;

/// The service's default CPU image (Ubuntu 22.04, Open MPI), for `image`.
pub const DEFAULT_CPU_IMAGE: &str = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest";

/// The service's default GPU image (CUDA 11.8, cuDNN 8, Ubuntu 22.04), for `image`.
pub const DEFAULT_GPU_IMAGE: &str =
    "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest";

/// The attributes of an environment's content, in the order the derived version hashes them.
const ENVIRONMENT_CONTENT: [&str; 5] = [
    "image",
    "conda_file",
    "python_path",
    "environment_variables",
    "os_type",
];

fn is_set(values: &ObjectValue, name: &str) -> bool {
    !values.get(name).is_null()
}

/// Fills an environment's derived `version` (when unset) and checks its definition (the
/// `environment_version` hooks, `crate::resource::environment`).
pub(crate) fn fill_environment(
    addr: &ResourceAddr,
    values: &mut ObjectValue,
    diags: &mut Diagnostics,
) {
    let error = |name: &str, summary: &str, detail: String| {
        Diagnostic::error(summary, detail).at_attr(addr, AttrPath::attr(name))
    };
    match (
        is_set(values, "image"),
        is_set(values, "conda_file"),
        is_set(values, "python_path"),
    ) {
        (_, _, true) if is_set(values, "image") || is_set(values, "conda_file") => {
            diags.push(error(
                "python_path",
                "Conflicting environment definitions",
                format!(
                    "`{addr}` sets `python_path` (a user-managed interpreter: nothing is installed) together \
                     with `image` or `conda_file`. Keep one: an image (optionally with a conda file), or an \
                     interpreter path."
                ),
            ));
        }
        (false, true, false) => diags.push(error(
            "conda_file",
            "Conda file without an image",
            format!(
                "`{addr}` sets `conda_file` but no `image` to install it on. Set `image`, for example \
                 `\"{DEFAULT_CPU_IMAGE}\"` (the service's default CPU image)."
            ),
        )),
        (false, false, false) => diags.push(error(
            "image",
            "Environment without a definition",
            format!(
                "`{addr}` needs `image` (optionally with `conda_file`) or `python_path`. The service's default \
                 images are `\"{DEFAULT_CPU_IMAGE}\"` (CPU) and `\"{DEFAULT_GPU_IMAGE}\"` (GPU)."
            ),
        )),
        _ => {}
    }
    if is_set(values, "version") {
        return;
    }
    let content: Vec<&Value> = ENVIRONMENT_CONTENT
        .iter()
        .map(|name| values.get(name))
        .collect();
    let version = if content.iter().any(|value| value.contains_unknown()) {
        Value::Unknown
    } else {
        Value::String(environment_version(values))
    };
    values.set("version", version);
}

/// The version derived from an environment's content: the first 16 hex digits of a SHA-256 over
/// each content attribute's name and JSON value (`os_type` unset counts as `Linux`, the default).
///
/// ```
/// use engine::value::ObjectValue;
/// let mut a = ObjectValue::default();
/// a.set("image", "python:3.11".into());
/// let mut b = a.clone();
/// b.set("os_type", "Linux".into());
/// assert_eq!(engine::runs::environment_version(&a), engine::runs::environment_version(&b));
/// b.set("image", "python:3.12".into());
/// assert_ne!(engine::runs::environment_version(&a), engine::runs::environment_version(&b));
/// ```
pub fn environment_version(values: &ObjectValue) -> String {
    let mut hasher = Sha256::new();
    for name in ENVIRONMENT_CONTENT {
        let value = match (name, values.get(name)) {
            ("os_type", Value::Null) => Value::from("Linux"),
            (_, value) => value.clone(),
        };
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.to_json().to_string().as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())[..16].to_owned()
}

/// Fills a run's `snapshot_hash` and `command` and checks its settings (the `run` hooks,
/// `crate::resource::run`).
pub(crate) fn fill_run(
    addr: &ResourceAddr,
    values: &mut ObjectValue,
    base_dir: &Path,
    diags: &mut Diagnostics,
) {
    if is_set(values, "snapshot_hash") {
        diags.push(
            Diagnostic::error(
                "Computed argument set",
                format!(
                    "`{addr}`: `snapshot_hash` is computed from `source_dir` at plan time; remove it."
                ),
            )
            .at_attr(addr, AttrPath::attr("snapshot_hash")),
        );
    }
    match (is_set(values, "command"), is_set(values, "script")) {
        (true, true) => diags.push(
            Diagnostic::error(
                "Conflicting run commands",
                format!(
                    "`{addr}` sets both `command` and `script`. Set `command` for a full command line, or \
                     `script` (with `arguments`) for `python <script> <arguments>`."
                ),
            )
            .at_attr(addr, AttrPath::attr("script")),
        ),
        (false, false) => diags.push(
            Diagnostic::error(
                "Run without a command",
                format!(
                    "`{addr}` needs `command` (a command line run in the snapshot folder) or `script` (a \
                     Python file inside `source_dir`)."
                ),
            )
            .at_attr(addr, AttrPath::attr("command")),
        ),
        (false, true) => {
            let command = script_command(values.get("script"), values.get("arguments"));
            values.set("command", command);
        }
        (true, false) => {}
    }
    let hash = match values.get("source_dir") {
        Value::Null => Value::Null,
        Value::String(dir) => {
            match Snapshot::scan(&base_dir.join(dir)).and_then(|snapshot| snapshot.content_hash()) {
                Ok(hash) => Value::String(hash),
                Err(error) => {
                    diags.push(
                        Diagnostic::error(
                            "Source folder cannot be snapshotted",
                            format!("`{addr}`: {}", crate::diag::error_chain(&error)),
                        )
                        .at_attr(addr, AttrPath::attr("source_dir")),
                    );
                    Value::Unknown
                }
            }
        }
        _ => Value::Unknown,
    };
    values.set("snapshot_hash", hash);
}

/// `python <script> <arguments>`, each argument quoted for a POSIX shell when it needs it;
/// unknown while any part is unknown.
fn script_command(script: &Value, arguments: &Value) -> Value {
    let Value::String(script) = script else {
        return Value::Unknown;
    };
    let mut words = vec!["python".to_owned(), shell_quote(script)];
    match arguments {
        Value::Null => {}
        Value::List(items) => {
            for item in items {
                match item {
                    Value::String(text) => words.push(shell_quote(text)),
                    Value::Number(number) => {
                        words.push(Value::Number(*number).to_json().to_string())
                    }
                    Value::Bool(flag) => words.push(flag.to_string()),
                    _ => return Value::Unknown,
                }
            }
        }
        _ => return Value::Unknown,
    }
    Value::String(words.join(" "))
}

/// `text` as one word of a POSIX shell command line.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Archives the asset version at `id` (a re-PUT of what the service holds, with
/// `isArchived: true`: versions are never deleted): what destroying an environment version
/// does. Already gone is success.
pub async fn archive(cloud: &dyn CloudApi, id: &str) -> Result<(), String> {
    let mut body = match cloud.arm_call("GET", id, &[], None).await {
        Ok(answer) => answer.json(),
        Err(ApiError::NotFound { .. }) => return Ok(()),
        Err(error) => return Err(error_chain(&error)),
    };
    let Some(properties) = body.get_mut("properties").and_then(|p| p.as_object_mut()) else {
        return Err(format!("`{id}` has no `properties` to archive"));
    };
    properties.insert("isArchived".to_owned(), serde_json::Value::Bool(true));
    let request = serde_json::json!({"properties": body["properties"].clone()});
    cloud
        .arm_call("PUT", id, &[], Some(&request))
        .await
        .map_err(|error| format!("failed to archive `{id}`: {}", error_chain(&error)))?;
    Ok(())
}

/// Updates the run `before` (a recorded job of `schema`) in place to `desired`: the job's tags
/// are the only part the service changes (GET, then PUT with the new tags, only when they
/// differ); the client-side settings are recorded as configured, the rest stays as it was.
/// Returns the object to record.
pub async fn update_run(
    cloud: &dyn CloudApi,
    schema: &ResourceSchema,
    before: &ObjectValue,
    desired: &ObjectValue,
) -> Result<ObjectValue, String> {
    let id = before
        .get_str("id")
        .ok_or("the prior object has no `id`")?
        .to_owned();
    if before.get("tags") != desired.get("tags") {
        let mut body = cloud
            .arm_call("GET", &id, &[], None)
            .await
            .map_err(|error| error_chain(&error))?
            .json();
        body["properties"]["tags"] = desired.get("tags").to_json();
        cloud
            .arm_call("PUT", &id, &[], Some(&body))
            .await
            .map_err(|error| error_chain(&error))?;
    }
    let mut object = before.clone();
    for (name, attribute) in &schema.attributes {
        if attribute.presence.is_configurable() {
            object.set(name, desired.get(name).clone());
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests;
