/**
 * What the sandbox costs at scale: the foundation's scale workload (64 pCPUs, 1024 vCPUs, half
 * CPU-bound, half interactive; see `_scale.ts`) under `none`, `worker` and `process`, with `rr`
 * (one vCPU per dispatch) and with round robin filling each pCPU's local queue `ahead` vCPUs at a
 * time (`rr`'s `ahead` option; with `--spread`, `rr` deals its queue out to every pCPU's local queue
 * whenever one asks, as a centralized dispatcher). Prints, per policy and isolation: the median wall time of the runs and
 * its ratio to `none`, the batches (round trips) and their rate per simulated second, the mean
 * and median time from sending a batch to holding its reply, and the CPU time used by the kernel
 * and by the sandbox's child process (less sensitive than wall time to a busy machine).
 *
 * Each measured run follows a warm-up run in the same process: the kernel (and, under `none`, the
 * policy) is warm, while a `process` sandbox always starts a cold child. `--fresh` runs every
 * measurement in a new Deno process instead, as a `hyperhook run` does (cold everywhere; only the
 * simulation is timed, not loading).
 *
 * `--streams` makes the process sandbox wait for replies through the pipes' streams instead of
 * blocking reads (`blockingReads: false`).
 *
 * Run: `deno run -A bench/sandbox_scale.ts [--runs 5] [--seconds 1] [--ahead 1,8,16] [--spread] [--fresh]
 * [--streams]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { scaleSimulation } from "./_scale.ts";
import { ProcessRuntime } from "../core/sandbox/process.ts";
import type { Isolation } from "../core/protocol/runtime.ts";
import type { Batch, Reply } from "../core/protocol/batch.ts";
import { internals } from "../core/simulation/internals.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    seconds: { type: "string", default: "1" },
    ahead: { type: "string", default: "1,4,8" },
    spread: { type: "boolean", default: false },
    isolation: { type: "string", default: "none,worker,process" },
    fresh: { type: "boolean", default: false },
    streams: { type: "boolean", default: false },
    one: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs), seconds = Number(values.seconds);
const isolations = values.isolation!.split(",") as Isolation[];

/** CPU time (user + system) of a process so far, in ms, from Linux's /proc. */
function cpuMs(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

interface Sample {
  wallMs: number;
  batches: number;
  roundTripsUs: Float64Array;
  kernelCpuMs: number;
  childCpuMs: number;
  eventsHash: string;
}

async function once(isolation: Isolation, ahead: number): Promise<Sample> {
  const simulation = await scaleSimulation(1024, {
    seconds,
    isolation,
    policy: "rr",
    config: { ahead, spread: values.spread },
    // Deadlines are not under test: a busy machine must not eject the policy.
    sandbox: { batchDeadlineMs: 10_000, blockingReads: !values.streams },
  });
  const runtime = internals(simulation).cpu.slot.runtime;
  const handle = runtime.handle.bind(runtime);
  let roundTrips = new Float64Array(1 << 14), batches = 0;
  const record = (started: number) => {
    if (batches === roundTrips.length) {
      const grown = new Float64Array(roundTrips.length * 2);
      grown.set(roundTrips);
      roundTrips = grown;
    }
    roundTrips[batches++] = (performance.now() - started) * 1000;
  };
  runtime.handle = (batch: Batch): Reply | Promise<Reply> => {
    const started = performance.now();
    const reply = handle(batch);
    if (!(reply instanceof Promise)) {
      record(started);
      return reply;
    }
    return reply.then((value) => {
      record(started);
      return value;
    });
  };
  const childPid = runtime instanceof ProcessRuntime ? runtime.pid! : undefined;
  const kernelBefore = cpuMs("self"), childBefore = childPid ? cpuMs(childPid) : 0;
  const started = performance.now();
  await simulation.run();
  const wallMs = performance.now() - started;
  const kernelCpuMs = cpuMs("self") - kernelBefore;
  const childCpuMs = childPid ? cpuMs(childPid) - childBefore : 0;
  const report = simulation.report();
  await simulation.close();
  if (report.incidents.length > 0) throw new Error(`Incident: ${report.incidents[0]!.message}`);
  return {
    wallMs,
    batches,
    roundTripsUs: roundTrips.slice(0, batches),
    kernelCpuMs,
    childCpuMs,
    eventsHash: report.eventsHash,
  };
}

function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? 0 : sum / values.length;
}

const header = [
  "policy",
  "isolation",
  "wall ms (median)",
  "min",
  "× none",
  "batches",
  "batches/sim s",
  "round trip µs mean",
  "median",
  "kernel CPU ms",
  "child CPU ms",
];
/** One run in a new Deno process (`--fresh`): the child prints its sample as JSON. */
async function fresh(isolation: Isolation, ahead: number): Promise<Sample> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--one",
      "--isolation",
      isolation,
      "--ahead",
      String(ahead),
      ...(values.spread ? ["--spread"] : []),
      "--seconds",
      String(seconds),
      ...(values.streams ? ["--streams"] : []),
    ],
    stderr: "inherit",
  }).output();
  const sample = JSON.parse(new TextDecoder().decode(output.stdout));
  return { ...sample, roundTripsUs: Float64Array.from(sample.roundTripsUs) };
}

if (values.one) {
  const sample = await once(isolations[0]!, Number(values.ahead));
  console.log(JSON.stringify({ ...sample, roundTripsUs: Array.from(sample.roundTripsUs) }));
  Deno.exit(0);
}

const rows: string[][] = [header];
for (const ahead of values.ahead!.split(",").map(Number)) {
  const policy = (ahead === 1 ? "rr" : `rr ahead ${ahead}`) + (values.spread ? " spread" : "");
  let noneWall: number | undefined, hash: string | undefined;
  for (const isolation of isolations) {
    // One warm-up run (JIT, bundling, the bootstrap file), then the measured runs.
    await once(isolation, ahead);
    const samples: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      samples.push(await (values.fresh ? fresh(isolation, ahead) : once(isolation, ahead)));
    }
    const wall = median(samples.map((sample) => sample.wallMs));
    if (isolation === "none") noneWall = wall;
    hash ??= samples[0]!.eventsHash;
    if (samples.some((sample) => sample.eventsHash !== hash)) {
      throw new Error(`${policy} under ${isolation} made other decisions`);
    }
    const trips = samples.at(-1)!.roundTripsUs;
    rows.push([
      policy,
      isolation,
      wall.toFixed(0),
      Math.min(...samples.map((sample) => sample.wallMs)).toFixed(0),
      noneWall === undefined ? "" : (wall / noneWall).toFixed(2),
      String(samples[0]!.batches),
      (samples[0]!.batches / seconds).toFixed(0),
      mean(trips).toFixed(1),
      median(trips).toFixed(1),
      median(samples.map((sample) => sample.kernelCpuMs)).toFixed(0),
      median(samples.map((sample) => sample.childCpuMs)).toFixed(0),
    ]);
  }
}
const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) {
  console.log(row.map((cell, column) => cell.padStart(widths[column]!)).join("  "));
}
// A worker whose policy spun could keep the process alive; none does here, but exit regardless.
Deno.exit(0);
