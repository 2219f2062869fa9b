# One team: a CPU cluster that scales to zero, and the team's training environment.

terraform {
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

variable "workspace_id" {
  type        = string
  description = "The workspace the team's compute lives in."
}

variable "team" {
  type        = string
  description = "The team's short name (letters only)."
  validation {
    condition     = length(var.team) >= 2
    error_message = "A team name has at least two letters."
  }
}

variable "max_nodes" {
  type        = number
  description = "Upper bound of the team's cluster nodes."
  default     = 2
}

variable "image" {
  type        = string
  description = "The base image of the team's environment."
}

resource "azureml_compute_cluster" "cpu" {
  name                        = "${var.team}-cpu"
  workspace_id                = var.workspace_id
  vm_size                     = "STANDARD_DS3_V2"
  min_node_count              = 0
  max_node_count              = var.max_nodes
  idle_time_before_scale_down = "PT10M"
  tags = {
    team = var.team
  }
}

module "environment" {
  source       = "../environment"
  workspace_id = var.workspace_id
  name         = "${var.team}-train"
  image        = var.image
}

output "cluster_id" {
  value = azureml_compute_cluster.cpu.id
}

output "environment_id" {
  value = module.environment.id
}
