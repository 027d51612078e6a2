//! Derives index metadata from rollout content: the `session_meta` header, the preview
//! (first user message), the latest name event, the latest model, and the next ordinal.
//! Used both when (re-)indexing a whole file and incrementally on append.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::StoreError;
use crate::layout;

/// Fields taken from the `session_meta` first line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MetaInfo {
    pub id: String,
    pub created_at: i64,
    pub cwd: PathBuf,
    pub originator: String,
    pub cli_version: String,
    pub source: Value,
    pub model_provider: String,
    /// Non-standard `model` hint written by this store; official files never have it.
    pub model: Option<String>,
    pub forked_from_id: Option<String>,
}

impl MetaInfo {
    /// Reads a `session_meta` payload. `file_name` supplies the creation time when the payload
    /// lacks a parsable `timestamp`.
    pub(crate) fn from_payload(payload: &Value, file_name: &str) -> Result<MetaInfo, String> {
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::to_string);
        let id = text("id")
            .or_else(|| text("session_id"))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| "session_meta has no id".to_string())?;
        let created_at = text("timestamp")
            .and_then(|t| layout::parse_timestamp_ms(&t))
            .map(|ms| ms.div_euclid(1000))
            .or_else(|| layout::time_from_file_name(file_name))
            .unwrap_or(0);
        Ok(MetaInfo {
            id,
            created_at,
            cwd: PathBuf::from(text("cwd").unwrap_or_default()),
            originator: text("originator").unwrap_or_default(),
            cli_version: text("cli_version").unwrap_or_default(),
            source: payload.get("source").cloned().unwrap_or(Value::Null),
            model_provider: text("model_provider").unwrap_or_default(),
            model: text("model"),
            forked_from_id: text("forked_from_id"),
        })
    }
}

/// Metadata accumulated over the lines after `session_meta`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Accum {
    pub preview: Option<String>,
    /// Latest `thread_name_updated` name with its line time (Unix ms).
    pub event_name: Option<(String, i64)>,
    /// Latest `turn_context.model`.
    pub model: Option<String>,
    pub max_ordinal: Option<u64>,
    pub valid_lines: u64,
}

impl Accum {
    /// Ordinal for the next line: strictly above every ordinal seen, and at least the count
    /// of valid lines (files written without ordinals).
    pub(crate) fn next_ordinal(&self) -> u64 {
        let after_max = self.max_ordinal.map_or(0, |m| m.saturating_add(1));
        after_max.max(self.valid_lines)
    }

    /// Observes one fully parsed line.
    pub(crate) fn observe(
        &mut self,
        ordinal: Option<u64>,
        kind: &str,
        timestamp: &str,
        payload: &Value,
    ) {
        self.valid_lines += 1;
        if let Some(o) = ordinal {
            self.max_ordinal = Some(self.max_ordinal.map_or(o, |m| m.max(o)));
        }
        match kind {
            "turn_context" => {
                if let Some(model) = payload.get("model").and_then(Value::as_str) {
                    self.model = Some(model.to_string());
                }
            }
            "event_msg" => self.observe_event(timestamp, payload),
            _ => {}
        }
    }

    fn observe_event(&mut self, timestamp: &str, payload: &Value) {
        match payload.get("type").and_then(Value::as_str) {
            Some("thread_name_updated") => {
                if let Some(name) = payload.get("thread_name").and_then(Value::as_str) {
                    let at = layout::parse_timestamp_ms(timestamp).unwrap_or(0);
                    self.event_name = Some((name.to_string(), at));
                }
            }
            Some("user_message") if self.preview.is_none() => {
                if let Some(text) = payload.get("message").and_then(Value::as_str) {
                    self.set_preview(text);
                }
            }
            Some("item_completed") if self.preview.is_none() => {
                let Some(item) = payload.get("item") else {
                    return;
                };
                if item.get("type").and_then(Value::as_str) != Some("UserMessage") {
                    return;
                }
                let parts: Vec<&str> = item
                    .get("content")
                    .and_then(Value::as_array)
                    .map(|content| {
                        content
                            .iter()
                            .filter(|c| c.get("type").and_then(Value::as_str) == Some("text"))
                            .filter_map(|c| c.get("text").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                self.set_preview(&parts.join("\n"));
            }
            _ => {}
        }
    }

    /// Empty messages (e.g. image-only input) do not count as the first user message text.
    fn set_preview(&mut self, text: &str) {
        if !text.trim().is_empty() {
            self.preview = Some(text.to_string());
        }
    }
}

/// Listing metadata carried by a run of rollout lines: what any backend derives from the
/// lines it stores, by the same rules as the embedded index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryDigest {
    /// Text of the first user message among the lines.
    pub preview: Option<String>,
    /// The latest `thread_name_updated` name.
    pub name: Option<String>,
    /// The latest `turn_context` model.
    pub model: Option<String>,
}

/// Digest of lines given as `(type, payload)` in file order.
pub fn digest_entries<'a>(lines: impl IntoIterator<Item = (&'a str, &'a Value)>) -> EntryDigest {
    let mut accum = Accum::default();
    for (kind, payload) in lines {
        accum.observe(None, kind, "", payload);
    }
    EntryDigest {
        preview: accum.preview,
        name: accum.event_name.map(|(name, _)| name),
        model: accum.model,
    }
}

/// Cheap first pass over a line: only the envelope, the payload is skipped unparsed.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    ordinal: Option<u64>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "payload")]
    _payload: serde::de::IgnoredAny,
}

/// Markers whose presence makes a line worth a full parse.
fn interesting(kind: &str, bytes: &[u8], need_preview: bool) -> bool {
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    match kind {
        "turn_context" => true,
        "event_msg" => {
            contains(b"thread_name_updated")
                || (need_preview && (contains(b"user_message") || contains(b"UserMessage")))
        }
        _ => false,
    }
}

/// Result of reading a whole rollout file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FileSummary {
    pub meta: MetaInfo,
    pub accum: Accum,
}

/// Why a file could not be summarized. The two cases are handled differently: bad content
/// is a property of the file (its row goes), an I/O error says nothing about the file's
/// content (its row stays and the file is retried later).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ScanError {
    /// The file could not be opened or read (including: vanished meanwhile).
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
    /// The file was read but has no usable `session_meta` first line.
    Bad(String),
}

impl ScanError {
    fn io(what: &str, e: &std::io::Error) -> ScanError {
        ScanError::Io {
            kind: e.kind(),
            message: format!("{what}: {e}"),
        }
    }

    /// The store error for a caller that needed this file.
    pub(crate) fn into_error(self, path: &Path) -> StoreError {
        match self {
            ScanError::Io { kind, message } => StoreError::io(
                format!("scan {}", path.display()),
                std::io::Error::new(kind, message),
            ),
            ScanError::Bad(reason) => StoreError::Corrupt {
                path: path.to_path_buf(),
                reason,
            },
        }
    }
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Io { message, .. } => f.write_str(message),
            ScanError::Bad(reason) => f.write_str(reason),
        }
    }
}

/// Reads a rollout file line by line. Fails only when it cannot be read or its first line
/// is not a parsable `session_meta`; later bad lines are ignored here (`load` reports them).
pub(crate) fn scan_file(path: &Path) -> Result<FileSummary, ScanError> {
    let file = std::fs::File::open(path).map_err(|e| ScanError::io("open", &e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut buf = Vec::new();
    let mut meta: Option<MetaInfo> = None;
    let mut accum = Accum::default();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ScanError::io("read", &e))?;
        if n == 0 {
            break;
        }
        let bytes = trim_newline(&buf);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if meta.is_none() {
            let line = crate::line::parse(bytes)
                .map_err(|e| ScanError::Bad(format!("first line: {e}")))?;
            if line.kind != "session_meta" {
                return Err(ScanError::Bad(format!(
                    "first line is {:?}, not session_meta",
                    line.kind
                )));
            }
            let info = MetaInfo::from_payload(&line.payload, &file_name).map_err(ScanError::Bad)?;
            accum.observe(line.ordinal, &line.kind, &line.timestamp, &line.payload);
            meta = Some(info);
            continue;
        }
        let Ok(head) = serde_json::from_slice::<Head>(bytes) else {
            continue;
        };
        if interesting(&head.kind, bytes, accum.preview.is_none()) {
            if let Ok(line) = crate::line::parse(bytes) {
                accum.observe(line.ordinal, &line.kind, &line.timestamp, &line.payload);
            }
        } else {
            accum.valid_lines += 1;
            if let Some(o) = head.ordinal {
                accum.max_ordinal = Some(accum.max_ordinal.map_or(o, |m| m.max(o)));
            }
        }
    }
    match meta {
        Some(meta) => Ok(FileSummary { meta, accum }),
        None => Err(ScanError::Bad("empty file (no session_meta)".to_string())),
    }
}

fn trim_newline(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
        end -= 1;
    }
    &buf[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn preview_from_official_item_completed() {
        let mut a = Accum::default();
        a.observe(
            Some(8),
            "event_msg",
            "2026-11-23T22:48:42.729Z",
            &json!({"type":"item_completed","item":{"type":"UserMessage","content":[{"type":"text","text":"Say hello.","text_elements":[]}]}}),
        );
        a.observe(
            Some(9),
            "event_msg",
            "",
            &json!({"type":"user_message","message":"later"}),
        );
        assert_eq!(a.preview.as_deref(), Some("Say hello."));
        assert_eq!(a.next_ordinal(), 10);
    }

    #[test]
    fn latest_model_and_name_win() {
        let mut a = Accum::default();
        a.observe(None, "turn_context", "", &json!({"model":"m1"}));
        a.observe(None, "turn_context", "", &json!({"model":"m2"}));
        a.observe(
            None,
            "event_msg",
            "2026-01-01T00:00:00.000Z",
            &json!({"type":"thread_name_updated","thread_id":"x","thread_name":"n1"}),
        );
        a.observe(
            None,
            "event_msg",
            "2026-01-01T00:00:01.000Z",
            &json!({"type":"thread_name_updated","thread_id":"x","thread_name":"n2"}),
        );
        assert_eq!(a.model.as_deref(), Some("m2"));
        assert_eq!(a.event_name, Some(("n2".to_string(), 1_767_225_601_000)));
        assert_eq!(a.next_ordinal(), 4);
    }
}
