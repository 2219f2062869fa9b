//! The pure core of the Azure ML infrastructure-as-code tools: the resource catalogue as typed
//! schemas ([`schema`]), dynamic values with unknowns ([`value`]), addresses ([`addr`]),
//! diagnostics ([`diag`]), keyed digests of secrets ([`secret`]) and the plan as a plain value
//! with the pure planning and ordering over it ([`plan`]).
//!
//! No async runtime, no HTTP client, no TLS and no file IO here: the engine adds the cloud,
//! refresh, apply and state on top; the emulator uses this crate alone, so it checks the
//! planner without compiling the client that talks to it.

pub mod addr;
pub mod diag;
pub mod plan;
pub mod schema;
pub mod secret;
pub mod spelling;
pub mod value;
