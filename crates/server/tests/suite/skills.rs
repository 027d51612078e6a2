//! Skills: `skills/list` over every root and scope, malformed files reported per file,
//! `skills/changed` when the files change, the `<skills_instructions>` message of model
//! requests, and the `<skill>` message a `{type: "skill"}` input adds.

use super::harness::{input_texts, Env};
use codex_mock_model::assistant_message;
use codex_protocol::methods::{SkillsChanged, SkillsList, TurnStart, Warning};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn write_skill(root: &Path, folder: &str, text: &str) -> PathBuf {
    let dir = root.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("SKILL.md");
    std::fs::write(&file, text).unwrap();
    file
}

fn skill_text(name: &str, description: &str, body: &str) -> String {
    format!("---\nname: {name}\ndescription: {description}\n---\n{body}\n")
}

fn names(entry: &Value) -> Vec<&str> {
    entry["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn skills_list_covers_repo_and_user_roots_and_reports_bad_files_per_file() {
    let env = Env::new().await;
    let cwd = env.work.path();
    let home = env.home.path();
    write_skill(
        &cwd.join(".codex/skills"),
        "beta",
        "---\nname: beta\ndescription: Beta repo skill\nmetadata:\n  short-description: short beta\n---\nBody\n",
    );
    write_skill(
        &cwd.join(".agents/skills"),
        "gamma",
        &skill_text("gamma", "G", "g"),
    );
    let alpha = write_skill(
        &home.join("skills"),
        "alpha",
        &skill_text("alpha", "A", "a"),
    );
    write_skill(
        &home.join("home/.agents/skills"),
        "delta",
        &skill_text("delta", "D", "d"),
    );
    let bad = write_skill(&cwd.join(".codex/skills"), "bad", "no front matter\n");
    let nodesc = write_skill(
        &cwd.join(".agents/skills"),
        "nodesc",
        "---\nname: nodesc\n---\nx\n",
    );
    let mut server = env.server(&[]).await;

    let listed = server
        .call::<SkillsList>(json!({"cwds": [cwd.display().to_string()]}))
        .await;
    let entry = &listed["data"][0];
    assert_eq!(entry["cwd"], cwd.display().to_string());
    assert_eq!(names(entry), ["beta", "gamma", "alpha", "delta"], "{entry}");
    let beta = &entry["skills"][0];
    assert_eq!(beta["scope"], "repo");
    assert_eq!(beta["description"], "Beta repo skill");
    assert_eq!(beta["shortDescription"], "short beta");
    assert_eq!(beta["enabled"], true);
    assert_eq!(entry["skills"][2]["scope"], "user");
    assert_eq!(entry["skills"][2]["path"], alpha.display().to_string());
    assert_eq!(entry["skills"][3]["scope"], "user");
    let errors = entry["errors"].as_array().unwrap();
    let bad_paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(
        bad_paths,
        [bad.display().to_string(), nodesc.display().to_string()],
        "{errors:?}"
    );
    assert!(errors[1]["message"]
        .as_str()
        .unwrap()
        .contains("description"));

    // Without cwds: the server's own directory. A directory with no skills: the user's only.
    let default = server.call::<SkillsList>(json!({})).await;
    assert_eq!(default["data"][0]["cwd"], cwd.display().to_string());
    let elsewhere = env.home.path().join("elsewhere");
    let other = server
        .call::<SkillsList>(json!({"cwds": [elsewhere.display().to_string()]}))
        .await;
    assert_eq!(names(&other["data"][0]), ["alpha", "delta"]);
}

#[tokio::test]
async fn force_reload_rescans_the_disk() {
    let env = Env::new().await;
    let cwd = env.work.path().display().to_string();
    let mut server = env.server(&[]).await;
    let first = server.call::<SkillsList>(json!({"cwds": [cwd]})).await;
    assert_eq!(names(&first["data"][0]), Vec::<&str>::new());
    write_skill(
        &env.work.path().join(".codex/skills"),
        "fresh",
        &skill_text("fresh", "New", "n"),
    );
    let reloaded = server
        .call::<SkillsList>(json!({"cwds": [cwd], "forceReload": true}))
        .await;
    assert_eq!(names(&reloaded["data"][0]), ["fresh"]);
}

// In the two tests below the files are complete on disk before the test waits for
// `skills/changed`, and the cache is dropped before that notification is sent, so the list
// that follows it (without `forceReload`) must show them.

#[tokio::test]
async fn a_skill_under_a_root_created_later_sends_skills_changed() {
    let env = Env::new().await;
    let cwd = env.work.path().display().to_string();
    let mut server = env.server(&[]).await;
    let first = server.call::<SkillsList>(json!({"cwds": [cwd]})).await;
    assert_eq!(names(&first["data"][0]), Vec::<&str>::new());
    // Neither `.codex` nor `.codex/skills` exists yet.
    write_skill(
        &env.work.path().join(".codex/skills"),
        "fresh",
        &skill_text("fresh", "New", "n"),
    );
    server.notification::<SkillsChanged>().await;
    let listed = server.call::<SkillsList>(json!({"cwds": [cwd]})).await;
    assert_eq!(names(&listed["data"][0]), ["fresh"]);
}

#[tokio::test]
async fn a_changed_user_skill_sends_skills_changed() {
    let env = Env::new().await;
    let root = env.home.path().join("skills");
    write_skill(&root, "alpha", &skill_text("alpha", "Old words", "a"));
    let cwd = env.work.path().display().to_string();
    let mut server = env.server(&[]).await;
    let first = server.call::<SkillsList>(json!({"cwds": [cwd]})).await;
    assert_eq!(first["data"][0]["skills"][0]["description"], "Old words");
    write_skill(&root, "alpha", &skill_text("alpha", "New words", "a"));
    server.notification::<SkillsChanged>().await;
    let listed = server.call::<SkillsList>(json!({"cwds": [cwd]})).await;
    assert_eq!(listed["data"][0]["skills"][0]["description"], "New words");
}

#[tokio::test]
async fn model_requests_list_skills_and_a_skill_input_adds_its_whole_file() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "ok"));
    let file = write_skill(
        &env.work.path().join(".codex/skills"),
        "beta",
        &skill_text("beta", "Beta repo skill", "The secret body."),
    );
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turn = server
        .call::<TurnStart>(json!({
            "threadId": thread,
            "input": [
                {"type": "text", "text": "use beta"},
                {"type": "skill", "name": "beta", "path": file.display().to_string()},
            ],
        }))
        .await;
    let turn_id = turn["turn"]["id"].as_str().unwrap().to_string();
    let done = server.turn_completed(&turn_id).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    let request = &env.wait_model_requests(1).await[0];
    let texts = input_texts(request);
    let listing = texts
        .iter()
        .find(|t| t.starts_with("<skills_instructions>"))
        .expect("a skills message");
    assert!(
        listing.contains(&format!(
            "- beta: Beta repo skill (file: {})",
            file.display()
        )),
        "{listing}"
    );
    assert!(
        !listing.contains("The secret body."),
        "bodies stay out of the listing"
    );
    let developer = request["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"][0]["text"] == listing.as_str())
        .unwrap();
    assert_eq!(developer["role"], "developer");

    let skill = texts
        .iter()
        .position(|t| t.starts_with("<skill>"))
        .expect("a <skill> message");
    assert_eq!(
        texts[skill],
        format!(
            "<skill>\n<name>beta</name>\n<path>{}</path>\n{}\n</skill>",
            file.display(),
            skill_text("beta", "Beta repo skill", "The secret body.")
        )
    );
    // Right after the user's own words, which carry no trace of the skill input.
    assert_eq!(texts[skill - 1], "use beta");
}

#[tokio::test]
async fn a_skill_input_whose_file_is_gone_warns_and_the_turn_goes_on() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "ok"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let ghost = env.work.path().join("ghost/SKILL.md");
    let turn = server
        .call::<TurnStart>(json!({
            "threadId": thread,
            "input": [
                {"type": "text", "text": "hi"},
                {"type": "skill", "name": "ghost", "path": ghost.display().to_string()},
            ],
        }))
        .await;
    let warning = server.thread_notification::<Warning>(&thread).await;
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.starts_with("skill `ghost` was not added:"),
        "{message}"
    );
    assert!(message.contains(&ghost.display().to_string()), "{message}");
    let done = server
        .turn_completed(turn["turn"]["id"].as_str().unwrap())
        .await;
    assert_eq!(done["turn"]["status"], "completed");
    let request = &env.wait_model_requests(1).await[0];
    assert!(!input_texts(request)
        .iter()
        .any(|t| t.starts_with("<skill>")));
}
