//! Refresh: reads the actual objects behind the state with **list calls** (one per parent and
//! collection: the workspaces of a resource group, the computes of a workspace), never one GET
//! per resource (DESIGN §4). The result is the [`Actual`] that [`crate::plan::diff`] takes.
//!
//! Listings run concurrently (bounded). A parent that is gone (404) means all its children are
//! gone; any other error stops the refresh, since planning on a partial view could plan an
//! attachment that already exists.
//!
//! Attributes with no ARM path (other than the name and parent, which come from the id) cannot
//! be read back: refresh keeps the state's value for them, e.g. the desired power `state` of a
//! compute instance (its observed state is the computed `current_state`), and secrets, whose
//! state value is a digest or whatever the other tool stored.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt as _;
use futures_util::stream;

use crate::addr::ResourceAddr;
use crate::api::id::same_id;
use crate::api::{ApiError, ArmId, ArmObject, CloudApi};
use crate::plan::{Actual, ActualObject, PriorState};
use crate::schema::{Collection, Registry, ResourceSchema};
use crate::value::ObjectValue;

/// How many list calls run at once.
pub const LIST_CONCURRENCY: usize = 8;

/// Refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// A list call failed.
    #[error("failed to list the {collection} of `{parent}`")]
    List {
        /// The parent listed.
        parent: String,
        /// The collection.
        collection: &'static str,
        /// Why.
        #[source]
        source: ApiError,
    },
    /// An object stayed in `Deleting` longer than refresh waits.
    #[error("`{id}` is still being deleted; run again once the deletion has finished")]
    StillDeleting {
        /// The object.
        id: String,
    },
}

/// One list call: a parent id and a collection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Listing {
    parent: String,
    collection: Collection,
}

/// Reads every object in `prior` plus every compute of the workspaces in `prior` and of
/// `workspace_ids` (workspaces the configuration names whose ids are known, so attachments the
/// configuration does not manage are seen too).
///
/// Returns the objects by state address (`None`: gone) and every compute by workspace id.
pub async fn refresh(
    cloud: &dyn CloudApi,
    registry: &Registry,
    prior: &PriorState,
    workspace_ids: &[String],
) -> Result<Actual, RefreshError> {
    let listings = listings(registry, prior, workspace_ids);
    // An object still being deleted (an interrupted destroy: the service accepted the DELETE,
    // the run died before recording it) is waited for, then listed again: planning on it would
    // create children in a workspace about to vanish, or reuse a name the service still holds.
    let mut listed = list_all(cloud, &listings).await?;
    for _ in 0..DELETION_ROUNDS {
        let deleting = deleting(registry, &listed);
        if deleting.is_empty() {
            break;
        }
        for (schema, id) in deleting {
            wait_until_gone(cloud, schema, &id).await?;
        }
        listed = list_all(cloud, &listings).await?;
    }

    let mut actual = Actual::default();
    for (listing, objects) in &listed {
        if listing.collection != Collection::Computes {
            continue;
        }
        let computes = objects
            .iter()
            .filter_map(|object| {
                let (schema, values) = object.to_object(registry, Collection::Computes)?;
                Some(ActualObject {
                    type_name: schema.type_name.clone(),
                    values,
                })
            })
            .collect();
        actual.workspaces.insert(listing.parent.clone(), computes);
    }
    for (addr, object) in &prior.resources {
        let Some(schema) = registry.get(&addr.resource_type) else {
            continue;
        };
        let Some(listing) = listing_of(schema, &object.values) else {
            continue;
        };
        let Some(objects) = listed.get(&listing) else {
            continue;
        };
        let id = object.values.get_str("id").unwrap_or_default();
        let found = objects
            .iter()
            .find(|candidate| same_id(&candidate.id, id))
            .map(|candidate| read_back(schema, &candidate.body, &object.values));
        actual.objects.insert(addr.clone(), found);
    }
    Ok(actual)
}

/// How many times refresh waits for deletions in progress before planning on what it sees.
const DELETION_ROUNDS: usize = 3;

/// How often an object being deleted is read again, and for how long at most.
const DELETION_POLL: std::time::Duration = std::time::Duration::from_millis(250);
const DELETION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1800);

/// Every listing, concurrently (bounded); a parent that is gone lists nothing.
async fn list_all(
    cloud: &dyn CloudApi,
    listings: &[Listing],
) -> Result<BTreeMap<Listing, Vec<ArmObject>>, RefreshError> {
    let results: Vec<(Listing, Result<Vec<ArmObject>, ApiError>)> =
        stream::iter(listings.iter().cloned())
            .map(|listing| async move {
                let result = cloud.list(&listing.parent, listing.collection).await;
                (listing, result)
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .collect()
            .await;
    let mut listed = BTreeMap::new();
    for (listing, result) in results {
        let objects = match result {
            Ok(objects) => objects,
            Err(error) if error.status() == Some(404) => Vec::new(),
            Err(source) => {
                return Err(RefreshError::List {
                    parent: listing.parent,
                    collection: listing.collection.segment(),
                    source,
                });
            }
        };
        listed.insert(listing, objects);
    }
    Ok(listed)
}

/// The listed objects whose `provisioningState` is `Deleting`, with their schema.
fn deleting<'r>(
    registry: &'r Registry,
    listed: &BTreeMap<Listing, Vec<ArmObject>>,
) -> Vec<(&'r ResourceSchema, String)> {
    listed
        .iter()
        .flat_map(|(listing, objects)| {
            objects
                .iter()
                .map(move |object| (listing.collection, object))
        })
        .filter(|(_, object)| {
            object
                .body
                .pointer("/properties/provisioningState")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|state| state.eq_ignore_ascii_case("Deleting"))
        })
        .filter_map(|(collection, object)| {
            Some((object.schema(registry, collection)?, object.id.clone()))
        })
        .collect()
}

/// Reads `id` until it is gone.
async fn wait_until_gone(
    cloud: &dyn CloudApi,
    schema: &ResourceSchema,
    id: &str,
) -> Result<(), RefreshError> {
    let started = std::time::Instant::now();
    loop {
        match cloud.read(schema, id).await {
            Ok(None) => return Ok(()),
            Err(error) if error.status() == Some(404) => return Ok(()),
            Ok(Some(_)) if started.elapsed() < DELETION_TIMEOUT => {
                tokio::time::sleep(DELETION_POLL).await
            }
            Ok(Some(_)) => {
                return Err(RefreshError::StillDeleting { id: id.to_owned() });
            }
            Err(source) => {
                return Err(RefreshError::List {
                    parent: id.to_owned(),
                    collection: schema.api.collection.segment(),
                    source,
                });
            }
        }
    }
}

/// The ids of every workspace `prior` holds, and the workspace ids its computes name.
pub fn workspaces_in(prior: &PriorState) -> Vec<String> {
    let mut ids = BTreeSet::new();
    for object in prior.resources.values() {
        if let Some(id) = object.values.get_str("workspace_id") {
            ids.insert(id.to_owned());
        }
    }
    ids.into_iter().collect()
}

/// The list calls refresh makes: each state object's parent listing, and the computes of every
/// workspace (listed or named).
fn listings(registry: &Registry, prior: &PriorState, workspace_ids: &[String]) -> Vec<Listing> {
    let mut listings = BTreeSet::new();
    let add_workspace = |id: &str, listings: &mut BTreeSet<Listing>| {
        if ArmId::parse(id).is_ok() {
            listings.insert(Listing {
                parent: canonical(id),
                collection: Collection::Computes,
            });
        }
    };
    for (addr, object) in &prior.resources {
        let Some(schema) = registry.get(&addr.resource_type) else {
            continue;
        };
        if let Some(listing) = listing_of(schema, &object.values) {
            listings.insert(listing);
        }
        if schema.api.collection == Collection::Workspaces
            && let Some(id) = object.values.get_str("id")
        {
            add_workspace(id, &mut listings);
        }
    }
    for id in workspace_ids {
        add_workspace(id, &mut listings);
    }
    listings.into_iter().collect()
}

/// The listing that holds the object with these state values.
fn listing_of(schema: &ResourceSchema, values: &ObjectValue) -> Option<Listing> {
    let (parent, collection) = parent_listing(schema, values.get_str("id")?)?;
    Some(Listing { parent, collection })
}

/// The list call that shows the object of `schema` with ARM id `id`: its parent (lowercase; ids
/// compare case-insensitively) and collection. A workspace is listed in its resource group, a
/// version with its container's versions, anything else under its parent.
///
/// ```
/// let registry = engine::schema::load_registry().unwrap();
/// let cluster = registry.get("azureml_compute_cluster").unwrap();
/// let id = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/w/computes/cpu";
/// let (parent, collection) = engine::refresh::parent_listing(cluster, id).unwrap();
/// assert!(parent.ends_with("/workspaces/w") && parent.contains("/resourcegroups/rg/"));
/// assert_eq!(collection, engine::schema::Collection::Computes);
/// ```
pub fn parent_listing(schema: &ResourceSchema, id: &str) -> Option<(String, Collection)> {
    let id = ArmId::parse(id).ok()?;
    let parent = match schema.api.collection {
        Collection::Workspaces => ArmId::resource_group_id(id.subscription(), id.resource_group()?),
        // A version is listed with its container's versions.
        collection if collection.is_versioned() => id.ancestor(2)?,
        _ => id.ancestor(1)?,
    };
    Some((canonical(parent.as_str()), schema.api.collection))
}

/// Ids compare case-insensitively; listings are keyed by the lowercase form.
fn canonical(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// The refreshed values of one object: what the service returned, completed from state
/// ([`crate::resource::read_back`]).
fn read_back(
    schema: &ResourceSchema,
    body: &serde_json::Value,
    stored: &ObjectValue,
) -> ObjectValue {
    crate::resource::read_back(schema, crate::api::from_arm(schema, body), stored)
}

/// The state addresses whose objects refresh found gone.
pub fn gone(actual: &Actual) -> Vec<ResourceAddr> {
    actual
        .objects
        .iter()
        .filter(|(_, object)| object.is_none())
        .map(|(addr, _)| addr.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PriorObject;
    use crate::value::Value;

    /// `(type, name, attributes)` of each state object.
    type Entry<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    fn prior(entries: &[Entry<'_>]) -> PriorState {
        let mut state = PriorState::default();
        for (type_name, name, values) in entries {
            let mut object = ObjectValue::default();
            for (key, value) in *values {
                object.set(key, Value::from(*value));
            }
            state.resources.insert(
                ResourceAddr::managed(type_name, name),
                PriorObject {
                    values: object,
                    dependencies: Vec::new(),
                },
            );
        }
        state
    }

    const WS: &str = "/subscriptions/s/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/w";

    #[test]
    fn one_listing_per_parent_and_collection() {
        let registry = crate::schema::load_registry().expect("catalogue");
        let compute = |name: &str| format!("{WS}/computes/{name}");
        let (a, b) = (compute("a"), compute("b"));
        let state = prior(&[
            ("azureml_workspace", "w", &[("id", WS)]),
            (
                "azureml_compute_cluster",
                "a",
                &[("id", a.as_str()), ("workspace_id", WS)],
            ),
            (
                "azureml_compute_cluster",
                "b",
                &[("id", b.as_str()), ("workspace_id", WS)],
            ),
        ]);
        let listings = listings(&registry, &state, &[WS.to_uppercase()]);
        assert_eq!(
            listings,
            vec![
                Listing {
                    parent: "/subscriptions/s/resourcegroups/rg".into(),
                    collection: Collection::Workspaces
                },
                Listing {
                    parent: WS.to_ascii_lowercase(),
                    collection: Collection::Computes
                },
            ]
        );
    }

    #[test]
    fn values_the_service_never_returns_are_kept_from_state() {
        let registry = crate::schema::load_registry().expect("catalogue");
        let schema = registry.get("azureml_compute_instance").expect("instance");
        let mut stored = ObjectValue::default();
        stored.set("state", Value::from("Running"));
        let body = |state: &str| {
            serde_json::json!({
                "id": format!("{WS}/computes/dev"), "name": "dev",
                "properties": {"computeType": "ComputeInstance", "properties": {"state": state}}
            })
        };
        // Stopped outside: the settled observed state is the actual one (drift).
        let values = read_back(schema, &body("Stopped"), &stored);
        assert_eq!(values.get_str("state"), Some("Stopped"));
        assert_eq!(values.get_str("name"), Some("dev"));
        // Starting is not a value `state` takes: the stored one stands.
        let values = read_back(schema, &body("Starting"), &stored);
        assert_eq!(values.get_str("state"), Some("Running"));
    }
}
