//! 100,000 threads: the first page of every listing order is an index range scan (O(page),
//! no sort of the table), and the figures asked for in issue 15 (first page, create).

use std::time::{Duration, Instant};

use codex_store::conformance;
use codex_store::{ListQuery, SortKey, ThreadStore};

use super::*;

const THREADS: i64 = 100_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn first_page_at_100k_threads_reads_one_page_of_the_index() {
    run(async {
        let url = fresh_database().await;
        let store = store(&url);
        store.ready().await.unwrap();
        // Bulk rows straight in SQL (the store's own writes are measured below).
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .execute(
                "INSERT INTO codex_threads (id, created_at, updated_at, cwd, model_provider,
                     source, cli_version, originator, preview, next_ordinal, seq)
                 SELECT 'bulk-' || lpad(i::text, 6, '0'), 1700000000 + i / 10, 1700000000 + i,
                     '/w/' || (i % 10), 'openai', '\"vscode\"', '1', 'o', 'hello ' || i, 1, 0
                 FROM generate_series(1, $1::bigint) AS i",
                &[&THREADS],
            )
            .await
            .unwrap();
        client.batch_execute("ANALYZE codex_threads").await.unwrap();

        for (column, dir) in [
            ("created_at", "DESC"),
            ("updated_at", "DESC"),
            ("created_at", "ASC"),
        ] {
            let plan: Vec<String> = client
                .query(
                    &format!(
                        "EXPLAIN SELECT * FROM codex_threads WHERE archived = false
                         ORDER BY {column} {dir}, id {dir} LIMIT 26"
                    ),
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let plan = plan.join("\n");
            assert!(plan.contains("Index Scan"), "{plan}");
            assert!(
                !plan.contains("Sort") && !plan.contains("Seq Scan"),
                "{plan}"
            );
        }

        for sort_key in [SortKey::CreatedAt, SortKey::UpdatedAt] {
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                let page = store
                    .list(ListQuery {
                        sort_key,
                        ..ListQuery::default()
                    })
                    .await
                    .unwrap();
                times.push(t.elapsed());
                assert_eq!(page.data.len(), 25);
                assert!(page.next_cursor.is_some());
            }
            eprintln!(
                "postgres, {THREADS} threads: first page by {sort_key:?}: median {:?}",
                median(times)
            );
        }
        let mut creates = Vec::new();
        for i in 0..50 {
            let t = Instant::now();
            store
                .create_thread(conformance::new_thread(&format!("new-{i}"), 1_800_000_000))
                .await
                .unwrap();
            creates.push(t.elapsed());
        }
        eprintln!(
            "postgres, {THREADS} threads: create_thread: median {:?}",
            median(creates)
        );
        let mut appends = Vec::new();
        for i in 0..50 {
            let t = Instant::now();
            store
                .append(&format!("new-{i}"), vec![conformance::agent_output("x")])
                .await
                .unwrap();
            appends.push(t.elapsed());
        }
        eprintln!(
            "postgres, {THREADS} threads: append: median {:?}",
            median(appends)
        );
        let page = store.list(ListQuery::default()).await.unwrap();
        assert!(page.data[0].id.starts_with("new-"), "newest first");
    });
}
