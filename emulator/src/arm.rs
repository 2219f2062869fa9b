//! ARM conventions shared by every handler: the error body (and the errors every handler gives
//! alike), the reply type, request paths parsed into [`Route`]s, paging, ids, the digests that
//! stored secrets and derived ids are made of, and timestamps. No resource behaviour here.

use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// Page size of every list (small, so that clients exercise `nextLink`).
pub(crate) const PAGE_SIZE: usize = 20;

/// The ML provider namespace.
pub(crate) const ML_PROVIDER: &str = "Microsoft.MachineLearningServices";

/// An ARM error: status plus `{"error":{"code","message","target"?,"details"?}}`.
#[derive(Debug, Clone)]
pub(crate) struct ArmError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub target: Option<String>,
    pub details: Vec<(String, String)>,
    pub headers: Vec<(HeaderName, String)>,
}

impl ArmError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ArmError {
        ArmError {
            status,
            code,
            message: message.into(),
            target: None,
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> ArmError {
        ArmError::new(StatusCode::CONFLICT, "Conflict", message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> ArmError {
        ArmError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    pub(crate) fn with_target(mut self, target: impl Into<String>) -> ArmError {
        self.target = Some(target.into());
        self
    }

    pub(crate) fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> ArmError {
        self.headers.push((name, value.into()));
        self
    }

    /// The `error` object of the body.
    pub(crate) fn error_object(&self) -> Json {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(target) = &self.target {
            error["target"] = json!(target);
        }
        if !self.details.is_empty() {
            error["details"] = Json::Array(
                self.details
                    .iter()
                    .map(|(code, message)| json!({ "code": code, "message": message }))
                    .collect(),
            );
        }
        error
    }
}

/// 405 for a method the path does not serve.
pub(crate) fn method_not_allowed(method: &Method) -> ArmError {
    ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("`{method}` is not supported on this path"),
    )
}

impl From<rusqlite::Error> for ArmError {
    fn from(error: rusqlite::Error) -> ArmError {
        ArmError::internal(format!("database error: {error}"))
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error_object() });
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// A successful answer: status, extra headers, optional JSON body (or raw bytes with a content
/// type, for the emulator's log endpoint).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Option<Json>,
    pub raw: Option<(&'static str, Vec<u8>)>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Json) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            raw: None,
        }
    }

    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            raw: None,
        }
    }

    pub(crate) fn bytes(status: StatusCode, content_type: &'static str, bytes: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            raw: Some((content_type, bytes)),
        }
    }

    pub(crate) fn with_headers(mut self, headers: Vec<(HeaderName, String)>) -> Reply {
        self.headers.extend(headers);
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = match (self.body, self.raw) {
            (Some(body), _) => (self.status, axum::Json(body)).into_response(),
            (None, Some((content_type, bytes))) => (
                self.status,
                [(axum::http::header::CONTENT_TYPE, content_type)],
                bytes,
            )
                .into_response(),
            (None, None) => self.status.into_response(),
        };
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// Where a request goes. Fixed path segments match case-insensitively (ARM does); names keep
/// the caller's spelling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    ResourceGroup {
        subscription: String,
        group: String,
    },
    WorkspacesInGroup {
        subscription: String,
        group: String,
    },
    WorkspacesInSubscription {
        subscription: String,
    },
    Workspace(WorkspaceRef),
    WorkspaceAction {
        workspace: WorkspaceRef,
        action: String,
    },
    Computes(WorkspaceRef),
    Compute {
        workspace: WorkspaceRef,
        name: String,
    },
    ComputeAction {
        workspace: WorkspaceRef,
        name: String,
        action: String,
    },
    /// `{WS}/codes/…`, `{WS}/environments/…` and `{WS}/jobs/…`: `collection` is lower-cased,
    /// `rest` holds the segments after it (names keep their spelling).
    WorkspaceItem {
        workspace: WorkspaceRef,
        collection: String,
        rest: Vec<String>,
    },
    OperationStatus {
        subscription: String,
        id: String,
    },
    OperationResult {
        subscription: String,
        id: String,
    },
    /// Any other provider resource under a resource group (the underlying resources).
    Generic {
        subscription: String,
        group: String,
        provider: String,
        types: Vec<String>,
        names: Vec<String>,
    },
}

/// A workspace named by a request path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkspaceRef {
    pub subscription: String,
    pub group: String,
    pub name: String,
}

impl WorkspaceRef {
    pub(crate) fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{ML_PROVIDER}/workspaces/{}",
            self.subscription, self.group, self.name
        )
    }
}

impl Route {
    /// The subscription the route acts in, for authorization.
    pub(crate) fn subscription(&self) -> &str {
        match self {
            Route::ResourceGroup { subscription, .. }
            | Route::WorkspacesInGroup { subscription, .. }
            | Route::WorkspacesInSubscription { subscription }
            | Route::OperationStatus { subscription, .. }
            | Route::OperationResult { subscription, .. }
            | Route::Generic { subscription, .. } => subscription,
            Route::Workspace(workspace)
            | Route::WorkspaceAction { workspace, .. }
            | Route::Computes(workspace)
            | Route::Compute { workspace, .. }
            | Route::ComputeAction { workspace, .. }
            | Route::WorkspaceItem { workspace, .. } => &workspace.subscription,
        }
    }

    /// Parses a request path; `None` when no ARM route matches.
    pub(crate) fn parse(path: &str) -> Option<Route> {
        let segments: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .map(percent_decode)
            .collect();
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        let is = |index: usize, word: &str| {
            s.get(index)
                .is_some_and(|segment| segment.eq_ignore_ascii_case(word))
        };
        if s.len() < 2
            || !is(0, "subscriptions")
            || s[1].is_empty()
            || s.iter().any(|segment| segment.is_empty())
        {
            return None;
        }
        let subscription = s[1].to_owned();
        if is(2, "providers") && is(3, ML_PROVIDER) {
            return match s.len() {
                5 if is(4, "workspaces") => Some(Route::WorkspacesInSubscription { subscription }),
                8 if is(4, "locations") && is(6, "operationsStatus") => {
                    Some(Route::OperationStatus {
                        subscription,
                        id: s[7].to_owned(),
                    })
                }
                8 if is(4, "locations") && is(6, "operationResults") => {
                    Some(Route::OperationResult {
                        subscription,
                        id: s[7].to_owned(),
                    })
                }
                _ => None,
            };
        }
        if !is(2, "resourceGroups") || s.len() < 4 {
            return None;
        }
        let group = s[3].to_owned();
        if s.len() == 4 {
            return Some(Route::ResourceGroup {
                subscription,
                group,
            });
        }
        if !is(4, "providers") || s.len() < 7 {
            return None;
        }
        if is(5, ML_PROVIDER) && is(6, "workspaces") {
            let workspace = |name: &str| WorkspaceRef {
                subscription: subscription.clone(),
                group: group.clone(),
                name: name.to_owned(),
            };
            if s.len() >= 9 && (is(8, "codes") || is(8, "environments") || is(8, "jobs")) {
                return Some(Route::WorkspaceItem {
                    workspace: workspace(s[7]),
                    collection: s[8].to_ascii_lowercase(),
                    rest: s[9..].iter().map(|segment| (*segment).to_owned()).collect(),
                });
            }
            return match s.len() {
                7 => Some(Route::WorkspacesInGroup {
                    subscription: subscription.clone(),
                    group: group.clone(),
                }),
                8 => Some(Route::Workspace(workspace(s[7]))),
                9 if is(8, "computes") => Some(Route::Computes(workspace(s[7]))),
                9 => Some(Route::WorkspaceAction {
                    workspace: workspace(s[7]),
                    action: s[8].to_owned(),
                }),
                10 if is(8, "computes") => Some(Route::Compute {
                    workspace: workspace(s[7]),
                    name: s[9].to_owned(),
                }),
                11 if is(8, "computes") => Some(Route::ComputeAction {
                    workspace: workspace(s[7]),
                    name: s[9].to_owned(),
                    action: s[10].to_owned(),
                }),
                _ => None,
            };
        }
        // providers/{namespace}/{type}/{name}[/{type}/{name}]...
        let rest = &s[6..];
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        Some(Route::Generic {
            subscription,
            group,
            provider: s[5].to_owned(),
            types: rest
                .iter()
                .step_by(2)
                .map(|segment| (*segment).to_owned())
                .collect(),
            names: rest
                .iter()
                .skip(1)
                .step_by(2)
                .map(|segment| (*segment).to_owned())
                .collect(),
        })
    }
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// The ARM id of a resource group.
pub(crate) fn group_id(subscription: &str, group: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{group}")
}

/// Lower-cased ARM id: the key resources are stored under (ARM ids are case-insensitive).
pub(crate) fn key_of(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 timestamp of `ms` since the epoch.
pub(crate) fn timestamp(ms: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A random GUID (version 4 layout).
pub(crate) fn new_guid() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// SHA-256 of `secret`, hex: how secrets and tokens are stored, and what the stable names, ids
/// and keys the emulator derives from an id are cut from.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// One page of `items` starting at `skip`, with an absolute `nextLink` when more remain.
/// `link` builds the next page's URL from the next skip.
pub(crate) fn page(
    items: Vec<Json>,
    skip: usize,
    item_name: &str,
    link: impl Fn(usize) -> String,
) -> Json {
    let total = items.len();
    page_of(total, skip, item_name, items.into_iter().skip(skip), link)
}

/// One page of a collection of `total` items that `items` produces from `skip` on, on demand:
/// only the page is built (a cluster's nodes are as many as its node count).
pub(crate) fn page_of(
    total: usize,
    skip: usize,
    item_name: &str,
    items: impl Iterator<Item = Json>,
    link: impl Fn(usize) -> String,
) -> Json {
    let value: Vec<Json> = items.take(PAGE_SIZE).collect();
    let mut body = json!({ item_name: value });
    let next = skip.saturating_add(PAGE_SIZE);
    if next < total {
        body["nextLink"] = json!(link(next));
    }
    body
}

/// `systemData` for a resource created and modified at the given times.
pub(crate) fn system_data(created_ms: i64, modified_ms: i64) -> Json {
    json!({
        "createdBy": "azureml-emulator",
        "createdByType": "Application",
        "createdAt": timestamp(created_ms),
        "lastModifiedBy": "azureml-emulator",
        "lastModifiedByType": "Application",
        "lastModifiedAt": timestamp(modified_ms),
    })
}

/// The value at a dotted path.
pub(crate) fn get_path<'a>(json: &'a Json, path: &[String]) -> Option<&'a Json> {
    path.iter()
        .try_fold(json, |current, segment| match current {
            Json::Array(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|index| items.get(index)),
            _ => current.get(segment.as_str()),
        })
}

/// Sets the value at a dotted path, creating objects on the way.
pub(crate) fn set_path(json: &mut Json, path: &[String], value: Json) {
    let Some((last, parents)) = path.split_last() else {
        *json = value;
        return;
    };
    let mut current = json;
    for segment in parents {
        if !current.is_object() {
            *current = json!({});
        }
        current = current
            .as_object_mut()
            .expect("just made an object")
            .entry(segment.clone())
            .or_insert_with(|| json!({}));
    }
    if !current.is_object() {
        *current = json!({});
    }
    current
        .as_object_mut()
        .expect("just made an object")
        .insert(last.clone(), value);
}

/// `text`, cut to its first 40 characters (with `…`) so that an error message stays readable
/// whatever a request sent.
pub(crate) fn cut(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A JSON value as an error message shows it: its JSON text, [`cut`].
pub(crate) fn shown(value: &Json) -> String {
    cut(&value.to_string())
}

/// Splits `a.b.c` into owned segments.
pub(crate) fn path(text: &str) -> Vec<String> {
    text.split('.').map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compute_paths_case_insensitively() {
        let route = Route::parse(
            "/subscriptions/s/resourcegroups/rg/providers/microsoft.machinelearningservices/workspaces/w/computes/c/listKeys",
        );
        assert_eq!(
            route,
            Some(Route::ComputeAction {
                workspace: WorkspaceRef {
                    subscription: "s".into(),
                    group: "rg".into(),
                    name: "w".into()
                },
                name: "c".into(),
                action: "listKeys".into(),
            })
        );
    }

    #[test]
    fn parses_nested_generic_resources() {
        let route = Route::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Synapse/workspaces/syn/bigDataPools/pool",
        );
        assert_eq!(
            route,
            Some(Route::Generic {
                subscription: "s".into(),
                group: "rg".into(),
                provider: "Microsoft.Synapse".into(),
                types: vec!["workspaces".into(), "bigDataPools".into()],
                names: vec!["syn".into(), "pool".into()],
            })
        );
    }

    #[test]
    fn refuses_unknown_shapes() {
        assert_eq!(Route::parse("/"), None);
        assert_eq!(Route::parse("/foo/bar"), None);
        assert_eq!(
            Route::parse("/subscriptions/s/resourceGroups/rg/providers/X.Y/a"),
            None
        );
    }

    #[test]
    fn pages_carry_next_link_until_the_end() {
        let items: Vec<Json> = (0..45).map(|index| json!(index)).collect();
        let first = page(items.clone(), 0, "value", |skip| {
            format!("next?$skip={skip}")
        });
        assert_eq!(first["value"].as_array().map(Vec::len), Some(20));
        assert_eq!(first["nextLink"], json!("next?$skip=20"));
        let last = page(items, 40, "value", |skip| format!("next?$skip={skip}"));
        assert_eq!(last["value"].as_array().map(Vec::len), Some(5));
        assert!(last.get("nextLink").is_none());
        let beyond = page(Vec::new(), usize::MAX, "value", |skip| format!("{skip}"));
        assert_eq!(beyond, json!({ "value": [] }));
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(cut("short"), "short");
        assert_eq!(cut(&"x".repeat(40)), "x".repeat(40));
        assert_eq!(cut(&"é".repeat(1000)), format!("{}…", "é".repeat(40)));
        assert_eq!(shown(&json!("a")), "\"a\"");
    }

    #[test]
    fn guids_have_the_guid_shape() {
        let guid = new_guid();
        assert_eq!(guid.len(), 36);
        assert_eq!(guid.matches('-').count(), 4);
    }
}
