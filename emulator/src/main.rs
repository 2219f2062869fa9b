//! `azureml-emulator`: serves the emulator.
fn main() {}
