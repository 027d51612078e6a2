//! Project layers: every `.codex/` folder from the project root down to the working directory
//! (the root is the nearest ancestor holding a `project_root_markers` entry, `.git` by
//! default). A project's `config.toml` applies only when `[projects."<dir>"]` (or the root's
//! entry) says `trust_level = "trusted"`; otherwise the layer is listed but disabled, as the
//! official runtime does, so a cloned repository cannot change the sandbox by itself.

use crate::config_toml::{ProjectToml, TrustLevel};
use crate::error::ConfigError;
use crate::layers::{read_toml_file, Layer, CONFIG_FILE};
use codex_protocol::v2::ConfigLayerSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys that decide project layers, read from the layers below them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProjectKeys {
    pub project_root_markers: Option<Vec<String>>,
    pub projects: BTreeMap<String, ProjectToml>,
}

const DEFAULT_ROOT_MARKERS: &[&str] = &[".git"];

pub(crate) fn project_layers(
    cwd: &Path,
    keys: &ProjectKeys,
    codex_home: &Path,
    user_file: &Path,
) -> Result<Vec<Layer>, ConfigError> {
    let markers: Vec<&str> = match &keys.project_root_markers {
        Some(markers) => markers.iter().map(String::as_str).collect(),
        None => DEFAULT_ROOT_MARKERS.to_vec(),
    };
    let root = project_root(cwd, &markers);
    let mut dirs: Vec<&Path> = Vec::new();
    for dir in cwd.ancestors() {
        dirs.push(dir);
        if dir == root {
            break;
        }
    }
    dirs.reverse();

    // Resolved only when a `.codex` folder turns up: most working directories have none.
    let mut home: Option<PathBuf> = None;
    let mut layers = Vec::new();
    for dir in dirs {
        let dot_codex = dir.join(".codex");
        if !dot_codex.is_dir() {
            continue;
        }
        // `~/.codex` is CODEX_HOME, already the user layer; a project inside $HOME must not
        // read it twice.
        let home = home.get_or_insert_with(|| {
            std::fs::canonicalize(codex_home).unwrap_or_else(|_| codex_home.to_path_buf())
        });
        if std::fs::canonicalize(&dot_codex).is_ok_and(|p| p == *home) {
            continue;
        }
        let reason = disabled_reason(keys, dir, &root, user_file);
        let source = ConfigLayerSource::Project {
            dot_codex_folder: dot_codex.clone(),
        };
        let mut layer = match read_toml_file(&dot_codex.join(CONFIG_FILE)) {
            Ok(Some((text, table))) => Layer::new(source, table, Some(text)),
            // No file: an empty layer that applies (the folder may matter for other things).
            Ok(None) => {
                layers.push(Layer::new(source, toml::Table::new(), None));
                continue;
            }
            // A broken file in an untrusted project is shown as disabled, not fatal.
            Err(_) if reason.is_some() => Layer::new(source, toml::Table::new(), None),
            Err(e) => return Err(e),
        };
        layer.disabled_reason = reason;
        layers.push(layer);
    }
    Ok(layers)
}

/// The nearest ancestor of `cwd` (itself included) holding one of `markers`; `cwd` when none
/// does or the list is empty.
fn project_root(cwd: &Path, markers: &[&str]) -> PathBuf {
    if markers.is_empty() {
        return cwd.to_path_buf();
    }
    cwd.ancestors()
        .find(|dir| {
            markers
                .iter()
                .any(|m| dir.join(m).symlink_metadata().is_ok())
        })
        .unwrap_or(cwd)
        .to_path_buf()
}

fn disabled_reason(
    keys: &ProjectKeys,
    dir: &Path,
    root: &Path,
    user_file: &Path,
) -> Option<String> {
    let trust = |path: &Path| {
        keys.projects
            .get(path.to_string_lossy().as_ref())
            .and_then(|p| p.trust_level)
            .map(|level| (path.to_path_buf(), level))
    };
    let user_file = user_file.display();
    match trust(dir).or_else(|| trust(root)) {
        Some((_, TrustLevel::Trusted)) => None,
        Some((key, TrustLevel::Untrusted)) => Some(format!(
            "{} is marked as untrusted in {user_file}. To load project-local config, hooks, and exec policies, mark it trusted.",
            key.display()
        )),
        None => Some(format!(
            "To load project-local config, hooks, and exec policies, add {} as a trusted project in {user_file}.",
            root.display()
        )),
    }
}
