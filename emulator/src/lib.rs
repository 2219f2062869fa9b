//! A local Azure ML control plane: the ARM REST API of `reference/azureml-arm-api.md` over SQLite.
