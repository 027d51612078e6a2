//! A thread's history through the protocol: `thread/turns/list`, `thread/items/list`, the
//! response limit of `thread/read` / `thread/resume`, `thread/revert` (with `restoreFiles`),
//! `thread/delete`, `thread/metadata/update` and `thread/inject_items`.

use super::harness::{input_contains, input_texts, text_input, Env, Server};
use codex_mock_model::{
    assistant_message, custom_tool_call, ev_completed, ev_created, ev_message_item_added,
    ev_message_item_done, ev_output_text_delta, ev_reasoning_item, Reply, Usage,
};
use codex_protocol::methods::{
    Method, Notification, ThreadDelete, ThreadDeleted, ThreadInjectItems, ThreadItemsList,
    ThreadList, ThreadMetadataUpdate, ThreadRead, ThreadResume, ThreadRevert, ThreadReverted,
    ThreadStatusChanged, TurnStart,
};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// Runs one turn per question; each answer is "answer to <question>". Returns the turn ids.
async fn run_turns(
    env: &Env,
    server: &mut Server,
    thread: &str,
    questions: &[&str],
) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, q) in questions.iter().enumerate() {
        env.mock.enqueue(assistant_message(
            &format!("a{i}-{q}"),
            &format!("answer to {q}"),
        ));
        let done = server.run_turn(thread, q).await;
        assert_eq!(done["turn"]["status"], "completed", "{done}");
        ids.push(done["turn"]["id"].as_str().unwrap().to_string());
    }
    ids
}

fn turn_ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn item_types(turn: &Value) -> Vec<String> {
    turn["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap().to_string())
        .collect()
}

/// Every user and agent text of a thread's turns, in order.
fn texts(thread: &Value) -> Vec<String> {
    thread["turns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["items"].as_array().unwrap().clone())
        .filter_map(|i| match i["type"].as_str() {
            Some("userMessage") => Some(i["content"][0]["text"].as_str()?.to_string()),
            Some("agentMessage") => Some(i["text"].as_str()?.to_string()),
            _ => None,
        })
        .collect()
}

async fn turns_list(server: &mut Server, params: Value) -> Value {
    let id = server.request("thread/turns/list", params).await;
    let msg = server.response(&id).await;
    msg.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("thread/turns/list failed: {msg}"))
}

async fn read_turns(server: &mut Server, thread: &str) -> Value {
    server
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": true}))
        .await["thread"]
        .clone()
}

/// A response with a reasoning item before the answer: `full` shows both, `summary` the answer.
fn reasoned_answer(response_id: &str, text: &str) -> Reply {
    let item = format!("msg_{response_id}");
    Reply::Sse(vec![
        ev_created(response_id),
        ev_reasoning_item(&format!("rs_{response_id}"), "thinking it over"),
        ev_message_item_added(&item),
        ev_output_text_delta(&item, text),
        ev_message_item_done(&item, text),
        ev_completed(response_id, Usage::default()),
    ])
}

#[tokio::test]
async fn turns_list_pages_newest_first_in_summary_view_with_opaque_cursors() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let mut turns = run_turns(&env, &mut server, &thread, &["q1"]).await;
    env.mock.enqueue(reasoned_answer("r2", "answer to q2"));
    turns.push(
        server.run_turn(&thread, "q2").await["turn"]["id"]
            .as_str()
            .unwrap()
            .into(),
    );
    turns.extend(run_turns(&env, &mut server, &thread, &["q3"]).await);

    // Default: every turn, newest first, each with its user message and final answer.
    let all = turns_list(&mut server, json!({"threadId": thread})).await;
    assert_eq!(
        turn_ids(&all),
        vec![turns[2].clone(), turns[1].clone(), turns[0].clone()]
    );
    assert_eq!(all["nextCursor"], Value::Null);
    let second = &all["data"][1];
    assert_eq!(second["itemsView"], "summary");
    assert_eq!(item_types(second), vec!["userMessage", "agentMessage"]);
    let full = turns_list(
        &mut server,
        json!({"threadId": thread, "itemsView": "full"}),
    )
    .await;
    assert_eq!(
        item_types(&full["data"][1]),
        vec!["userMessage", "reasoning", "agentMessage"]
    );
    assert_eq!(full["data"][1]["itemsView"], "full");
    let bare = turns_list(
        &mut server,
        json!({"threadId": thread, "itemsView": "notLoaded"}),
    )
    .await;
    assert_eq!(bare["data"][0]["items"], json!([]));
    assert_eq!(bare["data"][0]["status"], "completed");

    // One at a time: the cursors walk back to the first turn, then stop.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = turns_list(
            &mut server,
            json!({"threadId": thread, "limit": 1, "cursor": cursor}),
        )
        .await;
        seen.extend(turn_ids(&page));
        assert!(page["nextCursor"].is_null() || page["nextCursor"].is_string());
        if page["nextCursor"].is_null() {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    assert_eq!(
        seen,
        vec![turns[2].clone(), turns[1].clone(), turns[0].clone()]
    );

    // The backwards cursor of a page, used ascending, starts at (and includes) its first turn.
    let newest = turns_list(&mut server, json!({"threadId": thread, "limit": 1})).await;
    let middle = turns_list(
        &mut server,
        json!({"threadId": thread, "limit": 1, "cursor": newest["nextCursor"]}),
    )
    .await;
    assert_eq!(turn_ids(&middle), vec![turns[1].clone()]);
    let forward = turns_list(
        &mut server,
        json!({"threadId": thread, "sortDirection": "asc", "cursor": middle["backwardsCursor"]}),
    )
    .await;
    assert_eq!(turn_ids(&forward), vec![turns[1].clone(), turns[2].clone()]);
    assert_eq!(forward["nextCursor"], Value::Null);
    let oldest = turns_list(
        &mut server,
        json!({"threadId": thread, "sortDirection": "asc", "limit": 2}),
    )
    .await;
    assert_eq!(turn_ids(&oldest), vec![turns[0].clone(), turns[1].clone()]);

    // Errors.
    let bad = server
        .call_err(
            "thread/turns/list",
            json!({"threadId": thread, "cursor": "garbage"}),
        )
        .await;
    assert_eq!(bad["code"], -32600);
    assert_eq!(bad["message"], "invalid cursor: garbage");
    let items_page = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "limit": 1}))
        .await;
    let wrong_kind = server
        .call_err(
            "thread/turns/list",
            json!({"threadId": thread, "cursor": items_page["nextCursor"]}),
        )
        .await;
    assert!(
        wrong_kind["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid cursor"),
        "{wrong_kind}"
    );
    let unknown = server
        .call_err(
            "thread/turns/list",
            json!({"threadId": "0199a0b6-0000-7000-8000-00000000beef"}),
        )
        .await;
    assert_eq!(unknown["code"], -32600);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{unknown}"
    );
}

#[tokio::test]
async fn items_list_pages_oldest_first_with_turns_times_and_item_anchors() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turns = run_turns(&env, &mut server, &thread, &["q1", "q2"]).await;

    let all = server
        .call::<ThreadItemsList>(json!({"threadId": thread}))
        .await;
    let entries = all["data"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    let owners: Vec<&str> = entries
        .iter()
        .map(|e| e["turnId"].as_str().unwrap())
        .collect();
    assert_eq!(owners, vec![&turns[0], &turns[0], &turns[1], &turns[1]]);
    assert_eq!(entries[0]["item"]["type"], "userMessage");
    assert_eq!(entries[3]["item"]["text"], "answer to q2");
    for e in entries {
        assert!(e["startedAtMs"].as_i64().unwrap() > 0, "{e}");
        assert!(e["completedAtMs"].as_i64().unwrap() >= e["startedAtMs"].as_i64().unwrap());
    }
    assert_eq!(all["nextCursor"], Value::Null);

    // Pages of three, then one; the backwards cursor goes back over the same items.
    let first = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "limit": 3}))
        .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    let rest = server
        .call::<ThreadItemsList>(
            json!({"threadId": thread, "limit": 3, "cursor": first["nextCursor"]}),
        )
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0], entries[3]);
    assert_eq!(rest["nextCursor"], Value::Null);
    let back = server
        .call::<ThreadItemsList>(
            json!({"threadId": thread, "sortDirection": "desc", "cursor": rest["backwardsCursor"]}),
        )
        .await;
    let back_items: Vec<Value> = back["data"].as_array().unwrap().clone();
    assert_eq!(
        back_items.len(),
        4,
        "includes the anchor, then everything before it"
    );
    assert_eq!(back_items[0], entries[3]);
    assert_eq!(back_items[3], entries[0]);

    // One turn; an item anchor is exclusive in both directions.
    let one = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "turnId": turns[1]}))
        .await;
    assert_eq!(one["data"].as_array().unwrap().len(), 2);
    let user_item = one["data"][0]["item"]["id"].clone();
    let after = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "turnId": turns[1], "cursor": {"type": "item", "itemId": user_item}}))
        .await;
    assert_eq!(after["data"].as_array().unwrap().len(), 1);
    assert_eq!(after["data"][0]["item"]["text"], "answer to q2");
    let before = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "turnId": turns[1], "sortDirection": "desc", "cursor": {"type": "item", "itemId": user_item}}))
        .await;
    assert_eq!(before["data"], json!([]));
    assert_eq!(before["nextCursor"], Value::Null);
    assert_eq!(before["backwardsCursor"], Value::Null);

    // Errors.
    let no_turn = server
        .call_err(
            "thread/items/list",
            json!({"threadId": thread, "cursor": {"type": "item", "itemId": user_item}}),
        )
        .await;
    assert_eq!(no_turn["code"], -32602);
    assert_eq!(
        no_turn["message"],
        "turnId is required when cursor is an item anchor"
    );
    let unknown_turn = server
        .call_err(
            "thread/items/list",
            json!({"threadId": thread, "turnId": "nope"}),
        )
        .await;
    assert_eq!(unknown_turn["message"], "turn not found: nope");
    let unknown_item = server
        .call_err("thread/items/list", json!({"threadId": thread, "turnId": turns[0], "cursor": {"type": "item", "itemId": "nope"}}))
        .await;
    assert!(
        unknown_item["message"]
            .as_str()
            .unwrap()
            .starts_with("item not found: nope"),
        "{unknown_item}"
    );
    let bad = server
        .call_err(
            "thread/items/list",
            json!({"threadId": thread, "cursor": "garbage"}),
        )
        .await;
    assert_eq!(bad["message"], "invalid cursor: garbage");
}

#[tokio::test]
async fn oversized_read_and_resume_fail_clearly_and_paged_methods_still_work() {
    let env = Env::new().await;
    let limit = 16 * 1024;
    let setting = format!("app_server.max_response_bytes={limit}");
    let mut server = env.server(&[&setting]).await;
    let thread = server.start_thread().await;
    let long = "word ".repeat(5_000);
    env.mock.enqueue(assistant_message("big", &long));
    server.run_turn(&thread, "say a lot").await;

    let err = server
        .call_err(
            "thread/read",
            json!({"threadId": thread, "includeTurns": true}),
        )
        .await;
    assert_eq!(err["code"], -32600);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("app_server.max_response_bytes"),
        "{message}"
    );
    assert!(
        message.contains("thread/turns/list") && message.contains("thread/items/list"),
        "{message}"
    );
    let meta = server
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": false}))
        .await;
    assert_eq!(meta["thread"]["turns"], json!([]));

    let err = server
        .call_err("thread/resume", json!({"threadId": thread}))
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("excludeTurns"),
        "{err}"
    );
    let resumed = server
        .call::<ThreadResume>(json!({"threadId": thread, "excludeTurns": true}))
        .await;
    assert_eq!(resumed["thread"]["id"], thread.as_str());
    assert_eq!(resumed["thread"]["turns"], json!([]));

    // The turn alone is over the limit in full; its items page fine.
    let too_big = server
        .call_err(
            "thread/turns/list",
            json!({"threadId": thread, "itemsView": "full"}),
        )
        .await;
    assert!(
        too_big["message"]
            .as_str()
            .unwrap()
            .contains("thread/items/list"),
        "{too_big}"
    );
    let bare = turns_list(
        &mut server,
        json!({"threadId": thread, "itemsView": "notLoaded"}),
    )
    .await;
    assert_eq!(bare["data"].as_array().unwrap().len(), 1);
    let first = server
        .call::<ThreadItemsList>(json!({"threadId": thread}))
        .await;
    assert_eq!(
        first["data"].as_array().unwrap().len(),
        1,
        "the answer waits for the next page"
    );
    assert!(first["nextCursor"].is_string());
    // A single item over the limit cannot be paged at all: a clear error, not a huge frame.
    let err = server
        .call_err(
            "thread/items/list",
            json!({"threadId": thread, "cursor": first["nextCursor"]}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("over app_server.max_response_bytes"),
        "{err}"
    );
    // (Notifications are not bounded by this setting: `turn/completed` carried the answer.)
    let responses = server.log.iter().filter(|m| m.get("method").is_none());
    assert!(
        responses
            .map(|m| m.to_string().len())
            .all(|len| len <= limit),
        "a response over the limit was sent"
    );
}

/// Appends `turns` turns of a user message and an answer (two items each) to a rollout.
fn append_turns(path: &PathBuf, thread: &str, turns: usize) {
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let mut out = String::new();
    let line = |kind: &str, payload: Value| {
        json!({"timestamp": "2026-01-01T00:00:00.000Z", "type": kind, "payload": payload})
            .to_string()
    };
    for t in 0..turns {
        let turn = format!("turn-{t:05}");
        let at = 1_700_000_000_000i64 + t as i64;
        let user = json!({"type": "UserMessage", "id": format!("u-{t:05}"), "content": [{"type": "text", "text": format!("question {t}"), "text_elements": []}]});
        let answer = json!({"type": "AgentMessage", "id": format!("a-{t:05}"), "content": [{"type": "Text", "text": format!("answer {t}")}]});
        for l in [
            line(
                "event_msg",
                json!({"type": "task_started", "turn_id": turn, "started_at": at / 1000}),
            ),
            line(
                "response_item",
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": format!("question {t}")}]}),
            ),
            line(
                "event_msg",
                json!({"type": "item_completed", "thread_id": thread, "turn_id": turn, "item": user, "started_at_ms": at, "completed_at_ms": at}),
            ),
            line(
                "event_msg",
                json!({"type": "item_completed", "thread_id": thread, "turn_id": turn, "item": answer, "started_at_ms": at, "completed_at_ms": at + 1}),
            ),
            line(
                "response_item",
                json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": format!("answer {t}")}]}),
            ),
            line(
                "event_msg",
                json!({"type": "task_complete", "turn_id": turn, "completed_at": at / 1000, "duration_ms": 1}),
            ),
        ] {
            out.push_str(&l);
            out.push('\n');
        }
    }
    file.write_all(out.as_bytes()).unwrap();
}

#[tokio::test]
async fn a_thread_of_ten_thousand_items_opens_page_by_page_under_the_frame_limit() {
    let env = Env::new().await;
    let limit = 64 * 1024;
    let setting = format!("app_server.max_response_bytes={limit}");
    let mut first = env.server(&[]).await;
    let started = first.start_thread_with(json!({})).await;
    let thread = started["thread"]["id"].as_str().unwrap().to_string();
    let path = PathBuf::from(started["thread"]["path"].as_str().unwrap());
    first.close_and_wait().await;
    append_turns(&path, &thread, 5_000);

    let mut server = env.server(&[&setting]).await;
    let err = server
        .call_err(
            "thread/read",
            json!({"threadId": thread, "includeTurns": true}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("thread/turns/list"),
        "{err}"
    );
    let resumed = server
        .call::<ThreadResume>(json!({"threadId": thread, "excludeTurns": true}))
        .await;
    assert_eq!(resumed["thread"]["turns"], json!([]));

    // Every item, oldest first, each exactly once, in pages cut to the frame limit.
    let mut items = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let page = server
            .call::<ThreadItemsList>(json!({"threadId": thread, "limit": 1000, "cursor": cursor}))
            .await;
        pages += 1;
        items.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["item"]["id"].as_str().unwrap().to_string()),
        );
        if page["nextCursor"].is_null() {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    assert_eq!(items.len(), 10_000);
    let expected: Vec<String> = (0..5_000)
        .flat_map(|t| [format!("u-{t:05}"), format!("a-{t:05}")])
        .collect();
    assert_eq!(items, expected);
    assert!(
        pages > 10,
        "pages were cut by bytes, not only by the limit: {pages}"
    );

    // Every turn, newest first.
    let mut turns = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = turns_list(
            &mut server,
            json!({"threadId": thread, "limit": 1000, "cursor": cursor}),
        )
        .await;
        turns.extend(turn_ids(&page));
        if page["nextCursor"].is_null() {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    assert_eq!(turns.len(), 5_000);
    assert_eq!(turns[0], "turn-04999");
    assert_eq!(turns[4_999], "turn-00000");

    let biggest = server
        .log
        .iter()
        .map(|m| m.to_string().len())
        .max()
        .unwrap();
    assert!(
        biggest <= limit,
        "a frame of {biggest} bytes was sent (limit {limit})"
    );
}

#[tokio::test]
async fn revert_removes_turns_everywhere_and_survives_a_restart() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turns = run_turns(&env, &mut server, &thread, &["q1", "q2", "q3"]).await;

    let id = server
        .request(
            ThreadRevert::NAME,
            json!({"threadId": thread, "beforeTurnId": turns[1]}),
        )
        .await;
    let answer = server.response(&id).await;
    let result = &answer["result"];
    assert_eq!(result["thread"]["id"], thread.as_str());
    assert_eq!(result["thread"]["turns"], json!([]));
    assert!(result.get("fileRestore").is_none(), "{result}");
    let reverted = server.thread_notification::<ThreadReverted>(&thread).await;
    assert_eq!(reverted["threadId"], thread.as_str());
    let answered_at = server
        .log
        .iter()
        .position(|m| m.get("id") == Some(&id))
        .unwrap();
    let announced_at = server
        .log
        .iter()
        .position(|m| m["method"] == ThreadReverted::NAME)
        .unwrap();
    assert!(
        answered_at < announced_at,
        "thread/reverted follows the answer"
    );

    // The cursors of the answer page back over what is left.
    let back = turns_list(
        &mut server,
        json!({"threadId": thread, "cursor": result["turnsBackwardsCursor"]}),
    )
    .await;
    assert_eq!(turn_ids(&back), vec![turns[0].clone()]);
    let back_items = server
        .call::<ThreadItemsList>(json!({"threadId": thread, "sortDirection": "desc", "cursor": result["itemsBackwardsCursor"]}))
        .await;
    assert_eq!(back_items["data"][0]["item"]["text"], "answer to q1");

    assert_eq!(
        texts(&read_turns(&mut server, &thread).await),
        vec!["q1", "answer to q1"]
    );
    let gone = server
        .call_err(
            "thread/items/list",
            json!({"threadId": thread, "turnId": turns[2]}),
        )
        .await;
    assert_eq!(gone["message"], format!("turn not found: {}", turns[2]));
    let again = server
        .call_err(
            ThreadRevert::NAME,
            json!({"threadId": thread, "beforeTurnId": turns[1]}),
        )
        .await;
    assert_eq!(again["code"], -32600);
    assert_eq!(again["message"], format!("turn not found: {}", turns[1]));

    // The next model request carries only what is left.
    run_turns(&env, &mut server, &thread, &["q4"]).await;
    let request = env.model_requests().last().cloned().unwrap();
    assert!(input_contains(&request, "answer to q1"));
    assert!(input_contains(&request, "q4"));
    assert!(
        !input_contains(&request, "q2") && !input_contains(&request, "answer to q3"),
        "{:?}",
        input_texts(&request)
    );
    server.close_and_wait().await;

    // A new process reads, lists and resumes the same.
    let mut server = env.server(&[]).await;
    assert_eq!(
        texts(&read_turns(&mut server, &thread).await),
        vec!["q1", "answer to q1", "q4", "answer to q4"]
    );
    let listed = turns_list(&mut server, json!({"threadId": thread})).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    server
        .call::<ThreadResume>(json!({"threadId": thread}))
        .await;
    run_turns(&env, &mut server, &thread, &["q5"]).await;
    let request = env.model_requests().last().cloned().unwrap();
    assert!(input_contains(&request, "answer to q4"));
    assert!(!input_contains(&request, "answer to q2"));
}

#[tokio::test]
async fn revert_is_refused_while_a_turn_runs_and_for_unknown_threads() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turns = run_turns(&env, &mut server, &thread, &["q1"]).await;
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("held")],
        gate: env.mock.gate(),
        after: codex_mock_model::message_events("held", &["late"])[1..].to_vec(),
    });
    let running = server.start_turn(&thread, "q2").await;
    env.wait_model_requests(2).await;
    let err = server
        .call_err(
            ThreadRevert::NAME,
            json!({"threadId": thread, "beforeTurnId": turns[0]}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("running turn"),
        "{err}"
    );
    env.mock.release();
    server.turn_completed(&running).await;
    let unknown = server
        .call_err(
            ThreadRevert::NAME,
            json!({"threadId": "0199a0b6-0000-7000-8000-00000000beef", "beforeTurnId": turns[0]}),
        )
        .await;
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{unknown}"
    );
}

fn patch_turn(env: &Env, response: &str, patch: &str) {
    env.mock.enqueue(custom_tool_call(
        &format!("{response}-call"),
        &format!("{response}-p"),
        "apply_patch",
        patch,
    ));
    env.mock.enqueue(assistant_message(response, "patched"));
}

async fn run_patch_turn(server: &mut Server, thread: &str, text: &str) -> String {
    let sandbox = json!({"type": "workspaceWrite", "writableRoots": [], "networkAccess": false,
        "excludeTmpdirEnvVar": true, "excludeSlashTmp": true});
    let started = server
        .call::<TurnStart>(
            json!({"threadId": thread, "input": text_input(text), "sandboxPolicy": sandbox}),
        )
        .await;
    let turn = started["turn"]["id"].as_str().unwrap().to_string();
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    turn
}

#[tokio::test]
async fn revert_with_restore_files_puts_patched_files_back_and_reports_the_rest() {
    let env = Env::new().await;
    let work = env.work.path().to_path_buf();
    std::fs::write(work.join("c.txt"), "c0\n").unwrap();
    let mut server = env.server(&[]).await;
    let thread = server
        .start_thread_with(json!({"approvalPolicy": "never", "model": "gpt-5.1-codex"}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    patch_turn(
        &env,
        "t1",
        "*** Begin Patch\n*** Add File: a.txt\n+one\n*** End Patch",
    );
    run_patch_turn(&mut server, &thread, "add a").await;
    patch_turn(
        &env,
        "t2",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-one\n+two\n*** Add File: b.txt\n+bee\n*** Update File: c.txt\n@@\n-c0\n+c1\n*** End Patch",
    );
    let second = run_patch_turn(&mut server, &thread, "change things").await;
    patch_turn(
        &env,
        "t3",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-two\n+three\n*** End Patch",
    );
    run_patch_turn(&mut server, &thread, "again").await;
    assert_eq!(
        std::fs::read_to_string(work.join("a.txt")).unwrap(),
        "three\n"
    );
    // Someone edits c.txt after the turns that patched it.
    std::fs::write(work.join("c.txt"), "by hand\n").unwrap();

    let result = server
        .call::<ThreadRevert>(
            json!({"threadId": thread, "beforeTurnId": second, "restoreFiles": true}),
        )
        .await;
    let report = &result["fileRestore"];
    let path = |name: &str| work.join(name).display().to_string();
    let mut restored: Vec<String> = report["restored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    restored.sort();
    assert_eq!(restored, vec![path("a.txt"), path("b.txt")]);
    assert_eq!(report["notRestored"][0]["path"], path("c.txt"));
    assert!(
        report["notRestored"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("changed"),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("a.txt")).unwrap(),
        "one\n"
    );
    assert!(!work.join("b.txt").exists());
    assert_eq!(
        std::fs::read_to_string(work.join("c.txt")).unwrap(),
        "by hand\n"
    );
    assert_eq!(
        read_turns(&mut server, &thread).await["turns"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn delete_answers_then_announces_and_removes_the_thread_for_good() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let started = server.start_thread_with(json!({})).await;
    let thread = started["thread"]["id"].as_str().unwrap().to_string();
    let path = PathBuf::from(started["thread"]["path"].as_str().unwrap());
    let kept = server.start_thread().await;
    run_turns(&env, &mut server, &thread, &["q1"]).await;

    let id = server
        .request(ThreadDelete::NAME, json!({"threadId": thread}))
        .await;
    assert_eq!(server.response(&id).await["result"], json!({}));
    let deleted = server.thread_notification::<ThreadDeleted>(&thread).await;
    assert_eq!(deleted["threadId"], thread.as_str());
    let position =
        |server: &Server, pred: &dyn Fn(&Value) -> bool| server.log.iter().position(pred).unwrap();
    let unloaded = position(&server, &|m| {
        m["method"] == ThreadStatusChanged::NAME && m["params"]["status"]["type"] == "notLoaded"
    });
    let answered = position(&server, &|m| m.get("id") == Some(&id));
    let announced = position(&server, &|m| m["method"] == ThreadDeleted::NAME);
    assert!(
        unloaded < answered && answered < announced,
        "notLoaded, answer, thread/deleted"
    );
    assert!(!path.exists(), "the rollout is gone");

    let listed = server.call::<ThreadList>(json!({})).await;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![kept.as_str()]);
    let read = server
        .call_err("thread/read", json!({"threadId": thread}))
        .await;
    assert!(
        read["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{read}"
    );
    let again = server
        .call_err(ThreadDelete::NAME, json!({"threadId": thread}))
        .await;
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{again}"
    );
    server.close_and_wait().await;

    let mut server = env.server(&[]).await;
    let listed = server.call::<ThreadList>(json!({})).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let read = server
        .call_err("thread/read", json!({"threadId": thread}))
        .await;
    assert!(
        read["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{read}"
    );
}

#[tokio::test]
async fn metadata_update_patches_git_info_and_keeps_it_across_restarts() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;

    let set = server
        .call::<ThreadMetadataUpdate>(
            json!({"threadId": thread, "gitInfo": {"branch": "main", "sha": "abc123"}}),
        )
        .await;
    assert_eq!(
        set["thread"]["gitInfo"],
        json!({"sha": "abc123", "branch": "main", "originUrl": null})
    );
    let cleared = server
        .call::<ThreadMetadataUpdate>(json!({"threadId": thread, "gitInfo": {"branch": null, "originUrl": "https://example.com/r.git"}}))
        .await;
    assert_eq!(
        cleared["thread"]["gitInfo"],
        json!({"sha": "abc123", "branch": null, "originUrl": "https://example.com/r.git"})
    );

    let none = server
        .call_err(ThreadMetadataUpdate::NAME, json!({"threadId": thread}))
        .await;
    assert_eq!(none["code"], -32600);
    assert_eq!(
        none["message"],
        "thread metadata update must include at least one field"
    );
    let empty = server
        .call_err(
            ThreadMetadataUpdate::NAME,
            json!({"threadId": thread, "gitInfo": {"branch": ""}}),
        )
        .await;
    assert_eq!(empty["message"], "gitInfo.branch must not be empty");
    let unknown = server
        .call_err(
            ThreadMetadataUpdate::NAME,
            json!({"threadId": "0199a0b6-0000-7000-8000-00000000beef", "gitInfo": {"sha": "x"}}),
        )
        .await;
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{unknown}"
    );
    server.close_and_wait().await;

    let mut server = env.server(&[]).await;
    let read = server.call::<ThreadRead>(json!({"threadId": thread})).await;
    assert_eq!(read["thread"]["gitInfo"]["sha"], "abc123");
    assert_eq!(
        read["thread"]["gitInfo"]["originUrl"],
        "https://example.com/r.git"
    );
    let resumed = server
        .call::<ThreadResume>(json!({"threadId": thread}))
        .await;
    assert_eq!(resumed["thread"]["gitInfo"]["sha"], "abc123");
}

#[tokio::test]
async fn injected_items_reach_the_next_model_requests_even_after_a_restart() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    run_turns(&env, &mut server, &thread, &["q1"]).await;
    let items = json!([
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "injected rule"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "injected note"}]}
    ]);
    let result = server
        .call::<ThreadInjectItems>(json!({"threadId": thread, "items": items}))
        .await;
    assert_eq!(result, json!({}));
    run_turns(&env, &mut server, &thread, &["q2"]).await;
    let request = env.model_requests().last().cloned().unwrap();
    let texts = input_texts(&request);
    let at = |needle: &str| {
        texts
            .iter()
            .position(|t| t == needle)
            .unwrap_or_else(|| panic!("{needle} not in {texts:?}"))
    };
    assert!(at("answer to q1") < at("injected rule"));
    assert!(at("injected rule") < at("injected note") && at("injected note") < at("q2"));

    let empty = server
        .call_err(
            ThreadInjectItems::NAME,
            json!({"threadId": thread, "items": []}),
        )
        .await;
    assert_eq!(empty["message"], "items must not be empty");
    let bad = server
        .call_err(
            ThreadInjectItems::NAME,
            json!({"threadId": thread, "items": [{"foo": 1}]}),
        )
        .await;
    assert_eq!(bad["code"], -32600);
    assert_eq!(
        bad["message"],
        "items[0] is not a valid response item: missing field `type`"
    );
    let unknown = server
        .call_err(
            ThreadInjectItems::NAME,
            json!({"threadId": "0199a0b6-0000-7000-8000-00000000beef", "items": items}),
        )
        .await;
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("thread not found"),
        "{unknown}"
    );
    server.close_and_wait().await;

    let mut server = env.server(&[]).await;
    server
        .call::<ThreadResume>(json!({"threadId": thread}))
        .await;
    run_turns(&env, &mut server, &thread, &["q3"]).await;
    let request = env.model_requests().last().cloned().unwrap();
    assert!(
        input_contains(&request, "injected rule"),
        "{:?}",
        input_texts(&request)
    );
    assert!(input_contains(&request, "injected note"));
}
