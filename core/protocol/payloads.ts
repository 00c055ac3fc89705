/**
 * The JSON payloads of the hook protocol: what travels in a batch's `objs` (a VM's description,
 * its parameters) and in the host a policy is started with.
 *
 * @module
 */

/** The state of a vCPU as the policy sees it. */
export type VcpuStatus = "new" | "ready" | "running" | "blocked" | "done";

/** What the kernel sends when a VM appears (JSON). */
export interface VmSpec {
  /** The VM's index (order in the workload, or of creation). */
  index: number;
  /** The VM's name. */
  id: string;
  /** Global ids of its vCPUs. */
  vcpus: number[];
  /** States of its vCPUs (same order), for policies that join a running kernel. */
  states: VcpuStatus[];
  /** Parameters. */
  params: VmParams;
}

/** A VM's scheduling parameters (JSON). */
export interface VmParams {
  /** The VM's index. */
  index: number;
  /** Proportional-share weight (Xen credit: 1..65535, default 256). */
  weight: number;
  /** Cap in percent of one pCPU; 0 = none. */
  cap: number;
  /** Static priority; lower number = higher priority. */
  priority: number;
  /** Policy-specific parameters (durations already in ns where the workload gave strings). */
  sched: Record<string, unknown>;
}

/** What the kernel sends when a VM appears (JSON). */
export interface MemoryVmSpec {
  /** The VM's index (the same as in the CPU domain). */
  index: number;
  /** The VM's name. */
  id: string;
  /** The size of its address space, in pages. */
  pages: number;
  /** Its memory weight (shares). */
  weight: number;
  /** Its balloon target in frames, or null when it has none. */
  target: number | null;
}

/** A VM's memory parameters (JSON). */
export interface MemoryVmParams {
  /** The VM's index. */
  index: number;
  /** Its memory weight (shares). */
  weight: number;
  /** Its balloon target in frames, or null when it has none. */
  target: number | null;
}

/** A VM's I/O limits (cgroup v2 `io.max`); 0 means no limit. */
export interface IoLimits {
  /** Read bytes per second. */
  rbps: number;
  /** Write bytes per second. */
  wbps: number;
  /** Read requests per second. */
  riops: number;
  /** Write requests per second. */
  wiops: number;
}

/** What the kernel sends when a VM appears or its I/O parameters change (JSON). */
export interface IoVmSpec {
  /** The VM's index (the same in every domain). */
  index: number;
  /** The VM's name. */
  id: string;
  /** Proportional I/O weight (cgroup `io.weight`: 1..10000, default 100). */
  weight: number;
  /** Limits the kernel enforces (cgroup `io.max`). */
  max: IoLimits;
}

/** A disk as the host describes it at start (JSON, in `StartMessage.host.disks`). */
export interface DiskInfo {
  /** The disk's name in the workload. */
  id: string;
  /** Its model: `linear`, `hdd` or `ssd`. */
  kind: string;
  /** Number of cylinders (1 for an SSD). */
  cylinders: number;
  /** Capacity in 512-byte blocks. */
  totalBlocks: number;
  /** Where the head is now. */
  head: number;
  /** Which way the head last moved (or starts moving). */
  direction: "up" | "down";
}
