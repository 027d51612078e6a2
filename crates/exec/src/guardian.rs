//! The guardian: one small helper process that kills every live process group
//! we started when this process dies, however it dies.
//!
//! Destructors and [`crate::Process`]'s drop kill a command's process group on
//! every orderly path, and `PR_SET_PDEATHSIG` kills the direct child when we
//! die. Neither reaches a grandchild after a SIGKILL or an abort: it is
//! reparented to init and runs on. So we start one `/bin/sh` reading a pipe
//! whose only write end we hold (close-on-exec, so commands never inherit it).
//! We send `+ <pgid>` when a group starts and `- <pgid>` once it is gone. When we
//! exit, the kernel closes the write end, `read` hits EOF, and the guardian
//! SIGKILLs each group still registered, then exits itself.
//!
//! The guardian sits in its own process group, so neither our group kills nor
//! terminal signals aimed at our foreground group reach it. It costs one
//! shell process (under 1 MiB) per server, started on first use.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// Reads `+ pgid` / `- pgid` lines until EOF, then kills what is registered.
/// Only digits reach `eval`, so the variable names cannot inject code.
const SCRIPT: &str = r#"trap '' HUP INT
while read -r op pgid; do
  case $pgid in ''|*[!0-9]*) continue ;; esac
  case $op in
    +) eval "g_$pgid=1" ;;
    -) unset "g_$pgid" ;;
  esac
done
set | while IFS='=' read -r name _; do
  case $name in g_[0-9]*) kill -s KILL -- "-${name#g_}" 2>/dev/null ;; esac
done
"#;

struct Guardian {
    child: Child,
    stdin: ChildStdin,
}

struct State {
    guardian: Option<Guardian>,
    /// Starting it failed once (no `/bin/sh`?): do not retry for every command.
    unavailable: bool,
    /// What the guardian should hold, replayed if it has to be restarted.
    groups: BTreeSet<u32>,
}

static STATE: Mutex<State> = Mutex::new(State {
    guardian: None,
    unavailable: false,
    groups: BTreeSet::new(),
});

/// Register a live process group.
pub(crate) fn watch(pgid: u32) {
    update(pgid, true);
}

/// Forget a process group that has been killed (or has exited).
pub(crate) fn unwatch(pgid: u32) {
    update(pgid, false);
}

fn update(pgid: u32, live: bool) {
    let Ok(mut state) = STATE.lock() else {
        return;
    };
    let changed = if live {
        state.groups.insert(pgid)
    } else {
        state.groups.remove(&pgid)
    };
    if !changed {
        return;
    }
    let line = format!("{} {pgid}\n", if live { '+' } else { '-' });
    let sent = match state.guardian.as_mut() {
        Some(guardian) => guardian.stdin.write_all(line.as_bytes()).is_ok(),
        None => false,
    };
    if sent || state.unavailable {
        return;
    }
    // Not started yet, or it died (someone killed it): start a new one and
    // hand it the whole current set.
    if let Some(mut dead) = state.guardian.take() {
        let _ = dead.child.kill();
        let _ = dead.child.wait();
    }
    match start() {
        Ok(mut guardian) => {
            let lines: String = state.groups.iter().map(|g| format!("+ {g}\n")).collect();
            if let Err(err) = guardian.stdin.write_all(lines.as_bytes()) {
                tracing::warn!(%err, "process-group guardian refused its registrations");
            }
            state.guardian = Some(guardian);
        }
        Err(err) => {
            state.unavailable = true;
            tracing::warn!(%err, "could not start the process-group guardian; commands may outlive an abnormal exit");
        }
    }
}

fn start() -> std::io::Result<Guardian> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(SCRIPT)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let Some(stdin) = child.stdin.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::other("guardian has no stdin pipe"));
    };
    tracing::debug!(pid = child.id(), "started the process-group guardian");
    Ok(Guardian { child, stdin })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script kills exactly the groups still registered at EOF.
    #[test]
    fn the_script_kills_registered_groups_at_eof() {
        let spawn_group = || {
            Command::new("sleep")
                .arg("1000")
                .process_group(0)
                .spawn()
                .unwrap()
        };
        let (mut kept, mut released) = (spawn_group(), spawn_group());
        let mut guardian = start().unwrap();
        let lines = format!(
            "+ {}\n+ {}\n- {}\n+ not-a-number\n",
            kept.id(),
            released.id(),
            released.id()
        );
        guardian.stdin.write_all(lines.as_bytes()).unwrap();
        drop(guardian.stdin);
        assert!(guardian.child.wait().unwrap().success());
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(kept.wait().unwrap().signal(), Some(libc::SIGKILL));
        assert_eq!(
            released.try_wait().unwrap(),
            None,
            "an unregistered group was killed"
        );
        released.kill().unwrap();
        released.wait().unwrap();
    }
}
