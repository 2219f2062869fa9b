//! The small part of the Azure Blob REST API that code uploads use, served by the emulator itself
//! under `{base_url}/_blob/`, and the `startPendingUpload` call that hands out its URLs.
//!
//! A pending upload returns `blobUri = {base_url}/_blob/{account}/{container}/LocalUpload/{pendingUploadId}`
//! (`account` = the workspace's storage account name, `container` = `azureml-blobstore-{workspaceId}`)
//! and `sasUri = blobUri?sv=…&sr=d&sp=racwl&se={expiry}&sig={token}`. Like a real SAS, the token in
//! `sig` is the only credential of blob calls (no bearer token): it is minted per pending upload
//! (stored as SHA-256, valid 24 h), grants reads and listing of its container, and writes only
//! under its `blobUri` folder. Missing or unknown → 403 `AuthenticationFailed`; a write outside the
//! folder → 403 `AuthorizationPermissionMismatch`. Errors are Azure's XML `<Error><Code/><Message/></Error>`
//! with `x-ms-error-code`.
//!
//! | request (`?sig=…` on each) | headers / body | answer |
//! |---|---|---|
//! | `PUT /_blob/{a}/{c}/{blob}` | `x-ms-blob-type: BlockBlob`, body = content, `x-ms-meta-*`, `x-ms-blob-content-type` | 201, `ETag`, `Content-MD5` |
//! | `PUT /_blob/{a}/{c}/{blob}?comp=block&blockid={base64}` | body = block | 201 |
//! | `PUT /_blob/{a}/{c}/{blob}?comp=blocklist` | `<BlockList><Latest>{id}</Latest>…</BlockList>`, `x-ms-meta-*` | 201, `Content-MD5` |
//! | `PUT /_blob/{a}/{c}/{blob}` | `x-ms-copy-source: <URL of a blob in account {a}>`, no body | with `x-ms-blob-type` (Put Blob From URL) 201; without (Copy Blob) 202 + `x-ms-copy-status: success`; source metadata kept unless `x-ms-meta-*` given |
//! | `PUT /_blob/{a}/{c}/{blob}?comp=metadata` | `x-ms-meta-*` (replaces all) | 200 |
//! | `GET` / `HEAD /_blob/{a}/{c}/{blob}` | | 200, `Content-Length`, `Content-MD5`, `ETag`, `Last-Modified`, `x-ms-blob-type`, `x-ms-meta-*` (e.g. `x-ms-meta-sha256`); GET has the bytes |
//! | `DELETE /_blob/{a}/{c}/{blob}` | | 202 |
//! | `GET /_blob/{a}/{c}?restype=container&comp=list[&prefix=…&include=metadata&marker=…&maxresults=…]` | | 200 XML `EnumerationResults` (`Blobs/Blob/{Name,Properties,Metadata}`, `NextMarker`) |
//!
//! Contents live in `<data_dir>/blobs/{sha256}` (content-addressed, written and fsynced before the
//! metadata commit, so a 201 is durable); metadata in SQLite (`blobs`, `blob_blocks`,
//! `pending_uploads`). Stats count `uploads.files` (Put Blob with a body and Put Block List),
//! `uploads.bytes` (bytes of Put Blob and Put Block bodies) and `uploads.copies`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use md5::Md5;
use quick_xml::escape::unescape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::{Reader, Writer};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

use crate::arm::{ArmError, digest, new_guid, now_ms, timestamp};
use crate::context::{AppState, Ctx};
use crate::store::Record;

/// How long a pending upload's token is valid.
const TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// A blob-service error.
#[derive(Debug)]
struct BlobError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn blob_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> BlobError {
    BlobError {
        status,
        code,
        message: message.into(),
    }
}

impl From<ArmError> for BlobError {
    fn from(error: ArmError) -> BlobError {
        blob_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            error.message,
        )
    }
}

impl From<rusqlite::Error> for BlobError {
    fn from(error: rusqlite::Error) -> BlobError {
        blob_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("database error: {error}"),
        )
    }
}

impl IntoResponse for BlobError {
    fn into_response(self) -> Response {
        (
            self.status,
            [
                ("content-type", "application/xml"),
                ("x-ms-error-code", self.code),
            ],
            self.to_xml(),
        )
            .into_response()
    }
}

/// An error as the blob service answers it: Azure Storage's XML error document with
/// `x-ms-error-code` (for refusals made before a blob handler runs, `edge`).
pub(crate) fn error_response(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
) -> Response {
    blob_error(status, code, message).into_response()
}

impl BlobError {
    /// Azure's `<Error><Code/><Message/></Error>` body.
    fn to_xml(&self) -> Vec<u8> {
        xml_document(|writer| {
            writer
                .create_element("Error")
                .write_inner_content(|writer| {
                    text_element(writer, "Code", self.code)?;
                    text_element(writer, "Message", &self.message)
                })
                .map(drop)
        })
    }
}

/// An XML document: Azure's `<?xml version="1.0" encoding="utf-8"?>`, then what `write` writes.
fn xml_document(write: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new());
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .and_then(|()| write(&mut writer))
        .expect("writing XML into memory cannot fail");
    writer.into_inner()
}

/// `<{name}>{text, escaped}</{name}>`.
fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    writer
        .create_element(name)
        .write_text_content(BytesText::new(text))
        .map(drop)
}

/// The storage account and blob container of a workspace's uploads.
fn workspace_storage(workspace: &Record) -> (String, String, Json) {
    let properties = &workspace.body["properties"];
    let account_id = properties["storageAccount"].clone();
    let account = account_id
        .as_str()
        .and_then(|id| id.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .map_or_else(
            || format!("ws{}", &digest(&workspace.key)[..12]),
            str::to_ascii_lowercase,
        );
    let workspace_id = properties["workspaceId"]
        .as_str()
        .map_or_else(|| digest(&workspace.key)[..32].to_owned(), str::to_owned);
    (
        account,
        format!("azureml-blobstore-{workspace_id}"),
        account_id,
    )
}

/// `POST …/codes/{name}/versions/{version}/startPendingUpload`: a fresh folder and a token for it.
pub(crate) fn start_pending_upload(
    tx: &Connection,
    ctx: &Ctx,
    workspace: &Record,
    request: &Json,
    _label: &str,
) -> Result<Json, ArmError> {
    let upload_type = match request.get("pendingUploadType").and_then(Json::as_str) {
        None => "TemporaryBlobReference",
        Some(kind @ ("None" | "TemporaryBlobReference")) => kind,
        Some(other) => {
            return Err(ArmError::bad_request(
                "ValidationError",
                format!(
                    "`pendingUploadType` must be `None` or `TemporaryBlobReference`, not `{other}`"
                ),
            ));
        }
    };
    let upload_id = request
        .get("pendingUploadId")
        .and_then(Json::as_str)
        .filter(|id| !id.is_empty())
        .map_or_else(new_guid, str::to_owned);
    if upload_id.contains('/') {
        return Err(ArmError::bad_request(
            "ValidationError",
            "`pendingUploadId` must not contain `/`",
        ));
    }
    let (account, container, account_id) = workspace_storage(workspace);
    let prefix = format!("LocalUpload/{upload_id}");
    let token = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = ctx.now + TOKEN_LIFETIME_MS;
    tx.execute(
        "INSERT OR REPLACE INTO pending_uploads (id, token_sha256, account, container, prefix, workspace_key, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![format!("{}/{upload_id}", workspace.key), sha256_hex(token.as_bytes()), account, container, prefix, workspace.key, expires_at],
    )?;
    let blob_uri = format!("{}/_blob/{account}/{container}/{prefix}", ctx.base_url);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sv", "2021-08-06")
        .append_pair("sr", "d")
        .append_pair("sp", "racwl")
        .append_pair("se", &timestamp(expires_at))
        .append_pair("sig", &token)
        .finish();
    Ok(json!({
        "blobReferenceForConsumption": {
            "blobUri": blob_uri,
            "storageAccountArmId": account_id,
            "credential": { "credentialType": "SAS", "sasUri": format!("{blob_uri}?{query}") },
        },
        "pendingUploadId": upload_id,
        "pendingUploadType": upload_type,
    }))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `{data_dir}/blobs/{sha256}`.
pub(crate) fn content_path(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("blobs").join(sha256)
}

/// Writes a content file (once per content) and fsyncs it; returns `(sha256, md5 base64)`.
fn store_content(data_dir: &Path, bytes: &[u8]) -> Result<(String, String), BlobError> {
    let sha = sha256_hex(bytes);
    let path = content_path(data_dir, &sha);
    if !path.exists() {
        let io = |error: std::io::Error| {
            blob_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                format!("failed to store the blob: {error}"),
            )
        };
        let folder = data_dir.join("blobs");
        std::fs::create_dir_all(&folder).map_err(io)?;
        let temporary = folder.join(format!(".{sha}.{}", new_guid()));
        let mut file = std::fs::File::create(&temporary).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temporary, &path).map_err(io)?;
        std::fs::File::open(&folder)
            .and_then(|dir| dir.sync_all())
            .map_err(io)?;
    }
    Ok((
        sha,
        base64::engine::general_purpose::STANDARD.encode(md5(bytes)),
    ))
}

/// A parsed blob URL path: account, container, blob name (may be empty).
fn parse_blob_path(path: &str) -> Option<(String, String, String)> {
    let rest = &path[path.find("/_blob/")? + "/_blob/".len()..];
    let mut segments = rest.split('/').map(|segment| {
        url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
            .next()
            .map_or_else(|| segment.to_owned(), |(_, value)| value.into_owned())
    });
    let account = segments
        .next()
        .filter(|account| !account.is_empty())?
        .to_ascii_lowercase();
    let container = segments
        .next()
        .filter(|container| !container.is_empty())?
        .to_ascii_lowercase();
    let name: Vec<String> = segments.collect();
    Some((account, container, name.join("/")))
}

/// The files under a code asset's `codeUri` (an emulator blob folder URL): `(relative path, sha256)`.
pub(crate) fn snapshot_files(
    tx: &Connection,
    code_uri: &str,
) -> Result<Vec<(String, String)>, String> {
    let without_query = code_uri.split('?').next().unwrap_or_default();
    let (account, container, prefix) = parse_blob_path(without_query).ok_or_else(|| {
        format!("the code's `codeUri` `{code_uri}` is not in the emulator's blob storage (`…/_blob/{{account}}/{{container}}/{{folder}}`)")
    })?;
    let prefix = prefix.trim_end_matches('/').to_owned();
    let mut statement = tx
        .prepare("SELECT name, sha256 FROM blobs WHERE account = ?1 AND container = ?2 AND (name = ?3 OR substr(name, 1, length(?3) + 1) = ?3 || '/') ORDER BY name")
        .map_err(|error| error.to_string())?;
    let rows = statement
        .query_map(params![account, container, prefix], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(|error| error.to_string())?;
    let mut files = Vec::new();
    for row in rows {
        let (name, sha) = row.map_err(|error| error.to_string())?;
        let relative = if name == prefix {
            name.rsplit('/').next().unwrap_or(&name).to_owned()
        } else {
            name[prefix.len() + 1..].to_owned()
        };
        if relative
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(format!("the snapshot holds an unsafe path `{relative}`"));
        }
        files.push((relative, sha));
    }
    Ok(files)
}

struct Access {
    prefix: String,
}

fn authorize(
    tx: &Connection,
    query: &[(String, String)],
    account: &str,
    container: &str,
    now: i64,
) -> Result<Access, BlobError> {
    let token = query
        .iter()
        .find(|(key, _)| key == "sig")
        .map(|(_, value)| value.as_str())
        .ok_or_else(|| {
            blob_error(
                StatusCode::FORBIDDEN,
                "AuthenticationFailed",
                "the request carries no SAS token (`sig`): use the `sasUri` of a pending upload",
            )
        })?;
    let row: Option<(String, String, String, i64)> = tx
        .query_row(
            "SELECT account, container, prefix, expires_at FROM pending_uploads WHERE token_sha256 = ?1",
            [sha256_hex(token.as_bytes())],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    match row {
        Some((granted_account, granted_container, prefix, expires_at))
            if granted_account == account && granted_container == container && expires_at > now =>
        {
            Ok(Access { prefix })
        }
        Some((_, _, _, expires_at)) if expires_at <= now => Err(blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "the SAS token has expired",
        )),
        Some(_) => Err(blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            format!("the SAS token does not grant container `{container}` of account `{account}`"),
        )),
        None => Err(blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "the SAS token is not valid",
        )),
    }
}

fn metadata_from(headers: &HeaderMap) -> Map<String, Json> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let key = name.as_str().strip_prefix("x-ms-meta-")?;
            Some((key.to_owned(), json!(value.to_str().ok()?)))
        })
        .collect()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A stored blob row.
struct BlobRow {
    sha256: String,
    size: i64,
    md5: String,
    metadata: Map<String, Json>,
    content_type: String,
    created_at: i64,
    modified_at: i64,
}

fn blob_row(
    tx: &Connection,
    account: &str,
    container: &str,
    name: &str,
) -> Result<Option<BlobRow>, BlobError> {
    Ok(tx
        .query_row(
            "SELECT sha256, size, md5, metadata, content_type, created_at, modified_at FROM blobs WHERE account = ?1 AND container = ?2 AND name = ?3",
            params![account, container, name],
            |row| {
                Ok(BlobRow {
                    sha256: row.get(0)?,
                    size: row.get(1)?,
                    md5: row.get(2)?,
                    metadata: serde_json::from_str(&row.get::<_, String>(3)?).unwrap_or_default(),
                    content_type: row.get(4)?,
                    created_at: row.get(5)?,
                    modified_at: row.get(6)?,
                })
            },
        )
        .optional()?)
}

fn save_blob(
    tx: &Connection,
    account: &str,
    container: &str,
    name: &str,
    row: &BlobRow,
) -> Result<(), BlobError> {
    tx.execute(
        "INSERT INTO blobs (account, container, name, sha256, size, md5, metadata, content_type, created_at, modified_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(account, container, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, md5 = excluded.md5,
             metadata = excluded.metadata, content_type = excluded.content_type, modified_at = excluded.modified_at",
        params![account, container, name, row.sha256, row.size, row.md5, Json::Object(row.metadata.clone()).to_string(), row.content_type, row.created_at, row.modified_at],
    )?;
    Ok(())
}

fn etag(row: &BlobRow) -> String {
    format!("\"0x{}\"", &row.sha256[..16].to_ascii_uppercase())
}

fn http_date(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    time.format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
        .replace("+0000", "GMT")
}

fn blob_headers(row: &BlobRow) -> Vec<(HeaderName, String)> {
    let mut headers = vec![
        (HeaderName::from_static("etag"), etag(row)),
        (
            HeaderName::from_static("last-modified"),
            http_date(row.modified_at),
        ),
        (HeaderName::from_static("content-md5"), row.md5.clone()),
        (
            HeaderName::from_static("x-ms-blob-type"),
            "BlockBlob".to_owned(),
        ),
        (
            HeaderName::from_static("x-ms-creation-time"),
            http_date(row.created_at),
        ),
        (
            HeaderName::from_static("x-ms-version"),
            "2021-08-06".to_owned(),
        ),
    ];
    for (key, value) in &row.metadata {
        if let (Ok(name), Some(value)) = (
            HeaderName::from_bytes(format!("x-ms-meta-{key}").as_bytes()),
            value.as_str(),
        ) {
            headers.push((name, value.to_owned()));
        }
    }
    headers
}

fn respond(status: StatusCode, headers: Vec<(HeaderName, String)>, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// What a request wants, parsed before the transaction.
enum Action {
    PutBlob {
        bytes: Vec<u8>,
    },
    PutBlock {
        id: String,
        bytes: Vec<u8>,
    },
    PutBlockList {
        ids: Vec<String>,
    },
    Copy {
        source: String,
        with_blob_type: bool,
    },
    SetMetadata,
    Read {
        head: bool,
    },
    Delete,
    List,
}

/// Entry point of `/_blob/…`.
pub(crate) async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(state, method, uri, headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn serve(
    state: Arc<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BlobError> {
    let (account, container, name) = parse_blob_path(uri.path()).ok_or_else(|| {
        blob_error(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "blob URLs are `/_blob/{account}/{container}/{blob}`",
        )
    })?;
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let q = |key: &str| {
        query
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.clone())
    };
    let comp = q("comp").map(|comp| comp.to_ascii_lowercase());
    let action = match (method.clone(), comp.as_deref(), name.is_empty()) {
        (Method::GET, Some("list"), true)
            if q("restype").is_some_and(|kind| kind.eq_ignore_ascii_case("container")) =>
        {
            Action::List
        }
        (_, _, true) => {
            return Err(blob_error(
                StatusCode::BAD_REQUEST,
                "UnsupportedHttpVerb",
                "container operations other than `?restype=container&comp=list` are not emulated",
            ));
        }
        (Method::PUT, Some("block"), false) => Action::PutBlock {
            id: q("blockid").filter(|id| !id.is_empty()).ok_or_else(|| {
                blob_error(
                    StatusCode::BAD_REQUEST,
                    "MissingRequiredQueryParameter",
                    "`blockid` is required",
                )
            })?,
            bytes: body.to_vec(),
        },
        (Method::PUT, Some("blocklist"), false) => Action::PutBlockList {
            ids: parse_block_list(&body)?,
        },
        (Method::PUT, Some("metadata"), false) => Action::SetMetadata,
        (Method::PUT, None, false) => match header(&headers, "x-ms-copy-source") {
            Some(source) => Action::Copy {
                source: source.to_owned(),
                with_blob_type: headers.contains_key("x-ms-blob-type"),
            },
            None => {
                if !header(&headers, "x-ms-blob-type")
                    .is_some_and(|kind| kind.eq_ignore_ascii_case("BlockBlob"))
                {
                    return Err(blob_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidHeaderValue",
                        "`x-ms-blob-type: BlockBlob` is required (the emulator stores block blobs only)",
                    ));
                }
                Action::PutBlob {
                    bytes: body.to_vec(),
                }
            }
        },
        (Method::GET, None, false) => Action::Read { head: false },
        (Method::HEAD, None, false) => Action::Read { head: true },
        (Method::DELETE, None, false) => Action::Delete,
        _ => {
            return Err(blob_error(
                StatusCode::BAD_REQUEST,
                "UnsupportedHttpVerb",
                format!(
                    "`{method}` with `comp={}` is not emulated",
                    comp.unwrap_or_default()
                ),
            ));
        }
    };
    let data_dir = state.data_dir.clone();
    // Content first (fsynced), then the metadata commit.
    let (stored, received) = match &action {
        Action::PutBlob { bytes } | Action::PutBlock { bytes, .. } => {
            (Some(store_content(&data_dir, bytes)?), bytes.len())
        }
        _ => (None, 0),
    };
    if matches!(action, Action::PutBlockList { .. }) {
        // Assemble outside the transaction; the blocks are immutable content files.
        let blocks = {
            let (account, container, name) = (account.clone(), container.clone(), name.clone());
            state
                .store
                .transact(move |tx| {
                    let mut statement = tx.prepare("SELECT block_id, sha256 FROM blob_blocks WHERE account = ?1 AND container = ?2 AND name = ?3")?;
                    let rows = statement.query_map(params![account, container, name], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .await?
        };
        let Action::PutBlockList { ids } = &action else {
            unreachable!("matched above")
        };
        let mut content = Vec::new();
        for id in ids {
            let sha = blocks
                .iter()
                .find(|(block, _)| block == id)
                .map(|(_, sha)| sha)
                .ok_or_else(|| {
                    blob_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidBlockList",
                        format!("block `{id}` was not uploaded"),
                    )
                })?;
            content.extend(
                std::fs::read(content_path(&data_dir, sha)).map_err(|error| {
                    blob_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalError",
                        error.to_string(),
                    )
                })?,
            );
        }
        let (sha, md5) = store_content(&data_dir, &content)?;
        return finish(
            state,
            account,
            container,
            name,
            query,
            headers,
            Action::PutBlockList { ids: Vec::new() },
            Some((sha, md5)),
            content.len(),
        )
        .await;
    }
    finish(
        state, account, container, name, query, headers, action, stored, received,
    )
    .await
}

#[allow(clippy::too_many_arguments, reason = "the parts of one request")]
async fn finish(
    state: Arc<AppState>,
    account: String,
    container: String,
    name: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    action: Action,
    stored: Option<(String, String)>,
    size: usize,
) -> Result<Response, BlobError> {
    let now = now_ms();
    let base_url = state.base_url.clone();
    let data_dir = state.data_dir.clone();
    let stats_state = state.clone();
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let result = state
        .store
        .transact(move |tx| {
            Ok(answer(
                tx, &base_url, &data_dir, now, &account, &container, &name, &query, &headers,
                action, stored, size,
            ))
        })
        .await?;
    let (response, counted) = result?;
    match counted {
        Counted::File(bytes) => stats_state.stats.upload(true, bytes),
        Counted::Block(bytes) => stats_state.stats.upload(false, bytes),
        Counted::Copy => stats_state.stats.copy(),
        Counted::Nothing => {}
    }
    Ok(response)
}

enum Counted {
    File(u64),
    Block(u64),
    Copy,
    Nothing,
}

#[allow(clippy::too_many_arguments, reason = "the parts of one request")]
fn answer(
    tx: &Connection,
    base_url: &str,
    data_dir: &Path,
    now: i64,
    account: &str,
    container: &str,
    name: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    action: Action,
    stored: Option<(String, String)>,
    size: i64,
) -> Result<(Response, Counted), BlobError> {
    let access = authorize(tx, query, account, container, now)?;
    let writes = matches!(
        action,
        Action::PutBlob { .. }
            | Action::PutBlock { .. }
            | Action::PutBlockList { .. }
            | Action::Copy { .. }
            | Action::SetMetadata
            | Action::Delete
    );
    if writes && !(name == access.prefix || name.starts_with(&format!("{}/", access.prefix))) {
        return Err(blob_error(
            StatusCode::FORBIDDEN,
            "AuthorizationPermissionMismatch",
            format!(
                "the SAS token grants writes under `{}/` only, not to `{name}`",
                access.prefix
            ),
        ));
    }
    let content_type = header(headers, "x-ms-blob-content-type")
        .or_else(|| header(headers, "content-type"))
        .unwrap_or("application/octet-stream")
        .to_owned();
    let previous = blob_row(tx, account, container, name)?;
    let created_at = previous.as_ref().map_or(now, |row| row.created_at);
    let counted_size = u64::try_from(size).unwrap_or(0);
    // A block list's bytes were counted with its blocks.
    let file_bytes = if matches!(action, Action::PutBlockList { .. }) {
        0
    } else {
        counted_size
    };
    match action {
        Action::PutBlob { .. } | Action::PutBlockList { .. } => {
            let (sha256, md5) = stored.ok_or_else(|| {
                blob_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "content not stored",
                )
            })?;
            let row = BlobRow {
                sha256,
                size,
                md5,
                metadata: metadata_from(headers),
                content_type,
                created_at,
                modified_at: now,
            };
            save_blob(tx, account, container, name, &row)?;
            tx.execute(
                "DELETE FROM blob_blocks WHERE account = ?1 AND container = ?2 AND name = ?3",
                params![account, container, name],
            )?;
            let mut response_headers = blob_headers(&row);
            response_headers.retain(|(header, _)| !header.as_str().starts_with("x-ms-meta-"));
            response_headers.push((
                HeaderName::from_static("x-ms-request-server-encrypted"),
                "true".to_owned(),
            ));
            Ok((
                respond(StatusCode::CREATED, response_headers, Vec::new()),
                Counted::File(file_bytes),
            ))
        }
        Action::PutBlock { id, .. } => {
            let (sha256, md5) = stored.ok_or_else(|| {
                blob_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "content not stored",
                )
            })?;
            tx.execute(
                "INSERT OR REPLACE INTO blob_blocks (account, container, name, block_id, sha256, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![account, container, name, id, sha256, size],
            )?;
            Ok((
                respond(
                    StatusCode::CREATED,
                    vec![(HeaderName::from_static("content-md5"), md5)],
                    Vec::new(),
                ),
                Counted::Block(counted_size),
            ))
        }
        Action::Copy {
            source,
            with_blob_type,
        } => {
            let source_path = url::Url::parse(&source)
                .map(|url| url.path().to_owned())
                .unwrap_or(source.clone());
            let (source_account, source_container, source_name) = parse_blob_path(&source_path).filter(|(_, _, name)| !name.is_empty()).ok_or_else(|| {
                blob_error(StatusCode::BAD_REQUEST, "CannotVerifyCopySource", format!("`x-ms-copy-source` `{source}` is not a blob URL of the emulator (`…/_blob/{{account}}/{{container}}/{{blob}}`)"))
            })?;
            if source_account != account {
                return Err(blob_error(
                    StatusCode::BAD_REQUEST,
                    "CannotVerifyCopySource",
                    format!(
                        "the copy source is in account `{source_account}`; the emulator copies within account `{account}` only"
                    ),
                ));
            }
            let source_row = blob_row(tx, &source_account, &source_container, &source_name)?
                .ok_or_else(|| {
                    blob_error(
                        StatusCode::NOT_FOUND,
                        "CannotVerifyCopySource",
                        format!(
                            "the copy source `{source_container}/{source_name}` does not exist"
                        ),
                    )
                })?;
            let metadata = metadata_from(headers);
            let row = BlobRow {
                metadata: if metadata.is_empty() {
                    source_row.metadata.clone()
                } else {
                    metadata
                },
                created_at,
                modified_at: now,
                ..source_row
            };
            save_blob(tx, account, container, name, &row)?;
            let mut response_headers = vec![
                (HeaderName::from_static("etag"), etag(&row)),
                (HeaderName::from_static("last-modified"), http_date(now)),
                (HeaderName::from_static("x-ms-copy-id"), new_guid()),
                (
                    HeaderName::from_static("x-ms-copy-status"),
                    "success".to_owned(),
                ),
            ];
            let status = if with_blob_type {
                response_headers.push((HeaderName::from_static("content-md5"), row.md5.clone()));
                StatusCode::CREATED
            } else {
                StatusCode::ACCEPTED
            };
            Ok((respond(status, response_headers, Vec::new()), Counted::Copy))
        }
        Action::SetMetadata => {
            let mut row = previous.ok_or_else(|| not_found(container, name))?;
            row.metadata = metadata_from(headers);
            row.modified_at = now;
            save_blob(tx, account, container, name, &row)?;
            Ok((
                respond(
                    StatusCode::OK,
                    vec![
                        (HeaderName::from_static("etag"), etag(&row)),
                        (HeaderName::from_static("last-modified"), http_date(now)),
                    ],
                    Vec::new(),
                ),
                Counted::Nothing,
            ))
        }
        Action::Read { head } => {
            let row = previous.ok_or_else(|| not_found(container, name))?;
            let mut response_headers = blob_headers(&row);
            response_headers.push((
                HeaderName::from_static("content-type"),
                row.content_type.clone(),
            ));
            if head {
                response_headers.push((
                    HeaderName::from_static("content-length"),
                    row.size.to_string(),
                ));
                let mut response = respond(StatusCode::OK, response_headers, Vec::new());
                // HEAD carries the length of the body GET would send.
                if let Ok(value) = HeaderValue::from_str(&row.size.to_string()) {
                    response.headers_mut().insert("content-length", value);
                }
                return Ok((response, Counted::Nothing));
            }
            let bytes = std::fs::read(content_path(data_dir, &row.sha256)).map_err(|error| {
                blob_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    format!("failed to read the blob content: {error}"),
                )
            })?;
            Ok((
                respond(StatusCode::OK, response_headers, bytes),
                Counted::Nothing,
            ))
        }
        Action::Delete => {
            if previous.is_none() {
                return Err(not_found(container, name));
            }
            tx.execute(
                "DELETE FROM blobs WHERE account = ?1 AND container = ?2 AND name = ?3",
                params![account, container, name],
            )?;
            Ok((
                respond(StatusCode::ACCEPTED, Vec::new(), Vec::new()),
                Counted::Nothing,
            ))
        }
        Action::List => Ok((
            list(tx, base_url, account, container, query)?,
            Counted::Nothing,
        )),
    }
}

fn not_found(container: &str, name: &str) -> BlobError {
    blob_error(
        StatusCode::NOT_FOUND,
        "BlobNotFound",
        format!("blob `{name}` does not exist in container `{container}`"),
    )
}

fn list(
    tx: &Connection,
    base_url: &str,
    account: &str,
    container: &str,
    query: &[(String, String)],
) -> Result<Response, BlobError> {
    let q = |key: &str| {
        query
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    };
    let prefix = q("prefix").unwrap_or_default();
    let marker = q("marker").unwrap_or_default();
    let max: usize = q("maxresults")
        .and_then(|value| value.parse().ok())
        .filter(|max| *max > 0)
        .unwrap_or(5000);
    let with_metadata = q("include").is_some_and(|include| {
        include
            .split(',')
            .any(|part| part.eq_ignore_ascii_case("metadata"))
    });
    let mut statement = tx.prepare(
        "SELECT name, sha256, size, md5, metadata, content_type, created_at, modified_at FROM blobs
         WHERE account = ?1 AND container = ?2 AND substr(name, 1, length(?3)) = ?3 AND name >= ?4 ORDER BY name LIMIT ?5",
    )?;
    let rows = statement.query_map(
        params![
            account,
            container,
            prefix,
            marker,
            i64::try_from(max + 1).unwrap_or(i64::MAX)
        ],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                BlobRow {
                    sha256: row.get(1)?,
                    size: row.get(2)?,
                    md5: row.get(3)?,
                    metadata: serde_json::from_str(&row.get::<_, String>(4)?).unwrap_or_default(),
                    content_type: row.get(5)?,
                    created_at: row.get(6)?,
                    modified_at: row.get(7)?,
                },
            ))
        },
    )?;
    let mut blobs = rows.collect::<Result<Vec<_>, _>>()?;
    let next_marker = if blobs.len() > max {
        blobs.pop().map(|(name, _)| name)
    } else {
        None
    };
    let listing = Listing {
        service_endpoint: format!("{base_url}/_blob/{account}/"),
        container,
        prefix,
        max,
        with_metadata,
        blobs,
        next_marker,
    };
    Ok(respond(
        StatusCode::OK,
        vec![(
            HeaderName::from_static("content-type"),
            "application/xml".to_owned(),
        )],
        listing.to_xml(),
    ))
}

/// One page of a container listing.
struct Listing<'a> {
    service_endpoint: String,
    container: &'a str,
    prefix: &'a str,
    max: usize,
    with_metadata: bool,
    blobs: Vec<(String, BlobRow)>,
    next_marker: Option<String>,
}

impl Listing<'_> {
    /// The `EnumerationResults` document of List Blobs.
    fn to_xml(&self) -> Vec<u8> {
        xml_document(|writer| {
            writer
                .create_element("EnumerationResults")
                .with_attribute(("ServiceEndpoint", self.service_endpoint.as_str()))
                .with_attribute(("ContainerName", self.container))
                .write_inner_content(|writer| {
                    text_element(writer, "Prefix", self.prefix)?;
                    text_element(writer, "MaxResults", &self.max.to_string())?;
                    writer
                        .create_element("Blobs")
                        .write_inner_content(|writer| {
                            for (name, row) in &self.blobs {
                                self.write_blob(writer, name, row)?;
                            }
                            Ok(())
                        })?;
                    text_element(
                        writer,
                        "NextMarker",
                        self.next_marker.as_deref().unwrap_or_default(),
                    )
                })
                .map(drop)
        })
    }

    /// One `<Blob>`: name, properties and, when asked for, metadata.
    fn write_blob(
        &self,
        writer: &mut Writer<Vec<u8>>,
        name: &str,
        row: &BlobRow,
    ) -> std::io::Result<()> {
        let properties = [
            ("Creation-Time", http_date(row.created_at)),
            ("Last-Modified", http_date(row.modified_at)),
            ("Etag", etag(row)),
            ("Content-Length", row.size.to_string()),
            ("Content-Type", row.content_type.clone()),
            ("Content-MD5", row.md5.clone()),
            ("BlobType", "BlockBlob".to_owned()),
            ("AccessTier", "Hot".to_owned()),
            ("LeaseStatus", "unlocked".to_owned()),
            ("LeaseState", "available".to_owned()),
            ("ServerEncrypted", "true".to_owned()),
        ];
        writer
            .create_element("Blob")
            .write_inner_content(|writer| {
                text_element(writer, "Name", name)?;
                writer
                    .create_element("Properties")
                    .write_inner_content(|writer| {
                        for (property, value) in &properties {
                            text_element(writer, property, value)?;
                        }
                        Ok(())
                    })?;
                if self.with_metadata {
                    writer
                        .create_element("Metadata")
                        .write_inner_content(|writer| {
                            for (key, value) in &row.metadata {
                                text_element(writer, key, value.as_str().unwrap_or_default())?;
                            }
                            Ok(())
                        })?;
                }
                Ok(())
            })
            .map(drop)
    }
}

/// The block ids of a `<BlockList>` body, in order (`Latest`, `Committed` and `Uncommitted` alike).
fn parse_block_list(body: &[u8]) -> Result<Vec<String>, BlobError> {
    let invalid =
        |message: String| blob_error(StatusCode::BAD_REQUEST, "InvalidXmlDocument", message);
    let not_xml = |error: &dyn std::fmt::Display| {
        invalid(format!("the block list is not valid XML: {error}"))
    };
    let text =
        std::str::from_utf8(body).map_err(|_| invalid("the block list is not UTF-8".to_owned()))?;
    let mut reader = Reader::from_str(text);
    let mut is_block_list = false;
    let mut ids = Vec::new();
    loop {
        match reader.read_event().map_err(|error| not_xml(&error))? {
            Event::Start(start) => match start.local_name().as_ref() {
                "BlockList" => is_block_list = true,
                "Latest" | "Committed" | "Uncommitted" => {
                    let id = reader
                        .read_text(start.name())
                        .map_err(|error| not_xml(&error))?
                        .into_inner();
                    ids.push(
                        unescape(&id)
                            .map_err(|error| not_xml(&error))?
                            .trim()
                            .to_owned(),
                    );
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !is_block_list {
        return Err(invalid(
            "the body must be a `<BlockList>` document".to_owned(),
        ));
    }
    Ok(ids)
}

/// MD5 (RFC 1321), for `Content-MD5`.
fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_rfc_vectors() {
        assert_eq!(hex::encode(md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex::encode(md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex::encode(md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn blob_paths_split_into_account_container_and_name() {
        assert_eq!(
            parse_blob_path("/_blob/Acct/cont/LocalUpload/x/a%20b.py"),
            Some(("acct".into(), "cont".into(), "LocalUpload/x/a b.py".into()))
        );
        assert_eq!(
            parse_blob_path("/_blob/acct/cont"),
            Some(("acct".into(), "cont".into(), String::new()))
        );
        assert_eq!(parse_blob_path("/_blob/acct"), None);
    }

    fn sample_row(sha256: &str, metadata: Json) -> BlobRow {
        BlobRow {
            sha256: sha256.to_owned(),
            size: 15,
            md5: "EA42DMdo8Vo17Z3fBeNUzg==".to_owned(),
            metadata: metadata.as_object().cloned().unwrap_or_default(),
            content_type: "text/x-python; a=\"b\"".to_owned(),
            created_at: 1_700_000_000_000,
            modified_at: 1_700_000_123_000,
        }
    }

    #[test]
    fn listings_are_the_enumeration_results_clients_parse() {
        let listing = Listing {
            service_endpoint: "http://127.0.0.1:1/_blob/acct/".to_owned(),
            container: "azureml-blobstore-x",
            prefix: "LocalUpload/a&b",
            max: 2,
            with_metadata: true,
            blobs: vec![
                (
                    "LocalUpload/a&b/<q>.py".to_owned(),
                    sample_row(
                        "0123456789abcdef0123",
                        json!({"sha256": "ab", "note": "it's \"x\" & <y>"}),
                    ),
                ),
                (
                    "LocalUpload/a&b/z.py".to_owned(),
                    sample_row("fedcba9876543210fedc", json!({})),
                ),
            ],
            next_marker: Some("LocalUpload/a&b/zz.py".to_owned()),
        };
        assert_eq!(
            String::from_utf8(listing.to_xml()).expect("utf-8"),
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
                "<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:1/_blob/acct/\" ContainerName=\"azureml-blobstore-x\">",
                "<Prefix>LocalUpload/a&amp;b</Prefix><MaxResults>2</MaxResults><Blobs>",
                "<Blob><Name>LocalUpload/a&amp;b/&lt;q&gt;.py</Name><Properties>",
                "<Creation-Time>Tue, 14 Nov 2023 22:13:20 GMT</Creation-Time><Last-Modified>Tue, 14 Nov 2023 22:15:23 GMT</Last-Modified>",
                "<Etag>&quot;0x0123456789ABCDEF&quot;</Etag><Content-Length>15</Content-Length>",
                "<Content-Type>text/x-python; a=&quot;b&quot;</Content-Type><Content-MD5>EA42DMdo8Vo17Z3fBeNUzg==</Content-MD5>",
                "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><LeaseStatus>unlocked</LeaseStatus>",
                "<LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>",
                "<Metadata><sha256>ab</sha256><note>it&apos;s &quot;x&quot; &amp; &lt;y&gt;</note></Metadata></Blob>",
                "<Blob><Name>LocalUpload/a&amp;b/z.py</Name><Properties>",
                "<Creation-Time>Tue, 14 Nov 2023 22:13:20 GMT</Creation-Time><Last-Modified>Tue, 14 Nov 2023 22:15:23 GMT</Last-Modified>",
                "<Etag>&quot;0xFEDCBA9876543210&quot;</Etag><Content-Length>15</Content-Length>",
                "<Content-Type>text/x-python; a=&quot;b&quot;</Content-Type><Content-MD5>EA42DMdo8Vo17Z3fBeNUzg==</Content-MD5>",
                "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><LeaseStatus>unlocked</LeaseStatus>",
                "<LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>",
                "<Metadata></Metadata></Blob>",
                "</Blobs><NextMarker>LocalUpload/a&amp;b/zz.py</NextMarker></EnumerationResults>",
            )
        );
        let empty = Listing {
            with_metadata: false,
            blobs: Vec::new(),
            next_marker: None,
            ..listing
        };
        assert_eq!(
            String::from_utf8(empty.to_xml()).expect("utf-8"),
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
                "<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:1/_blob/acct/\" ContainerName=\"azureml-blobstore-x\">",
                "<Prefix>LocalUpload/a&amp;b</Prefix><MaxResults>2</MaxResults><Blobs></Blobs><NextMarker></NextMarker></EnumerationResults>",
            )
        );
    }

    #[test]
    fn errors_are_azure_error_documents() {
        let error = blob_error(
            StatusCode::FORBIDDEN,
            "AuthenticationFailed",
            "the token for `a<b>&'c\"` is not valid",
        );
        assert_eq!(
            String::from_utf8(error.to_xml()).expect("utf-8"),
            concat!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>",
                "<Message>the token for `a&lt;b&gt;&amp;&apos;c&quot;` is not valid</Message></Error>",
            )
        );
    }

    #[test]
    fn block_lists_keep_their_order() {
        let body = b"<?xml version=\"1.0\"?><BlockList><Latest>AAA=</Latest><Uncommitted>BBB=</Uncommitted><Committed>CCC=</Committed></BlockList>";
        assert_eq!(
            parse_block_list(body).expect("parses"),
            ["AAA=", "BBB=", "CCC="]
        );
        assert!(parse_block_list(b"<x/>").is_err());
    }

    #[test]
    fn block_ids_are_trimmed_and_unclosed_ids_refused() {
        let body = b"<BlockList>\n  <Latest> AAA= </Latest>\n  <Latest>BBB=</Latest>\n</BlockList>";
        assert_eq!(parse_block_list(body).expect("parses"), ["AAA=", "BBB="]);
        let error = parse_block_list(b"<BlockList><Latest>AAA=</BlockList>").expect_err("unclosed");
        assert_eq!(error.code, "InvalidXmlDocument");
    }
}
