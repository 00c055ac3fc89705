/**
 * The I/O policy's side of the hook protocol: decodes each batch the kernel sends, keeps the
 * policy's views up to date, calls its hooks in order and encodes their answers.
 *
 * @module
 */

import { Fifo } from "../../engine/fifo.ts";
import { LiveById } from "../../engine/live_by_id.ts";
import type { Rng } from "../../engine/rng.ts";
import { type Batch, type Reply, ReplyWriter } from "../../protocol/batch.ts";
import type { PolicyHandler } from "../../protocol/definition.ts";
import { IO_OP } from "../../protocol/ops.ts";
import type { IoVmSpec } from "../../protocol/payloads.ts";
import type { HeadSeek, IoContext, IoDispatch, IoHooks } from "./hooks.ts";
import { type DiskView, IoRequestView, IoVmView } from "./views.ts";

/**
 * Decodes the kernel's batches for an I/O policy: keeps the views up to date, calls the hooks in
 * call order, and writes their answers. It is also the `ctx` every hook receives.
 */
export class IoHandler<C> implements PolicyHandler, IoContext<C> {
  now = 0;
  readonly rng: Rng;
  readonly config: C;
  readonly disks: readonly DiskView[];
  readonly vms: IoVmView[] = [];
  #live = new LiveById<IoRequestView>();
  #hooks: IoHooks<C>;
  #reply = new ReplyWriter();
  /** The default per-disk FIFOs of a policy without a `dispatch` hook. */
  #fifos: Fifo<IoRequestView>[] | undefined;

  constructor(hooks: IoHooks<C>, config: C, disks: readonly DiskView[], rng: Rng) {
    this.#hooks = hooks;
    this.config = config;
    this.disks = disks;
    this.rng = rng;
    if (hooks.dispatch === undefined) this.#fifos = disks.map(() => new Fifo<IoRequestView>());
  }

  request(id: number): IoRequestView | undefined {
    return this.#live.get(id);
  }

  /** Where in the last batch the call that threw starts (an offset into its numbers). */
  failedCall = -1;

  handle(batch: Batch): Reply {
    const reply = this.#reply;
    reply.clear();
    const nums = batch.nums, hooks = this.#hooks;
    // Where the call being run starts: a hook that throws is named in the incident, with its
    // arguments (the kernel reads them from its own copy of the batch).
    let at = 0;
    try {
      for (let i = 0; i < batch.length;) {
        at = i;
        const op = nums[i]!, a = i + 3;
        this.now = nums[i + 1]!;
        i = a + nums[i + 2]!;
        switch (op) {
          case IO_OP.SUBMIT: {
            const deadline = nums[a + 8]!;
            const request = new IoRequestView(
              nums[a]!,
              this.vms[nums[a + 1]!]!,
              this.disks[nums[a + 2]!]!,
              {
                write: nums[a + 3] === 1,
                lba: nums[a + 4]!,
                bytes: nums[a + 5]!,
                cylinder: nums[a + 6]!,
                submittedNs: nums[a + 7]!,
                deadlineNs: deadline < 0 ? Infinity : deadline,
              },
            );
            this.#live.add(request);
            if (nums[a + 9] === 1) {
              request.status = "started";
              request.disk.active = request;
              hooks.started?.(this, request);
              break;
            }
            this.#fifos?.[request.disk.index]?.push(request);
            hooks.submitted?.(this, request);
            break;
          }
          case IO_OP.STARTED: {
            const request = this.#live.get(nums[a]!);
            if (request === undefined) break;
            request.status = "started";
            request.disk.active = request;
            hooks.started?.(this, request);
            break;
          }
          case IO_OP.COMPLETE: {
            const request = this.#live.get(nums[a]!);
            if (request === undefined) break;
            this.#live.delete(request);
            request.status = "done";
            const disk = request.disk;
            if (disk.active === request) disk.active = null;
            this.#moveHead(disk, nums[a + 2]!);
            hooks.completed?.(this, request, nums[a + 3]!);
            break;
          }
          case IO_OP.DISPATCH: {
            const disk = this.disks[nums[a]!]!;
            this.#moveHead(disk, nums[a + 1]!);
            this.#answerDispatch(disk);
            break;
          }
          case IO_OP.VM_ADD:
          case IO_OP.VM_PARAMS: {
            const spec = batch.objs[nums[a]!] as IoVmSpec;
            let vm = this.vms[spec.index];
            const added = vm === undefined || op === IO_OP.VM_ADD;
            if (vm === undefined) vm = this.vms[spec.index] = new IoVmView(spec.index, spec.id);
            vm.weight = spec.weight;
            vm.max = { ...spec.max };
            if (added) hooks.vmAdded?.(this, vm);
            else hooks.vmChanged?.(this, vm);
            break;
          }
          case IO_OP.VM_REMOVE: {
            const vm = this.vms[nums[a]!];
            if (vm === undefined) break;
            vm.alive = false;
            hooks.vmRemoved?.(this, vm);
            break;
          }
        }
      }
    } catch (error) {
      this.failedCall = at;
      throw error;
    }
    return reply;
  }

  #moveHead(disk: DiskView, head: number): void {
    if (head > disk.head) disk.direction = "up";
    else if (head < disk.head) disk.direction = "down";
    disk.head = head;
  }

  #answerDispatch(disk: DiskView): void {
    const reply = this.#reply;
    if (this.#fifos !== undefined) {
      const fifo = this.#fifos[disk.index]!;
      let next = fifo.shift();
      while (next !== undefined && next.status !== "queued") next = fifo.shift();
      if (next === undefined) reply.begin(0);
      else reply.begin(1), this.#push(next);
      return;
    }
    const answer = this.#hooks.dispatch!(this, disk);
    if (answer === null || answer === undefined) {
      reply.begin(0);
    } else if (Array.isArray(answer)) {
      reply.begin(answer.length);
      for (const item of answer as readonly IoDispatch[]) this.#push(item);
    } else {
      reply.begin(1);
      this.#push(answer as IoDispatch);
    }
  }

  #push(item: IoDispatch): void {
    if (typeof item === "number") {
      const request = this.#live.get(item);
      if (request !== undefined && request.status === "queued") request.status = "dispatched";
      this.#reply.push(item);
    } else if (item instanceof IoRequestView) {
      if (item.status === "queued") item.status = "dispatched";
      this.#reply.push(item.id);
    } else {
      const cylinder = Number((item as HeadSeek)?.seekTo);
      // A malformed seek is sent as NaN, which the kernel rejects with a clear reason.
      this.#reply.push(Number.isInteger(cylinder) && cylinder >= 0 ? -(cylinder + 1) : NaN);
    }
  }
}
