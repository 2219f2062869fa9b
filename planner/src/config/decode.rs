//! Decodes the top-level blocks of parsed files into [`Configuration`] parts and checks block
//! bodies against the schema: unknown arguments (with the closest valid name), computed
//! attributes set by the user, missing required arguments, nested blocks, meta-arguments and
//! `lifecycle`. One function over `&ResourceSchema` serves every resource type (STYLE §3).
//! Values are not evaluated here (see `instances.rs`), so no type checks either.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use engine::addr::{AttrPath, Mode, ModulePath, PathStep, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics};
use engine::schema::{AttrType, Attribute, Presence, Registry, ResourceSchema};
use hcl::edit::Span;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::structure::{Block, Body, Structure};

use super::modules::ModuleCall;
use super::provider::argument_names;
use super::spelling::{closest, did_you_mean};
use super::variables::{self, VarType};
use super::version;
use super::{
    AttrExpr, BlockSpans, BodyExprs, Configuration, IgnoreChanges, LifecycleOptions, LocalBlock,
    NestedBlock, OutputBlock, ProviderBlock, ResourceBlock, Validation, VariableBlock,
};
use super::{CheckBlock, Condition, ConditionKind, DynamicBlock, ImportBlock, Moved, Removed};
use crate::source::FileId;
use engine::plan::MoveEndpoint;

/// Data sources of DESIGN §2. Those whose type is in the catalogue are checked with the schema
/// the engine derives ([`ResourceSchema::data_source`]); the others are accepted with any
/// arguments until the catalogue describes them.
pub(crate) use engine::schema::DATA_SOURCES;

const TOP_LEVEL_BLOCKS: &[&str] = &[
    "data",
    "locals",
    "output",
    "provider",
    "resource",
    "terraform",
    "variable",
];

/// Resource schemas shared by every block of a type, and the derived data source schemas.
pub(crate) struct Catalogue {
    resources: BTreeMap<String, Arc<ResourceSchema>>,
    data: BTreeMap<String, Arc<ResourceSchema>>,
}

impl Catalogue {
    pub(crate) fn new(registry: &Registry) -> Catalogue {
        let resources: BTreeMap<String, Arc<ResourceSchema>> = registry
            .iter()
            .map(|schema| (schema.type_name.clone(), Arc::new(schema.clone())))
            .collect();
        let data = resources
            .iter()
            .filter(|(name, _)| DATA_SOURCES.contains(&name.as_str()))
            .map(|(name, schema)| (name.clone(), Arc::new(schema.data_source())))
            .collect();
        Catalogue { resources, data }
    }
}

/// Decodes one file's top-level body into `config`.
pub(crate) fn decode_file(
    config: &mut Configuration,
    catalogue: &Catalogue,
    file: FileId,
    body: &Body,
    diagnostics: &mut Diagnostics,
) {
    let mut decoder = Decoder {
        config,
        catalogue,
        file,
        diagnostics,
    };
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => decoder.error(
                span(&attribute.key),
                "Unsupported argument",
                format!("`{}` cannot be set at the top level of a file\nhelp: arguments belong inside a block such as `locals {{ ... }}`", attribute.key.value()),
            ),
            Structure::Block(block) => decoder.top_level(block),
        }
    }
}

struct Decoder<'a> {
    config: &'a mut Configuration,
    catalogue: &'a Catalogue,
    file: FileId,
    diagnostics: &'a mut Diagnostics,
}

fn span<T: Span>(node: &T) -> Range<usize> {
    node.span().unwrap_or_default()
}

/// `resource "type" "name"`: from the keyword to the last label.
/// Why a compute kind the Azure ML ARM API cannot manage is not in the catalogue, for the
/// `azureml_*` names users reach for: Azure Container Instances and Azure Batch.
fn unsupported_compute(resource_type: &str) -> Option<String> {
    let kind = resource_type.trim_start_matches("azureml_");
    let words: Vec<&str> = kind.split('_').collect();
    if kind.contains("container_instance") || words.contains(&"aci") {
        return Some(format!(
            "`{resource_type}`: Azure Container Instances cannot be attached to or created in an Azure ML workspace \
             through the ARM API; the service creates them itself when a model is deployed to ACI\n\
             help: deploy the model instead, or use `azureml_inference_cluster` for a Kubernetes-based endpoint"
        ));
    }
    if words.contains(&"batch") {
        return Some(format!(
            "`{resource_type}`: Azure Batch could only be attached by the retired v1 SDK; the Azure ML ARM API has \
             no Batch compute type\n\
             help: use `azureml_compute_cluster` for batch workloads"
        ));
    }
    None
}

fn header(block: &Block) -> Range<usize> {
    let start = span(&block.ident).start;
    let end = block
        .labels
        .last()
        .map_or_else(|| span(&block.ident).end, |label| span(label).end);
    start..end
}

fn attr_expr(attribute: &hcl::edit::structure::Attribute, file: FileId) -> AttrExpr {
    AttrExpr {
        name: attribute.key.value().as_str().to_owned(),
        expr: attribute.value.clone(),
        file,
        key_span: span(&attribute.key),
        value_span: span(&attribute.value),
    }
}

fn literal_bool(expr: &Expression) -> Option<bool> {
    match expr {
        Expression::Bool(flag) => Some(*flag.value()),
        _ => None,
    }
}

fn literal_string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(text) => Some(text.value().clone()),
        Expression::StringTemplate(template) => {
            let mut out = String::new();
            for element in template.iter() {
                out.push_str(element.as_literal()?.value());
            }
            Some(out)
        }
        _ => None,
    }
}

/// A module instance (`module.a["k"]`) or a resource address, as `moved` and `removed` name
/// what they take.
fn move_endpoint(text: &str) -> Option<MoveEndpoint> {
    match ModulePath::parse(text) {
        Ok(path) if !path.is_root() => Some(MoveEndpoint::Module(path)),
        _ => ResourceAddr::parse(text).ok().map(MoveEndpoint::Resource),
    }
}

/// A `required_providers` entry: `{ source = "...", version = "..." }`, or the legacy
/// `"VERSION"` string.
fn provider_requirement(expr: &Expression) -> super::ProviderRequirement {
    let mut requirement = super::ProviderRequirement::default();
    match expr {
        Expression::Object(object) => {
            for (key, value) in object.iter() {
                let key = match key {
                    hcl::edit::expr::ObjectKey::Ident(ident) => ident.value().to_string(),
                    hcl::edit::expr::ObjectKey::Expression(expr) => {
                        literal_string(expr).unwrap_or_default()
                    }
                };
                match (key.as_str(), literal_string(value.expr())) {
                    ("source", Some(source)) => requirement.source = Some(source),
                    ("version", Some(version)) => requirement.versions.push(version),
                    _ => {}
                }
            }
        }
        other => requirement.versions.extend(literal_string(other)),
    }
    requirement
}

/// `azurerm` or `azurerm.west` (a provider reference) as text.
fn traversal_text(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(name) => Some(name.value().to_string()),
        Expression::Traversal(traversal) => {
            let Expression::Variable(root) = &traversal.expr else {
                return None;
            };
            let mut text = root.value().to_string();
            for operator in traversal.operators.iter() {
                let TraversalOperator::GetAttr(name) = operator.value() else {
                    return None;
                };
                text.push('.');
                text.push_str(name.value().as_str());
            }
            Some(text)
        }
        _ => None,
    }
}

/// An `azureml` provider reference: `Some(None)` for `azureml`, `Some(Some(alias))` for
/// `azureml.alias`, `None` for anything else.
fn provider_reference(expr: &Expression) -> Option<Option<String>> {
    let text = traversal_text(expr)?;
    match text.split_once('.') {
        None if text == "azureml" => Some(None),
        Some(("azureml", alias)) if !alias.contains('.') => Some(Some(alias.to_owned())),
        _ => None,
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-'
        })
        && !name.starts_with(|character: char| character.is_ascii_digit() || character == '-')
}

impl Decoder<'_> {
    fn error(&mut self, range: Range<usize>, summary: &str, detail: String) {
        let subject = self.config.span(self.file, range);
        self.diagnostics.push(Diagnostic {
            subject: Some(subject),
            ..Diagnostic::error(summary, detail)
        });
    }

    /// The source text of `range` in the file being decoded (an address written as an
    /// expression: `moved`, `removed`, `import`, `replace_triggered_by`), trimmed.
    fn source_text(&self, range: &Range<usize>) -> String {
        self.config
            .sources
            .get(self.file)
            .and_then(|source| source.slice(range.clone()))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    fn location(&self, file: FileId, offset: usize) -> String {
        let source = self
            .config
            .sources
            .get(file)
            .expect("spans refer to loaded files");
        let location = source.location(offset);
        format!("{}:{}:{}", source.name(), location.line, location.column)
    }

    /// Checks the label count; returns the labels when right.
    fn labels<'b>(&mut self, block: &'b Block, expected: &[&str]) -> Option<Vec<&'b str>> {
        let kind = block.ident.value().as_str();
        if block.labels.len() == expected.len() {
            return Some(block.labels.iter().map(|label| label.as_str()).collect());
        }
        let wanted = expected
            .iter()
            .map(|label| format!("\"{label}\""))
            .collect::<Vec<_>>()
            .join(" ");
        if block.labels.len() < expected.len() {
            let missing = expected[block.labels.len()];
            self.error(
                header(block),
                &format!("Missing {missing} for {kind}"),
                format!(
                    "a `{kind}` block needs {} label(s): `{kind} {wanted}`",
                    expected.len()
                ),
            );
        } else {
            let extra = span(&block.labels[expected.len()]);
            self.error(
                extra,
                "Extraneous label",
                format!(
                    "a `{kind}` block has {} label(s): `{kind} {wanted}`",
                    expected.len()
                ),
            );
        }
        None
    }

    fn top_level(&mut self, block: &Block) {
        let kind = block.ident.value().as_str();
        match kind {
            "terraform" => self.terraform(block),
            "provider" => self.provider(block),
            "variable" => self.variable(block),
            "locals" => self.locals(block),
            "output" => self.output(block),
            "resource" => self.resource(block, Mode::Managed),
            "data" => self.resource(block, Mode::Data),
            "module" => self.module_call(block),
            "moved" => self.moved(block),
            "check" => self.check(block),
            "removed" => self.removed(block),
            "import" => self.import(block),
            "ephemeral" => {
                let why = "remove the block, or use terraform for this configuration";
                self.error(
                    header(block),
                    "Unsupported block type",
                    format!("`{kind}` blocks are not supported by amlplan\nhelp: {why}"),
                );
            }
            other => {
                let suggestion = did_you_mean(other, TOP_LEVEL_BLOCKS.iter().copied());
                self.error(
                    span(&block.ident),
                    "Unsupported block type",
                    format!("blocks of type `{other}` are not expected here{suggestion}"),
                );
            }
        }
    }

    /// `precondition`/`postcondition`/`assert { condition = ..., error_message = ... }`.
    fn condition(&mut self, block: &Block, kind: ConditionKind) -> Option<Condition> {
        let mut condition = None;
        let mut error_message = None;
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "condition" => condition = Some(attr_expr(attribute, self.file)),
                    "error_message" => error_message = Some(attr_expr(attribute, self.file)),
                    other => self.error(
                        span(&attribute.key),
                        "Unsupported argument",
                        format!(
                            "a `{}` block has no argument `{other}`{}",
                            block.ident.value(),
                            did_you_mean(other, ["condition", "error_message"])
                        ),
                    ),
                },
                Structure::Block(nested) => self.error(
                    header(nested),
                    "Unsupported block type",
                    format!(
                        "a `{}` block takes `condition` and `error_message` only",
                        block.ident.value()
                    ),
                ),
            }
        }
        match (condition, error_message) {
            (Some(condition), Some(error_message)) => Some(Condition {
                kind,
                condition,
                error_message,
            }),
            _ => {
                self.error(
                    header(block),
                    "Missing required argument",
                    format!(
                        "a `{}` block needs `condition` and `error_message`",
                        block.ident.value()
                    ),
                );
                None
            }
        }
    }

    /// `import { to = ADDRESS  id = EXPRESSION }`.
    fn import(&mut self, block: &Block) {
        let mut to = None;
        let mut id = None;
        let mut for_each = None;
        let mut key = None;
        for attribute in block.body.attributes() {
            match attribute.key.value().as_str() {
                // `to = TYPE.NAME[EXPRESSION]`, with `for_each`: the key is evaluated per element.
                "to" if matches!(
                    &attribute.value,
                    Expression::Traversal(traversal)
                        if traversal.operators.len() == 2
                            && matches!(traversal.operators[1].value(), TraversalOperator::Index(index) if !matches!(index, Expression::Number(_) | Expression::String(_)))
                ) =>
                {
                    let Expression::Traversal(traversal) = &attribute.value else {
                        unreachable!("matched above");
                    };
                    let (
                        Expression::Variable(root),
                        TraversalOperator::GetAttr(name),
                        TraversalOperator::Index(index),
                    ) = (
                        &traversal.expr,
                        traversal.operators[0].value(),
                        traversal.operators[1].value(),
                    )
                    else {
                        self.error(span(&attribute.value), "Invalid import address", "`to` must name a resource instance, as `azureml_compute_cluster.cpu[each.key]`".to_owned());
                        continue;
                    };
                    let addr = ResourceAddr::managed(root.value().as_str(), name.value().as_str());
                    to = Some((addr, span(&attribute.value)));
                    key = Some(AttrExpr {
                        name: "to".to_owned(),
                        expr: index.clone(),
                        file: self.file,
                        key_span: span(&attribute.key),
                        value_span: span(index),
                    });
                }
                "to" => {
                    let range = span(&attribute.value);
                    let text = self.source_text(&range);
                    match ResourceAddr::parse(&text) {
                        Ok(addr) if addr.mode == Mode::Managed => to = Some((addr, range)),
                        _ => self.error(range, "Invalid import address", format!("`{text}` is not a resource instance address, as `azureml_compute_cluster.cpu`")),
                    }
                }
                "id" => id = Some(attr_expr(attribute, self.file)),
                "for_each" => for_each = Some(attr_expr(attribute, self.file)),
                "provider" => {}
                other => self.error(
                    span(&attribute.key),
                    "Unsupported argument",
                    format!(
                        "an `import` block has no argument `{other}`{}",
                        did_you_mean(other, ["to", "id"])
                    ),
                ),
            }
        }
        for nested in block.body.blocks() {
            self.error(
                header(nested),
                "Unsupported block type",
                "an `import` block takes `to` and `id`".to_owned(),
            );
        }
        let (Some((to, range)), Some(id)) = (to, id) else {
            self.error(
                header(block),
                "Missing required argument",
                "an `import` block needs `to` and `id`".to_owned(),
            );
            return;
        };
        if key.is_some() != for_each.is_some() {
            self.error(range, "Invalid import address", "with `for_each`, `to` takes the instance key from each element, as `azureml_compute_cluster.cpu[each.key]`; without it, a literal key".to_owned());
            return;
        }
        self.config.imports.push(ImportBlock {
            to,
            id,
            for_each,
            key,
            file: self.file,
            to_span: range,
        });
    }

    /// `removed { from = ADDRESS  lifecycle { destroy = BOOL } }`.
    fn removed(&mut self, block: &Block) {
        let mut from = None;
        let mut destroy = true;
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) if attribute.key.value().as_str() == "from" => {
                    let range = span(&attribute.value);
                    let text = self.source_text(&range);
                    from = move_endpoint(&text);
                    if from.is_none() {
                        self.error(
                            range,
                            "Invalid address",
                            format!("`{text}` is not a resource or module address"),
                        );
                        return;
                    }
                }
                Structure::Block(nested) if nested.ident.value().as_str() == "lifecycle" => {
                    for attribute in nested.body.attributes() {
                        match (
                            attribute.key.value().as_str(),
                            literal_bool(&attribute.value),
                        ) {
                            ("destroy", Some(flag)) => destroy = flag,
                            ("destroy", None) => self.error(
                                span(&attribute.value),
                                "Invalid lifecycle value",
                                "`destroy` must be the literal `true` or `false`".to_owned(),
                            ),
                            (other, _) => self.error(
                                span(&attribute.key),
                                "Unsupported argument",
                                format!(
                                    "a `removed` block's `lifecycle` has no argument `{other}`"
                                ),
                            ),
                        }
                    }
                }
                other => self.error(
                    span(other),
                    "Unsupported argument",
                    "a `removed` block takes `from` and a `lifecycle` block".to_owned(),
                ),
            }
        }
        let Some(from) = from else {
            self.error(
                header(block),
                "Missing required argument",
                "a `removed` block needs `from`".to_owned(),
            );
            return;
        };
        if let MoveEndpoint::Resource(addr) = &from
            && self.config.resource_block(&addr.without_key()).is_some()
        {
            self.error(header(block), "Removed resource still exists", format!("`{from}` is still declared in the configuration: remove its block, or this `removed` block"));
            return;
        }
        self.config.removed.push(Removed { from, destroy });
    }

    /// `check "NAME" { assert { ... } }`: reported as warnings when an assertion fails.
    fn check(&mut self, block: &Block) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let mut check = CheckBlock {
            name: labels[0].to_owned(),
            asserts: Vec::new(),
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Block(nested) if nested.ident.value().as_str() == "assert" => {
                    check
                        .asserts
                        .extend(self.condition(nested, ConditionKind::Assert));
                }
                Structure::Block(nested) if nested.ident.value().as_str() == "data" => {
                    // A scoped data source: declared as any other (its address is
                    // `data.TYPE.NAME`), referenced only inside this check, and a failure to
                    // read it is a warning (see `commands::session`).
                    let before = self.config.blocks.len();
                    self.resource(nested, Mode::Data);
                    if let Some(block) = self.config.blocks.get_mut(before) {
                        block.check_scope = Some(check.name.clone());
                    }
                }
                other => self.error(
                    span(other),
                    "Unsupported block type",
                    "a `check` block holds `assert` blocks".to_owned(),
                ),
            }
        }
        if check.asserts.is_empty() {
            self.error(
                header(block),
                "Missing required block",
                format!("check `{}` needs at least one `assert` block", check.name),
            );
            return;
        }
        self.config.checks.push(check);
    }

    /// `moved { from = ADDRESS  to = ADDRESS }`: both ends resources (of one type) or both
    /// module instances; applied to the state before planning (see `commands::session`).
    fn moved(&mut self, block: &Block) {
        if !block.labels.is_empty() {
            self.labels(block, &[]);
            return;
        }
        let mut ends: [Option<(MoveEndpoint, Range<usize>)>; 2] = [None, None];
        let mut seen = [false; 2];
        for structure in block.body.iter() {
            let Structure::Attribute(attribute) = structure else {
                self.error(
                    span(structure),
                    "Unsupported block type",
                    "a `moved` block takes `from` and `to` only".to_owned(),
                );
                continue;
            };
            let slot = match attribute.key.value().as_str() {
                "from" => 0,
                "to" => 1,
                other => {
                    self.error(
                        span(&attribute.key),
                        "Unsupported argument",
                        format!(
                            "a `moved` block has no argument `{other}`{}",
                            did_you_mean(other, ["from", "to"])
                        ),
                    );
                    continue;
                }
            };
            seen[slot] = true;
            let range = span(&attribute.value);
            let text = self.source_text(&range);
            match move_endpoint(&text) {
                Some(endpoint) => ends[slot] = Some((endpoint, range)),
                None => self.error(range, "Invalid address", format!("`{text}` is not a resource or module address, as `azureml_compute_cluster.cpu` or `module.team`")),
            }
        }
        let [Some((from, from_range)), Some((to, to_range))] = ends else {
            if !seen.iter().all(|seen| *seen) {
                self.error(
                    header(block),
                    "Missing required argument",
                    "a `moved` block needs both `from` and `to`".to_owned(),
                );
            }
            return;
        };
        match (&from, &to) {
            (MoveEndpoint::Resource(a), MoveEndpoint::Resource(b))
                if a.resource_type != b.resource_type || a.mode != b.mode =>
            {
                self.error(to_range, "Resource type mismatch", format!("`{from}` is a `{}` and `{to}` a `{}`: a move keeps the object, so both must be of one type", a.resource_type, b.resource_type));
            }
            (MoveEndpoint::Resource(_), MoveEndpoint::Module(_))
            | (MoveEndpoint::Module(_), MoveEndpoint::Resource(_)) => {
                self.error(
                    to_range,
                    "Invalid \"moved\" addresses",
                    format!("`{from}` and `{to}` must both be resources or both be module calls"),
                );
            }
            _ if from == to => {
                self.error(
                    from_range,
                    "Redundant move statement",
                    format!("`{from}` moves to itself"),
                );
            }
            _ => self.config.moved.push(Moved { from, to }),
        }
    }

    /// `module "NAME" { source = "..." ... }`: the call; its configuration is loaded once the
    /// folder is decoded (`modules`).
    fn module_call(&mut self, block: &Block) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].to_owned();
        if !valid_name(&name) {
            self.error(span(&block.labels[0]), "Invalid module name", "a name must start with a letter or underscore and contain only letters, digits, underscores and dashes".to_owned());
            return;
        }
        if let Some(existing) = self.config.modules.get(&name) {
            let first = self.location(existing.file, existing.header.start);
            self.error(
                header(block),
                "Duplicate module call",
                format!("`module.{name}` is already declared at {first}"),
            );
            return;
        }
        let mut call = ModuleCall {
            source: String::new(),
            file: self.file,
            header: header(block),
            count: None,
            for_each: None,
            depends_on: Vec::new(),
            inputs: Vec::new(),
            config: None,
            managed_dependencies: Vec::new(),
            module_dependencies: Vec::new(),
            providers: Vec::new(),
        };
        let mut has_source = false;
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "source" => match literal_string(&attribute.value) {
                        Some(text) => {
                            call.source = text;
                            has_source = true;
                        }
                        None => self.error(
                            span(&attribute.value),
                            "Invalid module source",
                            "`source` must be a literal string".to_owned(),
                        ),
                    },
                    // A registry module's version was resolved by `terraform init`.
                    "version" => {}
                    "providers" => call.providers = self.passed_providers(&attribute.value),
                    "count" => call.count = Some(attr_expr(attribute, self.file)),
                    "for_each" => call.for_each = Some(attr_expr(attribute, self.file)),
                    "depends_on" => call.depends_on = self.depends_on(&attribute.value),
                    _ => call.inputs.push(attr_expr(attribute, self.file)),
                },
                Structure::Block(nested) => self.error(
                    header(nested),
                    "Unsupported block type",
                    format!(
                        "a module call takes arguments only; `{}` blocks are not expected here",
                        nested.ident.value()
                    ),
                ),
            }
        }
        if call.count.is_some() && call.for_each.is_some() {
            self.error(
                header(block),
                "Invalid combination of \"count\" and \"for_each\"",
                "set either `count` or `for_each`, not both".to_owned(),
            );
            return;
        }
        if !has_source {
            self.error(
                header(block),
                "Missing required argument",
                format!("`module.{name}` needs a `source`, as `source = \"./modules/{name}\"`"),
            );
            return;
        }
        self.config.modules.insert(name, call);
    }

    fn terraform(&mut self, block: &Block) {
        if !block.labels.is_empty() {
            self.labels(block, &[]);
        }
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "required_version" => self.required_version(attribute),
                    "experiments" => {}
                    other => self.error(span(&attribute.key), "Unsupported argument", format!("`terraform` has no argument `{other}`{}", did_you_mean(other, ["required_version"]))),
                },
                Structure::Block(nested) => match nested.ident.value().as_str() {
                    "required_providers" => self.required_providers(nested),
                    "backend" => {
                        let Some(labels) = self.labels(nested, &["type"]) else { continue };
                        if labels[0] != "local" {
                            self.error(header(nested), "Unsupported backend", format!("amlplan keeps state in a local file; the `{}` backend is not supported\nhelp: remove the backend block, or use `backend \"local\"`", labels[0]));
                            continue;
                        }
                        if let Some(path) = nested.body.get_attribute("path") {
                            match literal_string(&path.value) {
                                Some(text) => self.config.terraform.state_path = Some(text),
                                None => self.error(span(&path.value), "Invalid backend path", "the state path must be a literal string".to_owned()),
                            }
                        }
                    }
                    "cloud" => self.error(header(nested), "Unsupported block type", "HCP Terraform (`cloud`) is not supported by amlplan; state is a local file".to_owned()),
                    other => self.error(span(&nested.ident), "Unsupported block type", format!("`terraform` has no block `{other}`{}", did_you_mean(other, ["required_providers", "backend"]))),
                },
            }
        }
    }

    /// `required_version` against the language version amlplan implements.
    fn required_version(&mut self, attribute: &hcl::edit::structure::Attribute) {
        let Some(text) = literal_string(&attribute.value) else {
            self.error(
                span(&attribute.value),
                "Invalid required_version constraint",
                "`required_version` must be a literal string, as `\">= 1.5\"`".to_owned(),
            );
            return;
        };
        match version::Constraints::parse(&text) {
            Err(reason) => self.error(
                span(&attribute.value),
                "Invalid required_version constraint",
                reason,
            ),
            Ok(constraints) => {
                let language = version::Version::parse(version::LANGUAGE_VERSION)
                    .expect("the language version parses (its tests)");
                if !constraints.allows(&language) {
                    self.error(
                        span(&attribute.value),
                        "Unsupported Terraform Core version",
                        format!("this configuration requires Terraform `{text}`; amlplan implements the Terraform language of version {}, which the constraint excludes\nhelp: use a Terraform version the constraint allows, or change the constraint if the configuration works with {}", version::LANGUAGE_VERSION, version::LANGUAGE_VERSION),
                    );
                }
            }
        }
    }

    /// A `version` constraint of the `azureml` provider against amlplan's built-in provider.
    fn provider_version(&mut self, expr: &Expression, text: &str) {
        let built_in =
            version::Version::parse(version::AMLPLAN_VERSION).expect("the crate version parses");
        match version::Constraints::parse(text) {
            Err(reason) => self.error(span(expr), "Invalid provider version constraint", reason),
            Ok(constraints) if !constraints.allows(&built_in) => self.error(
                span(expr),
                "Unsupported provider version",
                format!("this configuration requires the `azureml` provider `{text}`; amlplan's built-in provider is version {}, which the constraint excludes", version::AMLPLAN_VERSION),
            ),
            Ok(_) => {}
        }
    }

    fn required_providers(&mut self, block: &Block) {
        for structure in block.body.iter() {
            let Structure::Attribute(attribute) = structure else {
                self.error(
                    span(structure),
                    "Unsupported block type",
                    "list providers as `name = { source = \"...\", version = \"...\" }`".to_owned(),
                );
                continue;
            };
            let name = attribute.key.value().as_str();
            let requirement = provider_requirement(&attribute.value);
            self.config
                .terraform
                .required_providers
                .insert(name.to_owned(), requirement);
            if name != "azureml" {
                // Another provider's requirement: its resources are left to Terraform.
                continue;
            }
            let Expression::Object(object) = &attribute.value else {
                self.error(
                    span(&attribute.value),
                    "Invalid provider requirement",
                    "write `azureml = { source = \"...\", version = \"...\" }`".to_owned(),
                );
                continue;
            };
            for (key, value) in object.iter() {
                let key_name = match key {
                    hcl::edit::expr::ObjectKey::Ident(ident) => ident.value().as_str().to_owned(),
                    hcl::edit::expr::ObjectKey::Expression(expr) => {
                        literal_string(expr).unwrap_or_default()
                    }
                };
                let text = literal_string(value.expr());
                match (key_name.as_str(), text) {
                    ("source", Some(text)) => self.config.terraform.azureml_source = Some(text),
                    ("version", Some(text)) => {
                        self.provider_version(value.expr(), &text);
                        self.config.terraform.azureml_version = Some(text);
                    }
                    ("source" | "version", None) => self.error(
                        span(value.expr()),
                        "Invalid provider requirement",
                        format!("`{key_name}` must be a literal string"),
                    ),
                    ("configuration_aliases", _) => self.configuration_aliases(value.expr()),
                    (other, _) => self.error(
                        span(key),
                        "Unsupported argument",
                        format!(
                            "a provider requirement has no argument `{other}`{}",
                            did_you_mean(other, ["source", "version"])
                        ),
                    ),
                }
            }
        }
    }

    fn provider(&mut self, block: &Block) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let version = block
            .body
            .get_attribute("version")
            .and_then(|attribute| literal_string(&attribute.value));
        self.config
            .terraform
            .provider_blocks
            .push((labels[0].to_owned(), version));
        if labels[0] != "azureml" {
            // Another provider's settings: its resources are left to Terraform, so they are
            // not evaluated here.
            return;
        }
        let alias = match block.body.get_attribute("alias") {
            None => None,
            Some(attribute) => match literal_string(&attribute.value) {
                Some(alias) if valid_name(&alias) => Some(alias),
                _ => {
                    self.error(
                        span(&attribute.value),
                        "Invalid provider configuration alias",
                        "`alias` must be a literal name, as `alias = \"prod\"`".to_owned(),
                    );
                    return;
                }
            },
        };
        let existing = match &alias {
            None => self.config.provider.as_ref(),
            Some(alias) => self.config.aliased_providers.get(alias),
        };
        if let Some(existing) = existing {
            let first = self.location(existing.file, existing.header.start);
            let name = match &alias {
                None => "`provider \"azureml\"`".to_owned(),
                Some(alias) => format!("`provider \"azureml\"` with alias `{alias}`"),
            };
            self.error(
                header(block),
                "Duplicate provider configuration",
                format!("{name} is already configured at {first}"),
            );
            return;
        }
        let mut attributes = Vec::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str();
                    if name == "alias" {
                    } else if argument_names().any(|argument| argument == name) {
                        if engine::settings::SETTINGS
                            .iter()
                            .any(|setting| setting.name == name && setting.sensitive)
                        {
                            self.config.sources.mask(self.file, span(&attribute.value));
                        }
                        attributes.push(attr_expr(attribute, self.file));
                    } else {
                        let suggestion = did_you_mean(name, argument_names());
                        self.error(
                            span(&attribute.key),
                            "Unsupported argument",
                            format!("the `azureml` provider has no argument `{name}`{suggestion}"),
                        );
                    }
                }
                Structure::Block(nested) => {
                    self.error(
                        span(&nested.ident),
                        "Unsupported block type",
                        format!(
                            "the `azureml` provider has no block `{}`",
                            nested.ident.value()
                        ),
                    );
                }
            }
        }
        let block = ProviderBlock {
            file: self.file,
            header: header(block),
            attributes,
        };
        match alias {
            None => self.config.provider = Some(block),
            Some(alias) => {
                self.config.aliased_providers.insert(alias, block);
            }
        }
    }

    /// A module call's `providers = { azureml = azureml.prod, azureml.b = azureml }`: which
    /// configuration each of the module's `azureml` configurations is. Other providers' entries
    /// are Terraform's.
    fn passed_providers(&mut self, expr: &Expression) -> Vec<super::modules::ProviderPass> {
        let Expression::Object(object) = expr else {
            self.error(
                span(expr),
                "Invalid providers argument",
                "`providers` maps the module's provider names to this configuration's, as `{ azureml = azureml.prod }`".to_owned(),
            );
            return Vec::new();
        };
        let mut passes = Vec::new();
        for (key, value) in object.iter() {
            let child = match key {
                hcl::edit::expr::ObjectKey::Ident(ident) => {
                    let name = ident.value().as_str();
                    (name == "azureml").then_some(None)
                }
                hcl::edit::expr::ObjectKey::Expression(expr) => provider_reference(expr),
            };
            let key_is_azureml = child.is_some();
            let Some(child) = child else {
                continue;
            };
            match provider_reference(value.expr()) {
                Some(parent) if key_is_azureml => passes.push(super::modules::ProviderPass {
                    child,
                    parent,
                    span: span(value.expr()),
                }),
                _ => self.error(
                    span(value.expr()),
                    "Invalid providers argument",
                    "an `azureml` configuration is passed as `azureml` or `azureml.ALIAS` of the calling module".to_owned(),
                ),
            }
        }
        passes
    }

    /// `configuration_aliases = [azureml.a, azureml.b]` of a module's `azureml` requirement:
    /// the aliased configurations its caller must pass.
    fn configuration_aliases(&mut self, expr: &Expression) {
        let Expression::Array(items) = expr else {
            self.error(
                span(expr),
                "Invalid configuration_aliases",
                "`configuration_aliases` is a list of provider references, as `[azureml.prod]`"
                    .to_owned(),
            );
            return;
        };
        for item in items.iter() {
            match provider_reference(item) {
                Some(Some(alias)) => {
                    self.config
                        .terraform
                        .azureml_configuration_aliases
                        .insert(alias);
                }
                _ => self.error(
                    span(item),
                    "Invalid configuration_aliases",
                    "each entry names an aliased `azureml` configuration, as `azureml.prod`"
                        .to_owned(),
                ),
            }
        }
    }

    fn variable(&mut self, block: &Block) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].to_owned();
        if !valid_name(&name) {
            self.error(span(&block.labels[0]), "Invalid variable name", "a name must start with a letter or underscore and contain only letters, digits, underscores and dashes".to_owned());
            return;
        }
        if let Some(existing) = self.config.variables.get(&name) {
            let first = self.location(existing.file, existing.header.start);
            self.error(
                header(block),
                "Duplicate variable declaration",
                format!("`var.{name}` is already declared at {first}"),
            );
            return;
        }
        let mut variable = VariableBlock {
            name: name.clone(),
            file: self.file,
            header: header(block),
            ty: VarType::Any,
            default: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "type" => match variables::parse_type(&attribute.value) {
                        Ok(ty) => variable.ty = ty,
                        Err((message, range)) => self.error(
                            range.unwrap_or_else(|| span(&attribute.value)),
                            "Invalid type specification",
                            message,
                        ),
                    },
                    "default" => variable.default = Some(attr_expr(attribute, self.file)),
                    "description" => {}
                    "sensitive" | "nullable" | "ephemeral" => {
                        match literal_bool(&attribute.value) {
                            Some(flag) if attribute.key.value().as_str() == "sensitive" => {
                                variable.sensitive = flag
                            }
                            Some(flag) if attribute.key.value().as_str() == "nullable" => {
                                variable.nullable = flag
                            }
                            Some(_) => {}
                            None => self.error(
                                span(&attribute.value),
                                "Invalid value",
                                format!("`{}` must be `true` or `false`", attribute.key.value()),
                            ),
                        }
                    }
                    other => self.error(
                        span(&attribute.key),
                        "Unsupported argument",
                        format!(
                            "a variable has no argument `{other}`{}",
                            did_you_mean(
                                other,
                                ["type", "default", "description", "sensitive", "nullable"]
                            )
                        ),
                    ),
                },
                Structure::Block(nested) if nested.ident.value().as_str() == "validation" => {
                    let condition = nested.body.get_attribute("condition");
                    let message = nested.body.get_attribute("error_message");
                    match (condition, message) {
                        (Some(condition), Some(message)) => variable.validations.push(Validation {
                            condition: attr_expr(condition, self.file),
                            error_message: attr_expr(message, self.file),
                        }),
                        _ => self.error(
                            header(nested),
                            "Missing required argument",
                            "a `validation` block needs `condition` and `error_message`".to_owned(),
                        ),
                    }
                }
                Structure::Block(nested) => {
                    self.error(
                        span(&nested.ident),
                        "Unsupported block type",
                        format!(
                            "a variable has no block `{}`{}",
                            nested.ident.value(),
                            did_you_mean(nested.ident.value().as_str(), ["validation"])
                        ),
                    );
                }
            }
        }
        if variable.sensitive
            && let Some(default) = &variable.default
        {
            self.config
                .sources
                .mask(default.file, default.value_span.clone());
        }
        self.config.variables.insert(name, variable);
    }

    fn locals(&mut self, block: &Block) {
        if !block.labels.is_empty() {
            self.labels(block, &[]);
        }
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.value().as_str().to_owned();
                    if let Some(existing) = self.config.locals.get(&name) {
                        let first =
                            self.location(existing.value.file, existing.value.key_span.start);
                        self.error(
                            span(&attribute.key),
                            "Duplicate local value definition",
                            format!("`local.{name}` is already defined at {first}"),
                        );
                        continue;
                    }
                    self.config.locals.insert(
                        name,
                        LocalBlock {
                            value: attr_expr(attribute, self.file),
                        },
                    );
                }
                Structure::Block(nested) => {
                    self.error(
                        span(&nested.ident),
                        "Unsupported block type",
                        "`locals` holds only `name = value` arguments".to_owned(),
                    );
                }
            }
        }
    }

    fn output(&mut self, block: &Block) {
        let Some(labels) = self.labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].to_owned();
        if let Some(existing) = self.config.outputs.get(&name) {
            let first = self.location(existing.file, existing.header.start);
            self.error(
                header(block),
                "Duplicate output definition",
                format!("output `{name}` is already defined at {first}"),
            );
            return;
        }
        let mut output = OutputBlock {
            file: self.file,
            header: header(block),
            value: None,
            sensitive: false,
            description: None,
            preconditions: Vec::new(),
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "value" => output.value = Some(attr_expr(attribute, self.file)),
                    "description" => output.description = literal_string(&attribute.value),
                    "sensitive" => match literal_bool(&attribute.value) {
                        Some(flag) => output.sensitive = flag,
                        None => self.error(
                            span(&attribute.value),
                            "Invalid value",
                            "`sensitive` must be `true` or `false`".to_owned(),
                        ),
                    },
                    "depends_on" | "ephemeral" => {}
                    other => self.error(
                        span(&attribute.key),
                        "Unsupported argument",
                        format!(
                            "an output has no argument `{other}`{}",
                            did_you_mean(
                                other,
                                ["value", "description", "sensitive", "depends_on"]
                            )
                        ),
                    ),
                },
                Structure::Block(nested) if nested.ident.value().as_str() == "precondition" => {
                    output
                        .preconditions
                        .extend(self.condition(nested, ConditionKind::Precondition));
                }
                Structure::Block(nested) => {
                    self.error(
                        span(&nested.ident),
                        "Unsupported block type",
                        format!(
                            "an output has no `{}` block{}",
                            nested.ident.value(),
                            did_you_mean(nested.ident.value().as_str(), ["precondition"])
                        ),
                    );
                }
            }
        }
        if output.value.is_none() {
            self.error(
                header(block),
                "Missing required argument",
                format!("output `{name}` needs a `value` argument"),
            );
        }
        self.config.outputs.insert(name, output);
    }

    fn resource(&mut self, block: &Block, mode: Mode) {
        let kind = block.ident.value().as_str();
        let Some(labels) = self.labels(block, &["type", "name"]) else {
            return;
        };
        let (resource_type, name) = (labels[0], labels[1]);
        let type_span = span(&block.labels[0]);
        if !valid_name(name) {
            self.error(span(&block.labels[1]), "Invalid resource name", "a name must start with a letter or underscore and contain only letters, digits, underscores and dashes".to_owned());
            return;
        }
        if !resource_type.starts_with("azureml_") {
            self.foreign(block, mode, resource_type, name);
            return;
        }
        let schema = match mode {
            Mode::Managed => match self.catalogue.resources.get(resource_type) {
                Some(schema) => Some(Arc::clone(schema)),
                None => {
                    if let Some(why) = unsupported_compute(resource_type) {
                        self.error(type_span, "Unsupported resource type", why);
                        return;
                    }
                    let suggestion = did_you_mean(
                        resource_type,
                        self.catalogue.resources.keys().map(String::as_str),
                    );
                    self.error(type_span, "Unknown resource type", format!("the `azureml` provider has no resource type `{resource_type}`{suggestion}"));
                    return;
                }
            },
            Mode::Data => match self.catalogue.data.get(resource_type) {
                Some(schema) => Some(Arc::clone(schema)),
                None if DATA_SOURCES.contains(&resource_type) => None,
                None => {
                    let suggestion = did_you_mean(resource_type, DATA_SOURCES.iter().copied());
                    self.error(type_span, "Unknown data source type", format!("the `azureml` provider has no data source `{resource_type}`{suggestion}"));
                    return;
                }
            },
        };
        let addr = ResourceAddr {
            module: ModulePath::default(),
            mode,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            key: None,
        };
        if let Some(existing) = self.config.resource_block(&addr) {
            let first = self.location(existing.spans.file, existing.spans.header.start);
            self.error(
                header(block),
                &format!("Duplicate {kind} block"),
                format!("`{addr}` is already declared at {first}"),
            );
            return;
        }

        let mut count = None;
        let mut for_each: Option<AttrExpr> = None;
        let mut depends_on = Vec::new();
        let mut lifecycle = LifecycleOptions::default();
        let mut lifecycle_block: Option<&Block> = None;
        let mut conditions = Vec::new();
        let mut replace_triggers = Vec::new();
        let mut provider_alias = None;
        let mut arguments = Vec::new();
        let mut nested_blocks = Vec::new();
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "count" | "for_each" => {
                        let other = if attribute.key.value().as_str() == "count" {
                            &for_each
                        } else {
                            &count
                        };
                        if other.is_some() {
                            self.error(
                                span(&attribute.key),
                                "Invalid combination of \"count\" and \"for_each\"",
                                "set either `count` or `for_each`, not both".to_owned(),
                            );
                        } else if attribute.key.value().as_str() == "count" {
                            count = Some(attr_expr(attribute, self.file));
                        } else {
                            for_each = Some(attr_expr(attribute, self.file));
                        }
                    }
                    "depends_on" => depends_on = self.depends_on(&attribute.value),
                    "provider" => match provider_reference(&attribute.value) {
                        Some(alias) => {
                            provider_alias = alias.map(|alias| (alias, span(&attribute.value)));
                        }
                        None => self.error(
                            span(&attribute.value),
                            "Invalid provider reference",
                            "an `azureml` block's `provider` is `azureml` or `azureml.ALIAS`"
                                .to_owned(),
                        ),
                    },
                    _ => arguments.push(attribute),
                },
                Structure::Block(nested) => match nested.ident.value().as_str() {
                    "lifecycle" if mode == Mode::Managed => {
                        if lifecycle_block.is_some() {
                            self.error(
                                header(nested),
                                "Duplicate lifecycle block",
                                "a resource has at most one `lifecycle` block".to_owned(),
                            );
                        } else {
                            lifecycle_block = Some(nested);
                            lifecycle = self.lifecycle(
                                nested,
                                schema.as_deref(),
                                &mut conditions,
                                &mut replace_triggers,
                            );
                        }
                    }
                    "provisioner" | "connection" => {
                        self.error(header(nested), "Unsupported block type", format!("`{}` blocks are not supported by amlplan: it does not run provisioners", nested.ident.value()));
                    }
                    "dynamic" => nested_blocks.push(nested),
                    _ => nested_blocks.push(nested),
                },
            }
        }

        let mut spans = BlockSpans {
            file: self.file,
            header: header(block),
            attributes: BTreeMap::new(),
        };
        let body = match &schema {
            Some(schema) => {
                let what = format!("`{resource_type}`");
                let data = mode == Mode::Data;
                self.arguments(
                    &arguments,
                    &nested_blocks,
                    &schema.attributes,
                    &what,
                    data,
                    &AttrPath::default(),
                    header(block),
                    &mut spans,
                )
            }
            None => self.generic_arguments(&arguments, &nested_blocks, &mut spans),
        };
        // Plan-time lifecycle errors (`prevent_destroy`, `create_before_destroy`) point here.
        if let Some(nested) = lifecycle_block {
            let lifecycle_path = AttrPath::attr("lifecycle");
            spans
                .attributes
                .insert(lifecycle_path.clone(), header(nested));
            for attribute in nested.body.attributes() {
                spans.attributes.insert(
                    lifecycle_path.join(PathStep::Attr(attribute.key.value().to_string())),
                    span(&attribute.value),
                );
            }
        }
        if let Some(for_each) = &for_each
            && let Expression::Array(_) = &for_each.expr
        {
            self.error(
                    for_each.value_span.clone(),
                    "Invalid for_each argument",
                    "`for_each` needs a map or a set of strings, and this is a tuple\nhelp: convert it with `toset([...])`".to_owned(),
                );
        }
        self.config
            .block_lookup
            .insert(addr.clone(), self.config.blocks.len());
        self.config.blocks.push(ResourceBlock {
            addr,
            schema,
            body,
            count,
            for_each,
            depends_on,
            lifecycle,
            spans: Arc::new(spans),
            managed_dependencies: Vec::new(),
            module_dependencies: Vec::new(),
            conditions,
            replace_triggers,
            foreign: None,
            provider_alias,
            check_scope: None,
        });
    }

    /// A resource or data block of another provider (`azurerm_*`, `terraform_data`): amlplan
    /// does not plan it, so only what decides its instances is kept (`count`, `for_each`,
    /// `depends_on`); references to it read the state (see `instances`).
    fn foreign(&mut self, block: &Block, mode: Mode, resource_type: &str, name: &str) {
        let kind = block.ident.value().as_str();
        let addr = ResourceAddr {
            module: ModulePath::default(),
            mode,
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            key: None,
        };
        if let Some(existing) = self.config.resource_block(&addr) {
            let first = self.location(existing.spans.file, existing.spans.header.start);
            self.error(
                header(block),
                &format!("Duplicate {kind} block"),
                format!("`{addr}` is already declared at {first}"),
            );
            return;
        }
        // Terraform's rule: the type's prefix names the provider, unless `provider` says.
        let mut provider = resource_type
            .split('_')
            .next()
            .unwrap_or(resource_type)
            .to_owned();
        let (mut count, mut for_each, mut depends_on) = (None, None, Vec::new());
        for attribute in block.body.attributes() {
            match attribute.key.value().as_str() {
                "count" => count = Some(attr_expr(attribute, self.file)),
                "for_each" => for_each = Some(attr_expr(attribute, self.file)),
                "depends_on" => depends_on = self.depends_on(&attribute.value),
                "provider" => {
                    if let Some(text) = traversal_text(&attribute.value) {
                        provider = text.split('.').next().unwrap_or(&text).to_owned();
                    }
                }
                _ => {}
            }
        }
        if count.is_some() && for_each.is_some() {
            self.error(
                header(block),
                "Invalid combination of \"count\" and \"for_each\"",
                "set either `count` or `for_each`, not both".to_owned(),
            );
            return;
        }
        let spans = BlockSpans {
            file: self.file,
            header: header(block),
            attributes: BTreeMap::new(),
        };
        self.config
            .block_lookup
            .insert(addr.clone(), self.config.blocks.len());
        self.config.blocks.push(ResourceBlock {
            addr,
            schema: None,
            body: BodyExprs::default(),
            count,
            for_each,
            depends_on,
            lifecycle: LifecycleOptions::default(),
            spans: Arc::new(spans),
            managed_dependencies: Vec::new(),
            module_dependencies: Vec::new(),
            conditions: Vec::new(),
            replace_triggers: Vec::new(),
            foreign: Some(provider),
            provider_alias: None,
            check_scope: None,
        });
    }

    /// `depends_on = [azureml_x.y, data.azureml_z.w]`: whole objects only.
    fn depends_on(&mut self, expr: &Expression) -> Vec<ResourceAddr> {
        let Expression::Array(items) = expr else {
            self.error(
                span(expr),
                "Invalid depends_on",
                "`depends_on` is a list of resource references, as in `[azureml_workspace.main]`"
                    .to_owned(),
            );
            return Vec::new();
        };
        let mut addrs = Vec::new();
        for item in items.iter() {
            let parsed = match item {
                Expression::Traversal(traversal) => match &traversal.expr {
                    Expression::Variable(root) => {
                        let steps: Option<Vec<&str>> = traversal
                            .operators
                            .iter()
                            .map(|operator| match operator.value() {
                                TraversalOperator::GetAttr(name) => Some(name.value().as_str()),
                                _ => None,
                            })
                            .collect();
                        match (root.value().as_str(), steps.as_deref()) {
                            ("data", Some([resource_type, name])) => Some(ResourceAddr {
                                module: ModulePath::default(),
                                mode: Mode::Data,
                                resource_type: (*resource_type).to_owned(),
                                name: (*name).to_owned(),
                                key: None,
                            }),
                            (resource_type, Some([name])) if resource_type.contains('_') => {
                                Some(ResourceAddr::managed(resource_type, name))
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                },
                _ => None,
            };
            match parsed {
                Some(addr) => {
                    // Checked once every file is decoded: the block may be declared later.
                    self.config.pending_depends_on_checks.push((addr.clone(), self.file, span(item)));
                    addrs.push(addr);
                }
                None => self.error(
                    span(item),
                    "Invalid depends_on reference",
                    "each `depends_on` entry names a whole resource or data source, as in `azureml_workspace.main` (no attribute, no index)".to_owned(),
                ),
            }
        }
        addrs
    }

    /// `replace_triggered_by = [azureml_x.y, azureml_x.y[0].attr, ...]`: managed resources of
    /// this module, optionally one attribute.
    fn replace_triggers(
        &mut self,
        expr: &Expression,
        triggers: &mut Vec<(ResourceAddr, Option<String>)>,
    ) {
        let Expression::Array(items) = expr else {
            self.error(span(expr), "Invalid replace_triggered_by expression", "`replace_triggered_by` is a list of resource references, as `[azureml_environment.train]`".to_owned());
            return;
        };
        for item in items.iter() {
            let range = span(item);
            let text = self.source_text(&range);
            let parsed = ResourceAddr::parse(&text)
                .ok()
                .map(|addr| (addr, None))
                .or_else(|| {
                    let (base, attr) = text.rsplit_once('.')?;
                    Some((ResourceAddr::parse(base).ok()?, Some(attr.to_owned())))
                });
            match parsed {
                Some((addr, attr)) if addr.mode == Mode::Managed => triggers.push((addr, attr)),
                _ => self.error(
                    range,
                    "Invalid replace_triggered_by expression",
                    format!(
                        "`{text}` is not a reference to a managed resource or one of its attributes"
                    ),
                ),
            }
        }
    }

    fn lifecycle(
        &mut self,
        block: &Block,
        schema: Option<&ResourceSchema>,
        conditions: &mut Vec<Condition>,
        triggers: &mut Vec<(ResourceAddr, Option<String>)>,
    ) -> LifecycleOptions {
        let mut options = LifecycleOptions::default();
        for structure in block.body.iter() {
            if let Structure::Block(nested) = structure {
                let kind = match nested.ident.value().as_str() {
                    "precondition" => Some(ConditionKind::Precondition),
                    "postcondition" => Some(ConditionKind::Postcondition),
                    _ => None,
                };
                if let Some(kind) = kind {
                    conditions.extend(self.condition(nested, kind));
                    continue;
                }
            }
            let Structure::Attribute(attribute) = structure else {
                let name = structure
                    .as_block()
                    .map_or(String::new(), |nested| nested.ident.value().to_string());
                self.error(
                    span(structure),
                    "Unsupported block type",
                    format!("`{name}` blocks in `lifecycle` are not supported by amlplan"),
                );
                continue;
            };
            let name = attribute.key.value().as_str();
            match name {
                "prevent_destroy" | "create_before_destroy" => match literal_bool(&attribute.value) {
                    Some(flag) if name == "prevent_destroy" => options.prevent_destroy = flag,
                    Some(flag) => options.create_before_destroy = flag,
                    None => self.error(span(&attribute.value), "Invalid lifecycle value", format!("`{name}` must be the literal `true` or `false` (references are not allowed here)")),
                },
                "ignore_changes" => options.ignore_changes = self.ignore_changes(&attribute.value, schema),
                "replace_triggered_by" => self.replace_triggers(&attribute.value, triggers),
                other => self.error(
                    span(&attribute.key),
                    "Unsupported argument",
                    format!("`lifecycle` has no argument `{other}`{}", did_you_mean(other, ["prevent_destroy", "create_before_destroy", "ignore_changes"])),
                ),
            }
        }
        options
    }

    fn ignore_changes(
        &mut self,
        expr: &Expression,
        schema: Option<&ResourceSchema>,
    ) -> IgnoreChanges {
        if let Expression::Variable(name) = expr
            && name.value().as_str() == "all"
        {
            return IgnoreChanges::All;
        }
        let Expression::Array(items) = expr else {
            self.error(
                span(expr),
                "Invalid ignore_changes",
                "`ignore_changes` is `all` or a list of attribute names, as in `[tags]`".to_owned(),
            );
            return IgnoreChanges::Nothing;
        };
        let mut paths = Vec::new();
        for item in items.iter() {
            let path = match item {
                Expression::Variable(name) => Some(AttrPath::attr(name.value().as_str())),
                Expression::String(text) => Some(AttrPath::attr(text.value())),
                Expression::Traversal(traversal) => match &traversal.expr {
                    Expression::Variable(root) => {
                        let mut path = AttrPath::attr(root.value().as_str());
                        let mut valid = true;
                        for operator in &traversal.operators {
                            match operator.value() {
                                TraversalOperator::GetAttr(name) => {
                                    path =
                                        path.join(PathStep::Attr(name.value().as_str().to_owned()))
                                }
                                TraversalOperator::LegacyIndex(index) => {
                                    path = path.join(PathStep::Index(*index.value()))
                                }
                                TraversalOperator::Index(Expression::Number(number)) => {
                                    match number.value().as_u64() {
                                        Some(index) => path = path.join(PathStep::Index(index)),
                                        None => valid = false,
                                    }
                                }
                                TraversalOperator::Index(key) => match literal_string(key) {
                                    Some(key) => path = path.join(PathStep::Key(key)),
                                    None => valid = false,
                                },
                                _ => valid = false,
                            }
                        }
                        valid.then_some(path)
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some(path) = path else {
                self.error(
                    span(item),
                    "Invalid ignore_changes entry",
                    "name an attribute of this resource, as in `tags` or `tags[\"owner\"]`"
                        .to_owned(),
                );
                continue;
            };
            if let (Some(schema), Some(root)) = (schema, path.root())
                && schema.attribute(root).is_none()
            {
                let suggestion = did_you_mean(root, schema.attributes.keys().map(String::as_str));
                self.error(
                    span(item),
                    "Unsupported attribute",
                    format!(
                        "`{}` has no attribute `{root}`{suggestion}",
                        schema.type_name
                    ),
                );
                continue;
            }
            paths.push(path);
        }
        IgnoreChanges::Paths(paths)
    }

    /// Checks arguments and nested blocks against schema attributes; records spans.
    #[allow(clippy::too_many_arguments)]
    fn arguments(
        &mut self,
        arguments: &[&hcl::edit::structure::Attribute],
        blocks: &[&Block],
        schema: &BTreeMap<String, Attribute>,
        what: &str,
        data: bool,
        path: &AttrPath,
        block_header: Range<usize>,
        spans: &mut BlockSpans,
    ) -> BodyExprs {
        let mut body = BodyExprs::default();
        let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
        let configurable = || {
            schema
                .iter()
                .filter(|(_, attribute)| attribute.presence.is_configurable())
                .map(|(name, _)| name.as_str())
        };
        for attribute in arguments {
            let name = attribute.key.value().as_str();
            let key_span = span(&attribute.key);
            let Some(definition) = schema.get(name) else {
                let suggestion = did_you_mean(name, configurable());
                self.error(
                    key_span,
                    "Unsupported argument",
                    format!("{what} has no argument `{name}`{suggestion}"),
                );
                continue;
            };
            if definition.presence == Presence::Computed {
                let why = if data {
                    "is read from the service"
                } else {
                    "is set by the service"
                };
                self.error(key_span, "Unconfigurable attribute", format!("`{name}` {why} and cannot be configured\nhelp: remove this argument; read it elsewhere as a reference"));
                continue;
            }
            if definition.sensitive || definition.write_only {
                // A secret written in the file is never quoted back.
                self.config.sources.mask(self.file, span(&attribute.value));
            }
            if let Some(first) = seen.get(name) {
                let first = self.location(self.file, first.start);
                self.error(
                    key_span,
                    "Duplicate argument",
                    format!("`{name}` is already set at {first}"),
                );
                continue;
            }
            seen.insert(name.to_owned(), key_span);
            spans.attributes.insert(
                path.join(PathStep::Attr(name.to_owned())),
                span(&attribute.value),
            );
            body.attributes.push(attr_expr(attribute, self.file));
        }
        let mut block_counts: BTreeMap<String, u64> = BTreeMap::new();
        for outer in blocks {
            // `dynamic "NAME" { for_each, iterator, content { ... } }` decodes as a `NAME`
            // block whose body is the content.
            let (nested, dynamic) = match self.dynamic(outer) {
                Some(Some((content, dynamic))) => (content, Some(dynamic)),
                Some(None) => continue,
                None => (*outer, None),
            };
            let name = match &dynamic {
                Some(_) => outer.labels[0].as_str(),
                None => nested.ident.value().as_str(),
            };
            let Some(definition) = schema.get(name) else {
                let suggestion = did_you_mean(name, configurable());
                self.error(
                    span(&nested.ident),
                    "Unsupported block type",
                    format!("{what} has no block `{name}`{suggestion}"),
                );
                continue;
            };
            let (nested_schema, repeated) = match &definition.ty {
                AttrType::Object(attributes) => (attributes, false),
                AttrType::List(element) => {
                    match element.as_ref() {
                        AttrType::Object(attributes) => (attributes, true),
                        _ => {
                            self.error(span(&nested.ident), "Unsupported block type", format!("`{name}` is an argument, not a block\nhelp: write `{name} = ...`"));
                            continue;
                        }
                    }
                }
                _ => {
                    self.error(
                        span(&nested.ident),
                        "Unsupported block type",
                        format!("`{name}` is an argument, not a block\nhelp: write `{name} = ...`"),
                    );
                    continue;
                }
            };
            if definition.presence == Presence::Computed {
                self.error(
                    span(&nested.ident),
                    "Unconfigurable attribute",
                    format!("`{name}` is set by the service and cannot be configured"),
                );
                continue;
            }
            if !nested.labels.is_empty() {
                self.error(
                    span(&nested.labels[0]),
                    "Extraneous label",
                    format!("a `{name}` block has no labels"),
                );
                continue;
            }
            if let Some(first) = seen.get(name) {
                let first = self.location(self.file, first.start);
                self.error(
                    header(nested),
                    "Duplicate argument",
                    format!("`{name}` is already set at {first}"),
                );
                continue;
            }
            let occurrence = block_counts.entry(name.to_owned()).or_insert(0);
            if !repeated && *occurrence > 0 {
                self.error(
                    header(nested),
                    "Too many blocks",
                    format!("at most one `{name}` block is allowed"),
                );
                continue;
            }
            let nested_path = if repeated {
                path.join(PathStep::Attr(name.to_owned()))
                    .join(PathStep::Index(*occurrence))
            } else {
                path.join(PathStep::Attr(name.to_owned()))
            };
            *occurrence += 1;
            spans.attributes.insert(nested_path.clone(), header(nested));
            if repeated && *occurrence == 1 {
                spans
                    .attributes
                    .insert(path.join(PathStep::Attr(name.to_owned())), header(nested));
            }
            let mut nested_arguments = Vec::new();
            let mut nested_blocks = Vec::new();
            for structure in nested.body.iter() {
                match structure {
                    Structure::Attribute(attribute) => nested_arguments.push(attribute),
                    Structure::Block(inner) => nested_blocks.push(inner),
                }
            }
            let nested_what = format!("block `{name}`");
            let nested_body = self.arguments(
                &nested_arguments,
                &nested_blocks,
                nested_schema,
                &nested_what,
                data,
                &nested_path,
                header(nested),
                spans,
            );
            body.blocks.push(NestedBlock {
                name: name.to_owned(),
                body: nested_body,
                dynamic,
            });
        }
        let present: BTreeSet<&str> = body
            .attributes
            .iter()
            .map(|attribute| attribute.name.as_str())
            .chain(body.blocks.iter().map(|nested| nested.name.as_str()))
            .collect();
        for (name, definition) in schema {
            if definition.presence == Presence::Required
                && !present.contains(name.as_str())
                && !seen.contains_key(name)
            {
                self.error(
                    block_header.clone(),
                    "Missing required argument",
                    format!(
                        "{what} requires the argument `{name}`, and this block does not set it"
                    ),
                );
            }
        }
        body
    }

    /// A data source the catalogue does not describe yet: any argument is accepted.
    /// `None` when `block` is not a `dynamic` block; `Some(None)` when it is one with an error
    /// (reported); else its `content` block and what repeats it.
    fn dynamic<'b>(&mut self, block: &'b Block) -> Option<Option<(&'b Block, DynamicBlock)>> {
        if block.ident.value().as_str() != "dynamic" {
            return None;
        }
        let labels = self.labels(block, &["type"])?;
        let mut iterator = labels[0].to_owned();
        let mut for_each = None;
        let mut content = None;
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.value().as_str() {
                    "for_each" => for_each = Some(attr_expr(attribute, self.file)),
                    "iterator" => match &attribute.value {
                        Expression::Variable(name) => iterator = name.value().to_string(),
                        other => {
                            self.error(
                                span(other),
                                "Invalid dynamic iterator name",
                                "`iterator` must be a name, as `iterator = item`".to_owned(),
                            );
                            return Some(None);
                        }
                    },
                    "labels" => {
                        self.error(
                            span(&attribute.key),
                            "Unsupported argument",
                            "the blocks of amlplan's resources have no labels".to_owned(),
                        );
                        return Some(None);
                    }
                    other => {
                        self.error(
                            span(&attribute.key),
                            "Unsupported argument",
                            format!(
                                "a `dynamic` block has no argument `{other}`{}",
                                did_you_mean(other, ["for_each", "iterator"])
                            ),
                        );
                        return Some(None);
                    }
                },
                Structure::Block(inner) if inner.ident.value().as_str() == "content" => {
                    content = Some(inner);
                }
                Structure::Block(inner) => {
                    self.error(
                        header(inner),
                        "Unsupported block type",
                        format!(
                            "a `dynamic` block has a `content` block only, not `{}`",
                            inner.ident.value()
                        ),
                    );
                    return Some(None);
                }
            }
        }
        let (Some(for_each), Some(content)) = (for_each, content) else {
            self.error(
                header(block),
                "Missing required argument",
                "a `dynamic` block needs `for_each` and a `content` block".to_owned(),
            );
            return Some(None);
        };
        Some(Some((content, DynamicBlock { for_each, iterator })))
    }

    fn generic_arguments(
        &mut self,
        arguments: &[&hcl::edit::structure::Attribute],
        blocks: &[&Block],
        spans: &mut BlockSpans,
    ) -> BodyExprs {
        let mut body = BodyExprs::default();
        for attribute in arguments {
            spans.attributes.insert(
                AttrPath::attr(attribute.key.value().as_str()),
                span(&attribute.value),
            );
            body.attributes.push(attr_expr(attribute, self.file));
        }
        for nested in blocks {
            let mut nested_arguments = Vec::new();
            let mut nested_blocks = Vec::new();
            for structure in nested.body.iter() {
                match structure {
                    Structure::Attribute(attribute) => nested_arguments.push(attribute),
                    Structure::Block(inner) => nested_blocks.push(inner),
                }
            }
            let nested_body = self.generic_arguments(&nested_arguments, &nested_blocks, spans);
            body.blocks.push(NestedBlock {
                name: nested.ident.value().as_str().to_owned(),
                body: nested_body,
                dynamic: None,
            });
        }
        body
    }
}

/// Reports `import` blocks whose target is not declared (checked once every file is decoded).
pub(crate) fn check_imports(config: &Configuration, diagnostics: &mut Diagnostics) {
    for import in &config.imports {
        if config.resource_block(&import.to.without_key()).is_none() {
            diagnostics.push(Diagnostic {
                subject: Some(config.span(import.file, import.to_span.clone())),
                ..Diagnostic::error(
                    "Configuration for import target does not exist",
                    format!(
                        "`{}` is not declared: add its `resource` block, then import into it",
                        import.to
                    ),
                )
            });
        }
    }
}

/// Reports `depends_on` entries naming blocks that are not declared (checked after every file
/// is decoded, since a block may be declared in a later file).
pub(crate) fn check_depends_on(config: &mut Configuration, diagnostics: &mut Diagnostics) {
    let pending = std::mem::take(&mut config.pending_depends_on_checks);
    for (addr, file, range) in pending {
        if config.resource_block(&addr).is_some() {
            continue;
        }
        let declared: Vec<String> = config
            .blocks
            .iter()
            .map(|block| block.addr.to_string())
            .collect();
        let suggestion = closest(&addr.to_string(), declared.iter().map(String::as_str))
            .map(|close| format!("\nhelp: did you mean `{close}`?"))
            .unwrap_or_default();
        let subject = config.span(file, range);
        diagnostics.push(Diagnostic {
            subject: Some(subject),
            ..Diagnostic::error(
                "Reference to undeclared resource",
                format!("`{addr}` is not declared in this configuration{suggestion}"),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use pretty_assertions::assert_eq;

    use super::*;

    fn load(text: &str) -> (Configuration, Vec<String>) {
        let registry = engine::schema::load_registry().expect("the catalogue is valid");
        let (config, diagnostics) =
            Configuration::from_sources(Path::new("."), &[("main.tf", text)], &registry);
        let summaries = diagnostics
            .iter()
            .map(|diagnostic| diagnostic.summary.clone())
            .collect();
        (config, summaries)
    }

    const WORKSPACE: &str = "resource \"azureml_workspace\" \"main\" {\n  name = \"w\"\n  resource_group_name = \"rg\"\n  location = \"westeurope\"\n";

    #[test]
    fn settings_blocks_are_read() {
        let (config, summaries) = load(
            r#"
terraform {
  required_version = ">= 1.0"
  required_providers {
    azureml = { source = "example/azureml", version = "~> 0.1" }
  }
  backend "local" {
    path = "state/terraform.tfstate"
  }
}
"#,
        );
        assert_eq!(summaries, Vec::<String>::new());
        assert_eq!(
            config.terraform_settings().azureml_source.as_deref(),
            Some("example/azureml")
        );
        assert_eq!(
            config.terraform_settings().state_path.as_deref(),
            Some("state/terraform.tfstate")
        );
    }

    #[test]
    fn meta_argument_mistakes_are_reported() {
        let text = format!(
            "{WORKSPACE}  count = 1\n  for_each = {{}}\n  depends_on = [azureml_workspace.other.id, azureml_workspace.missing]\n  provider = azureml.west\n  lifecycle {{\n    prevent_destroy = var.protect\n    ignore_changes = [tagz]\n    replace_triggered_by = []\n  }}\n  provisioner \"local-exec\" {{}}\n}}\n"
        );
        let (_, summaries) = load(&text);
        assert_eq!(
            summaries,
            [
                "Invalid combination of \"count\" and \"for_each\"",
                "Invalid depends_on reference",
                "Invalid lifecycle value",
                "Unsupported attribute",
                "Unsupported block type",
                "Reference to undeclared resource",
                "Provider configuration not present",
            ]
        );
    }

    #[test]
    fn lifecycle_options_are_decoded() {
        let text = format!(
            "{WORKSPACE}  lifecycle {{\n    create_before_destroy = true\n    ignore_changes = all\n  }}\n}}\n"
        );
        let (config, summaries) = load(&text);
        assert_eq!(summaries, Vec::<String>::new());
        let lifecycle = config.resource_blocks()[0].lifecycle();
        assert!(lifecycle.create_before_destroy && !lifecycle.prevent_destroy);
        assert_eq!(lifecycle.ignore_changes, IgnoreChanges::All);
    }

    #[test]
    fn duplicates_name_the_first_declaration() {
        let text = format!(
            "{WORKSPACE}}}\n{WORKSPACE}}}\nvariable \"a\" {{}}\nvariable \"a\" {{}}\nprovider \"azureml\" {{\n  alias = \"x\"\n}}\nprovider \"azureml\" {{\n  alias = \"x\"\n}}\n"
        );
        let registry = engine::schema::load_registry().expect("the catalogue is valid");
        let (_, diagnostics) =
            Configuration::from_sources(Path::new("."), &[("main.tf", &text)], &registry);
        let details: Vec<String> = diagnostics
            .iter()
            .map(|diagnostic| diagnostic.detail.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            details,
            [
                "`azureml_workspace.main` is already declared at main.tf:1:1",
                "`var.a` is already declared at main.tf:11:1",
                "`provider \"azureml\"` with alias `x` is already configured at main.tf:13:1",
            ]
        );
    }

    #[test]
    fn data_sources_take_only_lookup_arguments() {
        let (config, summaries) = load(
            "data \"azureml_workspace\" \"w\" {\n  name = \"w\"\n  resource_group_name = \"rg\"\n  location = \"westeurope\"\n}\ndata \"azureml_compute\" \"c\" {\n  anything = 1\n}\n",
        );
        assert_eq!(summaries, ["Unconfigurable attribute"]);
        assert!(config.resource_blocks()[0].schema().is_some());
        assert!(
            config.resource_blocks()[1].schema().is_none(),
            "not in the catalogue yet: accepted generically"
        );
    }
}
