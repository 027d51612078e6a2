//! Thread store through the protocol: persistence across processes, read, list (pagination,
//! filters, sort, search), names, archive, resume and fork with history, crash safety.

use super::harness::{input_contains, Env, Server};
use codex_mock_model::assistant_message;
use codex_protocol::methods::{
    Method, ThreadArchive, ThreadArchived, ThreadFork, ThreadList, ThreadNameUpdated, ThreadRead,
    ThreadResume, ThreadSetName, ThreadStarted, ThreadUnarchive, ThreadUnarchived,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect()
}

fn rollout_path(thread: &Value) -> PathBuf {
    PathBuf::from(thread["path"].as_str().expect("thread.path"))
}

async fn read(server: &mut Server, id: &str, include_turns: bool) -> Value {
    server
        .call::<ThreadRead>(json!({"threadId": id, "includeTurns": include_turns}))
        .await["thread"]
        .clone()
}

#[tokio::test]
async fn thread_start_persists_before_any_turn() {
    let env = Env::new().await;
    let mut first = env.server(&[]).await;
    let started = first.start_thread_with(json!({})).await;
    let id = started["thread"]["id"].as_str().unwrap().to_string();
    let path = rollout_path(&started["thread"]);
    assert!(path.is_file(), "no rollout at {}", path.display());
    let rel = path
        .strip_prefix(env.home.path())
        .expect("rollout under CODEX_HOME");
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(parts[0], "sessions", "{rel:?}");
    assert_eq!(parts.len(), 5, "sessions/YYYY/MM/DD/file: {rel:?}");
    assert!(parts[4].starts_with("rollout-") && parts[4].ends_with(&format!("{id}.jsonl")));
    assert_eq!(first.close_and_wait().await.code(), Some(0));

    let mut second = env.server(&[]).await;
    let listed = second.call::<ThreadList>(json!({})).await;
    assert_eq!(ids(&listed), vec![id.clone()]);
    let thread = read(&mut second, &id, true).await;
    assert_eq!(thread["id"], id.as_str());
    assert_eq!(thread["turns"], json!([]));
    assert_eq!(thread["status"]["type"], "notLoaded", "{thread}");
}

#[tokio::test]
async fn kill_9_right_after_thread_start_keeps_the_thread() {
    let env = Env::new().await;
    let mut first = env.server(&[]).await;
    let id = first.start_thread().await;
    first.kill9().await;
    let mut second = env.server(&[]).await;
    assert_eq!(ids(&second.call::<ThreadList>(json!({})).await), vec![id]);
}

#[tokio::test]
async fn thread_read_with_and_without_turns() {
    let env = Env::new().await;
    env.mock
        .enqueue(assistant_message("r1", "The answer is 42."));
    let mut server = env.server(&[]).await;
    let id = server.start_thread().await;
    server.run_turn(&id, "What is the answer?").await;

    let bare = read(&mut server, &id, false).await;
    assert_eq!(bare["turns"], json!([]), "{bare}");
    assert_eq!(bare["preview"], "What is the answer?");

    let full = read(&mut server, &id, true).await;
    let turns = full["turns"].as_array().expect("turns");
    assert_eq!(turns.len(), 1, "{full}");
    assert_eq!(turns[0]["status"], "completed");
    let types: Vec<&str> = turns[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["userMessage", "agentMessage"], "{full}");
    assert_eq!(turns[0]["items"][1]["text"], "The answer is 42.");
    assert_eq!(
        turns[0]["items"][0]["content"][0]["text"],
        "What is the answer?"
    );

    let err = server
        .call_err(
            ThreadRead::NAME,
            json!({"threadId": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert!(err["code"].as_i64().unwrap() < 0, "{err}");
}

#[tokio::test]
async fn list_pages_never_skip_or_repeat() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    const N: usize = 60;
    let mut created = HashSet::new();
    // Pipelined: many threads share a creation second, which is the case that breaks naive
    // timestamp cursors.
    let mut pending = Vec::new();
    for _ in 0..N {
        pending.push(
            server
                .request(codex_protocol::methods::ThreadStart::NAME, json!({}))
                .await,
        );
    }
    for id in pending {
        let r = server.response(&id).await;
        created.insert(r["result"]["thread"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(created.len(), N);

    let default_page = server.call::<ThreadList>(json!({})).await;
    assert_eq!(ids(&default_page).len(), 25, "default page size");

    for direction in ["desc", "asc"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut params = json!({"limit": 7, "sortDirection": direction});
            if let Some(c) = &cursor {
                params["cursor"] = json!(c);
            }
            let page = server.call::<ThreadList>(params).await;
            let page_ids = ids(&page);
            assert!(page_ids.len() <= 7);
            seen.extend(page_ids);
            pages += 1;
            assert!(pages <= N, "pagination does not terminate");
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), N, "{direction}: repeated or skipped threads");
        assert_eq!(unique, created, "{direction}");
        assert_eq!(pages, N.div_ceil(7), "{direction}");
    }
}

#[tokio::test]
async fn list_sorts_by_created_and_updated_in_both_directions() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    for _ in 0..5 {
        server.start_thread().await;
    }
    for key in ["created_at", "updated_at"] {
        let field = if key == "created_at" {
            "createdAt"
        } else {
            "updatedAt"
        };
        let desc = server
            .call::<ThreadList>(json!({"sortKey": key, "sortDirection": "desc"}))
            .await;
        let asc = server
            .call::<ThreadList>(json!({"sortKey": key, "sortDirection": "asc"}))
            .await;
        let stamps: Vec<i64> = desc["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t[field].as_i64().expect("timestamp"))
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{key}: {stamps:?}");
        let mut reversed = ids(&asc);
        reversed.reverse();
        assert_eq!(
            ids(&desc),
            reversed,
            "{key}: asc is not the reverse of desc"
        );
        assert_eq!(ids(&desc).len(), 5);
    }
}

#[tokio::test]
async fn list_filters_by_cwd_and_search_term() {
    let env = Env::new().await;
    let a = env.work.path().join("project-a");
    let b = env.work.path().join("project-b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    env.mock.enqueue(assistant_message("r1", "ok"));
    let mut server = env.server(&[]).await;
    let in_a = server
        .start_thread_with(json!({"cwd": a.to_str().unwrap()}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let in_b = server
        .start_thread_with(json!({"cwd": b.to_str().unwrap()}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = server
        .call::<ThreadList>(json!({"cwd": a.to_str().unwrap()}))
        .await;
    assert_eq!(ids(&listed), vec![in_a.clone()]);
    let listed = server
        .call::<ThreadList>(json!({"cwd": [a.to_str().unwrap(), b.to_str().unwrap()]}))
        .await;
    assert_eq!(ids(&listed).len(), 2);

    // Search on names and on previews (the first user message).
    server
        .call::<ThreadSetName>(json!({"threadId": in_a, "name": "Alpha refactoring"}))
        .await;
    server.run_turn(&in_b, "fix the zebra crossing bug").await;
    let by_name = server
        .call::<ThreadList>(json!({"searchTerm": "refactor"}))
        .await;
    assert_eq!(ids(&by_name), vec![in_a.clone()]);
    let by_preview = server
        .call::<ThreadList>(json!({"searchTerm": "zebra"}))
        .await;
    assert_eq!(ids(&by_preview), vec![in_b.clone()]);
    let none = server
        .call::<ThreadList>(json!({"searchTerm": "no-such-words-anywhere"}))
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());
}

#[tokio::test]
async fn set_name_answers_notifies_and_persists() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let id = server.start_thread().await;
    let result = server
        .call::<ThreadSetName>(json!({"threadId": id, "name": "My thread"}))
        .await;
    assert_eq!(result, json!({}));
    let note = server.thread_notification::<ThreadNameUpdated>(&id).await;
    assert_eq!(note["threadName"], "My thread");
    assert_eq!(read(&mut server, &id, false).await["name"], "My thread");
    assert_eq!(server.close_and_wait().await.code(), Some(0));

    let mut again = env.server(&[]).await;
    assert_eq!(read(&mut again, &id, false).await["name"], "My thread");
    let listed = again.call::<ThreadList>(json!({})).await;
    assert_eq!(listed["data"][0]["name"], "My thread");
}

#[tokio::test]
async fn archive_and_unarchive_move_the_file_and_notify() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let id = server.start_thread().await;
    let keep = server.start_thread().await;
    let before = rollout_path(&read(&mut server, &id, false).await);
    assert!(before.is_file());

    let result = server.call::<ThreadArchive>(json!({"threadId": id})).await;
    assert_eq!(result, json!({}));
    server.thread_notification::<ThreadArchived>(&id).await;
    assert!(!before.exists(), "rollout still in sessions/ after archive");
    let archived_path = rollout_path(&read(&mut server, &id, false).await);
    assert!(archived_path.is_file());
    assert!(
        archived_path.starts_with(env.home.path().join("archived_sessions")),
        "{archived_path:?}"
    );

    assert_eq!(
        ids(&server.call::<ThreadList>(json!({})).await),
        vec![keep.clone()]
    );
    assert_eq!(
        ids(&server.call::<ThreadList>(json!({"archived": true})).await),
        vec![id.clone()]
    );

    let result = server
        .call::<ThreadUnarchive>(json!({"threadId": id}))
        .await;
    assert_eq!(result["thread"]["id"], id.as_str());
    server.thread_notification::<ThreadUnarchived>(&id).await;
    let restored = rollout_path(&result["thread"]);
    assert!(restored.is_file());
    assert!(
        restored.starts_with(env.home.path().join("sessions")),
        "{restored:?}"
    );
    assert!(!archived_path.exists());
    assert_eq!(
        ids(&server.call::<ThreadList>(json!({"archived": true})).await),
        Vec::<String>::new()
    );
    let mut all = ids(&server.call::<ThreadList>(json!({})).await);
    all.sort();
    let mut expected = vec![id, keep];
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn resume_after_restart_sends_the_full_history() {
    let env = Env::new().await;
    env.mock
        .enqueue(assistant_message("r1", "first answer from the model"));
    env.mock.enqueue(assistant_message("r2", "second answer"));
    let mut first = env.server(&[]).await;
    let id = first.start_thread().await;
    first.run_turn(&id, "first question").await;
    assert_eq!(first.close_and_wait().await.code(), Some(0));

    let mut second = env.server(&[]).await;
    let resumed = second.call::<ThreadResume>(json!({"threadId": id})).await;
    assert_eq!(resumed["thread"]["id"], id.as_str());
    assert_eq!(
        resumed["thread"]["turns"].as_array().unwrap().len(),
        1,
        "{resumed}"
    );
    let done = second.run_turn(&id, "second question").await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let bodies = env.wait_model_requests(2).await;
    let body = &bodies[1];
    assert!(input_contains(body, "first question"), "{body}");
    assert!(
        input_contains(body, "first answer from the model"),
        "{body}"
    );
    assert!(input_contains(body, "second question"), "{body}");
    let thread = read(&mut second, &id, true).await;
    assert_eq!(thread["turns"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn fork_gets_a_new_id_and_carries_history_into_its_first_request() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "source answer"));
    env.mock.enqueue(assistant_message("r2", "fork answer"));
    let mut server = env.server(&[]).await;
    let source = server.start_thread().await;
    server.run_turn(&source, "source question").await;

    let forked = server.call::<ThreadFork>(json!({"threadId": source})).await;
    let fork_id = forked["thread"]["id"].as_str().unwrap().to_string();
    assert_ne!(fork_id, source);
    assert_eq!(forked["thread"]["forkedFromId"], source.as_str());
    let started = server.notification::<ThreadStarted>().await;
    assert_eq!(started["thread"]["id"], fork_id.as_str());
    let turns = forked["thread"]["turns"].as_array().expect("turns");
    assert_eq!(
        turns.len(),
        1,
        "fork should carry the source turn: {forked}"
    );

    server.run_turn(&fork_id, "fork question").await;
    let bodies = env.wait_model_requests(2).await;
    let body = &bodies[1];
    assert!(input_contains(body, "source question"), "{body}");
    assert!(input_contains(body, "source answer"), "{body}");
    assert!(input_contains(body, "fork question"), "{body}");
    assert_eq!(
        body["prompt_cache_key"],
        fork_id.as_str(),
        "request belongs to the fork"
    );

    // The source is untouched by the fork's turn.
    let source_thread = read(&mut server, &source, true).await;
    assert_eq!(source_thread["turns"].as_array().unwrap().len(), 1);
    // Both survive a restart.
    assert_eq!(server.close_and_wait().await.code(), Some(0));
    let mut again = env.server(&[]).await;
    let fork = read(&mut again, &fork_id, true).await;
    assert_eq!(fork["forkedFromId"], source.as_str());
    assert_eq!(fork["turns"].as_array().unwrap().len(), 2, "{fork}");
}

#[tokio::test]
async fn kill_9_after_turn_completed_loses_nothing() {
    let env = Env::new().await;
    for i in 0..3 {
        env.mock.enqueue(assistant_message(
            &format!("r{i}"),
            &format!("answer number {i}"),
        ));
    }
    let mut first = env.server(&[]).await;
    let id = first.start_thread().await;
    for i in 0..3 {
        let done = first.run_turn(&id, &format!("question {i}")).await;
        assert_eq!(done["turn"]["status"], "completed");
    }
    first.kill9().await;

    let mut second = env.server(&[]).await;
    let thread = read(&mut second, &id, true).await;
    let turns = thread["turns"].as_array().expect("turns");
    assert_eq!(turns.len(), 3, "{thread}");
    for (i, turn) in turns.iter().enumerate() {
        assert_eq!(turn["status"], "completed", "{turn}");
        let texts: Vec<&str> = turn["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|it| it["text"].as_str())
            .collect();
        assert!(
            texts.contains(&format!("answer number {i}").as_str()),
            "{turn}"
        );
    }
}

/// A rollout in the official 0.163 line format (shapes from the reference captures, content
/// ours): session_meta, a turn with its response items and item_completed events.
fn official_rollout(id: &str, cwd: &str) -> String {
    let turn = "01a20a98-0000-7000-8000-00000000aaaa";
    let lines = [
        json!({"timestamp": "2026-11-23T22:48:42.697Z", "ordinal": 0, "type": "session_meta",
            "payload": {"session_id": id, "id": id, "timestamp": "2026-11-23T22:48:42.674Z",
                "cwd": cwd, "originator": "codex_python_sdk", "cli_version": "0.163.0",
                "source": "vscode", "model_provider": "mock",
                "base_instructions": {"text": "be brief"}}}),
        json!({"timestamp": "2026-11-23T22:48:42.697Z", "ordinal": 1, "type": "event_msg",
            "payload": {"type": "task_started", "turn_id": turn, "started_at": 1795474122,
                "model_context_window": 258400}}),
        json!({"timestamp": "2026-11-23T22:48:42.728Z", "ordinal": 2, "type": "response_item",
            "payload": {"type": "message", "id": "msg_u1", "role": "user",
                "content": [{"type": "input_text", "text": "official question"}]}}),
        json!({"timestamp": "2026-11-23T22:48:42.729Z", "ordinal": 3, "type": "event_msg",
            "payload": {"type": "item_completed", "thread_id": id, "turn_id": turn,
                "item": {"type": "UserMessage", "id": "01a20a98-e7e8-71c3-bb35-29f7272ba4d9",
                    "content": [{"type": "text", "text": "official question", "text_elements": []}]},
                "started_at_ms": 1795474122728i64, "completed_at_ms": 1795474122728i64}}),
        json!({"timestamp": "2026-11-23T22:48:42.760Z", "ordinal": 4, "type": "event_msg",
            "payload": {"type": "item_completed", "thread_id": id, "turn_id": turn,
                "item": {"type": "AgentMessage", "id": "msg_a1",
                    "content": [{"type": "Text", "text": "official answer"}]},
                "started_at_ms": 1795474122759i64, "completed_at_ms": 1795474122760i64}}),
        json!({"timestamp": "2026-11-23T22:48:42.761Z", "ordinal": 5, "type": "response_item",
            "payload": {"type": "message", "id": "msg_a1", "role": "assistant",
                "content": [{"type": "output_text", "text": "official answer"}]}}),
        json!({"timestamp": "2026-11-23T22:48:42.766Z", "ordinal": 6, "type": "event_msg",
            "payload": {"type": "task_complete", "turn_id": turn,
                "last_agent_message": "official answer", "started_at": 1795474122,
                "completed_at": 1795474122, "duration_ms": 72}}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[tokio::test]
async fn official_format_rollout_is_listed_read_and_resumed() {
    let env = Env::new().await;
    let id = "01a20a98-e7af-7890-9f8b-84cdc10a6897";
    let dir = env.home.path().join("sessions/2026/11/23");
    std::fs::create_dir_all(&dir).unwrap();
    let cwd = env.work.path().to_str().unwrap().to_string();
    std::fs::write(
        dir.join(format!("rollout-2026-11-23T22-48-42-{id}.jsonl")),
        official_rollout(id, &cwd),
    )
    .unwrap();
    env.mock.enqueue(assistant_message("r1", "our answer"));
    let mut server = env.server(&[]).await;
    let listed = server.call::<ThreadList>(json!({})).await;
    assert_eq!(ids(&listed), vec![id.to_string()]);
    assert_eq!(listed["data"][0]["preview"], "official question");
    let thread = read(&mut server, id, true).await;
    let turns = thread["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 1, "{thread}");
    assert_eq!(turns[0]["status"], "completed");
    let texts: Vec<&str> = turns[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["text"].as_str().or(i["content"][0]["text"].as_str()))
        .collect();
    assert_eq!(
        texts,
        vec!["official question", "official answer"],
        "{thread}"
    );

    server.call::<ThreadResume>(json!({"threadId": id})).await;
    server.run_turn(id, "our question").await;
    let body = &env.wait_model_requests(1).await[0];
    assert!(input_contains(body, "official question"), "{body}");
    assert!(input_contains(body, "official answer"), "{body}");
    assert_eq!(
        read(&mut server, id, true).await["turns"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn torn_last_line_is_skipped_and_appends_continue() {
    let env = Env::new().await;
    env.mock
        .enqueue(assistant_message("r1", "before the crash"));
    env.mock.enqueue(assistant_message("r2", "after the crash"));
    let mut first = env.server(&[]).await;
    let id = first.start_thread().await;
    first.run_turn(&id, "one").await;
    let path = rollout_path(&read(&mut first, &id, false).await);
    first.kill9().await;
    // A write cut short by the crash: half a JSON line, no newline.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(
        &mut file,
        br#"{"timestamp":"2026-11-23T22:48:42.761Z","ordinal":99,"type":"resp"#,
    )
    .unwrap();
    drop(file);

    let mut second = env.server(&[]).await;
    assert_eq!(
        ids(&second.call::<ThreadList>(json!({})).await),
        vec![id.clone()]
    );
    let thread = read(&mut second, &id, true).await;
    assert_eq!(thread["turns"].as_array().unwrap().len(), 1, "{thread}");
    let done = second.run_turn(&id, "two").await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    assert_eq!(second.close_and_wait().await.code(), Some(0));

    let mut third = env.server(&[]).await;
    let thread = read(&mut third, &id, true).await;
    let turns = thread["turns"].as_array().unwrap();
    assert_eq!(
        turns.len(),
        2,
        "the turn after the torn line was lost: {thread}"
    );
    assert_eq!(turns[1]["items"][1]["text"], "after the crash");
}

#[tokio::test]
async fn list_filters_by_source_kind_excluded_ids_and_originator_while_paginating() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(server.start_thread().await);
    }
    let excluded: Vec<&String> = ids.iter().take(3).collect();
    let mut seen = std::collections::HashSet::new();
    let mut cursor = serde_json::Value::Null;
    loop {
        let mut params = serde_json::json!({"limit": 3, "excludedThreadIds": excluded,
                                            "sourceKinds": ["vscode"]});
        if !cursor.is_null() {
            params["cursor"] = cursor.clone();
        }
        let page = server
            .call::<codex_protocol::methods::ThreadList>(params)
            .await;
        for t in page["data"].as_array().unwrap() {
            let id = t["id"].as_str().unwrap().to_string();
            assert!(!excluded.contains(&&id), "excluded {id} listed");
            assert!(seen.insert(id), "a thread was listed twice");
        }
        cursor = page["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    let none = server
        .call::<codex_protocol::methods::ThreadList>(serde_json::json!({"sourceKinds": ["cli"]}))
        .await;
    assert_eq!(none["data"], serde_json::json!([]));
    let other = server
        .call::<codex_protocol::methods::ThreadList>(
            serde_json::json!({"originators": ["somebody_else"]}),
        )
        .await;
    assert_eq!(other["data"], serde_json::json!([]));
}
