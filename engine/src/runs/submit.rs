//! Submitting a run and waiting for it, through [`CloudApi`]'s raw ARM and data-plane calls.
//!
//! | step | calls |
//! |---|---|
//! | snapshot | [`Snapshot::scan`] of `source_dir`; its hash must be the planned `snapshot_hash` |
//! | reuse | `GET {ws}/codes/amlplan-snapshots/versions?hash={h}&hashVersion=202208`: a version with this content is used as it is |
//! | upload | `POST {ws}/codes/amlplan-snapshots/versions/{v}/startPendingUpload` (`blobUri`, `sasUri`); the container is listed with metadata; a file whose SHA-256 some blob already holds (`x-ms-meta-sha256`) is copied server-side (`x-ms-copy-source`), any other file is `PUT` with its `sha256`; then `PUT` of the code version with `codeUri = blobUri` and `properties.hash_sha256`/`hash_version` |
//! | submit | `PUT {ws}/jobs/{name}`: a `Command` job with `codeId`, literal `inputs` and the git properties the SDK records (`mlflow.source.git.*`, `azureml.git.dirty`) |
//! | wait | `GET {ws}/jobs/{name}` until `Completed`/`Failed`/`Canceled`; new log text from the emulator's `{job}/_emulator/logs?offset=N` (absent on the real service: then only statuses are shown) |
//!
//! The code version is named by the first 16 digits of the hash, so an interrupted upload is
//! resumed under the same version. A failed or canceled run is an error that carries the last
//! [`LOG_TAIL_LINES`] lines of its log.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::api::{ApiError, CloudApi, RawAnswer, from_arm, to_arm};
use crate::diag::error_chain;
use crate::schema::ResourceSchema;
use crate::snapshot::{HASH_VERSION, Snapshot, git_info};
use crate::value::{ObjectValue, Value};

/// The code container that holds run snapshots.
pub const CODE_CONTAINER: &str = "amlplan-snapshots";

/// How many log lines a failed run's error carries.
pub const LOG_TAIL_LINES: usize = 20;

/// How often a running job is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Progress of a run, for display.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A step of the submission, in words.
    Progress(String),
    /// The job's status changed.
    Status(String),
    /// New text of the job's log.
    Log(String),
}

/// What the code upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadSummary {
    /// Files in the snapshot.
    pub files: usize,
    /// Files sent (their content was new to the storage).
    pub uploaded: usize,
    /// Files copied server-side from a blob with the same content.
    pub copied: usize,
    /// True when a code version with the same hash existed (nothing was sent).
    pub reused: bool,
}

fn fail(error: &ApiError, doing: &str) -> String {
    format!("{doing}: {}", error_chain(error))
}

/// Submits the run `desired` (a planned object of `schema`, values resolved) and returns the
/// job as the service shows it right after submission, with the client-side values kept.
/// `base_dir` is the configuration folder (`source_dir` is relative to it).
pub async fn submit_run(
    cloud: &dyn CloudApi,
    schema: &ResourceSchema,
    desired: &ObjectValue,
    base_dir: &Path,
    events: &(dyn Fn(RunEvent) + Send + Sync),
) -> Result<ObjectValue, String> {
    let workspace = desired
        .get_str("workspace_id")
        .ok_or("the run has no `workspace_id`")?
        .to_owned();
    let mut body = to_arm(schema, desired);
    let properties = body
        .get_mut("properties")
        .and_then(Json::as_object_mut)
        .ok_or("the job body has no `properties`")?;
    properties.insert("jobType".to_owned(), json!("Command"));

    let mut hash_prefix = "nocode".to_owned();
    if let Some(dir) = desired.get_str("source_dir") {
        let root = base_dir.join(dir);
        let snapshot = Snapshot::scan(&root).map_err(|error| error_chain(&error))?;
        let hash = snapshot
            .content_hash()
            .map_err(|error| error_chain(&error))?;
        if let Some(planned) = desired.get_str("snapshot_hash")
            && planned != hash
        {
            return Err(format!(
                "the content of `{dir}` changed since the plan (snapshot hash `{planned}` planned, `{hash}` now); run plan again"
            ));
        }
        let (code_id, summary) = upload_code(cloud, &workspace, &snapshot, &hash).await?;
        events(RunEvent::Progress(if summary.reused {
            format!(
                "snapshot {} ({} files) reused from code version `{code_id}`",
                &hash[..12],
                summary.files
            )
        } else {
            format!(
                "snapshot {} ({} files): {} uploaded, {} copied from content the workspace already holds",
                &hash[..12],
                summary.files,
                summary.uploaded,
                summary.copied
            )
        }));
        properties.insert("codeId".to_owned(), json!(code_id));
        hash_prefix = hash[..8].to_owned();
        if let Some(git) = git_info(&root) {
            let run_properties = properties
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or("job `properties.properties` is not an object")?;
            let mut set = |key: &str, value: &str| {
                run_properties.insert(key.to_owned(), json!(value));
            };
            if let Some(commit) = &git.commit {
                set("mlflow.source.git.commit", commit);
                set("azureml.git.commit", commit);
            }
            if let Some(branch) = &git.branch {
                set("mlflow.source.git.branch", branch);
                set("azureml.git.branch", branch);
            }
            if let Some(repository) = &git.repository {
                set("mlflow.source.git.repoURL", repository);
                set("azureml.git.repository_uri", repository);
            }
            set(
                "azureml.git.dirty",
                if git.dirty { "True" } else { "False" },
            );
        }
    }
    if let Value::Map(inputs) = desired.get("inputs") {
        let inputs: serde_json::Map<String, Json> = inputs
            .iter()
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_json().to_string(),
                };
                (
                    name.clone(),
                    json!({"jobInputType": "literal", "value": text}),
                )
            })
            .collect();
        properties.insert("inputs".to_owned(), Json::Object(inputs));
    }

    let experiment = desired.get_str("experiment_name").unwrap_or("Default");
    let name = job_name(experiment, &hash_prefix, rand::random::<u32>());
    let path = format!("{workspace}/jobs/{name}");
    let answer = cloud
        .arm_call("PUT", &path, &[], Some(&body))
        .await
        .map_err(|error| fail(&error, "failed to submit the job"))?;
    let submitted = answer.json();
    Ok(keep_client_side(
        schema,
        from_arm(schema, &submitted),
        desired,
    ))
}

/// The read object plus the configured values the service does not return.
fn keep_client_side(
    schema: &ResourceSchema,
    read: ObjectValue,
    desired: &ObjectValue,
) -> ObjectValue {
    schema.merge_sent(read, desired)
}

/// `{experiment}-{hash prefix}-{random}`, lower case, only letters, digits, `-` and `_`.
fn job_name(experiment: &str, hash_prefix: &str, random: u32) -> String {
    let clean: String = experiment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("{clean}-{hash_prefix}-{random:08x}")
}

/// Finds or uploads the code version of `snapshot` (content hash `hash`); returns its ARM id.
pub async fn upload_code(
    cloud: &dyn CloudApi,
    workspace: &str,
    snapshot: &Snapshot,
    hash: &str,
) -> Result<(String, UploadSummary), String> {
    let mut summary = UploadSummary {
        files: snapshot.files.len(),
        ..UploadSummary::default()
    };
    let container = format!("{workspace}/codes/{CODE_CONTAINER}");
    let existing = cloud
        .arm_call(
            "GET",
            &format!("{container}/versions"),
            &[("hash", hash), ("hashVersion", HASH_VERSION)],
            None,
        )
        .await;
    match existing {
        Ok(answer) => {
            if let Some(id) = answer
                .json()
                .get("value")
                .and_then(Json::as_array)
                .and_then(|versions| versions.first())
                .and_then(|version| version.get("id"))
                .and_then(Json::as_str)
            {
                summary.reused = true;
                return Ok((id.to_owned(), summary));
            }
        }
        Err(ApiError::NotFound { .. }) => {}
        Err(error) => return Err(fail(&error, "failed to look up the code snapshot")),
    }
    let version = &hash[..16];
    let version_path = format!("{container}/versions/{version}");
    let pending = cloud
        .arm_call(
            "POST",
            &format!("{version_path}/startPendingUpload"),
            &[],
            Some(&json!({"pendingUploadType": "TemporaryBlobReference"})),
        )
        .await
        .map_err(|error| fail(&error, "failed to start the code upload"))?
        .json();
    let reference = &pending["blobReferenceForConsumption"];
    let blob_uri = reference["blobUri"]
        .as_str()
        .ok_or("`startPendingUpload` answered without `blobUri`")?
        .trim_end_matches('/')
        .to_owned();
    let sas_uri = reference["credential"]["sasUri"]
        .as_str()
        .ok_or("`startPendingUpload` answered without `credential.sasUri`")?;
    let sas = sas_uri
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or("");
    let storage = BlobFolder::new(&blob_uri, sas)?;
    let known = storage.contents_by_sha256(cloud).await?;
    for file in &snapshot.files {
        let target = storage.blob_url(&file.relative);
        let headers_common = vec![
            ("x-ms-blob-type".to_owned(), "BlockBlob".to_owned()),
            ("x-ms-version".to_owned(), "2023-11-03".to_owned()),
        ];
        let answer = match known.get(&file.sha256) {
            Some(source) => {
                let mut headers = headers_common;
                headers.push(("x-ms-copy-source".to_owned(), storage.authorized(source)));
                summary.copied += 1;
                // An empty body, so the request says `Content-Length: 0`: Azure Storage
                // refuses a Put Blob without one (411 MissingContentLengthHeader).
                cloud
                    .data_call("PUT", &target, headers, Some(Vec::new()))
                    .await
            }
            None => {
                let bytes = std::fs::read(&file.path).map_err(|error| {
                    format!("failed to read `{}`: {error}", file.path.display())
                })?;
                let mut headers = headers_common;
                headers.push(("x-ms-meta-sha256".to_owned(), file.sha256.clone()));
                summary.uploaded += 1;
                cloud.data_call("PUT", &target, headers, Some(bytes)).await
            }
        };
        let answer = answer.map_err(|error| fail(&error, "failed to upload the snapshot"))?;
        check_blob(&answer, &file.relative)?;
    }
    let registered = cloud
        .arm_call(
            "PUT",
            &version_path,
            &[],
            Some(&json!({"properties": {
                "codeUri": blob_uri,
                "isAnonymous": false,
                "properties": {"hash_sha256": hash, "hash_version": HASH_VERSION},
            }})),
        )
        .await;
    let code = match registered {
        Ok(answer) => answer.json(),
        // Another run registered the same content first (runs of one snapshot in parallel, or
        // an upload resumed after a crash): its version holds the same hash, so it is used.
        Err(error) if error.status() == Some(409) => {
            let existing = cloud
                .arm_call("GET", &version_path, &[], None)
                .await
                .map_err(|error| fail(&error, "failed to read the code snapshot"))?
                .json();
            if existing.pointer("/properties/properties/hash_sha256") != Some(&json!(hash)) {
                return Err(fail(&error, "failed to register the code snapshot"));
            }
            existing
        }
        Err(error) => return Err(fail(&error, "failed to register the code snapshot")),
    };
    let id = code["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| version_path.clone());
    Ok((id, summary))
}

fn check_blob(answer: &RawAnswer, relative: &str) -> Result<(), String> {
    if (200..300).contains(&answer.status) {
        return Ok(());
    }
    let body = String::from_utf8_lossy(&answer.body);
    let code = answer
        .header("x-ms-error-code")
        .map(str::to_owned)
        .or_else(|| xml_text(&body, "Code"))
        .unwrap_or_default();
    let message = xml_text(&body, "Message").unwrap_or_default();
    Err(format!(
        "uploading `{relative}` failed: blob storage answered {}: `{code}`: {message}",
        answer.status
    ))
}

/// A blob folder (`blobUri`) and the SAS that authorizes it.
struct BlobFolder {
    /// `blobUri` without a trailing `/`.
    folder: String,
    /// The container's URL (`…/{container}`), for listing and copy sources.
    container: String,
    /// The SAS query (without `?`).
    sas: String,
}

impl BlobFolder {
    fn new(blob_uri: &str, sas: &str) -> Result<BlobFolder, String> {
        let url = url::Url::parse(blob_uri)
            .map_err(|_| format!("`blobUri` `{blob_uri}` is not a URL"))?;
        let segments: Vec<&str> = url.path().trim_start_matches('/').split('/').collect();
        // The emulator serves `/_blob/{account}/{container}/...`; Azure `/{container}/...`.
        let depth = if segments.first() == Some(&"_blob") {
            3
        } else {
            1
        };
        if segments.len() < depth {
            return Err(format!("`blobUri` `{blob_uri}` names no container"));
        }
        let mut container = url.clone();
        container.set_query(None);
        container.set_path(&format!("/{}", segments[..depth].join("/")));
        Ok(BlobFolder {
            folder: blob_uri.to_owned(),
            container: container.as_str().trim_end_matches('/').to_owned(),
            sas: sas.to_owned(),
        })
    }

    fn authorized(&self, url: &str) -> String {
        if self.sas.is_empty() {
            url.to_owned()
        } else {
            format!("{url}?{}", self.sas)
        }
    }

    /// The URL (with SAS) of `relative` inside the folder, each segment percent-encoded.
    fn blob_url(&self, relative: &str) -> String {
        let encoded: Vec<String> = relative
            .split('/')
            .map(|segment| {
                url::form_urlencoded::byte_serialize(segment.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20")
            })
            .collect();
        self.authorized(&format!("{}/{}", self.folder, encoded.join("/")))
    }

    /// Every blob of the container that records its content's SHA-256 (`x-ms-meta-sha256`):
    /// sha256 → the blob's URL (without SAS).
    async fn contents_by_sha256(
        &self,
        cloud: &dyn CloudApi,
    ) -> Result<std::collections::BTreeMap<String, String>, String> {
        let mut known = std::collections::BTreeMap::new();
        let mut marker = String::new();
        loop {
            let mut url = format!(
                "{}?restype=container&comp=list&include=metadata",
                self.container
            );
            if !marker.is_empty() {
                url.push_str("&marker=");
                url.push_str(
                    &url::form_urlencoded::byte_serialize(marker.as_bytes()).collect::<String>(),
                );
            }
            if !self.sas.is_empty() {
                url.push('&');
                url.push_str(&self.sas);
            }
            let answer = cloud
                .data_call(
                    "GET",
                    &url,
                    vec![("x-ms-version".to_owned(), "2023-11-03".to_owned())],
                    None,
                )
                .await
                .map_err(|error| fail(&error, "failed to list the workspace's blobs"))?;
            if !(200..300).contains(&answer.status) {
                // Listing is an optimisation: without it every file is sent.
                tracing::warn!(
                    status = answer.status,
                    "blob listing refused; uploading every file"
                );
                return Ok(known);
            }
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            for blob in text.split("<Blob>").skip(1) {
                let (Some(name), Some(sha)) = (xml_text(blob, "Name"), xml_text(blob, "sha256"))
                else {
                    continue;
                };
                let encoded: Vec<String> = name
                    .split('/')
                    .map(|segment| {
                        url::form_urlencoded::byte_serialize(segment.as_bytes())
                            .collect::<String>()
                            .replace('+', "%20")
                    })
                    .collect();
                known
                    .entry(sha.to_ascii_lowercase())
                    .or_insert_with(|| format!("{}/{}", self.container, encoded.join("/")));
            }
            marker = xml_text(&text, "NextMarker").unwrap_or_default();
            if marker.is_empty() {
                return Ok(known);
            }
        }
    }
}

/// The unescaped text of the first `<tag>…</tag>` in `xml`.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Statuses after which a job does not change any more.
pub fn is_terminal(status: &str) -> bool {
    matches!(status, "Completed" | "Failed" | "Canceled")
}

/// Waits for the job at `id` (an object of `schema`) to reach a final status, reporting status
/// changes and new log text, within `timeout`. Returns the final object (client-side values
/// from `desired` kept); a `Failed` or `Canceled` run is an error with the tail of its log.
pub async fn wait_for_run(
    cloud: &dyn CloudApi,
    schema: &ResourceSchema,
    id: &str,
    desired: &ObjectValue,
    timeout: Duration,
    events: &(dyn Fn(RunEvent) + Send + Sync),
) -> Result<ObjectValue, (Option<ObjectValue>, String)> {
    let started = Instant::now();
    let mut offset: u64 = 0;
    let mut logs_served = true;
    let mut log = String::new();
    let mut last_status = String::new();
    loop {
        if logs_served {
            let offset_text = offset.to_string();
            match cloud
                .arm_call(
                    "GET",
                    &format!("{id}/_emulator/logs"),
                    &[("offset", &offset_text)],
                    None,
                )
                .await
            {
                Ok(answer) => {
                    let text = String::from_utf8_lossy(&answer.body).into_owned();
                    offset = answer
                        .header("x-ms-emulator-log-offset")
                        .and_then(|next| next.parse().ok())
                        .unwrap_or(offset + answer.body.len() as u64);
                    if !text.is_empty() {
                        log.push_str(&text);
                        events(RunEvent::Log(text));
                    }
                }
                // The real service has no log endpoint: statuses only.
                Err(_) => logs_served = false,
            }
        }
        let body = cloud
            .arm_call("GET", id, &[], None)
            .await
            .map_err(|error| (None, fail(&error, "failed to read the job")))?
            .json();
        let object = keep_client_side(schema, from_arm(schema, &body), desired);
        let status = object.get_str("status").unwrap_or("Unknown").to_owned();
        if status != last_status {
            events(RunEvent::Status(status.clone()));
            last_status = status.clone();
        }
        if is_terminal(&status) {
            if logs_served {
                // The process's last words may land after the status.
                let offset_text = offset.to_string();
                if let Ok(answer) = cloud
                    .arm_call(
                        "GET",
                        &format!("{id}/_emulator/logs"),
                        &[("offset", &offset_text)],
                        None,
                    )
                    .await
                {
                    let text = String::from_utf8_lossy(&answer.body).into_owned();
                    if !text.is_empty() {
                        log.push_str(&text);
                        events(RunEvent::Log(text));
                    }
                }
            }
            if status == "Completed" {
                return Ok(object);
            }
            let reason = body
                .pointer("/properties/emulatorRun/error")
                .and_then(Json::as_str)
                .map(|reason| format!(" ({reason})"))
                .unwrap_or_default();
            let message = format!(
                "run `{}` ended `{status}`{reason}; last lines of its log:\n{}",
                object.get_str("name").unwrap_or(id),
                log_tail(&log, LOG_TAIL_LINES)
            );
            return Err((Some(object), message));
        }
        if started.elapsed() >= timeout {
            let message = format!(
                "run `{}` did not finish within {} (status `{status}`); it keeps running",
                object.get_str("name").unwrap_or(id),
                humantime::format_duration(timeout)
            );
            return Err((Some(object), message));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The last `lines` lines of `log`.
pub fn log_tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.trim_end().lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// The wait limit of a run: its `timeout` (`30s`, `10m`, `2h`, or an ISO 8601 `PT…`).
pub fn run_timeout(values: &ObjectValue) -> Result<Duration, String> {
    let text = values.get_str("timeout").unwrap_or("60m");
    if let Some(iso) = text.strip_prefix("PT") {
        return humantime::parse_duration(&iso.to_ascii_lowercase())
            .map_err(|_| format!("`timeout` = `{text}` is not a duration"));
    }
    humantime::parse_duration(text)
        .map_err(|_| format!("`timeout` = `{text}` is not a duration (e.g. `30m`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_safe_and_carry_the_hash() {
        assert_eq!(
            job_name("My Exp", "abcd1234", 0x1f),
            "my-exp-abcd1234-0000001f"
        );
    }

    #[test]
    fn blob_folders_know_their_container() {
        let folder = BlobFolder::new(
            "http://127.0.0.1:1/_blob/acct/azureml-blobstore-x/LocalUpload/u1",
            "sig=abc",
        )
        .expect("folder");
        assert_eq!(
            folder.container,
            "http://127.0.0.1:1/_blob/acct/azureml-blobstore-x"
        );
        assert_eq!(
            folder.blob_url("src/a b.py"),
            "http://127.0.0.1:1/_blob/acct/azureml-blobstore-x/LocalUpload/u1/src/a%20b.py?sig=abc"
        );
        let azure = BlobFolder::new("https://a.blob.core.windows.net/c/LocalUpload/u1", "")
            .expect("folder");
        assert_eq!(azure.container, "https://a.blob.core.windows.net/c");
    }

    #[test]
    fn listings_and_errors_are_read_from_xml() {
        let xml = "<Blobs><Blob><Name>a&amp;b</Name><Metadata><sha256>ff</sha256></Metadata></Blob></Blobs>";
        assert_eq!(xml_text(xml, "Name").as_deref(), Some("a&b"));
        assert_eq!(xml_text(xml, "sha256").as_deref(), Some("ff"));
        assert_eq!(xml_text(xml, "NextMarker"), None);
    }

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let log: String = (1..=30).map(|n| format!("line {n}\n")).collect();
        let tail = log_tail(&log, 20);
        assert!(tail.starts_with("line 11\n"));
        assert!(tail.ends_with("line 30"));
    }

    #[test]
    fn timeouts_read_both_spellings() {
        let mut values = ObjectValue::default();
        assert_eq!(run_timeout(&values), Ok(Duration::from_secs(3600)));
        values.set("timeout", "PT90S".into());
        assert_eq!(run_timeout(&values), Ok(Duration::from_secs(90)));
        values.set("timeout", "soon".into());
        assert!(run_timeout(&values).is_err());
    }
}
