// Valid decisions may not stretch a short run into hours (issue 14, finding 7): a minimum slice, a
// minimum timer distance and a minimum tick period (`host.cpu`), and a minimum balance period for
// memory policies (`host.memory.minBalance`). A tick or balance period below its minimum is refused
// at start; a slice or timer below its minimum draws on an allowance of SHORT_ALLOWANCE that
// refills by one per minimum, so an occasional remainder passes and a habit is `invalid`. In each
// case the fallback takes over and the run ends at once.
import assert from "node:assert/strict";
import { SHORT_ALLOWANCE } from "../../core/cpu/domain.ts";
import { PolicyFailure } from "../../core/protocol/runtime.ts";
import { createSimulation, simulate } from "../../core/simulation/mod.ts";
import { loadPolicy } from "../../core/simulation/loader.ts";
import { parseWorkload, WorkloadError } from "../../core/workload/load.ts";
import { HOST_CPU_DEFAULTS } from "../../core/workload/schema.ts";
import { internals } from "../../core/simulation/internals.ts";

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;

/** One pCPU, one CPU-bound VM, for `stopAt`; `host` adds to the host. */
function workload(stopAt: string, host: Record<string, unknown> = {}) {
  return parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "bounds",
    host: { pcpus: 1, ...host },
    stopAt,
    vms: [{ id: "a", cpu: { pattern: "cpu-bound" } }],
  });
}

async function run(
  stopAt: string,
  use: string,
  options: { config?: Record<string, unknown>; isolation?: "none" | "process"; host?: object } = {},
) {
  return await simulate(workload(stopAt, options.host as Record<string, unknown>), {
    policies: { cpu: { use: fixture(use), config: options.config } },
    isolation: options.isolation ?? "none",
  });
}

Deno.test("the default bounds: slices and timers 10 µs, ticks and balance periods 100 µs", () => {
  assert.deepEqual(HOST_CPU_DEFAULTS, { minSlice: 10_000, minTimer: 10_000, minTick: 100_000 });
  assert.equal(SHORT_ALLOWANCE, 8);
  const parsed = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "bounds",
    host: { pcpus: 1, cpu: { minSlice: "50us" }, memory: { frames: 4 } },
    vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
  });
  assert.deepEqual(parsed.host.cpu, { minSlice: 50_000, minTimer: 10_000, minTick: 100_000 });
  assert.equal(parsed.host.memory!.minBalance, 100_000);
  assert.throws(
    () => workload("1s", { cpu: { minSlice: "20ms" } }),
    (error: Error) =>
      error instanceof WorkloadError &&
      /host\.cpu\.minSlice: expected a duration of at most "1ms"/.test(error.message),
  );
});

for (const isolation of ["none", "process"] as const) {
  Deno.test(`1 ns slices (${isolation}): the ninth in a row is invalid, slice-too-short; rr takes over`, async () => {
    const report = await run("1s", "cpu/tiny_slices.ts", { isolation });
    // Eight 1 ns slices from the allowance, at 0, 1, ..., 7 ns; the ninth, at 8 ns, is refused.
    assert.deepEqual(report.incidents, [{
      atNs: 8,
      domain: "cpu",
      policy: "tiny-slices",
      kind: "invalid",
      reason: "slice-too-short",
      message:
        "Invalid decision: dispatch of vCPU 0 on pCPU 0 with slice 1 ns: below the minimum slice of 10000 ns (host.cpu.minSlice), and the allowance of 8 shorter slices on this pCPU is spent",
    }]);
    assert.equal(report.simulatedNs, 1_000_000_000);
    assert.equal(report.vms[0]!.cpu.runNs, 1_000_000_000);
    // rr's 10 ms slices from 8 ns on: 100 dispatches, not a billion.
    assert.ok(report.vms[0]!.cpu.switches <= 1, `${report.vms[0]!.cpu.switches}`);
  });
}

Deno.test("an occasional short slice passes; a slice of exactly the minimum is not short", async () => {
  // One 1 ns slice in ten dispatches, the others 1 ms: a remainder now and then, as RTDS gives.
  const now_and_then = await run("100ms", "cpu/tiny_slices.ts", { config: { every: 10 } });
  assert.deepEqual(now_and_then.incidents, []);
  const exact = await run("100ms", "cpu/tiny_slices.ts", { config: { sliceNs: 10_000 } });
  assert.deepEqual(exact.incidents, []);
  // The allowance refills by one per minimum: a 1 ns slice after every 1 ms one never runs out
  // while the minimum is 1 ms, and does at 1 ms and 1 ns.
  const steady = await run("100ms", "cpu/tiny_slices.ts", {
    config: { every: 2 },
    host: { cpu: { minSlice: "1ms" } },
  });
  assert.deepEqual(steady.incidents, []);
});

for (const isolation of ["none", "process"] as const) {
  Deno.test(`a timer 1 ns ahead forever (${isolation}): invalid, timer-too-soon; rr takes over`, async () => {
    const report = await run("1s", "cpu/near_timer.ts", { isolation });
    assert.deepEqual(report.incidents, [{
      atNs: 8,
      domain: "cpu",
      policy: "near-timer",
      kind: "invalid",
      reason: "timer-too-soon",
      message:
        "Invalid decision: timer at 9 ns, 1 ns from now (8 ns): below the minimum timer distance of 10000 ns (host.cpu.minTimer), and the allowance of 8 nearer timers is spent",
    }]);
    assert.equal(report.vms[0]!.cpu.runNs, 1_000_000_000);
  });
}

Deno.test("tickNs 1: refused at start as invalid, tick-too-short; a swap to it is refused", async () => {
  const report = await run("1s", "cpu/fast_tick.ts");
  assert.equal(report.incidents.length, 1);
  assert.deepEqual(
    [report.incidents[0]!.atNs, report.incidents[0]!.kind, report.incidents[0]!.reason],
    [0, "invalid", "tick-too-short"],
  );
  assert.equal(
    report.incidents[0]!.message,
    "Invalid decision: tickNs 1: below the minimum tick period of 100000 ns (host.cpu.minTick)",
  );
  assert.equal(report.vms[0]!.cpu.runNs, 1_000_000_000);
  // Swapped in live, it never takes over: the policy in charge keeps running.
  const simulation = await createSimulation(workload("1s"), { policies: { cpu: { use: "rr" } } });
  try {
    await simulation.run(1_000_000);
    const loaded = await loadPolicy("cpu", fixture("cpu/fast_tick.ts"), { isolation: "none" });
    await assert.rejects(
      internals(simulation).kernel.swap("cpu", loaded),
      (error: Error) =>
        error instanceof PolicyFailure && error.kind === "invalid" &&
        error.reason === "tick-too-short",
    );
    assert.equal(internals(simulation).cpu.slot.info.name, "rr");
    await simulation.run();
    assert.deepEqual(simulation.report().incidents, []);
  } finally {
    await simulation.close();
  }
});

Deno.test("the bounds are the host's: lower ones let the same policies through", async () => {
  const slices = await run("20us", "cpu/tiny_slices.ts", { host: { cpu: { minSlice: "1ns" } } });
  assert.deepEqual(slices.incidents, []);
  const none = await run("20us", "cpu/tiny_slices.ts", { host: { cpu: { minSlice: "0ns" } } });
  assert.deepEqual(none.incidents, []);
  const timers = await run("20us", "cpu/near_timer.ts", { host: { cpu: { minTimer: "0ns" } } });
  assert.deepEqual(timers.incidents, []);
  const ticks = await run("20us", "cpu/fast_tick.ts", { host: { cpu: { minTick: "1ns" } } });
  assert.deepEqual(ticks.incidents, []);
});

Deno.test("balanceNs 1: refused at start as invalid, balance-too-short; fifo takes over", async () => {
  const spec = (stopAt: string, minBalance?: string) =>
    parseWorkload({
      schema: "hyperhook.workload/v1",
      name: "balance",
      host: { pcpus: 1, memory: { frames: 4, ...(minBalance ? { minBalance } : {}) } },
      stopAt,
      vms: [{ id: "a", cpu: { pattern: "cpu-bound" }, memory: { refs: [1, 2, 3, 4, 5, 1, 2] } }],
    });
  const policies = { memory: { use: fixture("memory/fast_balance.ts") } };
  const report = await simulate(spec("1s"), { policies, isolation: "none" });
  assert.deepEqual(
    report.incidents.map(({ atNs, domain, kind, reason, message }) => ({
      atNs,
      domain,
      kind,
      reason,
      message,
    })),
    [{
      atNs: 0,
      domain: "memory",
      kind: "invalid",
      reason: "balance-too-short",
      message:
        "Invalid decision: balanceNs 1: below the minimum balance period of 100000 ns (host.memory.minBalance)",
    }],
  );
  assert.equal(report.policies.memory?.ejected, true);
  const allowed = await simulate(spec("20us", "1ns"), { policies, isolation: "none" });
  assert.deepEqual(allowed.incidents, []);
});
