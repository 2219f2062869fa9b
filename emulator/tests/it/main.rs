//! Integration tests of the emulator over real HTTP(S): each starts one in-process on
//! `127.0.0.1:0` (the durability test spawns the built binary) and talks to it with reqwest.

mod assets;
mod attach_rules;
mod auth;
mod computes;
mod durability;
mod faults;
mod harness;
mod jobs;
mod lro;
mod server;
mod underlying;
mod uploads;
mod workspaces;
