/**
 * `hyperhook tune`: candidates from the policy's declared bounds, successive halving over seeds
 * that reuses every earlier run, the best feasible candidate; and the statistics the summary uses.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { candidates, readTune } from "../../core/sweep/tune.ts";
import { meanInterval, overlaps, rank, tQuantile } from "../../core/sweep/stats.ts";
import type { ShardResult } from "../../core/sweep/run_shard.ts";
import { csvRows, hyperhook, planFolder } from "./_helpers.ts";

async function tuneFile(folderDir: string, tune: Record<string, unknown>): Promise<string> {
  const file = join(folderDir, "tune.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      schema: "hyperhook.tune/v1",
      name: "t",
      workloads: ["workload.json"],
      policy: "rr",
      objective: { minimize: "host.cpu.latencyNs.p99" },
      ...tune,
    }),
  );
  return file;
}

Deno.test("candidates span the declared bounds, narrowed by the tune file, on a log or linear grid", async () => {
  const folder = await planFolder({ name: "unused", metrics: ["host.cpu.fairness"] });
  try {
    const grid = await readTune(
      await tuneFile(folder.dir, {
        params: { quantum: { min: "1ms", max: "100ms", scale: "log" }, ahead: { min: 1, max: 3 } },
        search: { method: "grid", points: 3 },
      }),
    );
    assert.deepEqual(candidates(grid), [
      { quantum: "1ms", ahead: 1 },
      { quantum: "1ms", ahead: 2 },
      { quantum: "1ms", ahead: 3 },
      { quantum: "10ms", ahead: 1 },
      { quantum: "10ms", ahead: 2 },
      { quantum: "10ms", ahead: 3 },
      { quantum: "100ms", ahead: 1 },
      { quantum: "100ms", ahead: 2 },
      { quantum: "100ms", ahead: 3 },
    ]);
    // ahead's declared bounds (1..64, an integer) and spread's two values need no range.
    const random = await readTune(
      await tuneFile(folder.dir, {
        params: { ahead: {}, spread: {} },
        search: { method: "random", samples: 6, seed: 7 },
      }),
    );
    const drawn = candidates(random);
    assert.deepEqual(candidates(random), drawn);
    assert(drawn.length >= 4);
    for (const config of drawn) {
      assert(
        Number.isInteger(config.ahead) && (config.ahead as number) >= 1 &&
          (config.ahead as number) <= 64,
      );
      assert(typeof config.spread === "boolean");
    }
    await assert.rejects(
      async () => readTune(await tuneFile(folder.dir, { params: { quantum: {} } })),
      { message: /params\.quantum: rr declares no upper bound: expected "max" such as "50ms"$/ },
    );
    await assert.rejects(
      async () => readTune(await tuneFile(folder.dir, { params: { quantm: {} } })),
      {
        message:
          /params\.quantm: rr declares no such parameter; expected one of quantum, ahead, spread$/,
      },
    );
    await assert.rejects(
      async () => readTune(await tuneFile(folder.dir, { params: { ahead: { max: 100 } } })),
      { message: /params\.ahead\.max: expected an integer from 1 to 64, got 100$/ },
    );
  } finally {
    await folder.remove();
  }
});

Deno.test("tune halves the candidates per rung, reuses earlier seeds, and names the best feasible one", async () => {
  const folder = await planFolder({ name: "unused", metrics: ["host.cpu.fairness"] });
  try {
    const file = await tuneFile(folder.dir, {
      params: { quantum: { values: ["40ms", "2ms", "10ms"] } },
      constraints: ["host.cpu.fairness >= 0"],
      seeds: { from: 1, count: 4 },
      halving: { eta: 2, minSeeds: 1 },
    });
    const out = join(folder.dir, "out");
    const run = await hyperhook(["tune", file, "--out", out, "--jobs", "2"]);
    assert.equal(run.code, 0, run.stderr);
    const rows = await csvRows(join(out, "tune.csv"));
    assert.deepEqual(rows[0], [
      "rung",
      "seeds",
      "config",
      "host.cpu.latencyNs.p99 mean",
      "host.cpu.latencyNs.p99 ci95",
      "host.cpu.fairness mean",
      "feasible",
      "kept",
    ]);
    const table = rows.slice(1).map((row) => [row[0], row[1], row[2], row[7]]);
    // A shorter quantum means a shorter wait for a pCPU: 2ms, then 10ms, then 40ms.
    assert.deepEqual(table, [
      ["0", "1", '{"quantum":"2ms"}', "yes"],
      ["0", "1", '{"quantum":"10ms"}', "yes"],
      ["0", "1", '{"quantum":"40ms"}', "no"],
      ["1", "2", '{"quantum":"2ms"}', "yes"],
      ["1", "2", '{"quantum":"10ms"}', "no"],
      ["2", "4", '{"quantum":"2ms"}', "yes"],
    ]);
    // 3 runs on seed 1, then seed 2 for two candidates, then seeds 3 and 4 for one: 7 runs.
    assert.equal([...Deno.readDirSync(join(out, "shards"))].length, 7);
    assert.match(
      run.stdout,
      /best: rr \{"quantum":"2ms"\}: host\.cpu\.latencyNs\.p99 [\d,]+ ± [\d,.]+ over 4 seed\(s\)/,
    );
  } finally {
    await folder.remove();
  }
});

Deno.test("95 % intervals use Student's t; overlapping intervals are not significant", () => {
  assert.equal(tQuantile(1), 12.706);
  assert.equal(tQuantile(4), 2.776);
  assert(Math.abs(tQuantile(60) - 2.0003) < 0.001);
  assert(Math.abs(tQuantile(1e9) - 1.96) < 0.001);
  const interval = meanInterval([1, 2, 3, 4, 5])!;
  assert.equal(interval.mean, 3);
  assert(Math.abs(interval.half - 2.776 * Math.sqrt(2.5 / 5)) < 1e-12);
  assert(Number.isNaN(meanInterval([7])!.half));
  assert.equal(meanInterval([]), null);
  assert.equal(overlaps({ n: 5, mean: 3, half: 1 }, { n: 5, mean: 5, half: 1 }), true);
  assert.equal(overlaps({ n: 5, mean: 3, half: 1 }, { n: 5, mean: 5.01, half: 1 }), false);
});

Deno.test("a ranking marks a configuration within the intervals of the one above as not significant", () => {
  const group = (label: string, values: number[]) => ({
    label,
    short: label,
    workload: "w.json",
    set: [["policies.cpu", label]] as [string, unknown][],
    results: values.map((value) => ({ metrics: { m: value } }) as unknown as ShardResult),
  });
  const ranked = rank([
    group("c", [30, 31, 29]),
    group("a", [10, 11, 9]),
    group("b", [10.5, 11.5, 9.5]),
  ], { path: "m", better: "lower" });
  assert.deepEqual(
    ranked.map((row) => [row.group.label, row.rank, row.notSignificant]),
    [["a", 1, false], ["b", 2, true], ["c", 3, false]],
  );
  const higher = rank([group("a", [10, 11, 9]), group("c", [30, 31, 29])], {
    path: "m",
    better: "higher",
  });
  assert.deepEqual(higher.map((row) => row.group.label), ["c", "a"]);
});

Deno.test("tune, like sweep, refuses --redis and --queue with the local engine, before any run", async () => {
  const folder = await planFolder({ name: "unused", metrics: ["host.cpu.fairness"] });
  try {
    const file = await tuneFile(folder.dir, { params: { quantum: { values: ["2ms", "10ms"] } } });
    const out = join(folder.dir, "out");
    for (const flags of [["--redis", "redis://127.0.0.1:1"], ["--queue", "q"]]) {
      const run = await hyperhook(["tune", file, "--out", out, ...flags]);
      assert.equal(run.code, 2);
      assert.equal(
        run.stderr,
        "hyperhook: --redis and --queue: expected --engine bullmq with them\n",
      );
    }
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await folder.remove();
  }
});
