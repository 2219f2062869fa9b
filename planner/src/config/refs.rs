//! References between configuration objects: collected from expressions with
//! `hcl::edit::visit::Visit`, checked against what is declared (with suggestions), and turned
//! into the dependency graph whose topological order drives evaluation. Cycles are reported here.
//! No evaluation happens in this module.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use engine::addr::{Mode, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics};
use hcl::edit::Span;
use hcl::edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl::edit::template::ForTemplateExpr;
use hcl::edit::visit::{self, Visit};

use super::spelling::did_you_mean;
use super::{AttrExpr, BodyExprs, Configuration};
use crate::source::FileId;

/// A node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Node {
    Variable(String),
    Local(String),
    /// Index into `Configuration::blocks`.
    Block(usize),
    Output(String),
    Provider,
    /// A `module` call, by name.
    Module(String),
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Variable(String),
    Local(String),
    Block {
        mode: Mode,
        resource_type: String,
        name: String,
        /// `[key]`, `[0]` or a splat right after the name.
        keyed: bool,
        /// The first attribute read from the instance, with its span.
        attr: Option<(String, Range<usize>)>,
    },
    /// `module.NAME`, with the output read from it.
    Module {
        name: String,
        /// `[key]`, `[0]` or a splat right after the name.
        keyed: bool,
        output: Option<(String, Range<usize>)>,
    },
    CountIndex,
    Each,
    /// `path.*`, `terraform.workspace`: always available.
    Builtin,
    /// Anything else (`module.x`, `self`, an unknown name): evaluation reports it with context.
    Other,
}

/// One reference and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reference {
    pub target: Target,
    pub span: Range<usize>,
}

/// Every reference in an expression (names bound by `for` are not references).
pub(crate) fn collect(expr: &Expression) -> Vec<Reference> {
    let mut collector = Collector {
        bound: Vec::new(),
        found: Vec::new(),
    };
    collector.visit_expr(expr);
    collector.found
}

struct Collector {
    bound: Vec<String>,
    found: Vec<Reference>,
}

impl Collector {
    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|bound| bound == name)
    }
}

impl Visit for Collector {
    fn visit_expr(&mut self, node: &Expression) {
        match node {
            Expression::Variable(name) if !self.is_bound(name.value().as_str()) => {
                let span = name.span().unwrap_or_default();
                self.found.push(Reference {
                    target: classify(name.value().as_str(), &[], &span),
                    span,
                });
            }
            Expression::Traversal(traversal) => self.visit_traversal(traversal),
            _ => visit::visit_expr(self, node),
        }
    }

    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr
            && !self.is_bound(root.value().as_str())
        {
            let span = node.span().unwrap_or_default();
            let operators: Vec<(&TraversalOperator, Range<usize>)> = node
                .operators
                .iter()
                .map(|operator| (operator.value(), operator.span().unwrap_or_default()))
                .collect();
            self.found.push(Reference {
                target: classify(root.value().as_str(), &operators, &span),
                span,
            });
            for operator in &node.operators {
                if let TraversalOperator::Index(index) = operator.value() {
                    self.visit_expr(index);
                }
            }
            return;
        }
        visit::visit_traversal(self, node);
    }

    fn visit_for_expr(&mut self, node: &ForExpr) {
        self.visit_expr(&node.intro.collection_expr);
        let depth = self.bound.len();
        if let Some(key_var) = &node.intro.key_var {
            self.bound.push(key_var.value().as_str().to_owned());
        }
        self.bound
            .push(node.intro.value_var.value().as_str().to_owned());
        if let Some(key_expr) = &node.key_expr {
            self.visit_expr(key_expr);
        }
        self.visit_expr(&node.value_expr);
        if let Some(condition) = &node.cond {
            self.visit_expr(&condition.expr);
        }
        self.bound.truncate(depth);
    }

    fn visit_for_template_expr(&mut self, node: &ForTemplateExpr) {
        self.visit_expr(&node.collection_expr);
        let depth = self.bound.len();
        if let Some(key_var) = &node.key_var {
            self.bound.push(key_var.value().as_str().to_owned());
        }
        self.bound.push(node.value_var.value().as_str().to_owned());
        self.visit_template(&node.template);
        self.bound.truncate(depth);
    }
}

fn classify(
    root: &str,
    operators: &[(&TraversalOperator, Range<usize>)],
    span: &Range<usize>,
) -> Target {
    let attr = |position: usize| match operators.get(position) {
        Some((TraversalOperator::GetAttr(name), range)) => {
            Some((name.value().as_str().to_owned(), range.clone()))
        }
        _ => None,
    };
    let _ = span;
    match root {
        "var" => attr(0).map_or(Target::Other, |(name, _)| Target::Variable(name)),
        "local" => attr(0).map_or(Target::Other, |(name, _)| Target::Local(name)),
        "count" => Target::CountIndex,
        "each" => Target::Each,
        "path" | "terraform" => Target::Builtin,
        "data" => match (attr(0), attr(1)) {
            (Some((resource_type, _)), Some((name, _))) => {
                block_target(Mode::Data, resource_type, name, &operators[2..])
            }
            _ => Target::Other,
        },
        "module" => match attr(0) {
            Some((name, _)) => {
                match block_target(Mode::Managed, String::new(), name, &operators[1..]) {
                    Target::Block {
                        name, keyed, attr, ..
                    } => Target::Module {
                        name,
                        keyed,
                        output: attr,
                    },
                    other => other,
                }
            }
            None => Target::Other,
        },
        "self" => Target::Other,
        resource_type if resource_type.contains('_') => match attr(0) {
            Some((name, _)) => block_target(
                Mode::Managed,
                resource_type.to_owned(),
                name,
                &operators[1..],
            ),
            None => Target::Other,
        },
        _ => Target::Other,
    }
}

fn block_target(
    mode: Mode,
    resource_type: String,
    name: String,
    rest: &[(&TraversalOperator, Range<usize>)],
) -> Target {
    let keyed = matches!(
        rest.first(),
        Some((
            TraversalOperator::Index(_)
                | TraversalOperator::LegacyIndex(_)
                | TraversalOperator::AttrSplat(_)
                | TraversalOperator::FullSplat(_),
            _
        ))
    );
    let attr_position = usize::from(keyed);
    let attr = match rest.get(attr_position) {
        Some((TraversalOperator::GetAttr(attr), range)) => {
            Some((attr.value().as_str().to_owned(), range.clone()))
        }
        _ => None,
    };
    Target::Block {
        mode,
        resource_type,
        name,
        keyed,
        attr,
    }
}

/// Where an expression is evaluated: which per-instance names exist there.
#[derive(Clone, Copy)]
struct Context<'a> {
    count: bool,
    for_each: bool,
    /// The iterators of the `dynamic` blocks around it (`ssl` in `ssl.value`).
    bound: &'a [String],
}

/// Checks every reference of the configuration, builds the graph and stores the evaluation order
/// and each block's managed dependencies in `config`.
pub(crate) fn resolve(config: &mut Configuration, diagnostics: &mut Diagnostics) {
    let block_index: HashMap<(Mode, String, String), usize> = config
        .blocks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            (
                (
                    block.addr.mode,
                    block.addr.resource_type.clone(),
                    block.addr.name.clone(),
                ),
                index,
            )
        })
        .collect();
    let mut edges: Vec<(Node, BTreeSet<Node>, FileId, Range<usize>)> = Vec::new();
    let none = Context {
        count: false,
        for_each: false,
        bound: &[],
    };

    for variable in config.variables.values() {
        edges.push((
            Node::Variable(variable.name.clone()),
            BTreeSet::new(),
            variable.file,
            variable.header.clone(),
        ));
    }
    for (name, local) in &config.locals {
        let mut targets = BTreeSet::new();
        check_expr(
            config,
            &block_index,
            &local.value,
            none,
            &mut targets,
            diagnostics,
        );
        edges.push((
            Node::Local(name.clone()),
            targets,
            local.value.file,
            local.value.key_span.clone(),
        ));
    }
    for (index, block) in config.blocks.iter().enumerate() {
        let mut targets = BTreeSet::new();
        for meta in [&block.count, &block.for_each].into_iter().flatten() {
            check_expr(config, &block_index, meta, none, &mut targets, diagnostics);
        }
        let context = Context {
            count: block.count.is_some(),
            for_each: block.for_each.is_some(),
            bound: &[],
        };
        check_body(
            config,
            &block_index,
            &block.body,
            context,
            &mut targets,
            diagnostics,
        );
        for condition in &block.conditions {
            for expr in [&condition.condition, &condition.error_message] {
                check_expr(
                    config,
                    &block_index,
                    expr,
                    context,
                    &mut targets,
                    diagnostics,
                );
            }
        }
        depends_on_targets(&block_index, &block.depends_on, &mut targets);
        edges.push((
            Node::Block(index),
            targets,
            block.spans.file,
            block.spans.header.clone(),
        ));
    }
    for (name, call) in &config.modules {
        let mut targets = BTreeSet::new();
        for meta in [&call.count, &call.for_each].into_iter().flatten() {
            check_expr(config, &block_index, meta, none, &mut targets, diagnostics);
        }
        let context = Context {
            count: call.count.is_some(),
            for_each: call.for_each.is_some(),
            bound: &[],
        };
        for input in &call.inputs {
            check_expr(
                config,
                &block_index,
                input,
                context,
                &mut targets,
                diagnostics,
            );
        }
        depends_on_targets(&block_index, &call.depends_on, &mut targets);
        edges.push((
            Node::Module(name.clone()),
            targets,
            call.file,
            call.header.clone(),
        ));
    }
    if let Some(provider) = &config.provider {
        let mut targets = BTreeSet::new();
        for attribute in &provider.attributes {
            check_expr(
                config,
                &block_index,
                attribute,
                none,
                &mut targets,
                diagnostics,
            );
        }
        edges.push((
            Node::Provider,
            targets,
            provider.file,
            provider.header.clone(),
        ));
    }
    for (name, output) in &config.outputs {
        let mut targets = BTreeSet::new();
        if let Some(value) = &output.value {
            check_expr(config, &block_index, value, none, &mut targets, diagnostics);
        }
        for condition in &output.preconditions {
            for expr in [&condition.condition, &condition.error_message] {
                check_expr(config, &block_index, expr, none, &mut targets, diagnostics);
            }
        }
        edges.push((
            Node::Output(name.clone()),
            targets,
            output.file,
            output.header.clone(),
        ));
    }

    // `check` blocks are evaluated after everything else: their references are only checked.
    for check in &config.checks {
        let mut targets = BTreeSet::new();
        for condition in &check.asserts {
            for expr in [&condition.condition, &condition.error_message] {
                check_expr(config, &block_index, expr, none, &mut targets, diagnostics);
            }
        }
    }
    // A data source scoped to a `check` is referenced only inside it (its asserts and the
    // check's other data sources).
    for (node, targets, file, header) in &edges {
        let scope = match node {
            Node::Block(index) => config.blocks[*index].check_scope.as_deref(),
            _ => None,
        };
        for target in targets {
            let Node::Block(index) = target else { continue };
            let block = &config.blocks[*index];
            if let Some(check) = &block.check_scope
                && scope != Some(check.as_str())
            {
                diagnostics.push(Diagnostic {
                    subject: Some(config.span(*file, header.clone())),
                    ..Diagnostic::error(
                        "Reference to scoped resource",
                        format!(
                            "`{}` is declared in check `{check}` and can be referenced only inside it",
                            block.addr
                        ),
                    )
                });
            }
        }
    }
    let order = topological_order(config, &edges, diagnostics);
    let dependencies: HashMap<Node, BTreeSet<Node>> = edges
        .into_iter()
        .map(|(node, targets, _, _)| (node, targets))
        .collect();
    for index in 0..config.blocks.len() {
        let (mut managed, modules) =
            managed_dependencies(config, &dependencies, &Node::Block(index));
        managed.remove(&index);
        config.blocks[index].managed_dependencies = managed.into_iter().collect();
        config.blocks[index].module_dependencies = modules.into_iter().collect();
    }
    let names: Vec<String> = config.modules.keys().cloned().collect();
    for name in names {
        let (managed, mut modules) =
            managed_dependencies(config, &dependencies, &Node::Module(name.clone()));
        modules.remove(&name);
        let call = config.modules.get_mut(&name).expect("the call is there");
        call.managed_dependencies = managed.into_iter().collect();
        call.module_dependencies = modules.into_iter().collect();
    }
    let mut dependents: HashMap<Node, Vec<Node>> = HashMap::new();
    for (node, targets) in &dependencies {
        for target in targets {
            dependents
                .entry(target.clone())
                .or_default()
                .push(node.clone());
        }
    }
    config.dependents = dependents;
    config.order = order;
}

/// The blocks a `depends_on` list names (undeclared ones are reported by `decode`).
fn depends_on_targets(
    block_index: &HashMap<(Mode, String, String), usize>,
    depends_on: &[ResourceAddr],
    targets: &mut BTreeSet<Node>,
) {
    for dependency in depends_on {
        let key = (
            dependency.mode,
            dependency.resource_type.clone(),
            dependency.name.clone(),
        );
        if let Some(&target) = block_index.get(&key) {
            targets.insert(Node::Block(target));
        }
    }
}

/// The managed blocks (and other providers' data sources, read from the state, so an object
/// that needs one missing from it can be named) and the module calls `start` depends on,
/// through variables, locals and data sources.
fn managed_dependencies(
    config: &Configuration,
    dependencies: &HashMap<Node, BTreeSet<Node>>,
    start: &Node,
) -> (BTreeSet<usize>, BTreeSet<String>) {
    let mut managed = BTreeSet::new();
    let mut modules = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Node> = dependencies
        .get(start)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    while let Some(node) = stack.pop() {
        if !seen.insert(node.clone()) {
            continue;
        }
        match &node {
            Node::Block(target)
                if config.blocks[*target].addr.mode == Mode::Managed
                    || config.blocks[*target].foreign.is_some() =>
            {
                managed.insert(*target);
                continue;
            }
            Node::Module(name) => {
                modules.insert(name.clone());
                continue;
            }
            _ => {}
        }
        stack.extend(dependencies.get(&node).into_iter().flatten().cloned());
    }
    (managed, modules)
}

fn check_body(
    config: &Configuration,
    block_index: &HashMap<(Mode, String, String), usize>,
    body: &BodyExprs,
    context: Context<'_>,
    targets: &mut BTreeSet<Node>,
    diagnostics: &mut Diagnostics,
) {
    for attribute in &body.attributes {
        check_expr(
            config,
            block_index,
            attribute,
            context,
            targets,
            diagnostics,
        );
    }
    for nested in &body.blocks {
        let Some(dynamic) = &nested.dynamic else {
            check_body(
                config,
                block_index,
                &nested.body,
                context,
                targets,
                diagnostics,
            );
            continue;
        };
        check_expr(
            config,
            block_index,
            &dynamic.for_each,
            context,
            targets,
            diagnostics,
        );
        let mut bound = context.bound.to_vec();
        bound.push(dynamic.iterator.clone());
        let inner = Context {
            bound: &bound,
            ..context
        };
        check_body(
            config,
            block_index,
            &nested.body,
            inner,
            targets,
            diagnostics,
        );
    }
}

fn check_expr(
    config: &Configuration,
    block_index: &HashMap<(Mode, String, String), usize>,
    attribute: &AttrExpr,
    context: Context<'_>,
    targets: &mut BTreeSet<Node>,
    diagnostics: &mut Diagnostics,
) {
    let file = attribute.file;
    for reference in collect(&attribute.expr) {
        let at = |diagnostic: Diagnostic, range: Range<usize>| Diagnostic {
            subject: Some(config.span(file, range)),
            ..diagnostic
        };
        match reference.target {
            Target::Variable(name) => {
                if config.variables.contains_key(&name) {
                    targets.insert(Node::Variable(name));
                } else {
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Reference to undeclared input variable",
                            format!(
                                "no variable named `{name}` is declared\nhelp: {}",
                                match super::spelling::closest(&name, config.variables.keys().map(String::as_str)) {
                                    Some(close) => format!("did you mean `var.{close}`?"),
                                    None => format!("declare it with a `variable \"{name}\" {{}}` block"),
                                }
                            ),
                        ),
                        reference.span,
                    ));
                }
            }
            Target::Local(name) => {
                if config.locals.contains_key(&name) {
                    targets.insert(Node::Local(name));
                } else {
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Reference to undeclared local value",
                            format!(
                                "no local value named `{name}` is declared{}",
                                did_you_mean(&name, config.locals.keys().map(String::as_str))
                            ),
                        ),
                        reference.span,
                    ));
                }
            }
            Target::CountIndex if !context.count => diagnostics.push(at(
                Diagnostic::error(
                    "Reference to \"count\" in non-counted context",
                    "`count.index` is only available in a block that sets `count`",
                ),
                reference.span,
            )),
            Target::Each if !context.for_each => diagnostics.push(at(
                Diagnostic::error(
                    "Reference to \"each\" in context without for_each",
                    "`each.key` and `each.value` are only available in a block that sets `for_each`",
                ),
                reference.span,
            )),
            Target::Block { resource_type, .. } if context.bound.contains(&resource_type) => {}
            Target::Block { mode, resource_type, name, keyed, attr } => {
                let prefix = if mode == Mode::Data { "data." } else { "" };
                let Some(&index) = block_index.get(&(mode, resource_type.clone(), name.clone())) else {
                    let declared: Vec<String> = config
                        .blocks
                        .iter()
                        .filter(|block| block.addr.mode == mode)
                        .map(|block| format!("{}.{}", block.addr.resource_type, block.addr.name))
                        .collect();
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Reference to undeclared resource",
                            format!(
                                "`{prefix}{resource_type}.{name}` is not declared in this configuration{}",
                                did_you_mean(&format!("{resource_type}.{name}"), declared.iter().map(String::as_str))
                            ),
                        ),
                        reference.span,
                    ));
                    continue;
                };
                targets.insert(Node::Block(index));
                let block = &config.blocks[index];
                let address = format!("{prefix}{resource_type}.{name}");
                if block.is_expanded() && !keyed && attr.is_some() {
                    let example = if block.count.is_some() { "[0]" } else { "[\"key\"]" };
                    let attr_name = attr.as_ref().map_or("id", |(attr, _)| attr.as_str());
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Missing resource instance key",
                            format!(
                                "`{address}` sets `{}`, so its attributes belong to each instance\nhelp: name one instance, as in `{address}{example}.{attr_name}`",
                                if block.count.is_some() { "count" } else { "for_each" }
                            ),
                        ),
                        reference.span,
                    ));
                    continue;
                }
                if !block.is_expanded() && keyed {
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Unexpected resource instance key",
                            format!("`{address}` does not set `count` or `for_each`, so it has no instance keys\nhelp: remove the index"),
                        ),
                        reference.span,
                    ));
                    continue;
                }
                if let (Some(schema), Some((attr, range))) = (&block.schema, attr)
                    && schema.attribute(&attr).is_none() {
                        diagnostics.push(at(
                            Diagnostic::error(
                                "Unsupported attribute",
                                format!(
                                    "`{resource_type}` has no attribute `{attr}`{}",
                                    did_you_mean(&attr, schema.attributes.keys().map(String::as_str))
                                ),
                            ),
                            range,
                        ));
                    }
            }
            Target::Module { name, keyed, output } => {
                let Some(call) = config.modules.get(&name) else {
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Reference to undeclared module",
                            format!(
                                "no module call named `{name}` is declared{}",
                                did_you_mean(&name, config.modules.keys().map(String::as_str))
                            ),
                        ),
                        reference.span,
                    ));
                    continue;
                };
                targets.insert(Node::Module(name.clone()));
                if call.is_expanded() && !keyed && output.is_some() {
                    let example = if call.count.is_some() { "[0]" } else { "[\"key\"]" };
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Missing module instance key",
                            format!("`module.{name}` sets `{}`, so its outputs belong to each instance\nhelp: name one instance, as in `module.{name}{example}`", if call.count.is_some() { "count" } else { "for_each" }),
                        ),
                        reference.span,
                    ));
                    continue;
                }
                if let (Some(child), Some((output, range))) = (&call.config, output)
                    && !call.is_expanded()
                    && !child.outputs.contains_key(&output)
                {
                    diagnostics.push(at(
                        Diagnostic::error(
                            "Unsupported attribute",
                            format!(
                                "the module `{name}` has no output `{output}`{}",
                                did_you_mean(&output, child.outputs.keys().map(String::as_str))
                            ),
                        ),
                        range,
                    ));
                }
            }
            Target::CountIndex | Target::Each | Target::Builtin | Target::Other => {}
        }
    }
}

/// Depth-first topological order; every cycle is reported once, at its first node.
fn topological_order(
    config: &Configuration,
    edges: &[(Node, BTreeSet<Node>, FileId, Range<usize>)],
    diagnostics: &mut Diagnostics,
) -> Vec<Node> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
        Cyclic,
    }
    let position: HashMap<&Node, usize> = edges
        .iter()
        .enumerate()
        .map(|(index, (node, ..))| (node, index))
        .collect();
    let mut marks = vec![Mark::New; edges.len()];
    let mut order = Vec::with_capacity(edges.len());
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node index, its targets, next target position).
        let mut stack: Vec<(usize, Vec<usize>, usize)> = Vec::new();
        let targets_of = |index: usize| -> Vec<usize> {
            edges[index]
                .1
                .iter()
                .filter_map(|target| position.get(target).copied())
                .collect()
        };
        marks[start] = Mark::Active;
        stack.push((start, targets_of(start), 0));
        while let Some((node, targets, next)) = stack.last_mut() {
            if let Some(&target) = targets.get(*next) {
                *next += 1;
                match marks[target] {
                    Mark::New => {
                        marks[target] = Mark::Active;
                        let nested = targets_of(target);
                        stack.push((target, nested, 0));
                    }
                    Mark::Active => {
                        let from = stack
                            .iter()
                            .position(|(index, ..)| *index == target)
                            .expect("active nodes are on the stack");
                        let cycle: Vec<usize> =
                            stack[from..].iter().map(|(index, ..)| *index).collect();
                        for &member in &cycle {
                            marks[member] = Mark::Cyclic;
                        }
                        let names: Vec<String> = cycle
                            .iter()
                            .chain(std::iter::once(&target))
                            .map(|&index| describe(config, &edges[index].0))
                            .collect();
                        let (_, _, file, range) = &edges[target];
                        diagnostics.push(Diagnostic {
                            subject: Some(config.span(*file, range.clone())),
                            ..Diagnostic::error(
                                "Cycle in references",
                                format!(
                                    "these refer to each other: {}\nhelp: break the cycle by removing one of the references",
                                    names.join(" → ")
                                ),
                            )
                        });
                    }
                    Mark::Done | Mark::Cyclic => {}
                }
            } else {
                let node = *node;
                stack.pop();
                if marks[node] == Mark::Active {
                    marks[node] = Mark::Done;
                    order.push(edges[node].0.clone());
                }
            }
        }
    }
    order
}

fn describe(config: &Configuration, node: &Node) -> String {
    match node {
        Node::Variable(name) => format!("var.{name}"),
        Node::Local(name) => format!("local.{name}"),
        Node::Block(index) => config.blocks[*index].addr.to_string(),
        Node::Output(name) => format!("output.{name}"),
        Node::Provider => "provider.azureml".to_owned(),
        Node::Module(name) => format!("module.{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn targets(text: &str) -> Vec<Target> {
        let expr = hcl::edit::parser::parse_expr(text).expect("valid expression");
        collect(&expr)
            .into_iter()
            .map(|reference| reference.target)
            .collect()
    }

    #[test]
    fn references_are_classified() {
        assert_eq!(targets("var.a"), vec![Target::Variable("a".into())]);
        assert_eq!(targets("\"${local.b}-x\""), vec![Target::Local("b".into())]);
        let found = targets("azureml_workspace.main[0].id");
        assert!(
            matches!(&found[0], Target::Block { mode: Mode::Managed, keyed: true, attr: Some((attr, _)), .. } if attr == "id")
        );
        let found = targets("data.azureml_compute.x.name");
        assert!(matches!(
            &found[0],
            Target::Block {
                mode: Mode::Data,
                keyed: false,
                ..
            }
        ));
        assert_eq!(targets("count.index + 1"), vec![Target::CountIndex]);
        assert_eq!(targets("path.module"), vec![Target::Builtin]);
    }

    #[test]
    fn names_bound_by_for_are_not_references() {
        assert_eq!(
            targets("[for x in var.list : x.name]"),
            vec![Target::Variable("list".into())]
        );
        assert_eq!(
            targets("{ for k, v in local.m : k => v if v != var.skip }"),
            vec![Target::Local("m".into()), Target::Variable("skip".into())]
        );
        assert_eq!(
            targets("\"%{ for s in var.l }${s}%{ endfor }\""),
            vec![Target::Variable("l".into())]
        );
    }

    #[test]
    fn index_expressions_are_searched() {
        assert_eq!(
            targets("var.m[local.k]"),
            vec![Target::Variable("m".into()), Target::Local("k".into())]
        );
    }
}
