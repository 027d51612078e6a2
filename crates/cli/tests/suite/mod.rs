//! Test modules: argument handling of every command, `codex exec` end to end, and a fleet
//! of app-servers sharing threads (PostgreSQL, and one embedded home).

mod args;
mod exec;
mod fleet;
pub mod harness;
mod listen;
