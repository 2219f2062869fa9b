//! The cloud, as the engine reaches it. [`CloudApi`] is the object-level interface refresh and
//! apply use (one schema-driven implementation for every resource type); [`ArmClient`] is its
//! implementation over HTTPS (reqwest + rustls, `http.rs`), with typed raw-JSON operations for
//! resource groups, workspaces, computes and any ARM resource. Everything ARM-specific lives
//! here: ids ([`id`]), the body mapping ([`body`]), retries ([`retry`]), paging ([`paging`]),
//! long-running operations ([`operation`]) and tokens ([`auth`]). No planning here.
//!
//! Errors ([`ApiError`]) keep the service's `error.code` and `error.message` verbatim: they are
//! what the user reads.

pub mod auth;
pub mod body;
#[cfg(test)]
pub(crate) mod fake;
pub mod http;
pub mod id;
pub mod operation;
pub mod paging;
pub mod retry;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value as Json;
use url::Url;

use crate::schema::{Collection, Registry, ResourceSchema};
use crate::value::ObjectValue;

pub use auth::{AccessToken, AuthError, Credential};
pub use body::{ResourceIdError, from_arm, patch_body, resource_id, to_arm};
pub use http::ArmClient;
pub use id::{ArmId, ArmIdError};
pub use retry::RetryPolicy;

/// The public ARM endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";

/// The api-version sent on every Azure ML call unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2026-07-01";

/// Where and how the client talks to ARM.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL of ARM (default [`DEFAULT_ENDPOINT`]); may carry a path prefix.
    pub endpoint: Url,
    /// The `api-version` query parameter (default [`DEFAULT_API_VERSION`]).
    pub api_version: String,
    /// How requests are authenticated.
    pub credential: Credential,
    /// The subscription new workspaces go to (workspaces are addressed by resource group name);
    /// `ARM_SUBSCRIPTION_ID`, read by callers.
    pub subscription_id: Option<String>,
    /// A PEM file of extra trusted roots (the emulator's certificate), added to the system roots.
    /// `AZUREML_CA_CERTIFICATE` is read by callers, not here.
    pub ca_certificate: Option<PathBuf>,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Polling of long-running operations.
    pub poll: PollPolicy,
    /// Time limit of one HTTP request (connect, send, read the answer).
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// The defaults with `credential`.
    ///
    /// ```
    /// let config = engine::api::ClientConfig::new(engine::api::Credential::AzureCli);
    /// assert_eq!(config.endpoint.as_str(), "https://management.azure.com/");
    /// assert_eq!(config.api_version, "2026-07-01");
    /// ```
    pub fn new(credential: Credential) -> ClientConfig {
        ClientConfig {
            endpoint: Url::parse(DEFAULT_ENDPOINT).expect("a valid constant URL"),
            api_version: DEFAULT_API_VERSION.to_owned(),
            credential,
            subscription_id: None,
            ca_certificate: None,
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            request_timeout: Duration::from_secs(120),
        }
    }

    /// The configuration for an emulator on this machine (the embedded endpoint): `endpoint`,
    /// the static `token`, and polls every 100 ms instead of ARM's 5 s.
    ///
    /// ```
    /// let url = url::Url::parse("http://127.0.0.1:8080").unwrap();
    /// let config = engine::api::ClientConfig::local(url, "t".to_owned());
    /// assert_eq!(config.poll.default_interval, std::time::Duration::from_millis(100));
    /// ```
    pub fn local(endpoint: Url, token: String) -> ClientConfig {
        let mut config = ClientConfig::new(Credential::Static(token));
        config.endpoint = endpoint;
        config.poll.default_interval = Duration::from_millis(100);
        config
    }
}

/// How long-running operations are polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// The wait between polls when the service sends no (or a zero) `Retry-After`.
    pub default_interval: Duration,
    /// The longest one operation is waited for; then [`ApiError::Timeout`].
    pub timeout: Duration,
}

impl Default for PollPolicy {
    /// 5 s between polls, 60 minutes in total (an AKS cluster takes about 20).
    fn default() -> PollPolicy {
        PollPolicy {
            default_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(3600),
        }
    }
}

/// What `DELETE .../computes/{name}` does to the underlying resource (the parameter is required).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnderlyingResourceAction {
    /// Delete the compute and the resource Azure ML created for it.
    Delete,
    /// Remove only the workspace's record; the VM/cluster stays.
    Detach,
}

impl UnderlyingResourceAction {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            UnderlyingResourceAction::Delete => "Delete",
            UnderlyingResourceAction::Detach => "Detach",
        }
    }
}

/// The POST actions of a compute instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeAction {
    /// `POST .../start`
    Start,
    /// `POST .../stop`
    Stop,
    /// `POST .../restart`
    Restart,
}

impl ComputeAction {
    /// The action named `name` (`start`, `stop`, `restart`, as the schemas' `actions` spell them).
    pub fn parse(name: &str) -> Option<ComputeAction> {
        match name {
            "start" => Some(ComputeAction::Start),
            "stop" => Some(ComputeAction::Stop),
            "restart" => Some(ComputeAction::Restart),
            _ => None,
        }
    }

    /// The URL segment.
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeAction::Start => "start",
            ComputeAction::Stop => "stop",
            ComputeAction::Restart => "restart",
        }
    }
}

/// Everything that can go wrong talking to ARM.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The service answered with an error (`{"error": {"code", "message", "target"}}`); code and
    /// message are the service's, verbatim.
    #[error("`{code}`: {message} ({method} `{url}` answered {status})")]
    Arm {
        /// HTTP status.
        status: u16,
        /// `error.code`, e.g. `AuthenticationFailed`.
        code: String,
        /// `error.message`.
        message: String,
        /// `error.target`, when given.
        target: Option<String>,
        /// The request method.
        method: String,
        /// The request URL, without query.
        url: String,
    },
    /// The service answered 404.
    #[error("`{url}` does not exist: `{code}`: {message}")]
    NotFound {
        /// The request URL, without query.
        url: String,
        /// `error.code`, e.g. `ResourceNotFound`.
        code: String,
        /// `error.message`.
        message: String,
    },
    /// The request did not get an answer (connection refused or dropped, TLS, timeout).
    #[error("request `{method} {url}` failed")]
    Transport {
        /// The request method.
        method: String,
        /// The request URL, without query.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A long-running operation did not finish in time.
    #[error("the operation on `{url}` did not finish within {}", humantime::format_duration(*.waited))]
    Timeout {
        /// The resource (or action) URL, without query.
        url: String,
        /// How long it was polled.
        waited: Duration,
    },
    /// A long-running operation ended `Failed` or `Canceled`; code and message are the service's.
    #[error("the operation on `{url}` ended `{status}`: `{code}`: {message}")]
    OperationFailed {
        /// The resource (or action) URL, without query.
        url: String,
        /// `Failed` or `Canceled`.
        status: String,
        /// The service's error code.
        code: String,
        /// The service's error message.
        message: String,
    },
    /// No token could be obtained.
    #[error("failed to authenticate to ARM")]
    Auth(#[from] AuthError),
    /// An answer is not the JSON expected.
    #[error("the answer of `{url}` is not what ARM sends: {detail}")]
    Decode {
        /// The request URL, without query.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// A string that should be an ARM id is not one.
    #[error(transparent)]
    Id(#[from] ArmIdError),
    /// An object cannot be addressed (name or parent missing).
    #[error(transparent)]
    Address(#[from] ResourceIdError),
    /// An object still has unknown values where the body needs them.
    #[error(
        "`{type_name}` cannot be sent while {} unknown",
        unknown_list(attributes)
    )]
    UnknownValues {
        /// The resource type.
        type_name: String,
        /// The attributes that are unknown.
        attributes: Vec<String>,
    },
    /// A read found an object of another compute type at the id.
    #[error("`{id}` is a `{actual}` compute, not a `{expected}` one")]
    WrongType {
        /// The id.
        id: String,
        /// The schema's compute type.
        expected: String,
        /// What the service reported.
        actual: String,
    },
    /// An action the API does not have.
    #[error("`{type_name}` has no action `{action}` (expected `start`, `stop` or `restart`)")]
    UnknownAction {
        /// The resource type.
        type_name: String,
        /// The action asked for.
        action: String,
    },
    /// A monitor or `nextLink` URL points away from the configured endpoint; the token is not
    /// sent there.
    #[error("the service pointed at `{url}`, outside the endpoint `{endpoint}`; not following it")]
    ForeignUrl {
        /// The URL.
        url: String,
        /// The configured endpoint.
        endpoint: String,
    },
    /// The CA certificate file is unusable.
    #[error("CA certificate `{}` is unusable: {reason}", path.display())]
    CaCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("failed to set up the HTTP client")]
    Client {
        /// Why.
        #[source]
        source: reqwest::Error,
    },
}

fn unknown_list(attributes: &[String]) -> String {
    let names: Vec<String> = attributes.iter().map(|name| format!("`{name}`")).collect();
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!("{} {verb}", names.join(", "))
}

impl ApiError {
    /// The ARM error code, for errors the service sent.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Arm { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::OperationFailed { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, for errors the service sent.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Arm { status, .. } => Some(*status),
            ApiError::NotFound { .. } => Some(404),
            _ => None,
        }
    }

    /// Builds the error for an answer with a non-2xx `status` and `body` (any bytes; ARM's
    /// `{"error": {...}}` shape is decoded, anything else keeps the status as the code).
    ///
    /// ```
    /// let error = engine::api::ApiError::from_response(
    ///     401, "GET", "https://arm/x",
    ///     br#"{"error":{"code":"AuthenticationFailed","message":"Missing bearer token."}}"#,
    /// );
    /// assert_eq!(error.code(), Some("AuthenticationFailed"));
    /// assert!(error.to_string().contains("Missing bearer token."));
    /// ```
    pub fn from_response(status: u16, method: &str, url: &str, body: &[u8]) -> ApiError {
        let json: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        // ARM nests under `error`; a few services (and proxies) put code/message at the top.
        let error = json
            .get("error")
            .filter(|error| error.is_object())
            .unwrap_or(&json);
        let text = |field: &str| error.get(field).and_then(Json::as_str).map(str::to_owned);
        let code = text("code").unwrap_or_else(|| reason(status).to_owned());
        let message = text("message").unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() || json.is_object() {
                format!("HTTP {status} without an error message")
            } else {
                raw.chars().take(300).collect()
            }
        });
        if status == 404 {
            return ApiError::NotFound {
                url: url.to_owned(),
                code,
                message,
            };
        }
        ApiError::Arm {
            status,
            code,
            message,
            target: text("target"),
            method: method.to_owned(),
            url: url.to_owned(),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "HttpError",
    }
}

/// One object of a list answer, before it is mapped to a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmObject {
    /// The ARM id.
    pub id: String,
    /// The name (last id segment).
    pub name: String,
    /// `properties.computeType`, for computes.
    pub compute_type: Option<String>,
    /// The body as the service sent it (secrets already stripped by the service).
    pub body: Json,
}

impl ArmObject {
    /// Wraps a body of a list answer.
    pub fn from_body(body: Json) -> ArmObject {
        let text = |field: &str| {
            body.get(field)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        ArmObject {
            id: text("id"),
            name: text("name"),
            compute_type: body::compute_type(&body).map(str::to_owned),
            body,
        }
    }

    /// The schema of this object in `collection`: by compute type for computes, else the
    /// collection's only type. `None` for kinds the catalogue does not know (e.g. `DataFactory`).
    pub fn schema<'r>(
        &self,
        registry: &'r Registry,
        collection: Collection,
    ) -> Option<&'r ResourceSchema> {
        match collection {
            Collection::Computes => registry.by_compute_type(self.compute_type.as_deref()?),
            other => registry
                .iter()
                .find(|schema| schema.api.collection == other),
        }
    }

    /// The object's attributes under its schema (see [`ArmObject::schema`]).
    ///
    /// ```
    /// use engine::api::ArmObject;
    /// use engine::schema::Collection;
    /// let registry = engine::schema::load_registry().unwrap();
    /// let object = ArmObject::from_body(serde_json::json!({
    ///     "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w/computes/vm",
    ///     "name": "vm", "properties": {"computeType": "VirtualMachine"}}));
    /// let (schema, value) = object.to_object(&registry, Collection::Computes).unwrap();
    /// assert_eq!(schema.type_name, "azureml_attached_virtual_machine");
    /// assert_eq!(value.get_str("name"), Some("vm"));
    /// ```
    pub fn to_object<'r>(
        &self,
        registry: &'r Registry,
        collection: Collection,
    ) -> Option<(&'r ResourceSchema, ObjectValue)> {
        let schema = self.schema(registry, collection)?;
        Some((schema, from_arm(schema, &self.body)))
    }
}

/// A raw answer of [`CloudApi::arm_call`] or [`CloudApi::data_call`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON (`null` when empty or not JSON).
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or(Json::Null)
    }
}

/// A boxed future of an API call: `Send`, so callers may spawn it; boxed, so `dyn CloudApi`
/// works as well as a generic parameter.
pub type ApiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + Send + 'a>>;

/// Where the calls of each provider configuration go: the default configuration's cloud and
/// each alias's (`provider = azureml.prod`, for instance another subscription). A front end
/// with one configuration uses [`Clouds::one`].
pub struct Clouds<'a> {
    default: &'a dyn CloudApi,
    aliased: std::collections::BTreeMap<String, &'a dyn CloudApi>,
}

impl<'a> Clouds<'a> {
    /// Only the default configuration.
    pub fn one(cloud: &'a dyn CloudApi) -> Clouds<'a> {
        Clouds {
            default: cloud,
            aliased: std::collections::BTreeMap::new(),
        }
    }

    /// Adds the cloud of the configuration `alias`.
    pub fn with_alias(mut self, alias: impl Into<String>, cloud: &'a dyn CloudApi) -> Clouds<'a> {
        self.aliased.insert(alias.into(), cloud);
        self
    }

    /// The cloud of `alias` (`None`: the default configuration); an error naming it when
    /// there is no such configuration.
    pub fn get(&self, alias: Option<&str>) -> Result<&'a dyn CloudApi, String> {
        match alias {
            None => Ok(self.default),
            Some(alias) => self.aliased.get(alias).copied().ok_or_else(|| {
                format!("the provider configuration `azureml.{alias}` is not configured")
            }),
        }
    }
}

/// The cloud at object level: what refresh and apply need, for every resource type through its
/// schema. Implemented by [`ArmClient`]; tests implement it in memory.
///
/// Ids are ARM id strings (compared case-insensitively by implementations).
pub trait CloudApi: Send + Sync {
    /// Every object in `collection` under `parent_id` (a resource group id for workspaces, a
    /// workspace id for computes), all pages. Map each with [`ArmObject::to_object`].
    fn list<'a>(
        &'a self,
        parent_id: &'a str,
        collection: Collection,
    ) -> ApiFuture<'a, Vec<ArmObject>>;

    /// The object at `id`, or `None` when it does not exist.
    fn read<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
    ) -> ApiFuture<'a, Option<ObjectValue>>;

    /// Creates, attaches or overwrites the object (PUT of [`to_arm`], then the long-running
    /// operation, then a read of the result).
    fn create_or_update<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue>;

    /// Changes the `patch`-mode attributes of the object at `id` in place (PATCH of
    /// [`patch_body`] of `object`, the whole desired object), then reads the result.
    fn patch<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue>;

    /// Deletes or detaches the object at `id` and waits until it is gone. Already gone is success.
    /// `action` applies to computes; workspaces ignore it.
    fn delete<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        action: UnderlyingResourceAction,
    ) -> ApiFuture<'a, ()>;

    /// Runs the POST action `name` (`start`, `stop`, `restart`) on the object at `id` and waits
    /// for it to finish.
    fn action<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        name: &'a str,
    ) -> ApiFuture<'a, ()>;

    /// One ARM call on `path` (an ARM path such as `{workspace}/jobs/x`) with `query` added to
    /// the api-version, authenticated and retried like every call; non-2xx answers are errors
    /// (404 is [`ApiError::NotFound`]). No long-running operation is awaited: for the
    /// synchronous asset and job calls of runs (`engine::runs::submit`). The default refuses.
    fn arm_call<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        query: &'a [(&'a str, &'a str)],
        body: Option<&'a Json>,
    ) -> ApiFuture<'a, RawAnswer> {
        let _ = (query, body);
        Box::pin(async move {
            Err(ApiError::Decode {
                url: path.to_owned(),
                detail: format!("this client cannot send `{method}` calls outside the catalogue"),
            })
        })
    }

    /// One data-plane call (Azure Blob REST) to an absolute `url` whose query carries its own
    /// credential (a SAS): no bearer token is sent. Every status is returned to the caller;
    /// only transport failures are errors. The default refuses.
    fn data_call<'a>(
        &'a self,
        method: &'a str,
        url: &'a str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> ApiFuture<'a, RawAnswer> {
        let _ = (headers, body);
        Box::pin(async move {
            Err(ApiError::Decode {
                url: url.split('?').next().unwrap_or_default().to_owned(),
                detail: format!("this client cannot send data-plane `{method}` calls"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn arm_error_bodies_are_decoded_verbatim() {
        let error = ApiError::from_response(
            403,
            "GET",
            "https://arm/subscriptions/x",
            br#"{"error":{"code":"AuthorizationFailed","message":"The client 'c' does not have authorization to perform action 'read' over scope '/subscriptions/x'.","target":"subscriptions","details":[]}}"#,
        );
        assert_eq!(
            error.to_string(),
            "`AuthorizationFailed`: The client 'c' does not have authorization to perform action 'read' over scope '/subscriptions/x'. (GET `https://arm/subscriptions/x` answered 403)"
        );
        assert!(
            matches!(&error, ApiError::Arm { target: Some(target), .. } if target == "subscriptions")
        );
        assert_eq!(error.status(), Some(403));
    }

    #[test]
    fn not_found_is_its_own_variant() {
        let error = ApiError::from_response(
            404,
            "GET",
            "https://arm/c",
            br#"{"error":{"code":"ResourceNotFound","message":"Compute `c` was not found."}}"#,
        );
        assert!(matches!(error, ApiError::NotFound { .. }));
        assert_eq!(error.code(), Some("ResourceNotFound"));
    }

    #[test]
    fn bodies_that_are_not_arm_errors_keep_the_status() {
        let error =
            ApiError::from_response(502, "PUT", "https://arm/c", b"<html>Bad gateway</html>");
        assert_eq!(error.code(), Some("BadGateway"));
        assert!(
            error.to_string().contains("<html>Bad gateway</html>"),
            "{error}"
        );
        let error = ApiError::from_response(503, "PUT", "https://arm/c", b"");
        assert_eq!(
            error.to_string(),
            "`ServiceUnavailable`: HTTP 503 without an error message (PUT `https://arm/c` answered 503)"
        );
        let flat = ApiError::from_response(
            400,
            "PUT",
            "https://arm/c",
            br#"{"code":"BadRequest","message":"flat"}"#,
        );
        assert_eq!(flat.code(), Some("BadRequest"));
    }

    #[test]
    fn unknown_values_are_named() {
        let error = ApiError::UnknownValues {
            type_name: "azureml_compute_cluster".into(),
            attributes: vec!["vm_size".into(), "subnet_id".into()],
        };
        assert_eq!(
            error.to_string(),
            "`azureml_compute_cluster` cannot be sent while `vm_size`, `subnet_id` are unknown"
        );
    }

    #[test]
    fn list_objects_find_their_schema() {
        let registry = crate::schema::load_registry().expect("catalogue");
        let object = ArmObject::from_body(
            serde_json::json!({"id": "/x", "name": "df", "properties": {"computeType": "DataFactory"}}),
        );
        assert_eq!(object.compute_type.as_deref(), Some("DataFactory"));
        assert!(object.schema(&registry, Collection::Computes).is_none());
        let workspace =
            ArmObject::from_body(serde_json::json!({"id": "/x", "name": "w", "properties": {}}));
        assert_eq!(
            workspace
                .schema(&registry, Collection::Workspaces)
                .map(|schema| schema.type_name.as_str()),
            Some("azureml_workspace")
        );
    }
}
