//! The tools of one thread. [`ToolRegistry`] changes while the thread is open (an MCP server
//! reloads, a client adds tools); each model request works on a [`ToolSet`] snapshot, so the
//! specs the model saw and the tools that answer its calls always match.

use super::call::ToolCall;
use super::tool::{Family, Tool};
use serde_json::Value;
use std::sync::{Arc, Mutex, OnceLock};

/// An immutable set of tools, in advertising order.
#[derive(Clone, Default)]
pub struct ToolSet {
    tools: Vec<Arc<dyn Tool>>,
    /// Specs per model family, built on first use: every model request sends them.
    specs: [OnceLock<Vec<Value>>; 3],
}

impl ToolSet {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> ToolSet {
        ToolSet {
            tools,
            specs: Default::default(),
        }
    }

    /// The specs for models of `family`, in registration order.
    pub fn specs(&self, family: Family) -> Vec<Value> {
        let slot = match family {
            Family::Codex => 0,
            Family::Legacy => 1,
            Family::Unknown => 2,
        };
        self.specs[slot]
            .get_or_init(|| self.tools.iter().filter_map(|t| t.spec(family)).collect())
            .clone()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    /// The tool that answers `call`: by its namespace when it has one; else by its name; else,
    /// for a flat `<namespace>__<name>` (as some models spell namespaced calls), by the
    /// longest registered namespace it starts with.
    pub fn resolve(&self, call: &ToolCall) -> Option<&Arc<dyn Tool>> {
        if let Some(namespace) = &call.namespace {
            return self.get(namespace);
        }
        if let Some(tool) = self.get(&call.name) {
            return Some(tool);
        }
        self.tools
            .iter()
            .filter(|t| {
                call.name
                    .strip_prefix(t.name())
                    .is_some_and(|rest| rest.len() > 2 && rest.starts_with("__"))
            })
            .max_by_key(|t| t.name().len())
    }
}

/// A thread's tools; cheap to snapshot, safe to change from any task.
pub struct ToolRegistry {
    current: Mutex<Arc<ToolSet>>,
}

impl ToolRegistry {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> ToolRegistry {
        ToolRegistry {
            current: Mutex::new(Arc::new(ToolSet::new(tools))),
        }
    }

    /// The tools as they are now; later changes do not affect the snapshot.
    pub fn snapshot(&self) -> Arc<ToolSet> {
        self.current
            .lock()
            .map(|set| set.clone())
            .unwrap_or_default()
    }

    /// Adds `tool`, replacing a tool of the same name in place (keeping its position).
    pub fn register(&self, tool: Arc<dyn Tool>) {
        if let Ok(mut current) = self.current.lock() {
            let mut tools = current.tools.clone();
            match tools.iter().position(|t| t.name() == tool.name()) {
                Some(i) => tools[i] = tool,
                None => tools.push(tool),
            }
            *current = Arc::new(ToolSet::new(tools));
        }
    }

    /// Removes the tool called `name`; false when there was none.
    pub fn remove(&self, name: &str) -> bool {
        let Ok(mut current) = self.current.lock() else {
            return false;
        };
        let before = current.tools.len();
        let tools: Vec<_> = current
            .tools
            .iter()
            .filter(|t| t.name() != name)
            .cloned()
            .collect();
        let removed = tools.len() != before;
        *current = Arc::new(ToolSet::new(tools));
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::call::{ToolOutput, ToolPayload};
    use crate::tools::context::CallScope;
    use crate::tools::tool::ToolFuture;
    use serde_json::json;

    /// A tool that answers with its own name.
    struct Named(&'static str);

    impl Tool for Named {
        fn name(&self) -> &str {
            self.0
        }

        fn spec(&self, family: Family) -> Option<Value> {
            (family != Family::Legacy).then(|| json!({"type": "namespace", "name": self.0}))
        }

        fn call<'a>(&'a self, _call: &'a ToolCall, _scope: &'a mut CallScope) -> ToolFuture<'a> {
            Box::pin(async move { Ok(ToolOutput::Text(self.0.to_string())) })
        }
    }

    fn call(namespace: Option<&str>, name: &str) -> ToolCall {
        ToolCall {
            call_id: "c".into(),
            namespace: namespace.map(str::to_string),
            name: name.into(),
            payload: ToolPayload::Function {
                arguments: "{}".into(),
            },
        }
    }

    fn resolved(set: &ToolSet, c: &ToolCall) -> Option<String> {
        set.resolve(c).map(|t| t.name().to_string())
    }

    #[test]
    fn calls_resolve_by_namespace_name_or_flat_namespaced_name() {
        let set = ToolSet::new(vec![
            Arc::new(Named("exec_command")),
            Arc::new(Named("mcp__fs")),
            Arc::new(Named("mcp__fs__extra")),
        ]);
        assert_eq!(
            resolved(&set, &call(None, "exec_command")).as_deref(),
            Some("exec_command")
        );
        assert_eq!(
            resolved(&set, &call(Some("mcp__fs"), "read_file")).as_deref(),
            Some("mcp__fs")
        );
        assert_eq!(
            resolved(&set, &call(None, "mcp__fs__read_file")).as_deref(),
            Some("mcp__fs")
        );
        // The longest namespace that prefixes the flat name wins.
        assert_eq!(
            resolved(&set, &call(None, "mcp__fs__extra__go")).as_deref(),
            Some("mcp__fs__extra")
        );
        assert_eq!(resolved(&set, &call(Some("mcp__nope"), "x")), None);
        assert_eq!(resolved(&set, &call(None, "mcp__fs__")), None);
        assert_eq!(set.specs(Family::Legacy), Vec::<Value>::new());
        assert_eq!(set.specs(Family::Codex).len(), 3);
    }

    #[test]
    fn registry_changes_do_not_touch_earlier_snapshots() {
        let registry = ToolRegistry::new(vec![Arc::new(Named("a")), Arc::new(Named("b"))]);
        let before = registry.snapshot();
        registry.register(Arc::new(Named("c")));
        assert!(registry.remove("a"));
        assert!(!registry.remove("a"));
        registry.register(Arc::new(Named("b")));
        assert_eq!(before.names(), vec!["a", "b"]);
        assert_eq!(registry.snapshot().names(), vec!["b", "c"]);
    }
}
