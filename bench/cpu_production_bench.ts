// The production CPU policies on the scale workload (64 pCPUs, 1024 vCPUs, half CPU-bound, half
// interactive, 1 s simulated), in-process and in a sandboxed child process: what timers, ticks
// and per-pCPU queues cost against rr.
import { scaleSimulation } from "./_scale.ts";

for (const policy of ["rr", "credit", "credit2", "fair", "rtds"]) {
  for (const isolation of ["none", "process"] as const) {
    Deno.bench(
      `${policy}, 64 pCPUs, 1024 vCPUs, 1 s simulated, isolation ${isolation}`,
      { group: `cpu-production-${isolation}`, baseline: policy === "rr" },
      async (b) => {
        const simulation = await scaleSimulation(1024, { policy, isolation });
        b.start();
        await simulation.run();
        b.end();
        await simulation.close();
      },
    );
  }
}
