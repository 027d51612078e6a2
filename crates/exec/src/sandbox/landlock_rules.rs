//! The Landlock ruleset: read everywhere, write beneath the writable roots
//! and to a few device files (`/dev/null`, the command's own terminal).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use landlock::{
    path_beneath_rules, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, ABI,
};

use crate::types::ExecError;

/// Create the ruleset for the kernel's `abi` and return its fd. Every access
/// right known to that ABI is handled, so anything not granted is denied.
pub(super) fn build(
    abi: i32,
    writable: &[PathBuf],
    devices: &[&Path],
) -> Result<OwnedFd, ExecError> {
    let abi = ABI::from(abi);
    let fail = |e: landlock::RulesetError| ExecError::SandboxSetup(format!("landlock: {e}"));
    let all = AccessFs::from_all(abi);
    // Reading, listing and executing anywhere; device ioctls are not writes
    // and terminals/tools need them.
    let read = AccessFs::from_read(abi) | (all & AccessFs::IoctlDev);
    let ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(fail)?
        .create()
        .map_err(fail)?
        .add_rules(path_beneath_rules(["/"], read))
        .map_err(fail)?
        .add_rules(path_beneath_rules(devices, all))
        .map_err(fail)?
        .add_rules(path_beneath_rules(writable, all))
        .map_err(fail)?;
    let fd: Option<OwnedFd> = ruleset.into();
    fd.ok_or_else(|| {
        ExecError::SandboxUnavailable("Landlock ruleset could not be created".to_string())
    })
}
