//! Authentication: the Microsoft identity platform's client-credentials token endpoint
//! (`POST /{tenant}/oauth2/v2.0/token`, plus the OpenID discovery document MSAL-based clients read
//! first) for the clients of the seed, and bearer-token checks for ARM requests.
//!
//! Tokens are random, stored only as SHA-256 with the subscriptions their client grants, and
//! expire after 3599 s. `--token` adds a static token that grants every subscription.
//!
//! | request | answer |
//! |---|---|
//! | no `Authorization: Bearer` | 401 `AuthenticationFailed` |
//! | unknown or expired token | 401 `InvalidAuthenticationToken` |
//! | token without the path's subscription | 403 `AuthorizationFailed` |

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, digest, now_ms};
use crate::context::AppState;

/// Lifetime of issued tokens, in seconds.
const TOKEN_LIFETIME: i64 = 3599;

/// What a token may access.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Grant {
    /// The static token: everything.
    All,
    /// The subscriptions of the client the token was issued to (lower-cased).
    Subscriptions(Vec<String>),
}

/// Checks the bearer token of a request.
pub(crate) fn authenticate(
    tx: &Connection,
    static_token: Option<&str>,
    headers: &HeaderMap,
    now: i64,
) -> Result<Grant, ArmError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let challenge = |error: ArmError| {
        error.with_header(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")
    };
    let Some(token) = token else {
        return Err(challenge(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "authentication failed: the `Authorization` header is missing or is not a bearer token",
        )));
    };
    if static_token.is_some_and(|expected| expected == token) {
        return Ok(Grant::All);
    }
    let row: Option<(String, i64)> = tx
        .query_row(
            "SELECT subscriptions, expires_at FROM tokens WHERE token_sha256 = ?1",
            [digest(token)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    match row {
        Some((subscriptions, expires_at)) if expires_at > now => Ok(Grant::Subscriptions(
            serde_json::from_str(&subscriptions).unwrap_or_default(),
        )),
        Some(_) => Err(challenge(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "the access token has expired: get a new one",
        ))),
        None => Err(challenge(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "the access token is invalid",
        ))),
    }
}

/// Checks that a grant covers `subscription`.
pub(crate) fn authorize(grant: &Grant, subscription: &str) -> Result<(), ArmError> {
    match grant {
        Grant::All => Ok(()),
        Grant::Subscriptions(granted)
            if granted
                .iter()
                .any(|id| id.eq_ignore_ascii_case(subscription)) =>
        {
            Ok(())
        }
        Grant::Subscriptions(_) => Err(ArmError::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "the client does not have authorization to perform this action over scope `/subscriptions/{subscription}`"
            ),
        )),
    }
}

fn identity_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` (form-encoded client-credentials grant).
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return identity_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only the client_credentials grant is supported",
        );
    }
    let (Some(client_id), Some(secret)) = (
        form.get("client_id").cloned(),
        form.get("client_secret").cloned(),
    ) else {
        return identity_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required",
        );
    };
    let token = format!("emu.{}", hex::encode(rand::random::<[u8; 32]>()));
    let stored = digest(&token);
    let now = now_ms();
    let outcome = state
        .store
        .transact(move |tx| {
            let subscriptions: Option<String> = tx
                .query_row(
                    "SELECT subscriptions FROM clients WHERE tenant = ?1 AND client_id = ?2 AND secret_sha256 = ?3",
                    params![tenant.to_ascii_lowercase(), client_id.to_ascii_lowercase(), digest(&secret)],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(subscriptions) = subscriptions else { return Ok(false) };
            tx.execute(
                "INSERT INTO tokens (token_sha256, client_id, subscriptions, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![stored, client_id.to_ascii_lowercase(), subscriptions, now + TOKEN_LIFETIME * 1000],
            )?;
            Ok(true)
        })
        .await;
    match outcome {
        Ok(true) => (
            StatusCode::OK,
            axum::Json(json!({
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            })),
        )
            .into_response(),
        Ok(false) => identity_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client does not exist in this tenant or the secret is wrong",
        ),
        Err(error) => error.into_response(),
    }
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`: MSAL reads it before asking for a token.
pub(crate) async fn openid_configuration(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
) -> Response {
    let base = &state.base_url;
    let body: Json = json!({
        "issuer": format!("{base}/{tenant}/v2.0"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "tenant_region_scope": "NA",
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_cover_only_their_subscriptions() {
        let grant = Grant::Subscriptions(vec!["abc".to_owned()]);
        assert!(authorize(&grant, "ABC").is_ok());
        assert_eq!(
            authorize(&grant, "other").map_err(|error| error.status),
            Err(StatusCode::FORBIDDEN)
        );
        assert!(authorize(&Grant::All, "other").is_ok());
    }
}
