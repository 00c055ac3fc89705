import assert from "node:assert/strict";
import { evalInChild } from "../_helpers.ts";

// The kernel's time fields are doubles from construction (`core/engine/double_fields.ts`): storing
// a time past 2^30 ns into one must not change its object's shape, which would throw away the
// optimized kernel loop in the middle of a run. V8's own `%HaveSameMap` says whether two objects
// share a shape, so the check runs in a child with natives syntax allowed.
Deno.test("time fields hold times past 2^30 ns without changing their objects' shape", async () => {
  const root = new URL("../../", import.meta.url).href;
  const script = `
    const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)");
    const { Vcpu, Vm, Pcpu, WaitBuffer } = await import("${root}core/cpu/model.ts");
    const { ProgramCursor } = await import("${root}core/cpu/programs.ts");
    const { Rng } = await import("${root}core/engine/rng.ts");
    const { EventQueue } = await import("${root}core/engine/event_queue.ts");
    const { Histogram } = await import("${root}core/engine/histogram.ts");
    const { Kernel } = await import("${root}core/kernel/kernel.ts");
    const { VcpuView, VmView } = await import("${root}core/policy/cpu/views.ts");
    const LATE = 2 ** 31 + 0.5 - 0.5;
    const changed = [];
    const check = (name, make, fields) => {
      for (const field of fields) {
        const fresh = make(), used = make();
        used[field] = LATE;
        if (!sameMap(fresh, used)) changed.push(name + "." + field);
      }
    };
    const vm = new Vm(0, "a", { index: 0 }, null, 0, new WaitBuffer());
    check("Vcpu", () => new Vcpu(0, vm, 0, new ProgramCursor(new Rng(1))), [
      "remainingNs", "sinceNs", "switchedInNs", "sliceEndNs", "burstNs", "runNs", "waitNs",
    ]);
    check("Pcpu", () => new Pcpu(0), ["busyNs", "declinedAtNs"]);
    check("EventQueue", () => new EventQueue(), ["time", "tag"]);
    check("Histogram", () => new Histogram(), ["sum"]);
    check("Kernel", () => new Kernel({ seed: 1, fallback: () => { throw new Error(); } }), ["now"]);
    const view = new VmView(0, "a");
    check("VcpuView", () => new VcpuView(0, view, 0), ["pcpu", "readySinceNs", "ranNs"]);
    console.log(JSON.stringify(changed));
  `;
  const { code, stdout, stderr } = await evalInChild(script, "--allow-natives-syntax");
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), []);
});
