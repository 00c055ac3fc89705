// `hyperhook new`: a scaffolded package of each domain passes its own `deno task test` and
// `deno publish --dry-run` as written, and its `deno task sim` runs, resolving the framework from
// this checkout via "links"; bad input is refused with exit 2 and one clear line.
import assert from "node:assert/strict";
import { scaffoldDomains } from "../../core/commands/new.ts";
import { runCli } from "../_helpers.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const version = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)).version as string;

async function deno(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; output: string }> {
  // As from a user's shell: no INIT_CWD of an outer `deno task` (the suite's own), which an
  // inner `deno task` would keep instead of setting its own.
  const { INIT_CWD: _outer, ...env } = Deno.env.toObject();
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { ...env, NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(result.stdout);
  return { code: result.code, stdout, output: stdout + decoder.decode(result.stderr) };
}

Deno.test("new: one package per domain passes its own tests and a publish dry run", async () => {
  const base = await Deno.makeTempDir({ prefix: "hyperhook-new-" });
  try {
    const domains = scaffoldDomains();
    assert.ok(domains.includes("cpu") && domains.includes("memory"), `domains: ${domains}`);
    await Promise.all(domains.map(async (domain) => {
      const dir = `${base}/${domain}-policy`;
      const made = await runCli([
        "new",
        dir,
        "--domain",
        domain,
        "--name",
        `@test/${domain}-policy`,
      ]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, new RegExp(`Created @test/${domain}-policy, a ${domain} policy`));
      const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
      assert.equal(config.name, `@test/${domain}-policy`);
      assert.equal(config.version, "0.1.0");
      assert.equal(config.license, "MIT");
      assert.equal(config.exports, "./mod.ts");
      assert.deepEqual(config.imports, {
        "@hyperhook/hyperhook": `jsr:@hyperhook/hyperhook@^${version}`,
      });
      assert.deepEqual(config.links, [root]);
      assert.ok(config.tasks.test && config.tasks.sim && config.tasks.check);
      const policy = await Deno.readTextFile(`${dir}/mod.ts`);
      if (domain === "cpu") {
        // The guide shows this very policy.
        const guide = await Deno.readTextFile(`${root}/docs/guide.md`);
        const shown = /\*\*3\. Change it\.\*\*[\s\S]*?```ts\n([\s\S]*?)```/.exec(guide)?.[1];
        assert.ok(shown, "docs/guide.md shows the scaffolded CPU policy");
        assert.ok(policy.endsWith(shown.replaceAll('"my-policy"', '"cpu-policy"')), shown);
      }
      // An explicitly typed default export: no slow type for `deno publish`.
      assert.match(policy, /^const policy: (Cpu|Memory|Io)Policy = define\w+Policy\(\{$/m);
      assert.match(policy, /^export default policy;$/m);

      const tested = await deno(["task", "test"], dir);
      assert.equal(tested.code, 0, `${domain}: deno task test\n${tested.output}`);
      assert.match(tested.output, /passes the hyperhook checks \.\.\. ok/);
      assert.match(tested.output, /ok \| 2 passed \| 0 failed/);
      const published = await deno(["publish", "--dry-run"], dir);
      assert.equal(published.code, 0, `${domain}: deno publish --dry-run\n${published.output}`);
      assert.match(published.output, /Success Dry run complete/);
      assert.doesNotMatch(published.output, /error|warning/i);
      // The example task: the policy, sandboxed, on workload.json.
      const sim = await deno(["task", "sim", "--format", "json"], dir);
      assert.equal(sim.code, 0, `${domain}: deno task sim\n${sim.output}`);
      const report = JSON.parse(sim.stdout);
      assert.equal(report.policies[domain].name, `${domain}-policy`);
      assert.equal(report.policies[domain].isolation, "process");
      assert.deepEqual(report.incidents, []);
    }));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("new: refuses a non-empty folder, an unknown domain and an invalid name", async () => {
  const base = await Deno.makeTempDir({ prefix: "hyperhook-new-" });
  try {
    await Deno.writeTextFile(`${base}/keep.txt`, "mine");
    const cases: [string[], RegExp][] = [
      [
        ["new", base, "--name", "@test/x-policy"],
        /^hyperhook: Folder .* is not empty \(it has keep\.txt\): expected a new or empty folder, so that nothing is overwritten$/,
      ],
      [
        ["new", `${base}/keep.txt`, "--name", "@test/x-policy"],
        /^hyperhook: .*keep\.txt is a file: expected a new or empty folder for the package$/,
      ],
      [
        ["new", `${base}/gpu`, "--domain", "gpu"],
        /^hyperhook: --domain: expected one of cpu, memory, io, got "gpu"$/,
      ],
      [
        ["new", `${base}/ok`, "--name", "My_Policy"],
        /^hyperhook: Package name "My_Policy": expected @scope\/name in lowercase letters, digits and hyphens \(scope 2 to 20 characters, name 2 to 58\), such as @me\/my-policy$/,
      ],
      [
        ["new", `${base}/My_Policy`],
        /^hyperhook: Package name "@my-scope\/My_Policy" \(from the folder's name\): expected .*; choose one with --name$/,
      ],
      [["new"], /^hyperhook: new: expected one folder, got none$/m],
    ];
    for (const [args, expected] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr.trim(), expected, args.join(" "));
    }
    assert.equal(await Deno.readTextFile(`${base}/keep.txt`), "mine");
    assert.deepEqual([...Deno.readDirSync(base)].map((entry) => entry.name), ["keep.txt"]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("new: `deno task new ../dir` lands beside the user's folder; README names no path; compare task", async () => {
  const base = await Deno.makeTempDir({ prefix: "hyperhook-new-" });
  try {
    await Deno.mkdir(`${base}/here`);
    // `deno task` runs in the checkout; the folder is the user's `../rel-policy`.
    const made = await deno(
      [
        "task",
        "--config",
        `${root}/deno.json`,
        "new",
        "../rel-policy",
        "--name",
        "@test/rel-policy",
      ],
      `${base}/here`,
    );
    assert.equal(made.code, 0, made.output);
    assert.match(
      made.stdout,
      /Created @test\/rel-policy, a cpu policy package, in \.\.\/rel-policy:/,
    );
    assert.match(made.stdout, /deno task compare/);
    const dir = `${base}/rel-policy`;
    assert.ok((await Deno.stat(`${dir}/mod.ts`)).isFile);
    const readme = await Deno.readTextFile(`${dir}/README.md`);
    assert.ok(!readme.includes(root) && !readme.includes(base), readme);
    assert.doesNotMatch(readme, /(^|[\s`"(])\/(?:[\w.-]+\/)+/m, "an absolute path in README.md");
    assert.match(readme, /deno task compare/);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/deno.json`));
    assert.match(config.tasks.compare, / compare workload\.json --cpu \.\/mod\.ts,credit$/);
    const compared = await deno(["task", "compare", "--format", "json"], dir);
    assert.equal(compared.code, 0, compared.output);
    const reports = JSON.parse(compared.stdout);
    assert.deepEqual(
      reports.map((report: { policies: { cpu: { name: string } } }) => report.policies.cpu.name),
      ["rel-policy", "credit"],
    );
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
