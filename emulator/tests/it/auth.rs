//! Authentication: the token endpoint, 401 without or with a bad token, 403 for another
//! subscription, the static token, and stats behind the same auth.

use emulator::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SUBSCRIPTION, DEMO_TENANT};
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

use crate::harness::{Harness, group_path};

async fn token(harness: &Harness, tenant: &str, client: &str, secret: &str) -> (StatusCode, Json) {
    let response = harness
        .client
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            harness.emulator().url()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    (response.status(), response.json().await.expect("json"))
}

#[tokio::test]
async fn client_credentials_tokens_grant_the_seeded_subscription_only() {
    let harness = Harness::start().await;
    let (status, body) = token(&harness, DEMO_TENANT, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["expires_in"], json!(3599));
    let access = body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();

    let url = harness.url(&group_path());
    assert_eq!(
        harness
            .send_raw(Method::GET, &url, None, Some(&access))
            .await
            .status,
        StatusCode::OK
    );

    // A subscription the client was not granted.
    let other =
        harness.url("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/demo-rg");
    let forbidden = harness
        .send_raw(Method::GET, &other, None, Some(&access))
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "{forbidden:?}");
    assert_eq!(forbidden.code(), "AuthorizationFailed");

    // The static token grants every subscription (the group does not exist: 404, not 403).
    let static_answer = harness
        .send_raw(Method::GET, &other, None, Some(crate::harness::TOKEN))
        .await;
    assert_eq!(static_answer.status, StatusCode::NOT_FOUND);
    assert_eq!(static_answer.code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn tokens_survive_a_restart() {
    let mut harness = Harness::start().await;
    let (_, body) = token(&harness, DEMO_TENANT, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).await;
    let access = body["access_token"].as_str().expect("token").to_owned();
    harness.restart().await;
    let url = harness.url(&group_path());
    assert_eq!(
        harness
            .send_raw(Method::GET, &url, None, Some(&access))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn wrong_credentials_get_no_token() {
    let harness = Harness::start().await;
    let (status, body) = token(&harness, DEMO_TENANT, DEMO_CLIENT_ID, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], json!("invalid_client"));
    let (status, _) = token(
        &harness,
        "another-tenant",
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_or_bad_bearer_tokens_are_401_with_arm_bodies() {
    let harness = Harness::start().await;
    let url = harness.url(&format!(
        "/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/demo-rg"
    ));
    let missing = harness.send_raw(Method::GET, &url, None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "AuthenticationFailed");
    let bad = harness
        .send_raw(Method::GET, &url, None, Some("not-a-token"))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.code(), "InvalidAuthenticationToken");
    // Writes are refused the same way, and nothing is written.
    let put = harness
        .send_raw(Method::PUT, &url, Some(json!({"location": "x"})), None)
        .await;
    assert_eq!(put.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        harness.get(&group_path()).await.body["location"],
        json!("eastus")
    );
}

#[tokio::test]
async fn stats_need_a_valid_token() {
    let harness = Harness::start().await;
    let url = format!("{}/_emulator/stats", harness.emulator().url());
    assert_eq!(
        harness.send_raw(Method::GET, &url, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        harness
            .send_raw(Method::GET, &url, None, Some("bad"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let answer = harness
        .send_raw(Method::GET, &url, None, Some(crate::harness::TOKEN))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}
