//! The thread store behind its trait, through the protocol: a store that cannot open yet
//! fails requests clearly and works once it can; servers sharing one `$CODEX_HOME` take
//! turns on a thread through its lease (refused naming the owner, taken over after the
//! owner died, history re-read from what the other server wrote).

use super::harness::{input_contains, Env};
use codex_mock_model::{assistant_message, ev_created, ev_message_item_added, Reply};
use codex_protocol::methods::{ThreadList, ThreadRead, ThreadResume, TurnStart};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Short leases keep the takeover test fast; renewals run every third of this.
const LEASE_TTL_MS: u64 = 1500;

fn lease_overrides() -> [String; 1] {
    [format!("thread_store.lease_ttl_ms={LEASE_TTL_MS}")]
}

#[tokio::test]
async fn a_store_that_cannot_open_fails_clearly_then_works_once_it_can() {
    let env = Env::new().await;
    // `sessions` must be a directory: a file there makes every open fail.
    let blocker = env.home.path().join("sessions");
    std::fs::write(&blocker, "not a directory").unwrap();
    let mut server = env.server(&[]).await;

    for method in ["thread/start", "thread/list"] {
        let err = server.call_err(method, json!({})).await;
        assert_eq!(err["code"], -32603, "{method}: {err}");
        let message = err["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("the thread store could not be opened")
                && message.contains(&env.home.path().display().to_string()),
            "{method}: the error says what failed and where: {message}"
        );
    }

    // Fixed while the server runs: the next requests open the store and succeed.
    std::fs::remove_file(&blocker).unwrap();
    let id = server.start_thread().await;
    let listed = server.call::<ThreadList>(json!({})).await;
    assert_eq!(listed["data"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1));
}

/// The owner a refusal names (`... has a running turn owned by OWNER (lease expires ...`).
fn owner_of(message: &str) -> String {
    message
        .split("owned by ")
        .nth(1)
        .and_then(|rest| rest.split(" (lease").next())
        .unwrap_or_else(|| panic!("no owner in {message}"))
        .to_string()
}

/// The lease's expiry from a refusal's message (`... lease expires at N ms since the epoch`).
fn expiry_of(message: &str) -> Duration {
    let ms = message
        .split("expires at ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no expiry in {message}"));
    Duration::from_millis(ms)
}

#[tokio::test]
async fn servers_sharing_a_home_take_turns_through_the_lease() {
    let env = Env::new().await;
    let extra = lease_overrides();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut a = env.server(&extra).await;
    let mut b = env.server(&extra).await;

    let thread = a.start_thread().await;
    // B loads the thread before A's turns: what it holds in memory goes stale.
    b.call::<ThreadResume>(json!({"threadId": thread})).await;

    env.mock
        .enqueue(assistant_message("r1", "first answer from A"));
    let turn = a.start_turn(&thread, "first question to A").await;
    let done = a.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    // A's second turn hangs in the model stream, holding the lease.
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r2"), ev_message_item_added("msg_r2")],
        gate: env.mock.gate(),
        after: Vec::new(),
    });
    a.start_turn(&thread, "second question to A").await;
    env.mock
        .wait_for_gates_reached(1, Duration::from_secs(30))
        .await
        .unwrap();

    let err = b
        .call_err(
            "turn/start",
            json!({"threadId": thread, "input": [{"type": "text", "text": "from B"}]}),
        )
        .await;
    assert_eq!(err["code"], -32600, "{err}");
    let message = err["message"].as_str().unwrap_or_default().to_string();
    assert!(
        message.contains(&format!("thread {thread} has a running turn owned by ")),
        "the refusal names the owner: {message}"
    );

    // Nor may B archive the thread under A's turn.
    let err = b
        .call_err("thread/archive", json!({"threadId": thread}))
        .await;
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("has a running turn owned by")),
        "{err}"
    );

    // A dies mid-turn: nobody renews its lease, which B takes once it has expired.
    a.kill9().await;
    let expiry = expiry_of(&message);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    tokio::time::sleep(expiry.saturating_sub(now) + Duration::from_millis(50)).await;

    env.mock.enqueue(assistant_message("r3", "answer from B"));
    let requests_before = env.model_requests().len();
    let turn = b
        .call::<TurnStart>(
            json!({"threadId": thread, "input": [{"type": "text", "text": "question to B"}]}),
        )
        .await["turn"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = b.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    // B re-read the thread: its request carries A's completed turn.
    let request: Value =
        env.wait_model_requests(requests_before + 1).await[requests_before].clone();
    assert!(input_contains(&request, "first question to A"), "{request}");
    assert!(input_contains(&request, "first answer from A"), "{request}");
    assert!(input_contains(&request, "question to B"), "{request}");

    let read = b
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": true}))
        .await;
    let turns = read["thread"]["turns"].as_array().unwrap().clone();
    assert_eq!(turns.first().unwrap()["status"], "completed", "{read}");
    assert_eq!(turns.last().unwrap()["id"], turn.as_str(), "{read}");
    assert_eq!(turns.last().unwrap()["status"], "completed", "{read}");
}

#[tokio::test]
async fn a_server_that_lost_its_lease_stops_its_turn() {
    let env = Env::new().await;
    let extra = lease_overrides();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut a = env.server(&extra).await;
    let mut b = env.server(&extra).await;
    let thread = a.start_thread().await;
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r1"), ev_message_item_added("msg_r1")],
        gate: env.mock.gate(),
        after: Vec::new(),
    });
    let turn = a.start_turn(&thread, "a long turn").await;
    env.mock
        .wait_for_gates_reached(1, Duration::from_secs(30))
        .await
        .unwrap();
    let err = b
        .call_err(
            "turn/start",
            json!({"threadId": thread, "input": [{"type": "text", "text": "from B"}]}),
        )
        .await;
    let owner_a = owner_of(err["message"].as_str().unwrap_or_default());

    // A third process takes the thread while A still runs: A's lease is cut short (as if A
    // had been stopped for longer than the ttl) and taken over.
    let store = codex_store::Store::open(env.home.path()).unwrap();
    store
        .acquire_lease(&thread, &owner_a, Duration::ZERO)
        .unwrap();
    let intruder = "intruder/1/0";
    let taken = store
        .acquire_lease(&thread, intruder, Duration::from_secs(60))
        .unwrap();
    assert_eq!(taken.taken_over_from.as_deref(), Some(owner_a.as_str()));

    // A's next renewal finds the lease gone and stops the turn, saying why.
    let done = a.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "failed", "{done}");
    let why = done["turn"]["error"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains(intruder) && why.contains("took the thread over"),
        "{done}"
    );
    let err = a
        .call_err(
            "turn/start",
            json!({"threadId": thread, "input": [{"type": "text", "text": "again"}]}),
        )
        .await;
    assert!(
        owner_of(err["message"].as_str().unwrap_or_default()) == intruder,
        "{err}"
    );
}
