//! Running the plugin process: bind 127.0.0.1, accept TLS (AutoMTLS) or plaintext connections,
//! serve the provider next to go-plugin's services, announce the address, and stop on
//! `GRPCController.Shutdown`. No protocol conversion here.
//!
//! Services served:
//!
//! | service | why |
//! |---|---|
//! | `tfplugin6.Provider` | the provider |
//! | `grpc.health.v1.Health`, `"plugin"` = SERVING | go-plugin servers register it; probes and `grpcurl` use it |
//! | `plugin.GRPCController` | `Shutdown` at the end of every Terraform phase: we exit at once instead of being killed 2 s later |
//! | `plugin.GRPCStdio` | Terraform opens it right after dialing; we log to stderr directly, so it ends at once |
//! | `plugin.GRPCBroker` | never used by Terraform for providers; answers `Unimplemented` |

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::proto::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use crate::proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::proto::plugin::{Empty, StdioData};
use crate::proto::tfplugin6::provider_server::{Provider, ProviderServer};
use crate::tls::{self, ServerIdentity, TlsError};

/// How long a connection may take to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After `Shutdown`, how long in-flight calls get before the process exits anyway (Terraform
/// kills a plugin that has not exited 2 s after `Shutdown`).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// Largest request accepted (a provider config or resource value; generous for big plans).
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Errors that stop the plugin.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No port of the range could be bound on 127.0.0.1.
    #[error("failed to listen on 127.0.0.1 (ports {first}..={last})")]
    Bind {
        /// First port tried.
        first: u16,
        /// Last port tried.
        last: u16,
        /// The last bind error.
        #[source]
        source: io::Error,
    },
    /// TLS could not be set up.
    #[error("failed to set up AutoMTLS")]
    Tls(#[source] TlsError),
    /// The handshake line could not be written.
    #[error("failed to write the handshake line")]
    Announce(#[source] io::Error),
    /// The gRPC server failed.
    #[error("the gRPC server failed")]
    Server(#[source] tonic::transport::Error),
}

/// How connections are secured.
#[derive(Debug, Clone)]
pub enum Transport {
    /// AutoMTLS: only this client certificate is accepted.
    MutualTls {
        /// Terraform's certificate (`PLUGIN_CLIENT_CERT`).
        client_certificate: CertificateDer<'static>,
    },
    /// Plaintext HTTP/2 (`--debug`, `TF_DISABLE_PLUGIN_TLS`).
    Plaintext,
}

/// Where the plugin listens, once it does.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The bound address (always 127.0.0.1).
    pub address: SocketAddr,
    /// The server certificate, when serving TLS.
    pub server_certificate: Option<CertificateDer<'static>>,
}

/// A one-shot "stop serving" signal shared by the controller and the caller.
#[derive(Debug, Clone)]
pub struct ShutdownSignal {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for ShutdownSignal {
    fn default() -> Self {
        ShutdownSignal {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl ShutdownSignal {
    /// Asks the server to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Resolves once [`ShutdownSignal::trigger`] was called.
    pub async fn triggered(&self) {
        let mut receiver = self.sender.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = receiver.wait_for(|stopped| *stopped).await;
    }
}

/// Binds, calls `announce` once the services are ready to accept (print the handshake line
/// there, and nothing before it), and serves until `shutdown` is triggered.
pub async fn serve<P: Provider>(
    provider: P,
    transport: Transport,
    ports: &[u16],
    shutdown: ShutdownSignal,
    announce: impl FnOnce(&Listening) -> io::Result<()>,
) -> Result<(), ServeError> {
    let listener = bind(ports).await?;
    let address = listener.local_addr().map_err(|source| ServeError::Bind {
        first: 0,
        last: 0,
        source,
    })?;

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let router = tonic::transport::Server::builder()
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
        }))
        .add_service(GrpcStdioServer::new(Stdio))
        .add_service(GrpcBrokerServer::new(Broker));

    let stop = {
        let shutdown = shutdown.clone();
        async move { shutdown.triggered().await }
    };
    let (listening, server) = match transport {
        Transport::MutualTls { client_certificate } => {
            let identity = ServerIdentity::generate().map_err(ServeError::Tls)?;
            let config =
                tls::server_config(&identity, client_certificate).map_err(ServeError::Tls)?;
            let incoming = accept_tls(listener, tokio_rustls::TlsAcceptor::from(Arc::new(config)));
            let listening = Listening {
                address,
                server_certificate: Some(identity.certificate),
            };
            (
                listening,
                tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop)),
            )
        }
        Transport::Plaintext => {
            let incoming = accept_plain(listener);
            let listening = Listening {
                address,
                server_certificate: None,
            };
            (
                listening,
                tokio::spawn(router.serve_with_incoming_shutdown(incoming, stop)),
            )
        }
    };
    announce(&listening).map_err(ServeError::Announce)?;
    tracing::info!("serving tfplugin6 on {address}");

    let mut server = server;
    tokio::select! {
        finished = &mut server => return join_result(finished),
        () = shutdown.triggered() => {}
    }
    // Graceful stop: let the Shutdown reply and other in-flight calls go out, but do not wait
    // for the client to close its connection.
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
        Ok(finished) => join_result(finished),
        Err(_) => {
            server.abort();
            Ok(())
        }
    }
}

fn join_result(
    finished: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> Result<(), ServeError> {
    match finished {
        Ok(result) => result.map_err(ServeError::Server),
        // The server task never panics by design; a cancelled task only happens on abort.
        Err(_) => Ok(()),
    }
}

async fn bind(ports: &[u16]) -> Result<TcpListener, ServeError> {
    let mut last_error = io::Error::new(io::ErrorKind::InvalidInput, "no port to try");
    for port in ports {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, *port)).await {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = error,
        }
    }
    Err(ServeError::Bind {
        first: ports.first().copied().unwrap_or_default(),
        last: ports.last().copied().unwrap_or_default(),
        source: last_error,
    })
}

type Incoming<T> = ReceiverStream<Result<T, io::Error>>;

/// Accepts TCP connections and completes each TLS handshake in its own task, so a slow or
/// refused client never holds up the others. Refused handshakes are logged and dropped.
fn accept_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
) -> Incoming<tokio_rustls::server::TlsStream<TcpStream>> {
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let Some((tcp, peer)) = accept_one(&listener).await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = sender.send(Ok(stream)).await;
                    }
                    Ok(Err(error)) => tracing::warn!("TLS handshake with {peer} failed: {error}"),
                    Err(_) => tracing::warn!("TLS handshake with {peer} timed out"),
                }
            });
        }
    });
    ReceiverStream::new(receiver)
}

fn accept_plain(listener: TcpListener) -> Incoming<TcpStream> {
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let Some((tcp, _)) = accept_one(&listener).await else {
                continue;
            };
            if sender.send(Ok(tcp)).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(receiver)
}

async fn accept_one(listener: &TcpListener) -> Option<(TcpStream, SocketAddr)> {
    match listener.accept().await {
        Ok(accepted) => Some(accepted),
        Err(error) => {
            // E.g. out of file descriptors: back off instead of spinning.
            tracing::warn!("accepting a connection failed: {error}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// `plugin.GRPCController`.
#[derive(Debug)]
struct Controller {
    shutdown: ShutdownSignal,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the host");
        self.shutdown.trigger();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: nothing to mirror (logs go to stderr, which go-plugin reads directly).
#[derive(Debug)]
struct Stdio;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<StdioData>>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }
}

/// `plugin.GRPCBroker`: served only so the method exists; every stream is refused.
#[derive(Debug)]
struct Broker;

#[tonic::async_trait]
impl GrpcBroker for Broker {}
