//! The apply_patch parser (`codex_apply_patch::parse_patch`) and the heredoc recogniser the turn
//! engine runs on every shell command (`extract_heredoc_patch_from_script`).
//!
//! Oracles: no panic on any text; every parsed hunk names a non-empty path; a recognised
//! heredoc yields text the parser accepts or rejects without panicking.

#![no_main]

use codex_apply_patch::{extract_heredoc_patch_from_script, parse_patch, Hunk};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(patch) = parse_patch(&text) {
        for hunk in &patch.hunks {
            assert!(!hunk.path().as_os_str().is_empty(), "hunk without a path: {hunk:?}");
            if let Hunk::UpdateFile {
                move_path: Some(dest),
                ..
            } = hunk
            {
                assert!(!dest.as_os_str().is_empty(), "move without a destination: {hunk:?}");
            }
        }
    }
    if let Some((inner, _workdir)) = extract_heredoc_patch_from_script(&text) {
        let _ = parse_patch(&inner);
    }
});
