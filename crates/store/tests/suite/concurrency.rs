//! Concurrent appends from many OS threads: every line lands, ordinals strictly increase.

use std::sync::Arc;

use codex_store::Store;

use super::helpers::*;

#[test]
fn concurrent_appends_keep_ordinals_strictly_increasing() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let ids: Vec<String> = (0..4).map(|i| format!("conc-{i}")).collect();
    for id in &ids {
        store.create_thread(new_thread(id, "/w", at(7000))).unwrap();
    }
    let ids = Arc::new(ids);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            let ids = Arc::clone(&ids);
            std::thread::spawn(move || {
                for i in 0..50 {
                    let id = &ids[(w + i) % ids.len()];
                    store
                        .append(
                            id,
                            &[response_item(&format!("w{w}-{i}")), user_message("u")],
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut total = 0;
    for id in ids.iter() {
        let loaded = store.load(id).unwrap();
        assert!(loaded.skipped.is_empty());
        let ordinals: Vec<u64> = loaded.lines.iter().map(|l| l.ordinal.unwrap()).collect();
        assert!(
            ordinals.windows(2).all(|w| w[1] == w[0] + 1),
            "{ordinals:?}"
        );
        total += loaded.lines.len() - 1;
    }
    assert_eq!(total, 8 * 50 * 2);
}
