//! Bearer tokens for ARM: a static token, the OAuth 2.0 client-credentials flow against an
//! authority (Microsoft Entra ID, or the emulator's `/{tenant}/oauth2/v2.0/token`), or the Azure
//! CLI. Tokens are cached until shortly before they expire. Nothing here prints or logs a token
//! or a secret: `Debug` of every type that holds one redacts it.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;
use tokio::sync::Mutex;
use url::Url;

use super::retry::{Idempotency, RetryPolicy, retry_after, retryable_status};

/// The default Microsoft Entra authority.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// The OAuth scope of Azure Resource Manager.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";

/// The resource the Azure CLI is asked a token for.
pub const ARM_RESOURCE: &str = "https://management.azure.com/";

/// A token is refreshed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// How the client authenticates to ARM.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A bearer token used as is (`AZUREML_TOKEN`).
    Static(String),
    /// A service principal's client secret (`ARM_TENANT_ID`, `ARM_CLIENT_ID`,
    /// `ARM_CLIENT_SECRET`), exchanged at `{authority_host}/{tenant_id}/oauth2/v2.0/token`.
    ClientSecret {
        /// Directory (tenant) id.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// The authority, default [`DEFAULT_AUTHORITY_HOST`].
        authority_host: Url,
    },
    /// `az account get-access-token --resource https://management.azure.com/ -o json`.
    AzureCli,
}

impl Credential {
    /// The credential provider settings select, in azurerm's order: a static token; else client
    /// credentials when tenant, client id and secret are all set (tokens from
    /// [`authority_host_for`]); else the Azure CLI.
    ///
    /// ```
    /// use engine::api::Credential;
    /// let endpoint = url::Url::parse("https://127.0.0.1:8443").unwrap();
    /// let credential = Credential::select(None, Some(("t", "c", "s")), None, &endpoint);
    /// assert!(matches!(credential, Credential::ClientSecret { ref authority_host, .. } if authority_host == &endpoint));
    /// assert!(matches!(Credential::select(Some("x"), None, None, &endpoint), Credential::Static(_)));
    /// assert!(matches!(Credential::select(None, None, None, &endpoint), Credential::AzureCli));
    /// ```
    pub fn select(
        token: Option<&str>,
        client_credentials: Option<(&str, &str, &str)>,
        authority_host: Option<&str>,
        endpoint: &Url,
    ) -> Credential {
        match (token, client_credentials) {
            (Some(token), _) => Credential::Static(token.to_owned()),
            (None, Some((tenant_id, client_id, client_secret))) => Credential::ClientSecret {
                tenant_id: tenant_id.to_owned(),
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                authority_host: authority_host_for(authority_host, endpoint),
            },
            (None, None) => Credential::AzureCli,
        }
    }

    /// A client-secret credential against the default authority.
    ///
    /// ```
    /// let credential = engine::api::Credential::client_secret("t", "c", "s3cret");
    /// assert!(!format!("{credential:?}").contains("s3cret"));
    /// ```
    pub fn client_secret(tenant_id: &str, client_id: &str, client_secret: &str) -> Credential {
        Credential::ClientSecret {
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            authority_host: Url::parse(DEFAULT_AUTHORITY_HOST).expect("a valid constant URL"),
        }
    }

    /// The credential the environment names, `lookup` returning a variable's value:
    /// `AZUREML_TOKEN` → static; `ARM_TENANT_ID` + `ARM_CLIENT_ID` + `ARM_CLIENT_SECRET` → client
    /// secret (authority from `AZURE_AUTHORITY_HOST` when set); otherwise `None` (the caller
    /// falls back to [`Credential::AzureCli`] or an error). An unparsable authority is an error.
    ///
    /// ```
    /// use engine::api::Credential;
    /// let env = |name: &str| (name == "AZUREML_TOKEN").then(|| "tok".to_owned());
    /// assert_eq!(Credential::from_env(env).unwrap(), Some(Credential::Static("tok".into())));
    /// assert_eq!(Credential::from_env(|_| None).unwrap(), None);
    /// ```
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Credential>, AuthError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let Some(token) = get("AZUREML_TOKEN") {
            return Ok(Some(Credential::Static(token)));
        }
        let (Some(tenant_id), Some(client_id), Some(client_secret)) = (
            get("ARM_TENANT_ID"),
            get("ARM_CLIENT_ID"),
            get("ARM_CLIENT_SECRET"),
        ) else {
            return Ok(None);
        };
        let authority_host = match get("AZURE_AUTHORITY_HOST") {
            Some(text) => Url::parse(&text).map_err(|_| AuthError::Authority { url: text })?,
            None => Url::parse(DEFAULT_AUTHORITY_HOST).expect("a valid constant URL"),
        };
        Ok(Some(Credential::ClientSecret {
            tenant_id,
            client_id,
            client_secret,
            authority_host,
        }))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Static(_) => f.write_str("Static(<redacted>)"),
            Credential::ClientSecret {
                tenant_id,
                client_id,
                authority_host,
                ..
            } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .field("authority_host", &authority_host.as_str())
                .finish(),
            Credential::AzureCli => f.write_str("AzureCli"),
        }
    }
}

/// A bearer token. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// The token, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// Why no token could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint could not be reached.
    #[error("token request to `{url}` failed")]
    Transport {
        /// The token endpoint.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The token endpoint refused (`{"error": "...", "error_description": "..."}` or an ARM error body).
    #[error("token endpoint `{url}` refused the credentials with `{code}`: {message}")]
    Refused {
        /// The token endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
        /// `error` of the OAuth answer (e.g. `invalid_client`), verbatim.
        code: String,
        /// `error_description`, verbatim.
        message: String,
    },
    /// The token endpoint answered 2xx without a usable `access_token`.
    #[error("token endpoint `{url}` answered without an `access_token`")]
    NoToken {
        /// The token endpoint.
        url: String,
    },
    /// The authority host is not a URL that can carry a tenant path.
    #[error("authority host `{url}` is not a usable URL")]
    Authority {
        /// The text given.
        url: String,
    },
    /// `az` could not be run.
    #[error("failed to run the Azure CLI (`az`); install it or use another credential")]
    AzureCliSpawn {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `az` ran but gave no token (e.g. not logged in: run `az login`).
    #[error("the Azure CLI gave no token: {detail}")]
    AzureCli {
        /// What `az` said on stderr (trimmed), or what was wrong with its output.
        detail: String,
    },
}

struct CachedToken {
    token: AccessToken,
    refresh_at: Instant,
}

/// A credential with its token cache. Cloning the client shares one cache.
pub(crate) struct TokenSource {
    credential: Credential,
    cache: Mutex<Option<CachedToken>>,
}

impl TokenSource {
    pub(crate) fn new(credential: Credential) -> TokenSource {
        TokenSource {
            credential,
            cache: Mutex::new(None),
        }
    }

    /// Whether a fresh token may differ from the one just refused (so a 401 is worth one retry).
    pub(crate) fn can_refresh(&self) -> bool {
        !matches!(self.credential, Credential::Static(_))
    }

    /// Drops the cached token (after a 401).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// A valid token: the cached one, or a new one. Concurrent callers wait for one request.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        retry: &RetryPolicy,
    ) -> Result<AccessToken, AuthError> {
        if let Credential::Static(token) = &self.credential {
            return Ok(AccessToken(token.clone()));
        }
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = match &self.credential {
            Credential::Static(_) => unreachable!("handled above"),
            Credential::ClientSecret {
                tenant_id,
                client_id,
                client_secret,
                authority_host,
            } => {
                client_credentials(
                    http,
                    retry,
                    authority_host,
                    tenant_id,
                    client_id,
                    client_secret,
                )
                .await?
            }
            Credential::AzureCli => azure_cli().await?,
        };
        *cache = Some(CachedToken {
            token: token.clone(),
            refresh_at: Instant::now() + refresh_after(lifetime),
        });
        Ok(token)
    }
}

/// How long a token with `lifetime` left is used before refreshing: up to 5 minutes early, and
/// never later than half its lifetime for short-lived tokens.
fn refresh_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 2))
}

/// `{authority}/{tenant}/oauth2/v2.0/token` (the authority may carry a path prefix).
pub(crate) fn token_url(authority_host: &Url, tenant_id: &str) -> Result<Url, AuthError> {
    let mut url = authority_host.clone();
    let bad = || AuthError::Authority {
        url: authority_host.to_string(),
    };
    {
        let mut segments = url.path_segments_mut().map_err(|_| bad())?;
        segments.pop_if_empty();
        segments.extend([tenant_id, "oauth2", "v2.0", "token"]);
    }
    Ok(url)
}

async fn client_credentials(
    http: &reqwest::Client,
    retry: &RetryPolicy,
    authority_host: &Url,
    tenant_id: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<(AccessToken, Duration), AuthError> {
    let url = token_url(authority_host, tenant_id)?;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("scope", ARM_SCOPE),
    ];
    let mut attempt = 1;
    loop {
        // Asking for a token twice is harmless: transient failures are retried like any read.
        let outcome = http.post(url.clone()).form(&form).send().await;
        let failure = match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                let wait = retry_after(|name| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned)
                });
                match response.bytes().await {
                    Ok(bytes) if retryable_status(status, Idempotency::Idempotent) => {
                        Failure::Status(status, wait, bytes.to_vec())
                    }
                    Ok(bytes) => return token_answer(&url, status, &bytes),
                    Err(source) => Failure::Transport(source),
                }
            }
            Err(source) => Failure::Transport(source),
        };
        if !retry.may_retry(attempt) {
            return Err(match failure {
                Failure::Transport(source) => AuthError::Transport {
                    url: url.to_string(),
                    source,
                },
                Failure::Status(status, _, bytes) => refused(&url, status, &bytes),
            });
        }
        let (wait, what) = match &failure {
            Failure::Transport(error) => (None, error.to_string()),
            Failure::Status(status, wait, _) => (*wait, format!("status {status}")),
        };
        let delay = retry.delay(attempt, wait, rand::random::<f64>());
        tracing::warn!(url = %url, attempt, delay_ms = delay.as_millis() as u64, failure = %what, "retrying token request");
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

enum Failure {
    Transport(reqwest::Error),
    Status(u16, Option<Duration>, Vec<u8>),
}

fn token_answer(
    url: &Url,
    status: u16,
    bytes: &[u8],
) -> Result<(AccessToken, Duration), AuthError> {
    if !(200..300).contains(&status) {
        return Err(refused(url, status, bytes));
    }
    let body: Json = serde_json::from_slice(bytes).map_err(|_| AuthError::NoToken {
        url: url.to_string(),
    })?;
    let token = body
        .get("access_token")
        .and_then(Json::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| AuthError::NoToken {
            url: url.to_string(),
        })?;
    let lifetime = body
        .get("expires_in")
        .and_then(|value| value.as_u64().or_else(|| value.as_str()?.parse().ok()))
        .map_or(Duration::from_secs(3600), Duration::from_secs);
    Ok((AccessToken(token.to_owned()), lifetime))
}

/// The error of a refused token request: OAuth (`error`, `error_description`) or ARM
/// (`{"error": {"code", "message"}}`) shape; the raw status otherwise.
fn refused(url: &Url, status: u16, bytes: &[u8]) -> AuthError {
    let body: Json = serde_json::from_slice(bytes).unwrap_or(Json::Null);
    let (code, message) = match body.get("error") {
        Some(Json::String(code)) => (
            code.clone(),
            body.get("error_description")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        Some(Json::Object(error)) => (
            error
                .get("code")
                .and_then(Json::as_str)
                .unwrap_or("Unknown")
                .to_owned(),
            error
                .get("message")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => (
            format!("HTTP {status}"),
            "the token endpoint gave no error body".to_owned(),
        ),
    };
    AuthError::Refused {
        url: url.to_string(),
        status,
        code,
        message,
    }
}

async fn azure_cli() -> Result<(AccessToken, Duration), AuthError> {
    let output = tokio::process::Command::new("az")
        .args([
            "account",
            "get-access-token",
            "--resource",
            ARM_RESOURCE,
            "-o",
            "json",
        ])
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| AuthError::AzureCliSpawn { source })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(AuthError::AzureCli {
            detail: stderr.trim().chars().take(500).collect(),
        });
    }
    azure_cli_answer(&output.stdout, SystemTime::now())
}

/// Reads `az account get-access-token -o json`: `accessToken`, and `expires_on` (epoch seconds,
/// newer CLIs) for the lifetime; without it the token is used for 5 minutes.
fn azure_cli_answer(stdout: &[u8], now: SystemTime) -> Result<(AccessToken, Duration), AuthError> {
    let body: Json = serde_json::from_slice(stdout).map_err(|_| AuthError::AzureCli {
        detail: "its output is not JSON".to_owned(),
    })?;
    let token = body
        .get("accessToken")
        .and_then(Json::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| AuthError::AzureCli {
            detail: "its output has no `accessToken`".to_owned(),
        })?;
    let now_seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let lifetime = body
        .get("expires_on")
        .and_then(|value| value.as_u64().or_else(|| value.as_str()?.parse().ok()))
        .map_or(EXPIRY_MARGIN, |expires| {
            Duration::from_secs(expires.saturating_sub(now_seconds))
        });
    Ok((AccessToken(token.to_owned()), lifetime))
}

/// Where client-credentials tokens are requested: the configured authority when set (and a
/// URL); else Microsoft Entra ID for Azure's own ARM endpoint; else the endpoint itself (a served
/// emulator serves `/{tenant}/oauth2/v2.0/token`).
///
/// ```
/// let arm = url::Url::parse("https://management.azure.com").unwrap();
/// assert_eq!(engine::api::auth::authority_host_for(None, &arm).as_str(), "https://login.microsoftonline.com/");
/// ```
pub fn authority_host_for(configured: Option<&str>, endpoint: &Url) -> Url {
    if let Some(host) = configured.and_then(|host| Url::parse(host).ok()) {
        return host;
    }
    if endpoint.host_str() == Some("management.azure.com") {
        return Url::parse(DEFAULT_AUTHORITY_HOST).expect("a valid constant URL");
    }
    endpoint.clone()
}

#[cfg(test)]
mod tests {
    #[test]
    fn authority_defaults_to_entra_for_azure_and_to_the_endpoint_otherwise() {
        let azure = Url::parse("https://management.azure.com").expect("url");
        assert_eq!(
            authority_host_for(None, &azure).as_str(),
            "https://login.microsoftonline.com/"
        );
        let served = Url::parse("https://127.0.0.1:8443").expect("url");
        assert_eq!(authority_host_for(None, &served), served);
        assert_eq!(
            authority_host_for(Some("https://login.example"), &served).as_str(),
            "https://login.example/"
        );
    }

    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn debug_never_shows_secrets() {
        let credential = Credential::client_secret("tenant", "client", "hunter2-secret");
        let text = format!("{credential:?}");
        assert!(text.contains("tenant") && text.contains("client"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let text = format!("{:?}", Credential::Static("eyJ.static.token".into()));
        assert!(!text.contains("eyJ"), "{text}");
        assert!(!format!("{:?}", AccessToken("eyJ.token".into())).contains("eyJ"));
    }

    #[test]
    fn environment_selects_the_credential() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let client = Credential::from_env(env(&[
            ("ARM_TENANT_ID", "t"),
            ("ARM_CLIENT_ID", "c"),
            ("ARM_CLIENT_SECRET", "s"),
            ("AZURE_AUTHORITY_HOST", "https://127.0.0.1:8443/auth/"),
        ]))
        .expect("valid")
        .expect("a credential");
        let Credential::ClientSecret { authority_host, .. } = &client else {
            panic!("expected a client secret, got {client:?}");
        };
        assert_eq!(
            token_url(authority_host, "t").expect("url").as_str(),
            "https://127.0.0.1:8443/auth/t/oauth2/v2.0/token"
        );
        // A static token wins; an incomplete service principal is no credential.
        assert_eq!(
            Credential::from_env(env(&[("AZUREML_TOKEN", "x"), ("ARM_TENANT_ID", "t")]))
                .expect("valid"),
            Some(Credential::Static("x".into()))
        );
        assert_eq!(
            Credential::from_env(env(&[("ARM_TENANT_ID", "t"), ("ARM_CLIENT_ID", "c")]))
                .expect("valid"),
            None
        );
        assert!(
            Credential::from_env(env(&[
                ("ARM_TENANT_ID", "t"),
                ("ARM_CLIENT_ID", "c"),
                ("ARM_CLIENT_SECRET", "s"),
                ("AZURE_AUTHORITY_HOST", "not a url"),
            ]))
            .is_err()
        );
    }

    #[test]
    fn token_url_of_the_default_authority() {
        let url = Url::parse(DEFAULT_AUTHORITY_HOST).expect("url");
        assert_eq!(
            token_url(&url, "my-tenant").expect("url").as_str(),
            "https://login.microsoftonline.com/my-tenant/oauth2/v2.0/token"
        );
    }

    #[test]
    fn refresh_happens_before_expiry() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn token_answers_are_decoded() {
        let url = Url::parse("https://login/t/oauth2/v2.0/token").expect("url");
        let (token, lifetime) = token_answer(
            &url,
            200,
            br#"{"access_token":"abc","expires_in":"120","token_type":"Bearer"}"#,
        )
        .expect("token");
        assert_eq!(token.secret(), "abc");
        assert_eq!(lifetime, Duration::from_secs(120));
        let refused = token_answer(&url, 401, br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}"#)
            .expect_err("refused");
        assert_eq!(
            refused.to_string(),
            "token endpoint `https://login/t/oauth2/v2.0/token` refused the credentials with `invalid_client`: AADSTS7000215: Invalid client secret provided."
        );
        let arm_shaped = token_answer(
            &url,
            400,
            br#"{"error":{"code":"InvalidClient","message":"Unknown client."}}"#,
        )
        .expect_err("refused");
        assert!(
            matches!(arm_shaped, AuthError::Refused { code, status: 400, .. } if code == "InvalidClient")
        );
        assert!(matches!(
            token_answer(&url, 200, b"{}"),
            Err(AuthError::NoToken { .. })
        ));
    }

    #[test]
    fn azure_cli_output_is_decoded() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let (token, lifetime) = azure_cli_answer(
            br#"{"accessToken":"cli-token","expiresOn":"2024-01-01 10:00:00.000000","expires_on":1003600,"tokenType":"Bearer"}"#,
            now,
        )
        .expect("token");
        assert_eq!(token.secret(), "cli-token");
        assert_eq!(lifetime, Duration::from_secs(3600));
        let (_, lifetime) = azure_cli_answer(br#"{"accessToken":"t"}"#, now).expect("token");
        assert_eq!(lifetime, EXPIRY_MARGIN);
        assert!(azure_cli_answer(b"not json", now).is_err());
        assert!(azure_cli_answer(br#"{"tokenType":"Bearer"}"#, now).is_err());
    }
}
