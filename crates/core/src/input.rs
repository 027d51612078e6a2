//! User input: validation at the door (so a bad image path fails the request, not the turn) and
//! conversion to Responses API content parts.

use crate::error::CoreError;
use base64::Engine;
use codex_protocol::v2::UserInput;
use serde_json::{json, Value};
use std::path::Path;

/// Local images larger than this are refused rather than inlined.
const MAX_LOCAL_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

pub fn validate(inputs: &[UserInput]) -> Result<(), CoreError> {
    for (i, input) in inputs.iter().enumerate() {
        match input {
            UserInput::LocalImage { path, .. } => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    CoreError::InvalidParams(format!(
                        "input[{i}].path: cannot read local image {}: {e}",
                        path.display()
                    ))
                })?;
                if !meta.is_file() {
                    return Err(CoreError::InvalidParams(format!(
                        "input[{i}].path: {} is not a file",
                        path.display()
                    )));
                }
                if meta.len() > MAX_LOCAL_IMAGE_BYTES {
                    return Err(CoreError::InvalidParams(format!(
                        "input[{i}].path: {} is larger than {} bytes",
                        path.display(),
                        MAX_LOCAL_IMAGE_BYTES
                    )));
                }
            }
            UserInput::Image { url, .. }
                if !(url.starts_with("data:")
                    || url.starts_with("https://")
                    || url.starts_with("http://")) =>
            {
                return Err(CoreError::InvalidParams(format!(
                    "input[{i}].url: expected an http(s) or data: URL"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn mime_for(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Reads a local image into a data URL.
pub fn data_url(path: &Path) -> Result<String, CoreError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CoreError::InvalidParams(format!("cannot read local image {}: {e}", path.display()))
    })?;
    Ok(format!(
        "data:{};base64,{}",
        mime_for(path),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Responses API content parts for the user's input.
pub fn to_content(inputs: &[UserInput]) -> Result<Vec<Value>, CoreError> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            UserInput::Text { text, .. } => out.push(json!({"type": "input_text", "text": text})),
            UserInput::Image { url, .. } => {
                out.push(json!({"type": "input_image", "image_url": url}))
            }
            UserInput::LocalImage { path, .. } => {
                out.push(json!({"type": "input_image", "image_url": data_url(path)?}))
            }
            // The skill's whole file follows as a `<skill>` message of its own (the turn adds
            // it), as the official runtime sends it.
            UserInput::Skill { .. } => {}
            UserInput::Mention { name, path } => out.push(json!({
                "type": "input_text",
                "text": format!("@{name} ({path})"),
            })),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_local_image_is_a_clear_params_error() {
        let err = validate(&[UserInput::LocalImage {
            path: "/nonexistent/x.png".into(),
            detail: None,
        }])
        .unwrap_err();
        assert!(err.to_string().contains("input[0].path"), "{err}");
    }

    #[test]
    fn local_image_is_inlined_as_data_url() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.png");
        std::fs::write(&p, [1u8, 2, 3]).unwrap();
        let parts = to_content(&[UserInput::LocalImage {
            path: p,
            detail: None,
        }])
        .unwrap();
        assert_eq!(parts[0]["image_url"], "data:image/png;base64,AQID");
    }
}
