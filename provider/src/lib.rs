//! The Terraform provider plugin (protocol 6). Not built yet: see issue 4.
