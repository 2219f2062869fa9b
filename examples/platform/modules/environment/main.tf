# A training environment from a base image.

terraform {
  required_providers {
    azureml = {
      source = "azureml.local/azureml/azureml"
    }
  }
}

variable "workspace_id" {
  type        = string
  description = "The workspace the environment belongs to."
}

variable "name" {
  type        = string
  description = "The environment's name."
}

variable "image" {
  type        = string
  description = "The base image."
}

resource "azureml_environment" "this" {
  name         = var.name
  workspace_id = var.workspace_id
  image        = var.image
}

output "id" {
  value = azureml_environment.this.id
}
