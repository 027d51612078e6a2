//! Tool definitions advertised to the model for apply_patch: the Lark grammar
//! of the freeform (custom) tool and the JSON function-tool variant.

use serde_json::{json, Value};

/// Lark grammar describing the patch format, sent with the freeform tool.
pub const APPLY_PATCH_LARK_GRAMMAR: &str = r#"start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk

add_hunk: "*** Add File: " filename LF add_line+
add_line: "+" /(.*)/ LF -> line

delete_hunk: "*** Delete File: " filename LF

update_hunk: "*** Update File: " filename LF change_move? change?
change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

filename: /(.+)/

%import common.LF
"#;

const FREEFORM_DESCRIPTION: &str =
    "Use the `apply_patch` tool to edit files. This is a FREEFORM tool, so do not wrap the patch in JSON.";

const FUNCTION_DESCRIPTION: &str = r#"Use the `apply_patch` tool to edit files.
The `input` argument is a patch in this format:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of three headers:
*** Add File: <path> - create a new file; every following line starts with `+` and is the new content.
*** Delete File: <path> - remove an existing file; nothing follows.
*** Update File: <path> - change a file in place, optionally followed by `*** Move to: <new path>` to rename it.

An update contains one or more hunks. Each hunk starts with `@@`, optionally followed by a line
(such as a function or class header) that locates the change. Inside a hunk, lines starting with
` ` are unchanged context, `-` lines are removed and `+` lines are added. Show about three lines of
context around each change; add more `@@` lines when context alone is ambiguous. End a hunk that
touches the last lines of the file with `*** End of File`.

Example:
*** Begin Patch
*** Add File: docs/notes.md
+# Notes
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-    print("Hi")
+    print("Hello")
*** Delete File: old.txt
*** End Patch

File references can only be relative, NEVER ABSOLUTE."#;

/// The freeform (custom tool) definition carrying [`APPLY_PATCH_LARK_GRAMMAR`].
pub fn apply_patch_freeform_tool() -> Value {
    json!({
        "type": "custom",
        "name": "apply_patch",
        "description": FREEFORM_DESCRIPTION,
        "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_LARK_GRAMMAR},
    })
}

/// The function-style definition: `{"input": string}`.
pub fn apply_patch_function_tool() -> Value {
    json!({
        "type": "function",
        "name": "apply_patch",
        "description": FUNCTION_DESCRIPTION,
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "The entire contents of the apply_patch command"}
            },
            "required": ["input"],
            "additionalProperties": false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_shapes() {
        let f = apply_patch_function_tool();
        assert_eq!(f["type"], "function");
        assert_eq!(f["parameters"]["properties"]["input"]["type"], "string");
        assert_eq!(f["parameters"]["required"][0], "input");
        let c = apply_patch_freeform_tool();
        assert_eq!(c["format"]["syntax"], "lark");
        assert!(c["format"]["definition"]
            .as_str()
            .unwrap()
            .starts_with("start: begin_patch"));
    }
}
