# Training run: a workspace, a CPU cluster, an environment and a run of src/train.py.
#
#   amlplan apply --chdir examples/training-run --auto-approve   # embedded emulator, no cloud
#
# Apply snapshots `src/` (minus what `src/.amlignore` excludes), uploads only the files the
# workspace does not hold yet, submits the run and prints its log until it completes. Change a
# file under `src/` and plan again: one new run, caused by the snapshot hash.

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

variable "learning_rate" {
  type        = string
  description = "Passed to the run as a literal input (a change submits a new run)."
  default     = "0.1"
}

resource "azureml_workspace" "main" {
  name                = "training-mlw"
  resource_group_name = "demo-rg"
  location            = "westeurope"
}

resource "azureml_compute_cluster" "cpu" {
  name           = "cpu-cluster"
  workspace_id   = azureml_workspace.main.id
  vm_size        = "STANDARD_DS3_V2"
  min_node_count = 0
  max_node_count = 2
}

resource "azureml_environment" "python" {
  name         = "python-train"
  workspace_id = azureml_workspace.main.id
  image        = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
  environment_variables = {
    TRAINING_MODE = "demo"
  }
}

resource "azureml_run" "train" {
  workspace_id    = azureml_workspace.main.id
  experiment_name = "training-run"
  source_dir      = "src"
  script          = "train.py"
  arguments       = ["--epochs", "3"]
  compute_id      = azureml_compute_cluster.cpu.id
  environment_id  = azureml_environment.python.id
  inputs = {
    learning_rate = var.learning_rate
  }
  timeout = "5m"
}

output "run_status" {
  value = azureml_run.train.status
}

output "snapshot_hash" {
  value = azureml_run.train.snapshot_hash
}
