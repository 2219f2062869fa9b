//! terraform-provider-azureml: a Terraform plugin (protocol 6) over the engine.
//!
//! | module | owns |
//! |---|---|
//! | [`proto`] | the generated tfplugin6 and go-plugin messages and services |

pub mod proto;
