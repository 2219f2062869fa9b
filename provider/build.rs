//! Compiles the provider's protocol definitions (`proto/`) into Rust with prost/tonic. protox
//! parses the files in-process, so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/plugin.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        // Servers for the provider; clients for the integration tests (and for anyone driving the
        // binary from Rust). Clients are transport-agnostic: callers bring their own channel.
        .build_server(true)
        .build_client(true)
        .build_transport(false)
        // RPCs the provider does not implement answer `Unimplemented`, which Terraform treats as
        // "not supported" (e.g. GetResourceIdentitySchemas before 1.12 semantics).
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
