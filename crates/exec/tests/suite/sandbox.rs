//! Kernel-enforced sandbox behaviour (Landlock, mount namespace, seccomp).
//! These tests run as root on the CI machine: root must not bypass anything.

use std::path::Path;

use codex_exec::{sandbox_support, SandboxPolicy};

use super::{require_landlock, scratch_dir, sh, workspace_write};

fn assert_denied(out: &codex_exec::ExecOutput, what: &str) {
    assert_ne!(out.exit_code, 0, "{what} should have been denied: {out:?}");
}

#[test]
fn landlock_is_supported_here() {
    let support = sandbox_support();
    assert!(support.available, "{support:?}");
    assert!(support.landlock_abi.unwrap() >= 1);
}

#[tokio::test]
async fn workspace_write_allows_cwd_and_tmp() {
    require_landlock();
    let cwd = scratch_dir();
    let out = sh(
        "echo a > in_cwd.txt && mkdir -p sub && echo b > sub/f",
        cwd.path(),
        workspace_write(),
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(cwd.path().join("in_cwd.txt")).unwrap(),
        "a\n"
    );
    let tmp_file = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let script = format!("echo t > '{}'", tmp_file.path().display());
    let out = sh(&script, cwd.path(), workspace_write()).await.unwrap();
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(tmp_file.path()).unwrap(), "t\n");
}

#[tokio::test]
async fn workspace_write_denies_other_dirs_and_home() {
    require_landlock();
    // The scratch dirs may live under /tmp (a clone checked out there), which workspace-write
    // grants by default; exclude the temp roots so "another directory" is really outside.
    let policy = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![],
        network_access: false,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: true,
    };
    let cwd = scratch_dir();
    let other = scratch_dir();
    let target = other.path().join("x");
    let out = sh(
        &format!("echo c > '{}'", target.display()),
        cwd.path(),
        policy.clone(),
    )
    .await
    .unwrap();
    assert_denied(&out, "write to another directory");
    assert!(
        out.stderr.to_lowercase().contains("permission denied"),
        "{out:?}"
    );
    assert!(!target.exists());

    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_string());
    let probe = Path::new(&home).join(format!(".codex-exec-probe-{}", std::process::id()));
    let out = sh(&format!("touch '{}'", probe.display()), cwd.path(), policy)
        .await
        .unwrap();
    let leaked = probe.exists();
    let _ = std::fs::remove_file(&probe);
    assert_denied(&out, "write to $HOME");
    assert!(!leaked);
}

#[tokio::test]
async fn workspace_write_keeps_dot_git_read_only() {
    require_landlock();
    let cwd = scratch_dir();
    let git = cwd.path().join(".git");
    std::fs::create_dir(&git).unwrap();
    std::fs::write(git.join("config"), "orig\n").unwrap();
    for script in [
        "echo evil > .git/config",
        "touch .git/new-hook",
        "rm .git/config",
        "mkdir .git/hooks2",
    ] {
        let out = sh(script, cwd.path(), workspace_write()).await.unwrap();
        assert_denied(&out, script);
        // Denied by the read-only bind mount, not by some other failure.
        assert!(
            out.stderr.contains("Read-only file system"),
            "{script}: {out:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(git.join("config")).unwrap(),
        "orig\n"
    );
    assert!(!git.join("new-hook").exists());
    // The rest of the workspace stays writable in the same run.
    let out = sh(
        "echo ok > file.txt && cat file.txt",
        cwd.path(),
        workspace_write(),
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, "ok\n", "{out:?}");
    // The read-only mount was private to the child: we can still write.
    std::fs::write(git.join("config"), "changed by host\n").unwrap();
}

#[tokio::test]
async fn read_only_denies_all_writes_but_dev_null() {
    require_landlock();
    let cwd = scratch_dir();
    let policy = SandboxPolicy::ReadOnly {
        network_access: false,
    };
    let out = sh("echo x > f.txt", cwd.path(), policy.clone())
        .await
        .unwrap();
    assert_denied(&out, "read-only write in cwd");
    assert!(!cwd.path().join("f.txt").exists());
    let tmp_target = format!("/tmp/codex-exec-ro-{}", std::process::id());
    let out = sh(
        &format!("echo x > {tmp_target}"),
        cwd.path(),
        policy.clone(),
    )
    .await
    .unwrap();
    let leaked = Path::new(&tmp_target).exists();
    let _ = std::fs::remove_file(&tmp_target);
    assert_denied(&out, "read-only write in /tmp");
    assert!(!leaked);
    let out = sh(
        "echo x > /dev/null && cat /etc/hostname >/dev/null && echo fine",
        cwd.path(),
        policy,
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, "fine\n", "{out:?}");
}

#[tokio::test]
async fn danger_full_access_writes_anywhere() {
    let cwd = scratch_dir();
    let other = scratch_dir();
    let target = other.path().join("y");
    let out = sh(
        &format!("echo d > '{}'", target.display()),
        cwd.path(),
        SandboxPolicy::DangerFullAccess,
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(target).unwrap(), "d\n");
}

const INET: &str =
    "import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM); print('inet ok')";
const INET6: &str =
    "import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); print('inet6 ok')";
const UNIX: &str = "import socket; a, b = socket.socketpair(socket.AF_UNIX); s = socket.socket(socket.AF_UNIX); a.send(b'x'); print('unix ok', b.recv(1))";

fn python(code: &str) -> String {
    format!("python3 -c \"{code}\"")
}

#[tokio::test]
async fn network_off_blocks_inet_sockets_but_not_unix() {
    require_landlock();
    let cwd = scratch_dir();
    for policy in [
        workspace_write(),
        SandboxPolicy::ReadOnly {
            network_access: false,
        },
    ] {
        for code in [INET, INET6] {
            let out = sh(&python(code), cwd.path(), policy.clone()).await.unwrap();
            assert_denied(&out, code);
            assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
        }
        let out = sh(&python(UNIX), cwd.path(), policy).await.unwrap();
        assert_eq!(out.stdout, "unix ok b'x'\n", "{out:?}");
    }
}

#[tokio::test]
async fn network_on_allows_inet_sockets() {
    require_landlock();
    let cwd = scratch_dir();
    let policy = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![],
        network_access: true,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: false,
    };
    let out = sh(&python(INET), cwd.path(), policy).await.unwrap();
    assert_eq!(out.stdout, "inet ok\n", "{out:?}");
    let out = sh(&python(INET), cwd.path(), SandboxPolicy::DangerFullAccess)
        .await
        .unwrap();
    assert_eq!(out.stdout, "inet ok\n", "{out:?}");
}

#[tokio::test]
async fn extra_writable_roots_are_granted() {
    require_landlock();
    let cwd = scratch_dir();
    let extra = scratch_dir();
    let policy = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![extra.path().to_path_buf()],
        network_access: false,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: true,
    };
    let target = extra.path().join("z");
    let out = sh(
        &format!("echo z > '{}'", target.display()),
        cwd.path(),
        policy.clone(),
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 0, "{out:?}");
    let tmp_target = format!("/tmp/codex-exec-noslash-{}", std::process::id());
    let out = sh(&format!("echo x > {tmp_target}"), cwd.path(), policy)
        .await
        .unwrap();
    let leaked = Path::new(&tmp_target).exists();
    let _ = std::fs::remove_file(&tmp_target);
    assert_denied(&out, "/tmp excluded");
    assert!(!leaked);
}
