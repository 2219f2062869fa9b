//! [`ArmClient`]: the ARM client over HTTPS (reqwest + rustls). Typed operations on raw ARM JSON
//! (resource groups, workspaces, computes, any resource by id) and the [`CloudApi`]
//! implementation on top of them. Every call carries `api-version`; transient failures are
//! retried per [`retry`](super::retry); long-running operations are polled per
//! [`operation`](super::operation); lists follow `nextLink` per [`paging`](super::paging).
//!
//! Logging: retries are `warn!`, polls `debug!`, each with method, URL without query, status,
//! attempt and delay. Tokens, secrets and bodies are never logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value as Json;
use url::Url;

use super::auth::TokenSource;
use super::body::{self, PROVIDER_NAMESPACE};
use super::operation::{self, Monitor, OperationStatus};
use super::paging::collect_pages;
use super::retry::{Idempotency, retry_after, retryable_status};
use super::{
    ApiError, ApiFuture, ArmId, ArmObject, ClientConfig, CloudApi, ComputeAction,
    UnderlyingResourceAction,
};
use crate::schema::{Collection, Presence, ResourceSchema};
use crate::value::ObjectValue;

/// The api-version of `Microsoft.Resources/resourceGroups` (ARM's own, not Azure ML's).
pub const RESOURCE_GROUP_API_VERSION: &str = "2021-04-01";

/// The ARM client. Cheap to clone; clones share the connection pool and the token cache.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    tokens: TokenSource,
    /// The endpoint without a trailing `/`, to which ARM paths are appended.
    base: String,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.base)
            .field("api_version", &self.inner.config.api_version)
            .field("credential", &self.inner.config.credential)
            .finish()
    }
}

/// One answer, read in full.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    url: Url,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        header(&self.headers, name)
    }

    fn retry_after(&self) -> Option<Duration> {
        retry_after(|name| self.header(name))
    }

    /// The body as JSON; an empty body is `null`.
    fn json(&self) -> Result<Json, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Null);
        }
        serde_json::from_slice(&self.body).map_err(|error| ApiError::Decode {
            url: shown(&self.url),
            detail: format!("invalid JSON ({error})"),
        })
    }
}

/// The wait before the next poll of a long-running operation: the answer's `Retry-After`; an
/// explicit `Retry-After: 0` (a service saying "soon") polls again after [`MIN_POLL_WAIT`]
/// instead of the default interval; no header at all means the default interval.
fn poll_wait(answer: &Answer, poll: &crate::api::PollPolicy) -> Duration {
    if let Some(wait) = answer.retry_after() {
        return wait;
    }
    let explicit_zero = answer
        .header("retry-after")
        .is_some_and(|value| value.trim() == "0");
    if explicit_zero {
        MIN_POLL_WAIT.min(poll.default_interval)
    } else {
        poll.default_interval
    }
}

/// The shortest wait between polls of one operation.
const MIN_POLL_WAIT: Duration = Duration::from_millis(100);

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The URL for messages and logs: without query (no tokens there, but nothing else either).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// True for transport failures worth another attempt (connection refused/reset/dropped, timeouts,
/// a body cut off), false for TLS verification failures and request-building bugs.
fn is_transient(error: &reqwest::Error) -> bool {
    if error.is_builder() || error.is_redirect() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<rustls::Error>() {
            return false;
        }
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && inner.is::<rustls::Error>()
        {
            return false;
        }
        source = current.source();
    }
    true
}

impl ArmClient {
    /// A client for `config`. Reads the CA certificate file, if any (PEM, one or more
    /// certificates, added to the system's roots).
    ///
    /// ```
    /// use engine::api::{ArmClient, ClientConfig, Credential};
    /// let client = ArmClient::new(ClientConfig::new(Credential::Static("token".into()))).unwrap();
    /// assert!(!format!("{client:?}").contains("token\""));
    /// ```
    pub fn new(config: ClientConfig) -> Result<ArmClient, ApiError> {
        let mut builder = reqwest::Client::builder()
            .tls_backend_rustls()
            .connect_timeout(Duration::from_secs(30))
            .timeout(config.request_timeout)
            .user_agent(concat!("azureml-iac/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.ca_certificate {
            let unusable = |reason: String| ApiError::CaCertificate {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path)
                .map_err(|error| unusable(format!("cannot read it ({error})")))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|error| unusable(format!("not PEM ({error})")))?;
            if certificates.is_empty() {
                return Err(unusable("it holds no certificate".to_owned()));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|source| ApiError::Client { source })?;
        let base = config.endpoint.as_str().trim_end_matches('/').to_owned();
        Ok(ArmClient {
            inner: Arc::new(Inner {
                http,
                tokens: TokenSource::new(config.credential.clone()),
                config,
                base,
            }),
        })
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The URL of an ARM path (`/subscriptions/...`) with the configured `api-version`.
    ///
    /// ```
    /// use engine::api::{ArmClient, ClientConfig, Credential};
    /// let client = ArmClient::new(ClientConfig::new(Credential::AzureCli)).unwrap();
    /// assert_eq!(client.url("/subscriptions/s").as_str(), "https://management.azure.com/subscriptions/s?api-version=2026-07-01");
    /// ```
    pub fn url(&self, path: &str) -> Url {
        self.url_with_version(path, &self.inner.config.api_version)
    }

    fn url_with_version(&self, path: &str, api_version: &str) -> Url {
        let mut url = Url::parse(&format!("{}{path}", self.inner.base))
            .expect("the endpoint is a URL and ARM paths are URL paths");
        url.query_pairs_mut()
            .append_pair("api-version", api_version);
        url
    }

    /// A URL the service gave (`nextLink`, a monitor), resolved against `base`, checked to stay on
    /// the endpoint, with `api-version` added when missing.
    fn follow(&self, base: &Url, link: &str) -> Result<Url, ApiError> {
        let mut url = base.join(link).map_err(|_| ApiError::Decode {
            url: shown(base),
            detail: format!("`{link}` is not a URL"),
        })?;
        let endpoint = &self.inner.config.endpoint;
        let same_origin = url.scheme() == endpoint.scheme()
            && url.host_str().map(str::to_ascii_lowercase)
                == endpoint.host_str().map(str::to_ascii_lowercase)
            && url.port_or_known_default() == endpoint.port_or_known_default();
        if !same_origin {
            return Err(ApiError::ForeignUrl {
                url: shown(&url),
                endpoint: self.inner.base.clone(),
            });
        }
        if !url.query_pairs().any(|(key, _)| key == "api-version") {
            url.query_pairs_mut()
                .append_pair("api-version", &self.inner.config.api_version);
        }
        Ok(url)
    }

    /// Sends one request, retrying transient failures; 2xx answers are returned, anything else
    /// becomes an [`ApiError`] with the service's code and message.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Json>,
        idempotency: Idempotency,
    ) -> Result<Answer, ApiError> {
        let inner = &*self.inner;
        let retry = &inner.config.retry;
        let url_text = shown(&url);
        let mut attempt = 1;
        let mut refreshed = false;
        loop {
            let token = inner.tokens.token(&inner.http, retry).await?;
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.secret());
            if let Some(body) = body {
                request = request.json(body);
            }
            let outcome = async {
                let response = request.send().await?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let bytes = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, bytes.to_vec()))
            }
            .await;
            let (delay, failure) = match outcome {
                Ok((status, headers, body)) if (200..300).contains(&status) => {
                    return Ok(Answer {
                        status,
                        headers,
                        body,
                        url,
                    });
                }
                Ok((401, _, _)) if !refreshed && inner.tokens.can_refresh() => {
                    // The cached token may have been revoked or expired early: one fresh try.
                    tracing::info!(method = %method, url = %url_text, "401 with a cached token; fetching a new one");
                    inner.tokens.invalidate().await;
                    refreshed = true;
                    continue;
                }
                Ok((status, headers, body)) => {
                    let error = ApiError::from_response(status, method.as_str(), &url_text, &body);
                    if !(retryable_status(status, idempotency) && retry.may_retry(attempt)) {
                        return Err(error);
                    }
                    let wait = retry_after(|name| header(&headers, name));
                    (
                        retry.delay(attempt, wait, rand::random::<f64>()),
                        format!("status {status}"),
                    )
                }
                Err(source) => {
                    let retryable = idempotency == Idempotency::Idempotent && is_transient(&source);
                    if !(retryable && retry.may_retry(attempt)) {
                        return Err(ApiError::Transport {
                            method: method.to_string(),
                            url: url_text,
                            source,
                        });
                    }
                    let kind = if source.is_timeout() {
                        "timeout"
                    } else if source.is_connect() {
                        "connection failed"
                    } else {
                        "connection dropped"
                    };
                    (
                        retry.delay(attempt, None, rand::random::<f64>()),
                        kind.to_owned(),
                    )
                }
            };
            tracing::warn!(
                method = %method,
                url = %url_text,
                failure = %failure,
                attempt,
                max_attempts = retry.max_attempts,
                delay_ms = delay.as_millis() as u64,
                "retrying ARM request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// GET as JSON; 404 is `None`.
    async fn get_json(&self, url: Url) -> Result<Option<Json>, ApiError> {
        match self
            .send(Method::GET, url, None, Idempotency::Idempotent)
            .await
        {
            Ok(answer) => answer.json().map(Some),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Waits for the operation an answer started, if it started one.
    async fn wait(&self, request_url: &Url, answer: &Answer) -> Result<bool, ApiError> {
        let Some(monitor) = operation::monitor(answer.status, |name| answer.header(name)) else {
            return Ok(false);
        };
        let monitor_url = self.follow(request_url, monitor.url())?;
        let poll = &self.inner.config.poll;
        let started = Instant::now();
        let mut wait = poll_wait(answer, poll);
        loop {
            let elapsed = started.elapsed();
            if elapsed >= poll.timeout {
                return Err(ApiError::Timeout {
                    url: shown(request_url),
                    waited: elapsed,
                });
            }
            tokio::time::sleep(wait.min(poll.timeout - elapsed)).await;
            let polled = match self
                .send(
                    Method::GET,
                    monitor_url.clone(),
                    None,
                    Idempotency::Idempotent,
                )
                .await
            {
                Ok(polled) => polled,
                // A `Location` monitor reports failure with an error status and body.
                Err(ApiError::Arm { code, message, .. })
                    if matches!(monitor, Monitor::Location(_)) =>
                {
                    return Err(ApiError::OperationFailed {
                        url: shown(request_url),
                        status: "Failed".to_owned(),
                        code,
                        message,
                    });
                }
                Err(error) => return Err(error),
            };
            let status = match &monitor {
                Monitor::AsyncOperation(_) => operation::async_operation_status(&polled.json()?)
                    .ok_or_else(|| ApiError::Decode {
                        url: shown(&monitor_url),
                        detail: "the status monitor's answer has no `status`".to_owned(),
                    })?,
                Monitor::Location(_) => operation::location_status(polled.status),
            };
            tracing::debug!(url = %shown(request_url), monitor = %shown(&monitor_url), status = ?status, "polled operation");
            match status {
                OperationStatus::Running => {}
                OperationStatus::Succeeded => return Ok(true),
                OperationStatus::Failed {
                    status,
                    code,
                    message,
                } => {
                    return Err(ApiError::OperationFailed {
                        url: shown(request_url),
                        status,
                        code,
                        message,
                    });
                }
            }
            wait = poll_wait(&polled, poll);
        }
    }

    /// PUT or PATCH, wait for the operation, and return the resource as a GET shows it.
    async fn write_and_read(
        &self,
        method: Method,
        url: Url,
        body: &Json,
    ) -> Result<Json, ApiError> {
        let answer = self
            .send(method, url.clone(), Some(body), Idempotency::Idempotent)
            .await?;
        let polled = self.wait(&url, &answer).await?;
        if !polled {
            let body = answer.json()?;
            if body.is_object() && !provisioning(&body) {
                return Ok(body);
            }
        }
        self.read_until_provisioned(url).await
    }

    /// GETs the resource after a write; while its `provisioningState` is not terminal (a write
    /// answered without a monitor), GETs again at the poll interval, within the poll timeout.
    async fn read_until_provisioned(&self, url: Url) -> Result<Json, ApiError> {
        let poll = &self.inner.config.poll;
        let started = Instant::now();
        loop {
            let body = self
                .get_json(url.clone())
                .await?
                .ok_or_else(|| ApiError::Decode {
                    url: shown(&url),
                    detail: "the resource is missing right after it was written".to_owned(),
                })?;
            if !provisioning(&body) {
                return Ok(body);
            }
            if started.elapsed() + poll.default_interval > poll.timeout {
                return Err(ApiError::Timeout {
                    url: shown(&url),
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(poll.default_interval).await;
        }
    }

    /// DELETE and wait until it is done; 404 counts as done.
    async fn delete_and_wait(&self, url: Url) -> Result<(), ApiError> {
        match self
            .send(Method::DELETE, url.clone(), None, Idempotency::Idempotent)
            .await
        {
            Ok(answer) => self.wait(&url, &answer).await.map(|_| ()),
            Err(ApiError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Every item of a paged list at `url`.
    async fn list_url(&self, url: Url, field: &str) -> Result<Vec<Json>, ApiError> {
        self.list_with(Method::GET, url, field).await
    }

    async fn list_with(
        &self,
        method: Method,
        url: Url,
        field: &str,
    ) -> Result<Vec<Json>, ApiError> {
        let first = url.to_string();
        let base = url;
        collect_pages(first, field, |link| {
            let method = method.clone();
            let base = base.clone();
            async move {
                let url = self.follow(&base, &link)?;
                // listNodes is a POST only for its first page; `nextLink` pages are GETs.
                let method = if link == base.as_str() {
                    method
                } else {
                    Method::GET
                };
                self.send(method, url, None, Idempotency::Idempotent)
                    .await?
                    .json()
            }
        })
        .await
    }

    // ---- resource groups -------------------------------------------------------------------

    /// `PUT /subscriptions/{s}/resourcegroups/{name}` with `{"location"}`; returns the group.
    pub async fn put_resource_group(
        &self,
        subscription: &str,
        name: &str,
        location: &str,
    ) -> Result<Json, ApiError> {
        let id = ArmId::resource_group_id(subscription, name);
        let url = self.url_with_version(id.as_str(), RESOURCE_GROUP_API_VERSION);
        let body = serde_json::json!({ "location": location });
        self.write_and_read(Method::PUT, url, &body).await
    }

    /// `GET /subscriptions/{s}/resourcegroups/{name}`; `None` when absent.
    pub async fn get_resource_group(
        &self,
        subscription: &str,
        name: &str,
    ) -> Result<Option<Json>, ApiError> {
        let id = ArmId::resource_group_id(subscription, name);
        self.get_json(self.url_with_version(id.as_str(), RESOURCE_GROUP_API_VERSION))
            .await
    }

    // ---- workspaces ------------------------------------------------------------------------

    /// The id of workspace `name` in `resource_group` of `subscription`.
    pub fn workspace_id(subscription: &str, resource_group: &str, name: &str) -> ArmId {
        ArmId::resource_group_id(subscription, resource_group)
            .child(&format!("{PROVIDER_NAMESPACE}/workspaces"), name)
    }

    /// `PUT {workspace}`: creates or overwrites, waits, returns the workspace.
    pub async fn put_workspace(&self, id: &ArmId, body: &Json) -> Result<Json, ApiError> {
        self.write_and_read(Method::PUT, self.url(id.as_str()), body)
            .await
    }

    /// `GET {workspace}`; `None` when absent.
    pub async fn get_workspace(&self, id: &ArmId) -> Result<Option<Json>, ApiError> {
        self.get_json(self.url(id.as_str())).await
    }

    /// `PATCH {workspace}` (`WorkspaceUpdateParameters`), waits, returns the workspace.
    pub async fn patch_workspace(&self, id: &ArmId, body: &Json) -> Result<Json, ApiError> {
        self.write_and_read(Method::PATCH, self.url(id.as_str()), body)
            .await
    }

    /// `DELETE {workspace}` and wait; absent is success.
    pub async fn delete_workspace(&self, id: &ArmId) -> Result<(), ApiError> {
        self.delete_and_wait(self.url(id.as_str())).await
    }

    /// Every workspace of a resource group (all pages).
    pub async fn list_workspaces(
        &self,
        subscription: &str,
        resource_group: &str,
    ) -> Result<Vec<Json>, ApiError> {
        let group = ArmId::resource_group_id(subscription, resource_group);
        self.list_url(
            self.url(&format!(
                "{group}/providers/{PROVIDER_NAMESPACE}/workspaces"
            )),
            "value",
        )
        .await
    }

    // ---- computes --------------------------------------------------------------------------

    /// `GET {workspace}/computes/{name}`; `None` when absent.
    pub async fn get_compute(&self, id: &ArmId) -> Result<Option<Json>, ApiError> {
        self.get_json(self.url(id.as_str())).await
    }

    /// Every compute of a workspace (all pages).
    pub async fn list_computes(&self, workspace: &ArmId) -> Result<Vec<Json>, ApiError> {
        self.list_url(self.url(&format!("{workspace}/computes")), "value")
            .await
    }

    /// `PUT {workspace}/computes/{name}`: creates or attaches (or overwrites), waits for the
    /// operation, returns the compute as a GET shows it.
    pub async fn put_compute(&self, id: &ArmId, body: &Json) -> Result<Json, ApiError> {
        self.write_and_read(Method::PUT, self.url(id.as_str()), body)
            .await
    }

    /// `PATCH {compute}` (`ClusterUpdateParameters`: scale settings), waits, returns the compute.
    pub async fn patch_compute(&self, id: &ArmId, body: &Json) -> Result<Json, ApiError> {
        self.write_and_read(Method::PATCH, self.url(id.as_str()), body)
            .await
    }

    /// `DELETE {compute}?underlyingResourceAction=Delete|Detach` and wait; absent is success.
    pub async fn delete_compute(
        &self,
        id: &ArmId,
        action: UnderlyingResourceAction,
    ) -> Result<(), ApiError> {
        let mut url = self.url(id.as_str());
        url.query_pairs_mut()
            .append_pair("underlyingResourceAction", action.as_str());
        self.delete_and_wait(url).await
    }

    /// `POST {compute}/start|stop|restart` and wait for it. Not retried except on 429: the
    /// service may have acted on a request whose answer was lost.
    pub async fn compute_action(&self, id: &ArmId, action: ComputeAction) -> Result<(), ApiError> {
        let url = self.url(&format!("{id}/{}", action.as_str()));
        let answer = self
            .send(Method::POST, url.clone(), None, Idempotency::NotIdempotent)
            .await?;
        self.wait(&url, &answer).await.map(|_| ())
    }

    /// `POST {compute}/start`.
    pub async fn start_compute(&self, id: &ArmId) -> Result<(), ApiError> {
        self.compute_action(id, ComputeAction::Start).await
    }

    /// `POST {compute}/stop`.
    pub async fn stop_compute(&self, id: &ArmId) -> Result<(), ApiError> {
        self.compute_action(id, ComputeAction::Stop).await
    }

    /// `POST {compute}/restart`.
    pub async fn restart_compute(&self, id: &ArmId) -> Result<(), ApiError> {
        self.compute_action(id, ComputeAction::Restart).await
    }

    /// `POST {compute}/listKeys`: the secrets (a read, so retried). The answer holds secrets:
    /// do not log it.
    pub async fn list_keys(&self, id: &ArmId) -> Result<Json, ApiError> {
        let url = self.url(&format!("{id}/listKeys"));
        self.send(Method::POST, url, None, Idempotency::Idempotent)
            .await?
            .json()
    }

    /// `POST {compute}/listNodes`, all pages (`nodes`).
    pub async fn list_nodes(&self, id: &ArmId) -> Result<Vec<Json>, ApiError> {
        self.list_with(Method::POST, self.url(&format!("{id}/listNodes")), "nodes")
            .await
    }

    // ---- any resource ------------------------------------------------------------------------

    /// `GET {id}` of any ARM resource, with the configured api-version; `None` when absent.
    pub async fn get_resource(&self, id: &ArmId) -> Result<Option<Json>, ApiError> {
        self.get_json(self.url(id.as_str())).await
    }

    /// `PUT {id}` of any ARM resource, waiting for the operation; returns the resource.
    pub async fn put_resource(&self, id: &ArmId, body: &Json) -> Result<Json, ApiError> {
        self.write_and_read(Method::PUT, self.url(id.as_str()), body)
            .await
    }

    /// `DELETE {id}` of any ARM resource and wait; absent is success.
    pub async fn delete_resource(&self, id: &ArmId) -> Result<(), ApiError> {
        self.delete_and_wait(self.url(id.as_str())).await
    }

    /// The collection URL of `collection` under `parent`.
    fn collection_url(&self, parent: &ArmId, collection: Collection) -> Url {
        match collection {
            Collection::Workspaces => self.url(&format!(
                "{parent}/providers/{PROVIDER_NAMESPACE}/workspaces"
            )),
            // The versions of one asset container (`{workspace}/environments/{name}`).
            other if other.is_versioned() && parent.depth() == 2 => {
                self.url(&format!("{parent}/versions"))
            }
            other => self.url(&format!("{parent}/{}", other.segment())),
        }
    }
}

/// True while a body's `properties.provisioningState` says an operation is still running.
fn provisioning(body: &Json) -> bool {
    body.pointer("/properties/provisioningState")
        .and_then(Json::as_str)
        .is_some_and(|state| {
            [
                "Creating",
                "Updating",
                "Deleting",
                "Accepted",
                "Provisioning",
            ]
            .iter()
            .any(|running| state.eq_ignore_ascii_case(running))
        })
}

/// The configurable attributes with an arm path whose value is (partly) unknown.
fn unknown_attributes(schema: &ResourceSchema, object: &ObjectValue) -> Vec<String> {
    schema
        .attributes
        .iter()
        .filter(|(_, attribute)| {
            attribute.arm.is_some() && attribute.presence != Presence::Computed
        })
        .filter(|(name, _)| object.get(name).contains_unknown())
        .map(|(name, _)| name.clone())
        .collect()
}

fn check_compute_type(schema: &ResourceSchema, id: &str, body: &Json) -> Result<(), ApiError> {
    let (Some(expected), Some(actual)) = (&schema.api.compute_type, body::compute_type(body))
    else {
        return Ok(());
    };
    if expected.eq_ignore_ascii_case(actual) {
        return Ok(());
    }
    Err(ApiError::WrongType {
        id: id.to_owned(),
        expected: expected.clone(),
        actual: actual.to_owned(),
    })
}

fn raw(answer: Answer) -> super::RawAnswer {
    super::RawAnswer {
        status: answer.status,
        headers: answer
            .headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: answer.body,
    }
}

impl CloudApi for ArmClient {
    fn arm_call<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        query: &'a [(&'a str, &'a str)],
        body: Option<&'a Json>,
    ) -> ApiFuture<'a, super::RawAnswer> {
        Box::pin(async move {
            let method = Method::from_bytes(method.as_bytes()).map_err(|_| ApiError::Decode {
                url: path.to_owned(),
                detail: format!("`{method}` is not an HTTP method"),
            })?;
            let mut url = self.url(path);
            if !query.is_empty() {
                let mut pairs = url.query_pairs_mut();
                for (key, value) in query {
                    pairs.append_pair(key, value);
                }
            }
            let idempotency = if method == Method::POST {
                Idempotency::NotIdempotent
            } else {
                Idempotency::Idempotent
            };
            self.send(method, url, body, idempotency).await.map(raw)
        })
    }

    fn data_call<'a>(
        &'a self,
        method: &'a str,
        url: &'a str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> ApiFuture<'a, super::RawAnswer> {
        Box::pin(async move {
            let shown_url = url.split('?').next().unwrap_or_default().to_owned();
            let transport = |source| ApiError::Transport {
                method: method.to_owned(),
                url: shown_url.clone(),
                source,
            };
            let method = Method::from_bytes(method.as_bytes()).map_err(|_| ApiError::Decode {
                url: shown_url.clone(),
                detail: format!("`{method}` is not an HTTP method"),
            })?;
            // The SAS in the query is the credential: never the ARM token.
            let mut request = self.inner.http.request(method, url);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request.send().await.map_err(transport)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                })
                .collect();
            let body = response.bytes().await.map_err(transport)?.to_vec();
            Ok(super::RawAnswer {
                status,
                headers,
                body,
            })
        })
    }

    fn list<'a>(
        &'a self,
        parent_id: &'a str,
        collection: Collection,
    ) -> ApiFuture<'a, Vec<ArmObject>> {
        Box::pin(async move {
            let parent = ArmId::parse(parent_id)?;
            let items = self
                .list_url(self.collection_url(&parent, collection), "value")
                .await?;
            Ok(items.into_iter().map(ArmObject::from_body).collect())
        })
    }

    fn read<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
    ) -> ApiFuture<'a, Option<ObjectValue>> {
        Box::pin(async move {
            let arm_id = ArmId::parse(id)?;
            let Some(body) = self.get_json(self.url(arm_id.as_str())).await? else {
                return Ok(None);
            };
            check_compute_type(schema, id, &body)?;
            Ok(Some(body::from_arm(schema, &body)))
        })
    }

    fn create_or_update<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue> {
        Box::pin(async move {
            let unknown = unknown_attributes(schema, object);
            if !unknown.is_empty() {
                return Err(ApiError::UnknownValues {
                    type_name: schema.type_name.clone(),
                    attributes: unknown,
                });
            }
            let id =
                body::resource_id(schema, object, self.inner.config.subscription_id.as_deref())?;
            let request = body::to_arm(schema, object);
            let answer = self
                .write_and_read(Method::PUT, self.url(id.as_str()), &request)
                .await?;
            check_compute_type(schema, id.as_str(), &answer)?;
            Ok(body::from_arm(schema, &answer))
        })
    }

    fn patch<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue> {
        Box::pin(async move {
            let arm_id = ArmId::parse(id)?;
            let request = body::patch_body(schema, object);
            let answer = self
                .write_and_read(Method::PATCH, self.url(arm_id.as_str()), &request)
                .await?;
            Ok(body::from_arm(schema, &answer))
        })
    }

    fn delete<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        action: UnderlyingResourceAction,
    ) -> ApiFuture<'a, ()> {
        Box::pin(async move {
            let arm_id = ArmId::parse(id)?;
            match schema.api.collection {
                Collection::Computes => self.delete_compute(&arm_id, action).await,
                _ => self.delete_and_wait(self.url(arm_id.as_str())).await,
            }
        })
    }

    fn action<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        name: &'a str,
    ) -> ApiFuture<'a, ()> {
        Box::pin(async move {
            let action = ComputeAction::parse(name)
                .filter(|_| schema.api.collection == Collection::Computes)
                .ok_or_else(|| ApiError::UnknownAction {
                    type_name: schema.type_name.clone(),
                    action: name.to_owned(),
                })?;
            self.compute_action(&ArmId::parse(id)?, action).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Credential;
    use pretty_assertions::assert_eq;

    fn client(endpoint: &str) -> ArmClient {
        let mut config = ClientConfig::new(Credential::Static("t".into()));
        config.endpoint = Url::parse(endpoint).expect("url");
        ArmClient::new(config).expect("client")
    }

    #[test]
    fn long_running_operations_are_polled_after_their_retry_after() {
        let answer = |headers: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.insert(*name, value.parse().expect("header value"));
            }
            Answer {
                status: 202,
                headers: map,
                body: Vec::new(),
                url: Url::parse("https://127.0.0.1/op").expect("url"),
            }
        };
        let poll = crate::api::PollPolicy::default();
        assert_eq!(
            poll_wait(&answer(&[("retry-after", "7")]), &poll),
            Duration::from_secs(7)
        );
        assert_eq!(
            poll_wait(&answer(&[("retry-after-ms", "250")]), &poll),
            Duration::from_millis(250)
        );
        assert_eq!(
            poll_wait(&answer(&[("retry-after", "0")]), &poll),
            MIN_POLL_WAIT
        );
        assert_eq!(poll_wait(&answer(&[]), &poll), poll.default_interval);
    }

    #[test]
    fn urls_keep_an_endpoint_prefix_and_carry_the_api_version() {
        let client = client("https://127.0.0.1:8443/arm/");
        assert_eq!(
            client.url("/subscriptions/s/resourceGroups/g").as_str(),
            "https://127.0.0.1:8443/arm/subscriptions/s/resourceGroups/g?api-version=2026-07-01"
        );
    }

    #[test]
    fn links_are_followed_only_on_the_endpoint() {
        let client = client("https://127.0.0.1:8443");
        let base = client.url("/subscriptions/s/x");
        let next = client
            .follow(
                &base,
                "https://127.0.0.1:8443/subscriptions/s/x?api-version=2025-01-01&$skip=2",
            )
            .expect("same origin");
        assert_eq!(next.query(), Some("api-version=2025-01-01&$skip=2"));
        let relative = client.follow(&base, "/operations/1").expect("relative");
        assert_eq!(
            relative.as_str(),
            "https://127.0.0.1:8443/operations/1?api-version=2026-07-01"
        );
        let foreign = client
            .follow(&base, "https://evil.example/steal")
            .expect_err("foreign");
        assert!(matches!(foreign, ApiError::ForeignUrl { .. }), "{foreign}");
        assert!(client.follow(&base, "https://127.0.0.1:9999/x").is_err());
    }

    #[test]
    fn shown_urls_drop_the_query() {
        let url = Url::parse("https://arm/x?api-version=1&sig=secret").expect("url");
        assert_eq!(shown(&url), "https://arm/x");
    }

    #[test]
    fn provisioning_states_that_still_run() {
        assert!(provisioning(
            &serde_json::json!({"properties": {"provisioningState": "Creating"}})
        ));
        assert!(!provisioning(
            &serde_json::json!({"properties": {"provisioningState": "Succeeded"}})
        ));
        assert!(!provisioning(
            &serde_json::json!({"properties": {"provisioningState": "Failed"}})
        ));
        assert!(!provisioning(&serde_json::json!({"properties": {}})));
    }

    #[test]
    fn a_missing_ca_file_is_reported() {
        let mut config = ClientConfig::new(Credential::AzureCli);
        config.ca_certificate = Some("/nonexistent/ca.pem".into());
        let error = ArmClient::new(config).expect_err("missing file");
        assert!(
            error
                .to_string()
                .starts_with("CA certificate `/nonexistent/ca.pem` is unusable"),
            "{error}"
        );
    }

    #[test]
    fn unknown_configurable_values_are_found() {
        let registry = crate::schema::load_registry().expect("catalogue");
        let schema = registry.get("azureml_compute_cluster").expect("type");
        let mut object = ObjectValue::default();
        object.set("id", crate::value::Value::Unknown);
        object.set("vm_size", crate::value::Value::Unknown);
        object.set("max_node_count", 2.into());
        assert_eq!(
            unknown_attributes(schema, &object),
            vec!["vm_size".to_owned()]
        );
    }
}
