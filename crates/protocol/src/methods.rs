//! The method table: every wire method name with its params and result types.
//!
//! `Method` is implemented once per client request, `Notification` once per server
//! notification, `ServerRequest` once per server-to-client request. The server dispatches on
//! `M::NAME`, the schema export walks the same tables, and tests use the same constants.

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
    }
    server_requests {
        CommandExecutionRequestApproval => "item/commandExecution/requestApproval" (CommandExecutionRequestApprovalParams) -> CommandExecutionRequestApprovalResponse;
        FileChangeRequestApproval => "item/fileChange/requestApproval" (FileChangeRequestApprovalParams) -> FileChangeRequestApprovalResponse;
        McpServerElicitation => "mcpServer/elicitation/request" (McpServerElicitationRequestParams) -> McpServerElicitationRequestResponse;
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
}
