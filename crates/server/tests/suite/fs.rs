//! The `fs/*` methods: each method, each error case (the message names the path and the
//! cause), and watches that belong to the connection that made them.

use super::harness::{Env, Server, WAIT};
use base64::Engine;
use codex_core::config::{parse_overrides, Config};
use codex_core::RuntimeOptions;
use codex_jsonrpc::{Closing, Connection, Incoming, Limits, Peer};
use codex_protocol::methods::{
    FsCopy, FsCreateDirectory, FsGetMetadata, FsReadDirectory, FsReadFile, FsRemove, FsUnwatch,
    FsWatch, FsWriteFile, Initialize, Method,
};
use codex_protocol::v2::{FsWatchParams, InitializeParams};
use codex_server::AppServer;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn message(err: &Value) -> &str {
    err["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn read_file_returns_base64_and_errors_name_the_path_and_cause() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let file = env.work.path().join("a.txt");
    std::fs::write(&file, "hello").unwrap();
    let read = server
        .call::<FsReadFile>(json!({"path": path(&file)}))
        .await;
    assert_eq!(read["dataBase64"], b64(b"hello"));

    let err = server
        .call_err(FsReadFile::NAME, json!({"path": "a.txt"}))
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    assert_eq!(message(&err), "a.txt: path must be absolute");

    let missing = env.work.path().join("missing.txt");
    let err = server
        .call_err(FsReadFile::NAME, json!({"path": path(&missing)}))
        .await;
    assert_eq!(err["code"], -32600, "{err}");
    assert!(message(&err).starts_with(&path(&missing)), "{err}");
    assert!(message(&err).contains("No such file or directory"), "{err}");

    let err = server
        .call_err(FsReadFile::NAME, json!({"path": path(env.work.path())}))
        .await;
    assert_eq!(
        message(&err),
        format!("{}: is a directory", path(env.work.path()))
    );
}

#[tokio::test]
async fn read_file_refuses_a_file_over_the_limit_and_states_it() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    // Sparse: 13 MiB of size, no data written.
    let big = env.work.path().join("big.bin");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(13 * 1024 * 1024)
        .unwrap();
    let err = server
        .call_err(FsReadFile::NAME, json!({"path": path(&big)}))
        .await;
    assert_eq!(
        message(&err),
        format!(
            "{}: the file is 13631488 bytes, over the 12582912-byte limit of fs/readFile",
            path(&big)
        ),
        "{err}"
    );
}

#[tokio::test]
async fn write_file_replaces_content_and_refuses_bad_base64_and_missing_parents() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let file = env.work.path().join("b.txt");
    std::fs::write(&file, "old").unwrap();
    let written = server
        .call::<FsWriteFile>(json!({"path": path(&file), "dataBase64": b64(b"new content")}))
        .await;
    assert_eq!(written, json!({}));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "new content");

    let err = server
        .call_err(
            FsWriteFile::NAME,
            json!({"path": path(&file), "dataBase64": "!!!"}),
        )
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    assert!(
        message(&err).starts_with("dataBase64 is not valid base64"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "new content");

    let orphan = env.work.path().join("nodir/b.txt");
    let err = server
        .call_err(
            FsWriteFile::NAME,
            json!({"path": path(&orphan), "dataBase64": b64(b"x")}),
        )
        .await;
    assert!(message(&err).starts_with(&path(&orphan)), "{err}");
    assert!(message(&err).contains("No such file or directory"), "{err}");
}

#[tokio::test]
async fn create_directory_is_recursive_by_default() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let deep = env.work.path().join("x/y/z");
    server
        .call::<FsCreateDirectory>(json!({"path": path(&deep)}))
        .await;
    assert!(deep.is_dir());

    let flat = env.work.path().join("p/q");
    let err = server
        .call_err(
            FsCreateDirectory::NAME,
            json!({"path": path(&flat), "recursive": false}),
        )
        .await;
    assert!(message(&err).starts_with(&path(&flat)), "{err}");
    assert!(message(&err).contains("No such file or directory"), "{err}");
}

#[tokio::test]
async fn get_metadata_describes_files_directories_and_links() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let file = env.work.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let link = env.work.path().join("link");
    std::os::unix::fs::symlink(&file, &link).unwrap();

    let meta = server
        .call::<FsGetMetadata>(json!({"path": path(&file)}))
        .await;
    assert_eq!(meta["isFile"], true, "{meta}");
    assert_eq!(meta["isDirectory"], false);
    assert_eq!(meta["isSymlink"], false);
    assert!(meta["modifiedAtMs"].as_i64().unwrap() > 0);
    let dir = server
        .call::<FsGetMetadata>(json!({"path": path(env.work.path())}))
        .await;
    assert_eq!(dir["isDirectory"], true);
    let linked = server
        .call::<FsGetMetadata>(json!({"path": path(&link)}))
        .await;
    assert_eq!(linked["isSymlink"], true);
    assert_eq!(linked["isFile"], true);

    let missing = env.work.path().join("nope");
    let err = server
        .call_err(FsGetMetadata::NAME, json!({"path": path(&missing)}))
        .await;
    assert!(message(&err).starts_with(&path(&missing)), "{err}");
}

#[tokio::test]
async fn read_directory_lists_entries_sorted_and_refuses_a_file() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    std::fs::write(env.work.path().join("b.txt"), "").unwrap();
    std::fs::create_dir(env.work.path().join("a")).unwrap();
    let listed = server
        .call::<FsReadDirectory>(json!({"path": path(env.work.path())}))
        .await;
    assert_eq!(
        listed["entries"],
        json!([
            {"fileName": "a", "isDirectory": true, "isFile": false},
            {"fileName": "b.txt", "isDirectory": false, "isFile": true},
        ])
    );
    let file = env.work.path().join("b.txt");
    let err = server
        .call_err(FsReadDirectory::NAME, json!({"path": path(&file)}))
        .await;
    assert!(message(&err).starts_with(&path(&file)), "{err}");
    assert!(message(&err).contains("Not a directory"), "{err}");
}

#[tokio::test]
async fn remove_is_recursive_and_forced_by_default() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let tree = env.work.path().join("tree");
    std::fs::create_dir_all(tree.join("inner")).unwrap();
    std::fs::write(tree.join("inner/f"), "x").unwrap();

    let err = server
        .call_err(
            FsRemove::NAME,
            json!({"path": path(&tree), "recursive": false}),
        )
        .await;
    assert!(message(&err).starts_with(&path(&tree)), "{err}");
    assert!(message(&err).contains("Directory not empty"), "{err}");
    assert!(tree.is_dir());

    server.call::<FsRemove>(json!({"path": path(&tree)})).await;
    assert!(!tree.exists());
    // Already gone: fine by default, an error without `force`.
    server.call::<FsRemove>(json!({"path": path(&tree)})).await;
    let err = server
        .call_err(FsRemove::NAME, json!({"path": path(&tree), "force": false}))
        .await;
    assert!(message(&err).contains("No such file or directory"), "{err}");
}

#[tokio::test]
async fn copy_copies_files_and_trees_and_refuses_what_it_cannot() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let src = env.work.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/f.txt"), "content").unwrap();

    let copy = env.work.path().join("f-copy.txt");
    server
        .call::<FsCopy>(
            json!({"sourcePath": path(&src.join("sub/f.txt")), "destinationPath": path(&copy)}),
        )
        .await;
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "content");

    let dst = env.work.path().join("dst");
    let err = server
        .call_err(
            FsCopy::NAME,
            json!({"sourcePath": path(&src), "destinationPath": path(&dst)}),
        )
        .await;
    assert_eq!(
        message(&err),
        format!(
            "{}: is a directory; copying it needs `recursive: true`",
            path(&src)
        )
    );
    let err = server
        .call_err(
            FsCopy::NAME,
            json!({"sourcePath": path(&src), "destinationPath": path(&src.join("sub/again")), "recursive": true}),
        )
        .await;
    assert!(
        message(&err).contains("cannot copy a directory into itself"),
        "{err}"
    );
    let missing = env.work.path().join("missing");
    let err = server
        .call_err(
            FsCopy::NAME,
            json!({"sourcePath": path(&missing), "destinationPath": path(&dst)}),
        )
        .await;
    assert!(message(&err).starts_with(&path(&missing)), "{err}");

    server
        .call::<FsCopy>(
            json!({"sourcePath": path(&src), "destinationPath": path(&dst), "recursive": true}),
        )
        .await;
    assert_eq!(
        std::fs::read_to_string(dst.join("sub/f.txt")).unwrap(),
        "content"
    );
}

#[tokio::test]
async fn watch_reports_changes_until_unwatched_and_refuses_bad_ids_and_paths() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let one = env.work.path().join("one");
    let two = env.work.path().join("two");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let canonical_one = std::fs::canonicalize(&one).unwrap();
    let watched = server
        .call::<FsWatch>(json!({"path": path(&one), "watchId": "w1"}))
        .await;
    assert_eq!(watched["path"], path(&canonical_one));
    server
        .call::<FsWatch>(json!({"path": path(&two), "watchId": "w2"}))
        .await;

    let err = server
        .call_err(FsWatch::NAME, json!({"path": path(&two), "watchId": "w1"}))
        .await;
    assert_eq!(
        message(&err),
        "watch id `w1` is already in use on this connection"
    );
    let missing = env.work.path().join("missing");
    let err = server
        .call_err(
            FsWatch::NAME,
            json!({"path": path(&missing), "watchId": "w3"}),
        )
        .await;
    assert!(message(&err).starts_with(&path(&missing)), "{err}");
    let err = server
        .call_err(FsWatch::NAME, json!({"path": "rel", "watchId": "w3"}))
        .await;
    assert_eq!(err["code"], -32602, "{err}");

    std::fs::write(one.join("new.txt"), "x").unwrap();
    let changed = server
        .wait_for("fs/changed w1", |m| {
            m["method"] == "fs/changed" && m["params"]["watchId"] == "w1"
        })
        .await;
    assert_eq!(
        changed["params"]["changedPaths"],
        json!([path(&canonical_one.join("new.txt"))])
    );

    server.call::<FsUnwatch>(json!({"watchId": "w1"})).await;
    let err = server
        .call_err(FsUnwatch::NAME, json!({"watchId": "w1"}))
        .await;
    assert_eq!(message(&err), "unknown watch id `w1`");

    // Changes to both: only the remaining watch reports, twice in a row, never w1.
    std::fs::write(one.join("after.txt"), "x").unwrap();
    std::fs::write(two.join("first.txt"), "x").unwrap();
    wait_changed(&mut server, "w2").await;
    std::fs::write(two.join("second.txt"), "x").unwrap();
    wait_changed(&mut server, "w2").await;
    server.drain_ready();
    assert!(
        !server.log.iter().any(|m| m["method"] == "fs/changed"
            && m["params"]["watchId"] == "w1"
            && m["params"]["changedPaths"]
                .to_string()
                .contains("after.txt")),
        "an unwatched path still reported"
    );
}

async fn wait_changed(server: &mut Server, watch_id: &str) -> Value {
    let id = watch_id.to_string();
    server
        .wait_for(&format!("fs/changed {watch_id}"), move |m| {
            m["method"] == "fs/changed" && m["params"]["watchId"] == id
        })
        .await
}

#[tokio::test]
async fn unwatch_before_any_watch_is_an_unknown_id() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let err = server
        .call_err(FsUnwatch::NAME, json!({"watchId": "never"}))
        .await;
    assert_eq!(err["code"], -32600, "{err}");
    assert_eq!(message(&err), "unknown watch id `never`");
}

/// One client of a shared in-process server: its requests and the notifications it received.
struct Client {
    peer: Peer,
    notes: mpsc::Receiver<(String, Value)>,
    closing: Closing,
}

impl Client {
    async fn connect(server: &Arc<AppServer>) -> Client {
        let (server_end, client_end) = codex_jsonrpc::memory_pair();
        let serving = server.clone();
        tokio::spawn(async move {
            let connection = Connection::stream(server_end, serving.limits());
            serving.serve(connection).await.close().await;
        });
        let (peer, mut incoming, closing) =
            Connection::stream(client_end, Limits::default()).into_parts();
        let (tx, notes) = mpsc::channel(256);
        tokio::spawn(async move {
            while let Some(message) = incoming.recv().await {
                if let Incoming::Notification { method, params } = message {
                    let _ = tx.send((method, params.unwrap_or(Value::Null))).await;
                }
            }
        });
        let init: InitializeParams =
            serde_json::from_value(json!({"clientInfo": {"name": "fs_test", "version": "1"}}))
                .unwrap();
        peer.request::<Initialize>(&init).await.unwrap();
        Client {
            peer,
            notes,
            closing,
        }
    }

    /// Ends the connection: the server sees its input end and closes its side.
    async fn close(self) {
        self.closing.close(WAIT).await;
    }

    async fn watch(&self, dir: &Path, id: &str) {
        let params = FsWatchParams {
            path: dir.to_path_buf(),
            watch_id: id.to_string(),
        };
        self.peer.request::<FsWatch>(&params).await.unwrap();
    }

    /// The next `fs/changed` this client receives.
    async fn next_change(&mut self) -> Value {
        loop {
            let (method, params) = tokio::time::timeout(WAIT, self.notes.recv())
                .await
                .expect("timed out waiting for fs/changed")
                .expect("connection closed");
            if method == "fs/changed" {
                return params;
            }
        }
    }
}

#[tokio::test]
async fn watches_belong_to_their_connection() {
    let env = Env::new().await;
    let config = Config::load_from(
        env.home.path().to_path_buf(),
        parse_overrides(&env.mock_overrides()).unwrap(),
    )
    .unwrap();
    let options = RuntimeOptions {
        default_cwd: env.work.path().to_path_buf(),
        home_dir: None,
    };
    let server = Arc::new(AppServer::new(config, options).unwrap());
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    let one = std::fs::canonicalize(env.work.path()).unwrap().join("one");
    let two = std::fs::canonicalize(env.work.path()).unwrap().join("two");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    // The same id on both connections: each names its own watch.
    a.watch(&one, "w").await;
    b.watch(&two, "w").await;

    std::fs::write(one.join("for-a.txt"), "x").unwrap();
    let change = a.next_change().await;
    assert_eq!(
        change["changedPaths"],
        json!([path(&one.join("for-a.txt"))])
    );
    std::fs::write(two.join("for-b.txt"), "x").unwrap();
    let change = b.next_change().await;
    // B's first change is its own: A's change never reached it.
    assert_eq!(
        change["changedPaths"],
        json!([path(&two.join("for-b.txt"))])
    );

    // A leaves (its watches end with it); B's watch goes on.
    a.close().await;
    std::fs::write(one.join("after-a.txt"), "x").unwrap();
    std::fs::write(two.join("again.txt"), "x").unwrap();
    let change = b.next_change().await;
    assert_eq!(
        change["changedPaths"],
        json!([path(&two.join("again.txt"))])
    );
}
