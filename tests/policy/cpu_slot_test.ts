// The CPU SDK's typed per-vCPU slot: made by the `vcpuSlot` hook once per vCPU when its VM
// appears, before `vmAdded`, and read by every hook as `vcpu.slot`; `data` stays free.
import assert from "node:assert/strict";
import { defineCpuPolicy, type VcpuView } from "../../core/policy/mod.ts";
import { BatchWriter, CPU_OP, type StartMessage } from "../../core/protocol/mod.ts";

interface Tickets {
  tickets: number;
  madeAt: number;
}

const start: StartMessage = { config: {}, seed: 1, host: { pcpus: 1, vms: [] } };

function vmAdd(batch: BatchWriter, atNs: number, index: number, vcpus: number[]): void {
  const spec = {
    index,
    id: `vm-${index}`,
    vcpus,
    states: vcpus.map(() => "new"),
    params: { index, weight: 100 * (index + 1), cap: 0, priority: 0, sched: {} },
  };
  batch.call1(CPU_OP.VM_ADD, atNs, batch.obj(spec));
}

Deno.test("vcpuSlot makes each vCPU's typed state once, when its VM appears, before vmAdded", () => {
  const seen: string[] = [];
  const policy = defineCpuPolicy({
    name: "slots",
    create() {
      const ready: VcpuView<Tickets>[] = [];
      return {
        vcpuSlot(ctx, vcpu): Tickets {
          seen.push(`slot ${vcpu.id}`);
          return { tickets: vcpu.vm.weight, madeAt: ctx.now };
        },
        vmAdded(_ctx, vm) {
          seen.push(`vmAdded ${vm.id}: ${vm.vcpus.map((v) => v.slot.tickets).join(",")}`);
        },
        enqueue(_ctx, vcpu) {
          vcpu.data = "free";
          ready.push(vcpu);
        },
        dispatch() {
          // The vCPU with the most tickets; its slot says when it was made.
          ready.sort((a, b) => b.slot.tickets - a.slot.tickets);
          const next = ready.shift();
          return next === undefined ? null : { vcpu: next, sliceNs: next.slot.madeAt + 1 };
        },
      };
    },
  });
  const { handler, result } = policy.start(start);
  assert.ok(!result.hooks.includes("vcpuSlot"), "the kernel hears only of the hooks it calls");
  const batch = new BatchWriter();
  vmAdd(batch, 5, 0, [0]);
  vmAdd(batch, 7, 1, [1, 2]);
  for (const vcpu of [0, 1, 2]) batch.call4(CPU_OP.ENQUEUE, 9, vcpu, 0, -1, -1);
  batch.call1(CPU_OP.DISPATCH, 9, 0);
  const reply = handler.handle(batch);
  assert.deepEqual(seen, [
    "slot 0",
    "vmAdded vm-0: 100",
    "slot 1",
    "slot 2",
    "vmAdded vm-1: 200,200",
  ]);
  // One answer of one pair: vCPU 1 (200 tickets, first of the two), slice madeAt + 1 = 8.
  assert.deepEqual([...reply.nums.subarray(0, reply.length)], [2, 1, 8]);
});

Deno.test("without vcpuSlot the slot stays undefined and data is the policy's", () => {
  let slot: unknown = "unset", data: unknown;
  const policy = defineCpuPolicy({
    name: "no-slots",
    create: () => ({
      enqueue(_ctx, vcpu) {
        slot = vcpu.slot;
        vcpu.data ??= { count: 0 };
        (vcpu.data as { count: number }).count++;
        data = vcpu.data;
      },
    }),
  });
  const { handler } = policy.start(start);
  const batch = new BatchWriter();
  vmAdd(batch, 0, 0, [0]);
  batch.call4(CPU_OP.ENQUEUE, 0, 0, 0, -1, -1);
  batch.call4(CPU_OP.ENQUEUE, 1, 0, 1, -1, -1);
  handler.handle(batch);
  assert.equal(slot, undefined);
  assert.deepEqual(data, { count: 2 });
});
