// Prints page references simulated per second for the memory bench's variants (median of runs),
// by wall-clock and by CPU time: `deno run -A bench/memory_refs.ts [runs]`. The CPU time is the
// process's, all its threads (the kernel's, and any helper thread); a child process sandbox's is
// not counted. `deno task bench-e2e --only memory` times the headline variant as a whole process.
import process from "node:process";
import { type MemoryBenchOptions, memorySimulation } from "./_memory.ts";

const runs = Number(Deno.args[0] ?? 3);
const variants: [string, MemoryBenchOptions][] = [
  ["lru, none, victim per fault", {}],
  ["lru, none, low watermark 512", { lowWatermark: 512 }],
  ["lru, none, 100 µs fault stalls", { faultCost: "100us" }],
  ["fifo, none", { policy: "fifo" }],
  ["lru, worker, low watermark 512", { isolation: "worker", lowWatermark: 512 }],
  ["lru, process, low watermark 512", { isolation: "process", lowWatermark: 512 }],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

// The variants take turns, round after round, so that a machine whose speed drifts over the
// minutes a bench takes (a shared VM) slows them alike, and the ratios between them hold.
const wall = variants.map(() => [] as number[]), cpu = variants.map(() => [] as number[]);
const counts = variants.map(() => ({ refs: 0, faults: 0 }));
for (let round = 0; round < runs; round++) {
  for (const [v, [, options]] of variants.entries()) {
    const simulation = await memorySimulation(options);
    const started = performance.now(), used = process.cpuUsage();
    await simulation.run();
    const ms = performance.now() - started, spent = process.cpuUsage(used);
    const report = simulation.report();
    await simulation.close();
    const refs = report.vms.reduce((sum, vm) => sum + vm.memory.refs, 0);
    counts[v] = { refs, faults: report.host.memory.faults };
    wall[v]!.push(refs / ms / 1e3);
    cpu[v]!.push(refs / ((spent.user + spent.system) / 1e3) / 1e3);
  }
}
for (const [v, [name]] of variants.entries()) {
  console.log(
    `${name.padEnd(34)} ${median(wall[v]!).toFixed(2)} M refs/s wall, ${
      median(cpu[v]!).toFixed(2)
    } M refs/s CPU (all threads) · ${counts[v]!.refs} refs, ${counts[v]!.faults} faults`,
  );
}
// Sandboxed against in-process, batched reclaim: the median of the rounds' ratios.
const none = variants.findIndex(([name]) => name === "lru, none, low watermark 512");
for (const isolation of ["worker", "process"]) {
  const v = variants.findIndex(([name]) => name === `lru, ${isolation}, low watermark 512`);
  const ratios = wall[none]!.map((value, round) => value / wall[v]![round]!);
  console.log(
    `lru, ${isolation} / none, low watermark 512: ${median(ratios).toFixed(2)}× the wall time`,
  );
}
