"""A scripted stand-in for `codex app-server`, for SDK behaviour the real server
cannot be made to show on demand. Run as `python fake_app_server.py <scenario>`.

Scenarios:
  early    - turn/start: the whole turn stream is sent BEFORE the response.
  unknown  - turn/start: sends the server request `x/unknownRequest`, waits for
             the client's reply and reports it as the turn's final answer.
  crash    - thread/start: writes to stderr and exits with status 3.
  join     - 1st turn/start: response + turn/started only (the turn stays active);
             every later turn/start joins it (same id), then the turn completes.
  badcompleted - turn/start: response, then a turn/completed that fails validation.
  approval - turn/start: sends a command approval request, waits for the reply
             and reports it as the turn's final answer.
  hanginit - initialize is never answered (the server waits for stdin to close).
  tools    - turn/start: sends one `item/tool/call` per entry of the JSON list in
             argv[2] ({tool, arguments}), one at a time, and reports as the turn's
             final answer a JSON object with the initialize capabilities, the
             thread/start dynamicTools and each reply's result.
"""

from __future__ import annotations

import json
import sys
from typing import Any

THREAD_ID = "thr_fake"
TURN_ID = "turn_fake"


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def notify(method: str, params: dict[str, Any]) -> None:
    send({"method": method, "params": params})


def turn(status: str) -> dict[str, Any]:
    return {"id": TURN_ID, "items": [], "itemsView": "notLoaded", "status": status, "error": None}


def thread() -> dict[str, Any]:
    return {
        "id": THREAD_ID,
        "sessionId": THREAD_ID,
        "preview": "",
        "ephemeral": True,
        "modelProvider": "fake",
        "createdAt": 0,
        "updatedAt": 0,
        "status": {"type": "idle"},
        "cwd": "/",
        "cliVersion": "0.163.0",
        "source": "vscode",
        "projectId": None,
        "turns": [],
    }


def turn_stream(answer: str) -> None:
    notify("turn/started", {"threadId": THREAD_ID, "turn": turn("inProgress")})
    notify(
        "item/completed",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "completedAtMs": 1,
            "item": {"type": "agentMessage", "id": "msg_1", "text": answer, "phase": None},
        },
    )
    breakdown = {
        "totalTokens": 3,
        "inputTokens": 2,
        "cachedInputTokens": 0,
        "outputTokens": 1,
        "reasoningOutputTokens": 0,
    }
    notify(
        "thread/tokenUsage/updated",
        {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "tokenUsage": {"total": breakdown, "last": breakdown},
        },
    )
    notify("turn/completed", {"threadId": THREAD_ID, "turn": turn("completed")})


def call_tools(seen: dict[str, Any]) -> None:
    replies = []
    for index, call in enumerate(json.loads(sys.argv[2])):
        params = {
            "threadId": THREAD_ID,
            "turnId": TURN_ID,
            "callId": f"call_{index}",
            "namespace": call.get("namespace"),
            "tool": call["tool"],
            "arguments": call["arguments"],
        }
        send({"id": 100 + index, "method": "item/tool/call", "params": params})
        replies.append(json.loads(sys.stdin.readline()).get("result"))
    turn_stream(json.dumps({**seen, "replies": replies}, sort_keys=True))


def main() -> None:
    scenario = sys.argv[1]
    turn_starts = 0
    seen: dict[str, Any] = {}
    for line in sys.stdin:
        msg = json.loads(line)
        method, msg_id = msg.get("method"), msg.get("id")
        if msg_id is None:
            continue
        if method == "initialize" and scenario == "hanginit":
            sys.stdin.read()
            return
        if method == "initialize":
            seen["capabilities"] = msg["params"].get("capabilities")
            send({"id": msg_id, "result": {"userAgent": "fake/0.163.0 (test)"}})
        elif method in ("thread/start", "thread/resume"):
            seen[method] = {k: v for k, v in msg["params"].items() if k == "dynamicTools"}
            if scenario == "crash":
                sys.stderr.write("fatal: simulated crash in fake app-server\n")
                sys.stderr.flush()
                sys.exit(3)
            send(
                {
                    "id": msg_id,
                    "result": {
                        "thread": thread(),
                        "model": "fake",
                        "modelProvider": "fake",
                        "cwd": "/",
                        "approvalPolicy": "never",
                        "approvalsReviewer": "user",
                        "sandbox": {"type": "dangerFullAccess"},
                        "instructionSources": [],
                        "disabledPluginIds": [],
                    },
                }
            )
        elif method == "turn/start" and scenario == "early":
            turn_stream("early answer")
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
        elif method == "turn/start" and scenario == "unknown":
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
            send({"id": 0, "method": "x/unknownRequest", "params": {"threadId": THREAD_ID}})
            reply = json.loads(sys.stdin.readline())
            turn_stream(json.dumps(reply, sort_keys=True))
        elif method == "turn/start" and scenario == "join":
            turn_starts += 1
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
            if turn_starts == 1:
                notify("turn/started", {"threadId": THREAD_ID, "turn": turn("inProgress")})
            else:
                turn_stream(f"joined by {turn_starts} starts")
        elif method == "turn/start" and scenario == "badcompleted":
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
            notify("turn/completed", {"turn": {"id": TURN_ID}})
        elif method == "turn/start" and scenario == "tools":
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
            call_tools(seen)
        elif method == "turn/start" and scenario == "approval":
            send({"id": msg_id, "result": {"turn": turn("inProgress")}})
            approval = {"threadId": THREAD_ID, "turnId": TURN_ID, "itemId": "call_1"}
            send({"id": 0, "method": "item/commandExecution/requestApproval", "params": approval})
            reply = json.loads(sys.stdin.readline())
            turn_stream(json.dumps(reply, sort_keys=True))
        else:
            send({"id": msg_id, "error": {"code": -32600, "message": f"unsupported {method}"}})


if __name__ == "__main__":
    main()
