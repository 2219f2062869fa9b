//! End-to-end tests.

mod client;
mod conformance;
mod terraform_e2e;
