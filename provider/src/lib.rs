//! terraform-provider-azureml: a Terraform plugin (protocol 6) over the engine.
//!
//! | module | owns |
//! |---|---|
//! | [`handshake`] | go-plugin's launch contract: magic cookie, versions, the handshake line, reattach JSON |
//! | [`tls`] | AutoMTLS: our P-521 certificate, the pinned client-certificate verifier |
//! | [`serve`] | binding 127.0.0.1, accepting connections, go-plugin's services, shutdown |
//! | [`server`] | the `tfplugin6.Provider` RPCs |
//! | [`convert`] | tfplugin6 ↔ engine values, schemas and diagnostics |
//! | [`data_sources`] | data source schemas derived from the catalogue |
//! | [`settings`] | the provider block |
//! | [`target`] | the configured ARM endpoint, or the embedded emulator |
//! | [`import`] | `terraform import` ids → state skeletons |
//! | [`validate`] | configuration checks beyond the schema |
//! | [`refresh`] | one list call per parent and collection for a whole refresh |
//! | [`resources`] | read, plan, apply and data sources over the engine, within Terraform's rules |
//! | [`attach_guard`] | waiting for another attachment of a resource to go away before attaching |
//! | [`logging`] | `[LEVEL] message` lines on stderr |
//! | [`proto`] | generated protocol code |

pub mod attach_guard;
pub mod convert;
pub mod data_sources;
pub mod handshake;
pub mod import;
pub mod logging;
pub mod proto;
pub mod refresh;
pub mod resources;
pub mod runs;
pub mod serve;
pub mod server;
pub mod settings;
pub mod target;
pub mod tls;
pub mod validate;

use std::io::Write;

use handshake::{HandshakeError, Launch};
use serve::{ServeError, ShutdownSignal, Transport};

/// The provider's source address, as `required_providers` must name it and as the offline
/// mirror (`scripts/install-provider`) installs it.
pub const PROVIDER_ADDRESS: &str = "azureml.local/azureml/azureml";

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Started by Terraform (go-plugin handshake, AutoMTLS).
    Plugin,
    /// Started by hand with `--debug`: plaintext, prints `TF_REATTACH_PROVIDERS`, stops on Ctrl-C.
    Debug,
}

/// Errors that end the process.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The launch environment is not Terraform's.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// Serving failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The built-in catalogue is broken (a bug: it is checked by the engine's tests).
    #[error("the resource catalogue is invalid")]
    Catalogue(#[source] engine::schema::SchemaError),
    /// The working folder is unreadable.
    #[error("failed to read the working folder")]
    WorkingDir(#[source] std::io::Error),
}

/// Runs the plugin until Terraform shuts it down. The handshake line (plugin mode) or the
/// reattach instructions (debug mode) are written to `stdout`, and nothing else is.
pub async fn run(mode: Mode, stdout: &mut (dyn Write + Send)) -> Result<(), RunError> {
    let (transport, ports, speaks_ours) = match mode {
        Mode::Plugin => {
            let launch = Launch::from_env(|name| std::env::var(name).ok())?;
            let transport = match launch.client_certificate.clone() {
                Some(client_certificate) => Transport::MutualTls { client_certificate },
                None => Transport::Plaintext,
            };
            (transport, launch.ports.clone(), launch.client_speaks_ours())
        }
        Mode::Debug => (Transport::Plaintext, vec![0], true),
    };
    if !speaks_ours {
        tracing::error!(
            "terraform does not offer plugin protocol 6; this provider needs Terraform 1.0 or later"
        );
    }
    let registry = engine::schema::load_registry().map_err(RunError::Catalogue)?;
    let working_dir = std::env::current_dir().map_err(RunError::WorkingDir)?;
    let provider = server::AzureMlProvider::new(registry, working_dir);
    let shutdown = ShutdownSignal::default();
    watch_interrupts(mode, shutdown.clone());
    serve::serve(provider, transport, &ports, shutdown, |listening| match mode {
        Mode::Plugin => {
            let line = handshake::handshake_line(listening.address, listening.server_certificate.as_ref());
            writeln!(stdout, "{line}")?;
            stdout.flush()
        }
        Mode::Debug => {
            let json = handshake::reattach_json(PROVIDER_ADDRESS, listening.address, std::process::id());
            writeln!(
                stdout,
                "Provider started. To attach Terraform, run this in another shell, then run terraform \
                 commands there (no `terraform init` needed):\n\n\texport TF_REATTACH_PROVIDERS='{json}'\n\n\
                 Stop the provider with Ctrl-C."
            )?;
            stdout.flush()
        }
    })
    .await?;
    Ok(())
}

/// Terraform's Ctrl-C reaches the whole process group; a plugin ignores it and waits for
/// `StopProvider` / `Shutdown` (as go-plugin servers do). In debug mode Ctrl-C stops us.
fn watch_interrupts(mode: Mode, shutdown: ShutdownSignal) {
    tokio::spawn(async move {
        loop {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            match mode {
                Mode::Plugin => {
                    tracing::debug!("ignoring an interrupt: terraform stops plugins itself")
                }
                Mode::Debug => {
                    shutdown.trigger();
                    return;
                }
            }
        }
    });
}
