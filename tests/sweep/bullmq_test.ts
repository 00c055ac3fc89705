/**
 * Sweeps on BullMQ and Redis: the same rows and eventsHashes as a local sweep; a worker killed
 * while it holds a shard, and Redis killed and restarted from its append-only file, lose nothing
 * and count nothing twice; a worker on other code writes under other keys and is flagged. Each
 * test starts its own redis-server on a free loopback port in a temporary folder.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readManifest } from "../../core/sweep/results.ts";
import {
  Background,
  csvRows,
  HAS_REDIS,
  hyperhook,
  planFolder,
  smallWorkload,
  TestRedis,
} from "./_helpers.ts";

const ignore = !HAS_REDIS;

function withoutWallMs(rows: string[][]): string[][] {
  return rows.map((row) => row.slice(0, -1));
}

function worker(redis: TestRedis, extra: string[] = [], cli?: string): Background {
  return new Background(["worker", "--redis", redis.url, "--jobs", "1", ...extra], cli);
}

async function stop(...processes: Background[]): Promise<void> {
  for (const process of processes) process.kill("SIGTERM");
  await Promise.all(processes.map((process) => process.done));
}

Deno.test({
  name: "a BullMQ sweep with two workers gives the local sweep's rows and eventsHashes",
  ignore,
  fn: async () => {
    const folder = await planFolder({
      name: "same",
      matrix: { "policies.cpu": ["rr", "fair"] },
      seeds: { from: 1, count: 3 },
      metrics: ["host.cpu.fairness", "host.cpu.latencyNs.p99"],
    });
    const redis = await TestRedis.start();
    const workers = [worker(redis), worker(redis)];
    try {
      const remote = join(folder.dir, "bullmq"), local = join(folder.dir, "local");
      const sweep = await hyperhook([
        "sweep",
        folder.plan,
        "--engine",
        "bullmq",
        "--redis",
        redis.url,
        "--out",
        remote,
      ]);
      assert.equal(sweep.code, 0, sweep.stderr);
      assert.match(sweep.stdout, /6 shards \(6 submitted, 0 already done\)/);
      assert.equal(
        (await hyperhook(["sweep", folder.plan, "--out", local, "--jobs", "2"])).code,
        0,
      );
      const rows = await csvRows(join(remote, "results.csv"));
      assert.equal(rows.length, 7);
      assert.deepEqual(
        withoutWallMs(rows),
        withoutWallMs(await csvRows(join(local, "results.csv"))),
      );
      // Submitting again adds nothing: the jobs are there under the shards' keys, done.
      const again = join(folder.dir, "again");
      const resubmit = await hyperhook([
        "sweep",
        folder.plan,
        "--engine",
        "bullmq",
        "--redis",
        redis.url,
        "--out",
        again,
      ]);
      assert.equal(resubmit.code, 0, resubmit.stderr);
      assert.deepEqual(
        withoutWallMs(await csvRows(join(again, "results.csv"))),
        withoutWallMs(rows),
      );
    } finally {
      await stop(...workers);
      const runs = workers.flatMap((w) => w.lines.filter((line) => /running shard \d/.test(line)));
      await redis.stop();
      await folder.remove();
      // Six shards, each run once, shared by the two workers.
      assert.equal(runs.length, 6, runs.join("\n"));
    }
  },
});

Deno.test({
  name:
    "a worker killed while it holds a shard: the shard runs again on another worker, once in the results",
  ignore,
  fn: async () => {
    const folder = await planFolder(
      { name: "kill-worker", seeds: { from: 1, count: 3 }, metrics: ["host.cpu.fairness"] },
      smallWorkload("40s"),
    );
    const redis = await TestRedis.start();
    const doomed = worker(redis, ["--lock", "2s"]);
    let rescuer: Background | undefined;
    const out = join(folder.dir, "out");
    const sweep = new Background([
      "sweep",
      folder.plan,
      "--engine",
      "bullmq",
      "--redis",
      redis.url,
      "--out",
      out,
    ]);
    try {
      const held = await doomed.waitFor((line) => /running shard \d/.test(line));
      doomed.kill("SIGKILL");
      await doomed.done;
      const index = /running shard (\d+)/.exec(held)![1]!;
      rescuer = worker(redis, ["--lock", "2s"]);
      const status = await sweep.done;
      assert.equal(status.code, 0, sweep.lines.join("\n"));
      const rows = await csvRows(join(out, "results.csv"));
      const manifest = await readManifest(out);
      assert(typeof manifest !== "string");
      assert.deepEqual(
        rows.slice(1).map((row) => row[0]),
        manifest.shards.map((shard) => shard.key),
      );
      assert(
        rescuer.lines.some((line) => line.includes(`running shard ${index} `)),
        `shard ${index} did not run again:\n${rescuer.lines.join("\n")}`,
      );
    } finally {
      sweep.kill("SIGKILL");
      await stop(doomed, ...(rescuer === undefined ? [] : [rescuer]));
      await sweep.done;
      await redis.stop();
      await folder.remove();
    }
  },
});

Deno.test({
  name: "Redis killed mid-sweep and restarted from its append-only file: the sweep completes",
  ignore,
  fn: async () => {
    const folder = await planFolder(
      { name: "kill-redis", seeds: { from: 1, count: 6 }, metrics: ["host.cpu.fairness"] },
      smallWorkload("12s"),
    );
    const redis = await TestRedis.start();
    const runner = worker(redis, ["--lock", "2s"]);
    const out = join(folder.dir, "out");
    const sweep = new Background([
      "sweep",
      folder.plan,
      "--engine",
      "bullmq",
      "--redis",
      redis.url,
      "--out",
      out,
    ]);
    try {
      await runner.waitFor((line) => line.includes("finished shard"));
      await redis.kill("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await redis.restart();
      const status = await sweep.done;
      assert.equal(status.code, 0, sweep.lines.join("\n"));
      const rows = await csvRows(join(out, "results.csv"));
      assert.equal(rows.length, 7);
      assert.equal(new Set(rows.slice(1).map((row) => row[0])).size, 6);
    } finally {
      sweep.kill("SIGKILL");
      await stop(runner);
      await sweep.done;
      await redis.stop();
      await folder.remove();
    }
  },
});

Deno.test({
  name:
    "a worker on another version writes results under other keys, and the sweep flags them instead of merging",
  ignore,
  fn: async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const copy = await Deno.makeTempDir({ prefix: "hyperhook-other-version-" });
    for (const entry of ["core", "plugins", "mod.ts", "deno.lock"]) {
      await new Deno.Command("cp", { args: ["-r", join(root, entry), copy] }).output();
    }
    const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
    await Deno.writeTextFile(
      join(copy, "deno.json"),
      JSON.stringify({ ...config, version: `${config.version}-other` }),
    );
    const folder = await planFolder({
      name: "versions",
      seeds: [1, 2],
      metrics: ["host.cpu.fairness"],
    });
    const redis = await TestRedis.start();
    const other = worker(redis, [], join(copy, "core/cli.ts"));
    try {
      const out = join(folder.dir, "out");
      const sweepArgs = [
        "sweep",
        folder.plan,
        "--engine",
        "bullmq",
        "--redis",
        redis.url,
        "--out",
        out,
      ];
      const sweep = await hyperhook(sweepArgs);
      assert.equal(sweep.code, 1);
      const flagged = sweep.stderr.trim().split("\n");
      assert.equal(flagged.length, 3, sweep.stderr);
      for (const [i, line] of flagged.slice(0, 2).entries()) {
        assert.match(
          line,
          new RegExp(
            `^hyperhook: shard ${i}: \\S+: key \\w+ from other code \\(code ${config.version}-other\\+\\w+, the plan's is ${config.version}\\+\\w+\\), not \\w+; not merged`,
          ),
        );
      }
      assert.match(flagged[2]!, /2 of 2 shard\(s\) have no result from the plan's code/);
      assert.deepEqual((await csvRows(join(out, "results.csv"))).length, 1);
      // The same sweep again with a worker on the plan's code: the completed jobs run again.
      await stop(other);
      const fixed = worker(redis);
      try {
        const again = await hyperhook(sweepArgs);
        assert.equal(again.code, 0, again.stderr);
        assert.equal((await csvRows(join(out, "results.csv"))).length, 3);
        const collect = await hyperhook(["sweep", "collect", out]);
        assert.equal(collect.code, 0, collect.stderr);
        assert.match(
          collect.stdout,
          /\(2 result file\(s\) from other code left out: their shards have the plan's\)/,
        );
      } finally {
        await stop(fixed);
      }
    } finally {
      await stop(other);
      await redis.stop();
      await folder.remove();
      await Deno.remove(copy, { recursive: true });
    }
  },
});
