//! The generated protocol code: tfplugin6 (the provider service), go-plugin's controller, stdio
//! and broker services. Generated at build time from `proto/`; nothing hand-written here.

#![allow(missing_docs, clippy::all, clippy::pedantic, clippy::unwrap_used)]

/// `tfplugin6`: the provider protocol, version 6.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's own services.
pub mod plugin {
    tonic::include_proto!("plugin");
}
