//! The order apply runs a [`Plan`] in: a graph of steps with edges, and a [`Scheduler`] that
//! hands out ready steps for bounded concurrency. Pure; tested on `Plan` literals.
//!
//! Each change becomes one or two steps:
//!
//! | action                | steps                                                       |
//! |-----------------------|-------------------------------------------------------------|
//! | `Create`, `Attach`    | add                                                         |
//! | `Update`              | update                                                      |
//! | `Delete`, `Detach`    | remove                                                      |
//! | `Replace`, `Reattach` | remove → add (`create_before_destroy`: add → remove)        |
//! | `NoOp`, `Read`        | none                                                        |
//!
//! Edges (a → b: a finishes before b starts):
//!
//! - adds and updates run after the add/update of everything they depend on;
//! - removals run in reverse: the removal of a dependent before the removal of what it depends on;
//! - with `create_before_destroy`, dependents are added/updated before the old object is removed;
//! - **attachment invariant** (DESIGN §4): every removal of an attachment of resource R in
//!   workspace W runs before every add of an attachment of R in W, whatever the addresses (a rename
//!   is one detach and one attach of different addresses). Keys that are unknown at plan time
//!   match conservatively (see [`AttachmentKey::may_equal`](super::AttachmentKey::may_equal)).

use std::collections::{BTreeMap, BTreeSet};

use crate::addr::ResourceAddr;

use super::{Action, AttachmentKey, ObjectKey, Plan, ResourceChange};

/// What a step does to its change's resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepKind {
    /// Delete or detach (alone, or the first half of a replacement).
    Remove,
    /// Create or attach (alone, or the second half of a replacement).
    Add,
    /// Update in place.
    Update,
}

/// One unit of apply work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index into [`Plan::changes`].
    pub change: usize,
    /// What the step does.
    pub kind: StepKind,
}

/// The steps of a plan and their edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyGraph {
    /// The steps, in plan order.
    pub steps: Vec<Step>,
    /// `deps[i]`: the steps that must finish before step `i` starts (sorted, no duplicates).
    pub deps: Vec<Vec<usize>>,
}

/// The plan cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The edges form a cycle.
    #[error("the changes of {} depend on each other in a cycle", format_addrs(.addrs))]
    Cycle {
        /// The resources whose steps form the cycle.
        addrs: Vec<ResourceAddr>,
    },
}

fn format_addrs(addrs: &[ResourceAddr]) -> String {
    addrs
        .iter()
        .map(|addr| format!("`{addr}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ApplyGraph {
    /// Builds the graph of `plan` (see the module docs for the edges).
    ///
    /// ```
    /// use model::addr::ResourceAddr;
    /// use model::plan::{Action, ApplyGraph, Plan, ResourceChange, StepKind};
    /// let plan = Plan { changes: vec![ResourceChange::new(ResourceAddr::managed("azureml_workspace", "w"), Action::Replace)], ..Plan::default() };
    /// let graph = ApplyGraph::build(&plan).unwrap();
    /// assert_eq!(graph.steps.iter().map(|step| step.kind).collect::<Vec<_>>(), [StepKind::Remove, StepKind::Add]);
    /// assert_eq!(graph.deps[1], [0]);
    /// ```
    pub fn build(plan: &Plan) -> Result<ApplyGraph, OrderError> {
        let changes = &plan.changes;
        let mut steps = Vec::new();
        let mut remove_step = vec![None; changes.len()];
        let mut add_step = vec![None; changes.len()];
        let mut update_step = vec![None; changes.len()];
        for (index, change) in changes.iter().enumerate() {
            let mut push = |kind| {
                steps.push(Step {
                    change: index,
                    kind,
                });
                Some(steps.len() - 1)
            };
            match change.action {
                Action::NoOp | Action::Read => {}
                Action::Create | Action::Attach => add_step[index] = push(StepKind::Add),
                Action::Update(_) => update_step[index] = push(StepKind::Update),
                Action::Delete | Action::Detach => remove_step[index] = push(StepKind::Remove),
                Action::Replace | Action::Reattach => {
                    remove_step[index] = push(StepKind::Remove);
                    add_step[index] = push(StepKind::Add);
                }
            }
        }
        let mut edges = Edges::new(steps.len());
        let by_addr: BTreeMap<&ResourceAddr, usize> = changes
            .iter()
            .enumerate()
            .map(|(index, change)| (&change.addr, index))
            .collect();
        let mut by_resource: BTreeMap<ResourceAddr, Vec<usize>> = BTreeMap::new();
        for (index, change) in changes.iter().enumerate() {
            by_resource
                .entry(change.addr.without_key())
                .or_default()
                .push(index);
        }
        // The changes a recorded dependency names: its instance, or, for an address without key
        // (Terraform records dependencies per resource, not per instance), every instance.
        let named = |dependency: &ResourceAddr| -> Vec<usize> {
            match by_addr.get(dependency) {
                Some(&index) => vec![index],
                None if dependency.key.is_none() => {
                    by_resource.get(dependency).cloned().unwrap_or_default()
                }
                None => Vec::new(),
            }
        };
        // A replacement under the same ARM id cannot create first: both cannot exist at once.
        let create_first = |index: usize| {
            let change = &changes[index];
            change.create_before_destroy
                && change.action == Action::Replace
                && !matches!(
                    (&change.before_object, &change.after_object),
                    (Some(before), Some(after)) if before.is_same(after)
                )
        };

        for (index, change) in changes.iter().enumerate() {
            // The two halves of a replacement.
            if create_first(index) {
                edges.add(add_step[index], remove_step[index]);
            } else {
                edges.add(remove_step[index], add_step[index]);
            }
            let ready_step = |index: usize| add_step[index].or(update_step[index]);
            for dependency in change.depends_on.iter().flat_map(&named) {
                if dependency == index {
                    continue;
                }
                // Adds and updates after what they depend on.
                edges.add(ready_step(dependency), add_step[index]);
                edges.add(ready_step(dependency), update_step[index]);
                // Removals in reverse dependency order.
                edges.add(remove_step[index], remove_step[dependency]);
                // Create-before-destroy: dependents move to the new object before the old goes.
                if create_first(dependency) {
                    edges.add(ready_step(index), remove_step[dependency]);
                }
            }
        }

        // The attachment invariant.
        let removals: Vec<(usize, &super::AttachmentKey)> = changes
            .iter()
            .enumerate()
            .filter_map(|(index, change)| {
                Some((remove_step[index]?, change.before_attachment.as_ref()?))
            })
            .collect();
        for (index, change) in changes.iter().enumerate() {
            let (Some(add), Some(key)) = (add_step[index], change.after_attachment.as_ref()) else {
                continue;
            };
            for (remove, theirs) in &removals {
                if theirs.may_equal(key) {
                    edges.add(Some(*remove), Some(add));
                }
            }
        }

        order_shared_objects(changes, &steps, &mut edges);

        let graph = ApplyGraph {
            steps,
            deps: edges
                .deps
                .into_iter()
                .map(|set| set.into_iter().collect())
                .collect(),
        };
        graph.check_acyclic(plan)?;
        Ok(graph)
    }

    /// The steps that wait for each step (the reverse of [`ApplyGraph::deps`]).
    pub fn dependents(&self) -> Vec<Vec<usize>> {
        let mut dependents = vec![Vec::new(); self.steps.len()];
        for (step, deps) in self.deps.iter().enumerate() {
            for &dep in deps {
                dependents[dep].push(step);
            }
        }
        dependents
    }

    /// One order that respects every edge (Kahn's algorithm, lowest index first).
    pub fn topological_order(&self) -> Vec<usize> {
        let dependents = self.dependents();
        let mut waiting: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..self.steps.len())
            .filter(|&step| waiting[step] == 0)
            .collect();
        let mut order = Vec::with_capacity(self.steps.len());
        while let Some(step) = ready.pop_first() {
            order.push(step);
            for &dependent in &dependents[step] {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.insert(dependent);
                }
            }
        }
        order
    }

    fn check_acyclic(&self, plan: &Plan) -> Result<(), OrderError> {
        let order = self.topological_order();
        if order.len() == self.steps.len() {
            return Ok(());
        }
        // Steps never ordered are on a cycle or behind one; keep those that are on one (they
        // still have an unordered dependency after removing what only follows the cycle).
        let ordered: BTreeSet<usize> = order.into_iter().collect();
        let mut stuck: BTreeSet<usize> = (0..self.steps.len())
            .filter(|step| !ordered.contains(step))
            .collect();
        loop {
            let feeding: BTreeSet<usize> = stuck
                .iter()
                .flat_map(|&step| self.deps[step].iter().copied())
                .filter(|dep| stuck.contains(dep))
                .collect();
            let before = stuck.len();
            stuck.retain(|step| feeding.contains(step));
            if stuck.len() == before {
                break;
            }
        }
        let addrs: BTreeSet<ResourceAddr> = stuck
            .into_iter()
            .map(|step| plan.changes[self.steps[step].change].addr.clone())
            .collect();
        Err(OrderError::Cycle {
            addrs: addrs.into_iter().collect(),
        })
    }
}

/// The edges of a graph being built, both ways (for reachability).
struct Edges {
    /// `deps[to]`: the steps that finish before `to` starts.
    deps: Vec<BTreeSet<usize>>,
    /// `next[from]`: the steps that wait for `from`.
    next: Vec<BTreeSet<usize>>,
}

impl Edges {
    fn new(steps: usize) -> Edges {
        Edges {
            deps: vec![BTreeSet::new(); steps],
            next: vec![BTreeSet::new(); steps],
        }
    }

    /// `from` finishes before `to` starts (nothing when either is absent or they are one step).
    fn add(&mut self, from: Option<usize>, to: Option<usize>) {
        if let (Some(from), Some(to)) = (from, to)
            && from != to
        {
            self.deps[to].insert(from);
            self.next[from].insert(to);
        }
    }

    /// True when a path of edges leads from `from` to `to`.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = BTreeSet::from([from]);
        let mut stack = vec![from];
        while let Some(step) = stack.pop() {
            if step == to {
                return true;
            }
            for &next in &self.next[step] {
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        false
    }
}

/// What one step touches: the ARM objects and attachments of its side(s) of the change.
struct Touch<'p> {
    objects: Vec<&'p ObjectKey>,
    attachments: Vec<&'p AttachmentKey>,
}

impl<'p> Touch<'p> {
    fn of(change: &'p ResourceChange, kind: StepKind) -> Touch<'p> {
        let (objects, attachments) = match kind {
            StepKind::Remove => (vec![&change.before_object], vec![&change.before_attachment]),
            StepKind::Add => (vec![&change.after_object], vec![&change.after_attachment]),
            StepKind::Update => (
                vec![&change.before_object, &change.after_object],
                vec![&change.before_attachment, &change.after_attachment],
            ),
        };
        Touch {
            objects: objects.into_iter().flatten().collect(),
            attachments: attachments.into_iter().flatten().collect(),
        }
    }

    /// Whether both may touch one object or attachment, and whether they certainly do.
    fn overlap(&self, other: &Touch<'_>) -> (bool, bool) {
        let mut possible = false;
        let mut certain = false;
        for (mine, theirs) in self
            .objects
            .iter()
            .flat_map(|mine| other.objects.iter().map(move |theirs| (mine, theirs)))
        {
            possible |= mine.may_equal(theirs);
            certain |= mine.is_same(theirs);
        }
        for (mine, theirs) in self
            .attachments
            .iter()
            .flat_map(|mine| other.attachments.iter().map(move |theirs| (mine, theirs)))
        {
            possible |= mine.may_equal(theirs);
            certain |= mine.is_known() && mine == theirs;
        }
        (possible, certain)
    }
}

/// Two steps of different changes that may touch one ARM object (or attach one resource) never
/// run at once: a removal runs before the other step, otherwise the lower step first. When they
/// certainly touch one object the removal-first edge is always added (a cycle it closes is an
/// error: the plan cannot be applied safely); when they only may (an unknown name or parent),
/// an edge is added only where the steps are not ordered yet, in the direction that keeps the
/// graph acyclic.
fn order_shared_objects(changes: &[ResourceChange], steps: &[Step], edges: &mut Edges) {
    let touches: Vec<Touch<'_>> = steps
        .iter()
        .map(|step| Touch::of(&changes[step.change], step.kind))
        .collect();
    // Candidate pairs: same collection and name (or an unknown name), and every pair of steps
    // that touch attachments.
    let mut named: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut unnamed: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut attaching = Vec::new();
    for (step, touch) in touches.iter().enumerate() {
        for key in &touch.objects {
            match &key.name {
                Some(name) => named
                    .entry((key.collection.as_str(), name.as_str()))
                    .or_default()
                    .push(step),
                None => unnamed
                    .entry(key.collection.as_str())
                    .or_default()
                    .push(step),
            }
        }
        if !touch.attachments.is_empty() {
            attaching.push(step);
        }
    }
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut pair_all = |group: &[usize], others: &[usize]| {
        for &a in group {
            for &b in others {
                if steps[a].change != steps[b].change {
                    pairs.insert((a.min(b), a.max(b)));
                }
            }
        }
    };
    for group in named.values() {
        pair_all(group, group);
    }
    for (collection, group) in &unnamed {
        pair_all(group, group);
        for ((other, _), others) in &named {
            if other == collection {
                pair_all(group, others);
            }
        }
    }
    pair_all(&attaching, &attaching);

    let mut optional = Vec::new();
    for (a, b) in pairs {
        let (possible, certain) = touches[a].overlap(&touches[b]);
        if !possible {
            continue;
        }
        let (first, then) = match (steps[a].kind, steps[b].kind) {
            (StepKind::Remove, kind) if kind != StepKind::Remove => (a, b),
            (kind, StepKind::Remove) if kind != StepKind::Remove => (b, a),
            _ => (a, b),
        };
        let removal_first =
            steps[first].kind == StepKind::Remove && steps[then].kind != StepKind::Remove;
        if certain && removal_first {
            edges.add(Some(first), Some(then));
        } else {
            optional.push((first, then));
        }
    }
    for (first, then) in optional {
        if !edges.reaches(first, then) && !edges.reaches(then, first) {
            edges.add(Some(first), Some(then));
        }
    }
}

/// Where a step is in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not started; waits for its dependencies.
    Waiting,
    /// Handed out, not finished.
    Running,
    /// Finished successfully.
    Done,
    /// Finished with an error.
    Failed,
    /// Never run: something it waits for failed.
    Skipped,
}

/// Hands out the steps of an [`ApplyGraph`] as their dependencies finish, for apply to run with
/// bounded concurrency. A failed step skips everything that waits for it, transitively; the rest
/// goes on.
///
/// ```
/// use model::addr::ResourceAddr;
/// use model::plan::{Action, ApplyGraph, Plan, ResourceChange, Scheduler};
/// let plan = Plan { changes: vec![ResourceChange::new(ResourceAddr::managed("azureml_workspace", "w"), Action::Replace)], ..Plan::default() };
/// let graph = ApplyGraph::build(&plan).unwrap();
/// let mut scheduler = Scheduler::new(&graph);
/// assert_eq!(scheduler.next_batch(10), [0]);
/// assert!(scheduler.next_batch(10).is_empty());
/// scheduler.complete(0);
/// assert_eq!(scheduler.next_batch(10), [1]);
/// scheduler.complete(1);
/// assert!(scheduler.is_finished());
/// ```
#[derive(Debug, Clone)]
pub struct Scheduler {
    dependents: Vec<Vec<usize>>,
    waiting_for: Vec<usize>,
    states: Vec<StepState>,
}

impl Scheduler {
    /// A scheduler with every step waiting.
    pub fn new(graph: &ApplyGraph) -> Scheduler {
        Scheduler {
            dependents: graph.dependents(),
            waiting_for: graph.deps.iter().map(Vec::len).collect(),
            states: vec![StepState::Waiting; graph.steps.len()],
        }
    }

    /// The waiting steps whose dependencies are all done, lowest index first.
    pub fn ready(&self) -> Vec<usize> {
        (0..self.states.len())
            .filter(|&step| self.states[step] == StepState::Waiting && self.waiting_for[step] == 0)
            .collect()
    }

    /// The number of steps handed out and not finished.
    pub fn running(&self) -> usize {
        self.states
            .iter()
            .filter(|state| **state == StepState::Running)
            .count()
    }

    /// Hands out ready steps (marking them running) so that at most `parallelism` run at once.
    pub fn next_batch(&mut self, parallelism: usize) -> Vec<usize> {
        let room = parallelism.saturating_sub(self.running());
        let batch: Vec<usize> = self.ready().into_iter().take(room).collect();
        for &step in &batch {
            self.states[step] = StepState::Running;
        }
        batch
    }

    /// Marks a step done; its dependents may become ready.
    pub fn complete(&mut self, step: usize) {
        self.states[step] = StepState::Done;
        for &dependent in &self.dependents[step] {
            self.waiting_for[dependent] = self.waiting_for[dependent].saturating_sub(1);
        }
    }

    /// Marks a step failed and returns the steps skipped because of it (transitively).
    pub fn fail(&mut self, step: usize) -> Vec<usize> {
        self.states[step] = StepState::Failed;
        let mut skipped = Vec::new();
        let mut stack = self.dependents[step].clone();
        while let Some(next) = stack.pop() {
            if self.states[next] == StepState::Waiting {
                self.states[next] = StepState::Skipped;
                skipped.push(next);
                stack.extend(self.dependents[next].iter().copied());
            }
        }
        skipped.sort_unstable();
        skipped
    }

    /// The state of a step.
    pub fn state(&self, step: usize) -> StepState {
        self.states[step]
    }

    /// True when no step is waiting or running.
    pub fn is_finished(&self) -> bool {
        self.states
            .iter()
            .all(|state| !matches!(state, StepState::Waiting | StepState::Running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AttachmentKey, ResourceChange, UpdateKind};
    use pretty_assertions::assert_eq;

    fn addr(text: &str) -> ResourceAddr {
        text.parse().expect("address")
    }

    fn key(workspace: &str, resource: Option<&str>) -> AttachmentKey {
        AttachmentKey {
            workspace: Some(workspace.to_owned()),
            identity: [("resource_id".to_owned(), resource.map(str::to_owned))].into(),
        }
    }

    fn change(address: &str, action: Action) -> ResourceChange {
        ResourceChange::new(addr(address), action)
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            changes,
            ..Plan::default()
        }
    }

    /// The steps as `addr:kind` strings in a valid order.
    #[track_caller]
    fn ordered(plan: &Plan) -> Vec<String> {
        let graph = ApplyGraph::build(plan).expect("acyclic");
        graph
            .topological_order()
            .into_iter()
            .map(|step| {
                let step = graph.steps[step];
                format!("{}:{:?}", plan.changes[step.change].addr, step.kind)
            })
            .collect()
    }

    #[test]
    fn rename_detaches_before_attaching_across_addresses() {
        // `a_new` sorts before `z_old`, so without the invariant edge the attach would come first.
        let mut attach = change("azureml_attached_virtual_machine.a_new", Action::Attach);
        attach.after_attachment = Some(key("w", Some("vm1")));
        let mut detach = change("azureml_attached_virtual_machine.z_old", Action::Detach);
        detach.before_attachment = Some(key("w", Some("vm1")));
        let plan = plan(vec![attach, detach]);
        let graph = ApplyGraph::build(&plan).expect("acyclic");
        assert_eq!(graph.deps, vec![vec![1], vec![]]);
        assert_eq!(
            ordered(&plan),
            [
                "azureml_attached_virtual_machine.z_old:Remove",
                "azureml_attached_virtual_machine.a_new:Add"
            ]
        );
    }

    #[test]
    fn other_workspaces_and_resources_are_not_ordered() {
        let mut attach = change("azureml_attached_virtual_machine.a", Action::Attach);
        attach.after_attachment = Some(key("w", Some("vm1")));
        let mut other_ws = change("azureml_attached_virtual_machine.b", Action::Detach);
        other_ws.before_attachment = Some(key("w2", Some("vm1")));
        let mut other_vm = change("azureml_attached_virtual_machine.c", Action::Detach);
        other_vm.before_attachment = Some(key("w", Some("vm2")));
        let graph = ApplyGraph::build(&plan(vec![attach, other_ws, other_vm])).expect("acyclic");
        assert!(graph.deps.iter().all(Vec::is_empty), "{graph:?}");
    }

    #[test]
    fn unknown_resource_id_waits_for_every_detach_in_the_workspace() {
        let mut attach = change("azureml_attached_virtual_machine.a", Action::Attach);
        attach.after_attachment = Some(key("w", None));
        let mut detach = change("azureml_attached_virtual_machine.b", Action::Detach);
        detach.before_attachment = Some(key("w", Some("vm9")));
        let graph = ApplyGraph::build(&plan(vec![attach, detach])).expect("acyclic");
        assert_eq!(graph.deps[0], [1]);
    }

    #[test]
    fn reattach_is_split_into_detach_then_attach() {
        let mut reattach = change("azureml_inference_cluster.aks", Action::Reattach);
        reattach.before_attachment = Some(key("w", Some("aks")));
        reattach.after_attachment = Some(key("w", Some("aks")));
        let plan = plan(vec![reattach]);
        let graph = ApplyGraph::build(&plan).expect("acyclic");
        assert_eq!(
            graph.steps,
            [
                Step {
                    change: 0,
                    kind: StepKind::Remove
                },
                Step {
                    change: 0,
                    kind: StepKind::Add
                }
            ]
        );
        assert_eq!(graph.deps, vec![vec![], vec![0]]);
    }

    #[test]
    fn deletes_run_in_reverse_dependency_order_and_creates_forward() {
        let workspace = change("azureml_workspace.w", Action::Delete);
        let mut cluster = change("azureml_compute_cluster.c", Action::Delete);
        cluster.depends_on = vec![addr("azureml_workspace.w")];
        let order = ordered(&plan(vec![workspace, cluster]));
        assert_eq!(
            order,
            [
                "azureml_compute_cluster.c:Remove",
                "azureml_workspace.w:Remove"
            ]
        );

        let workspace = change("azureml_workspace.w", Action::Create);
        let mut cluster = change("azureml_compute_cluster.a", Action::Create);
        cluster.depends_on = vec![addr("azureml_workspace.w")];
        let order = ordered(&plan(vec![cluster, workspace]));
        assert_eq!(
            order,
            ["azureml_workspace.w:Add", "azureml_compute_cluster.a:Add"]
        );
    }

    #[test]
    fn replacing_a_workspace_replaces_its_computes_around_it() {
        let workspace = change("azureml_workspace.w", Action::Replace);
        let mut cluster = change("azureml_compute_cluster.c", Action::Replace);
        cluster.depends_on = vec![addr("azureml_workspace.w")];
        let order = ordered(&plan(vec![workspace, cluster]));
        assert_eq!(
            order,
            [
                "azureml_compute_cluster.c:Remove",
                "azureml_workspace.w:Remove",
                "azureml_workspace.w:Add",
                "azureml_compute_cluster.c:Add",
            ]
        );
    }

    #[test]
    fn create_before_destroy_adds_and_moves_dependents_first() {
        let mut workspace = change("azureml_workspace.w", Action::Replace);
        workspace.create_before_destroy = true;
        let mut cluster = change(
            "azureml_compute_cluster.c",
            Action::Update(UpdateKind::put()),
        );
        cluster.depends_on = vec![addr("azureml_workspace.w")];
        let order = ordered(&plan(vec![workspace, cluster]));
        assert_eq!(
            order,
            [
                "azureml_workspace.w:Add",
                "azureml_compute_cluster.c:Update",
                "azureml_workspace.w:Remove"
            ]
        );
    }

    #[test]
    fn cycles_are_reported_with_their_resources() {
        let mut a = change("azureml_compute_cluster.a", Action::Create);
        a.depends_on = vec![addr("azureml_compute_cluster.b")];
        let mut b = change("azureml_compute_cluster.b", Action::Create);
        b.depends_on = vec![addr("azureml_compute_cluster.a")];
        let mut c = change("azureml_compute_cluster.c", Action::Create);
        c.depends_on = vec![addr("azureml_compute_cluster.a")];
        let error = ApplyGraph::build(&plan(vec![a, b, c])).expect_err("cycle");
        assert_eq!(
            error,
            OrderError::Cycle {
                addrs: vec![
                    addr("azureml_compute_cluster.a"),
                    addr("azureml_compute_cluster.b")
                ]
            }
        );
        assert_eq!(
            error.to_string(),
            "the changes of `azureml_compute_cluster.a`, `azureml_compute_cluster.b` depend on each other in a cycle"
        );
    }

    #[test]
    fn scheduler_respects_parallelism_and_skips_after_failure() {
        let workspace = change("azureml_workspace.w", Action::Create);
        let mut changes = vec![workspace];
        for name in ["a", "b", "c"] {
            let mut cluster = change(&format!("azureml_compute_cluster.{name}"), Action::Create);
            cluster.depends_on = vec![addr("azureml_workspace.w")];
            changes.push(cluster);
        }
        let other = change("azureml_workspace.x", Action::Update(UpdateKind::patch()));
        changes.push(other);
        let graph = ApplyGraph::build(&plan(changes)).expect("acyclic");
        let mut scheduler = Scheduler::new(&graph);
        assert_eq!(scheduler.next_batch(2), [0, 4]);
        assert_eq!(scheduler.next_batch(2), Vec::<usize>::new());
        scheduler.complete(0);
        assert_eq!(scheduler.ready(), [1, 2, 3]);
        assert_eq!(scheduler.next_batch(2), [1]);
        scheduler.complete(4);
        assert_eq!(scheduler.next_batch(2), [2]);
        scheduler.complete(1);
        scheduler.complete(2);
        assert_eq!(scheduler.next_batch(2), [3]);
        scheduler.complete(3);
        assert!(scheduler.is_finished());

        let mut scheduler = Scheduler::new(&graph);
        assert_eq!(scheduler.next_batch(10), [0, 4]);
        assert_eq!(scheduler.fail(0), [1, 2, 3]);
        assert_eq!(scheduler.state(2), StepState::Skipped);
        assert!(!scheduler.is_finished());
        scheduler.complete(4);
        assert!(scheduler.is_finished());
    }

    #[test]
    fn failed_detach_never_lets_the_attach_run() {
        let mut attach = change("azureml_attached_virtual_machine.new", Action::Attach);
        attach.after_attachment = Some(key("w", Some("vm1")));
        let mut detach = change("azureml_attached_virtual_machine.old", Action::Detach);
        detach.before_attachment = Some(key("w", Some("vm1")));
        let graph = ApplyGraph::build(&plan(vec![attach, detach])).expect("acyclic");
        let mut scheduler = Scheduler::new(&graph);
        assert_eq!(scheduler.next_batch(10), [1]);
        assert_eq!(scheduler.fail(1), [0]);
        assert!(scheduler.is_finished());
    }

    fn object(parent: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            collection: "computes".to_owned(),
            parent: parent.map(str::to_owned),
            name: Some(name.to_owned()),
            version: Some(String::new()),
        }
    }

    #[test]
    fn a_destroy_and_a_create_of_one_object_never_run_together() {
        // `cpu[5]` in state, `cpu` (no count) in the configuration, one compute name: without the
        // edge both steps are ready at once.
        let mut create = change("azureml_compute_cluster.cpu", Action::Create);
        create.after_object = Some(object(Some("w"), "cpu"));
        let mut destroy = change("azureml_compute_cluster.cpu[5]", Action::Delete);
        destroy.before_object = Some(object(Some("w"), "cpu"));
        let graph = ApplyGraph::build(&plan(vec![create, destroy])).expect("acyclic");
        assert_eq!(graph.deps, vec![vec![1], vec![]]);
        let mut scheduler = Scheduler::new(&graph);
        assert_eq!(scheduler.next_batch(10), [1], "only the destroy is ready");
        scheduler.complete(1);
        assert_eq!(scheduler.next_batch(10), [0]);

        // Other objects (another name, another workspace, another collection) stay concurrent.
        let mut create = change("azureml_compute_cluster.cpu", Action::Create);
        create.after_object = Some(object(Some("w"), "cpu"));
        let mut other_name = change("azureml_compute_cluster.a", Action::Delete);
        other_name.before_object = Some(object(Some("w"), "gpu"));
        let mut other_workspace = change("azureml_compute_cluster.b", Action::Delete);
        other_workspace.before_object = Some(object(Some("w2"), "cpu"));
        let mut environment = change("azureml_environment.c", Action::Delete);
        environment.before_object = Some(ObjectKey {
            collection: "environments".to_owned(),
            ..object(Some("w"), "cpu")
        });
        let graph = ApplyGraph::build(&plan(vec![
            create,
            other_name,
            other_workspace,
            environment,
        ]))
        .expect("acyclic");
        assert!(graph.deps.iter().all(Vec::is_empty), "{graph:?}");
    }

    #[test]
    fn a_detach_waits_for_nothing_but_an_attach_of_the_same_name_waits_for_it() {
        // Removal first whatever the actions are called (detach, then attach of one compute
        // record), and whatever the step indices.
        let mut attach = change("azureml_attached_virtual_machine.a", Action::Attach);
        attach.after_object = Some(object(Some("w"), "vm"));
        let mut detach = change("azureml_attached_virtual_machine.z", Action::Detach);
        detach.before_object = Some(object(Some("w"), "vm"));
        assert_eq!(
            ordered(&plan(vec![attach, detach])),
            [
                "azureml_attached_virtual_machine.z:Remove",
                "azureml_attached_virtual_machine.a:Add"
            ]
        );
    }

    #[test]
    fn create_before_destroy_under_the_same_name_destroys_first() {
        // Creating "first" would be a PUT to the old object's id; deleting the old one after it
        // would delete the new one.
        let mut replace = change("azureml_compute_cluster.cpu", Action::Replace);
        replace.create_before_destroy = true;
        replace.before_object = Some(object(Some("w"), "cpu"));
        replace.after_object = Some(object(Some("w"), "cpu"));
        assert_eq!(
            ordered(&plan(vec![replace.clone()])),
            [
                "azureml_compute_cluster.cpu:Remove",
                "azureml_compute_cluster.cpu:Add"
            ]
        );
        // Under a new name (or a new version) the replacement is created first.
        replace.after_object = Some(object(Some("w"), "cpu-2"));
        assert_eq!(
            ordered(&plan(vec![replace])),
            [
                "azureml_compute_cluster.cpu:Add",
                "azureml_compute_cluster.cpu:Remove"
            ]
        );
    }

    #[test]
    fn steps_that_may_share_an_object_are_serialized() {
        // An unknown workspace (created by this plan) may be the destroyed compute's: ordered,
        // removal first. Two creates and an update of one name: one at a time, in step order.
        let mut destroy = change("azureml_compute_cluster.old", Action::Delete);
        destroy.before_object = Some(object(Some("w"), "cpu"));
        let mut create = change("azureml_compute_cluster.a", Action::Create);
        create.after_object = Some(object(None, "cpu"));
        let mut update = change(
            "azureml_compute_cluster.b",
            Action::Update(UpdateKind::patch()),
        );
        update.before_object = Some(object(Some("w2"), "cpu"));
        update.after_object = Some(object(Some("w2"), "cpu"));
        let graph = ApplyGraph::build(&plan(vec![create, update, destroy])).expect("acyclic");
        // Steps: 0 create a, 1 update b, 2 destroy old.
        assert_eq!(graph.deps, vec![vec![2], vec![0], vec![]]);
    }

    #[test]
    fn a_possible_match_never_closes_a_cycle() {
        // `x` is replaced create-first with a name unknown until apply and depends on `y`, which
        // is destroyed: add x' -> remove x -> remove y is already a path, so the removal-first
        // edge for the possible match (remove y -> add x') is not added against it.
        let mut replaced = change("azureml_compute_cluster.x", Action::Replace);
        replaced.create_before_destroy = true;
        replaced.depends_on = vec![addr("azureml_compute_cluster.y")];
        replaced.before_object = Some(object(Some("w"), "x"));
        replaced.after_object = Some(ObjectKey {
            name: None,
            ..object(Some("w"), "x")
        });
        let mut destroyed = change("azureml_compute_cluster.y", Action::Delete);
        destroyed.before_object = Some(object(Some("w"), "y"));
        assert_eq!(
            ordered(&plan(vec![replaced.clone(), destroyed.clone()])),
            [
                "azureml_compute_cluster.x:Add",
                "azureml_compute_cluster.x:Remove",
                "azureml_compute_cluster.y:Remove"
            ]
        );
        // Known to be one object, the same plan cannot be applied safely: it is refused.
        replaced.after_object = Some(object(Some("w"), "y"));
        assert!(matches!(
            ApplyGraph::build(&plan(vec![replaced, destroyed])),
            Err(OrderError::Cycle { .. })
        ));
    }

    #[test]
    fn a_dependency_without_key_orders_every_instance() {
        // Terraform records `azureml_workspace.w`, not `azureml_workspace.w[0]`.
        let workspace = change("azureml_workspace.w[0]", Action::Delete);
        let mut cluster = change("azureml_compute_cluster.c", Action::Delete);
        cluster.depends_on = vec![addr("azureml_workspace.w")];
        assert_eq!(
            ordered(&plan(vec![workspace, cluster])),
            [
                "azureml_compute_cluster.c:Remove",
                "azureml_workspace.w[0]:Remove"
            ]
        );
    }
}
