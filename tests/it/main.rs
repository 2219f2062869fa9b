//! End-to-end tests.

mod client;
mod conformance;
