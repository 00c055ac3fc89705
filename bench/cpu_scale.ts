// Prints scheduling decisions per second and how the cost per decision grows with the vCPU count.
// A decision is a dispatch the kernel applied (a vCPU put on a pCPU). Median of 5 runs of 60
// simulated seconds per size (about 700,000 decisions each), after a warm-up run: runs of a few
// tens of ms measured the JIT and the garbage collector more than the kernel.
// Run: `deno run -A bench/cpu_scale.ts [seconds]`
import { scaleSimulation } from "./_scale.ts";

const seconds = Number(Deno.args[0] ?? 60);

const sizes = [128, 256, 512, 1024, 2048, 4096];
const rows: { vcpus: number; decisions: number; perSecond: number; nsPerDecision: number }[] = [];
for (const vcpus of sizes) {
  const samples: number[] = [];
  let decisions = 0;
  for (let i = -1; i < 5; i++) {
    const simulation = await scaleSimulation(vcpus, { seconds });
    const start = performance.now();
    await simulation.run();
    const ms = performance.now() - start;
    decisions = simulation.cpu.vcpus.reduce((sum, vcpu) => sum + vcpu.dispatches, 0);
    await simulation.close();
    if (i >= 0) samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const ms = samples[2]!;
  rows.push({
    vcpus,
    decisions,
    perSecond: decisions / (ms / 1000),
    nsPerDecision: ms * 1e6 / decisions,
  });
}
console.log("vcpus  decisions  decisions/s  ns/decision  growth/doubling");
rows.forEach((row, i) => {
  const growth = i === 0 ? "" : (row.nsPerDecision / rows[i - 1]!.nsPerDecision).toFixed(2);
  console.log(
    `${String(row.vcpus).padStart(5)}  ${String(row.decisions).padStart(9)}  ${
      (row.perSecond / 1e6).toFixed(2).padStart(9)
    } M  ${row.nsPerDecision.toFixed(0).padStart(11)}  ${growth.padStart(15)}`,
  );
});
