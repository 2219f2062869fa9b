//! An in-memory [`CloudApi`] for the engine's unit tests of pure-ish logic (apply ordering,
//! resource operations): objects kept as ARM bodies by id, every call logged with its start and
//! end, a configurable duration per write (the long-running operation, in tokio's clock, so
//! tests run with a paused clock), failures by id, and the service's attachment rule as the
//! real service behaves: a second attachment of one underlying resource in a workspace is
//! accepted and counted, not refused. Not a model of Azure: integration tests use the emulator.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value as Json;

use super::{
    ApiError, ApiFuture, ArmObject, CloudApi, UnderlyingResourceAction, from_arm, patch_body,
    resource_id, to_arm,
};
use crate::schema::{Collection, ResourceSchema};
use crate::value::ObjectValue;

/// One logged call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `PUT`, `PATCH`, `DELETE`, `POST`, `GET` or `LIST`.
    pub method: &'static str,
    /// The id (lowercase), or the parent for `LIST`.
    pub id: String,
    /// When it started and ended, in tokio's clock since the cloud was made.
    pub started: Duration,
    /// See `started`.
    pub ended: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<String, Json>,
    calls: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
    duplicate_attachments: usize,
}

/// The in-memory cloud.
#[derive(Debug)]
pub struct FakeCloud {
    inner: Mutex<Inner>,
    origin: tokio::time::Instant,
    /// How long each write (PUT, PATCH, DELETE, POST) takes.
    pub write_time: Duration,
    /// Writes to these ids (lowercase) fail with a 500 `InternalServerError`.
    pub failing: Vec<String>,
    /// How long writes to particular ids (lowercase) take, instead of `write_time`.
    pub durations: BTreeMap<String, Duration>,
}

impl Default for FakeCloud {
    fn default() -> FakeCloud {
        FakeCloud {
            inner: Mutex::default(),
            origin: tokio::time::Instant::now(),
            write_time: Duration::from_millis(10),
            failing: Vec::new(),
            durations: BTreeMap::new(),
        }
    }
}

const SUBSCRIPTION: &str = "s";

impl FakeCloud {
    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The most calls that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Attachments made while another attachment of the same underlying resource existed in
    /// the same workspace.
    pub fn duplicate_attachments(&self) -> usize {
        self.lock().duplicate_attachments
    }

    /// The stored body at `id`.
    pub fn get(&self, id: &str) -> Option<Json> {
        self.lock().objects.get(&id.to_ascii_lowercase()).cloned()
    }

    /// Stores `body` at `id` as if it existed before the test.
    pub fn insert(&self, id: &str, body: Json) {
        self.lock().objects.insert(id.to_ascii_lowercase(), body);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .expect("the fake cloud's lock is never poisoned")
    }

    /// Runs one write: logged, counted in flight, taking `write_time`, then `apply` under the
    /// lock (or a 500 for a failing id).
    async fn write<T>(
        &self,
        method: &'static str,
        id: String,
        apply: impl FnOnce(&mut Inner) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let started = self.origin.elapsed();
        {
            let mut inner = self.lock();
            inner.in_flight += 1;
            inner.max_in_flight = inner.max_in_flight.max(inner.in_flight);
        }
        tokio::time::sleep(*self.durations.get(&id).unwrap_or(&self.write_time)).await;
        let mut inner = self.lock();
        inner.in_flight -= 1;
        inner.calls.push(Call {
            method,
            id: id.clone(),
            started,
            ended: self.origin.elapsed(),
        });
        if self.failing.contains(&id) {
            return Err(ApiError::from_response(
                500,
                method,
                &id,
                br#"{"error":{"code":"InternalServerError","message":"injected"}}"#,
            ));
        }
        apply(&mut inner)
    }
}

fn workspace_of(id: &str) -> &str {
    id.rsplit_once("/computes/")
        .map_or(id, |(workspace, _)| workspace)
}

fn underlying(body: &Json) -> Option<String> {
    body.pointer("/properties/resourceId")
        .and_then(Json::as_str)
        .map(str::to_ascii_lowercase)
}

fn not_found(id: &str) -> ApiError {
    ApiError::from_response(
        404,
        "GET",
        id,
        br#"{"error":{"code":"ResourceNotFound","message":"not found"}}"#,
    )
}

impl CloudApi for FakeCloud {
    fn list<'a>(
        &'a self,
        parent_id: &'a str,
        collection: Collection,
    ) -> ApiFuture<'a, Vec<ArmObject>> {
        Box::pin(async move {
            let prefix = format!(
                "{}/{}/",
                parent_id.trim_end_matches('/').to_ascii_lowercase(),
                collection.segment()
            );
            let now = self.origin.elapsed();
            let mut inner = self.lock();
            inner.calls.push(Call {
                method: "LIST",
                id: prefix.clone(),
                started: now,
                ended: now,
            });
            Ok(inner
                .objects
                .iter()
                .filter(|(id, _)| id.starts_with(&prefix) && !id[prefix.len()..].contains('/'))
                .map(|(_, body)| ArmObject::from_body(body.clone()))
                .collect())
        })
    }

    fn read<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
    ) -> ApiFuture<'a, Option<ObjectValue>> {
        Box::pin(async move {
            let body = self.get(id);
            Ok(body.map(|body| from_arm(schema, &body)))
        })
    }

    fn create_or_update<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue> {
        Box::pin(async move {
            let id = resource_id(schema, object, Some(SUBSCRIPTION))
                .map_err(|error| ApiError::Decode {
                    url: schema.type_name.clone(),
                    detail: error.to_string(),
                })?
                .as_str()
                .to_owned();
            let mut body = to_arm(schema, object);
            body["id"] = Json::from(id.clone());
            body["name"] = Json::from(id.rsplit('/').next().unwrap_or_default());
            let key = id.to_ascii_lowercase();
            let stored = self
                .write("PUT", key.clone(), |inner| {
                    if let Some(resource) = underlying(&body) {
                        let workspace = workspace_of(&key);
                        let attached_elsewhere = inner.objects.iter().any(|(other, other_body)| {
                            other != &key
                                && workspace_of(other) == workspace
                                && underlying(other_body).as_ref() == Some(&resource)
                        });
                        if attached_elsewhere {
                            inner.duplicate_attachments += 1;
                        }
                    }
                    inner.objects.insert(key.clone(), body.clone());
                    Ok(body)
                })
                .await?;
            Ok(from_arm(schema, &stored))
        })
    }

    fn patch<'a>(
        &'a self,
        schema: &'a ResourceSchema,
        id: &'a str,
        object: &'a ObjectValue,
    ) -> ApiFuture<'a, ObjectValue> {
        Box::pin(async move {
            let key = id.to_ascii_lowercase();
            let patch = patch_body(schema, object);
            let stored = self
                .write("PATCH", key.clone(), |inner| {
                    let body = inner.objects.get_mut(&key).ok_or_else(|| not_found(id))?;
                    merge(body, &patch);
                    Ok(body.clone())
                })
                .await?;
            Ok(from_arm(schema, &stored))
        })
    }

    fn delete<'a>(
        &'a self,
        _schema: &'a ResourceSchema,
        id: &'a str,
        _action: UnderlyingResourceAction,
    ) -> ApiFuture<'a, ()> {
        Box::pin(async move {
            let key = id.to_ascii_lowercase();
            self.write("DELETE", key.clone(), |inner| {
                inner.objects.remove(&key);
                Ok(())
            })
            .await
        })
    }

    fn action<'a>(
        &'a self,
        _schema: &'a ResourceSchema,
        id: &'a str,
        _name: &'a str,
    ) -> ApiFuture<'a, ()> {
        Box::pin(async move {
            let key = id.to_ascii_lowercase();
            self.write("POST", key.clone(), |inner| {
                inner
                    .objects
                    .contains_key(&key)
                    .then_some(())
                    .ok_or_else(|| not_found(id))
            })
            .await
        })
    }

    /// `GET` and `PUT` of stored bodies at any path (the asset calls of environments).
    fn arm_call<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        _query: &'a [(&'a str, &'a str)],
        body: Option<&'a Json>,
    ) -> ApiFuture<'a, super::RawAnswer> {
        Box::pin(async move {
            let key = path.to_ascii_lowercase();
            let stored = match (method, body) {
                ("GET", _) => self.get(&key).ok_or_else(|| not_found(path))?,
                ("PUT", Some(body)) => {
                    self.write("PUT", key.clone(), |inner| {
                        inner.objects.insert(key.clone(), body.clone());
                        Ok(body.clone())
                    })
                    .await?
                }
                _ => {
                    return Err(ApiError::Decode {
                        url: path.to_owned(),
                        detail: format!("the fake cloud has no `{method}` call"),
                    });
                }
            };
            Ok(super::RawAnswer {
                status: 200,
                headers: Vec::new(),
                body: serde_json::to_vec(&stored).expect("JSON serializes"),
            })
        })
    }
}

/// JSON merge patch (RFC 7386) of `patch` into `target`.
fn merge(target: &mut Json, patch: &Json) {
    match (target, patch) {
        (Json::Object(target), Json::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Json::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}
