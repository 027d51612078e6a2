//! Test modules: argument handling of every command, `codex exec` end to end, and the
//! processes of a real `codex app-server` seen from outside.

mod args;
mod exec;
pub mod harness;
mod processes;
