//! End-to-end tests.

mod client;
mod conformance;
mod fuzz;
mod python_sdk;
mod service_rules;
mod terraform_e2e;
