//! Property test (issue 13): any interleaving of creates, updates, archives and page walks
//! sees each thread exactly once, on the embedded store.

use codex_store::conformance::{pagination_interleaving, PageOp};
use codex_store::EmbeddedStore;
use proptest::prelude::*;

pub fn page_op() -> impl Strategy<Value = PageOp> {
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

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_interleaving_sees_each_thread_exactly_once(
        ops in proptest::collection::vec(page_op(), 1..60)
    ) {
        let home = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::new(home.path());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(120),
                pagination_interleaving(&store, "p", &ops),
            )
            .await
            .expect("finished in time");
        });
    }
}
