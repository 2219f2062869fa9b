//! `amlplan`: reads Terraform-language configurations and plans/applies them through the engine.
