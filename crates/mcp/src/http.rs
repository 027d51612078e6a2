//! The streamable-HTTP transport: rmcp's client worker over a reqwest client whose TLS is
//! rustls with the ring provider and the webpki roots (the same stack the model client uses),
//! so no second crypto library is built.
//!
//! `bearer_token_env_var` becomes `Authorization: Bearer <token>`; `http_headers` are sent as
//! given and `env_http_headers` take their values from our environment (unset or blank
//! variables are skipped).

use reqwest13::header::{HeaderName, HeaderValue};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Connect timeout of the HTTP client; requests are bounded by the manager's timeouts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn transport(
    url: &str,
    bearer_token_env_var: Option<&str>,
    http_headers: &BTreeMap<String, String>,
    env_http_headers: &BTreeMap<String, String>,
) -> Result<StreamableHttpClientTransport<reqwest13::Client>, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    if let Some(var) = bearer_token_env_var {
        let token = std::env::var(var).map_err(|_| {
            format!("environment variable `{var}` (bearer_token_env_var) is not set")
        })?;
        config = config.auth_header(token);
    }
    let mut headers = HashMap::new();
    let values = http_headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(env_http_headers.iter().filter_map(|(name, var)| {
            let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
            Some((name.clone(), value))
        }));
    for (name, value) in values {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| format!("invalid HTTP header name `{name}`: {e}"))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|e| format!("invalid HTTP header value for `{name}`: {e}"))?;
        headers.insert(name, value);
    }
    if !headers.is_empty() {
        config = config.custom_headers(headers);
    }
    Ok(StreamableHttpClientTransport::with_client(
        client()?,
        config,
    ))
}

fn client() -> Result<reqwest13::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup failed: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest13::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| format!("HTTP client setup failed: {e}"))
}

/// `scheme://host[:port]` of a URL, for the status list.
pub(crate) fn origin(url: &str) -> Option<String> {
    let parsed = reqwest13::Url::parse(url).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}
