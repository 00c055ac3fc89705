/**
 * Checking a VM's I/O against the host's disks and turning it into request sources: explicit
 * requests, generators, DiskSim and MSR traces, and `{io}` program steps. Problems are
 * {@linkcode WorkloadError}s that name the place (`Workload: vms[0].io.requests[3].cylinder: …`),
 * or the file and line of a trace.
 *
 * @module
 */

import type { Rng } from "../engine/rng.ts";
import { WorkloadError } from "../workload/error.ts";
import type { IoRequestSpec, IoStepSpec, IoTraceSpec } from "../workload/io_types.ts";
import { TraceFileError } from "../workload/trace_file.ts";
import type { VmWorkload } from "../workload/types.ts";
import { parseValidationTrace } from "./disk/disksim_trace.ts";
import type { DiskModel } from "./disk/model.ts";
import type { Disk } from "./model.ts";
import { parseMsrTrace } from "./msr_trace.ts";
import {
  DisksimSource,
  GeneratorSource,
  ListSource,
  MsrSource,
  type RequestList,
  type RequestSource,
} from "./sources.ts";

/** A resolved `{io}` program step. */
export interface IoStep {
  /** The disk's index. */
  disk: number;
  /** First block. */
  lba: number;
  /** Bytes. */
  bytes: number;
  /** The named cylinder, or -1. */
  cylinder: number;
  /** True for a write. */
  write: boolean;
  /** Relative deadline, or Infinity. */
  deadlineNs: number;
}

/** What resolving a VM's I/O needs. */
export interface VmIoContext {
  /** The host's disks. */
  disks: Disk[];
  /** Disk indices by id. */
  diskIndex: Map<string, number>;
  /** The kernel's root PRNG (generators fork their streams from it). */
  rng: Rng;
  /** Reads trace files. */
  readText: (path: string) => string;
  /** When the VM arrives. */
  arriveNs: number;
  /** Where the VM sits in the workload, for messages (`vms[3]`). */
  place: string;
}

/**
 * Resolves a VM's `{io}` program steps and builds the sources of its `io` section.
 *
 * @param vm The VM's validated description.
 * @param index The VM's index.
 * @param context The disks, the PRNG, the trace reader, the arrival time and the VM's place.
 * @returns The steps by their workload object, and the sources in workload order.
 * @throws {WorkloadError} When something does not fit its disk or a trace cannot be used.
 */
export function resolveVmIo(
  vm: VmWorkload,
  index: number,
  context: VmIoContext,
): { steps: Map<unknown, IoStep>; sources: RequestSource[] } {
  const { disks, diskIndex, arriveNs, place } = context;
  const steps = new Map<unknown, IoStep>();
  vm.cpu?.program?.forEach((step, s) => {
    if (step.io === undefined) return;
    steps.set(
      step.io,
      resolve(step.io, disks, diskIndex, `${place}.cpu.program[${s}].io`, vm.io?.deadline),
    );
  });
  const sources: RequestSource[] = [];
  const io = vm.io;
  if (io === undefined) return { steps, sources };
  const deadlineNs = io.deadline ?? Infinity;
  if (io.requests.length > 0) {
    sources.push(
      new ListSource(
        index,
        requestList(io.requests, disks, diskIndex, `${place}.io.requests`, arriveNs, deadlineNs),
      ),
    );
  }
  io.generate.forEach((generator, g) => {
    const where = `${place}.io.generate[${g}]`;
    const disk = diskOf(disks, diskIndex, generator.disk, where);
    const total = disk.model.totalBlocks;
    const from = generator.from ?? 0, to = generator.to ?? total;
    if (to > total) {
      fail(`${where}.to`, `at most ${total} (disk ${disk.id} has ${total} blocks)`, to);
    }
    if (from >= to) fail(`${where}.from`, `a block below ${to}`, from);
    sources.push(
      new GeneratorSource(index, generator, {
        disk: disk.index,
        from,
        to,
        arriveNs,
        deadlineNs,
        rng: context.rng.fork(`io:vm${index}:generate`, g),
      }),
    );
  });
  io.trace.forEach((trace, t) => {
    const where = `${place}.io.trace[${t}]`;
    const disk = diskOf(disks, diskIndex, trace.disk, where);
    sources.push(traceSource(trace, disk, {
      vm: index,
      place: where,
      arriveNs,
      deadlineNs,
      readText: context.readText,
    }));
  });
  return { steps, sources };
}

function fail(place: string, expected: string, got: unknown): never {
  throw new WorkloadError(`Workload: ${place}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** The disk a request names; the schema checks names, but a VM added live is checked here too. */
function diskOf(disks: Disk[], diskIndex: Map<string, number>, id: string, place: string): Disk {
  const index = diskIndex.get(id);
  if (index === undefined) {
    fail(
      `${place}.disk`,
      `the id of a disk of host.disks (${[...diskIndex.keys()].join(", ")})`,
      id,
    );
  }
  return disks[index]!;
}

/** The first block on a cylinder (block → cylinder maps are non-decreasing). */
function firstBlockOf(model: DiskModel, cylinder: number): number {
  let low = 0, high = model.totalBlocks - 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (model.cylinderOf(mid) < cylinder) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Checks one request against its disk and resolves it. */
function resolve(
  spec: IoStepSpec,
  disks: Disk[],
  diskIndex: Map<string, number>,
  place: string,
  vmDeadline: number | undefined,
): IoStep {
  const disk = diskOf(disks, diskIndex, spec.disk, place), model = disk.model;
  const blocks = Math.max(1, Math.ceil(spec.bytes / 512));
  let lba: number, cylinder = -1;
  if (spec.cylinder !== undefined) {
    if (spec.cylinder >= model.cylinders) {
      fail(
        `${place}.cylinder`,
        `a cylinder in [0, ${model.cylinders}) (disk ${disk.id} has ${model.cylinders})`,
        spec.cylinder,
      );
    }
    cylinder = spec.cylinder;
    lba = firstBlockOf(model, cylinder);
    if (model.kind !== "linear" && lba + blocks > model.totalBlocks) {
      fail(
        `${place}.bytes`,
        `at most ${(model.totalBlocks - lba) * 512} on cylinder ${cylinder}`,
        spec.bytes,
      );
    }
  } else {
    lba = spec.lba!;
    if (lba + blocks > model.totalBlocks) {
      fail(
        `${place}.lba`,
        `a block in [0, ${
          model.totalBlocks - blocks
        }] for ${spec.bytes} bytes (disk ${disk.id} has ${model.totalBlocks} blocks)`,
        lba,
      );
    }
  }
  return {
    disk: disk.index,
    lba,
    bytes: spec.bytes,
    cylinder,
    write: spec.op === "write",
    deadlineNs: spec.deadline ?? vmDeadline ?? Infinity,
  };
}

function requestList(
  requests: IoRequestSpec[],
  disks: Disk[],
  diskIndex: Map<string, number>,
  place: string,
  arriveNs: number,
  deadlineNs: number,
): RequestList {
  const resolved = requests.map((spec, i) => ({
    at: arriveNs + spec.at,
    step: resolve(spec, disks, diskIndex, `${place}[${i}]`, deadlineNs),
  }));
  // A stable sort: requests at the same time keep their workload order.
  resolved.sort((a, b) => a.at - b.at);
  return {
    atNs: resolved.map((r) => r.at),
    disk: resolved.map((r) => r.step.disk),
    lba: resolved.map((r) => r.step.lba),
    bytes: resolved.map((r) => r.step.bytes),
    cylinder: resolved.map((r) => r.step.cylinder),
    write: resolved.map((r) => r.step.write),
    deadlineNs: resolved.map((r) => r.step.deadlineNs),
  };
}

/** Fits a trace's blocks onto a disk as `fit` says, or fails naming the line. */
class Fitter {
  #fit: IoTraceSpec["fit"];
  #total: number;
  #span: number;
  #where: string;

  constructor(fit: IoTraceSpec["fit"], total: number, span: number, where: string) {
    this.#fit = fit;
    this.#total = total;
    this.#span = span;
    this.#where = where;
  }

  lba(lba: number, blocks: number, line: number): number {
    const total = this.#total;
    if (blocks > total) {
      throw new WorkloadError(
        `${this.#where}:${line}: a request of ${blocks} blocks is larger than the disk (${total} blocks)`,
      );
    }
    if (this.#fit === "scale" && this.#span > total) lba = Math.floor(lba * (total / this.#span));
    else if (this.#fit === "wrap") lba %= total;
    if (lba + blocks <= total) return lba;
    if (this.#fit !== "error") return total - blocks;
    throw new WorkloadError(
      `${this.#where}:${line}: blocks ${lba}..${
        lba + blocks - 1
      } are beyond the disk (${total} blocks); expected blocks below ${total}, or "fit": "wrap" or "scale"`,
    );
  }
}

function traceSource(
  trace: IoTraceSpec,
  disk: Disk,
  options: {
    vm: number;
    place: string;
    arriveNs: number;
    deadlineNs: number;
    readText: (path: string) => string;
  },
): RequestSource {
  let text: string;
  try {
    text = options.readText(trace.path);
  } catch (error) {
    const message = error instanceof TraceFileError
      ? error.message
      : `cannot read ${trace.path} (${(error as Error).message})`;
    throw new WorkloadError(`Workload: ${options.place}.path: ${message}`);
  }
  const where = `Workload: ${options.place}: ${trace.path}`;
  const total = disk.model.totalBlocks;
  const deadlineNs = trace.deadline ?? options.deadlineNs;
  const end = (length: number) => trace.count === undefined ? length : trace.start + trace.count;
  if (trace.format === "disksim") {
    let records;
    try {
      records = parseValidationTrace(text, { source: trace.path });
    } catch (error) {
      throw new WorkloadError(`Workload: ${options.place}: ${(error as Error).message}`);
    }
    records = records.slice(trace.start, end(records.length));
    const span = records.reduce((max, r) => Math.max(max, r.lba + r.blocks), 0);
    const fitter = new Fitter(trace.fit, total, span, where);
    const n = records.length;
    const lba = new Float64Array(n), blocks = new Float64Array(n);
    const write = new Uint8Array(n), thinkNs = new Float64Array(n);
    records.forEach((record, i) => {
      lba[i] = fitter.lba(record.lba, record.blocks, record.line);
      blocks[i] = record.blocks;
      write[i] = record.write ? 1 : 0;
      thinkNs[i] = Math.round(record.gapUs * 1000 / trace.speed);
    });
    return new DisksimSource(options.vm, trace.path, { lba, blocks, write, thinkNs }, {
      disk: disk.index,
      startNs: options.arriveNs,
      deadlineNs,
    });
  }
  let parsed;
  try {
    parsed = parseMsrTrace(text, {
      source: trace.path,
      hostname: trace.hostname,
      diskNumber: trace.diskNumber,
    });
  } catch (error) {
    throw new WorkloadError(`Workload: ${options.place}: ${(error as Error).message}`);
  }
  const first = Math.min(trace.start, parsed.length),
    last = Math.min(end(parsed.length), parsed.length);
  const n = last - first;
  let span = 0;
  for (let i = first; i < last; i++) {
    span = Math.max(span, Math.ceil((parsed.offset[i]! + parsed.bytes[i]!) / 512));
  }
  const fitter = new Fitter(trace.fit, total, span, where);
  const atNs = new Float64Array(n), lba = new Float64Array(n), bytes = new Float64Array(n);
  const write = new Uint8Array(n);
  const t0 = n > 0 ? parsed.timeNs[first]! : 0;
  for (let i = 0; i < n; i++) {
    const k = first + i;
    const blocks = Math.max(1, Math.ceil((parsed.offset[k]! % 512 + parsed.bytes[k]!) / 512));
    atNs[i] = options.arriveNs + Math.round((parsed.timeNs[k]! - t0) / trace.speed);
    lba[i] = fitter.lba(Math.floor(parsed.offset[k]! / 512), blocks, parsed.line[k]!);
    bytes[i] = parsed.bytes[k]!;
    write[i] = parsed.write[k]!;
  }
  return new MsrSource(options.vm, trace.path, { atNs, lba, bytes, write }, {
    disk: disk.index,
    deadlineNs,
  });
}
