// Page references simulated per second: `lru` on 16 VMs with zipf references over 1 GiB each,
// a 4 GiB host (see _memory.ts). `deno task bench` times 16 M references per variant;
// `deno run -A bench/memory_refs.ts` prints references per second (wall and CPU time).
import { type MemoryBenchOptions, memorySimulation } from "./_memory.ts";

const variants: [string, MemoryBenchOptions][] = [
  ["lru in-process, a victim query per fault", {}],
  ["lru in-process, batched reclaim (low watermark 512)", { lowWatermark: 512 }],
  ["lru in-process, 100 µs fault stalls (the CPU domain at work)", { faultCost: "100us" }],
  ["fifo in-process (no reference tracking)", { policy: "fifo" }],
];

for (const [name, options] of variants) {
  Deno.bench(`${name}: 16 M refs`, { group: "memory", n: 3, warmup: 1 }, async (b) => {
    const simulation = await memorySimulation(options);
    b.start();
    await simulation.run();
    b.end();
    await simulation.close();
  });
}

Deno.bench("lru in a process sandbox, batched reclaim: 4 M refs", {
  group: "memory-sandbox",
  n: 3,
  warmup: 1,
}, async (b) => {
  const simulation = await memorySimulation({
    isolation: "process",
    lowWatermark: 512,
    refsPerVm: 250_000,
  });
  b.start();
  await simulation.run();
  b.end();
  await simulation.close();
});
