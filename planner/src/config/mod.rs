//! The Terraform-language configuration as `amlplan` reads it (DESIGN §3): loading `*.tf` files
//! ([`Configuration::load_dir`]), input variables ([`Configuration::load_inputs`]) and evaluation
//! into resource instances with unknowns ([`evaluate`]). HCL stays in this module tree: what
//! leaves it is engine types (`ResourceAddr`, `ObjectValue`, `Diagnostic`) plus source spans.
//!
//! | module        | owns                                                                  |
//! |---------------|-----------------------------------------------------------------------|
//! | `load`        | reading files, parsing, turning parse errors into diagnostics         |
//! | `decode`      | top-level blocks and schema checks of arguments (names, presence)     |
//! | `refs`        | references in expressions, their checks, the dependency graph, cycles |
//! | `eval`        | expression evaluation with unknowns                                   |
//! | `functions`   | built-in functions                                                    |
//! | `convert`     | evaluated values → schema-typed values (type and `one_of` checks)     |
//! | `variables`   | variable types and values from CLI, files and environment             |
//! | `provider`    | the `provider "azureml"` settings with environment fallbacks          |
//! | `instances`   | `count`/`for_each` expansion and the evaluation walk (module instances too) |
//! | `modules`     | `module` calls: sources, loading, arguments                            |
//! | `spelling`    | "did you mean" suggestions                                            |
//! | `version`     | version constraints (`required_version`, provider `version`)          |

mod convert;
mod decode;
mod eval;
mod functions;
mod instances;
mod load;
mod modules;
mod provider;
mod refs;
mod spelling;
mod variables;
pub mod version;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::addr::{AttrPath, Mode, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics, Subject};
use engine::plan::Expansion;
use engine::schema::ResourceSchema;
use hcl::edit::expr::Expression;

use crate::source::{FileId, SourceSpan, Sources};

pub use engine::settings::{Endpoint, ProviderSettings, Secret};
pub use instances::{
    EvaluatedConfig, KnownValues, NoKnownValues, OutputValue, ResourceInstance, evaluate,
    reevaluate,
};
pub use load::LoadError;
pub use variables::{CliVariable, Environment, InputValues};

/// A loaded configuration folder: sources, decoded blocks and the dependency order. Produced by
/// [`Configuration::load_dir`] (or [`Configuration::from_sources`]); evaluated by [`evaluate`].
#[derive(Debug)]
pub struct Configuration {
    pub(crate) dir: PathBuf,
    pub(crate) sources: Sources,
    pub(crate) terraform: TerraformSettings,
    /// The default `provider "azureml"` block.
    pub(crate) provider: Option<ProviderBlock>,
    /// The `provider "azureml"` blocks with an `alias`, by alias (the root module's only: a
    /// module receives configurations from its caller).
    pub(crate) aliased_providers: BTreeMap<String, ProviderBlock>,
    pub(crate) variables: BTreeMap<String, VariableBlock>,
    pub(crate) locals: BTreeMap<String, LocalBlock>,
    pub(crate) blocks: Vec<ResourceBlock>,
    /// Index into `blocks` by address (without instance key).
    pub(crate) block_lookup: std::collections::HashMap<ResourceAddr, usize>,
    pub(crate) outputs: BTreeMap<String, OutputBlock>,
    /// Evaluation order: every node after the nodes it refers to (nodes in a cycle are left out).
    pub(crate) order: Vec<refs::Node>,
    /// Reverse edges: the nodes that refer to each node.
    pub(crate) dependents: std::collections::HashMap<refs::Node, Vec<refs::Node>>,
    /// `depends_on` entries to check once every file is decoded.
    pub(crate) pending_depends_on_checks: Vec<(ResourceAddr, FileId, Range<usize>)>,
    /// The `module` blocks, by name.
    pub(crate) modules: BTreeMap<String, modules::ModuleCall>,
    /// The `moved` blocks, in file order.
    pub(crate) moved: Vec<Moved>,
    /// The `check` blocks, in file order.
    pub(crate) checks: Vec<CheckBlock>,
    /// The `removed` blocks, in file order.
    pub(crate) removed: Vec<Removed>,
    /// The `import` blocks, in file order.
    pub(crate) imports: Vec<ImportBlock>,
    /// `path.module`: this module's folder relative to the root's (`.` for the root).
    pub(crate) module_display: String,
}

impl Configuration {
    /// The configuration folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every source file, for rendering diagnostics.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The `resource` and `data` blocks, in file order.
    pub fn resource_blocks(&self) -> &[ResourceBlock] {
        &self.blocks
    }

    /// How each managed block repeats, by address without key (for the implied moves and the
    /// orphans' delete reasons, [`engine::plan::implied_moves`]).
    pub fn expansions(&self) -> BTreeMap<ResourceAddr, Expansion> {
        self.blocks
            .iter()
            .filter(|block| block.mode() == Mode::Managed && block.foreign.is_none())
            .map(|block| (block.addr.clone(), block.expansion()))
            .collect()
    }

    /// The `moved` blocks of this module, in file order (see `all_moved` for the modules'
    /// own).
    pub fn moved(&self) -> &[Moved] {
        &self.moved
    }

    /// The `removed` blocks of the root module.
    pub fn removed(&self) -> &[Removed] {
        &self.removed
    }

    /// The declared input variable names.
    pub fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// The declared output names.
    pub fn output_names(&self) -> impl Iterator<Item = &str> {
        self.outputs.keys().map(String::as_str)
    }

    /// `terraform { ... }` settings.
    pub fn terraform_settings(&self) -> &TerraformSettings {
        &self.terraform
    }

    /// The block of `addr` in the configuration of its module instance, with that
    /// configuration (instance keys ignored).
    fn block_in_module(&self, addr: &ResourceAddr) -> Option<(&Configuration, &ResourceBlock)> {
        let steps: Vec<String> = addr.module.0.iter().map(|step| step.name.clone()).collect();
        let config = self.module_config(&steps)?;
        let local = ResourceAddr {
            module: engine::addr::ModulePath::default(),
            ..addr.clone()
        };
        Some((config, config.resource_block(&local)?))
    }

    /// The `check` block the data source `addr` is scoped to, if it is.
    pub fn check_scope(&self, addr: &ResourceAddr) -> Option<&str> {
        self.block_in_module(addr)?.1.check_scope.as_deref()
    }

    /// Where the `postcondition`s of `addr`'s block are (in its module's configuration): the
    /// subjects their failures have, for telling them from other diagnostics after apply.
    pub fn postcondition_subjects(&self, addr: &ResourceAddr) -> Vec<Subject> {
        self.block_in_module(addr)
            .map(|(config, block)| {
                block
                    .conditions
                    .iter()
                    .filter(|condition| condition.kind == ConditionKind::Postcondition)
                    .map(|condition| {
                        config.span(
                            condition.condition.file,
                            condition.condition.value_span.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The block of `addr` (instance keys ignored).
    pub fn resource_block(&self, addr: &ResourceAddr) -> Option<&ResourceBlock> {
        let addr = addr.without_key();
        self.block_lookup
            .get(&addr)
            .map(|&index| &self.blocks[index])
    }

    /// Maps an attribute subject (what the engine produces) to the source span that configured
    /// it: the attribute's value, else the closest enclosing nested block, else the resource
    /// block's header. Other diagnostics are returned unchanged.
    pub fn locate(&self, mut diagnostic: Diagnostic) -> Diagnostic {
        if let Some(Subject::Attr { addr, path }) = diagnostic.subject.clone()
            && !addr.module.is_root()
        {
            // Declared in a module: its configuration knows where.
            let steps: Vec<String> = addr.module.0.iter().map(|step| step.name.clone()).collect();
            let Some(module) = self.module_config(&steps) else {
                return diagnostic;
            };
            let mut local = diagnostic.clone();
            local.subject = Some(Subject::Attr {
                addr: addr.clone().in_module(Default::default()),
                path,
            });
            let located = module.locate(local);
            if matches!(located.subject, Some(Subject::Span { .. })) {
                return located;
            }
            return diagnostic;
        }
        if let Some(Subject::Attr { addr, path }) = &diagnostic.subject
            && let Some(block) = self.resource_block(addr)
        {
            let span = block.spans.span_of(path);
            diagnostic.subject = Some(Subject::Span {
                file: self.sources.name(span.file).to_owned(),
                range: span.range,
            });
        }
        diagnostic
    }

    /// [`Configuration::locate`] applied to every diagnostic.
    pub fn locate_all(&self, diagnostics: Diagnostics) -> Diagnostics {
        Diagnostics(
            diagnostics
                .0
                .into_iter()
                .map(|diagnostic| self.locate(diagnostic))
                .collect(),
        )
    }

    /// Renders diagnostics with their source lines (attribute subjects located first).
    pub fn render_diagnostics(
        &self,
        diagnostics: &Diagnostics,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let located = self.locate_all(diagnostics.clone());
        crate::render::render_diagnostics(&located, &self.sources, out)
    }

    pub(crate) fn span(&self, file: FileId, range: Range<usize>) -> Subject {
        Subject::Span {
            file: self.sources.name(file).to_owned(),
            range,
        }
    }
}

/// `terraform { ... }` settings amlplan reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TerraformSettings {
    /// `required_providers.azureml.source`, if given.
    pub azureml_source: Option<String>,
    /// `required_providers.azureml.version`, if given.
    pub azureml_version: Option<String>,
    /// `required_providers.azureml.configuration_aliases`: the aliased configurations a module
    /// expects from its caller.
    pub azureml_configuration_aliases: BTreeSet<String>,
    /// `backend "local" { path = ... }`, if given.
    pub state_path: Option<String>,
    /// Every provider requirement (`required_providers`), `azureml`'s too, by local name:
    /// its `source` (if given) and `version` constraints. Read for `amlplan providers`.
    pub required_providers: BTreeMap<String, ProviderRequirement>,
    /// The local names of the `provider` blocks, each with its (legacy) `version`, if any.
    pub provider_blocks: Vec<(String, Option<String>)>,
}

/// One entry of `required_providers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderRequirement {
    /// `source`, as written.
    pub source: Option<String>,
    /// `version` constraints, as written.
    pub versions: Vec<String>,
}

pub use engine::plan::{IgnoreChanges, LifecycleOptions};

/// Which custom condition a [`Condition`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConditionKind {
    /// `lifecycle { precondition }` of a resource or data source, or an output's.
    Precondition,
    /// `lifecycle { postcondition }`: may read `self`.
    Postcondition,
    /// An `assert` of a `check` block: a failure is a warning.
    Assert,
}

/// A custom condition: `condition` must be true, else `error_message` is reported.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub kind: ConditionKind,
    pub condition: AttrExpr,
    pub error_message: AttrExpr,
}

/// A `check "NAME"` block.
#[derive(Debug, Clone)]
pub(crate) struct CheckBlock {
    pub name: String,
    pub asserts: Vec<Condition>,
}

/// An `import` block.
#[derive(Debug, Clone)]
pub(crate) struct ImportBlock {
    /// `to`.
    pub to: ResourceAddr,
    /// `id`: an expression of variables, locals and literals (and `each`).
    pub id: AttrExpr,
    /// `for_each`: one import per element.
    pub for_each: Option<AttrExpr>,
    /// With `for_each`: the key expression of `to` (`[each.key]`).
    pub key: Option<AttrExpr>,
    pub file: FileId,
    pub to_span: Range<usize>,
}

/// A `removed` block.
#[derive(Debug, Clone)]
pub struct Removed {
    /// `from`: a resource (every instance, or one) or a module instance.
    pub from: engine::plan::MoveEndpoint,
    /// `lifecycle { destroy }`: `false` forgets the objects (they are kept); `true`, the
    /// default, destroys them (an attachment is detached, its resource kept).
    pub destroy: bool,
}

/// A `moved` block.
#[derive(Debug, Clone)]
pub struct Moved {
    /// `from`.
    pub from: engine::plan::MoveEndpoint,
    /// `to`.
    pub to: engine::plan::MoveEndpoint,
}

/// Where a resource block and each of its arguments are in the sources, to map engine
/// diagnostics (`Subject::Attr`) back to file, line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockSpans {
    /// The file of the block.
    pub file: FileId,
    /// The block header (`resource "type" "name"`).
    pub header: Range<usize>,
    /// The value expression of each configured argument, and the header of each nested block,
    /// by attribute path (`name`, `ssl`, `ssl.cert`, `setup_scripts[0].path`).
    pub attributes: BTreeMap<AttrPath, Range<usize>>,
}

impl BlockSpans {
    /// The span of `path` or its closest configured ancestor, else the block header.
    pub fn span_of(&self, path: &AttrPath) -> SourceSpan {
        let mut steps = path.0.clone();
        while !steps.is_empty() {
            if let Some(range) = self.attributes.get(&AttrPath(steps.clone())) {
                return SourceSpan::new(self.file, range.clone());
            }
            steps.pop();
        }
        SourceSpan::new(self.file, self.header.clone())
    }
}

/// One `resource` or `data` block.
#[derive(Debug)]
pub struct ResourceBlock {
    pub(crate) addr: ResourceAddr,
    pub(crate) schema: Option<Arc<ResourceSchema>>,
    pub(crate) body: BodyExprs,
    pub(crate) count: Option<AttrExpr>,
    pub(crate) for_each: Option<AttrExpr>,
    pub(crate) depends_on: Vec<ResourceAddr>,
    pub(crate) lifecycle: LifecycleOptions,
    pub(crate) spans: Arc<BlockSpans>,
    /// Managed blocks this one depends on, through references, `depends_on`, locals and data.
    pub(crate) managed_dependencies: Vec<usize>,
    /// Module calls this block depends on (all their managed instances).
    pub(crate) module_dependencies: Vec<String>,
    /// `lifecycle` pre- and postconditions.
    pub(crate) conditions: Vec<Condition>,
    /// `lifecycle { replace_triggered_by }`: resources (and optionally one attribute each)
    /// whose change replaces this one.
    pub(crate) replace_triggers: Vec<(ResourceAddr, Option<String>)>,
    /// The provider (local name) of a block amlplan leaves to Terraform (`azurerm`,
    /// `terraform`); `None` for `azureml` blocks.
    pub(crate) foreign: Option<String>,
    /// `provider = azureml.ALIAS`: the alias (in this module's names) and the value's span.
    pub(crate) provider_alias: Option<(String, Range<usize>)>,
    /// The `check` block a data source is declared in (a scoped data source).
    pub(crate) check_scope: Option<String>,
}

impl Configuration {
    /// True for a called module's configuration (not the root's).
    pub(crate) fn is_module(&self) -> bool {
        self.module_display != "."
    }
}

impl ResourceBlock {
    /// The address without instance key (`azureml_compute_cluster.gpu`, `data.azureml_workspace.main`).
    pub fn addr(&self) -> &ResourceAddr {
        &self.addr
    }

    /// Managed resource or data source.
    pub fn mode(&self) -> Mode {
        self.addr.mode
    }

    /// The schema used to check the block (for data sources: derived from the resource schema),
    /// if the catalogue has the type.
    pub fn schema(&self) -> Option<&ResourceSchema> {
        self.schema.as_deref()
    }

    /// True when the block sets `count` or `for_each`.
    pub fn is_expanded(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }

    /// The provider of a block amlplan leaves to Terraform; `None` for `azureml` blocks.
    pub fn foreign_provider(&self) -> Option<&str> {
        self.foreign.as_deref()
    }

    /// How the block repeats.
    pub fn expansion(&self) -> Expansion {
        match (&self.count, &self.for_each) {
            (Some(_), _) => Expansion::Count,
            (None, Some(_)) => Expansion::ForEach,
            (None, None) => Expansion::Single,
        }
    }

    /// Where the block and its arguments are.
    pub fn spans(&self) -> &BlockSpans {
        &self.spans
    }

    /// `replace_triggered_by`: the resources (an instance when keyed, optionally one
    /// attribute) whose planned change replaces this block's instances.
    pub fn replace_triggers(&self) -> &[(ResourceAddr, Option<String>)] {
        &self.replace_triggers
    }

    /// The `lifecycle` options.
    pub fn lifecycle(&self) -> &LifecycleOptions {
        &self.lifecycle
    }
}

/// An argument and its expression.
#[derive(Debug, Clone)]
pub(crate) struct AttrExpr {
    pub name: String,
    pub expr: Expression,
    pub file: FileId,
    /// The argument name.
    pub key_span: Range<usize>,
    /// The value expression.
    pub value_span: Range<usize>,
}

/// The arguments and nested blocks of a block body (meta-arguments removed).
#[derive(Debug, Clone, Default)]
pub(crate) struct BodyExprs {
    pub attributes: Vec<AttrExpr>,
    pub blocks: Vec<NestedBlock>,
}

/// A nested block such as `ssl { ... }`.
#[derive(Debug, Clone)]
pub(crate) struct NestedBlock {
    pub name: String,
    pub body: BodyExprs,
    /// Set for a `dynamic "NAME"` block: `body` is its `content`, made once per element.
    pub dynamic: Option<DynamicBlock>,
}

/// What repeats a `dynamic` block.
#[derive(Debug, Clone)]
pub(crate) struct DynamicBlock {
    /// `for_each`.
    pub for_each: AttrExpr,
    /// `iterator` (the block's label by default): `ITER.key`, `ITER.value` in `content`.
    pub iterator: String,
}

/// A `variable` block.
#[derive(Debug)]
pub(crate) struct VariableBlock {
    pub name: String,
    pub file: FileId,
    pub header: Range<usize>,
    pub ty: variables::VarType,
    pub default: Option<AttrExpr>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<Validation>,
}

/// A `validation` block of a variable.
#[derive(Debug)]
pub(crate) struct Validation {
    pub condition: AttrExpr,
    pub error_message: AttrExpr,
}

/// One entry of a `locals` block.
#[derive(Debug)]
pub(crate) struct LocalBlock {
    pub value: AttrExpr,
}

/// An `output` block.
#[derive(Debug)]
pub(crate) struct OutputBlock {
    pub file: FileId,
    pub header: Range<usize>,
    pub value: Option<AttrExpr>,
    pub sensitive: bool,
    pub description: Option<String>,
    /// `precondition` blocks.
    pub preconditions: Vec<Condition>,
}

/// The `provider "azureml"` block.
#[derive(Debug)]
pub(crate) struct ProviderBlock {
    pub file: FileId,
    pub header: Range<usize>,
    pub attributes: Vec<AttrExpr>,
}
