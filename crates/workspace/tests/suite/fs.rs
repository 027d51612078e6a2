//! The fs API against a real temporary directory.

use base64::Engine;
use codex_protocol::v2::*;
use codex_workspace::fs::{self, FsLimits};
use codex_workspace::WorkspaceError;
use std::path::{Path, PathBuf};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn read(path: &Path) -> Vec<u8> {
    let r = fs::read_file(&FsReadFileParams { path: path.into() }, FsLimits::default()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(r.data_base64)
        .unwrap()
}

#[test]
fn write_then_read_round_trips_bytes_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bin.dat");
    let data: Vec<u8> = (0..=255u8).collect();
    fs::write_file(&FsWriteFileParams {
        path: path.clone(),
        data_base64: b64(&data),
    })
    .unwrap();
    assert_eq!(read(&path), data);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
    fs::write_file(&FsWriteFileParams {
        path: path.clone(),
        data_base64: b64(b"new"),
    })
    .unwrap();
    assert_eq!(read(&path), b"new");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    // No temporary file is left beside the target.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn writing_through_a_symlink_updates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.txt");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    fs::write_file(&FsWriteFileParams {
        path: link.clone(),
        data_base64: b64(b"new"),
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn relative_paths_bad_base64_and_missing_files_are_named_errors() {
    let err = fs::read_file(
        &FsReadFileParams {
            path: "rel/x".into(),
        },
        FsLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WorkspaceError::NotAbsolute { .. }));
    assert!(err.is_invalid_params());
    assert_eq!(err.to_string(), "rel/x: path must be absolute");

    let dir = tempfile::tempdir().unwrap();
    let err = fs::write_file(&FsWriteFileParams {
        path: dir.path().join("x"),
        data_base64: "not base64!".into(),
    })
    .unwrap_err();
    assert!(err.is_invalid_params());

    let missing = dir.path().join("missing.txt");
    let err = fs::read_file(
        &FsReadFileParams {
            path: missing.clone(),
        },
        FsLimits::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&missing.display().to_string()), "{text}");
    assert!(text.contains("No such file"), "{text}");
    assert!(!err.is_invalid_params());
}

#[test]
fn a_file_over_the_limit_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.bin");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let limits = FsLimits {
        max_read_bytes: 1024,
    };
    let err = fs::read_file(&FsReadFileParams { path: path.clone() }, limits).unwrap_err();
    assert!(
        matches!(
            err,
            WorkspaceError::TooLarge {
                size: 4096,
                limit: 1024,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1024-byte limit"));
    let ok = fs::read_file(
        &FsReadFileParams { path },
        FsLimits {
            max_read_bytes: 4096,
        },
    );
    assert!(ok.is_ok());
    let err = fs::read_file(
        &FsReadFileParams {
            path: dir.path().into(),
        },
        limits,
    )
    .unwrap_err();
    assert!(matches!(err, WorkspaceError::IsDirectory { .. }));
}

#[test]
fn create_directory_is_recursive_by_default_and_strict_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b/c");
    fs::create_directory(&FsCreateDirectoryParams {
        path: deep.clone(),
        recursive: None,
    })
    .unwrap();
    assert!(deep.is_dir());
    // Existing directory with recursive: fine (mkdir -p).
    fs::create_directory(&FsCreateDirectoryParams {
        path: deep.clone(),
        recursive: None,
    })
    .unwrap();
    let err = fs::create_directory(&FsCreateDirectoryParams {
        path: dir.path().join("x/y"),
        recursive: Some(false),
    })
    .unwrap_err();
    assert!(err.to_string().contains("x/y"), "{err}");
}

#[test]
fn metadata_describes_files_directories_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let link = dir.path().join("l");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    let m = fs::get_metadata(&FsGetMetadataParams { path: file }).unwrap();
    assert!(m.is_file && !m.is_directory && !m.is_symlink);
    assert!(m.modified_at_ms > 1_600_000_000_000);
    let m = fs::get_metadata(&FsGetMetadataParams { path: link }).unwrap();
    assert!(m.is_directory && m.is_symlink);
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let m = fs::get_metadata(&FsGetMetadataParams { path: dangling }).unwrap();
    assert!(m.is_symlink && !m.is_file && !m.is_directory);
}

#[test]
fn read_directory_lists_direct_children_sorted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("b.txt"), "").unwrap();
    std::fs::write(dir.path().join("sub/deep.txt"), "").unwrap();
    std::os::unix::fs::symlink(dir.path().join("sub"), dir.path().join("a-link")).unwrap();
    let r = fs::read_directory(&FsReadDirectoryParams {
        path: dir.path().into(),
    })
    .unwrap();
    let names: Vec<(&str, bool, bool)> = r
        .entries
        .iter()
        .map(|e| (e.file_name.as_str(), e.is_directory, e.is_file))
        .collect();
    assert_eq!(
        names,
        vec![
            ("a-link", true, false),
            ("b.txt", false, true),
            ("sub", true, false)
        ]
    );
}

#[test]
fn remove_defaults_to_recursive_and_force() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("x/y")).unwrap();
    std::fs::write(tree.join("x/y/z.txt"), "z").unwrap();
    fs::remove(&FsRemoveParams {
        path: tree.clone(),
        recursive: None,
        force: None,
    })
    .unwrap();
    assert!(!tree.exists());
    // Missing path: fine by default, an error without force.
    fs::remove(&FsRemoveParams {
        path: tree.clone(),
        recursive: None,
        force: None,
    })
    .unwrap();
    let err = fs::remove(&FsRemoveParams {
        path: tree.clone(),
        recursive: None,
        force: Some(false),
    })
    .unwrap_err();
    assert!(err.to_string().contains("tree"));
    // A non-empty directory without recursive is refused and kept.
    std::fs::create_dir_all(tree.join("keep")).unwrap();
    assert!(fs::remove(&FsRemoveParams {
        path: tree.clone(),
        recursive: Some(false),
        force: None
    })
    .is_err());
    assert!(tree.join("keep").is_dir());
    // A symlink is removed, not what it points to.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&tree, &link).unwrap();
    fs::remove(&FsRemoveParams {
        path: link.clone(),
        recursive: None,
        force: None,
    })
    .unwrap();
    assert!(!link.exists() && tree.is_dir());
}

#[test]
fn copy_files_and_trees_with_links_and_refuses_copying_into_itself() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("nested")).unwrap();
    std::fs::write(src.join("nested/a.txt"), "a").unwrap();
    std::os::unix::fs::symlink("nested/a.txt", src.join("link")).unwrap();
    let one = dir.path().join("one.txt");
    fs::copy(&FsCopyParams {
        source_path: src.join("nested/a.txt"),
        destination_path: one.clone(),
        recursive: None,
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&one).unwrap(), "a");

    let err = fs::copy(&FsCopyParams {
        source_path: src.clone(),
        destination_path: dir.path().join("dst"),
        recursive: None,
    })
    .unwrap_err();
    assert!(matches!(
        err,
        WorkspaceError::DirectoryNeedsRecursive { .. }
    ));

    let dst: PathBuf = dir.path().join("dst");
    fs::copy(&FsCopyParams {
        source_path: src.clone(),
        destination_path: dst.clone(),
        recursive: Some(true),
    })
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(dst.join("nested/a.txt")).unwrap(),
        "a"
    );
    assert_eq!(
        std::fs::read_link(dst.join("link")).unwrap(),
        PathBuf::from("nested/a.txt")
    );

    let err = fs::copy(&FsCopyParams {
        source_path: src.clone(),
        destination_path: src.join("nested/inside"),
        recursive: Some(true),
    })
    .unwrap_err();
    assert!(
        matches!(err, WorkspaceError::CopyIntoItself { .. }),
        "{err}"
    );
    assert!(!src.join("nested/inside").exists());
}

#[tokio::test]
async fn blocking_runs_an_operation_off_the_async_workers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.txt");
    std::fs::write(&path, "hello").unwrap();
    let r = fs::blocking(move || fs::read_file(&FsReadFileParams { path }, FsLimits::default()))
        .await
        .unwrap();
    assert_eq!(r.data_base64, b64(b"hello"));
}
