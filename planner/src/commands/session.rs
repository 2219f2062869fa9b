//! The pipeline every planning command shares: configuration → state (locked) → target →
//! refresh → evaluation with the refreshed values → `engine::plan::diff`. And the apply hooks:
//! re-evaluation of the configuration as objects complete, and a state save after every
//! completed operation.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use engine::addr::ResourceAddr;
use engine::apply::ApplyHooks;
use engine::plan::{
    Action, Desired, DesiredResource, DiffOptions, Moves, Plan, PriorState, ResourceChange,
};
use engine::secret::SecretKey;
use engine::state::lock::LockOptions;
use engine::state::{State, StateStore};
use engine::value::{ObjectValue, Value};

use crate::cli::{PlanOptions, StateArgs};
use crate::config::{EvaluatedConfig, evaluate, reevaluate};
use crate::target::Target;

use super::{Loaded, report};

/// The state file of `dir`: `--state`, else the selected workspace's (the `default` one is a
/// local backend's `path`, else `terraform.tfstate`; see [`super::workspace`]).
pub fn state_path(
    dir: &Path,
    state: Option<&Path>,
    loaded: Option<&Loaded>,
) -> anyhow::Result<PathBuf> {
    if let Some(path) = state {
        return Ok(path.to_owned());
    }
    // Without a loaded configuration (the state commands), its `backend "local"` path is still
    // read; a configuration that does not load leaves the default (a state can be repaired
    // while the configuration is broken).
    let backend = match loaded {
        Some(loaded) => loaded.config.terraform_settings().state_path.clone(),
        None => engine::schema::load_registry()
            .ok()
            .and_then(|registry| crate::config::Configuration::load_dir(dir, &registry).ok())
            .and_then(|(config, _)| config.terraform_settings().state_path.clone()),
    };
    let default = PathBuf::from(backend.unwrap_or_else(|| "terraform.tfstate".to_owned()));
    let workspace = match loaded {
        Some(loaded) => loaded.inputs.workspace().to_owned(),
        None => super::workspace::current(dir)?,
    };
    Ok(super::workspace::state_path(dir, &default, &workspace))
}

/// Opens (and locks) the state for `operation`.
pub fn open_state(
    path: &Path,
    args: &StateArgs,
    operation: &str,
) -> anyhow::Result<(StateStore, State)> {
    Ok(StateStore::open(path, &lock_options(args, operation))?)
}

/// [`open_state`] without the state's integrity checks, for `state rm`, which repairs what they
/// find.
pub fn open_state_unchecked(
    path: &Path,
    args: &StateArgs,
    operation: &str,
) -> anyhow::Result<(StateStore, State)> {
    Ok(StateStore::open_unchecked(
        path,
        &lock_options(args, operation),
    )?)
}

fn lock_options(args: &StateArgs, operation: &str) -> LockOptions {
    LockOptions {
        operation: operation.to_owned(),
        version: format!("amlplan {}", env!("CARGO_PKG_VERSION")),
        timeout: args.lock_timeout,
    }
}

/// The key of the state's secret digests, beside the configuration (`.azureml/state.key`).
pub fn secret_key(dir: &Path) -> anyhow::Result<SecretKey> {
    let path = dir.join(".azureml").join("state.key");
    engine::state::key::load_or_create(&path)
        .with_context(|| format!("failed to prepare `{}`", path.display()))
}

/// Everything a planning command holds while it runs.
pub struct Session {
    /// The configuration folder.
    pub dir: PathBuf,
    /// Configuration and inputs.
    pub loaded: Loaded,
    /// The locked state store.
    pub store: StateStore,
    /// The state as last saved, with the implied moves made (`x[0]` ↔ `x`, see `moves`).
    pub state: State,
    /// The implied moves made in `state` when it was read (saved with the next write).
    pub moves: Moves,
    /// The key of secret digests.
    pub key: SecretKey,
    /// Where calls go.
    pub target: Target,
}

/// The outcome of planning.
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// The configuration evaluated with the refreshed values.
    pub evaluated: EvaluatedConfig,
    /// The refreshed objects that exist (state values for those not refreshed).
    pub known: BTreeMap<ResourceAddr, ObjectValue>,
    /// State addresses refresh found gone.
    pub gone: Vec<ResourceAddr>,
}

impl Session {
    /// Opens the state, evaluates the provider settings and connects to the target, printing
    /// the target line first.
    pub async fn open(
        dir: &Path,
        loaded: Loaded,
        state_args: &StateArgs,
        operation: &str,
    ) -> anyhow::Result<Session> {
        let session = Session::open_quiet(dir, loaded, state_args, operation).await?;
        writeln!(std::io::stdout().lock(), "{}", session.target.description)?;
        Ok(session)
    }

    /// [`Session::open`] without printing the target line (for output that must be only
    /// machine-readable, as `graph`'s DOT).
    pub async fn open_quiet(
        dir: &Path,
        loaded: Loaded,
        state_args: &StateArgs,
        operation: &str,
    ) -> anyhow::Result<Session> {
        let path = state_path(dir, state_args.state.as_deref(), Some(&loaded))?;
        // A state that fails its integrity checks is refused here (every finding is an error).
        let (store, mut state) = open_state(&path, state_args, operation)?;
        // As Terraform, before anything is planned: the `moved` blocks first, then the implied
        // moves (an object at `x[0]` when the block lost its `count` is the object of `x`, and
        // the other way round). Only the state changes: an attachment moves, never re-attaches.
        let statements = move_statements(&loaded.config, &state.addrs());
        let mut moves = engine::plan::declared_moves(&state.addrs(), &statements);
        state.apply_moves(&moves.moved);
        let implied = engine::plan::implied_moves(&state.addrs(), &loaded.config.expansions());
        state.apply_moves(&implied.moved);
        moves.moved.extend(implied.moved);
        moves.blocked.extend(implied.blocked);
        let key = secret_key(dir)?;
        let known = state_values(&state, &loaded);
        let (evaluated, diagnostics) = evaluate(&loaded.config, &loaded.inputs, &known);
        report(&loaded.config, &diagnostics)?;
        let target =
            Target::connect(dir, &evaluated.provider, &evaluated.aliased_providers).await?;
        Ok(Session {
            dir: dir.to_owned(),
            loaded,
            store,
            state,
            moves,
            key,
            target,
        })
    }

    /// Refreshes (unless `refresh` is false) and plans.
    pub async fn plan(&self, options: &PlanOptions, destroy: bool) -> anyhow::Result<Planned> {
        let registry = &self.loaded.registry;
        let mut prior = self.state.prior(registry);
        let mut stored = state_values(&self.state, &self.loaded);
        let (first, diagnostics) = evaluate(&self.loaded.config, &self.loaded.inputs, &stored);
        report(&self.loaded.config, &diagnostics)?;
        let imports = if destroy {
            Vec::new()
        } else {
            self.read_imports(&first, &mut prior, &mut stored).await?
        };
        if writes_no_write_only_values(&self.state.terraform_version) {
            untracked_write_only(&mut prior, &first, registry, &self.key);
        }
        let (mut known, actual, gone) = if options.refresh {
            let actual = self.refresh(&prior, &first).await?;
            let gone = engine::refresh::gone(&actual);
            let mut known = stored;
            for (addr, object) in &actual.objects {
                match object {
                    Some(object) => {
                        known.insert(addr.clone(), object.clone());
                    }
                    None => {
                        known.remove(addr);
                    }
                }
            }
            (known, actual, gone)
        } else {
            (stored, engine::plan::Actual::default(), Vec::new())
        };
        self.read_data_sources(&mut known).await?;
        let known_addrs = first.resources.keys().chain(prior.resources.keys());
        let targets = parse_addrs(&options.targets, "--target", known_addrs.clone())?;
        let replace = parse_addrs(&options.replace, "--replace", known_addrs)?;
        let diff_options = DiffOptions {
            targets,
            replace,
            refresh_only: options.refresh_only,
            destroy,
            secret_key: Some(&self.key),
            expansions: self.loaded.config.expansions(),
            moves: self.moves.clone(),
        };
        // A replaced object's computed values (its id) are unknown until it is created again, as
        // Terraform plans them: whatever references it must see "known after apply" (a run on a
        // replaced environment is a new run). So plan, forget the replaced objects' values,
        // and plan again until no more objects are forgotten.
        let mut visible = known.clone();
        let mut diff_options = diff_options;
        let (evaluated, plan, diagnostics) = loop {
            let (evaluated, plan, diagnostics) =
                self.plan_once(&visible, &prior, &actual, &diff_options)?;
            // `replace_triggered_by`: a planned change of a trigger replaces the instance.
            let triggered = self.triggered_replacements(&plan, &diff_options.replace);
            if !triggered.is_empty() {
                diff_options.replace.extend(triggered);
                continue;
            }
            let replaced: Vec<ResourceAddr> = plan
                .changes
                .iter()
                .filter(|change| {
                    matches!(change.action, Action::Replace | Action::Reattach)
                        && visible.contains_key(&change.addr)
                })
                .map(|change| change.addr.clone())
                .collect();
            if replaced.is_empty() {
                break (evaluated, plan, diagnostics);
            }
            for addr in replaced {
                visible.remove(&addr);
            }
        };
        report(&self.loaded.config, &diagnostics)?;
        let mut plan = plan;
        for import in &imports {
            if let Some(change) = plan
                .changes
                .iter_mut()
                .find(|change| change.addr == import.addr)
            {
                change.importing = Some(import.id.clone());
            }
        }
        plan.imports = imports;
        // Each change goes to its configuration's client; one the configuration no longer
        // has (an object in state whose `provider` block was removed) stops the plan here.
        for change in plan.changes.iter_mut() {
            change.provider = self.provider_of(&change.addr, &evaluated);
            if !change.action.is_noop() {
                self.target
                    .client_of(change.provider.as_deref())
                    .map_err(|error| anyhow::anyhow!("`{}`: {error}", change.addr))?;
            }
        }
        // `removed` blocks with `destroy = false`: the objects leave the state, not the cloud.
        let forget: Vec<&engine::plan::MoveEndpoint> = self
            .loaded
            .config
            .removed()
            .iter()
            .filter(|removed| !removed.destroy)
            .map(|removed| &removed.from)
            .collect();
        if !forget.is_empty() && !destroy {
            let (forgotten, kept): (Vec<ResourceChange>, Vec<ResourceChange>) =
                std::mem::take(&mut plan.changes)
                    .into_iter()
                    .partition(|change| {
                        change.action.removes()
                            && !change.action.adds()
                            && forget.iter().any(|endpoint| endpoint.covers(&change.addr))
                    });
            plan.changes = kept;
            plan.forgotten = forgotten.into_iter().map(|change| change.addr).collect();
        }
        for provider in evaluated.foreign.values() {
            *plan.left_to_terraform.entry(provider.clone()).or_default() += 1;
        }
        let mut waiting = engine::diag::Diagnostics::default();
        for instance in evaluated.resources.values() {
            let missing = missing_foreign(instance, &evaluated, &known);
            if !missing.is_empty() && instance.values.0.values().any(Value::contains_unknown) {
                waiting.push(
                    engine::diag::Diagnostic::warning(
                        "Depends on objects missing from the state",
                        format!(
                            "`{}` uses values of {}, which the state does not hold: amlplan leaves other providers' objects to Terraform, so `{}` can be applied only after `terraform apply` has created them",
                            instance.addr,
                            missing.join(", "),
                            instance.addr
                        ),
                    ),
                );
            }
        }
        report(&self.loaded.config, &waiting)?;
        if !options.refresh_only {
            let planned: Vec<(String, Value, bool)> = evaluated
                .outputs
                .iter()
                .map(|(name, output)| (name.clone(), output.value.clone(), output.sensitive))
                .collect();
            plan.outputs = engine::plan::output_changes(
                &self.state.outputs,
                (!destroy).then_some(planned.as_slice()),
            );
        }
        Ok(Planned {
            plan,
            evaluated,
            known,
            gone,
        })
    }

    /// The provider configuration of `addr`: its block's (`provider = azureml.ALIAS`) when
    /// the configuration has it, else its state entry's.
    fn provider_of(&self, addr: &ResourceAddr, evaluated: &EvaluatedConfig) -> Option<String> {
        match evaluated.resources.get(addr) {
            Some(instance) => instance.provider.clone(),
            None => self.state.provider_alias(addr),
        }
    }

    /// The provider configuration of `addr` as the configuration (evaluated on the state's
    /// values) or else its state entry gives it.
    pub fn configured_provider(&self, addr: &ResourceAddr) -> Option<String> {
        let known = state_values(&self.state, &self.loaded);
        let (evaluated, _) = evaluate(&self.loaded.config, &self.loaded.inputs, &known);
        self.provider_of(addr, &evaluated)
    }

    /// Refreshes `prior` through each provider configuration's client: every configuration
    /// lists the workspaces of its own objects (stored and configured).
    async fn refresh(
        &self,
        prior: &PriorState,
        evaluated: &EvaluatedConfig,
    ) -> anyhow::Result<engine::plan::Actual> {
        let mut groups: BTreeMap<Option<String>, (PriorState, Vec<String>)> = BTreeMap::new();
        groups.entry(None).or_default();
        for (addr, object) in &prior.resources {
            let (group, _) = groups.entry(self.provider_of(addr, evaluated)).or_default();
            group.resources.insert(addr.clone(), object.clone());
        }
        for instance in evaluated.resources.values() {
            if let Value::String(id) = instance.values.get("workspace_id") {
                let (_, workspaces) = groups.entry(instance.provider.clone()).or_default();
                workspaces.push(id.clone());
            }
        }
        let mut actual = engine::plan::Actual::default();
        for (alias, (prior, mut workspaces)) in groups {
            workspaces.extend(engine::refresh::workspaces_in(&prior));
            let client = self.target.client_of(alias.as_deref())?;
            let found =
                engine::refresh::refresh(client, &self.loaded.registry, &prior, &workspaces)
                    .await?;
            actual.objects.extend(found.objects);
            actual.workspaces.extend(found.workspaces);
        }
        Ok(actual)
    }

    /// The root-module instances whose `replace_triggered_by` names a resource (or one of its
    /// attributes) that `plan` changes, and that are not replaced yet.
    fn triggered_replacements(&self, plan: &Plan, already: &[ResourceAddr]) -> Vec<ResourceAddr> {
        let changed = |trigger: &ResourceAddr, attr: &Option<String>| {
            plan.changes.iter().any(|change| {
                let same = if trigger.key.is_some() {
                    change.addr == *trigger
                } else {
                    change.addr.without_key() == *trigger
                };
                same && !change.action.is_noop()
                    && match attr {
                        None => true,
                        Some(attr) => {
                            let value = |object: &Option<ObjectValue>| {
                                object.as_ref().map(|object| object.get(attr).clone())
                            };
                            value(&change.before) != value(&change.after)
                        }
                    }
            })
        };
        let mut triggered = Vec::new();
        for block in self.loaded.config.resource_blocks() {
            if block.replace_triggers().is_empty()
                || !block
                    .replace_triggers()
                    .iter()
                    .any(|(addr, attr)| changed(addr, attr))
            {
                continue;
            }
            for change in &plan.changes {
                if change.addr.without_key() == *block.addr()
                    && change.before.is_some()
                    && !matches!(
                        change.action,
                        Action::Replace | Action::Reattach | Action::Delete | Action::Detach
                    )
                    && !already.contains(&change.addr)
                {
                    triggered.push(change.addr.clone());
                }
            }
        }
        triggered
    }

    /// The objects of the `import` blocks whose targets the state does not hold: read now and
    /// added to `prior` and `stored`, so that the plan's change of each starts from it.
    async fn read_imports(
        &self,
        evaluated: &EvaluatedConfig,
        prior: &mut PriorState,
        stored: &mut BTreeMap<ResourceAddr, ObjectValue>,
    ) -> anyhow::Result<Vec<engine::plan::Import>> {
        let registry = &self.loaded.registry;
        let mut imports = Vec::new();
        for (addr, id) in &evaluated.imports {
            if self.state.instance(addr).is_some() {
                continue;
            }
            let Value::String(id) = id else {
                anyhow::bail!(
                    "the `import` block of `{addr}` has an id that is not known before apply ({}); it must come from variables, locals or literals",
                    id.kind_name()
                );
            };
            let schema = registry
                .get(&addr.resource_type)
                .ok_or_else(|| anyhow::anyhow!("`{addr}` is not a type amlplan manages"))?;
            let alias = evaluated
                .resources
                .get(addr)
                .and_then(|instance| instance.provider.as_deref());
            let client = self.target.client_of(alias)?;
            let object = engine::api::CloudApi::read(client, schema, id)
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "Cannot import non-existent remote object: `{id}` (the `import` block of `{addr}`) does not exist"
                    )
                })?;
            prior.resources.insert(
                addr.clone(),
                engine::plan::PriorObject {
                    values: object.clone(),
                    dependencies: Vec::new(),
                },
            );
            stored.insert(addr.clone(), object.clone());
            imports.push(engine::plan::Import {
                addr: addr.clone(),
                id: id.clone(),
                object: Some(object),
            });
        }
        Ok(imports)
    }

    /// Two attachments of one resource in a workspace the plan creates: the engine compares
    /// attachments only when their workspace id is known, so they are compared again with
    /// every planned object's unknown `id` replaced by a placeholder naming its address (two
    /// references to one new workspace get the same placeholder, two workspaces different
    /// ones). Returns only the "attached twice" errors that this finds.
    fn duplicates_in_new_workspaces(
        &self,
        evaluated: &EvaluatedConfig,
        known: &BTreeMap<ResourceAddr, ObjectValue>,
        prior: &PriorState,
        actual: &engine::plan::Actual,
        options: &DiffOptions<'_>,
    ) -> engine::diag::Diagnostics {
        let registry = &self.loaded.registry;
        let waits_for_a_parent = evaluated.resources.values().any(|instance| {
            registry
                .get(&instance.addr.resource_type)
                .is_some_and(engine::schema::ResourceSchema::can_attach)
                && matches!(instance.values.get("workspace_id"), Value::Unknown)
        });
        if !waits_for_a_parent {
            return engine::diag::Diagnostics::default();
        }
        let mut placeholders = known.clone();
        for instance in evaluated.resources.values() {
            if !known.contains_key(&instance.addr) {
                let mut values = instance.values.clone();
                values.set("id", Value::String(format!("(planned {})", instance.addr)));
                placeholders.insert(instance.addr.clone(), values);
            }
        }
        let (with_placeholders, _) =
            evaluate(&self.loaded.config, &self.loaded.inputs, &placeholders);
        let (_, diagnostics) = engine::plan::diff(
            &desired(&with_placeholders, &self.state),
            prior,
            actual,
            registry,
            options,
        );
        let mut found = engine::diag::Diagnostics::default();
        for diagnostic in diagnostics.iter() {
            if diagnostic.code == Some(engine::diag::Code::DuplicateAttachment) {
                found.push(diagnostic.clone());
            }
        }
        found
    }

    /// Reads every `data` block whose arguments are known (a data source reads an existing
    /// object by its name and parent, as the provider's data sources do) into `known`, then
    /// evaluates again for data sources that depend on other data sources, until nothing new
    /// can be read. A data source whose arguments stay unknown (they depend on an object not
    /// created yet) is an error: amlplan reads data sources at plan time only. A data source
    /// scoped to a `check` block is read the same way, but as Terraform does, what stops it
    /// (unknown arguments, a failed read, no such object) is a warning: it stays unknown, so
    /// the check's asserts on it are not evaluated.
    async fn read_data_sources(
        &self,
        known: &mut BTreeMap<ResourceAddr, ObjectValue>,
    ) -> anyhow::Result<()> {
        let mut unread: BTreeSet<ResourceAddr> = BTreeSet::new();
        let mut warnings = engine::diag::Diagnostics::default();
        let mut warn = |addr: &ResourceAddr, check: &str, why: String| {
            warnings.push(engine::diag::Diagnostic::warning(
                "Check block data source not read",
                format!("`{addr}` (check `{check}`): {why}; the check's assertions on it are not evaluated"),
            ));
        };
        loop {
            let (evaluated, diagnostics) =
                evaluate(&self.loaded.config, &self.loaded.inputs, &*known);
            if diagnostics.has_errors() {
                report(&self.loaded.config, &diagnostics)?;
            }
            let pending: Vec<_> = evaluated
                .data
                .iter()
                .filter(|(addr, _)| !known.contains_key(*addr) && !unread.contains(*addr))
                .collect();
            if pending.is_empty() {
                return report(&self.loaded.config, &warnings);
            }
            let mut read_any = false;
            for (addr, instance) in &pending {
                if instance.values.0.values().any(Value::contains_unknown) {
                    continue;
                }
                if let Some(check) = self.loaded.config.check_scope(addr) {
                    match self.read_data_source(addr, instance).await {
                        Ok(object) => {
                            known.insert((*addr).clone(), object);
                        }
                        Err(error) => {
                            warn(addr, check, format!("{error:#}"));
                            unread.insert((*addr).clone());
                        }
                    }
                    read_any = true;
                    continue;
                }
                let object = self.read_data_source(addr, instance).await?;
                known.insert((*addr).clone(), object);
                read_any = true;
            }
            if !read_any {
                let (scoped, pending): (Vec<_>, Vec<_>) = pending
                    .into_iter()
                    .partition(|(addr, _)| self.loaded.config.check_scope(addr).is_some());
                for (addr, _) in scoped {
                    let check = self.loaded.config.check_scope(addr).unwrap_or_default();
                    warn(
                        addr,
                        check,
                        "its arguments depend on objects that do not exist yet".to_owned(),
                    );
                    unread.insert(addr.clone());
                }
                if pending.is_empty() {
                    continue;
                }
                let names: Vec<String> = pending.iter().map(|(addr, _)| addr.to_string()).collect();
                anyhow::bail!(
                    "{} cannot be read at plan time: {} on objects that do not exist yet; \
                     amlplan reads data sources before planning, so look up existing objects only",
                    names.join(", "),
                    if names.len() == 1 {
                        "its arguments depend"
                    } else {
                        "their arguments depend"
                    }
                );
            }
        }
    }

    /// Reads the object a data source instance with known arguments names.
    async fn read_data_source(
        &self,
        addr: &ResourceAddr,
        instance: &crate::config::ResourceInstance,
    ) -> anyhow::Result<ObjectValue> {
        let schema = self
            .loaded
            .registry
            .get(&addr.resource_type)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "`{addr}`: `{}` is not a data source amlplan reads",
                    addr.resource_type
                )
            })?;
        let client = self.target.client_of(instance.provider.as_deref())?;
        let subscription = client.config().subscription_id.as_deref();
        let id = engine::api::resource_id(schema, &instance.values, subscription)
            .map_err(|error| anyhow::anyhow!("`{addr}`: {error}"))?;
        engine::api::CloudApi::read(client, schema, id.as_str())
            .await?
            .ok_or_else(|| anyhow::anyhow!("`{addr}`: `{id}` does not exist"))
    }

    /// One round of planning: evaluate with `known`, fill plan-time values, diff; errors are
    /// reported at once, warnings returned for the final round to report.
    fn plan_once(
        &self,
        known: &BTreeMap<ResourceAddr, ObjectValue>,
        prior: &PriorState,
        actual: &engine::plan::Actual,
        diff_options: &DiffOptions<'_>,
    ) -> anyhow::Result<(EvaluatedConfig, Plan, engine::diag::Diagnostics)> {
        let registry = &self.loaded.registry;
        let (evaluated, mut diagnostics) =
            evaluate(&self.loaded.config, &self.loaded.inputs, known);
        let mut desired = desired(&evaluated, &self.state);
        for resource in &mut desired.resources {
            if let Some(schema) = registry.get(&resource.addr.resource_type) {
                diagnostics.extend(engine::resource::fill_plan_time_values(
                    schema,
                    &resource.addr,
                    &mut resource.values,
                    &self.dir,
                ));
            }
        }
        if diagnostics.has_errors() {
            report(&self.loaded.config, &diagnostics)?;
        }
        let (plan, more) = engine::plan::diff(&desired, prior, actual, registry, diff_options);
        diagnostics.extend(more);
        if !diff_options.refresh_only && !diff_options.destroy {
            let more =
                self.duplicates_in_new_workspaces(&evaluated, known, prior, actual, diff_options);
            diagnostics.extend(more);
        }
        if diagnostics.has_errors() {
            report(&self.loaded.config, &diagnostics)?;
        }
        Ok((evaluated, plan, diagnostics))
    }

    /// Writes the refresh result into state: refreshed values of existing objects, and the
    /// removal of objects found gone (what `--refresh-only` apply and every apply record first).
    pub fn record_refresh(&mut self, planned: &Planned) -> anyhow::Result<()> {
        let registry = &self.loaded.registry;
        for change in &planned.plan.drift {
            let Some(schema) = registry.get(&change.addr.resource_type) else {
                continue;
            };
            match &change.after {
                Some(after) => {
                    let dependencies = self
                        .state
                        .prior(registry)
                        .resources
                        .get(&change.addr)
                        .map(|object| object.dependencies.clone())
                        .unwrap_or_default();
                    self.state.set_object(
                        &change.addr,
                        schema,
                        after,
                        &dependencies,
                        Some(&self.key),
                    );
                }
                None => {
                    self.state.remove(&change.addr);
                }
            }
        }
        for addr in &planned.gone {
            self.state.remove(addr);
        }
        self.store.save(&mut self.state)?;
        Ok(())
    }
}

/// True when the state was written by a Terraform that stores write-only attributes as null
/// (1.11 and later): such a null means "not tracked", not "unset".
fn writes_no_write_only_values(terraform_version: &str) -> bool {
    let mut parts = terraform_version
        .split('.')
        .map(|part| part.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (1, 11)
}

/// Terraform's write-only contract on a state it wrote: a write-only value it stored as null is
/// not tracked, so it stands for whatever the configuration sends (stored here as the digest of
/// the configured value). A value amlplan stored (a digest) is compared as usual. Top-level
/// attributes and members of nested objects.
fn untracked_write_only(
    prior: &mut PriorState,
    evaluated: &EvaluatedConfig,
    registry: &engine::schema::Registry,
    key: &SecretKey,
) {
    fn fill(
        attributes: &BTreeMap<String, engine::schema::Attribute>,
        stored: &mut BTreeMap<String, Value>,
        configured: &BTreeMap<String, Value>,
        key: &SecretKey,
    ) {
        for (name, attribute) in attributes {
            let Some(value) = configured.get(name) else {
                continue;
            };
            if let (Some(nested), Value::Map(configured_nested)) =
                (attribute.ty.nested_attributes(), value)
                && let Some(Value::Map(stored_nested)) = stored.get_mut(name)
            {
                fill(nested, stored_nested, configured_nested, key);
                continue;
            }
            let untracked = stored.get(name).is_none_or(Value::is_null);
            if attribute.write_only
                && untracked
                && let Value::String(text) = value
            {
                stored.insert(
                    name.clone(),
                    Value::String(engine::secret::digest(key, text)),
                );
            }
        }
    }
    for (addr, object) in &mut prior.resources {
        let (Some(schema), Some(instance)) = (
            registry.get(&addr.resource_type),
            evaluated.resources.get(addr),
        ) else {
            continue;
        };
        fill(
            &schema.attributes,
            &mut object.values.0,
            &instance.values.0,
            key,
        );
    }
}

/// The configuration's resources as the engine's desired objects.
pub fn desired(evaluated: &EvaluatedConfig, state: &State) -> Desired {
    Desired {
        resources: evaluated
            .resources
            .values()
            .map(|instance| DesiredResource {
                addr: instance.addr.clone(),
                values: instance.values.clone(),
                depends_on: recorded_dependencies(evaluated, state, &instance.addr),
                lifecycle: instance.lifecycle.clone(),
                sensitive: instance.sensitive.clone(),
            })
            .collect(),
    }
}

/// The dependencies of `addr` as Terraform records them in the state: every managed object it
/// depends on, directly or through others (so that destroying objects whose configuration is
/// gone keeps the order), sorted. Through an object of another provider (whose configuration
/// amlplan does not evaluate) the closure follows what Terraform recorded for it in `state`.
fn recorded_dependencies(
    evaluated: &EvaluatedConfig,
    state: &State,
    addr: &ResourceAddr,
) -> Vec<ResourceAddr> {
    let mut found: BTreeSet<ResourceAddr> = BTreeSet::new();
    let mut queue = vec![addr.clone()];
    while let Some(next) = queue.pop() {
        let direct: Vec<ResourceAddr> = match evaluated.resources.get(&next) {
            Some(instance) => instance.depends_on.clone(),
            None => state
                .instance(&next)
                .map(|instance| {
                    instance
                        .dependencies
                        .iter()
                        .filter_map(|text| ResourceAddr::parse(text).ok())
                        .collect()
                })
                .unwrap_or_default(),
        };
        for dependency in direct {
            if dependency.mode == engine::addr::Mode::Managed
                && dependency != *addr
                && found.insert(dependency.clone())
            {
                queue.push(dependency);
            }
        }
    }
    found.into_iter().collect()
}

/// The `moved` statements of the configuration with full addresses: a module's own, once for
/// each instance of the module that the state holds objects in (its endpoints are relative to
/// the module).
fn move_statements(
    config: &crate::config::Configuration,
    state: &[ResourceAddr],
) -> Vec<(engine::plan::MoveEndpoint, engine::plan::MoveEndpoint)> {
    use engine::addr::ModulePath;
    use engine::plan::MoveEndpoint;
    let prefixed = |endpoint: &MoveEndpoint, prefix: &ModulePath| match endpoint {
        MoveEndpoint::Resource(addr) => {
            let mut module = prefix.0.clone();
            module.extend(addr.module.0.iter().cloned());
            MoveEndpoint::Resource(addr.clone().in_module(ModulePath(module)))
        }
        MoveEndpoint::Module(path) => {
            let mut module = prefix.0.clone();
            module.extend(path.0.iter().cloned());
            MoveEndpoint::Module(ModulePath(module))
        }
    };
    let mut statements = Vec::new();
    for (names, moved) in config.all_moved() {
        if names.is_empty() {
            statements.push((moved.from.clone(), moved.to.clone()));
            continue;
        }
        let instances: std::collections::BTreeSet<ModulePath> = state
            .iter()
            .filter(|addr| {
                addr.module.0.len() >= names.len()
                    && addr.module.0[..names.len()]
                        .iter()
                        .zip(&names)
                        .all(|(step, name)| step.name == *name)
            })
            .map(|addr| ModulePath(addr.module.0[..names.len()].to_vec()))
            .collect();
        for instance in instances {
            statements.push((
                prefixed(&moved.from, &instance),
                prefixed(&moved.to, &instance),
            ));
        }
    }
    statements
}

/// The refusal of an object whose values are still unknown at apply: it names the arguments
/// and the other providers' objects missing from the state that they come from.
fn still_unknown(
    instance: &crate::config::ResourceInstance,
    evaluated: &EvaluatedConfig,
    known: &BTreeMap<ResourceAddr, ObjectValue>,
) -> String {
    let arguments: Vec<String> = instance
        .values
        .0
        .iter()
        .filter(|(_, value)| value.contains_unknown())
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    let missing = missing_foreign(instance, evaluated, known);
    if missing.is_empty() {
        return format!(
            "`{}` cannot be applied: {} still unknown after everything it depends on was applied",
            instance.addr,
            arguments.join(", ")
        );
    }
    format!(
        "`{}` cannot be applied: {} come from {}, which the state does not hold (amlplan leaves other providers' objects to Terraform)\n  help: run `terraform apply` first, then apply again; nothing was sent for `{}`",
        instance.addr,
        arguments.join(", "),
        missing.join(", "),
        instance.addr
    )
}

/// The other providers' objects `instance` depends on that the state does not hold.
fn missing_foreign(
    instance: &crate::config::ResourceInstance,
    evaluated: &EvaluatedConfig,
    known: &BTreeMap<ResourceAddr, ObjectValue>,
) -> Vec<String> {
    instance
        .depends_on
        .iter()
        .filter(|dependency| {
            evaluated.foreign.contains_key(*dependency) && !known.contains_key(*dependency)
        })
        .map(|dependency| format!("`{dependency}`"))
        .collect()
}

/// The state's objects as known values for evaluation (secrets are digests: references to
/// them see the digest, never a plaintext the state does not hold).
pub fn state_values(state: &State, loaded: &Loaded) -> BTreeMap<ResourceAddr, ObjectValue> {
    let mut values: BTreeMap<ResourceAddr, ObjectValue> = state
        .prior(&loaded.registry)
        .resources
        .into_iter()
        .map(|(addr, object)| (addr, object.values))
        .collect();
    values.extend(state.foreign_values());
    values
}

/// `--target`/`--replace` addresses; a module instance (`module.team["ml"]`, `module.team`)
/// stands for every object in it, among `known` (the configuration's and the state's).
fn parse_addrs<'a>(
    texts: &[String],
    flag: &str,
    known: impl Iterator<Item = &'a ResourceAddr> + Clone,
) -> anyhow::Result<Vec<ResourceAddr>> {
    let mut addrs = Vec::new();
    for text in texts {
        if let Ok(addr) = ResourceAddr::parse(text) {
            addrs.push(addr);
            continue;
        }
        let module = engine::addr::ModulePath::parse(text).map_err(|_| {
            anyhow::anyhow!(
                "{flag} `{text}` is not a resource or module address (as `azureml_compute_cluster.cpu` or `module.team[\"ml\"]`)"
            )
        })?;
        // `module.team` without a key names every instance of the call.
        let within = |addr: &ResourceAddr| {
            addr.module.0.len() >= module.0.len()
                && addr.module.0.iter().zip(&module.0).all(|(have, want)| {
                    have.name == want.name && (want.key.is_none() || have.key == want.key)
                })
        };
        let before = addrs.len();
        addrs.extend(known.clone().filter(|addr| within(addr)).cloned());
        anyhow::ensure!(
            addrs.len() > before,
            "{flag} `{text}`: the configuration and the state have no objects in this module"
        );
    }
    addrs.sort();
    addrs.dedup();
    Ok(addrs)
}

/// The prior state as the engine sees it.
pub fn prior(session: &Session) -> PriorState {
    session.state.prior(&session.loaded.registry)
}

/// Apply's view of the session: re-evaluation as objects complete, and a state save after
/// every completed operation. Interior mutability because apply runs steps concurrently.
pub struct Hooks<'a> {
    base_dir: PathBuf,
    loaded: &'a Loaded,
    key: &'a SecretKey,
    saved: Mutex<(&'a mut StateStore, &'a mut State)>,
    live: Mutex<Live>,
    json: bool,
}

/// Values known so far and the configuration evaluated with them.
struct Live {
    known: BTreeMap<ResourceAddr, ObjectValue>,
    evaluated: EvaluatedConfig,
    changed: Vec<ResourceAddr>,
    /// Postconditions that failed their own object's step: reported there, not again by the
    /// steps that follow.
    reported: Vec<engine::diag::Subject>,
    /// An evaluation error after a step: every later step fails with it.
    error: Option<String>,
}

impl<'a> Hooks<'a> {
    /// Hooks over the session's parts, starting from the plan's evaluation and known values.
    pub fn new(
        loaded: &'a Loaded,
        key: &'a SecretKey,
        store: &'a mut StateStore,
        state: &'a mut State,
        planned: &Planned,
        json: bool,
    ) -> Hooks<'a> {
        Hooks {
            base_dir: PathBuf::from("."),
            loaded,
            key,
            saved: Mutex::new((store, state)),
            live: Mutex::new(Live {
                known: planned.known.clone(),
                evaluated: planned.evaluated.clone(),
                changed: Vec::new(),
                reported: Vec::new(),
                error: None,
            }),
            json,
        }
    }

    /// The configuration folder (runs' `source_dir` is relative to it).
    pub fn with_base_dir(mut self, dir: &Path) -> Hooks<'a> {
        self.base_dir = dir.to_owned();
        self
    }

    /// Brings `live.evaluated` up to date with the objects recorded since the last time (the
    /// one re-evaluation of both `resolve` and the postcondition check); its diagnostics,
    /// without the postconditions already reported.
    fn catch_up(&self, live: &mut Live) -> engine::diag::Diagnostics {
        let mut kept = engine::diag::Diagnostics::default();
        if live.changed.is_empty() {
            return kept;
        }
        let changed = std::mem::take(&mut live.changed);
        let previous = std::mem::take(&mut live.evaluated);
        let (evaluated, diagnostics) = reevaluate(
            &self.loaded.config,
            previous,
            &self.loaded.inputs,
            &live.known,
            &changed,
        );
        live.evaluated = evaluated;
        for diagnostic in diagnostics.iter() {
            let reported = diagnostic
                .subject
                .as_ref()
                .is_some_and(|subject| live.reported.contains(subject));
            if !reported {
                kept.push(diagnostic.clone());
            }
        }
        kept
    }

    /// `diagnostics` as the user reads them.
    fn rendered(&self, diagnostics: &engine::diag::Diagnostics) -> String {
        let mut text = Vec::new();
        let _ = self
            .loaded
            .config
            .render_diagnostics(diagnostics, &mut text);
        String::from_utf8_lossy(&text).into_owned()
    }

    /// The `postcondition`s of `change`'s block, now that its object is applied and known (at
    /// plan time they were checked only where already known): one that fails fails the step,
    /// as in Terraform, so nothing that depends on the object runs; the object stays recorded,
    /// and the steps that do not depend on it go on.
    fn check_postconditions(&self, change: &ResourceChange, live: &mut Live) -> Result<(), String> {
        let subjects = self.loaded.config.postcondition_subjects(&change.addr);
        if subjects.is_empty() {
            return Ok(());
        }
        let diagnostics = self.catch_up(live);
        let (mut failed, mut other) = (
            engine::diag::Diagnostics::default(),
            engine::diag::Diagnostics::default(),
        );
        for diagnostic in diagnostics.iter() {
            let own = diagnostic.severity == engine::diag::Severity::Error
                && diagnostic
                    .subject
                    .as_ref()
                    .is_some_and(|subject| subjects.contains(subject));
            if own {
                failed.push(diagnostic.clone());
            } else {
                other.push(diagnostic.clone());
            }
        }
        if other.has_errors() {
            live.error = Some(self.rendered(&other));
        }
        if failed.is_empty() {
            return Ok(());
        }
        live.reported.extend(subjects);
        Err(self.rendered(&failed))
    }

    /// The configuration evaluated with everything applied (for outputs).
    pub fn final_evaluation(&self) -> EvaluatedConfig {
        let live = self.live.lock().expect("no panic while holding the values");
        let (evaluated, _) = evaluate(&self.loaded.config, &self.loaded.inputs, &live.known);
        evaluated
    }
}

impl ApplyHooks for Hooks<'_> {
    fn resolve(&self, change: &ResourceChange) -> Result<ObjectValue, String> {
        let mut live = self
            .live
            .lock()
            .map_err(|_| "the values lock is poisoned")?;
        if let Some(error) = &live.error {
            return Err(error.clone());
        }
        let diagnostics = self.catch_up(&mut live);
        if diagnostics.has_errors() {
            let text = self.rendered(&diagnostics);
            live.error = Some(text.clone());
            return Err(text);
        }
        let instance = live
            .evaluated
            .resources
            .get(&change.addr)
            .ok_or_else(|| format!("`{}` is no longer in the configuration", change.addr))?;
        if instance.values.0.values().any(Value::contains_unknown) {
            // Everything this object depends on in amlplan's plan is applied by now, so what
            // is still unknown comes from objects left to Terraform that the state lacks.
            return Err(still_unknown(instance, &live.evaluated, &live.known));
        }
        Ok(instance.values.clone())
    }

    fn record(&self, change: &ResourceChange, object: Option<&ObjectValue>) -> Result<(), String> {
        let mut saved = self
            .saved
            .lock()
            .map_err(|_| "the state lock is poisoned")?;
        let (store, state) = &mut *saved;
        let mut live = self
            .live
            .lock()
            .map_err(|_| "the values lock is poisoned")?;
        match object {
            Some(object) => {
                let schema = self
                    .loaded
                    .registry
                    .get(&change.addr.resource_type)
                    .ok_or_else(|| {
                        format!("`{}` is not in the catalogue", change.addr.resource_type)
                    })?;
                state.set_object(
                    &change.addr,
                    schema,
                    object,
                    &change.depends_on,
                    Some(self.key),
                );
                state.set_provider_alias(&change.addr, change.provider.as_deref());
                live.known.insert(change.addr.clone(), object.clone());
            }
            None => {
                state.remove(&change.addr);
                live.known.remove(&change.addr);
            }
        }
        live.changed.push(change.addr.clone());
        store.save(state).map_err(|error| {
            format!(
                "the operation succeeded but saving the state failed: {}",
                engine::diag::error_chain(&error)
            )
        })?;
        if object.is_some() {
            self.check_postconditions(change, &mut live)?;
        }
        Ok(())
    }

    fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }

    fn event(&self, event: &engine::apply::ApplyEvent) {
        let mut out = std::io::stdout().lock();
        let _ = crate::render::event::print_event(&mut out, event, self.json);
    }
}
