//! The service's attach rules (DESIGN §1): attach-only / create-only kinds, unknown compute types,
//! preconditions, detach vs delete, duplicate attachments, conflicting PUTs and body validation.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Harness, attach, cluster, compute_path, instance, resource_id};

async fn ready() -> Harness {
    let harness = Harness::start().await;
    harness.workspace().await;
    harness
}

#[tokio::test]
async fn attach_only_kinds_refuse_creation_and_create_only_kinds_refuse_a_resource_id() {
    let harness = ready().await;
    for kind in [
        "VirtualMachine",
        "HDInsight",
        "Databricks",
        "DataLakeAnalytics",
        "SynapseSpark",
        "Kubernetes",
    ] {
        let answer = harness
            .put(
                &compute_path("made"),
                json!({"properties": {"computeType": kind, "properties": {}}}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{kind}");
        assert_eq!(answer.code(), "BadRequest");
        assert!(
            answer.message().contains("can only be attached")
                && answer.message().contains("resourceId"),
            "{}",
            answer.message()
        );
    }
    for (kind, body) in [
        ("AmlCompute", cluster("STANDARD_DS3_V2", 1)),
        ("ComputeInstance", instance("STANDARD_DS3_V2")),
    ] {
        let mut body = body;
        body["properties"]["resourceId"] = json!(resource_id(
            "Microsoft.Compute/virtualMachines/demo-ubuntu-vm"
        ));
        let answer = harness.put(&compute_path("attached"), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{kind}");
        assert!(
            answer.message().contains("cannot be attached")
                && answer.message().contains("remove `properties.resourceId`"),
            "{}",
            answer.message()
        );
    }
    assert_eq!(
        harness.get(&compute_path("made")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_compute_types_are_explained() {
    let harness = ready().await;
    for (kind, hint) in [
        ("ContainerInstance", "deployed"),
        ("Batch", "v1 SDK"),
        ("Quantum", "AmlCompute"),
    ] {
        let answer = harness
            .put(
                &compute_path("odd"),
                json!({"properties": {"computeType": kind}}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{kind}");
        assert_eq!(answer.code(), "ValidationError");
        assert!(
            answer.message().contains(hint),
            "{kind}: {}",
            answer.message()
        );
    }
}

#[tokio::test]
async fn attach_preconditions() {
    let harness = ready().await;
    let cases = [
        (
            "VirtualMachine",
            "Microsoft.Compute/virtualMachines/no-such-vm",
            "UnderlyingResourceNotFound",
            "does not exist",
        ),
        (
            "VirtualMachine",
            "Microsoft.Compute/virtualMachines/demo-windows-vm",
            "AttachPreconditionFailed",
            "Ubuntu",
        ),
        (
            "VirtualMachine",
            "Microsoft.Compute/virtualMachines/demo-private-vm",
            "AttachPreconditionFailed",
            "public IP",
        ),
        (
            "VirtualMachine",
            "Microsoft.HDInsight/clusters/demo-hdi",
            "InvalidResourceId",
            "Microsoft.Compute/virtualMachines",
        ),
    ];
    for (kind, resource, code, text) in cases {
        let answer = harness
            .put(
                &compute_path("target"),
                attach(
                    kind,
                    resource,
                    json!({"administratorAccount": {"username": "u"}}),
                ),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{resource}: {answer:?}"
        );
        assert_eq!(answer.code(), code, "{resource}");
        assert!(
            answer.message().contains(text),
            "{resource}: {}",
            answer.message()
        );
    }
    // An HDInsight cluster without a public IP.
    let private_hdi = resource_id("Microsoft.HDInsight/clusters/private-hdi");
    assert_eq!(
        harness
            .put(
                &private_hdi,
                json!({"properties": {"clusterVersion": "5.1"}})
            )
            .await
            .status,
        StatusCode::CREATED
    );
    let answer = harness
        .put(
            &compute_path("hdi"),
            attach(
                "HDInsight",
                "Microsoft.HDInsight/clusters/private-hdi",
                json!({"administratorAccount": {"username": "u"}}),
            ),
        )
        .await;
    assert_eq!(answer.code(), "AttachPreconditionFailed");
    assert!(answer.message().contains("public IP"));
}

#[tokio::test]
async fn detach_keeps_the_resource_and_delete_is_refused_for_attachments() {
    let harness = ready().await;
    let body = attach(
        "VirtualMachine",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        json!({"administratorAccount": {"username": "u"}}),
    );
    assert_eq!(
        harness.put(&compute_path("my-vm"), body).await.status,
        StatusCode::CREATED
    );

    let missing = harness.delete(&compute_path("my-vm")).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.message().contains("underlyingResourceAction"));
    let wrong = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Remove",
            compute_path("my-vm")
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let delete = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Delete",
            compute_path("my-vm")
        ))
        .await;
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
    assert!(delete.message().contains("Detach"), "{}", delete.message());
    assert_eq!(
        harness.get(&compute_path("my-vm")).await.status,
        StatusCode::OK
    );

    let detach = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Detach",
            compute_path("my-vm")
        ))
        .await;
    assert_eq!(detach.status, StatusCode::ACCEPTED);
    assert_eq!(harness.wait(&detach).await, "Succeeded");
    assert_eq!(
        harness.get(&compute_path("my-vm")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        harness
            .get(&resource_id(
                "Microsoft.Compute/virtualMachines/demo-ubuntu-vm"
            ))
            .await
            .status,
        StatusCode::OK
    );
    // Deleting what is not there.
    let again = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Detach",
            compute_path("my-vm")
        ))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);

    // Managed kinds are deleted, not detached.
    harness
        .put(&compute_path("cpu"), cluster("STANDARD_DS3_V2", 1))
        .await;
    let detach = harness
        .delete(&format!(
            "{}?api-version=1&underlyingResourceAction=Detach",
            compute_path("cpu")
        ))
        .await;
    assert_eq!(detach.status, StatusCode::BAD_REQUEST);
    assert!(detach.message().contains("underlyingResourceAction=Delete"));
}

#[tokio::test]
async fn a_second_attachment_succeeds_and_breaks_the_first() {
    let mut harness = ready().await;
    let body = attach(
        "VirtualMachine",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        json!({"administratorAccount": {"username": "u"}}),
    );
    assert_eq!(
        harness
            .put(&compute_path("vm-first"), body.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let mut lower = body.clone();
    lower["properties"]["resourceId"] =
        json!(resource_id("Microsoft.Compute/virtualMachines/demo-ubuntu-vm").to_ascii_lowercase());
    let second = harness.put(&compute_path("vm-second"), lower).await;
    assert_eq!(second.status, StatusCode::CREATED, "{second:?}");

    let first = harness.get(&compute_path("vm-first")).await.body;
    assert_eq!(first["properties"]["provisioningState"], json!("Failed"));
    let error = first["properties"]["provisioningErrors"][0]["error"].clone();
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| message.contains("vm-second")),
        "{error}"
    );
    assert_eq!(
        harness.get(&compute_path("vm-second")).await.body["properties"]["provisioningState"],
        json!("Succeeded")
    );
    assert_eq!(harness.stats().await["duplicate_attachments"], json!(1));

    // Kubernetes: another namespace is another attachment; the same namespace is a duplicate.
    let k8s = |namespace: &str| {
        attach(
            "Kubernetes",
            "Microsoft.ContainerService/managedClusters/demo-aks",
            json!({"namespace": namespace}),
        )
    };
    harness.put(&compute_path("k8s-a"), k8s("a")).await;
    harness.put(&compute_path("k8s-b"), k8s("b")).await;
    assert_eq!(harness.stats().await["duplicate_attachments"], json!(1));
    harness.put(&compute_path("k8s-a-again"), k8s("a")).await;
    assert_eq!(harness.stats().await["duplicate_attachments"], json!(2));
    assert_eq!(
        harness.get(&compute_path("k8s-b")).await.body["properties"]["provisioningState"],
        json!("Succeeded")
    );

    // The counter is persistent.
    harness.restart().await;
    assert_eq!(harness.stats().await["duplicate_attachments"], json!(2));
}

#[tokio::test]
async fn reusing_a_name_with_another_type_or_resource_or_a_replace_only_change_is_refused() {
    let harness = ready().await;
    let account = json!({"administratorAccount": {"username": "u"}});
    harness
        .put(
            &compute_path("my-vm"),
            attach(
                "VirtualMachine",
                "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
                account.clone(),
            ),
        )
        .await;
    let other_type = harness
        .put(
            &compute_path("my-vm"),
            attach(
                "HDInsight",
                "Microsoft.HDInsight/clusters/demo-hdi",
                account.clone(),
            ),
        )
        .await;
    assert_eq!(other_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(other_type.code(), "Conflict");
    let other_resource = harness
        .put(
            &compute_path("my-vm"),
            attach(
                "VirtualMachine",
                "Microsoft.Compute/virtualMachines/demo-windows-vm",
                account.clone(),
            ),
        )
        .await;
    assert_eq!(other_resource.status, StatusCode::BAD_REQUEST);
    assert!(
        other_resource.message().contains("detach"),
        "{}",
        other_resource.message()
    );

    let mut port = attach(
        "VirtualMachine",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        account.clone(),
    );
    port["properties"]["properties"]["sshPort"] = json!(2222);
    let changed = harness.put(&compute_path("my-vm"), port).await;
    assert_eq!(changed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        changed.body["error"]["target"],
        json!("properties.properties.sshPort")
    );

    let mut tagged = attach(
        "VirtualMachine",
        "Microsoft.Compute/virtualMachines/demo-ubuntu-vm",
        account,
    );
    tagged["tags"] = json!({"owner": "me"});
    tagged["properties"]["description"] = json!("in place");
    let updated = harness.put(&compute_path("my-vm"), tagged).await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["tags"], json!({"owner": "me"}));
}

#[tokio::test]
async fn compute_bodies_are_validated_against_the_schema() {
    let harness = ready().await;
    let mut wrong = cluster("STANDARD_DS3_V2", 1);
    wrong["properties"]["properties"]["scaleSettings"]["maxNodeCount"] = json!("four");
    let answer = harness.put(&compute_path("cpu"), wrong).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["error"]["target"],
        json!("properties.properties.scaleSettings.maxNodeCount")
    );

    let missing = harness.put(&compute_path("cpu"), json!({"properties": {"computeType": "AmlCompute", "properties": {"scaleSettings": {"maxNodeCount": 1}}}})).await;
    assert_eq!(
        missing.body["error"]["target"],
        json!("properties.properties.vmSize")
    );

    let unknown = harness
        .put(
            &compute_path("cpu"),
            json!({"properties": {"computeType": "AmlCompute", "colour": "red"}}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.body["error"]["target"], json!("properties.colour"));

    let size = harness
        .put(&compute_path("cpu"), cluster("Standard_Imaginary", 1))
        .await;
    assert_eq!(size.code(), "InvalidVmSize");
    let name = harness
        .put(&compute_path("cpu-1"), cluster("STANDARD_DS3_V2", 1))
        .await;
    assert_eq!(name.status, StatusCode::BAD_REQUEST);
    assert!(name.message().contains("cpu-1"));
}
