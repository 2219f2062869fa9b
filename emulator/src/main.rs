//! `azureml-emulator`: serves the emulator (see the `emulator` library) until SIGINT or SIGTERM.
//! The first stdout line is the URL; with HTTPS the second is the CA certificate to trust.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "azureml-emulator",
    version,
    about = "A local Azure ML control plane (ARM REST API over SQLite)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ARM API until interrupted.
    Serve {
        /// Loopback address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Data folder: `emulator.db` and `tls/`.
        #[arg(long)]
        data: PathBuf,
        /// Plain HTTP instead of HTTPS.
        #[arg(long)]
        http: bool,
        /// A static bearer token granting every subscription.
        #[arg(long, env = "AZUREML_EMULATOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Seed file (JSON) for a new data folder, instead of the built-in demo seed.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// How long provisioning, deletion and start/stop take, e.g. `2s`.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        provision_delay: std::time::Duration,
        /// Fraction (0 to 1) of ARM requests answered with 429, 500 or 503.
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// Latency added to every ARM request, e.g. `50ms`.
        #[arg(long, value_parser = humantime::parse_duration)]
        fault_latency: Option<std::time::Duration>,
        /// Seed of the fault generator, for reproducible runs.
        #[arg(long)]
        fault_seed: Option<u64>,
        /// How long a client may take to send a request's head (idle keep-alive connections are
        /// closed after as long), e.g. `30s`.
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        header_read_timeout: std::time::Duration,
        /// How long a request body may go without a byte before it is refused with 408, e.g. `5s`.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        body_read_timeout: std::time::Duration,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let Command::Serve {
        listen,
        data,
        http,
        token,
        seed,
        provision_delay,
        fault_rate,
        fault_latency,
        fault_seed,
        header_read_timeout,
        body_read_timeout,
    } = cli.command;
    let mut config = emulator::EmulatorConfig::new(data);
    config.listen = listen;
    config.tls = !http;
    config.token = token;
    config.seed = seed;
    config.provision_delay = provision_delay;
    config.header_read_timeout = header_read_timeout;
    config.body_read_timeout = body_read_timeout;
    config.faults = emulator::FaultConfig {
        rate: fault_rate,
        latency: fault_latency,
        seed: fault_seed,
    };
    let running = emulator::start(config)
        .await
        .context("failed to start the emulator")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", running.url())?;
    if let Some(certificate) = running.ca_certificate() {
        writeln!(stdout, "{}", certificate.display())?;
    }
    stdout.flush()?;
    drop(stdout);
    wait_for_signal().await?;
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
