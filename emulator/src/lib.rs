//! A local Azure ML control plane: the ARM REST API of `reference/azureml-arm-api.md` over SQLite.
//!
//! [`start`] opens (or creates) `<data_dir>/emulator.db`, loads the demo seed into a new database,
//! writes a TLS certificate when HTTPS is on, binds a loopback socket and serves until
//! [`RunningEmulator::shutdown`]. The service's behaviour (DESIGN §1 and §6) lives in the modules:
//!
//! | module          | owns                                                                   |
//! |-----------------|------------------------------------------------------------------------|
//! | [`server`]      | the accept loop (TLS or plain), hyper's limits and timeouts, graceful shutdown |
//! | `edge`          | request limits, the body read timeout, the error body of every refusal |
//! | `tls`           | the CA and server certificates under `<data_dir>/tls/`                 |
//! | `store`         | SQLite: resources, operations, clients, tokens, quota, counters        |
//! | `seed`          | the built-in demo seed (`demo_seed.json`) and `--seed` files           |
//! | `routes`        | the request pipeline (stats, faults, auth, api-version) and ARM routing |
//! | `context`       | what handlers are given: the shared state and each request's context   |
//! | `auth`          | the token endpoint and bearer-token checks                             |
//! | `workspaces`    | resource groups and workspaces                                         |
//! | `computes`      | computes: one schema-driven handler set for every compute kind        |
//! | `compute_rules` | attach/create rules, attach preconditions, duplicates, quota, property values and names |
//! | `body`          | schema-driven body validation, secret stripping, merging               |
//! | `duration`      | ISO 8601 durations                                                     |
//! | `underlying`    | VMs, HDInsight, Databricks, ... as generic ARM resources               |
//! | `operations`    | long-running operations and their status monitors                     |
//! | `assets`        | code and environment containers and versions (curated environments)    |
//! | `blobs`         | pending uploads and the Blob REST subset under `/_blob/` (SAS tokens)   |
//! | `jobs`          | command jobs: submit, read, list, cancel, delete, logs                 |
//! | `executor`      | runs jobs as local processes within each compute's concurrency limit   |
//! | `faults`        | fault injection                                                        |
//!
//! The emulator imports only `model::schema` and `model::value` (STYLE §2).

mod arm;
mod assets;
mod auth;
mod blobs;
mod body;
mod compute_rules;
mod computes;
mod context;
mod duration;
mod edge;
mod executor;
mod faults;
mod jobs;
mod operations;
mod quota;
mod routes;
mod seed;
pub mod server;
mod stats;
mod store;
mod tls;
mod underlying;
mod workspaces;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use server::RunningEmulator;

/// The demo seed's subscription.
pub const DEMO_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
/// The demo seed's resource group, holding every underlying demo resource.
pub const DEMO_RESOURCE_GROUP: &str = "demo-rg";
/// The demo seed's second subscription (for configurations with a provider per subscription,
/// as `prod` beside `dev`); it holds [`DEMO_OTHER_RESOURCE_GROUP`] and no underlying resources.
pub const DEMO_OTHER_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";
/// The resource group of [`DEMO_OTHER_SUBSCRIPTION`].
pub const DEMO_OTHER_RESOURCE_GROUP: &str = "prod-rg";
/// The demo seed's tenant (the one its client-credentials client belongs to).
pub const DEMO_TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
/// A client-credentials client of the demo seed; its tokens grant [`DEMO_SUBSCRIPTION`] and
/// [`DEMO_OTHER_SUBSCRIPTION`].
pub const DEMO_CLIENT_ID: &str = "00000000-0000-0000-0000-0000000000c1";
/// The secret of [`DEMO_CLIENT_ID`].
pub const DEMO_CLIENT_SECRET: &str = "demo-client-secret";

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Loopback address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Folder of `emulator.db` and `tls/`.
    pub data_dir: PathBuf,
    /// HTTPS with the certificate under `<data_dir>/tls/` (true) or plain HTTP.
    pub tls: bool,
    /// A static bearer token granting every subscription.
    pub token: Option<String>,
    /// A seed file (JSON, the shape of the built-in demo seed) loaded into a new database instead
    /// of the demo seed.
    pub seed: Option<PathBuf>,
    /// How long provisioning, deletion and start/stop take (time-based, survives restarts).
    pub provision_delay: Duration,
    /// Injected failures and latency.
    pub faults: FaultConfig,
    /// How long a connection may take to send a request's head (and the TLS handshake): hyper's
    /// HTTP/1 header read timeout, after which the connection is closed. hyper starts it as soon
    /// as it waits for a head, so it also bounds how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// How long a request body may go without a byte before it is refused (408, connection
    /// closed): a body shorter than its `Content-Length` cannot hold a connection.
    pub body_read_timeout: Duration,
}

impl EmulatorConfig {
    /// Defaults: `127.0.0.1:0`, HTTPS, no static token, the demo seed, no delay, no faults, 30 s
    /// to send a request head, 5 s between bytes of a body.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            tls: true,
            token: None,
            seed: None,
            provision_delay: Duration::ZERO,
            faults: FaultConfig::default(),
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(5),
        }
    }
}

/// Fault injection, for reliability tests. Faults apply to ARM requests only (not to the token
/// endpoint nor to `/_emulator/stats`) and always before the request does anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultConfig {
    /// Fraction (0 to 1) of ARM requests answered with 429 (`Retry-After: 1`), 500 or 503.
    pub rate: f64,
    /// Extra latency added to every ARM request.
    pub latency: Option<Duration>,
    /// Seed of the fault generator, for reproducible runs; random when `None`.
    pub seed: Option<u64>,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address is not a loopback address.
    #[error("refusing to listen on `{address}`: the emulator serves loopback addresses only")]
    NotLoopback {
        /// The address asked for.
        address: SocketAddr,
    },
    /// The fault rate is outside 0..=1.
    #[error("fault rate `{rate}` is not between 0 and 1")]
    FaultRate {
        /// The rate asked for.
        rate: f64,
    },
    /// A file or folder could not be created or read.
    #[error("failed to access `{path}`")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or initialised.
    #[error("failed to open the database `{path}`")]
    Database {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The seed could not be read or loaded.
    #[error("invalid seed `{origin}`: {message}")]
    Seed {
        /// The seed file, or `built-in demo seed`.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The TLS certificate could not be generated or loaded.
    #[error("failed to prepare the TLS certificate in `{path}`: {message}")]
    Tls {
        /// The folder of the certificate.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The resource catalogue did not load (a bug in `schemas/`).
    #[error("the resource catalogue is invalid")]
    Schema(#[source] model::schema::SchemaError),
    /// The socket could not be bound.
    #[error("failed to listen on `{address}`")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Starts an emulator and returns once it accepts connections.
///
/// ```no_run
/// # async fn demo() -> Result<(), emulator::EmulatorError> {
/// let dir = std::env::temp_dir().join("azureml-emulator-doc");
/// let running = emulator::start(emulator::EmulatorConfig::new(&dir)).await?;
/// println!("{}", running.url());
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    server::start(config).await
}

/// The embedded endpoint (DESIGN §6): the emulator `amlplan` and the provider start inside their
/// own process on `data_dir` (`<configuration>/.azureml`), over plain HTTP on 127.0.0.1, with a
/// random bearer token only this process knows. Returns the running emulator and that token.
pub async fn start_embedded(data_dir: &Path) -> Result<(RunningEmulator, String), EmulatorError> {
    use rand::Rng as _;
    let bytes: [u8; 24] = rand::rng().random();
    let token: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut config = EmulatorConfig::new(data_dir);
    config.tls = false;
    config.token = Some(token.clone());
    Ok((start(config).await?, token))
}

/// The database file of a data folder.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("emulator.db")
}
