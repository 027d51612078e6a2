//! Argument handling of the built binary: help everywhere, usage errors with exit 2 before
//! anything runs, and the schema export.

use super::harness::{run, Env};
use std::process::Output;

async fn codex(env: &Env, args: &[&str]) -> Output {
    let mut cmd = env.command();
    cmd.args(args);
    run(cmd, "").await
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn every_command_has_help_on_stdout() {
    let env = Env::new().await;
    for (args, usage) in [
        (&["--help"][..], "Usage: codex [OPTIONS] <COMMAND>"),
        (&["help"][..], "Usage: codex [OPTIONS] <COMMAND>"),
        (&["app-server", "--help"][..], "Usage: codex app-server"),
        (
            &["app-server", "generate-json-schema", "-h"][..],
            "Usage: codex app-server generate-json-schema --out <DIR>",
        ),
        (
            &["exec", "--help"][..],
            "Usage: codex exec [OPTIONS] [PROMPT]",
        ),
        (
            &["help", "exec"][..],
            "Usage: codex exec [OPTIONS] [PROMPT]",
        ),
    ] {
        let out = codex(&env, args).await;
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(stdout(&out).contains(usage), "{args:?}: {}", stdout(&out));
    }
    // `exec --help` is help, not a prompt sent to the model.
    assert!(env.model_requests().is_empty());
}

#[tokio::test]
async fn version_prints_the_release() {
    let env = Env::new().await;
    let out = codex(&env, &["--version"]).await;
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "codex-cli 0.163.0");
}

#[tokio::test]
async fn usage_errors_exit_2_with_the_reason_before_any_model_request() {
    let env = Env::new().await;
    let overrides: Vec<String> = env.mock_overrides();
    let mock: Vec<&str> = overrides.iter().flat_map(|o| ["-c", o.as_str()]).collect();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--bogus"],
            "error: unexpected argument '--bogus' found",
        ),
        (
            vec!["frobnicate"],
            "error: unrecognized subcommand 'frobnicate'",
        ),
        (vec![], "error: a command is required"),
        (
            [&["exec"][..], &mock, &["--bogus", "hi"]].concat(),
            "error: unexpected argument '--bogus' found",
        ),
        (
            [&["exec"][..], &mock, &["--sandbox", "everything", "hi"]].concat(),
            "error: invalid value 'everything' for '--sandbox'",
        ),
        (
            [&["exec"][..], &mock, &["--model"]].concat(),
            "error: a value is required for '--model'",
        ),
        (
            vec!["app-server", "--nope"],
            "error: unexpected argument '--nope' found",
        ),
        (
            vec!["app-server", "generate-json-schema"],
            "error: the following required arguments were not provided: --out <DIR>",
        ),
        (
            vec![
                "app-server",
                "generate-json-schema",
                "--experimental",
                "--out",
                "x",
            ],
            "error: --experimental is not supported",
        ),
    ];
    for (args, expected) in cases {
        let out = codex(&env, &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = stderr(&out);
        assert!(err.starts_with(expected), "{args:?}: {err}");
        assert!(err.contains("For more information, try '--help'."), "{err}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    assert!(env.model_requests().is_empty());
}

#[tokio::test]
async fn generate_json_schema_writes_the_committed_files() {
    let env = Env::new().await;
    let out_dir = env.work.path().join("schema-out");
    let out = codex(
        &env,
        &[
            "app-server",
            "generate-json-schema",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let methods = std::fs::read_to_string(out_dir.join("methods.json")).unwrap();
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/methods.json"),
    )
    .unwrap();
    assert_eq!(methods, committed);
    assert!(out_dir
        .join("codex_app_server_protocol.v2.schemas.json")
        .is_file());
}
