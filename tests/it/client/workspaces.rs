//! Resource groups and workspaces through the typed operations and through `CloudApi`.

use emulator::{DEMO_RESOURCE_GROUP, DEMO_SUBSCRIPTION};
use engine::api::{ArmClient, ArmId, CloudApi, UnderlyingResourceAction};
use engine::schema::Collection;
use engine::value::Value;
use pretty_assertions::assert_eq;

use super::{object, schema, serve};

#[tokio::test]
async fn resource_groups_are_put_and_read() {
    let served = serve(|_| {}).await;
    let client = served.client();
    assert!(
        client
            .get_resource_group(DEMO_SUBSCRIPTION, "new-rg")
            .await
            .expect("read")
            .is_none()
    );
    let group = client
        .put_resource_group(DEMO_SUBSCRIPTION, "new-rg", "westeurope")
        .await
        .expect("put");
    assert_eq!(group["location"], "westeurope");
    let read = client
        .get_resource_group(DEMO_SUBSCRIPTION, "new-rg")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(read["name"], "new-rg");
}

#[tokio::test]
async fn workspaces_are_created_patched_listed_and_deleted() {
    let served = serve(|_| {}).await;
    let client = served.client();
    let workspace = schema("azureml_workspace");
    let desired = object(&[
        ("name", "mlw-main".into()),
        ("resource_group_name", DEMO_RESOURCE_GROUP.into()),
        ("location", "westeurope".into()),
        ("friendly_name", "Main workspace".into()),
        ("description", "created by the client test".into()),
    ]);
    let created = client
        .create_or_update(workspace, &desired)
        .await
        .expect("created");
    let id = created.get_str("id").expect("id").to_owned();
    assert!(
        ArmClient::workspace_id(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP, "mlw-main").same_as(&id)
    );
    assert_eq!(created.get_str("name"), Some("mlw-main"));
    assert_eq!(
        created.get_str("resource_group_name"),
        Some(DEMO_RESOURCE_GROUP)
    );
    assert_eq!(created.get_str("friendly_name"), Some("Main workspace"));
    assert_eq!(created.get_str("provisioning_state"), Some("Succeeded"));

    // PATCH changes the patchable attributes in place.
    let mut changed = desired.clone();
    changed.set("friendly_name", "Renamed".into());
    changed.set(
        "tags",
        Value::Map([("env".to_owned(), Value::from("test"))].into()),
    );
    let patched = client
        .patch(workspace, &id, &changed)
        .await
        .expect("patched");
    assert_eq!(patched.get_str("friendly_name"), Some("Renamed"));
    assert_eq!(patched.get("tags"), changed.get("tags"));
    assert_eq!(
        client
            .read(workspace, &id)
            .await
            .expect("read")
            .expect("exists"),
        patched
    );

    // Listed by resource group, typed and through CloudApi.
    let second = super::workspace(&client, "mlw-second").await;
    let group = ArmId::resource_group_id(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP);
    let listed = client
        .list(group.as_str(), Collection::Workspaces)
        .await
        .expect("list");
    let mut names: Vec<&str> = listed.iter().map(|item| item.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["mlw-main", "mlw-second"]);
    assert_eq!(
        client
            .list_workspaces(DEMO_SUBSCRIPTION, DEMO_RESOURCE_GROUP)
            .await
            .expect("list")
            .len(),
        2
    );

    // Deleted (the compute action does not apply to workspaces) and gone.
    client
        .delete(workspace, &id, UnderlyingResourceAction::Delete)
        .await
        .expect("deleted");
    assert!(client.read(workspace, &id).await.expect("read").is_none());
    client.delete_workspace(&second).await.expect("deleted");
    assert!(client.get_workspace(&second).await.expect("read").is_none());
}
