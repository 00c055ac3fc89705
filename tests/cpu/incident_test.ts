// A broken policy is ejected with an incident; the fallback finishes the run.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

const fixture = (name: string) => new URL(`../fixtures/cpu/${name}`, import.meta.url).pathname;

const workload = (extra: Record<string, unknown>[] = []) =>
  workloadFile({
    schema: "hyperhook.workload/v1",
    name: "incident",
    host: { pcpus: 2 },
    vms: [
      { id: "a", cpu: { program: [{ run: "3ms" }, { sleep: "2ms" }], repeat: 10 } },
      { id: "b", cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 10 } },
      { id: "c", cpu: { program: [{ run: "7ms" }] } },
      ...extra,
    ],
  });

async function ejected(
  policy: string,
  extra: Record<string, unknown>[] = [],
  flags: string[] = [],
) {
  const result = await runCli([
    "run",
    await workloadFile(JSON.parse(await Deno.readTextFile(await workload(extra)))),
    "--cpu",
    fixture(policy),
    "--isolation",
    "none",
    "--format",
    "json",
    ...flags,
  ]);
  assert.equal(result.code, 1, "a run whose policy under test was ejected exits 1");
  const report = JSON.parse(result.stdout);
  assert.equal(report.incidents.length, 1);
  assert.equal(report.policies.cpu.ejected, true);
  for (const vm of report.vms) assert.notEqual(vm.cpu.finishNs, null, `VM ${vm.id} finished`);
  assert.match(result.stderr, /incident at .* cpu policy/);
  return report.incidents[0];
}

Deno.test("dispatching a blocked vCPU is an invalid decision: incident, fallback, run completes", async () => {
  const incident = await ejected("runs_blocked_vcpu.ts");
  assert.equal(incident.kind, "invalid");
  assert.equal(incident.reason, "vcpu-not-runnable");
  assert.equal(incident.domain, "cpu");
  assert.equal(incident.policy, "runs-blocked-vcpu");
  assert.match(incident.message, /which is blocked/);
  assert.equal(typeof incident.atNs, "number");
});

Deno.test("a negative slice is an invalid decision", async () => {
  const incident = await ejected("bad_slice.ts");
  assert.deepEqual([incident.kind, incident.reason, incident.atNs], ["invalid", "bad-slice", 0]);
});

Deno.test("a throw in a hook is an error incident carrying the policy's message", async () => {
  const incident = await ejected("throws.ts");
  assert.equal(incident.kind, "error");
  assert.match(incident.message, /RangeError: the policy lost count/);
});

Deno.test("the watchdog ejects a policy that leaves a runnable vCPU unrun past the timeout", async () => {
  const incident = await ejected("starves.ts", [{
    id: "victim",
    cpu: { program: [{ run: "1ms" }] },
  }], [
    "--stall",
    "2s",
  ]);
  assert.deepEqual([incident.kind, incident.reason, incident.atNs], ["stall", "watchdog", 2e9]);
  assert.match(incident.message, /VM victim was runnable for 2 s/);
});
