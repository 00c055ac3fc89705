// Loading a policy by reference through the real CLI: a path (relative, absolute, file: URL), a
// module that imports an npm package, an npm package, a URL, and a JSR package, the registries
// and the web server standing in on 127.0.0.1. Every form runs sandboxed (process) and the
// report names the reference and the hash of the code that ran.
import assert from "node:assert/strict";
import { bundlePolicy } from "../../core/bundle/bundle.ts";
import { sourceMapOf } from "../../core/bundle/source_map.ts";
import { workloadFile } from "../_helpers.ts";
import { integrity, npmTarball, serveFiles } from "./_registries.ts";

const root = new URL("../../", import.meta.url).pathname;
const CLI = `${root}core/cli.ts`;
const VERSION = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).version as string;

const workload = await workloadFile({
  schema: "hyperhook.workload/v1",
  name: "references",
  host: { pcpus: 2 },
  vms: [
    {
      id: "a",
      weight: 512,
      cpu: { program: [{ run: "30ms" }, { sleep: "5ms" }, { run: "10ms" }] },
    },
    { id: "b", cpu: { program: [{ run: "20ms" }] } },
    { id: "c", cpu: { arrive: "3ms", program: [{ run: "15ms" }] } },
  ],
});

interface Run {
  code: number;
  stderr: string;
  report: {
    policies: { cpu: { name: string; sha256: string; isolation: string; reference: string } };
    incidents: unknown[];
    eventsHash: string;
  };
}

async function run(reference: string, env: Record<string, string> = {}, cwd = root): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", workload, "--cpu", reference, "--format", "json"],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  return {
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr),
    report: output.code === 0 ? JSON.parse(stdout) : undefined!,
  };
}

/** A CPU policy module: weighted round robin, named after where it came from. */
function wrrSource(name: string, sdk: string): string {
  return `import { defineCpuPolicy, Fifo } from "${sdk}";
import { sliceFor } from "./slice.ts";

export default defineCpuPolicy({
  name: "${name}",
  create() {
    const queue = new Fifo();
    return {
      enqueue: (_ctx, vcpu) => queue.push(vcpu),
      dispatch() {
        const vcpu = queue.shift();
        return vcpu === undefined ? null : { vcpu, sliceNs: sliceFor(vcpu.vm.weight) };
      },
    };
  },
});
`;
}
const SLICE_SOURCE = "export const sliceFor = (weight: number): number => 4_000 * weight;\n";

Deno.test("a path: relative, absolute and file: URL load the same code", async () => {
  const relative = "tests/fixtures/authoring/one_pcpu.ts";
  const runs = [
    await run(relative),
    await run(`${root}${relative}`),
    await run(new URL(relative, `file://${root}`).href),
    await run(`./${relative.split("/").at(-1)}`, {}, `${root}tests/fixtures/authoring`),
  ];
  for (const result of runs) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.report.policies.cpu.name, "one-pcpu");
    assert.equal(result.report.policies.cpu.isolation, "process");
    assert.equal(result.report.policies.cpu.sha256, runs[0]!.report.policies.cpu.sha256);
    assert.equal(result.report.eventsHash, runs[0]!.report.eventsHash);
  }
  const missing = await run("tests/fixtures/authoring/nope.ts");
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /^hyperhook: Policy tests\/fixtures\/authoring\/nope\.ts: Policy module not found: /,
  );
});

Deno.test("npm: a module importing an npm package is bundled from Deno's npm cache", async () => {
  const result = await run("tests/fixtures/authoring/npm_weights.ts");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.report.policies.cpu.name, "npm-weights");
  assert.equal(result.report.policies.cpu.isolation, "process");
  assert.deepEqual(result.report.incidents, []);
  const bundle = await bundlePolicy(`${root}tests/fixtures/authoring/npm_weights.ts`);
  // The bundle names no module (its text is the code only); its source map does.
  assert.match(sourceMapOf(bundle.sha256)!.sources.join("\n"), /is-number/);
  assert.equal(bundle.sha256, result.report.policies.cpu.sha256);
});

Deno.test("npm: a policy published as an npm package, from a registry on 127.0.0.1", async () => {
  // A published policy is built code: the bundle of the lottery example, as an ES module.
  const { code } = await bundlePolicy(`${root}examples/policies/lottery.ts`);
  const name = "@hyperhook-test/lottery";
  const manifest = { name, version: "1.2.0", type: "module", exports: "./index.js" };
  const tarball = await npmTarball({ "package.json": JSON.stringify(manifest), "index.js": code });
  const registry = await serveFiles(async (base) => ({
    [`/${name}`]: JSON.stringify({
      name,
      "dist-tags": { latest: "1.2.0" },
      versions: {
        "1.2.0": {
          ...manifest,
          dist: {
            tarball: `${base}${name}/-/lottery-1.2.0.tgz`,
            integrity: await integrity(tarball),
          },
        },
      },
    }),
    [`/${name}/-/lottery-1.2.0.tgz`]: tarball,
  }));
  // The scope's registry comes from ~/.npmrc; the npm cache it fills is removed afterwards.
  const home = await Deno.makeTempDir({ prefix: "hyperhook-npm-home-" });
  const denoDir = await denoDirectory();
  const port = new URL(registry.url).port;
  try {
    await Deno.writeTextFile(`${home}/.npmrc`, `@hyperhook-test:registry=${registry.url}\n`);
    const result = await run(`npm:${name}@^1.0.0`, {
      HOME: home,
      DENO_DIR: denoDir,
      XDG_CACHE_HOME: `${home}/cache`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.report.policies.cpu.name, "lottery");
    assert.equal(result.report.policies.cpu.reference, `npm:${name}@^1.0.0`);
    assert.equal(result.report.policies.cpu.isolation, "process");
    assert.deepEqual(result.report.incidents, []);
    assert.deepEqual(registry.requests, [`/${name}`, `/${name}/-/lottery-1.2.0.tgz`]);
  } finally {
    await registry.close();
    await Deno.remove(home, { recursive: true });
    for (const dir of [port, `127.0.0.1_${port}`]) {
      await Deno.remove(`${denoDir}/npm/${dir}`, { recursive: true }).catch(() => {});
    }
  }
});

Deno.test("https: a policy module and its relative import, fetched from a web server", async () => {
  const server = await serveFiles(() => ({
    "/policies/wrr.ts": wrrSource("served-wrr", `jsr:@hyperhook/hyperhook@^${VERSION}/policy`),
    "/policies/slice.ts": SLICE_SOURCE,
  }));
  try {
    const url = `${server.url}policies/wrr.ts`;
    const result = await run(url);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.report.policies.cpu.name, "served-wrr");
    assert.equal(result.report.policies.cpu.reference, url);
    assert.equal(result.report.policies.cpu.isolation, "process");
    assert.deepEqual(result.report.incidents, []);
    assert.deepEqual(server.requests, ["/policies/wrr.ts", "/policies/slice.ts"]);
    const missing = await run(`${server.url}policies/none.ts`);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /Cannot fetch http:\/\/127\.0\.0\.1:\d+\/policies\/none\.ts: HTTP 404/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("https: a served module may not pull a local file into its bundle", async () => {
  // The local file is a valid policy module: only the rule keeps it out.
  const local = new URL("../fixtures/authoring/one_pcpu.ts", import.meta.url);
  const server = await serveFiles(() => ({
    "/policies/by-url.ts": `export { default } from "${local.href}";\n`,
  }));
  try {
    const result = await run(`${server.url}policies/by-url.ts`);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `hyperhook: Policy ${server.url}policies/by-url.ts: remote:${server.url}policies/by-url.ts:1:25: ` +
        `Import "${local.href}": a remote module may not import a local file\n`,
    );
    // A plain http: URL off loopback is refused before anything is fetched.
    const plain = await run("http://192.0.2.1/policies/p.ts");
    assert.equal(plain.code, 2);
    assert.match(
      plain.stderr,
      /Import "http:\/\/192\.0\.2\.1\/policies\/p\.ts": plain http: is allowed only on loopback/,
    );
    assert.deepEqual(server.requests, ["/policies/by-url.ts"]);
  } finally {
    await server.close();
  }
});

Deno.test("jsr: a JSR package from a registry on 127.0.0.1 ($JSR_URL), its import map applied", async () => {
  const name = "@fixture/wrr-policy";
  const registry = await serveFiles(() => ({
    [`/${name}/meta.json`]: JSON.stringify({
      versions: { "1.0.0": {}, "1.1.0": {}, "1.2.0": { yanked: true }, "2.0.0": {} },
    }),
    [`/${name}/1.1.0_meta.json`]: JSON.stringify({
      manifest: { "/deno.json": {}, "/mod.ts": {}, "/slice.ts": {} },
      exports: { ".": "./mod.ts" },
    }),
    [`/${name}/1.1.0/deno.json`]: JSON.stringify({
      name,
      version: "1.1.0",
      exports: "./mod.ts",
      imports: { "@hyperhook/hyperhook": `jsr:@hyperhook/hyperhook@^${VERSION}` },
    }),
    // The package imports the SDK by its bare name, mapped by its own deno.json.
    [`/${name}/1.1.0/mod.ts`]: wrrSource("jsr-wrr-1.1.0", "@hyperhook/hyperhook/policy"),
    [`/${name}/1.1.0/slice.ts`]: SLICE_SOURCE,
  }));
  try {
    const result = await run(`jsr:${name}@^1.0.0`, { JSR_URL: registry.url });
    assert.equal(result.code, 0, result.stderr);
    // ^1.0.0: the highest 1.x not yanked.
    assert.equal(result.report.policies.cpu.name, "jsr-wrr-1.1.0");
    assert.equal(result.report.policies.cpu.reference, `jsr:${name}@^1.0.0`);
    assert.equal(result.report.policies.cpu.isolation, "process");
    assert.deepEqual(result.report.incidents, []);
    assert.ok(registry.requests.includes(`/${name}/1.1.0/slice.ts`), `${registry.requests}`);
    const none = await run(`jsr:${name}@^3.0.0`, { JSR_URL: registry.url });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No version of @fixture\/wrr-policy matches "\^3\.0\.0"/);
  } finally {
    await registry.close();
  }
});

async function denoDirectory(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).denoDir;
}
