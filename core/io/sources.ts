/**
 * Where disk requests come from: explicit lists, seeded generators and replayed traces. A source
 * belongs to one VM and produces that VM's requests one at a time into a reused
 * {@linkcode RequestDraft}, so nothing is allocated per request.
 *
 * A source is *open loop* (requests arrive at their own times, whatever the disk does: lists,
 * rate-driven generators, MSR traces) or *closed loop* (it keeps `depth` requests outstanding and
 * submits the next one a think time after each completion: depth-driven generators, DiskSim
 * validate traces).
 *
 * @module
 */

import type { Rng } from "../engine/rng.ts";
import type { IoGeneratorSpec, IoSizeSpec } from "../workload/io_types.ts";

/** The next request of a source, written in place. */
export class RequestDraft {
  /** Open loop: the absolute submission time, in ns. */
  atNs = 0;
  /** The disk's index. */
  disk = 0;
  /** First block. */
  lba = 0;
  /** Bytes. */
  bytes = 0;
  /** The cylinder named by the workload, or -1 (the disk maps the block). */
  cylinder = -1;
  /** True for a write. */
  write = false;
  /** Deadline relative to submission, in ns, or Infinity. */
  deadlineNs = Infinity;
  /** Closed loop: the delay between this request's completion and the next submission. */
  thinkNs = 0;
}

/** A stream of one VM's requests. */
export interface RequestSource {
  /** What it is, for messages. */
  readonly label: string;
  /** The VM's index. */
  readonly vm: number;
  /** Whether it ends (an endless source needs the workload's `stopAt`). */
  readonly finite: boolean;
  /** 0 for an open-loop source; otherwise how many requests it keeps outstanding. */
  readonly depth: number;
  /** When a closed-loop source starts (open-loop sources give each request's time). */
  readonly startNs: number;
  /**
   * Writes the next request into `draft`.
   *
   * @returns False when the source is exhausted.
   */
  next(draft: RequestDraft): boolean;
}

/** Resolved explicit requests, in submission order: the arrays of a {@linkcode ListSource}. */
export interface RequestList {
  /** Absolute submission times, non-decreasing. */
  atNs: number[];
  /** Disk indices. */
  disk: number[];
  /** First blocks. */
  lba: number[];
  /** Byte counts. */
  bytes: number[];
  /** Named cylinders, or -1. */
  cylinder: number[];
  /** Writes. */
  write: boolean[];
  /** Relative deadlines, or Infinity. */
  deadlineNs: number[];
}

/** A VM's explicit requests (`vms[].io.requests`): open loop at their `at` times. */
export class ListSource implements RequestSource {
  readonly label: string;
  readonly vm: number;
  readonly finite = true;
  readonly depth = 0;
  readonly startNs = 0;
  #list: RequestList;
  #next = 0;

  /**
   * @param vm The VM's index.
   * @param list The requests, sorted by time.
   */
  constructor(vm: number, list: RequestList) {
    this.vm = vm;
    this.label = "requests";
    this.#list = list;
  }

  next(draft: RequestDraft): boolean {
    const list = this.#list, i = this.#next;
    if (i >= list.atNs.length) return false;
    this.#next++;
    draft.atNs = list.atNs[i]!;
    draft.disk = list.disk[i]!;
    draft.lba = list.lba[i]!;
    draft.bytes = list.bytes[i]!;
    draft.cylinder = list.cylinder[i]!;
    draft.write = list.write[i]!;
    draft.deadlineNs = list.deadlineNs[i]!;
    draft.thinkNs = 0;
    return true;
  }
}

/** A seeded request generator (`vms[].io.generate[]`). */
export class GeneratorSource implements RequestSource {
  readonly label: string;
  readonly vm: number;
  readonly finite: boolean;
  readonly depth: number;
  readonly startNs: number;
  #spec: IoGeneratorSpec;
  #disk: number;
  #from: number;
  #to: number;
  #rng: Rng;
  #left: number;
  #count = 0;
  #cursor: number;
  #clock: number;
  #deadlineNs: number;
  #weights: number[] | undefined;

  /**
   * @param vm The VM's index.
   * @param spec The generator.
   * @param options `disk`: its index; `from`, `to`: the block region; `arriveNs`: the VM's
   *   arrival; `deadlineNs`: the default relative deadline; `rng`: the generator's own stream.
   */
  constructor(
    vm: number,
    spec: IoGeneratorSpec,
    options: {
      disk: number;
      from: number;
      to: number;
      arriveNs: number;
      deadlineNs: number;
      rng: Rng;
    },
  ) {
    this.vm = vm;
    this.#spec = spec;
    this.label = `generator (${spec.pattern}${spec.rate !== undefined ? `, ${spec.rate}/s` : ""})`;
    this.finite = spec.count !== undefined;
    this.depth = spec.rate === undefined ? spec.depth ?? 1 : 0;
    this.startNs = options.arriveNs + spec.start;
    this.#disk = options.disk;
    this.#from = options.from;
    this.#to = options.to;
    this.#rng = options.rng;
    this.#left = spec.count ?? Infinity;
    this.#cursor = options.from;
    this.#clock = this.startNs;
    this.#deadlineNs = spec.deadline ?? options.deadlineNs;
    const size = spec.size;
    if (size.dist === "choice") {
      const weights = size.weights ?? size.bytes.map(() => 1);
      const total = weights.reduce((a, b) => a + b, 0);
      let sum = 0;
      this.#weights = weights.map((w) => (sum += w) / total);
    }
  }

  next(draft: RequestDraft): boolean {
    if (this.#left <= 0) return false;
    this.#left--;
    const spec = this.#spec, rng = this.#rng, span = this.#to - this.#from;
    const blocks = Math.min(span, Math.max(1, Math.ceil(this.#bytes(spec.size) / 512)));
    if (spec.pattern === "sequential") {
      if (this.#cursor + blocks > this.#to) this.#cursor = this.#from;
      draft.lba = this.#cursor;
      this.#cursor += blocks;
    } else {
      draft.lba = this.#from + rng.int(span - blocks + 1);
    }
    draft.write = rng.float() >= spec.readRatio;
    draft.bytes = blocks * 512;
    draft.disk = this.#disk;
    draft.cylinder = -1;
    draft.deadlineNs = this.#deadlineNs;
    draft.thinkNs = spec.think;
    if (spec.rate !== undefined) {
      const gapNs = 1e9 / spec.rate;
      if (spec.arrivals === "uniform") {
        draft.atNs = this.startNs + Math.round(this.#count * gapNs);
      } else {
        this.#clock += Math.round(rng.exponential(gapNs));
        draft.atNs = this.#clock;
      }
    }
    this.#count++;
    return true;
  }

  #bytes(size: IoSizeSpec): number {
    const rng = this.#rng;
    switch (size.dist) {
      case "fixed":
        return size.bytes;
      case "uniform":
        return size.min + rng.int(size.max - size.min + 1);
      case "exponential":
        return Math.round(rng.exponential(size.mean));
      case "choice": {
        const u = rng.float(), weights = this.#weights!;
        let i = 0;
        while (i < weights.length - 1 && u >= weights[i]!) i++;
        return size.bytes[i]!;
      }
    }
  }
}

/**
 * A DiskSim validate trace (`vms[].io.trace[]` with `format: "disksim"`): closed loop, one request
 * at a time, each issued its recorded idle time after the previous one completes.
 */
export class DisksimSource implements RequestSource {
  readonly label: string;
  readonly vm: number;
  readonly finite = true;
  readonly depth = 1;
  readonly startNs: number;
  #disk: number;
  #lba: Float64Array;
  #blocks: Float64Array;
  #write: Uint8Array;
  #thinkNs: Float64Array;
  #deadlineNs: number;
  #next = 0;

  /**
   * @param vm The VM's index.
   * @param label The trace's path, for messages.
   * @param records `lba`, `blocks`, `write` and `thinkNs` per record (already fitted to the disk).
   * @param options `disk`: its index; `startNs`: when the replay starts; `deadlineNs`.
   */
  constructor(
    vm: number,
    label: string,
    records: { lba: Float64Array; blocks: Float64Array; write: Uint8Array; thinkNs: Float64Array },
    options: { disk: number; startNs: number; deadlineNs: number },
  ) {
    this.vm = vm;
    this.label = `trace ${label}`;
    this.#lba = records.lba;
    this.#blocks = records.blocks;
    this.#write = records.write;
    this.#thinkNs = records.thinkNs;
    this.#disk = options.disk;
    this.startNs = options.startNs;
    this.#deadlineNs = options.deadlineNs;
  }

  next(draft: RequestDraft): boolean {
    const i = this.#next;
    if (i >= this.#lba.length) return false;
    this.#next++;
    draft.disk = this.#disk;
    draft.lba = this.#lba[i]!;
    draft.bytes = this.#blocks[i]! * 512;
    draft.cylinder = -1;
    draft.write = this.#write[i] === 1;
    draft.deadlineNs = this.#deadlineNs;
    draft.thinkNs = this.#thinkNs[i]!;
    return true;
  }
}

/**
 * An MSR Cambridge trace (`vms[].io.trace[]` with `format: "msr"`): open loop at the recorded
 * times.
 */
export class MsrSource implements RequestSource {
  readonly label: string;
  readonly vm: number;
  readonly finite = true;
  readonly depth = 0;
  readonly startNs = 0;
  #disk: number;
  #atNs: Float64Array;
  #lba: Float64Array;
  #bytes: Float64Array;
  #write: Uint8Array;
  #deadlineNs: number;
  #next = 0;

  /**
   * @param vm The VM's index.
   * @param label The trace's path, for messages.
   * @param records Absolute submission times, first blocks (already fitted to the disk), byte
   *   counts and writes.
   * @param options `disk`: its index; `deadlineNs`.
   */
  constructor(
    vm: number,
    label: string,
    records: { atNs: Float64Array; lba: Float64Array; bytes: Float64Array; write: Uint8Array },
    options: { disk: number; deadlineNs: number },
  ) {
    this.vm = vm;
    this.label = `trace ${label}`;
    this.#atNs = records.atNs;
    this.#lba = records.lba;
    this.#bytes = records.bytes;
    this.#write = records.write;
    this.#disk = options.disk;
    this.#deadlineNs = options.deadlineNs;
  }

  next(draft: RequestDraft): boolean {
    const i = this.#next;
    if (i >= this.#atNs.length) return false;
    this.#next++;
    draft.atNs = this.#atNs[i]!;
    draft.disk = this.#disk;
    draft.lba = this.#lba[i]!;
    draft.bytes = this.#bytes[i]!;
    draft.cylinder = -1;
    draft.write = this.#write[i] === 1;
    draft.deadlineNs = this.#deadlineNs;
    draft.thinkNs = 0;
    return true;
  }
}
