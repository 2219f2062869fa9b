//! `amlplan` entry point.
fn main() {}
