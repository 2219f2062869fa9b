# Reattachment scenarios. Apply once, then change `vm_block` or `tls` and plan again:
#
#   amlplan apply --chdir examples/reattach --auto-approve
#   amlplan plan  --chdir examples/reattach --var vm_block=renamed   # detach old, then attach new
#   amlplan plan  --chdir examples/reattach --var tls=Disabled       # TLS change: detach, then attach
#
# Either way the VM / AKS cluster is never attached twice: the removal finishes before the new
# attachment starts.

terraform {
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

provider "azureml" {}

variable "vm_block" {
  type        = string
  description = "Which block attaches the VM: `original` or `renamed` (a rename across two blocks)."
  default     = "original"
}

variable "tls" {
  type        = string
  description = "TLS status of the inference cluster's scoring endpoint: `Auto` (a Microsoft certificate) or `Disabled`."
  default     = "Auto"
}

variable "vm_ssh_private_key" {
  type      = string
  sensitive = true
  default   = "-----BEGIN OPENSSH PRIVATE KEY-----\ndemo-key-for-the-emulator\n-----END OPENSSH PRIVATE KEY-----\n"
}

locals {
  vm_id  = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.Compute/virtualMachines/demo-ubuntu-vm"
  aks_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo-rg/providers/Microsoft.ContainerService/managedClusters/demo-aks"
}

resource "azureml_workspace" "main" {
  name                = "reattach-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}

resource "azureml_attached_virtual_machine" "original" {
  count           = var.vm_block == "original" ? 1 : 0
  name            = "train-vm"
  workspace_id    = azureml_workspace.main.id
  resource_id     = local.vm_id
  admin_username  = "azureuser"
  ssh_private_key = var.vm_ssh_private_key
}

resource "azureml_attached_virtual_machine" "renamed" {
  count           = var.vm_block == "renamed" ? 1 : 0
  name            = "train-vm-renamed"
  workspace_id    = azureml_workspace.main.id
  resource_id     = local.vm_id
  admin_username  = "azureuser"
  ssh_private_key = var.vm_ssh_private_key
}

resource "azureml_inference_cluster" "aks" {
  name         = "scoring"
  workspace_id = azureml_workspace.main.id
  resource_id  = local.aks_id
  ssl {
    status            = var.tls
    leaf_domain_label = var.tls == "Auto" ? "reattach-demo" : null
  }
}
