"""Python SDK for the Codex app-server.

    from openai_codex import Codex

    with Codex() as codex:
        thread = codex.thread_start()
        result = thread.run("Describe this project.")
        print(result.final_response)

`AsyncCodex` offers the same API with `async`/`await`. Plain Python functions
become tools the model can call: `codex.thread_start(tools=[my_function])`.
"""

from ._approvals import ApprovalDecision, ApprovalHandler
from ._async_codex import AsyncCodex, AsyncThread, AsyncTurnHandle
from ._codex import Codex, Thread, TurnHandle
from ._collector import TurnResult
from ._config import CodexConfig
from ._inputs import (
    ExternalMessage,
    ImageInput,
    Input,
    InputItem,
    LocalImageInput,
    MentionInput,
    RunInput,
    SkillInput,
    TextInput,
)
from ._options import ApprovalMode, Sandbox
from ._tools import Tool, tool
from ._version import __version__
from .errors import (
    CodexBinaryNotFoundError,
    CodexError,
    CodexRpcError,
    InternalRpcError,
    InvalidParamsError,
    InvalidRequestError,
    JsonRpcError,
    MethodNotFoundError,
    ParseError,
    RetryLimitExceededError,
    ServerBusyError,
    TransportClosedError,
    TurnFailedError,
    TurnIncompleteError,
    is_retryable_error,
)
from .retry import retry_on_overload

__all__ = [
    "ApprovalDecision",
    "ApprovalHandler",
    "ApprovalMode",
    "AsyncCodex",
    "AsyncThread",
    "AsyncTurnHandle",
    "Codex",
    "CodexBinaryNotFoundError",
    "CodexConfig",
    "CodexError",
    "CodexRpcError",
    "ExternalMessage",
    "ImageInput",
    "Input",
    "InputItem",
    "InternalRpcError",
    "InvalidParamsError",
    "InvalidRequestError",
    "JsonRpcError",
    "LocalImageInput",
    "MentionInput",
    "MethodNotFoundError",
    "ParseError",
    "RetryLimitExceededError",
    "RunInput",
    "Sandbox",
    "ServerBusyError",
    "SkillInput",
    "TextInput",
    "Thread",
    "Tool",
    "TransportClosedError",
    "TurnFailedError",
    "TurnHandle",
    "TurnIncompleteError",
    "TurnResult",
    "__version__",
    "is_retryable_error",
    "retry_on_overload",
    "tool",
]
