//! The input schema a model sees for an MCP tool.
//!
//! Servers send full JSON Schema; the model gets the subset the official runtime keeps
//! (checked against 0.163 with a probe server): `type`, `description`, `enum`, `items`,
//! `properties`, `required`, `additionalProperties`, `anyOf`/`oneOf`/`allOf`, `$ref` with its
//! `$defs`/`definitions`, and `minItems`. Everything else (`$schema`, `title`, `default`,
//! `format`, bounds, patterns, examples) is dropped at every level. `const` becomes a
//! one-value `enum`, a missing `type` is inferred where the keywords imply one, objects always
//! carry `properties`, and the boolean schemas `true`/`false` become `{"type": "string"}`.

use serde_json::{json, Map, Value};

const KEPT: &[&str] = &[
    "type",
    "description",
    "enum",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "minItems",
];

/// The model-facing form of a tool's `inputSchema`. A schema that is not an object (or is
/// missing) becomes an object without properties.
pub fn model_input_schema(input_schema: &Value) -> Value {
    match input_schema {
        Value::Object(_) => {
            let mut schema = sanitize(input_schema);
            if let Value::Object(map) = &mut schema {
                if !map.contains_key("type") {
                    map.insert("type".to_string(), json!("object"));
                }
                if map.get("type") == Some(&json!("object")) {
                    map.entry("properties").or_insert_with(|| json!({}));
                }
            }
            schema
        }
        _ => json!({"type": "object", "properties": {}}),
    }
}

fn sanitize(schema: &Value) -> Value {
    let map = match schema {
        Value::Bool(_) => return json!({"type": "string"}),
        Value::Object(map) => map,
        other => return other.clone(),
    };
    let mut out = Map::new();
    for (key, value) in map {
        if !KEPT.contains(&key.as_str()) {
            continue;
        }
        let value = match key.as_str() {
            "properties" | "$defs" | "definitions" => match value {
                Value::Object(children) => Value::Object(
                    children
                        .iter()
                        .map(|(name, child)| (name.clone(), sanitize(child)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" if value.is_object() => sanitize(value),
            "items" => match value {
                Value::Array(items) => Value::Array(items.iter().map(sanitize).collect()),
                Value::Bool(_) => sanitize(value),
                other => other.clone(),
            },
            "anyOf" | "oneOf" | "allOf" => match value {
                Value::Array(variants) => Value::Array(variants.iter().map(sanitize).collect()),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    if let Some(constant) = map.get("const") {
        out.insert("enum".to_string(), Value::Array(vec![constant.clone()]));
    }
    if !out.contains_key("type") {
        let inferred = if ["properties", "required", "additionalProperties"]
            .iter()
            .any(|k| out.contains_key(*k))
        {
            Some("object")
        } else if out.contains_key("items") {
            Some("array")
        } else if out.contains_key("enum") {
            Some("string")
        } else {
            None
        };
        if let Some(kind) = inferred {
            out.insert("type".to_string(), json!(kind));
        }
    }
    if out.get("type") == Some(&json!("object")) {
        out.entry("properties").or_insert_with(|| json!({}));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe schema sent to the official 0.163 binary and the schema it gave the model.
    #[test]
    fn keeps_what_the_official_runtime_keeps() {
        let probe = json!({"$schema": "x", "title": "T", "type": "object", "properties": {
            "a": {"type": "string", "title": "A", "default": "q", "minLength": 1,
                  "maxLength": 5, "pattern": "^a", "format": "email", "examples": ["a"]},
            "b": {"type": ["string", "null"], "description": "nullable"},
            "c": {"anyOf": [{"type": "string"}, {"type": "number"}]},
            "d": {"oneOf": [{"type": "string"}]},
            "e": {"$ref": "#/$defs/E"},
            "f": {"const": "k"},
            "g": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1,
                  "maxItems": 3, "uniqueItems": true},
            "h": {"type": "object", "additionalProperties": {"type": "number"}},
            "i": {},
            "j": true,
            "k": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 2},
            "l": {"allOf": [{"type": "string"}, {"minLength": 2}]}
        }, "required": ["a"], "additionalProperties": false,
           "$defs": {"E": {"type": "object", "properties": {"x": {"type": "string"}}}}});
        let official = json!({"$defs": {"E": {"properties": {"x": {"type": "string"}},
                                              "type": "object"}},
            "additionalProperties": false,
            "properties": {
                "a": {"type": "string"},
                "b": {"description": "nullable", "type": ["string", "null"]},
                "c": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "d": {"oneOf": [{"type": "string"}]},
                "e": {"$ref": "#/$defs/E"},
                "f": {"enum": ["k"], "type": "string"},
                "g": {"items": {"type": "integer"}, "minItems": 1, "type": "array"},
                "h": {"additionalProperties": {"type": "number"}, "properties": {},
                      "type": "object"},
                "i": {},
                "j": {"type": "string"},
                "k": {"type": "integer"},
                "l": {"allOf": [{"type": "string"}, {}]}
            },
            "required": ["a"], "type": "object"});
        assert_eq!(model_input_schema(&probe), official);
    }

    #[test]
    fn bare_or_missing_schemas_become_empty_objects() {
        assert_eq!(
            model_input_schema(&json!({"type": "object"})),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            model_input_schema(&Value::Null),
            json!({"type": "object", "properties": {}})
        );
    }
}
