// After a fault's answer the memory domain goes on in the same instant through `Kernel.again`:
// at once when no other event of the instant is left, else through a step event. Going on at
// once must be exactly what the event would have done: the same run, hash and figures, with the
// event forced every time.
import assert from "node:assert/strict";
import { MemoryDomain } from "../../core/memory/domain.ts";
import { createSimulation } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";

function workload(memory: Record<string, unknown>, vm: Record<string, unknown>) {
  return parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "again",
    seed: 3,
    stopAt: "200ms",
    host: { pcpus: 2, memory: { frames: 600, ...memory } },
    policies: { memory: { use: "lru" }, cpu: { use: "rr", config: { quantum: "1ms" } } },
    vms: Array.from({ length: 4 }, (_, i) => ({
      id: `vm-${i}`,
      ...(i % 2 === 0 ? {} : { cpu: { pattern: "interactive", run: "2ms", sleep: "1ms" } }),
      memory: { pattern: "zipf", pages: 800, count: 20_000, rate: 1_000_000, writes: 0.2, ...vm },
    })),
  });
}

async function run(spec: ReturnType<typeof workload>, forceEvent: boolean) {
  const again = MemoryDomain.prototype.again;
  let direct = 0;
  MemoryDomain.prototype.again = function (this: MemoryDomain, now: boolean) {
    if (now && !forceEvent) direct++;
    again.call(this, forceEvent ? false : now);
  };
  try {
    const simulation = await createSimulation(spec);
    await simulation.run();
    const report = simulation.report();
    await simulation.close();
    return { report, direct };
  } finally {
    MemoryDomain.prototype.again = again;
  }
}

const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ["a victim per fault, free faults", {}, {}],
  ["a victim per fault, 50 µs stalls", { faultCost: "50us", writebackCost: "20us" }, {}],
  ["batched reclaim and stalls", { faultCost: "1us", lowWatermark: 8 }, {}],
  ["references due on slice boundaries", { faultCost: "1ms" }, { rate: 1_000 }],
];

for (const [name, memory, vm] of cases) {
  Deno.test(`going on after a fault without an event is the event's run: ${name}`, async () => {
    const spec = workload(memory, vm);
    const viaEvent = await run(spec, true), direct = await run(spec, false);
    assert.ok(direct.report.host.memory.faults > 100, "the run faults");
    assert.equal(direct.report.eventsHash, viaEvent.report.eventsHash);
    assert.deepEqual(direct.report.vms, viaEvent.report.vms);
    assert.deepEqual(direct.report.host, viaEvent.report.host);
  });
}

Deno.test("a fault's answer mostly goes on without an event", async () => {
  const { report, direct } = await run(workload({}, {}), false);
  assert.ok(direct > report.host.memory.faults / 4, `${direct} of ${report.host.memory.faults}`);
});
