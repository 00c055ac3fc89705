/**
 * Bad input to a sweep: one line naming the place and what was expected, exit 2, and nothing
 * written (the output folder is not even created).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, hyperhook, planFolder } from "./_helpers.ts";

async function refused(
  plan: Record<string, unknown>,
  extra: string[] = [],
): Promise<string> {
  const folder = await planFolder(plan);
  try {
    const out = join(folder.dir, "out");
    const run = await hyperhook(["sweep", folder.plan, "--out", out, ...extra]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, "");
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
    return lines[0]!.replaceAll(folder.dir, "DIR");
  } finally {
    await folder.remove();
  }
}

Deno.test("an unknown metric path names the path and what the report has there", async () => {
  assert.equal(
    await refused({ name: "bad", metrics: ["host.cpu.fairness", "host.cpu.fairnes"] }),
    'hyperhook: Sweep plan DIR/plan.json: metrics[1]: unknown report path "host.cpu.fairnes": host.cpu has pcpus, utilization, switches, fairness, meanWaitNs, latencyNs',
  );
  assert.equal(
    await refused({ name: "bad", metrics: ["host.cpu.latencyNs"] }),
    "hyperhook: Sweep plan DIR/plan.json: metrics[0]: host.cpu.latencyNs is an object (mean, p50, p99, max): expected a number, such as host.cpu.latencyNs.mean",
  );
  assert.equal(
    await refused({ name: "bad", metrics: ["vms.cpu.waitNs"] }),
    "hyperhook: Sweep plan DIR/plan.json: metrics[0]: vms.cpu.waitNs: expected an aggregate (mean, min, max, sum) last, as in vms.cpu.waitNs.mean, or one item as vms[ID].cpu.waitNs",
  );
});

Deno.test("a matrix key that is not a workload field is named as such", async () => {
  const line = await refused({
    name: "bad",
    matrix: { "host.pcpu": [2, 4] },
    metrics: ["host.cpu.fairness"],
  });
  assert.equal(
    line,
    'hyperhook: Sweep plan DIR/plan.json: matrix["host.pcpu"]: expected a workload field such as host.pcpus or policies.cpu, but it is not one (Workload DIR/workload.json: host: unknown key "pcpu")',
  );
});

Deno.test("a matrix value the workload refuses, or a policy config the policy refuses, stops the sweep before it runs", async () => {
  assert.equal(
    await refused({
      name: "bad",
      matrix: { "host.pcpus": [2, 0] },
      metrics: ["host.cpu.fairness"],
    }),
    "hyperhook: Sweep plan DIR/plan.json: matrix host.pcpus=0: Workload DIR/workload.json: host.pcpus: expected a value of at least 1, got 0",
  );
  assert.equal(
    await refused({
      name: "bad",
      matrix: { "policies.cpu": ["rr", { use: "rr", config: { quantm: "5ms" } }] },
      metrics: ["host.cpu.fairness"],
    }),
    'hyperhook: Sweep plan DIR/plan.json: DIR/workload.json with policies.cpu={"use":"rr","config":{"quantm":"5ms"}}: Policy rr config.quantm: unknown parameter; expected one of quantum, ahead, spread',
  );
});

Deno.test("an unreachable Redis is one line and exit 2, for the sweep and for a worker", async () => {
  const url = `redis://127.0.0.1:${freePort()}`;
  const line = await refused({ name: "bad", metrics: ["host.cpu.fairness"] }, [
    "--engine",
    "bullmq",
    "--redis",
    url,
  ]);
  assert.match(
    line,
    new RegExp(
      `^hyperhook: --redis ${url}: cannot reach Redis \\(.+\\); expected a running redis-server there$`,
    ),
  );
  const worker = await hyperhook(["worker", "--redis", url]);
  assert.equal(worker.code, 2);
  assert.match(
    worker.stderr,
    new RegExp(
      `^hyperhook: --redis ${url}: cannot reach Redis \\(.+\\); expected a running redis-server there\\n$`,
    ),
  );
});

Deno.test("plan errors name their place", async () => {
  assert.equal(
    await refused({ name: "bad", seeds: { from: 1, count: 0 }, metrics: ["host.cpu.fairness"] }),
    "hyperhook: Sweep plan DIR/plan.json: seeds.count: expected an integer from 1 to 100000, got 0",
  );
  assert.equal(
    await refused({ name: "bad", workloads: ["nothing/*.json"], metrics: ["host.cpu.fairness"] }),
    'hyperhook: Sweep plan DIR/plan.json: workloads[0]: expected a workload file, but "nothing/*.json" matches no file',
  );
});
