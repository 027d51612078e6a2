//! `thread/list` params turned into an index query, plus the filters the index cannot apply
//! (source kinds, excluded ids, originators), which are applied to the rows it returns.

use codex_protocol::v2::{
    SortDirection, ThreadListCwdFilter, ThreadListParams, ThreadSortKey, ThreadSourceKind,
};
use codex_store::{ListQuery, SortKey, ThreadRecord};
use std::path::PathBuf;

const DEFAULT_LIST_LIMIT: u32 = 25;
const MAX_LIST_LIMIT: u32 = 200;
/// Rows one `thread/list` call may skip over for filters the index cannot apply.
pub const MAX_LIST_SCAN: usize = 10_000;

/// One `thread/list` call: the index query, the page size and the remaining filters.
pub struct ListPlan {
    pub query: ListQuery,
    pub limit: usize,
    pub filter: ListFilter,
}

impl ListPlan {
    pub fn new(p: ThreadListParams) -> ListPlan {
        let cwds = match p.cwd {
            None => Vec::new(),
            Some(ThreadListCwdFilter::One(c)) => vec![PathBuf::from(c)],
            Some(ThreadListCwdFilter::Many(cs)) => cs.into_iter().map(PathBuf::from).collect(),
        };
        let limit = p
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT);
        let query = ListQuery {
            archived: p.archived.unwrap_or(false),
            cursor: p.cursor,
            limit: Some(limit),
            sort_key: match p.sort_key {
                Some(ThreadSortKey::UpdatedAt) | Some(ThreadSortKey::RecencyAt) => {
                    SortKey::UpdatedAt
                }
                _ => SortKey::CreatedAt,
            },
            descending: p.sort_direction != Some(SortDirection::Asc),
            cwds,
            search_term: p.search_term.filter(|s| !s.is_empty()),
            model_providers: p.model_providers.unwrap_or_default(),
        };
        ListPlan {
            query,
            limit: limit as usize,
            filter: ListFilter {
                source_kinds: p.source_kinds.unwrap_or_default(),
                excluded: p.excluded_thread_ids.unwrap_or_default(),
                originators: p.originators.unwrap_or_default(),
            },
        }
    }
}

/// `thread/list` filters applied outside the index.
pub struct ListFilter {
    source_kinds: Vec<ThreadSourceKind>,
    excluded: Vec<String>,
    originators: Vec<String>,
}

impl ListFilter {
    pub fn keeps(&self, r: &ThreadRecord) -> bool {
        (self.excluded.is_empty() || !self.excluded.contains(&r.id))
            && (self.originators.is_empty() || self.originators.contains(&r.originator))
            && (self.source_kinds.is_empty()
                || source_kinds_of(&r.source)
                    .iter()
                    .any(|k| self.source_kinds.contains(k)))
    }
}

/// The `thread/list` source kinds a stored `source` value belongs to.
fn source_kinds_of(source: &serde_json::Value) -> Vec<ThreadSourceKind> {
    use ThreadSourceKind as K;
    match source {
        serde_json::Value::String(s) => vec![match s.as_str() {
            "cli" => K::Cli,
            "vscode" => K::Vscode,
            "exec" => K::Exec,
            "appServer" | "mcp" => K::AppServer,
            _ => K::Unknown,
        }],
        serde_json::Value::Object(o) => {
            let Some(sub) = o.get("subAgent").or_else(|| o.get("subagent")) else {
                return vec![K::Unknown];
            };
            let specific = match sub {
                serde_json::Value::String(s) if s == "review" => K::SubAgentReview,
                serde_json::Value::String(s) if s == "compact" => K::SubAgentCompact,
                serde_json::Value::Object(o) if o.contains_key("thread_spawn") => {
                    K::SubAgentThreadSpawn
                }
                _ => K::SubAgentOther,
            };
            vec![K::SubAgent, specific]
        }
        _ => vec![K::Unknown],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_map_to_list_kinds() {
        use ThreadSourceKind as K;
        assert_eq!(
            source_kinds_of(&serde_json::json!("vscode")),
            vec![K::Vscode]
        );
        assert_eq!(
            source_kinds_of(&serde_json::json!({"subagent": "review"})),
            vec![K::SubAgent, K::SubAgentReview]
        );
        assert_eq!(
            source_kinds_of(&serde_json::json!({"subAgent": {"thread_spawn": {}}})),
            vec![K::SubAgent, K::SubAgentThreadSpawn]
        );
    }
}
