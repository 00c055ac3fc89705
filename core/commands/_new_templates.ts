/**
 * The files `hyperhook new` writes: a policy package per domain. Private to `core/commands/`.
 *
 * @module
 */

import type { Domain } from "../protocol/definition.ts";

/** What a template needs to know. */
export interface TemplateContext {
  /** The package name, `@scope/name`. */
  packageName: string;
  /** The policy's name (the package name without its scope). */
  policyName: string;
  /** The framework's version range, such as `^0.1.0`. */
  range: string;
  /** The folder of the checkout to link, or undefined when not made from a checkout. */
  link: string | undefined;
}

/** One domain's template: its policy, test, example workload and README blurb. */
interface DomainTemplate {
  /** `mod.ts`. */
  policy(context: TemplateContext): string;
  /** `mod_test.ts`. */
  test(context: TemplateContext): string;
  /** `workload.json`. */
  workload(context: TemplateContext): unknown;
  /** What the policy does, for the README. */
  summary: string;
}

const CPU: DomainTemplate = {
  summary: "weighted round robin: runnable vCPUs take turns, each for a slice " +
    "proportional to its VM's weight (a VM of weight 256 gets one `quantum`).",
  policy: ({ policyName }) =>
    `/**
 * ${policyName}: weighted round robin. Runnable vCPUs wait in one queue; each runs for a slice
 * proportional to its VM's weight (a VM of weight 256 gets one \`quantum\`), then goes to the back.
 *
 * @example Run it on the example workload
 * \`\`\`sh
 * deno task sim
 * \`\`\`
 *
 * @module
 */

import {
  type CpuPolicy,
  defineCpuPolicy,
  Fifo,
  param,
  type VcpuView,
} from "@hyperhook/hyperhook/policy";

/** Weighted round robin: each turn lasts \`quantum × weight / 256\`. */
const policy: CpuPolicy = defineCpuPolicy({
  name: "${policyName}",
  config: { quantum: param.duration("10ms", { min: "100us" }) },
  create({ config }) {
    const queue = new Fifo<VcpuView>();
    return {
      enqueue(_ctx, vcpu) {
        queue.push(vcpu);
      },
      dispatch() {
        const vcpu = queue.shift();
        if (vcpu === undefined) return null;
        return { vcpu, sliceNs: Math.max(1, Math.round(config.quantum * vcpu.vm.weight / 256)) };
      },
    };
  },
});

export default policy;
`,
  test: () =>
    `import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

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
`,
  workload: ({ policyName }) => ({
    schema: "hyperhook.workload/v1",
    name: `${policyName}-example`,
    description: "Two pCPUs: a heavy and a light CPU-bound VM, two interactive VMs, a late job",
    seed: 1,
    host: { pcpus: 2 },
    stopAt: "2s",
    vms: [
      { id: "heavy", weight: 512, cpu: { pattern: "cpu-bound" } },
      { id: "light", weight: 256, cpu: { pattern: "cpu-bound" } },
      { id: "web-1", cpu: { pattern: "interactive", run: "2ms", sleep: "20ms" } },
      { id: "web-2", cpu: { pattern: "interactive", run: "2ms", sleep: "20ms" } },
      { id: "job", cpu: { arrive: "500ms", program: [{ run: "200ms" }] } },
    ],
  }),
};

const MEMORY: DomainTemplate = {
  summary: "second chance (CLOCK): a hand sweeps the frames; a frame referenced since the " +
    "hand last passed is spared once, the first one that was not is the victim.",
  policy: ({ policyName }) =>
    `/**
 * ${policyName}: second chance (CLOCK). The frames form a circle and a hand sweeps it; a frame
 * referenced since the hand last passed loses its bit and is spared once, and the first frame
 * found without the bit is the victim.
 *
 * @example Run it on the example workload
 * \`\`\`sh
 * deno task sim
 * \`\`\`
 *
 * @module
 */

import { defineMemoryPolicy, type MemoryPolicy } from "@hyperhook/hyperhook/policy";

/** Second chance: evict the first frame the hand finds unreferenced. */
const policy: MemoryPolicy = defineMemoryPolicy({
  name: "${policyName}",
  create({ frames }) {
    let hand = 0;
    return {
      victim(_ctx, fault) {
        // Two sweeps at most: the first clears every bit it passes.
        for (let step = 0; step < 2 * frames.count + 1; step++) {
          const frame = hand;
          hand = (hand + 1) % frames.count;
          const owner = frames.vm[frame]!;
          if (owner < 0 || (fault.scope !== null && owner !== fault.scope.index)) continue;
          if (frames.referenced[frame] === 1) frames.referenced[frame] = 0;
          else return frame;
        }
        return null;
      },
    };
  },
});

export default policy;
`,
  test: () =>
    `import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

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
`,
  workload: ({ policyName }) => ({
    schema: "hyperhook.workload/v1",
    name: `${policyName}-example`,
    description: "Two VMs share 24 frames: one loops over 20 pages, one works on a hot set",
    seed: 1,
    host: { pcpus: 1, memory: { frames: 24 } },
    vms: [
      { id: "loop", memory: { pattern: "loop", pages: 20, count: 20000 } },
      { id: "hot", memory: { pattern: "zipf", pages: 200, count: 20000 } },
    ],
  }),
};

const IO: DomainTemplate = {
  summary: "C-LOOK: each disk serves queued requests in increasing cylinder order from the " +
    "head, then jumps back to the lowest one.",
  policy: ({ policyName }) =>
    `/**
 * ${policyName}: C-LOOK. Each disk serves its queued requests in increasing cylinder order from
 * where the head is, then jumps back to the lowest queued cylinder and sweeps up again.
 *
 * @example Run it on the example workload
 * \`\`\`sh
 * deno task sim
 * \`\`\`
 *
 * @module
 */

import { defineIoPolicy, type IoPolicy, type IoRequestView } from "@hyperhook/hyperhook/policy";

/** C-LOOK: sweep up from the head, wrap to the lowest cylinder. */
const policy: IoPolicy = defineIoPolicy({
  name: "${policyName}",
  create({ disks }) {
    const queues = disks.map(() => new Set<IoRequestView>());
    return {
      submitted(_ctx, request) {
        queues[request.disk.index]!.add(request);
      },
      dispatch(_ctx, disk) {
        const queue = queues[disk.index]!;
        let ahead: IoRequestView | undefined, lowest: IoRequestView | undefined;
        for (const request of queue) {
          if (request.cylinder >= disk.head && request.cylinder < (ahead?.cylinder ?? Infinity)) {
            ahead = request;
          }
          if (request.cylinder < (lowest?.cylinder ?? Infinity)) lowest = request;
        }
        const next = ahead ?? lowest;
        if (next !== undefined) queue.delete(next);
        return next;
      },
    };
  },
});

export default policy;
`,
  test: () =>
    `import { assertReport, checkPolicy, runPolicy, vm, workload } from "@hyperhook/hyperhook/testing";

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
`,
  workload: ({ policyName }) => ({
    schema: "hyperhook.workload/v1",
    name: `${policyName}-example`,
    description: "Two VMs reading randomly from one disk, four requests outstanding each",
    seed: 1,
    host: {
      pcpus: 1,
      disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }],
    },
    vms: [
      { id: "a", io: { generate: [{ disk: "d0", pattern: "random", count: 500, depth: 4 }] } },
      { id: "b", io: { generate: [{ disk: "d0", pattern: "random", count: 500, depth: 4 }] } },
    ],
  }),
};

/** The templates, by domain. */
export const TEMPLATES: Record<ScaffoldDomain, DomainTemplate> = {
  cpu: CPU,
  memory: MEMORY,
  io: IO,
};

/** The domains a package can be scaffolded for (placement policies have no template yet). */
export type ScaffoldDomain = Exclude<Domain, "placement">;

/** The flag of the CLI that picks a policy of `domain`. */
const FLAG: Record<ScaffoldDomain, string> = { cpu: "--cpu", memory: "--memory", io: "--io" };

/** `deno.json`. */
export function denoJson(domain: ScaffoldDomain, context: TemplateContext): string {
  const config: Record<string, unknown> = {
    name: context.packageName,
    version: "0.1.0",
    license: "MIT",
    exports: "./mod.ts",
    imports: { "@hyperhook/hyperhook": `jsr:@hyperhook/hyperhook@${context.range}` },
    tasks: {
      test: "deno test -A",
      sim: `deno run -A jsr:@hyperhook/hyperhook@${context.range}/cli run workload.json ${
        FLAG[domain]
      } ./mod.ts`,
      // No `deno doc --lint`: it counts the framework's types in the policy's signature as private.
      check: "deno fmt --check && deno lint && deno check mod.ts mod_test.ts && " +
        "deno publish --dry-run --allow-dirty",
    },
    // The kit runs policies in Workers too (determinism across isolations).
    unstable: ["worker-options"],
    fmt: { lineWidth: 100, proseWrap: "preserve" },
    publish: { exclude: [".github/"] },
  };
  // Resolves @hyperhook/hyperhook from this checkout, locally and offline, instead of from JSR.
  if (context.link !== undefined) config.links = [context.link];
  return JSON.stringify(config, null, 2) + "\n";
}

/** `README.md`. */
export function readme(domain: ScaffoldDomain, context: TemplateContext): string {
  const template = TEMPLATES[domain];
  const linked = context.link === undefined ? "" : `
This package was made from a hyperhook checkout: \`"links"\` in \`deno.json\` makes Deno resolve
\`@hyperhook/hyperhook\` from \`${context.link}\`, locally and offline. Remove it to use the
published framework from JSR.
`;
  return `# ${context.packageName}

A ${domain} policy for [hyperhook](https://jsr.io/@hyperhook/hyperhook), the deterministic
simulated hypervisor kernel: ${template.summary}

## Use it

\`\`\`sh
deno run -A jsr:@hyperhook/hyperhook/cli run my_workload.json ${
    FLAG[domain]
  } jsr:${context.packageName}
\`\`\`

or in code:

\`\`\`ts
import { parseWorkload, simulate } from "jsr:@hyperhook/hyperhook";

const workload = JSON.parse(await Deno.readTextFile("workload.json"));
const report = await simulate(parseWorkload(workload), {
  policies: { ${domain}: { use: "jsr:${context.packageName}" } },
});
console.log(report.incidents.length === 0 ? "no incident" : report.incidents);
\`\`\`

## Develop it

\`\`\`sh
deno task test    # the hyperhook checks (sandbox, standard workloads, determinism) and your tests
deno task sim     # run it on workload.json and print the report
deno task check   # fmt, lint, type check, publish dry run
\`\`\`

\`mod.ts\` is the policy, \`mod_test.ts\` its tests (\`@hyperhook/hyperhook/testing\`), and
\`workload.json\` an example workload.
${linked}
## Publish it

1. Create the scope and package on [jsr.io](https://jsr.io/new) (or change \`name\` in
   \`deno.json\` to a scope you own), and set its description and runtime compatibility (Deno)
   in the package settings.
2. \`deno publish\`, or push to GitHub and let \`.github/workflows/publish.yml\` publish it with
   provenance.
`;
}

/** `.github/workflows/publish.yml`: publishing from CI gives the package provenance. */
export function publishWorkflow(): string {
  return `name: Publish
on:
  push:
    branches: [main]

jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write # OIDC: JSR verifies the package came from this repository (provenance)
    steps:
      - uses: actions/checkout@v4
      - uses: denoland/setup-deno@v2
      - run: deno task test
      - run: deno publish
`;
}
