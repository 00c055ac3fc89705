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

Deno.test("run: the replay sandbox, the kernel bundle, the HTML report, --watch, zod, node: modules and the memory and I/O domains load on demand", async () => {
  const graph = await staticGraph(["../core/cli.ts", "../core/commands/run.ts"]);
  const names = [...graph];
  for (
    const lazy of [
      "sandbox/replay.ts",
      "sandbox/_replay_codec.ts",
      "sandbox/_watchdog.ts",
      "bundle/kernel.ts",
      "report/html.ts",
      "report/svg.ts",
      "report/recorder.ts",
      "commands/_watch.ts",
      // A workload of CPU programs takes the quick path; the schemas and zod validate the rest.
      "workload/load.ts",
      "workload/schema.ts",
      // The memory and I/O domains, for a workload that has them.
      "memory/domain.ts",
      "io/domain.ts",
    ]
  ) {
    assert.deepEqual(names.filter((name) => name.endsWith(lazy)), [], lazy);
  }
  // A node: module costs the start of Node's compatibility layer: none is imported up front.
  assert.deepEqual(names.filter((name) => name.startsWith("node:")), [], "node:");
  assert.deepEqual(names.filter((name) => /zod/.test(name)), [], "zod");
});

Deno.test("run: the memory and I/O domains load no zod and no workload schema (their workloads take the quick path)", async () => {
  const graph = await staticGraph([
    "../core/memory/domain.ts",
    "../core/io/domain.ts",
    "../core/io/disk/factory.ts",
    "../core/io/model.ts",
  ]);
  const names = [...graph];
  assert.ok(names.some((name) => name.endsWith("core/io/requests.ts")), "the graph is followed");
  for (const schema of ["workload/load.ts", "workload/schema.ts", "workload/io_schema.ts"]) {
    assert.deepEqual(names.filter((name) => name.endsWith(schema)), [], schema);
  }
  assert.deepEqual(names.filter((name) => /zod/.test(name)), [], "zod");
});

Deno.test("compare: zod, the schemas, the HTML report and its recorder load on demand", async () => {
  const names = [...await staticGraph(["../core/commands/compare.ts"])];
  assert.ok(names.some((name) => name.endsWith("core/commands/run.ts")), "the graph is followed");
  for (
    const lazy of ["workload/load.ts", "workload/schema.ts", "report/html.ts", "report/recorder.ts"]
  ) {
    assert.deepEqual(names.filter((name) => name.endsWith(lazy)), [], lazy);
  }
  assert.deepEqual(names.filter((name) => /zod/.test(name)), [], "zod");
});

Deno.test("process sandbox: what launches the replay child loads no node: module and no bundler, nor does the replay session", async () => {
  // The child's start is on the run's critical path: node:crypto alone costs 80 ms to load.
  const launcher = [...await staticGraph(["../core/sandbox/prelaunch.ts"])];
  assert.ok(launcher.some((name) => name.endsWith("bundle/cache.ts")), "the graph is followed");
  assert.deepEqual(launcher.filter((name) => name.startsWith("node:")), [], "node:");
  const session = [...await staticGraph(["../core/sandbox/replay.ts"])];
  assert.ok(session.some((name) => name.endsWith("sandbox/prelaunch.ts")), "the graph is followed");
  for (const graph of [launcher, session]) {
    for (
      const heavy of [
        /esbuild/,
        /bundle\/bundle\.ts$/,
        /bundle\/kernel\.ts$/,
        /_resolve\.ts$/,
        /^node:crypto$/,
      ]
    ) {
      assert.deepEqual(graph.filter((name) => heavy.test(name)), [], String(heavy));
    }
  }
});
