//! `amlplan`: reads Terraform-language configurations and plans/applies them through the engine.
//!
//! - [`config`]: loading `.tf` files, input variables, evaluation into resource instances
//!   (HCL stays inside this module tree);
//! - [`source`]: the source files kept for diagnostics;
//! - [`render`]: what a person reads (diagnostics).

pub mod cli;
pub mod commands;
pub mod config;
pub mod fmt;
pub mod render;
pub mod source;
pub mod target;
