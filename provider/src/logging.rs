//! Log lines on stderr in the form go-plugin understands: `[LEVEL] message`. go-plugin copies
//! each stderr line into Terraform's log at that level (visible with `TF_LOG=debug`); plain lines
//! are safer than JSON, which go-plugin 1.4 parses with panicking type assertions.
//!
//! The level comes from `TF_LOG_PROVIDER_AZUREML` (a tracing filter such as `debug`), default
//! `info`. Secrets are never logged by any module.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The environment variable holding the log filter.
pub const LOG_ENV: &str = "TF_LOG_PROVIDER_AZUREML";

/// Installs the stderr logger (once per process; later calls do nothing).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(GoPluginFormat)
        .try_init();
}

struct GoPluginFormat;

impl<S, N> FormatEvent<S, N> for GoPluginFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "INFO",
            tracing::Level::DEBUG => "DEBUG",
            tracing::Level::TRACE => "TRACE",
        };
        write!(writer, "[{level}] {}: ", event.metadata().target())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
