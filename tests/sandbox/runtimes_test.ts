/**
 * The three runtimes host the same bundle and must agree: same start results, same replies, same
 * failures (kind, reason, message) for the same misbehaviour, wherever the runtime can catch it.
 */

import assert from "node:assert/strict";
import { createRuntime, type ProcessRuntime } from "../../core/sandbox/mod.ts";
import { type Isolation, PolicyFailure, type PolicyRuntime } from "../../core/protocol/runtime.ts";
import type { SandboxOptions } from "../../core/sandbox/options.ts";
import {
  assertNoSandboxChildren,
  batchOf,
  captureLog,
  fixtureBundle,
  replyValues,
  startMessage,
  tracked,
} from "./_helpers.ts";

const ALL: Isolation[] = ["none", "worker", "process"];
const SANDBOXED: Isolation[] = ["worker", "process"];

/** What `misbehave.ts` does for `nums[0]`. */
const Behaviour = {
  ECHO: 0,
  THROW: 1,
  SPIN: 2,
  EXHAUST_HEAP: 3,
  HUGE_REPLY: 4,
  BAD_REPLY: 5,
  PRINT: 6,
  ASYNC_THROW: 7,
  EXIT: 8,
  READ_STDIN: 9,
  BUSY_MS: 10,
  OFF_HEAP: 11,
} as const;

/** Runs `body` with a started runtime, closes it, and checks no child process is left. */
async function withRuntime(
  isolation: Isolation,
  fixtureName: string,
  options: SandboxOptions,
  body: (runtime: PolicyRuntime) => Promise<void>,
  config: Record<string, unknown> = {},
): Promise<void> {
  const runtime = tracked(createRuntime(isolation, await fixtureBundle(fixtureName), options));
  try {
    await runtime.start(startMessage(config));
    await body(runtime);
  } finally {
    await runtime.close();
    await runtime.close(); // idempotent
  }
  assertNoSandboxChildren();
}

/** Awaits `action` and returns the PolicyFailure it throws. */
async function failureOf(action: () => unknown): Promise<PolicyFailure> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof PolicyFailure, `expected a PolicyFailure, got ${error}`);
    return error;
  }
  assert.fail("expected a PolicyFailure, got none");
}

Deno.test("every isolation gives the same start result and the same replies", async () => {
  const batches = [
    batchOf([1, 2, 3]),
    batchOf([]),
    batchOf([0.5, -7, 1e300, Number.MAX_SAFE_INTEGER], [{ vm: "P1", weight: 256 }, "text"]),
    batchOf(Array.from({ length: 1000 }, (_, index) => index / 3)),
    batchOf([Number.NaN, Infinity, -0]),
  ];
  const seen: unknown[] = [];
  for (const isolation of ALL) {
    await withRuntime(isolation, "echo.ts", {}, async (runtime) => {
      const replies = [];
      for (const batch of batches) replies.push(replyValues(await runtime.handle(batch)));
      seen.push(replies);
    });
  }
  assert.deepEqual(seen[1], seen[0]);
  assert.deepEqual(seen[2], seen[0]);
  const first = (seen[0] as { nums: number[]; objs: unknown[] }[])[2]!;
  assert.deepEqual(first.nums, [1, -14, 2e300, Number.MAX_SAFE_INTEGER * 2]);
  assert.deepEqual(first.objs, [{ echo: { vm: "P1", weight: 256 } }, { echo: "text" }]);
});

Deno.test("the start result is the same JSON under every isolation", async () => {
  const results = [];
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("echo.ts")));
    try {
      results.push(await runtime.start(startMessage({ factor: 5 })));
    } finally {
      await runtime.close();
    }
  }
  for (const result of results) {
    assert.deepEqual(result, {
      name: "echo",
      config: { factor: 5 },
      hooks: ["echo"],
      domain: "cpu",
    });
  }
  assertNoSandboxChildren();
});

Deno.test("a throw in a hook is an error failure, and the policy keeps running", async () => {
  const failures: unknown[] = [];
  for (const isolation of ALL) {
    await withRuntime(isolation, "misbehave.ts", {}, async (runtime) => {
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.THROW])));
      failures.push([failure.kind, failure.reason, failure.message]);
      assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.ECHO, 4]))).nums, [8]);
    });
  }
  for (const failure of failures) {
    assert.deepEqual(failure, ["error", "throw", "TypeError: Hook exploded"]);
  }
});

Deno.test("a throw in start is an error failure with reason init", async () => {
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("misbehave.ts")));
    try {
      const failure = await failureOf(() => runtime.start(startMessage({ failStart: true })));
      assert.equal(failure.kind, "error");
      assert.equal(failure.reason, "init");
      assert.equal(failure.message, "RangeError: Config key failStart is set");
    } finally {
      await runtime.close();
    }
  }
  assertNoSandboxChildren();
});

Deno.test("a policy built for another protocol version is refused, with the same message", async () => {
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("future_api.ts")));
    try {
      const failure = await failureOf(() => runtime.start(startMessage()));
      assert.equal(failure.kind, "invalid");
      assert.equal(failure.reason, "api-version");
      assert.equal(
        failure.message,
        'Policy "from-the-future" was built for hook protocol v2; this kernel speaks v1',
      );
    } finally {
      await runtime.close();
    }
  }
  assertNoSandboxChildren();
});

Deno.test("a default export that is not a policy is refused", async () => {
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("not_a_policy.ts")));
    try {
      const failure = await failureOf(() => runtime.start(startMessage()));
      assert.equal(failure.kind, "invalid");
      assert.equal(failure.reason, "not-a-policy");
    } finally {
      await runtime.close();
    }
  }
  assertNoSandboxChildren();
});

Deno.test("a module that throws while loading is an error failure with reason load", async () => {
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("throws_on_load.ts")));
    try {
      const failure = await failureOf(() => runtime.start(startMessage()));
      assert.equal(failure.kind, "error");
      assert.equal(failure.reason, "load");
      assert.match(failure.message, /^Policy module failed to load: SyntaxError: Broken at load/);
    } finally {
      await runtime.close();
    }
  }
  assertNoSandboxChildren();
});

Deno.test("a reply that is not a Reply is an invalid failure", async () => {
  for (const isolation of ALL) {
    await withRuntime(isolation, "misbehave.ts", {}, async (runtime) => {
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.BAD_REPLY])));
      assert.equal(failure.kind, "invalid");
      assert.equal(failure.reason, "bad-reply");
    });
  }
});

Deno.test("a 100 MB reply is refused, and a sandboxed policy is then ended", async () => {
  for (const isolation of ALL) {
    await withRuntime(isolation, "misbehave.ts", {}, async (runtime) => {
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.HUGE_REPLY])));
      assert.equal(failure.kind, "invalid");
      assert.equal(failure.reason, "message-too-large");
      assert.equal(failure.message, "Policy reply is 100000000 bytes; the limit is 16777216 bytes");
      if (isolation !== "none") {
        const after = await failureOf(() => runtime.handle(batchOf([Behaviour.ECHO])));
        assert.equal(after.reason, "message-too-large");
      }
    });
  }
});

Deno.test("the reply cap is configurable", async () => {
  for (const isolation of ALL) {
    await withRuntime(isolation, "echo.ts", { maxMessageBytes: 64 }, async (runtime) => {
      assert.equal((await runtime.handle(batchOf([1, 2, 3, 4, 5, 6, 7, 8]))).length, 8);
      const failure = await failureOf(() => runtime.handle(batchOf([1, 2, 3, 4, 5, 6, 7, 8, 9])));
      assert.equal(failure.message, "Policy reply is 72 bytes; the limit is 64 bytes");
    });
  }
});

Deno.test("an endless loop in a hook is a stall under process, and the child is killed", async () => {
  await withRuntime("process", "misbehave.ts", { batchDeadlineMs: 200 }, async (runtime) => {
    const started = performance.now();
    const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.SPIN])));
    const elapsed = performance.now() - started;
    assert.equal(failure.kind, "stall");
    assert.equal(failure.reason, "deadline");
    assert.ok(elapsed >= 200 && elapsed < 10_000, `stall reported after ${elapsed} ms`);
    assertNoSandboxChildren(); // killed and reaped before the failure is thrown
    const after = await failureOf(() => runtime.handle(batchOf([Behaviour.ECHO])));
    assert.equal(after, failure);
  });
});

Deno.test("a hook slower than the deadline is a stall under worker and process", async () => {
  for (const isolation of SANDBOXED) {
    // A deadline that a 10 ms hook meets even on a loaded machine, and a 5 s one that overruns it.
    await withRuntime(isolation, "misbehave.ts", { batchDeadlineMs: 500 }, async (runtime) => {
      assert.deepEqual(
        replyValues(await runtime.handle(batchOf([Behaviour.BUSY_MS, 10, 1]))).nums,
        [
          20,
          2,
        ],
      );
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.BUSY_MS, 5_000])));
      assert.equal(failure.kind, "stall");
      assert.equal(failure.reason, "deadline");
    });
  }
});

Deno.test("exhausting the heap is oom under process, and the kernel lives on", async () => {
  const quiet = captureLog();
  await withRuntime(
    "process",
    "misbehave.ts",
    { heapMiB: 64, batchDeadlineMs: 20_000, log: quiet.log },
    async (runtime) => {
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.EXHAUST_HEAP])));
      assert.equal(failure.kind, "oom");
      assert.equal(failure.reason, "heap");
      assert.equal(failure.message, "Policy process ran out of memory (heap cap 64 MiB)");
    },
  );
  // Still here: allocate and compute in the kernel's own heap.
  assert.equal(new Array(1 << 20).fill(1).length, 1 << 20);
});

Deno.test("memory outside the heap is capped too under process (rssMiB)", async () => {
  const options = { heapMiB: 64, rssMiB: 256, batchDeadlineMs: 10_000 };
  await withRuntime("process", "misbehave.ts", options, async (runtime) => {
    // 128 MiB of typed arrays: past the heap cap (they are not on the heap), under the RSS cap.
    assert.deepEqual(
      replyValues(await runtime.handle(batchOf([Behaviour.OFF_HEAP, 128, 0]))).nums,
      [256, 0],
    );
    const started = performance.now();
    const failure = await failureOf(() =>
      runtime.handle(batchOf([Behaviour.OFF_HEAP, 512, 5_000]))
    );
    assert.equal(failure.kind, "oom");
    assert.equal(failure.reason, "rss");
    assert.match(failure.message, /^Policy process used \d+ MiB of memory; the limit is 256 MiB$/);
    assert.ok(performance.now() - started < 4_000, "killed while it was still running");
  });
});

Deno.test("Deno.exit in a sandboxed policy is an error (NotCapable), and the policy keeps running", async () => {
  for (const isolation of SANDBOXED) {
    await withRuntime(isolation, "misbehave.ts", {}, async (runtime) => {
      const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.EXIT])));
      assert.deepEqual(
        [failure.kind, failure.reason, failure.message],
        ["error", "throw", "NotCapable: Deno.exit is not available to a sandboxed policy"],
        isolation,
      );
      assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.ECHO, 5]))).nums, [10]);
    });
  }
});

Deno.test("policy output goes to the log, never to the kernel's stdout or the framing", async () => {
  for (const isolation of SANDBOXED) {
    const captured = captureLog();
    await withRuntime(isolation, "misbehave.ts", { log: captured.log }, async (runtime) => {
      assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.PRINT, 21]))).nums, [
        42,
      ]);
      assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.ECHO, 1]))).nums, [2]);
    });
    const text = captured.text();
    for (const line of ["policy console.log", "console.info", "console.table", "policy-count: 1"]) {
      assert.ok(text.includes(line), `${isolation}: "${line}" missing from the log: ${text}`);
    }
    assert.ok(text.includes("policy Deno.stdout"), text);
    assert.ok(text.includes("policy process.stdout"), text);
  }
});

Deno.test("a policy cannot read the process sandbox's stdin", async () => {
  await withRuntime("process", "misbehave.ts", {}, async (runtime) => {
    const reply = await runtime.handle(batchOf([Behaviour.READ_STDIN, 1]));
    assert.deepEqual(reply.objs, [
      "Error: The sandbox's stdin carries the kernel protocol; a policy cannot read it",
    ]);
    assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.ECHO, 2]))).nums, [4]);
  });
});

Deno.test("an uncaught error from a timer: a crash under worker; never runs under process", async () => {
  await withRuntime("worker", "misbehave.ts", {}, async (runtime) => {
    await runtime.handle(batchOf([Behaviour.ASYNC_THROW]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.ECHO])));
    assert.equal(failure.kind, "crash");
    assert.equal(failure.reason, "uncaught");
    assert.match(failure.message, /Thrown from a timer/);
  });
  // The process sandbox never returns to its event loop after start: timers do not fire.
  await withRuntime("process", "misbehave.ts", {}, async (runtime) => {
    await runtime.handle(batchOf([Behaviour.ASYNC_THROW]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(replyValues(await runtime.handle(batchOf([Behaviour.ECHO, 3]))).nums, [6]);
  });
});

Deno.test("handle before start and after close fails clearly", async () => {
  for (const isolation of ALL) {
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("echo.ts")));
    const early = await failureOf(() => runtime.handle(batchOf([1])));
    assert.equal(early.reason, "not-started");
    await runtime.start(startMessage());
    await runtime.close();
    const late = await failureOf(() => runtime.handle(batchOf([1])));
    assert.ok(late.reason === "closed" || late.reason === "not-started", late.reason);
  }
  assertNoSandboxChildren();
});

Deno.test("closing a sandbox while a batch is in flight fails that batch", async () => {
  for (const isolation of SANDBOXED) {
    // With blocking reads a process sandbox's batch is never in flight while the kernel runs.
    const runtime = tracked(createRuntime(isolation, await fixtureBundle("misbehave.ts"), {
      batchDeadlineMs: 5_000,
      blockingReads: false,
    }));
    await runtime.start(startMessage());
    const pending = failureOf(() => runtime.handle(batchOf([Behaviour.BUSY_MS, 300])));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runtime.close();
    const failure = await pending;
    assert.equal(failure.kind, "unregistered");
    assert.equal(failure.reason, "closed");
  }
  assertNoSandboxChildren();
});

Deno.test("createRuntime refuses an imported module for a sandbox", async () => {
  const definition = (await import("../fixtures/policies/echo.ts")).default;
  assert.throws(() => createRuntime("process", definition), /needs a policy bundle/);
  const runtime = tracked(createRuntime("none", definition));
  assert.deepEqual(await runtime.start(startMessage()), {
    name: "echo",
    config: { factor: 2 },
    hooks: ["echo"],
    domain: "cpu",
  });
  assert.deepEqual(replyValues(await runtime.handle(batchOf([2]))).nums, [4]);
  await runtime.close();
});

Deno.test("process: blocking reads answer synchronously; the stream transport holds alike", async () => {
  for (const blockingReads of [true, false]) {
    const quiet = captureLog();
    const options = {
      blockingReads,
      heapMiB: 64,
      rssMiB: 256,
      log: quiet.log,
      batchDeadlineMs: 10_000,
    };
    await withRuntime("process", "misbehave.ts", options, async (runtime) => {
      assert.equal((runtime as ProcessRuntime).blocking, blockingReads);
      const reply = runtime.handle(batchOf([Behaviour.ECHO, 1, 2]));
      assert.equal(reply instanceof Promise, !blockingReads);
      assert.deepEqual(replyValues(await reply).nums, [2, 4]);
      const printed = await runtime.handle(batchOf([Behaviour.PRINT, 1]));
      assert.deepEqual(replyValues(printed).nums, [2]);
      assert.match(quiet.text(), /policy console\.log[^]*policy Deno\.stdout/);
      const thrown = await failureOf(() => runtime.handle(batchOf([Behaviour.THROW])));
      assert.equal(thrown.reason, "throw");
      const failure = await failureOf(() =>
        runtime.handle(batchOf([Behaviour.OFF_HEAP, 512, 5_000]))
      );
      assert.deepEqual([failure.kind, failure.reason], ["oom", "rss"], String(blockingReads));
    });
    await withRuntime(
      "process",
      "misbehave.ts",
      { ...options, batchDeadlineMs: 200 },
      async (runtime) => {
        const started = performance.now();
        const failure = await failureOf(() => runtime.handle(batchOf([Behaviour.SPIN])));
        const elapsed = performance.now() - started;
        assert.deepEqual([failure.kind, failure.reason], ["stall", "deadline"]);
        assert.ok(elapsed >= 200 && elapsed < 10_000, `stall reported after ${elapsed} ms`);
        assertNoSandboxChildren();
      },
    );
  }
});
