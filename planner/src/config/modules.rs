//! Module calls (`module "team" { source = "./modules/team" ... }`): decoding the block,
//! finding and loading the called configuration, and checking the call's arguments against the
//! module's variables. Local sources (`./`, `../`) are read from the calling module's folder;
//! every other source (registry, git, ...) from `.terraform/modules/modules.json` as
//! `terraform init` leaves it. Evaluation of module instances is in `instances`.
//!
//! Addresses of what a module declares carry the module instance
//! (`module.team["ml"].azureml_compute_cluster.cpu`); file names are shown relative to the root
//! configuration's folder (`modules/team/main.tf`).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use engine::addr::ResourceAddr;
use engine::diag::{Diagnostic, Diagnostics};
use engine::schema::Registry;

use super::spelling::did_you_mean;
use super::{AttrExpr, Configuration};
use crate::source::FileId;

/// How deep module calls may nest (a module that calls itself stops here).
const MAX_DEPTH: usize = 32;

/// One `module` block.
#[derive(Debug)]
pub(crate) struct ModuleCall {
    /// `source`.
    pub source: String,
    /// The file of the block and its header (`module "team"`).
    pub file: FileId,
    pub header: Range<usize>,
    pub count: Option<AttrExpr>,
    pub for_each: Option<AttrExpr>,
    pub depends_on: Vec<ResourceAddr>,
    /// The arguments: the module's input variables.
    pub inputs: Vec<AttrExpr>,
    /// The called configuration, once loaded.
    pub config: Option<Arc<Configuration>>,
    /// Managed blocks of the calling configuration the call depends on (its arguments,
    /// `count`, `for_each`, `depends_on`).
    pub managed_dependencies: Vec<usize>,
    /// Other module calls the call depends on.
    pub module_dependencies: Vec<String>,
    /// `providers`: the `azureml` configurations passed to the module.
    pub providers: Vec<ProviderPass>,
}

/// One `azureml` entry of a module call's `providers`: the module's configuration `child`
/// (`None` for its default one) is the caller's `parent`.
#[derive(Debug, Clone)]
pub(crate) struct ProviderPass {
    pub child: Option<String>,
    pub parent: Option<String>,
    /// The value's span, in the call's file.
    pub span: Range<usize>,
}

impl ModuleCall {
    /// True when the call sets `count` or `for_each`.
    pub fn is_expanded(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }
}

/// Where module sources are found while a configuration tree loads.
pub(crate) struct ModuleContext<'a> {
    /// The root configuration's folder.
    pub root: &'a Path,
    /// `.terraform/modules/modules.json`, by key (`team`, `team.network`): the module's folder.
    pub manifest: Option<&'a BTreeMap<String, PathBuf>>,
    /// The key of the module being loaded (`""` for the root).
    pub key: String,
    /// How many calls deep.
    pub depth: usize,
}

/// Reads `.terraform/modules/modules.json` under `root` (in `TF_DATA_DIR` when set): `None`
/// when there is none; an unreadable one is a diagnostic.
pub(crate) fn read_manifest(
    root: &Path,
    diagnostics: &mut Diagnostics,
) -> Option<BTreeMap<String, PathBuf>> {
    let data = std::env::var_os("TF_DATA_DIR")
        .map_or_else(|| root.join(".terraform"), |dir| root.join(dir));
    let path = data.join("modules").join("modules.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "Failed to read the module manifest",
                format!("`{}` cannot be read: {error}", path.display()),
            ));
            return None;
        }
    };
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(json) => json,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                "Failed to read the module manifest",
                format!(
                    "`{}` is not valid JSON ({error})\nhelp: run `terraform init` again",
                    path.display()
                ),
            ));
            return None;
        }
    };
    let modules = json["Modules"].as_array().cloned().unwrap_or_default();
    Some(
        modules
            .iter()
            .filter_map(|module| {
                Some((
                    module["Key"].as_str()?.to_owned(),
                    PathBuf::from(module["Dir"].as_str()?),
                ))
            })
            .collect(),
    )
}

/// `./a/../b` → `b`: `.` and `..` resolved lexically (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        PathBuf::from(".")
    } else {
        parts.iter().collect()
    }
}

impl Configuration {
    /// Loads the configuration of every module call of `self` (recursively), checks the calls'
    /// arguments against the modules' variables, and adds the modules' files to `self.sources`
    /// (so that diagnostics inside modules render from the root).
    pub(crate) fn load_modules(
        &mut self,
        context: &ModuleContext<'_>,
        registry: &Registry,
        diagnostics: &mut Diagnostics,
    ) {
        let names: Vec<String> = self.modules.keys().cloned().collect();
        for name in names {
            let call = &self.modules[&name];
            let (file, header) = (call.file, call.header.clone());
            if context.depth >= MAX_DEPTH {
                diagnostics.push(Diagnostic {
                    subject: Some(self.span(file, header)),
                    ..Diagnostic::error(
                        "Module calls nest too deep",
                        format!("modules call each other more than {MAX_DEPTH} levels deep; a module probably calls itself"),
                    )
                });
                continue;
            }
            let key = if context.key.is_empty() {
                name.clone()
            } else {
                format!("{}.{name}", context.key)
            };
            let source = call.source.clone();
            let local = source.starts_with("./") || source.starts_with("../");
            let folder = match context.manifest.and_then(|manifest| manifest.get(&key)) {
                Some(dir) => context.root.join(dir),
                None if local => self.dir.join(&source),
                None => {
                    diagnostics.push(Diagnostic {
                        subject: Some(self.span(file, header)),
                        ..Diagnostic::error(
                            "Module not installed",
                            format!("the module `{key}` (source `{source}`) is not installed\nhelp: run `terraform init` to install it; amlplan reads `.terraform/modules/modules.json`"),
                        )
                    });
                    continue;
                }
            };
            let folder = normalize(&folder);
            let files = match read_tf_files(&folder, context.root) {
                Ok(files) if !files.is_empty() => files,
                Ok(_) | Err(_) => {
                    diagnostics.push(Diagnostic {
                        subject: Some(self.span(file, header)),
                        ..Diagnostic::error(
                            "Unreadable module directory",
                            format!(
                                "the module `{key}` (source `{source}`) has no `.tf` files in `{}`",
                                folder.display()
                            ),
                        )
                    });
                    continue;
                }
            };
            let (mut child, mut child_diagnostics) =
                Configuration::decode_named(&folder, files, registry);
            for json in json_files(&folder, context.root) {
                child_diagnostics.push(Diagnostic::error(
                    "Unsupported configuration file",
                    format!("`{json}` is in Terraform's JSON syntax, which amlplan does not read yet\nhelp: write it in the native syntax (`.tf`), or plan this configuration with terraform"),
                ));
            }
            child.module_display = display_dir(&folder, context.root);
            child.load_modules(
                &ModuleContext {
                    root: context.root,
                    manifest: context.manifest,
                    key,
                    depth: context.depth + 1,
                },
                registry,
                &mut child_diagnostics,
            );
            child.finish(&mut child_diagnostics);

            diagnostics.extend(child_diagnostics);
            for source in child.sources.iter() {
                if self.sources.by_name(source.name()).is_none() {
                    self.sources.add(source.clone());
                }
            }
            self.check_arguments(&name, &child, diagnostics);
            super::provider::check_passes(self, &name, &child, diagnostics);
            self.modules
                .get_mut(&name)
                .expect("the call is there")
                .config = Some(Arc::new(child));
        }
    }

    /// Arguments a module does not declare, and variables without default it is not given.
    fn check_arguments(&self, name: &str, child: &Configuration, diagnostics: &mut Diagnostics) {
        let call = &self.modules[name];
        let given: BTreeSet<&str> = call
            .inputs
            .iter()
            .map(|input| input.name.as_str())
            .collect();
        for input in &call.inputs {
            if !child.variables.contains_key(&input.name) {
                diagnostics.push(Diagnostic {
                    subject: Some(self.span(input.file, input.key_span.clone())),
                    ..Diagnostic::error(
                        "Unsupported argument",
                        format!(
                            "the module `{name}` has no variable `{}`{}",
                            input.name,
                            did_you_mean(&input.name, child.variables.keys().map(String::as_str))
                        ),
                    )
                });
            }
        }
        for (variable, block) in &child.variables {
            if block.default.is_none() && !given.contains(variable.as_str()) {
                diagnostics.push(Diagnostic {
                    subject: Some(self.span(call.file, call.header.clone())),
                    ..Diagnostic::error(
                        "Missing required argument",
                        format!(
                            "the module `{name}` needs `{variable}`: its variable has no default"
                        ),
                    )
                });
            }
        }
    }

    /// Every `moved` block of this configuration and of the modules it calls, each with the
    /// names of the calls it is inside (empty for this configuration's own).
    pub fn all_moved(&self) -> Vec<(Vec<String>, &super::Moved)> {
        let mut found: Vec<(Vec<String>, &super::Moved)> =
            self.moved.iter().map(|moved| (Vec::new(), moved)).collect();
        for (name, call) in &self.modules {
            if let Some(child) = call.config.as_deref() {
                for (mut names, moved) in child.all_moved() {
                    names.insert(0, name.clone());
                    found.push((names, moved));
                }
            }
        }
        found
    }

    /// The configuration of the module instance path `steps` (call names from here down).
    pub(crate) fn module_config<'s>(&'s self, steps: &[String]) -> Option<&'s Configuration> {
        match steps.split_first() {
            None => Some(self),
            Some((first, rest)) => self
                .modules
                .get(first)?
                .config
                .as_deref()?
                .module_config(rest),
        }
    }
}

/// The `.tf` files of `folder`, sorted, named relative to `root`.
fn read_tf_files(folder: &Path, root: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|extension| extension == "tf") && path.is_file()
        })
        .collect();
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(&path)?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = display_dir(folder, root);
        let shown = if dir == "." {
            name
        } else {
            format!("{dir}/{name}")
        };
        files.push((shown, text));
    }
    Ok(files)
}

/// The `.tf.json` files of `folder`, named relative to `root`.
fn json_files(folder: &Path, root: &Path) -> Vec<String> {
    let dir = display_dir(folder, root);
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().into_string().ok())
                .filter(|name| name.ends_with(".tf.json"))
                .map(|name| {
                    if dir == "." {
                        name
                    } else {
                        format!("{dir}/{name}")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `folder` as shown to the user: relative to the root configuration's folder when inside it.
fn display_dir(folder: &Path, root: &Path) -> String {
    let root = normalize(root);
    let folder = normalize(folder);
    match folder.strip_prefix(&root) {
        Ok(relative) if relative.as_os_str().is_empty() => ".".to_owned(),
        Ok(relative) if root != Path::new(".") => {
            format!("{}/{}", root.display(), relative.display())
        }
        Ok(relative) => relative.display().to_string(),
        Err(_) => folder.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_lexically_and_shown_from_the_root() {
        assert_eq!(normalize(Path::new("./a/../b/./c")), PathBuf::from("b/c"));
        assert_eq!(normalize(Path::new("a/../..")), PathBuf::from(".."));
        assert_eq!(
            display_dir(Path::new("./modules/team"), Path::new(".")),
            "modules/team"
        );
        assert_eq!(
            display_dir(Path::new("infra/modules/team"), Path::new("infra")),
            "infra/modules/team"
        );
        assert_eq!(display_dir(Path::new("."), Path::new(".")), ".");
    }
}
