//! The HTTP edge, in front of every route: the limits a request must meet before a handler sees
//! it, its body read in full under a read timeout, and one rule for the body of every error
//! response. No resource behaviour here.
//!
//! | request | answer |
//! |---|---|
//! | path and query longer than [`MAX_TARGET_BYTES`] | 414 |
//! | more than [`MAX_HEADER_FIELDS`] header fields, or more than [`MAX_HEADER_BYTES`] of them | 431 |
//! | an HTTP/1 `PUT` or `PATCH` of the ARM API with neither `Content-Length` nor `Transfer-Encoding` | 411 |
//! | a `Content-Length`, or a body, over the family's limit (ARM 2 MiB, blobs 1 GiB) | 413 |
//! | no body bytes for the body read timeout (5 s by default) while the body is incomplete, e.g. fewer bytes than its `Content-Length` announces | 408 |
//! | a body that cannot be read (malformed chunked encoding, connection closed early) | 400 |
//! | any other error response whose body is not in the family's format (axum's 405 for a path served with other methods, an extractor's plain-text rejection) | the same status and headers with the family's document; the original text, if any, is the message |
//!
//! Over HTTP/1 each refusal in the table closes the connection (`Connection: close`): the body is
//! left unread. Families: `/_blob/…` answers as Azure Storage does (`<Error><Code/><Message/>
//! </Error>` and `x-ms-error-code`), every other path as ARM (`{"error":{"code","message"}}`).
//! JSON error bodies pass unchanged: the ARM handlers' own, and the token endpoint's (the identity
//! platform's `{"error","error_description"}`, which MSAL reads).
//!
//! What hyper answers itself, before any of this runs: a request line or header field that does
//! not parse (400), a request-target over 65,534 bytes (414, hyper's `MAX_URI_LEN`), a head larger
//! than its read buffer (`max_buf_size`, about 400 KiB) or with more than [`HYPER_MAX_HEADERS`]
//! fields (431). hyper 1.x writes those in `proto/h1/role.rs` (`Server::on_error`) as a status line
//! with `content-length: 0` and closes the connection; it offers no hook to give them a body.
//! Over HTTP/2, h2 answers a header list over [`H2_MAX_HEADER_LIST_BYTES`] with a bodiless 431.
//! The limits here sit below hyper's, so every request hyper can parse gets the emulator's answer.

use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Body as _;

use crate::arm::{ArmError, cut};
use crate::blobs;

/// The longest path and query the emulator reads (ARM's front door refuses longer URLs).
pub(crate) const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The most header fields a request may carry.
pub(crate) const MAX_HEADER_FIELDS: usize = 100;
/// The most bytes of header fields (names, values and their separators) a request may carry.
pub(crate) const MAX_HEADER_BYTES: usize = 32 * 1024;
/// hyper's HTTP/1 limit of header fields, above [`MAX_HEADER_FIELDS`] so that the emulator
/// answers first (hyper's default, 100, would refuse the 101st field itself).
pub(crate) const HYPER_MAX_HEADERS: usize = 256;
/// h2's limit of a request's header list, above [`MAX_HEADER_BYTES`] (h2's default is 16 KiB).
pub(crate) const H2_MAX_HEADER_LIST_BYTES: u32 = 256 * 1024;
const ARM_BODY_LIMIT: usize = 2 * 1024 * 1024;
const BLOB_BODY_LIMIT: usize = 1 << 30;
/// How much of a non-conforming error body is read back to become the message.
const MESSAGE_BYTES: usize = 4 * 1024;

/// The edge's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeConfig {
    /// How long a request body may go without a byte before it is refused with 408.
    pub body_read_timeout: Duration,
}

/// Which API a path belongs to, and so how its errors look.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    Arm,
    Blob,
}

impl Family {
    fn of(path: &str) -> Family {
        if path.starts_with("/_blob/") {
            Family::Blob
        } else {
            Family::Arm
        }
    }

    fn body_limit(self) -> usize {
        match self {
            Family::Arm => ARM_BODY_LIMIT,
            Family::Blob => BLOB_BODY_LIMIT,
        }
    }

    /// Whether a response's body is already in this family's error format.
    fn speaks(self, headers: &HeaderMap) -> bool {
        let format = match self {
            Family::Arm => "application/json",
            Family::Blob => "application/xml",
        };
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with(format))
    }

    fn error(self, status: StatusCode, message: String) -> Response {
        let (arm_code, storage_code) = codes(status);
        match self {
            Family::Arm => ArmError::new(status, arm_code, message).into_response(),
            Family::Blob => blobs::error_response(status, storage_code, message),
        }
    }
}

/// The error codes of a status: ARM's and Azure Storage's.
fn codes(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("AuthenticationFailed", "AuthenticationFailed"),
        403 => ("AuthorizationFailed", "AuthorizationFailure"),
        404 => ("NotFound", "ResourceNotFound"),
        405 => ("MethodNotAllowed", "UnsupportedHttpVerb"),
        408 => ("RequestTimeout", "OperationTimedOut"),
        411 => ("LengthRequired", "MissingContentLengthHeader"),
        413 => ("RequestEntityTooLarge", "RequestBodyTooLarge"),
        414 => ("RequestUriTooLong", "InvalidUri"),
        415 => ("UnsupportedMediaType", "UnsupportedHeader"),
        431 => ("RequestHeaderFieldsTooLarge", "InvalidHeaderValue"),
        500..=599 => ("InternalServerError", "InternalError"),
        _ => ("BadRequest", "InvalidInput"),
    }
}

/// A request refused at the edge.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
}

/// The middleware: limits, the body read, then the route; errors in the family's format.
pub(crate) async fn guard(
    State(config): State<EdgeConfig>,
    request: Request,
    next: Next,
) -> Response {
    let family = Family::of(request.uri().path());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let http1 = matches!(
        request.version(),
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    let admitted = match admit(&request, family) {
        Ok(()) => read_body(request, family.body_limit(), config.body_read_timeout).await,
        Err(refusal) => Err(refusal),
    };
    match admitted {
        Ok(request) => shape(family, &method, &path, next.run(request).await).await,
        Err(refusal) => {
            let mut response = family.error(refusal.status, refusal.message);
            if http1 {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    }
}

/// The checks on a request's head.
fn admit(request: &Request, family: Family) -> Result<(), Refusal> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Err(Refusal {
            status: StatusCode::URI_TOO_LONG,
            message: format!(
                "the request URI is {target} bytes long; the emulator reads at most {MAX_TARGET_BYTES}"
            ),
        });
    }
    let headers = request.headers();
    let size = header_bytes(headers);
    if headers.len() > MAX_HEADER_FIELDS || size > MAX_HEADER_BYTES {
        return Err(Refusal {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            message: format!(
                "the request has {} header fields of {size} bytes; the emulator reads at most {MAX_HEADER_FIELDS} fields and {MAX_HEADER_BYTES} bytes",
                headers.len()
            ),
        });
    }
    let http1 = matches!(
        request.version(),
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    let framed = headers.contains_key(header::CONTENT_LENGTH)
        || headers.contains_key(header::TRANSFER_ENCODING);
    // An ARM write without a framed body: ARM's front door answers 411 (a bodiless POST is
    // allowed; clients send actions such as `listKeys` so).
    if family == Family::Arm
        && http1
        && matches!(*request.method(), Method::PUT | Method::PATCH)
        && !framed
    {
        return Err(Refusal {
            status: StatusCode::LENGTH_REQUIRED,
            message: format!(
                "a `{}` request needs a `Content-Length` header (or `Transfer-Encoding: chunked`)",
                request.method()
            ),
        });
    }
    Ok(())
}

/// The size of a request's header fields as HTTP/1 sends them (`name: value\r\n`).
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Reads the whole body, refusing one over `limit` (413), one that stops arriving for `timeout`
/// (408) and one that cannot be read (400); the request goes on with the bytes read.
async fn read_body(request: Request, limit: usize, timeout: Duration) -> Result<Request, Refusal> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let too_large = |size: String| Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!(
            "the request body is {size} bytes; the emulator accepts at most {limit} bytes here"
        ),
    };
    if let Some(length) = declared
        && usize::try_from(length).map_or(true, |length| length > limit)
    {
        return Err(too_large(length.to_string()));
    }
    let (parts, mut body) = request.into_parts();
    if body.is_end_stream() {
        return Ok(Request::from_parts(parts, body));
    }
    let mut bytes = Vec::new();
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match tokio::time::timeout(timeout, next).await {
            Err(_) => {
                let announced = declared
                    .map(|length| format!(" of the {length} its `Content-Length` announces"))
                    .unwrap_or_default();
                return Err(Refusal {
                    status: StatusCode::REQUEST_TIMEOUT,
                    message: format!(
                        "the request body stopped arriving: no byte for {} after {} bytes{announced}",
                        humantime::format_duration(timeout),
                        bytes.len()
                    ),
                });
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                return Err(Refusal {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("the request body could not be read: {error}"),
                });
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > limit {
                return Err(too_large(format!("more than {limit}")));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Gives an error response the family's document when its body is in another format (or empty),
/// keeping its status and headers.
async fn shape(family: Family, method: &Method, path: &str, response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || family.speaks(response.headers())
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MESSAGE_BYTES)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let message = text.unwrap_or_else(|| match status {
        StatusCode::NOT_FOUND => format!("nothing is served at `{}`", cut(path)),
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("`{method}` is not supported on `{}`", cut(path))
        }
        _ => format!(
            "{} (`{method} {}`)",
            status.canonical_reason().unwrap_or("request failed"),
            cut(path)
        ),
    });
    let mut shaped = family.error(status, message);
    let own: Vec<HeaderName> = shaped.headers().keys().cloned().collect();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_LENGTH && !own.contains(name) {
            shaped.headers_mut().append(name.clone(), value.clone());
        }
    }
    shaped
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use axum::Router;
    use axum::body::Bytes;
    use axum::routing::{get, post};
    use serde_json::Value as Json;
    use tower::ServiceExt as _;

    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(200);

    fn app() -> Router {
        Router::new()
            .route("/arm", post(|body: Bytes| async move { body }))
            .route(
                "/text",
                get(|| async { (StatusCode::BAD_REQUEST, "plain words") }),
            )
            .route("/_blob/{*rest}", get(|| async { StatusCode::CONFLICT }))
            .layer(axum::middleware::from_fn_with_state(
                EdgeConfig {
                    body_read_timeout: TIMEOUT,
                },
                guard,
            ))
    }

    async fn send(request: Request) -> (StatusCode, HeaderMap, String) {
        let response = app().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn request(method: Method, uri: &str, body: Body) -> Request {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(body)
            .expect("request")
    }

    #[track_caller]
    fn arm_error(body: &str) -> (String, String) {
        let json: Json = serde_json::from_str(body).expect("a JSON body");
        (
            json["error"]["code"].as_str().expect("code").to_owned(),
            json["error"]["message"]
                .as_str()
                .expect("message")
                .to_owned(),
        )
    }

    #[tokio::test]
    async fn non_json_errors_become_arm_errors_with_their_headers() {
        let (status, headers, body) = send(request(Method::DELETE, "/arm", Body::empty())).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::ALLOW], "POST");
        assert_eq!(
            arm_error(&body),
            (
                "MethodNotAllowed".to_owned(),
                "`DELETE` is not supported on `/arm`".to_owned()
            )
        );
        let (status, _, body) = send(request(Method::GET, "/text", Body::empty())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            arm_error(&body),
            ("BadRequest".to_owned(), "plain words".to_owned())
        );
        let (status, _, body) = send(request(Method::GET, "/nowhere", Body::empty())).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(arm_error(&body).0, "NotFound");
    }

    #[tokio::test]
    async fn blob_errors_are_storage_xml() {
        let (status, headers, body) =
            send(request(Method::GET, "/_blob/a/c/b", Body::empty())).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(headers[header::CONTENT_TYPE], "application/xml");
        assert_eq!(headers["x-ms-error-code"], "InvalidInput");
        assert!(body.starts_with("<?xml"), "{body}");
        let mut huge = request(Method::PUT, "/_blob/a/c/b", Body::empty());
        huge.headers_mut().insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("2000000000"),
        );
        let (status, headers, body) = send(huge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(headers["x-ms-error-code"], "RequestBodyTooLarge");
        assert!(body.contains("<Code>RequestBodyTooLarge</Code>"), "{body}");
    }

    #[tokio::test]
    async fn head_limits_are_answered_by_the_emulator() {
        let long = format!("/arm?x={}", "a".repeat(MAX_TARGET_BYTES));
        let (status, headers, body) = send(request(Method::POST, &long, Body::empty())).await;
        assert_eq!(status, StatusCode::URI_TOO_LONG);
        assert_eq!(headers[header::CONNECTION], "close");
        assert_eq!(arm_error(&body).0, "RequestUriTooLong");

        let mut crowded = request(Method::POST, "/arm", Body::empty());
        for index in 0..=MAX_HEADER_FIELDS {
            crowded.headers_mut().insert(
                HeaderName::try_from(format!("x-field-{index}")).expect("name"),
                HeaderValue::from_static("v"),
            );
        }
        let (status, _, body) = send(crowded).await;
        assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(arm_error(&body).0, "RequestHeaderFieldsTooLarge");

        let (status, _, body) = send(request(Method::PUT, "/arm", Body::empty())).await;
        assert_eq!(status, StatusCode::LENGTH_REQUIRED);
        assert_eq!(arm_error(&body).0, "LengthRequired");
    }

    #[tokio::test]
    async fn bodies_are_read_whole_and_passed_on() {
        let (status, _, body) = send(request(Method::POST, "/arm", Body::from("hello"))).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "hello"));
        let (status, _, body) = send(request(
            Method::POST,
            "/arm",
            Body::from(vec![b'x'; ARM_BODY_LIMIT + 1]),
        ))
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(arm_error(&body).0, "RequestEntityTooLarge");
    }

    /// A body that sends `first` and then nothing, ever.
    struct Stalled(Option<Bytes>);

    impl hyper::body::Body for Stalled {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
            match self.0.take() {
                Some(first) => Poll::Ready(Some(Ok(hyper::body::Frame::data(first)))),
                None => Poll::Pending,
            }
        }
    }

    #[tokio::test]
    async fn a_stalled_body_is_refused_with_408_after_the_timeout() {
        let mut stalled = request(
            Method::POST,
            "/arm",
            Body::new(Stalled(Some(Bytes::from_static(b"{\"a\":")))),
        );
        stalled
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("100"));
        let started = std::time::Instant::now();
        let (status, headers, body) = send(stalled).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        let waited = started.elapsed();
        assert!(TIMEOUT <= waited && waited < 10 * TIMEOUT, "{waited:?}");
        assert_eq!(headers[header::CONNECTION], "close");
        let (code, message) = arm_error(&body);
        assert_eq!(code, "RequestTimeout");
        assert_eq!(
            message,
            "the request body stopped arriving: no byte for 200ms after 5 bytes of the 100 its `Content-Length` announces"
        );
    }
}
