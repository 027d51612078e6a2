//! The method table: every wire method name with its params and result types.
//!
//! `Method` is implemented once per client request, `Notification` once per server
//! notification, `ServerRequest` once per server-to-client request. The server dispatches on
//! `M::NAME`, the schema export walks the same tables, and tests use the same constants.
//! [`typed`] holds the enums a client decodes incoming traffic into (`ServerNotification`,
//! `ServerRequest`), generated from the same rows.

use crate::v2::*;
use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A client-to-server request.
pub trait Method {
    const NAME: &'static str;
    type Params: DeserializeOwned + Serialize + JsonSchema;
    type Response: DeserializeOwned + Serialize + JsonSchema;
}

/// A server-to-client notification.
pub trait Notification {
    const NAME: &'static str;
    type Params: DeserializeOwned + Serialize + JsonSchema;
}

/// A server-to-client request.
pub trait ServerRequest {
    const NAME: &'static str;
    type Params: DeserializeOwned + Serialize + JsonSchema;
    type Response: DeserializeOwned + Serialize + JsonSchema;
}

/// Params of methods that take none; any object (or a missing `params`) is accepted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NoParams {}

/// One row of the method table, for schema export and introspection.
#[derive(Clone, Copy, Debug)]
pub struct MethodRow {
    pub name: &'static str,
    pub params: &'static str,
    pub result: Option<&'static str>,
}

macro_rules! table {
    (
        requests { $($req:ident => $rname:literal ($rp:ty) -> $rr:ty;)* }
        client_notifications { $($cnote:ident => $cname:literal ($cp:ty);)* }
        notifications { $($note:ident => $nname:literal ($np:ty);)* }
        server_requests { $($sreq:ident => $sname:literal ($sp:ty) -> $sr:ty;)* }
    ) => {
        $(
            #[doc = concat!("`", $rname, "`")]
            pub struct $req;
            impl Method for $req {
                const NAME: &'static str = $rname;
                type Params = $rp;
                type Response = $rr;
            }
        )*
        $(
            #[doc = concat!("`", $cname, "` (client to server)")]
            pub struct $cnote;
            impl Notification for $cnote {
                const NAME: &'static str = $cname;
                type Params = $cp;
            }
        )*
        $(
            #[doc = concat!("`", $nname, "`")]
            pub struct $note;
            impl Notification for $note {
                const NAME: &'static str = $nname;
                type Params = $np;
            }
        )*
        $(
            #[doc = concat!("`", $sname, "`")]
            pub struct $sreq;
            impl ServerRequest for $sreq {
                const NAME: &'static str = $sname;
                type Params = $sp;
                type Response = $sr;
            }
        )*

        /// Every client request, in table order.
        pub const CLIENT_REQUESTS: &[MethodRow] = &[
            $(MethodRow { name: $rname, params: stringify!($rp), result: Some(stringify!($rr)) },)*
        ];
        /// Every client notification, in table order.
        pub const CLIENT_NOTIFICATIONS: &[MethodRow] = &[
            $(MethodRow { name: $cname, params: stringify!($cp), result: None },)*
        ];
        /// Every server notification, in table order.
        pub const SERVER_NOTIFICATIONS: &[MethodRow] = &[
            $(MethodRow { name: $nname, params: stringify!($np), result: None },)*
        ];
        /// Every server-to-client request, in table order.
        pub const SERVER_REQUESTS: &[MethodRow] = &[
            $(MethodRow { name: $sname, params: stringify!($sp), result: Some(stringify!($sr)) },)*
        ];

        /// Typed forms of the server-to-client rows, decoded from `(method, params)` and
        /// encodable back. Generated from the same table, so a new row gets a variant for free.
        pub mod typed {
            use super::*;
            use serde_json::Value;

            /// Why a `(method, params)` pair is not a typed message.
            #[derive(Debug)]
            pub enum DecodeError {
                /// The method is not a row of the table.
                UnknownMethod(String),
                /// The method is known but its params do not have the row's shape.
                InvalidParams {
                    method: &'static str,
                    source: serde_json::Error,
                },
            }

            impl std::fmt::Display for DecodeError {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    match self {
                        DecodeError::UnknownMethod(m) => write!(f, "unknown method {m:?}"),
                        DecodeError::InvalidParams { method, source } => {
                            write!(f, "invalid params for {method}: {source}")
                        }
                    }
                }
            }

            impl std::error::Error for DecodeError {
                fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                    match self {
                        DecodeError::UnknownMethod(_) => None,
                        DecodeError::InvalidParams { source, .. } => Some(source),
                    }
                }
            }

            /// A missing `params` decodes like `{}`, so rows whose params are all optional
            /// accept a bare notification.
            fn params_of<T: serde::de::DeserializeOwned>(
                method: &'static str,
                params: Option<Value>,
            ) -> Result<T, DecodeError> {
                let value = params.unwrap_or_else(|| Value::Object(Default::default()));
                serde_json::from_value(value)
                    .map_err(|source| DecodeError::InvalidParams { method, source })
            }

            /// One server notification: a variant per row of the `notifications` table.
            // Variants differ in size (a whole `Thread` vs a delta); a value lives only from
            // decode to its handler, so boxing every payload would cost more than it saves.
            #[allow(clippy::large_enum_variant)]
            #[derive(Clone, Debug, PartialEq)]
            pub enum ServerNotification {
                $( $note($np), )*
            }

            impl ServerNotification {
                /// Decodes a notification from its wire method and params.
                pub fn decode(method: &str, params: Option<Value>) -> Result<Self, DecodeError> {
                    match method {
                        $( $nname => Ok(ServerNotification::$note(params_of($nname, params)?)), )*
                        other => Err(DecodeError::UnknownMethod(other.to_string())),
                    }
                }

                /// The wire method name.
                pub fn method(&self) -> &'static str {
                    match self {
                        $( ServerNotification::$note(_) => $nname, )*
                    }
                }

                /// The params as JSON, for encoding back onto the wire.
                pub fn params(&self) -> Result<Value, serde_json::Error> {
                    match self {
                        $( ServerNotification::$note(p) => serde_json::to_value(p), )*
                    }
                }

                /// The notification as a JSON-RPC message, ready to encode as a line.
                pub fn to_message(&self) -> Result<crate::jsonrpc::Message, serde_json::Error> {
                    Ok(crate::jsonrpc::Message::Notification {
                        method: self.method().to_string(),
                        params: Some(self.params()?),
                    })
                }
            }

            /// One server-to-client request (without its id): a variant per row of the
            /// `server_requests` table.
            #[allow(clippy::large_enum_variant)]
            #[derive(Clone, Debug, PartialEq)]
            pub enum ServerRequest {
                $( $sreq($sp), )*
            }

            impl ServerRequest {
                /// Decodes a request from its wire method and params.
                pub fn decode(method: &str, params: Option<Value>) -> Result<Self, DecodeError> {
                    match method {
                        $( $sname => Ok(ServerRequest::$sreq(params_of($sname, params)?)), )*
                        other => Err(DecodeError::UnknownMethod(other.to_string())),
                    }
                }

                /// The wire method name.
                pub fn method(&self) -> &'static str {
                    match self {
                        $( ServerRequest::$sreq(_) => $sname, )*
                    }
                }

                /// The params as JSON, for encoding back onto the wire.
                pub fn params(&self) -> Result<Value, serde_json::Error> {
                    match self {
                        $( ServerRequest::$sreq(p) => serde_json::to_value(p), )*
                    }
                }

                /// The request as a JSON-RPC message with this id, ready to encode as a line.
                pub fn to_message(
                    &self,
                    id: crate::jsonrpc::RequestId,
                ) -> Result<crate::jsonrpc::Message, serde_json::Error> {
                    Ok(crate::jsonrpc::Message::Request {
                        id,
                        method: self.method().to_string(),
                        params: Some(self.params()?),
                    })
                }
            }
        }

        /// Registers every type of the table with the schema generator.
        pub(crate) fn register_all(gen: &mut schemars::gen::SchemaGenerator) {
            $( gen.subschema_for::<$rp>(); gen.subschema_for::<$rr>(); )*
            $( gen.subschema_for::<$cp>(); )*
            $( gen.subschema_for::<$np>(); )*
            $( gen.subschema_for::<$sp>(); gen.subschema_for::<$sr>(); )*
        }
    };
}

table! {
    requests {
        Initialize => "initialize" (InitializeParams) -> InitializeResponse;
        ThreadStart => "thread/start" (ThreadStartParams) -> ThreadStartResponse;
        ThreadResume => "thread/resume" (ThreadResumeParams) -> ThreadResumeResponse;
        ThreadFork => "thread/fork" (ThreadForkParams) -> ThreadForkResponse;
        ThreadList => "thread/list" (ThreadListParams) -> ThreadListResponse;
        ThreadLoadedList => "thread/loaded/list" (ThreadLoadedListParams) -> ThreadLoadedListResponse;
        ThreadRead => "thread/read" (ThreadReadParams) -> ThreadReadResponse;
        ThreadArchive => "thread/archive" (ThreadArchiveParams) -> ThreadArchiveResponse;
        ThreadUnarchive => "thread/unarchive" (ThreadUnarchiveParams) -> ThreadUnarchiveResponse;
        ThreadSetName => "thread/name/set" (ThreadSetNameParams) -> ThreadSetNameResponse;
        ThreadCompactStart => "thread/compact/start" (ThreadCompactStartParams) -> ThreadCompactStartResponse;
        ThreadUnsubscribe => "thread/unsubscribe" (ThreadUnsubscribeParams) -> ThreadUnsubscribeResponse;
        TurnStart => "turn/start" (TurnStartParams) -> TurnStartResponse;
        TurnSteer => "turn/steer" (TurnSteerParams) -> TurnSteerResponse;
        TurnInterrupt => "turn/interrupt" (TurnInterruptParams) -> TurnInterruptResponse;
        ModelList => "model/list" (ModelListParams) -> ModelListResponse;
        AccountRead => "account/read" (GetAccountParams) -> GetAccountResponse;
        AccountLoginStart => "account/login/start" (LoginAccountParams) -> LoginAccountResponse;
        AccountLoginCancel => "account/login/cancel" (CancelLoginAccountParams) -> CancelLoginAccountResponse;
        AccountLogout => "account/logout" (NoParams) -> LogoutAccountResponse;
        McpServerStatusList => "mcpServerStatus/list" (ListMcpServerStatusParams) -> ListMcpServerStatusResponse;
        McpServerToolCall => "mcpServer/tool/call" (McpServerToolCallParams) -> McpServerToolCallResponse;
        McpServerResourceRead => "mcpServer/resource/read" (McpResourceReadParams) -> McpResourceReadResponse;
        ConfigMcpServerReload => "config/mcpServer/reload" (NoParams) -> McpServerRefreshResponse;
        FsReadFile => "fs/readFile" (FsReadFileParams) -> FsReadFileResponse;
        FsWriteFile => "fs/writeFile" (FsWriteFileParams) -> FsWriteFileResponse;
        FsCreateDirectory => "fs/createDirectory" (FsCreateDirectoryParams) -> FsCreateDirectoryResponse;
        FsGetMetadata => "fs/getMetadata" (FsGetMetadataParams) -> FsGetMetadataResponse;
        FsReadDirectory => "fs/readDirectory" (FsReadDirectoryParams) -> FsReadDirectoryResponse;
        FsRemove => "fs/remove" (FsRemoveParams) -> FsRemoveResponse;
        FsCopy => "fs/copy" (FsCopyParams) -> FsCopyResponse;
        FsWatch => "fs/watch" (FsWatchParams) -> FsWatchResponse;
        FsUnwatch => "fs/unwatch" (FsUnwatchParams) -> FsUnwatchResponse;
        FuzzyFileSearch => "fuzzyFileSearch" (FuzzyFileSearchParams) -> FuzzyFileSearchResponse;
        SkillsList => "skills/list" (SkillsListParams) -> SkillsListResponse;
        ConfigRead => "config/read" (ConfigReadParams) -> ConfigReadResponse;
        ConfigValueWrite => "config/value/write" (ConfigValueWriteParams) -> ConfigWriteResponse;
        ConfigBatchWrite => "config/batchWrite" (ConfigBatchWriteParams) -> ConfigWriteResponse;
        ConfigRequirementsRead => "configRequirements/read" (NoParams) -> ConfigRequirementsReadResponse;
        ReviewStart => "review/start" (ReviewStartParams) -> ReviewStartResponse;
        CommandExec => "command/exec" (CommandExecParams) -> CommandExecResponse;
        CommandExecWrite => "command/exec/write" (CommandExecWriteParams) -> CommandExecWriteResponse;
        CommandExecTerminate => "command/exec/terminate" (CommandExecTerminateParams) -> CommandExecTerminateResponse;
        CommandExecResize => "command/exec/resize" (CommandExecResizeParams) -> CommandExecResizeResponse;
        ThreadShellCommand => "thread/shellCommand" (ThreadShellCommandParams) -> ThreadShellCommandResponse;
        ThreadTurnsList => "thread/turns/list" (ThreadTurnsListParams) -> ThreadTurnsListResponse;
        ThreadItemsList => "thread/items/list" (ThreadItemsListParams) -> ThreadItemsListResponse;
        ThreadRevert => "thread/revert" (ThreadRevertParams) -> ThreadRevertResponse;
        ThreadDelete => "thread/delete" (ThreadDeleteParams) -> ThreadDeleteResponse;
        ThreadMetadataUpdate => "thread/metadata/update" (ThreadMetadataUpdateParams) -> ThreadMetadataUpdateResponse;
        ThreadInjectItems => "thread/inject_items" (ThreadInjectItemsParams) -> ThreadInjectItemsResponse;
    }
    client_notifications {
        Initialized => "initialized" (NoParams);
    }
    notifications {
        ThreadStarted => "thread/started" (ThreadStartedNotification);
        ThreadStatusChanged => "thread/status/changed" (ThreadStatusChangedNotification);
        ThreadArchived => "thread/archived" (ThreadArchivedNotification);
        ThreadUnarchived => "thread/unarchived" (ThreadUnarchivedNotification);
        ThreadClosed => "thread/closed" (ThreadClosedNotification);
        ThreadNameUpdated => "thread/name/updated" (ThreadNameUpdatedNotification);
        ThreadTokenUsageUpdated => "thread/tokenUsage/updated" (ThreadTokenUsageUpdatedNotification);
        TurnStarted => "turn/started" (TurnStartedNotification);
        TurnCompleted => "turn/completed" (TurnCompletedNotification);
        TurnDiffUpdated => "turn/diff/updated" (TurnDiffUpdatedNotification);
        TurnPlanUpdated => "turn/plan/updated" (TurnPlanUpdatedNotification);
        ItemStarted => "item/started" (ItemStartedNotification);
        ItemCompleted => "item/completed" (ItemCompletedNotification);
        AgentMessageDelta => "item/agentMessage/delta" (AgentMessageDeltaNotification);
        ReasoningSummaryTextDelta => "item/reasoning/summaryTextDelta" (ReasoningSummaryTextDeltaNotification);
        ReasoningSummaryPartAdded => "item/reasoning/summaryPartAdded" (ReasoningSummaryPartAddedNotification);
        ReasoningTextDelta => "item/reasoning/textDelta" (ReasoningTextDeltaNotification);
        CommandExecutionOutputDelta => "item/commandExecution/outputDelta" (CommandExecutionOutputDeltaNotification);
        FileChangeOutputDelta => "item/fileChange/outputDelta" (FileChangeOutputDeltaNotification);
        FileChangePatchUpdated => "item/fileChange/patchUpdated" (FileChangePatchUpdatedNotification);
        PlanDelta => "item/plan/delta" (PlanDeltaNotification);
        Error => "error" (ErrorNotification);
        ServerRequestResolved => "serverRequest/resolved" (ServerRequestResolvedNotification);
        Warning => "warning" (WarningNotification);
        ConfigWarning => "configWarning" (ConfigWarningNotification);
        DeprecationNotice => "deprecationNotice" (DeprecationNoticeNotification);
        AccountUpdated => "account/updated" (AccountUpdatedNotification);
        AccountLoginCompleted => "account/login/completed" (AccountLoginCompletedNotification);
        McpServerStartupStatusUpdated => "mcpServer/startupStatus/updated" (McpServerStatusUpdatedNotification);
        FsChanged => "fs/changed" (FsChangedNotification);
        SkillsChanged => "skills/changed" (SkillsChangedNotification);
        CommandExecOutputDelta => "command/exec/outputDelta" (CommandExecOutputDeltaNotification);
        TerminalInteraction => "item/commandExecution/terminalInteraction" (TerminalInteractionNotification);
        ThreadReverted => "thread/reverted" (ThreadRevertedNotification);
        ThreadDeleted => "thread/deleted" (ThreadDeletedNotification);
    }
    server_requests {
        CommandExecutionRequestApproval => "item/commandExecution/requestApproval" (CommandExecutionRequestApprovalParams) -> CommandExecutionRequestApprovalResponse;
        FileChangeRequestApproval => "item/fileChange/requestApproval" (FileChangeRequestApprovalParams) -> FileChangeRequestApprovalResponse;
        McpServerElicitation => "mcpServer/elicitation/request" (McpServerElicitationRequestParams) -> McpServerElicitationRequestResponse;
        DynamicToolCall => "item/tool/call" (DynamicToolCallParams) -> DynamicToolCallResponse;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn method_names_are_unique() {
        for table in [
            CLIENT_REQUESTS,
            CLIENT_NOTIFICATIONS,
            SERVER_NOTIFICATIONS,
            SERVER_REQUESTS,
        ] {
            let names: HashSet<_> = table.iter().map(|r| r.name).collect();
            assert_eq!(names.len(), table.len());
        }
    }

    #[test]
    fn every_server_notification_row_decodes_and_encodes_back() {
        use typed::{DecodeError, ServerNotification};
        for row in SERVER_NOTIFICATIONS {
            // An empty object is never a valid payload for rows with required fields, so the
            // decoder must name the row; this proves every row has a decoding arm.
            match ServerNotification::decode(row.name, Some(serde_json::json!({}))) {
                Ok(n) => assert_eq!(n.method(), row.name),
                Err(DecodeError::InvalidParams { method, .. }) => assert_eq!(method, row.name),
                Err(other) => panic!("{}: {other}", row.name),
            }
        }
        let params = serde_json::json!({
            "threadId": "t", "turnId": "u", "itemId": "i", "delta": "hel"
        });
        let n = ServerNotification::decode(AgentMessageDelta::NAME, Some(params.clone())).unwrap();
        assert!(matches!(&n, ServerNotification::AgentMessageDelta(d) if d.delta == "hel"));
        assert_eq!(n.method(), "item/agentMessage/delta");
        assert_eq!(n.params().unwrap(), params);
        // Encoded as a line and decoded again, it is the same value.
        let line = n.to_message().unwrap().encode();
        let crate::jsonrpc::Message::Notification { method, params } =
            crate::jsonrpc::Message::decode(&line).unwrap()
        else {
            panic!("{line}")
        };
        assert_eq!(ServerNotification::decode(&method, params).unwrap(), n);
    }

    #[test]
    fn server_requests_decode_by_method_and_reject_strangers() {
        use typed::{DecodeError, ServerRequest};
        for row in SERVER_REQUESTS {
            match ServerRequest::decode(row.name, None) {
                Ok(r) => assert_eq!(r.method(), row.name),
                Err(DecodeError::InvalidParams { method, .. }) => assert_eq!(method, row.name),
                Err(other) => panic!("{}: {other}", row.name),
            }
        }
        let params = serde_json::json!({
            "threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1
        });
        let r =
            ServerRequest::decode(FileChangeRequestApproval::NAME, Some(params.clone())).unwrap();
        assert_eq!(r.method(), FileChangeRequestApproval::NAME);
        assert_eq!(r.params().unwrap(), params);
        let line = r
            .to_message(crate::jsonrpc::RequestId::Integer(7))
            .unwrap()
            .encode();
        assert!(line.starts_with(r#"{"id":7,"method":"item/fileChange/requestApproval""#));
        let err = ServerRequest::decode("no/such", None).unwrap_err();
        assert!(matches!(err, DecodeError::UnknownMethod(ref m) if m == "no/such"));
        assert_eq!(err.to_string(), "unknown method \"no/such\"");
    }
}
