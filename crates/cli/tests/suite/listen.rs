//! `codex app-server` with several listeners: stdio and a unix socket served by one process;
//! the socket is private, and stdin's end stops the server and removes the socket.

use super::harness::{Env, WAIT};
use std::os::unix::fs::PermissionsExt;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const INITIALIZE: &str =
    r#"{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}"#;

#[tokio::test]
async fn stdio_and_a_unix_socket_are_served_by_one_process() {
    let env = Env::new().await;
    let socket = env.home.path().join("app.sock");
    let mut cmd = env.command();
    for o in env.mock_overrides() {
        cmd.args(["-c", &o]);
    }
    cmd.args(["app-server", "--listen", "stdio://", "--listen"])
        .arg(format!("unix://{}", socket.display()));
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let announced = tokio::time::timeout(WAIT, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.contains("listening on unix://") {
                return line;
            }
        }
        panic!("stderr ended before the socket was announced");
    })
    .await
    .unwrap();
    assert!(
        announced.ends_with(&socket.display().to_string()),
        "{announced}"
    );
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // A socket client and the stdio client each do their own handshake.
    let stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let (read, mut write) = stream.into_split();
    write
        .write_all(format!("{INITIALIZE}\n").as_bytes())
        .await
        .unwrap();
    let mut lines = BufReader::new(read).lines();
    let answer = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(answer.contains(r#""userAgent""#), "{answer}");

    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{INITIALIZE}\n").as_bytes())
        .await
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let answer = tokio::time::timeout(WAIT, stdout.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(answer.contains(r#""userAgent""#), "{answer}");

    // The end of stdin ends the server, which closes the socket clients and removes the file.
    drop(stdin);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the server did not stop when stdin ended")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(!socket.exists(), "the socket file was left behind");
    let end = tokio::time::timeout(WAIT, lines.next_line()).await.unwrap();
    assert!(matches!(end, Ok(None)), "{end:?}");
}
