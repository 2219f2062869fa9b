# A platform team's repository, in small: the shared parts (here `terraform_data` stands in
# for the azurerm resource group and network), one Azure ML workspace, and a module per team
# through `for_each`, each with its cluster and (a second level of modules) its environment.
# A second subscription, through the provider configuration `azureml.shared`, holds the
# workspace of the base environment every team starts from. Clusters created before this
# repository are adopted with an `import` block (`adopted_clusters`), and a `moved` block
# records an earlier rename.
#
#   terraform -chdir=examples/platform apply -target=terraform_data.network   # Terraform's part
#   amlplan --chdir examples/platform apply --auto-approve                     # the Azure ML part

terraform {
  required_version = ">= 1.7"
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

provider "azureml" {
  subscription_id = var.subscription_id
}

# The shared services subscription.
provider "azureml" {
  alias           = "shared"
  subscription_id = var.shared_subscription_id
}

variable "subscription_id" {
  type        = string
  description = "Subscription that holds the resource group."
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "shared_subscription_id" {
  type        = string
  description = "Subscription of the shared services (the emulator's second demo subscription)."
  default     = "00000000-0000-0000-0000-000000000001"
}

variable "teams" {
  type = map(object({
    max_nodes = number
    image     = optional(string, "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest")
  }))
  description = "One compute cluster and environment per team."
  default = {
    ml     = { max_nodes = 4 }
    vision = { max_nodes = 2 }
  }
}

# Stands in for `azurerm_resource_group` + network: Terraform applies it, amlplan reads it.
resource "terraform_data" "network" {
  input = {
    resource_group = "demo-rg"
    location       = "westeurope"
  }
}

resource "azureml_workspace" "main" {
  name                = "platform-${terraform.workspace}"
  resource_group_name = terraform_data.network.output.resource_group
  location            = terraform_data.network.output.location
  friendly_name       = "Platform workspace (${terraform.workspace})"
}

variable "office_hours" {
  type        = bool
  description = "Start the shared instance in the morning and stop it in the evening."
  default     = true
}

# A shared development instance whose schedules come from a `dynamic` block.
resource "azureml_compute_instance" "shared" {
  name         = "platform-dev"
  workspace_id = azureml_workspace.main.id
  vm_size      = "STANDARD_DS3_V2"

  dynamic "schedule" {
    for_each = var.office_hours ? ["Start", "Stop"] : []
    content {
      action          = schedule.value
      cron_expression = schedule.value == "Start" ? "0 8 * * 1-5" : "0 19 * * 1-5"
      time_zone       = "W. Europe Standard Time"
    }
  }
}

module "team" {
  source   = "./modules/team"
  for_each = var.teams

  workspace_id = azureml_workspace.main.id
  team         = each.key
  max_nodes    = each.value.max_nodes
  image        = each.value.image
}

# An earlier version of this repository called the workspace `platform`.
moved {
  from = azureml_workspace.platform
  to   = azureml_workspace.main
}

variable "adopted_clusters" {
  type = map(object({
    vm_size   = string
    max_nodes = number
  }))
  description = "Clusters created in the workspace before this repository, by name: adopted, not created."
  default     = {}
}

import {
  for_each = var.adopted_clusters
  to       = azureml_compute_cluster.adopted[each.key]
  id       = "${azureml_workspace.main.id}/computes/${each.key}"
}

resource "azureml_compute_cluster" "adopted" {
  for_each       = var.adopted_clusters
  name           = each.key
  workspace_id   = azureml_workspace.main.id
  vm_size        = each.value.vm_size
  max_node_count = each.value.max_nodes
}

# The shared workspace, in the other subscription, and the base environment in it.
resource "azureml_workspace" "shared" {
  provider            = azureml.shared
  name                = "shared-${terraform.workspace}"
  resource_group_name = "prod-rg"
  location            = "westeurope"
}

module "base_environment" {
  source = "./modules/environment"
  providers = {
    azureml = azureml.shared
  }

  workspace_id = azureml_workspace.shared.id
  name         = "base"
  image        = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
}

output "clusters" {
  value = { for team, outputs in module.team : team => outputs.cluster_id }
}

output "base_environment_id" {
  value = module.base_environment.id
}
