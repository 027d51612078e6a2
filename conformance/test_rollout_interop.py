"""Rollout interoperability with the official runtime (issue: two-way compatibility).

Threads written by one binary must be listed, read and resumed by the other, through the same
CODEX_HOME. Run by scripts/conformance with OUR_CODEX_BIN and OFFICIAL_CODEX_BIN set; the
harness (mock Responses server, isolated CODEX_HOME) comes from sdk/python/tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from app_server_harness import AppServerHarness, ev_completed, ev_created, ev_function_call

from openai_codex import Codex, Sandbox

OURS = os.environ["OUR_CODEX_BIN"]
OFFICIAL = os.environ["OFFICIAL_CODEX_BIN"]


def messages(read_response) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for turn in read_response.thread.turns:
        for item in turn.items:
            root = item.root
            if root.type == "userMessage":
                out.append(("user", "\n".join(p.root.text for p in root.content if p.root.type == "text")))
            elif root.type == "agentMessage":
                out.append(("agent", root.text))
    return out


def request_texts(request) -> str:
    return json.dumps(json.loads(request.body)["input"])


def write_threads(harness: AppServerHarness, binary: str) -> dict[str, str]:
    """One thread with a turn, one archived, one named; returns their ids."""
    for answer in ("first answer", "archived answer", "named answer"):
        harness.responses.enqueue_assistant_message(answer, response_id=f"w-{answer[:5]}")
    with Codex(config=harness.app_server_config(codex_bin=binary)) as codex:
        plain = codex.thread_start()
        plain.run("first question")
        archived = codex.thread_start()
        archived.run("question to archive")
        named = codex.thread_start()
        named.run("question to name")
        named.set_name("interop named thread")
        codex.thread_archive(archived.id)
    return {"plain": plain.id, "archived": archived.id, "named": named.id}


def check_threads(harness: AppServerHarness, binary: str, ids: dict[str, str]) -> None:
    harness.responses.enqueue_assistant_message("resumed answer", response_id="r-1")
    with Codex(config=harness.app_server_config(codex_bin=binary)) as codex:
        active = codex.thread_list(archived=False, limit=50)
        archived = codex.thread_list(archived=True, limit=50)
        active_ids = {t.id for t in active.data}
        assert ids["plain"] in active_ids
        assert ids["named"] in active_ids
        assert ids["archived"] not in active_ids
        assert ids["archived"] in {t.id for t in archived.data}
        named = next(t for t in active.data if t.id == ids["named"])
        assert named.name == "interop named thread"

        read = codex.thread_read(ids["plain"], include_turns=True)
        assert messages(read) == [("user", "first question"), ("agent", "first answer")]

        resumed = codex.thread_resume(ids["plain"])
        result = resumed.run("follow-up question")
        assert result.final_response == "resumed answer"
    last = harness.responses.requests[-1]
    text = request_texts(last)
    assert "first question" in text and "first answer" in text and "follow-up question" in text


@pytest.mark.parametrize(
    ("writer", "reader"),
    [(OFFICIAL, OURS), (OURS, OFFICIAL)],
    ids=["official-writes-ours-reads", "ours-writes-official-reads"],
)
def test_threads_cross_between_runtimes(writer: str, reader: str, tmp_path: Path) -> None:
    with AppServerHarness(tmp_path) as harness:
        ids = write_threads(harness, writer)
        check_threads(harness, reader, ids)


def patch_reply(harness: AppServerHarness, response_id: str, patch: str) -> None:
    """A model response that edits files through `apply_patch` (a shell heredoc)."""
    command = f"apply_patch <<'EOF'\n*** Begin Patch\n{patch}\n*** End Patch\nEOF\n"
    harness.responses.enqueue_sse(
        [
            ev_created(response_id),
            ev_function_call(f"call-{response_id}", "exec_command", {"cmd": command}),
            ev_completed(response_id),
        ]
    )


def test_a_thread_reverted_by_ours_reads_the_same_in_the_official_runtime(tmp_path: Path) -> None:
    """Our revert appends a marker the official runtime honours: its read, its resume and its
    next model request leave the reverted turns out too. The file checkpoints our patches
    record (for `restoreFiles`) do not disturb it either."""
    with AppServerHarness(tmp_path) as harness:
        notes = harness.workspace / "notes.txt"
        patch_reply(harness, "v-p1", "*** Add File: notes.txt\n+first")
        harness.responses.enqueue_assistant_message("answer one", response_id="v-one")
        patch_reply(harness, "v-p2", "*** Update File: notes.txt\n@@\n-first\n+second")
        harness.responses.enqueue_assistant_message("answer two", response_id="v-two")
        harness.responses.enqueue_assistant_message("answer three", response_id="v-three")
        with Codex(config=harness.app_server_config(codex_bin=OURS)) as codex:
            thread = codex.thread_start(sandbox=Sandbox.workspace_write)
            thread.run("question one")
            second = thread.run("question two")
            thread.run("question three")
            assert notes.read_text() == "second\n"
            reverted = codex._connection().request(
                "thread/revert",
                {"threadId": thread.id, "beforeTurnId": second.id, "restoreFiles": True},
            )
        assert isinstance(reverted, dict)
        assert reverted["fileRestore"] == {"restored": [str(notes)], "notRestored": []}
        assert notes.read_text() == "first\n"

        harness.responses.enqueue_assistant_message("answer four", response_id="v-four")
        with Codex(config=harness.app_server_config(codex_bin=OFFICIAL)) as codex:
            read = codex.thread_read(thread.id, include_turns=True)
            assert messages(read) == [("user", "question one"), ("agent", "answer one")]
            resumed = codex.thread_resume(thread.id)
            assert resumed.run("question four").final_response == "answer four"
        text = request_texts(harness.responses.requests[-1])
        assert "answer one" in text and "question four" in text
        assert "question two" not in text and "answer three" not in text
