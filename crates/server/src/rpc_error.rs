//! The one mapping from core errors to JSON-RPC error answers.

use codex_core::CoreError;
use codex_protocol::jsonrpc::JsonRpcErrorBody;

pub fn rpc_error(e: CoreError) -> JsonRpcErrorBody {
    match &e {
        CoreError::InvalidParams(_) | CoreError::Config(_) => {
            JsonRpcErrorBody::invalid_params(e.to_string())
        }
        CoreError::ThreadNotFound(_) | CoreError::InvalidRequest(_) => {
            JsonRpcErrorBody::invalid_request(e.to_string())
        }
        CoreError::Store(_) | CoreError::Internal(_) => JsonRpcErrorBody::internal(e.to_string()),
        CoreError::ConfigService(e) => e.to_rpc_error(),
    }
}
