/**
 * The files `hyperhook new` writes: a policy package per domain. Private to `core/commands/`.
 *
 * The policy and its test are real modules, `templates/<domain>/mod.ts` and `mod_test.ts`, which
 * `deno check` sees as any other file; they are read as text where this module is (a checkout or
 * JSR) and their policy name, {@linkcode TEMPLATE_NAME}, replaced by the package's.
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

/** The policy name the template modules carry, replaced by the package's in what is written. */
export const TEMPLATE_NAME = "my-policy";

/**
 * The text of a template module, with the package's policy name.
 *
 * @param domain The domain.
 * @param file `mod.ts` (the policy) or `mod_test.ts` (its tests).
 * @param context The package.
 * @returns The module's text, ready to write.
 */
export async function templateText(
  domain: Domain,
  file: "mod.ts" | "mod_test.ts",
  context: TemplateContext,
): Promise<string> {
  const url = new URL(`./templates/${domain}/${file}`, import.meta.url);
  // fetch reads file: and https: alike, so the scaffold works from a checkout and from JSR.
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`Cannot read the ${domain} template ${file} (${response.status})`);
  }
  return (await response.text()).replaceAll(TEMPLATE_NAME, () => context.policyName);
}

/** One domain's template: its example workload and README blurb (the modules are files). */
interface DomainTemplate {
  /** `workload.json`. */
  workload(context: TemplateContext): unknown;
  /** What the policy does, for the README. */
  summary: string;
}

const CPU: DomainTemplate = {
  summary: "weighted round robin: runnable vCPUs take turns, each for a slice " +
    "proportional to its VM's weight (a VM of weight 256 gets one `quantum`).",
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

/** The built-in policy `deno task compare` sets beside the package's own, per domain. */
const BASELINE: Record<ScaffoldDomain, string> = { cpu: "credit", memory: "lru", io: "sstf" };

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
      compare: `deno run -A jsr:@hyperhook/hyperhook@${context.range}/cli compare workload.json ${
        FLAG[domain]
      } ./mod.ts,${BASELINE[domain]}`,
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
  // The README is shared and published: it names no path of this machine (deno.json does).
  const linked = context.link === undefined ? "" : `
This package was made from a hyperhook checkout: \`"links"\` in \`deno.json\` makes Deno resolve
\`@hyperhook/hyperhook\` from that checkout, locally and offline. Remove it to use the published
framework from JSR.
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
deno task compare # the same, side by side with the built-in ${BASELINE[domain]}
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
