//! Names the model sees for MCP tools, and the way back from them.
//!
//! A server `fs` becomes the namespace `mcp__fs`; its tool `write-file` the function
//! `write_file` inside it. Characters outside `[A-Za-z0-9_]` become `_` (the official rule), so
//! two raw names can collide after sanitising: the first in sorted order wins and the other is
//! not advertised. Models that do not use namespaces may call the flat name
//! `mcp__fs__write_file`, which resolves to the same tool.

/// Prefix of every MCP namespace.
pub const NAMESPACE_PREFIX: &str = "mcp__";

/// `name` with every character outside `[A-Za-z0-9_]` replaced by `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The namespace the model sees for a server: `mcp__<sanitised server name>`.
pub fn namespace_for(server: &str) -> String {
    format!("{NAMESPACE_PREFIX}{}", sanitize(server))
}

/// Splits a flat `mcp__<server>__<tool>` into (namespace, tool) given the known namespaces.
/// The longest matching namespace wins, so `mcp__a__b__c` with namespaces `mcp__a` and
/// `mcp__a__b` resolves to tool `c` of `mcp__a__b`.
pub fn split_flat<'a>(
    flat: &'a str,
    namespaces: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, &'a str)> {
    namespaces
        .into_iter()
        .filter_map(|ns| {
            let tool = flat.strip_prefix(ns)?.strip_prefix("__")?;
            (!tool.is_empty()).then_some((ns, tool))
        })
        .max_by_key(|(ns, _)| ns.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_like_the_official_runtime() {
        assert_eq!(sanitize("get-tiny-image"), "get_tiny_image");
        assert_eq!(sanitize("probe.tool"), "probe_tool");
        assert_eq!(namespace_for("raw.srv"), "mcp__raw_srv");
        assert_eq!(namespace_for("my server/é"), "mcp__my_server__");
    }

    #[test]
    fn flat_names_pick_the_longest_namespace() {
        let namespaces = ["mcp__a", "mcp__a__b", "mcp__fs"];
        assert_eq!(
            split_flat("mcp__fs__write_file", namespaces),
            Some(("mcp__fs", "write_file"))
        );
        assert_eq!(
            split_flat("mcp__a__b__c", namespaces),
            Some(("mcp__a__b", "c"))
        );
        assert_eq!(split_flat("mcp__a__x", namespaces), Some(("mcp__a", "x")));
        assert_eq!(split_flat("mcp__fs__", namespaces), None);
        assert_eq!(split_flat("shell", namespaces), None);
    }
}
