//! A fleet for real: three `codex app-server` processes, each in a network namespace of its
//! own (a host), sharing threads through one PostgreSQL (started by `scripts/with-postgres`,
//! reached over each host's link). Threads created on one host are listed, read, resumed
//! and forked on the others; killing the server that owns a turn's lease lets another take
//! the thread over once the lease expires; 300 threads created at once across the three
//! are listed exactly once. And servers sharing one embedded `$CODEX_HOME`, started at the
//! same moment, all work (issue 13).
//!
//! Needs root (namespaces) and `CODEX_TEST_PG_URL`: run through `scripts/with-postgres`.

mod net;
mod server;

use crate::suite::harness::{input_contains, WAIT};
use codex_mock_model::{assistant_message, ev_created, ev_message_item_added, MockServer, Reply};
use net::Host;
use serde_json::{json, Value};
use server::AppServer;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;

/// Short leases keep the takeover fast; live servers renew every third of this.
const LEASE_TTL_MS: u64 = 1500;

/// A fresh database on the server `scripts/with-postgres` started; returns its name and
/// the server's loopback address.
async fn fresh_database() -> (String, SocketAddr) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("CODEX_TEST_PG_URL").expect(
        "CODEX_TEST_PG_URL is not set: run the fleet tests through scripts/with-postgres \
         (it starts a throwaway PostgreSQL)",
    );
    let config: tokio_postgres::Config = url.parse().expect("CODEX_TEST_PG_URL");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let name = format!(
        "fleet_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connecting to the test PostgreSQL");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating the test database");
    (name, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Three hosts with a server each on one PostgreSQL database, plus the mock model they all
/// use. Fields drop in order: servers before their hosts.
struct Fleet {
    servers: Vec<AppServer>,
    mock: MockServer,
    _work: TempDir,
    _homes: Vec<TempDir>,
    _hosts: Vec<Host>,
}

impl Fleet {
    async fn start() -> Fleet {
        let mock = MockServer::start().await.expect("mock model");
        let (database, pg) = fresh_database().await;
        let work = tempfile::tempdir().expect("work dir");
        let mut hosts = Vec::new();
        let mut homes = Vec::new();
        let mut servers = Vec::new();
        for name in ["A", "B", "C"] {
            let mut host = Host::new();
            let model = host.forward(mock.addr()).await;
            let db = host.forward(pg).await;
            // Each host has a home of its own: only the database is shared.
            let home = tempfile::tempdir().expect("CODEX_HOME");
            let overrides = vec![
                r#"model="mock-model""#.to_string(),
                r#"model_provider="mock""#.to_string(),
                format!(
                    r#"model_providers.mock={{name="mock", base_url="http://{model}/v1", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#
                ),
                r#"thread_store.backend="postgres""#.to_string(),
                format!(r#"thread_store.url="postgres://codex@{db}/{database}""#),
                format!("thread_store.lease_ttl_ms={LEASE_TTL_MS}"),
            ];
            servers.push(AppServer::spawn(
                name,
                Some(&host),
                home.path(),
                work.path(),
                &overrides,
            ));
            hosts.push(host);
            homes.push(home);
        }
        for server in &mut servers {
            server.initialize().await;
        }
        Fleet {
            servers,
            mock,
            _work: work,
            _homes: homes,
            _hosts: hosts,
        }
    }
}

/// The body of the newest model request (a `POST`) the mock received.
fn last_model_request(mock: &MockServer) -> Value {
    mock.requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST")
        .map(|r| r.body)
        .expect("a model request")
}

fn turn_texts(thread: &Value) -> String {
    thread["turns"].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_created_on_one_host_are_listed_read_resumed_and_forked_on_the_others() {
    let mut fleet = Fleet::start().await;
    let [a, b, c] = &mut fleet.servers[..] else {
        unreachable!()
    };

    let thread = a.start_thread().await;
    fleet
        .mock
        .enqueue(assistant_message("r1", "answer written on A"));
    let done = a.run_turn(&thread, "question asked on A").await;
    assert_eq!(done["status"], "completed", "{done}");

    // B lists and reads it, turns included; PostgreSQL threads have no rollout path.
    assert_eq!(b.list_all(25).await, vec![thread.clone()]);
    let listed = b.call("thread/list", json!({})).await;
    assert_eq!(listed["data"][0]["path"], Value::Null, "{listed}");
    assert_eq!(
        listed["data"][0]["preview"], "question asked on A",
        "{listed}"
    );
    let read = b
        .call(
            "thread/read",
            json!({"threadId": thread, "includeTurns": true}),
        )
        .await;
    assert!(
        turn_texts(&read["thread"]).contains("answer written on A"),
        "{read}"
    );

    // B resumes it and runs the next turn with A's history.
    b.call("thread/resume", json!({"threadId": thread})).await;
    fleet
        .mock
        .enqueue(assistant_message("r2", "answer written on B"));
    let done = b.run_turn(&thread, "question asked on B").await;
    assert_eq!(done["status"], "completed", "{done}");
    let request = last_model_request(&fleet.mock);
    assert!(input_contains(&request, "question asked on A"), "{request}");
    assert!(input_contains(&request, "answer written on A"), "{request}");

    // C forks it: the fork carries both turns.
    let forked = c.call("thread/fork", json!({"threadId": thread})).await;
    let fork = forked["thread"]["id"].as_str().unwrap().to_string();
    assert_eq!(forked["thread"]["forkedFromId"], thread.as_str());
    fleet
        .mock
        .enqueue(assistant_message("r3", "answer on the fork"));
    let done = c.run_turn(&fork, "question on the fork").await;
    assert_eq!(done["status"], "completed", "{done}");
    let request = last_model_request(&fleet.mock);
    assert!(input_contains(&request, "answer written on A"), "{request}");
    assert!(input_contains(&request, "answer written on B"), "{request}");

    // A still has the thread loaded from before B's turn: its next turn re-reads it.
    fleet.mock.enqueue(assistant_message("r4", "A again"));
    let done = a.run_turn(&thread, "back on A").await;
    assert_eq!(done["status"], "completed", "{done}");
    let request = last_model_request(&fleet.mock);
    assert!(input_contains(&request, "answer written on B"), "{request}");

    for server in [a, b, c] {
        let listed: HashSet<String> = server.list_all(1).await.into_iter().collect();
        let expected: HashSet<String> = [thread.clone(), fork.clone()].into();
        assert_eq!(listed, expected, "{}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_lease_owner_mid_turn_lets_another_host_take_over_after_expiry() {
    let mut fleet = Fleet::start().await;
    let [a, b, c] = &mut fleet.servers[..] else {
        unreachable!()
    };
    let thread = a.start_thread().await;
    // A's turn hangs in the model stream, holding (and renewing) the thread's lease.
    fleet.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r1"), ev_message_item_added("msg_r1")],
        gate: fleet.mock.gate(),
        after: Vec::new(),
    });
    a.start_turn(&thread, "a turn that never ends").await;
    fleet.mock.wait_for_gates_reached(1, WAIT).await.unwrap();
    // Past one renewal: a live owner keeps the thread beyond the first ttl.
    tokio::time::sleep(Duration::from_millis(LEASE_TTL_MS + 200)).await;

    let a_pid = a.pid();
    let refused = b
        .call_err(
            "turn/start",
            json!({"threadId": thread, "input": [{"type": "text", "text": "from B"}]}),
        )
        .await;
    assert_eq!(refused["code"], -32600, "{refused}");
    let message = refused["message"].as_str().unwrap_or_default().to_string();
    assert!(
        message.contains("has a running turn owned by") && message.contains(&format!("/{a_pid}/")),
        "the refusal names A's server: {message}"
    );

    a.kill9().await;
    // The lease ends at the instant the refusal named; nobody renews it any more.
    let expires_ms: u64 = message
        .split("expires at ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no expiry in {message}"));
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(
        expires_ms.saturating_sub(now_ms) + 100,
    ))
    .await;

    fleet.mock.enqueue(assistant_message("r2", "B took over"));
    let done = b.run_turn(&thread, "B's turn after the takeover").await;
    assert_eq!(done["status"], "completed", "{done}");

    // C sees the thread once, with B's turn completed last.
    assert_eq!(c.list_all(25).await, vec![thread.clone()]);
    let read = c
        .call(
            "thread/read",
            json!({"threadId": thread, "includeTurns": true}),
        )
        .await;
    let turns = read["thread"]["turns"].as_array().unwrap();
    let last = turns.last().unwrap();
    assert_eq!(last["status"], "completed", "{read}");
    assert!(last.to_string().contains("B took over"), "{read}");
    // And C may run the next turn: B released the lease at its turn's end.
    fleet.mock.enqueue(assistant_message("r3", "C goes on"));
    let done = c.run_turn(&thread, "C's turn").await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_creating_300_threads_at_once_list_exactly_300() {
    let mut fleet = Fleet::start().await;
    // All 300 requests are written before any answer is read: they run concurrently.
    let mut sent = Vec::new();
    for server in &mut fleet.servers {
        let mut ids = Vec::new();
        for _ in 0..100 {
            ids.push(server.request("thread/start", json!({})).await);
        }
        sent.push(ids);
    }
    let mut created = HashSet::new();
    for (server, ids) in fleet.servers.iter_mut().zip(sent) {
        for id in ids {
            let answer = server.response(&id).await;
            let thread = answer["result"]["thread"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: thread/start failed: {answer}", server.name));
            assert!(created.insert(thread.to_string()), "duplicate id {thread}");
        }
    }
    assert_eq!(created.len(), 300);
    for server in &mut fleet.servers {
        let listed = server.list_all(50).await;
        let unique: HashSet<String> = listed.iter().cloned().collect();
        assert_eq!(
            listed.len(),
            300,
            "{}: every thread exactly once",
            server.name
        );
        assert_eq!(unique, created, "{}", server.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_started_together_on_one_fresh_home_all_work() {
    let mock = MockServer::start().await.expect("mock model");
    mock.set_default(Some(assistant_message("rd", "done")));
    let overrides = vec![
        r#"model="mock-model""#.to_string(),
        r#"model_provider="mock""#.to_string(),
        format!(
            r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#,
            mock.url()
        ),
    ];
    let work = tempfile::tempdir().expect("work dir");
    // Issue 13: one start in 2.5 failed to open the index when servers raced on a fresh home.
    for round in 0..5 {
        let home = tempfile::tempdir().expect("CODEX_HOME");
        let mut servers: Vec<AppServer> = ["A", "B", "C"]
            .iter()
            .map(|n| AppServer::spawn(n, None, home.path(), work.path(), &overrides))
            .collect();
        for server in &mut servers {
            server.initialize().await;
        }
        let mut sent = Vec::new();
        for server in &mut servers {
            let mut ids = Vec::new();
            for _ in 0..20 {
                ids.push(server.request("thread/start", json!({})).await);
            }
            sent.push(ids);
        }
        let mut created = HashSet::new();
        let mut firsts = Vec::new();
        for (server, ids) in servers.iter_mut().zip(sent) {
            for (i, id) in ids.into_iter().enumerate() {
                let answer = server.response(&id).await;
                let thread = answer["result"]["thread"]["id"]
                    .as_str()
                    .unwrap_or_else(|| {
                        panic!(
                            "round {round}, {}: thread/start failed: {answer}",
                            server.name
                        )
                    })
                    .to_string();
                if i == 0 {
                    firsts.push(thread.clone());
                }
                created.insert(thread);
            }
        }
        // Every server writes a turn, at the same time, to the shared files and index.
        let mut turns = Vec::new();
        for (server, thread) in servers.iter_mut().zip(&firsts) {
            turns.push(server.start_turn(thread, "hello").await);
        }
        for (server, turn) in servers.iter_mut().zip(&turns) {
            let done = server.turn_completed(turn).await;
            assert_eq!(done["status"], "completed", "round {round}: {done}");
        }
        for server in &mut servers {
            let listed = server.list_threads(7).await;
            let ids: Vec<&str> = listed.iter().filter_map(|t| t["id"].as_str()).collect();
            let unique: HashSet<String> = ids.iter().map(|id| id.to_string()).collect();
            assert_eq!(ids.len(), 60, "round {round}, {}", server.name);
            assert_eq!(unique, created, "round {round}, {}", server.name);
            // Each turn's listing metadata is published at its end, whichever server ran it.
            for thread in &listed {
                let ran_a_turn = firsts.iter().any(|f| thread["id"] == f.as_str());
                let expected = if ran_a_turn { "hello" } else { "" };
                assert_eq!(
                    thread["preview"], expected,
                    "round {round}, {}: {thread}",
                    server.name
                );
            }
        }
    }
}
