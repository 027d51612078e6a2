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
mod config;
mod fs;
mod initialize;
mod models;
mod search;
mod skills;
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
    config::register(&mut table);
    fs::register(&mut table);
    skills::register(&mut table);
    search::register(&mut table);
    table
}

#[cfg(test)]
mod tests {
    /// Methods of the protocol table whose libraries exist (`codex-mcp`, `codex-workspace`) but
    /// whose handlers are not written yet: until then they answer -32601. This list only shrinks:
    /// the test below fails for a method missing from both the table and this list, and for a
    /// method listed here that has a handler.
    const NOT_YET_SERVED: &[&str] = &[
        "mcpServerStatus/list",
        "mcpServer/tool/call",
        "mcpServer/resource/read",
        "config/mcpServer/reload",
    ];

    #[test]
    fn every_client_request_has_a_handler() {
        let table = super::table();
        let missing: Vec<&str> = codex_protocol::methods::CLIENT_REQUESTS
            .iter()
            .map(|row| row.name)
            .filter(|name| !table.handles(name) && !NOT_YET_SERVED.contains(name))
            .collect();
        assert!(missing.is_empty(), "methods without a handler: {missing:?}");
        let served: Vec<&&str> = NOT_YET_SERVED
            .iter()
            .filter(|name| table.handles(name))
            .collect();
        assert!(
            served.is_empty(),
            "served now, remove from NOT_YET_SERVED: {served:?}"
        );
        let unknown: Vec<&&str> = NOT_YET_SERVED
            .iter()
            .filter(|name| {
                !codex_protocol::methods::CLIENT_REQUESTS
                    .iter()
                    .any(|row| row.name == **name)
            })
            .collect();
        assert!(unknown.is_empty(), "not in the protocol table: {unknown:?}");
    }
}
