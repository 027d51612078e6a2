//! Building a Responses API request: base instructions as the first developer message, the
//! permissions, developer instructions and skills list, AGENTS.md and the environment context,
//! the history, the tools, and the per-turn options.

use crate::settings::{approval_policy_name, ThreadSettings};
use codex_protocol::v2::{ReasoningSummary, SandboxPolicy};
use serde_json::{json, Value};
use std::path::Path;

/// Our own base instructions, used when neither config nor the thread gives any.
pub const DEFAULT_BASE_INSTRUCTIONS: &str = "You are a coding agent working in the user's \
workspace through tools. Read before you change things, keep edits small and focused, run the \
project's checks when you can, and finish with a short account of what you did and what is left. \
Use the shell tool to inspect and build, and apply_patch to edit files.";

pub struct PromptParts<'a> {
    pub settings: &'a ThreadSettings,
    pub thread_id: &'a str,
    pub history: &'a [Value],
    pub tools: Vec<Value>,
    pub output_schema: Option<&'a Value>,
    pub project_docs: Option<&'a str>,
    /// The `<skills_instructions>` message: the skills' names, descriptions and files.
    pub skills: Option<&'a str>,
}

fn developer(text: &str) -> Value {
    json!({"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]})
}

fn user_text(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

/// The context messages that precede the history in every request.
pub fn context_messages(
    s: &ThreadSettings,
    project_docs: Option<&str>,
    skills: Option<&str>,
) -> Vec<Value> {
    let base = s
        .base_instructions
        .as_deref()
        .unwrap_or(DEFAULT_BASE_INSTRUCTIONS);
    let mut out = vec![developer(base)];
    out.push(developer(&permissions_text(s)));
    if let Some(dev) = s
        .developer_instructions
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        out.push(developer(dev));
    }
    if let Some(skills) = skills {
        out.push(developer(skills));
    }
    if let Some(docs) = project_docs.filter(|d| !d.trim().is_empty()) {
        out.push(user_text(&format!(
            "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\n{docs}\n</INSTRUCTIONS>",
            s.cwd.display()
        )));
    }
    out.push(user_text(&environment_context(s)));
    out
}

fn permissions_text(s: &ThreadSettings) -> String {
    let sandbox = match &s.sandbox {
        SandboxPolicy::DangerFullAccess => {
            "Commands run without a filesystem sandbox and with network access.".to_string()
        }
        SandboxPolicy::ReadOnly { .. } => {
            "Commands run in a read-only sandbox: they may read any file but write none."
                .to_string()
        }
        SandboxPolicy::ExternalSandbox { .. } => {
            "Commands run inside an external sandbox managed by the host.".to_string()
        }
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            ..
        } => {
            let roots: Vec<String> = std::iter::once(s.cwd.display().to_string())
                .chain(writable_roots.iter().map(|r| r.display().to_string()))
                .collect();
            format!(
                "Commands may write only inside: {} (plus temporary directories); .git stays \
                 read-only. Network access is {}.",
                roots.join(", "),
                if *network_access {
                    "enabled"
                } else {
                    "restricted"
                }
            )
        }
    };
    format!(
        "<permissions instructions>\nSandbox: {sandbox}\nApproval policy: {}.\n</permissions instructions>",
        approval_policy_name(&s.approval_policy)
    )
}

fn environment_context(s: &ThreadSettings) -> String {
    let shell = std::env::var("SHELL")
        .ok()
        .and_then(|p| {
            Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "bash".to_string());
    let network = match &s.sandbox {
        SandboxPolicy::DangerFullAccess => "enabled",
        SandboxPolicy::ReadOnly { network_access }
        | SandboxPolicy::WorkspaceWrite { network_access, .. } => {
            if *network_access {
                "enabled"
            } else {
                "restricted"
            }
        }
        SandboxPolicy::ExternalSandbox { .. } => "restricted",
    };
    let sandbox_mode = match &s.sandbox {
        SandboxPolicy::DangerFullAccess => "danger-full-access",
        SandboxPolicy::ReadOnly { .. } => "read-only",
        SandboxPolicy::ExternalSandbox { .. } => "external-sandbox",
        SandboxPolicy::WorkspaceWrite { .. } => "workspace-write",
    };
    format!(
        "<environment_context>\n  <cwd>{}</cwd>\n  <approval_policy>{}</approval_policy>\n  <sandbox_mode>{}</sandbox_mode>\n  <network_access>{}</network_access>\n  <shell>{}</shell>\n  <current_date>{}</current_date>\n</environment_context>",
        s.cwd.display(),
        approval_policy_name(&s.approval_policy),
        sandbox_mode,
        network,
        shell,
        chrono::Utc::now().format("%Y-%m-%d"),
    )
}

/// The request body for one sampling request.
pub fn request_body(p: &PromptParts<'_>) -> Value {
    let mut input = context_messages(p.settings, p.project_docs, p.skills);
    input.extend(crate::history::for_prompt(p.history));
    let mut body = json!({
        "model": p.settings.model,
        "input": input,
        "tools": p.tools,
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "store": false,
        "stream": true,
        "include": [],
        "prompt_cache_key": p.thread_id,
    });
    if p.settings.effort.is_some() || p.settings.summary.is_some() {
        let mut reasoning = json!({});
        if let Some(e) = p.settings.effort {
            reasoning["effort"] = serde_json::to_value(e).unwrap_or(Value::Null);
        }
        if let Some(sm) = p.settings.summary.filter(|s| *s != ReasoningSummary::None) {
            reasoning["summary"] = serde_json::to_value(sm).unwrap_or(Value::Null);
        }
        body["reasoning"] = reasoning;
        body["include"] = json!(["reasoning.encrypted_content"]);
    }
    if let Some(schema) = p.output_schema {
        body["text"] = json!({"format": {"type": "json_schema", "strict": true, "schema": schema, "name": "codex_output_schema"}});
    }
    body
}

/// AGENTS.md files from the git root down to cwd, within a shared byte budget.
pub fn project_docs(cwd: &Path, max_bytes: usize) -> Option<String> {
    if max_bytes == 0 {
        return None;
    }
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let root = cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf);
    let dirs: Vec<&Path> = match &root {
        Some(root) => {
            let mut v: Vec<&Path> = cwd
                .ancestors()
                .take_while(|d| d.starts_with(root))
                .collect();
            v.reverse();
            v
        }
        None => vec![cwd.as_path()],
    };
    let mut budget = max_bytes;
    let mut parts = Vec::new();
    for dir in dirs {
        if budget == 0 {
            break;
        }
        for name in ["AGENTS.override.md", "AGENTS.md"] {
            let path = dir.join(name);
            if let Ok(text) = std::fs::read_to_string(&path) {
                if text.trim().is_empty() {
                    break;
                }
                let mut cut = text.len().min(budget);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                budget -= cut;
                parts.push(text[..cut].to_string());
                break;
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_md_from_root_to_cwd_with_budget() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("AGENTS.md"), "root rules").unwrap();
        std::fs::write(root.join("a/b/AGENTS.md"), "leaf rules").unwrap();
        let docs = project_docs(&root.join("a/b"), 1000).unwrap();
        assert_eq!(docs, "root rules\n\nleaf rules");
        let cut = project_docs(&root.join("a/b"), 4).unwrap();
        assert_eq!(cut, "root");
    }
}
