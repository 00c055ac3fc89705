/**
 * The `process` sandbox in replay mode (`core/sandbox/replay.ts`): the child runs a copy of the
 * kernel beside the policy and streams its answers; the kernel replays and checks them.
 *
 * - A failure keeps its instant: a policy that throws, spins or runs out of memory at its
 *   N-th dispatch is ejected at the same simulated time, with the same `eventsHash`, as in the
 *   per-batch sandbox (`process-rpc`) and, for throws, in-process and in a worker.
 * - Tampering with the child's copy of the kernel (the fingerprint's mixer, the event queue's
 *   arrays) ends in an incident, never in a decision the kernel would not take from a policy.
 * - Sandboxed policies of three domains share one child; a failure that ends it ends them all.
 * - Restarts run in the child while it lives, in a sandbox of their own once it is gone.
 * - Trace files reach the child (it reads no file), `--isolation process-rpc` selects the per-batch
 *   mode, and no process is left behind.
 */

import assert from "node:assert/strict";
import type { Report } from "../../core/report/report.ts";
import type { SandboxOptions } from "../../core/sandbox/options.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { ProcessRuntime } from "../../core/sandbox/process.ts";
import { prelaunch, ReplayRuntime } from "../../core/sandbox/replay.ts";
import { internals } from "../../core/simulation/internals.ts";
import { createSimulation, simulate, type SimulateOptions } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import type { Workload } from "../../core/workload/schema.ts";
import { runCli, workloadFile } from "../_helpers.ts";

const IN_HOOK = new URL("../fixtures/hostile/in_hook.ts", import.meta.url).pathname;
/** Every child of this file keeps its files here: the mark of its command line. */
const CACHE = await Deno.makeTempDir({ prefix: "hyperhook-replay-" });
const SANDBOX: SandboxOptions = {
  cacheDir: CACHE,
  heapMiB: 64,
  initDeadlineMs: 10_000,
  batchDeadlineMs: 2_000,
  log: () => {},
};

const CPU_WORKLOAD = parseWorkload({
  schema: "hyperhook.workload/v1",
  name: "replay",
  host: { pcpus: 2 },
  vms: [
    { id: "a", cpu: { program: [{ run: "3ms" }, { sleep: "2ms" }], repeat: 20 } },
    { id: "b", cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 20 } },
    { id: "c", cpu: { program: [{ run: "7ms" }, { sleep: "4ms" }], repeat: 10 } },
  ],
});

/** A workload of all three domains: CPU, memory (LRU) and a disk (FCFS). */
const THREE_DOMAINS = parseWorkload({
  schema: "hyperhook.workload/v1",
  name: "three-domains",
  host: {
    pcpus: 2,
    memory: { frames: 64 },
    disks: [{ id: "d0", model: "linear", cylinders: 200, head: 53 }],
  },
  stopAt: "400ms",
  vms: [
    {
      id: "db",
      cpu: { pattern: "interactive", run: "2ms", sleep: "3ms" },
      memory: { pattern: "zipf", pages: 256, rate: 200_000 },
      io: { generate: { disk: "d0", rate: 400 } },
    },
    {
      id: "batch",
      cpu: { pattern: "cpu-bound" },
      memory: { pattern: "scan", pages: 512, rate: 100_000 },
      io: { generate: { disk: "d0", rate: 200 } },
    },
  ],
});

/** Processes whose command line names this file's cache, and zombie children of this process. */
function children(): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (cmdline.includes(CACHE) || (state === "Z" && Number(ppid) === Deno.pid)) {
        found.push(`${entry.name} ${state} ${cmdline}`);
      }
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** What must agree between isolations: the incidents (without messages) and the hash. */
function outcome(report: Report): unknown {
  return {
    incidents: report.incidents.map(({ atNs, domain, kind, reason }) => ({
      atNs,
      domain,
      kind,
      reason,
    })),
    eventsHash: report.eventsHash,
  };
}

/** Runs the hostile round robin doing `act` at its `at`-th dispatch. */
function hostile(
  act: string,
  at: number,
  isolation: Isolation,
  options: SimulateOptions = {},
  workload: Workload = CPU_WORKLOAD,
): Promise<Report> {
  return simulate(workload, {
    policies: { cpu: { use: IN_HOOK, config: { act, at, hook: "dispatch" } } },
    isolation,
    ...options,
    sandbox: { ...SANDBOX, ...options.sandbox },
  });
}

Deno.test("replay: a throw at the N-th dispatch is ejected at the same instant, same eventsHash, under every isolation", async () => {
  for (const at of [1, 7, 40]) {
    const [none, ...others] = await Promise.all(
      (["none", "worker", "process", "process-rpc"] as const).map((isolation) =>
        hostile("throw", at, isolation)
      ),
    );
    assert.equal(none!.incidents.length, 1);
    assert.equal(none!.incidents[0]!.reason, "throw");
    if (at > 1) assert.ok(none!.incidents[0]!.atNs > 0, `throw at dispatch ${at}`);
    for (const [index, report] of others.entries()) {
      assert.deepEqual(outcome(report), outcome(none!), `at ${at}, isolation ${index}`);
    }
  }
  assert.deepEqual(children(), []);
});

Deno.test("replay: exiting, spinning or exhausting the heap at the N-th dispatch keeps its instant and kind", async () => {
  const cases: [string, SandboxOptions, string][] = [
    // Taken away from the policy before it loads, in either sandbox: a throw.
    ["exit", {}, "error/throw"],
    ["spin", { batchDeadlineMs: 300 }, "stall/deadline"],
    // Filling the heap takes a while on a loaded machine: the deadline must not come first.
    ["oom", { batchDeadlineMs: 20_000 }, "oom/heap"],
  ];
  for (const [act, sandbox, expected] of cases) {
    const [replayed, perBatch] = await Promise.all([
      hostile(act, 9, "process", { sandbox }),
      hostile(act, 9, "process-rpc", { sandbox }),
    ]);
    const [incident] = replayed.incidents;
    assert.equal(`${incident?.kind}/${incident?.reason}`, expected, act);
    assert.ok(incident!.atNs > 0, `${act} at ${incident!.atNs}`);
    assert.deepEqual(outcome(replayed), outcome(perBatch), act);
    for (const vm of replayed.vms) assert.notEqual(vm.cpu.finishNs, null, `${act}: ${vm.id}`);
  }
  assert.deepEqual(children(), []);
});

Deno.test("replay: tampering with the copy of the kernel in the child ends in an incident, never in a bad decision", async () => {
  const honest = await hostile("", 1, "none");
  // The fingerprint's mixer answers 0 from the 5th dispatch on: the next batch does not fit.
  const imul = await hostile("tamper-imul", 5, "process");
  assert.deepEqual(
    imul.incidents.map(({ kind, reason }) => `${kind}/${reason}`),
    ["invalid/diverged"],
  );
  assert.match(imul.incidents[0]!.message, /^The sandbox's copy of the kernel diverged/);
  // The event queue's and the batches' arrays scribbled over: the copy drifts, fails or hangs.
  const queue = await hostile("tamper-queue", 3, "process", { sandbox: { batchDeadlineMs: 500 } });
  if (queue.incidents.length === 0) {
    assert.equal(queue.eventsHash, honest.eventsHash);
  } else {
    assert.equal(queue.incidents.length, 1, JSON.stringify(queue.incidents));
    assert.ok(
      ["invalid/diverged", "crash/kernel", "stall/kernel", "stall/deadline", "invalid/bad-frame"]
        .includes(`${queue.incidents[0]!.kind}/${queue.incidents[0]!.reason}`),
      JSON.stringify(queue.incidents),
    );
  }
  // The SDK bundled with the policy hands out a vCPU that does not exist: an invalid decision,
  // as in the per-batch sandbox.
  const [sdk, sdkPerBatch] = await Promise.all([
    hostile("tamper-sdk", 4, "process"),
    hostile("tamper-sdk", 4, "process-rpc"),
  ]);
  assert.equal(`${sdk.incidents[0]?.kind}/${sdk.incidents[0]?.reason}`, "invalid/unknown-vcpu");
  assert.deepEqual(outcome(sdk), outcome(sdkPerBatch));
  // In every case the fallback finished the run and this process's own functions are intact.
  for (const report of [imul, queue, sdk]) {
    for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null, vm.id);
  }
  assert.equal(Math.imul(3, 5), 15);
  assert.deepEqual(new Float64Array([1, 2]).subarray(1), new Float64Array([2]));
  assert.deepEqual(children(), []);
});

Deno.test("replay: the policies of three domains share one child and answer as in-process", async () => {
  const options = { isolation: "process" as const, sandbox: SANDBOX };
  const simulation = await createSimulation(THREE_DOMAINS, options);
  try {
    assert.equal(children().length, 1, children().join("\n"));
    assert.deepEqual(
      Object.values(simulation.requested).map((policy) => policy!.isolation),
      ["process", "process", "process"],
    );
    await simulation.run();
    const report = simulation.report();
    const none = await simulate(THREE_DOMAINS, { isolation: "none" });
    assert.deepEqual(report.incidents, []);
    assert.ok(report.host.memory.faults > 0 && report.host.disks[0]!.requests > 0);
    assert.equal(report.eventsHash, none.eventsHash);
  } finally {
    await simulation.close();
  }
  // Only the memory policy sandboxed (not built in), between two built-ins run in-process.
  const workingSet = new URL("../../examples/policies/working_set.ts", import.meta.url).pathname;
  const [mixed, mixedNone] = await Promise.all([
    simulate(THREE_DOMAINS, { policies: { memory: { use: workingSet } }, sandbox: SANDBOX }),
    simulate(THREE_DOMAINS, { policies: { memory: { use: workingSet } }, isolation: "none" }),
  ]);
  assert.deepEqual(
    [mixed.policies.cpu?.isolation, mixed.policies.memory?.isolation, mixed.policies.io?.isolation],
    ["none", "process", "none"],
  );
  assert.deepEqual(mixed.incidents, []);
  assert.equal(mixed.eventsHash, mixedNone.eventsHash);
  assert.deepEqual(children(), []);
});

Deno.test("replay: a policy whose failure ends the shared child takes the others' sandbox with it", async () => {
  const run = (isolation: Isolation) =>
    simulate(THREE_DOMAINS, {
      policies: { cpu: { use: IN_HOOK, config: { act: "spin", at: 30, hook: "dispatch" } } },
      isolation,
      sandbox: { ...SANDBOX, batchDeadlineMs: 1_000 },
    });
  const [replayed, perBatch] = await Promise.all([run("process"), run("process-rpc")]);
  const stall = replayed.incidents[0]!;
  assert.deepEqual(
    [stall.domain, stall.kind, stall.reason, stall.atNs],
    ["cpu", "stall", "deadline", perBatch.incidents[0]!.atNs],
  );
  // Per batch, the memory and I/O policies have processes of their own and go on.
  assert.equal(perBatch.incidents.length, 1, JSON.stringify(perBatch.incidents));
  const others = replayed.incidents.slice(1);
  assert.deepEqual(
    others.map(({ domain, kind, reason }) => [domain, kind, reason]).sort(),
    [["io", "crash", "shared-child"], ["memory", "crash", "shared-child"]],
  );
  for (const incident of others) {
    assert.ok(incident.atNs >= stall.atNs);
    assert.match(incident.message, /shared with the cpu policy ended \(stall\/deadline\)/);
  }
  assert.deepEqual(children(), []);
});

Deno.test("replay: restarts run in the child while it lives, in a sandbox of their own once it is gone", async () => {
  const long = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "restarts",
    host: { pcpus: 2 },
    vms: [
      { id: "a", cpu: { program: [{ run: "3ms" }, { sleep: "2ms" }], repeat: 800 } },
      { id: "b", cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 600 } },
    ],
  });
  // Filling the heap takes a while on a loaded machine: the OOM's deadline must not come first.
  const cases = [["throw", {}], ["oom", { batchDeadlineMs: 20_000 }], ["spin", {
    batchDeadlineMs: 300,
  }]];
  for (const [act, sandbox] of cases) {
    const options = { restarts: 2, sandbox: sandbox as SandboxOptions };
    const [replayed, perBatch] = await Promise.all([
      hostile(act as string, 5, "process", options, long),
      hostile(act as string, 5, "process-rpc", options, long),
    ]);
    // Ejected, restarted at +1 s and ejected at its 5th dispatch again, then at +2 s once more.
    assert.equal(replayed.incidents.length, 3, `${act}: ${JSON.stringify(replayed.incidents)}`);
    assert.equal(replayed.policies.cpu?.restarts, 2);
    assert.deepEqual(outcome(replayed), outcome(perBatch), act as string);
  }
  // Right after the first restart: the policy answers from the child if the child lived on.
  for (const [act, runtime] of [["throw", ReplayRuntime], ["spin", ProcessRuntime]] as const) {
    const simulation = await createSimulation(long, {
      policies: { cpu: { use: IN_HOOK, config: { act, at: 5, hook: "dispatch" } } },
      isolation: "process",
      restarts: 1,
      sandbox: { ...SANDBOX, batchDeadlineMs: 300 },
    });
    try {
      await simulation.run(1_015_000_000);
      const { kernel } = internals(simulation);
      assert.equal(kernel.incidents.length, 1);
      assert.equal(kernel.restarts.get("cpu"), 1);
      assert.ok(kernel.domains[0]!.slot.runtime instanceof runtime, act);
    } finally {
      await simulation.close();
    }
  }
  assert.deepEqual(children(), []);
});

Deno.test("replay: the child reads no file: the trace files the kernel read are sent to it", async () => {
  const dir = await Deno.makeTempDir({ dir: CACHE });
  const trace = `${dir}/cpu-trace`;
  await Deno.writeTextFile(trace, "20\n80\n45\n5\n100\n60\n");
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "traced",
    host: { pcpus: 2 },
    stopAt: "50ms",
    vms: [0, 1, 2].map((i) => ({
      id: `pl${i}`,
      cpu: {
        trace: { format: "planetlab", path: trace, interval: "10ms", period: "5ms" },
        arrive: `${i}ms`,
      },
    })),
  });
  const [replayed, none] = await Promise.all([
    simulate(workload, { isolation: "process", sandbox: SANDBOX }),
    simulate(workload, { isolation: "none" }),
  ]);
  assert.deepEqual(replayed.incidents, []);
  assert.equal(replayed.eventsHash, none.eventsHash);
  assert.ok(replayed.vms[0]!.cpu.runNs > 0);
});

Deno.test("replay: a copy of the simulation larger than the first guess gets a larger heap, not an incident", async () => {
  // A 10 MB trace (sent to the child as the kernel reads it, after the child started) and a
  // policy heap of 8 MiB: the copy does not fit the heap the child was launched with.
  const dir = await Deno.makeTempDir({ dir: CACHE });
  const trace = `${dir}/long-trace`;
  await Deno.writeTextFile(trace, "37\n64\n5\n".repeat(1_200_000));
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "large",
    host: { pcpus: 2 },
    stopAt: "20ms",
    vms: [{
      id: "traced",
      cpu: { trace: { format: "planetlab", path: trace, interval: "1ms", period: "1ms" } },
    }, { id: "b", cpu: { pattern: "cpu-bound" } }],
  });
  const [replayed, none] = await Promise.all([
    simulate(workload, {
      policies: { cpu: { use: "credit" } },
      isolation: "process",
      sandbox: { ...SANDBOX, heapMiB: 8 },
    }),
    simulate(workload, { policies: { cpu: { use: "credit" } }, isolation: "none" }),
  ]);
  assert.deepEqual(replayed.incidents, []);
  assert.equal(replayed.eventsHash, none.eventsHash);
  assert.deepEqual(children(), []);
});

Deno.test("replay: a kernel killed while its policy spins takes the child with it", async () => {
  const cache = await Deno.makeTempDir({ dir: CACHE });
  const kernel = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../fixtures/replay/orphan_kernel.ts", import.meta.url).pathname,
      cache,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = kernel.stdout.getReader();
  const sandboxes = () => children().filter((line) => line.includes(`${cache}/sandbox/kernel-`));
  try {
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /spinning/);
    // The policy spins in the child: it has answered nothing, the kernel waits for it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sandboxes().length, 1, children().join("\n"));
  } finally {
    kernel.kill("SIGKILL");
    await kernel.status;
    await reader.cancel();
  }
  const until = Date.now() + 5_000;
  while (sandboxes().length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(sandboxes(), []);
});

Deno.test("replay: a run that cannot start leaves no sandbox behind", async () => {
  // The child is launched as the policy loads; the workload then turns out unreadable.
  const missing = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "missing-trace",
    host: { pcpus: 1 },
    stopAt: "10ms",
    vms: [{
      id: "a",
      cpu: { trace: { format: "planetlab", path: `${CACHE}/no-such-trace` } },
    }],
  });
  await assert.rejects(
    () => simulate(missing, { policies: { cpu: { use: IN_HOOK } }, sandbox: SANDBOX }),
    /no-such-trace/,
  );
  // A policy that refuses its configuration stops the run (exit 2 in the CLI).
  await assert.rejects(
    () =>
      simulate(CPU_WORKLOAD, {
        policies: { cpu: { use: IN_HOOK, config: { at: 0 } } },
        sandbox: SANDBOX,
      }),
    /at/,
  );
  assert.deepEqual(children(), []);
});

Deno.test("replay: a child launched ahead of the run is the run's, and goes when no run takes it", async () => {
  const policies = { cpu: { use: "rr" } };
  const inProcess = await simulate(CPU_WORKLOAD, { isolation: "none", policies });
  // Taken: the run's session launches no child of its own, and its decisions are the same.
  const early = prelaunch(SANDBOX);
  const simulation = await createSimulation(CPU_WORKLOAD, {
    isolation: "process",
    sandbox: SANDBOX,
    policies,
  });
  let report: Report;
  try {
    const running = children();
    assert.equal(running.length, 1, running.join("\n"));
    await simulation.run();
    report = simulation.report();
  } finally {
    await simulation.close();
  }
  assert.equal(report.eventsHash, inProcess.eventsHash);
  await early[Symbol.asyncDispose]();
  assert.deepEqual(children(), []);
  // Not taken: no run, or a run that needs another heap cap.
  await prelaunch(SANDBOX)[Symbol.asyncDispose]();
  assert.deepEqual(children(), []);
  const other = prelaunch({ ...SANDBOX, heapMiB: 128 });
  const replayed = await simulate(CPU_WORKLOAD, {
    isolation: "process",
    sandbox: SANDBOX,
    policies,
  });
  await other[Symbol.asyncDispose]();
  assert.equal(replayed.eventsHash, inProcess.eventsHash);
  assert.deepEqual(children(), []);
});

Deno.test("replay: a damaged kernel file in the cache is caught before the child is sent its run, and written again", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "hyperhook-replay-damaged-" });
  const kernel = new URL("../fixtures/replay/damaged_kernel.ts", import.meta.url).pathname;
  const runKernel = async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", kernel, cacheDir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    return JSON.parse(new TextDecoder().decode(output.stdout));
  };
  try {
    const first = await runKernel();
    assert.equal(first.incidents, 0);
    const files = [...Deno.readDirSync(`${cacheDir}/sandbox`)].filter((entry) =>
      /^kernel-[0-9a-f]{16}\.js$/.test(entry.name)
    );
    assert.equal(files.length, 1);
    const path = `${cacheDir}/sandbox/${files[0]!.name}`;
    const intact = Deno.readFileSync(path);
    // The same size (the launcher spawns the child on the manifest's word and a stat), other code.
    const damaged = new Uint8Array(intact.length).fill(0x20);
    damaged.set(new TextEncoder().encode('throw new Error("damaged");'));
    Deno.writeFileSync(path, damaged);
    assert.deepEqual(await runKernel(), first);
    assert.deepEqual(Deno.readFileSync(path), intact);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("CLI: a run or a comparison that sandboxes its policies and fails before it starts leaves no child", async () => {
  const { runCommand } = await import("../../core/commands/run.ts");
  const { compareCommand } = await import("../../core/commands/compare.ts");
  const missing = `${CACHE}/no-such-workload.json`;
  // This process's children: earlier tests leave esbuild's service running, so only the ones the
  // failed run adds count. The one launched ahead of the run named the default cache, not this
  // file's.
  const mine = () =>
    [...Deno.readDirSync("/proc")].filter((entry) => {
      try {
        const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === Deno.pid;
      } catch {
        return false;
      }
    }).map((entry) => entry.name);
  const before = new Set(mine());
  await assert.rejects(() => runCommand([missing, "--isolation", "process"]), /no-such-workload/);
  await assert.rejects(
    () => compareCommand([missing, "--cpu", "rr,credit", "--isolation", "process"]),
    /no-such-workload/,
  );
  const added = mine().filter((pid) => !before.has(pid));
  assert.deepEqual(
    added.map((pid) => Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ")),
    [],
  );
});

Deno.test("CLI: --isolation process-rpc selects the per-batch sandbox; process replays, with the same decisions", async () => {
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "cli",
    host: { pcpus: 2 },
    stopAt: "200ms",
    vms: [{ id: "a", vcpus: 2, cpu: { pattern: "cpu-bound" } }, {
      id: "b",
      cpu: { pattern: "interactive", run: "1ms", sleep: "4ms" },
    }],
  });
  const runs = await Promise.all(
    ["process", "process-rpc"].map((isolation) =>
      runCli(["run", path, "--cpu", "credit", "--isolation", isolation, "--format", "json"])
    ),
  );
  const [replayed, perBatch] = runs.map((run) => {
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Report;
  });
  assert.equal(replayed!.policies.cpu?.isolation, "process");
  assert.equal(perBatch!.policies.cpu?.isolation, "process-rpc");
  assert.equal(replayed!.eventsHash, perBatch!.eventsHash);
  const bad = await runCli(["run", path, "--isolation", "processes"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /--isolation: expected one of none, worker, process, process-rpc, got processes/,
  );
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(CACHE, { recursive: true });
  } catch {
    // Already gone.
  }
});
