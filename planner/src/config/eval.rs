//! Evaluates HCL expressions (the `hcl::edit` syntax tree, spans kept) into [`engine::value::Value`],
//! with Terraform's treatment of unknowns: any operation on an unknown operand yields unknown, so a
//! value that depends on something known only after apply is `Value::Unknown` rather than an
//! error or a guess.
//!
//! Why not `hcl::eval::Context`: `hcl::Value` has no unknown (markers would leak into strings and
//! break arithmetic), its functions are plain `fn` pointers (so `file()` could not see the
//! configuration folder), `try`/`can` need their arguments unevaluated, and its errors carry no
//! source span. This evaluator walks the same syntax tree and reports every error at the span of
//! the sub-expression at fault. What a name refers to is decided by the [`Scope`] the caller
//! builds; this module knows nothing about blocks, schemas or files.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

use engine::addr::Mode;
use engine::value::{Number, Value};
use hcl::edit::Span;
use hcl::edit::expr::{
    BinaryOp, BinaryOperator, Expression, ForExpr, FuncCall, ObjectKey, Traversal,
    TraversalOperator, UnaryOperator,
};
use hcl::edit::template::{Directive, Element, Strip, Template};

use super::functions;
use super::spelling::did_you_mean;

/// An evaluation error, about a byte range of the file the expression came from.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// Short title, as terraform writes them.
    pub summary: String,
    /// What is wrong and how to fix it (first line: the label under the carets).
    pub detail: String,
    /// Where, in the expression's file.
    pub span: Option<Range<usize>>,
}

impl EvalError {
    pub(crate) fn new(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Range<usize>>,
    ) -> EvalError {
        EvalError {
            summary: summary.into(),
            detail: detail.into(),
            span,
        }
    }
}

/// The result of evaluating one expression.
pub type EvalResult = Result<Value, EvalError>;

/// Identifies a `resource` or `data` block: mode, type, name.
pub(crate) type BlockKey = (Mode, String, String);

/// What names refer to while evaluating one expression.
#[derive(Clone)]
pub(crate) struct Scope<'a> {
    /// `var.*`. `None`: references are not allowed here (see `restriction`).
    pub variables: Option<&'a BTreeMap<String, Value>>,
    /// `local.*`.
    pub locals: Option<&'a BTreeMap<String, Value>>,
    /// Resource and data blocks: an object, a list (`count`) or a map (`for_each`) of instances.
    pub blocks: Option<&'a HashMap<BlockKey, Value>>,
    /// `count.index`, inside a block with `count`.
    pub count_index: Option<Value>,
    /// `each.key` and `each.value`, inside a block with `for_each`.
    pub each: Option<(Value, Value)>,
    /// Where relative paths of `file()` and friends start (the configuration folder).
    pub base_dir: &'a Path,
    /// Why references are refused in this context (e.g. "in a variable definitions file").
    pub restriction: Option<&'static str>,
    /// Which references are sensitive (`None`: none is).
    pub sensitive: Option<&'a Sensitivity>,
    /// `terraform.workspace` (`None`: `default`).
    pub workspace: Option<&'a str>,
    /// `module.NAME`: the outputs of each call (an object, or a list or map of objects).
    pub modules: Option<&'a HashMap<String, Value>>,
    /// `path.module` (`None`: `.`).
    pub path_module: Option<&'a str>,
    /// The iterators of the `dynamic` blocks around the expression (innermost last): each an
    /// object of `key` and `value`.
    pub dynamic: Vec<(String, Value)>,
    /// `self`, in a postcondition: the object as planned.
    pub self_value: Option<&'a Value>,
}

/// The sensitive sources of a configuration, as Terraform marks them: a value that reads one of
/// them (or calls `sensitive()`) is sensitive, unless `nonsensitive()` unwraps it. Marks are per
/// whole value: a local that mixes secrets with other members is sensitive as a whole (Terraform
/// marks each member), which hides more, never less.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sensitivity {
    /// `var.*` declared `sensitive = true`.
    pub variables: BTreeSet<String>,
    /// `local.*` whose value is sensitive.
    pub locals: BTreeSet<String>,
    /// Per resource or data block: its sensitive attributes (the schema's secrets and those set
    /// from sensitive values).
    pub attributes: HashMap<BlockKey, BTreeSet<String>>,
    /// Per module call: its sensitive outputs.
    pub modules: HashMap<String, BTreeSet<String>>,
}

impl<'a> Scope<'a> {
    /// A scope where nothing is bound (every reference fails as undeclared); callers set what
    /// their context has with struct update syntax.
    pub(crate) fn empty(base_dir: &'a Path) -> Scope<'a> {
        Scope {
            variables: None,
            locals: None,
            blocks: None,
            count_index: None,
            each: None,
            base_dir,
            restriction: None,
            sensitive: None,
            workspace: None,
            modules: None,
            path_module: None,
            dynamic: Vec::new(),
            self_value: None,
        }
    }

    /// A scope where no reference is allowed, only literals and functions.
    pub(crate) fn literal_only(base_dir: &'a Path, restriction: &'static str) -> Scope<'a> {
        Scope {
            restriction: Some(restriction),
            ..Scope::empty(base_dir)
        }
    }
}

/// Names bound by `for` expressions and template `for` directives (innermost first).
struct Frame<'p> {
    name: &'p str,
    value: Value,
    parent: Option<&'p Frame<'p>>,
}

fn lookup<'f>(mut frame: Option<&'f Frame<'f>>, name: &str) -> Option<&'f Value> {
    while let Some(current) = frame {
        if current.name == name {
            return Some(&current.value);
        }
        frame = current.parent;
    }
    None
}

/// Evaluates expressions in one [`Scope`].
pub(crate) struct Evaluator<'s> {
    scope: &'s Scope<'s>,
    /// Whether what was evaluated since the last [`Evaluator::take_sensitive`] read a sensitive
    /// value.
    sensitive: Cell<bool>,
}

impl<'s> Evaluator<'s> {
    pub(crate) fn new(scope: &'s Scope<'s>) -> Evaluator<'s> {
        Evaluator {
            scope,
            sensitive: Cell::new(false),
        }
    }

    /// This evaluator's scope with `name` bound to one element of a `dynamic` block.
    pub(crate) fn scope_with(&self, name: &str, element: Value) -> Scope<'s> {
        let mut scope = self.scope.clone();
        scope.dynamic.push((name.to_owned(), element));
        scope
    }

    /// Whether the expressions evaluated since the last call read a sensitive value; resets.
    pub(crate) fn take_sensitive(&self) -> bool {
        self.sensitive.replace(false)
    }

    fn mark(&self) {
        self.sensitive.set(true);
    }

    /// Evaluates one expression.
    pub(crate) fn eval(&self, expr: &Expression) -> EvalResult {
        self.expr(expr, None)
    }

    /// Evaluates a template (a `templatefile` body) with `variables` bound as plain names.
    pub(crate) fn eval_template_with(
        &self,
        template: &Template,
        variables: &BTreeMap<String, Value>,
    ) -> EvalResult {
        fn nest(
            evaluator: &Evaluator<'_>,
            template: &Template,
            mut remaining: std::collections::btree_map::Iter<'_, String, Value>,
            parent: Option<&Frame<'_>>,
        ) -> EvalResult {
            match remaining.next() {
                None => evaluator.template(template, parent),
                Some((name, value)) => {
                    let frame = Frame {
                        name,
                        value: value.clone(),
                        parent,
                    };
                    nest(evaluator, template, remaining, Some(&frame))
                }
            }
        }
        nest(self, template, variables.iter(), None)
    }

    fn expr(&self, expr: &Expression, frame: Option<&Frame<'_>>) -> EvalResult {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(flag) => Ok(Value::Bool(*flag.value())),
            Expression::Number(number) => Ok(Value::Number(Number(
                number.value().as_f64().unwrap_or(f64::NAN),
            ))),
            Expression::String(text) => Ok(Value::String(text.value().clone())),
            Expression::Array(array) => {
                let mut items = Vec::with_capacity(array.len());
                for item in array.iter() {
                    items.push(self.expr(item, frame)?);
                }
                Ok(Value::List(items))
            }
            Expression::Object(object) => {
                let mut entries = BTreeMap::new();
                let mut unknown = false;
                for (key, value) in object.iter() {
                    let key_text = match key {
                        ObjectKey::Ident(ident) => ident.value().as_str().to_owned(),
                        ObjectKey::Expression(key_expr) => match self.expr(key_expr, frame)? {
                            Value::Unknown => {
                                unknown = true;
                                continue;
                            }
                            other => scalar_to_string(&other).ok_or_else(|| {
                                EvalError::new(
                                    "Invalid object key",
                                    "object keys must be strings",
                                    key_expr.span(),
                                )
                            })?,
                        },
                    };
                    entries.insert(key_text, self.expr(value.expr(), frame)?);
                }
                Ok(if unknown {
                    Value::Unknown
                } else {
                    Value::Map(entries)
                })
            }
            Expression::StringTemplate(template) => {
                // A template that is a single interpolation yields the value itself, not a string.
                if let Some(Element::Interpolation(interpolation)) = template.as_single_element() {
                    return self.expr(&interpolation.expr, frame);
                }
                self.template(template, frame)
            }
            Expression::HeredocTemplate(heredoc) => self.template(&heredoc.template, frame),
            Expression::Parenthesis(inner) => self.expr(inner.inner(), frame),
            Expression::Variable(name) => {
                if let Some(value) = lookup(frame, name.value().as_str()) {
                    return Ok(value.clone());
                }
                self.reference(name.value().as_str(), &[], name.span())
                    .map(|(value, _)| value.into_owned())
            }
            Expression::Conditional(conditional) => {
                let condition = self.expr(&conditional.cond_expr, frame)?;
                match to_bool(&condition, conditional.cond_expr.span(), "condition")? {
                    None => Ok(Value::Unknown),
                    Some(true) => self.expr(&conditional.true_expr, frame),
                    Some(false) => self.expr(&conditional.false_expr, frame),
                }
            }
            Expression::FuncCall(call) => self.call(call, frame),
            Expression::Traversal(traversal) => self.traversal(traversal, frame),
            Expression::UnaryOp(operation) => {
                let operand = self.expr(&operation.expr, frame)?;
                let span = operation.expr.span();
                match operation.operator.value() {
                    UnaryOperator::Neg => Ok(to_number(&operand, span)?
                        .map_or(Value::Unknown, |n| Value::Number(Number(-n)))),
                    UnaryOperator::Not => Ok(to_bool(&operand, span, "operand")?
                        .map_or(Value::Unknown, |b| Value::Bool(!b))),
                }
            }
            Expression::BinaryOp(operation) => self.binary(operation, frame),
            Expression::ForExpr(for_expr) => self.for_expr(for_expr, frame),
        }
    }

    fn template(&self, template: &Template, frame: Option<&Frame<'_>>) -> EvalResult {
        let mut out = String::new();
        let mut unknown = false;
        self.template_with(
            template,
            frame,
            Strip::None,
            Strip::None,
            &mut out,
            &mut unknown,
        )?;
        Ok(if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        })
    }

    fn template_with(
        &self,
        template: &Template,
        frame: Option<&Frame<'_>>,
        prev_strip: Strip,
        next_strip: Strip,
        out: &mut String,
        unknown: &mut bool,
    ) -> Result<(), EvalError> {
        let elements: Vec<&Element> = template.iter().collect();
        for (index, element) in elements.iter().enumerate() {
            let before = if index == 0 {
                prev_strip
            } else {
                element_strip(elements[index - 1])
            };
            let after = elements
                .get(index + 1)
                .map_or(next_strip, |next| element_strip(next));
            if out.len() > functions::MAX_VALUE_BYTES {
                return Err(EvalError::new(
                    "Value too large",
                    format!(
                        "this template's text is too large: {}",
                        functions::too_long()
                    ),
                    template_span(element),
                ));
            }
            match element {
                Element::Literal(literal) => {
                    out.push_str(strip_literal(literal.value(), before, after))
                }
                Element::Interpolation(interpolation) => {
                    let value = self.expr(&interpolation.expr, frame)?;
                    match value {
                        Value::Unknown => *unknown = true,
                        Value::Null => {
                            return Err(EvalError::new(
                                "Invalid template interpolation value",
                                "the expression result is null; cannot include a null value in a string template",
                                interpolation.expr.span(),
                            ));
                        }
                        other => match scalar_to_string(&other) {
                            Some(text) => out.push_str(&text),
                            None => {
                                return Err(EvalError::new(
                                    "Invalid template interpolation value",
                                    format!(
                                        "cannot include a {} in a string template; a string is required",
                                        kind_of(&other)
                                    ),
                                    interpolation.expr.span(),
                                ));
                            }
                        },
                    }
                }
                Element::Directive(directive) => match directive.as_ref() {
                    Directive::If(if_directive) => {
                        let condition = self.expr(&if_directive.if_expr.cond_expr, frame)?;
                        let else_strip = if_directive.else_expr.as_ref().map(|branch| branch.strip);
                        let endif_strip = if_directive.endif_expr.strip;
                        match to_bool(
                            &condition,
                            if_directive.if_expr.cond_expr.span(),
                            "condition",
                        )? {
                            None => *unknown = true,
                            Some(true) => self.template_with(
                                &if_directive.if_expr.template,
                                frame,
                                if_directive.if_expr.strip,
                                else_strip.unwrap_or(endif_strip),
                                out,
                                unknown,
                            )?,
                            Some(false) => {
                                if let Some(branch) = &if_directive.else_expr {
                                    self.template_with(
                                        &branch.template,
                                        frame,
                                        branch.strip,
                                        endif_strip,
                                        out,
                                        unknown,
                                    )?;
                                }
                            }
                        }
                    }
                    Directive::For(for_directive) => {
                        let intro = &for_directive.for_expr;
                        let collection = self.expr(&intro.collection_expr, frame)?;
                        let Some(pairs) =
                            iteration_pairs(&collection, intro.collection_expr.span())?
                        else {
                            *unknown = true;
                            continue;
                        };
                        for (key, value) in pairs {
                            let key_frame;
                            let mut inner = frame;
                            if let Some(key_var) = &intro.key_var {
                                key_frame = Frame {
                                    name: key_var.value().as_str(),
                                    value: key,
                                    parent: inner,
                                };
                                inner = Some(&key_frame);
                            }
                            let value_frame = Frame {
                                name: intro.value_var.value().as_str(),
                                value,
                                parent: inner,
                            };
                            self.template_with(
                                &intro.template,
                                Some(&value_frame),
                                intro.strip,
                                for_directive.endfor_expr.strip,
                                out,
                                unknown,
                            )?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn binary(&self, operation: &BinaryOp, frame: Option<&Frame<'_>>) -> EvalResult {
        let left = self.expr(&operation.lhs_expr, frame)?;
        let right = self.expr(&operation.rhs_expr, frame)?;
        let (left_span, right_span) = (operation.lhs_expr.span(), operation.rhs_expr.span());
        let operator = *operation.operator.value();
        match operator {
            BinaryOperator::Eq | BinaryOperator::NotEq => {
                if left.contains_unknown() || right.contains_unknown() {
                    return Ok(Value::Unknown);
                }
                let equal = left == right;
                Ok(Value::Bool(if operator == BinaryOperator::Eq {
                    equal
                } else {
                    !equal
                }))
            }
            BinaryOperator::And | BinaryOperator::Or => {
                let left = to_bool(&left, left_span, "operand")?;
                let right = to_bool(&right, right_span, "operand")?;
                Ok(match (left, right) {
                    (Some(left), Some(right)) => Value::Bool(if operator == BinaryOperator::And {
                        left && right
                    } else {
                        left || right
                    }),
                    _ => Value::Unknown,
                })
            }
            _ => {
                let (Some(left), Some(right)) = (
                    to_number(&left, left_span)?,
                    to_number(&right, right_span.clone())?,
                ) else {
                    return Ok(Value::Unknown);
                };
                let number = |value: f64| Ok(Value::Number(Number(value)));
                match operator {
                    BinaryOperator::Plus => number(left + right),
                    BinaryOperator::Minus => number(left - right),
                    BinaryOperator::Mul => number(left * right),
                    BinaryOperator::Div | BinaryOperator::Mod if right == 0.0 => {
                        Err(EvalError::new(
                            "Division by zero",
                            "the right-hand operand is zero",
                            right_span,
                        ))
                    }
                    BinaryOperator::Div => number(left / right),
                    BinaryOperator::Mod => number(left % right),
                    BinaryOperator::Less => Ok(Value::Bool(left < right)),
                    BinaryOperator::LessEq => Ok(Value::Bool(left <= right)),
                    BinaryOperator::Greater => Ok(Value::Bool(left > right)),
                    BinaryOperator::GreaterEq => Ok(Value::Bool(left >= right)),
                    BinaryOperator::Eq
                    | BinaryOperator::NotEq
                    | BinaryOperator::And
                    | BinaryOperator::Or => {
                        unreachable!("handled above")
                    }
                }
            }
        }
    }

    fn for_expr(&self, for_expr: &ForExpr, frame: Option<&Frame<'_>>) -> EvalResult {
        let intro = &for_expr.intro;
        let collection = self.expr(&intro.collection_expr, frame)?;
        let Some(pairs) = iteration_pairs(&collection, intro.collection_expr.span())? else {
            return Ok(Value::Unknown);
        };
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        for (key, value) in pairs {
            let key_frame;
            let mut inner = frame;
            if let Some(key_var) = &intro.key_var {
                key_frame = Frame {
                    name: key_var.value().as_str(),
                    value: key,
                    parent: inner,
                };
                inner = Some(&key_frame);
            }
            let value_frame = Frame {
                name: intro.value_var.value().as_str(),
                value,
                parent: inner,
            };
            let inner = Some(&value_frame);
            if let Some(condition) = &for_expr.cond {
                let keep = self.expr(&condition.expr, inner)?;
                match to_bool(&keep, condition.expr.span(), "condition")? {
                    None => return Ok(Value::Unknown),
                    Some(false) => continue,
                    Some(true) => {}
                }
            }
            let element = self.expr(&for_expr.value_expr, inner)?;
            match &for_expr.key_expr {
                None => list.push(element),
                Some(key_expr) => {
                    let key = match self.expr(key_expr, inner)? {
                        Value::Unknown => return Ok(Value::Unknown),
                        other => scalar_to_string(&other).ok_or_else(|| {
                            EvalError::new(
                                "Invalid object key",
                                "object keys must be strings",
                                key_expr.span(),
                            )
                        })?,
                    };
                    if for_expr.grouping {
                        match object.entry(key).or_insert_with(|| Value::List(Vec::new())) {
                            Value::List(items) => items.push(element),
                            _ => unreachable!("grouped entries are lists"),
                        }
                    } else if object.insert(key.clone(), element).is_some() {
                        return Err(EvalError::new(
                            "Duplicate object key",
                            format!(
                                "two elements produce the key `{key}`; add `...` after the value to group them"
                            ),
                            key_expr.span(),
                        ));
                    }
                }
            }
        }
        let result = if for_expr.key_expr.is_some() {
            Value::Map(object)
        } else {
            Value::List(list)
        };
        functions::check_bounds(&result).map_err(|reason| {
            EvalError::new(
                "Value too large",
                format!("the result of this `for` expression is too large: {reason}"),
                for_expr.span(),
            )
        })?;
        Ok(result)
    }

    fn call(&self, call: &FuncCall, frame: Option<&Frame<'_>>) -> EvalResult {
        let name = call.name.name.value().as_str();
        let span = call.span();
        if call.name.is_namespaced() {
            return Err(EvalError::new(
                "Unsupported function",
                "provider-defined and namespaced functions are not supported by amlplan",
                span,
            ));
        }
        let arguments: Vec<&Expression> = call.args.iter().collect();
        match name {
            "try" => {
                if arguments.is_empty() {
                    return Err(EvalError::new(
                        "Invalid function argument",
                        "`try` needs at least one argument",
                        span,
                    ));
                }
                let mut last_error = None;
                for argument in &arguments {
                    match self.expr(argument, frame) {
                        // A value that is not known yet might still fail later: stay unknown.
                        Ok(value) if value.contains_unknown() => return Ok(Value::Unknown),
                        Ok(value) => return Ok(value),
                        Err(error) => last_error = Some(error),
                    }
                }
                let error = last_error.expect("at least one argument was tried");
                return Err(EvalError::new(
                    "Error in function call",
                    format!(
                        "no expression given to `try` succeeded; the last one failed with: {}",
                        error.detail
                    ),
                    span,
                ));
            }
            "issensitive" => {
                let [argument] = arguments.as_slice() else {
                    return Err(EvalError::new(
                        "Invalid function argument",
                        "`issensitive` takes exactly one argument",
                        span,
                    ));
                };
                let before = self.sensitive.replace(false);
                let value = self.expr(argument, frame)?;
                let marked = self.sensitive.replace(before);
                // An unknown value's marks are known: Terraform answers too.
                let _ = value;
                return Ok(Value::Bool(marked));
            }
            "sensitive" | "nonsensitive" => {
                let [argument] = arguments.as_slice() else {
                    return Err(EvalError::new(
                        "Invalid function argument",
                        format!("`{name}` takes exactly one argument"),
                        span,
                    ));
                };
                let before = self.sensitive.get();
                let value = self.expr(argument, frame)?;
                // `sensitive` marks its value; `nonsensitive` drops the marks of its argument.
                self.sensitive.set(before || name == "sensitive");
                return Ok(value);
            }
            "can" => {
                let [argument] = arguments.as_slice() else {
                    return Err(EvalError::new(
                        "Invalid function argument",
                        "`can` takes exactly one argument",
                        span,
                    ));
                };
                return Ok(match self.expr(argument, frame) {
                    Ok(value) if value.contains_unknown() => Value::Unknown,
                    Ok(_) => Value::Bool(true),
                    Err(_) => Value::Bool(false),
                });
            }
            _ => {}
        }
        let mut values = Vec::with_capacity(arguments.len());
        for argument in &arguments {
            values.push(self.expr(argument, frame)?);
        }
        if call.args.expand_final() {
            match values.pop() {
                Some(Value::List(items)) => values.extend(items),
                Some(Value::Unknown) => return Ok(Value::Unknown),
                _ => {
                    return Err(EvalError::new(
                        "Invalid expanding argument value",
                        "the argument before `...` must be a list",
                        arguments.last().and_then(|argument| argument.span()),
                    ));
                }
            }
        }
        if name == "templatefile" || name == "templatestring" {
            return self.templatefile(name, values, span);
        }
        let Some(function) = functions::lookup(name) else {
            return Err(EvalError::new(
                "Call to unknown function",
                format!(
                    "there is no function named `{name}`{}",
                    did_you_mean(name, functions::names())
                ),
                call.name.name.span(),
            ));
        };
        functions::call(function, values, self.scope.base_dir).map_err(|message| {
            EvalError::new(
                "Error in function call",
                format!("call to function `{name}` failed: {message}"),
                span,
            )
        })
    }

    /// `templatefile(path, vars)` and `templatestring(text, vars)`: the template rendered with
    /// only `vars` in scope.
    fn templatefile(
        &self,
        name: &str,
        values: Vec<Value>,
        span: Option<Range<usize>>,
    ) -> EvalResult {
        let error = |message: String| {
            EvalError::new(
                "Error in function call",
                format!("call to function `{name}` failed: {message}"),
                span.clone(),
            )
        };
        let [source, variables] = values.as_slice() else {
            return Err(error(format!(
                "it takes {} and a map of variables",
                if name == "templatefile" {
                    "a path"
                } else {
                    "a template string"
                }
            )));
        };
        if source.contains_unknown() || variables.contains_unknown() {
            return Ok(Value::Unknown);
        }
        let text = if name == "templatefile" {
            functions::read_file(source, self.scope.base_dir).map_err(error)?
        } else {
            match source {
                Value::String(text) => text.clone(),
                other => {
                    return Err(error(format!(
                        "the template must be a string, not a {}",
                        kind_of(other)
                    )));
                }
            }
        };
        let Value::Map(variables) = variables else {
            return Err(error(
                "the second argument must be a map or object".to_owned(),
            ));
        };
        let template = hcl::edit::parser::parse_template(&text).map_err(|parse| {
            error(format!(
                "the template is not valid at line {}, column {}: {}",
                parse.location().line(),
                parse.location().column(),
                parse.message()
            ))
        })?;
        let scope = Scope::literal_only(
            self.scope.base_dir,
            "in a template file (pass values through the variables map)",
        );
        Evaluator::new(&scope)
            .eval_template_with(&template, variables)
            .map_err(|inner| error(inner.detail))
    }

    fn traversal(&self, traversal: &Traversal, frame: Option<&Frame<'_>>) -> EvalResult {
        let operators: Vec<&TraversalOperator> = traversal
            .operators
            .iter()
            .map(|operator| operator.value())
            .collect();
        let spans: Vec<Option<Range<usize>>> = traversal
            .operators
            .iter()
            .map(|operator| operator.span())
            .collect();
        let (mut current, mut position) = match &traversal.expr {
            Expression::Variable(name) if lookup(frame, name.value().as_str()).is_none() => {
                self.reference(name.value().as_str(), &operators, traversal.span())?
            }
            other => (Cow::Owned(self.expr(other, frame)?), 0),
        };
        // Walk borrowed values as far as possible, so `azureml_x.big[7].id` clones one string,
        // not every instance of `azureml_x.big`. Anything unusual falls through to the owned
        // path below, which also produces the error messages.
        while let Cow::Borrowed(value) = current {
            let Some(operator) = operators.get(position) else {
                break;
            };
            let next = match operator {
                TraversalOperator::GetAttr(name) => value
                    .as_map()
                    .and_then(|entries| entries.get(name.value().as_str())),
                TraversalOperator::LegacyIndex(index) => value
                    .as_list()
                    .and_then(|items| items.get(*index.value() as usize)),
                TraversalOperator::Index(index_expr) => match self.expr(index_expr, frame)? {
                    Value::Number(number) => number
                        .as_i64()
                        .and_then(|index| usize::try_from(index).ok())
                        .and_then(|index| value.as_list().and_then(|items| items.get(index))),
                    Value::String(key) => value.as_map().and_then(|entries| entries.get(&key)),
                    _ => None,
                },
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => None,
            };
            match next {
                Some(next) => {
                    current = Cow::Borrowed(next);
                    position += 1;
                }
                None => break,
            }
        }
        self.apply_operators(
            current.into_owned(),
            &operators[position..],
            &spans[position..],
            frame,
        )
    }

    fn apply_operators(
        &self,
        mut value: Value,
        operators: &[&TraversalOperator],
        spans: &[Option<Range<usize>>],
        frame: Option<&Frame<'_>>,
    ) -> EvalResult {
        for (position, operator) in operators.iter().enumerate() {
            let span = spans[position].clone();
            if matches!(value, Value::Unknown) {
                return Ok(Value::Unknown);
            }
            value = match operator {
                TraversalOperator::GetAttr(name) => get_attr(value, name.value().as_str(), span)?,
                TraversalOperator::Index(index_expr) => {
                    let key = self.expr(index_expr, frame)?;
                    if key.contains_unknown() {
                        return Ok(Value::Unknown);
                    }
                    index(value, &key, span)?
                }
                TraversalOperator::LegacyIndex(position) => index(
                    value,
                    &Value::Number(Number(*position.value() as f64)),
                    span,
                )?,
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match value {
                        Value::Null => Vec::new(),
                        Value::List(items) => items,
                        single => vec![single],
                    };
                    let rest = &operators[position + 1..];
                    let rest_spans = &spans[position + 1..];
                    let mut mapped = Vec::with_capacity(items.len());
                    for item in items {
                        mapped.push(self.apply_operators(item, rest, rest_spans, frame)?);
                    }
                    return Ok(Value::List(mapped));
                }
            };
        }
        Ok(value)
    }

    /// Resolves a root name (`var`, `local`, a resource type, ...) and the traversal steps it
    /// needs; returns the value and how many operators it consumed.
    fn reference(
        &self,
        root: &str,
        operators: &[&TraversalOperator],
        span: Option<Range<usize>>,
    ) -> Result<(Cow<'s, Value>, usize), EvalError> {
        let attr = |position: usize| match operators.get(position) {
            Some(TraversalOperator::GetAttr(name)) => Some(name.value().as_str()),
            _ => None,
        };
        if let Some(context) = self.scope.restriction {
            return Err(EvalError::new(
                "Variables not allowed",
                format!("references such as `{root}` cannot be used {context}"),
                span,
            ));
        }
        let invalid =
            |detail: String| Err(EvalError::new("Invalid reference", detail, span.clone()));
        if let Some((_, value)) = self
            .scope
            .dynamic
            .iter()
            .rev()
            .find(|(name, _)| name == root)
        {
            return Ok((Cow::Borrowed(value), 0));
        }
        match root {
            "var" | "local" => {
                let Some(name) = attr(0) else {
                    return invalid(format!(
                        "`{root}` must be followed by a name, as in `{root}.example`"
                    ));
                };
                let (values, what) = if root == "var" {
                    (self.scope.variables, "input variable")
                } else {
                    (self.scope.locals, "local value")
                };
                match values.and_then(|values| values.get(name)) {
                    Some(value) => {
                        if let Some(sensitive) = self.scope.sensitive {
                            let names = if root == "var" {
                                &sensitive.variables
                            } else {
                                &sensitive.locals
                            };
                            if names.contains(name) {
                                self.mark();
                            }
                        }
                        Ok((Cow::Borrowed(value), 1))
                    }
                    None => Err(EvalError::new(
                        format!("Reference to undeclared {what}"),
                        format!(
                            "no {what} named `{name}` is declared{}",
                            did_you_mean(
                                name,
                                values
                                    .into_iter()
                                    .flat_map(|values| values.keys().map(String::as_str))
                            )
                        ),
                        span,
                    )),
                }
            }
            "count" => match (attr(0), &self.scope.count_index) {
                (Some("index"), Some(index)) => Ok((Cow::Borrowed(index), 1)),
                (Some("index"), None) => Err(EvalError::new(
                    "Reference to \"count\" in non-counted context",
                    "`count.index` is only available in blocks that set `count`",
                    span,
                )),
                _ => invalid("the only attribute of `count` is `count.index`".to_owned()),
            },
            "each" => match (attr(0), &self.scope.each) {
                (Some("key"), Some((key, _))) => Ok((Cow::Borrowed(key), 1)),
                (Some("value"), Some((_, value))) => Ok((Cow::Borrowed(value), 1)),
                (Some("key" | "value"), None) => Err(EvalError::new(
                    "Reference to \"each\" in context without for_each",
                    "`each.key` and `each.value` are only available in blocks that set `for_each`",
                    span,
                )),
                _ => invalid("the attributes of `each` are `each.key` and `each.value`".to_owned()),
            },
            "path" => match attr(0) {
                Some("module") => Ok((
                    Cow::Owned(Value::from(self.scope.path_module.unwrap_or("."))),
                    1,
                )),
                Some("root") => Ok((Cow::Owned(Value::from(".")), 1)),
                Some("cwd") => Ok((
                    Cow::Owned(Value::String(self.scope.base_dir.display().to_string())),
                    1,
                )),
                _ => invalid(
                    "the attributes of `path` are `path.module`, `path.root` and `path.cwd`"
                        .to_owned(),
                ),
            },
            "terraform" => match attr(0) {
                Some("workspace") => Ok((
                    Cow::Owned(Value::from(self.scope.workspace.unwrap_or("default"))),
                    1,
                )),
                _ => invalid(
                    "the only supported attribute of `terraform` is `terraform.workspace`"
                        .to_owned(),
                ),
            },
            "data" => {
                let (Some(resource_type), Some(name)) = (attr(0), attr(1)) else {
                    return invalid("a data source reference needs a type and a name, as in `data.azureml_workspace.main`".to_owned());
                };
                self.mark_block(Mode::Data, resource_type, name, &operators[2..]);
                self.block(Mode::Data, resource_type, name, span)
                    .map(|value| (Cow::Borrowed(value), 2))
            }
            "module" => {
                let Some(name) = attr(0) else {
                    return invalid(
                        "`module` must be followed by a module call's name, as in `module.team`"
                            .to_owned(),
                    );
                };
                let Some(value) = self.scope.modules.and_then(|modules| modules.get(name)) else {
                    return Err(EvalError::new(
                        "Reference to undeclared module",
                        format!("no module call named `{name}` is declared"),
                        span,
                    ));
                };
                if let Some(sensitive) = self.scope.sensitive
                    && let Some(outputs) = sensitive.modules.get(name)
                {
                    let read = operators[1..].iter().find_map(|operator| match operator {
                        TraversalOperator::GetAttr(output) => Some(output.value().as_str()),
                        _ => None,
                    });
                    if read.map_or(!outputs.is_empty(), |output| outputs.contains(output)) {
                        self.mark();
                    }
                }
                Ok((Cow::Borrowed(value), 1))
            }
            "self" => match self.scope.self_value {
                Some(value) => Ok((Cow::Borrowed(value), 0)),
                None => Err(EvalError::new(
                    "Invalid \"self\" reference",
                    "`self` can only be used in a resource's postcondition".to_owned(),
                    span,
                )),
            },
            resource_type if resource_type.contains('_') && self.scope.blocks.is_some() => {
                let Some(name) = attr(0) else {
                    return invalid(format!(
                        "a reference to a resource type must be followed by the resource name, as in `{resource_type}.example`"
                    ));
                };
                self.mark_block(Mode::Managed, resource_type, name, &operators[1..]);
                self.block(Mode::Managed, resource_type, name, span)
                    .map(|value| (Cow::Borrowed(value), 1))
            }
            other => Err(EvalError::new(
                "Unknown variable",
                format!("there is no variable named `{other}`"),
                span,
            )),
        }
    }

    /// Marks a reference to a block as sensitive when the attribute it reads is (`rest`: the
    /// operators after the block's name; keys and splats are passed over), or when it takes a
    /// whole instance that holds a sensitive attribute.
    fn mark_block(&self, mode: Mode, resource_type: &str, name: &str, rest: &[&TraversalOperator]) {
        let Some(sensitive) = self.scope.sensitive else {
            return;
        };
        let key: BlockKey = (mode, resource_type.to_owned(), name.to_owned());
        let Some(attributes) = sensitive.attributes.get(&key) else {
            return;
        };
        let read = rest.iter().find_map(|operator| match operator {
            TraversalOperator::GetAttr(attribute) => Some(attribute.value().as_str()),
            _ => None,
        });
        let marked = match read {
            Some(attribute) => attributes.contains(attribute),
            None => !attributes.is_empty(),
        };
        if marked {
            self.mark();
        }
    }

    fn block(
        &self,
        mode: Mode,
        resource_type: &str,
        name: &str,
        span: Option<Range<usize>>,
    ) -> Result<&'s Value, EvalError> {
        let key: BlockKey = (mode, resource_type.to_owned(), name.to_owned());
        match self.scope.blocks.and_then(|blocks| blocks.get(&key)) {
            Some(value) => Ok(value),
            None => {
                let prefix = if mode == Mode::Data { "data." } else { "" };
                Err(EvalError::new(
                    "Reference to undeclared resource",
                    format!(
                        "`{prefix}{resource_type}.{name}` is not declared in this configuration"
                    ),
                    span,
                ))
            }
        }
    }
}

/// Where a template element is, for an error about the text built so far.
fn template_span(element: &Element) -> Option<Range<usize>> {
    match element {
        Element::Literal(literal) => literal.span(),
        Element::Interpolation(interpolation) => interpolation.expr.span(),
        Element::Directive(_) => None,
    }
}

fn element_strip(element: &Element) -> Strip {
    match element {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(interpolation) => interpolation.strip,
        Element::Directive(directive) => match directive.as_ref() {
            Directive::If(if_directive) => Strip::from((
                if_directive.if_expr.strip.strip_start(),
                if_directive.endif_expr.strip.strip_end(),
            )),
            Directive::For(for_directive) => Strip::from((
                for_directive.for_expr.strip.strip_start(),
                for_directive.endfor_expr.strip.strip_end(),
            )),
        },
    }
}

/// Strips spaces (and one line break) next to a `~` marker, as HCL's template spec says.
fn strip_literal(mut literal: &str, before: Strip, after: Strip) -> &str {
    let is_space =
        |character: char| character.is_whitespace() && character != '\n' && character != '\r';
    if before.strip_end() {
        literal = literal.trim_start_matches(is_space);
        literal = literal
            .strip_prefix("\r\n")
            .or_else(|| literal.strip_prefix('\n'))
            .unwrap_or(literal);
    }
    if after.strip_start() {
        literal = literal.trim_end_matches(is_space);
        literal = literal
            .strip_suffix("\r\n")
            .or_else(|| literal.strip_suffix('\n'))
            .unwrap_or(literal);
    }
    literal
}

/// The (key, value) pairs a `for` iterates over; `None` when the collection is unknown.
fn iteration_pairs(
    collection: &Value,
    span: Option<Range<usize>>,
) -> Result<Option<Vec<(Value, Value)>>, EvalError> {
    match collection {
        Value::Unknown => Ok(None),
        Value::List(items) => Ok(Some(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| (Value::from(index as i64), item.clone()))
                .collect(),
        )),
        Value::Map(entries) => Ok(Some(
            entries
                .iter()
                .map(|(key, item)| (Value::String(key.clone()), item.clone()))
                .collect(),
        )),
        Value::Null => Err(EvalError::new(
            "Iteration over null value",
            "a `for` needs a list or a map, not null",
            span,
        )),
        other => Err(EvalError::new(
            "Iteration over non-iterable value",
            format!("a `for` needs a list or a map, not a {}", kind_of(other)),
            span,
        )),
    }
}

fn get_attr(value: Value, name: &str, span: Option<Range<usize>>) -> EvalResult {
    match value {
        Value::Map(mut entries) => match entries.remove(name) {
            Some(found) => Ok(found),
            None => Err(EvalError::new(
                "Unsupported attribute",
                format!(
                    "this object has no attribute `{name}`{}",
                    did_you_mean(name, entries.keys().map(String::as_str))
                ),
                span,
            )),
        },
        Value::Null => Err(EvalError::new(
            "Attempt to get attribute from null value",
            format!("this value is null, so it has no attribute `{name}`"),
            span,
        )),
        Value::List(_) => Err(EvalError::new(
            "Unsupported attribute",
            format!(
                "this value is a list, so it has no attribute `{name}`\nhelp: select one element first, as in `[0].{name}`, or use a splat: `[*].{name}`"
            ),
            span,
        )),
        other => Err(EvalError::new(
            "Unsupported attribute",
            format!("a {} has no attributes", kind_of(&other)),
            span,
        )),
    }
}

fn index(value: Value, key: &Value, span: Option<Range<usize>>) -> EvalResult {
    match value {
        Value::List(mut items) => {
            let position = to_number(key, span.clone())?
                .filter(|number| number.fract() == 0.0 && *number >= 0.0)
                .ok_or_else(|| {
                    EvalError::new(
                        "Invalid index",
                        "a list index must be a whole number, from 0",
                        span.clone(),
                    )
                })?;
            let length = items.len();
            let position = position as usize;
            if position >= length {
                return Err(EvalError::new(
                    "Invalid index",
                    format!("index {position} is out of range for a list of {length} elements"),
                    span,
                ));
            }
            Ok(items.swap_remove(position))
        }
        Value::Map(mut entries) => {
            let key = scalar_to_string(key).ok_or_else(|| {
                EvalError::new("Invalid index", "a map key must be a string", span.clone())
            })?;
            match entries.remove(&key) {
                Some(found) => Ok(found),
                None => Err(EvalError::new(
                    "Invalid index",
                    format!(
                        "there is no element with key `{key}`{}",
                        did_you_mean(&key, entries.keys().map(String::as_str))
                    ),
                    span,
                )),
            }
        }
        Value::Null => Err(EvalError::new(
            "Attempt to index null value",
            "this value is null, so it cannot be indexed",
            span,
        )),
        Value::Unknown => Ok(Value::Unknown),
        other => Err(EvalError::new(
            "Invalid index",
            format!("a {} cannot be indexed", kind_of(&other)),
            span,
        )),
    }
}

/// A string, number or bool as a string (what interpolation and string conversion produce).
pub(crate) fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A number from a number or a numeric string; `None` when unknown.
pub(crate) fn to_number(
    value: &Value,
    span: Option<Range<usize>>,
) -> Result<Option<f64>, EvalError> {
    match value {
        Value::Number(number) => Ok(Some(number.0)),
        Value::String(text) => text.trim().parse::<f64>().map(Some).map_err(|_| {
            EvalError::new(
                "Invalid operand",
                format!("a number is required, and `{text}` is not one"),
                span,
            )
        }),
        Value::Unknown => Ok(None),
        other => Err(EvalError::new(
            "Invalid operand",
            format!("a number is required, not a {}", kind_of(other)),
            span,
        )),
    }
}

/// A bool from a bool or `"true"`/`"false"`; `None` when unknown.
pub(crate) fn to_bool(
    value: &Value,
    span: Option<Range<usize>>,
    what: &str,
) -> Result<Option<bool>, EvalError> {
    match value {
        Value::Bool(flag) => Ok(Some(*flag)),
        Value::String(text) if text == "true" => Ok(Some(true)),
        Value::String(text) if text == "false" => Ok(Some(false)),
        Value::Unknown => Ok(None),
        other => Err(EvalError::new(
            format!("Incorrect {what} type"),
            format!("the {what} must be a bool, not a {}", kind_of(other)),
            span,
        )),
    }
}

/// A short name of a value's kind, for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    value.kind_name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn scope_eval(text: &str, variables: &BTreeMap<String, Value>) -> EvalResult {
        let expr = hcl::edit::parser::parse_expr(text).expect("valid expression");
        let blocks = HashMap::new();
        let locals = BTreeMap::new();
        let scope = Scope {
            variables: Some(variables),
            locals: Some(&locals),
            blocks: Some(&blocks),
            ..Scope::empty(Path::new("."))
        };
        Evaluator::new(&scope).eval(&expr)
    }

    #[track_caller]
    fn eval(text: &str) -> Value {
        let variables = BTreeMap::from([
            ("name".to_owned(), Value::from("gpu")),
            ("later".to_owned(), Value::Unknown),
            (
                "sizes".to_owned(),
                Value::List(vec![Value::from(1), Value::from(2), Value::from(3)]),
            ),
        ]);
        scope_eval(text, &variables).unwrap_or_else(|error| panic!("`{text}` failed: {error:?}"))
    }

    #[test]
    fn literals_operators_and_conditionals() {
        assert_eq!(eval("1 + 2 * 3"), Value::from(7));
        assert_eq!(eval("\"5\" + 1"), Value::from(6));
        assert_eq!(eval("!(1 < 2) || 3 >= 3"), Value::Bool(true));
        assert_eq!(
            eval("var.name == \"gpu\" ? \"yes\" : \"no\""),
            Value::from("yes")
        );
        assert_eq!(eval("-var.sizes[2]"), Value::from(-3));
        assert_eq!(
            eval("{ a = 1, \"b\" = [true, null] }").to_string(),
            "{a = 1, b = [true, null]}"
        );
    }

    #[test]
    fn templates_interpolate_and_strip() {
        assert_eq!(
            eval("\"cluster-${var.name}-${1 + 1}\""),
            Value::from("cluster-gpu-2")
        );
        assert_eq!(eval("\"${var.sizes}\""), eval("var.sizes"));
        assert_eq!(
            eval("\"%{ for s in var.sizes ~} ${s} %{~ endfor }\""),
            Value::from("123")
        );
        assert_eq!(
            eval("\"%{ if var.name == \"gpu\" }on%{ else }off%{ endif }\""),
            Value::from("on")
        );
        assert_eq!(eval("\"$${literal}\""), Value::from("${literal}"));
    }

    #[test]
    fn for_expressions_and_splats() {
        assert_eq!(
            eval("[for s in var.sizes : s * 2 if s > 1]").to_string(),
            "[4, 6]"
        );
        assert_eq!(
            eval("{ for i, s in var.sizes : \"k${i}\" => s }").to_string(),
            "{k0 = 1, k1 = 2, k2 = 3}"
        );
        assert_eq!(
            eval("{ for s in [\"a\", \"b\", \"a\"] : s => s... }").to_string(),
            r#"{a = ["a", "a"], b = ["b"]}"#
        );
        assert_eq!(eval("[{ n = 1 }, { n = 2 }][*].n").to_string(), "[1, 2]");
    }

    #[test]
    fn unknowns_propagate() {
        assert_eq!(eval("\"x-${var.later}\""), Value::Unknown);
        assert_eq!(eval("var.later + 1"), Value::Unknown);
        assert_eq!(eval("var.later ? 1 : 2"), Value::Unknown);
        assert_eq!(eval("upper(var.later)"), Value::Unknown);
        assert_eq!(
            eval("[var.name, var.later]"),
            Value::List(vec![Value::from("gpu"), Value::Unknown])
        );
        assert_eq!(eval("length([var.later, 1])"), Value::from(2));
        assert_eq!(eval("[for s in var.later : s]"), Value::Unknown);
    }

    #[test]
    fn try_and_can_catch_errors() {
        assert_eq!(
            eval("try(var.sizes[7], \"fallback\")"),
            Value::from("fallback")
        );
        assert_eq!(eval("can(var.sizes[7])"), Value::Bool(false));
        assert_eq!(eval("can(var.sizes[0])"), Value::Bool(true));
        assert_eq!(eval("try(var.later, 1)"), Value::Unknown);
    }

    #[test]
    fn errors_point_at_the_sub_expression() {
        let text = "var.sizes[0] + var.nmae";
        let error = scope_eval(
            text,
            &BTreeMap::from([
                ("name".to_owned(), Value::from("x")),
                ("sizes".to_owned(), Value::List(vec![Value::from(1)])),
            ]),
        )
        .expect_err("undeclared");
        assert_eq!(error.summary, "Reference to undeclared input variable");
        assert_eq!(&text[error.span.clone().expect("span")], "var.nmae");
        assert!(
            error.detail.contains("did you mean `name`?"),
            "{}",
            error.detail
        );

        let error = scope_eval("{ a = 1 }.b", &BTreeMap::new()).expect_err("no attribute");
        assert_eq!(error.summary, "Unsupported attribute");
        let error = scope_eval("1 / 0", &BTreeMap::new()).expect_err("division");
        assert_eq!(error.summary, "Division by zero");
        let error = scope_eval("nosuch(1)", &BTreeMap::new()).expect_err("function");
        assert_eq!(error.summary, "Call to unknown function");
    }

    #[test]
    fn literal_only_scopes_refuse_references() {
        let expr = hcl::edit::parser::parse_expr("var.x").expect("valid");
        let scope = Scope::literal_only(Path::new("."), "in a variable definitions file");
        let error = Evaluator::new(&scope).eval(&expr).expect_err("refused");
        assert_eq!(error.summary, "Variables not allowed");
    }
}
