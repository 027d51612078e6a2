//! Test modules plus shared helpers.

mod batching;
mod concurrency;
mod durability;
mod fast_open;
mod helpers;
mod lifecycle;
mod listing;
mod names;
mod pagination_props;
mod reconcile;
mod robustness;
mod roundtrip;
mod shared_home;
mod structure;
mod thread_store;
