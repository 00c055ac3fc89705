// `--watch` on `run` and `compare`: a real process runs once, then again when the policy file or
// the workload changes (the policy's new code, the workload's new content), until SIGINT.
import assert from "node:assert/strict";
import { concerns, watchSet } from "../core/commands/_watch.ts";

const CLI = new URL("../core/cli.ts", import.meta.url).pathname;
const PLUGINS = new URL("../plugins/cpu/", import.meta.url).pathname;

const workload = (burstMs: number) =>
  JSON.stringify({
    schema: "hyperhook.workload/v1",
    name: "watched",
    host: { pcpus: 1 },
    vms: [
      { id: "a", cpu: { program: [{ run: `${burstMs}ms` }] } },
      { id: "b", cpu: { arrive: "1ms", program: [{ run: "3ms" }] } },
    ],
  });
const policy = (builtin: string) => `export { default } from "${PLUGINS}${builtin}.ts";\n`;

/** A running `hyperhook … --watch`: its stdout as JSON documents, its stderr as text. */
class Watched {
  readonly child: Deno.ChildProcess;
  readonly documents: unknown[] = [];
  stderr = "";
  exited = false;
  #stdout = "";
  #done: Promise<void>[];

  constructor(args: string[], cwd: string) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      cwd,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.child = child;
    child.status.then(() => this.exited = true);
    const decoder = new TextDecoder();
    this.#done = [
      (async () => {
        for await (const chunk of child.stdout) {
          this.#stdout += decoder.decode(chunk, { stream: true });
          // `--format json` prints one indented document per run, closed by a line "}" or "]".
          let end: number;
          while ((end = this.#stdout.search(/^[}\]]$/m)) >= 0) {
            this.documents.push(JSON.parse(this.#stdout.slice(0, end + 1)));
            this.#stdout = this.#stdout.slice(end + 2);
          }
        }
      })(),
      (async () => {
        for await (const chunk of child.stderr) this.stderr += decoder.decode(chunk);
      })(),
    ];
  }

  /** Waits until `ready()` holds; fails if the process ends first (no wall-clock deadline). */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.exited) {
        await Promise.all(this.#done);
        if (ready()) return;
        throw new Error(`The watching process ended:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits for the watcher to be armed after `count` runs. */
  armed(count: number): Promise<void> {
    return this.until(() =>
      this.documents.length >= count &&
      (this.stderr.match(/watching \d+ files? for changes/g)?.length ?? 0) >= count
    );
  }

  async stop(): Promise<Deno.CommandStatus> {
    this.child.kill("SIGINT");
    const status = await this.child.status;
    await Promise.all(this.#done);
    return status;
  }
}

Deno.test("run --watch: reruns when the policy file changes, then when the workload changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-watch-" });
  const watched = await (async () => {
    await Deno.writeTextFile(`${dir}/workload.json`, workload(5));
    await Deno.writeTextFile(`${dir}/policy.ts`, policy("fcfs"));
    return new Watched(
      [
        "run",
        "workload.json",
        "--cpu",
        "./policy.ts",
        "--isolation",
        "worker",
        "--format",
        "json",
        "--watch",
      ],
      dir,
    );
  })();
  try {
    await watched.armed(1);
    assert.match(watched.stderr, /watching 2 files for changes \(Ctrl-C to stop\)/);
    await Deno.writeTextFile(`${dir}/policy.ts`, policy("srtf"));
    await watched.armed(2);
    await Deno.writeTextFile(`${dir}/workload.json`, workload(7));
    await watched.armed(3);
    const status = await watched.stop();
    assert.equal(status.code, 0, watched.stderr);
    const reports = watched.documents as {
      simulatedNs: number;
      policies: { cpu: { name: string } };
    }[];
    assert.deepEqual(
      reports.map((report) => [report.policies.cpu.name, report.simulatedNs]),
      [["fcfs", 8_000_000], ["srtf", 8_000_000], ["srtf", 10_000_000]],
    );
    assert.match(watched.stderr, /policy\.ts changed: running again/);
    assert.match(watched.stderr, /workload\.json changed: running again/);
  } finally {
    if (watched.child.pid !== undefined) {
      try {
        watched.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare --watch: a broken workload is reported and the watch goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-watch-" });
  await Deno.writeTextFile(`${dir}/workload.json`, workload(5));
  const watched = new Watched(
    ["compare", "workload.json", "--cpu", "fcfs,srtf", "--format", "json", "--watch"],
    dir,
  );
  try {
    await watched.armed(1);
    await Deno.writeTextFile(`${dir}/workload.json`, "{");
    await watched.until(() => /hyperhook: Workload .*workload\.json/.test(watched.stderr));
    await Deno.writeTextFile(`${dir}/workload.json`, workload(7));
    await watched.until(() => watched.documents.length >= 2);
    const status = await watched.stop();
    assert.equal(status.code, 0, watched.stderr);
    const runs = watched.documents as { simulatedNs: number }[][];
    assert.deepEqual(
      runs.map((reports) => reports.map((report) => report.simulatedNs)),
      [[8_000_000, 8_000_000], [10_000_000, 10_000_000]],
    );
  } finally {
    try {
      watched.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchSet: the workload, its traces and the local policies it or the flags name", () => {
  const dir = Deno.makeTempDirSync({ prefix: "hyperhook-watch-" });
  try {
    Deno.writeTextFileSync(
      `${dir}/workload.json`,
      JSON.stringify({
        policies: { cpu: { use: "./policies/mine.ts" }, memory: "lru", io: { use: "npm:io-x" } },
        vms: [{
          id: "a",
          cpu: { trace: { format: "planetlab", path: "traces/a.txt" } },
          io: { trace: [{ path: "io/b.csv" }] },
        }],
      }),
    );
    const set = watchSet("workload.json", {
      cpu: "rr, ./other/theirs.ts",
      io: "sstf",
      out: "policies/report.ts",
      "out-dir": "policies/runs",
    }, dir);
    assert.deepEqual([...set.files].sort(), [
      `${dir}/io/b.csv`,
      `${dir}/other/theirs.ts`,
      `${dir}/policies/mine.ts`,
      `${dir}/traces/a.txt`,
      `${dir}/workload.json`,
    ]);
    assert.deepEqual([...set.moduleDirs].sort(), [`${dir}/other`, `${dir}/policies`]);
    // A module beside a policy (its helpers) counts; other files there, or beside the workload,
    // do not.
    assert.equal(concerns(set, `${dir}/policies/helper.ts`), true);
    assert.equal(concerns(set, `${dir}/policies/notes.md`), false);
    assert.equal(concerns(set, `${dir}/report.json`), false);
    assert.equal(concerns(set, `${dir}/traces/a.txt`), true);
    // What the run writes never starts a run, even beside a policy.
    assert.equal(concerns(set, `${dir}/policies/report.ts`), false);
    assert.equal(concerns(set, `${dir}/policies/runs/x.ts`), false);
    // A workload being edited (not JSON for a moment) is still watched, alone.
    Deno.writeTextFileSync(`${dir}/workload.json`, "{");
    assert.deepEqual([...watchSet("workload.json", {}, dir).files], [`${dir}/workload.json`]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
