# A platform team's repository, in small: the shared parts (here `terraform_data` stands in
# for the azurerm resource group and network), one Azure ML workspace, and a module per team
# through `for_each`, each with its cluster and (a second level of modules) its environment.
#
#   terraform -chdir=examples/platform apply -target=terraform_data.network   # Terraform's part
#   amlplan --chdir examples/platform apply --auto-approve                     # the Azure ML part

terraform {
  required_version = ">= 1.4"
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

output "clusters" {
  value = { for team, outputs in module.team : team => outputs.cluster_id }
}
