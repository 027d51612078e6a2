//! The mock model as a separate process (`codex-mock-model`), scripted over its `/_mock/*`
//! HTTP control surface with a tiny HTTP/1.1 client (one request per connection).

use std::net::SocketAddr;
use std::process::Stdio;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{mock_bin, WAIT};

/// A running mock model; killed when dropped (and it exits by itself when our end of its
/// stdin closes).
pub struct Mock {
    child: Child,
    addr: SocketAddr,
    url: String,
}

impl Mock {
    pub async fn start() -> Mock {
        let mut child = Command::new(mock_bin())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawning codex-mock-model");
        let stdout = child.stdout.take().expect("mock stdout");
        let mut line = String::new();
        tokio::time::timeout(WAIT, BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("mock model did not print its address")
            .expect("reading the mock model's address");
        let url = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line from the mock: {line:?}"))
            .to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .parse()
            .expect("mock address");
        Mock { child, addr, url }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the mock is running")
    }

    /// The provider `base_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queues replies (JSON reply specs, see `codex_mock_model::ReplySpec`), in order.
    pub async fn enqueue(&self, specs: Value) {
        let (status, body) = self.control("POST", "/_mock/enqueue", &specs).await;
        assert_eq!(status, 200, "enqueue failed: {body}");
    }

    /// The reply used whenever the queue is empty.
    pub async fn set_default(&self, spec: Value) {
        let (status, body) = self.control("POST", "/_mock/default", &spec).await;
        assert_eq!(status, 200, "setting the default reply failed: {body}");
    }

    /// Whether the mock keeps request bodies (it does by default) or only their size: long
    /// runs send ever longer histories, which would otherwise pile up in the mock.
    pub async fn keep_bodies(&self, keep: bool) {
        let (status, body) = self
            .control("POST", "/_mock/keep_bodies", &json!(keep))
            .await;
        assert_eq!(status, 200, "keep_bodies failed: {body}");
    }

    /// Bodies of the model requests (`POST`s) received so far.
    pub async fn model_requests(&self) -> Vec<Value> {
        let (status, body) = self.control("GET", "/_mock/requests", &Value::Null).await;
        assert_eq!(status, 200, "listing requests failed: {body}");
        let all: Vec<Value> = serde_json::from_str(&body).expect("requests JSON");
        all.into_iter()
            .filter(|r| r["method"] == "POST")
            .map(|r| r["body"].clone())
            .collect()
    }

    async fn control(&self, method: &str, path: &str, body: &Value) -> (u16, String) {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let exchange = async {
            let mut stream = TcpStream::connect(self.addr).await?;
            let request = format!(
                "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                self.addr,
                body.len()
            );
            stream.write_all(request.as_bytes()).await?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await?;
            Ok::<_, std::io::Error>(String::from_utf8_lossy(&response).into_owned())
        };
        let text = tokio::time::timeout(WAIT, exchange)
            .await
            .expect("mock control request timed out")
            .expect("mock control request failed");
        let status = text
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("malformed mock response: {text:?}"));
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}
