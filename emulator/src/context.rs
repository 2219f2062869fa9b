//! What handlers are given: [`AppState`], shared by every request, and [`Ctx`], what an ARM
//! handler knows about its own request (time, query, the catalogue, where to wake the job
//! executor). Routes build them; handlers only read them. No routing and no resource behaviour
//! here.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::Uri;
use model::schema::Registry;
use tokio::sync::Notify;

use crate::arm::{ArmError, now_ms};
use crate::faults::Faults;
use crate::stats::Stats;
use crate::store::Store;

/// Shared by every request.
pub(crate) struct AppState {
    pub store: Store,
    pub registry: Arc<Registry>,
    pub base_url: String,
    pub delay_ms: i64,
    pub static_token: Option<String>,
    pub stats: Stats,
    pub faults: Faults,
    pub data_dir: PathBuf,
    /// The job executor's wake-up signal (`Executor::wake_signal`).
    pub executor_wake: Arc<Notify>,
}

/// What a handler knows about its request.
pub(crate) struct Ctx {
    pub base_url: String,
    pub delay_ms: i64,
    pub registry: Arc<Registry>,
    pub now: i64,
    pub data_dir: PathBuf,
    /// The request path, as received.
    pub path: String,
    executor_wake: Arc<Notify>,
    query: Vec<(String, String)>,
}

impl Ctx {
    /// The context of a request to `uri`, now.
    pub(crate) fn new(state: &AppState, uri: &Uri) -> Ctx {
        let query: Vec<(String, String)> =
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        Ctx {
            base_url: state.base_url.clone(),
            delay_ms: state.delay_ms,
            registry: state.registry.clone(),
            now: now_ms(),
            data_dir: state.data_dir.clone(),
            path: uri.path().to_owned(),
            executor_wake: state.executor_wake.clone(),
            query,
        }
    }

    /// Asks the job executor for a scheduling pass.
    pub(crate) fn wake_executor(&self) {
        self.executor_wake.notify_one();
    }

    /// A query parameter, by case-insensitive name.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `$skip` of a list request.
    pub(crate) fn skip(&self) -> Result<usize, ArmError> {
        match self.query("$skip") {
            None => Ok(0),
            Some(text) => text.parse().map_err(|_| {
                ArmError::bad_request(
                    "InvalidQueryParameterValue",
                    format!("`$skip` must be a non-negative integer, not `{text}`"),
                )
            }),
        }
    }

    /// The absolute URL of the same list at `skip`.
    pub(crate) fn next_link(&self, skip: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in self.query.iter().filter(|(key, _)| key != "$skip") {
            query.append_pair(key, value);
        }
        query.append_pair("$skip", &skip.to_string());
        format!("{}{}?{}", self.base_url, self.path, query.finish())
    }
}
