//! Integration test modules.

mod properties;
mod scenarios;
