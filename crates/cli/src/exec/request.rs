//! What exec asks the runtime for, built from the command line before the runtime starts, so
//! every bad path or schema fails (exit 1) before any model request: the thread to start or
//! resume with its settings, and the turn's input and output schema.

use super::args::{ExecArgs, ResumeTarget};
use super::workspace::{existing_path, WorkspaceError};
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, SandboxMode, SandboxPolicy, ThreadResumeParams,
    ThreadStartParams, TurnStartParams, UserInput,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Path(#[from] WorkspaceError),
    #[error("--output-schema {path}: {reason}")]
    OutputSchema { path: String, reason: String },
}

/// Which thread the turn runs on.
#[derive(Clone, Debug, PartialEq)]
pub enum ThreadChoice {
    Start(ThreadStartParams),
    Resume(ThreadResumeParams),
    /// Resume the most recent thread of this working directory; the params carry everything but
    /// the id.
    ResumeLast {
        cwd: PathBuf,
        params: ThreadResumeParams,
    },
}

/// The requests of one exec run.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecRequest {
    pub thread: ThreadChoice,
    /// The turn, without `thread_id` (known once the thread is).
    pub turn: TurnStartParams,
    /// Extra writable roots, added to a workspace-write sandbox once the thread's is known.
    pub add_dirs: Vec<PathBuf>,
}

/// Builds the requests. `cwd` is the checked working root; `configured_approval` says whether
/// the configuration chose an approval policy (otherwise exec asks for none: nobody is there
/// to answer).
pub fn build(
    args: &ExecArgs,
    cwd: &Path,
    prompt: String,
    configured_approval: bool,
) -> Result<ExecRequest, RequestError> {
    let mut input = vec![UserInput::Text {
        text: prompt,
        text_elements: Vec::new(),
    }];
    for image in &args.images {
        input.push(UserInput::LocalImage {
            path: existing_path(image, "image")?,
            detail: None,
        });
    }
    let output_schema = args
        .output_schema
        .as_deref()
        .map(read_output_schema)
        .transpose()?;
    let add_dirs = args
        .add_dirs
        .iter()
        .map(|d| existing_path(d, "--add-dir"))
        .collect::<Result<Vec<_>, _>>()?;

    let never = AskForApproval::Mode(ApprovalMode::Never);
    let settings = ThreadStartParams {
        model: args.model.clone(),
        sandbox: if args.bypass_sandbox {
            Some(SandboxMode::DangerFullAccess)
        } else {
            args.sandbox
        },
        approval_policy: (args.bypass_sandbox || !configured_approval).then_some(never),
        cwd: args
            .cd
            .is_some()
            .then(|| cwd.to_string_lossy().into_owned()),
        ..ThreadStartParams::default()
    };
    let resume = |thread_id: String| ThreadResumeParams {
        thread_id,
        exclude_turns: Some(true),
        settings: settings.clone(),
    };
    let thread = match &args.resume {
        None => ThreadChoice::Start(ThreadStartParams {
            // A new thread always records where it runs.
            cwd: Some(cwd.to_string_lossy().into_owned()),
            thread_source: args.thread_source,
            ephemeral: args.ephemeral.then_some(true),
            ..settings.clone()
        }),
        Some(ResumeTarget::Id(id)) => ThreadChoice::Resume(resume(id.clone())),
        Some(ResumeTarget::Last) => ThreadChoice::ResumeLast {
            cwd: cwd.to_path_buf(),
            params: resume(String::new()),
        },
    };
    Ok(ExecRequest {
        thread,
        turn: TurnStartParams {
            input,
            output_schema,
            ..TurnStartParams::default()
        },
        add_dirs,
    })
}

fn read_output_schema(path: &Path) -> Result<Value, RequestError> {
    let fail = |reason: String| RequestError::OutputSchema {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let schema: Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
    if !schema.is_object() {
        return Err(fail("a JSON Schema must be a JSON object".into()));
    }
    Ok(schema)
}

/// The sandbox of the turn when `--add-dir` asks for more writable roots: the thread's own
/// workspace-write policy with the roots added. Other sandboxes have no writable roots to
/// extend; the error says so and exec warns.
pub fn with_added_dirs(
    policy: &SandboxPolicy,
    add_dirs: &[PathBuf],
) -> Result<Option<SandboxPolicy>, &'static str> {
    if add_dirs.is_empty() {
        return Ok(None);
    }
    match policy {
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        } => {
            let mut roots = writable_roots.clone();
            roots.extend(
                add_dirs
                    .iter()
                    .filter(|d| !writable_roots.contains(d))
                    .cloned(),
            );
            Ok(Some(SandboxPolicy::WorkspaceWrite {
                writable_roots: roots,
                network_access: *network_access,
                exclude_tmpdir_env_var: *exclude_tmpdir_env_var,
                exclude_slash_tmp: *exclude_slash_tmp,
            }))
        }
        SandboxPolicy::ReadOnly { .. } => Err("the sandbox is read-only"),
        SandboxPolicy::DangerFullAccess => Err("there is no sandbox (danger-full-access)"),
        SandboxPolicy::ExternalSandbox { .. } => Err("the sandbox is external"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::v2::ThreadSource;

    #[test]
    fn a_new_thread_gets_the_flags_and_exec_asks_no_approvals() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("i.png");
        std::fs::write(&image, b"png").unwrap();
        let schema = dir.path().join("s.json");
        std::fs::write(&schema, r#"{"type":"object"}"#).unwrap();
        let args = ExecArgs {
            model: Some("m".into()),
            sandbox: Some(SandboxMode::WorkspaceWrite),
            thread_source: Some(ThreadSource::User),
            images: vec![image.clone()],
            output_schema: Some(schema),
            add_dirs: vec![dir.path().to_path_buf()],
            ephemeral: true,
            ..ExecArgs::default()
        };
        let req = build(&args, Path::new("/w"), "hi".into(), false).unwrap();
        let ThreadChoice::Start(start) = &req.thread else {
            panic!("{:?}", req.thread)
        };
        assert_eq!(start.model.as_deref(), Some("m"));
        assert_eq!(start.sandbox, Some(SandboxMode::WorkspaceWrite));
        assert_eq!(start.cwd.as_deref(), Some("/w"));
        assert_eq!(start.thread_source, Some(ThreadSource::User));
        assert_eq!(start.ephemeral, Some(true));
        assert_eq!(
            start.approval_policy,
            Some(AskForApproval::Mode(ApprovalMode::Never))
        );
        assert_eq!(req.turn.input.len(), 2);
        assert_eq!(
            req.turn.input[1],
            UserInput::LocalImage {
                path: std::fs::canonicalize(&image).unwrap(),
                detail: None
            }
        );
        assert_eq!(
            req.turn.output_schema,
            Some(serde_json::json!({"type": "object"}))
        );
        // A configured policy is left to the configuration.
        let req = build(&args, Path::new("/w"), "hi".into(), true).unwrap();
        let ThreadChoice::Start(start) = &req.thread else {
            panic!()
        };
        assert_eq!(start.approval_policy, None);
    }

    #[test]
    fn resume_keeps_the_thread_directory_unless_cd_is_given() {
        let args = ExecArgs {
            resume: Some(ResumeTarget::Id("t1".into())),
            ..ExecArgs::default()
        };
        let req = build(&args, Path::new("/w"), "hi".into(), false).unwrap();
        let ThreadChoice::Resume(p) = &req.thread else {
            panic!()
        };
        assert_eq!(p.thread_id, "t1");
        assert_eq!(p.settings.cwd, None);
        let args = ExecArgs {
            resume: Some(ResumeTarget::Id("t1".into())),
            cd: Some("/w".into()),
            ..ExecArgs::default()
        };
        let req = build(&args, Path::new("/w"), "hi".into(), false).unwrap();
        let ThreadChoice::Resume(p) = &req.thread else {
            panic!()
        };
        assert_eq!(p.settings.cwd.as_deref(), Some("/w"));
    }

    #[test]
    fn bad_files_fail_before_the_runtime_starts() {
        let dir = tempfile::tempdir().unwrap();
        let args = ExecArgs {
            images: vec!["/no/such.png".into()],
            ..ExecArgs::default()
        };
        let e = build(&args, dir.path(), "hi".into(), false).unwrap_err();
        assert!(e.to_string().starts_with("image /no/such.png"), "{e}");
        let schema = dir.path().join("s.json");
        std::fs::write(&schema, "[1]").unwrap();
        let args = ExecArgs {
            output_schema: Some(schema),
            ..ExecArgs::default()
        };
        let e = build(&args, dir.path(), "hi".into(), false).unwrap_err();
        assert!(e.to_string().contains("JSON object"), "{e}");
    }

    #[test]
    fn added_dirs_extend_only_a_workspace_write_sandbox() {
        let ww = SandboxPolicy::WorkspaceWrite {
            writable_roots: vec!["/a".into()],
            network_access: true,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        };
        let extended = with_added_dirs(&ww, &["/a".into(), "/b".into()]).unwrap();
        assert_eq!(
            extended,
            Some(SandboxPolicy::WorkspaceWrite {
                writable_roots: vec!["/a".into(), "/b".into()],
                network_access: true,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            })
        );
        assert_eq!(with_added_dirs(&ww, &[]).unwrap(), None);
        let ro = SandboxPolicy::ReadOnly {
            network_access: false,
        };
        assert!(with_added_dirs(&ro, &["/b".into()]).is_err());
    }
}
