//! `amlplan graph`: the steps apply would run and their order, as a Graphviz DOT graph in the
//! layout of `terraform graph -type=...` (`digraph`, a `root` subgraph, nodes named
//! `[root] ADDRESS (KIND)`). The graph is the engine's [`ApplyGraph`], drawn, not recomputed:
//! one node per step (`create`, `attach`, `update`, `destroy`, `detach`), one edge per ordering.
//!
//! Arrows point in apply order, from a step to the steps that wait for it (Terraform's point
//! from a node to what it depends on). An edge that keeps an attachment from being attached
//! twice (every detach of a resource before any attach of it, `plan::order`) is labelled
//! `detach before attach` and drawn bold.
//!
//! | `--type`              | plan drawn                                 |
//! |-----------------------|--------------------------------------------|
//! | `plan` (default), `apply` | what `apply` would run now (or `--plan FILE`) |
//! | `plan-destroy`        | what `destroy` would run                   |
//! | `plan-refresh-only`   | a refresh-only plan: no steps              |

use std::io::Write as _;
use std::path::Path;

use engine::plan::{Action, ApplyGraph, Plan, ResourceChange, StepKind};

use crate::cli::{GraphArgs, GraphType};

use super::session::Session;
use super::{Outcome, load};

/// Runs `graph`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    args: &GraphArgs,
) -> anyhow::Result<Outcome> {
    let plan = match &args.plan {
        Some(path) => super::plan::read_saved(path)?.plan,
        None => runtime.block_on(plan_now(dir, args))?,
    };
    let graph = ApplyGraph::build(&plan)?;
    write!(std::io::stdout().lock(), "{}", dot(&plan, &graph))?;
    Ok(Outcome::Success)
}

/// Plans as `plan` does, without printing anything but diagnostics.
async fn plan_now(dir: &Path, args: &GraphArgs) -> anyhow::Result<Plan> {
    let loaded = load(dir, &args.options.vars)?;
    let session = Session::open_quiet(dir, loaded, &args.options.state, "graph").await?;
    let mut options = args.options.clone();
    options.refresh_only |= args.graph_type == GraphType::PlanRefreshOnly;
    let planned = session
        .plan(&options, args.graph_type == GraphType::PlanDestroy)
        .await;
    session.target.close().await;
    Ok(planned?.plan)
}

/// [`Session::open`] without its target line, which would not be DOT.
/// The DOT text of `graph`: nodes, then edges, each sorted, as Terraform writes them.
fn dot(plan: &Plan, graph: &ApplyGraph) -> String {
    let name = |step: usize| {
        let step = graph.steps[step];
        let change = &plan.changes[step.change];
        format!("{} ({})", change.addr, kind(change, step.kind))
    };
    let mut nodes: Vec<String> = (0..graph.steps.len())
        .map(|step| {
            let name = name(step);
            format!(
                "\t\t{} [label = {}, shape = \"box\"]\n",
                quote(&format!("[root] {name}")),
                quote(&name)
            )
        })
        .collect();
    nodes.sort();
    let mut edges: Vec<String> = Vec::new();
    for (step, deps) in graph.deps.iter().enumerate() {
        for &dep in deps {
            let attributes = if keeps_attachments_apart(plan, graph, dep, step) {
                " [label = \"detach before attach\", style = \"bold\"]"
            } else {
                ""
            };
            edges.push(format!(
                "\t\t{} -> {}{attributes}\n",
                quote(&format!("[root] {}", name(dep))),
                quote(&format!("[root] {}", name(step)))
            ));
        }
    }
    edges.sort();
    format!(
        "digraph {{\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {{\n{}{}\t}}\n}}\n",
        nodes.concat(),
        edges.concat()
    )
}

/// What a step does, in the words of the plan (`detach`, not `destroy`, for an attachment).
fn kind(change: &ResourceChange, step: StepKind) -> &'static str {
    let attachment = matches!(
        change.action,
        Action::Attach | Action::Detach | Action::Reattach
    );
    match (step, attachment) {
        (StepKind::Remove, true) => "detach",
        (StepKind::Remove, false) => "destroy",
        (StepKind::Add, true) => "attach",
        (StepKind::Add, false) => "create",
        (StepKind::Update, _) => "update",
    }
}

/// Whether the edge `from` → `to` is one of the attachment invariant's: `from` removes an
/// attachment that `to` may add again.
fn keeps_attachments_apart(plan: &Plan, graph: &ApplyGraph, from: usize, to: usize) -> bool {
    let (from, to) = (graph.steps[from], graph.steps[to]);
    let removed = &plan.changes[from.change].before_attachment;
    let added = &plan.changes[to.change].after_attachment;
    from.kind == StepKind::Remove
        && to.kind == StepKind::Add
        && matches!((removed, added), (Some(removed), Some(added)) if removed.may_equal(added))
}

/// A DOT string: quoted, `"` and `\` escaped.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use engine::addr::ResourceAddr;
    use engine::plan::AttachmentKey;

    use super::*;

    #[test]
    fn a_rename_of_an_attachment_draws_its_detach_before_its_attach() {
        let key = AttachmentKey {
            workspace: Some("w".to_owned()),
            identity: Default::default(),
        };
        let mut old = ResourceChange::new(
            ResourceAddr::managed("azureml_attached_virtual_machine", "old"),
            Action::Detach,
        );
        old.before_attachment = Some(key.clone());
        let mut new = ResourceChange::new(
            ResourceAddr::managed("azureml_attached_virtual_machine", "new")
                .with_key(engine::addr::InstanceKey::Key("a".to_owned())),
            Action::Attach,
        );
        new.after_attachment = Some(key);
        let plan = Plan {
            changes: vec![new, old],
            ..Plan::default()
        };
        let graph = ApplyGraph::build(&plan).expect("no cycle");
        let text = dot(&plan, &graph);
        let edges: Vec<&str> = text.lines().filter(|line| line.contains("->")).collect();
        assert_eq!(
            edges,
            [
                "\t\t\"[root] azureml_attached_virtual_machine.old (detach)\" -> \"[root] azureml_attached_virtual_machine.new[\\\"a\\\"] (attach)\" [label = \"detach before attach\", style = \"bold\"]"
            ]
        );
    }
}
