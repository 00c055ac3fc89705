/**
 * mq-deadline, after Linux's `block/mq-deadline.c`. Per disk, reads and writes each sit in two
 * lists: sorted by block, and in arrival order with an expiry time (`readExpire`, 500 ms;
 * `writeExpire`, 5 s). The disk serves batches of up to `fifoBatch` (16) requests in one direction,
 * ascending from the last block served. Between batches it prefers reads, but lets writes go once
 * reads have been chosen over waiting writes `writesStarved` (2) times; a batch starts from the
 * oldest request when that one has expired, or when nothing lies ahead of the last position.
 * Left out: request merging, I/O priority classes and zoned-device locking.
 *
 * @module
 */

import {
  defineIoPolicy,
  Fifo,
  type IoRequestView,
  param,
  SortedRequests,
} from "../../core/policy/mod.ts";

const READ = 0, WRITE = 1;

/** One disk's scheduler state (Linux's `struct deadline_data`). */
class DiskState {
  readonly sorted = [new SortedRequests("lba"), new SortedRequests("lba")];
  readonly fifo = [new Fifo<IoRequestView>(), new Fifo<IoRequestView>()];
  readonly queued = [0, 0];
  readonly latestPos = [0, 0];
  lastDir = WRITE;
  batching = 0;
  starved = 0;

  /** The oldest queued request of a direction (dispatched ones leave the FIFO lazily). */
  oldest(dir: number): IoRequestView | undefined {
    const fifo = this.fifo[dir]!;
    while (fifo.size > 0 && fifo.peek()!.status !== "queued") fifo.shift();
    return fifo.peek();
  }

  /** The first request of a direction at or after the last position served. */
  ahead(dir: number): IoRequestView | undefined {
    return this.sorted[dir]!.ceiling(this.latestPos[dir]!);
  }
}

export default defineIoPolicy({
  name: "deadline",
  config: {
    readExpire: param.duration("500ms"),
    writeExpire: param.duration("5s"),
    fifoBatch: param.number(16, { min: 1, integer: true }),
    writesStarved: param.number(2, { min: 0, integer: true }),
  },
  create({ config, disks }) {
    const states = disks.map(() => new DiskState());
    return {
      submitted(ctx, request) {
        const state = states[request.disk.index]!, dir = request.write ? WRITE : READ;
        // A request's own slot holds its expiry time.
        request.data = ctx.now + (request.write ? config.writeExpire : config.readExpire);
        state.sorted[dir]!.add(request);
        state.fifo[dir]!.push(request);
        state.queued[dir]!++;
      },
      dispatch(ctx, disk) {
        const state = states[disk.index]!;
        let dir = state.lastDir;
        let request = state.ahead(dir);
        if (request === undefined || state.batching >= config.fifoBatch) {
          // Not batching: choose a direction, reads first unless writes starved.
          if (state.queued[READ]! > 0) {
            dir = state.queued[WRITE]! > 0 && state.starved++ >= config.writesStarved
              ? WRITE
              : READ;
          } else if (state.queued[WRITE]! > 0) {
            dir = WRITE;
          } else {
            return null;
          }
          if (dir === WRITE) state.starved = 0;
          const oldest = state.oldest(dir)!;
          const next = state.ahead(dir);
          request = next === undefined || (oldest.data as number) <= ctx.now ? oldest : next;
          state.lastDir = dir;
          state.batching = 0;
        }
        state.batching++;
        state.sorted[dir]!.remove(request);
        state.queued[dir]!--;
        state.latestPos[dir] = request.lba;
        return request;
      },
    };
  },
});
