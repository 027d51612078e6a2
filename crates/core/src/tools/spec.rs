//! Function-tool specs as the Responses API takes them, and the specs of the built-in
//! tools that are plain functions.

use serde_json::{json, Value};

fn approval_properties() -> serde_json::Map<String, Value> {
    let mut p = serde_json::Map::new();
    p.insert(
        "sandbox_permissions".into(),
        json!({"type": "string", "enum": ["use_default", "require_escalated"], "description": "\"use_default\" to run in the sandbox, or \"require_escalated\" to ask the user to run this command without it (only when the sandbox blocks something the task needs)."}),
    );
    p.insert(
        "justification".into(),
        json!({"type": "string", "description": "With require_escalated: one sentence telling the user why the command needs to run outside the sandbox."}),
    );
    p
}

pub fn function(
    name: &str,
    description: &str,
    mut properties: serde_json::Map<String, Value>,
    required: &[&str],
    approval: bool,
) -> Value {
    if approval {
        properties.extend(approval_properties());
    }
    json!({
        "type": "function",
        "name": name,
        "description": description,
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        },
    })
}

pub fn props(pairs: &[(&str, Value)]) -> serde_json::Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn exec_command() -> Value {
    function(
        "exec_command",
        "Run a shell command. Returns its output and exit code, or, if it is still running after yield_time_ms, the output so far and a session ID: the process keeps running, and write_stdin polls it (or, with tty, types into it).",
        props(&[
            ("cmd", json!({"type": "string", "description": "The shell script to run."})),
            ("workdir", json!({"type": "string", "description": "Directory to run in; relative paths resolve against the turn's working directory (the default)."})),
            ("shell", json!({"type": "string", "description": "Shell binary to use (default bash)."})),
            ("login", json!({"type": "boolean", "description": "Run the shell as a login shell (-lc instead of -c). Defaults to true."})),
            ("tty", json!({"type": "boolean", "description": "Run on a pseudo-terminal so the session takes input through write_stdin (REPLs, prompts, debuggers); input is echoed and lines end in \\r\\n. Default false: plain pipes, stdin closed."})),
            ("yield_time_ms", json!({"type": "number", "description": "How long to wait for the command before returning (250-30000, default 10000)."})),
            ("max_output_tokens", json!({"type": "number", "description": "Budget for the returned output (default 10000); the middle of longer output is cut."})),
        ]),
        &["cmd"],
        true,
    )
}

pub fn write_stdin() -> Value {
    function(
        "write_stdin",
        "Send characters to a session that exec_command left running and return the output it printed since the last call, with its exit code once it has exited. Empty chars only polls. Only sessions started with tty=true take input.",
        props(&[
            ("session_id", json!({"type": "number", "description": "The session ID exec_command returned."})),
            ("chars", json!({"type": "string", "description": "Text to type into the terminal (include \\n to submit a line); empty to poll."})),
            ("yield_time_ms", json!({"type": "number", "description": "How long to wait for output: after a write 250-30000 ms (default 250); an empty poll waits 5000-300000 ms unless the process exits first."})),
            ("max_output_tokens", json!({"type": "number", "description": "Budget for the returned output (default 10000)."})),
        ]),
        &["session_id"],
        false,
    )
}

pub fn shell_command() -> Value {
    function(
        "shell_command",
        "Run a shell script and return its exit code and output. Always set workdir; it is killed after timeout_ms.",
        props(&[
            ("command", json!({"type": "string", "description": "The shell script to run."})),
            ("workdir", json!({"type": "string", "description": "Directory to run in (default: the turn's working directory)."})),
            ("login", json!({"type": "boolean", "description": "Run as a login shell (default true)."})),
            ("timeout_ms", json!({"type": "number", "description": "Kill the command after this many milliseconds (default 10000)."})),
        ]),
        &["command"],
        true,
    )
}

pub fn view_image() -> Value {
    function(
        "view_image",
        "Look at a local image file (png, jpeg, gif or webp). Use only for a file path the user gave you that is not already attached.",
        props(&[(
            "path",
            json!({"type": "string", "description": "Path to the image file."}),
        )]),
        &["path"],
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::super::{builtin_tools, Family, ToolSet};

    fn names(model: &str) -> Vec<String> {
        ToolSet::new(builtin_tools())
            .specs(Family::of(model))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn tool_sets_per_family() {
        assert_eq!(
            names("mock-model"),
            ["exec_command", "write_stdin", "update_plan", "view_image"]
        );
        assert_eq!(
            names("gpt-5.1-codex"),
            [
                "exec_command",
                "write_stdin",
                "update_plan",
                "apply_patch",
                "view_image"
            ]
        );
        assert_eq!(
            names("o3-mini"),
            ["shell_command", "update_plan", "apply_patch", "view_image"]
        );
        let specs = |model: &str| ToolSet::new(builtin_tools()).specs(Family::of(model));
        let exec = &specs("mock-model")[0];
        let p = &exec["parameters"]["properties"];
        for k in [
            "cmd",
            "workdir",
            "shell",
            "login",
            "tty",
            "yield_time_ms",
            "max_output_tokens",
            "sandbox_permissions",
            "justification",
        ] {
            assert!(p.get(k).is_some(), "missing {k}");
        }
        assert_eq!(specs("gpt-5")[3]["type"], "custom");
        assert_eq!(specs("gpt-4.1")[2]["type"], "function");
    }
}
