// Prints page references simulated per second for the memory bench's variants (median of runs),
// by wall-clock and by CPU time: `deno run -A bench/memory_refs.ts [runs]`. The CPU time is the
// process's, all its threads (the kernel's, and those hashing the log and drawing references);
// a child process sandbox's is not counted.
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

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;

for (const [name, options] of variants) {
  const wall: number[] = [], cpu: number[] = [];
  let refs = 0, faults = 0;
  for (let i = 0; i < runs; i++) {
    const simulation = await memorySimulation(options);
    const started = performance.now(), used = process.cpuUsage();
    await simulation.run();
    const ms = performance.now() - started, spent = process.cpuUsage(used);
    const report = simulation.report();
    await simulation.close();
    refs = report.vms.reduce((sum, vm) => sum + vm.memory.refs, 0);
    faults = report.host.memory.faults;
    wall.push(refs / ms / 1e3);
    cpu.push(refs / ((spent.user + spent.system) / 1e3) / 1e3);
  }
  console.log(
    `${name.padEnd(34)} ${median(wall).toFixed(2)} M refs/s wall, ${
      median(cpu).toFixed(2)
    } M refs/s CPU (all threads) · ${refs} refs, ${faults} faults`,
  );
}
