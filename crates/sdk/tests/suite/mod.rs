//! Scenarios: against our `codex` binary driven by the scripted mock model (`turns`,
//! `approvals`, `lifecycle`, `errors`, `blocking`), in-process (`embedded`), against a
//! scripted fake server over the in-memory transport (`fake_server`), and, with the
//! `conformance` feature, against the binary named by `CODEX_CONFORMANCE_BIN`
//! (`conformance`).

mod approvals;
mod blocking;
#[cfg(feature = "conformance")]
mod conformance;
mod embedded;
mod errors;
mod fake_server;
mod harness;
mod lifecycle;
mod turns;
