//! Raw bytes in, frames out: how a connection answers lines it cannot use.

use codex_jsonrpc::{memory_pair, Connection, Incoming, Limits};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf,
};

const WAIT: Duration = Duration::from_secs(10);

struct Raw {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    write: WriteHalf<DuplexStream>,
}

impl Raw {
    async fn send(&mut self, line: &str) {
        self.write.write_all(line.as_bytes()).await.unwrap();
        self.write.write_all(b"\n").await.unwrap();
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("a line");
        serde_json::from_str(&line).unwrap()
    }
}

fn connect(limits: Limits) -> (Connection, Raw) {
    let (ours, theirs) = memory_pair();
    let conn = Connection::stream(ours, limits);
    let (read, write) = tokio::io::split(theirs);
    (
        conn,
        Raw {
            lines: BufReader::new(read).lines(),
            write,
        },
    )
}

fn small() -> Limits {
    Limits {
        max_line_bytes: 2048,
        ..Limits::default()
    }
}

#[tokio::test]
async fn an_over_long_request_is_answered_with_its_id_and_the_limit() {
    let (mut conn, mut raw) = connect(small());
    let long = json!({"id": "long", "method": "thread/start",
        "params": {"developerInstructions": "x".repeat(64 * 1024)}});
    raw.send(&long.to_string()).await;
    let reply = raw.next().await;
    assert_eq!(reply["id"], "long", "{reply}");
    assert_eq!(reply["error"]["code"], -32600);
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("2048"),
        "{reply}"
    );

    // The id comes after the long part: it cannot be read, so the answer has id null.
    let late_id = format!(
        r#"{{"method":"m","params":{{"t":"{}"}},"id":9}}"#,
        "y".repeat(8000)
    );
    raw.send(&late_id).await;
    let reply = raw.next().await;
    assert!(reply["id"].is_null(), "{reply}");
    assert!(reply["error"]["message"].as_str().unwrap().contains("2048"));

    // Reading resumes with the next line, which is handed over.
    raw.send(r#"{"id":3,"method":"ok"}"#).await;
    let got = tokio::time::timeout(WAIT, conn.incoming.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        Incoming::Request {
            id: codex_protocol::jsonrpc::RequestId::Integer(3),
            method: "ok".into(),
            params: None
        }
    );
}

#[tokio::test]
async fn a_too_deeply_nested_request_is_answered_with_its_id_and_the_limit() {
    let (_conn, mut raw) = connect(Limits::default());
    let deep = format!(
        r#"{{"id":7,"method":"thread/list","params":{}{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    raw.send(&deep).await;
    let reply = raw.next().await;
    assert_eq!(reply["id"], 7, "{reply}");
    assert_eq!(reply["error"]["code"], -32600);
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("128"),
        "{reply}"
    );
}

#[tokio::test]
async fn garbage_is_a_parse_error_and_shapeless_json_an_invalid_request() {
    let (_conn, mut raw) = connect(Limits::default());
    raw.send("{nope").await;
    let reply = raw.next().await;
    assert!(reply["id"].is_null());
    assert_eq!(reply["error"]["code"], -32700);
    raw.send(r#"{"id":4}"#).await;
    let reply = raw.next().await;
    assert_eq!(reply["id"], 4);
    assert_eq!(reply["error"]["code"], -32600);
}
