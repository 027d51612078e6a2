//! The rollout line reader of the thread store (`codex_store::Store`): `load` (every line of a
//! thread, bad ones skipped and reported) and the reconciliation scan that indexes files found
//! on disk. The line parser itself is private to the store, so the target drives it through a
//! real store in a temporary `$CODEX_HOME` (on /dev/shm when present).
//!
//! The first input byte picks the mode:
//! - even: the rest follows a valid `session_meta` line in an indexed thread's file. Oracles:
//!   `load` accounts for every non-blank line (parsed + skipped), a full reconciliation
//!   succeeds and the thread stays indexed, whatever follows the first line;
//! - odd: the rest is a whole file dropped into `sessions/`. Oracles: reconciliation succeeds;
//!   if the file was indexed, `load` accounts for every line; once deleted it is unindexed.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use codex_store::{NewThread, Store};
use libfuzzer_sys::fuzz_target;

const DROPPED_ID: &str = "0199a000-0000-7000-8000-00000000d20f";

struct Fixture {
    _home: tempfile::TempDir,
    store: Store,
    /// A thread created through the store, and its first (`session_meta`) line.
    thread_id: String,
    thread_path: PathBuf,
    meta_line: Vec<u8>,
    /// Where odd-mode inputs are written: a file the store did not create.
    dropped_path: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let home = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temporary CODEX_HOME");
        let store = Store::open(home.path()).expect("store opens on an empty home");
        let thread_id = "0199a000-0000-7000-8000-00000000a11e".to_string();
        let record = store
            .create_thread(NewThread {
                id: thread_id.clone(),
                cwd: PathBuf::from("/work"),
                originator: "codex_fuzz".to_string(),
                cli_version: "0.163.0".to_string(),
                source: serde_json::json!("vscode"),
                model_provider: "openai".to_string(),
                model: Some("gpt-test".to_string()),
                base_instructions: None,
                dynamic_tools: None,
                forked_from_id: None,
                created_at: chrono::Utc::now(),
            })
            .expect("thread created");
        let text = std::fs::read(&record.path).expect("rollout readable");
        let meta_line = text
            .split(|b| *b == b'\n')
            .next()
            .expect("a first line")
            .to_vec();
        let dropped_dir = store.codex_home().join("sessions/2026/01/01");
        std::fs::create_dir_all(&dropped_dir).expect("day directory");
        Fixture {
            dropped_path: dropped_dir.join(format!("rollout-2026-01-01T00-00-00-{DROPPED_ID}.jsonl")),
            thread_path: record.path,
            thread_id,
            meta_line,
            store,
            _home: home,
        }
    })
}

fn non_blank_lines(data: &[u8]) -> usize {
    data.split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count()
}

fn assert_load_accounts_for(store: &Store, id: &str, file: &[u8]) {
    let loaded = store.load(id).expect("an indexed thread loads");
    assert_eq!(
        loaded.lines.len() + loaded.skipped.len(),
        non_blank_lines(file),
        "lines lost or invented: {} parsed, {:?} skipped",
        loaded.lines.len(),
        loaded.skipped
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    if mode % 2 == 0 {
        let mut file = f.meta_line.clone();
        file.push(b'\n');
        file.extend_from_slice(rest);
        std::fs::write(&f.thread_path, &file).expect("rewrite rollout");
        assert_load_accounts_for(&f.store, &f.thread_id, &file);
        f.store.reconcile().expect("reconciliation survives any rollout tail");
        assert!(
            f.store.get(&f.thread_id).expect("index lookup").is_some(),
            "a thread with a valid first line was dropped from the index"
        );
    } else {
        std::fs::write(&f.dropped_path, rest).expect("write dropped file");
        f.store.reconcile().expect("reconciliation survives any file");
        if f.store.get(DROPPED_ID).expect("index lookup").is_some() {
            assert_load_accounts_for(&f.store, DROPPED_ID, rest);
        }
        std::fs::remove_file(&f.dropped_path).expect("remove dropped file");
        f.store.reconcile().expect("reconciliation after a removal");
        assert!(
            f.store.get(DROPPED_ID).expect("index lookup").is_none(),
            "a deleted file stayed indexed"
        );
    }
});
