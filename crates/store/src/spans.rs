//! Reading parts of a rollout by byte position, for callers that index a thread once and then
//! read only the lines they need (paged history): a streaming scan from a position, and reads
//! of byte spans. Neither holds the thread's slot: appends are whole lines in one `write(2)`,
//! so a reader sees complete lines plus at most a torn tail, which it leaves for later.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use crate::error::{IoContext, StoreError};
use crate::line;
use crate::store::Store;
use crate::types::RolloutLine;

/// Lines read per buffer refill while scanning.
const SCAN_BUFFER: usize = 256 * 1024;

/// Where a [`Store::scan_lines`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanEnd {
    /// Just after the last complete line: where the next scan continues.
    pub end: u64,
    /// The file is shorter than the position asked for (it was replaced): nothing was
    /// visited, and the caller must scan again from 0.
    pub shrunk: bool,
}

impl Store {
    /// Calls `visit(position, next, line)` for every complete line of the thread's rollout at
    /// or after byte `from` (`next`: where the following line starts) (the line without its `'\n'`; blank lines are skipped). A last line
    /// without its newline (being written, or torn by a crash) is not visited.
    ///
    /// # Errors
    /// An unknown thread ([`StoreError::NotFound`]) or an unreadable file.
    pub fn scan_lines(
        &self,
        thread_id: &str,
        from: u64,
        visit: &mut dyn FnMut(u64, u64, &[u8]),
    ) -> Result<ScanEnd, StoreError> {
        let path = self.require(thread_id)?.path;
        let mut file = File::open(&path).ctx(|| format!("open {}", path.display()))?;
        let len = file
            .metadata()
            .ctx(|| format!("stat {}", path.display()))?
            .len();
        if len < from {
            return Ok(ScanEnd {
                end: len,
                shrunk: true,
            });
        }
        file.seek(SeekFrom::Start(from))
            .ctx(|| format!("seek {}", path.display()))?;
        let mut reader = BufReader::with_capacity(SCAN_BUFFER, file);
        let mut buf = Vec::new();
        let mut pos = from;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .ctx(|| format!("read {}", path.display()))?;
            if n == 0 || buf.last() != Some(&b'\n') {
                break;
            }
            let text = trim_line(&buf);
            if !text.iter().all(u8::is_ascii_whitespace) {
                visit(pos, pos + n as u64, text);
            }
            pos += n as u64;
        }
        Ok(ScanEnd {
            end: pos,
            shrunk: false,
        })
    }

    /// The parsable lines of each byte span `[from, to)` of the thread's rollout, in file
    /// order; spans must start on a line boundary (positions from [`Store::scan_lines`]).
    /// Unparsable lines are skipped, as [`Store::load`] skips them.
    ///
    /// # Errors
    /// An unknown thread, an unreadable file, or a span beyond its end.
    pub fn read_spans(
        &self,
        thread_id: &str,
        spans: &[(u64, u64)],
    ) -> Result<Vec<Vec<RolloutLine>>, StoreError> {
        let path = self.require(thread_id)?.path;
        let file = File::open(&path).ctx(|| format!("open {}", path.display()))?;
        let mut out = Vec::with_capacity(spans.len());
        let mut buf = Vec::new();
        for &(from, to) in spans {
            let size = usize::try_from(to.saturating_sub(from)).map_err(|_| {
                StoreError::InvalidArgument(format!("span {from}..{to} is too large"))
            })?;
            buf.resize(size, 0);
            file.read_exact_at(&mut buf, from)
                .ctx(|| format!("read {}..{to} of {}", from, path.display()))?;
            let lines = line::split_lines(&buf)
                .filter_map(|(_, bytes)| line::parse(trim_line(bytes)).ok())
                .collect();
            out.push(lines);
        }
        Ok(out)
    }
}

fn trim_line(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && (bytes[end - 1] == b'\n' || bytes[end - 1] == b'\r') {
        end -= 1;
    }
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use crate::types::{NewThread, RolloutEntry};
    use crate::Store;
    use serde_json::json;

    fn new_thread(id: &str) -> NewThread {
        NewThread {
            id: id.to_string(),
            cwd: "/w".into(),
            originator: "t".into(),
            cli_version: "0".into(),
            source: json!("vscode"),
            model_provider: "openai".into(),
            model: None,
            base_instructions: None,
            forked_from_id: None,
            dynamic_tools: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn scans_from_a_position_and_reads_spans_back() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        let id = "0199a0b6-0000-7000-8000-000000000001";
        store.create_thread(new_thread(id)).unwrap();
        let entries: Vec<RolloutEntry> = (0..3)
            .map(|i| RolloutEntry::new("event_msg", json!({"type": "n", "i": i})))
            .collect();
        store.append(id, &entries).unwrap();
        let mut seen = Vec::new();
        let end = store
            .scan_lines(id, 0, &mut |pos, _, line| seen.push((pos, line.len())))
            .unwrap();
        assert_eq!(seen.len(), 4, "session_meta and three events");
        assert!(!end.shrunk);
        // A scan from the end sees only what is appended later.
        store.append(id, &entries[..1]).unwrap();
        let mut later = Vec::new();
        let end2 = store
            .scan_lines(id, end.end, &mut |pos, _, _| later.push(pos))
            .unwrap();
        assert_eq!(later, vec![end.end]);
        let spans: Vec<(u64, u64)> = vec![(seen[1].0, seen[3].0), (later[0], end2.end)];
        let read = store.read_spans(id, &spans).unwrap();
        assert_eq!(read[0].len(), 2);
        assert_eq!(read[0][1].payload["i"], 1);
        assert_eq!(read[1][0].payload["i"], 0);
        // A position past the end means the file was replaced.
        let past = store
            .scan_lines(id, end2.end + 10, &mut |_, _, _| {})
            .unwrap();
        assert!(past.shrunk);
    }
}
