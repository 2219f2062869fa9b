//! `amlplan` entry point: parse arguments (Terraform's single-dash spellings included), run the
//! command, map the outcome to Terraform's exit codes.

use std::process::ExitCode;

use clap::Parser as _;
use planner::cli::{Cli, normalize_args};

fn main() -> ExitCode {
    let cli = Cli::parse_from(normalize_args(std::env::args_os()));
    planner::commands::run(cli)
}
