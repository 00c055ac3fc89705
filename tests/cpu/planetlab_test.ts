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

Deno.test({
  name: "deno task planetlab: bad input is one line and exit 2, never a stack trace",
  ignore: !present,
  async fn() {
    const script = new URL("../../scripts/planetlab_compare.ts", import.meta.url).pathname;
    const cases: [string[], RegExp][] = [
      [["--bogus"], /^Unknown option '--bogus'$/],
      [["--cpu", "nope"], /^Unknown cpu policy "nope": expected one of/],
      [["--workload", "/nonexistent.json"], /^Workload \/nonexistent\.json: cannot read the file/],
      [["--workload", example("fcfs_textbook.json")], /expected VMs with a demand/],
    ];
    for (const [args, expected] of cases) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr).trim();
      assert.equal(output.code, 2, `${args.join(" ")}: ${stderr}`);
      assert.equal(stderr.split("\n").length, 1, stderr);
      assert.match(stderr, expected);
    }
  },
});
