//! Test modules: argument handling of every command, `codex exec` end to end, a fleet of
//! app-servers sharing threads (PostgreSQL, and one embedded home), listeners, and the
//! processes of a real `codex app-server` seen from outside.

mod args;
mod exec;
mod fleet;
pub mod harness;
mod listen;
mod processes;
