//! The apply walker against the in-memory cloud (`crate::api::fake`), with tokio's clock paused
//! so long operations take no real time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use pretty_assertions::assert_eq;

use super::*;
use crate::api::fake::{Call, FakeCloud};
use crate::plan::{Actual, Desired, DesiredResource, DiffOptions, PriorObject, PriorState, diff};
use crate::schema::load_registry;
use crate::value::Value;

const WS: &str =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

fn vm(name: &str) -> String {
    format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{name}")
}

fn object(pairs: &[(&str, Value)]) -> ObjectValue {
    let mut object = ObjectValue::default();
    for (name, value) in pairs {
        object.set(name, value.clone());
    }
    object
}

fn attachment(name: &str, machine: &str, user: &str) -> DesiredResource {
    DesiredResource::new(
        ResourceAddr::managed("azureml_attached_virtual_machine", name),
        object(&[
            ("name", name.into()),
            ("workspace_id", WS.into()),
            ("resource_id", vm(machine).into()),
            ("admin_username", user.into()),
            ("ssh_private_key", "key".into()),
        ]),
    )
}

fn cluster(name: &str, workspace: &str) -> DesiredResource {
    DesiredResource::new(
        ResourceAddr::managed("azureml_compute_cluster", name),
        object(&[
            ("name", name.into()),
            ("workspace_id", workspace.into()),
            ("vm_size", "STANDARD_DS3_V2".into()),
            ("max_node_count", 2.into()),
        ]),
    )
}

/// [`apply`] with one cloud for every change.
async fn apply_on(
    plan: &Plan,
    registry: &Registry,
    cloud: &FakeCloud,
    recorder: &Recorder,
    parallelism: usize,
) -> ApplyOutcome {
    apply(plan, registry, &Clouds::one(cloud), recorder, parallelism).await
}

/// The caller's side: the configuration to resolve, and what was recorded when.
#[derive(Default)]
struct Recorder {
    configured: BTreeMap<ResourceAddr, ObjectValue>,
    records: Mutex<Vec<(ResourceAddr, Option<ObjectValue>, Duration)>>,
    events: Mutex<Vec<ApplyEvent>>,
    origin: Option<tokio::time::Instant>,
}

impl Recorder {
    fn new(desired: &Desired) -> Recorder {
        Recorder {
            configured: desired
                .resources
                .iter()
                .map(|resource| (resource.addr.clone(), resource.values.clone()))
                .collect(),
            origin: Some(tokio::time::Instant::now()),
            ..Recorder::default()
        }
    }

    /// The state after the records: each address's last record.
    fn state(&self, prior: &PriorState) -> PriorState {
        let mut state = prior.clone();
        for (addr, object, _) in self.records.lock().expect("lock").iter() {
            match object {
                Some(values) => {
                    state.resources.insert(
                        addr.clone(),
                        PriorObject {
                            values: values.clone(),
                            dependencies: Vec::new(),
                        },
                    );
                }
                None => {
                    state.resources.remove(addr);
                }
            }
        }
        state
    }

    fn progress(&self) -> Vec<String> {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|event| match event {
                ApplyEvent::Progress { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }
}

impl ApplyHooks for Recorder {
    fn resolve(&self, change: &ResourceChange) -> Result<ObjectValue, String> {
        self.configured
            .get(&change.addr)
            .cloned()
            .ok_or_else(|| format!("`{}` is not configured", change.addr))
    }

    fn record(&self, change: &ResourceChange, object: Option<&ObjectValue>) -> Result<(), String> {
        let at = self
            .origin
            .map(|origin| origin.elapsed())
            .unwrap_or_default();
        self.records
            .lock()
            .expect("lock")
            .push((change.addr.clone(), object.cloned(), at));
        Ok(())
    }

    fn event(&self, event: &ApplyEvent) {
        self.events.lock().expect("lock").push(event.clone());
    }
}

fn plan_of(desired: &Desired, prior: &PriorState) -> Plan {
    let registry = load_registry().expect("catalogue");
    let (plan, diags) = diff(
        desired,
        prior,
        &Actual::default(),
        &registry,
        &DiffOptions::default(),
    );
    assert!(!diags.has_errors(), "{diags:?}");
    plan
}

/// The attachment invariant, from the cloud's call log: every DELETE of an attachment of R
/// ended before any PUT attaching R started (ids of attachments by their body's resource).
#[track_caller]
fn assert_detach_before_attach(
    calls: &[Call],
    detached: &[(&str, &str)],
    attached: &[(&str, &str)],
) {
    for (removed_id, resource) in detached {
        let delete = calls
            .iter()
            .find(|call| call.method == "DELETE" && call.id.ends_with(removed_id))
            .unwrap_or_else(|| panic!("no DELETE of {removed_id}: {calls:?}"));
        for (added_id, other) in attached {
            if other != resource {
                continue;
            }
            let put = calls
                .iter()
                .find(|call| call.method == "PUT" && call.id.ends_with(added_id))
                .unwrap_or_else(|| panic!("no PUT of {added_id}: {calls:?}"));
            assert!(
                delete.ended <= put.started,
                "the attach of {added_id} started at {:?}, before the detach of {removed_id} ended at {:?}",
                put.started,
                delete.ended
            );
        }
    }
}

fn permutations(items: &[u64]) -> Vec<Vec<u64>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for index in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(index);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

#[tokio::test(start_paused = true)]
async fn detaches_finish_before_attaches_of_the_same_resource_under_every_completion_order() {
    let registry = load_registry().expect("catalogue");
    // First apply: `vma` attaches vm1, `vmb` attaches vm2.
    let first = Desired {
        resources: vec![attachment("vma", "vm1", "u"), attachment("vmb", "vm2", "u")],
    };
    let setup = FakeCloud::default();
    let recorder = Recorder::new(&first);
    let outcome = apply_on(
        &plan_of(&first, &PriorState::default()),
        &registry,
        &setup,
        &recorder,
        4,
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let prior = recorder.state(&PriorState::default());
    assert_eq!(prior.resources.len(), 2);

    // Then: `vma` is renamed `vmc` (detach vma, attach vmc: same vm1), `vmb` changes its user
    // (detach and attach again), `vmd` attaches vm3 and a cluster is created.
    let second = Desired {
        resources: vec![
            attachment("vmc", "vm1", "u"),
            attachment("vmb", "vm2", "root"),
            attachment("vmd", "vm3", "u"),
            cluster("cpu", WS),
        ],
    };
    let plan = plan_of(&second, &prior);
    let ids = [
        "/computes/vma",
        "/computes/vmc",
        "/computes/vmb",
        "/computes/vmd",
        "/computes/cpu",
    ];
    let mut runs = 0;
    for durations in permutations(&[1, 2, 3, 5, 8]) {
        for parallelism in [1, 2, 5] {
            let mut cloud = FakeCloud::default();
            for (id, seconds) in ids.iter().zip(&durations) {
                cloud.durations.insert(
                    format!("{WS}{id}").to_ascii_lowercase(),
                    Duration::from_secs(*seconds),
                );
            }
            for (addr, object) in &prior.resources {
                let id = object.values.get_str("id").expect("recorded id");
                let body = setup
                    .get(id)
                    .unwrap_or_else(|| panic!("{addr} in the setup cloud"));
                cloud.insert(id, body);
            }
            let recorder = Recorder::new(&second);
            let outcome = apply_on(&plan, &registry, &cloud, &recorder, parallelism).await;
            assert!(
                outcome.succeeded(),
                "{durations:?} x{parallelism}: {outcome:?}"
            );
            assert_eq!(
                cloud.duplicate_attachments(),
                0,
                "{durations:?} x{parallelism}"
            );
            assert_detach_before_attach(
                &cloud.calls(),
                &[("/computes/vma", "vm1"), ("/computes/vmb", "vm2")],
                &[
                    ("/computes/vmc", "vm1"),
                    ("/computes/vmb", "vm2"),
                    ("/computes/vmd", "vm3"),
                ],
            );
            runs += 1;
        }
    }
    assert_eq!(runs, 120 * 3);
}

#[tokio::test(start_paused = true)]
async fn without_the_attachment_edges_the_same_rename_attaches_twice() {
    // The checks above can fail: the same rename with the plan's attachment keys removed (so
    // `ApplyGraph` adds no detach-before-attach edge) and a slow detach attaches vm1 twice.
    let registry = load_registry().expect("catalogue");
    let first = Desired {
        resources: vec![attachment("vma", "vm1", "u")],
    };
    let cloud = FakeCloud::default();
    let recorder = Recorder::new(&first);
    let outcome = apply_on(
        &plan_of(&first, &PriorState::default()),
        &registry,
        &cloud,
        &recorder,
        1,
    )
    .await;
    assert!(outcome.succeeded());
    let prior = recorder.state(&PriorState::default());
    let second = Desired {
        resources: vec![attachment("vmc", "vm1", "u")],
    };
    let mut plan = plan_of(&second, &prior);
    for change in &mut plan.changes {
        change.before_attachment = None;
        change.after_attachment = None;
    }
    let mut cloud_for_second = FakeCloud::default();
    let a = format!("{WS}/computes/vma").to_ascii_lowercase();
    cloud_for_second.insert(&a, cloud.get(&a).expect("a attached"));
    cloud_for_second.durations.insert(a, Duration::from_secs(5));
    let recorder = Recorder::new(&second);
    let outcome = apply_on(&plan, &registry, &cloud_for_second, &recorder, 2).await;
    assert!(outcome.succeeded());
    assert_eq!(cloud_for_second.duplicate_attachments(), 1);
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_by_parallelism() {
    let registry = load_registry().expect("catalogue");
    let desired = Desired {
        resources: (0..12)
            .map(|index| cluster(&format!("cpu{index}"), WS))
            .collect(),
    };
    let plan = plan_of(&desired, &PriorState::default());
    for parallelism in [1, 3, 12] {
        let cloud = FakeCloud::default();
        let recorder = Recorder::new(&desired);
        let outcome = apply_on(&plan, &registry, &cloud, &recorder, parallelism).await;
        assert!(outcome.succeeded());
        assert_eq!(outcome.added, 12);
        assert_eq!(cloud.max_in_flight(), parallelism);
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_dependency_skips_its_dependents_and_the_rest_finish() {
    let registry = load_registry().expect("catalogue");
    let workspace = DesiredResource::new(
        ResourceAddr::managed("azureml_workspace", "ws2"),
        object(&[
            ("name", "ws2".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
        ]),
    );
    let mut dependent = cluster("on-w2", &WS.replace("/w", "/w2"));
    dependent.depends_on.push(workspace.addr.clone());
    dependent.values.set("workspace_id", Value::Unknown);
    let desired = Desired {
        resources: vec![workspace.clone(), dependent.clone(), cluster("alone", WS)],
    };
    let plan = plan_of(&desired, &PriorState::default());
    let mut cloud = FakeCloud::default();
    cloud.failing.push(format!("{}s2", WS.to_ascii_lowercase()));
    let recorder = Recorder::new(&desired);
    let outcome = apply_on(&plan, &registry, &cloud, &recorder, 4).await;
    assert_eq!(outcome.added, 1);
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].addr, workspace.addr);
    assert!(
        outcome.failures[0].message.contains("injected"),
        "{}",
        outcome.failures[0].message
    );
    assert_eq!(outcome.skipped, [dependent.addr.clone()]);
    let puts: Vec<String> = cloud
        .calls()
        .iter()
        .filter(|call| call.method == "PUT")
        .map(|call| call.id.clone())
        .collect();
    assert!(
        !puts.iter().any(|id| id.ends_with("/on-w2")),
        "a skipped step makes no call: {puts:?}"
    );
    let records = recorder.records.lock().expect("lock");
    assert_eq!(records.len(), 1, "only the completed create is recorded");
}

#[tokio::test(start_paused = true)]
async fn every_completed_operation_is_recorded_before_its_dependents_start() {
    let registry = load_registry().expect("catalogue");
    let workspace = DesiredResource::new(
        ResourceAddr::managed("azureml_workspace", "main"),
        object(&[
            ("name", "main".into()),
            ("resource_group_name", "rg".into()),
            ("location", "westeurope".into()),
        ]),
    );
    let mut computes: Vec<DesiredResource> = (0..3)
        .map(|index| {
            let mut compute = cluster(&format!("cpu{index}"), WS);
            compute.depends_on.push(workspace.addr.clone());
            compute
        })
        .collect();
    computes.insert(0, workspace.clone());
    let desired = Desired {
        resources: computes,
    };
    let plan = plan_of(&desired, &PriorState::default());
    let mut cloud = FakeCloud::default();
    cloud.write_time = Duration::from_secs(3);
    let recorder = Recorder::new(&desired);
    let outcome = apply_on(&plan, &registry, &cloud, &recorder, 4).await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let records = recorder.records.lock().expect("lock").clone();
    assert_eq!(records.len(), 4, "one record per completed operation");
    let workspace_recorded = records
        .iter()
        .find(|(addr, ..)| addr == &workspace.addr)
        .map(|(.., at)| *at)
        .expect("workspace recorded");
    for call in cloud
        .calls()
        .iter()
        .filter(|call| call.id.contains("/computes/"))
    {
        assert!(
            workspace_recorded <= call.started,
            "{} started at {:?}, before the workspace was recorded at {:?}",
            call.id,
            call.started,
            workspace_recorded
        );
    }
    assert!(records.iter().all(|(_, object, _)| {
        object
            .as_ref()
            .and_then(|object| object.get_str("id"))
            .is_some()
    }));
}

#[tokio::test(start_paused = true)]
async fn a_long_operation_is_reported_as_still_running_every_ten_seconds() {
    let registry = load_registry().expect("catalogue");
    let desired = Desired {
        resources: vec![cluster("slow", WS)],
    };
    let plan = plan_of(&desired, &PriorState::default());
    // A long-running operation polled until it succeeds, 25 s in all.
    let mut cloud = FakeCloud::default();
    cloud.write_time = Duration::from_secs(25);
    let recorder = Recorder::new(&desired);
    let started = tokio::time::Instant::now();
    let outcome = apply_on(&plan, &registry, &cloud, &recorder, 1).await;
    assert!(outcome.succeeded());
    assert_eq!(started.elapsed(), Duration::from_secs(25));
    assert_eq!(
        recorder.progress(),
        [
            "Still creating... [10s elapsed]",
            "Still creating... [20s elapsed]"
        ]
    );
    let finished = recorder
        .events
        .lock()
        .expect("lock")
        .iter()
        .find_map(|event| match event {
            ApplyEvent::Finished { elapsed, verb, .. } => Some((*elapsed, *verb)),
            _ => None,
        })
        .expect("finished");
    assert_eq!(finished, (Duration::from_secs(25), "Creation complete"));
}

#[tokio::test(start_paused = true)]
async fn an_orphaned_key_is_destroyed_before_its_object_is_created_again() {
    // `cpu[5]` in state and `cpu` without `count` in the configuration, one compute name: a
    // destroy and a create of one ARM object. Run together, the PUT lands on the object the
    // DELETE then removes (or the DELETE removes the new one).
    let registry = load_registry().expect("catalogue");
    let mut counted = cluster("cpu", WS);
    counted.addr = counted
        .addr
        .clone()
        .with_key(crate::addr::InstanceKey::Index(5));
    let first = Desired {
        resources: vec![counted],
    };
    let setup = FakeCloud::default();
    let recorder = Recorder::new(&first);
    let outcome = apply_on(
        &plan_of(&first, &PriorState::default()),
        &registry,
        &setup,
        &recorder,
        4,
    )
    .await;
    assert!(outcome.succeeded(), "{outcome:?}");
    let prior = recorder.state(&PriorState::default());

    let second = Desired {
        resources: vec![cluster("cpu", WS)],
    };
    let plan = plan_of(&second, &prior);
    let id = format!("{WS}/computes/cpu").to_ascii_lowercase();
    for parallelism in [2, 10] {
        let mut cloud = FakeCloud::default();
        cloud.insert(&id, setup.get(&id).expect("created by the first apply"));
        cloud.durations.insert(id.clone(), Duration::from_secs(5));
        let recorder = Recorder::new(&second);
        let outcome = apply_on(&plan, &registry, &cloud, &recorder, parallelism).await;
        assert!(outcome.succeeded(), "{outcome:?}");
        let calls = cloud.calls();
        let delete = calls
            .iter()
            .find(|call| call.method == "DELETE" && call.id == id)
            .expect("the orphan is destroyed");
        let put = calls
            .iter()
            .find(|call| call.method == "PUT" && call.id == id)
            .expect("the configured object is created");
        assert!(
            delete.ended <= put.started,
            "the create started at {:?}, before the destroy ended at {:?}",
            put.started,
            delete.ended
        );
        assert!(cloud.get(&id).is_some(), "the configured object exists");
        let state = recorder.state(&prior);
        let addrs: Vec<String> = state.resources.keys().map(ToString::to_string).collect();
        assert_eq!(addrs, ["azureml_compute_cluster.cpu"]);
    }
}

#[tokio::test(start_paused = true)]
async fn each_change_goes_to_the_cloud_of_its_provider_configuration() {
    let registry = load_registry().expect("catalogue");
    let desired = Desired {
        resources: vec![cluster("cpu", WS), cluster("gpu", WS), cluster("lost", WS)],
    };
    let mut plan = plan_of(&desired, &PriorState::default());
    for change in &mut plan.changes {
        change.provider = match change.addr.name.as_str() {
            "gpu" => Some("prod".to_owned()),
            "lost" => Some("staging".to_owned()),
            _ => None,
        };
    }
    let (default, prod) = (FakeCloud::default(), FakeCloud::default());
    let clouds = Clouds::one(&default).with_alias("prod", &prod);
    let recorder = Recorder::new(&desired);
    let outcome = apply(&plan, &registry, &clouds, &recorder, 2).await;
    let id = |name: &str| format!("{WS}/computes/{name}").to_ascii_lowercase();
    assert!(default.get(&id("cpu")).is_some() && default.get(&id("gpu")).is_none());
    assert!(prod.get(&id("gpu")).is_some() && prod.get(&id("cpu")).is_none());
    // A configuration nobody set up fails its change, naming it; nothing is sent anywhere.
    assert_eq!(outcome.failures.len(), 1, "{:?}", outcome.failures);
    assert_eq!(outcome.failures[0].addr.name, "lost");
    assert!(
        outcome.failures[0].message.contains("`azureml.staging`"),
        "{}",
        outcome.failures[0].message
    );
    assert!(default.get(&id("lost")).is_none() && prod.get(&id("lost")).is_none());
}
