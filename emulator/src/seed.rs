//! Seeds: what a new database starts with. The built-in demo seed is `demo_seed.json`; `--seed`
//! files use the same JSON shape:
//!
//! ```json
//! { "subscriptions":   [{ "id": "…", "quota": { "cores_per_family": 100, "families": { "standardNCFamily": 24 } } }],
//!   "clients":         [{ "tenant": "…", "client_id": "…", "client_secret": "…", "subscriptions": ["…"] }],
//!   "resource_groups": [{ "subscription": "…", "name": "demo-rg", "location": "eastus" }],
//!   "resources":       [{ "id": "<ARM id of an underlying resource>", "location": "…", "tags": {}, "properties": {} }] }
//! ```
//!
//! `cores_per_family` is the quota of every VM family not listed in `families`. Resources are
//! loaded in order through the same code as a PUT (a pool after its Synapse workspace).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, digest};
use crate::store::Store;
use crate::underlying::{self, UnderlyingId};

/// The built-in demo seed.
pub(crate) const DEMO_SEED: &str = include_str!("demo_seed.json");

/// A seed document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Seed {
    #[serde(default)]
    subscriptions: Vec<SeedSubscription>,
    #[serde(default)]
    clients: Vec<SeedClient>,
    #[serde(default)]
    resource_groups: Vec<SeedGroup>,
    #[serde(default)]
    resources: Vec<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSubscription {
    id: String,
    #[serde(default)]
    quota: Option<SeedQuota>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedQuota {
    cores_per_family: i64,
    #[serde(default)]
    families: BTreeMap<String, i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedClient {
    tenant: String,
    client_id: String,
    client_secret: String,
    subscriptions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedGroup {
    subscription: String,
    name: String,
    #[serde(default = "default_location")]
    location: String,
}

fn default_location() -> String {
    "eastus".to_owned()
}

/// Parses a seed document.
pub(crate) fn parse(text: &str) -> Result<Seed, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

/// Loads a seed into the store in one transaction.
pub(crate) fn load(store: &Store, seed: Seed, now: i64) -> Result<(), String> {
    store
        .transact_blocking(|tx| apply(tx, &seed, now))
        .map_err(|error| format!("{} ({})", error.message, error.code))
}

fn apply(tx: &Connection, seed: &Seed, now: i64) -> Result<(), ArmError> {
    for subscription in &seed.subscriptions {
        if let Some(quota) = &subscription.quota {
            let id = subscription.id.to_ascii_lowercase();
            tx.execute(
                "INSERT OR REPLACE INTO quotas (subscription, family, cores) VALUES (?1, '*', ?2)",
                params![id, quota.cores_per_family],
            )?;
            for (family, cores) in &quota.families {
                tx.execute(
                    "INSERT OR REPLACE INTO quotas (subscription, family, cores) VALUES (?1, ?2, ?3)",
                    params![id, family.to_ascii_lowercase(), cores],
                )?;
            }
        }
    }
    for client in &seed.clients {
        let subscriptions: Vec<String> = client
            .subscriptions
            .iter()
            .map(|id| id.to_ascii_lowercase())
            .collect();
        tx.execute(
            "INSERT OR REPLACE INTO clients (tenant, client_id, secret_sha256, subscriptions) VALUES (?1, ?2, ?3, ?4)",
            params![
                client.tenant.to_ascii_lowercase(),
                client.client_id.to_ascii_lowercase(),
                digest(&client.client_secret),
                json!(subscriptions).to_string()
            ],
        )?;
    }
    for group in &seed.resource_groups {
        crate::workspaces::put_group(
            tx,
            &group.subscription,
            &group.name,
            &json!({ "location": group.location }),
            now,
        )?;
    }
    for resource in &seed.resources {
        let id = resource
            .get("id")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let parsed = UnderlyingId::parse(id).ok_or_else(|| {
            ArmError::bad_request(
                "InvalidSeed",
                format!("`{id}` is not the id of a resource type the emulator serves"),
            )
        })?;
        underlying::upsert(tx, &parsed, resource.clone(), now)?;
    }
    // In the same transaction: a database is seeded completely or not at all.
    crate::store::increment(tx, "seeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_seed_matches_the_public_constants() {
        let seed = parse(DEMO_SEED).expect("demo seed parses");
        assert_eq!(seed.subscriptions[0].id, crate::DEMO_SUBSCRIPTION);
        assert_eq!(seed.subscriptions[1].id, crate::DEMO_OTHER_SUBSCRIPTION);
        assert_eq!(seed.resource_groups[0].name, crate::DEMO_RESOURCE_GROUP);
        assert_eq!(
            (
                seed.resource_groups[1].subscription.as_str(),
                seed.resource_groups[1].name.as_str()
            ),
            (
                crate::DEMO_OTHER_SUBSCRIPTION,
                crate::DEMO_OTHER_RESOURCE_GROUP
            )
        );
        let client = &seed.clients[0];
        assert_eq!(client.tenant, crate::DEMO_TENANT);
        assert_eq!(client.client_id, crate::DEMO_CLIENT_ID);
        assert_eq!(client.client_secret, crate::DEMO_CLIENT_SECRET);
        assert_eq!(
            client.subscriptions,
            [crate::DEMO_SUBSCRIPTION, crate::DEMO_OTHER_SUBSCRIPTION]
        );
        let names: Vec<&str> = seed
            .resources
            .iter()
            .filter_map(|resource| resource["id"].as_str()?.rsplit('/').next())
            .collect();
        assert_eq!(
            names,
            [
                "demo-ubuntu-vm",
                "demo-private-vm",
                "demo-windows-vm",
                "demo-hdi",
                "demo-databricks",
                "demo-adla",
                "demo-aks",
                "demo-arc",
                "demo-synapse",
                "demo-pool"
            ]
        );
    }

    #[test]
    fn the_demo_seed_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, _) = Store::open(&dir.path().join("db")).expect("open");
        load(&store, parse(DEMO_SEED).expect("parses"), 0).expect("loads");
    }
}
