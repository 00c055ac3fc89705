/**
 * Local sweeps: results.csv as the issue specifies it, a shard's run equal to `deno task sim` of
 * its workload, reruns that skip finished shards, array-job shards merged by `collect`, results
 * of other code flagged rather than merged, duplicates compared by eventsHash, and a shard whose
 * process dies run again.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parquetReadObjects } from "hyparquet";
import { ShardCrashError, ShardPool, V8_FLAGS } from "../../core/sweep/pool.ts";
import {
  gather,
  type Manifest,
  problems,
  readManifest,
  storeResult,
} from "../../core/sweep/results.ts";
import type { ShardResult } from "../../core/sweep/run_shard.ts";
import { expandPlan } from "../../core/sweep/shards.ts";
import { readPlan } from "../../core/sweep/plan.ts";
import { csvRows, hyperhook, planFolder, smallWorkload } from "./_helpers.ts";

const PLAN = {
  name: "small",
  matrix: {
    "policies.cpu": ["rr", { use: "rr", config: { quantum: "5ms" } }],
    "host.pcpus": [1, 2],
  },
  seeds: { from: 1, count: 2 },
  metrics: ["host.cpu.fairness", "vms.cpu.waitNs.mean"],
};

async function manifestOf(dir: string): Promise<Manifest> {
  const manifest = await readManifest(dir);
  if (typeof manifest === "string") throw new Error(manifest);
  return manifest;
}

const HEADER = [
  "shard",
  "policies.cpu",
  "host.pcpus",
  "seed",
  "host.cpu.fairness",
  "vms.cpu.waitNs.mean",
  "eventsHash",
  "wallMs",
];

Deno.test("a local sweep writes one row per shard, values as the plan wrote them, and a rerun skips them all", async () => {
  const folder = await planFolder(PLAN);
  try {
    const out = join(folder.dir, "out");
    const first = await hyperhook(["sweep", folder.plan, "--out", out, "--jobs", "2"]);
    assert.deepEqual(first.code, 0, first.stderr);
    assert.match(first.stdout, /8 shards \(8 run, 0 already done\)/);
    const rows = await csvRows(join(out, "results.csv"));
    assert.deepEqual(rows[0], HEADER);
    assert.deepEqual(rows.length, 9);
    const expected: string[][] = [];
    for (const policy of ["rr", '{"use":"rr","config":{"quantum":"5ms"}}']) {
      for (const pcpus of ["1", "2"]) {
        for (const seed of ["1", "2"]) expected.push([policy, pcpus, seed]);
      }
    }
    assert.deepEqual(rows.slice(1).map((row) => row.slice(1, 4)), expected);
    const manifest = await manifestOf(out);
    for (const [i, row] of rows.slice(1).entries()) {
      const result: ShardResult = JSON.parse(
        await Deno.readTextFile(join(out, "shards", `${row[0]}.json`)),
      );
      assert.deepEqual(row[0], manifest.shards[i]!.key);
      assert.deepEqual(row[6], result.eventsHash);
      assert.deepEqual(Number(row[4]), result.metrics["host.cpu.fairness"]);
    }
    // Seeds differ, so runs differ; the same seed under another policy differs too.
    assert.deepEqual(new Set(rows.slice(1).map((row) => row[6])).size, 8);

    const again = await hyperhook(["sweep", folder.plan, "--out", out, "--jobs", "2"]);
    assert.deepEqual(again.code, 0, again.stderr);
    assert.match(again.stdout, /8 shards \(0 run, 8 already done\)/);
    assert.deepEqual(await csvRows(join(out, "results.csv")), rows);
    const html = await Deno.readTextFile(join(out, "summary.html"));
    assert.match(html, /95 % CI/);
    assert.match(html, /<svg/);
  } finally {
    await folder.remove();
  }
});

Deno.test("a shard's run is exactly deno task sim of its workload with the fields set and --seed", async () => {
  const folder = await planFolder(PLAN);
  try {
    const out = join(folder.dir, "out");
    const index = 5; // {"use":"rr","config":{"quantum":"5ms"}}, 1 pCPU, seed 2
    const shard = await hyperhook([
      "sweep",
      "shard",
      folder.plan,
      "--index",
      String(index),
      "--out",
      out,
    ]);
    assert.deepEqual(shard.code, 0, shard.stderr);
    const show = await hyperhook(["sweep", "show", folder.plan, "--index", String(index)]);
    assert.deepEqual(show.code, 0, show.stderr);
    assert.match(show.stderr, /--seed 2/);
    const file = join(folder.dir, "shard5.json");
    await Deno.writeTextFile(file, show.stdout);
    // `deno task sim` is this command line.
    const sim = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--v8-flags=${V8_FLAGS}`,
        new URL("../../core/cli.ts", import.meta.url).pathname,
        "run",
        file,
        "--seed",
        "2",
        "--format",
        "json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepEqual(sim.code, 0, new TextDecoder().decode(sim.stderr));
    const report = JSON.parse(new TextDecoder().decode(sim.stdout));
    assert.deepEqual(report.policies.cpu.config.quantum, "5ms");
    assert.deepEqual(report.host.cpu.pcpus, 1);
    const manifest = await manifestOf(out);
    const result: ShardResult = JSON.parse(
      await Deno.readTextFile(join(out, "shards", `${manifest.shards[index]!.key}.json`)),
    );
    assert.deepEqual(result.eventsHash, report.eventsHash);
    assert.deepEqual(result.metrics["host.cpu.fairness"], report.host.cpu.fairness);
  } finally {
    await folder.remove();
  }
});

Deno.test("array-job shards merge into the same results as a local sweep; collect flags results of other code", async () => {
  const policy = await Deno.readTextFile(
    new URL("../../examples/policies/lottery.ts", import.meta.url),
  );
  const folder = await planFolder({
    name: "arrays",
    matrix: { "policies.cpu": ["rr", "./lottery.ts"] },
    seeds: [4, 9],
    isolation: "none",
    metrics: ["host.cpu.latencyNs.p99"],
  });
  try {
    const lottery = join(folder.dir, "lottery.ts");
    await Deno.writeTextFile(
      lottery,
      policy.replace(
        "@hyperhook/hyperhook/policy",
        new URL("../../core/policy/mod.ts", import.meta.url).href,
      ),
    );
    const local = join(folder.dir, "local"), array = join(folder.dir, "array");
    assert.deepEqual(
      (await hyperhook(["sweep", folder.plan, "--out", local, "--jobs", "1"])).code,
      0,
    );
    const slurm = await hyperhook(["sweep", "slurm", folder.plan, "--out", array]);
    assert.deepEqual(slurm.code, 0, slurm.stderr);
    assert.match(slurm.stdout, /#SBATCH --array=0-3\n/);
    assert.match(slurm.stdout, /sweep shard \S+plan\.json --index "\$SLURM_ARRAY_TASK_ID" --out /);
    for (const index of [0, 1, 2, 3]) {
      const run = await hyperhook([
        "sweep",
        "shard",
        folder.plan,
        "--index",
        String(index),
        "--out",
        array,
      ]);
      assert.deepEqual(run.code, 0, run.stderr);
    }
    const collect = await hyperhook(["sweep", "collect", array]);
    assert.deepEqual(collect.code, 0, collect.stderr);
    const withoutWall = (rows: string[][]) => rows.map((row) => row.slice(0, -1));
    assert.deepEqual(
      withoutWall(await csvRows(join(array, "results.csv"))),
      withoutWall(await csvRows(join(local, "results.csv"))),
    );

    // Shard 3 again, on a machine whose copy of the policy differs: another bundle, another key.
    const other = join(folder.dir, "other");
    await Deno.mkdir(join(other, "shards"), { recursive: true });
    await Deno.copyFile(join(array, "manifest.json"), join(other, "manifest.json"));
    const manifest = await manifestOf(array);
    for (const shard of manifest.shards.slice(0, 3)) {
      await Deno.copyFile(
        join(array, "shards", `${shard.key}.json`),
        join(other, "shards", `${shard.key}.json`),
      );
    }
    await Deno.writeTextFile(lottery, (await Deno.readTextFile(lottery)).replace('"5ms"', '"6ms"'));
    const stale = await hyperhook(["sweep", "shard", folder.plan, "--index", "3", "--out", other]);
    assert.deepEqual(stale.code, 0, stale.stderr);
    assert.match(stale.stderr, /shard 3: this machine's key \w+ differs from the manifest's/);
    const flagged = await hyperhook(["sweep", "collect", other]);
    assert.deepEqual(flagged.code, 1);
    assert.match(
      flagged.stderr,
      /shard 3: \S+: key \w+ from other code \(cpu policy bundle \w+, the plan's is \w+\), not \w+; not merged/,
    );
    assert.match(flagged.stderr, /1 of 4 shard\(s\) have no result from the plan's code \(3\)/);
    const rows = await csvRows(join(other, "results.csv"));
    assert.deepEqual(rows.length, 1 + 3);
    assert.deepEqual(rows.slice(1).map((row) => row[2]), ["4", "9", "4"]);
  } finally {
    await folder.remove();
  }
});

Deno.test("results.parquet holds the rows of results.csv", async () => {
  const folder = await planFolder({
    name: "parquet",
    matrix: { "host.pcpus": [1, 2] },
    seeds: { from: 1, count: 2 },
    metrics: ["host.cpu.fairness", "vms[web].cpu.finishNs"],
  });
  try {
    const out = join(folder.dir, "out");
    const run = await hyperhook(["sweep", folder.plan, "--out", out, "--jobs", "1", "--parquet"]);
    assert.deepEqual(run.code, 0, run.stderr);
    const rows = await csvRows(join(out, "results.csv"));
    const bytes = await Deno.readFile(join(out, "results.parquet"));
    const objects = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
    assert.deepEqual(objects.length, 4);
    for (const [i, object] of objects.entries()) {
      const row = rows[i + 1]!;
      assert.deepEqual(object.shard, row[0]);
      assert.deepEqual(object["host.pcpus"], row[1]);
      assert.deepEqual(Number(object.seed), Number(row[2]));
      assert.deepEqual(object["host.cpu.fairness"], Number(row[3]));
      // An interactive VM never finishes: null in Parquet, an empty cell in the CSV.
      assert.deepEqual(object["vms[web].cpu.finishNs"], null);
      assert.deepEqual(row[4], "");
      assert.deepEqual(object.eventsHash, row[5]);
    }
  } finally {
    await folder.remove();
  }
});

Deno.test("a second result for a key is a duplicate when its eventsHash is equal, a conflict when not", async () => {
  const folder = await planFolder({ name: "dup", metrics: ["host.cpu.fairness"] });
  try {
    const out = join(folder.dir, "out");
    assert.deepEqual(
      (await hyperhook(["sweep", folder.plan, "--out", out, "--jobs", "1"])).code,
      0,
    );
    const manifest = await manifestOf(out);
    const key = manifest.shards[0]!.key;
    const stored: ShardResult = JSON.parse(
      await Deno.readTextFile(join(out, "shards", `${key}.json`)),
    );
    assert.deepEqual(await storeResult(out, { ...stored, wallMs: 1 }), "duplicate");
    assert.deepEqual((await gather(out, manifest)).results[0]!.wallMs, stored.wallMs);
    assert.deepEqual(await storeResult(out, { ...stored, eventsHash: "0".repeat(64) }), "conflict");
    const collected = await gather(out, manifest);
    assert.deepEqual(collected.results.filter(Boolean).length, 1);
    assert.deepEqual(collected.conflicts, [{
      key,
      index: 0,
      eventsHashes: [stored.eventsHash, "0".repeat(64)],
    }]);
    assert.match(
      problems(collected)[0]!,
      /different eventsHashes .*: the run is not deterministic/,
    );
  } finally {
    await folder.remove();
  }
});

Deno.test("a shard whose warm process dies fails with ShardCrashError; the slot restarts and the shard runs again the same", async () => {
  const folder = await planFolder(
    { name: "crash", metrics: ["host.cpu.fairness"], seeds: [1] },
    smallWorkload("10s"),
  );
  const pool = new ShardPool({ jobs: 1, onOutput: () => {} });
  try {
    const { shards } = await expandPlan(await readPlan(folder.plan));
    pool.warm();
    const [pid] = pool.pids;
    const crashed = pool.run(shards[0]!);
    // Killed while the shard is pending (the warm process is still starting or running it): no
    // wait, so a faster run cannot finish first.
    Deno.kill(pid!, "SIGKILL");
    let error: unknown;
    try {
      await crashed;
    } catch (caught) {
      error = caught;
    }
    assert(error instanceof ShardCrashError, String(error));
    assert.match((error as Error).message, /died \(signal SIGKILL\)/);
    const again = await pool.run(shards[0]!);
    assert(pool.pids[0] !== pid);
    assert.deepEqual(again.key, shards[0]!.key);
  } finally {
    await pool.close();
    await folder.remove();
  }
});
