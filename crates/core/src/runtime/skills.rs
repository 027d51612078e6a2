//! `skills/list`: the skills of each working directory asked about, from the cache unless
//! `forceReload`. Listing a directory also starts watching its skill roots, so the client hears
//! `skills/changed` when they change.

use super::Runtime;
use crate::error::CoreError;
use codex_protocol::v2::{SkillsListParams, SkillsListResponse};
use std::path::PathBuf;

impl Runtime {
    /// `skills/list`. Without `cwds`, the runtime's default working directory. A directory that
    /// does not exist lists the user skills only, as the official runtime answers; relative
    /// directories resolve against the default working directory.
    pub async fn list_skills(&self, p: SkillsListParams) -> Result<SkillsListResponse, CoreError> {
        let default_cwd = &self.inner.options.default_cwd;
        let cwds: Vec<String> = match p.cwds {
            Some(cwds) if !cwds.is_empty() => cwds,
            _ => vec![default_cwd.display().to_string()],
        };
        let force_reload = p.force_reload.unwrap_or(false);
        let mut data = Vec::with_capacity(cwds.len());
        for cwd in cwds {
            let dir: PathBuf = default_cwd.join(&cwd);
            let mut entry = self
                .inner
                .skills
                .list(&dir, force_reload)
                .await
                .map_err(CoreError::Internal)?;
            // Answer with the directory as the client named it, so it can match entries.
            entry.cwd = cwd;
            data.push(entry);
        }
        Ok(SkillsListResponse { data })
    }
}
