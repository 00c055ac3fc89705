/**
 * Equivalence: a policy makes the same decisions wherever it runs. For every built-in policy of
 * every domain (listed from `BUILTIN_POLICIES`, so new ones are picked up) and every example
 * policy (`examples/policies/`), on every textbook workload (`examples/workloads/*_textbook.json`),
 * the demo (cut to 2 s of simulated time) and the scale workload (64 pCPUs, 512 two-vCPU VMs, half
 * CPU-bound, half interactive; 100 ms), `none`, `worker`, `process` (the kernel replays the
 * answers of a copy of itself running beside the policy) and `process-rpc` (a round trip per
 * batch) give the same `eventsHash`, and the same report apart from the wall time and the
 * isolation. A policy that refuses a workload must refuse it with the same message under all.
 *
 * A workload exercises the CPU domain always, the memory domain when it has `host.memory`, and
 * the I/O domain when it has `host.disks`; each built-in of an exercised domain replaces the
 * workload's choice for that domain (keeping the workload's config when it names that policy).
 */

import assert from "node:assert/strict";
import { BUILTIN_POLICIES } from "../../plugins/mod.ts";
import type { Domain } from "../../core/protocol/definition.ts";
import type { Report } from "../../core/report/report.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { type PolicyChoice, simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import type { Workload } from "../../core/workload/schema.ts";

const WORKLOADS = new URL("../../examples/workloads/", import.meta.url);
const ISOLATIONS: readonly Isolation[] = ["none", "worker", "process", "process-rpc"];
const EXAMPLES = new URL("../../examples/policies/", import.meta.url);
/** The example policies, by domain. */
const EXAMPLE_POLICIES: Record<Domain, string[]> = {
  cpu: ["eevdf.ts", "lottery.ts"],
  memory: ["working_set.ts"],
  io: ["deadline_scan.ts"],
  placement: [],
};
/** Determinism is under test here, not deadlines: slow CI machines must not stall a policy. */
const SANDBOX = { batchDeadlineMs: 10_000, initDeadlineMs: 30_000 };

async function readSpec(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(name, WORKLOADS)));
}

const workloads: { name: string; spec: Record<string, unknown> }[] = [];
for (const entry of [...Deno.readDirSync(WORKLOADS)].sort((a, b) => a.name < b.name ? -1 : 1)) {
  if (entry.name.endsWith("_textbook.json")) {
    workloads.push({ name: entry.name, spec: await readSpec(entry.name) });
  }
}
workloads.push({ name: "demo.json (2 s)", spec: { ...await readSpec("demo.json"), stopAt: "2s" } });
workloads.push({
  name: "scale (100 ms)",
  spec: {
    schema: "hyperhook.workload/v1",
    name: "scale",
    seed: 1,
    host: { pcpus: 64 },
    stopAt: "100ms",
    vms: Array.from({ length: 512 }, (_, i) => ({
      id: `vm-${i}`,
      vcpus: 2,
      cpu: i % 2 === 0
        ? { pattern: "cpu-bound" }
        : { pattern: "interactive", run: "1ms", sleep: "10ms" },
    })),
  },
});

/** The domains a workload exercises. */
function domainsOf(workload: Workload): Exclude<Domain, "placement">[] {
  const domains: Exclude<Domain, "placement">[] = ["cpu"];
  if (workload.host.memory !== undefined) domains.push("memory");
  if ((workload.host.disks ?? []).length > 0) domains.push("io");
  return domains;
}

/** What must not differ between isolations: the report without wall time and isolation. */
function comparable(report: Report): unknown {
  const { wallMs: _wallMs, policies, ...rest } = report;
  const named = Object.fromEntries(
    Object.entries(policies).map(([domain, policy]) => {
      const { isolation: _isolation, ...kept } = policy!;
      return [domain, kept];
    }),
  );
  return { ...rest, policies: named };
}

/** Runs `choice` on `workload` under `isolation`: the comparable report, or the refusal. */
async function outcome(
  workload: Workload,
  domain: Domain,
  choice: PolicyChoice,
  isolation: Isolation,
): Promise<{ report?: unknown; hash?: string; refused?: string }> {
  try {
    const report = await simulate(workload, {
      policies: { [domain]: choice },
      isolation,
      sandbox: SANDBOX,
    });
    return { report: comparable(report), hash: report.eventsHash };
  } catch (error) {
    return { refused: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

for (const { name, spec } of workloads) {
  const workload = parseWorkload(spec);
  const domains = domainsOf(workload);
  Deno.test(`equivalence: ${name}: every built-in and example ${domains.join(", ")} policy, under ${ISOLATIONS.join(" = ")}`, async () => {
    const pairs: { domain: Domain; choice: PolicyChoice }[] = [];
    for (const domain of domains) {
      for (const policy of Object.keys(BUILTIN_POLICIES[domain])) {
        const own = workload.policies[domain];
        pairs.push({ domain, choice: own?.use === policy ? own : { use: policy } });
      }
      for (const example of EXAMPLE_POLICIES[domain]) {
        pairs.push({ domain, choice: { use: new URL(example, EXAMPLES).pathname } });
      }
    }
    const failures: string[] = [];
    let next = 0, compared = 0;
    const lane = async () => {
      while (next < pairs.length) {
        const { domain, choice } = pairs[next++]!;
        const [none, ...sandboxed] = await Promise.all(
          ISOLATIONS.map((isolation) => outcome(workload, domain, choice, isolation)),
        );
        for (const [index, other] of sandboxed.entries()) {
          const what = `${domain} ${choice.use} under ${ISOLATIONS[index + 1]}`;
          try {
            assert.deepEqual(other, none, what);
            compared++;
          } catch {
            failures.push(
              `${what}: ${other!.hash ?? other!.refused} instead of ${none!.hash ?? none!.refused}`,
            );
          }
        }
      }
    };
    await Promise.all([lane(), lane()]);
    assert.deepEqual(failures, []);
    assert.equal(compared, pairs.length * (ISOLATIONS.length - 1));
  });
}
