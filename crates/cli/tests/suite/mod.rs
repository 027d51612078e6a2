//! Test modules: argument handling of every command, and `codex exec` end to end.

mod args;
mod exec;
pub mod harness;
mod listen;
