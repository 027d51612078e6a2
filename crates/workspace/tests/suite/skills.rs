//! Skill discovery, rendering and change detection on real directories.

use codex_protocol::v2::SkillScope;
use codex_workspace::skills::{
    discover, render_instructions, render_skill_input, SkillHomes, SkillsCache, SkillsWatcher,
};
use std::path::Path;
use std::time::Duration;

fn skill(root: &Path, folder: &str, front: &str) {
    let dir = root.join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\n{front}\n---\n# Body of {folder}\n"),
    )
    .unwrap();
}

struct Homes {
    codex_home: tempfile::TempDir,
    home: tempfile::TempDir,
    cwd: tempfile::TempDir,
}

impl Homes {
    fn new() -> Self {
        Homes {
            codex_home: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            cwd: tempfile::tempdir().unwrap(),
        }
    }
    fn homes(&self) -> SkillHomes {
        SkillHomes {
            codex_home: self.codex_home.path().into(),
            home: Some(self.home.path().into()),
        }
    }
}

#[test]
fn repo_and_user_skills_are_found_with_scope_precedence_and_errors_per_file() {
    let h = Homes::new();
    skill(
        &h.cwd.path().join(".codex/skills"),
        "deploy",
        "name: deploy\ndescription: Ship it (repo)",
    );
    skill(
        &h.cwd.path().join(".agents/skills"),
        "lint",
        "name: lint\ndescription: Lint code\nmetadata:\n  short-description: Lints",
    );
    skill(
        &h.codex_home.path().join("skills"),
        "deploy-user",
        "name: deploy\ndescription: Ship it (user)",
    );
    skill(
        &h.codex_home.path().join("skills"),
        "pdf",
        "name: pdf\ndescription: >\n  Read and\n  write PDFs",
    );
    skill(
        &h.home.path().join(".agents/skills"),
        "broken",
        "name: broken",
    );
    skill(
        &h.home.path().join(".agents/skills"),
        ".hidden",
        "name: hidden\ndescription: no",
    );

    let entry = discover(&h.homes(), h.cwd.path());
    let got: Vec<(&str, &str, SkillScope)> = entry
        .skills
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str(), s.scope))
        .collect();
    assert_eq!(
        got,
        vec![
            ("deploy", "Ship it (repo)", SkillScope::Repo),
            ("lint", "Lint code", SkillScope::Repo),
            ("pdf", "Read and write PDFs", SkillScope::User),
        ]
    );
    assert_eq!(entry.skills[1].short_description.as_deref(), Some("Lints"));
    assert!(entry.skills[0]
        .path
        .ends_with(".codex/skills/deploy/SKILL.md"));
    assert_eq!(entry.errors.len(), 1);
    assert!(entry.errors[0].path.ends_with("broken/SKILL.md"));
    assert!(
        entry.errors[0].message.contains("description"),
        "{}",
        entry.errors[0].message
    );
}

#[test]
fn the_model_sees_names_descriptions_and_files_but_not_bodies() {
    let h = Homes::new();
    skill(
        &h.codex_home.path().join("skills"),
        "pdf",
        "name: pdf\ndescription: Work with PDFs",
    );
    let entry = discover(&h.homes(), h.cwd.path());
    let text = render_instructions(&entry.skills).unwrap();
    assert!(text.starts_with("<skills_instructions>") && text.ends_with("</skills_instructions>"));
    let file = entry.skills[0].path.display().to_string();
    assert!(
        text.contains(&format!("- pdf: Work with PDFs (file: {file})")),
        "{text}"
    );
    assert!(!text.contains("Body of pdf"));
    assert!(render_instructions(&[]).is_none());

    let input = render_skill_input("pdf", &entry.skills[0].path).unwrap();
    assert!(input.starts_with(&format!("<skill>\n<name>pdf</name>\n<path>{file}</path>\n")));
    assert!(input.contains("# Body of pdf") && input.ends_with("</skill>"));
    assert!(render_skill_input("x", &h.cwd.path().join("missing/SKILL.md")).is_err());
}

#[test]
fn the_cache_answers_until_forced_or_invalidated() {
    let h = Homes::new();
    let cache = SkillsCache::new(h.homes());
    assert!(cache.list(h.cwd.path(), false).skills.is_empty());
    skill(
        &h.codex_home.path().join("skills"),
        "new",
        "name: new\ndescription: Added later",
    );
    assert!(
        cache.list(h.cwd.path(), false).skills.is_empty(),
        "served from cache"
    );
    assert_eq!(cache.list(h.cwd.path(), true).skills.len(), 1);
    skill(
        &h.codex_home.path().join("skills"),
        "newer",
        "name: newer\ndescription: Later still",
    );
    cache.invalidate();
    assert_eq!(cache.list(h.cwd.path(), false).skills.len(), 2);
}

#[tokio::test]
async fn the_watcher_signals_changes_even_for_a_root_created_later() {
    let h = Homes::new();
    let homes = h.homes();
    let roots: Vec<_> = homes
        .roots(h.cwd.path())
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let _watcher = SkillsWatcher::start(roots, tx).unwrap();
    // `$CODEX_HOME/skills` does not exist yet: creating a skill there must still be seen.
    std::fs::create_dir_all(h.codex_home.path().join("skills")).unwrap();
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    skill(
        &h.codex_home.path().join("skills"),
        "a",
        "name: a\ndescription: d",
    );
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    // Let the burst from creating the skill drain, then: unrelated files do not signal.
    while tokio::time::timeout(Duration::from_millis(300), rx.recv())
        .await
        .is_ok()
    {}
    std::fs::write(h.cwd.path().join("unrelated.txt"), "x").unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(400), rx.recv()).await;
    assert!(
        quiet.is_err(),
        "an unrelated change signalled skills/changed"
    );
}
