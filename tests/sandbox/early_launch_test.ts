/**
 * The CLI launches the `process` sandbox's child before the command's module loads
 * (`launchEarly` in `core/cli.ts`), only for a `run` or `compare` whose line asks for
 * `--isolation process`, or a `run` of a policy module with no `--isolation`: the run takes that child (no second one is spawned), and a command that
 * fails on bad input (exit 2) leaves no process behind, whether it failed before or after it
 * asked for the child itself.
 *
 * The commands run in this process (`main`), so their children are this process's: none may be
 * left, not even unreaped.
 */

import assert from "node:assert/strict";
import { launchEarly, main } from "../../core/cli.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { workloadFile } from "../_helpers.ts";

const WORKLOAD = {
  schema: "hyperhook.workload/v1",
  name: "early-launch",
  host: { pcpus: 2 },
  stopAt: "40ms",
  vms: [
    { id: "a", cpu: { program: [{ run: "3ms" }, { sleep: "2ms" }], repeat: 10 } },
    { id: "b", cpu: { program: [{ run: "5ms" }, { sleep: "1ms" }], repeat: 10 } },
  ],
};
const KERNEL_FILE = /\/sandbox\/kernel-[0-9a-f]+\.js$/;

/**
 * This process's children, running or not yet reaped, but esbuild's service: the setup below
 * starts it when it has to build the kernel bundle (a cold cache, as on a fresh machine), and it
 * serves this process until it exits.
 */
function children(): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      if (stat.includes(" (esbuild) ")) continue;
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === Deno.pid) found.push(`${entry.name} ${state}`);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Runs `body` counting the replay children spawned meanwhile (`deno run … kernel-<sha>.js`). */
async function countingSpawns<T>(body: () => Promise<T>): Promise<{ result: T; spawned: number }> {
  const Real = Deno.Command;
  let spawned = 0;
  class Counting extends Real {
    constructor(command: string | URL, options?: Deno.CommandOptions) {
      if (options?.args?.some((arg) => KERNEL_FILE.test(String(arg)))) spawned++;
      super(command, options);
    }
  }
  Object.defineProperty(Deno, "Command", { value: Counting, configurable: true, writable: true });
  try {
    return { result: await body(), spawned };
  } finally {
    Object.defineProperty(Deno, "Command", { value: Real, configurable: true, writable: true });
  }
}

/** `main(args)`, its report (what it prints) kept quiet. */
async function quietMain(args: string[]): Promise<number> {
  const { log, error } = console;
  console.log = console.error = () => {};
  try {
    return await main(args);
  } finally {
    console.log = log;
    console.error = error;
  }
}

const path = await workloadFile(WORKLOAD);
// The kernel bundle and its file in the default cache, as after any earlier process run: the
// early launch spawns only from a cached bundle.
const inProcess = await simulate(parseWorkload(WORKLOAD), {
  isolation: "none",
  policies: { cpu: { use: "credit" } },
});
const replayed = await simulate(parseWorkload(WORKLOAD), {
  isolation: "process",
  policies: { cpu: { use: "credit" } },
});
assert.equal(replayed.eventsHash, inProcess.eventsHash);

Deno.test("early launch: only for run or compare with --isolation process (or a run of a policy module), and disposing of it kills the child", async () => {
  for (
    const args of [
      ["run", path, "--cpu", "credit"],
      ["run", path, "--cpu", "./policy.ts", "--isolation", "none"],
      ["run", path, "--cpu", "./policy.ts", "--isolation", "worker"],
      ["compare", path, "--cpu", "./a.ts,./b.ts"],
      ["run", path, "--isolation", "none"],
      ["run", path, "--isolation", "process-rpc"],
      ["run", path, "--isolation", "process", "--help"],
      ["run", path, "--isolation", "process", "--watch"],
      ["run", path, "--isolation", "process", "--heap", "8"],
      ["serve", "--isolation", "process"],
      ["sweep", path, "--isolation", "process"],
    ]
  ) {
    const { result, spawned } = await countingSpawns(() => launchEarly(args));
    assert.equal(result, undefined, args.join(" "));
    assert.equal(spawned, 0, args.join(" "));
  }
  for (
    const args of [
      ["run", path, "--isolation", "process"],
      ["run", path, "--isolation=process", "--heap=128"],
      ["run", path, "--cpu", "./policy.ts"],
      ["run", path, "--io=npm:some-policy"],
      ["compare", path, "--cpu", "rr,credit", "--isolation", "process"],
    ]
  ) {
    const { result, spawned } = await countingSpawns(() => launchEarly(args));
    assert.equal(spawned, 1, args.join(" "));
    assert.equal(children().length, 1, args.join(" "));
    await result![Symbol.asyncDispose]();
    assert.deepEqual(children(), [], args.join(" "));
  }
});

Deno.test("early launch: the run takes the child launched before its module loaded, and decides as in-process", async () => {
  const out = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const { result, spawned } = await countingSpawns(() =>
      quietMain(["run", path, "--cpu", "credit", "--isolation", "process", "--out", out])
    );
    assert.equal(result, 0);
    assert.equal(spawned, 1);
    assert.deepEqual(children(), []);
    const report = JSON.parse(await Deno.readTextFile(out));
    assert.equal(report.eventsHash, inProcess.eventsHash);
  } finally {
    await Deno.remove(out);
  }
});

Deno.test("early launch: a run of a policy module (process by default) takes the child launched early", async () => {
  const lottery = new URL("../../examples/policies/lottery.ts", import.meta.url).pathname;
  const { result, spawned } = await countingSpawns(() =>
    quietMain(["run", path, "--cpu", lottery, "--no-check", "--format", "json"])
  );
  assert.equal(result, 0);
  assert.equal(spawned, 1);
  assert.deepEqual(children(), []);
});

Deno.test("early launch: a command that fails on bad input (exit 2) leaves no process", async () => {
  const invalid = await workloadFile({ ...WORKLOAD, host: { pcpus: -1 } });
  try {
    for (
      const args of [
        // Refused before the command asks for the child itself.
        ["run", path, "--isolation", "process", "--format", "xml"],
        ["run", path, "--isolation", "process", "--no-such-flag"],
        ["run", path, "--isolation", "process", "--seed", "-1"],
        ["compare", path, "--isolation", "process"],
        // Refused after it did: the workload cannot be read, or is invalid.
        ["run", `${path}.missing`, "--cpu", "credit", "--isolation", "process"],
        ["run", invalid, "--cpu", "credit", "--isolation", "process"],
        ["compare", invalid, "--cpu", "rr,credit", "--isolation", "process"],
      ]
    ) {
      const { result, spawned } = await countingSpawns(() => quietMain(args));
      assert.equal(result, 2, args.join(" "));
      assert.ok(spawned >= 1, `${args.join(" ")}: no child was launched early`);
      assert.deepEqual(children(), [], args.join(" "));
    }
  } finally {
    await Deno.remove(invalid);
  }
});

Deno.test("early launch: a policy module that fails to load (exit 2) leaves no process", async () => {
  const { result, spawned } = await countingSpawns(() =>
    quietMain(["run", path, "--cpu", "./no/such/policy.ts", "--isolation", "process"])
  );
  assert.equal(result, 2);
  assert.ok(spawned >= 1);
  assert.deepEqual(children(), []);
  await Deno.remove(path);
});
