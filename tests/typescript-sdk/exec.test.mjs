// The official TypeScript SDK (@openai/codex-sdk 0.163.0) driving our `codex exec` against the
// scripted mock model. Each test gets its own mock process, CODEX_HOME and Git working
// directory. Waits on the mock use its blocking `POST /_mock/wait`, never sleeps.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (see tests/typescript-sdk/README.md)`);
  return value;
}

const sdkDir = required("CODEX_TS_SDK_DIR");
const codexBin = required("CODEX_BIN");
const mockBin = required("CODEX_MOCK_BIN");
const { Codex } = await import(
  pathToFileURL(path.join(sdkDir, "node_modules/@openai/codex-sdk/dist/index.js")).href
);

const TIMEOUT = { timeout: 60_000 };

/** Starts `codex-mock-model`; it exits when its stdin closes. */
async function startMock(t) {
  const child = spawn(mockBin, [], { stdio: ["pipe", "pipe", "inherit"] });
  t.after(() => {
    child.stdin.end();
    child.kill();
  });
  const lines = readline.createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("mock did not start")), 10_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`mock exited with ${code}`)));
  });
  const url = first.replace(/^listening /, "");
  const root = url.replace(/\/v1$/, "");
  const call = async (method, route, body) => {
    const response = await fetch(`${root}/_mock/${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  return {
    url,
    enqueue: async (...specs) => assert.equal((await call("POST", "enqueue", specs)).status, 200),
    /** Model requests (POST bodies and headers), in arrival order. */
    requests: async () => (await call("GET", "requests")).body.filter((r) => r.method === "POST"),
    /** Blocks until the counts are reached; fails the test when they never are. */
    waitFor: async (counts) => {
      const answer = await call("POST", "wait", { timeout_ms: 20_000, ...counts });
      assert.equal(answer.status, 200, `mock never reached ${JSON.stringify(counts)}: ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
  };
}

/** A CODEX_HOME, a Git working directory and a directory outside it. */
function makeDirs(t) {
  const root = mkdtempSync(path.join(tmpdir(), "codex-ts-sdk-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const home = path.join(root, "home");
  const work = path.join(root, "work");
  const outside = path.join(root, "outside");
  mkdirSync(home);
  mkdirSync(path.join(work, ".git"), { recursive: true });
  mkdirSync(outside);
  return { root, home, work, outside };
}

/** The SDK as a user configures it, pointed at the mock through `baseUrl`. */
function makeCodex(mock, dirs, config = {}) {
  return new Codex({
    codexPathOverride: codexBin,
    baseUrl: mock.url,
    apiKey: "sk-from-the-ts-sdk",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dirs.root, CODEX_HOME: dirs.home },
    config: {
      model_providers: { openai: { request_max_retries: 0, stream_max_retries: 0 } },
      ...config,
    },
  });
}

const message = (text) => ({ type: "message", text });
const command = (call_id, cmd) => ({
  type: "function_call",
  call_id,
  name: "exec_command",
  arguments: { cmd },
});
const patch = (call_id, body) => ({ type: "custom_tool_call", call_id, name: "apply_patch", input: body });
const inputText = (request) => JSON.stringify(request.body.input);

async function collect(events) {
  const seen = [];
  for await (const event of events) seen.push(event);
  return seen;
}

test("run returns the answer, the items and the usage; the key and base URL reach the model", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(message("Hello from our exec."));
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work, threadSource: "user" });
  const turn = await thread.run("Say hello");
  assert.equal(turn.finalResponse, "Hello from our exec.");
  assert.deepEqual(turn.items, [{ id: "item_0", type: "agent_message", text: "Hello from our exec." }]);
  assert.deepEqual(turn.usage, {
    input_tokens: 120,
    cached_input_tokens: 20,
    cache_write_input_tokens: 0,
    output_tokens: 7,
    reasoning_output_tokens: 0,
  });
  assert.match(thread.id, /^[0-9a-f-]{36}$/);
  const [request] = await mock.requests();
  assert.equal(request.headers.authorization, "Bearer sk-from-the-ts-sdk");
  assert.equal(request.headers.originator, "codex_sdk_ts");
  assert.ok(inputText(request).includes("Say hello"));
});

test("runStreamed yields the events in order", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(message("Streamed."));
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work });
  const { events } = await thread.runStreamed("Stream it");
  const seen = await collect(events);
  assert.deepEqual(
    seen.map((e) => e.type),
    ["thread.started", "turn.started", "item.completed", "turn.completed"],
  );
  assert.equal(seen[0].thread_id, thread.id);
  assert.deepEqual(seen[2].item, { id: "item_0", type: "agent_message", text: "Streamed." });
});

test("commands report their output (stderr included), exit code and status", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(command("c1", "echo to-stdout; echo to-stderr >&2; exit 4"), message("Ran it."));
  const thread = makeCodex(mock, dirs).startThread({
    workingDirectory: dirs.work,
    sandboxMode: "danger-full-access",
  });
  const { events } = await thread.runStreamed("Run a command");
  const seen = await collect(events);
  const started = seen.find((e) => e.type === "item.started");
  assert.deepEqual(started.item, {
    id: "item_0",
    type: "command_execution",
    command: "/bin/bash -lc 'echo to-stdout; echo to-stderr >&2; exit 4'",
    aggregated_output: "",
    exit_code: null,
    status: "in_progress",
  });
  const done = seen.find((e) => e.type === "item.completed" && e.item.type === "command_execution");
  assert.equal(done.item.id, "item_0");
  assert.equal(done.item.exit_code, 4);
  assert.equal(done.item.status, "failed");
  assert.match(done.item.aggregated_output, /to-stdout\n/);
  assert.match(done.item.aggregated_output, /to-stderr\n/);
  // The command's result went back to the model.
  const requests = await mock.requests();
  assert.equal(requests.length, 2);
  assert.ok(inputText(requests[1]).includes("to-stderr"));
});

test("a patch is one file_change item and the file is written", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(
    patch("p1", "*** Begin Patch\n*** Add File: notes.txt\n+written by the patch\n*** End Patch\n"),
    message("Patched."),
  );
  const thread = makeCodex(mock, dirs).startThread({
    workingDirectory: dirs.work,
    sandboxMode: "workspace-write",
  });
  const turn = await thread.run("Write notes");
  const changes = turn.items.filter((i) => i.type === "file_change");
  assert.equal(changes.length, 1);
  assert.equal(turn.items.filter((i) => i.type === "command_execution").length, 0);
  assert.deepEqual(changes[0], {
    id: "item_0",
    type: "file_change",
    changes: [{ path: path.join(dirs.work, "notes.txt"), kind: "add" }],
    status: "completed",
  });
  assert.equal(readFileSync(path.join(dirs.work, "notes.txt"), "utf8"), "written by the patch\n");
});

test("an output schema reaches the model, on a resumed turn too", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  const schema = {
    type: "object",
    properties: { answer: { type: "string" } },
    required: ["answer"],
    additionalProperties: false,
  };
  await mock.enqueue(message('{"answer":"one"}'), message('{"answer":"two"}'));
  const codex = makeCodex(mock, dirs);
  const thread = codex.startThread({ workingDirectory: dirs.work });
  const first = await thread.run("First", { outputSchema: schema });
  assert.deepEqual(JSON.parse(first.finalResponse), { answer: "one" });
  const resumed = codex.resumeThread(thread.id, { workingDirectory: dirs.work });
  const second = await resumed.run("Second", { outputSchema: schema });
  assert.deepEqual(JSON.parse(second.finalResponse), { answer: "two" });
  const requests = await mock.requests();
  assert.equal(requests.length, 2);
  for (const request of requests) {
    assert.equal(request.body.text.format.type, "json_schema");
    assert.deepEqual(request.body.text.format.schema, schema);
  }
});

test("resumeThread continues the same thread with its history", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(message("The answer is 42."), message("You asked about 42."));
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work });
  await thread.run("What is the answer?");
  const id = thread.id;
  // A new client, as a later process would be.
  const resumed = makeCodex(mock, dirs).resumeThread(id, { workingDirectory: dirs.work });
  const { events } = await resumed.runStreamed("What did I ask?");
  const seen = await collect(events);
  assert.deepEqual(seen[0], { type: "thread.started", thread_id: id });
  assert.equal(resumed.id, id);
  const [, second] = await mock.requests();
  const input = inputText(second);
  assert.ok(input.includes("What is the answer?") && input.includes("The answer is 42."), input);
  assert.ok(input.includes("What did I ask?"));
});

test("a failed turn rejects run with the response body and streams error then turn.failed", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  const body = JSON.stringify({ error: { message: "model not allowed", type: "invalid_request_error" } });
  await mock.enqueue({ type: "status", status: 400, body }, { type: "status", status: 400, body });
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work });
  await assert.rejects(thread.run("Fail"), (err) => err.message === body);

  const { events } = await thread.runStreamed("Fail again");
  const seen = [];
  await assert.rejects(
    (async () => {
      for await (const event of events) seen.push(event);
    })(),
    /Codex Exec exited with code 1/,
  );
  assert.deepEqual(seen.slice(-2), [
    { type: "error", message: body },
    { type: "turn.failed", error: { message: body } },
  ]);
});

test("local images are attached to the prompt", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  const image = path.join(dirs.work, "shot.png");
  writeFileSync(image, "PNGBYTES");
  await mock.enqueue(message("A screenshot."));
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work });
  const turn = await thread.run([
    { type: "text", text: "What is this?" },
    { type: "local_image", path: image },
  ]);
  assert.equal(turn.finalResponse, "A screenshot.");
  const [request] = await mock.requests();
  const input = inputText(request);
  assert.ok(input.includes("What is this?"));
  assert.ok(input.includes(`data:image/png;base64,${Buffer.from("PNGBYTES").toString("base64")}`), input);
});

test("additionalDirectories become writable under workspace-write", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  const target = path.join(dirs.outside, "made.txt");
  // Temp directories are writable by default; take that away so only --add-dir grants it.
  const config = { sandbox_workspace_write: { exclude_slash_tmp: true, exclude_tmpdir_env_var: true } };
  const options = { workingDirectory: dirs.work, sandboxMode: "workspace-write" };
  const write = (id) => command(id, `echo made > ${target}`);

  await mock.enqueue(write("w1"), message("Could not."));
  const denied = await makeCodex(mock, dirs, config).startThread(options).run("Write outside");
  const refused = denied.items.find((i) => i.type === "command_execution");
  assert.notEqual(refused.exit_code, 0);
  assert.equal(existsSync(target), false);

  await mock.enqueue(write("w2"), message("Done."));
  const allowed = await makeCodex(mock, dirs, config)
    .startThread({ ...options, additionalDirectories: [dirs.outside] })
    .run("Write outside");
  const ran = allowed.items.find((i) => i.type === "command_execution");
  assert.equal(ran.exit_code, 0);
  assert.equal(ran.status, "completed");
  assert.equal(readFileSync(target, "utf8"), "made\n");
});

test("abort stops the turn and the process, abandoning the model stream", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue({
    type: "gated",
    before: [{ event: "response.created", data: { type: "response.created", response: { id: "r1" } } }],
    after: [],
  });
  const thread = makeCodex(mock, dirs).startThread({ workingDirectory: dirs.work });
  const controller = new AbortController();
  const { events } = await thread.runStreamed("Take forever", { signal: controller.signal });
  const seen = [];
  await assert.rejects(
    (async () => {
      for await (const event of events) {
        seen.push(event.type);
        if (event.type === "turn.started") {
          await mock.waitFor({ requests: 1 });
          controller.abort();
        }
      }
    })(),
    (err) => err.name === "AbortError",
  );
  assert.deepEqual(seen.slice(0, 2), ["thread.started", "turn.started"]);
  const stats = await mock.waitFor({ aborted_streams: 1 });
  assert.equal(stats.requests, 1);
});

test("bad arguments fail before any model request", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  const codex = makeCodex(mock, dirs);
  await assert.rejects(
    codex.startThread({ workingDirectory: dirs.work, sandboxMode: "wide-open" }).run("hi"),
    (err) => /exited with code 2/.test(err.message) && /invalid value 'wide-open' for '--sandbox'/.test(err.message),
  );
  await assert.rejects(
    codex.startThread({ workingDirectory: dirs.work, threadSource: "robot" }).run("hi"),
    /exited with code 2: error: invalid value 'robot' for '--thread-source'/,
  );
  await assert.rejects(
    codex.startThread({ workingDirectory: dirs.outside }).run("hi"),
    /exited with code 1: .*--skip-git-repo-check was not specified/s,
  );
  await assert.rejects(
    codex.startThread({ workingDirectory: path.join(dirs.root, "missing") }).run("hi"),
    /exited with code 1: .*--cd .*missing/s,
  );
  await assert.rejects(
    codex.startThread({ workingDirectory: dirs.work, modelReasoningEffort: "enormous" }).run("hi"),
    /exited with code 1: .*model_reasoning_effort/s,
  );
  assert.deepEqual(await mock.requests(), []);

  // Outside a repository is fine with skipGitRepoCheck.
  await mock.enqueue(message("Fine here."));
  const turn = await codex.startThread({ workingDirectory: dirs.outside, skipGitRepoCheck: true }).run("hi");
  assert.equal(turn.finalResponse, "Fine here.");
});

test("every thread option the SDK passes is accepted", TIMEOUT, async (t) => {
  const mock = await startMock(t);
  const dirs = makeDirs(t);
  await mock.enqueue(message("Configured."));
  const thread = makeCodex(mock, dirs).startThread({
    model: "gpt-5.1-codex",
    threadSource: "user",
    sandboxMode: "workspace-write",
    workingDirectory: dirs.work,
    additionalDirectories: [dirs.outside],
    skipGitRepoCheck: true,
    modelReasoningEffort: "high",
    networkAccessEnabled: false,
    webSearchMode: "disabled",
    approvalPolicy: "never",
  });
  const turn = await thread.run("Go");
  assert.equal(turn.finalResponse, "Configured.");
  const [request] = await mock.requests();
  assert.equal(request.body.model, "gpt-5.1-codex");
  assert.equal(request.body.reasoning.effort, "high");
});
