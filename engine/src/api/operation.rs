//! Long-running operations (ARM RPC): which status monitor an answer points at, and what a
//! monitor's answer means. Pure; the HTTP client polls and sleeps.
//!
//! | first answer | monitor | polled until |
//! |---|---|---|
//! | any 2xx with `Azure-AsyncOperation` | that URL | body `status` is `Succeeded`, `Failed` or `Canceled` (any case) |
//! | 201/202 with `Location` only | that URL | the answer is not 202 (200/201/204 = done; an error status = failed) |
//! | anything else | none | the operation is already complete |
//!
//! `Retry-After` on the first answer and on every poll sets the next wait; absent (or 0), the
//! client's default interval applies.

use serde_json::Value as Json;

/// Where to watch a running operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Monitor {
    /// An `Azure-AsyncOperation` status monitor: its body carries `status`.
    AsyncOperation(String),
    /// A `Location` monitor: 202 while running.
    Location(String),
}

impl Monitor {
    /// The monitor's URL.
    pub fn url(&self) -> &str {
        match self {
            Monitor::AsyncOperation(url) | Monitor::Location(url) => url,
        }
    }
}

/// The monitor of an answer with `status`, given a header lookup by lower-case name
/// (`Azure-AsyncOperation` preferred over `Location`).
///
/// ```
/// use engine::api::operation::{monitor, Monitor};
/// let headers = |name: &str| (name == "location").then(|| "https://arm/op/1".to_owned());
/// assert_eq!(monitor(202, headers), Some(Monitor::Location("https://arm/op/1".into())));
/// assert_eq!(monitor(200, headers), None);
/// ```
pub fn monitor(status: u16, lookup: impl Fn(&str) -> Option<String>) -> Option<Monitor> {
    if let Some(url) = lookup("azure-asyncoperation").filter(|url| !url.is_empty()) {
        return Some(Monitor::AsyncOperation(url));
    }
    if matches!(status, 201 | 202)
        && let Some(url) = lookup("location").filter(|url| !url.is_empty())
    {
        return Some(Monitor::Location(url));
    }
    None
}

/// Where a running operation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    /// Not finished (`InProgress`, `Accepted`, `Creating`, ... or a 202 from a `Location` monitor).
    Running,
    /// Finished well.
    Succeeded,
    /// Finished badly (`Failed` or `Canceled`), with the service's error.
    Failed {
        /// `Failed` or `Canceled`, as the service spelled it.
        status: String,
        /// The error code, or `OperationFailed` when the service gave none.
        code: String,
        /// The error message, verbatim.
        message: String,
    },
}

/// The status an `Azure-AsyncOperation` monitor's body reports; `None` when it has no `status`.
///
/// ```
/// use engine::api::operation::{async_operation_status, OperationStatus};
/// use serde_json::json;
/// assert_eq!(async_operation_status(&json!({"status": "inprogress"})), Some(OperationStatus::Running));
/// assert_eq!(async_operation_status(&json!({"status": "Succeeded"})), Some(OperationStatus::Succeeded));
/// ```
pub fn async_operation_status(body: &Json) -> Option<OperationStatus> {
    let status = body.get("status")?.as_str()?;
    if status.eq_ignore_ascii_case("succeeded") {
        return Some(OperationStatus::Succeeded);
    }
    if status.eq_ignore_ascii_case("failed")
        || status.eq_ignore_ascii_case("canceled")
        || status.eq_ignore_ascii_case("cancelled")
    {
        let error = body.get("error");
        let text = |field: &str| {
            error
                .and_then(|error| error.get(field))
                .and_then(Json::as_str)
                .map(str::to_owned)
        };
        return Some(OperationStatus::Failed {
            status: status.to_owned(),
            code: text("code").unwrap_or_else(|| "OperationFailed".to_owned()),
            message: text("message").unwrap_or_else(|| format!("the operation ended `{status}`")),
        });
    }
    Some(OperationStatus::Running)
}

/// The status a `Location` monitor's answer status code reports (error statuses are decoded as
/// ARM errors by the caller before this).
pub fn location_status(status: u16) -> OperationStatus {
    if status == 202 {
        OperationStatus::Running
    } else {
        OperationStatus::Succeeded
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn headers(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn async_operation_is_preferred_over_location() {
        let both = headers(&[
            ("azure-asyncoperation", "https://a"),
            ("location", "https://l"),
        ]);
        assert_eq!(
            monitor(201, &both),
            Some(Monitor::AsyncOperation("https://a".into()))
        );
        // PATCH answers 200 with a monitor: it is still followed.
        assert_eq!(
            monitor(200, &both),
            Some(Monitor::AsyncOperation("https://a".into()))
        );
        let location = headers(&[("location", "https://l")]);
        assert_eq!(
            monitor(201, &location),
            Some(Monitor::Location("https://l".into()))
        );
        assert_eq!(monitor(204, &location), None);
        assert_eq!(monitor(202, headers(&[])), None);
    }

    #[test]
    fn failed_operations_carry_the_service_error_verbatim() {
        let body = json!({"status": "Failed", "error": {"code": "QuotaExceeded", "message": "Not enough cores in `standardDSv2Family`."}});
        assert_eq!(
            async_operation_status(&body),
            Some(OperationStatus::Failed {
                status: "Failed".into(),
                code: "QuotaExceeded".into(),
                message: "Not enough cores in `standardDSv2Family`.".into(),
            })
        );
        let canceled = async_operation_status(&json!({"status": "Canceled"}));
        assert!(
            matches!(canceled, Some(OperationStatus::Failed { code, .. }) if code == "OperationFailed")
        );
        assert_eq!(async_operation_status(&json!({"id": "x"})), None);
        assert_eq!(
            async_operation_status(&json!({"status": "Accepted"})),
            Some(OperationStatus::Running)
        );
    }

    #[test]
    fn location_monitors_run_while_202() {
        assert_eq!(location_status(202), OperationStatus::Running);
        for status in [200, 201, 204] {
            assert_eq!(location_status(status), OperationStatus::Succeeded);
        }
    }
}
