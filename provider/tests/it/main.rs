//! Integration tests of the provider binary.
