//! Integration tests of the provider binary: the real executable, started as Terraform starts
//! it, driven by a real gRPC client over mutual TLS with a P-521 client certificate (what
//! Terraform presents).

mod apply;
mod client;
mod handshake;
mod plugin;
mod rpc;
mod terraform;
mod wire;
