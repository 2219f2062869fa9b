//! The engine of the Azure ML infrastructure-as-code tools: everything that talks to the cloud
//! or to files, over the pure core in the `model` crate (re-exported here, so both front ends
//! name one crate). The planner (`amlplan`) and the Terraform provider are thin edges over this
//! crate; the emulator uses only `model`.

pub use model::{addr, diag, plan, schema, secret, spelling, value};

pub mod api;
pub mod apply;
pub mod refresh;
pub mod resource;
pub mod runs;
pub mod settings;
pub mod snapshot;
pub mod state;
pub mod target;
