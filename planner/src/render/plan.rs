//! The human plan: Terraform's layout, attribute by attribute (STYLE §4). This is the only code
//! that knows the symbols; it renders a [`Plan`] the engine computed and decides nothing.
//!
//! ```text
//!   # azureml_compute_cluster.cpu will be updated in place (PATCH)
//!   ~ resource "azureml_compute_cluster" "cpu" {
//!         id             = "/subscriptions/.../computes/cpu-cluster"
//!       ~ max_node_count = 4 -> 8
//!         name           = "cpu-cluster"
//!         # (5 unchanged attributes hidden)
//!     }
//! ```
//!
//! | action     | symbol | header                                              |
//! |------------|--------|-----------------------------------------------------|
//! | `Create`   | `+`    | will be created                                     |
//! | `Attach`   | `+`    | will be attached                                    |
//! | `Update`   | `~`    | will be updated in place (PUT / PATCH), or started / stopped |
//! | `Delete`   | `-`    | will be destroyed                                   |
//! | `Detach`   | `-`    | will be detached (resource kept)                    |
//! | `Replace`  | `-/+`  | must be replaced (`+/-` with `create_before_destroy`) |
//! | `Reattach` | `-/+`  | must be detached and attached again                 |
//! | `Read`     | ` <=`  | will be read during apply                           |
//!
//! Values: strings quoted with HCL escapes (control characters escaped, so nothing a service
//! returns can drive the terminal), unknowns as `(known after apply)`, sensitive and write-only
//! attributes as `(sensitive value)` (their values, plaintext or digest, are never written),
//! objects, maps and lists as nested blocks with a symbol per member, multi-line strings as
//! `<<-EOT` line diffs. Unchanged attributes are counted, not shown, except `id`, `name` and
//! `tags` (as Terraform does). No ANSI colours: callers that want them wrap the writer.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use engine::addr::{AttrPath, Mode, PathStep};
use engine::plan::{Action, Plan, ResourceChange, WriteMethod};
use engine::schema::{AttrType, Attribute, Registry, ResourceSchema};
use engine::value::Value;

/// Options of [`render_plan`].
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Show unchanged attributes and elements instead of counting them as hidden.
    pub show_unchanged: bool,
    /// Leave out the legend of symbols before the actions.
    pub no_legend: bool,
}

/// Writes the plan: the drift section (if refresh found changes), then the actions and the
/// `Plan: ...` summary, or the "No changes" message.
pub fn render_plan(
    plan: &Plan,
    registry: &Registry,
    out: &mut impl Write,
    options: &RenderOptions,
) -> io::Result<()> {
    out.write_all(plan_to_string(plan, registry, options).as_bytes())
}

/// [`render_plan`] into a string.
pub fn plan_to_string(plan: &Plan, registry: &Registry, options: &RenderOptions) -> String {
    let mut text = String::new();
    write_plan(&mut text, plan, registry, options).expect("writing to a String cannot fail");
    text
}

/// Writes the blocks of drift entries (`Plan::drift`) only, as the drift section shows them:
/// "has been changed", "has been deleted", "has been detached".
pub fn render_drift(
    drift: &[ResourceChange],
    registry: &Registry,
    out: &mut impl Write,
    options: &RenderOptions,
) -> io::Result<()> {
    let mut text = String::new();
    for change in sorted(drift) {
        write_change(&mut text, change, registry, options, Context::Drift, &[])
            .expect("writing to a String cannot fail");
        text.push('\n');
    }
    out.write_all(text.as_bytes())
}

/// How many objects a plan adds, changes and removes, counted the way the summary line says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    /// Creates, and the create half of replacements.
    pub add: usize,
    /// In-place updates.
    pub change: usize,
    /// Deletes, and the delete half of replacements.
    pub destroy: usize,
    /// Attachments, and the attach half of re-attachments.
    pub attach: usize,
    /// Detachments, and the detach half of re-attachments.
    pub detach: usize,
    /// Objects `import` blocks adopt.
    pub import: usize,
}

impl PlanCounts {
    /// Counts the planned changes (drift is not counted).
    pub fn of(plan: &Plan) -> PlanCounts {
        let mut counts = PlanCounts {
            import: plan.imports.len(),
            ..PlanCounts::default()
        };
        for change in &plan.changes {
            match change.action {
                Action::Create => counts.add += 1,
                Action::Attach => counts.attach += 1,
                Action::Update(_) => counts.change += 1,
                Action::Delete => counts.destroy += 1,
                Action::Detach => counts.detach += 1,
                Action::Replace if keeps_old(change) => counts.add += 1,
                Action::Replace => {
                    counts.add += 1;
                    counts.destroy += 1;
                }
                Action::Reattach => {
                    counts.attach += 1;
                    counts.detach += 1;
                }
                Action::NoOp | Action::Read => {}
            }
        }
        counts
    }
}

impl fmt::Display for PlanCounts {
    /// `1 to add, 1 to change, 1 to destroy`, then `, 1 to attach, 1 to detach` when there are
    /// attachments (the Terraform prefix stays, so tools that parse it keep working).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.import > 0 {
            write!(f, "{} to import, ", self.import)?;
        }
        write!(
            f,
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )?;
        if self.attach > 0 || self.detach > 0 {
            write!(f, ", {} to attach, {} to detach", self.attach, self.detach)?;
        }
        Ok(())
    }
}

const RULE: &str = "─────────────────────────────────────────────────────────────────────────────";

fn write_plan(
    out: &mut String,
    plan: &Plan,
    registry: &Registry,
    options: &RenderOptions,
) -> fmt::Result {
    if !plan.left_to_terraform.is_empty() {
        let total: usize = plan.left_to_terraform.values().sum();
        let each: Vec<String> = plan
            .left_to_terraform
            .iter()
            .map(|(provider, count)| format!("{provider}: {count}"))
            .collect();
        writeln!(
            out,
            "Note: {total} object{} of other providers ({}) {} left to Terraform; amlplan read {} values from the state.\n",
            if total == 1 { "" } else { "s" },
            each.join(", "),
            if total == 1 { "is" } else { "are" },
            if total == 1 { "its" } else { "their" },
        )?;
    }
    if plan.refresh_only {
        return write_refresh_only(out, plan, registry, options);
    }
    if !plan.drift.is_empty() {
        writeln!(out, "Note: Objects have changed outside of amlplan")?;
        writeln!(out)?;
        writeln!(
            out,
            "amlplan detected the following changes made outside of amlplan since the last \
             \"amlplan apply\" which may have affected this plan:"
        )?;
        writeln!(out)?;
        for change in sorted(&plan.drift) {
            write_change(out, change, registry, options, Context::Drift, &[])?;
            writeln!(out)?;
        }
        writeln!(
            out,
            "Unless you have made equivalent changes to your configuration, or ignored the relevant \
             attributes using ignore_changes, the following plan may include actions to undo or \
             respond to these changes."
        )?;
        writeln!(out)?;
        writeln!(out, "{RULE}")?;
        writeln!(out)?;
    }

    let changes: Vec<&ResourceChange> = sorted(&plan.changes)
        .into_iter()
        .filter(|change| {
            !change.action.is_noop() || change.previous_addr.is_some() || change.importing.is_some()
        })
        .collect();
    for addr in &plan.forgotten {
        writeln!(out, "  # {addr} will no longer be managed by amlplan")?;
        writeln!(
            out,
            "  # (a `removed` block: the state forgets it, the object is kept)"
        )?;
        writeln!(out)?;
    }
    if changes.is_empty() && !plan.forgotten.is_empty() {
        return writeln!(out, "Plan: {}.", PlanCounts::of(plan));
    }
    if changes.is_empty() && !plan.outputs.is_empty() {
        write_outputs(out, plan)?;
        writeln!(out)?;
        return writeln!(
            out,
            "You can apply this plan to save these new output values to the state, without \
             changing any real infrastructure."
        );
    }
    if changes.is_empty() {
        if plan.destroy {
            writeln!(out, "No changes. No objects need to be destroyed.")?;
            writeln!(out)?;
            writeln!(
                out,
                "Either you have not created any objects yet or the existing objects were already \
                 deleted outside of amlplan."
            )?;
        } else {
            writeln!(
                out,
                "No changes. Your infrastructure matches the configuration."
            )?;
            writeln!(out)?;
            writeln!(
                out,
                "amlplan has compared your real infrastructure against your configuration and found \
                 no differences, so no changes are needed."
            )?;
        }
        return Ok(());
    }

    if !options.no_legend && changes.iter().any(|change| !change.action.is_noop()) {
        write_legend(out, &changes)?;
        writeln!(out)?;
    }
    writeln!(out, "amlplan will perform the following actions:")?;
    writeln!(out)?;
    for change in &changes {
        write_change(
            out,
            change,
            registry,
            options,
            Context::Planned,
            &plan.changes,
        )?;
        writeln!(out)?;
    }
    writeln!(out, "Plan: {}.", PlanCounts::of(plan))?;
    if !plan.outputs.is_empty() {
        writeln!(out)?;
        write_outputs(out, plan)?;
    }
    Ok(())
}

/// Terraform's "Changes to Outputs:" section.
fn write_outputs(out: &mut String, plan: &Plan) -> fmt::Result {
    writeln!(out, "Changes to Outputs:")?;
    let width = plan
        .outputs
        .iter()
        .map(|output| output.name.len())
        .max()
        .unwrap_or(0);
    let shown = |value: &Option<engine::value::Value>, sensitive: bool| match value {
        None => "null".to_owned(),
        Some(_) if sensitive => SENSITIVE.to_owned(),
        Some(value) => value.to_string(),
    };
    for output in &plan.outputs {
        let name = &output.name;
        let after = shown(&output.after, output.sensitive);
        match output.action() {
            "create" => writeln!(out, "  + {name:width$} = {after}")?,
            "delete" => writeln!(
                out,
                "  - {name:width$} = {} -> null",
                shown(&output.before, output.sensitive)
            )?,
            _ => writeln!(
                out,
                "  ~ {name:width$} = {} -> {after}",
                shown(&output.before, output.sensitive)
            )?,
        }
    }
    Ok(())
}

fn write_refresh_only(
    out: &mut String,
    plan: &Plan,
    registry: &Registry,
    options: &RenderOptions,
) -> fmt::Result {
    if plan.drift.is_empty() {
        writeln!(
            out,
            "No changes. Your infrastructure still matches the configuration."
        )?;
        writeln!(out)?;
        return writeln!(
            out,
            "amlplan has checked that the real remote objects still match the result of your most \
             recent changes, and found no differences."
        );
    }
    writeln!(out, "Note: Objects have changed outside of amlplan")?;
    writeln!(out)?;
    writeln!(
        out,
        "amlplan detected the following changes made outside of amlplan since the last \"amlplan apply\":"
    )?;
    writeln!(out)?;
    for change in sorted(&plan.drift) {
        write_change(out, change, registry, options, Context::Drift, &[])?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "This is a refresh-only plan, so amlplan will not take any actions to undo these. If you \
         were expecting these changes then you can apply this plan to record the updated values in \
         the state without changing any remote objects."
    )?;
    writeln!(out)?;
    let removed = plan
        .drift
        .iter()
        .filter(|change| change.after.is_none())
        .count();
    let updated = plan.drift.len() - removed;
    writeln!(
        out,
        "State update: {updated} to update, {removed} to remove from the state; no remote object changes."
    )
}

fn sorted(changes: &[ResourceChange]) -> Vec<&ResourceChange> {
    let mut sorted: Vec<&ResourceChange> = changes.iter().collect();
    sorted.sort_by(|a, b| a.addr.cmp(&b.addr));
    sorted
}

/// True for the replacement of an immutable object (an environment version, a run): a new one
/// is created and the old one stays, so nothing is destroyed.
fn keeps_old(change: &ResourceChange) -> bool {
    change.reason == Some(engine::plan::ChangeReason::NewObjectKeepsOld)
}

/// The symbol of a planned action, right-aligned in three columns.
fn action_symbol(change: &ResourceChange) -> &'static str {
    match change.action {
        Action::NoOp => "   ",
        Action::Create | Action::Attach => "  +",
        Action::Update(_) => "  ~",
        Action::Delete | Action::Detach => "  -",
        Action::Replace if keeps_old(change) => "  +",
        Action::Replace if change.create_before_destroy => "+/-",
        Action::Replace | Action::Reattach => "-/+",
        Action::Read => " <=",
    }
}

fn write_legend(out: &mut String, changes: &[&ResourceChange]) -> fmt::Result {
    let mut lines: Vec<(u8, &str)> = changes
        .iter()
        .map(|change| match change.action {
            Action::Create => (0, "  + create"),
            Action::Attach => (1, "  + attach (an existing resource)"),
            Action::Update(_) => (2, "  ~ update in-place"),
            Action::Delete => (3, "  - destroy"),
            Action::Detach => (4, "  - detach (the resource is kept)"),
            Action::Replace if keeps_old(change) => (
                6,
                "  + create a new version or run (the previous one is kept)",
            ),
            Action::Replace if change.create_before_destroy => {
                (7, "+/- create replacement and then destroy")
            }
            Action::Replace => (5, "-/+ destroy and then create replacement"),
            Action::Reattach => (8, "-/+ detach (resource kept), then attach again"),
            Action::Read => (9, " <= read (data resources)"),
            Action::NoOp => (10, ""),
        })
        .filter(|(_, line)| !line.is_empty())
        .collect();
    lines.sort();
    lines.dedup();
    writeln!(
        out,
        "Resource actions are indicated with the following symbols:"
    )?;
    for (_, line) in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// A change apply makes.
    Planned,
    /// A change found outside (`Plan::drift`).
    Drift,
}

fn update_phrase(kind: &engine::plan::UpdateKind) -> String {
    let posts: Vec<String> = kind
        .actions
        .iter()
        .map(|action| match action.as_str() {
            "start" => "started".to_owned(),
            "stop" => "stopped".to_owned(),
            "restart" => "restarted".to_owned(),
            other => format!("sent POST `{other}`"),
        })
        .collect();
    let write = kind.write.map(|method| match method {
        WriteMethod::Put => "updated in place (PUT)",
        WriteMethod::Patch => "updated in place (PATCH)",
    });
    match (write, posts.is_empty()) {
        (Some(write), true) => write.to_owned(),
        (Some(write), false) => format!("{write}, then {}", posts.join(", then ")),
        (None, false) => posts.join(", then "),
        (None, true) => "updated in place".to_owned(),
    }
}

/// The `# ...` lines above a resource block.
fn header_lines(
    change: &ResourceChange,
    schema: Option<&ResourceSchema>,
    context: Context,
    all: &[ResourceChange],
) -> Vec<String> {
    let addr = &change.addr;
    let immutable = schema
        .and_then(|schema| schema.api.immutable.as_ref())
        .filter(|_| keeps_old(change));
    let mut lines = Vec::new();
    if context == Context::Drift {
        lines.push(match (&change.action, &change.after) {
            (_, None) if change.before_attachment.is_some() => {
                format!("{addr} has been detached or deleted")
            }
            (_, None) => format!("{addr} has been deleted"),
            _ => format!("{addr} has been changed"),
        });
        return lines;
    }
    lines.push(match &change.action {
        Action::NoOp if change.importing.is_some() => format!("{addr} will be imported"),
        // Terraform's wording of a move with nothing else to do.
        Action::NoOp if let Some(previous) = &change.previous_addr => {
            format!("{previous} has moved to {addr}")
        }
        Action::NoOp => format!("{addr} has no changes"),
        Action::Create => format!("{addr} will be created"),
        Action::Attach => format!("{addr} will be attached"),
        Action::Update(kind) => format!("{addr} will be {}", update_phrase(kind)),
        Action::Delete => format!("{addr} will be destroyed"),
        Action::Detach => format!("{addr} will be detached (resource kept)"),
        Action::Replace if let Some(immutable) = immutable => {
            format!("{addr} will be {}", immutable.new_object)
        }
        Action::Replace => format!("{addr} must be replaced"),
        Action::Reattach => format!("{addr} must be detached and attached again"),
        Action::Read => format!("{addr} will be read during apply"),
    });
    if let Some(previous) = &change.previous_addr
        && !change.action.is_noop()
    {
        lines.push(format!("(moved from {previous})"));
    }
    if let Some(id) = &change.importing
        && !change.action.is_noop()
    {
        lines.push(format!("(imported from \"{id}\")"));
    }
    if let Some(reason) = change.describe_reason(schema) {
        lines.push(format!("({reason})"));
    }
    if change.action == Action::Reattach {
        lines.push(
            "(the resource is kept; the detach finishes before the attach starts)".to_owned(),
        );
    }
    // The attachment invariant, made visible: a rename is a detach and an attach of different
    // addresses, and apply orders them (engine::plan::order).
    if change.action.adds()
        && let Some(key) = &change.after_attachment
    {
        for other in all {
            if other.addr != *addr
                && other.action.removes()
                && other
                    .before_attachment
                    .as_ref()
                    .is_some_and(|theirs| theirs.may_equal(key))
            {
                lines.push(format!(
                    "(attached after {} is detached: both attach the same resource)",
                    other.addr
                ));
            }
        }
    }
    if change.action.removes()
        && let Some(key) = &change.before_attachment
    {
        for other in all {
            if other.addr != *addr
                && other.action.adds()
                && other
                    .after_attachment
                    .as_ref()
                    .is_some_and(|theirs| theirs.may_equal(key))
            {
                lines.push(format!(
                    "(the detach finishes before {} is attached: both attach the same resource)",
                    other.addr
                ));
            }
        }
    }
    lines
}

fn write_change(
    out: &mut String,
    change: &ResourceChange,
    registry: &Registry,
    options: &RenderOptions,
    context: Context,
    all: &[ResourceChange],
) -> fmt::Result {
    let viewed = registry
        .get(&change.addr.resource_type)
        .map(|schema| change.view(schema));
    let schema = viewed.as_deref();
    for line in header_lines(change, schema, context, all) {
        writeln!(out, "  # {line}")?;
    }
    let symbol = match context {
        Context::Planned => action_symbol(change),
        Context::Drift if change.after.is_none() => "  -",
        Context::Drift => "  ~",
    };
    let keyword = match change.addr.mode {
        Mode::Managed => "resource",
        Mode::Data => "data",
    };
    writeln!(
        out,
        "{symbol} {keyword} {} {} {{",
        quote(&change.addr.resource_type),
        quote(&change.addr.name)
    )?;
    let forces_note = match schema.and_then(|schema| schema.api.immutable.as_ref()) {
        _ if change.action == Action::Reattach => " # forces detach and attach".to_owned(),
        Some(immutable) if keeps_old(change) => format!(" # {}", immutable.forces),
        _ => " # forces replacement".to_owned(),
    };
    let differ = Differ {
        replace_paths: &change.replace_paths,
        forces_note: &forces_note,
    };
    let entries = differ.object_entries(
        schema.map(|schema| &schema.attributes),
        change.before.as_ref().map(|object| &object.0),
        change.after.as_ref().map(|object| &object.0),
        &AttrPath::default(),
        true,
        options.show_unchanged,
    );
    write_entries(out, 1, &entries, false)?;
    writeln!(out, "    }}")
}

/// Whether a change is shown with a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Same,
    Add,
    Change,
    Remove,
}

impl Mark {
    /// The symbol column (three wide, plus a space).
    fn column(self) -> &'static str {
        match self {
            Mark::Same => "    ",
            Mark::Add => "  + ",
            Mark::Change => "  ~ ",
            Mark::Remove => "  - ",
        }
    }

    /// The mark of a container from the marks of its members.
    fn of_members(entries: &[Entry]) -> Mark {
        if entries.iter().all(|entry| entry.node.mark() == Mark::Same) {
            Mark::Same
        } else {
            Mark::Change
        }
    }
}

/// One line (or nested block) inside a block.
#[derive(Debug)]
struct Entry {
    /// Attribute name or quoted map key; empty for list elements.
    key: String,
    node: Node,
    /// The text after the first line: ` # forces replacement`, or empty.
    note: String,
}

#[derive(Debug)]
enum Node {
    /// `key = text`.
    Line { mark: Mark, text: String },
    /// `key = {` members `}` (or `[` ... `]`), then `suffix`.
    Block {
        mark: Mark,
        list: bool,
        entries: Vec<Entry>,
        suffix: &'static str,
    },
    /// `key = <<-EOT` lines `EOT`, then `suffix`.
    Heredoc {
        mark: Mark,
        lines: Vec<(Mark, String)>,
        suffix: &'static str,
    },
    /// `# (N unchanged attributes hidden)`.
    Hidden { count: usize, noun: &'static str },
}

impl Node {
    fn mark(&self) -> Mark {
        match self {
            Node::Line { mark, .. } | Node::Block { mark, .. } | Node::Heredoc { mark, .. } => {
                *mark
            }
            Node::Hidden { .. } => Mark::Same,
        }
    }
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}

/// Writes members at `depth` (top-level attributes are depth 1), `=` aligned over the shown keys.
fn write_entries(out: &mut String, depth: usize, entries: &[Entry], in_list: bool) -> fmt::Result {
    let width = entries
        .iter()
        .filter(|entry| !matches!(entry.node, Node::Hidden { .. }))
        .map(|entry| entry.key.chars().count())
        .max()
        .unwrap_or(0);
    for entry in entries {
        write_entry(out, depth, width, entry, in_list)?;
    }
    Ok(())
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line.trim_end());
    out.push('\n');
}

fn write_entry(
    out: &mut String,
    depth: usize,
    width: usize,
    entry: &Entry,
    in_list: bool,
) -> fmt::Result {
    let prefix = indent(depth);
    let key = if in_list {
        String::new()
    } else {
        format!("{:<width$} = ", entry.key)
    };
    let comma = if in_list { "," } else { "" };
    let note = &entry.note;
    match &entry.node {
        Node::Hidden { count, noun } => {
            let plural = if *count == 1 { "" } else { "s" };
            push_line(
                out,
                &format!("{prefix}    # ({count} unchanged {noun}{plural} hidden)"),
            );
        }
        Node::Line { mark, text } => {
            push_line(
                out,
                &format!("{prefix}{}{key}{text}{comma}{note}", mark.column()),
            );
        }
        Node::Block {
            mark,
            list,
            entries,
            suffix,
        } => {
            let (open, close) = if *list { ("[", "]") } else { ("{", "}") };
            if entries.is_empty() {
                push_line(
                    out,
                    &format!(
                        "{prefix}{}{key}{open}{close}{suffix}{comma}{note}",
                        mark.column()
                    ),
                );
            } else {
                push_line(out, &format!("{prefix}{}{key}{open}{note}", mark.column()));
                write_entries(out, depth + 1, entries, *list)?;
                push_line(out, &format!("{prefix}    {close}{suffix}{comma}"));
            }
        }
        Node::Heredoc {
            mark,
            lines,
            suffix,
        } => {
            push_line(out, &format!("{prefix}{}{key}<<-EOT{note}", mark.column()));
            let inner = indent(depth + 1);
            for (line_mark, line) in lines {
                push_line(out, &format!("{inner}{}{line}", line_mark.column()));
            }
            push_line(out, &format!("{prefix}    EOT{suffix}{comma}"));
        }
    }
    Ok(())
}

/// Computes the entries of one resource's attributes (pure; no writing).
struct Differ<'a> {
    replace_paths: &'a [AttrPath],
    forces_note: &'a str,
}

/// What the schema says about one value.
#[derive(Clone, Copy)]
struct Typed<'a> {
    ty: Option<&'a AttrType>,
    secret: bool,
}

impl<'a> Typed<'a> {
    const ANY: Typed<'static> = Typed {
        ty: None,
        secret: false,
    };

    fn of(attribute: Option<&'a Attribute>) -> Typed<'a> {
        attribute.map_or(Typed::ANY, |attribute| Typed {
            ty: Some(&attribute.ty),
            secret: attribute.sensitive || attribute.write_only,
        })
    }

    fn element(ty: Option<&'a AttrType>) -> Typed<'a> {
        match ty {
            Some(AttrType::List(element) | AttrType::Map(element)) => Typed {
                ty: Some(element),
                secret: false,
            },
            _ => Typed::ANY,
        }
    }
}

const NULL: Value = Value::Null;
const SENSITIVE: &str = "(sensitive value)";
const UNKNOWN: &str = "(known after apply)";

/// Terraform always shows these when present, changed or not.
fn important(name: &str) -> bool {
    matches!(name, "id" | "name" | "tags")
}

impl Differ<'_> {
    fn note(&self, path: &AttrPath, node: &Node) -> String {
        if node.mark() != Mark::Same && self.replace_paths.contains(path) {
            self.forces_note.to_owned()
        } else {
            String::new()
        }
    }

    /// Members of an object: attributes known to the schema (or any key, without one). `None`
    /// stands for a null object (all members added or removed).
    fn object_entries(
        &self,
        attributes: Option<&BTreeMap<String, Attribute>>,
        before: Option<&BTreeMap<String, Value>>,
        after: Option<&BTreeMap<String, Value>>,
        path: &AttrPath,
        top_level: bool,
        show_all: bool,
    ) -> Vec<Entry> {
        let mut names: Vec<&String> = before
            .into_iter()
            .chain(after)
            .flat_map(|map| map.keys())
            .collect();
        names.sort();
        names.dedup();
        let mut entries = Vec::new();
        let mut hidden = 0;
        for name in names {
            let typed = Typed::of(attributes.and_then(|attributes| attributes.get(name)));
            let old = before.map_or(&NULL, |map| map.get(name).unwrap_or(&NULL));
            let new = after.map_or(&NULL, |map| map.get(name).unwrap_or(&NULL));
            if old.is_null() && new.is_null() {
                continue;
            }
            let child = path.join(PathStep::Attr(name.clone()));
            let mut node = self.value(typed, old, new, &child, show_all);
            if node.mark() == Mark::Same && !show_all {
                if !(top_level && important(name)) {
                    hidden += 1;
                    continue;
                }
                node = self.value(typed, old, new, &child, true);
            }
            entries.push(Entry {
                key: name.clone(),
                note: self.note(&child, &node),
                node,
            });
        }
        if hidden > 0 {
            entries.push(hidden_entry(hidden, "attribute"));
        }
        entries
    }

    /// Elements of a map (keys quoted).
    fn map_entries(
        &self,
        element: Typed<'_>,
        before: Option<&BTreeMap<String, Value>>,
        after: Option<&BTreeMap<String, Value>>,
        path: &AttrPath,
        show_all: bool,
    ) -> Vec<Entry> {
        let mut keys: Vec<&String> = before
            .into_iter()
            .chain(after)
            .flat_map(|map| map.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let mut entries = Vec::new();
        let mut hidden = 0;
        for key in keys {
            let old = before.map_or(&NULL, |map| map.get(key).unwrap_or(&NULL));
            let new = after.map_or(&NULL, |map| map.get(key).unwrap_or(&NULL));
            let child = path.join(PathStep::Key(key.clone()));
            let node = self.value(element, old, new, &child, show_all);
            if node.mark() == Mark::Same && !show_all {
                hidden += 1;
                continue;
            }
            entries.push(Entry {
                key: quote(key),
                note: self.note(&child, &node),
                node,
            });
        }
        if hidden > 0 {
            entries.push(hidden_entry(hidden, "element"));
        }
        entries
    }

    /// Elements of a list: objects pair up by index, other values by a longest common
    /// subsequence (so an insertion shows as one `+`). Runs of unchanged elements are counted.
    fn list_entries(
        &self,
        element: Typed<'_>,
        before: &[Value],
        after: &[Value],
        path: &AttrPath,
        show_all: bool,
    ) -> Vec<Entry> {
        let objects = matches!(element.ty, Some(AttrType::Object(_)))
            || before
                .iter()
                .chain(after)
                .any(|item| matches!(item, Value::Map(_)));
        let mut nodes: Vec<(usize, Node)> = Vec::new();
        if objects {
            for index in 0..before.len().max(after.len()) {
                let old = before.get(index).unwrap_or(&NULL);
                let new = after.get(index).unwrap_or(&NULL);
                let child = path.join(PathStep::Index(index as u64));
                nodes.push((index, self.value(element, old, new, &child, show_all)));
            }
        } else {
            for step in line_diff(before, after) {
                let (index, old, new) = match step {
                    DiffStep::Same(old, new) => (new, &before[old], &after[new]),
                    DiffStep::Removed(old) => (old, &before[old], &NULL),
                    DiffStep::Added(new) => (new, &NULL, &after[new]),
                };
                let child = path.join(PathStep::Index(index as u64));
                nodes.push((index, self.value(element, old, new, &child, show_all)));
            }
        }
        let mut entries = Vec::new();
        let mut hidden = 0;
        for (index, node) in nodes {
            if node.mark() == Mark::Same && !show_all {
                hidden += 1;
                continue;
            }
            if hidden > 0 {
                entries.push(hidden_entry(hidden, "element"));
                hidden = 0;
            }
            let child = path.join(PathStep::Index(index as u64));
            entries.push(Entry {
                key: String::new(),
                note: self.note(&child, &node),
                node,
            });
        }
        if hidden > 0 {
            entries.push(hidden_entry(hidden, "element"));
        }
        entries
    }

    /// The node of one value pair. `show_all`: members of unchanged containers are shown.
    fn value(
        &self,
        typed: Typed<'_>,
        old: &Value,
        new: &Value,
        path: &AttrPath,
        show_all: bool,
    ) -> Node {
        if typed.secret {
            return self.secret(old, new, path);
        }
        if old == new && !new.contains_unknown() {
            return self.unchanged(typed, old, path, show_all);
        }
        match (old, new) {
            (_, Value::Unknown) => self.to_unknown(typed, old, path),
            (Value::String(_) | Value::Null, Value::String(_) | Value::Null)
                if is_multiline(old) || is_multiline(new) =>
            {
                heredoc(old.as_str(), new)
            }
            (Value::Map(_) | Value::Null, Value::Map(_) | Value::Null) => {
                self.container(typed, old, new, path, show_all)
            }
            (Value::List(_) | Value::Null, Value::List(_) | Value::Null) => {
                self.container(typed, old, new, path, show_all)
            }
            (Value::Null, _) => Node::Line {
                mark: Mark::Add,
                text: literal(new),
            },
            (_, Value::Null) => Node::Line {
                mark: Mark::Remove,
                text: format!("{} -> null", literal(old)),
            },
            _ => Node::Line {
                mark: Mark::Change,
                text: format!("{} -> {}", literal(old), literal(new)),
            },
        }
    }

    fn unchanged(&self, typed: Typed<'_>, value: &Value, path: &AttrPath, show_all: bool) -> Node {
        match value {
            Value::Map(_) | Value::List(_) => self.container(typed, value, value, path, show_all),
            Value::String(_) if is_multiline(value) => heredoc(value.as_str(), value),
            _ => Node::Line {
                mark: Mark::Same,
                text: literal(value),
            },
        }
    }

    /// A map, object or list on at least one side; the other side may be null.
    fn container(
        &self,
        typed: Typed<'_>,
        old: &Value,
        new: &Value,
        path: &AttrPath,
        show_all: bool,
    ) -> Node {
        let (mark, suffix) = match (old, new) {
            (Value::Null, _) => (Some(Mark::Add), ""),
            (_, Value::Null) => (Some(Mark::Remove), " -> null"),
            _ => (None, ""),
        };
        let list = matches!((old, new), (Value::List(_), _) | (_, Value::List(_)));
        let show_all = show_all || mark.is_some();
        let entries = if list {
            self.list_entries(
                Typed::element(typed.ty),
                old.as_list().unwrap_or_default(),
                new.as_list().unwrap_or_default(),
                path,
                show_all,
            )
        } else if let Some(AttrType::Object(attributes)) = typed.ty {
            self.object_entries(
                Some(attributes),
                old.as_map(),
                new.as_map(),
                path,
                false,
                show_all,
            )
        } else {
            self.map_entries(
                Typed::element(typed.ty),
                old.as_map(),
                new.as_map(),
                path,
                show_all,
            )
        };
        Node::Block {
            mark: mark.unwrap_or_else(|| Mark::of_members(&entries)),
            list,
            entries,
            suffix,
        }
    }

    /// A known value (or null) becomes unknown.
    fn to_unknown(&self, typed: Typed<'_>, old: &Value, path: &AttrPath) -> Node {
        match old {
            Value::Null => Node::Line {
                mark: Mark::Add,
                text: UNKNOWN.to_owned(),
            },
            Value::Map(_) | Value::List(_) => {
                // The old members, as removed, then what replaces them.
                let entries = match self.container(typed, old, &Value::Null, path, true) {
                    Node::Block { entries, .. } => entries,
                    _ => Vec::new(),
                };
                Node::Block {
                    mark: Mark::Change,
                    list: matches!(old, Value::List(_)),
                    entries,
                    suffix: " -> (known after apply)",
                }
            }
            Value::String(_) if is_multiline(old) => heredoc(old.as_str(), &Value::Unknown),
            _ => Node::Line {
                mark: Mark::Change,
                text: format!("{} -> {UNKNOWN}", literal(old)),
            },
        }
    }

    /// A sensitive or write-only value: only whether it is set, and whether it changes. A stored
    /// digest and a configured plaintext cannot be compared here; the engine lists a changed
    /// secret in `replace_paths` (every secret of the catalogue forces a new object).
    fn secret(&self, old: &Value, new: &Value, path: &AttrPath) -> Node {
        let (mark, text) = match (old, new) {
            (Value::Null, Value::Unknown) => (Mark::Add, UNKNOWN.to_owned()),
            (Value::Null, _) => (Mark::Add, SENSITIVE.to_owned()),
            (_, Value::Null) => (Mark::Remove, format!("{SENSITIVE} -> null")),
            (_, Value::Unknown) => (Mark::Change, format!("{SENSITIVE} -> {UNKNOWN}")),
            _ if self.replace_paths.contains(path) => (Mark::Change, SENSITIVE.to_owned()),
            _ if is_digest(old) != is_digest(new) => (Mark::Same, SENSITIVE.to_owned()),
            _ if old != new => (Mark::Change, SENSITIVE.to_owned()),
            _ => (Mark::Same, SENSITIVE.to_owned()),
        };
        Node::Line { mark, text }
    }
}

fn hidden_entry(count: usize, noun: &'static str) -> Entry {
    Entry {
        key: String::new(),
        node: Node::Hidden { count, noun },
        note: String::new(),
    }
}

fn is_digest(value: &Value) -> bool {
    value.as_str().is_some_and(engine::secret::is_digest)
}

fn is_multiline(value: &Value) -> bool {
    value.as_str().is_some_and(|text| text.contains('\n'))
}

/// Splits a string into display lines (one trailing newline dropped, lines escaped).
fn text_lines(text: &str) -> Vec<String> {
    text.strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .map(|line| escape(line, true))
        .collect()
}

/// A multi-line string: the lines of whichever side exists, or a line diff of both.
fn heredoc(old: Option<&str>, new: &Value) -> Node {
    match (old, new) {
        (Some(old), Value::String(new)) => {
            let before = text_lines(old);
            let after = text_lines(new);
            let lines: Vec<(Mark, String)> = line_diff(&before, &after)
                .into_iter()
                .map(|step| match step {
                    DiffStep::Same(_, index) => (Mark::Same, after[index].clone()),
                    DiffStep::Removed(index) => (Mark::Remove, before[index].clone()),
                    DiffStep::Added(index) => (Mark::Add, after[index].clone()),
                })
                .collect();
            let mark = if old == new { Mark::Same } else { Mark::Change };
            Node::Heredoc {
                mark,
                lines,
                suffix: "",
            }
        }
        (None, Value::String(new)) => Node::Heredoc {
            mark: Mark::Add,
            lines: plain(text_lines(new)),
            suffix: "",
        },
        (Some(old), Value::Unknown) => Node::Heredoc {
            mark: Mark::Change,
            lines: plain(text_lines(old)),
            suffix: " -> (known after apply)",
        },
        (Some(old), _) => Node::Heredoc {
            mark: Mark::Remove,
            lines: plain(text_lines(old)),
            suffix: " -> null",
        },
        (None, other) => Node::Line {
            mark: Mark::Add,
            text: literal(other),
        },
    }
}

fn plain(lines: Vec<String>) -> Vec<(Mark, String)> {
    lines.into_iter().map(|line| (Mark::Same, line)).collect()
}

/// One step of a sequence diff: indexes into the old and new sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiffStep {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// A longest-common-subsequence diff; removals come before additions at each change, as in
/// Terraform's list and heredoc diffs.
fn line_diff<T: PartialEq>(before: &[T], after: &[T]) -> Vec<DiffStep> {
    // Common prefix and suffix first: scripts usually change in a few lines.
    let prefix = before
        .iter()
        .zip(after)
        .take_while(|(old, new)| old == new)
        .count();
    let suffix = before[prefix..]
        .iter()
        .rev()
        .zip(after[prefix..].iter().rev())
        .take_while(|(old, new)| old == new)
        .count();
    let old = &before[prefix..before.len() - suffix];
    let new = &after[prefix..after.len() - suffix];
    // lengths[i][j]: LCS length of old[i..] and new[j..].
    let mut lengths = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lengths[i][j] = if old[i] == new[j] {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let mut steps: Vec<DiffStep> = (0..prefix)
        .map(|index| DiffStep::Same(index, index))
        .collect();
    let (mut i, mut j) = (0, 0);
    let mut added = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            steps.append(&mut added);
            steps.push(DiffStep::Same(prefix + i, prefix + j));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || lengths[i + 1][j] >= lengths[i][j + 1]) {
            steps.push(DiffStep::Removed(prefix + i));
            i += 1;
        } else {
            added.push(DiffStep::Added(prefix + j));
            j += 1;
        }
    }
    steps.append(&mut added);
    let old_end = before.len() - suffix;
    let new_end = after.len() - suffix;
    steps.extend((0..suffix).map(|offset| DiffStep::Same(old_end + offset, new_end + offset)));
    steps
}

/// A value on one line: HCL literal syntax, strings quoted and escaped.
fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => quote(text),
        Value::Unknown => UNKNOWN.to_owned(),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(key, value)| format!("{} = {}", quote(key), literal(value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `"text"` with HCL escapes.
fn quote(text: &str) -> String {
    format!("\"{}\"", escape(text, false))
}

/// HCL string escapes (`\"`, `\\`, `\n`, `$${`, `%%{`); every other control character as
/// `\uXXXX`, so no value can carry a terminal escape sequence to the screen. In a heredoc line
/// quotes and backslashes stay as they are.
fn escape(text: &str, heredoc: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if !heredoc => escaped.push_str("\\\""),
            '\\' if !heredoc => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' if !heredoc => escaped.push_str("\\t"),
            '\t' => escaped.push('\t'),
            '$' | '%' if chars.peek() == Some(&'{') => {
                escaped.push(ch);
                escaped.push(ch);
            }
            ch if ch.is_control() => {
                let _ = write!(escaped, "\\u{:04x}", u32::from(ch));
            }
            ch => escaped.push(ch),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn line_diff_keeps_common_lines_and_puts_removals_first() {
        let before = lines("a\nb\nc\nd");
        let after = lines("a\nx\nc\nd\ne");
        assert_eq!(
            line_diff(&before, &after),
            [
                DiffStep::Same(0, 0),
                DiffStep::Removed(1),
                DiffStep::Added(1),
                DiffStep::Same(2, 2),
                DiffStep::Same(3, 3),
                DiffStep::Added(4),
            ]
        );
        assert_eq!(line_diff::<&str>(&[], &["a"]), [DiffStep::Added(0)]);
        assert_eq!(line_diff(&["a"], &[] as &[&str]), [DiffStep::Removed(0)]);
    }

    #[test]
    fn escapes_control_characters_and_template_sequences() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{1b}[31mred"), r#""\u001b[31mred""#);
        assert_eq!(quote("${var}"), r#""$${var}""#);
        assert_eq!(escape("say \"hi\"\t%{x}", true), "say \"hi\"\t%%{x}");
    }

    #[test]
    fn counts_attachments_apart_from_creates() {
        let counts = PlanCounts {
            add: 1,
            change: 2,
            destroy: 0,
            attach: 1,
            detach: 1,
            import: 0,
        };
        assert_eq!(
            counts.to_string(),
            "1 to add, 2 to change, 0 to destroy, 1 to attach, 1 to detach"
        );
        let plain = PlanCounts {
            add: 1,
            ..PlanCounts::default()
        };
        assert_eq!(plain.to_string(), "1 to add, 0 to change, 0 to destroy");
    }
}
