/**
 * What the I/O domain keeps: requests (pooled), disks with their local queues and books, and
 * each VM's I/O state and figures.
 *
 * @module
 */

import { Fifo } from "../engine/fifo.ts";
import { Histogram } from "../engine/histogram.ts";
import type { IoLimits } from "../protocol/payloads.ts";
import type { DiskModel } from "./disk/model.ts";

/** A request's states: pooled (free), held by `io.max`, queued at the policy, in a disk's local queue, being served. */
export const FREE = 0, HELD = 1, QUEUED = 2, LOCAL = 3, SERVICE = 4;
/** How messages name the states. */
export const STATE_NAMES: readonly string[] = [
  "completed",
  "held by its VM's io.max limit",
  "queued",
  "already dispatched",
  "being served",
];

/** A request as the kernel keeps it (pooled: objects are reused once completed). */
export class IoRequest {
  /** Its id (increasing in submission order; never reused). */
  id = -1;
  /** The VM's index. */
  vm = 0;
  /** The disk's index. */
  disk = 0;
  /** First block. */
  lba = 0;
  /** Blocks. */
  blocks = 1;
  /** Bytes. */
  bytes = 0;
  /** The cylinder it addresses. */
  cylinder = 0;
  /** The cylinder the workload named (textbook requests), or -1. */
  named = -1;
  /** True for a write. */
  write = false;
  /** When the VM submitted it. */
  submitNs = 0;
  /** When it reached the policy. */
  queuedNs = 0;
  /** When it started on the disk. */
  startNs = 0;
  /** When a held request is due for release. */
  releaseNs = 0;
  /** Its absolute deadline, or Infinity. */
  deadlineNs = Infinity;
  /** FREE, HELD, QUEUED, LOCAL or SERVICE. */
  state = FREE;
  /** The source it came from, or -1. */
  source = -1;
  /** The vCPU blocked on it, or -1. */
  vcpu = -1;
  /** Closed-loop sources: delay after its completion before the next submission. */
  thinkNs = 0;
}

/** A disk as the kernel keeps it. */
export class Disk {
  /** Index in `host.disks`. */
  readonly index: number;
  /** Name. */
  readonly id: string;
  /** Its service-time model. */
  readonly model: DiskModel;
  /** Which way the head last moved. */
  direction: "up" | "down";
  /**
   * Local queue: request ids, and head movements as `-(cylinder + 1)`, from `localHead` to
   * `localEnd`. Both go back to 0 when it empties; the array is never shortened, since shortening
   * a JavaScript array frees its storage and the next push allocates it again, at every request.
   */
  readonly local: number[] = [];
  /** Head of the local queue. */
  localHead = 0;
  /** End of the local queue. */
  localEnd = 0;
  /** The request being served, or null. */
  active: IoRequest | null = null;
  /** Whether a head movement is under way. */
  seeking = false;
  /** When the current job started. */
  jobStartNs = 0;
  /** Bumped at every job, so stale completions are recognised. */
  gen = 0;
  /** Requests queued at the policy for this disk. */
  queued = 0;
  /** The instant the policy last declined to give it work. */
  declinedAtNs = -1;
  /** Since when it has been idle with requests queued and the policy declining, or -1. */
  idleSinceNs = -1;
  /** Head movements accepted since the last request. */
  seeksInARow = 0;
  /** Requests started. */
  requests = 0;
  /** Requests completed. */
  completed = 0;
  /** Total head travel, in cylinders. */
  seekCylinders = 0;
  /** Time spent serving requests and moving the head. */
  busyNs = 0;
  /** Requests that completed after their deadline (or were unfinished past it at the end). */
  deadlineMisses = 0;

  /** @internal */
  constructor(index: number, id: string, model: DiskModel, direction: "up" | "down") {
    this.index = index;
    this.id = id;
    this.model = model;
    this.direction = direction;
  }
}

/** A VM's I/O state and figures. */
export class IoVm {
  /** Index (the same as in the CPU domain). */
  readonly index: number;
  /** Name. */
  readonly id: string;
  /** cgroup `io.weight`. */
  weight: number;
  /** cgroup `io.max` (0 = none). */
  max: IoLimits;
  /** Whether the policy has heard of it. */
  announced = false;
  /** When it was removed (live control), or null. */
  removedNs: number | null = null;
  /** Requests submitted. */
  requests = 0;
  /** Requests completed. */
  completed = 0;
  /** Bytes of the completed requests. */
  bytes = 0;
  /** Latency (submission to completion) of completed requests. */
  readonly latency: Histogram = new Histogram();
  /** Requests that completed after their deadline (or were unfinished past it at the end). */
  deadlineMisses = 0;
  /** Time its requests spent held back by `io.max`. */
  throttledNs = 0;
  /** Pacing per direction (read, write): last release, bytes budget free at, iops budget free at. */
  readonly pace: Float64Array = new Float64Array(6);
  /** Held requests per direction, in release order. */
  readonly held: [Fifo<IoRequest>, Fifo<IoRequest>] = [new Fifo(), new Fifo()];

  /** @internal */
  constructor(index: number, id: string, weight: number, max: IoLimits) {
    this.index = index;
    this.id = id;
    this.weight = weight;
    this.max = max;
  }
}
