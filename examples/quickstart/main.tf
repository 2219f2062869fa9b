# Quickstart: a workspace with a CPU cluster and a compute instance.
#
#   amlplan apply --chdir examples/quickstart --auto-approve     # embedded emulator, no cloud
#   terraform -chdir=examples/quickstart apply                   # with the provider installed
#
# With no `endpoint` set, both tools run the emulator in-process on
# `.azureml/emulator.db` in this folder (demo subscription, resource group `demo-rg`).

terraform {
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

provider "azureml" {
  subscription_id = var.subscription_id
}

variable "subscription_id" {
  type        = string
  description = "Subscription that holds the resource group."
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "prefix" {
  type        = string
  description = "Prefix of every name."
  default     = "quickstart"
}

variable "max_nodes" {
  type        = number
  description = "Upper bound of the cluster's nodes."
  default     = 4
}

locals {
  tags = {
    project = var.prefix
    managed = "amlplan"
  }
}

resource "azureml_workspace" "main" {
  name                = "${var.prefix}-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
  friendly_name       = "Quickstart workspace"
  tags                = local.tags
}

resource "azureml_compute_cluster" "cpu" {
  name                        = "cpu-cluster"
  workspace_id                = azureml_workspace.main.id
  vm_size                     = "STANDARD_DS3_V2"
  min_node_count              = 0
  max_node_count              = var.max_nodes
  idle_time_before_scale_down = "PT5M"
  tags                        = local.tags
}

resource "azureml_compute_instance" "dev" {
  name                      = "${var.prefix}-dev"
  workspace_id              = azureml_workspace.main.id
  vm_size                   = "STANDARD_DS3_V2"
  state                     = "Running"
  idle_time_before_shutdown = "PT30M"
}

output "workspace_id" {
  value = azureml_workspace.main.id
}

output "cluster_id" {
  value = azureml_compute_cluster.cpu.id
}
