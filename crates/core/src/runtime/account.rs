//! The account methods: whether we hold credentials for the configured provider, and
//! storing or removing an API key.

use super::Runtime;
use crate::error::CoreError;
use crate::reply::Reply;
use codex_protocol::methods as m;
use codex_protocol::v2::*;

impl Runtime {
    /// `account/read`.
    pub async fn read_account(&self) -> Result<GetAccountResponse, CoreError> {
        let settings = &self.current_settings();
        let provider = settings.provider(&settings.model_provider)?;
        let account =
            codex_model::resolve_api_key(&provider, self.codex_home()).map(|_| Account::ApiKey);
        Ok(GetAccountResponse {
            account,
            requires_openai_auth: provider.requires_openai_auth,
        })
    }

    /// `account/login/start` (API key); `account/updated` follows the answer.
    pub async fn login(&self, p: LoginAccountParams, reply: Reply<LoginAccountResponse>) {
        let result = match p {
            LoginAccountParams::ApiKey { api_key } => self.save_api_key(&api_key),
        };
        if reply.send(result).await {
            self.announce_account(Some("apikey")).await;
        }
    }

    fn save_api_key(&self, api_key: &str) -> Result<LoginAccountResponse, CoreError> {
        if api_key.trim().is_empty() {
            return Err(CoreError::InvalidParams("apiKey must not be empty".into()));
        }
        codex_model::write_api_key(self.codex_home(), api_key.trim())
            .map_err(|e| CoreError::Internal(format!("saving the API key: {e}")))?;
        self.reset_model_clients();
        Ok(LoginAccountResponse::ApiKey)
    }

    /// `account/login/cancel`. Only API-key login exists here, and it completes at once:
    /// there is never a pending login to cancel.
    pub fn cancel_login(&self) -> CancelLoginAccountResponse {
        CancelLoginAccountResponse {
            status: CancelLoginAccountStatus::NotFound,
        }
    }

    /// `account/logout`; `account/updated` follows the answer.
    pub async fn logout(&self, reply: Reply<LogoutAccountResponse>) {
        let result = codex_model::delete_auth(self.codex_home())
            .map_err(|e| CoreError::Internal(format!("removing credentials: {e}")))
            .map(|_removed| {
                self.reset_model_clients();
                LogoutAccountResponse {}
            });
        if reply.send(result).await {
            self.announce_account(None).await;
        }
    }

    async fn announce_account(&self, auth_mode: Option<&str>) {
        self.inner
            .sink
            .notify::<m::AccountUpdated>(&AccountUpdatedNotification {
                auth_mode: auth_mode.map(str::to_string),
                plan_type: None,
            })
            .await;
    }
}
