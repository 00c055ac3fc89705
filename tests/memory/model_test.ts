// The memory model through the CLI: fault costs, generators, dirty pages, balloon targets,
// batched reclaim, the balancer, ejection and isolation.
import assert from "node:assert/strict";
import { example, runCli, workloadFile } from "../_helpers.ts";

interface Report {
  simulatedNs: number;
  eventsHash: string;
  incidents: { domain: string; kind: string; reason: string; message: string }[];
  policies: Record<string, { name: string; ejected: boolean; isolation: string }>;
  vms: {
    id: string;
    cpu: { runNs: number; finishNs: number | null };
    memory: {
      refs: number;
      faults: number;
      residentPeak: number;
      hitRatio: number | null;
      resident: number;
      target: number | null;
      evictions: number;
      writebacks: number;
      stallNs: number;
    };
  }[];
  host: {
    memory: {
      frames: number;
      faults: number;
      evictions: number;
      writebacks: number;
      reclaimed: number;
      usedPeak: number;
      free: number;
    };
  };
}

async function run(workload: unknown, flags: string[] = [], code = 0): Promise<Report> {
  const path = await workloadFile(workload);
  const result = await runCli(["run", path, ...flags, "--format", "json"]);
  assert.equal(result.code, code, result.stderr);
  return JSON.parse(result.stdout);
}

function workload(
  host: Record<string, unknown>,
  vms: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "memory-model",
    host: { pcpus: 1, ...host },
    vms: vms.map((vm, i) => ({ id: `vm${i}`, ...vm })),
    ...extra,
  };
}

const TEXTBOOK = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];

Deno.test("a fault stalls the vCPU for the fault cost: bad policies slow VMs down", async () => {
  // One reference per microsecond of run time (the default rate); each fault stalls 100 µs.
  const r = await run(workload({ memory: { frames: 3 } }, [{ memory: { refs: TEXTBOOK } }]), [
    "--memory",
    "fifo",
  ]);
  const vm = r.vms[0]!;
  assert.equal(vm.memory.faults, 15);
  assert.equal(vm.memory.stallNs, 15 * 100_000);
  assert.equal(vm.cpu.runNs, 20 * 1_000);
  assert.equal(vm.cpu.finishNs, 20 * 1_000 + 15 * 100_000);
  const opt = await run(workload({ memory: { frames: 3 } }, [{ memory: { refs: TEXTBOOK } }]), [
    "--memory",
    "opt",
  ]);
  assert.equal(opt.vms[0]!.cpu.finishNs, 20 * 1_000 + 9 * 100_000);
  // Free faults and a faster rate: 20 references at 10 per µs take 2 µs.
  const fast = await run(
    workload({ memory: { frames: 3, faultCost: "0us" } }, [{
      memory: { refs: TEXTBOOK, rate: 1e7 },
    }]),
  );
  assert.equal(fast.vms[0]!.cpu.finishNs, 2_000);
  assert.equal(fast.vms[0]!.memory.stallNs, 0);
});

Deno.test("references are issued only while a vCPU runs, in time order across VMs", async () => {
  // Two VMs on one pCPU under FCFS: the second issues nothing until the first is done.
  const r = await run(
    workload({ memory: { frames: 4, faultCost: "0us" } }, [
      { memory: { refs: [0, 1, 2, 3] } },
      { memory: { refs: [0, 1] } },
    ], { policies: { cpu: { use: "fcfs" } } }),
  );
  assert.deepEqual(r.vms.map((vm) => vm.cpu.finishNs), [4_000, 6_000]);
  assert.deepEqual(r.vms.map((vm) => vm.memory.faults), [4, 2]);
  // A VM with a CPU program references memory while the program runs, at its rate.
  const busy = await run(
    workload({ memory: { frames: 8 } }, [{
      cpu: { program: [{ run: "50us" }] },
      memory: { pattern: "loop", pages: 4, rate: 1e5 },
    }]),
  );
  // 50 µs at one reference per 10 µs: references at 0, 10, ..., 40 µs of run time, 4 of them
  // faults; each fault stalls 100 µs, which does not count as run time.
  assert.equal(busy.vms[0]!.memory.refs, 5);
  assert.equal(busy.vms[0]!.memory.faults, 4);
  assert.equal(busy.vms[0]!.cpu.runNs, 50_000);
  assert.equal(busy.vms[0]!.cpu.finishNs, 50_000 + 4 * 100_000);
});

Deno.test("global LRU across two VMs running side by side follows their interleaving", async () => {
  // Two pCPUs, both VMs start at 0 with one reference per µs: at every µs vm0 references, then
  // vm1 (same time, lower vCPU first). Worked out on the merged string with 3 frames, global LRU:
  //   t=0 a0* b0*  t=1 a1* b1*(a0)  t=2 a0*(b0) b0*(a1)  t=3 a1*(b1) b1*(a0)
  // Every reference misses: 8 faults; the 3 most recently used pages of 4 cycle through 3 frames.
  const r = await run(
    workload({ pcpus: 2, memory: { frames: 3, faultCost: "0us" } }, [
      { memory: { refs: [0, 1, 0, 1] } },
      { memory: { refs: [0, 1, 0, 1] } },
    ]),
    ["--memory", "lru"],
  );
  assert.deepEqual(r.vms.map((vm) => vm.memory.faults), [4, 4]);
  // With 4 frames both fit: only the first loads fault.
  const roomy = await run(
    workload({ pcpus: 2, memory: { frames: 4, faultCost: "0us" } }, [
      { memory: { refs: [0, 1, 0, 1] } },
      { memory: { refs: [0, 1, 0, 1] } },
    ]),
    ["--memory", "lru"],
  );
  assert.deepEqual(roomy.vms.map((vm) => vm.memory.faults), [2, 2]);
});

Deno.test("generators are seeded: same seed, same run; every policy faces the same references", async () => {
  const value = workload({ pcpus: 2, memory: { frames: 64 } }, [
    { memory: { pattern: "zipf", pages: 512, count: 2_000 } },
    { memory: { pattern: "uniform", pages: 128, count: 2_000, writes: 0.3 } },
    { memory: { pattern: "phases", pages: 1024, workingSet: 32, phase: "200us", count: 2_000 } },
    { memory: { pattern: "scan", size: "4MiB", count: 1_500 } },
  ]);
  const first = await run(value, ["--memory", "lru"]);
  const again = await run(value, ["--memory", "lru"]);
  assert.equal(again.eventsHash, first.eventsHash);
  assert.deepEqual(first.vms.map((vm) => vm.memory.refs), [2_000, 2_000, 2_000, 1_500]);
  // A scan never reuses a page within its 1024 pages: every reference faults.
  assert.equal(first.vms[3]!.memory.faults, 1_500);
  const clock = await run(value, ["--memory", "clock"]);
  assert.deepEqual(clock.vms.map((vm) => vm.memory.refs), [2_000, 2_000, 2_000, 1_500]);
  assert.notEqual(clock.eventsHash, first.eventsHash);
  const reseeded = await run(value, ["--memory", "lru", "--seed", "2"]);
  assert.notEqual(reseeded.eventsHash, first.eventsHash);
  // Writes dirty pages; evicting a dirty page writes it back.
  assert.ok(first.vms[1]!.memory.writebacks > 0);
  assert.equal(first.vms[0]!.memory.writebacks, 0);
});

Deno.test("a loop one page larger than memory defeats LRU and FIFO: every reference faults", async () => {
  const value = workload({ memory: { frames: 4 } }, [{
    memory: { pattern: "loop", pages: 5, count: 50 },
  }]);
  for (const policy of ["lru", "fifo", "clock"]) {
    const r = await run(value, ["--memory", policy]);
    assert.equal(r.vms[0]!.memory.faults, 50, policy);
  }
});

Deno.test("a dirty victim is written back, and its write-back adds to the stall", async () => {
  // One frame: page 0 is written, then evicted by 1 (write-back), 1 is evicted clean by 0.
  const r = await run(
    workload({ memory: { frames: 1, writebackCost: "50us" } }, [{
      memory: { refs: [{ page: 0, write: true }, 1, 0] },
    }]),
  );
  const vm = r.vms[0]!;
  assert.equal(vm.memory.faults, 3);
  assert.equal(vm.memory.evictions, 2);
  assert.equal(vm.memory.writebacks, 1);
  assert.equal(vm.memory.stallNs, 3 * 100_000 + 50_000);
  assert.equal(vm.cpu.finishNs, 3 * 1_000 + 3 * 100_000 + 50_000);
});

Deno.test("a balloon target holds a VM to its frames: it replaces its own pages", async () => {
  // Host of 8 frames, VM target 2: LRU within the VM, as if it had 2 frames (textbook: 17).
  const r = await run(
    workload({ memory: { frames: 8 } }, [{ memory: { refs: TEXTBOOK, target: 2 } }]),
    ["--memory", "lru"],
  );
  assert.equal(r.vms[0]!.memory.faults, 17);
  assert.equal(r.vms[0]!.memory.residentPeak, 2);
  assert.equal(r.vms[0]!.memory.target, 2);
  assert.equal(r.host.memory.free, 6);
});

Deno.test("below the low watermark the policy reclaims frames in batches", async () => {
  const value = workload({ memory: { frames: 32, lowWatermark: 4, highWatermark: 12 } }, [{
    memory: { pattern: "zipf", pages: 256, count: 5_000 },
  }]);
  const r = await run(value, ["--memory", "lru"]);
  assert.ok(r.host.memory.reclaimed > 0);
  // Reclaim keeps free frames at the low watermark or above after every instant: the run ends
  // with at least 4 free, at most 12.
  assert.ok(r.host.memory.free >= 4 && r.host.memory.free <= 12, String(r.host.memory.free));
  // Every eviction came from batched reclaim: no fault found the host without a free frame.
  assert.equal(r.host.memory.evictions, r.host.memory.reclaimed);
  assert.deepEqual(r.incidents, []);
});

Deno.test("the balancer sets balloon targets from working sets and weights", async () => {
  // A small loop (16 pages) and a large zipf set (4096 pages) share 256 frames: the balancer
  // gives the loop about its working set and the rest to the zipf VM.
  const value = workload({ pcpus: 2, memory: { frames: 256 } }, [
    { memory: { pattern: "loop", pages: 16, rate: 1e6 }, cpu: { pattern: "cpu-bound" } },
    { memory: { pattern: "zipf", pages: 4096, rate: 1e6 }, cpu: { pattern: "cpu-bound" } },
  ], { stopAt: "50ms" });
  const r = await run(value, ["--memory", "balancer", "--config-memory", '{"period":"5ms"}']);
  const [loop, zipf] = r.vms;
  assert.ok(loop!.memory.target !== null && zipf!.memory.target !== null);
  assert.ok(loop!.memory.target! >= 16 && loop!.memory.target! < 40, String(loop!.memory.target));
  assert.ok(zipf!.memory.target! > 200, String(zipf!.memory.target));
  assert.ok(loop!.memory.resident <= loop!.memory.target!);
  assert.ok(zipf!.memory.resident <= zipf!.memory.target!);
  assert.equal(loop!.memory.faults, 16);
  assert.deepEqual(r.incidents, []);
});

Deno.test("an invalid victim ejects the policy; FIFO takes over and the run completes", async () => {
  const fixture = new URL("../fixtures/memory/bad_victim.ts", import.meta.url).pathname;
  const r = await run(
    workload({ memory: { frames: 3 } }, [{ memory: { refs: TEXTBOOK } }]),
    ["--memory", fixture, "--isolation", "none"],
    1,
  );
  assert.equal(r.incidents.length, 1);
  assert.equal(r.incidents[0]!.domain, "memory");
  assert.equal(r.incidents[0]!.kind, "invalid");
  assert.equal(r.incidents[0]!.reason, "unknown-frame");
  assert.ok(r.policies.memory!.ejected);
  // The first victim is needed at the 4th reference; FIFO serves every fault from then on.
  assert.equal(r.vms[0]!.memory.refs, 20);
  assert.equal(r.vms[0]!.memory.faults, 15);
});

Deno.test("a balloon target above the host ejects the policy", async () => {
  const fixture = new URL("../fixtures/memory/greedy_balloon.ts", import.meta.url).pathname;
  const r = await run(
    workload({ memory: { frames: 8 } }, [{
      memory: { pattern: "uniform", pages: 16, count: 5_000 },
    }]),
    ["--memory", fixture, "--isolation", "none"],
    1,
  );
  assert.equal(r.incidents[0]!.reason, "target-above-host");
  assert.match(r.incidents[0]!.message, /expected an integer from 0 to 8/);
});

Deno.test("the same memory decisions under every isolation (identical eventsHash)", async () => {
  const value = workload({ pcpus: 2, memory: { frames: 48, lowWatermark: 2 } }, [
    { memory: { pattern: "zipf", pages: 256, count: 3_000, writes: 0.2 } },
    { memory: { pattern: "phases", pages: 512, workingSet: 24, count: 3_000 } },
  ]);
  for (const policy of ["lru", "balancer"]) {
    const hashes = new Set<string>();
    for (const isolation of ["none", "worker", "process"]) {
      // A generous deadline: a loaded test machine must not turn a slow batch into an incident.
      const flags = ["--memory", policy, "--isolation", isolation, "--deadline", "10s"];
      const r = await run(value, flags);
      assert.equal(r.policies.memory!.isolation, isolation);
      hashes.add(r.eventsHash);
    }
    assert.equal(hashes.size, 1, policy);
  }
  const textbook = new Set<string>();
  for (const isolation of ["none", "worker", "process"]) {
    const path = example("memory_textbook.json");
    const result = await runCli([
      "run",
      path,
      "--memory",
      "opt",
      "--isolation",
      isolation,
      "--deadline",
      "10s",
      "--format",
      "json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const r = JSON.parse(result.stdout) as Report;
    assert.equal(r.vms[0]!.memory.faults, 9);
    textbook.add(r.eventsHash);
  }
  assert.equal(textbook.size, 1);
});

Deno.test("the balloon example: the balancer protects the heavier VM from its neighbours", async () => {
  const runs: Report[] = [];
  for (const policy of ["lru", "balancer"]) {
    const result = await runCli([
      "run",
      example("memory_balloon.json"),
      "--memory",
      policy,
      "--format",
      "json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    runs.push(JSON.parse(result.stdout));
  }
  const [lru, balancer] = runs as [Report, Report];
  const hits = (r: Report, id: string) => r.vms.find((vm) => vm.id === id)!.memory.hitRatio!;
  const target = (r: Report, id: string) => r.vms.find((vm) => vm.id === id)!.memory.target!;
  // Naming the policy the workload configures keeps its config (a 50 ms period, not the default).
  assert.equal(
    (balancer.policies.memory as { config?: { period?: string } }).config?.period,
    "50ms",
  );
  // db has twice the weight: the balancer gives it the largest target and more hits than LRU.
  assert.ok(hits(balancer, "db") > hits(lru, "db") + 0.03);
  assert.ok(target(balancer, "db") > target(balancer, "web"));
  // batch streams through 64 MiB: it gets little, whatever it asks.
  assert.ok(target(balancer, "batch") < 200);
  assert.equal(lru.vms[0]!.memory.target, null);
});
