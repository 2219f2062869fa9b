//! The evaluation walk: variables, then every local, resource, data source, provider and output
//! in dependency order; `count`/`for_each` expanded into instances; arguments evaluated and
//! converted to their schema types. What is not known yet (an id the service assigns, anything
//! computed from it) is `Value::Unknown`, so the apply step calls [`evaluate`] again after each
//! resource completes, with the new values in [`KnownValues`], to fill them in. One walk costs one
//! evaluation of each expression: no parsing, no IO (except `file()` calls).
//!
//! What a reference to a resource instance yields, per attribute:
//!
//! | attribute                         | value                                                    |
//! |-----------------------------------|----------------------------------------------------------|
//! | set in the configuration          | the configured value (possibly unknown)                  |
//! | unset, optional                   | the schema default, else null (that is what apply sends) |
//! | unset, computed/optional+computed | the known value, else unknown                            |

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use engine::addr::{AttrPath, InstanceKey, Mode, PathStep, ResourceAddr};
use engine::diag::{Diagnostic, Diagnostics};
use engine::schema::{AttrType, Attribute, Presence, ResourceSchema};
use engine::value::{ObjectValue, Value};

use super::ProviderSettings;
use super::convert::convert_attribute;
use super::eval::{BlockKey, Evaluator, Scope, Sensitivity, kind_of};
use super::provider;
use super::refs::Node;
use super::variables::{self, InputValues, eval_diagnostic};
use super::{BlockSpans, BodyExprs, Configuration, LifecycleOptions, ResourceBlock};

/// Current attribute values of resource and data instances (from state and refresh, or from
/// apply as it progresses).
pub trait KnownValues {
    /// The attributes of `addr` (with its instance key) as last read or applied. Return `None`
    /// for an instance that does not exist yet or that the plan replaces: its computed
    /// attributes are then unknown.
    fn instance(&self, addr: &ResourceAddr) -> Option<&ObjectValue>;
}

/// Nothing is known: every computed attribute is unknown (a plan from scratch).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKnownValues;

impl KnownValues for NoKnownValues {
    fn instance(&self, _: &ResourceAddr) -> Option<&ObjectValue> {
        None
    }
}

impl KnownValues for BTreeMap<ResourceAddr, ObjectValue> {
    fn instance(&self, addr: &ResourceAddr) -> Option<&ObjectValue> {
        self.get(addr)
    }
}

impl KnownValues for HashMap<ResourceAddr, ObjectValue> {
    fn instance(&self, addr: &ResourceAddr) -> Option<&ObjectValue> {
        self.get(addr)
    }
}

/// One instance of a `resource` or `data` block, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInstance {
    /// The address, with the `count`/`for_each` key if any.
    pub addr: ResourceAddr,
    /// The configured arguments converted to their schema types (unset ones are absent; nested
    /// blocks are maps, repeated nested blocks lists of maps). May contain `Value::Unknown`.
    pub values: ObjectValue,
    /// Managed instances this one depends on: through references (also via locals and data
    /// sources) and `depends_on`; other providers' data sources are listed too.
    pub depends_on: Vec<ResourceAddr>,
    /// The `lifecycle` options of the block.
    pub lifecycle: LifecycleOptions,
    /// Where the block and each argument are in the sources.
    pub spans: Arc<BlockSpans>,
    /// The top-level arguments set from sensitive values (a sensitive variable, attribute or
    /// `sensitive()`), besides the schema's secrets: plans show them as `(sensitive value)`.
    pub sensitive: std::collections::BTreeSet<String>,
    /// The root module's `azureml` configuration it uses: `None` for the default one, else
    /// its alias (`provider = azureml.prod`, maybe passed down through module calls).
    pub provider: Option<String>,
}

impl ResourceInstance {
    /// The resource type (`azureml_compute_cluster`).
    pub fn resource_type(&self) -> &str {
        &self.addr.resource_type
    }
}

/// An evaluated `output`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputValue {
    /// The value (possibly unknown).
    pub value: Value,
    /// Hidden in human output.
    pub sensitive: bool,
    /// The `description`, if any.
    pub description: Option<String>,
}

/// A configuration evaluated against input values and known instance values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvaluatedConfig {
    /// Managed resource instances by address.
    pub resources: BTreeMap<ResourceAddr, ResourceInstance>,
    /// Data source instances by address.
    pub data: BTreeMap<ResourceAddr, ResourceInstance>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, OutputValue>,
    /// Instances of other providers' blocks (left to Terraform; their values come from the
    /// state), with their provider.
    pub foreign: BTreeMap<ResourceAddr, String>,
    /// The `import` blocks: each target and its id (unknown when it is not known yet).
    pub imports: Vec<(ResourceAddr, Value)>,
    /// The default `azureml` configuration's settings (environment fallbacks applied).
    pub provider: ProviderSettings,
    /// The aliased configurations' settings, by alias.
    pub aliased_providers: BTreeMap<String, ProviderSettings>,
    /// Input variable values after conversion to their types.
    pub variables: BTreeMap<String, Value>,
    /// What references saw, kept for [`reevaluate`].
    state: WalkState,
}

/// The values references resolve to, by node.
#[derive(Debug, Clone, PartialEq, Default)]
struct WalkState {
    locals: BTreeMap<String, Value>,
    blocks: HashMap<BlockKey, Value>,
    instances_of: Vec<Vec<ResourceAddr>>,
    sensitivity: Sensitivity,
}

/// Evaluates `config`: see the module documentation. Diagnostics name file, line and column.
pub fn evaluate(
    config: &Configuration,
    inputs: &InputValues,
    known: &dyn KnownValues,
) -> (EvaluatedConfig, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let variables = variables::resolve(config, inputs, &mut diagnostics);
    let previous = EvaluatedConfig {
        state: WalkState {
            instances_of: vec![Vec::new(); config.blocks.len()],
            ..WalkState::default()
        },
        ..EvaluatedConfig::default()
    };
    let (mut result, walked) = walk(
        config,
        inputs,
        known,
        previous,
        &variables,
        None,
        &WalkContext::default(),
    );
    diagnostics.extend(walked);
    result.variables = variables;
    (result, diagnostics)
}

/// Where a walk happens: the module instance and what its instances inherit from the call.
#[derive(Debug, Clone, Default)]
struct WalkContext {
    /// The module instance (root when empty): every address gets it.
    path: engine::addr::ModulePath,
    /// Managed instances the module call depends on (its arguments and `depends_on`): every
    /// instance inside depends on them too.
    inherited: Vec<ResourceAddr>,
    /// Variables given sensitive values by the call.
    sensitive_inputs: std::collections::BTreeSet<String>,
    /// Which root configuration each of the module's `azureml` configurations is.
    providers: provider::ProviderMap,
}

impl WalkContext {
    fn is_root(&self) -> bool {
        self.path.is_root()
    }
}

/// Re-evaluates only what depends on the blocks of `changed` (instance keys ignored), reusing
/// everything else from `previous`: the cheap path for apply, which calls it after each
/// completed resource with the new values in `known`. `inputs` must be the ones `previous` was
/// evaluated with. Diagnostics are those of the re-evaluated objects only.
pub fn reevaluate(
    config: &Configuration,
    previous: EvaluatedConfig,
    inputs: &InputValues,
    known: &dyn KnownValues,
    changed: &[ResourceAddr],
) -> (EvaluatedConfig, Diagnostics) {
    if !config.modules.is_empty() {
        // Module instances are evaluated whole: start over.
        return evaluate(config, inputs, known);
    }
    let mut diagnostics = Diagnostics::default();
    let mut dirty: HashSet<Node> = HashSet::new();
    let mut queue: Vec<Node> = changed
        .iter()
        .filter_map(|addr| {
            config
                .block_lookup
                .get(&addr.without_key())
                .map(|&index| Node::Block(index))
        })
        .collect();
    while let Some(node) = queue.pop() {
        if dirty.insert(node.clone()) {
            queue.extend(config.dependents.get(&node).into_iter().flatten().cloned());
        }
    }
    if previous.state.instances_of.len() != config.blocks.len() {
        // Not produced from this configuration: start over.
        return evaluate(config, inputs, known);
    }
    let variables = previous.variables.clone();
    let (mut result, walked) = walk(
        config,
        inputs,
        known,
        previous,
        &variables,
        Some(&dirty),
        &WalkContext::default(),
    );
    diagnostics.extend(walked);
    result.variables = variables;
    (result, diagnostics)
}

fn walk(
    config: &Configuration,
    inputs: &InputValues,
    known: &dyn KnownValues,
    previous: EvaluatedConfig,
    variables: &BTreeMap<String, Value>,
    only: Option<&HashSet<Node>>,
    context: &WalkContext,
) -> (EvaluatedConfig, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let EvaluatedConfig {
        state,
        resources,
        data,
        outputs,
        provider,
        aliased_providers,
        foreign,
        variables: _,
        imports: _,
    } = previous;
    let mut sensitivity = state.sensitivity;
    sensitivity.variables = config
        .variables
        .values()
        .filter(|variable| variable.sensitive)
        .map(|variable| variable.name.clone())
        .chain(context.sensitive_inputs.iter().cloned())
        .collect();
    let mut walk = Walk {
        config,
        known,
        locals: state.locals,
        blocks: state.blocks,
        instances_of: state.instances_of,
        sensitivity,
        workspace: inputs.workspace(),
        context,
        modules: HashMap::new(),
        module_instances: HashMap::new(),
        result: EvaluatedConfig {
            resources,
            data,
            outputs,
            provider,
            aliased_providers,
            foreign,
            ..EvaluatedConfig::default()
        },
        diagnostics: &mut diagnostics,
    };
    let mut provider_resolved = false;
    for node in &config.order {
        if only.is_some_and(|only| !only.contains(node)) {
            provider_resolved |= *node == Node::Provider;
            continue;
        }
        match node {
            Node::Variable(_) => {}
            Node::Local(name) => walk.local(name, variables),
            Node::Block(index) => walk.block(*index, variables),
            Node::Output(name) => walk.output(name, variables),
            Node::Module(name) => walk.module(name, variables, inputs),
            Node::Provider => {
                walk.provider(variables, inputs);
                provider_resolved = true;
            }
        }
    }
    if !provider_resolved && only.is_none() {
        walk.provider(variables, inputs);
    }
    if context.is_root() {
        let mut imports = Vec::new();
        let mut errors = Vec::new();
        for import in &config.imports {
            let elements: Vec<Option<(Value, Value)>> = match &import.for_each {
                None => vec![None],
                Some(for_each) => {
                    match Evaluator::new(&walk.scope(variables)).eval(&for_each.expr) {
                        Ok(Value::Map(entries)) => entries
                            .into_iter()
                            .map(|(key, value)| Some((Value::String(key), value)))
                            .collect(),
                        Ok(Value::List(items)) => items
                            .into_iter()
                            .map(|item| Some((item.clone(), item)))
                            .collect(),
                        Ok(other) => {
                            errors.push(Diagnostic {
                            subject: Some(config.span(for_each.file, for_each.value_span.clone())),
                            ..Diagnostic::error(
                                "Invalid for_each argument",
                                format!("an `import` block's `for_each` needs a map or a set, not a {}", kind_of(&other)),
                            )
                        });
                            continue;
                        }
                        Err(error) => {
                            errors.push(eval_diagnostic(config, for_each.file, error));
                            continue;
                        }
                    }
                }
            };
            for element in elements {
                let mut scope = walk.scope(variables);
                scope.each = element;
                let evaluator = Evaluator::new(&scope);
                let mut to = import.to.clone();
                if let Some(key) = &import.key {
                    match evaluator.eval(&key.expr) {
                        Ok(Value::String(key)) => to.key = Some(InstanceKey::Key(key)),
                        Ok(Value::Number(number)) if number.as_i64().is_some_and(|n| n >= 0) => {
                            to.key = number.as_i64().map(|n| InstanceKey::Index(n as u64));
                        }
                        Ok(other) => {
                            errors.push(Diagnostic {
                                subject: Some(config.span(key.file, key.value_span.clone())),
                                ..Diagnostic::error(
                                    "Invalid import address",
                                    format!(
                                        "an instance key is a string or a whole number, not a {}",
                                        kind_of(&other)
                                    ),
                                )
                            });
                            continue;
                        }
                        Err(error) => {
                            errors.push(eval_diagnostic(config, key.file, error));
                            continue;
                        }
                    }
                }
                match evaluator.eval(&import.id.expr) {
                    Ok(id) => imports.push((to, id)),
                    Err(error) => errors.push(eval_diagnostic(config, import.id.file, error)),
                }
            }
        }
        for error in errors {
            walk.diagnostics.push(error);
        }
        walk.result.imports = imports;
    }
    for check in &config.checks {
        let found = evaluate_conditions(config, &check.asserts, &walk.scope(variables), "Check");
        for diagnostic in found {
            walk.diagnostics.push(diagnostic);
        }
    }
    let mut result = walk.result;
    result.state = WalkState {
        locals: walk.locals,
        blocks: walk.blocks,
        instances_of: walk.instances_of,
        sensitivity: walk.sensitivity,
    };
    (result, diagnostics)
}

struct Walk<'a> {
    config: &'a Configuration,
    known: &'a dyn KnownValues,
    locals: BTreeMap<String, Value>,
    blocks: HashMap<BlockKey, Value>,
    instances_of: Vec<Vec<ResourceAddr>>,
    sensitivity: Sensitivity,
    workspace: &'a str,
    context: &'a WalkContext,
    /// `module.NAME` values (outputs of each instance).
    modules: HashMap<String, Value>,
    /// The managed instances (full addresses) inside each module call, for what depends on it.
    module_instances: HashMap<String, Vec<ResourceAddr>>,
    result: EvaluatedConfig,
    diagnostics: &'a mut Diagnostics,
}

/// One instance to evaluate: its key, `count.index` and `each.key`/`each.value`.
type InstanceSeed = (Option<InstanceKey>, Option<Value>, Option<(Value, Value)>);

/// How a block expands into instances.
enum Expansion {
    Single,
    Count(u64),
    ForEach(Vec<(String, Value)>),
}

impl Walk<'_> {
    fn scope<'s>(&'s self, variables: &'s BTreeMap<String, Value>) -> Scope<'s> {
        Scope {
            variables: Some(variables),
            locals: Some(&self.locals),
            blocks: Some(&self.blocks),
            sensitive: Some(&self.sensitivity),
            workspace: Some(self.workspace),
            modules: Some(&self.modules),
            path_module: Some(&self.config.module_display),
            ..Scope::empty(&self.config.dir)
        }
    }

    fn local(&mut self, name: &str, variables: &BTreeMap<String, Value>) {
        let local = &self.config.locals[name];
        let (result, sensitive) = {
            let scope = self.scope(variables);
            let evaluator = Evaluator::new(&scope);
            let result = evaluator.eval(&local.value.expr);
            (result, evaluator.take_sensitive())
        };
        let value = result.unwrap_or_else(|error| {
            self.diagnostics
                .push(eval_diagnostic(self.config, local.value.file, error));
            Value::Unknown
        });
        if sensitive {
            self.sensitivity.locals.insert(name.to_owned());
        } else {
            self.sensitivity.locals.remove(name);
        }
        self.locals.insert(name.to_owned(), value);
    }

    fn output(&mut self, name: &str, variables: &BTreeMap<String, Value>) {
        let output = &self.config.outputs[name];
        let Some(expr) = &output.value else { return };
        let (result, sensitive) = {
            let scope = self.scope(variables);
            let evaluator = Evaluator::new(&scope);
            let result = evaluator.eval(&expr.expr);
            (result, evaluator.take_sensitive())
        };
        if sensitive && !output.sensitive && result.is_ok() && self.context.is_root() {
            // Terraform's rule and words: a root output must say it exports a secret.
            self.error_at(
                expr.file,
                expr.value_span.clone(),
                "Output refers to sensitive values",
                "this value is derived from a sensitive value\nTo reduce the risk of \
                 accidentally exporting sensitive data that was intended to be only internal, \
                 amlplan (as Terraform) requires that any root module output containing sensitive \
                 data be explicitly marked as sensitive, to confirm your intent.\nhelp: if you do \
                 intend to export this data, add `sensitive = true` to the output"
                    .to_owned(),
            );
        }
        let value = result.unwrap_or_else(|error| {
            self.diagnostics
                .push(eval_diagnostic(self.config, expr.file, error));
            Value::Unknown
        });
        if !output.preconditions.is_empty() {
            let found = evaluate_conditions(
                self.config,
                &output.preconditions,
                &self.scope(variables),
                "Module output value",
            );
            for diagnostic in found {
                self.diagnostics.push(diagnostic);
            }
        }
        self.result.outputs.insert(
            name.to_owned(),
            OutputValue {
                value,
                // In a module, an output of a sensitive value is sensitive where it is used.
                sensitive: output.sensitive || sensitive,
                description: output.description.clone(),
            },
        );
    }

    /// A module call: its instances (from `count`/`for_each`), each a walk of the module's
    /// configuration with the call's arguments as its variables and the instance's module path
    /// in every address. The instances' outputs become `module.NAME`.
    fn module(&mut self, name: &str, variables: &BTreeMap<String, Value>, inputs: &InputValues) {
        let config = self.config;
        let call = &config.modules[name];
        let Some(child) = call.config.as_deref() else {
            // Not loaded (already reported).
            self.modules.insert(name.to_owned(), Value::Unknown);
            return;
        };
        let Some(expansion) = self.expansion(
            call.count.as_ref(),
            call.for_each.as_ref(),
            call.file,
            variables,
        ) else {
            self.modules.insert(name.to_owned(), Value::Unknown);
            return;
        };
        let mut inherited: Vec<ResourceAddr> = self.context.inherited.clone();
        for dependency in &call.managed_dependencies {
            inherited.extend(self.instances_of[*dependency].iter().cloned());
        }
        for other in &call.module_dependencies {
            inherited.extend(
                self.module_instances
                    .get(other)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        for dependency in &call.depends_on {
            if let Some(&index) = config.block_lookup.get(dependency) {
                inherited.extend(self.instances_of[index].iter().cloned());
            }
        }
        inherited.sort();
        inherited.dedup();
        let mut values: Vec<(Option<InstanceKey>, Value)> = Vec::new();
        let mut sensitive_outputs = std::collections::BTreeSet::new();
        let mut managed = Vec::new();
        for (instance_key, count_index, each) in seeds(expansion) {
            let mut given = BTreeMap::new();
            let mut sensitive_inputs = std::collections::BTreeSet::new();
            let mut errors = Vec::new();
            {
                let mut scope = self.scope(variables);
                scope.count_index = count_index;
                scope.each = each;
                let evaluator = Evaluator::new(&scope);
                for input in &call.inputs {
                    let value = match evaluator.eval(&input.expr) {
                        Ok(value) => value,
                        Err(error) => {
                            errors.push(eval_diagnostic(config, input.file, error));
                            Value::Unknown
                        }
                    };
                    if evaluator.take_sensitive() {
                        sensitive_inputs.insert(input.name.clone());
                    }
                    let subject = config.span(input.file, input.value_span.clone());
                    given.insert(input.name.clone(), (value, subject));
                }
            }
            for error in errors {
                self.diagnostics.push(error);
            }
            let child_inputs = inputs.for_module(given);
            let context = WalkContext {
                path: self.context.path.child(name, instance_key.clone()),
                inherited: inherited.clone(),
                sensitive_inputs,
                providers: self.context.providers.child(&call.providers),
            };
            let mut diagnostics = Diagnostics::default();
            let child_variables = variables::resolve(child, &child_inputs, &mut diagnostics);
            let previous = EvaluatedConfig {
                state: WalkState {
                    instances_of: vec![Vec::new(); child.blocks.len()],
                    ..WalkState::default()
                },
                ..EvaluatedConfig::default()
            };
            let (result, walked) = walk(
                child,
                &child_inputs,
                self.known,
                previous,
                &child_variables,
                None,
                &context,
            );
            diagnostics.extend(walked);
            self.diagnostics.extend(diagnostics);
            let mut outputs = BTreeMap::new();
            for (output, value) in result.outputs {
                if value.sensitive {
                    sensitive_outputs.insert(output.clone());
                }
                outputs.insert(output, value.value);
            }
            values.push((instance_key, Value::Map(outputs)));
            managed.extend(result.resources.keys().cloned());
            managed.extend(
                result
                    .foreign
                    .keys()
                    .filter(|addr| addr.mode == Mode::Managed)
                    .cloned(),
            );
            self.result.resources.extend(result.resources);
            self.result.data.extend(result.data);
            self.result.foreign.extend(result.foreign);
        }
        let value = repeated(call.count.is_some(), call.for_each.is_some(), values);
        self.sensitivity
            .modules
            .insert(name.to_owned(), sensitive_outputs);
        self.modules.insert(name.to_owned(), value);
        self.module_instances.insert(name.to_owned(), managed);
    }

    /// The default `azureml` configuration and every aliased one (a module has none of its
    /// own: [`provider::check_references`]).
    fn provider(&mut self, variables: &BTreeMap<String, Value>, inputs: &InputValues) {
        let mut diagnostics = Diagnostics::default();
        let (settings, aliased) = {
            let scope = self.scope(variables);
            let evaluator = Evaluator::new(&scope);
            let mut resolve = |block| {
                provider::resolve(
                    self.config,
                    block,
                    &evaluator,
                    &inputs.environment,
                    &mut diagnostics,
                )
            };
            let settings = resolve(self.config.provider.as_ref());
            let aliased: BTreeMap<String, ProviderSettings> = self
                .config
                .aliased_providers
                .iter()
                .map(|(alias, block)| (alias.clone(), resolve(Some(block))))
                .collect();
            (settings, aliased)
        };
        self.diagnostics.extend(diagnostics);
        self.result.provider = settings;
        self.result.aliased_providers = aliased;
    }

    fn error_at(
        &mut self,
        file: crate::source::FileId,
        range: std::ops::Range<usize>,
        summary: &str,
        detail: String,
    ) {
        let subject = self.config.span(file, range);
        self.diagnostics.push(Diagnostic {
            subject: Some(subject),
            ..Diagnostic::error(summary, detail)
        });
    }

    fn expansion(
        &mut self,
        count: Option<&super::AttrExpr>,
        for_each: Option<&super::AttrExpr>,
        file: crate::source::FileId,
        variables: &BTreeMap<String, Value>,
    ) -> Option<Expansion> {
        if let Some(count) = count {
            let result = Evaluator::new(&self.scope(variables)).eval(&count.expr);
            let value = match result {
                Ok(value) => value,
                Err(error) => {
                    self.diagnostics
                        .push(eval_diagnostic(self.config, file, error));
                    return None;
                }
            };
            let number = match &value {
                Value::Number(number) => number.as_i64(),
                Value::String(text) => text.trim().parse::<i64>().ok(),
                _ => None,
            };
            return match (number, &value) {
                (Some(number), _) if number >= 0 => Some(Expansion::Count(number as u64)),
                (_, Value::Unknown) => {
                    self.error_at(
                        file,
                        count.value_span.clone(),
                        "Invalid count argument",
                        "the `count` value depends on values known only after apply, so amlplan cannot tell how many instances to plan\nhelp: derive `count` from variables or literals".to_owned(),
                    );
                    None
                }
                _ => {
                    self.error_at(
                        file,
                        count.value_span.clone(),
                        "Invalid count argument",
                        format!("`count` must be a whole number, 0 or more, not {value}"),
                    );
                    None
                }
            };
        }
        let Some(for_each) = for_each else {
            return Some(Expansion::Single);
        };
        let (result, sensitive) = {
            let scope = self.scope(variables);
            let evaluator = Evaluator::new(&scope);
            let result = evaluator.eval(&for_each.expr);
            (result, evaluator.take_sensitive())
        };
        if sensitive && result.is_ok() {
            // Instance keys are shown everywhere (addresses, plans, state).
            self.error_at(
                file,
                for_each.value_span.clone(),
                "Invalid for_each argument",
                "sensitive values, or values derived from sensitive values, cannot be used as \
                 `for_each` arguments: the keys would be shown in every address\nhelp: use \
                 `nonsensitive()` on a value that is not secret"
                    .to_owned(),
            );
            return None;
        }
        let value = match result {
            Ok(value) => value,
            Err(error) => {
                self.diagnostics
                    .push(eval_diagnostic(self.config, file, error));
                return None;
            }
        };
        let range = for_each.value_span.clone();
        match value {
            Value::Map(entries) => Some(Expansion::ForEach(entries.into_iter().collect())),
            Value::List(items) if !items.iter().any(Value::contains_unknown) => {
                let mut keys = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(key) = item else {
                        self.error_at(file, range, "Invalid for_each argument", format!("`for_each` needs a map or a set of strings, and this set holds a {}", kind_of(&item)));
                        return None;
                    };
                    if keys
                        .iter()
                        .any(|(existing, _): &(String, Value)| *existing == key)
                    {
                        self.error_at(file, range, "Invalid for_each argument", format!("the key `{key}` appears twice\nhelp: wrap the list in `toset(...)` to remove duplicates"));
                        return None;
                    }
                    keys.push((key.clone(), Value::String(key)));
                }
                Some(Expansion::ForEach(keys))
            }
            Value::Unknown | Value::List(_) => {
                self.error_at(
                    file,
                    range,
                    "Invalid for_each argument",
                    "the `for_each` keys depend on values known only after apply, so amlplan cannot tell which instances to plan\nhelp: use keys that come from variables or literals".to_owned(),
                );
                None
            }
            Value::Null => {
                self.error_at(
                    file,
                    range,
                    "Invalid for_each argument",
                    "`for_each` is null; it needs a map or a set of strings".to_owned(),
                );
                None
            }
            other => {
                self.error_at(
                    file,
                    range,
                    "Invalid for_each argument",
                    format!(
                        "`for_each` needs a map or a set of strings, not a {}",
                        kind_of(&other)
                    ),
                );
                None
            }
        }
    }

    fn block(&mut self, index: usize, variables: &BTreeMap<String, Value>) {
        let config = self.config;
        let block = &config.blocks[index];
        for old in std::mem::take(&mut self.instances_of[index]) {
            self.result.resources.remove(&old);
            self.result.data.remove(&old);
            self.result.foreign.remove(&old);
        }
        let key: BlockKey = (
            block.addr.mode,
            block.addr.resource_type.clone(),
            block.addr.name.clone(),
        );
        let Some(expansion) = self.expansion(
            block.count.as_ref(),
            block.for_each.as_ref(),
            block.spans.file,
            variables,
        ) else {
            // Already reported; references to it evaluate to unknown instead of cascading.
            self.blocks.insert(key, Value::Unknown);
            return;
        };
        let instance_keys = seeds(expansion);
        let mut depends_on: Vec<ResourceAddr> = block
            .managed_dependencies
            .iter()
            .flat_map(|dependency| self.instances_of[*dependency].iter().cloned())
            .chain(block.module_dependencies.iter().flat_map(|name| {
                self.module_instances
                    .get(name)
                    .into_iter()
                    .flatten()
                    .cloned()
            }))
            .chain(self.context.inherited.iter().cloned())
            .collect();
        depends_on.sort();
        depends_on.dedup();
        let mut sensitive_attributes: std::collections::BTreeSet<String> = block
            .schema
            .as_deref()
            .map(|schema| {
                schema
                    .attributes
                    .iter()
                    .filter(|(_, attribute)| attribute.sensitive || attribute.write_only)
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let mut references: Vec<(Option<InstanceKey>, Value)> =
            Vec::with_capacity(instance_keys.len());
        let mut addrs = Vec::with_capacity(instance_keys.len());
        for (instance_key, count_index, each) in instance_keys {
            if let Some(provider) = &block.foreign {
                // Left to Terraform: the object as Terraform last applied it, else unknown.
                let addr = ResourceAddr {
                    module: self.context.path.clone(),
                    key: instance_key.clone(),
                    ..block.addr.clone()
                };
                let value = self
                    .known
                    .instance(&addr)
                    .map_or(Value::Unknown, |known| Value::Map(known.0.clone()));
                references.push((instance_key, value));
                self.result.foreign.insert(addr.clone(), provider.clone());
                addrs.push(addr);
                continue;
            }
            let mut body_diagnostics = Diagnostics::default();
            let mut sensitive = std::collections::BTreeSet::new();
            let (instance_seed_count, instance_seed_each) = (count_index.clone(), each.clone());
            let values = {
                let mut scope = self.scope(variables);
                scope.count_index = count_index;
                scope.each = each;
                let evaluator = Evaluator::new(&scope);
                let attributes = block.schema.as_deref().map(|schema| &schema.attributes);
                let mut body = BodyEvaluation {
                    config,
                    block,
                    evaluator: &evaluator,
                    diagnostics: &mut body_diagnostics,
                    sensitive: &mut sensitive,
                };
                body.evaluate(&block.body, attributes, &AttrPath::default())
            };
            let addr = ResourceAddr {
                module: self.context.path.clone(),
                key: instance_key.clone(),
                ..block.addr.clone()
            };
            self.diagnostics.extend(body_diagnostics);
            let reference =
                reference_object(block.schema.as_deref(), &values, self.known.instance(&addr));
            if !block.conditions.is_empty() {
                let found = {
                    let mut scope = self.scope(variables);
                    scope.count_index = instance_seed_count.clone();
                    scope.each = instance_seed_each.clone();
                    scope.self_value = Some(&reference);
                    evaluate_conditions(config, &block.conditions, &scope, "Resource")
                };
                for diagnostic in found {
                    self.diagnostics.push(diagnostic);
                }
            }
            references.push((instance_key, reference));
            let instance = ResourceInstance {
                addr: addr.clone(),
                values: ObjectValue(values),
                depends_on: depends_on.clone(),
                lifecycle: block.lifecycle.clone(),
                spans: Arc::clone(&block.spans),
                sensitive: sensitive.clone(),
                provider: self.context.providers.resolve(
                    block
                        .provider_alias
                        .as_ref()
                        .map(|(alias, _)| alias.as_str()),
                ),
            };
            sensitive_attributes.extend(sensitive);
            if let (Mode::Managed, Some(schema)) = (block.addr.mode, block.schema.as_deref()) {
                // The catalogue's constraints, as the provider and the engine check them.
                // Values set from sensitive ones are never quoted.
                self.diagnostics.extend(engine::schema::check::resource(
                    &schema.with_sensitive(&instance.sensitive),
                    &addr,
                    &instance.values,
                ));
            }
            match block.addr.mode {
                Mode::Managed => self.result.resources.insert(addr.clone(), instance),
                Mode::Data => self.result.data.insert(addr.clone(), instance),
            };
            addrs.push(addr);
        }
        let value = repeated(block.count.is_some(), block.for_each.is_some(), references);
        self.sensitivity
            .attributes
            .insert(key.clone(), sensitive_attributes);
        self.blocks.insert(key, value);
        self.instances_of[index] = addrs;
    }
}

/// Checks custom conditions in `scope`: a false one is an error naming its `error_message` (a
/// warning for a `check` block's `assert`); one not known yet is checked later by Terraform, not
/// here (amlplan checks at plan time only).
fn evaluate_conditions(
    config: &Configuration,
    conditions: &[super::Condition],
    scope: &Scope<'_>,
    what: &str,
) -> Vec<Diagnostic> {
    use super::ConditionKind;
    let evaluator = Evaluator::new(scope);
    let mut found = Vec::new();
    for condition in conditions {
        let at = config.span(
            condition.condition.file,
            condition.condition.value_span.clone(),
        );
        match evaluator.eval(&condition.condition.expr) {
            Ok(Value::Bool(true) | Value::Unknown) => continue,
            Ok(Value::Bool(false)) => {}
            Ok(other) => {
                found.push(Diagnostic {
                    subject: Some(at),
                    ..Diagnostic::error(
                        "Invalid condition result",
                        format!(
                            "a condition must be true or false, not a {}",
                            kind_of(&other)
                        ),
                    )
                });
                continue;
            }
            Err(error) => {
                found.push(eval_diagnostic(config, condition.condition.file, error));
                continue;
            }
        }
        evaluator.take_sensitive();
        let message = match evaluator.eval(&condition.error_message.expr) {
            Ok(_) if evaluator.take_sensitive() => {
                "The error message included a sensitive value, so it will not be displayed."
                    .to_owned()
            }
            Ok(Value::String(text)) => text,
            _ => "the condition failed (its error message could not be evaluated)".to_owned(),
        };
        let diagnostic = match condition.kind {
            ConditionKind::Precondition => {
                Diagnostic::error(format!("{what} precondition failed"), message)
            }
            ConditionKind::Postcondition => {
                Diagnostic::error(format!("{what} postcondition failed"), message)
            }
            ConditionKind::Assert => Diagnostic::warning("Check block assertion failed", message),
        };
        found.push(Diagnostic {
            subject: Some(at),
            ..diagnostic
        });
    }
    found
}

/// What a reference to a repeated block or module call yields: a list of the instances' values
/// (`count`), a map by key (`for_each`), or the one instance's value.
fn repeated(count: bool, for_each: bool, instances: Vec<(Option<InstanceKey>, Value)>) -> Value {
    if count {
        Value::List(instances.into_iter().map(|(_, value)| value).collect())
    } else if for_each {
        Value::Map(
            instances
                .into_iter()
                .filter_map(|(key, value)| match key {
                    Some(InstanceKey::Key(key)) => Some((key, value)),
                    _ => None,
                })
                .collect(),
        )
    } else {
        instances
            .into_iter()
            .next()
            .map_or(Value::Unknown, |(_, value)| value)
    }
}

/// The instances of an expansion: key, `count.index`, `each.key`/`each.value`.
fn seeds(expansion: Expansion) -> Vec<InstanceSeed> {
    match expansion {
        Expansion::Single => vec![(None, None, None)],
        Expansion::Count(count) => (0..count)
            .map(|position| {
                (
                    Some(InstanceKey::Index(position)),
                    Some(Value::from(position as i64)),
                    None,
                )
            })
            .collect(),
        Expansion::ForEach(entries) => entries
            .into_iter()
            .map(|(key, value)| {
                (
                    Some(InstanceKey::Key(key.clone())),
                    None,
                    Some((Value::String(key), value)),
                )
            })
            .collect(),
    }
}

/// A nested block to evaluate: its body, and a `dynamic` block's iterator and element.
type Instance<'a> = (&'a BodyExprs, Option<(&'a str, Value)>);

/// Evaluates a block body against schema attributes (or generically when there is no schema).
struct BodyEvaluation<'b, 'e> {
    config: &'b Configuration,
    block: &'b ResourceBlock,
    evaluator: &'b Evaluator<'e>,
    diagnostics: &'b mut Diagnostics,
    /// The top-level arguments (and nested blocks) set from sensitive values.
    sensitive: &'b mut std::collections::BTreeSet<String>,
}

impl BodyEvaluation<'_, '_> {
    fn evaluate(
        &mut self,
        body: &BodyExprs,
        attributes: Option<&BTreeMap<String, Attribute>>,
        path: &AttrPath,
    ) -> BTreeMap<String, Value> {
        let mut values = BTreeMap::new();
        for argument in &body.attributes {
            let result = self.evaluator.eval(&argument.expr);
            let tainted = self.evaluator.take_sensitive();
            if tainted {
                let top = path
                    .0
                    .first()
                    .and_then(|step| match step {
                        PathStep::Attr(name) => Some(name.clone()),
                        PathStep::Index(_) | PathStep::Key(_) => None,
                    })
                    .unwrap_or_else(|| argument.name.clone());
                self.sensitive.insert(top);
            }
            let value = match result {
                Ok(value) => value,
                Err(error) => {
                    self.diagnostics
                        .push(eval_diagnostic(self.config, argument.file, error));
                    values.insert(argument.name.clone(), Value::Unknown);
                    continue;
                }
            };
            let Some(definition) = attributes.and_then(|attributes| attributes.get(&argument.name))
            else {
                values.insert(argument.name.clone(), value);
                continue;
            };
            let attribute_path = path.join(PathStep::Attr(argument.name.clone()));
            if value.is_null() && definition.presence == Presence::Required {
                self.error(
                    argument,
                    "Missing required argument",
                    format!("`{attribute_path}` is required, and this value is null"),
                );
                values.insert(argument.name.clone(), Value::Unknown);
                continue;
            }
            match convert_attribute(value, definition) {
                Ok(converted) => {
                    values.insert(argument.name.clone(), converted);
                }
                Err(mismatch) => {
                    let mut full = attribute_path;
                    for step in mismatch.path {
                        full = full.join(step);
                    }
                    let message = if tainted || definition.sensitive || definition.write_only {
                        // The mismatch may quote the value.
                        "the value is sensitive, so it is not shown, and it is not of the type \
                         this argument takes"
                            .to_owned()
                    } else {
                        mismatch.message
                    };
                    self.error(
                        argument,
                        "Incorrect attribute value type",
                        format!("inappropriate value for `{full}`: {message}"),
                    );
                    values.insert(argument.name.clone(), Value::Unknown);
                }
            }
        }
        // Each block of a name, a `dynamic` one once per element (with its iterator bound);
        // a `dynamic` whose elements are not known yet makes the whole attribute unknown.
        let mut groups: Vec<(&str, Vec<Instance<'_>>)> = Vec::new();
        let mut unknown: BTreeSet<&str> = BTreeSet::new();
        for nested in &body.blocks {
            let instances = match &nested.dynamic {
                None => vec![(&nested.body, None)],
                Some(dynamic) => match self.dynamic_elements(dynamic) {
                    Some(elements) => elements
                        .into_iter()
                        .map(|element| (&nested.body, Some((dynamic.iterator.as_str(), element))))
                        .collect(),
                    None => {
                        unknown.insert(&nested.name);
                        Vec::new()
                    }
                },
            };
            match groups.iter_mut().find(|(name, _)| *name == nested.name) {
                Some((_, bodies)) => bodies.extend(instances),
                None => groups.push((&nested.name, instances)),
            }
        }
        for (name, bodies) in groups {
            if unknown.contains(name) {
                values.insert(name.to_owned(), Value::Unknown);
                continue;
            }
            let nested_attributes = attributes
                .and_then(|attributes| attributes.get(name))
                .map(|definition| &definition.ty);
            let value = match nested_attributes {
                Some(AttrType::Object(inner)) => match bodies.first() {
                    Some(first) => {
                        let inner_path = path.join(PathStep::Attr(name.to_owned()));
                        Value::Map(self.evaluate_one(first, Some(inner), &inner_path))
                    }
                    // A `dynamic` with no element: no block.
                    None => continue,
                },
                Some(AttrType::List(element)) => {
                    let inner = element.nested_attributes();
                    Value::List(
                        bodies
                            .iter()
                            .enumerate()
                            .map(|(position, nested)| {
                                let inner_path = path
                                    .join(PathStep::Attr(name.to_owned()))
                                    .join(PathStep::Index(position as u64));
                                Value::Map(self.evaluate_one(nested, inner, &inner_path))
                            })
                            .collect(),
                    )
                }
                _ => Value::List(
                    bodies
                        .iter()
                        .map(|nested| Value::Map(self.evaluate_one(nested, None, path)))
                        .collect(),
                ),
            };
            values.insert(name.to_owned(), value);
        }
        values
    }

    /// One block's body, with a `dynamic` block's iterator bound when it is one.
    fn evaluate_one(
        &mut self,
        (body, element): &Instance<'_>,
        attributes: Option<&BTreeMap<String, Attribute>>,
        path: &AttrPath,
    ) -> BTreeMap<String, Value> {
        let Some((iterator, element)) = element else {
            return self.evaluate(body, attributes, path);
        };
        let scope = self.evaluator.scope_with(iterator, element.clone());
        let evaluator = Evaluator::new(&scope);
        let mut inner = BodyEvaluation {
            config: self.config,
            block: self.block,
            evaluator: &evaluator,
            diagnostics: self.diagnostics,
            sensitive: self.sensitive,
        };
        inner.evaluate(body, attributes, path)
    }

    /// The elements of a `dynamic` block's `for_each` (objects of `key` and `value`); `None`
    /// when they are not known yet, or on an error (reported).
    fn dynamic_elements(&mut self, dynamic: &super::DynamicBlock) -> Option<Vec<Value>> {
        let element = |key: Value, value: Value| {
            Value::Map(BTreeMap::from([
                ("key".to_owned(), key),
                ("value".to_owned(), value),
            ]))
        };
        let result = self.evaluator.eval(&dynamic.for_each.expr);
        // The elements' values carry their own marks when the content reads them.
        self.evaluator.take_sensitive();
        match result {
            Ok(Value::List(items)) => Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(index, item)| element(Value::from(index as i64), item))
                    .collect(),
            ),
            Ok(Value::Map(entries)) => Some(
                entries
                    .into_iter()
                    .map(|(key, value)| element(Value::String(key), value))
                    .collect(),
            ),
            Ok(Value::Null) => Some(Vec::new()),
            Ok(Value::Unknown) => None,
            Ok(other) => {
                self.error(
                    &dynamic.for_each,
                    "Invalid dynamic for_each value",
                    format!(
                        "`for_each` needs a list, a set or a map, not a {}",
                        kind_of(&other)
                    ),
                );
                None
            }
            Err(error) => {
                self.diagnostics
                    .push(eval_diagnostic(self.config, dynamic.for_each.file, error));
                None
            }
        }
    }

    fn error(&mut self, argument: &super::AttrExpr, summary: &str, detail: String) {
        let subject = self.config.span(argument.file, argument.value_span.clone());
        let _ = self.block;
        self.diagnostics.push(Diagnostic {
            subject: Some(subject),
            ..Diagnostic::error(summary, detail)
        });
    }
}

/// The value a reference to an instance yields (see the module table).
fn reference_object(
    schema: Option<&ResourceSchema>,
    configured: &BTreeMap<String, Value>,
    known: Option<&ObjectValue>,
) -> Value {
    let Some(schema) = schema else {
        // A data source the catalogue does not describe: only what was read is known.
        return match known {
            Some(known) => {
                let mut merged = known.0.clone();
                merged.extend(
                    configured
                        .iter()
                        .map(|(name, value)| (name.clone(), value.clone())),
                );
                Value::Map(merged)
            }
            None => Value::Unknown,
        };
    };
    let mut object = BTreeMap::new();
    for (name, attribute) in &schema.attributes {
        let value = match configured.get(name) {
            Some(value) => value.clone(),
            None => match attribute.presence {
                Presence::Optional => attribute.default.clone().unwrap_or(Value::Null),
                Presence::Required => Value::Null,
                Presence::Computed | Presence::OptionalComputed => known
                    .and_then(|known| known.0.get(name))
                    .cloned()
                    .unwrap_or(Value::Unknown),
            },
        };
        object.insert(name.clone(), value);
    }
    Value::Map(object)
}
