/**
 * Equivalence: a policy makes the same decisions wherever it runs. For every built-in policy of
 * every domain (listed from `BUILTIN_POLICIES`, so new ones are picked up) and every textbook
 * workload (`examples/workloads/*_textbook.json`) plus the demo (cut to 2 s of simulated time),
 * `none`, `worker` and `process` give the same `eventsHash`, and the same report apart from the
 * wall time and the isolation. A policy that refuses a workload must refuse it with the same
 * message under all three.
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
import { type PolicyChoice, simulate } from "../../core/simulate.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import type { Workload } from "../../core/workload/schema.ts";

const WORKLOADS = new URL("../../examples/workloads/", import.meta.url);
const ISOLATIONS: readonly Isolation[] = ["none", "worker", "process"];
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
  Deno.test(`equivalence: ${name}: every built-in ${domains.join(", ")} policy, none = worker = process`, async () => {
    const pairs: { domain: Domain; choice: PolicyChoice }[] = [];
    for (const domain of domains) {
      for (const policy of Object.keys(BUILTIN_POLICIES[domain])) {
        const own = workload.policies[domain];
        pairs.push({ domain, choice: own?.use === policy ? own : { use: policy } });
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
    assert.equal(compared, pairs.length * 2);
  });
}
