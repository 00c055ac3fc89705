// Prints scheduling decisions per second and how the cost per decision grows with the vCPU count.
// A decision is a dispatch the kernel applied (a vCPU put on a pCPU). By default, median of 5
// runs of 60 simulated seconds per size (about 700,000 decisions each), after a warm-up round:
// runs of a few tens of ms measured the JIT and the garbage collector more than the kernel. The
// sizes take turns, round after round, so that a machine whose speed drifts over the bench's
// minutes (a shared VM) slows them alike, and the growth between sizes holds.
// `cpu ns` is the CPU time of the process (all its threads) per decision over the same runs: on a
// machine shared with other work it moves far less than the wall time, so an A/B reads it first.
// Run: `deno run -A bench/cpu_scale.ts [seconds] [sizes] [rounds]`, for instance
// `bench/cpu_scale.ts 30 128,1024,4096 3` for a quicker look (an A/B of two checkouts: alternate
// such runs between them; the machine's speed drifts too much for one run of each to tell).
import { scaleSimulation } from "./_scale.ts";

const seconds = Number(Deno.args[0] ?? 60);
const sizes = (Deno.args[1] ?? "128,256,512,1024,2048,4096").split(",").map(Number);
const rounds = Number(Deno.args[2] ?? 5);
if (
  !(seconds > 0) || !(rounds >= 1) || sizes.some((n) => !Number.isInteger(n) || n < 2 || n % 2)
) {
  console.error(
    `cpu_scale.ts: expected [seconds > 0] [even vCPU counts of at least 2, comma-separated] ` +
      `[rounds >= 1], got ${JSON.stringify(Deno.args.join(" "))}`,
  );
  Deno.exit(2);
}

// The process's CPU time (user and system, all threads) in µs: Node's `process.cpuUsage`, a global
// of Deno 2 (the runs load the Node compatibility layer anyway, to hash their long logs).
const process = (globalThis as unknown as {
  process: { cpuUsage(): { user: number; system: number } };
}).process;
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const samples = sizes.map(() => [] as number[]), decisions = sizes.map(() => 0);
const cpuSamples = sizes.map(() => [] as number[]);
for (let round = -1; round < rounds; round++) {
  for (const [k, vcpus] of sizes.entries()) {
    const simulation = await scaleSimulation(vcpus, { seconds });
    const cpuStart = cpuMicros(), start = performance.now();
    await simulation.run();
    const ms = performance.now() - start, cpuMs = (cpuMicros() - cpuStart) / 1000;
    decisions[k] = simulation.cpuFigures().vms.reduce((sum, vm) => sum + vm.dispatches, 0);
    await simulation.close();
    if (round >= 0) samples[k]!.push(ms), cpuSamples[k]!.push(cpuMs);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
const rows = sizes.map((vcpus, k) => {
  const ms = median(samples[k]!);
  return {
    vcpus,
    decisions: decisions[k]!,
    perSecond: decisions[k]! / (ms / 1000),
    nsPerDecision: ms * 1e6 / decisions[k]!,
    cpuNsPerDecision: median(cpuSamples[k]!) * 1e6 / decisions[k]!,
  };
});
console.log("vcpus  decisions  decisions/s  ns/decision  growth/doubling  cpu ns  cpu growth");
rows.forEach((row, i) => {
  const before = rows[i - 1];
  const growth = before === undefined ? "" : (row.nsPerDecision / before.nsPerDecision).toFixed(2);
  const cpuGrowth = before === undefined
    ? ""
    : (row.cpuNsPerDecision / before.cpuNsPerDecision).toFixed(2);
  console.log(
    `${String(row.vcpus).padStart(5)}  ${String(row.decisions).padStart(9)}  ${
      (row.perSecond / 1e6).toFixed(2).padStart(9)
    } M  ${row.nsPerDecision.toFixed(0).padStart(11)}  ${growth.padStart(15)}  ${
      row.cpuNsPerDecision.toFixed(0).padStart(6)
    }  ${cpuGrowth.padStart(10)}`,
  );
});
