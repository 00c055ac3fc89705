import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

const policy = new URL("./mod.ts", import.meta.url);

Deno.test("passes the hyperhook checks", async () => {
  // Loads in the sandbox, no incident over the standard workloads, deterministic.
  await checkPolicy(policy);
});

Deno.test("a page used again gets a second chance", async () => {
  // Three frames. The fault on 4 clears every bit and evicts 1; 2 is used again, so the fault
  // on 5 spares it and evicts 3, and the last reference to 2 hits: 5 faults (FIFO takes 6).
  const report = await runPolicy(
    policy,
    workload([vm("P1", { memory: { refs: [1, 2, 3, 4, 2, 5, 2] } })], { memory: 3 }),
  );
  assertReport(report, { vms: { P1: { memory: { faults: 5 } } }, incidents: [] });
});
