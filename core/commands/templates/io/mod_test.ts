import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

const policy = new URL("./mod.ts", import.meta.url);

Deno.test("passes the hyperhook checks", async () => {
  // Loads in the sandbox, no incident over the standard workloads, deterministic.
  await checkPolicy(policy);
});

Deno.test("the textbook queue costs 322 cylinders of head movement", async () => {
  const cylinders = [98, 183, 37, 122, 14, 124, 65, 67];
  const report = await runPolicy(
    policy,
    workload([
      vm("P1", { io: { requests: cylinders.map((cylinder) => ({ disk: "d0", cylinder })) } }),
    ], {
      disks: [{ id: "d0", model: "linear", cylinders: 200, head: 53, direction: "up" }],
    }),
  );
  assertReport(report, { host: { disks: [{ seekCylinders: 322 }] }, incidents: [] });
});
