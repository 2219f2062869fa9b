//! Authentication: a static token, client credentials through the emulator's token endpoint,
//! and refusals (401, 403) surfaced with the service's code and message verbatim.

use emulator::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION, DEMO_TENANT,
};
use engine::api::{ApiError, ArmClient, AuthError, Credential};
use pretty_assertions::assert_eq;

use super::{Logs, serve};

fn client_secret(served: &super::Served, secret: &str) -> Credential {
    Credential::ClientSecret {
        tenant_id: DEMO_TENANT.to_owned(),
        client_id: DEMO_CLIENT_ID.to_owned(),
        client_secret: secret.to_owned(),
        authority_host: url::Url::parse(&served.url()).expect("url"),
    }
}

/// GET of the demo resource group, returning the raw status and body, for comparison.
async fn raw_get(
    served: &super::Served,
    path: &str,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = served.http().get(format!(
        "{}{path}?api-version=2021-04-01",
        served.url().trim_end_matches('/')
    ));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("answer");
    (answer.status().as_u16(), answer.json().await.expect("JSON"))
}

#[tokio::test]
async fn a_static_token_reads_the_demo_resource_group() {
    let served = serve(|_| {}).await;
    let group = served
        .client()
        .get_resource_group(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP)
        .await
        .expect("read")
        .expect("the demo group exists");
    assert_eq!(group["name"], DEMO_RESOURCE_GROUP);
}

#[tokio::test]
async fn a_wrong_token_is_a_401_with_the_service_error_verbatim() {
    let served = serve(|_| {}).await;
    let client = served.client_with(Credential::Static("not-a-valid-token".to_owned()));
    let error = client
        .get_resource_group(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP)
        .await
        .expect_err("refused");
    let path = format!("/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_RESOURCE_GROUP}");
    let (status, body) = raw_get(&served, &path, Some("not-a-valid-token")).await;
    assert_eq!(status, 401);
    let ApiError::Arm {
        status,
        code,
        message,
        ..
    } = &error
    else {
        panic!("expected an ARM error, got {error:?}");
    };
    assert_eq!(*status, 401);
    assert_eq!(code, body["error"]["code"].as_str().expect("code"));
    assert_eq!(message, body["error"]["message"].as_str().expect("message"));
    let shown = error.to_string();
    assert!(
        shown.contains(code.as_str()) && shown.contains(message.as_str()),
        "{shown}"
    );
    assert!(
        !shown.contains("not-a-valid-token"),
        "the token is never shown: {shown}"
    );
}

#[tokio::test]
async fn client_credentials_are_exchanged_at_the_emulator_token_endpoint() {
    let served = serve(|_| {}).await;
    let logs = Logs::default();
    let _guard = logs.capture();
    let client = served.client_with(client_secret(&served, DEMO_CLIENT_SECRET));
    // Two calls, one token request: the token is cached.
    for _ in 0..2 {
        let group = client
            .get_resource_group(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP)
            .await
            .expect("read with a client-credentials token")
            .expect("exists");
        assert_eq!(group["name"], DEMO_RESOURCE_GROUP);
    }
    let workspace = super::workspace(&client, "sp-ws").await;
    assert!(
        client
            .get_workspace(&workspace)
            .await
            .expect("read")
            .is_some()
    );
    assert!(
        !logs.text().contains(DEMO_CLIENT_SECRET),
        "the secret is never logged"
    );
    assert!(!format!("{client:?}").contains(DEMO_CLIENT_SECRET));
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_at_the_token_endpoint() {
    let served = serve(|_| {}).await;
    let client = served.client_with(client_secret(&served, "wrong-secret"));
    let error = client
        .get_resource_group(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP)
        .await
        .expect_err("refused");
    let ApiError::Auth(AuthError::Refused {
        status,
        code,
        message,
        ..
    }) = &error
    else {
        panic!("expected a refused token request, got {error:?}");
    };
    assert!((400..500).contains(status), "{status}");
    assert!(!code.is_empty() && !message.is_empty(), "{code}: {message}");
    let chain = format!(
        "{error}: {}",
        std::error::Error::source(&error).expect("cause")
    );
    assert!(chain.contains(code.as_str()), "{chain}");
    assert!(!chain.contains("wrong-secret"), "{chain}");
}

#[tokio::test]
async fn a_token_without_the_subscription_is_a_403() {
    let served = serve(|_| {}).await;
    // The demo client's tokens grant only the demo subscription.
    let client: ArmClient = served.client_with(client_secret(&served, DEMO_CLIENT_SECRET));
    let other = "11111111-1111-1111-1111-111111111111";
    let error = client
        .get_resource_group(other, "some-rg")
        .await
        .expect_err("forbidden");
    assert_eq!(error.status(), Some(403), "{error}");
    let ApiError::Arm { code, message, .. } = &error else {
        panic!("expected an ARM error, got {error:?}");
    };
    assert!(!code.is_empty() && !message.is_empty());
    assert!(error.to_string().contains(message.as_str()));
}
