//! Skills: folders holding a `SKILL.md` whose front matter gives a `name` and a `description`.
//!
//! Where they are found, in precedence order (a name found twice keeps the first):
//! repo scope `<cwd>/.codex/skills/*/SKILL.md` and `<cwd>/.agents/skills/*/SKILL.md`, then user
//! scope `$CODEX_HOME/skills/*/SKILL.md` and `$HOME/.agents/skills/*/SKILL.md`. Hidden folders
//! are skipped. A file that cannot be read or parsed is reported in the entry's `errors` and
//! the other skills are still listed.
//!
//! The model sees the list (name, description, file), never the bodies, in a
//! `<skills_instructions>` developer message ([`render_instructions`]); a `{type: "skill"}`
//! input adds one skill's whole file as a `<skill>` user message ([`render_skill_input`]).
//! [`SkillsWatcher`] reports changes to any of the roots for `skills/changed`.

use crate::error::WorkspaceError;
use crate::frontmatter;
use codex_protocol::v2::{SkillErrorInfo, SkillMetadata, SkillScope, SkillsListEntry};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// Longest accepted skill name and description (characters).
const MAX_NAME_CHARS: usize = 64;
const MAX_DESCRIPTION_CHARS: usize = 1024;
/// A `SKILL.md` larger than this is refused rather than read.
const MAX_SKILL_FILE_BYTES: u64 = 1024 * 1024;

/// The directories outside any repository that hold user skills.
#[derive(Clone, Debug)]
pub struct SkillHomes {
    pub codex_home: PathBuf,
    /// `$HOME`, when known.
    pub home: Option<PathBuf>,
}

impl SkillHomes {
    /// The skill roots for `cwd`, in precedence order, with their scope.
    pub fn roots(&self, cwd: &Path) -> Vec<(PathBuf, SkillScope)> {
        let mut roots = vec![
            (cwd.join(".codex").join("skills"), SkillScope::Repo),
            (cwd.join(".agents").join("skills"), SkillScope::Repo),
            (self.codex_home.join("skills"), SkillScope::User),
        ];
        if let Some(home) = &self.home {
            roots.push((home.join(".agents").join("skills"), SkillScope::User));
        }
        roots
    }
}

/// Scans the roots of `cwd` (blocking I/O).
pub fn discover(homes: &SkillHomes, cwd: &Path) -> SkillsListEntry {
    let mut skills = Vec::new();
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    for (root, scope) in homes.roots(cwd) {
        let Ok(dir) = std::fs::read_dir(&root) else {
            continue; // a missing root is the common case, not an error
        };
        let mut folders: Vec<PathBuf> = dir
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        for folder in folders {
            let file = folder.join("SKILL.md");
            if !file.is_file() {
                continue;
            }
            match read_skill(&file, scope) {
                Ok(skill) => {
                    if names.insert(skill.name.clone()) {
                        skills.push(skill);
                    } else {
                        tracing::debug!("skill {} at {} is shadowed", skill.name, file.display());
                    }
                }
                Err(message) => errors.push(SkillErrorInfo {
                    path: file.display().to_string(),
                    message,
                }),
            }
        }
    }
    SkillsListEntry {
        cwd: cwd.display().to_string(),
        skills,
        errors,
    }
}

fn read_text(file: &Path) -> Result<String, String> {
    let size = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
    if size > MAX_SKILL_FILE_BYTES {
        return Err(format!(
            "the file is {size} bytes, over the {MAX_SKILL_FILE_BYTES}-byte limit for skills"
        ));
    }
    std::fs::read_to_string(file).map_err(|e| e.to_string())
}

fn read_skill(file: &Path, scope: SkillScope) -> Result<SkillMetadata, String> {
    let text = read_text(file)?;
    let fm = frontmatter::parse(&text)?;
    let field = |key: &str, max: usize| -> Result<String, String> {
        let value = fm
            .values
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("front matter has no `{key}`"))?;
        if value.chars().count() > max {
            return Err(format!("`{key}` is longer than {max} characters"));
        }
        Ok(value)
    };
    let name = field("name", MAX_NAME_CHARS)?;
    if name.contains('\n') {
        return Err("`name` must be one line".into());
    }
    let description = field("description", MAX_DESCRIPTION_CHARS)?;
    Ok(SkillMetadata {
        name,
        description,
        short_description: fm.values.get("metadata.short-description").cloned(),
        path: file.to_path_buf(),
        scope,
        enabled: true,
    })
}

/// `skills/list` answers from here; a `forceReload` or a change seen by the watcher rescans.
pub struct SkillsCache {
    homes: SkillHomes,
    entries: Mutex<HashMap<PathBuf, SkillsListEntry>>,
}

impl SkillsCache {
    pub fn new(homes: SkillHomes) -> Self {
        SkillsCache {
            homes,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn homes(&self) -> &SkillHomes {
        &self.homes
    }

    /// The cached skills of `cwd`, without touching the disk: lets an async caller skip the
    /// blocking pool on a hit.
    pub fn cached(&self, cwd: &Path) -> Option<SkillsListEntry> {
        self.entries.lock().ok().and_then(|e| e.get(cwd).cloned())
    }

    /// The skills of `cwd` (blocking I/O on a miss).
    pub fn list(&self, cwd: &Path, force_reload: bool) -> SkillsListEntry {
        if !force_reload {
            if let Some(hit) = self.entries.lock().ok().and_then(|e| e.get(cwd).cloned()) {
                return hit;
            }
        }
        let entry = discover(&self.homes, cwd);
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(cwd.to_path_buf(), entry.clone());
        }
        entry
    }

    /// Forgets every cached scan (after the watcher saw a change).
    pub fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The developer message listing the skills, or `None` when there are none.
pub fn render_instructions(skills: &[SkillMetadata]) -> Option<String> {
    let enabled: Vec<&SkillMetadata> = skills.iter().filter(|s| s.enabled).collect();
    if enabled.is_empty() {
        return None;
    }
    let mut text = String::from(
        "<skills_instructions>\n## Skills\nA skill is a set of instructions for a kind of task, \
         kept in a SKILL.md file. These skills are available (name: description, then the file \
         that holds the full instructions):\n",
    );
    for s in enabled {
        text.push_str(&format!(
            "- {}: {} (file: {})\n",
            s.name,
            s.description.replace('\n', " "),
            s.path.display()
        ));
    }
    text.push_str(
        "When the user names a skill, or a task clearly matches a skill's description, open its \
         file and follow it; read only the parts you need.\n</skills_instructions>",
    );
    Some(text)
}

/// The user message a `{type: "skill", name, path}` input becomes: the whole file.
pub fn render_skill_input(name: &str, path: &Path) -> Result<String, WorkspaceError> {
    let contents = read_text(path)
        .map_err(|message| WorkspaceError::io(path, std::io::Error::other(message)))?;
    Ok(format!(
        "<skill>\n<name>{name}</name>\n<path>{}</path>\n{contents}\n</skill>",
        path.display()
    ))
}

/// Watches the skill roots of some working directories and signals (coalesced) on any change
/// under them, including a root being created later. Missing roots are watched through their
/// nearest existing ancestor, and the watches are re-armed after each change.
pub struct SkillsWatcher {
    task: tokio::task::JoinHandle<()>,
}

/// Changes closer together than this are signalled once.
const SKILLS_COALESCE: Duration = Duration::from_millis(100);

impl SkillsWatcher {
    /// Starts watching; each coalesced change sends `()` on `changed` (capacity 1 is enough:
    /// a pending signal already means "rescan"). Must be called inside a tokio runtime.
    pub fn start(roots: Vec<PathBuf>, changed: mpsc::Sender<()>) -> Result<Self, WorkspaceError> {
        let (raw_tx, mut raw_rx) = mpsc::channel::<Vec<PathBuf>>(256);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(e) = event {
                    let _ = raw_tx.try_send(e.paths);
                }
            })
            .map_err(|e| WorkspaceError::Watch {
                path: roots.first().cloned().unwrap_or_default(),
                message: e.to_string(),
            })?;
        let mut armed = arm(&mut watcher, &roots, &[]);
        let task = tokio::spawn(async move {
            while let Some(first) = raw_rx.recv().await {
                let mut paths = first;
                let deadline = tokio::time::Instant::now() + SKILLS_COALESCE;
                while let Ok(Some(more)) = tokio::time::timeout_at(deadline, raw_rx.recv()).await {
                    paths.extend(more);
                }
                let relevant = paths
                    .iter()
                    .any(|p| roots.iter().any(|r| p.starts_with(r) || r.starts_with(p)));
                armed = arm(&mut watcher, &roots, &armed);
                if relevant && changed.try_send(()).is_err() && changed.is_closed() {
                    return;
                }
            }
        });
        Ok(SkillsWatcher { task })
    }
}

impl Drop for SkillsWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watches each root (recursively) or, when it does not exist yet, its nearest existing
/// ancestor (not recursively). Returns what is now watched.
fn arm(
    watcher: &mut RecommendedWatcher,
    roots: &[PathBuf],
    previous: &[(PathBuf, RecursiveMode)],
) -> Vec<(PathBuf, RecursiveMode)> {
    let mut wanted: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for root in roots {
        let target = if root.is_dir() {
            (root.clone(), RecursiveMode::Recursive)
        } else {
            let mut ancestor = root.as_path();
            while let Some(parent) = ancestor.parent() {
                ancestor = parent;
                if ancestor.is_dir() {
                    break;
                }
            }
            (ancestor.to_path_buf(), RecursiveMode::NonRecursive)
        };
        if !wanted.contains(&target) {
            wanted.push(target);
        }
    }
    for old in previous {
        if !wanted.contains(old) {
            let _ = watcher.unwatch(&old.0);
        }
    }
    for new in &wanted {
        if !previous.contains(new) {
            if let Err(e) = watcher.watch(&new.0, new.1) {
                tracing::debug!("cannot watch {} for skills: {e}", new.0.display());
            }
        }
    }
    wanted
}
