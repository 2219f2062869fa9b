//! Our protocol definitions (`proto/`) against HashiCorp's published ones
//! (`../shared/reference/proto/`): every message, field and RPC must carry the same wire facts
//! (names, numbers, types, labels, streaming), so Terraform and this provider agree on every
//! byte. Comments, layout and options are ours and are not compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prost_types::{DescriptorProto, FileDescriptorSet};

fn reference_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/proto");
    assert!(
        dir.is_dir(),
        "the reference protocol files are missing at `{}`: the repository expects `shared/` beside it",
        dir.display()
    );
    dir
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
    let published = facts(
        &compile(&reference_dir(), &["tfplugin6.proto"]),
        "tfplugin6",
    );
    let ours = facts(&ours(&["tfplugin6.proto"]), "tfplugin6");
    assert!(
        published.len() > 400,
        "the reference parsed into {} facts",
        published.len()
    );
    pretty_assertions::assert_eq!(ours, published);
}

#[test]
fn go_plugin_services_match_the_published_ones() {
    let published = facts(
        &compile(
            &reference_dir(),
            &[
                "grpc_controller.proto",
                "grpc_stdio.proto",
                "grpc_broker.proto",
            ],
        ),
        "plugin",
    );
    let ours = facts(&ours(&["plugin.proto"]), "plugin");
    pretty_assertions::assert_eq!(ours, published);
}
