// The README's custom policy is the example file, verbatim, and it runs as written.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "./_helpers.ts";

const root = new URL("../", import.meta.url);

Deno.test("the README's twenty-line policy is examples/policies/lottery.ts and works", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const block = /```ts\n(\/\/ Lottery scheduling[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README shows the lottery policy");
  const file = await Deno.readTextFile(new URL("examples/policies/lottery.ts", root));
  assert.equal(block, file);
  assert.ok(file.trimEnd().split("\n").length <= 24);
  // Two CPU-bound VMs on one pCPU, weights 512 and 256: lottery gives them about 2/3 and 1/3.
  const workload = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "lottery",
    host: { pcpus: 1 },
    stopAt: "10s",
    vms: [
      { id: "heavy", weight: 512, cpu: { pattern: "cpu-bound" } },
      { id: "light", weight: 256, cpu: { pattern: "cpu-bound" } },
    ],
  });
  const result = await runCli([
    "run",
    workload,
    "--cpu",
    "examples/policies/lottery.ts",
    "--isolation",
    "none",
    "--format",
    "json",
  ], { cwd: root.pathname });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.policies.cpu.name, "lottery");
  assert.equal(report.incidents.length, 0);
  assert.equal(report.host.cpu.utilization, 1);
  const [heavy, light] = report.vms.map((vm: { cpu: { share: number } }) => vm.cpu.share);
  assert.ok(Math.abs(heavy - 2 / 3) < 0.03, `heavy ${heavy}`);
  assert.ok(Math.abs(light - 1 / 3) < 0.03, `light ${light}`);
});

Deno.test("the README shows the two commands", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.match(readme, /deno task demo/);
  assert.match(readme, /deno task test/);
});

Deno.test("the README's install command gives a hyperhook command that runs anywhere", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const command = /`(deno install [^`]*core\/cli\.ts)`/.exec(readme.replace(/\n/g, " "))?.[1];
  assert.ok(command, "the README shows how to install the command");
  const installRoot = await Deno.makeTempDir({ prefix: "hyperhook-install-" });
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args: [...command.split(/\s+/).slice(1), "--root", installRoot],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
    const workload = new URL("examples/workloads/rr_textbook.json", root).pathname;
    const run = await new Deno.Command(`${installRoot}/bin/hyperhook`, {
      args: ["run", workload, "--format", "json"],
      cwd: installRoot,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.equal(JSON.parse(new TextDecoder().decode(run.stdout)).workload, "rr-textbook");
  } finally {
    await Deno.remove(installRoot, { recursive: true });
  }
});

Deno.test("the README's scripting example runs as written and prints what a reader expects", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const block = /```ts\n(\/\/ Scripting[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "the README shows the scripting API");
  assert.match(block, /readWorkload/);
  assert.match(block, /simulate\(/);
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-script-" });
  try {
    await Deno.writeTextFile(`${dir}/script.ts`, block);
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", new URL("deno.json", root).pathname, `${dir}/script.ts`],
      cwd: root.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    assert.equal(run.code, 0, decoder.decode(run.stderr));
    // Round robin on the textbook's 24, 3, 3 ms jobs; then FCFS stopped at 28 ms.
    assert.equal(
      decoder.decode(run.stdout),
      [
        "quantum 2ms: mean wait 6.33 ms",
        "quantum 4ms: mean wait 5.67 ms",
        "quantum 10ms: mean wait 9.67 ms",
        "finished by 28 ms: P1, P2",
        "all done at 30 ms",
        "",
      ].join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README and the guide say where a policy's console.log goes, and how long the tests take", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const guide = await Deno.readTextFile(new URL("docs/guide.md", root));
  for (const [name, text] of [["README.md", readme], ["docs/guide.md", guide]]) {
    const said = /policy's `console\.log`[^;]{0,40} reaches the terminal, on the CLI's stderr/
      .test(text!.replace(/\s+/g, " "));
    assert.ok(said, `${name} says where a sandboxed policy's console.log goes`);
  }
  assert.match(readme, /deno task test +# .*about 7 minutes on a quiet\n +# 2-core machine/);
  assert.match(guide, /Your own loop/);
  assert.match(guide, /simulate\(/);
  assert.match(guide, /readWorkload/);
});
