"""Drives the emulator with the official Azure SDK for Python (DESIGN §7).

Clients: `azure-identity`'s `ClientSecretCredential` (client credentials through the emulator's
token endpoint, its authority being the emulator) and `azure-mgmt-machinelearningservices`'
`MachineLearningServicesMgmtClient` (the generated ARM client, api-version 2020-08-01).

Environment: EMULATOR_URL, EMULATOR_CA (the emulator's CA certificate, PEM), AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID, RESOURCE_GROUP, VM_ID.

Prints one JSON object on stdout: what each step returned, for the Rust test to assert on.
Exits 3 when a package is missing (the message names scripts/install-test-clients).
"""

import json
import os
import sys
import time

try:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.identity import ClientSecretCredential
    from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
    from azure.mgmt.machinelearningservices import models
except ImportError as error:  # pragma: no cover - reported to the Rust test
    print(f"missing Python package ({error}): run scripts/install-test-clients", file=sys.stderr)
    sys.exit(3)

URL = os.environ["EMULATOR_URL"].rstrip("/")
CA = os.environ["EMULATOR_CA"]
SUBSCRIPTION = os.environ["AZURE_SUBSCRIPTION_ID"]
GROUP = os.environ["RESOURCE_GROUP"]
VM_ID = os.environ["VM_ID"]
WORKSPACE = "sdk-mlw"
CLUSTER = "sdk-cluster"
VM = "sdk-vm"
PAGING_CLUSTERS = 22


def timed(steps, name, call):
    """Runs `call`, records how long it took under `steps[name]`, returns its result."""
    started = time.monotonic()
    result = call()
    steps[name] = round(time.monotonic() - started, 3)
    return result


def main():
    credential = ClientSecretCredential(
        tenant_id=os.environ["AZURE_TENANT_ID"],
        client_id=os.environ["AZURE_CLIENT_ID"],
        client_secret=os.environ["AZURE_CLIENT_SECRET"],
        authority=URL,
        # The emulator is not a known Microsoft cloud: skip MSAL's instance discovery (a call to
        # login.microsoftonline.com) and read the emulator's own OpenID configuration instead.
        disable_instance_discovery=True,
        connection_verify=CA,
    )
    client = MachineLearningServicesMgmtClient(
        credential,
        SUBSCRIPTION,
        base_url=URL,
        credential_scopes=[f"{URL}/.default"],
        connection_verify=CA,
        polling_interval=1,
    )
    out = {"seconds": {}}
    seconds = out["seconds"]

    token = credential.get_token(f"{URL}/.default")
    out["token"] = {"length": len(token.token), "expires_in": token.expires_on - int(time.time())}

    workspace = timed(
        seconds,
        "workspace",
        lambda: client.workspaces.begin_create_or_update(
            GROUP,
            WORKSPACE,
            models.Workspace(
                location="westeurope",
                friendly_name="SDK workspace",
                description="created by azure-mgmt-machinelearningservices",
                tags={"client": "python-sdk"},
            ),
        ).result(),
    )
    out["workspace"] = workspace.as_dict()

    cluster = timed(
        seconds,
        "cluster",
        lambda: client.machine_learning_compute.begin_create_or_update(
            GROUP,
            WORKSPACE,
            CLUSTER,
            models.ComputeResource(
                location="westeurope",
                properties=models.AmlCompute(
                    description="cluster from the SDK",
                    properties=models.AmlComputeProperties(
                        vm_size="STANDARD_DS3_V2",
                        vm_priority="Dedicated",
                        scale_settings=models.ScaleSettings(
                            max_node_count=2,
                            min_node_count=0,
                            node_idle_time_before_scale_down="PT120S",
                        ),
                    ),
                ),
            ),
        ).result(),
    )
    out["cluster"] = cluster.as_dict()

    vm = timed(
        seconds,
        "vm",
        lambda: client.machine_learning_compute.begin_create_or_update(
            GROUP,
            WORKSPACE,
            VM,
            models.ComputeResource(
                location="westeurope",
                properties=models.VirtualMachine(
                    resource_id=VM_ID,
                    properties=models.VirtualMachineProperties(
                        ssh_port=22,
                        administrator_account=models.VirtualMachineSshCredentials(
                            username="azureuser",
                            private_key_data="-----BEGIN OPENSSH PRIVATE KEY-----\nsdk-test-key\n-----END OPENSSH PRIVATE KEY-----\n",
                        ),
                    ),
                ),
            ),
        ).result(),
    )
    out["vm"] = vm.as_dict()

    out["list"] = sorted(
        compute.name for compute in client.machine_learning_compute.list_by_workspace(GROUP, WORKSPACE)
    )

    updated = timed(
        seconds,
        "update",
        lambda: client.machine_learning_compute.begin_update(
            GROUP,
            WORKSPACE,
            CLUSTER,
            models.ClusterUpdateParameters(
                scale_settings=models.ScaleSettings(
                    max_node_count=4,
                    min_node_count=1,
                    node_idle_time_before_scale_down="PT300S",
                )
            ),
        ).result(),
    )
    out["updated"] = updated.as_dict()
    out["cluster_after_update"] = client.machine_learning_compute.get(GROUP, WORKSPACE, CLUSTER).as_dict()

    out["vm_keys"] = client.machine_learning_compute.list_keys(GROUP, WORKSPACE, VM).as_dict()
    out["cluster_keys"] = client.machine_learning_compute.list_keys(GROUP, WORKSPACE, CLUSTER).as_dict()

    # Paging: enough small clusters for a second page (the emulator serves 20 computes a page).
    # The pollers run in the background, so the clusters are created concurrently.
    pollers = [
        client.machine_learning_compute.begin_create_or_update(
            GROUP,
            WORKSPACE,
            f"page{index:02}",
            models.ComputeResource(
                location="westeurope",
                properties=models.AmlCompute(
                    properties=models.AmlComputeProperties(
                        vm_size="Standard_D1_v2",
                        scale_settings=models.ScaleSettings(max_node_count=1, min_node_count=0),
                    )
                ),
            ),
        )
        for index in range(PAGING_CLUSTERS)
    ]
    out["paging_states"] = sorted({poller.result().properties.provisioning_state for poller in pollers})
    pages = [
        [compute.name for compute in page]
        for page in client.machine_learning_compute.list_by_workspace(GROUP, WORKSPACE).by_page()
    ]
    out["pages"] = [len(page) for page in pages]
    out["paged"] = sorted(name for page in pages for name in page)

    timed(
        seconds,
        "detach_vm",
        lambda: client.machine_learning_compute.begin_delete(
            GROUP, WORKSPACE, VM, underlying_resource_action="Detach"
        ).result(),
    )
    timed(
        seconds,
        "delete_cluster",
        lambda: client.machine_learning_compute.begin_delete(
            GROUP, WORKSPACE, CLUSTER, underlying_resource_action="Delete"
        ).result(),
    )
    gone = []
    for name in (VM, CLUSTER):
        try:
            client.machine_learning_compute.get(GROUP, WORKSPACE, name)
        except ResourceNotFoundError:
            gone.append(name)
    out["gone"] = gone
    out["list_after_delete"] = sorted(
        compute.name for compute in client.machine_learning_compute.list_by_workspace(GROUP, WORKSPACE)
    )
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
