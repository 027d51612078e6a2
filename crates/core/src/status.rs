//! A loaded thread's status, shared by the thread (lists and reads show it), its turn (active
//! at the start, idle or systemError at the end) and its tools (the `waitingOnApproval` flag
//! while a call waits on the client).

use codex_protocol::v2::{ThreadActiveFlag, ThreadStatus};
use std::sync::Mutex;

pub struct StatusCell {
    inner: Mutex<Inner>,
}

struct Inner {
    status: ThreadStatus,
    /// Calls waiting on an approval right now; the flag is up while this is above zero.
    waiting: usize,
}

impl StatusCell {
    pub fn new(status: ThreadStatus) -> StatusCell {
        StatusCell {
            inner: Mutex::new(Inner { status, waiting: 0 }),
        }
    }

    pub fn get(&self) -> ThreadStatus {
        self.inner
            .lock()
            .map(|i| i.status.clone())
            .unwrap_or(ThreadStatus::Idle)
    }

    pub fn set(&self, status: ThreadStatus) {
        if let Ok(mut i) = self.inner.lock() {
            i.status = status;
        }
    }

    /// Counts one approval wait starting (`waiting`) or ending. Several calls may wait at once:
    /// the flag goes up with the first and down with the last. Returns the status to announce
    /// when the flag changed, unless it went down and `announce_clear` is false (an
    /// interrupted turn announces its final status anyway).
    pub fn change_waiting(&self, waiting: bool, announce_clear: bool) -> Option<ThreadStatus> {
        let mut i = self.inner.lock().ok()?;
        let changed = if waiting {
            i.waiting += 1;
            i.waiting == 1
        } else if i.waiting > 0 {
            i.waiting -= 1;
            i.waiting == 0
        } else {
            false
        };
        if !changed || (!waiting && !announce_clear) {
            return None;
        }
        let active_flags = if waiting {
            vec![ThreadActiveFlag::WaitingOnApproval]
        } else {
            Vec::new()
        };
        let status = ThreadStatus::Active { active_flags };
        if matches!(i.status, ThreadStatus::Active { .. }) {
            i.status = status.clone();
        }
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_up_from_the_first_wait_to_the_last() {
        let cell = StatusCell::new(ThreadStatus::Active {
            active_flags: vec![],
        });
        assert!(cell.change_waiting(true, true).is_some());
        assert!(cell.change_waiting(true, true).is_none());
        assert!(cell.change_waiting(false, true).is_none());
        assert_eq!(
            cell.get(),
            ThreadStatus::Active {
                active_flags: vec![ThreadActiveFlag::WaitingOnApproval]
            }
        );
        assert_eq!(
            cell.change_waiting(false, true),
            Some(ThreadStatus::Active {
                active_flags: vec![]
            })
        );
        assert!(
            cell.change_waiting(false, true).is_none(),
            "never below zero"
        );
    }
}
