//! `view_image`: a local image file sent to the model as an `input_image` content item, and an
//! `imageView` item for the client.

use super::call::{ToolCall, ToolError, ToolOutput};
use super::context::CallScope;
use super::shell::resolve;
use super::spec;
use super::tool::{Family, Tool, ToolFuture};
use crate::clock::now_ms;
use base64::Engine;
use codex_protocol::v2::ThreadItem;
use serde_json::json;

/// Larger files are refused rather than inlined into the request.
const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

#[derive(serde::Deserialize)]
struct Args {
    path: String,
}

/// The MIME type from the file's magic bytes.
fn mime_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The `view_image` tool.
pub struct ViewImage;

impl Tool for ViewImage {
    fn name(&self) -> &str {
        "view_image"
    }

    fn spec(&self, _family: Family) -> Option<serde_json::Value> {
        Some(spec::view_image())
    }

    fn parallel(&self) -> bool {
        true
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move {
            let args: Args = call.parse_args()?;
            Ok::<_, ToolError>(run(scope, call, args).await)
        })
    }
}

async fn run(scope: &mut CallScope, call: &ToolCall, args: Args) -> ToolOutput {
    let path = resolve(&scope.ctx.settings.cwd, &args.path);
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(e) => {
            return ToolOutput::Text(format!(
                "unable to locate image at `{}`: {e}",
                path.display()
            ))
        }
    };
    if !meta.is_file() {
        return ToolOutput::Text(format!("image path `{}` is not a file", path.display()));
    }
    if meta.len() > MAX_IMAGE_BYTES {
        return ToolOutput::Text(format!(
            "image `{}` is too large ({} bytes; the limit is {MAX_IMAGE_BYTES})",
            path.display(),
            meta.len()
        ));
    }
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) => {
            return ToolOutput::Text(format!("unable to read image `{}`: {e}", path.display()))
        }
    };
    let Some(mime) = mime_of(&bytes) else {
        return ToolOutput::Text(format!(
            "`{}` is not a supported image (png, jpeg, gif or webp)",
            path.display()
        ));
    };
    let started = now_ms();
    let item = ThreadItem::ImageView {
        id: call.call_id.clone(),
        path: path.clone(),
    };
    scope.ctx.item_started(&item, started).await;
    scope.item_completed(item, started).await;
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    ToolOutput::Content(vec![json!({
        "type": "input_image",
        "image_url": format!("data:{mime};base64,{data}"),
    })])
}
