/**
 * The live kernel's figures in the Prometheus text exposition format (version 0.0.4): HELP and
 * TYPE lines, counters ending in `_total`, base units (seconds), histograms with cumulative `le`
 * buckets, `_sum` and `_count`. Labels: `vm`, `pcpu`, `disk`, `domain`.
 *
 * Every family comes from the simulation's figures (`Simulation.figures`), the domains' own.
 *
 * @module
 */

import type { Histogram } from "../engine/histogram.ts";
import type { LiveKernel } from "./live.ts";
import type { SimulationFigures } from "../simulation/mod.ts";

/** One sample of a family: labels and a value (or histogram buckets). */
export interface MetricSample {
  /** Label names and values. */
  labels?: Record<string, string>;
  /** The value (gauges and counters). */
  value?: number;
  /** For histograms: the distribution, in ns, exposed in seconds. */
  histogram?: Histogram;
}

/** A metric family: name, help, type and samples. */
export interface MetricFamily {
  /** The name, such as `hyperhook_vm_cpu_seconds_total`. */
  name: string;
  /** One line of help. */
  help: string;
  /** The type. */
  type: "counter" | "gauge" | "histogram";
  /** The samples. */
  samples: MetricSample[];
}

/** Bucket upper bounds (seconds) of latency histograms: 10 µs to 10 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.00001,
  0.0001,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Extra figures the HTTP layer adds (requests served, SSE clients). */
export interface ServerFigures {
  /** Requests answered, by status code. */
  requests: Map<number, number>;
  /** SSE clients connected. */
  sseClients: number;
}

/**
 * Collects the families of a live kernel. Call it inside `live.exclusive`.
 *
 * @param live The live kernel.
 * @param server Figures of the HTTP layer, if any.
 * @returns The families, in a stable order.
 */
export function collectMetrics(live: LiveKernel, server?: ServerFigures): MetricFamily[] {
  const state = live.state();
  const simulation = live.simulation, figures = simulation.figures(), cpu = figures.cpu;
  const s = (ns: number) => ns / 1e9;
  const families: MetricFamily[] = [
    gauge("hyperhook_simulated_seconds", "Simulated time of the live kernel", [{
      value: s(simulation.nowNs),
    }]),
    gauge(
      "hyperhook_speed_ratio",
      "Simulated seconds per wall-clock second (+Inf: as fast as possible)",
      [{ value: live.speed }],
    ),
    gauge("hyperhook_paused", "1 while the clock is paused", [{ value: live.paused ? 1 : 0 }]),
    gauge("hyperhook_ended", "1 once the run is over", [{ value: simulation.ended ? 1 : 0 }]),
    gauge("hyperhook_lag_seconds", "How far the clock is behind its pace (simulated)", [{
      value: s(state.lagNs),
    }]),
    counter("hyperhook_decisions_total", "Decisions logged by the kernel", [{
      value: simulation.decisions,
    }]),
    counter("hyperhook_mutations_total", "Acknowledged mutations of the control API", [{
      value: live.mutations,
    }]),
    gauge(
      "hyperhook_policy_info",
      "The policy in charge of each domain (value 1; under_test=0 after an ejection)",
      simulation.policies().map(({ domain, info, underTest }) => ({
        labels: {
          domain,
          policy: info.name,
          sha256: info.sha256,
          isolation: info.isolation,
          under_test: underTest ? "1" : "0",
        },
        value: 1,
      })),
    ),
  ];
  const incidents = new Map<string, { domain: string; kind: string; count: number }>();
  for (const incident of simulation.incidents) {
    const key = `${incident.domain}\u0000${incident.kind}`;
    const entry = incidents.get(key) ?? { domain: incident.domain, kind: incident.kind, count: 0 };
    entry.count++;
    incidents.set(key, entry);
  }
  families.push(counter(
    "hyperhook_incidents_total",
    "Policy ejections, by domain and kind",
    [...incidents.values()].map(({ domain, kind, count }) => ({
      labels: { domain, kind },
      value: count,
    })),
  ));
  const vms = state.vms.filter((vm) => vm.removedNs === null);
  const vmLabel = (id: string) => ({ vm: id });
  families.push(
    gauge("hyperhook_vms", "VMs in the kernel (removed ones excluded)", [{ value: vms.length }]),
    counter(
      "hyperhook_vm_cpu_seconds_total",
      "CPU time a VM received (simulated)",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: s(vm.cpu.runNs) })),
    ),
    counter(
      "hyperhook_vm_cpu_wait_seconds_total",
      "Time a VM's vCPUs were runnable but not running (simulated)",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: s(vm.cpu.waitNs) })),
    ),
    counter(
      "hyperhook_vm_cpu_switches_total",
      "Times a VM's vCPUs were switched in on a pCPU that ran another vCPU last",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: vm.cpu.switches })),
    ),
    gauge(
      "hyperhook_vm_cpu_share_ratio",
      "A VM's fraction of the host's CPU capacity over the last seconds",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: vm.cpu.recentShare })),
    ),
    gauge(
      "hyperhook_vm_weight",
      "A VM's proportional-share weight",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: vm.params.weight })),
    ),
    gauge(
      "hyperhook_vm_cap_ratio",
      "A VM's cap as a fraction of one pCPU (0: none)",
      vms.map((vm) => ({ labels: vmLabel(vm.id), value: vm.params.cap / 100 })),
    ),
    gauge(
      "hyperhook_vm_vcpus",
      "A VM's vCPUs by status",
      vms.flatMap((vm) =>
        Object.entries(vm.status).map(([status, count]) => ({
          labels: { vm: vm.id, status },
          value: count,
        }))
      ),
    ),
    histogram(
      "hyperhook_vm_cpu_latency_seconds",
      "Scheduling latency of a VM's vCPUs, runnable to running (simulated)",
      cpu.vms.filter((vm) => vm.removedNs === null).map((vm) => ({
        labels: vmLabel(vm.id),
        histogram: vm.latency,
      })),
    ),
    counter(
      "hyperhook_pcpu_busy_seconds_total",
      "Time a pCPU spent running vCPUs (simulated)",
      state.pcpus.map((pcpu) => ({ labels: { pcpu: String(pcpu.index) }, value: s(pcpu.busyNs) })),
    ),
    gauge(
      "hyperhook_pcpu_utilization_ratio",
      "A pCPU's busy fraction over the last seconds",
      state.pcpus.map((pcpu) => ({
        labels: { pcpu: String(pcpu.index) },
        value: pcpu.recentUtilization,
      })),
    ),
    counter("hyperhook_cpu_switches_total", "Context switches on all pCPUs", [{
      value: cpu.switches,
    }]),
  );
  families.push(...memoryFamilies(figures), ...ioFamilies(figures));
  if (server !== undefined) {
    families.push(
      counter(
        "hyperhook_http_requests_total",
        "Requests the control API answered, by status code",
        [...server.requests.entries()].sort((a, b) => a[0] - b[0]).map(([code, count]) => ({
          labels: { code: String(code) },
          value: count,
        })),
      ),
      gauge("hyperhook_sse_clients", "Clients listening to /v1/events", [{
        value: server.sseClients,
      }]),
    );
  }
  return families;
}

/**
 * Renders families in the Prometheus text format.
 *
 * @example
 * ```ts
 * import { renderMetrics } from "./metrics.ts";
 * const text = renderMetrics([{
 *   name: "demo_total", help: "A demo", type: "counter", samples: [{ labels: { vm: "a" }, value: 2 }],
 * }]);
 * console.assert(text.includes('demo_total{vm="a"} 2'));
 * ```
 */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      if (family.type === "histogram" && sample.histogram !== undefined) {
        const histogram = sample.histogram;
        for (const bound of LATENCY_BUCKETS_S) {
          const count = histogram.countAtMost(bound * 1e9);
          lines.push(
            `${family.name}_bucket${labels({ ...sample.labels, le: String(bound) })} ${count}`,
          );
        }
        lines.push(
          `${family.name}_bucket${labels({ ...sample.labels, le: "+Inf" })} ${histogram.count}`,
        );
        lines.push(`${family.name}_sum${labels(sample.labels)} ${value(histogram.sum / 1e9)}`);
        lines.push(`${family.name}_count${labels(sample.labels)} ${histogram.count}`);
      } else {
        lines.push(`${family.name}${labels(sample.labels)} ${value(sample.value ?? 0)}`);
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** The memory domain's families, when the kernel has one. */
function memoryFamilies({ cpu, memory }: SimulationFigures): MetricFamily[] {
  if (memory === undefined) return [];
  const { host, vms: figures } = memory;
  const vms = cpu.vms.filter((vm) => vm.removedNs === null && figures[vm.index] !== undefined)
    .map((vm) => ({ id: vm.id, figures: figures[vm.index]! }));
  const perVm = (pick: (figures: (typeof vms)[number]["figures"]) => number | null) =>
    vms.flatMap(({ id, figures }) => {
      const value = pick(figures);
      return value === null ? [] : [{ labels: { vm: id }, value }];
    });
  return [
    gauge("hyperhook_memory_frames", "Host memory frames", [{ value: host.frames }]),
    gauge("hyperhook_memory_free_frames", "Host frames free now", [{ value: host.free }]),
    counter("hyperhook_memory_faults_total", "Page faults of all VMs", [{ value: host.faults }]),
    counter("hyperhook_memory_evictions_total", "Pages evicted", [{ value: host.evictions }]),
    counter("hyperhook_memory_writebacks_total", "Dirty pages written back", [{
      value: host.writebacks,
    }]),
    counter("hyperhook_vm_memory_refs_total", "Page references a VM issued", perVm((f) => f.refs)),
    counter("hyperhook_vm_memory_faults_total", "Page faults of a VM", perVm((f) => f.faults)),
    gauge("hyperhook_vm_memory_resident_frames", "Frames a VM holds", perVm((f) => f.resident)),
    gauge(
      "hyperhook_vm_memory_target_frames",
      "A VM's balloon target (VMs with one)",
      perVm((f) => f.target),
    ),
    counter(
      "hyperhook_vm_memory_stall_seconds_total",
      "Time a VM's vCPUs stalled on faults (simulated)",
      perVm((f) => f.stallNs / 1e9),
    ),
  ];
}

/** The I/O domain's families, when the kernel has one. */
function ioFamilies({ cpu, io }: SimulationFigures): MetricFamily[] {
  if (io === undefined) return [];
  const vms = cpu.vms.filter((vm) => vm.removedNs === null && io.vms[vm.index] !== undefined)
    .map((vm) => ({ id: vm.id, vm: io.vms[vm.index]!, latency: io.latencies[vm.index]! }));
  const disks = io.disks;
  const queued = new Map(
    (io.live().disks as { id: string; queued: number }[]).map((d) => [d.id, d.queued]),
  );
  return [
    counter(
      "hyperhook_vm_io_requests_total",
      "I/O requests a VM submitted",
      vms.map(({ id, vm }) => ({ labels: { vm: id }, value: vm.requests })),
    ),
    counter(
      "hyperhook_vm_io_completed_total",
      "I/O requests of a VM completed",
      vms.map(({ id, vm }) => ({ labels: { vm: id }, value: vm.completed })),
    ),
    counter(
      "hyperhook_vm_io_bytes_total",
      "Bytes a VM transferred",
      vms.map(({ id, vm }) => ({ labels: { vm: id }, value: vm.bytes })),
    ),
    histogram(
      "hyperhook_vm_io_latency_seconds",
      "I/O latency of a VM's requests, submission to completion (simulated)",
      vms.map(({ id, latency }) => ({ labels: { vm: id }, histogram: latency })),
    ),
    counter(
      "hyperhook_disk_requests_total",
      "Requests a disk served",
      disks.map((disk) => ({ labels: { disk: disk.id }, value: disk.requests })),
    ),
    counter(
      "hyperhook_disk_busy_seconds_total",
      "Time a disk spent serving requests (simulated)",
      disks.map((disk) => ({ labels: { disk: disk.id }, value: disk.busyNs / 1e9 })),
    ),
    counter(
      "hyperhook_disk_seek_cylinders_total",
      "Head movement of a disk, in cylinders",
      disks.map((disk) => ({ labels: { disk: disk.id }, value: disk.seekCylinders })),
    ),
    gauge(
      "hyperhook_disk_queued_requests",
      "Requests waiting in a disk's queue",
      disks.map((disk) => ({ labels: { disk: disk.id }, value: queued.get(disk.id) ?? 0 })),
    ),
  ];
}

function gauge(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: "gauge", samples };
}

function counter(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: "counter", samples };
}

function histogram(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: "histogram", samples };
}

function labels(set: Record<string, string> | undefined): string {
  if (set === undefined) return "";
  const parts = Object.entries(set).map(([name, text]) =>
    `${name}="${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function value(number: number): string {
  if (Number.isNaN(number)) return "NaN";
  if (number === Infinity) return "+Inf";
  if (number === -Infinity) return "-Inf";
  return String(number);
}
