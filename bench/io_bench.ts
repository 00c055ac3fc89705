/**
 * I/O domain throughput: disk requests simulated per second of wall time, with the `hdd` model
 * (HP C2247A) and the `deadline` policy in-process: 16 VMs, each a closed-loop random generator
 * keeping 4 requests of 4 KiB outstanding (70 % reads), 20,000 requests in all.
 *
 * `deno bench -A bench/io_bench.ts` times one whole run (requests per second = 20,000 / time);
 * `deno run -A bench/io_bench.ts [policy] [requests]` prints requests per second directly, as the
 * median of 5 runs.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { createSimulation, type Simulation } from "../core/simulation/mod.ts";
import { parseWorkload } from "../core/workload/load.ts";
import { IO_VMS, ioWorkload } from "./_workloads.ts";

/** Builds the bench simulation: `requests` in all, spread over 16 VMs. */
export function ioSimulation(policy: string, requests: number): Promise<Simulation> {
  return createSimulation(parseWorkload(ioWorkload(policy, requests)));
}

for (const policy of ["deadline", "fcfs", "bfq"]) {
  Deno.bench(
    `${policy}, hdd, 16 VMs, 20,000 requests`,
    { group: "io", baseline: policy === "deadline" },
    async (b) => {
      const simulation = await ioSimulation(policy, 20_000);
      b.start();
      await simulation.run();
      b.end();
      await simulation.close();
    },
  );
}

if (import.meta.main) {
  const policy = Deno.args[0] ?? "deadline";
  const requests = Number(Deno.args[1] ?? 400_000);
  // Wall time, and the process's CPU time (less sensitive to other work on a busy machine).
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const simulation = await ioSimulation(policy, requests);
    const start = performance.now(), used = cpuUsage();
    await simulation.run();
    const seconds = (performance.now() - start) / 1000;
    const { user, system } = cpuUsage(used);
    const report = simulation.report();
    await simulation.close();
    const done = report.vms.reduce((sum, vm) => sum + vm.io.completed, 0);
    wall.push(done / seconds);
    cpu.push(done / ((user + system) / 1e6));
  }
  const median = (rates: number[]) =>
    Math.round(rates.sort((a, b) => a - b)[2]!).toLocaleString("en");
  console.log(
    `${policy}: ${median(wall)} requests/s wall, ${median(cpu)} per CPU second (median of 5, ${
      requests.toLocaleString("en")
    } requests, hdd, ${IO_VMS} VMs)`,
  );
}
