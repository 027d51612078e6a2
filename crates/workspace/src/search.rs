//! `fuzzyFileSearch`: each root is walked in parallel (honouring `.gitignore`, `.ignore` and
//! git's exclude files, skipping `.git`), every relative path is scored against the query by
//! `nucleo-matcher`, and the best [`MATCH_LIMIT`] of each root are returned, highest score
//! first, with the matched character positions.
//!
//! A newer search carrying the same `cancellationToken` cancels the older one: its walk stops
//! at the next entry and it answers with no files, which is what a type-ahead box wants.

use crate::error::WorkspaceError;
use codex_protocol::v2::{
    FuzzyFileSearchMatchType, FuzzyFileSearchParams, FuzzyFileSearchResponse, FuzzyFileSearchResult,
};
use ignore::{ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Results kept per root.
pub const MATCH_LIMIT: usize = 50;
/// Walker threads across all roots of one search.
const MAX_THREADS: usize = 12;

/// Runs searches and tracks their cancellation tokens. One per server.
#[derive(Default)]
pub struct FuzzySearcher {
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl FuzzySearcher {
    pub fn new() -> Self {
        FuzzySearcher::default()
    }

    /// Searches on the blocking pool; a cancelled search answers with no files.
    pub async fn search(
        &self,
        params: FuzzyFileSearchParams,
    ) -> Result<FuzzyFileSearchResponse, WorkspaceError> {
        let cancelled = Arc::new(AtomicBool::new(false));
        if let Some(token) = &params.cancellation_token {
            if let Ok(mut running) = self.running.lock() {
                if let Some(older) = running.insert(token.clone(), cancelled.clone()) {
                    older.store(true, Ordering::Relaxed);
                }
            }
        }
        let flag = cancelled.clone();
        let query = params.query.clone();
        let roots = params.roots.clone();
        let result = tokio::task::spawn_blocking(move || search_roots(&query, &roots, &flag))
            .await
            .map_err(|e| WorkspaceError::Internal(e.to_string()));
        if let Some(token) = &params.cancellation_token {
            if let Ok(mut running) = self.running.lock() {
                if running
                    .get(token)
                    .is_some_and(|f| Arc::ptr_eq(f, &cancelled))
                {
                    running.remove(token);
                }
            }
        }
        let files = result?;
        if cancelled.load(Ordering::Relaxed) {
            return Ok(FuzzyFileSearchResponse { files: Vec::new() });
        }
        Ok(FuzzyFileSearchResponse { files })
    }
}

/// Searches every root (sequentially; each walk is itself parallel) and merges the results.
pub fn search_roots(
    query: &str,
    roots: &[String],
    cancelled: &AtomicBool,
) -> Vec<FuzzyFileSearchResult> {
    if query.trim().is_empty() || roots.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores.min(MAX_THREADS) / roots.len()).max(1);
    let mut files = Vec::new();
    for root in roots {
        if cancelled.load(Ordering::Relaxed) {
            break;
        }
        files.extend(search_root(query, root, threads, cancelled));
    }
    files.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
    files
}

fn search_root(
    query: &str,
    root: &str,
    threads: usize,
    cancelled: &AtomicBool,
) -> Vec<FuzzyFileSearchResult> {
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let found = Arc::new(Mutex::new(Vec::<Candidate>::new()));
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .require_git(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git");
    let mut visitors = Visitors {
        root: PathBuf::from(root),
        pattern: &pattern,
        found: found.clone(),
        cancelled,
    };
    builder.build_parallel().visit(&mut visitors);
    let mut best = found
        .lock()
        .map(|mut f| std::mem::take(&mut *f))
        .unwrap_or_default();
    keep_best(&mut best, MATCH_LIMIT);
    let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
    let mut chars = Vec::new();
    best.into_iter()
        .map(|c| {
            let mut indices = Vec::new();
            pattern.indices(
                Utf32Str::new(&c.path, &mut chars),
                &mut matcher,
                &mut indices,
            );
            indices.sort_unstable();
            indices.dedup();
            let file_name = Path::new(&c.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| c.path.clone());
            FuzzyFileSearchResult {
                root: root.to_string(),
                path: c.path,
                match_type: c.match_type,
                file_name,
                score: c.score,
                indices: Some(indices),
            }
        })
        .collect()
}

struct Candidate {
    score: u32,
    path: String,
    match_type: FuzzyFileSearchMatchType,
}

/// Sorts best first (ties by path) and keeps `limit`.
fn keep_best(candidates: &mut Vec<Candidate>, limit: usize) {
    candidates.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
    candidates.truncate(limit);
}

struct Visitors<'a> {
    root: PathBuf,
    pattern: &'a Pattern,
    found: Arc<Mutex<Vec<Candidate>>>,
    cancelled: &'a AtomicBool,
}

impl<'s> ParallelVisitorBuilder<'s> for Visitors<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            root: self.root.clone(),
            pattern: self.pattern,
            found: self.found.clone(),
            cancelled: self.cancelled,
            matcher: Matcher::new(Config::DEFAULT.match_paths()),
            chars: Vec::new(),
            best: Vec::new(),
        })
    }
}

/// One walker thread: scores entries into a local list, merged into the shared one on drop.
struct Visitor<'a> {
    root: PathBuf,
    pattern: &'a Pattern,
    found: Arc<Mutex<Vec<Candidate>>>,
    cancelled: &'a AtomicBool,
    matcher: Matcher,
    chars: Vec<char>,
    best: Vec<Candidate>,
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> WalkState {
        if self.cancelled.load(Ordering::Relaxed) {
            return WalkState::Quit;
        }
        let Ok(entry) = entry else {
            return WalkState::Continue; // unreadable entries are skipped, not fatal
        };
        if entry.depth() == 0 {
            return WalkState::Continue;
        }
        let Ok(relative) = entry.path().strip_prefix(&self.root) else {
            return WalkState::Continue;
        };
        let path = relative.to_string_lossy();
        let haystack = Utf32Str::new(&path, &mut self.chars);
        if let Some(score) = self.pattern.score(haystack, &mut self.matcher) {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            self.best.push(Candidate {
                score,
                path: path.into_owned(),
                match_type: if is_dir {
                    FuzzyFileSearchMatchType::Directory
                } else {
                    FuzzyFileSearchMatchType::File
                },
            });
            // Bounded memory on huge trees: prune to the limit once the list doubles it.
            if self.best.len() >= 2 * MATCH_LIMIT {
                keep_best(&mut self.best, MATCH_LIMIT);
            }
        }
        WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        if let Ok(mut found) = self.found.lock() {
            found.append(&mut self.best);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_search_with_the_same_token_cancels_the_older_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let searcher = FuzzySearcher::new();
        // An older search still running under token "t".
        let older = Arc::new(AtomicBool::new(false));
        searcher
            .running
            .lock()
            .unwrap()
            .insert("t".into(), older.clone());
        let r = searcher
            .search(FuzzyFileSearchParams {
                query: "notes".into(),
                roots: vec![dir.path().display().to_string()],
                cancellation_token: Some("t".into()),
            })
            .await
            .unwrap();
        assert!(
            older.load(Ordering::Relaxed),
            "the older search was not cancelled"
        );
        assert_eq!(r.files.len(), 1);
        // The finished search removed its own token.
        assert!(searcher.running.lock().unwrap().is_empty());
    }
}
