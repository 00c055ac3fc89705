// The overload tests and VM selections of Beloglazov and Buyya (2012), on histories worked out by
// hand, and the built-ins' first decisions on small datacenters.
import assert from "node:assert/strict";
import {
  type HostLoad,
  interQuartileRange,
  localRegression,
  maximumCorrelation,
  medianAbsoluteDeviation,
  minimumMigrationTime,
  robustLocalRegression,
  staticThreshold,
} from "../../plugins/placement/_consolidation.ts";
import { HostTypeView, HostView, PlacementVmView } from "../../core/policy/placement.ts";
import { parseDatacenter } from "../../core/datacenter/schema.ts";
import { createDatacenterSimulation } from "../../core/datacenter/simulation.ts";
import { LINEAR_POWER } from "./_helpers.ts";

const type = new HostTypeView(0, {
  id: "h",
  cores: 2,
  coreMips: 1000,
  ram: 4096,
  bandwidth: 1000,
  power: LINEAR_POWER,
});

/** A load with `utilization` now and `history` (newest first), its largest VM of `ram` MB. */
function load(
  utilization: number,
  history: number[],
  ram = 1000,
  mode: "cloudsim" | "hyperhook" = "hyperhook",
): HostLoad {
  return {
    host: new HostView(0, "h0", type),
    vms: [],
    mode,
    utilization: () => utilization,
    history: () => Float64Array.from(history),
    maxMigrationSeconds: () => ram / 62.5,
    intervalSeconds: 300,
  };
}

Deno.test("THR: overloaded strictly above the threshold", () => {
  assert.equal(staticThreshold(load(0.8, []), 0.8), false);
  assert.equal(staticThreshold(load(0.81, []), 0.8), true);
});

Deno.test("IQR: 1 − 1.5 × IQR with 12 values, THR 0.7 before", () => {
  // 12 values 0.1, 0.2, …, 1.2: quartiles at ranks round(3.25) − 1 = 2 and round(9.75) − 1 = 9,
  // 0.3 and 1.0: IQR 0.7, threshold 1 − 1.05 = −0.05: any load is overloaded.
  const twelve = Array.from({ length: 12 }, (_, i) => (i + 1) / 10);
  assert.equal(interQuartileRange(load(0.01, twelve), 1.5), true);
  // A flat history: IQR 0, threshold 1.
  assert.equal(interQuartileRange(load(0.99, new Array(12).fill(0.5)), 1.5), false);
  // Eleven values: THR 0.7.
  assert.equal(interQuartileRange(load(0.69, twelve.slice(1)), 1.5), false);
  assert.equal(interQuartileRange(load(0.71, twelve.slice(1)), 1.5), true);
});

Deno.test("MAD: 1 − 2.5 × the median absolute deviation", () => {
  // 0.4 six times, 0.6 six times: median 0.5, deviations all 0.1: threshold 0.75.
  const history = [...new Array(6).fill(0.4), ...new Array(6).fill(0.6)];
  assert.equal(medianAbsoluteDeviation(load(0.75, history), 2.5), false);
  assert.equal(medianAbsoluteDeviation(load(0.76, history), 2.5), true);
});

Deno.test("LR: the line through the ten newest values, one migration ahead, × 1.2 ≥ 1", () => {
  // Oldest first 0.30, 0.35, …, 0.75 (newest first in the history): y = 0.25 + 0.05x. The
  // largest VM (1740 MB, 27.84 s) ends within one interval: x = 11, 0.80 × 1.2 = 0.96 < 1.
  const rising = Array.from({ length: 10 }, (_, i) => 0.75 - 0.05 * i);
  assert.equal(localRegression(load(0, rising, 1740), 1.2), false);
  // One step steeper reaches 1: y = 0.3 + 0.05x predicts 0.85, × 1.2 = 1.02.
  assert.equal(localRegression(load(0, rising.map((y) => y + 0.05), 1740), 1.2), true);
  // Nine values: THR 0.7 on the load now.
  assert.equal(localRegression(load(0.71, rising.slice(0, 9)), 1.2), true);
  assert.equal(localRegression(load(0.69, rising.slice(0, 9)), 1.2), false);
});

Deno.test("LRR: a spike does not steer the robust line; in cloudsim mode it is LR", () => {
  // Flat at 0.65 with a spike of 1.15 at the newest: LR's line is 0.55 + 0.0273x, 0.85 at
  // x = 11, × 1.2 = 1.02: overloaded. The bisquare weights shrink the spike: the robust line
  // stays under. CloudSim's LRR never re-weights, so in cloudsim mode it answers as LR.
  const spiky = [1.15, ...new Array(9).fill(0.65)];
  assert.equal(localRegression(load(0, spiky), 1.2), true);
  assert.equal(robustLocalRegression(load(0, spiky), 1.2), false);
  assert.equal(robustLocalRegression(load(0, spiky, 1000, "cloudsim"), 1.2), true);
});

function vm(index: number, ram: number, history: number[]): PlacementVmView {
  const view = new PlacementVmView(index, `vm${index}`, {
    index: 0,
    id: "t",
    mips: 1000,
    ram,
    bandwidth: 100,
  });
  view.history = history;
  return view;
}

Deno.test("MMT: the smallest RAM, the first in the list on ties", () => {
  const vms = [vm(0, 1740, []), vm(1, 613, []), vm(2, 613, []), vm(3, 870, [])];
  assert.equal(minimumMigrationTime(vms)!.index, 1);
});

/** R² of y on the columns xs with intercept, by the normal equations (a reference). */
function rSquared(y: number[], xs: number[][]): number {
  const rows = y.map((_, i) => [1, ...xs.map((x) => x[i]!)]);
  const k = rows[0]!.length;
  const a = Array.from(
    { length: k },
    (_, r) =>
      Array.from(
        { length: k + 1 },
        (_, c) => rows.reduce((sum, row, i) => sum + row[r]! * (c < k ? row[c]! : y[i]!), 0),
      ),
  );
  for (let c = 0; c < k; c++) {
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  const beta = a.map((row, r) => row[k]! / row[r]!);
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  let residual = 0, total = 0;
  rows.forEach((row, i) => {
    const fit = row.reduce((s, v, j) => s + v * beta[j]!, 0);
    residual += (y[i]! - fit) ** 2;
    total += (y[i]! - mean) ** 2;
  });
  return 1 - residual / total;
}

Deno.test("MC: the VM whose history the others explain best; MMT when the fit cannot be made", () => {
  const x = [0.1, 0.5, 0.2, 0.9, 0.4, 0.7, 0.3, 0.8];
  const z = [0.6, 0.1, 0.9, 0.3, 0.5, 0.2, 0.8, 0.4];
  const noise = [0.01, -0.02, 0.015, 0, -0.01, 0.02, -0.015, 0.005];
  const mixed = x.map((xi, i) => 0.2 + 0.5 * xi + 0.3 * z[i]! + noise[i]!);
  const histories = [x, z, mixed];
  const vms = histories.map((history, i) => vm(i, 1000 - i, history));
  const r2 = histories.map((y, i) => rSquared(y, histories.filter((_, j) => j !== i)));
  const best = r2.indexOf(Math.max(...r2));
  // The reference's choice, not MMT's (VM 2 has the least RAM).
  assert.equal(best, 0, `R² ${r2.join(", ")}`);
  assert.equal(maximumCorrelation(vms)!.index, best);
  // Three VMs need more than three values each; with three, MMT picks the smallest RAM.
  const short = histories.map((history, i) => vm(i, [870, 613, 1740][i]!, history.slice(0, 3)));
  assert.equal(maximumCorrelation(short)!.index, 1);
  // A constant history makes the system singular: MMT.
  const flat = [vm(0, 870, x), vm(1, 613, new Array(8).fill(0.5)), vm(2, 1740, z)];
  assert.equal(maximumCorrelation(flat)!.index, 1);
});

/** Three hosts, the last twice as big; four VMs of 1000 MIPS with a flat demand. */
function threeHosts(placement: string, mode: "cloudsim" | "hyperhook" = "hyperhook") {
  return parseDatacenter({
    schema: "hyperhook.datacenter/v1",
    name: "three-hosts",
    policies: { placement },
    datacenter: {
      mode,
      hostTypes: [
        { id: "small", cores: 2, mips: 1000, ram: 4096, bandwidth: 1000, power: LINEAR_POWER },
        {
          id: "big",
          cores: 4,
          mips: 1000,
          ram: 8192,
          bandwidth: 1000,
          power: [150, 160, 170, 180, 190, 200, 210, 220, 230, 240, 250],
        },
      ],
      hosts: [{ type: "small", count: 2 }, { type: "big", count: 1 }],
      vmTypes: [{ id: "v", mips: 1000, ram: 1024, bandwidth: 100 }],
      vms: [{ type: "v", count: 4, demand: { utilization: [20], interval: "300s" } }],
    },
  });
}

async function placement(policy: string, mode?: "cloudsim" | "hyperhook"): Promise<number[]> {
  const simulation = await createDatacenterSimulation(threeHosts(policy, mode));
  try {
    await simulation.run(0);
    return [...simulation.domain.placement()];
  } finally {
    await simulation.close();
  }
}

Deno.test("placements at start: first fit, power-aware best fit, and Nova's spread", async () => {
  // dvfs: a host has room when its VMs' demand now (20 % of 1000 MIPS each, once placed) and the
  // new VM's full 1000 MIPS fit: host 0 takes all four (1000 + 3 × 200 ≤ 2000, 4 × 1 GB RAM).
  assert.deepEqual(await placement("dvfs"), [0, 0, 0, 0]);
  // In cloudsim mode VMs ask for their full MIPS until the first evaluation: two per host.
  assert.deepEqual(await placement("dvfs", "cloudsim"), [0, 0, 1, 1]);
  // thr-mmt (hyperhook): waking an empty small host costs P(0.5) = 150 W, the big one
  // P(0.25) = 175 W: VM 0 on host 0. Then host 0's VMs ask 200 MIPS each once placed: VM 1 takes
  // it to (200 + 1000) / 2000 = 60 % (+60 W over its measured P(0)), VM 2 to 70 %, VM 3 to 80 %
  // (not above 0.8): all four on host 0.
  assert.deepEqual(await placement("thr-mmt"), [0, 0, 0, 0]);
  // In cloudsim mode waking is free: the cost is P(u after) − P(measured u), and nothing is
  // measured before the first evaluation, so every host's is P(0). VM 0: +50 W on a small host,
  // +25 W on the big one. VM 1: +50 W anywhere (the big one to 50 %): host 0 (lowest index).
  // VM 2: host 0 would reach +100 W; host 1 and the big one +50 W: host 1. VM 3: the big one.
  assert.deepEqual(await placement("thr-mmt", "cloudsim"), [2, 0, 1, 2]);
  // nova weighs free RAM and free vCPUs (normalised over the hosts): the big host has the most of
  // both until it holds more than four VMs.
  assert.deepEqual(await placement("nova"), [2, 2, 2, 2]);
});
