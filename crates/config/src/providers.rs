//! Model providers from configuration: the built-ins (`openai`, `oss`) overridden key by key by
//! `[model_providers.<id>]` tables, plus the providers those tables add.

use crate::config_toml::ProviderToml;
use crate::de::{DeError, Problem};
use codex_model::ProviderInfo;
use std::collections::BTreeMap;

/// Resolves every provider; an invalid one fails with the key path of its bad value.
pub fn resolve_providers(
    tables: BTreeMap<String, ProviderToml>,
) -> Result<BTreeMap<String, ProviderInfo>, DeError> {
    let mut providers = BTreeMap::from([
        ("openai".to_string(), ProviderInfo::builtin_openai()),
        ("oss".to_string(), ProviderInfo::builtin_oss()),
    ]);
    for (id, table) in tables {
        let base = providers.remove(&id).unwrap_or_else(|| ProviderInfo {
            id: id.clone(),
            ..ProviderInfo::default()
        });
        let info = apply(base, table);
        validate(&info)?;
        providers.insert(id, info);
    }
    Ok(providers)
}

/// The keys a table names replace the provider's; the others stay as they were.
fn apply(mut info: ProviderInfo, table: ProviderToml) -> ProviderInfo {
    macro_rules! take {
        ($($field:ident),*) => {$(
            if let Some(value) = table.$field {
                info.$field = value.into();
            }
        )*};
    }
    take!(
        name,
        base_url,
        env_key,
        env_key_instructions,
        experimental_bearer_token,
        wire_api,
        query_params,
        http_headers,
        env_http_headers,
        request_max_retries,
        stream_max_retries,
        stream_idle_timeout_ms,
        requires_openai_auth
    );
    info
}

fn validate(info: &ProviderInfo) -> Result<(), DeError> {
    if let Some(url) = &info.base_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(DeError::new(
                vec![
                    "model_providers".to_string(),
                    info.id.clone(),
                    "base_url".to_string(),
                ],
                Problem::Invalid(format!(
                    "expected a URL starting with http:// or https://, found {url:?}"
                )),
            ));
        }
    }
    Ok(())
}
