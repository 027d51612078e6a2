//! One handler per method, grouped by area. Each module's `register` adds its methods to the
//! [`HandlerTable`]; [`table`] is every method the server answers, and a test checks it
//! against the protocol's method table.
//!
//! # Adding a method
//! Add it to the protocol's method table (`codex_protocol::methods`), write its operation in
//! `codex_core::runtime`, then a handler here in the module of its area (`config`, `fs`,
//! `skills`, `review`, `mcp`, `command`, `search` get their own modules) and register it in
//! that module's `register`.

mod account;
mod command;
mod config;
mod fs;
mod history;
mod initialize;
mod mcp;
mod models;
mod review;
mod search;
mod skills;
pub(crate) mod subscriptions;
mod threads;
mod turns;

use crate::dispatch::HandlerTable;

/// Every method the server answers.
pub fn table() -> HandlerTable {
    let mut table = HandlerTable::default();
    initialize::register(&mut table);
    threads::register(&mut table);
    turns::register(&mut table);
    models::register(&mut table);
    account::register(&mut table);
    review::register(&mut table);
    subscriptions::register(&mut table);
    command::register(&mut table);
    mcp::register(&mut table);
    history::register(&mut table);
    config::register(&mut table);
    fs::register(&mut table);
    skills::register(&mut table);
    search::register(&mut table);
    table
}

#[cfg(test)]
mod tests {
    /// Every method of the protocol table has a handler: a missing one would silently answer
    /// -32601.
    #[test]
    fn every_client_request_has_a_handler() {
        let table = super::table();
        let missing: Vec<&str> = codex_protocol::methods::CLIENT_REQUESTS
            .iter()
            .map(|row| row.name)
            .filter(|name| !table.handles(name))
            .collect();
        assert!(missing.is_empty(), "methods without a handler: {missing:?}");
    }
}
