//! Serialization and parsing of single rollout lines.

use serde::Serialize;
use serde_json::Value;

use crate::types::RolloutLine;

#[derive(Serialize)]
struct LineOut<'a> {
    timestamp: &'a str,
    ordinal: u64,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a Value,
}

/// Appends `{"timestamp","ordinal","type","payload"}` plus '\n' to `buf`.
pub(crate) fn encode_into(
    buf: &mut Vec<u8>,
    timestamp: &str,
    ordinal: u64,
    kind: &str,
    payload: &Value,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer(
        &mut *buf,
        &LineOut {
            timestamp,
            ordinal,
            kind,
            payload,
        },
    )?;
    buf.push(b'\n');
    Ok(())
}

/// Parses one line (without its '\n'). The error text is the reason reported for skipped lines.
pub(crate) fn parse(bytes: &[u8]) -> Result<RolloutLine, String> {
    let line: RolloutLine = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if line.kind.is_empty() {
        return Err("empty \"type\"".to_string());
    }
    Ok(line)
}

/// Iterates the lines of a buffer as (1-based line number, bytes), skipping blank lines
/// (a trailing '\n' produces none).
pub(crate) fn split_lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    data.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
}
