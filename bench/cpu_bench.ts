// Scheduling decisions per second: 64 pCPUs, 128..4096 vCPUs (half cpu-bound, half interactive), rr.
// `deno task bench` times one simulated second per size; `deno run -A bench/cpu_scale.ts` prints
// decisions per second and the growth per doubling.
import { scaleSimulation } from "./_scale.ts";

for (const vcpus of [128, 1024, 4096]) {
  Deno.bench(`rr, 64 pCPUs, ${vcpus} vCPUs, 1 s simulated`, { group: "cpu-scale" }, async (b) => {
    const simulation = await scaleSimulation(vcpus);
    b.start();
    await simulation.run();
    b.end();
    await simulation.close();
  });
}
