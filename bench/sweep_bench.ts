// Sweep speed: the local pool against separate runs, and BullMQ against the local pool.
//
// A plan of SHARDS runs of the demo workload (examples/workloads/demo.json, 24 VMs, 20 simulated
// seconds; four CPU policies × SHARDS/4 seeds) runs three ways:
//   local     `hyperhook sweep PLAN --jobs 2`: two warm processes, many shards each;
//   separate  the same shards as `deno task sim WORKLOAD --seed S`, one process after another
//             (the first SEPARATE shards only when SEPARATE < SHARDS; the per-run mean is
//             scaled to SHARDS);
//   bullmq    `hyperhook sweep PLAN --engine bullmq` with two `hyperhook worker --jobs 1` on this
//             machine (started beforehand, warm), on a redis-server of the bench's own.
// Rounds alternate the three, so that a shared machine's drift slows them alike; medians and
// ratios are printed, with where the local sweep's time goes: the runs themselves (the sum of the
// shards' wallMs over two slots) and the rest (planning, process start, collection), per shard.
// Targets (issue 19): local ≤ 0.4 × separate, < 30 ms of overhead per shard; bullmq ≤ 1.2 × local.
//
// Run: `deno run -A bench/sweep_bench.ts [shards] [separate] [rounds]` (default 200 200 1), e.g.
// `bench/sweep_bench.ts 200 40 2` to time 40 separate runs and scale them. It needs redis-server.
// Measured (2 cores, load average 16 to 19 from other jobs): `200 40 1` gave local 91.1 s,
// separate 5.6 s per run (1111 s scaled to 200), bullmq 74.8 s: local/separate 0.08, bullmq/local
// 0.82. See docs/sweeps.md for where the time goes.

import { join } from "node:path";
import { readPlan } from "../core/sweep/plan.ts";
import { expandPlan, shardJson } from "../core/sweep/shards.ts";
import { V8_FLAGS } from "../core/sweep/pool.ts";

const root = new URL("../", import.meta.url).pathname;
const cli = join(root, "core/cli.ts");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function hyperhook(args: string[]): Promise<void> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--v8-flags=${V8_FLAGS}`, cli, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`hyperhook ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function shardWallMs(dir: string): Promise<number> {
  let sum = 0;
  for (const entry of Deno.readDirSync(join(dir, "shards"))) {
    sum += JSON.parse(await Deno.readTextFile(join(dir, "shards", entry.name))).wallMs;
  }
  return sum;
}

async function main(): Promise<void> {
  const shards = Number(Deno.args[0] ?? 200);
  const separate = Number(Deno.args[1] ?? shards);
  const rounds = Number(Deno.args[2] ?? 1);
  if (
    !(Number.isInteger(shards) && shards >= 4 && shards % 4 === 0) ||
    !(Number.isInteger(separate) && separate >= 1 && separate <= shards) ||
    !(Number.isInteger(rounds) && rounds >= 1)
  ) {
    console.error(
      `sweep_bench.ts: expected [shards, a multiple of 4] [separate runs, 1..shards] [rounds >= 1], got ${
        JSON.stringify(Deno.args.join(" "))
      }`,
    );
    Deno.exit(2);
  }
  const work = await Deno.makeTempDir({ prefix: "hyperhook-sweep-bench-" });
  const plan = join(work, "plan.json");
  await Deno.writeTextFile(
    plan,
    JSON.stringify({
      schema: "hyperhook.sweep/v1",
      name: "bench",
      workloads: [join(root, "examples/workloads/demo.json")],
      matrix: { "policies.cpu": ["rr", "credit", "fair", "credit2"] },
      seeds: { from: 1, count: shards / 4 },
      metrics: ["host.cpu.fairness", "host.cpu.latencyNs.p99"],
    }),
  );
  const planning = await timed(async () => void await expandPlan(await readPlan(plan)));
  const { shards: specs } = await expandPlan(await readPlan(plan));
  // Spread evenly over the plan, so that a partial separate run covers the four policies alike.
  const separateShards = Array.from(
    { length: separate },
    (_, k) => Math.floor(k * shards / separate),
  );
  const files: { file: string; seed: number }[] = [];
  for (const index of separateShards) {
    const spec = specs[index]!;
    const file = join(work, `shard-${index}.json`);
    await Deno.writeTextFile(file, JSON.stringify(shardJson(spec, "bench")));
    files.push({ file, seed: spec.seed });
  }

  const redisDir = join(work, "redis");
  await Deno.mkdir(redisDir);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const redis = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      redisDir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--maxmemory-policy",
      "noeviction",
      "--save",
      "",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `redis://127.0.0.1:${port}`;
  await new Promise((resolve) => setTimeout(resolve, 500));

  const local: number[] = [], separateMs: number[] = [], bullmq: number[] = [];
  const overheads: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const localDir = join(work, `local-${round}`);
      const localMs = await timed(() =>
        hyperhook(["sweep", plan, "--jobs", "2", "--out", localDir])
      );
      local.push(localMs);
      const runsMs = await shardWallMs(localDir);
      overheads.push((localMs * 2 - runsMs) / shards);
      console.error(`round ${round}: local ${(localMs / 1000).toFixed(1)} s`);

      const separateRound = await timed(async () => {
        for (const { file, seed } of files) {
          await hyperhook(["run", file, "--seed", String(seed), "--format", "json"]);
        }
      });
      separateMs.push(separateRound / separate * shards);
      console.error(
        `round ${round}: ${separate} separate runs ${(separateRound / 1000).toFixed(1)} s`,
      );

      const queue = `bench-${round}-${crypto.randomUUID()}`;
      const workers = [0, 1].map(() =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            `--v8-flags=${V8_FLAGS}`,
            cli,
            "worker",
            "--redis",
            url,
            "--queue",
            queue,
            "--jobs",
            "1",
          ],
          stdout: "null",
          stderr: "null",
        }).spawn()
      );
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const bullmqMs = await timed(() =>
        hyperhook([
          "sweep",
          plan,
          "--engine",
          "bullmq",
          "--redis",
          url,
          "--queue",
          queue,
          "--out",
          join(work, `bullmq-${round}`),
        ])
      );
      bullmq.push(bullmqMs);
      for (const worker of workers) worker.kill("SIGTERM");
      await Promise.all(workers.map((worker) => worker.status));
      console.error(`round ${round}: bullmq ${(bullmqMs / 1000).toFixed(1)} s`);
    }
  } finally {
    redis.kill("SIGTERM");
    await redis.status;
    await Deno.remove(work, { recursive: true });
  }
  const localMedian = median(local), separateMedian = median(separateMs);
  const bullmqMedian = median(bullmq);
  console.log(
    `${shards} shards of the demo workload, ${rounds} round(s), ${navigator.hardwareConcurrency} cores`,
  );
  console.log(`planning (checks every combination, computes keys): ${planning.toFixed(0)} ms`);
  console.log(`local --jobs 2:            ${(localMedian / 1000).toFixed(1)} s`);
  console.log(
    `separate deno task sim:    ${(separateMedian / 1000).toFixed(1)} s${
      separate < shards ? ` (${separate} runs timed, scaled to ${shards})` : ""
    }`,
  );
  console.log(`bullmq, two workers:       ${(bullmqMedian / 1000).toFixed(1)} s`);
  console.log(
    `local / separate: ${
      (localMedian / separateMedian).toFixed(2)
    } (target ≤ 0.4); slot time per shard beyond the reports' wallMs ${
      median(overheads).toFixed(0)
    } ms (an upper bound of the overhead: it counts each run's parsing and setup, and the fixed costs; target < 30 ms); bullmq / local: ${
      (bullmqMedian / localMedian).toFixed(2)
    } (target ≤ 1.2)`,
  );
}

if (import.meta.main) await main();
