import assert from "node:assert/strict";
import { LiveKernel } from "../../core/control/live.ts";
import { cpuWorkload, postedSource } from "./_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const STRIDE = new URL("../fixtures/serve/stride.ts", import.meta.url);

async function mutateAndClose(dir: string): Promise<{ hash: string; state: string }> {
  const live = await LiveKernel.create(
    { workload: cpuWorkload({ vms: 5 }), source: "test", baseDir: Deno.cwd(), options: {} },
    { paused: true, stateDir: dir },
  );
  try {
    await live.step({ by: "37ms" });
    await live.patchVm("vm-1", { weight: 700, sched: { x: "3ms" } });
    await live.step({});
    await live.addVm({ id: "late", vcpus: 2, cpu: { pattern: "cpu-bound" } });
    await live.step({ by: "120ms" });
    await live.swapPolicy("cpu", { source: postedSource(STRIDE), config: { quantum: "3ms" } });
    await live.step({ by: "55ms" });
    await live.removeVm("vm-2");
    await live.setSpeed({ speed: 3 });
    await live.step({ by: "1ms" });
    await live.step({ by: "80ms" });
    await assert.rejects(live.patchVm("ghost", { weight: 2 }));
  } finally {
    await live.close();
  }
  return {
    hash: internals(live.simulation).kernel.log.peek(),
    state: comparable(live.stateText()),
  };
}

function comparable(text: string): string {
  const { takenAtMs: _t, lagNs: _l, ...rest } = JSON.parse(text);
  for (const vm of rest.vms) delete vm.cpu.recentShare;
  for (const pcpu of rest.pcpus) delete pcpu.recentUtilization;
  return JSON.stringify(rest);
}

Deno.test("resume replays the audit log to the very same kernel: same decisions, same state", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    const original = await mutateAndClose(dir);
    const warnings: string[] = [];
    const resumed = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
    try {
      assert.deepEqual(warnings, []);
      assert.equal(internals(resumed.simulation).kernel.log.peek(), original.hash);
      assert.equal(comparable(resumed.stateText()), original.state);
      assert.equal(resumed.mutations, 11);
      assert.equal(resumed.speed, 3);
      assert.equal(resumed.paused, true);
      assert.equal(resumed.state().policies.cpu!.name, "stride");
    } finally {
      await resumed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resume drops a torn last line, and reports a replay that diverges", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    await mutateAndClose(dir);
    const log = `${dir}/audit.jsonl`;
    await Deno.writeTextFile(log, '{"seq":12,"atNs":1,"op":"vm.pa', { append: true });
    const checkpoint = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
    checkpoint.eventsHash = "0".repeat(64);
    await Deno.writeTextFile(`${dir}/checkpoint.json`, JSON.stringify(checkpoint));
    const warnings: string[] = [];
    const resumed = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
    try {
      assert.equal(resumed.mutations, 11);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^Replay diverged: at [\d.]+ms the decision hash is [0-9a-f]{64}/);
      await resumed.patchVm("vm-1", { weight: 5 });
    } finally {
      await resumed.close();
    }
    const lines = (await Deno.readTextFile(log)).split("\n");
    assert.equal(lines.at(-1), "");
    assert.equal(JSON.parse(lines.at(-2)!).seq, 12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
