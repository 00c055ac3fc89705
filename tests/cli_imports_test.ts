// What `hyperhook run` loads before it runs a built-in policy: its static import graph (the
// modules evaluated before the command's first line) holds no HTTP server, bundler, browser or
// sandbox host; those are imported when a command or a policy reference needs them.
import assert from "node:assert/strict";

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

/** The modules `roots` import statically (code, not types), the roots included. */
async function staticGraph(roots: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const root of roots) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", new URL(root, import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      roots: string[];
      modules: ModuleInfo[];
      redirects: Record<string, string>;
    };
    const modules = new Map(info.modules.map((module) => [module.specifier, module]));
    const queue = [...info.roots];
    while (queue.length > 0) {
      const next = queue.pop()!;
      const specifier = info.redirects[next] ?? next;
      if (seen.has(specifier)) continue;
      seen.add(specifier);
      for (const dependency of modules.get(specifier)?.dependencies ?? []) {
        if (dependency.code !== undefined && dependency.isDynamic !== true) {
          queue.push(dependency.code.specifier);
        }
      }
    }
  }
  return seen;
}

Deno.test("run: the static import graph holds no hono, esbuild, playwright, server or sandbox host", async () => {
  const graph = await staticGraph(["../core/cli.ts", "../core/commands/run.ts"]);
  const names = [...graph];
  assert.ok(names.some((name) => name.endsWith("core/kernel/kernel.ts")), "the graph is followed");
  for (
    const unwanted of [
      /esbuild/,
      /hono/,
      /playwright/,
      /fast-check/,
      /core\/control\//,
      /core\/observe\//,
      /sandbox\/bundle\.ts$/,
    ]
  ) {
    assert.deepEqual(names.filter((name) => unwanted.test(name)), [], String(unwanted));
  }
  for (const host of ["sandbox/process.ts", "sandbox/worker.ts", "commands/serve.ts"]) {
    assert.ok(!names.some((name) => name.endsWith(host)), host);
  }
});
