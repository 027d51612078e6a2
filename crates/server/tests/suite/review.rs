//! `review/start` against the mock model, in real temporary git repositories: each target,
//! inline and detached delivery, what the reviewer's request carries (no history, the
//! guidelines, the prompt and the diff), the item order, the rendering of findings, what the
//! thread's history holds afterwards, the reviewer's read-only tools, interruption, and the
//! error answers.

use super::harness::{input_contains, input_texts, text_input, Env, Server};
use codex_mock_model::{
    assistant_message, ev_created, ev_message_item_added, function_call, Reply,
};
use codex_protocol::methods::{
    Method, Notification, ReviewStart, ThreadRead, ThreadResume, ThreadStarted, TurnInterrupt,
    TurnStart, TurnStarted,
};
use serde_json::{json, Value};
use std::path::Path;

/// Runs git in `dir` with the user's and the system's configuration out of the way.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Commits of the repository [`make_repo`] builds.
struct Repo {
    /// The only commit of `main` (the merge base of `feature` with it).
    main_sha: String,
    /// The commit `feature` adds on top of `main` (checked out).
    feature_sha: String,
}

/// `main` with a.txt and a .gitignore; `feature` adding a line to a.txt; then, uncommitted: an
/// unstaged edit of a.txt, a staged new file, an untracked file and an ignored one.
fn make_repo(dir: &Path) -> Repo {
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::write(dir.join(".gitignore"), "ignored.log\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "first"]);
    let main_sha = git(dir, &["rev-parse", "HEAD"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(dir.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    git(dir, &["commit", "-q", "-am", "second commit title"]);
    let feature_sha = git(dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("a.txt"), "one\nTWO\nthree\n").unwrap();
    std::fs::write(dir.join("staged.txt"), "staged line\n").unwrap();
    git(dir, &["add", "staged.txt"]);
    std::fs::write(dir.join("new.txt"), "untracked line\n").unwrap();
    std::fs::write(dir.join("ignored.log"), "secret ignored\n").unwrap();
    Repo {
        main_sha,
        feature_sha,
    }
}

/// The reviewer's JSON answer with one finding on a.txt lines 2-3.
fn one_finding(dir: &Path) -> String {
    json!({
        "findings": [{
            "title": "[P1] Bad thing",
            "body": "It breaks.\nSecond line.",
            "confidence_score": 0.8,
            "priority": 1,
            "code_location": {
                "absolute_file_path": dir.join("a.txt"),
                "line_range": {"start": 2, "end": 3}
            }
        }],
        "overall_correctness": "patch is incorrect",
        "overall_explanation": "One problem found.",
        "overall_confidence_score": 0.7
    })
    .to_string()
}

/// Sends `review/start`; returns its result.
async fn start_review(server: &mut Server, thread: &str, target: Value, delivery: &str) -> Value {
    server
        .call::<ReviewStart>(json!({"threadId": thread, "target": target, "delivery": delivery}))
        .await
}

/// `method` or `method:itemType` for every turn and item notification about `turn_id` in the
/// log (from `from` on).
fn turn_events(server: &Server, from: usize, turn_id: &str) -> Vec<String> {
    server.log[from..]
        .iter()
        .filter(|m| m["params"]["turnId"] == turn_id || m["params"]["turn"]["id"] == turn_id)
        .filter_map(|m| {
            let method = m["method"].as_str()?;
            match m["params"]["item"]["type"].as_str() {
                Some(kind) => Some(format!("{method}:{kind}")),
                None if method.starts_with("turn/") || method.starts_with("item/") => {
                    Some(method.to_string())
                }
                None => None,
            }
        })
        .collect()
}

fn item_types(turn: &Value) -> Vec<&str> {
    turn["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect()
}

/// The message of the last item of a request body's input, with its role.
fn last_message(body: &Value) -> (String, String) {
    let last = body["input"].as_array().unwrap().last().unwrap();
    (
        last["role"].as_str().unwrap_or("").to_string(),
        last["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

const REVIEW_ORDER: &[&str] = &[
    "turn/started",
    "item/started:enteredReviewMode",
    "item/completed:enteredReviewMode",
    "item/started:exitedReviewMode",
    "item/completed:exitedReviewMode",
    "item/started:agentMessage",
    "item/completed:agentMessage",
    "turn/completed",
];

#[tokio::test]
async fn inline_review_of_uncommitted_changes_renders_findings_into_the_thread() {
    let env = Env::new().await;
    let dir = env.work.path().to_path_buf();
    make_repo(&dir);
    env.mock.enqueue(assistant_message("r1", "hello answer"));
    env.mock
        .enqueue(assistant_message("r2", &one_finding(&dir)));
    env.mock.enqueue(assistant_message("r3", "next answer"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    server.run_turn(&thread, "hello question").await;

    let from = server.log.len();
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "uncommittedChanges"}),
        "inline",
    )
    .await;
    assert_eq!(started["reviewThreadId"], thread.as_str());
    assert_eq!(started["turn"]["status"], "inProgress");
    assert_eq!(
        started["turn"]["items"][0]["content"][0]["text"], "current changes",
        "{started}"
    );
    let turn_id = started["turn"]["id"].as_str().unwrap().to_string();
    let done = server.turn_completed(&turn_id).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    let rendered = format!(
        "One problem found.\n\nReview comment:\n\n- [P1] Bad thing — {}:2-3\n  It breaks.\n  Second line.",
        dir.join("a.txt").display()
    );
    assert_eq!(turn_events(&server, from, &turn_id), REVIEW_ORDER);
    let items = &done["turn"]["items"];
    assert_eq!(
        item_types(&done["turn"]),
        ["enteredReviewMode", "exitedReviewMode", "agentMessage"]
    );
    assert_eq!(items[0]["review"], "current changes");
    assert_eq!(items[1]["review"], rendered.as_str());
    assert_eq!(items[2]["text"], rendered.as_str());

    // The reviewer's request: guidelines instead of the base instructions, no history, the
    // prompt with the diff last, read-only, only reading tools, marked as a review sub-agent.
    let requests: Vec<_> = env
        .mock
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("x-openai-subagent"), None);
    assert_eq!(requests[1].header("x-openai-subagent"), Some("review"));
    let body = &requests[1].body;
    assert_eq!(body["input"][0]["role"], "developer");
    let first = body["input"][0]["content"][0]["text"].as_str().unwrap();
    assert!(first.starts_with("# Review guidelines"), "{first}");
    assert!(!input_contains(body, "You are a coding agent"));
    assert!(!input_contains(body, "hello question"));
    assert!(!input_contains(body, "hello answer"));
    assert!(input_contains(body, "read-only sandbox"));
    let (role, prompt) = last_message(body);
    assert_eq!(role, "user");
    assert!(
        prompt
            .starts_with("Review the current code changes (staged, unstaged, and untracked files)"),
        "{prompt}"
    );
    for needle in [
        "-two",
        "+TWO",
        "+staged line",
        "b/new.txt",
        "+untracked line",
    ] {
        assert!(prompt.contains(needle), "{needle} missing from:\n{prompt}");
    }
    assert!(!prompt.contains("secret ignored"), "{prompt}");
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"exec_command"), "{tools:?}");
    assert!(
        tools
            .iter()
            .all(|t| ["exec_command", "write_stdin", "shell_command", "view_image"].contains(t)),
        "{tools:?}"
    );

    // The next turn sees the review as a <user_action> and an assistant message, after the
    // earlier conversation and without the reviewer's own exchange.
    server.run_turn(&thread, "next question").await;
    let next = &env.model_requests()[2];
    let texts = input_texts(next);
    let at = |needle: &str| texts.iter().position(|t| t.starts_with(needle));
    let hello = at("hello question").expect("earlier history kept");
    let action = at("<user_action>").expect("the review handed over");
    let answer = texts
        .iter()
        .position(|t| *t == rendered)
        .expect("review as answer");
    let question = at("next question").unwrap();
    assert!(
        hello < action && action < answer && answer < question,
        "{texts:#?}"
    );
    assert!(texts[action].contains(&rendered), "{}", texts[action]);
    assert!(!input_contains(next, "Review the current code changes"));
    assert!(!input_contains(next, "# Review guidelines"));

    // All of it is on disk: a new server reads the review items and sends the same history.
    server.close_and_wait().await;
    env.mock.enqueue(assistant_message("r4", "after restart"));
    let mut server = env.server(&[]).await;
    let read = server
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": true}))
        .await;
    let review_turn = read["thread"]["turns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == turn_id.as_str())
        .expect("review turn persisted");
    assert_eq!(
        item_types(review_turn),
        ["enteredReviewMode", "exitedReviewMode", "agentMessage"]
    );
    assert_eq!(review_turn["items"][1]["review"], rendered.as_str());
    server
        .call::<ThreadResume>(json!({"threadId": thread}))
        .await;
    server.run_turn(&thread, "after restart").await;
    let resumed = &env.model_requests()[3];
    assert!(input_contains(resumed, "<user_action>"));
    assert!(input_texts(resumed).contains(&rendered));
}

#[tokio::test]
async fn base_branch_and_commit_reviews_carry_their_own_diffs() {
    let env = Env::new().await;
    let dir = env.work.path().to_path_buf();
    let repo = make_repo(&dir);
    env.mock.enqueue(assistant_message("r1", "base review"));
    env.mock.enqueue(assistant_message("r2", "commit review"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;

    let base = start_review(
        &mut server,
        &thread,
        json!({"type": "baseBranch", "branch": "main"}),
        "inline",
    )
    .await;
    assert_eq!(
        base["turn"]["items"][0]["content"][0]["text"],
        "changes against 'main'"
    );
    let done = server
        .turn_completed(base["turn"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["turn"]["items"][0]["review"], "changes against 'main'");
    assert_eq!(done["turn"]["items"][1]["review"], "base review");
    let (_, prompt) = last_message(&env.model_requests()[0]);
    assert!(
        prompt.starts_with("Review the code changes against the base branch 'main'"),
        "{prompt}"
    );
    assert!(prompt.contains(&repo.main_sha), "{prompt}");
    // The committed change of the branch and the uncommitted one.
    assert!(
        prompt.contains("+three") && prompt.contains("+TWO"),
        "{prompt}"
    );

    let commit = start_review(
        &mut server,
        &thread,
        json!({"type": "commit", "sha": repo.feature_sha, "title": "second commit title"}),
        "inline",
    )
    .await;
    let label = format!("commit {}: second commit title", &repo.feature_sha[..7]);
    let done = server
        .turn_completed(commit["turn"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["turn"]["items"][0]["review"], label.as_str());
    assert_eq!(done["turn"]["items"][1]["review"], "commit review");
    let body = &env.model_requests()[1];
    let (_, prompt) = last_message(body);
    assert!(
        prompt.starts_with(&format!(
            "Review the code changes introduced by commit {} (\"second commit title\")",
            repo.feature_sha
        )),
        "{prompt}"
    );
    assert!(prompt.contains("+three"), "{prompt}");
    assert!(!prompt.contains("+TWO"), "only the commit: {prompt}");
    // The previous review is in the thread's history, but not in this review's request.
    assert!(!input_contains(body, "base review"));
}

#[tokio::test]
async fn custom_review_needs_no_repository_and_keeps_a_plain_answer() {
    let env = Env::new().await;
    let plain = tempfile::tempdir().unwrap();
    // Malformed JSON is shown as the model wrote it.
    env.mock.enqueue(assistant_message(
        "r1",
        r#"{"findings": [{"title": "cut off"#,
    ));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(json!({"cwd": plain.path()})).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "custom", "instructions": "Check the naming in src/."}),
        "inline",
    )
    .await;
    let done = server
        .turn_completed(started["turn"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["turn"]["status"], "completed");
    assert_eq!(
        done["turn"]["items"][0]["review"],
        "Check the naming in src/."
    );
    assert_eq!(
        done["turn"]["items"][1]["review"],
        r#"{"findings": [{"title": "cut off"#
    );
    let body = &env.model_requests()[0];
    assert_eq!(
        last_message(body),
        ("user".to_string(), "Check the naming in src/.".to_string())
    );
    assert!(input_contains(body, "# Review guidelines"));
}

#[tokio::test]
async fn detached_review_runs_on_a_new_thread_forked_from_the_source() {
    let env = Env::new().await;
    let dir = env.work.path().to_path_buf();
    make_repo(&dir);
    env.mock.enqueue(assistant_message("r1", "hello answer"));
    env.mock
        .enqueue(assistant_message("r2", "detached review text"));
    env.mock.enqueue(assistant_message("r3", "source answer"));
    env.mock
        .enqueue(assistant_message("r4", "review thread answer"));
    let mut server = env.server(&[]).await;
    let source = server.start_thread().await;
    server.run_turn(&source, "hello question").await;

    let from = server.log.len();
    let id = server
        .request(
            ReviewStart::NAME,
            json!({"threadId": source, "target": {"type": "uncommittedChanges"}, "delivery": "detached"}),
        )
        .await;
    let response = server.response(&id).await;
    let result = &response["result"];
    let review_thread = result["reviewThreadId"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"));
    assert_ne!(review_thread, source);
    let turn_id = result["turn"]["id"].as_str().unwrap().to_string();
    let done = server.turn_completed(&turn_id).await;
    assert_eq!(done["threadId"], review_thread);
    assert_eq!(done["turn"]["items"][1]["review"], "detached review text");

    // The answer, then the new thread, then its turn.
    let position = |pred: &dyn Fn(&Value) -> bool| {
        server.log[from..]
            .iter()
            .position(pred)
            .expect("message present")
    };
    let answered = position(&|m| m.get("id") == Some(&id));
    let announced = position(&|m| {
        m["method"] == ThreadStarted::NAME && m["params"]["thread"]["id"] == review_thread
    });
    let turn_started =
        position(&|m| m["method"] == TurnStarted::NAME && m["params"]["threadId"] == review_thread);
    assert!(answered < announced && announced < turn_started);
    let announced = &server.log[from + announced]["params"]["thread"];
    assert_eq!(announced["forkedFromId"], source.as_str());
    assert_eq!(turn_events(&server, from, &turn_id), REVIEW_ORDER);
    assert!(!input_contains(&env.model_requests()[1], "hello question"));

    // The review lands in the new thread only; the new thread also has the source's history.
    server.run_turn(&source, "on the source").await;
    let on_source = &env.model_requests()[2];
    assert!(!input_contains(on_source, "<user_action>"));
    assert!(!input_contains(on_source, "detached review text"));
    server.run_turn(review_thread, "on the review thread").await;
    let on_review = &env.model_requests()[3];
    assert!(input_contains(on_review, "hello question"));
    assert!(input_contains(on_review, "<user_action>"));
    assert!(input_texts(on_review).contains(&"detached review text".to_string()));
}

#[tokio::test]
async fn the_reviewer_reads_with_tools_in_a_read_only_sandbox_and_keeps_its_exchange() {
    let env = Env::new().await;
    let dir = env.work.path().to_path_buf();
    make_repo(&dir);
    env.mock.enqueue(function_call(
        "r1",
        "call_read",
        "exec_command",
        &json!({"cmd": "cat a.txt; touch written.txt", "login": false}),
    ));
    env.mock.enqueue(assistant_message("r2", "read it"));
    env.mock.enqueue(assistant_message("r3", "next answer"));
    let mut server = env.server(&[]).await;
    // The thread itself may write; the reviewer may not.
    let thread = server
        .start_thread_with(json!({"sandbox": "danger-full-access", "approvalPolicy": "never"}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let from = server.log.len();
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "uncommittedChanges"}),
        "inline",
    )
    .await;
    let turn_id = started["turn"]["id"].as_str().unwrap().to_string();
    let done = server.turn_completed(&turn_id).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    assert_eq!(
        item_types(&done["turn"]),
        [
            "enteredReviewMode",
            "commandExecution",
            "exitedReviewMode",
            "agentMessage"
        ]
    );
    let events = turn_events(&server, from, &turn_id);
    let command_done = events
        .iter()
        .position(|e| e == "item/completed:commandExecution")
        .expect("command item");
    let exited = events
        .iter()
        .position(|e| e == "item/started:exitedReviewMode")
        .unwrap();
    assert!(command_done < exited, "{events:?}");
    assert!(
        !dir.join("written.txt").exists(),
        "the reviewer wrote a file"
    );

    let second = &env.model_requests()[1];
    let output = second["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call_output" && i["call_id"] == "call_read")
        .expect("the command's output goes back to the reviewer");
    assert!(output["output"].to_string().contains("three"), "{output}");

    server.run_turn(&thread, "next question").await;
    let next = &env.model_requests()[2];
    assert!(
        !next["input"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["call_id"] == "call_read"),
        "the reviewer's calls stay out of the thread"
    );
    assert!(input_texts(next).contains(&"read it".to_string()));
}

#[tokio::test]
async fn an_interrupted_review_leaves_a_note_instead_of_results() {
    let env = Env::new().await;
    make_repo(env.work.path());
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r1"), ev_message_item_added("msg_r1")],
        gate: env.mock.gate(),
        after: Vec::new(),
    });
    env.mock.enqueue(assistant_message("r2", "next answer"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "uncommittedChanges"}),
        "inline",
    )
    .await;
    let turn_id = started["turn"]["id"].as_str().unwrap().to_string();
    env.wait_model_requests(1).await;
    server
        .call::<TurnInterrupt>(json!({"threadId": thread, "turnId": turn_id}))
        .await;
    let done = server.turn_completed(&turn_id).await;
    assert_eq!(done["turn"]["status"], "interrupted");

    server.run_turn(&thread, "what happened?").await;
    let next = &env.model_requests()[1];
    let note = input_texts(next)
        .into_iter()
        .find(|t| t.starts_with("<user_action>"))
        .expect("a note about the review");
    assert!(note.contains("interrupted"), "{note}");
}

#[tokio::test]
async fn a_huge_diff_is_cut_to_the_budget_with_a_note() {
    let env = Env::new().await;
    make_repo(env.work.path());
    let line = format!("{}\n", "x".repeat(99));
    std::fs::write(env.work.path().join("huge.txt"), line.repeat(5_000)).unwrap();
    env.mock.enqueue(assistant_message("r1", "too much"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "uncommittedChanges"}),
        "inline",
    )
    .await;
    server
        .turn_completed(started["turn"]["id"].as_str().unwrap())
        .await;
    let (_, prompt) = last_message(&env.model_requests()[0]);
    assert!(prompt.contains("b/huge.txt"));
    assert!(
        prompt.contains("[The diff was cut to fit the request; run `git diff HEAD`"),
        "{}",
        &prompt[prompt.len() - 300..]
    );
    assert!(prompt.len() < 210 * 1024, "{} bytes", prompt.len());
}

#[tokio::test]
async fn bad_review_requests_are_refused_before_any_model_request() {
    let env = Env::new().await;
    make_repo(env.work.path());
    let plain = tempfile::tempdir().unwrap();
    env.mock.enqueue(assistant_message("r1", "still works"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let outside = server.start_thread_with(json!({"cwd": plain.path()})).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let refused = |target: Value, thread: &str| json!({"threadId": thread, "target": target});
    let cases = [
        (
            refused(json!({"type": "uncommittedChanges"}), "no-such-thread"),
            -32600,
            "thread not found",
        ),
        (
            refused(json!({"type": "uncommittedChanges"}), &outside),
            -32600,
            "not in a git repository",
        ),
        (
            refused(json!({"type": "baseBranch", "branch": "main"}), &outside),
            -32600,
            "not in a git repository",
        ),
        (
            refused(json!({"type": "commit", "sha": "deadbeef"}), &thread),
            -32602,
            "target.sha",
        ),
        (
            refused(json!({"type": "commit", "sha": "--output=/tmp/x"}), &thread),
            -32602,
            "target.sha",
        ),
        (
            refused(
                json!({"type": "baseBranch", "branch": "no-such-branch"}),
                &thread,
            ),
            -32602,
            "target.branch",
        ),
        (
            refused(json!({"type": "custom", "instructions": "  "}), &thread),
            -32602,
            "target.instructions",
        ),
        (
            refused(json!({"type": "somethingElse"}), &thread),
            -32602,
            "",
        ),
    ];
    for (params, code, needle) in cases {
        let err = server.call_err(ReviewStart::NAME, params.clone()).await;
        assert_eq!(err["code"], code, "{params}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(needle),
            "{params}: {err}"
        );
    }
    assert!(env.model_requests().is_empty());
    // Nothing was left half-started: the thread takes a turn.
    let turn = server
        .call::<TurnStart>(json!({"threadId": thread, "input": text_input("hi")}))
        .await;
    let done = server
        .turn_completed(turn["turn"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["turn"]["status"], "completed");
}

#[tokio::test]
async fn the_reviewers_context_does_not_count_toward_the_threads_compaction() {
    let env = Env::new().await;
    make_repo(env.work.path());
    env.mock.enqueue(assistant_message("r1", "review"));
    env.mock.enqueue(assistant_message("r2", "answer"));
    // Every mock response reports 127 tokens, above this limit: had the review's usage been
    // taken as the thread's, the next turn would compact first.
    let mut server = env.server(&["model_auto_compact_token_limit=100"]).await;
    let thread = server.start_thread().await;
    let started = start_review(
        &mut server,
        &thread,
        json!({"type": "uncommittedChanges"}),
        "inline",
    )
    .await;
    server
        .turn_completed(started["turn"]["id"].as_str().unwrap())
        .await;
    let done = server.run_turn(&thread, "go on").await;
    assert_eq!(item_types(&done["turn"]), ["userMessage", "agentMessage"]);
    assert_eq!(env.model_requests().len(), 2);
}
