//! `terraform-provider-azureml`: started by Terraform (no arguments), or by hand with `--debug`.

// The binary's own output: the version, usage and fatal errors (the library never prints).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

const USAGE: &str = "usage: terraform-provider-azureml [--debug | --version]\n\
    Terraform starts this plugin itself. Run it by hand only with --debug, then export the \
    TF_REATTACH_PROVIDERS value it prints.";

fn main() -> ExitCode {
    let mode = match std::env::args().nth(1).as_deref() {
        None => provider::Mode::Plugin,
        Some("--debug") => provider::Mode::Debug,
        Some("--version" | "-v") => {
            println!("terraform-provider-azureml {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(_) => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    provider::logging::init();
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    match runtime.block_on(provider::run(mode, &mut std::io::stdout())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {}", provider::server::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}
