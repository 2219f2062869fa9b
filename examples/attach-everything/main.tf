# Every attachable kind, attached to one workspace: the resources are the emulator's demo seed
# (resource group `demo-rg`). Destroying this configuration detaches them; they stay alive.
#
#   amlplan apply --chdir examples/attach-everything --auto-approve

terraform {
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

provider "azureml" {}

variable "resource_group_id" {
  type        = string
  description = "ARM id of the resource group that holds the resources to attach."
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg"
}

# Demo credentials for the emulator's seeded resources. Pass real ones with TF_VAR_* or
# --var-file; they are write-only: never shown in plans, never stored in plaintext by amlplan.
variable "vm_ssh_private_key" {
  type      = string
  sensitive = true
  default   = "-----BEGIN OPENSSH PRIVATE KEY-----\ndemo-key-for-the-emulator\n-----END OPENSSH PRIVATE KEY-----\n"
}

variable "hdinsight_ssh_password" {
  type      = string
  sensitive = true
  default   = "Demo-Passw0rd!"
}

variable "databricks_access_token" {
  type      = string
  sensitive = true
  default   = "dapi-demo-token"
}

locals {
  rg = var.resource_group_id
}

resource "azureml_workspace" "main" {
  name                = "attach-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}

resource "azureml_attached_virtual_machine" "ubuntu" {
  name            = "ubuntu-vm"
  workspace_id    = azureml_workspace.main.id
  resource_id     = "${local.rg}/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm"
  admin_username  = "azureuser"
  ssh_private_key = var.vm_ssh_private_key
}

resource "azureml_attached_hdinsight" "hdi" {
  name           = "hdi"
  workspace_id   = azureml_workspace.main.id
  resource_id    = "${local.rg}/providers/Microsoft.HDInsight/clusters/demo-hdi"
  admin_username = "sshuser"
  admin_password = var.hdinsight_ssh_password
}

resource "azureml_attached_databricks" "dbx" {
  name                    = "databricks"
  workspace_id            = azureml_workspace.main.id
  resource_id             = "${local.rg}/providers/Microsoft.Databricks/workspaces/demo-databricks"
  databricks_access_token = var.databricks_access_token
}

resource "azureml_attached_data_lake_analytics" "adla" {
  name         = "adla"
  workspace_id = azureml_workspace.main.id
  resource_id  = "${local.rg}/providers/Microsoft.DataLakeAnalytics/accounts/demo-adla"
}

resource "azureml_attached_synapse_spark" "spark" {
  name         = "synapse-spark"
  workspace_id = azureml_workspace.main.id
  resource_id  = "${local.rg}/providers/Microsoft.Synapse/workspaces/demo-synapse/bigDataPools/demo-pool"
}

# One Arc cluster, two namespaces: Kubernetes is the one kind that may be attached twice.
resource "azureml_attached_kubernetes" "arc" {
  for_each     = toset(["training", "batch"])
  name         = "arc-${each.key}"
  workspace_id = azureml_workspace.main.id
  resource_id  = "${local.rg}/providers/Microsoft.Kubernetes/connectedClusters/demo-arc"
  namespace    = each.key
}

resource "azureml_inference_cluster" "aks" {
  name            = "inference"
  workspace_id    = azureml_workspace.main.id
  resource_id     = "${local.rg}/providers/Microsoft.ContainerService/managedClusters/demo-aks"
  cluster_purpose = "DevTest"
  ssl {
    status            = "Auto"
    leaf_domain_label = "attach-demo"
  }
}

output "attached" {
  value = [
    azureml_attached_virtual_machine.ubuntu.name,
    azureml_attached_hdinsight.hdi.name,
    azureml_attached_databricks.dbx.name,
    azureml_attached_data_lake_analytics.adla.name,
    azureml_attached_synapse_spark.spark.name,
    azureml_inference_cluster.aks.name,
  ]
}
