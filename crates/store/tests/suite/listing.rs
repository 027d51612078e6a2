//! `list`: keyset pagination (never skips or repeats), filters, invalid cursors.

use std::collections::HashSet;
use std::path::PathBuf;

use codex_store::{ListQuery, SortKey, Store, StoreError};

use super::helpers::*;

fn collect_all(store: &Store, base: &ListQuery) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut query = base.clone();
    loop {
        let page = store.list(&query).unwrap();
        pages += 1;
        assert!(page.data.len() <= query.limit.unwrap_or(25) as usize);
        ids.extend(page.data.iter().map(|r| r.id.clone()));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
        assert!(pages < 10_000, "pagination does not terminate");
    }
    (ids, pages)
}

#[test]
fn pagination_over_1000_threads_with_identical_created_at() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let created = at(1_700_000_000);
    let mut expected = Vec::new();
    for i in 0..1000 {
        let id = format!("id-{:04}-{}", (i * 7919) % 1000, i);
        store.create_thread(new_thread(&id, "/w", created)).unwrap();
        expected.push(id);
    }
    let expected_set: HashSet<String> = expected.iter().cloned().collect();
    for sort_key in [SortKey::CreatedAt, SortKey::UpdatedAt] {
        for descending in [true, false] {
            let query = ListQuery {
                limit: Some(37),
                sort_key,
                descending,
                ..ListQuery::default()
            };
            let (ids, pages) = collect_all(&store, &query);
            assert_eq!(ids.len(), 1000, "{sort_key:?} desc={descending}");
            let set: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(set, expected_set, "no repeats, no skips");
            assert_eq!(pages, 1000_usize.div_ceil(37));
            // Order: by sort value, then id, in the requested direction.
            let records: Vec<(i64, String)> = ids
                .iter()
                .map(|id| {
                    let r = store.get(id).unwrap().unwrap();
                    let v = match sort_key {
                        SortKey::CreatedAt => r.created_at,
                        SortKey::UpdatedAt => r.updated_at,
                    };
                    (v, r.id)
                })
                .collect();
            let mut sorted = records.clone();
            sorted.sort();
            if descending {
                sorted.reverse();
            }
            assert_eq!(records, sorted);
        }
    }
}

#[test]
fn default_limit_is_25_and_max_is_200() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    for i in 0..210 {
        store
            .create_thread(new_thread(&format!("t{i:03}"), "/w", at(1000 + i)))
            .unwrap();
    }
    let page = store.list(&ListQuery::default()).unwrap();
    assert_eq!(page.data.len(), 25);
    assert_eq!(page.data[0].id, "t209", "newest first by default");
    assert!(page.next_cursor.is_some());
    let big = store
        .list(&ListQuery {
            limit: Some(10_000),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(big.data.len(), 200);
    let zero = store
        .list(&ListQuery {
            limit: Some(0),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(zero.data.len(), 1);
}

#[test]
fn last_page_has_no_cursor() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    for i in 0..4 {
        store
            .create_thread(new_thread(&format!("x{i}"), "/w", at(10 + i)))
            .unwrap();
    }
    let q = ListQuery {
        limit: Some(2),
        ..ListQuery::default()
    };
    let p1 = store.list(&q).unwrap();
    let p2 = store
        .list(&ListQuery {
            cursor: p1.next_cursor.clone(),
            ..q.clone()
        })
        .unwrap();
    assert_eq!(
        p2.data.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["x1", "x0"]
    );
    assert_eq!(p2.next_cursor, None);
    let empty = Store::open(tempfile::tempdir().unwrap().path()).unwrap();
    let p = empty.list(&ListQuery::default()).unwrap();
    assert!(p.data.is_empty() && p.next_cursor.is_none());
}

#[test]
fn invalid_cursor_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    for i in 0..3 {
        store
            .create_thread(new_thread(&format!("c{i}"), "/w", at(10 + i)))
            .unwrap();
    }
    for bad in ["garbage!", "", "Zm9v", "MjAyNnxhYmM"] {
        let r = store.list(&ListQuery {
            cursor: Some(bad.to_string()),
            ..ListQuery::default()
        });
        assert!(
            matches!(r, Err(StoreError::InvalidCursor(_))),
            "{bad:?}: {r:?}"
        );
    }
    // A cursor minted for one sort key is rejected for the other.
    let page = store
        .list(&ListQuery {
            limit: Some(1),
            ..ListQuery::default()
        })
        .unwrap();
    let r = store.list(&ListQuery {
        cursor: page.next_cursor,
        sort_key: SortKey::UpdatedAt,
        ..ListQuery::default()
    });
    assert!(matches!(r, Err(StoreError::InvalidCursor(_))));
}

#[test]
fn archived_cwd_provider_and_search_filters() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let mut a = new_thread("a", "/repo/one", at(100));
    a.model_provider = "openai".into();
    let mut b = new_thread("b", "/repo/two", at(200));
    b.model_provider = "ollama".into();
    let c = new_thread("c", "/repo/one", at(300));
    for t in [a, b, c] {
        store.create_thread(t).unwrap();
    }
    store
        .append("a", &[user_message("Fix the ÜBER parser")])
        .unwrap();
    store.append("b", &[user_item("write docs")]).unwrap();
    store.set_name("c", "Release Checklist").unwrap();
    store.archive("c").unwrap();

    let ids = |q: ListQuery| -> Vec<String> {
        store
            .list(&q)
            .unwrap()
            .data
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(ListQuery::default()), ["b", "a"]);
    assert_eq!(
        ids(ListQuery {
            archived: true,
            ..ListQuery::default()
        }),
        ["c"]
    );
    assert_eq!(
        ids(ListQuery {
            cwds: vec![PathBuf::from("/repo/one")],
            ..ListQuery::default()
        }),
        ["a"]
    );
    assert_eq!(
        ids(ListQuery {
            cwds: vec![PathBuf::from("/repo/one"), PathBuf::from("/repo/two")],
            descending: false,
            ..ListQuery::default()
        }),
        ["a", "b"]
    );
    assert_eq!(
        ids(ListQuery {
            model_providers: vec!["ollama".into()],
            ..ListQuery::default()
        }),
        ["b"]
    );
    assert_eq!(
        ids(ListQuery {
            search_term: Some("über".into()),
            ..ListQuery::default()
        }),
        ["a"],
        "case-insensitive, non-ASCII"
    );
    assert_eq!(
        ids(ListQuery {
            search_term: Some("DOCS".into()),
            ..ListQuery::default()
        }),
        ["b"]
    );
    assert_eq!(
        ids(ListQuery {
            archived: true,
            search_term: Some("checklist".into()),
            ..ListQuery::default()
        }),
        ["c"],
        "matches the name"
    );
    assert!(ids(ListQuery {
        search_term: Some("nothing".into()),
        ..ListQuery::default()
    })
    .is_empty());
    // Pagination with a filter still never repeats.
    let q = ListQuery {
        cwds: vec![PathBuf::from("/repo/one"), PathBuf::from("/repo/two")],
        limit: Some(1),
        ..ListQuery::default()
    };
    let p1 = store.list(&q).unwrap();
    let p2 = store
        .list(&ListQuery {
            cursor: p1.next_cursor.clone(),
            ..q.clone()
        })
        .unwrap();
    assert_eq!(p1.data[0].id, "b");
    assert_eq!(p2.data[0].id, "a");
    assert!(p2.next_cursor.is_none());
}

/// Six threads with distinct, old mtimes (so `updated_at` orders them `t0` < … < `t5`).
fn six_threads_with_old_mtimes() -> (tempfile::TempDir, Store, Vec<String>) {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let id = format!("t{i}");
        let rec = store
            .create_thread(new_thread(&id, "/w", at(1_700_000_000)))
            .unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000 + i * 100);
        std::fs::File::options()
            .append(true)
            .open(&rec.path)
            .unwrap()
            .set_modified(when)
            .unwrap();
        ids.push(id);
    }
    store.reconcile().unwrap();
    (home, store, ids)
}

#[test]
fn updated_at_paging_neither_repeats_nor_skips_rows_written_between_pages() {
    for descending in [false, true] {
        let (_home, store, ids) = six_threads_with_old_mtimes();
        let mut query = ListQuery {
            limit: Some(2),
            sort_key: SortKey::UpdatedAt,
            descending,
            ..ListQuery::default()
        };
        let first = store.list(&query).unwrap();
        let mut seen: Vec<String> = first.data.iter().map(|r| r.id.clone()).collect();
        let expected_first: Vec<String> = if descending {
            vec!["t5".into(), "t4".into()]
        } else {
            vec!["t0".into(), "t1".into()]
        };
        assert_eq!(seen, expected_first);
        // Ascending: a listed row jumps to the end; descending: an unlisted one jumps to the
        // front. Both would be listed twice / skipped if pages followed the moving value.
        let moved = "t0";
        store.append(moved, &[user_message("moves")]).unwrap();
        assert!(store.get(moved).unwrap().unwrap().updated_at > 1_600_000_600);
        query.cursor = first.next_cursor;
        while let Some(cursor) = query.cursor.take() {
            query.cursor = Some(cursor);
            let page = store.list(&query).unwrap();
            seen.extend(page.data.iter().map(|r| r.id.clone()));
            query.cursor = page.next_cursor;
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "repeats in {seen:?}");
        // Every row not written since the listing began is listed exactly once; the one
        // written since is left out of later pages (it was on page one ascending).
        let mut expected: Vec<String> = ids.clone();
        if descending {
            expected.retain(|id| id != moved);
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, expected, "desc={descending}");
        // A fresh listing sees the new order.
        let fresh = store
            .list(&ListQuery {
                limit: Some(1),
                sort_key: SortKey::UpdatedAt,
                descending: true,
                ..ListQuery::default()
            })
            .unwrap();
        assert_eq!(fresh.data[0].id, moved);
    }
}

#[test]
fn old_updated_at_cursor_without_as_of_is_still_accepted() {
    use base64::Engine;
    let (_home, store, _ids) = six_threads_with_old_mtimes();
    // The format of earlier versions: "u|<updated_at>|<id>".
    let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("u|1600000100|t1");
    let page = store
        .list(&ListQuery {
            limit: Some(10),
            sort_key: SortKey::UpdatedAt,
            descending: false,
            cursor: Some(old),
            ..ListQuery::default()
        })
        .unwrap();
    let ids: Vec<&str> = page.data.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["t2", "t3", "t4", "t5"]);
}
