/**
 * Workloads built in code: `workload()`, `vm()`, `run()`, `sleep()`, and the standard battery
 * every policy is checked against. They produce the JSON form of `hyperhook.workload/v1` (the
 * same text a workload file holds), validated as soon as it is built.
 *
 * @module
 */

import type { Domain } from "../protocol/definition.ts";
import { parseWorkload } from "../workload/load.ts";
import { WORKLOAD_SCHEMA } from "../workload/schema.ts";

/** A duration as workloads write it: a number and a unit, such as `"24ms"`, `"500us"`, `"2s"`. */
export type Duration = `${number}${"ns" | "us" | "µs" | "ms" | "s" | "m" | "h"}`;

/** One step of a vCPU program: run, sleep, or issue an I/O request and wait for it. */
export type StepInput = { run: Duration } | { sleep: Duration } | { io: Record<string, unknown> };

/** How a VM's vCPUs use the CPU (the `cpu` object of a workload's VM). */
export interface CpuInput {
  /** When the VM arrives (default `"0ms"`). */
  arrive?: Duration;
  /** An explicit program of steps; its run lengths are declared to policies. */
  program?: StepInput[];
  /** Repeat the program: `true` forever, or a number of times in all. */
  repeat?: boolean | number;
  /** A seeded generator instead of a program. */
  pattern?: "cpu-bound" | "interactive" | "bursty";
  /** Generators: mean run burst. */
  run?: Duration;
  /** Generators: mean sleep. */
  sleep?: Duration;
  /** Bursty: mean length of a busy or quiet phase. */
  phase?: Duration;
  /** Bursty: utilisation in busy phases (0..1). */
  busy?: number;
  /** Bursty: utilisation in quiet phases (0..1). */
  quiet?: number;
  /** An inline utilisation curve in percent, one value per `interval`. */
  utilization?: number[];
  /** Utilisation curves: how long each value holds. */
  interval?: Duration;
  /** Utilisation curves: demand granularity. */
  period?: Duration;
}

/** How a VM references memory (the `memory` object of a workload's VM). */
export interface MemoryInput {
  /** An explicit page reference string; `{ page, write: true }` marks a write. */
  refs?: (number | { page: number; write: boolean })[];
  /** A generator instead of `refs`. */
  pattern?: "uniform" | "zipf" | "scan" | "loop" | "phases";
  /** The address space in pages. */
  pages?: number;
  /** References per second of vCPU run time (default 1,000,000). */
  rate?: number;
  /** Generators: stop after this many references. */
  count?: number;
  /** Generators: the fraction of references that write. */
  writes?: number;
  /** Zipf: the exponent. */
  skew?: number;
  /** Loop: how many pages the loop covers. */
  loop?: number;
  /** Phases: the working set's size in pages. */
  workingSet?: number;
  /** Phases: run time per phase. */
  phase?: Duration;
  /** The initial balloon target in frames. */
  target?: number;
  /** Memory weight (shares). */
  weight?: number;
}

/** A VM of a workload, in its JSON form. */
export interface VmInput {
  /** Its name: letters, digits, `_ . : -`. */
  id: string;
  /** How many vCPUs (default 1). */
  vcpus?: number;
  /** Proportional-share weight (default 256). */
  weight?: number;
  /** Cap in percent of one pCPU (default 0: none). */
  cap?: number;
  /** Static priority (default 0; lower is higher). */
  priority?: number;
  /** Policy-specific parameters. */
  sched?: Record<string, unknown>;
  /** CPU behaviour. */
  cpu?: CpuInput;
  /** Memory behaviour. */
  memory?: MemoryInput;
  /** I/O behaviour (`weight`, `max`, `requests`, generators, traces). */
  io?: Record<string, unknown>;
}

/** A workload in its JSON form (`hyperhook.workload/v1`): what {@linkcode workload} returns. */
export interface WorkloadInput {
  /** Always `hyperhook.workload/v1`. */
  schema: "hyperhook.workload/v1";
  /** Its name; reports and check messages carry it. */
  name: string;
  /** What it is, for people. */
  description?: string;
  /** The seed of every random choice. */
  seed?: number;
  /** The host. */
  host: {
    pcpus: number;
    memory?: { frames: number; [key: string]: unknown };
    disks?: Record<string, unknown>[];
  };
  /** Policies per domain (the test kit replaces the one under test). */
  policies?: Partial<Record<Domain, { use: string; config?: Record<string, unknown> }>>;
  /** When to stop (default: when all finite work is done). */
  stopAt?: Duration;
  /** Parameter changes over time. */
  timeline?: { at: Duration; vm: string; set: Record<string, unknown> }[];
  /** The VMs. */
  vms: VmInput[];
}

/** Options of {@linkcode vm}: the VM's fields, with the `cpu` fields flattened in. */
export interface VmOptions extends Omit<VmInput, "id" | "cpu">, CpuInput {
  /** The `cpu` object, for those who prefer to write it out (merged with the flat fields). */
  cpu?: CpuInput;
}

/** Options of {@linkcode workload}. */
export interface WorkloadOptions {
  /** Its name (default `"test"`). */
  name?: string;
  /** What it is, for people. */
  description?: string;
  /** The seed (default 1). */
  seed?: number;
  /** How many pCPUs (default 1). */
  pcpus?: number;
  /** Host frames, for memory policies: a number, or the whole `host.memory` object. */
  memory?: number | { frames: number; [key: string]: unknown };
  /** Host disks, for I/O policies. */
  disks?: Record<string, unknown>[];
  /** When to stop (default: when all finite work is done). */
  stopAt?: Duration;
  /** Policies per domain. */
  policies?: WorkloadInput["policies"];
  /** Parameter changes over time. */
  timeline?: WorkloadInput["timeline"];
}

const CPU_FIELDS = [
  "arrive",
  "program",
  "repeat",
  "pattern",
  "run",
  "sleep",
  "phase",
  "busy",
  "quiet",
  "utilization",
  "interval",
  "period",
] as const;

/**
 * A run step: the vCPU computes for `duration` (declared to policies, as SJF needs).
 *
 * @example
 * ```ts
 * import { run } from "./workloads.ts";
 *
 * console.assert(run("24ms").run === "24ms");
 * ```
 *
 * @param duration How long, such as `"24ms"`.
 * @returns The step.
 */
export function run(duration: Duration): { run: Duration } {
  return { run: duration };
}

/**
 * A sleep step: the vCPU blocks for `duration`, then goes on with its program.
 *
 * @example
 * ```ts
 * import { sleep } from "./workloads.ts";
 *
 * console.assert(sleep("5ms").sleep === "5ms");
 * ```
 *
 * @param duration How long, such as `"5ms"`.
 * @returns The step.
 */
export function sleep(duration: Duration): { sleep: Duration } {
  return { sleep: duration };
}

/**
 * A VM for {@linkcode workload}. CPU fields (`program`, `pattern`, `arrive`, ...) may be given
 * flat; they go into the VM's `cpu` object.
 *
 * @example A textbook job, a CPU hog and an interactive VM
 * ```ts
 * import { run, vm } from "./workloads.ts";
 *
 * const job = vm("P1", { program: [run("24ms")] });
 * const hog = vm("hog", { pattern: "cpu-bound", weight: 512 });
 * const web = vm("web", { pattern: "interactive", run: "1ms", sleep: "10ms", vcpus: 2 });
 * console.assert(job.cpu?.program?.length === 1 && hog.weight === 512 && web.vcpus === 2);
 * ```
 *
 * @param id The VM's name.
 * @param options Its fields.
 * @returns The VM in its JSON form.
 */
export function vm(id: string, options: VmOptions = {}): VmInput {
  const result: VmInput = { id };
  const cpu: CpuInput = { ...options.cpu };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === "cpu") continue;
    if ((CPU_FIELDS as readonly string[]).includes(key)) {
      (cpu as Record<string, unknown>)[key] = value;
    } else (result as unknown as Record<string, unknown>)[key] = value;
  }
  if (Object.keys(cpu).length > 0) result.cpu = cpu;
  return result;
}

/**
 * A workload from VMs and host options, validated at once (a mistake throws a `WorkloadError`
 * naming the place, as a workload file would).
 *
 * @example Three jobs on one pCPU, the round-robin textbook case
 * ```ts
 * import { run, vm, workload } from "./workloads.ts";
 *
 * const textbook = workload([
 *   vm("P1", { program: [run("24ms")] }),
 *   vm("P2", { program: [run("3ms")] }),
 *   vm("P3", { program: [run("3ms")] }),
 * ], { name: "rr-textbook" });
 * console.assert(textbook.host.pcpus === 1 && textbook.vms.length === 3);
 * ```
 *
 * @param vms The VMs (see {@linkcode vm}).
 * @param options Host, name, seed, stop time, policies.
 * @returns The workload in its JSON form, ready for the checks or for a file.
 * @throws {import("../workload/load.ts").WorkloadError} When the workload is not valid.
 */
export function workload(vms: VmInput[], options: WorkloadOptions = {}): WorkloadInput {
  const host: WorkloadInput["host"] = { pcpus: options.pcpus ?? 1 };
  if (options.memory !== undefined) {
    host.memory = typeof options.memory === "number" ? { frames: options.memory } : options.memory;
  }
  if (options.disks !== undefined) host.disks = options.disks;
  const result: WorkloadInput = {
    schema: WORKLOAD_SCHEMA,
    name: options.name ?? "test",
    seed: options.seed ?? 1,
    host,
    vms,
  };
  if (options.description !== undefined) result.description = options.description;
  if (options.policies !== undefined) result.policies = options.policies;
  if (options.stopAt !== undefined) result.stopAt = options.stopAt;
  if (options.timeline !== undefined) result.timeline = options.timeline;
  parseWorkload(result, { source: result.name });
  return result;
}

/**
 * The standard battery of a domain: small workloads that exercise the situations a policy must
 * handle. Every policy of the domain should get through all of them without an incident.
 *
 * - `cpu`: `textbook` (three jobs on one pCPU), `cpu-bound` (more long jobs than pCPUs, unequal
 *   weights), `interactive` (short bursts and sleeps on two pCPUs), `mixed` (four pCPUs, VMs of
 *   one to three vCPUs: interactive, bursty, long jobs and late arrivals).
 * - `memory`: `textbook` (a reference string on three frames), `shared` (three VMs with a
 *   skewed mix, a loop and moving working sets competing for frames), `multi-vcpu` (two-vCPU VMs,
 *   writes, a watermark). The reference strings are explicit, so future-aware policies (OPT) can
 *   run them.
 * - `io`: `textbook` (eight requests on a linear disk), `shared-hdd` (four VMs on one hard disk:
 *   weights, deadlines, an `io.max` limit, a vCPU blocking on writes), `two-disks` (an SSD under
 *   an open-loop rate and a slow disk).
 *
 * Runs are short (at most two simulated seconds) so that the battery takes well under a second
 * per policy in-process and a few seconds sandboxed.
 *
 * @example
 * ```ts
 * import { standardWorkloads } from "./workloads.ts";
 *
 * const names = standardWorkloads("cpu").map((w) => w.name);
 * console.assert(names.includes("textbook") && names.includes("mixed"));
 * ```
 *
 * @param domain The domain of the policy under test.
 * @returns The workloads, in JSON form (their `policies` are left empty).
 */
export function standardWorkloads(domain: Domain): WorkloadInput[] {
  switch (domain) {
    case "cpu":
      return cpuBattery();
    case "memory":
      return memoryBattery();
    case "io":
      return ioBattery();
    case "placement":
      // Datacenter workloads are a schema of their own; the kit does not run them yet.
      throw new RangeError(
        "standardWorkloads: expected cpu, memory or io; placement policies are tested with simulateDatacenter",
      );
  }
}

function cpuBattery(): WorkloadInput[] {
  return [
    workload([
      vm("P1", { program: [run("24ms")] }),
      vm("P2", { program: [run("3ms")] }),
      vm("P3", { program: [run("3ms")] }),
    ], { name: "textbook", description: "Silberschatz's round-robin case: three jobs, one pCPU" }),
    workload(
      [1, 2, 3, 4, 5].map((i) =>
        vm(`batch-${i}`, {
          weight: 128 * i,
          program: [run(`${60 + 20 * i}ms`), sleep("1ms"), run(`${40 + 10 * i}ms`)],
        })
      ),
      { name: "cpu-bound", pcpus: 2, description: "Five long jobs of unequal weights, two pCPUs" },
    ),
    workload(
      [1, 2, 3, 4, 5, 6].map((i) =>
        vm(`web-${i}`, {
          pattern: "interactive",
          run: `${0.5 * i}ms` as Duration,
          sleep: `${4 + i}ms` as Duration,
        })
      ),
      {
        name: "interactive",
        pcpus: 2,
        stopAt: "500ms",
        description: "Six interactive VMs: short bursts, frequent sleeps, two pCPUs",
      },
    ),
    workload([
      vm("web", { vcpus: 2, pattern: "interactive", run: "1ms", sleep: "8ms", priority: 1 }),
      vm("db", { vcpus: 3, weight: 512, pattern: "bursty", phase: "50ms", busy: 0.9, quiet: 0.1 }),
      vm("batch", { vcpus: 2, weight: 128, program: [run("300ms")] }),
      vm("late", { arrive: "200ms", program: [run("20ms"), sleep("5ms"), run("20ms")] }),
      vm("cron", {
        arrive: "50ms",
        program: [run("2ms"), sleep("40ms")],
        repeat: 10,
        priority: 2,
      }),
    ], {
      name: "mixed",
      pcpus: 4,
      seed: 7,
      stopAt: "1s",
      description: "Four pCPUs, VMs of one to three vCPUs: interactive, bursty, batch, late jobs",
    }),
  ];
}

function memoryBattery(): WorkloadInput[] {
  // Explicit reference strings, so that policies that need the future (OPT) can run them too.
  const rate = 20_000_000;
  return [
    workload([
      vm("P1", { memory: { refs: [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1] } }),
    ], {
      name: "textbook",
      memory: 3,
      description: "Silberschatz's reference string on three frames",
    }),
    workload([
      vm("skewed", { memory: { refs: skewedRefs(64, 1500, 11), rate } }),
      vm("loop", { memory: { refs: loopRefs(40, 1500), rate } }),
      vm("phases", { weight: 512, memory: { refs: phaseRefs(96, 12, 1500, 13), rate } }),
    ], {
      name: "shared",
      pcpus: 2,
      memory: 48,
      description: "Three VMs competing for 48 frames: a skewed mix, a loop, moving working sets",
    }),
    workload([
      vm("a", {
        vcpus: 2,
        memory: { refs: withWrites(skewedRefs(32, 1500, 17), 0.3, 19), rate: rate / 2 },
      }),
      vm("b", {
        vcpus: 2,
        memory: { refs: withWrites(phaseRefs(64, 16, 1500, 23), 0.1, 29), rate: rate / 2 },
      }),
    ], {
      name: "multi-vcpu",
      pcpus: 2,
      memory: { frames: 40, lowWatermark: 4 },
      description: "Two-vCPU VMs writing pages, batched reclaim below a watermark",
    }),
  ];
}

/** A small seeded generator (mulberry32): the battery is the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** References skewed towards low page numbers (a square law: a cheap stand-in for zipf). */
function skewedRefs(pages: number, count: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: count }, () => Math.floor(next() ** 2 * pages));
}

/** A loop over `pages` pages: LRU's worst case when the loop is larger than memory. */
function loopRefs(pages: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => i % pages);
}

/** A working set of `size` pages that moves every `count / 5` references. */
function phaseRefs(pages: number, size: number, count: number, seed: number): number[] {
  const next = random(seed);
  const phase = Math.ceil(count / 5);
  let base = 0;
  return Array.from({ length: count }, (_, i) => {
    if (i % phase === 0) base = Math.floor(next() * (pages - size));
    return base + Math.floor(next() * size);
  });
}

function withWrites(
  refs: number[],
  fraction: number,
  seed: number,
): (number | { page: number; write: boolean })[] {
  const next = random(seed);
  return refs.map((page) => next() < fraction ? { page, write: true } : page);
}

function ioBattery(): WorkloadInput[] {
  const textbook = [98, 183, 37, 122, 14, 124, 65, 67];
  return [
    workload([
      vm("P1", { io: { requests: textbook.map((cylinder) => ({ disk: "d0", cylinder })) } }),
    ], {
      name: "textbook",
      disks: [{
        id: "d0",
        model: "linear",
        cylinders: 200,
        head: 53,
        direction: "down",
        seekNsPerCylinder: 1000,
      }],
      description: "The textbook queue: cylinders 98, 183, 37, 122, 14, 124, 65, 67, head at 53",
    }),
    workload([
      vm("db", {
        io: {
          weight: 400,
          deadline: "250ms",
          generate: { disk: "sda", count: 300, depth: 8, readRatio: 0.7, size: 4096 },
        },
      }),
      vm("web", {
        io: { generate: { disk: "sda", count: 150, depth: 4, size: 16384 } },
      }),
      vm("backup", {
        io: {
          max: { rbps: 2_000_000 },
          generate: {
            disk: "sda",
            pattern: "sequential",
            count: 60,
            depth: 2,
            size: 65536,
            from: 1_000_000,
          },
        },
      }),
      vm("batch", {
        program: [run("2ms"), { io: { disk: "sda", lba: 1_500_000, bytes: 65536, op: "write" } }],
        repeat: 20,
      }),
    ], {
      name: "shared-hdd",
      disks: [{ id: "sda", model: "hdd", preset: "hp_c2247a" }],
      description: "Four VMs on one HP C2247A: random I/O, reads, a throttled stream, a vCPU " +
        "blocking on writes",
    }),
    workload([
      vm("a", {
        io: { generate: [{ disk: "fast", count: 400, rate: 2000, size: 4096, readRatio: 0.5 }] },
      }),
      vm("b", {
        vcpus: 2,
        io: {
          deadline: "20ms",
          generate: [
            { disk: "fast", count: 200, depth: 4, size: 8192 },
            { disk: "slow", count: 40, depth: 2, size: 4096 },
          ],
        },
      }),
    ], {
      name: "two-disks",
      pcpus: 2,
      disks: [
        { id: "fast", model: "ssd", channels: 4, readNs: 50_000, writeNs: 200_000 },
        { id: "slow", model: "linear", cylinders: 1000, seekNsPerCylinder: 10_000 },
      ],
      description: "An SSD at an open-loop rate and a slow linear disk, deadlines on one VM",
    }),
  ];
}
