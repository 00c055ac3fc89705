/**
 * Disk model throughput: how many requests per second each model serves (one `service` call per
 * iteration; `deno bench` reports the time per call, whose inverse is services per second).
 *
 * The hdd workloads are deterministic: random 1-64 block requests (one third writes) spread over
 * the whole HP C2247A with 0-20 ms of idle time between them (so read-ahead runs in the
 * background), and a sequential 8-block read stream (cache hits).
 *
 * @module
 */

import { HddDiskModel, HP_C2247A, LinearDiskModel, SsdDiskModel } from "../core/io/disk/mod.ts";
import type { DiskModel } from "../core/io/disk/mod.ts";

function randomWorkload(disk: DiskModel): () => void {
  let seed = 42;
  let now = 0;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const blocks = 1 + (seed % 64);
    const lba = seed % (disk.totalBlocks - blocks);
    const ns = disk.service({ lba, blocks, write: seed % 3 === 0 }, now);
    now += ns + (seed % 20_000_000);
  };
}

function sequentialReads(disk: DiskModel): () => void {
  let lba = 0;
  let now = 0;
  return () => {
    if (lba + 8 > disk.totalBlocks) lba = 0;
    now += disk.service({ lba, blocks: 8, write: false }, now) + 1_000_000;
    lba += 8;
  };
}

const hddRandom = randomWorkload(new HddDiskModel(HP_C2247A));
Deno.bench("hdd HP C2247A: random 1-64 block requests", { group: "hdd", baseline: true }, () => {
  hddRandom();
});

const hddSequential = sequentialReads(new HddDiskModel(HP_C2247A));
Deno.bench("hdd HP C2247A: sequential 8-block reads (cache hits)", { group: "hdd" }, () => {
  hddSequential();
});

const linear = randomWorkload(
  new LinearDiskModel({ cylinders: 2051, totalBlocks: 2_054_864, seekNsPerCylinder: 5_000 }),
);
Deno.bench("linear: random requests", { group: "other" }, () => {
  linear();
});

const ssd = randomWorkload(new SsdDiskModel({ channels: 8, readNs: 50_000, writeNs: 200_000 }));
Deno.bench("ssd: random requests", { group: "other" }, () => {
  ssd();
});
