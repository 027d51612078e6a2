//! Test modules; `harness` holds the shared client/mock plumbing.

mod approvals;
mod exec;
mod harness;
mod patch;
mod sandbox;
mod tools;
