//! Help and usage texts, one pair per command. The flag lists here are the grammar the parsers
//! in [`crate::args`] and [`crate::exec::args`] accept; keep the two in step.

pub const CODEX_USAGE: &str = "Usage: codex [OPTIONS] <COMMAND>";

pub const CODEX: &str = "\
Codex: a lean runtime for the Codex agent.

Usage: codex [OPTIONS] <COMMAND>

Commands:
  exec        Run Codex non-interactively [aliases: e]
  app-server  Serve the app-server protocol (JSON-RPC v2) over stdio
  help        Print this message or the help of the given command

Options:
  -c, --config <key=value>  Override a value of $CODEX_HOME/config.toml: a dotted key and a TOML
                            value (a raw string when it is not TOML). Repeatable
  -h, --help                Print help
  -V, --version             Print version";

pub const APP_SERVER_USAGE: &str = "Usage: codex app-server [OPTIONS] [COMMAND]";

pub const APP_SERVER: &str = "\
Serve the app-server protocol (JSON-RPC v2) to any number of clients, one runtime for all.

Usage: codex app-server [OPTIONS] [COMMAND]

Commands:
  generate-json-schema  Write the protocol's JSON Schema bundle and method table

Options:
      --listen <URL>          Where clients connect (repeatable) [default: stdio://]:
                              stdio:// (one JSON object per line on stdin/stdout),
                              unix://PATH (a 0600 socket, one JSON object per line; unix:// alone
                              is $CODEX_HOME/app-server.sock), ws://HOST:PORT (WebSocket, one
                              message per text frame, `Authorization: Bearer <token>` required)
      --ws-token-file <PATH>  The WebSocket token: read from PATH when it exists (it must be
                              readable by its owner only), else written there 0600
                              [default: a fresh token in $CODEX_HOME/app-server-ws.token]
      --allow-non-loopback    Allow ws:// on an address other hosts can reach
  -c, --config <key=value>    Override a configuration value (repeatable)
  -h, --help                  Print help

With stdio:// among the listeners the server stops when stdin ends; otherwise on SIGINT or
SIGTERM.";

pub const GENERATE_JSON_SCHEMA_USAGE: &str =
    "Usage: codex app-server generate-json-schema --out <DIR>";

pub const GENERATE_JSON_SCHEMA: &str = "\
Write the protocol's JSON Schema (one draft-07 bundle of every type) and its method table.

Usage: codex app-server generate-json-schema --out <DIR>

Options:
  -o, --out <DIR>  Directory to write the schema files into (created if missing)
  -h, --help       Print help";

pub const EXEC_USAGE: &str = "Usage: codex exec [OPTIONS] [PROMPT]
       codex exec [OPTIONS] resume [--last] [SESSION_ID] [PROMPT]";

pub const EXEC: &str = "\
Run Codex non-interactively: one turn, then exit. The final answer goes to stdout, progress to
stderr; with --json every stdout line is one JSON event.

Usage: codex exec [OPTIONS] [PROMPT]
       codex exec [OPTIONS] resume [--last] [SESSION_ID] [PROMPT]

Arguments:
  [PROMPT]  Instructions for the agent. Without it (or with `-`) they are read from stdin until
            EOF; with it and a piped stdin, stdin is appended as a <stdin> block

Commands:
  resume  Continue a previous session by id, or the most recent one here with --last

Options:
  -c, --config <key=value>          Override a configuration value (repeatable)
      --json                        Print events to stdout as JSON lines [alias: --experimental-json]
  -m, --model <MODEL>               Model the agent should use
  -s, --sandbox <MODE>              Sandbox for model-generated commands
                                    [possible values: read-only, workspace-write, danger-full-access]
      --full-auto                   Same as --sandbox workspace-write
      --dangerously-bypass-approvals-and-sandbox
                                    Run commands without a sandbox and without approvals
  -C, --cd <DIR>                    Use DIR as the agent's working root
      --add-dir <DIR>               Another directory writable under workspace-write (repeatable)
      --skip-git-repo-check         Allow running outside a Git repository
      --thread-source <SOURCE>      Source of a new thread [possible values: user, subagent,
                                    memory_consolidation]
      --ephemeral                   Do not persist the session
  -i, --image <FILE>                Attach an image to the prompt (repeatable, or comma-separated)
      --output-schema <FILE>        JSON Schema file the final answer must follow
  -o, --output-last-message <FILE>  Also write the final answer to FILE
      --color <WHEN>                Colour on stderr [default: auto] [possible values: always,
                                    never, auto]
  -h, --help                        Print help";
