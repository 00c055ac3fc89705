// The production CPU policies (issue 6), through the CLI: Xen credit1's weights, caps, per-domain
// shares and BOOST; RTDS reservations and deadlines; credit2 and fair shares; live parameters.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

interface VmReport {
  id: string;
  cpu: {
    share: number;
    runNs: number;
    latencyNs: { mean: number; p99: number };
    counters?: Record<string, number>;
  };
}
interface Report {
  vms: VmReport[];
  host: { cpu: { utilization: number } };
  incidents: unknown[];
}

type Vm = Record<string, unknown>;

const cpuBound = (id: string, extra: Vm = {}): Vm => ({
  id,
  cpu: { pattern: "cpu-bound" },
  ...extra,
});

async function simulate(
  policy: string,
  pcpus: number,
  stopAt: string,
  vms: Vm[],
  options: { config?: Record<string, unknown>; timeline?: unknown[] } = {},
): Promise<Report> {
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: `${policy}-production`,
    host: { pcpus },
    stopAt,
    policies: { cpu: { use: policy, config: options.config ?? {} } },
    timeline: options.timeline ?? [],
    vms,
  });
  const result = await runCli(["run", path, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Report;
  assert.deepEqual(report.incidents, []);
  return report;
}

const share = (report: Report, id: string) => report.vms.find((vm) => vm.id === id)!.cpu.share;

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

Deno.test("credit, one pCPU, weights 256 and 512 for 30 s: shares 1/3 and 2/3, work-conserving", async () => {
  const report = await simulate("credit", 1, "30s", [
    cpuBound("a", { weight: 256 }),
    cpuBound("b", { weight: 512 }),
  ]);
  near(share(report, "a"), 1 / 3, 0.02, "share of a");
  near(share(report, "b"), 2 / 3, 0.02, "share of b");
  assert.ok(report.host.cpu.utilization >= 0.99, `utilization ${report.host.cpu.utilization}`);
});

Deno.test("credit, cap 50 on a lone CPU-bound VM for 10 s: at most 0.51 of a pCPU", async () => {
  const report = await simulate("credit", 1, "10s", [cpuBound("capped", { cap: 50 })]);
  const got = share(report, "capped");
  assert.ok(got <= 0.51 && got >= 0.49, `share ${got}`);
});

Deno.test("credit is per domain: a 4-vCPU VM and a 1-vCPU VM of equal weight on 2 pCPUs get equal CPU", async () => {
  const report = await simulate("credit", 2, "30s", [
    cpuBound("big", { vcpus: 4 }),
    cpuBound("small", { vcpus: 1 }),
  ]);
  near(share(report, "big"), 0.5, 0.02, "share of the 4-vCPU VM");
  near(share(report, "small"), 0.5, 0.02, "share of the 1-vCPU VM");
});

Deno.test("rtds, 4/10 ms and 10/20 ms without extratime: 0.40 and 0.50 of the pCPU, no deadline missed", async () => {
  const report = await simulate("rtds", 1, "10s", [
    cpuBound("a", { sched: { period: "10ms", budget: "4ms", extratime: false } }),
    cpuBound("b", { sched: { period: "20ms", budget: "10ms", extratime: false } }),
  ]);
  near(share(report, "a"), 0.4, 0.01, "share of a");
  near(share(report, "b"), 0.5, 0.01, "share of b");
  for (const vm of report.vms) assert.deepEqual(vm.cpu.counters, { deadlineMisses: 0 }, vm.id);
});

Deno.test("rtds: total utilisation at most the pCPU count misses no deadline; above it, misses are counted", async () => {
  // Utilisation 1.9 on 2 pCPUs, mixed periods, blocking and waking VMs among CPU-bound ones.
  const fits = await simulate("rtds", 2, "5s", [
    cpuBound("a", { sched: { period: "10ms", budget: "5ms" } }),
    cpuBound("b", { sched: { period: "20ms", budget: "10ms" } }),
    cpuBound("c", { sched: { period: "40ms", budget: "20ms" } }),
    {
      id: "io",
      sched: { period: "5ms", budget: "2ms" },
      cpu: { program: [{ run: "1ms" }, { sleep: "3ms" }], repeat: true },
    },
  ], { config: { extratime: false } });
  for (const vm of fits.vms) assert.deepEqual(vm.cpu.counters, { deadlineMisses: 0 }, vm.id);
  near(share(fits, "a"), 0.25, 0.005, "share of a (of two pCPUs)");
  // Utilisation 1.1 on one pCPU: EDF cannot meet every deadline.
  const over = await simulate("rtds", 1, "1s", [
    cpuBound("a", { sched: { period: "10ms", budget: "6ms", extratime: false } }),
    cpuBound("b", { sched: { period: "20ms", budget: "10ms", extratime: false } }),
  ]);
  const misses = over.vms.reduce((sum, vm) => sum + vm.cpu.counters!.deadlineMisses!, 0);
  assert.ok(misses > 0, "deadline misses are counted when the pCPU is overloaded");
});

Deno.test("rtds refuses a budget above the period, or a period under 10 µs, naming the VM (exit 2), sandboxed too", async () => {
  for (
    const [sched, message] of [
      [
        { period: "10ms", budget: "12ms" },
        /VM web sched\.budget: expected at most the period \(10ms\), got 12ms/,
      ],
      [
        { period: "5us", budget: "1us" },
        /VM web sched\.period: expected a duration of at least 10us, got 5us/,
      ],
    ] as const
  ) {
    const path = await workloadFile({
      schema: "hyperhook.workload/v1",
      name: "rtds-bad",
      host: { pcpus: 1 },
      stopAt: "1s",
      policies: { cpu: { use: "rtds" } },
      vms: [cpuBound("web", { sched })],
    });
    for (const isolation of ["none", "process"]) {
      const result = await runCli(["run", path, "--isolation", isolation]);
      assert.equal(result.code, 2, `${isolation}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  }
});

Deno.test("credit refuses tslice_ms and ratelimit_us out of Xen's ranges (exit 2)", async () => {
  const path = await workloadFile({
    schema: "hyperhook.workload/v1",
    name: "credit-bad",
    host: { pcpus: 1 },
    stopAt: "1s",
    vms: [cpuBound("a")],
  });
  for (
    const [config, message] of [
      [{ tslice_ms: 0 }, /config\.tslice_ms: expected an integer from 1 to 1000, got 0/],
      [{ tslice_ms: 1001 }, /config\.tslice_ms: expected an integer from 1 to 1000, got 1001/],
      [{ ratelimit_us: 50 }, /config\.ratelimit_us: expected 0 or 100\.\.500000 .*got 50/],
      [{ ratelimit_us: 600000 }, /config\.ratelimit_us: expected an integer from 0 to 500000/],
      [{ tslice_ms: 10, ratelimit_us: 20000 }, /at most tslice_ms × 1000 \(10000\), got 20000/],
    ] as const
  ) {
    const result = await runCli([
      "run",
      path,
      "--cpu",
      "credit",
      "--config-cpu",
      JSON.stringify(config),
    ]);
    assert.equal(result.code, 2, JSON.stringify(config));
    assert.match(result.stderr, message);
  }
});

Deno.test("an interactive VM's scheduling latency is lower with credit's BOOST than without", async () => {
  const vms = [
    cpuBound("hog1"),
    cpuBound("hog2"),
    { id: "web", cpu: { pattern: "interactive", run: "1ms", sleep: "20ms" } },
  ];
  const latency = async (boost: boolean) => {
    const report = await simulate("credit", 1, "10s", vms, { config: { boost } });
    return report.vms.find((vm) => vm.id === "web")!.cpu.latencyNs;
  };
  const boosted = await latency(true), plain = await latency(false);
  assert.ok(boosted.mean * 10 < plain.mean, `mean ${boosted.mean} ns vs ${plain.mean} ns`);
  assert.ok(boosted.p99 * 10 < plain.p99, `p99 ${boosted.p99} ns vs ${plain.p99} ns`);
});

Deno.test("credit2 and fair share one pCPU by weight too; credit2 caps at 50 %", async () => {
  for (const policy of ["credit2", "fair"]) {
    const report = await simulate(policy, 1, "10s", [
      cpuBound("a", { weight: 256 }),
      cpuBound("b", { weight: 512 }),
    ]);
    near(share(report, "a"), 1 / 3, 0.01, `${policy}: share of a`);
    near(share(report, "b"), 2 / 3, 0.01, `${policy}: share of b`);
  }
  const capped = await simulate("credit2", 1, "10s", [cpuBound("capped", { cap: 50 })]);
  near(share(capped, "capped"), 0.5, 0.01, "credit2 share under cap 50");
});

Deno.test("live parameters from the timeline take effect at the next accounting", async () => {
  // Equal weights for 5 s, then b's weight triples: b gets 1/2, then 3/4 of the pCPU.
  const timeline = [{ at: "5s", vm: "b", set: { weight: 768 } }];
  for (const policy of ["credit", "credit2", "fair"]) {
    const report = await simulate(policy, 1, "10s", [cpuBound("a"), cpuBound("b")], { timeline });
    near(share(report, "b"), (0.5 + 0.75) / 2, 0.02, `${policy}: share of b`);
  }
  // A cap set at 2 s on a lone VM: a full pCPU, then half of one.
  const capped = await simulate("credit", 1, "10s", [cpuBound("a")], {
    timeline: [{ at: "2s", vm: "a", set: { cap: 50 } }],
  });
  near(share(capped, "a"), (2 + 8 * 0.5) / 10, 0.02, "credit share with a cap from 2 s");
  // RTDS: a new budget applies from the next period (`set.sched` replaces the whole `sched`).
  const rt = await simulate("rtds", 1, "10s", [
    cpuBound("a", { sched: { period: "10ms", budget: "2ms", extratime: false } }),
  ], {
    timeline: [{
      at: "5s",
      vm: "a",
      set: { sched: { period: "10ms", budget: "6ms", extratime: false } },
    }],
  });
  near(share(rt, "a"), (0.2 + 0.6) / 2, 0.01, "rtds share with a budget raised at 5 s");
});
