//! The resources computes attach to, as generic ARM resources with synchronous PUT/GET/DELETE
//! (`/subscriptions/{s}/resourceGroups/{g}/providers/{namespace}/{type}/{name}[/{type}/{name}]`).
//! Each type is one row of [`TYPES`]: no per-type handlers. Every type a catalogue schema names in
//! `api.underlying_types` has a row (a unit test below fails listing any that has none).
//!
//! Property shapes the emulator reads (everything else is stored and echoed):
//!
//! | type | property | meaning |
//! |---|---|---|
//! | `Microsoft.Compute/virtualMachines` | `properties.storageProfile.osDisk.osType` (`Linux`/`Windows`), `properties.storageProfile.imageReference.{publisher,offer,sku}` | Ubuntu = Linux with offer containing `ubuntu` or publisher `Canonical` |
//! | `Microsoft.Compute/virtualMachines` | `properties.publicIpAddress` (string; absent or empty = none), `properties.hardwareProfile.vmSize` | public IP (required to attach), size |
//! | `Microsoft.HDInsight/clusters` | `properties.publicIpAddress` | public IP (required to attach) |
//! | `Microsoft.Databricks/workspaces` | `properties.workspaceUrl` | copied to the compute |
//! | `Microsoft.DataLakeAnalytics/accounts` | `properties.defaultDataLakeStoreAccount` | copied as `dataLakeStoreAccountName` |
//! | `Microsoft.ContainerService/managedClusters` | `properties.fqdn`, `properties.agentPoolProfiles[0].{count,vmSize}` | copied to an AKS compute |
//! | `Microsoft.Kubernetes/connectedClusters` | – | |
//! | `Microsoft.Synapse/workspaces` | – | parent of the pools; deleting it deletes them |
//! | `Microsoft.Synapse/workspaces/bigDataPools` | `properties.{sparkVersion,nodeCount,nodeSize,nodeSizeFamily}`, `properties.autoScale.{enabled,minNodeCount,maxNodeCount}`, `properties.autoPause.{enabled,delayInMinutes}` | copied to a SynapseSpark compute |
//! | `Microsoft.DataFactory/factories` | – | |
//!
//! Values are copied into a compute only where the compute's schema has an attribute at the target
//! path (always for computed attributes, otherwise when the request left it unset).

use axum::http::{Method, StatusCode};
use rusqlite::Connection;
use serde_json::{Value as Json, json};

use crate::arm::{ArmError, Reply, get_path, group_id, key_of, path};
use crate::store::{self, Meta, Record};

/// One underlying resource type.
#[derive(Debug)]
pub(crate) struct UnderlyingType {
    /// Canonical type, e.g. `Microsoft.Compute/virtualMachines`.
    pub type_name: &'static str,
    /// Attach precondition: an Ubuntu image.
    pub requires_ubuntu: bool,
    /// Attach precondition: a public IP address.
    pub requires_public_ip: bool,
    /// `(source path in the resource, target path in the compute)`; `@name` / `@parent` are the
    /// resource's name and its parent's name.
    pub copies: &'static [(&'static str, &'static str)],
}

/// Every underlying type the emulator serves.
pub(crate) const TYPES: &[UnderlyingType] = &[
    UnderlyingType {
        type_name: "Microsoft.Compute/virtualMachines",
        requires_ubuntu: true,
        requires_public_ip: true,
        copies: &[
            (
                "properties.publicIpAddress",
                "properties.properties.address",
            ),
            (
                "properties.hardwareProfile.vmSize",
                "properties.properties.virtualMachineSize",
            ),
        ],
    },
    UnderlyingType {
        type_name: "Microsoft.HDInsight/clusters",
        requires_ubuntu: false,
        requires_public_ip: true,
        copies: &[(
            "properties.publicIpAddress",
            "properties.properties.address",
        )],
    },
    UnderlyingType {
        type_name: "Microsoft.Databricks/workspaces",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[(
            "properties.workspaceUrl",
            "properties.properties.workspaceUrl",
        )],
    },
    UnderlyingType {
        type_name: "Microsoft.DataLakeAnalytics/accounts",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[(
            "properties.defaultDataLakeStoreAccount",
            "properties.properties.dataLakeStoreAccountName",
        )],
    },
    UnderlyingType {
        type_name: "Microsoft.ContainerService/managedClusters",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[
            ("properties.fqdn", "properties.properties.clusterFqdn"),
            (
                "properties.agentPoolProfiles.0.count",
                "properties.properties.agentCount",
            ),
            (
                "properties.agentPoolProfiles.0.vmSize",
                "properties.properties.agentVmSize",
            ),
        ],
    },
    UnderlyingType {
        type_name: "Microsoft.Kubernetes/connectedClusters",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[],
    },
    UnderlyingType {
        type_name: "Microsoft.Synapse/workspaces",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[],
    },
    UnderlyingType {
        type_name: "Microsoft.Synapse/workspaces/bigDataPools",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[
            (
                "properties.sparkVersion",
                "properties.properties.sparkVersion",
            ),
            ("properties.nodeCount", "properties.properties.nodeCount"),
            ("properties.nodeSize", "properties.properties.nodeSize"),
            (
                "properties.nodeSizeFamily",
                "properties.properties.nodeSizeFamily",
            ),
            (
                "properties.autoScale.enabled",
                "properties.properties.autoScaleProperties.enabled",
            ),
            (
                "properties.autoScale.minNodeCount",
                "properties.properties.autoScaleProperties.minNodeCount",
            ),
            (
                "properties.autoScale.maxNodeCount",
                "properties.properties.autoScaleProperties.maxNodeCount",
            ),
            (
                "properties.autoPause.enabled",
                "properties.properties.autoPauseProperties.enabled",
            ),
            (
                "properties.autoPause.delayInMinutes",
                "properties.properties.autoPauseProperties.delayInMinutes",
            ),
            ("@parent", "properties.properties.workspaceName"),
            ("@name", "properties.properties.poolName"),
        ],
    },
    UnderlyingType {
        type_name: "Microsoft.DataFactory/factories",
        requires_ubuntu: false,
        requires_public_ip: false,
        copies: &[],
    },
];

/// The type row for a provider namespace plus type segments (`Microsoft.Synapse`, `[workspaces, bigDataPools]`).
pub(crate) fn type_of(provider: &str, types: &[String]) -> Option<&'static UnderlyingType> {
    let wanted = format!("{provider}/{}", types.join("/"));
    TYPES
        .iter()
        .find(|row| row.type_name.eq_ignore_ascii_case(&wanted))
}

/// A parsed underlying resource id.
#[derive(Debug, Clone)]
pub(crate) struct UnderlyingId {
    pub subscription: String,
    pub group: String,
    pub kind: &'static UnderlyingType,
    pub names: Vec<String>,
}

impl UnderlyingId {
    /// Parses an ARM id; `None` when it is not one of [`TYPES`].
    pub(crate) fn parse(id: &str) -> Option<UnderlyingId> {
        match crate::arm::Route::parse(id)? {
            crate::arm::Route::Generic {
                subscription,
                group,
                provider,
                types,
                names,
            } => Some(UnderlyingId {
                subscription,
                group,
                kind: type_of(&provider, &types)?,
                names,
            }),
            _ => None,
        }
    }

    /// The canonical id.
    pub(crate) fn id(&self) -> String {
        let (namespace, types) = self
            .kind
            .type_name
            .split_once('/')
            .expect("type names have a namespace");
        let mut id = format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{namespace}",
            self.subscription, self.group
        );
        for (segment, name) in types.split('/').zip(&self.names) {
            id.push_str(&format!("/{segment}/{name}"));
        }
        id
    }

    fn parent_key(&self) -> String {
        if self.names.len() > 1 {
            let parent = UnderlyingId {
                kind: TYPES
                    .iter()
                    .find(|row| {
                        self.kind.type_name.starts_with(row.type_name)
                            && row.type_name.len() < self.kind.type_name.len()
                    })
                    .expect("nested types have their parent in the table"),
                names: self.names[..self.names.len() - 1].to_vec(),
                ..self.clone()
            };
            key_of(&parent.id())
        } else {
            key_of(&group_id(&self.subscription, &self.group))
        }
    }

    fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or_default()
    }
}

/// Handles a request on an underlying resource.
pub(crate) fn handle(
    tx: &Connection,
    method: &Method,
    id: UnderlyingId,
    body: &[u8],
    now: i64,
) -> Result<Reply, ArmError> {
    match *method {
        Method::GET => match store::get(tx, &key_of(&id.id()), now)? {
            Some(record) => Ok(Reply::json(StatusCode::OK, record.view(now))),
            None => Err(ArmError::not_found(format!(
                "resource `{}` was not found",
                id.id()
            ))),
        },
        Method::PUT => {
            let request: Json = if body.is_empty() {
                json!({})
            } else {
                serde_json::from_slice(body).map_err(|error| {
                    ArmError::bad_request(
                        "InvalidRequestContent",
                        format!("the request body is not valid JSON: {error}"),
                    )
                })?
            };
            let existed = store::get(tx, &key_of(&id.id()), now)?.is_some();
            upsert(tx, &id, request, now)?;
            let record = store::get(tx, &key_of(&id.id()), now)?
                .ok_or_else(|| ArmError::internal("resource vanished"))?;
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(Reply::json(status, record.view(now)))
        }
        Method::DELETE => {
            let key = key_of(&id.id());
            if store::get(tx, &key, now)?.is_none() {
                return Ok(Reply::empty(StatusCode::NO_CONTENT));
            }
            for child in TYPES.iter().filter(|row| {
                row.type_name.len() > id.kind.type_name.len()
                    && row.type_name.starts_with(id.kind.type_name)
            }) {
                for record in store::children(tx, &key, &child.type_name.to_ascii_lowercase(), now)?
                {
                    store::remove(tx, &record.key)?;
                }
            }
            store::remove(tx, &key)?;
            Ok(Reply::empty(StatusCode::OK))
        }
        _ => Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("`{method}` is not supported on `{}`", id.kind.type_name),
        )),
    }
}

/// Creates or replaces an underlying resource (also used by the seed).
pub(crate) fn upsert(
    tx: &Connection,
    id: &UnderlyingId,
    request: Json,
    now: i64,
) -> Result<(), ArmError> {
    if !request.is_object() {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "the request body must be a JSON object",
        ));
    }
    if request
        .get("properties")
        .is_some_and(|properties| !properties.is_object() && !properties.is_null())
    {
        return Err(ArmError::bad_request(
            "InvalidRequestContent",
            "`properties` must be an object",
        )
        .with_target("properties"));
    }
    let group_key = key_of(&group_id(&id.subscription, &id.group));
    let Some(group) = store::get(tx, &group_key, now)? else {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("resource group `{}` could not be found", id.group),
        ));
    };
    let parent_key = id.parent_key();
    if parent_key != group_key && store::get(tx, &parent_key, now)?.is_none() {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "ParentResourceNotFound",
            format!(
                "the parent of `{}` does not exist; create it first",
                id.id()
            ),
        ));
    }
    let key = key_of(&id.id());
    let previous = store::get(tx, &key, now)?;
    let mut properties = request
        .get("properties")
        .cloned()
        .filter(Json::is_object)
        .unwrap_or_else(|| json!({}));
    properties["provisioningState"] = json!("Succeeded");
    let location = request
        .get("location")
        .and_then(Json::as_str)
        .or_else(|| group.body.get("location").and_then(Json::as_str))
        .unwrap_or("eastus");
    let mut body = json!({
        "id": id.id(),
        "name": id.name(),
        "type": id.kind.type_name,
        "location": location,
        "properties": properties,
    });
    if let Some(tags) = request.get("tags").filter(|tags| tags.is_object()) {
        body["tags"] = tags.clone();
    }
    let meta = Meta {
        created_at: previous
            .as_ref()
            .map_or(now, |record| record.meta.created_at),
        modified_at: now,
        created_by_compute: previous.and_then(|record| record.meta.created_by_compute),
        ..Meta::default()
    };
    store::put(
        tx,
        &Record {
            key,
            id: id.id(),
            kind: id.kind.type_name.to_ascii_lowercase(),
            parent: parent_key,
            subscription: id.subscription.to_ascii_lowercase(),
            name: id.name().to_owned(),
            body,
            meta,
        },
    )
}

/// Why a resource cannot be attached, if it cannot (DESIGN §1 rule 4).
pub(crate) fn attach_precondition(kind: &UnderlyingType, resource: &Json) -> Option<String> {
    let name = resource
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let text = |at: &str| {
        get_path(resource, &path(at))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if kind.requires_ubuntu {
        let os = text("properties.storageProfile.osDisk.osType");
        let offer = text("properties.storageProfile.imageReference.offer");
        let publisher = text("properties.storageProfile.imageReference.publisher");
        let linux = os.is_empty() || os.eq_ignore_ascii_case("linux");
        let ubuntu = offer.to_ascii_lowercase().contains("ubuntu")
            || publisher.eq_ignore_ascii_case("canonical");
        if !(linux && ubuntu) {
            let os = if os.is_empty() {
                "an unknown OS".to_owned()
            } else {
                format!("`{os}`")
            };
            return Some(format!(
                "virtual machine `{name}` runs {os} (image `{publisher}/{offer}`); Azure ML attaches only Ubuntu virtual machines: attach an Ubuntu VM instead"
            ));
        }
    }
    if kind.requires_public_ip && text("properties.publicIpAddress").is_empty() {
        return Some(format!(
            "`{name}` has no public IP address (`properties.publicIpAddress`); Azure ML reaches attached {} over SSH on a public IP: add one or attach another resource",
            kind.type_name
        ));
    }
    None
}

/// The values an attachment copies from its resource: `(target path, value)`.
pub(crate) fn copied_values(kind: &UnderlyingType, resource: &Record) -> Vec<(String, Json)> {
    kind.copies
        .iter()
        .filter_map(|(source, target)| {
            let value = match *source {
                "@name" => Some(json!(resource.name)),
                "@parent" => UnderlyingId::parse(&resource.id)
                    .and_then(|id| id.names.first().cloned())
                    .map(Json::String),
                source => get_path(&resource.body, &path(source)).cloned(),
            }?;
            Some(((*target).to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_into_known_types_only() {
        let id = UnderlyingId::parse("/subscriptions/s/resourcegroups/g/providers/microsoft.synapse/workspaces/w/bigdatapools/p")
            .expect("pool id");
        assert_eq!(
            id.kind.type_name,
            "Microsoft.Synapse/workspaces/bigDataPools"
        );
        assert_eq!(
            id.id(),
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Synapse/workspaces/w/bigDataPools/p"
        );
        assert!(
            UnderlyingId::parse(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/x"
            )
            .is_none()
        );
    }

    #[test]
    fn windows_and_private_vms_fail_the_precondition() {
        let vm = type_of("Microsoft.Compute", &["virtualMachines".to_owned()]).expect("vm type");
        let ubuntu = json!({"name": "u", "properties": {"storageProfile": {"osDisk": {"osType": "Linux"}, "imageReference": {"publisher": "Canonical", "offer": "0001-com-ubuntu-server-jammy"}}, "publicIpAddress": "1.2.3.4"}});
        assert_eq!(attach_precondition(vm, &ubuntu), None);
        let mut private = ubuntu.clone();
        private["properties"]["publicIpAddress"] = json!("");
        assert!(
            attach_precondition(vm, &private).is_some_and(|message| message.contains("public IP"))
        );
        let windows = json!({"name": "w", "properties": {"storageProfile": {"osDisk": {"osType": "Windows"}, "imageReference": {"publisher": "MicrosoftWindowsServer", "offer": "WindowsServer"}}, "publicIpAddress": "1.2.3.4"}});
        assert!(
            attach_precondition(vm, &windows).is_some_and(|message| message.contains("Ubuntu"))
        );
    }

    #[test]
    fn every_underlying_type_the_catalogue_names_is_modelled() {
        let registry = model::schema::load_registry().expect("catalogue loads");
        let named: Vec<(&str, &str)> = registry
            .iter()
            .flat_map(|schema| {
                schema
                    .api
                    .underlying_types
                    .iter()
                    .map(|kind| (schema.type_name.as_str(), kind.as_str()))
            })
            .collect();
        assert!(
            !named.is_empty(),
            "no schema names an underlying resource type: the check below would prove nothing"
        );
        // Matched as `type_of` matches request paths: ARM types are case-insensitive.
        let missing: Vec<String> = named
            .iter()
            .filter(|(_, kind)| {
                !TYPES
                    .iter()
                    .any(|row| row.type_name.eq_ignore_ascii_case(kind))
            })
            .map(|(type_name, kind)| format!("`{type_name}` attaches `{kind}`"))
            .collect();
        assert!(
            missing.is_empty(),
            "the catalogue names underlying resource types that `underlying::TYPES` does not model:\n{}",
            missing.join("\n")
        );
    }
}
