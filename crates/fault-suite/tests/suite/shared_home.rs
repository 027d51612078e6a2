//! Several servers started at once on one fresh `$CODEX_HOME` (an editor and a CLI opening
//! together). Every server must work: its requests succeed, writes from all of them stay
//! consistent, and a listing from any of them sees every thread exactly once.
//!
//! Opening a fresh home is a race, so each size is tried several times.

use serde_json::json;

use super::harness::{Home, Mock, Server};

const TRIALS: usize = 10;
const THREADS_PER_SERVER: usize = 3;

async fn servers_share_a_fresh_home(count: usize) {
    let mock = Mock::start().await;
    mock.set_default(json!({"type": "message", "text": "shared answer"}))
        .await;
    for trial in 0..TRIALS {
        let home = Home::new();
        // Spawn all first so the processes open the store together.
        let mut servers: Vec<Server> = (0..count)
            .map(|_| Server::spawn(home.path(), home.cwd(), &mock, &[]))
            .collect();
        for server in &mut servers {
            server.initialize().await;
        }
        // Pipelined on every server before any reply is read.
        let mut pending = Vec::new();
        for (s, server) in servers.iter_mut().enumerate() {
            for _ in 0..THREADS_PER_SERVER {
                pending.push((s, server.request("thread/start", json!({})).await));
            }
            pending.push((s, server.request("thread/list", json!({})).await));
        }
        let mut created = Vec::new();
        for (s, id) in pending {
            let reply = servers[s].reply(&id).await;
            assert!(
                reply.get("result").is_some(),
                "trial {trial}: server {s} of {count} on a fresh home failed: {reply}\nstderr:\n{}",
                servers[s].stderr()
            );
            if let Some(thread) = reply["result"]["thread"]["id"].as_str() {
                created.push((s, thread.to_string()));
            }
        }
        created.sort();
        // Each server runs a turn on one of its own threads, concurrently.
        let mut turns = Vec::new();
        for (s, server) in servers.iter_mut().enumerate() {
            let (_, thread) = created
                .iter()
                .find(|(owner, _)| *owner == s)
                .expect("a thread of this server");
            turns.push((
                thread.clone(),
                server.start_turn(thread, &format!("from {s}")).await,
            ));
        }
        for (s, server) in servers.iter_mut().enumerate() {
            let done = server.turn_completed(&turns[s].1).await;
            assert_eq!(done["turn"]["status"], "completed", "{done}");
        }
        let mut expected: Vec<String> = created.iter().map(|(_, t)| t.clone()).collect();
        expected.sort();
        for (s, server) in servers.iter_mut().enumerate() {
            let mut listed = server.list_all(2).await;
            listed.sort();
            assert_eq!(
                listed, expected,
                "trial {trial}: server {s} of {count} lists"
            );
            // Every server reads every other server's turn from disk.
            for (other, (thread, _)) in turns.iter().enumerate() {
                let read = server.read_thread(thread).await;
                let prompt = &read["turns"][0]["items"][0]["content"][0]["text"];
                assert_eq!(prompt, &format!("from {other}"), "{read}");
            }
        }
        for server in servers {
            assert_eq!(server.close().await.code(), Some(0));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_fresh_home_all_work() {
    servers_share_a_fresh_home(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_on_one_fresh_home_all_work() {
    servers_share_a_fresh_home(3).await;
}
