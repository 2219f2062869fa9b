//! Our protocol definitions (`proto/`) against HashiCorp's published ones: every message, field
//! and RPC must carry the same wire facts (names, numbers, types, labels, streaming), so
//! Terraform and this provider agree on every byte. Comments, layout and options are ours and
//! are not compared.
//!
//! The facts of the published files are recorded in `tests/it/wire/*.facts` (one fact per line,
//! facts only), so the comparison runs on any clone. Where the published files are beside the
//! repository (`../shared/reference/proto/`), the recorded facts are also compared with them;
//! `UPDATE_WIRE_FACTS=1` records them again from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost_types::{DescriptorProto, FileDescriptorSet};

/// The published `.proto` files, when they are beside the repository.
fn reference_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/proto");
    dir.is_dir().then_some(dir)
}

/// The recorded facts of the published `files` of `package` (`tests/it/wire/NAME.facts`),
/// checked against (or, with `UPDATE_WIRE_FACTS=1`, recorded from) the published files when
/// they are there.
#[allow(clippy::print_stderr)] // says which comparison ran
fn published(name: &str, files: &[&str], package: &str) -> BTreeMap<String, String> {
    let recorded_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/wire")
        .join(format!("{name}.facts"));
    let reference = reference_dir().map(|dir| facts(&compile(&dir, files), package));
    if std::env::var("UPDATE_WIRE_FACTS").as_deref() == Ok("1") {
        let reference = reference
            .as_ref()
            .expect("UPDATE_WIRE_FACTS needs ../shared/reference/proto");
        let text: String = reference
            .iter()
            .map(|(key, value)| format!("{key}\t{value}\n"))
            .collect();
        std::fs::write(&recorded_path, text).expect("write the facts");
    }
    let text = std::fs::read_to_string(&recorded_path)
        .unwrap_or_else(|error| panic!("`{}`: {error}", recorded_path.display()));
    let recorded: BTreeMap<String, String> = text
        .lines()
        .map(|line| {
            let (key, value) = line.split_once('\t').expect("KEY<TAB>VALUE");
            (key.to_owned(), value.to_owned())
        })
        .collect();
    match reference {
        Some(reference) => pretty_assertions::assert_eq!(
            recorded,
            reference,
            "the recorded facts of `{name}` are not the published files' (UPDATE_WIRE_FACTS=1 records them)"
        ),
        None => eprintln!(
            "{name}: compared with the recorded facts; the published files are not beside this clone"
        ),
    }
    recorded
}

fn compile(dir: &Path, files: &[&str]) -> FileDescriptorSet {
    protox::compile(files, [dir])
        .unwrap_or_else(|error| panic!("`{}` compiles: {error}", dir.display()))
}

/// Wire facts of every message (by full name) and every RPC (by full path).
fn facts(set: &FileDescriptorSet, package: &str) -> BTreeMap<String, String> {
    let mut facts = BTreeMap::new();
    for file in set.file.iter().filter(|file| file.package() == package) {
        for message in &file.message_type {
            message_facts(&format!(".{package}"), message, &mut facts);
        }
        for service in &file.service {
            for method in &service.method {
                facts.insert(
                    format!("/{package}.{}/{}", service.name(), method.name()),
                    format!(
                        "{}{} -> {}{}",
                        if method.client_streaming() {
                            "stream "
                        } else {
                            ""
                        },
                        method.input_type(),
                        if method.server_streaming() {
                            "stream "
                        } else {
                            ""
                        },
                        method.output_type()
                    ),
                );
            }
        }
    }
    facts
}

fn message_facts(scope: &str, message: &DescriptorProto, facts: &mut BTreeMap<String, String>) {
    let name = format!("{scope}.{}", message.name());
    for field in &message.field {
        facts.insert(
            format!("{name}#{}", field.number()),
            format!(
                "{} {:?} {:?} {} oneof={:?} proto3_optional={}",
                field.name(),
                field.label(),
                field.r#type(),
                field.type_name(),
                field.oneof_index,
                field.proto3_optional()
            ),
        );
    }
    for nested in &message.nested_type {
        message_facts(&name, nested, facts);
    }
    for enumeration in &message.enum_type {
        for value in &enumeration.value {
            facts.insert(
                format!("{name}.{}={}", enumeration.name(), value.number()),
                value.name().to_owned(),
            );
        }
    }
    facts.insert(name, "message".to_owned());
}

fn ours(files: &[&str]) -> FileDescriptorSet {
    compile(&Path::new(env!("CARGO_MANIFEST_DIR")).join("proto"), files)
}

#[test]
fn tfplugin6_matches_the_published_protocol_6_10() {
    let published = published("tfplugin6", &["tfplugin6.proto"], "tfplugin6");
    let ours = facts(&ours(&["tfplugin6.proto"]), "tfplugin6");
    assert!(
        published.len() > 400,
        "the published protocol has {} facts",
        published.len()
    );
    pretty_assertions::assert_eq!(ours, published);
}

#[test]
fn go_plugin_services_match_the_published_ones() {
    let published = published(
        "go-plugin",
        &[
            "grpc_controller.proto",
            "grpc_stdio.proto",
            "grpc_broker.proto",
        ],
        "plugin",
    );
    let ours = facts(&ours(&["plugin.proto"]), "plugin");
    pretty_assertions::assert_eq!(ours, published);
}
