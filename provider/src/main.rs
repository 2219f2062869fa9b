//! `terraform-provider-azureml` entry point.
fn main() {}
