//! Layer versions: `sha256:<hex>` of the layer's content as compact JSON with sorted keys,
//! the same fingerprint the official runtime reports, so formatting and comments do not count
//! and a client can use either runtime's version as `expectedVersion`.

use serde_json::Value as Json;
use std::fmt::Write as _;
use toml::Table;

pub fn version_of(table: &Table) -> String {
    let mut canonical = String::new();
    write_canonical(
        &Json::Object(crate::convert::table_to_json(table)),
        &mut canonical,
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest.as_ref() {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Compact JSON with object keys sorted at every level, whatever map order serde_json uses.
fn write_canonical(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String((*key).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_layer_matches_the_official_version() {
        // Captured from the official 0.163 runtime: the absent /etc/codex/config.toml.
        assert_eq!(
            version_of(&Table::new()),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn key_order_and_formatting_do_not_change_the_version() {
        let a: Table = "b = 1\na = { x = [1, 2] }\n".parse().unwrap();
        let b: Table = "b = 1   # comment\n\n[a]\nx = [ 1,2 ]\n".parse().unwrap();
        assert_eq!(version_of(&a), version_of(&b));
        let c: Table = "b = 2\na = { x = [1, 2] }\n".parse().unwrap();
        assert_ne!(version_of(&a), version_of(&c));
    }
}
