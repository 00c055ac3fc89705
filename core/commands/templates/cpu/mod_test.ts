import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

const policy = new URL("./mod.ts", import.meta.url);

Deno.test("passes the hyperhook checks", async () => {
  // Loads in the sandbox, no incident over the standard workloads, deterministic,
  // and never leaves a pCPU idle while a vCPU waits.
  await checkPolicy(policy, { workConserving: true });
});

Deno.test("a VM of twice the weight gets twice the CPU", async () => {
  const report = await runPolicy(
    policy,
    workload([
      vm("heavy", { weight: 512, pattern: "cpu-bound" }),
      vm("light", { weight: 256, pattern: "cpu-bound" }),
    ], { stopAt: "3s" }),
  );
  assertReport(report, {
    vms: { heavy: { cpu: { share: 2 / 3 } }, light: { cpu: { share: 1 / 3 } } },
    incidents: [],
  }, { absolute: 0.01 });
});
