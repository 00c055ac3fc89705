/**
 * The datacenter workload `hyperhook.datacenter/v1`, as TypeScript types: what
 * {@linkcode import("./schema.ts").parseDatacenter} returns. Durations are integer nanoseconds.
 *
 * A datacenter is many hosts, each of a host type (cores, MIPS per core, RAM, bandwidth and a
 * SPECpower table), and VMs of VM types whose CPU demand follows a curve (inline percentages or
 * PlanetLab traces). A `placement` policy puts each VM on a host and, at every evaluation
 * interval, plans live migrations; the kernel checks and runs them.
 *
 * @module
 */

/** A host type: what every host of the type has. */
export interface HostTypeSpec {
  /** The type's name, which host groups refer to. */
  id: string;
  /** Physical cores. */
  cores: number;
  /** Capacity of one core, in MIPS. */
  mips: number;
  /** RAM in MB. */
  ram: number;
  /** Network bandwidth in Mbit/s (live migration uses a share of it). */
  bandwidth: number;
  /** Power in watts at 0, 10, …, 100 % CPU (11 values), interpolated linearly in between. */
  power: number[];
}

/** A group of hosts: `count` hosts of one type, or cycling through several types. */
export interface HostGroupSpec {
  /** The host type, or the types to cycle through (host i of the group gets types[i mod n]). */
  types: string[];
  /** How many hosts. */
  count: number;
}

/** A VM type. */
export interface VmTypeSpec {
  /** The type's name. */
  id: string;
  /** Capacity in MIPS (one vCPU). */
  mips: number;
  /** RAM in MB (what a live migration copies). */
  ram: number;
  /** Bandwidth in Mbit/s. */
  bandwidth: number;
  /** Pages dirtied while a pre-copy migration runs, in MB/s (fluid hosts). */
  dirtyRate: number;
  /**
   * Detailed hosts: how the VM references memory, as a `hyperhook.workload/v1` VM's `memory`
   * (pattern, pages, rate, writes, …); pre-copy then reads its dirty pages from the host
   * kernel's memory domain instead of `dirtyRate`.
   */
  memory?: Record<string, unknown>;
}

/** Where a group's demand curves come from: exactly one of `utilization` or `trace`. */
export interface DemandSpec {
  /** Inline curve in percent of the VM's MIPS (0..100), one value per `interval`. */
  utilization?: number[];
  /** PlanetLab traces: one file (`path`), or one VM per file of `folder` in code-point order. */
  trace?: { format: "planetlab"; path?: string; folder?: string };
  /** Length of one value (300 s, a PlanetLab line, by default). */
  interval: number;
}

/** A group of VMs of the same demand source. */
export interface VmGroupSpec {
  /** Prefix of the VMs' ids (default `vm`): ids are the prefix and the VM's index. */
  id: string;
  /** The VM type, or the types to assign. */
  types: string[];
  /**
   * How several types are assigned: `blocks` (CloudSim's: VM i of n gets
   * types[floor(i / ceil(n / types))]) or `cycle` (types[i mod types]).
   */
  assign: "blocks" | "cycle";
  /** How many VMs (default: one per trace file, or 1). */
  count?: number;
  /** When the VMs arrive (and ask to be placed). */
  arrive: number;
  /** Their demand curves. */
  demand: DemandSpec;
}

/** How live migration works. */
export interface MigrationSpec {
  /**
   * `cloudsim`: one copy of the RAM at `bandwidthShare` of the target's bandwidth; `precopy`:
   * rounds that resend the pages dirtied meanwhile until the rest fits `downtime`, then a pause.
   */
  model: "cloudsim" | "precopy";
  /** Share of the host bandwidth a migration gets (CloudSim: half). */
  bandwidthShare: number;
  /** Share of the VM's demand lost on its source while it moves (CloudSim: 10 %). */
  degradation: number;
  /** Share of the VM's demand reserved on the target while it moves (CloudSim: 10 %). */
  reservation: number;
  /** Pre-copy: the longest pause allowed for the last round. */
  downtime: number;
  /** Pre-copy: at most this many rounds before the pause, whatever remains. */
  maxRounds: number;
}

/**
 * CloudSim 3.0.3's accounting, one switch per quirk (all on in `cloudsim` mode, all off in
 * `hyperhook` mode, unless set). The policies' own CloudSim quirks follow `mode`.
 */
export interface Quirks {
  /** A VM that asks for nothing at an update, and is not migrating, leaves for good. */
  leaveAtZero: boolean;
  /** SLATAH counts a host while allocated < requested, a VM migrating in requested in full. */
  slaCountsTargets: boolean;
  /**
   * The books open at the first evaluation and close at the last update; energy is summed by
   * trapezoids ½(P(u0) + P(u1))·Δt over frames that start active; a host is active while
   * something is allocated on it; hosts start active (for shutdowns).
   */
  booksFromFirstEvaluation: boolean;
  /** RAM and bandwidth bind only until the first evaluation (CloudSim's VMs then use none). */
  ramOnlyAtStart: boolean;
  /**
   * Demand is interpolated between samples and read only at updates (evaluations, migration
   * completions), and a VM asks for its full MIPS until the first.
   */
  demandAtUpdates: boolean;
  /** An oversubscribed host's shares are floored to whole MIPS. */
  floorShares: boolean;
}

/** The datacenter section. */
export interface DatacenterSpec {
  /**
   * `hyperhook` (default) or `cloudsim`: CloudSim 3.0.3's accounting and quirks (VMs leave at
   * their first zero demand, SLATAH counts migration targets, energy from the first evaluation by
   * trapezoids, demand interpolated and re-read only at updates, RAM only at the first placement).
   */
  mode: "hyperhook" | "cloudsim";
  /** `fluid` (shares of MIPS) or `detailed` (each host runs hyperhook's own CPU kernel). */
  hostModel: "fluid" | "detailed";
  /** The evaluation interval of the placement policy. */
  interval: number;
  /** When the first evaluation comes after `interval` (CloudSim: 0.1 s later). */
  offset: number;
  /** Host types. */
  hostTypes: HostTypeSpec[];
  /** Hosts, group after group (host ids are `h` and the index). */
  hosts: HostGroupSpec[];
  /** VM types. */
  vmTypes: VmTypeSpec[];
  /** VMs, group after group. */
  vms: VmGroupSpec[];
  /** Live migration. */
  migration: MigrationSpec;
  /** CloudSim's quirks, one by one (defaults from `mode`). */
  quirks: Quirks;
  /** Detailed hosts: the period at which a VM's demand is released as work (default 100 ms). */
  detailed: { period: number };
}

/** A policy choice in `policies`. */
export interface DatacenterPolicyChoice {
  /** A built-in name, a path or a specifier. */
  use: string;
  /** Its configuration. */
  config: Record<string, unknown>;
}

/** A whole datacenter workload. */
export interface DatacenterWorkload {
  /** Always `hyperhook.datacenter/v1`. */
  schema: "hyperhook.datacenter/v1";
  /** Its name, as reports show it. */
  name: string;
  /** What it is. */
  description?: string;
  /** The seed of the policies' PRNGs. */
  seed: number;
  /** The placement policy (and, for `detailed` hosts, the CPU policy of every host). */
  policies: { placement?: DatacenterPolicyChoice; cpu?: DatacenterPolicyChoice };
  /** When the run stops (default: when the longest demand curve ends). */
  stopAt?: number;
  /** The datacenter. */
  datacenter: DatacenterSpec;
}
