// Prints scheduling decisions per second and how the cost per decision grows with the vCPU count.
// A decision is a dispatch the kernel applied (a vCPU put on a pCPU). Median of 5 runs per size.
import { scaleSimulation } from "./_scale.ts";

const sizes = [128, 256, 512, 1024, 2048, 4096];
const rows: { vcpus: number; decisions: number; perSecond: number; nsPerDecision: number }[] = [];
for (const vcpus of sizes) {
  const samples: number[] = [];
  let decisions = 0;
  for (let i = 0; i < 5; i++) {
    const simulation = await scaleSimulation(vcpus, { seconds: 10 });
    const start = performance.now();
    await simulation.run();
    const ms = performance.now() - start;
    decisions = simulation.cpu.vcpus.reduce((sum, vcpu) => sum + vcpu.dispatches, 0);
    samples.push(ms);
    await simulation.close();
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
