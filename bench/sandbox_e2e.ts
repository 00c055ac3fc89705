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
 * Run: `deno run -A bench/sandbox_e2e.ts [--seconds 3] [--rounds 3] [--policies credit,fair,...]
 * [--isolations none,process,process-rpc] [--deadline 1s]` (the batch deadline of the runs: on a
 * machine busy with other work, the default 100 ms can stall a policy in either sandbox).
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    policies: { type: "string", default: "credit,fair,credit2,rtds,eevdf,lottery" },
    isolations: { type: "string", default: "none,process,process-rpc" },
    deadline: { type: "string", default: "1s" },
  },
});
const seconds = Number(values.seconds), rounds = Number(values.rounds);
if (!(seconds > 0) || !(Number.isInteger(rounds) && rounds > 0)) {
  console.error(
    `sandbox_e2e: expected --seconds > 0 and --rounds a positive integer, got ${values.seconds} and ${values.rounds}`,
  );
  Deno.exit(2);
}
const isolations = values.isolations!.split(",");
const ROOT = new URL("../", import.meta.url).pathname;
const EXAMPLES: Record<string, string> = {
  eevdf: `${ROOT}examples/policies/eevdf.ts`,
  lottery: `${ROOT}examples/policies/lottery.ts`,
};

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

/** CPU time of this process's finished children (user + system), in ms. */
function childrenCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** One whole run: wall and CPU time, and the run's eventsHash. */
async function run(policy: string, isolation: string): Promise<
  { wallMs: number; cpuMs: number; hash: string }
> {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "sim",
      workload,
      "--cpu",
      EXAMPLES[policy] ?? policy,
      "--isolation",
      isolation,
      "--deadline",
      values.deadline!,
      "--format",
      "json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - started;
  if (!output.success) {
    throw new Error(`${policy} under ${isolation}: ${new TextDecoder().decode(output.stderr)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  if (report.incidents.length > 0) {
    throw new Error(`${policy} under ${isolation}: ${JSON.stringify(report.incidents)}`);
  }
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore, hash: report.eventsHash };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `${seconds} s simulated, 64 pCPUs, 512 VMs x 2 vCPUs; ${rounds} rounds; load average ${load()}`,
);
const header = ["policy", ...isolations.map((isolation) => `${isolation} s (cpu s)`)];
for (const isolation of isolations.slice(1)) header.push(`${isolation}/${isolations[0]}`);
console.log(header.join("\t"));
for (const policy of values.policies!.split(",")) {
  const samples = new Map(isolations.map((isolation) => [isolation, [] as number[]]));
  const cpu = new Map(isolations.map((isolation) => [isolation, [] as number[]]));
  const ratios = new Map(isolations.map((isolation) => [isolation, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const order = isolations.map((_, i) => isolations[(i + round) % isolations.length]!);
    const walls = new Map<string, number>();
    let hash: string | undefined;
    for (const isolation of order) {
      const result = await run(policy, isolation);
      hash ??= result.hash;
      if (result.hash !== hash) throw new Error(`${policy}: ${isolation} made other decisions`);
      walls.set(isolation, result.wallMs);
      samples.get(isolation)!.push(result.wallMs);
      cpu.get(isolation)!.push(result.cpuMs);
    }
    for (const isolation of isolations) {
      ratios.get(isolation)!.push(walls.get(isolation)! / walls.get(isolations[0]!)!);
    }
  }
  const row = [policy];
  for (const isolation of isolations) {
    row.push(
      `${(median(samples.get(isolation)!) / 1000).toFixed(2)} (${
        (median(cpu.get(isolation)!) / 1000).toFixed(2)
      })`,
    );
  }
  for (const isolation of isolations.slice(1)) {
    row.push(`${median(ratios.get(isolation)!).toFixed(2)}x`);
  }
  console.log(row.join("\t"));
}
console.log(`load average ${load()}`);
await Deno.remove(workload);
