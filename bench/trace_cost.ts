// What `--trace` costs: the scale workload (64 pCPUs, `vcpus` vCPUs under rr) run plain and
// traced, taking turns round after round (a shared machine drifts), median of each and the ratio.
// Traced runs keep the trace in memory (as `--trace` does until the run ends) and build its text,
// as writing it would; the file itself is not written.
// Run: `deno run -A bench/trace_cost.ts [seconds] [vcpus] [rounds]`, e.g. `bench/trace_cost.ts 2 1024 5`.
import { scaleSimulation } from "./_scale.ts";
import { TraceFile } from "../core/observe/trace.ts";

const seconds = Number(Deno.args[0] ?? 2);
const vcpus = Number(Deno.args[1] ?? 1024);
const rounds = Number(Deno.args[2] ?? 5);
if (!(seconds > 0) || !Number.isInteger(vcpus) || vcpus < 2 || vcpus % 2 || !(rounds >= 1)) {
  console.error(
    `trace_cost.ts: expected [seconds > 0] [an even vCPU count] [rounds >= 1], got ${
      JSON.stringify(Deno.args.join(" "))
    }`,
  );
  Deno.exit(2);
}

const plain: number[] = [], traced: number[] = [];
let bytes = 0, cut = false;
for (let round = -1; round < rounds; round++) {
  for (const tracing of [false, true]) {
    const simulation = await scaleSimulation(vcpus, { seconds });
    const start = performance.now();
    // Nothing was logged yet (rr in-process logs nothing at start): watching now misses nothing.
    const trace = tracing ? new TraceFile({ maxBytes: 2 ** 31 }) : undefined;
    trace?.watch(simulation);
    await simulation.run();
    let length = 0;
    if (trace !== undefined) { for (const chunk of trace.chunks()) length += chunk.length; }
    const ms = performance.now() - start;
    await simulation.close();
    if (round < 0) continue;
    (tracing ? traced : plain).push(ms);
    if (tracing) bytes = length, cut = trace!.full;
  }
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `scale ${vcpus} vCPUs, ${seconds} s simulated, ${rounds} rounds: plain ${
    median(plain).toFixed(0)
  } ms, traced ${median(traced).toFixed(0)} ms (trace ${(bytes / 2 ** 20).toFixed(0)} MiB${
    cut ? ", cut" : ""
  }), ratio ${(median(traced) / median(plain)).toFixed(2)}`,
);
