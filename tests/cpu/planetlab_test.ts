// PlanetLab replay (issue 6): 300 measured VMs on a host sized above their demand; rr, credit and
// fair each deliver every VM's demanded CPU within 1 %. Needs ../shared/traces (skipped without).
import assert from "node:assert/strict";
import { example, runCli } from "../_helpers.ts";

const TRACES = new URL("../../../shared/traces/planetlab-20110303/", import.meta.url);
const present = (() => {
  try {
    Deno.statSync(TRACES);
    return true;
  } catch {
    console.warn(
      `Skipping the PlanetLab replay tests: ${decodeURIComponent(TRACES.pathname)} is absent ` +
        "(the measured traces live in ../shared/traces, outside the repository).",
    );
    return false;
  }
})();

for (const policy of ["rr", "credit", "fair"]) {
  Deno.test({
    name:
      `PlanetLab replay under ${policy}: capacity above demand, delivered = demanded within 1 % for every VM (needs ../shared/traces)`,
    ignore: !present,
    async fn() {
      const result = await runCli([
        "run",
        example("planetlab_replay.json"),
        "--cpu",
        policy,
        "--format",
        "json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.vms.length, 300);
      assert.equal(report.host.cpu.pcpus, 64);
      for (const vm of report.vms) {
        const { runNs, demandNs } = vm.cpu;
        assert.ok(demandNs > 0, `${vm.id} asked for CPU`);
        assert.ok(
          Math.abs(runNs - demandNs) <= 0.01 * demandNs,
          `${vm.id}: delivered ${runNs} ns of ${demandNs} ns demanded`,
        );
      }
    },
  });
}
