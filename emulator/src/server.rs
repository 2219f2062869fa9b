//! Starting and stopping: checks the configuration, opens the store (seeding a new one), prepares
//! TLS, binds the loopback socket and runs the accept loop (HTTP/1.1 and HTTP/2, over TLS or
//! plain TCP) until [`RunningEmulator::shutdown`], which stops accepting and lets open
//! connections finish their requests (at most 5 s).
//!
//! No connection waits for a client forever: the TLS handshake and the first request's head must
//! arrive within the header read timeout (hyper-util's version detection and a TLS handshake have
//! no timeout of their own), and hyper's HTTP/1 header read timeout bounds every later head and
//! the idle time between requests. Bodies are bounded by `edge`. hyper's own limits are raised
//! above `edge`'s (header fields, HTTP/2 header list) so that the emulator answers oversized
//! requests itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::arm::now_ms;
use crate::context::AppState;
use crate::edge::{self, EdgeConfig};
use crate::executor::Executor;
use crate::faults::Faults;
use crate::routes::router;
use crate::stats::Stats;
use crate::store::{self, Store};
use crate::{EmulatorConfig, EmulatorError, compute_rules, seed, tls};

/// A running emulator.
pub struct RunningEmulator {
    url: String,
    ca_certificate: Option<PathBuf>,
    database: PathBuf,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    executor: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    /// Base URL, e.g. `https://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA certificate clients must trust (HTTPS only).
    pub fn ca_certificate(&self) -> Option<&Path> {
        self.ca_certificate.as_deref()
    }

    /// The SQLite database file.
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// Stops accepting connections and waits for open ones to finish; kills running jobs'
    /// processes (the next start on the same data folder reports those jobs failed).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let _ = self.executor.await;
    }
}

pub(crate) async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    if !config.listen.ip().is_loopback() {
        return Err(EmulatorError::NotLoopback {
            address: config.listen,
        });
    }
    if !(0.0..=1.0).contains(&config.faults.rate) {
        return Err(EmulatorError::FaultRate {
            rate: config.faults.rate,
        });
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| EmulatorError::Io {
        path: config.data_dir.clone(),
        source,
    })?;
    let mut registry = model::schema::load_registry().map_err(EmulatorError::Schema)?;
    compute_rules::complete_registry(&mut registry);

    let database = crate::database_path(&config.data_dir);
    let (store, _) = Store::open(&database).map_err(|source| EmulatorError::Database {
        path: database.clone(),
        source,
    })?;
    seed_if_new(&store, config.seed.as_deref())?;
    let executor = Executor::new(store.clone(), config.data_dir.clone());
    executor.recover().map_err(|error| EmulatorError::Seed {
        origin: "database".to_owned(),
        message: format!(
            "failed to recover the jobs of the previous run: {}",
            error.message
        ),
    })?;

    let tls = if config.tls {
        let (server_config, ca) = tls::server_config(&config.data_dir)?;
        Some((TlsAcceptor::from(server_config), ca))
    } else {
        None
    };
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                address: config.listen,
                source,
            })?;
    let address = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            address: config.listen,
            source,
        })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{address}");
    let state = Arc::new(AppState {
        store,
        registry: Arc::new(registry),
        base_url: url.clone(),
        delay_ms: i64::try_from(config.provision_delay.as_millis()).unwrap_or(i64::MAX),
        static_token: config.token.clone(),
        stats: Stats::default(),
        faults: Faults::new(config.faults.clone()),
        data_dir: config.data_dir.clone(),
        executor_wake: executor.wake_signal(),
    });
    let (stop, stopped) = watch::channel(false);
    let executor = executor.spawn(stopped.clone());
    let ca_certificate = tls.as_ref().map(|(_, ca)| ca.clone());
    let acceptor = tls.map(|(acceptor, _)| acceptor);
    let app = router(
        state,
        EdgeConfig {
            body_read_timeout: config.body_read_timeout,
        },
    );
    let task = tokio::spawn(accept_loop(
        listener,
        acceptor,
        app,
        config.header_read_timeout,
        stopped,
    ));
    tracing::info!(%url, "emulator listening");
    Ok(RunningEmulator {
        url,
        ca_certificate,
        database,
        stop,
        task,
        executor,
    })
}

fn seed_if_new(store: &Store, seed_file: Option<&Path>) -> Result<(), EmulatorError> {
    let seeded = store
        .transact_blocking(|tx| store::counter(tx, "seeded"))
        .map_err(|error| EmulatorError::Seed {
            origin: "database".to_owned(),
            message: error.message,
        })?;
    if seeded > 0 {
        return Ok(());
    }
    let (origin, text) = match seed_file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).map_err(|source| EmulatorError::Io {
                path: path.to_owned(),
                source,
            })?,
        ),
        None => ("built-in demo seed".to_owned(), seed::DEMO_SEED.to_owned()),
    };
    let parsed = seed::parse(&text).map_err(|message| EmulatorError::Seed {
        origin: origin.clone(),
        message,
    })?;
    seed::load(store, parsed, now_ms()).map_err(|message| EmulatorError::Seed { origin, message })
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    app: axum::Router,
    header_read_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let acceptor = acceptor.clone();
                let stopped = stopped.clone();
                connections.spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            match tokio::time::timeout(header_read_timeout, acceptor.accept(stream)).await {
                                Ok(Ok(stream)) => serve(TokioIo::new(stream), app, header_read_timeout, stopped).await,
                                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                                Err(_) => tracing::debug!("TLS handshake timed out"),
                            }
                        }
                        None => serve(TokioIo::new(stream), app, header_read_timeout, stopped).await,
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.abort_all();
}

/// hyper's connection settings: timers (without one hyper applies no timeout), the header read
/// timeout, and limits above the emulator's own (`edge`).
fn connection_builder(header_read_timeout: Duration) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_headers(edge::HYPER_MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(edge::H2_MAX_HEADER_LIST_BYTES);
    builder
}

async fn serve<I>(
    io: I,
    app: axum::Router,
    header_read_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let started = Arc::new(Notify::new());
    let signal = started.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        signal.notify_one();
        app.clone().oneshot(request)
    });
    let builder = connection_builder(header_read_timeout);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    // Until hyper has a first request, none of its timeouts runs (it is still detecting the
    // protocol), so this one does.
    let first_request = tokio::time::timeout(header_read_timeout, started.notified());
    tokio::pin!(first_request);
    let mut waiting = true;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            outcome = &mut first_request, if waiting => {
                if outcome.is_err() {
                    tracing::debug!("no request within the header read timeout; closing");
                    return;
                }
                waiting = false;
            }
            _ = stopped.changed() => {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
                return;
            }
        }
    }
}
