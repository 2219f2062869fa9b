//! Reads a configuration folder: every `*.tf` file in name order, parsed with
//! `hcl::edit::parser::parse_body` (spans kept), decoded, then references resolved. Parse errors
//! become diagnostics at their location; a file that does not parse is skipped, the others are
//! still checked so one run reports everything.

use std::path::{Path, PathBuf};

use engine::diag::{Diagnostic, Diagnostics};
use engine::schema::Registry;

use super::decode::{self, Catalogue};
use super::{Configuration, TerraformSettings, refs};
use crate::source::{FileId, SourceFile, Sources};

/// A configuration folder that cannot be read at all. Problems inside files are diagnostics.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder cannot be listed.
    #[error("cannot read the configuration folder `{path}`")]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `.tf` file cannot be read.
    #[error("cannot read `{path}`")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The name a file is shown with: the folder as the user gave it, joined with the file name
/// (`main.tf` for the current folder, `examples/quickstart/main.tf` otherwise).
pub(crate) fn display_name(dir: &Path, path: &Path) -> String {
    let shown = if dir == Path::new(".") || dir.as_os_str().is_empty() {
        path.strip_prefix(dir).unwrap_or(path)
    } else {
        path
    };
    shown.display().to_string()
}

/// A parse error re-rendered at its location (hcl's own `Display` has no file name).
pub(crate) fn parse_error(
    config: &Configuration,
    file: FileId,
    error: &hcl::edit::parser::Error,
) -> Diagnostic {
    let text = config.sources.get(file).map_or("", SourceFile::text);
    let offset = error.location().offset().min(text.len());
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |character| offset + character.len_utf8());
    Diagnostic {
        subject: Some(config.span(file, offset..end)),
        ..Diagnostic::error("Invalid syntax", error.message())
    }
}

impl Configuration {
    /// Loads every `*.tf` file of `dir` (sorted by name) and checks it against the catalogue.
    /// Returns the configuration and every problem found; callers stop when
    /// [`Diagnostics::has_errors`].
    pub fn load_dir(
        dir: &Path,
        registry: &Registry,
    ) -> Result<(Configuration, Diagnostics), LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|source| LoadError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| LoadError::ReadDir {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|extension| extension == "tf") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        // Terraform's JSON syntax is not read yet: say so rather than plan without them.
        let json_files: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.to_string_lossy().ends_with(".tf.json") && path.is_file())
                    .map(|path| display_name(dir, &path))
                    .collect()
            })
            .unwrap_or_default();
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| LoadError::ReadFile {
                path: path.clone(),
                source,
            })?;
            files.push((display_name(dir, &path), text));
        }
        let (config, mut diagnostics) = Configuration::from_named_sources(dir, files, registry);
        for name in json_files {
            diagnostics.push(Diagnostic::error(
                "Unsupported configuration file",
                format!("`{name}` is in Terraform's JSON syntax, which amlplan does not read yet\nhelp: write it in the native syntax (`.tf`), or plan this configuration with terraform"),
            ));
        }
        if config.sources.iter().next().is_none() {
            diagnostics.push(Diagnostic::error(
                "No configuration files",
                format!("`{}` has no `.tf` files\nhelp: run amlplan in a configuration folder, or pass `--chdir DIR`", dir.display()),
            ));
        }
        Ok((config, diagnostics))
    }

    /// Loads a configuration from in-memory files `(name, text)`, as if they were in `dir`
    /// (used by tests and by callers that already hold the text).
    pub fn from_sources(
        dir: &Path,
        files: &[(&str, &str)],
        registry: &Registry,
    ) -> (Configuration, Diagnostics) {
        let named = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        Configuration::from_named_sources(dir, named, registry)
    }

    /// Decodes `files`, loads the modules they call (local sources, or the module manifest of
    /// `terraform init` under `dir`), then resolves references.
    fn from_named_sources(
        dir: &Path,
        files: Vec<(String, String)>,
        registry: &Registry,
    ) -> (Configuration, Diagnostics) {
        let (mut config, mut diagnostics) = Configuration::decode_named(dir, files, registry);
        let manifest = super::modules::read_manifest(dir, &mut diagnostics);
        let context = super::modules::ModuleContext {
            root: dir,
            manifest: manifest.as_ref(),
            key: String::new(),
            depth: 0,
        };
        config.load_modules(&context, registry, &mut diagnostics);
        config.finish(&mut diagnostics);
        (config, diagnostics)
    }

    /// The references of a decoded configuration whose modules are loaded.
    pub(crate) fn finish(&mut self, diagnostics: &mut Diagnostics) {
        decode::check_depends_on(self, diagnostics);
        super::provider::check_references(self, diagnostics);
        decode::check_imports(self, diagnostics);
        refs::resolve(self, diagnostics);
    }

    /// Parses and decodes `files` (no modules loaded, no references resolved).
    pub(crate) fn decode_named(
        dir: &Path,
        files: Vec<(String, String)>,
        registry: &Registry,
    ) -> (Configuration, Diagnostics) {
        let mut config = Configuration {
            modules: Default::default(),
            moved: Vec::new(),
            checks: Vec::new(),
            removed: Vec::new(),
            imports: Vec::new(),
            module_display: ".".to_owned(),
            dir: dir.to_owned(),
            sources: Sources::new(),
            terraform: TerraformSettings::default(),
            provider: None,
            aliased_providers: Default::default(),
            variables: Default::default(),
            locals: Default::default(),
            blocks: Vec::new(),
            block_lookup: Default::default(),
            outputs: Default::default(),
            order: Vec::new(),
            dependents: Default::default(),
            pending_depends_on_checks: Vec::new(),
        };
        let mut diagnostics = Diagnostics::default();
        let catalogue = Catalogue::new(registry);
        let mut parsed = Vec::new();
        for (name, text) in files {
            let file = config.sources.add(SourceFile::new(name, text));
            let text = config.sources.get(file).expect("just added").text();
            match hcl::edit::parser::parse_body(text) {
                Ok(body) => parsed.push((file, body)),
                Err(error) => {
                    let diagnostic = parse_error(&config, file, &error);
                    diagnostics.push(diagnostic);
                }
            }
        }
        for (file, body) in &parsed {
            decode::decode_file(&mut config, &catalogue, *file, body, &mut diagnostics);
        }
        (config, diagnostics)
    }
}
