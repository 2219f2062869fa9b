//! The attachment race guard. Terraform may create a new attachment of a resource while (or,
//! with `create_before_destroy`, before) it removes the old one: a rename across two resource
//! blocks runs both in parallel. Azure ML keeps only the latest attachment of a resource and
//! breaks the earlier one, so attaching first would break the attachment about to be removed
//! and leave two records. Before attaching, the provider therefore waits, bounded, until no
//! other attachment of the same resource exists in the workspace; if one remains, it fails with
//! a message naming it. Never attach twice.
//!
//! Pure policy over listings; the caller supplies the (uncached) list call.

use std::future::Future;
use std::time::Duration;

use engine::schema::ResourceSchema;
use engine::value::{ObjectValue, Value};
use tokio::sync::watch;
use tokio::time::Instant;

/// How often the workspace is listed again while waiting.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Another attachment of the same underlying resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherAttachment {
    /// Its compute name in the workspace.
    pub name: String,
    /// Its ARM id, when known.
    pub id: Option<String>,
}

/// Why attaching did not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum GuardError<E: std::error::Error + 'static> {
    /// Another attachment is still there after the wait.
    #[error("`{resource}` is still attached as `{}` after waiting {}", names(others), humantime::format_duration(*waited))]
    StillAttached {
        /// The underlying resource's id.
        resource: String,
        /// The other attachments.
        others: Vec<OtherAttachment>,
        /// How long we waited.
        waited: Duration,
    },
    /// Listing the workspace failed.
    #[error("failed to list the workspace's computes")]
    List(#[source] E),
    /// Terraform asked the provider to stop (Ctrl-C).
    #[error("stopped while waiting for another attachment of `{resource}` to go away")]
    Stopped {
        /// The underlying resource's id.
        resource: String,
    },
}

fn names(others: &[OtherAttachment]) -> String {
    others
        .iter()
        .map(|other| other.name.as_str())
        .collect::<Vec<_>>()
        .join("`, `")
}

impl<E: std::error::Error + 'static> GuardError<E> {
    /// What to tell the user, as diagnostic detail.
    pub fn advice(&self) -> String {
        match self {
            GuardError::StillAttached {
                resource, others, ..
            } => format!(
                "`{resource}` is already attached to this workspace as `{names}`. Attaching it again would break \
                 that attachment: Azure ML keeps only the latest attachment of a resource.\n\
                 If this apply replaces or renames the attachment, the old one must be detached first: do not use \
                 `create_before_destroy` on attached compute (remove it from the `lifecycle` block). Otherwise \
                 detach `{names}` (or bring it into this configuration with `terraform import`) and apply again; \
                 `attach_wait_timeout` in the provider block sets how long attaching waits.",
                names = names(others)
            ),
            GuardError::List(_) | GuardError::Stopped { .. } => String::new(),
        }
    }
}

/// ARM ids compare case-insensitively, without a trailing slash.
fn same_id(left: &str, right: &str) -> bool {
    left.trim_end_matches('/')
        .eq_ignore_ascii_case(right.trim_end_matches('/'))
}

fn same_value(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::String(left), Value::String(right)) => same_id(left, right),
        _ => left == right && !left.is_null(),
    }
}

/// The underlying resource `desired` attaches, if it attaches one.
pub fn underlying_resource<'a>(
    schema: &ResourceSchema,
    desired: &'a ObjectValue,
) -> Option<&'a str> {
    schema
        .api
        .underlying_attribute
        .as_deref()
        .and_then(|attribute| desired.get_str(attribute))
}

/// Attachments in `existing` (the workspace's computes, any kind) of the same underlying
/// resource as `desired`, other than `desired` itself (same name). Two attachments are the same
/// when every attribute of the schema's attachment identity is equal (Kubernetes adds the
/// namespace, so one cluster may be attached once per namespace).
pub fn other_attachments(
    schema: &ResourceSchema,
    desired: &ObjectValue,
    existing: &[ObjectValue],
) -> Vec<OtherAttachment> {
    if underlying_resource(schema, desired).is_none() {
        return Vec::new();
    }
    let own_name = desired
        .get_str(&schema.api.name_attribute)
        .unwrap_or_default();
    existing
        .iter()
        .filter(|other| other.get_str(&schema.api.name_attribute) != Some(own_name))
        .filter(|other| {
            schema
                .api
                .attachment_identity
                .iter()
                .all(|attribute| same_value(desired.get(attribute), other.get(attribute)))
        })
        .map(|other| OtherAttachment {
            name: other
                .get_str(&schema.api.name_attribute)
                .unwrap_or("?")
                .to_owned(),
            id: other.get_str("id").map(str::to_owned),
        })
        .collect()
}

/// Waits until no other attachment of `desired`'s underlying resource exists, listing the
/// workspace with `list` every `poll` for at most `timeout`. Returns at once for kinds that do
/// not attach. A bump of `stop` (StopProvider) ends the wait.
pub async fn wait_until_alone<E, F, Fut>(
    schema: &ResourceSchema,
    desired: &ObjectValue,
    timeout: Duration,
    poll: Duration,
    mut stop: watch::Receiver<u64>,
    mut list: F,
) -> Result<(), GuardError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Vec<ObjectValue>, E>>,
{
    let Some(resource) = underlying_resource(schema, desired).map(str::to_owned) else {
        return Ok(());
    };
    let started = Instant::now();
    let deadline = started + timeout;
    stop.mark_unchanged();
    loop {
        let existing = list().await.map_err(GuardError::List)?;
        let others = other_attachments(schema, desired, &existing);
        if others.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(GuardError::StillAttached {
                resource,
                others,
                waited: now - started,
            });
        }
        tracing::info!(
            "`{resource}` is still attached as `{}`; waiting for it to be detached before attaching",
            names(&others)
        );
        let pause = poll.min(deadline - now);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            changed = stop.changed() => {
                if changed.is_ok() {
                    return Err(GuardError::Stopped { resource });
                }
                // The provider is gone; finish the wait without stop notifications.
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("listing failed")]
    struct ListFailed;

    fn vm_schema() -> ResourceSchema {
        engine::schema::load_registry()
            .expect("catalogue")
            .get("azureml_attached_virtual_machine")
            .expect("attached VM in the catalogue")
            .clone()
    }

    fn attachment(name: &str, resource: &str) -> ObjectValue {
        let mut object = ObjectValue::default();
        object.set("name", name.into());
        object.set("resource_id", resource.into());
        object.set("id", format!("/ws/computes/{name}").into());
        object
    }

    const VM: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm";

    #[test]
    fn finds_other_attachments_of_the_same_resource_only() {
        let schema = vm_schema();
        let desired = attachment("new-name", VM);
        let existing = vec![
            attachment("new-name", VM),
            attachment("old-name", &VM.to_uppercase()),
            attachment(
                "unrelated",
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/other",
            ),
        ];
        let others = other_attachments(&schema, &desired, &existing);
        assert_eq!(
            others,
            vec![OtherAttachment {
                name: "old-name".into(),
                id: Some("/ws/computes/old-name".into())
            }]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waits_for_the_old_attachment_to_go_away() {
        let schema = vm_schema();
        let desired = attachment("new-name", VM);
        let lists = Arc::new(Mutex::new(0));
        let counter = lists.clone();
        let stop = watch::channel(0).1;
        let result = wait_until_alone(
            &schema,
            &desired,
            Duration::from_secs(60),
            POLL_INTERVAL,
            stop,
            move || {
                let counter = counter.clone();
                async move {
                    let mut calls = counter.lock().expect("lock");
                    *calls += 1;
                    // The old attachment is detached by the third listing.
                    Ok::<_, ListFailed>(if *calls < 3 {
                        vec![attachment("old-name", VM)]
                    } else {
                        Vec::new()
                    })
                }
            },
        )
        .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(*lists.lock().expect("lock"), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn fails_naming_the_other_attachment_after_the_timeout() {
        let schema = vm_schema();
        let desired = attachment("new-name", VM);
        let stop = watch::channel(0).1;
        let error = wait_until_alone(
            &schema,
            &desired,
            Duration::from_secs(10),
            POLL_INTERVAL,
            stop,
            || async { Ok::<_, ListFailed>(vec![attachment("old-name", VM)]) },
        )
        .await
        .expect_err("still attached");
        assert!(
            matches!(error, GuardError::StillAttached { waited, .. } if waited >= Duration::from_secs(10))
        );
        assert!(error.to_string().contains("`old-name`"), "{error}");
        assert!(
            error.advice().contains("create_before_destroy"),
            "{}",
            error.advice()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stop_provider_ends_the_wait() {
        let schema = vm_schema();
        let desired = attachment("new-name", VM);
        let (stop_sender, stop) = watch::channel(0);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            stop_sender.send_modify(|generation| *generation += 1);
            // Keep the sender alive past the wait.
            tokio::time::sleep(Duration::from_secs(600)).await;
        });
        let error = wait_until_alone(
            &schema,
            &desired,
            Duration::from_secs(300),
            POLL_INTERVAL,
            stop,
            || async { Ok::<_, ListFailed>(vec![attachment("old-name", VM)]) },
        )
        .await
        .expect_err("stopped");
        assert!(matches!(error, GuardError::Stopped { .. }), "{error:?}");
    }
}
