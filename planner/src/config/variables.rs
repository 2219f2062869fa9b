//! Input variables: type constraints (`string`, `list(map(string))`, `object({...})`, ...), the
//! values given on the command line, in `.tfvars` files and in `TF_VAR_*`, and their resolution
//! against each `variable` block (conversion, defaults, `validation` rules).
//!
//! Precedence, lowest first, as Terraform documents it: `TF_VAR_*` environment variables,
//! `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars` / `*.auto.tfvars.json` in lexical
//! order, then every `--var` and `--var-file` in command-line order. The last value wins.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use engine::diag::{Diagnostic, Diagnostics, Subject};
use engine::value::Value;
use hcl::edit::Span;
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::Structure;

use super::convert;
use super::eval::{EvalError, Evaluator, Scope, Sensitivity, kind_of};
use super::spelling::did_you_mean;
use super::{Configuration, VariableBlock};
use crate::source::{FileId, SourceFile};

/// A type constraint of a `variable` block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VarType {
    Any,
    String,
    Number,
    Bool,
    List(Box<VarType>),
    Set(Box<VarType>),
    Map(Box<VarType>),
    Tuple(Vec<VarType>),
    /// Attributes: type, optional, default.
    Object(BTreeMap<String, (VarType, bool, Option<Value>)>),
}

impl VarType {
    fn is_primitive_or_any(&self) -> bool {
        matches!(
            self,
            VarType::Any | VarType::String | VarType::Number | VarType::Bool
        )
    }
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarType::Any => f.write_str("any"),
            VarType::String => f.write_str("string"),
            VarType::Number => f.write_str("number"),
            VarType::Bool => f.write_str("bool"),
            VarType::List(element) => write!(f, "list({element})"),
            VarType::Set(element) => write!(f, "set({element})"),
            VarType::Map(element) => write!(f, "map({element})"),
            VarType::Tuple(elements) => {
                let names: Vec<String> = elements.iter().map(ToString::to_string).collect();
                write!(f, "tuple([{}])", names.join(", "))
            }
            VarType::Object(_) => f.write_str("object"),
        }
    }
}

/// Parses a type constraint expression. The error carries a message and, when narrower than the
/// whole expression, a span.
pub(crate) fn parse_type(expr: &Expression) -> Result<VarType, TypeError> {
    let fail = |message: String, node: &Expression| Err((message, node.span()));
    match expr {
        Expression::Variable(name) => match name.value().as_str() {
            "any" => Ok(VarType::Any),
            "string" => Ok(VarType::String),
            "number" => Ok(VarType::Number),
            "bool" => Ok(VarType::Bool),
            other => fail(
                format!(
                    "`{other}` is not a type{}",
                    did_you_mean(
                        other,
                        [
                            "any", "string", "number", "bool", "list", "map", "set", "object",
                            "tuple"
                        ]
                    )
                ),
                expr,
            ),
        },
        // Terraform 0.11 quoted types, still accepted by Terraform with a warning.
        Expression::String(text) => match text.value().as_str() {
            "string" => Ok(VarType::String),
            "list" => Ok(VarType::List(Box::new(VarType::Any))),
            "map" => Ok(VarType::Map(Box::new(VarType::Any))),
            other => fail(
                format!("`\"{other}\"` is not a type; write the type without quotes"),
                expr,
            ),
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.value().as_str();
            let arguments: Vec<&Expression> = call.args.iter().collect();
            let [argument] = arguments.as_slice() else {
                return fail(format!("`{name}(...)` takes exactly one argument"), expr);
            };
            match name {
                "list" => Ok(VarType::List(Box::new(parse_type(argument)?))),
                "set" => Ok(VarType::Set(Box::new(parse_type(argument)?))),
                "map" => Ok(VarType::Map(Box::new(parse_type(argument)?))),
                "tuple" => match argument {
                    Expression::Array(items) => Ok(VarType::Tuple(
                        items.iter().map(parse_type).collect::<Result<_, _>>()?,
                    )),
                    other => fail(
                        "`tuple` takes a list of types, as in `tuple([string, number])`".to_owned(),
                        other,
                    ),
                },
                "object" => {
                    let Expression::Object(object) = argument else {
                        return fail("`object` takes an object of attribute types, as in `object({ name = string })`".to_owned(), argument);
                    };
                    let mut attributes = BTreeMap::new();
                    for (key, value) in object.iter() {
                        let key_name = match key {
                            ObjectKey::Ident(ident) => ident.value().as_str().to_owned(),
                            ObjectKey::Expression(Expression::String(text)) => text.value().clone(),
                            ObjectKey::Expression(other) => {
                                return fail(
                                    "attribute names must be plain names".to_owned(),
                                    other,
                                );
                            }
                        };
                        attributes.insert(key_name, parse_attribute_type(value.expr())?);
                    }
                    Ok(VarType::Object(attributes))
                }
                "optional" => fail(
                    "`optional(...)` is only allowed for attributes of an `object` type".to_owned(),
                    expr,
                ),
                other => fail(
                    format!(
                        "`{other}` is not a type constructor{}",
                        did_you_mean(other, ["list", "set", "map", "tuple", "object"])
                    ),
                    expr,
                ),
            }
        }
        other => fail(
            "expected a type such as `string`, `list(string)` or `object({ ... })`".to_owned(),
            other,
        ),
    }
}

/// A type error: message and, when narrower than the whole expression, a span.
type TypeError = (String, Option<Range<usize>>);

/// An object attribute's type: the type, whether it is optional, and its default.
type AttributeType = (VarType, bool, Option<Value>);

fn parse_attribute_type(expr: &Expression) -> Result<AttributeType, TypeError> {
    if let Expression::FuncCall(call) = expr
        && call.name.name.value().as_str() == "optional"
    {
        let arguments: Vec<&Expression> = call.args.iter().collect();
        return match arguments.as_slice() {
            [ty] => Ok((parse_type(ty)?, true, None)),
            [ty, default] => {
                let ty = parse_type(ty)?;
                let scope = Scope::literal_only(Path::new("."), "in a type constraint");
                let value = Evaluator::new(&scope)
                    .eval(default)
                    .map_err(|error| (error.detail, error.span))?;
                let value = convert_to(value, &ty).map_err(|message| (message, default.span()))?;
                Ok((ty, true, Some(value)))
            }
            _ => Err((
                "`optional` takes a type and an optional default".to_owned(),
                expr.span(),
            )),
        };
    }
    Ok((parse_type(expr)?, false, None))
}

/// Converts a value to a type constraint.
pub(crate) fn convert_to(value: Value, ty: &VarType) -> Result<Value, String> {
    match (value, ty) {
        (value @ (Value::Unknown | Value::Null), _) | (value, VarType::Any) => Ok(value),
        (value, VarType::String) => convert::to_string(value),
        (value, VarType::Number) => convert::to_number(value),
        (value, VarType::Bool) => convert::to_bool(value),
        (Value::List(items), VarType::List(element)) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                convert_to(item, element).map_err(|message| format!("element {index}: {message}"))
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Value::List(items), VarType::Set(element)) => {
            let mut converted: Vec<Value> = items
                .into_iter()
                .map(|item| convert_to(item, element))
                .collect::<Result<_, _>>()?;
            converted.sort_by_key(|item| item.to_string());
            converted.dedup();
            Ok(Value::List(converted))
        }
        (Value::List(items), VarType::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(format!(
                    "a tuple of {} elements is required, not {}",
                    elements.len(),
                    items.len()
                ));
            }
            items
                .into_iter()
                .zip(elements)
                .map(|(item, element)| convert_to(item, element))
                .collect::<Result<_, _>>()
                .map(Value::List)
        }
        (Value::Map(entries), VarType::Map(element)) => entries
            .into_iter()
            .map(|(key, item)| {
                convert_to(item, element)
                    .map(|converted| (key.clone(), converted))
                    .map_err(|message| format!("element `{key}`: {message}"))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (Value::Map(mut entries), VarType::Object(attributes)) => {
            let mut converted = BTreeMap::new();
            for (name, (attribute_type, optional, default)) in attributes {
                match entries.remove(name) {
                    Some(item) if !item.is_null() => {
                        converted.insert(
                            name.clone(),
                            convert_to(item, attribute_type)
                                .map_err(|message| format!("attribute `{name}`: {message}"))?,
                        );
                    }
                    _ if *optional => {
                        converted.insert(name.clone(), default.clone().unwrap_or(Value::Null));
                    }
                    _ => return Err(format!("attribute `{name}` is required")),
                }
            }
            Ok(Value::Map(converted))
        }
        (other, ty) => Err(format!("a {ty} is required, not a {}", kind_of(&other))),
    }
}

/// A `--var` or `--var-file` option, kept in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliVariable {
    /// `--var NAME=VALUE`.
    Var(String),
    /// `--var-file PATH` (relative paths start at the configuration folder).
    File(PathBuf),
}

/// A snapshot of environment variables (so tests do not touch the process environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    variables: BTreeMap<String, String>,
}

impl Environment {
    /// The current process environment (variables that are not UTF-8 are skipped).
    pub fn from_process() -> Environment {
        Environment {
            variables: std::env::vars_os()
                .filter_map(|(key, value)| {
                    Some((key.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    /// An environment with exactly these variables.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Environment {
        Environment {
            variables: pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    Environment(String),
    CommandLine,
    File {
        file: FileId,
        range: Range<usize>,
    },
    /// A module call's argument (located in the calling module).
    Argument(Subject),
}

/// A variable's raw value before conversion to its type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue {
    /// From `--var` or `TF_VAR_*`: a string, parsed as HCL for complex types.
    Text(String),
    /// From a variables file.
    Value(Value),
}

/// The values given for input variables, and the environment the provider settings fall back
/// to. Built by [`Configuration::load_inputs`].
#[derive(Debug, Clone, Default)]
pub struct InputValues {
    pub(crate) values: BTreeMap<String, (RawValue, Origin)>,
    pub(crate) environment: Environment,
    /// The selected workspace (`terraform.workspace`); `None` is `default`.
    pub(crate) workspace: Option<String>,
}

impl InputValues {
    /// The values as text, one `name=value` line each in name order (same values, same
    /// text; where they came from is left out). Holds secrets: only for keyed digests.
    pub fn fingerprint(&self) -> String {
        let values: String = self
            .values
            .iter()
            .map(|(name, (raw, _))| format!("{name}={raw:?}\n"))
            .collect();
        format!("{values}terraform.workspace={}\n", self.workspace())
    }

    /// The values a module call gives its module's variables (evaluated, each located at
    /// its argument), in this workspace.
    pub(crate) fn for_module(&self, given: BTreeMap<String, (Value, Subject)>) -> InputValues {
        InputValues {
            values: given
                .into_iter()
                .map(|(name, (value, subject))| {
                    (name, (RawValue::Value(value), Origin::Argument(subject)))
                })
                .collect(),
            environment: Environment::default(),
            workspace: self.workspace.clone(),
        }
    }

    /// The selected workspace, as `terraform.workspace` reads it.
    pub fn workspace(&self) -> &str {
        self.workspace.as_deref().unwrap_or("default")
    }

    /// These values in workspace `name`.
    pub fn with_workspace(mut self, name: &str) -> InputValues {
        self.workspace = Some(name.to_owned());
        self
    }

    /// No values, empty environment.
    pub fn new() -> InputValues {
        InputValues::default()
    }

    /// Values from `--var`-style `NAME=VALUE` strings only, with an environment (for tests and
    /// callers that collect values themselves).
    pub fn from_vars<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
        environment: Environment,
    ) -> InputValues {
        InputValues {
            values: vars
                .into_iter()
                .map(|(name, text)| {
                    (
                        name.to_owned(),
                        (RawValue::Text(text.to_owned()), Origin::CommandLine),
                    )
                })
                .collect(),
            environment,
            workspace: None,
        }
    }
}

impl Configuration {
    /// Collects input variable values for this configuration from `TF_VAR_*`, the folder's
    /// `terraform.tfvars` and `*.auto.tfvars` files, and `cli` (in order). Variables files are
    /// added to [`Configuration::sources`] so their diagnostics show source lines.
    pub fn load_inputs(
        &mut self,
        cli: &[CliVariable],
        environment: &Environment,
    ) -> (InputValues, Diagnostics) {
        let mut diagnostics = Diagnostics::default();
        let mut inputs = InputValues {
            values: BTreeMap::new(),
            environment: environment.clone(),
            workspace: None,
        };
        for (key, value) in &environment.variables {
            if let Some(name) = key.strip_prefix("TF_VAR_")
                && self.variables.contains_key(name)
            {
                inputs.values.insert(
                    name.to_owned(),
                    (
                        RawValue::Text(value.clone()),
                        Origin::Environment(key.clone()),
                    ),
                );
            }
        }
        let mut automatic: Vec<String> = Vec::new();
        for name in ["terraform.tfvars", "terraform.tfvars.json"] {
            if self.dir.join(name).is_file() {
                automatic.push(name.to_owned());
            }
        }
        let mut auto_files: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().into_string().ok())
            .filter(|name| name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json"))
            .collect();
        auto_files.sort();
        automatic.extend(auto_files);
        for name in automatic {
            let path = self.dir.join(&name);
            self.load_variables_file(&path, &mut inputs, &mut diagnostics);
        }
        for option in cli {
            match option {
                CliVariable::Var(assignment) => {
                    let Some((name, value)) = assignment.split_once('=') else {
                        diagnostics.push(Diagnostic::error(
                            "Invalid --var option",
                            format!("`{assignment}` is not `NAME=VALUE`"),
                        ));
                        continue;
                    };
                    let name = name.trim();
                    if !self.variables.contains_key(name) {
                        diagnostics.push(Diagnostic::error(
                            "Value for undeclared variable",
                            format!("`--var {name}=...` sets a variable this configuration does not declare{}", did_you_mean(name, self.variables.keys().map(String::as_str))),
                        ));
                        continue;
                    }
                    inputs.values.insert(
                        name.to_owned(),
                        (RawValue::Text(value.to_owned()), Origin::CommandLine),
                    );
                }
                CliVariable::File(path) => {
                    let path = if path.is_absolute() {
                        path.clone()
                    } else {
                        self.dir.join(path)
                    };
                    if !path.is_file() {
                        diagnostics.push(Diagnostic::error(
                            "Failed to read variables file",
                            format!("`{}` does not exist", path.display()),
                        ));
                        continue;
                    }
                    self.load_variables_file(&path, &mut inputs, &mut diagnostics);
                }
            }
        }
        (inputs, diagnostics)
    }

    fn load_variables_file(
        &mut self,
        path: &Path,
        inputs: &mut InputValues,
        diagnostics: &mut Diagnostics,
    ) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                diagnostics.push(Diagnostic::error(
                    "Failed to read variables file",
                    format!("cannot read `{}`: {error}", path.display()),
                ));
                return;
            }
        };
        let display = super::load::display_name(&self.dir, path);
        let file = self
            .sources
            .add(SourceFile::new(display.clone(), text.clone()));
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(entries)) => {
                    for (name, json) in entries {
                        if self.variables.contains_key(&name) {
                            inputs.values.insert(
                                name,
                                (
                                    RawValue::Value(Value::from_json(&json)),
                                    Origin::File { file, range: 0..0 },
                                ),
                            );
                        } else {
                            diagnostics.push(Diagnostic::warning("Value for undeclared variable", format!("`{display}` sets `{name}`, which this configuration does not declare")));
                        }
                    }
                }
                Ok(_) => diagnostics.push(Diagnostic::error(
                    "Invalid variables file",
                    format!("`{display}` must hold a JSON object"),
                )),
                Err(error) => diagnostics.push(Diagnostic::error(
                    "Invalid variables file",
                    format!("`{display}` is not valid JSON: {error}"),
                )),
            }
            return;
        }
        let body = match hcl::edit::parser::parse_body(&text) {
            Ok(body) => body,
            Err(error) => {
                diagnostics.push(super::load::parse_error(self, file, &error));
                return;
            }
        };
        let scope = Scope::literal_only(&self.dir, "in a variables file");
        for structure in body.iter() {
            let Structure::Attribute(attribute) = structure else {
                let range = structure.span().unwrap_or_default();
                diagnostics.push(Diagnostic {
                    subject: Some(self.span(file, range)),
                    ..Diagnostic::error(
                        "Unexpected block",
                        "a variables file holds only `name = value` assignments",
                    )
                });
                continue;
            };
            let name = attribute.key.value().as_str();
            let key_range = attribute.key.span().unwrap_or_default();
            if !self.variables.contains_key(name) {
                let suggestion = did_you_mean(name, self.variables.keys().map(String::as_str));
                diagnostics.push(Diagnostic {
                    subject: Some(self.span(file, key_range)),
                    ..Diagnostic::warning(
                        "Value for undeclared variable",
                        format!("this configuration declares no variable `{name}`{suggestion}"),
                    )
                });
                continue;
            }
            match Evaluator::new(&scope).eval(&attribute.value) {
                Ok(value) => {
                    let range = attribute.value.span().unwrap_or_default();
                    inputs.values.insert(
                        name.to_owned(),
                        (RawValue::Value(value), Origin::File { file, range }),
                    );
                }
                Err(error) => diagnostics.push(eval_diagnostic(self, file, error)),
            }
        }
    }
}

/// A diagnostic for an evaluation error in `file`.
pub(crate) fn eval_diagnostic(
    config: &Configuration,
    file: FileId,
    error: EvalError,
) -> Diagnostic {
    Diagnostic {
        subject: error.span.map(|range| config.span(file, range)),
        ..Diagnostic::error(error.summary, error.detail)
    }
}

/// Resolves every declared variable to a value of its type; reports missing and invalid ones.
pub(crate) fn resolve(
    config: &Configuration,
    inputs: &InputValues,
    diagnostics: &mut Diagnostics,
) -> BTreeMap<String, Value> {
    let mut resolved = BTreeMap::new();
    for (name, variable) in &config.variables {
        let value = resolve_one(config, variable, inputs.values.get(name), diagnostics);
        resolved.insert(name.clone(), value);
    }
    for variable in config.variables.values() {
        validate(config, variable, &resolved, diagnostics);
    }
    resolved
}

/// What a diagnostic says instead of a message that could quote a sensitive value.
const SENSITIVE_NOT_SHOWN: &str = "the value is sensitive, so it is not shown";

fn resolve_one(
    config: &Configuration,
    variable: &VariableBlock,
    given: Option<&(RawValue, Origin)>,
    diagnostics: &mut Diagnostics,
) -> Value {
    let name = &variable.name;
    let invalid = |message: String, origin: &Origin| {
        let (where_from, subject) = match origin {
            Origin::Environment(key) => (format!(" (from `{key}`)"), None),
            Origin::CommandLine => (" (from `--var`)".to_owned(), None),
            Origin::File { file, range } if range.is_empty() => {
                (format!(" (from `{}`)", config.sources.name(*file)), None)
            }
            Origin::File { file, range } => {
                (String::new(), Some(config.span(*file, range.clone())))
            }
            Origin::Argument(subject) => {
                (" (the module argument)".to_owned(), Some(subject.clone()))
            }
        };
        Diagnostic {
            subject,
            ..Diagnostic::error(
                "Invalid value for input variable",
                format!("the value for `var.{name}`{where_from} is not valid: {message}"),
            )
        }
    };
    let scope = Scope::literal_only(&config.dir, "in a variable value");
    let value = match given {
        Some((RawValue::Text(text), origin)) => {
            if variable.ty.is_primitive_or_any() {
                Value::String(text.clone())
            } else {
                let parsed = hcl::edit::parser::parse_expr(text)
                    .map_err(|error| error.message().to_owned())
                    .and_then(|expr| {
                        Evaluator::new(&scope)
                            .eval(&expr)
                            .map_err(|error| error.detail)
                    });
                match parsed {
                    Ok(value) => value,
                    Err(message) => {
                        let message = if variable.sensitive {
                            SENSITIVE_NOT_SHOWN.to_owned()
                        } else {
                            message
                        };
                        diagnostics.push(invalid(
                            format!("it is not a valid {} expression ({message})", variable.ty),
                            origin,
                        ));
                        return Value::Unknown;
                    }
                }
            }
        }
        Some((RawValue::Value(value), _)) => value.clone(),
        None => match &variable.default {
            Some(default) => match Evaluator::new(&scope).eval(&default.expr) {
                Ok(value) => value,
                Err(error) => {
                    diagnostics.push(eval_diagnostic(config, default.file, error));
                    return Value::Unknown;
                }
            },
            None => {
                diagnostics.push(Diagnostic {
                    subject: Some(config.span(variable.file, variable.header.clone())),
                    ..Diagnostic::error(
                        "No value for required variable",
                        format!("`var.{name}` has no default and no value was given\nhelp: set it with `--var {name}=...`, a `.tfvars` file or the `TF_VAR_{name}` environment variable"),
                    )
                });
                return Value::Unknown;
            }
        },
    };
    let origin = given.map_or(
        Origin::File {
            file: variable.file,
            range: variable
                .default
                .as_ref()
                .map_or(variable.header.clone(), |default| {
                    default.value_span.clone()
                }),
        },
        |(_, origin)| origin.clone(),
    );
    if value.is_null() && !variable.nullable {
        diagnostics.push(invalid("the variable is not nullable".to_owned(), &origin));
        return Value::Unknown;
    }
    match convert_to(value, &variable.ty) {
        Ok(value) => value,
        Err(message) => {
            let message = if variable.sensitive {
                format!("{SENSITIVE_NOT_SHOWN}, and it is not a {}", variable.ty)
            } else {
                message
            };
            diagnostics.push(invalid(message, &origin));
            Value::Unknown
        }
    }
}

fn validate(
    config: &Configuration,
    variable: &VariableBlock,
    resolved: &BTreeMap<String, Value>,
    diagnostics: &mut Diagnostics,
) {
    if variable.validations.is_empty() {
        return;
    }
    let value = resolved
        .get(&variable.name)
        .cloned()
        .unwrap_or(Value::Unknown);
    if value.contains_unknown() {
        return;
    }
    let own = BTreeMap::from([(variable.name.clone(), value)]);
    let sensitivity = Sensitivity {
        variables: variable
            .sensitive
            .then(|| variable.name.clone())
            .into_iter()
            .collect(),
        ..Sensitivity::default()
    };
    let scope = Scope {
        variables: Some(&own),
        sensitive: Some(&sensitivity),
        ..Scope::empty(&config.dir)
    };
    let evaluator = Evaluator::new(&scope);
    for rule in &variable.validations {
        let passed = match evaluator.eval(&rule.condition.expr) {
            Ok(Value::Bool(flag)) => flag,
            Ok(Value::Unknown) => true,
            Ok(other) => {
                diagnostics.push(Diagnostic {
                    subject: Some(
                        config.span(rule.condition.file, rule.condition.value_span.clone()),
                    ),
                    ..Diagnostic::error(
                        "Invalid validation condition",
                        format!("the condition must be a bool, not a {}", kind_of(&other)),
                    )
                });
                continue;
            }
            Err(error) => {
                diagnostics.push(eval_diagnostic(config, rule.condition.file, error));
                continue;
            }
        };
        if passed {
            continue;
        }
        evaluator.take_sensitive();
        let message = match evaluator.eval(&rule.error_message.expr) {
            // Terraform's words: the message is not shown when it holds a sensitive value.
            Ok(_) if evaluator.take_sensitive() => {
                "The error message included a sensitive value, so it will not be displayed."
                    .to_owned()
            }
            Ok(Value::String(text)) => text,
            _ => "the validation rule failed".to_owned(),
        };
        diagnostics.push(Diagnostic {
            subject: Some(config.span(rule.condition.file, rule.condition.value_span.clone())),
            ..Diagnostic::error(
                "Invalid value for variable",
                format!(
                    "{message}\n`var.{}` failed this validation rule",
                    variable.name
                ),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn ty(text: &str) -> VarType {
        parse_type(&hcl::edit::parser::parse_expr(text).expect("valid")).expect("valid type")
    }

    #[test]
    fn types_parse_and_convert() {
        assert_eq!(ty("list(string)"), VarType::List(Box::new(VarType::String)));
        assert_eq!(ty("map(number)").to_string(), "map(number)");
        let object = ty("object({ name = string, size = optional(number, 2) })");
        let value = Value::Map(BTreeMap::from([("name".to_owned(), Value::from("a"))]));
        assert_eq!(
            convert_to(value, &object).map(|v| v.to_string()),
            Ok("{name = \"a\", size = 2}".to_owned())
        );
        assert_eq!(
            convert_to(Value::from("3"), &VarType::Number),
            Ok(Value::from(3))
        );
        assert!(convert_to(Value::from("x"), &VarType::Number).is_err());
        assert_eq!(
            convert_to(
                Value::List(vec![Value::from("b"), Value::from("a"), Value::from("b")]),
                &ty("set(string)")
            ),
            Ok(Value::List(vec![Value::from("a"), Value::from("b")]))
        );
    }

    #[test]
    fn bad_types_are_reported() {
        let error = parse_type(&hcl::edit::parser::parse_expr("strin").expect("valid"))
            .expect_err("not a type");
        assert!(error.0.contains("did you mean `string`?"), "{}", error.0);
    }
}
