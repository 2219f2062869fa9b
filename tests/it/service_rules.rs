//! The emulator enforces the service's own rules, over real HTTP: node counts, durations, sizes,
//! ports and names of computes are refused with 400 and the property as target (huge counts do
//! not slip past quota); every error status the emulator itself answers has an ARM error body
//! (blob endpoints: Azure Storage's XML); a body shorter than its `Content-Length`, a stalled
//! head and a silent connection are all closed within their timeouts. Each test serves its own
//! emulator over plain HTTP on 127.0.0.1:0 (`client::serve`), so that raw requests can be
//! written byte for byte; raw sockets have a read timeout, so no test can hang.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use emulator::{DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION};
use reqwest::{Method, StatusCode};
use serde_json::{Value as Json, json};

use crate::client::{self, Served, TOKEN};

/// The body read timeout these tests configure.
const BODY_TIMEOUT: Duration = Duration::from_millis(500);
/// The header read timeout these tests configure.
const HEADER_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a raw socket waits for the emulator before the test gives up.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

const MAX_NODES: &str = "properties.properties.scaleSettings.maxNodeCount";
const MIN_NODES: &str = "properties.properties.scaleSettings.minNodeCount";

async fn serve() -> Served {
    client::serve(|config| {
        config.tls = false;
        config.body_read_timeout = BODY_TIMEOUT;
        config.header_read_timeout = HEADER_TIMEOUT;
    })
    .await
}

fn workspace_path() -> String {
    format!(
        "/subscriptions/{DEMO_SUBSCRIPTION}/resourceGroups/{DEMO_RESOURCE_GROUP}/providers/Microsoft.MachineLearningServices/workspaces/rules"
    )
}

fn compute_path(name: &str) -> String {
    format!("{}/computes/{name}", workspace_path())
}

/// An answer: status, content type, body as text and as JSON (`Null` when not JSON).
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
    json: Json,
}

impl Answer {
    /// Asserts the ARM error shape and returns `(code, message, target)`.
    #[track_caller]
    fn arm_error(&self) -> (&str, &str, Option<&str>) {
        assert!(
            self.content_type.starts_with("application/json"),
            "{self:?}"
        );
        let error = &self.json["error"];
        let code = error["code"].as_str().unwrap_or_default();
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!code.is_empty() && !message.is_empty(), "{self:?}");
        (code, message, error["target"].as_str())
    }
}

/// Sends `body` (raw text, so that numbers keep the spelling the test gives them).
async fn send(served: &Served, method: Method, path: &str, body: Option<&str>) -> Answer {
    let url = format!("{}{path}?api-version=2026-07-01", served.url());
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    answer(request.send().await.expect("the emulator answers")).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Json::Null);
    Answer {
        status,
        content_type,
        text,
        json,
    }
}

/// A served emulator with the workspace `rules`.
async fn with_workspace() -> Served {
    let served = serve().await;
    let created = send(
        &served,
        Method::PUT,
        &workspace_path(),
        Some(r#"{"location": "eastus", "properties": {}}"#),
    )
    .await;
    assert!(created.status.is_success(), "{created:?}");
    served
}

fn cluster(scale_settings: &str) -> String {
    format!(
        r#"{{"properties": {{"computeType": "AmlCompute", "properties": {{"vmSize": "STANDARD_DS3_V2", "scaleSettings": {scale_settings}}}}}}}"#
    )
}

#[tokio::test]
async fn bad_node_counts_are_refused_with_the_property_as_target() {
    let served = with_workspace().await;
    let counts = [
        ("1e30", "1e+30"),
        ("9223372036854775808", "9223372036854775808"),
        ("99999999999999999999999", "1e+23"),
        ("2147483648", "2147483648"),
        ("-1", "-1"),
        ("1.5", "1.5"),
    ];
    for (property, other) in [(MAX_NODES, "minNodeCount"), (MIN_NODES, "maxNodeCount")] {
        let key = property.rsplit('.').next().expect("a key");
        for (count, shown) in counts {
            let body = cluster(&format!(r#"{{"{key}": {count}, "{other}": 0}}"#));
            let answer = send(&served, Method::PUT, &compute_path("counts"), Some(&body)).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{count}: {answer:?}"
            );
            assert_eq!(
                answer.arm_error(),
                (
                    "ValidationError",
                    format!(
                        "`{property}` must be a whole number from 0 to 2147483647, not `{shown}`"
                    )
                    .as_str(),
                    Some(property)
                ),
                "{count}"
            );
        }
    }
    let text = send(
        &served,
        Method::PUT,
        &compute_path("counts"),
        Some(&cluster(r#"{"maxNodeCount": "4"}"#)),
    )
    .await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST, "{text:?}");
    assert_eq!(text.arm_error().2, Some(MAX_NODES));
    let missing = send(&served, Method::GET, &compute_path("counts"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing was created");
}

#[tokio::test]
async fn the_minimum_must_not_exceed_the_maximum_on_put_and_patch() {
    let served = with_workspace().await;
    let inverted = send(
        &served,
        Method::PUT,
        &compute_path("ordered"),
        Some(&cluster(r#"{"minNodeCount": 3, "maxNodeCount": 2}"#)),
    )
    .await;
    assert_eq!(inverted.status, StatusCode::BAD_REQUEST, "{inverted:?}");
    assert_eq!(
        inverted.arm_error(),
        (
            "ValidationError",
            format!("`{MIN_NODES}` (3) must not be greater than `{MAX_NODES}` (2)").as_str(),
            Some(MIN_NODES)
        )
    );

    let created = send(
        &served,
        Method::PUT,
        &compute_path("ordered"),
        Some(&cluster(r#"{"minNodeCount": 2, "maxNodeCount": 4.0}"#)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(
        created.json["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        json!(4),
        "a whole number is stored as an integer"
    );
    // The PATCH changes only the maximum; the minimum it leaves is above it.
    let patched = send(
        &served,
        Method::PATCH,
        &compute_path("ordered"),
        Some(r#"{"properties": {"properties": {"scaleSettings": {"maxNodeCount": 1}}}}"#),
    )
    .await;
    assert_eq!(patched.status, StatusCode::BAD_REQUEST, "{patched:?}");
    assert_eq!(patched.arm_error().2, Some(MIN_NODES));
    let kept = send(&served, Method::GET, &compute_path("ordered"), None).await;
    assert_eq!(
        kept.json["properties"]["properties"]["scaleSettings"]["maxNodeCount"],
        json!(4),
        "the refused PATCH changed nothing"
    );
}

#[tokio::test]
async fn huge_node_counts_do_not_pass_quota() {
    let served = with_workspace().await;
    // The demo subscription has 100 cores per family; a STANDARD_DS3_V2 node has 4.
    // Over the quota, or refused before it is counted; never read as 0.
    for (count, code, target) in [
        ("100000", "QuotaExceeded", None),
        ("2147483647", "QuotaExceeded", None),
        ("1e30", "ValidationError", Some(MAX_NODES)),
        ("9223372036854775808", "ValidationError", Some(MAX_NODES)),
        ("-25", "ValidationError", Some(MAX_NODES)),
    ] {
        let answer = send(
            &served,
            Method::PUT,
            &compute_path("huge"),
            Some(&cluster(&format!(r#"{{"maxNodeCount": {count}}}"#))),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{count}: {answer:?}"
        );
        let (found, _, found_target) = answer.arm_error();
        assert_eq!((found, found_target), (code, target), "{count}");
    }
    let missing = send(&served, Method::GET, &compute_path("huge"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "nothing was created");
    let fits = send(
        &served,
        Method::PUT,
        &compute_path("fits"),
        Some(&cluster(r#"{"maxNodeCount": 2}"#)),
    )
    .await;
    assert_eq!(fits.status, StatusCode::CREATED, "8 cores fit: {fits:?}");
}

#[tokio::test]
async fn names_durations_sizes_and_ports_follow_the_service() {
    let served = with_workspace().await;
    for name in ["cpu-1", "1cpu", "ab", "cpu_cluster", &"c".repeat(25)] {
        let answer = send(
            &served,
            Method::PUT,
            &compute_path(name),
            Some(&cluster(r#"{"maxNodeCount": 1}"#)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name}: {answer:?}");
        assert!(answer.arm_error().1.contains("compute name"), "{answer:?}");
    }
    let long = "c".repeat(4000);
    let answer = send(
        &served,
        Method::PUT,
        &compute_path(&long),
        Some(&cluster(r#"{"maxNodeCount": 1}"#)),
    )
    .await;
    let (_, message, _) = answer.arm_error();
    assert!(
        message.len() < 300 && message.contains("4000 characters"),
        "{message}"
    );

    let cases = [
        (
            cluster(r#"{"maxNodeCount": 1, "nodeIdleTimeBeforeScaleDown": "five minutes"}"#),
            "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown",
        ),
        (
            r#"{"properties": {"computeType": "AmlCompute", "properties": {"vmSize": "", "scaleSettings": {"maxNodeCount": 1}}}}"#.to_owned(),
            "properties.properties.vmSize",
        ),
        (
            r#"{"properties": {"computeType": "ComputeInstance", "properties": {"vmSize": "Standard_DS3_v2", "idleTimeBeforeShutdown": "PT5M"}}}"#.to_owned(),
            "properties.properties.idleTimeBeforeShutdown",
        ),
        (
            format!(
                r#"{{"properties": {{"computeType": "VirtualMachine", "resourceId": "{}", "properties": {{"sshPort": 70000, "administratorAccount": {{"username": "u", "password": "p"}}}}}}}}"#,
                client::demo_resource("Microsoft.Compute/virtualMachines/demo-ubuntu-vm")
            ),
            "properties.properties.sshPort",
        ),
    ];
    for (body, target) in cases {
        let answer = send(&served, Method::PUT, &compute_path("rule"), Some(&body)).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{target}: {answer:?}"
        );
        assert_eq!(answer.arm_error().2, Some(target), "{answer:?}");
    }
}

/// A raw HTTP/1.1 exchange: what the emulator sent and whether it closed the connection, and
/// when.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: String,
    closed: bool,
    elapsed: Duration,
}

/// Writes `request` on a new connection to `served`, then reads until the emulator closes it or
/// [`SOCKET_TIMEOUT`] passes (the socket's read timeout: the test cannot hang).
async fn raw(served: &Served, request: Vec<u8>) -> Raw {
    let address = served
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(SOCKET_TIMEOUT))
            .expect("read timeout");
        let started = Instant::now();
        // The emulator may answer and close before it has read everything sent.
        let _ = stream.write_all(&request);
        let mut received = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        let closed = loop {
            match stream.read(&mut buffer) {
                Ok(0) => break true,
                Ok(count) => received.extend_from_slice(&buffer[..count]),
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        let elapsed = started.elapsed();
        let text = String::from_utf8_lossy(&received).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        Raw {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
            closed,
            elapsed,
        }
    })
    .await
    .expect("the raw exchange ran")
}

fn raw_request(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes =
        format!("{head}\r\nHost: emulator\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// `count` header fields, each on its own line.
fn header_fields(count: usize) -> String {
    (0..count)
        .map(|index| format!("\r\nx-field-{index}: v"))
        .collect()
}

#[track_caller]
fn assert_arm_body(raw: &Raw, status: u16, code: &str) {
    assert_eq!(raw.status, status, "{raw:?}");
    assert!(
        raw.head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{raw:?}"
    );
    let json: Json = serde_json::from_str(&raw.body).expect("a JSON body");
    assert_eq!(json["error"]["code"], json!(code), "{raw:?}");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{raw:?}"
    );
}

#[tokio::test]
async fn every_error_status_the_emulator_answers_has_an_arm_body() {
    let served = with_workspace().await;
    let compute = format!("{}?api-version=1", compute_path("shape"));
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            raw_request("GET /nothing/here HTTP/1.1\r\nConnection: close", b""),
            404,
            "NotFound",
        ),
        (
            raw_request(
                &format!(
                    "GET /{DEMO_SUBSCRIPTION}/oauth2/v2.0/token HTTP/1.1\r\nConnection: close"
                ),
                b"",
            ),
            405,
            "MethodNotAllowed",
        ),
        (
            raw_request("DELETE /_emulator/stats HTTP/1.1\r\nConnection: close", b""),
            405,
            "MethodNotAllowed",
        ),
        (
            raw_request(&format!("PUT {compute} HTTP/1.1\r\nConnection: close"), b""),
            411,
            "LengthRequired",
        ),
        (
            raw_request(
                &format!("PUT {compute} HTTP/1.1\r\nContent-Length: 1000000000000"),
                b"",
            ),
            413,
            "RequestEntityTooLarge",
        ),
        (
            raw_request(
                &format!("GET {compute}&pad={} HTTP/1.1", "p".repeat(9000)),
                b"",
            ),
            414,
            "RequestUriTooLong",
        ),
        (
            raw_request(
                &format!("GET {compute} HTTP/1.1{}", header_fields(101)),
                b"",
            ),
            431,
            "RequestHeaderFieldsTooLarge",
        ),
        (
            raw_request(
                &format!("GET {compute} HTTP/1.1\r\nx-large: {}", "v".repeat(40_000)),
                b"",
            ),
            431,
            "RequestHeaderFieldsTooLarge",
        ),
        (
            raw_request(
                &format!("PUT {compute} HTTP/1.1\r\nConnection: close\r\nContent-Length: 9"),
                b"{not json",
            ),
            400,
            "InvalidRequestContent",
        ),
        (
            raw_request(
                &format!("PUT {compute} HTTP/1.1\r\nTransfer-Encoding: chunked"),
                b"zz\r\n{}\r\n0\r\n\r\n",
            ),
            400,
            "BadRequest",
        ),
        (
            raw_request(
                &format!("PUT {compute} HTTP/1.1\r\nContent-Length: 40"),
                br#"{"properties": 1}"#,
            ),
            408,
            "RequestTimeout",
        ),
    ];
    for (request, status, code) in cases {
        let answer = raw(&served, request).await;
        assert_arm_body(&answer, status, code);
        assert!(answer.closed, "{answer:?}");
    }
}

#[tokio::test]
async fn hyper_answers_what_it_cannot_parse_itself_without_a_body() {
    // Documented in `emulator::edge`: these never reach the emulator's code.
    let served = serve().await;
    let cases = [
        (
            raw_request(&format!("GET /{} HTTP/1.1", "u".repeat(70_000)), b""),
            414,
        ),
        (
            raw_request(&format!("GET / HTTP/1.1{}", header_fields(300)), b""),
            431,
        ),
        (raw_request("GET / HTTP/1.1\r\nbad header", b""), 400),
    ];
    for (request, status) in cases {
        let answer = raw(&served, request).await;
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(answer.body, "", "{answer:?}");
        assert!(answer.closed, "{answer:?}");
    }
}

#[tokio::test]
async fn blob_errors_stay_azure_storage_xml() {
    let served = serve().await;
    let blob = "/_blob/account/container/file.txt";
    let unsigned = answer(
        reqwest::Client::new()
            .get(format!("{}{blob}", served.url()))
            .send()
            .await
            .expect("answered"),
    )
    .await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN, "{unsigned:?}");
    let cases = [
        (
            raw_request(
                &format!("PUT {blob} HTTP/1.1\r\nContent-Length: 2000000000"),
                b"",
            ),
            413,
            "RequestBodyTooLarge",
        ),
        (
            raw_request(
                &format!("GET {blob}?pad={} HTTP/1.1", "p".repeat(9000)),
                b"",
            ),
            414,
            "InvalidUri",
        ),
        (
            raw_request(
                &format!("PUT {blob} HTTP/1.1\r\nContent-Length: 10"),
                b"abc",
            ),
            408,
            "OperationTimedOut",
        ),
    ];
    for (request, status, code) in cases {
        let answer = raw(&served, request).await;
        assert_eq!(answer.status, status, "{answer:?}");
        let head = answer.head.to_ascii_lowercase();
        assert!(head.contains("content-type: application/xml"), "{answer:?}");
        assert!(
            head.contains(&format!("x-ms-error-code: {}", code.to_ascii_lowercase())),
            "{answer:?}"
        );
        assert!(answer.body.starts_with("<?xml"), "{answer:?}");
        assert!(
            answer.body.contains(&format!("<Code>{code}</Code>")),
            "{answer:?}"
        );
    }
    assert!(
        unsigned.content_type.starts_with("application/xml"),
        "{unsigned:?}"
    );
    assert!(unsigned.text.contains("<Error><Code>"), "{unsigned:?}");
}

#[tokio::test]
async fn a_body_shorter_than_its_length_is_answered_within_the_timeout() {
    let served = with_workspace().await;
    let path = format!("{}?api-version=1", compute_path("short"));
    let answer = raw(
        &served,
        raw_request(
            &format!(
                "PUT {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100"
            ),
            br#"{"properties":"#,
        ),
    )
    .await;
    assert_arm_body(&answer, 408, "RequestTimeout");
    assert!(
        answer.closed,
        "the emulator closes the connection: {answer:?}"
    );
    assert!(
        answer.elapsed >= BODY_TIMEOUT && answer.elapsed < SOCKET_TIMEOUT,
        "{answer:?}"
    );
    let message = serde_json::from_str::<Json>(&answer.body).expect("JSON")["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("14 bytes of the 100"), "{message}");
}

#[tokio::test]
async fn stalled_heads_and_silent_connections_are_closed_within_the_header_timeout() {
    let served = serve().await;
    for request in [
        b"GET /nothing HTTP/1.1\r\nHost: emulator\r\n".to_vec(),
        Vec::new(),
        b"PRI * HTTP/2.0\r\n".to_vec(),
    ] {
        let answer = raw(&served, request.clone()).await;
        assert!(
            answer.closed && answer.status == 0,
            "{:?}: {answer:?}",
            String::from_utf8_lossy(&request)
        );
        assert!(
            answer.elapsed >= HEADER_TIMEOUT && answer.elapsed < SOCKET_TIMEOUT,
            "{answer:?}"
        );
    }
}
