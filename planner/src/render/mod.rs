//! Everything `amlplan` shows to a person. Rendering only: values are computed elsewhere and
//! passed in; nothing here evaluates configuration or decides what to do.

pub mod diagnostic;
pub mod event;

pub use diagnostic::{render_diagnostic, render_diagnostics};
pub mod json;
pub mod plan;
