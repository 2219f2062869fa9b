//! The engine of the Azure ML infrastructure-as-code tools: the resource catalogue as typed
//! schemas, dynamic values with unknowns, and the ARM client. The planner (`amlplan`) and the
//! Terraform provider are thin edges over this crate; the emulator uses only [`schema`] and
//! [`value`].

pub mod addr;
pub mod api;
pub mod apply;
pub mod diag;
pub mod plan;
pub mod refresh;
pub mod runs;
pub mod schema;
pub mod secret;
pub mod snapshot;
pub mod state;
pub mod value;
