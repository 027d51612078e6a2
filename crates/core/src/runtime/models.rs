//! `model/list`: the configured default model plus what the provider offers.

use super::Runtime;
use crate::error::CoreError;
use codex_protocol::v2::*;
use std::time::Duration;

/// How long `model/list` waits for the provider before answering with the configured models.
const PROVIDER_MODELS_TIMEOUT: Duration = Duration::from_secs(3);

fn model_entry(id: &str, is_default: bool, hidden: bool) -> Model {
    let effort = |e: ReasoningEffort, d: &str| ReasoningEffortOption {
        reasoning_effort: e,
        description: d.to_string(),
    };
    Model {
        id: id.to_string(),
        model: id.to_string(),
        display_name: id.to_string(),
        description: if is_default {
            "The configured default model".to_string()
        } else {
            "Offered by the configured provider".to_string()
        },
        hidden,
        is_default,
        default_reasoning_effort: ReasoningEffort::Medium,
        supported_reasoning_efforts: vec![
            effort(ReasoningEffort::Low, "Fast answers with light reasoning"),
            effort(ReasoningEffort::Medium, "Balanced speed and depth"),
            effort(ReasoningEffort::High, "Deep reasoning for hard problems"),
        ],
        input_modalities: vec![InputModality::Text, InputModality::Image],
        supports_personality: false,
    }
}

/// Provider entries may mark a model as not for pickers: `"hidden": true`, or the catalogue's
/// `"visibility": "hide"` / `"none"`. `model/list` shows them only with `includeHidden`.
fn is_hidden(entry: &serde_json::Value) -> bool {
    entry["hidden"].as_bool().unwrap_or(false)
        || matches!(entry["visibility"].as_str(), Some("hide") | Some("none"))
}

impl Runtime {
    pub async fn list_models(&self, p: ModelListParams) -> Result<ModelListResponse, CoreError> {
        let settings = &self.current_settings();
        let default = settings
            .model
            .clone()
            .unwrap_or_else(|| crate::config::DEFAULT_MODEL.to_string());
        let mut data = vec![model_entry(&default, true, false)];
        if let Ok(client) = self.model_client(settings, &settings.model_provider) {
            match tokio::time::timeout(PROVIDER_MODELS_TIMEOUT, client.list_models()).await {
                Ok(Ok(remote)) => {
                    for entry in remote {
                        let Some(id) = entry["id"].as_str() else {
                            continue;
                        };
                        if data.iter().all(|m| m.id != id) {
                            data.push(model_entry(id, false, is_hidden(&entry)));
                        }
                    }
                }
                Ok(Err(e)) => tracing::info!("provider model list unavailable: {e}"),
                Err(_) => tracing::info!("provider model list timed out"),
            }
        }
        if !p.include_hidden.unwrap_or(false) {
            data.retain(|m| !m.hidden);
        }
        // Cursor pagination over the merged list: the cursor is the index to resume from.
        let start = match &p.cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| CoreError::InvalidParams(format!("invalid cursor: {c}")))?,
        };
        let limit = p.limit.map(|l| l.max(1) as usize).unwrap_or(usize::MAX);
        let end = start.saturating_add(limit).min(data.len());
        let next_cursor = (end < data.len()).then(|| end.to_string());
        let data = data
            .get(start..end)
            .map(<[Model]>::to_vec)
            .unwrap_or_default();
        Ok(ModelListResponse { data, next_cursor })
    }
}
