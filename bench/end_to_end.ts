// Whole processes, timed as a user times them: `deno task sim <workload> … --format json`, spawned
// and waited for, wall clock from spawn to exit. The workloads take turns round after round (and
// so do the checkouts, for an A/B), so that a shared machine whose speed drifts slows them alike.
// Each run sets HYPERHOOK_PHASES=1; a checkout that prints the phase line (imports, parse, build,
// run, report) gets their medians in the table, and what is left of the wall time is `outside`
// (the runtime's start, `deno task` itself, and the exit). `cpu` is the median CPU time (user and
// system, all threads, the process and its children): on a busy machine it moves less than the
// wall time.
//
// Run: `deno task bench-e2e [--rounds N] [--only scale,demo,...] [--root DIR]...`. With two roots
// (two checkouts) it prints, per workload, the ratio of their medians and the median of the
// rounds' ratios (second / first), and checks that both print the same eventsHash.
//
// The workloads: `floor` (`deno run` of an empty script) and `task-floor` (the same through
// `deno task`): what no change to hyperhook can remove; `textbook` (fcfs_textbook.json);
// `demo` (demo.json, --cpu rr); `scale` (issue #17's: 64 pCPUs, 1024 one-vCPU VMs, explicit
// programs; 773,120 rr decisions); `memory` (memory_refs.ts's headline: lru, low watermark 512,
// 16 M references) and `io` (io_bench.ts's: deadline, 400,000 requests).
import { parseArgs } from "node:util";
import { ioWorkload, memoryWorkload, scaleWorkload } from "./_workloads.ts";
import { childrenCpuMs, median } from "./_measure.ts";

const FLAGS = [
  "--max-inlined-bytecode-size=1000",
  "--max-inlined-bytecode-size-cumulative=4000",
  "--no-lazy-feedback-allocation",
].join(",");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    only: { type: "string" },
    root: { type: "string", multiple: true },
  },
  strict: true,
});
const rounds = Number(values.rounds);
const roots = (values.root ?? [new URL("..", import.meta.url).pathname]).map((root) =>
  root.replace(/\/$/, "")
);
if (!(Number.isInteger(rounds) && rounds >= 1) || roots.length > 2) {
  console.error(
    `end_to_end.ts: expected --rounds N (N >= 1) and at most two --root, got ${
      Deno.args.join(" ")
    }`,
  );
  Deno.exit(2);
}

const dir = await Deno.makeTempDir({ prefix: "hyperhook-e2e-" });
const write = async (name: string, json: unknown) => {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, JSON.stringify(json, null, 1));
  return path;
};
const empty = `${dir}/empty.js`;
await Deno.writeTextFile(empty, "\n");
const taskConfig = await write("deno.json", {
  tasks: { empty: `deno run -A --v8-flags=${FLAGS} ${empty}` },
});

interface Workload {
  name: string;
  /** The command and its arguments, run in the checkout. */
  command: string[];
}
const sim = (
  file: string,
  ...args: string[]
) => ["deno", "task", "-q", "sim", file, ...args, "--format", "json"];
const WORKLOADS: Workload[] = [
  { name: "floor", command: ["deno", "run", "-A", `--v8-flags=${FLAGS}`, empty] },
  { name: "task-floor", command: ["deno", "task", "-q", "--config", taskConfig, "empty"] },
  { name: "textbook", command: sim("examples/workloads/fcfs_textbook.json") },
  { name: "demo", command: sim("examples/workloads/demo.json", "--cpu", "rr") },
  { name: "scale", command: sim(await write("scale.json", scaleWorkload()), "--cpu", "rr") },
  {
    name: "memory",
    command: sim(await write("memory_refs.json", memoryWorkload({ lowWatermark: 512 }))),
  },
  { name: "io", command: sim(await write("io_bench.json", ioWorkload("deadline", 400_000))) },
];
const only = values.only?.split(",");
const chosen = WORKLOADS.filter((workload) => only === undefined || only.includes(workload.name));
if (only !== undefined && chosen.length !== only.length) {
  console.error(
    `end_to_end.ts: --only: expected names among ${WORKLOADS.map((w) => w.name).join(", ")}, ` +
      `got ${values.only}`,
  );
  Deno.exit(2);
}

interface Sample {
  ms: number;
  /** CPU time of the process and its children (user + system), NaN where it cannot be read. */
  cpuMs: number;
  phases: Map<string, number>;
  hash: string;
}
const samples = chosen.map(() => roots.map(() => [] as Sample[]));

async function once(argv: string[], cwd: string): Promise<Sample> {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const output = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    env: { HYPERHOOK_PHASES: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const cpuMs = childrenCpuMs() - cpuBefore;
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(`${argv.join(" ")} exited with ${output.code}: ${stderr.trim()}`);
  }
  const phases = new Map<string, number>();
  const line = /^hyperhook phases: (.*)$/m.exec(stderr)?.[1];
  for (const part of line?.split(", ") ?? []) {
    const [name, value] = part.split(" ");
    phases.set(name!, Number(value));
  }
  const stdout = new TextDecoder().decode(output.stdout);
  const hash = stdout.length > 0 ? (JSON.parse(stdout).eventsHash as string) : "";
  return { ms, cpuMs, phases, hash };
}

for (let round = 0; round < rounds; round++) {
  for (const [w, workload] of chosen.entries()) {
    // Checkouts take turns in both orders: ABAB... would give one of them the warmer start.
    const order = round % 2 === 0 ? roots.map((_, r) => r) : roots.map((_, r) => r).reverse();
    for (const r of order) samples[w]![r]!.push(await once(workload.command, roots[r]!));
  }
  console.error(`round ${round + 1}/${rounds} done`);
}
await Deno.remove(dir, { recursive: true });

const fixed = (ms: number) => ms.toFixed(0).padStart(6);

console.log(
  `rounds: ${rounds}; roots: ${roots.map((root, r) => `${"AB"[r]} = ${root}`).join(", ")}`,
);
console.log(
  `${"workload".padEnd(10)} root    min median    max    cpu  phases (medians, ms)`,
);
for (const [w, workload] of chosen.entries()) {
  for (const [r] of roots.entries()) {
    const runs = samples[w]![r]!;
    const ms = runs.map((sample) => sample.ms);
    const names = [...new Set(runs.flatMap((sample) => [...sample.phases.keys()]))];
    const phases = names.map((name) => {
      const spent = median(runs.map((sample) => sample.phases.get(name) ?? 0));
      return `${name} ${spent.toFixed(spent < 10 ? 1 : 0)}`;
    });
    if (names.length > 0) {
      const inside = median(
        runs.map((sample) => [...sample.phases.values()].reduce((a, b) => a + b)),
      );
      phases.push(`outside ${(median(ms) - inside).toFixed(0)}`);
    }
    console.log(
      `${workload.name.padEnd(10)} ${"AB"[r]!.padStart(4)} ${fixed(Math.min(...ms))} ${
        fixed(median(ms))
      } ${fixed(Math.max(...ms))} ${fixed(median(runs.map((sample) => sample.cpuMs)))}  ${
        phases.join(", ")
      }`,
    );
  }
  if (roots.length === 2) {
    const [a, b] = samples[w]!;
    const ratios = a!.map((sample, i) => b![i]!.ms / sample.ms);
    const hashes = new Set([...a!, ...b!].map((sample) => sample.hash));
    console.log(
      `${"".padEnd(10)} B/A: ${
        (median(b!.map((s) => s.ms)) / median(a!.map((s) => s.ms))).toFixed(2)
      }` +
        ` (median of the rounds' ratios ${median(ratios).toFixed(2)})` +
        (hashes.size > 1 ? `; eventsHash differs: ${[...hashes].join(" ")}` : ""),
    );
  }
}
