//! Embeds every `schemas/*.toml` so the catalogue ships inside each binary; adding a file adds a type.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let schemas = manifest.join("..").join("schemas");
    println!("cargo:rerun-if-changed={}", schemas.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&schemas)
        .expect("schemas/ exists beside engine/")
        .map(|entry| entry.expect("readable schemas/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("file name").to_string_lossy();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("write to string");
    }
    out.push(']');
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("embedded_schemas.rs"), out).expect("write embedded_schemas.rs");
}
