// What `--trace` costs on issue #17's scale workload (64 pCPUs, 1024 one-vCPU VMs, 30 rounds of a
// 200–300 ms run and a 1–9 ms sleep; `_workloads.ts`), under rr, two ways, plain and traced taking
// turns round after round (a shared machine drifts), median of each and the ratio:
//
// - `run`: in one process, building the simulation, running it and (traced) writing the trace
//   file, as `--trace` does: what tracing adds to the run itself;
// - `process`: whole `deno task sim W --cpu rr --format json [--trace FILE]` processes, spawned and
//   waited for, as a user times them.
//
// Beside the wall time, the CPU time (Linux): of the main thread for `run`
// (/proc/thread-self/schedstat), of the process and its threads for `process`; on a shared machine
// it moves less than the wall time.
//
// Run: `deno run -A bench/trace_cost.ts [rounds] [--only run|process] [--vms N] [--base DIR]`;
// give `run` the V8 flags `deno task sim` runs with (`--v8-flags=...` as in deno.json's `sim`
// task) to time the traced run as the command runs it: the trace's writers gain from the larger
// inlining budget. `--base DIR` (another checkout, e.g. a `git archive` of main) times its
// processes too, in the same rounds, plain and traced taking turns with this checkout's: its own
// ratio beside this one's, and this checkout's plain time over its (what tracing off costs).
import { parseArgs } from "node:util";
import { createSimulation } from "../core/simulation/mod.ts";
import { parseWorkload } from "../core/workload/load.ts";
import { TraceFile } from "../core/observe/trace.ts";
import { scaleWorkload } from "./_workloads.ts";
import { childrenCpuMs, median } from "./_measure.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    vms: { type: "string", default: "1024" },
    base: { type: "string" },
  },
  allowPositionals: true,
  strict: true,
});
const rounds = Number(positionals[0] ?? 5);
const vms = Number(values.vms);
const only = values.only;
if (
  !(Number.isInteger(rounds) && rounds >= 1) || !(Number.isInteger(vms) && vms >= 1) ||
  (only !== undefined && only !== "run" && only !== "process")
) {
  console.error(
    `trace_cost.ts: expected [rounds >= 1] [--only run|process] [--vms N >= 1], got ${
      JSON.stringify(Deno.args.join(" "))
    }`,
  );
  Deno.exit(2);
}

const json = scaleWorkload({ vms });
const dir = await Deno.makeTempDir({ prefix: "hyperhook-trace-cost-" });
const workloadPath = `${dir}/scale.json`;
await Deno.writeTextFile(workloadPath, JSON.stringify(json, null, 1));
const tracePath = `${dir}/trace.json`;
const root = new URL("..", import.meta.url).pathname;
const base = values.base;

interface Sample {
  ms: number;
  cpuMs: number;
  bytes: number;
  cut: boolean;
}

/** The main thread's time on a CPU so far, in ms (NaN where it cannot be read). */
function threadCpuMs(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/thread-self/schedstat").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** One in-process run; its ms and (traced) the trace's size and whether the cap cut it. */
async function inProcess(tracing: boolean): Promise<Sample> {
  const workload = parseWorkload(json);
  const cpu = threadCpuMs();
  const start = performance.now();
  // As `--trace` does: the events go to the file as the run goes.
  const trace = tracing ? new TraceFile({ path: tracePath }) : undefined;
  const simulation = await createSimulation(workload, {
    observe: trace === undefined ? undefined : (simulation) => void trace.watch(simulation),
  });
  await simulation.run();
  simulation.report();
  await simulation.close();
  const cut = trace === undefined ? false : (await trace.write(tracePath)) !== undefined;
  const ms = performance.now() - start, cpuMs = threadCpuMs() - cpu;
  const bytes = trace === undefined ? 0 : (await Deno.stat(tracePath)).size;
  return { ms, cpuMs, bytes, cut };
}

/** One whole process (of the checkout at `cwd`); its wall ms. */
async function spawned(tracing: boolean, cwd = root): Promise<Sample> {
  const args = ["task", "-q", "sim", workloadPath, "--cpu", "rr", "--format", "json"];
  if (tracing) args.push("--trace", tracePath);
  const cpu = childrenCpuMs();
  const start = performance.now();
  const output = await new Deno.Command("deno", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  const ms = performance.now() - start, cpuMs = childrenCpuMs() - cpu;
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`deno ${args.join(" ")}: exit ${output.code}: ${stderr}`);
  const bytes = tracing ? (await Deno.stat(tracePath)).size : 0;
  return { ms, cpuMs, bytes, cut: stderr.includes("size cap") };
}

const load = () => Deno.loadavg().map((value) => value.toFixed(2)).join(" ");
console.log(
  `scale workload: ${vms} one-vCPU VMs on 64 pCPUs, rr; ${rounds} rounds; load ${load()}`,
);
for (const [name, once] of [["run", inProcess], ["process", spawned]] as const) {
  if (only !== undefined && only !== name) continue;
  // With a base, the processes are timed with the base's, below.
  if (name === "process" && base !== undefined) continue;
  const plain: number[] = [], traced: number[] = [], ratios: number[] = [];
  const plainCpu: number[] = [], tracedCpu: number[] = [];
  let bytes = 0, cut = false;
  // Round -1 warms up (the first process compiles, the first run in a process JITs).
  for (let round = -1; round < rounds; round++) {
    // Both orders, so that neither side always runs on the warmer machine.
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const ms: Record<string, number> = {}, cpuMs: Record<string, number> = {};
    for (const tracing of order) {
      const result = await once(tracing);
      ms[String(tracing)] = result.ms;
      cpuMs[String(tracing)] = result.cpuMs;
      if (tracing) bytes = result.bytes, cut = result.cut;
    }
    if (round < 0) continue;
    plain.push(ms["false"]!);
    traced.push(ms["true"]!);
    ratios.push(ms["true"]! / ms["false"]!);
    plainCpu.push(cpuMs["false"]!);
    tracedCpu.push(cpuMs["true"]!);
  }
  console.log(
    `${name.padEnd(8)} plain ${median(plain).toFixed(0)} ms, traced ${
      median(traced).toFixed(0)
    } ms (trace ${(bytes / 2 ** 20).toFixed(0)} MiB${cut ? ", cut by the cap" : ""}), ratio ${
      (median(traced) / median(plain)).toFixed(2)
    } (median of the rounds' ratios ${median(ratios).toFixed(2)}); CPU plain ${
      median(plainCpu).toFixed(0)
    } ms, traced ${median(tracedCpu).toFixed(0)} ms, ratio ${
      (median(tracedCpu) / median(plainCpu)).toFixed(2)
    }; load ${load()}`,
  );
}
if (base !== undefined && only !== "run") {
  // This checkout (A) and the base (B), plain and traced, in turns; each trace a fresh file.
  const configs = [["A", false], ["B", false], ["A", true], ["B", true]] as const;
  const ms = new Map<string, number[]>(), cpuMs = new Map<string, number[]>();
  for (let round = -1; round < rounds; round++) {
    for (const [tree, tracing] of round % 2 === 0 ? configs : [...configs].reverse()) {
      await Deno.remove(tracePath).catch(() => {});
      const result = await spawned(tracing, tree === "A" ? root : base);
      if (round < 0) continue;
      const key = `${tree} ${tracing ? "traced" : "plain"}`;
      ms.set(key, [...ms.get(key) ?? [], result.ms]);
      cpuMs.set(key, [...cpuMs.get(key) ?? [], result.cpuMs]);
    }
  }
  const m = (key: string, of = ms) => median(of.get(key)!);
  for (const tree of ["A", "B"]) {
    console.log(
      `${tree === "A" ? "this" : "base"} process plain ${
        m(`${tree} plain`).toFixed(0)
      } ms, traced ${m(`${tree} traced`).toFixed(0)} ms, ratio ${
        (m(`${tree} traced`) / m(`${tree} plain`)).toFixed(2)
      }; CPU ratio ${(m(`${tree} traced`, cpuMs) / m(`${tree} plain`, cpuMs)).toFixed(2)}`,
    );
  }
  console.log(
    `plain this / base: wall ${(m("A plain") / m("B plain")).toFixed(2)}, CPU ${
      (m("A plain", cpuMs) / m("B plain", cpuMs)).toFixed(2)
    } (base: ${base}); load ${load()}`,
  );
}
await Deno.remove(dir, { recursive: true });
