//! Property test (issue 13) on PostgreSQL: any interleaving of creates, updates, archives and
//! page walks sees each thread exactly once. The cases share one database (each run tags its
//! ids; earlier runs' threads only add static rows to every walk).

use std::sync::atomic::{AtomicUsize, Ordering};

use codex_store::conformance::{pagination_interleaving, PageOp};
use proptest::prelude::*;

use super::*;

fn page_op() -> impl Strategy<Value = PageOp> {
    prop_oneof![
        3 => (0i64..4).prop_map(|s| PageOp::Create { created_at: 1_000 + s }),
        2 => any::<usize>().prop_map(PageOp::Update),
        1 => any::<usize>().prop_map(PageOp::Archive),
        1 => any::<usize>().prop_map(PageOp::Unarchive),
        1 => (0usize..2, any::<bool>(), any::<bool>(), 1u32..4).prop_map(
            |(walk, updated, descending, limit)| PageOp::Start { walk, updated, descending, limit }
        ),
        4 => (0usize..2).prop_map(PageOp::Step),
    ]
}

#[test]
fn any_interleaving_sees_each_thread_exactly_once() {
    let rt = runtime();
    let url = rt.block_on(fresh_database());
    let store = store(&url);
    let run_no = AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(page_op(), 1..60))| {
        let tag = format!("r{}", run_no.fetch_add(1, Ordering::Relaxed));
        rt.block_on(async {
            tokio::time::timeout(TIMEOUT, pagination_interleaving(&store, &tag, &ops))
                .await
                .expect("finished in time");
        });
    });
}
