/**
 * Startup cost: the command line's static module graph holds no sweep engine, no BullMQ, no
 * ioredis and no Parquet writer; `sweep`, `worker` and `tune` load them when they are used.
 */

import assert from "node:assert/strict";

interface Dependency {
  isDynamic?: boolean;
  code?: { specifier: string };
  type?: { specifier: string };
}

interface Info {
  roots: string[];
  modules: { specifier: string; dependencies?: Dependency[] }[];
  redirects: Record<string, string>;
  npmPackages: Record<string, unknown>;
}

async function graph(entry: string): Promise<{ statics: Set<string> }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const bySpecifier = new Map(info.modules.map((module) => [module.specifier, module]));
  const statics = new Set<string>();
  const visit = (specifier: string): void => {
    specifier = info.redirects[specifier] ?? specifier;
    if (statics.has(specifier)) return;
    statics.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (target !== undefined && !dependency.isDynamic) visit(target);
    }
  };
  for (const root of info.roots) visit(root);
  return { statics };
}

Deno.test("the CLI's static graph leaves out the sweep engines, bullmq, ioredis and parquet", async () => {
  const { statics } = await graph("../../core/cli.ts");
  const unwanted = [...statics].filter((specifier) =>
    /bullmq|ioredis|hyparquet|\/core\/sweep\/|\/commands\/(sweep|worker|tune)\.ts/.test(specifier)
  );
  assert.deepEqual(unwanted, []);
  // The commands are imported through a variable (\`load\` in cli.ts), out of the graph's sight,
  // and each only when it is called; the sweep command's is among them.
  const cli = await Deno.readTextFile(new URL("../../core/cli.ts", import.meta.url));
  assert.match(cli, /load\("\.\/commands\/sweep\.ts"\)/);
});

Deno.test("a local sweep's static graph leaves out bullmq, ioredis and parquet", async () => {
  const { statics } = await graph("../../core/commands/sweep.ts");
  assert([...statics].some((specifier) => specifier.endsWith("/core/sweep/local.ts")));
  const unwanted = [...statics].filter((specifier) => /bullmq|ioredis|hyparquet/.test(specifier));
  assert.deepEqual(unwanted, []);
});
