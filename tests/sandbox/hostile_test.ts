/**
 * The hostile-policy suite: CPU policies written with the SDK (tests/fixtures/hostile/) attack the
 * kernel at load time (module top level), in `create`, and inside hooks, and run through the
 * kernel: `simulate()` in-process, and the CLI for the exit status and the stderr lines. Policies
 * that are not built in run under `process` by default; these runs rely on that default, which is
 * the replay mode: the child runs a copy of the kernel beside the policy and streams its answers,
 * which the kernel checks (`core/sandbox/replay.ts`; more of it in `replay_test.ts`).
 *
 * For every case: the run completes, the incident recorded is the expected one (or none, and then
 * the policy made the same decisions as an honest run: same `eventsHash`), every finite VM program
 * finishes, the file the policy aimed at is unchanged, a listener on 127.0.0.1 receives nothing,
 * and no sandbox process (running or zombie) is left.
 *
 * Expected outcome under `process` (kind/reason; "none": no incident):
 *
 * | act                                | at load           | in `create`   | in a hook                  |
 * | ---------------------------------- | ----------------- | ------------- | -------------------------- |
 * | endless loop                       | stall/deadline    | stall/deadline| stall/deadline             |
 * | throw                              | error/load        | error/init    | error/throw                |
 * | unknown vCPU, running vCPU         | -                 | -             | invalid/unknown-vcpu, vcpu-running |
 * | negative or NaN slice              | -                 | -             | invalid/bad-slice          |
 * | read, write a file; read env; spawn| error/load        | -             | error/throw; none if caught|
 * | fetch, connect to 127.0.0.1        | error/load        | -             | none (1)                   |
 * | import() of npm:, https:           | error/load        | -             | none (1)                   |
 * | import() of data:                  | error/load (2)    | -             | none (1)                   |
 * | start a Worker, node:worker_threads| error/load (3)    | -             | error/throw; none if caught (3) |
 * | allocate until out of memory       | oom/heap          | -             | oom/heap                   |
 * | return a 100 MB result             | -                 | -             | invalid/message-too-large (4) |
 * | a hook slower than the deadline    | -                 | -             | stall/deadline             |
 * | tamper with globals, prototypes    | invalid/bad-start | invalid/bad-start | none, or invalid/bad-frame (5) |
 * | Deno.kill (own pid, the kernel's), node's process.kill, Deno.exit, signal or unload listeners | error/load | - | error/throw (6) |
 * | throw what cannot be described     | error/load        | error/init    | error/throw, "(unprintable error)" (7) |
 * | say too much, or with escapes      | -                 | -             | none; output capped and cleaned (8) |
 * | replace the SDK's functions        | -                 | -             | invalid/unknown-vcpu       |
 * | replace the copy of the kernel's   | -                 | -             | invalid/diverged (9)       |
 *
 * (1) A hook cannot wait for a promise, and the process sandbox never returns to its event loop
 *     after start: the request or import never leaves the sandbox, and its rejection is never
 *     reported. A policy that catches the denial sees `NotCapable` at the next batch boundary.
 * (2) A `data:` module is allowed: it is more code in the same sandbox, as powerless (this one reads
 *     the environment, which is denied).
 * (3) The sandbox takes `Worker` and `node:worker_threads` away before the policy's code runs
 *     (`NotCapable`): a thread of its own would spin out of the deadline's reach and write to the
 *     pipe that carries the protocol.
 * (4) Building 100 MB takes longer than the default 100 ms batch deadline: with that default it is
 *     a stall; with a longer deadline the size cap refuses it. In the replay mode the deadline
 *     bounds how long the kernel waits: a child that ran ahead of it had a head start, so the
 *     stall is shown in the per-batch mode (`process-rpc`), where the two are the same.
 * (5) Tampering breaks only the sandbox's own isolate: the policy, and the policy host in the child
 *     (a broken `JSON.stringify` garbles the start result or a failure report, which the kernel
 *     refuses). In `dispatch` nothing the policy uses afterwards is touched: no incident. The
 *     kernel's own globals stay intact. In the replay mode the copy of the kernel in the child
 *     shares the policy's realm: what it uses after the act is broken too, and whatever that
 *     changes shows as an incident (here the copy uses none of them).
 * (6) `NotCapable`, under `worker` too (where `Deno.kill(Deno.pid)` needs no permission and the pid
 *     is the kernel's): the bootstrap takes them away before the policy's code runs.
 * (7) An Error whose `name`/`message` getters throw, a Proxy whose traps throw, an object whose
 *     `toString` and `Symbol.toPrimitive` throw: under every isolation, `none` included.
 * (8) Terminal control sequences are stripped from the output and from incident messages; output
 *     is capped per batch (64 Ki characters) and per run (1 Mi), messages at 4096 characters,
 *     each cut said.
 * (9) `Math.imul`, the mixer of the fingerprint the child sends with each answer, made to answer
 *     0: the next batch's fingerprint does not match the kernel's (`replay_test.ts` also scribbles
 *     over the copy's event queue).
 *
 * Under `worker` (tested below for what it holds): the same kinds for throws, denied calls, bad
 * decisions, huge replies, slow hooks, threads, signals and exits; an uncaught promise rejection
 * from a hook is a `crash/uncaught` reported whenever it reaches the kernel (the worker runs its
 * event loop: the instant, or whether the run ends first, depends on timing, so it is not tested
 * here). Killing the kernel's process (the worker's pid is the kernel's) is tried only in a CLI
 * child process. It does NOT hold against an endless loop (the thread keeps spinning; the CLI
 * completes only because it ends with `Deno.exit`) nor memory exhaustion (the whole process
 * aborts): those run here only in a CLI child process.
 */

import assert from "node:assert/strict";
import type { Report } from "../../core/report/report.ts";
import type { SandboxOptions } from "../../core/sandbox/options.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { workloadFile } from "../_helpers.ts";
import { captureLog } from "./_helpers.ts";

const FIXTURES = new URL("../fixtures/hostile/", import.meta.url);
const IN_HOOK = new URL("in_hook.ts", FIXTURES).pathname;
const CLI = new URL("../../core/cli.ts", import.meta.url).pathname;
const FUTURE_API = new URL("../fixtures/policies/future_api.ts", import.meta.url).pathname;
/** Every sandbox of this file keeps its bootstrap here: its path marks our child processes. */
const CACHE = await Deno.makeTempDir({ prefix: "hyperhook-hostile-" });
const SECRET = "secret: a policy must not change this file\n";

/** The kernel's own globals, to check that no sandbox reached them. */
const KERNEL_GLOBALS = {
  push: Array.prototype.push,
  stringify: JSON.stringify,
  parse: JSON.parse,
  random: Math.random,
  deno: globalThis.Deno,
};

const WORKLOAD_SPEC = {
  schema: "hyperhook.workload/v1",
  name: "hostile",
  host: { pcpus: 2 },
  vms: [
    { id: "a", cpu: { program: [{ run: "3ms" }, { sleep: "2ms" }], repeat: 10 } },
    { id: "b", cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 10 } },
    { id: "c", cpu: { program: [{ run: "7ms" }] } },
  ],
};
const WORKLOAD = parseWorkload(WORKLOAD_SPEC);

/** Where an act happens: module top level, `create`, or a hook. */
type Where = "load" | "create" | "enqueue" | "dispatch";

/** One hostile run and what it must end with. */
interface Case {
  where: Where;
  act: string;
  /** The policy catches the act's error and carries on. */
  caught?: boolean;
  /** The one incident expected (`message` matched), or none. */
  expect: { kind: string; reason: string; message?: RegExp } | "none";
  /** Sandbox options over the suite's defaults. */
  sandbox?: SandboxOptions;
  /** What the policy's output (the sandbox log) must show. */
  log?: RegExp;
  /** More checks of the policy's output. */
  logCheck?: (text: string) => void;
  /** Where it runs (default: not given, so the loader's default for a non-built-in). */
  isolation?: Isolation;
  /** The incident may come after the first instant (the act has its effect at the next batch). */
  later?: boolean;
}

/** The suite's sandbox options: generous deadlines, so that only the hostile act can overrun. */
const SANDBOX: SandboxOptions = {
  cacheDir: CACHE,
  heapMiB: 64,
  initDeadlineMs: 10_000,
  batchDeadlineMs: 2_000,
};
/** Deadlines for the acts that overrun: short, to keep the suite fast. */
const SHORT: SandboxOptions = { initDeadlineMs: 1_500, batchDeadlineMs: 300 };
/** For a hook's stall: a short batch deadline, and a start that a loaded machine cannot miss. */
const HOOK: SandboxOptions = { initDeadlineMs: 30_000, batchDeadlineMs: 300 };

function label(c: Case): string {
  return `${c.isolation ?? "default isolation"}, ${c.act} ${
    c.where === "load" ? "at load" : `in ${c.where}`
  }${c.caught ? " (caught)" : ""}`;
}

/** A TCP listener on 127.0.0.1 that records every connection it accepts. */
function listen(): { url: string; connections: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections: 0,
    close: async () => {
      listener.close();
      await accepting;
    },
  };
  const accepting = (async () => {
    try {
      for await (const connection of listener) {
        state.connections++;
        connection.close();
      }
    } catch {
      // Closed.
    }
  })();
  return state;
}

/** Writes a policy module that runs `act` at its top level, aimed at `target`. */
async function loadTimePolicy(dir: string, act: string, target: object): Promise<string> {
  const path = `${dir}/at_load.ts`;
  await Deno.writeTextFile(
    path,
    `import { act } from ${JSON.stringify(new URL("acts.ts", FIXTURES).href)};\n` +
      `import { hostilePolicy } from ${JSON.stringify(new URL("policy.ts", FIXTURES).href)};\n\n` +
      `await act(${JSON.stringify(act)}, ${JSON.stringify(target)});\n\n` +
      `export default hostilePolicy("at-load");\n`,
  );
  return path;
}

let honestHash: Promise<string> | undefined;

/** The eventsHash of the hostile policy with no act: what a case without incident must match. */
function honestEventsHash(): Promise<string> {
  honestHash ??= simulate(WORKLOAD, {
    policies: { cpu: { use: IN_HOOK } },
    isolation: "none",
  }).then((report) => report.eventsHash);
  return honestHash;
}

let caseCount = 0;

/** Runs one case through `simulate()` and checks everything the suite promises. */
async function runCase(c: Case, url: string): Promise<Report> {
  const dir = `${CACHE}/case-${++caseCount}`;
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/secret.txt`;
  await Deno.writeTextFile(file, SECRET);
  const target = { file, url };
  const use = c.where === "load" ? await loadTimePolicy(dir, c.act, target) : IN_HOOK;
  const config = c.where === "load"
    ? {}
    : { act: c.act, hook: c.where, caught: c.caught ?? false, ...target };
  const log = captureLog();
  const report = await simulate(WORKLOAD, {
    policies: { cpu: { use, config } },
    isolation: c.isolation,
    sandbox: { ...SANDBOX, log: log.log, ...c.sandbox },
  });
  const name = label(c);
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null, `${name}: VM ${vm.id}`);
  assert.equal(report.policies.cpu?.isolation, c.isolation ?? "process", name);
  if (c.expect === "none") {
    assert.deepEqual(report.incidents, [], name);
    assert.equal(report.policies.cpu?.ejected, false, name);
    assert.equal(report.eventsHash, await honestEventsHash(), `${name}: the honest decisions`);
  } else {
    assert.equal(report.incidents.length, 1, `${name}: ${JSON.stringify(report.incidents)}`);
    const incident = report.incidents[0]!;
    const startFailed = c.where === "load" || c.where === "create";
    assert.deepEqual(
      [incident.kind, incident.reason, incident.domain, incident.policy],
      [c.expect.kind, c.expect.reason, "cpu", startFailed ? use : "hostile"],
      `${name}: ${incident.message}`,
    );
    if (c.isolation !== "worker" && !c.later) assert.equal(incident.atNs, 0, name);
    if (c.expect.message !== undefined) assert.match(incident.message, c.expect.message, name);
    assert.equal(report.policies.cpu?.ejected, true, name);
  }
  if (c.log !== undefined) assert.match(log.text(), c.log, name);
  c.logCheck?.(log.text());
  assert.equal(await Deno.readTextFile(file), SECRET, `${name}: the file is unchanged`);
  return report;
}

/** Processes whose command line names this suite's cache, and zombie children of this process. */
function sandboxProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (cmdline.includes(marker) || (state === "Z" && Number(ppid) === Deno.pid)) {
        found.push(`${entry.name} ${state} ${cmdline}`);
      }
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** CPU time this process has used, in ms (Linux). */
function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / 100;
}

/**
 * Runs cases a few at a time (two cores: sandboxes that spin take one each), then checks that the
 * listener received nothing and that no sandbox process is left. Every case runs to its end
 * before the first failure is thrown.
 */
async function runCases(cases: Case[]): Promise<Report[]> {
  const listener = listen();
  const reports: Report[] = [];
  const failures: unknown[] = [];
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const index = next++;
      try {
        reports[index] = await runCase(cases[index]!, listener.url);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  try {
    await Promise.all([lane(), lane(), lane()]);
  } finally {
    await listener.close();
  }
  if (failures.length > 0) throw failures[0];
  assert.equal(listener.connections, 0, "the listener on 127.0.0.1 received nothing");
  assert.deepEqual(sandboxProcesses(CACHE), [], "no sandbox process is left");
  return reports;
}

const LOAD_DENIED = /^Policy module failed to load: NotCapable: Requires /;
const HOOK_DENIED = /^NotCapable: Requires /;

Deno.test("process: endless loops and slow hooks are stalls; the child is killed and nothing spins", async () => {
  await runCases([
    { where: "load", act: "spin", expect: { kind: "stall", reason: "deadline" }, sandbox: SHORT },
    { where: "create", act: "spin", expect: { kind: "stall", reason: "deadline" }, sandbox: SHORT },
    {
      where: "enqueue",
      act: "spin",
      expect: { kind: "stall", reason: "deadline" },
      sandbox: HOOK,
    },
    {
      where: "dispatch",
      act: "spin",
      expect: {
        kind: "stall",
        reason: "deadline",
        message: /^Policy did not finish its batch within 300 ms; the process was killed$/,
      },
      sandbox: HOOK,
    },
    // A hook that returns after a second: in the replay mode the deadline bounds the kernel's
    // wait, and a child that ran ahead (lanes of this file share a thread) had a head start:
    // shown per batch, where the two are the same (see (4)).
    {
      where: "dispatch",
      act: "slow",
      isolation: "process-rpc",
      expect: { kind: "stall", reason: "deadline" },
      sandbox: HOOK,
    },
  ]);
  // Nothing of the kernel's process keeps a core busy after the runs.
  const before = cpuMs();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(cpuMs() - before < 150, `the kernel's process used ${cpuMs() - before} ms of CPU`);
});

Deno.test("process: throws are errors, at load (load), in create (init) and in hooks (throw)", async () => {
  const message = /RangeError: Hostile policy throws$/;
  await runCases([
    { where: "load", act: "throw", expect: { kind: "error", reason: "load", message } },
    { where: "create", act: "throw", expect: { kind: "error", reason: "init", message } },
    { where: "enqueue", act: "throw", expect: { kind: "error", reason: "throw", message } },
    { where: "dispatch", act: "throw", expect: { kind: "error", reason: "throw", message } },
  ]);
});

Deno.test("process: invalid decisions (unknown vCPU, running vCPU, negative or NaN slice) are invalid", async () => {
  await runCases([
    {
      where: "dispatch",
      act: "unknown-vcpu",
      expect: { kind: "invalid", reason: "unknown-vcpu", message: /named vCPU 99999, which does/ },
    },
    {
      where: "dispatch",
      act: "running-vcpu",
      expect: { kind: "invalid", reason: "vcpu-running", message: /which is running$/ },
    },
    {
      where: "dispatch",
      act: "negative-slice",
      expect: { kind: "invalid", reason: "bad-slice", message: /with slice -5;/ },
    },
    {
      where: "dispatch",
      act: "nan-slice",
      expect: { kind: "invalid", reason: "bad-slice", message: /with slice NaN;/ },
    },
  ]);
});

Deno.test("process: files, environment and subprocesses are denied: error if it escapes, nothing if caught", async () => {
  const cases: Case[] = [];
  for (const act of ["read", "write", "env", "spawn"]) {
    cases.push(
      { where: "load", act, expect: { kind: "error", reason: "load", message: LOAD_DENIED } },
      { where: "dispatch", act, expect: { kind: "error", reason: "throw", message: HOOK_DENIED } },
      {
        where: "dispatch",
        act,
        caught: true,
        expect: "none",
        log: new RegExp(`hostile ${act}: caught NotCapable`),
      },
    );
  }
  const reports = await runCases(cases);
  // The sandbox's environment is empty anyway: nothing of the kernel's could have leaked.
  assert.ok(!JSON.stringify(reports).includes(Deno.env.get("HOME") ?? "\0"));
});

Deno.test("process: the network on 127.0.0.1 is denied; from a hook nothing is ever sent", async () => {
  await runCases([
    {
      where: "load",
      act: "fetch",
      expect: { kind: "error", reason: "load", message: LOAD_DENIED },
    },
    {
      where: "load",
      act: "connect",
      expect: { kind: "error", reason: "load", message: LOAD_DENIED },
    },
    { where: "dispatch", act: "fetch", expect: "none" },
    { where: "dispatch", act: "connect", expect: "none" },
    {
      where: "dispatch",
      act: "fetch",
      caught: true,
      expect: "none",
      log: /hostile fetch: caught NotCapable/,
    },
  ]);
});

Deno.test("process: dynamic imports of npm:, https: and data: modules fetch nothing", async () => {
  await runCases([
    {
      where: "load",
      act: "import-npm",
      expect: { kind: "error", reason: "load", message: /--no-npm is specified$/ },
    },
    {
      where: "load",
      act: "import-https",
      expect: { kind: "error", reason: "load", message: /--no-remote is specified\.$/ },
    },
    {
      where: "load",
      act: "import-http",
      expect: { kind: "error", reason: "load", message: /--no-remote is specified\.$/ },
    },
    // A data: module loads: it is more code in the same sandbox, and its env read is denied.
    {
      where: "load",
      act: "import-data",
      expect: { kind: "error", reason: "load", message: /NotCapable: Requires env access/ },
    },
    { where: "dispatch", act: "import-npm", expect: "none" },
    { where: "dispatch", act: "import-https", expect: "none" },
    { where: "dispatch", act: "import-data", expect: "none" },
  ]);
});

Deno.test("process and worker: a policy cannot start a thread, nor print to the pipe from one", async () => {
  const cases: Case[] = [];
  for (const isolation of [undefined, "worker" as const]) {
    cases.push(
      {
        where: "load",
        act: "worker",
        isolation,
        expect: {
          kind: "error",
          reason: "load",
          message:
            /^Policy module failed to load: NotCapable: Worker is not available to a sandboxed policy$/,
        },
      },
      {
        where: "load",
        act: "node-worker",
        isolation,
        expect: {
          kind: "error",
          reason: "load",
          message:
            /^Policy module failed to load: NotCapable: worker_threads.Worker is not available to a sandboxed policy$/,
        },
      },
      {
        where: "dispatch",
        act: "worker",
        isolation,
        expect: {
          kind: "error",
          reason: "throw",
          message: /^NotCapable: Worker is not available to a sandboxed policy$/,
        },
      },
      // A thread printing to fd 1 would garble the framing (invalid/bad-frame) under process.
      {
        where: "dispatch",
        act: "printing-worker",
        isolation,
        caught: true,
        expect: "none",
        log: /hostile printing-worker: caught NotCapable/,
        logCheck: (text) => assert.doesNotMatch(text, /HH from a worker thread/),
      },
    );
  }
  await runCases(cases);
  const before = cpuMs();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(cpuMs() - before < 150, `the kernel's process used ${cpuMs() - before} ms of CPU`);
});

Deno.test("process and worker: kill, exit, signal and unload listeners are NotCapable; so is process-wide state", async () => {
  const denied = (what: string) =>
    new RegExp(`^NotCapable: ${what} is not available to a sandboxed policy$`);
  const acts: [string, string][] = [
    ["kill-self", "Deno\\.kill"],
    ["kill-parent", "Deno\\.kill"],
    ["kill-node", "process\\.kill"],
    ["exit", "Deno\\.exit"],
    ["signal-listener", "Deno\\.addSignalListener"],
    // node's process.on("SIGTERM") goes through Deno.addSignalListener.
    ["node-signal-listener", "Deno\\.addSignalListener"],
    ["unload-listener", "An unload or beforeunload listener"],
  ];
  const cases: Case[] = acts.map(([act, what]) => ({
    where: "dispatch",
    act,
    expect: { kind: "error", reason: "throw", message: denied(what) },
  }));
  cases.push({
    where: "load",
    act: "kill-node-import",
    expect: {
      kind: "error",
      reason: "load",
      message:
        /^Policy module failed to load: NotCapable: process\._kill is not available to a sandboxed policy$/,
    },
  });
  // Under worker these would end the test's own process if they got through: see the CLI tests.
  cases.push(
    ...acts.filter(([act]) => !act.startsWith("kill")).map(([act, what]): Case => ({
      where: "dispatch",
      act,
      isolation: "worker",
      expect: { kind: "error", reason: "throw", message: denied(what) },
    })),
  );
  // What else is process-wide (the working directory, the environment, the umask) is denied by
  // the permissions, under worker too.
  for (const isolation of [undefined, "worker" as const]) {
    for (const act of ["chdir", "env-set", "umask"]) {
      cases.push({
        where: "dispatch",
        act,
        isolation,
        expect: { kind: "error", reason: "throw", message: HOOK_DENIED },
      });
    }
  }
  const cwd = Deno.cwd(), umask = Deno.umask();
  await runCases(cases);
  assert.deepEqual(
    [Deno.cwd(), Deno.umask(), Deno.env.get("HYPERHOOK_SET_BY_A_POLICY")],
    [cwd, umask, undefined],
  );
});

Deno.test("every isolation: a throw that cannot be described is an error, never a kernel crash", async () => {
  const cases: Case[] = [];
  for (const isolation of ["none", "worker", undefined] as const) {
    for (const act of ["throw-getters", "throw-proxy", "throw-primitive"]) {
      for (const where of ["load", "create", "dispatch"] as const) {
        const reason = { load: "load", create: "init", dispatch: "throw" }[where];
        const prefix = where === "load" ? "Policy module failed to load: " : "";
        cases.push({
          where,
          act,
          isolation,
          expect: {
            kind: "error",
            reason,
            message: new RegExp(`^${prefix.replace(/[.:]/g, "\\$&")}\\(unprintable error\\)$`),
          },
        });
      }
    }
  }
  await runCases(cases);
});

Deno.test("every isolation: a huge thrown message is cut (and says so), without its terminal escapes", async () => {
  const messages: string[] = [];
  for (const isolation of ["none", "worker", undefined] as const) {
    const [report] = await runCases([{
      where: "dispatch",
      act: "throw-huge",
      isolation,
      expect: {
        kind: "error",
        reason: "throw",
        // "Error: " and 100 000 x, past the escapes: cut after 3840 characters.
        message: /^Error: x{3833}… \[96167 more characters cut\]$/,
      },
    }]);
    messages.push(report!.incidents[0]!.message);
  }
  assert.equal(new Set(messages).size, 1, "the same message under every isolation");
});

Deno.test("process and worker: policy output is cleaned of terminal escapes and capped", async () => {
  // deno-lint-ignore no-control-regex
  const controls = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
  const cases: Case[] = [];
  for (const isolation of [undefined, "worker" as const]) {
    cases.push(
      {
        where: "dispatch",
        act: "escapes",
        isolation,
        expect: "none",
        logCheck: (text) => {
          assert.match(text, /^red 2Jdone$/m);
          assert.doesNotMatch(text, controls);
        },
      },
      {
        where: "dispatch",
        act: "flood",
        isolation,
        expect: "none",
        logCheck: (text) => {
          const notice =
            "\n[hyperhook: policy output cut: more than 65536 characters in one batch]\n";
          assert.equal(text.length, 65536 + notice.length);
          assert.ok(text.endsWith(notice), text.slice(-200));
        },
      },
      {
        where: "dispatch",
        act: "flood",
        isolation,
        expect: "none",
        sandbox: { maxLogCharsPerBatch: 1_000_000, maxLogCharsPerRun: 100_000 },
        logCheck: (text) => {
          const notice =
            "\n[hyperhook: policy output cut: more than 100000 characters in this run; " +
            "the rest is dropped]\n";
          assert.equal(text.length, 100_000 + notice.length);
          assert.ok(text.endsWith(notice), text.slice(-200));
        },
      },
    );
  }
  await runCases(cases);
});

Deno.test("process: allocating until out of memory is oom, at load and in a hook; the kernel lives on", async () => {
  const message = /^Policy process ran out of memory \(heap cap 64 MiB\)$/;
  await runCases([
    { where: "load", act: "oom", expect: { kind: "oom", reason: "heap", message } },
    // Filling the heap (the policy's, and the replay child's copy of the kernel besides) takes a
    // while on a busy machine: the deadline must not come first.
    {
      where: "dispatch",
      act: "oom",
      expect: { kind: "oom", reason: "heap", message },
      sandbox: { batchDeadlineMs: 20_000 },
    },
  ]);
  assert.equal(new Array(1 << 20).fill(1).length, 1 << 20);
});

Deno.test("process: a 100 MB result is refused by the size cap, or is a stall at the default deadline", async () => {
  await runCases([
    {
      where: "dispatch",
      act: "huge-reply",
      expect: {
        kind: "invalid",
        reason: "message-too-large",
        message: /^Policy reply is 100000032 bytes; the limit is 16777216 bytes$/,
      },
      sandbox: { batchDeadlineMs: 20_000 },
    },
    {
      where: "dispatch",
      act: "huge-reply",
      isolation: "process-rpc",
      expect: { kind: "stall", reason: "deadline" },
      sandbox: { batchDeadlineMs: 100 },
    },
  ]);
});

Deno.test("process: tampering with globals and prototypes breaks only the sandbox", async () => {
  await runCases([
    { where: "load", act: "tamper", expect: { kind: "invalid", reason: "bad-start" } },
    { where: "create", act: "tamper", expect: { kind: "invalid", reason: "bad-start" } },
    { where: "enqueue", act: "tamper", expect: { kind: "invalid", reason: "bad-frame" } },
    { where: "dispatch", act: "tamper", expect: "none" },
    {
      where: "dispatch",
      act: "tamper-sdk",
      expect: { kind: "invalid", reason: "unknown-vcpu" },
      later: true,
    },
    {
      where: "dispatch",
      act: "tamper-imul",
      expect: {
        kind: "invalid",
        reason: "diverged",
        message: /^The sandbox's copy of the kernel diverged from the kernel's/,
      },
      later: true,
    },
    { where: "dispatch", act: "tamper-imul", isolation: "process-rpc", expect: "none" },
  ]);
  assert.deepEqual(
    {
      push: Array.prototype.push,
      stringify: JSON.stringify,
      parse: JSON.parse,
      random: Math.random,
      deno: globalThis.Deno,
    },
    KERNEL_GLOBALS,
  );
  assert.equal(Object.hasOwn(Object.prototype, "tampered"), false);
});

Deno.test("worker: holds against throws, denied calls, bad decisions, huge replies, slow hooks, tampering", async () => {
  const worker = "worker" as const;
  await runCases([
    {
      where: "load",
      act: "read",
      isolation: worker,
      expect: { kind: "error", reason: "load", message: LOAD_DENIED },
    },
    {
      where: "dispatch",
      act: "throw",
      isolation: worker,
      expect: { kind: "error", reason: "throw" },
    },
    {
      where: "dispatch",
      act: "spawn",
      isolation: worker,
      expect: { kind: "error", reason: "throw", message: HOOK_DENIED },
    },
    {
      where: "dispatch",
      act: "write",
      isolation: worker,
      caught: true,
      expect: "none",
      log: /hostile write: caught NotCapable/,
    },
    {
      where: "dispatch",
      act: "unknown-vcpu",
      isolation: worker,
      expect: { kind: "invalid", reason: "unknown-vcpu" },
    },
    {
      where: "dispatch",
      act: "huge-reply",
      isolation: worker,
      expect: { kind: "invalid", reason: "message-too-large" },
      sandbox: { batchDeadlineMs: 20_000 },
    },
    // A slow hook that does return in the end: a stall, and the worker is terminated after it.
    {
      where: "dispatch",
      act: "slow",
      isolation: worker,
      expect: { kind: "stall", reason: "deadline" },
      sandbox: SHORT,
    },
    {
      where: "load",
      act: "tamper",
      isolation: worker,
      expect: { kind: "invalid", reason: "bad-start" },
    },
  ]);
  assert.equal(JSON.stringify, KERNEL_GLOBALS.stringify);
});

Deno.test("an ejected policy is restarted with back-off (--restart), each failure an incident", async () => {
  const workload = parseWorkload({
    ...WORKLOAD_SPEC,
    vms: [...WORKLOAD_SPEC.vms, { id: "long", cpu: { program: [{ run: "5s" }] } }],
  });
  const report = await simulate(workload, {
    policies: { cpu: { use: IN_HOOK, config: { act: "throw", hook: "create" } } },
    restarts: 2,
    sandbox: SANDBOX,
  });
  // Ejected at 0, restarted at 1 s and failing again, restarted at 1 + 2 s and failing again.
  assert.deepEqual(
    report.incidents.map((incident) => [incident.atNs, incident.kind, incident.reason]),
    [[0, "error", "init"], [1e9, "error", "restart-init"], [3e9, "error", "restart-init"]],
  );
  assert.deepEqual(
    new Set(report.incidents.map((incident) => incident.policy)),
    new Set([IN_HOOK]),
  );
  assert.equal(report.policies.cpu?.restarts, 2);
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null, vm.id);
  // A restarted policy that starts runs again, until its first dispatch throws again.
  const rerun = await simulate(workload, {
    policies: { cpu: { use: IN_HOOK, config: { act: "throw" } } },
    restarts: 1,
    sandbox: SANDBOX,
  });
  const [first, second, ...rest] = rerun.incidents;
  assert.deepEqual([first?.atNs, first?.reason, second?.reason, rest], [0, "throw", "throw", []]);
  assert.ok(second!.atNs >= 1e9 && second!.atNs < 1.1e9, `restarted at ${second!.atNs}`);
  assert.equal(rerun.policies.cpu?.restarts, 1);
  assert.deepEqual(sandboxProcesses(CACHE), []);
});

/**
 * Runs the CLI in a child process whose sandboxes keep their files under `cache`. `run` does not
 * type-check the policies (`--no-check`): hostile ones need not be well typed to be contained, and a
 * fresh cache would check each anew.
 */
async function cli(
  args: string[],
  cache: string,
  denoFlags: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, CLI, ...args, ...(args[0] === "run" ? ["--no-check"] : [])],
    env: { XDG_CACHE_HOME: cache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function incidentLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("hyperhook: incident"));
}

Deno.test("CLI: an ejected policy is one stderr line and exit 1; the report records its sha256 and isolation", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const path = await workloadFile(WORKLOAD_SPEC);
  const [ejected, bundled] = await Promise.all([
    cli([
      "run",
      path,
      "--cpu",
      IN_HOOK,
      "--config-cpu",
      JSON.stringify({ act: "throw" }),
      "--format",
      "json",
    ], cache),
    cli(["bundle", IN_HOOK, "--format", "json"], cache),
  ]);
  assert.equal(ejected.code, 1, ejected.stderr);
  assert.deepEqual(incidentLines(ejected.stderr), [
    "hyperhook: incident at 0ns: cpu policy hostile ejected (error/throw): RangeError: Hostile policy throws",
  ]);
  const report = JSON.parse(ejected.stdout);
  const { sha256 } = JSON.parse(bundled.stdout);
  assert.match(sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    [report.policies.cpu.isolation, report.policies.cpu.sha256, report.policies.cpu.ejected],
    ["process", sha256, true],
  );
  assert.equal(report.incidents.length, 1);
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null, vm.id);
  assert.deepEqual(sandboxProcesses(cache), []);
});

Deno.test("CLI: a policy that catches its denied read is not ejected: no incident line, exit 0", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli([
    "run",
    await workloadFile(WORKLOAD_SPEC),
    "--cpu",
    IN_HOOK,
    "--config-cpu",
    JSON.stringify({ act: "read", caught: true, file: "/etc/hostname" }),
    "--deadline",
    "2s",
  ], cache);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(incidentLines(result.stderr), []);
  // The policy's own output goes to stderr, never to stdout (the report).
  assert.match(result.stderr, /hostile read: caught NotCapable/);
  assert.doesNotMatch(result.stdout, /hostile read: caught/);
});

Deno.test("CLI: an endless loop is killed at --deadline, the run completes, no process is left", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli([
    "run",
    await workloadFile(WORKLOAD_SPEC),
    "--cpu",
    IN_HOOK,
    "--config-cpu",
    JSON.stringify({ act: "spin" }),
    "--deadline",
    "300ms",
    "--format",
    "json",
  ], cache);
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(incidentLines(result.stderr), [
    "hyperhook: incident at 0ns: cpu policy hostile ejected (stall/deadline): Policy did not finish its batch within 300 ms; the process was killed",
  ]);
  for (const vm of JSON.parse(result.stdout).vms) assert.notEqual(vm.cpu.finishNs, null);
  assert.deepEqual(sandboxProcesses(cache), []);
});

Deno.test("CLI: --heap caps the sandbox's heap; allocating past it is oom, and the run completes", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli([
    "run",
    await workloadFile(WORKLOAD_SPEC),
    "--cpu",
    IN_HOOK,
    "--config-cpu",
    JSON.stringify({ act: "oom" }),
    "--heap",
    "48",
    "--deadline",
    "20s",
    "--format",
    "json",
  ], cache);
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(incidentLines(result.stderr), [
    "hyperhook: incident at 0ns: cpu policy hostile ejected (oom/heap): Policy process ran out of memory (heap cap 48 MiB)",
  ]);
  for (const vm of JSON.parse(result.stdout).vms) assert.notEqual(vm.cpu.finishNs, null);
  assert.deepEqual(sandboxProcesses(cache), []);
});

Deno.test("CLI: a policy built for an unknown major apiVersion is refused at load, clearly", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli(
    ["run", await workloadFile(WORKLOAD_SPEC), "--cpu", FUTURE_API, "--format", "json"],
    cache,
  );
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(incidentLines(result.stderr), [
    `hyperhook: incident at 0ns: cpu policy ${FUTURE_API} ejected (invalid/api-version): ` +
    'Policy "from-the-future" was built for hook protocol v2; this kernel speaks v1',
  ]);
  const report = JSON.parse(result.stdout);
  assert.equal(report.policies.cpu.isolation, "process");
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null);
});

Deno.test("CLI, worker cannot stop an endless loop: the run completes only because the CLI exits", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli([
    "run",
    await workloadFile(WORKLOAD_SPEC),
    "--cpu",
    IN_HOOK,
    "--config-cpu",
    JSON.stringify({ act: "spin" }),
    "--isolation",
    "worker",
    "--deadline",
    "300ms",
    "--format",
    "json",
  ], cache);
  // What worker does guarantee: the stall is reported, the fallback finishes the run, exit 1.
  assert.equal(result.code, 1, result.stderr);
  assert.match(incidentLines(result.stderr)[0]!, /\(stall\/deadline\).*the worker was terminated$/);
  for (const vm of JSON.parse(result.stdout).vms) assert.notEqual(vm.cpu.finishNs, null);
});

Deno.test("CLI, worker: a policy cannot kill the kernel's process (its pid is the kernel's)", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const path = await workloadFile(WORKLOAD_SPEC);
  const inHook = (act: string) =>
    cli([
      "run",
      path,
      "--cpu",
      IN_HOOK,
      "--config-cpu",
      JSON.stringify({ act }),
      "--isolation",
      "worker",
      "--format",
      "json",
    ], cache);
  const atLoad = await loadTimePolicy(cache, "kill-node-import", {});
  const [deno, node, imported] = await Promise.all([
    inHook("kill-self"),
    inHook("kill-node"),
    cli(["run", path, "--cpu", atLoad, "--isolation", "worker", "--format", "json"], cache),
  ]);
  const denied = (what: string) => `NotCapable: ${what} is not available to a sandboxed policy`;
  assert.deepEqual(
    [deno, node, imported].map((result) => [result.code, incidentLines(result.stderr)]),
    [
      [1, [
        `hyperhook: incident at 0ns: cpu policy hostile ejected (error/throw): ${
          denied("Deno.kill")
        }`,
      ]],
      [1, [
        `hyperhook: incident at 0ns: cpu policy hostile ejected (error/throw): ${
          denied("process.kill")
        }`,
      ]],
      [1, [
        `hyperhook: incident at 0ns: cpu policy ${atLoad} ejected (error/load): ` +
        `Policy module failed to load: ${denied("process._kill")}`,
      ]],
    ],
  );
  for (const result of [deno, node, imported]) {
    for (const vm of JSON.parse(result.stdout).vms) assert.notEqual(vm.cpu.finishNs, null);
  }
});

Deno.test("CLI, worker cannot hold memory exhaustion: the whole run aborts, with no report", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const result = await cli(
    [
      "run",
      await workloadFile(WORKLOAD_SPEC),
      "--cpu",
      IN_HOOK,
      "--config-cpu",
      JSON.stringify({ act: "oom" }),
      "--isolation",
      "worker",
      "--deadline",
      "60s",
      "--format",
      "json",
    ],
    cache,
    ["--v8-flags=--max-old-space-size=128"],
  );
  assert.ok(![0, 1, 2].includes(result.code), `exit ${result.code}`);
  assert.match(result.stderr, /out of memory/i);
  assert.equal(result.stdout, "");
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(CACHE, { recursive: true });
  } catch {
    // Already gone.
  }
});
