//! Integration test modules.

mod scenarios;
