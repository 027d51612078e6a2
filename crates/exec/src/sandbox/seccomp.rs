//! The seccomp program that cuts network access but keeps `AF_UNIX`.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::types::ExecError;

/// Deny (EPERM) creation of any non-`AF_UNIX` socket, and io_uring.
pub(super) fn network_filter() -> Result<BpfProgram, ExecError> {
    let fail = |e: seccompiler::BackendError| ExecError::SandboxSetup(format!("seccomp: {e}"));
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| ExecError::SandboxUnavailable(format!("seccomp: {e}")))?;
    let not_unix = || -> Result<Vec<SeccompRule>, ExecError> {
        let cond = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(fail)?;
        Ok(vec![SeccompRule::new(vec![cond]).map_err(fail)?])
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_socket, not_unix()?);
    rules.insert(libc::SYS_socketpair, not_unix()?);
    // An empty rule list matches the syscall unconditionally.
    rules.insert(libc::SYS_io_uring_setup, Vec::new());
    rules.insert(libc::SYS_io_uring_enter, Vec::new());
    rules.insert(libc::SYS_io_uring_register, Vec::new());
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(fail)?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| fail(e))
}
