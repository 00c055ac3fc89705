/**
 * The sandbox's cost as a user measures it: whole `deno task sim <workload> --cpu P --isolation I
 * --format json` processes, timed from spawn to exit, on 64 pCPUs and 512 two-vCPU VMs (half
 * `cpu-bound`, half `interactive` 1 ms / 10 ms). For each policy (the built-ins credit, fair,
 * credit2 and rtds, forced into the sandbox, and the example policies eevdf and lottery) it
 * prints the median wall time under `none`, `process` (a copy of the kernel beside the policy,
 * replayed) and `process-rpc` (a round trip per batch), and the medians of the rounds' ratios to
 * `none`. The isolations take turns within each round, in a rotating order, so that a machine
 * that speeds up or slows down (other work on it) affects them alike; the CPU time of the whole
 * process tree is printed too, as it is less sensitive to a busy machine than wall time.
 *
 * Every run's eventsHash must agree across isolations (the bench stops otherwise).
 *
 * With `--baseline DIR` (another checkout of hyperhook, say `git worktree add /tmp/base main`),
 * every isolation runs from that checkout too, as `<isolation>@base`, in the same rotation: an A/B
 * comparison of two versions on a machine whose load changes, with every ratio to this
 * checkout's first isolation. The ratios of CPU time (the medians of the rounds' ratios) are
 * printed beside those of wall time.
 *
 * Run: `deno run -A bench/sandbox_e2e.ts [--seconds 3] [--rounds 3] [--policies credit,fair,...]
 * [--isolations none,process,process-rpc] [--deadline 1s] [--baseline DIR]` (the batch deadline
 * of the runs: on a machine busy with other work, the default 100 ms can stall a policy in either
 * sandbox).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { childrenCpuMs, median } from "./_measure.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    policies: { type: "string", default: "credit,fair,credit2,rtds,eevdf,lottery" },
    isolations: { type: "string", default: "none,process,process-rpc" },
    deadline: { type: "string", default: "1s" },
    baseline: { type: "string" },
  },
});
const seconds = Number(values.seconds), rounds = Number(values.rounds);
if (!(seconds > 0) || !(Number.isInteger(rounds) && rounds > 0)) {
  console.error(
    `sandbox_e2e: expected --seconds > 0 and --rounds a positive integer, got ${values.seconds} and ${values.rounds}`,
  );
  Deno.exit(2);
}
const ROOT = new URL("../", import.meta.url).pathname;
const BASELINE = values.baseline === undefined
  ? undefined
  : new URL(`${values.baseline.replace(/\/$/, "")}/`, `file://${Deno.cwd()}/`).pathname;
/** What runs: each isolation from this checkout, and from the baseline's as `<isolation>@base`. */
const variants = values.isolations!.split(",").flatMap((isolation) =>
  BASELINE === undefined ? [isolation] : [isolation, `${isolation}@base`]
);
const EXAMPLES = ["eevdf", "lottery"];

const workload = await Deno.makeTempFile({ prefix: "hyperhook-e2e-", suffix: ".json" });
await Deno.writeTextFile(
  workload,
  JSON.stringify({
    schema: "hyperhook.workload/v1",
    name: "sandbox-e2e",
    seed: 1,
    host: { pcpus: 64 },
    stopAt: `${seconds}s`,
    vms: Array.from({ length: 512 }, (_, i) => ({
      id: `vm-${i}`,
      vcpus: 2,
      cpu: i % 2 === 0
        ? { pattern: "cpu-bound" }
        : { pattern: "interactive", run: "1ms", sleep: "10ms" },
    })),
  }),
);

/** One whole run of a variant (`isolation` or `isolation@base`): wall and CPU time, eventsHash. */
async function run(policy: string, variant: string): Promise<
  { wallMs: number; cpuMs: number; hash: string }
> {
  const [isolation, base] = variant.split("@");
  const root = base === undefined ? ROOT : BASELINE!;
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "sim",
      workload,
      "--cpu",
      EXAMPLES.includes(policy) ? `${root}examples/policies/${policy}.ts` : policy,
      "--isolation",
      isolation!,
      "--deadline",
      values.deadline!,
      "--format",
      "json",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - started;
  if (!output.success) {
    throw new Error(`${policy} under ${variant}: ${new TextDecoder().decode(output.stderr)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  if (report.incidents.length > 0) {
    throw new Error(`${policy} under ${variant}: ${JSON.stringify(report.incidents)}`);
  }
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore, hash: report.eventsHash };
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `${seconds} s simulated, 64 pCPUs, 512 VMs x 2 vCPUs; ${rounds} rounds; load average ${load()}`,
);
const first = variants[0]!;
const header = ["policy", ...variants.map((variant) => `${variant} s (cpu s)`)];
for (const variant of variants.slice(1)) header.push(`${variant}/${first} (cpu)`);
console.log(header.join("\t"));
for (const policy of values.policies!.split(",")) {
  const walls = new Map(variants.map((variant) => [variant, [] as number[]]));
  const cpus = new Map(variants.map((variant) => [variant, [] as number[]]));
  const wallRatios = new Map(variants.map((variant) => [variant, [] as number[]]));
  const cpuRatios = new Map(variants.map((variant) => [variant, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    const results = new Map<string, { wallMs: number; cpuMs: number }>();
    let hash: string | undefined;
    for (const variant of order) {
      const result = await run(policy, variant);
      hash ??= result.hash;
      if (result.hash !== hash) throw new Error(`${policy}: ${variant} made other decisions`);
      results.set(variant, result);
      walls.get(variant)!.push(result.wallMs);
      cpus.get(variant)!.push(result.cpuMs);
    }
    const baseline = results.get(first)!;
    for (const variant of variants) {
      const result = results.get(variant)!;
      wallRatios.get(variant)!.push(result.wallMs / baseline.wallMs);
      cpuRatios.get(variant)!.push(result.cpuMs / baseline.cpuMs);
    }
  }
  const row = [policy];
  for (const variant of variants) {
    const wall = (median(walls.get(variant)!) / 1000).toFixed(2);
    row.push(`${wall} (${(median(cpus.get(variant)!) / 1000).toFixed(2)})`);
  }
  for (const variant of variants.slice(1)) {
    const wall = median(wallRatios.get(variant)!).toFixed(2);
    row.push(`${wall}x (${median(cpuRatios.get(variant)!).toFixed(2)}x)`);
  }
  console.log(row.join("\t"));
}
console.log(`load average ${load()}`);
await Deno.remove(workload);
