/**
 * Building the I/O domain from a validated workload: disk models, every VM's weight and limits,
 * and the sources of its requests (explicit lists, generators, traces, `{io}` program steps), each
 * checked against the disk it addresses. Problems are {@linkcode WorkloadError}s that name the
 * place: `Workload: vms[0].io.requests[3].cylinder: …`, or the file and line of a trace.
 *
 * @module
 */

import type { CpuDomain } from "../cpu/domain.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { PolicySlot } from "../kernel/slot.ts";
import { WorkloadError } from "../workload/load.ts";
import type { IoRequestSpec, IoStepSpec, IoTraceSpec } from "../workload/io_types.ts";
import type { Workload } from "../workload/types.ts";
import { parseValidationTrace } from "./disk/disksim_trace.ts";
import { createDiskModel } from "./disk/factory.ts";
import type { DiskModel } from "./disk/model.ts";
import { Disk, IoDomain, type IoStep } from "./domain.ts";
import { parseMsrTrace } from "./msr_trace.ts";
import {
  DisksimSource,
  GeneratorSource,
  ListSource,
  MsrSource,
  type RequestList,
  type RequestSource,
} from "./sources.ts";

/** Options of {@linkcode buildIoDomain}. */
export interface BuildIoOptions {
  /** The CPU domain, whose vCPUs block on `{io}` program steps. */
  cpu?: CpuDomain;
  /** Reads trace files. */
  readText: (path: string) => string;
}

/**
 * Builds the I/O domain of a workload, or returns undefined when the host has no disks (a
 * workload whose VMs use I/O without disks is refused by its schema).
 *
 * @param kernel The kernel.
 * @param slot The I/O policy slot.
 * @param workload The validated workload.
 * @param options The CPU domain and the trace reader.
 * @returns The domain, registered with the kernel, its sources armed.
 * @throws {WorkloadError} When a request, generator, trace or step does not fit its disk, a trace
 *   cannot be read or parsed, or a VM submits forever without `stopAt`.
 */
export function buildIoDomain(
  kernel: Kernel,
  slot: PolicySlot,
  workload: Workload,
  options: BuildIoOptions,
): IoDomain | undefined {
  const specs = workload.host.disks ?? [];
  if (specs.length === 0) return undefined;
  const disks = specs.map((spec, index) => {
    const model = createModel(spec, `host.disks[${index}]`);
    const direction = spec.model === "linear" ? spec.direction ?? "up" : "up";
    return new Disk(index, spec.id, model, direction);
  });
  const diskIndex = new Map(disks.map((disk) => [disk.id, disk.index]));
  const steps = new Map<unknown, IoStep>();
  workload.vms.forEach((vm, v) => {
    vm.cpu?.program?.forEach((step, s) => {
      if (step.io === undefined) return;
      const place = `vms[${v}].cpu.program[${s}].io`;
      steps.set(step.io, resolve(step.io, disks, diskIndex, place, vm.io?.deadline));
    });
  });
  const domain = new IoDomain(kernel, slot, disks, { cpu: options.cpu, steps });
  const sources: RequestSource[] = [];
  workload.vms.forEach((vm, v) => {
    const io = vm.io;
    domain.addVm(vm.id, io?.weight ?? 100, io?.max ?? { rbps: 0, wbps: 0, riops: 0, wiops: 0 });
    if (io === undefined) return;
    const arriveNs = vm.cpu?.arrive ?? 0;
    const deadlineNs = io.deadline ?? Infinity;
    if (io.requests.length > 0) {
      sources.push(
        new ListSource(v, requestList(io.requests, disks, diskIndex, v, arriveNs, deadlineNs)),
      );
    }
    io.generate.forEach((generator, g) => {
      const place = `vms[${v}].io.generate[${g}]`;
      const disk = disks[diskIndex.get(generator.disk)!]!;
      const total = disk.model.totalBlocks;
      const from = generator.from ?? 0, to = generator.to ?? total;
      if (to > total) {
        fail(`${place}.to`, `at most ${total} (disk ${disk.id} has ${total} blocks)`, to);
      }
      if (from >= to) fail(`${place}.from`, `a block below ${to}`, from);
      sources.push(
        new GeneratorSource(v, generator, {
          disk: disk.index,
          from,
          to,
          arriveNs,
          deadlineNs,
          rng: kernel.rng.fork(`io:vm${v}:generate`, g),
        }),
      );
    });
    io.trace.forEach((trace, t) => {
      const place = `vms[${v}].io.trace[${t}]`;
      const disk = disks[diskIndex.get(trace.disk)!]!;
      sources.push(traceSource(trace, disk, { vm: v, place, arriveNs, deadlineNs, ...options }));
    });
  });
  sources.forEach((source) => {
    if (!source.finite && workload.stopAt === undefined) {
      const vm = workload.vms[source.vm]!;
      throw new WorkloadError(
        `Workload: stopAt: expected a duration such as "10s", because vms[${source.vm}] (${vm.id}) submits forever (${source.label})`,
      );
    }
    domain.addSource(source);
  });
  return domain;
}

function fail(place: string, expected: string, got: unknown): never {
  throw new WorkloadError(`Workload: ${place}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function createModel(spec: unknown, place: string): DiskModel {
  try {
    return createDiskModel(spec, { path: place });
  } catch (error) {
    throw new WorkloadError(`Workload: ${(error as Error).message}`);
  }
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
  const disk = disks[diskIndex.get(spec.disk)!]!, model = disk.model;
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
  v: number,
  arriveNs: number,
  deadlineNs: number,
): RequestList {
  const resolved = requests.map((spec, i) => ({
    at: arriveNs + spec.at,
    step: resolve(spec, disks, diskIndex, `vms[${v}].io.requests[${i}]`, deadlineNs),
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
    throw new WorkloadError(
      `Workload: ${options.place}.path: cannot read ${trace.path} (${(error as Error).message})`,
    );
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
