/**
 * The dynamic consolidation of Beloglazov and Buyya (2012), shared by `thr-mmt`, `iqr-mc`,
 * `mad-mmt`, `lr-mmt` and `lrr-mmt`: each of those names an overload test and a VM selection,
 * and this page does the rest, as CloudSim 3.0.3's `PowerVmAllocationPolicyMigrationAbstract`
 * does it.
 *
 * At every evaluation:
 * 1. find the overloaded hosts with the policy's test;
 * 2. from each, take VMs (the selection policy chooses) until the host passes the test;
 * 3. place them, largest demand first, with power-aware best fit: the host whose power grows
 *    least, among hosts that can take the VM and would still pass the test (an empty host passes);
 * 4. evacuate under-used hosts, least utilised first, when every one of their VMs finds a host.
 *
 * In `cloudsim` mode it copies CloudSim's choices (an empty host's idle power is not charged when
 * it is woken, hosts that received VMs in step 3 may be evacuated in step 4). In `hyperhook` mode
 * waking a host costs its idle power, and a host that just received VMs is not evacuated. A VM
 * planned in step 3 is never moved again in step 4 (CloudSim would move it twice at once, which
 * the kernel refuses).
 *
 * @module
 */

import {
  type ConfigOf,
  definePlacementPolicy,
  HISTORY_LENGTH,
  type HostView,
  type Param,
  type PlacementContext,
  type PlacementPolicy,
  type PlacementVmView,
} from "../../core/policy/mod.ts";

/** What an overload test sees of a host: its VMs as planned, one added or some taken away. */
export interface HostLoad {
  /** The host. */
  readonly host: HostView;
  /** Its VMs, as the test should count them. */
  readonly vms: readonly PlacementVmView[];
  /** `cloudsim` or `hyperhook`. */
  readonly mode: "cloudsim" | "hyperhook";
  /** What its VMs ask for now over its MIPS (CloudSim's `u_req`). */
  utilization(): number;
  /**
   * Its utilisation history, newest first: slot i sums its VMs' i-th values × VM MIPS / host MIPS;
   * trailing zeros are dropped. The array is reused: it holds until the next call.
   */
  history(): Float64Array;
  /** The longest migration of one of its VMs, in seconds (RAM over the migration bandwidth). */
  maxMigrationSeconds(): number;
  /** The evaluation interval, in seconds. */
  readonly intervalSeconds: number;
}

/** An overload test: true when the host is (or would be) overloaded. */
export type OverloadTest<C> = (load: HostLoad, config: C) => boolean;

/** A VM selection: one of `vms` (those that may move, in the host's order), or undefined. */
export type Selection = (vms: readonly PlacementVmView[]) => PlacementVmView | undefined;

/** The declaration of a consolidation policy. */
export interface ConsolidationSpec<S extends Record<string, Param<unknown>>> {
  /** The policy's name. */
  name: string;
  /** Its parameters. */
  config: S;
  /** The overload test. */
  overloaded: OverloadTest<ConfigOf<S>>;
  /** Which VM to take off an overloaded host. */
  select: Selection;
}

/** Static threshold: overloaded when the VMs ask for more than `threshold` of the host. */
export function staticThreshold(load: HostLoad, threshold: number): boolean {
  return load.utilization() > threshold;
}

/** The test of IQR, MAD, LR and LRR while a host has too short a history: THR 0.7. */
const FALLBACK_THRESHOLD = 0.7;

/** Java's `Math.round`: halves go up. */
function round(x: number): number {
  return Math.floor(x + 0.5);
}

/** The median as Apache Commons Math's `Percentile(50)` computes it (sorted input). */
function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  const position = 0.5 * (n + 1), low = Math.floor(position);
  if (position < 1) return sorted[0]!;
  if (position >= n) return sorted[n - 1]!;
  const lower = sorted[low - 1]!, upper = sorted[low]!;
  return lower + (position - low) * (upper - lower);
}

/**
 * Interquartile range: with 12 values or more, overloaded above 1 − safety × IQR of the host's
 * history (quartiles at 0-based ranks round(0.25(n+1)) − 1 and round(0.75(n+1)) − 1).
 */
export function interQuartileRange(load: HostLoad, safety: number): boolean {
  const history = load.history();
  if (history.length < 12) return staticThreshold(load, FALLBACK_THRESHOLD);
  const data = Float64Array.from(history).sort();
  const q1 = round(0.25 * (data.length + 1)) - 1, q3 = round(0.75 * (data.length + 1)) - 1;
  return load.utilization() > 1 - safety * (data[q3]! - data[q1]!);
}

/** Median absolute deviation: with 12 values or more, overloaded above 1 − safety × MAD. */
export function medianAbsoluteDeviation(load: HostLoad, safety: number): boolean {
  const data = load.history();
  if (data.length < 12) return staticThreshold(load, FALLBACK_THRESHOLD);
  const middle = median(Float64Array.from(data).sort());
  const deviations = Float64Array.from(data, (x) => Math.abs(middle - x)).sort();
  return load.utilization() > 1 - safety * median(deviations);
}

/** Least squares of y on x = 1..n, as Commons Math's `SimpleRegression` accumulates it. */
function leastSquares(y: readonly number[], weights?: readonly number[]): [number, number] {
  let n = 0, xbar = 0, ybar = 0, sumXX = 0, sumXY = 0, sumX = 0, sumY = 0;
  for (let i = 0; i < y.length; i++) {
    const w = weights === undefined ? 1 : Math.sqrt(weights[i]!);
    const x = w * (i + 1), yi = w * y[i]!;
    if (n === 0) {
      xbar = x, ybar = yi;
    } else {
      const fact1 = 1 + n, fact2 = n / (1 + n);
      const dx = x - xbar, dy = yi - ybar;
      sumXX += dx * dx * fact2;
      sumXY += dx * dy * fact2;
      xbar += dx / fact1;
      ybar += dy / fact1;
    }
    sumX += x, sumY += yi, n++;
  }
  const slope = sumXY / sumXX;
  return [(sumY - slope * sumX) / n, slope];
}

/** How far ahead the regression predicts: the history's length plus the longest migration. */
function predicted(load: HostLoad, y: readonly number[], estimate: [number, number]): number {
  const ahead = Math.ceil(load.maxMigrationSeconds() / load.intervalSeconds);
  return estimate[0] + estimate[1] * (y.length + ahead);
}

/** Reused by `lastTen`: the tests run often, and no policy runs two at once. */
const TEN = new Array<number>(10).fill(0);

/**
 * The ten newest values of the history, oldest first, or null when there are fewer. The array is
 * reused: it holds until the next call.
 */
function lastTen(load: HostLoad): number[] | null {
  const history = load.history();
  if (history.length < 10) return null;
  const y = TEN;
  for (let i = 0; i < 10; i++) y[i] = history[9 - i]!;
  return y;
}

/**
 * Local regression: with 10 values or more, fit y = a + b·x by least squares to the 10 newest
 * (x = 1 the oldest) and call the host overloaded when safety × the prediction one migration
 * ahead reaches 1.
 */
export function localRegression(load: HostLoad, safety: number): boolean {
  const y = lastTen(load);
  if (y === null) return staticThreshold(load, FALLBACK_THRESHOLD);
  return safety * predicted(load, y, leastSquares(y)) >= 1;
}

/**
 * Robust local regression: local regression whose points are re-weighted by the bisquare of their
 * residuals (6 × the median absolute residual), so that a spike does not steer the line. In
 * `cloudsim` mode CloudSim's own rule applies (weights only when 40 % of them are zero or less,
 * which never happens): the result is then exactly `localRegression`'s.
 */
export function robustLocalRegression(load: HostLoad, safety: number): boolean {
  const y = lastTen(load);
  if (y === null) return staticThreshold(load, FALLBACK_THRESHOLD);
  const first = leastSquares(y);
  if (load.mode === "cloudsim") return safety * predicted(load, y, first) >= 1;
  const residuals = y.map((value, i) => value - (first[0] + first[1] * (i + 1)));
  const scale = 6 * median(residuals.map(Math.abs).sort((a, b) => a - b));
  const weights = residuals.map((r) => {
    if (scale === 0) return 1;
    const k = 1 - (r / scale) ** 2;
    return k > 0 ? k * k : 0;
  });
  let estimate = leastSquaresWeighted(y, weights);
  if (!Number.isFinite(estimate[0]) || !Number.isFinite(estimate[1])) estimate = first;
  return safety * predicted(load, y, estimate) >= 1;
}

/** Weighted least squares of y on x = 1..n. */
function leastSquaresWeighted(y: readonly number[], w: readonly number[]): [number, number] {
  let sw = 0, sx = 0, sy = 0;
  for (let i = 0; i < y.length; i++) sw += w[i]!, sx += w[i]! * (i + 1), sy += w[i]! * y[i]!;
  const mx = sx / sw, my = sy / sw;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < y.length; i++) {
    const dx = i + 1 - mx;
    sxx += w[i]! * dx * dx, sxy += w[i]! * dx * (y[i]! - my);
  }
  const slope = sxy / sxx;
  return [my - slope * mx, slope];
}

/** Minimum migration time: the VM with the least RAM, the first in the host's list on ties. */
export function minimumMigrationTime(
  vms: readonly PlacementVmView[],
): PlacementVmView | undefined {
  let best: PlacementVmView | undefined;
  for (const vm of vms) if (best === undefined || vm.type.ram < best.type.ram) best = vm;
  return best;
}

/**
 * Maximum correlation: the VM whose utilisation history is best explained (highest R²) by a
 * least-squares fit, with intercept, on the histories of the others; minimum migration time when
 * the fit cannot be made (too few values, or a singular system).
 *
 * All the fits at once: with G the cross-product matrix of the centred histories, the residual
 * of VM i's fit on the others is 1 / (G⁻¹)ᵢᵢ and its total sum of squares Gᵢᵢ, so
 * R²ᵢ = 1 − 1 / (Gᵢᵢ (G⁻¹)ᵢᵢ): one n×n inversion instead of n least-squares problems.
 */
export function maximumCorrelation(vms: readonly PlacementVmView[]): PlacementVmView | undefined {
  if (vms.length === 0) return undefined;
  let m = Infinity;
  for (const vm of vms) m = Math.min(m, vm.history.length);
  const n = vms.length;
  // CloudSim needs more observations than predictors (intercept included).
  if (n < 2 || n > m) return minimumMigrationTime(vms);
  const centred = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const history = vms[i]!.history;
    let mean = 0;
    for (let row = 0; row < m; row++) mean += history[row]!;
    mean /= m;
    for (let row = 0; row < m; row++) centred[i * m + row] = history[row]! - mean;
  }
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let dot = 0;
      for (let row = 0; row < m; row++) dot += centred[i * m + row]! * centred[j * m + row]!;
      g[i * n + j] = g[j * n + i] = dot;
    }
  }
  const diagonal = Float64Array.from({ length: n }, (_, i) => g[i * n + i]!);
  const inverse = invert(g, n);
  if (inverse === null) return minimumMigrationTime(vms);
  let best = 0, bestR2 = Number.MIN_VALUE;
  for (let i = 0; i < n; i++) {
    const r2 = 1 - 1 / (diagonal[i]! * inverse[i * n + i]!);
    if (r2 > bestR2) bestR2 = r2, best = i;
  }
  return vms[best];
}

/** The inverse of the symmetric n×n matrix a (Gauss–Jordan, partial pivoting), or null if singular. */
function invert(a: Float64Array, n: number): Float64Array | null {
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inverse[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(a[i * n + i]!));
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) {
      if (Math.abs(a[i * n + k]!) > Math.abs(a[pivot * n + k]!)) pivot = i;
    }
    const p = a[pivot * n + k]!;
    // Near-collinear histories (pivots below 1e-12 of the largest) count as a singular system.
    if (!(Math.abs(p) > 1e-12 * scale)) return null;
    if (pivot !== k) {
      for (let j = 0; j < n; j++) {
        [a[k * n + j], a[pivot * n + j]] = [a[pivot * n + j]!, a[k * n + j]!];
        [inverse[k * n + j], inverse[pivot * n + j]] = [
          inverse[pivot * n + j]!,
          inverse[k * n + j]!,
        ];
      }
    }
    for (let j = 0; j < n; j++) a[k * n + j]! /= p, inverse[k * n + j]! /= p;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const f = a[i * n + k]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[i * n + j]! -= f * a[k * n + j]!;
        inverse[i * n + j]! -= f * inverse[k * n + j]!;
      }
    }
  }
  return inverse;
}

/**
 * A host's VMs counted for an overload test: either a list of VMs, or the sums a planner keeps
 * for a host plus one VM that would join it (no list is built for that case).
 */
class Load implements HostLoad {
  host!: HostView;
  mode: "cloudsim" | "hyperhook" = "hyperhook";
  intervalSeconds = 300;
  migrationRate = 1;
  #list: readonly PlacementVmView[] = [];
  #extra: PlacementVmView | null = null;
  /** The host's sums, when the planner gives them: history slots (from `#baseAt`), demand, RAM. */
  #base: Float64Array | null = null;
  #baseAt = 0;
  #baseDemand = 0;
  #baseRam = 0;
  #slots = new Float64Array(HISTORY_LENGTH);
  /** `#slots` seen through each length (the tests run often: no view is made per call). */
  #views = Array.from({ length: HISTORY_LENGTH + 1 }, (_, n) => this.#slots.subarray(0, n));

  /** Counts `list`. */
  list(host: HostView, list: readonly PlacementVmView[]): this {
    this.host = host, this.#list = list, this.#extra = null, this.#base = null;
    return this;
  }

  /**
   * Counts a planner's sums for `host` plus `extra`: its history slots (`slots` from `at`), its
   * demand, its largest RAM and its list.
   */
  sums(
    host: HostView,
    slots: Float64Array,
    at: number,
    totals: { demand: number; ram: number; list: readonly PlacementVmView[] },
    extra: PlacementVmView,
  ): this {
    this.host = host, this.#list = totals.list, this.#extra = extra, this.#base = slots;
    this.#baseAt = at, this.#baseDemand = totals.demand, this.#baseRam = totals.ram;
    return this;
  }

  get vms(): readonly PlacementVmView[] {
    return this.#extra === null ? this.#list : [...this.#list, this.#extra];
  }

  utilization(): number {
    const extra = this.#extra;
    if (this.#base !== null) return (this.#baseDemand + extra!.demand) / this.host.type.mips;
    let sum = 0;
    for (const vm of this.#list) sum += vm.demand;
    return sum / this.host.type.mips;
  }

  history(): Float64Array {
    const slots = this.#slots, mips = this.host.type.mips, base = this.#base;
    if (base !== null) {
      const at = this.#baseAt;
      for (let i = 0; i < HISTORY_LENGTH; i++) slots[i] = base[at + i]!;
      add(slots, 0, this.#extra!, mips, 1);
    } else {
      slots.fill(0);
      for (const vm of this.#list) add(slots, 0, vm, mips, 1);
    }
    let length = HISTORY_LENGTH;
    while (length > 0 && slots[length - 1] === 0) length--;
    return this.#views[length]!;
  }

  maxMigrationSeconds(): number {
    let ram = 0;
    if (this.#base !== null) ram = Math.max(this.#baseRam, this.#extra!.type.ram);
    else for (const vm of this.#list) ram = Math.max(ram, vm.type.ram);
    return ram / (this.migrationRate * this.host.type.bandwidth / 8);
  }
}

/**
 * Adds (sign 1) or takes away (-1) a VM's history, scaled to a host of `mips`, to the 30 slots of
 * `slots` from `at`.
 */
function add(
  slots: Float64Array,
  at: number,
  vm: PlacementVmView,
  mips: number,
  sign: number,
): void {
  const values = vm.history, scale = sign * vm.type.mips / mips;
  const n = Math.min(values.length, HISTORY_LENGTH);
  for (let i = 0; i < n; i++) slots[at + i]! += values[i]! * scale;
}

/** The hosts' capacities and their power at the measured utilisation, by host index. */
interface HostTable {
  coreMips: Float64Array;
  mips: Float64Array;
  ramCap: Float64Array;
  bandwidthCap: Float64Array;
  measuredW: Float64Array;
}

/**
 * The best fit's candidates and their growths of power, shared by every planner (one runs at a
 * time): the same two arrays from one evaluation to the next keep V8's optimised code on them
 * (fresh arrays per planner made it bail out thousands of times a day). Host indices are
 * integers, so that a candidate read back is a small-integer key.
 */
const scratch = { candidates: new Int32Array(1024), growths: new Float64Array(1024) };

/** One evaluation's (or one placement's) plan, over VM lists of its own that it can undo. */
class Planner<C> {
  readonly lists: PlacementVmView[][];
  readonly demand: Float64Array;
  /** Demand of the VMs that have been through an evaluation (CloudSim's started VMs). */
  readonly started: Float64Array;
  readonly capped: Float64Array;
  readonly ram: Float64Array;
  readonly bandwidth: Float64Array;
  readonly busy: Float64Array;
  /** Each host's history slots (30 per host), summed over its list. */
  readonly slots: Float64Array;
  /** How many VMs each host's list holds (read in the best fit's loops instead of the lists). */
  readonly sizes: Int32Array;
  /** Non-empty hosts, ascending. */
  readonly occupied: number[] = [];
  /** Empty hosts by type, ascending. */
  readonly empty: number[][];
  readonly planned = new Set<PlacementVmView>();
  readonly moves: [PlacementVmView, HostView][] = [];
  #ctx: PlacementContext<C>;
  #config: C;
  #test: OverloadTest<C>;
  #load = new Load();
  #totals: { demand: number; ram: number; list: readonly PlacementVmView[] } = {
    demand: 0,
    ram: 0,
    list: [],
  };
  #first: number[] = [];

  constructor(
    ctx: PlacementContext<C>,
    config: C,
    test: OverloadTest<C>,
    migrationShare: number,
    buffers: Float64Array[],
  ) {
    this.#ctx = ctx;
    this.#config = config;
    this.#test = test;
    this.#load.mode = ctx.mode;
    this.#load.intervalSeconds = ctx.intervalNs / 1e9;
    this.#load.migrationRate = migrationShare;
    const hosts = ctx.hosts, count = hosts.length;
    // The SDK's lists until a plan changes one (copy on write, see `#own`).
    this.lists = hosts.map((host) => host.vms);
    this.#owned = new Uint8Array(count);
    this.sizes = new Int32Array(count);
    // Buffers of the policy's, reused from one evaluation to the next.
    if (buffers.length === 0) {
      for (let i = 0; i < 6; i++) buffers.push(new Float64Array(count));
      buffers.push(new Float64Array(count * HISTORY_LENGTH));
    }
    for (const buffer of buffers) buffer.fill(0);
    [this.demand, this.started, this.capped, this.ram, this.bandwidth, this.busy, this.slots] =
      buffers as [
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
        Float64Array,
      ];
    const types = Math.max(0, ...hosts.map((host) => host.type.index + 1));
    this.empty = Array.from({ length: types }, () => []);
    for (let h = 0; h < count; h++) {
      const host = hosts[h]!;
      for (const vm of this.lists[h]!) this.#count(h, vm, 1, vm.target === host);
      if (this.lists[h]!.length === 0) this.empty[host.type.index]!.push(h);
      else this.occupied.push(h);
    }
  }

  #owned: Uint8Array;

  /** Host h's list, copied from the SDK's before its first change. */
  #own(h: number): PlacementVmView[] {
    if (this.#owned[h] === 0) this.lists[h] = this.lists[h]!.slice(), this.#owned[h] = 1;
    return this.lists[h]!;
  }

  /** Adds (sign 1) or takes away (-1) a VM's share of host h's sums. */
  #count(
    h: number,
    vm: PlacementVmView,
    sign: number,
    incoming: boolean,
    demand = vm.demand,
  ): void {
    const host = this.#ctx.hosts[h]!, core = host.type.coreMips;
    this.sizes[h]! += sign;
    this.demand[h]! += sign * demand;
    if (vm.history.length > 0) this.started[h]! += sign * demand;
    this.capped[h]! += sign * Math.min(demand, core);
    this.ram[h]! += sign * vm.type.ram;
    this.bandwidth[h]! += sign * vm.type.bandwidth;
    // CloudSim's "utilization of CPU in MIPS": a VM on its way in counts at its full demand.
    this.busy[h]! += sign * (incoming ? Math.min(demand, core) : vm.allocatedMips);
    if (vm.history.length > 0) add(this.slots, h * HISTORY_LENGTH, vm, host.mips, sign);
  }

  /** The overload test on host h's VMs as planned (or on `vms`). */
  overloaded(h: number, vms: readonly PlacementVmView[] = this.lists[h]!): boolean {
    return this.#test(this.#load.list(this.#ctx.hosts[h]!, vms), this.#config);
  }

  /** The overload test on host h's VMs as planned, with `vm` added. */
  #overloadedWith(h: number, vm: PlacementVmView, creating: boolean): boolean {
    const list = this.lists[h]!;
    let ram = 0;
    for (const other of list) ram = Math.max(ram, other.type.ram);
    // CloudSim's VMs created but not yet started (never evaluated) ask for nothing, except the
    // one being created, which asks for its full MIPS.
    const totals = this.#totals;
    totals.demand = creating && this.#ctx.mode === "cloudsim" ? this.started[h]! : this.demand[h]!;
    totals.ram = ram;
    totals.list = list;
    const load = this.#load.sums(this.#ctx.hosts[h]!, this.slots, h * HISTORY_LENGTH, totals, vm);
    return this.#test(load, this.#config);
  }

  /**
   * Power-aware best fit: the host whose power grows least (the lowest index on ties) among those
   * that can take the VM and would pass the overload test with it, or -1. The test, the costly
   * part, runs on candidates in order of growth until one passes.
   */
  bestFit(
    vm: PlacementVmView,
    excluded: Uint8Array,
    emptyAllowed: boolean,
    creating = false,
  ): number {
    const hosts = this.#ctx.hosts, cloudsim = this.#ctx.mode === "cloudsim";
    const ramHeld = this.#ctx.ramHeld;
    const { coreMips, mips, ramCap, bandwidthCap, measuredW } = this.#hostTable();
    const capped = this.capped, ram = this.ram, bandwidth = this.bandwidth, busy = this.busy;
    const sizes = this.sizes;
    const demand = vm.demand, vmRam = vm.type.ram, vmBandwidth = vm.type.bandwidth;
    if (scratch.candidates.length < hosts.length) {
      scratch.candidates = new Int32Array(hosts.length);
      scratch.growths = new Float64Array(hosts.length);
    }
    const candidates = scratch.candidates, growths = scratch.growths;
    let n = 0;
    const occupied = this.occupied, emptyFirst = this.#emptyFirst(excluded, emptyAllowed);
    for (let k = 0, count = occupied.length + emptyFirst.length; k < count; k++) {
      const h = k < occupied.length ? occupied[k]! : emptyFirst[k - occupied.length]!;
      if (excluded[h] === 1) continue;
      if (demand > coreMips[h]! || capped[h]! + demand > mips[h]!) continue;
      if (
        ramHeld && (ram[h]! + vmRam > ramCap[h]! || bandwidth[h]! + vmBandwidth > bandwidthCap[h]!)
      ) {
        continue;
      }
      const after = hosts[h]!.type.powerAt((busy[h]! + demand) / mips[h]!);
      // CloudSim subtracts the power at the measured utilisation, P(0) for an empty host: its
      // idle power is not charged. Waking a host really costs that power.
      const before = !cloudsim && sizes[h] === 0 ? 0 : measuredW[h]!;
      candidates[n] = h, growths[n++] = after - before;
    }
    // Hosts are unique, so (growth, host) orders the candidates totally: where each sits in the
    // arrays does not matter, and one that fails its test is swapped out with the last.
    while (n > 0) {
      let pick = 0;
      for (let i = 1; i < n; i++) {
        if (
          growths[i]! < growths[pick]! ||
          (growths[i] === growths[pick] && candidates[i]! < candidates[pick]!)
        ) pick = i;
      }
      const h = candidates[pick]!;
      // An empty host (nothing in use) passes without a test.
      const passes = sizes[h] === 0 || busy[h] === 0 || !this.#overloadedWith(h, vm, creating);
      // Taken out whether it passed or not: a path that runs at every call keeps V8's optimised
      // code on it (a rarely taken one made it bail out hundreds of times a day).
      n--;
      candidates[pick] = candidates[n]!, growths[pick] = growths[n]!;
      if (passes) return h;
    }
    return -1;
  }

  /** Empty hosts of one type are alike: the first of each type not excluded speaks for all. */
  #emptyFirst(excluded: Uint8Array, allowed: boolean): number[] {
    const first = this.#first;
    first.length = 0;
    if (!allowed) return first;
    for (const list of this.empty) {
      for (const h of list) {
        if (excluded[h] === 1 || this.sizes[h]! > 0) continue;
        first.push(h);
        break;
      }
    }
    return first;
  }

  #table: HostTable | null = null;

  /** The hosts' capacities, and their power at the measured utilisation, as arrays. */
  #hostTable(): HostTable {
    if (this.#table !== null) return this.#table;
    const hosts = this.#ctx.hosts, count = hosts.length;
    const table: HostTable = {
      coreMips: new Float64Array(count),
      mips: new Float64Array(count),
      ramCap: new Float64Array(count),
      bandwidthCap: new Float64Array(count),
      measuredW: new Float64Array(count),
    };
    for (let h = 0; h < count; h++) {
      const host = hosts[h]!, type = host.type;
      table.coreMips[h] = type.coreMips;
      table.mips[h] = type.mips;
      table.ramCap[h] = type.ram;
      table.bandwidthCap[h] = type.bandwidth;
      table.measuredW[h] = type.powerAt(Math.min(1, host.utilization));
    }
    return this.#table = table;
  }

  plan(vm: PlacementVmView, h: number): void {
    if (this.lists[h]!.length === 0) {
      // A host that was empty joins the occupied ones, in order.
      let at = this.occupied.length;
      while (at > 0 && this.occupied[at - 1]! > h) at--;
      this.occupied.splice(at, 0, h);
    }
    this.#own(h).push(vm);
    this.#count(h, vm, 1, true);
    this.planned.add(vm);
    this.moves.push([vm, this.#ctx.hosts[h]!]);
  }

  /**
   * A VM placed at `size` now runs on host h at its own demand (the SDK updated its view after
   * the answer): count it so.
   */
  placed(vm: PlacementVmView, h: number, size: number): void {
    this.#count(h, vm, -1, true, size);
    this.#count(h, vm, 1, false);
  }

  /** Takes back the last `count` planned moves. */
  undo(count: number): void {
    for (let i = 0; i < count; i++) {
      const [vm, host] = this.moves.pop()!;
      this.#own(host.index).pop();
      this.#count(host.index, vm, -1, true);
      this.planned.delete(vm);
    }
  }
}

/** Largest demand first; ties keep list order (Java's stable sort). */
function byDemand(vms: PlacementVmView[]): PlacementVmView[] {
  return vms.map((vm, i) => [vm, i] as const)
    .sort((a, b) => b[0].demand - a[0].demand || a[1] - b[1])
    .map(([vm]) => vm);
}

/**
 * Defines a consolidation policy from its overload test and its VM selection.
 *
 * @example
 * ```ts
 * import { param } from "../../core/policy/mod.ts";
 * import { defineConsolidation, minimumMigrationTime, staticThreshold } from "./_consolidation.ts";
 *
 * const thr = defineConsolidation({
 *   name: "thr-mmt-0.9",
 *   config: { threshold: param.number(0.9, { min: 0, max: 1 }) },
 *   overloaded: (load, config) => staticThreshold(load, config.threshold),
 *   select: minimumMigrationTime,
 * });
 * console.assert(thr.domain === "placement");
 * ```
 */
export function defineConsolidation<S extends Record<string, Param<unknown>>>(
  spec: ConsolidationSpec<S>,
): PlacementPolicy {
  return definePlacementPolicy({
    name: spec.name,
    config: spec.config,
    create({ config, datacenter }) {
      const share = datacenter.migration?.bandwidthShare ?? 0.5;
      let planner: Planner<ConfigOf<S>> | null = null;
      const buffers: Float64Array[] = [];
      let excluded: Uint8Array | undefined;
      let last: { vm: PlacementVmView; host: number; size: number } | null = null;
      return {
        // The first VMs arrive at full MIPS and are placed by the same best fit.
        place(ctx, vm) {
          planner ??= new Planner(ctx, config, spec.overloaded, share, buffers);
          excluded ??= new Uint8Array(ctx.hosts.length);
          // The VM placed last asks for its own demand by now, not its size.
          if (last !== null && last.vm.host?.index === last.host) {
            planner.placed(last.vm, last.host, last.size);
          }
          last = null;
          const h = planner.bestFit(vm, excluded, true, true);
          if (h < 0) return null;
          planner.plan(vm, h);
          last = { vm, host: h, size: vm.demand };
          return h;
        },
        vmRemoved() {
          planner = null, last = null;
        },
        migrated() {
          planner = null, last = null;
        },
        evaluate(ctx) {
          planner = null, last = null;
          const plan = new Planner(ctx, config, spec.overloaded, share, buffers);
          consolidate(ctx, plan, spec.select);
          for (const [vm, host] of plan.moves) ctx.migrate(vm, host);
          // The views now hold the plan; the next placement starts from them.
        },
      };
    },
  });
}

function consolidate<C>(ctx: PlacementContext<C>, plan: Planner<C>, select: Selection): void {
  const hosts = ctx.hosts, count = hosts.length, cloudsim = ctx.mode === "cloudsim";
  const inFlight = (vm: PlacementVmView) => vm.target !== null && !plan.planned.has(vm);
  // 1. Overloaded hosts.
  const overloaded = new Uint8Array(count);
  const sources: number[] = [];
  // An empty host asks for nothing and has no history: no test calls it overloaded.
  for (const h of plan.occupied) {
    if (plan.overloaded(h)) overloaded[h] = 1, sources.push(h);
  }
  // 2. VMs to take off them, until each passes its test.
  const leaving: PlacementVmView[] = [];
  for (const h of sources) {
    const left = plan.lists[h]!.slice();
    for (;;) {
      const vm = select(left.filter((candidate) => candidate.target === null));
      if (vm === undefined) break;
      leaving.push(vm);
      left.splice(left.indexOf(vm), 1);
      if (!plan.overloaded(h, left)) break;
    }
  }
  // 3. Their new hosts; one that fits nowhere stays.
  for (const vm of byDemand(leaving)) {
    const h = plan.bestFit(vm, overloaded, true);
    if (h >= 0) plan.plan(vm, h);
  }
  const receivers = new Set(plan.moves.map(([, host]) => host.index));
  // 4. Under-used hosts, least utilised first.
  const off = (h: number) => cloudsim ? hosts[h]!.utilization === 0 : plan.lists[h]!.length === 0;
  const skip = new Uint8Array(count), targets = new Uint8Array(count);
  for (let h = 0; h < count; h++) {
    if (overloaded[h] === 1 || off(h)) skip[h] = 1, targets[h] = 1;
    // CloudSim forgets the receivers of step 3 here; they may be evacuated at once.
    if (!cloudsim && receivers.has(h)) skip[h] = 1;
  }
  const measured = new Float64Array(count), order: number[] = [];
  for (let h = 0; h < count; h++) {
    const u = measured[h] = hosts[h]!.utilization;
    if (u > 0 && u < 1) order.push(h);
  }
  order.sort((a, b) => measured[a]! - measured[b]! || a - b);
  for (const h of order) {
    if (skip[h] === 1) continue;
    const list = plan.lists[h]!;
    // A host with VMs on the move (all of them out, or any in) is left alone.
    let busy = true;
    for (const vm of list) {
      if (!inFlight(vm)) {
        busy = false;
        break;
      }
      if (vm.target === hosts[h]) break;
    }
    if (busy) continue;
    skip[h] = 1, targets[h] = 1;
    // VMs still in place; one planned in step 3 is not moved twice.
    const vms = list.filter((vm) => vm.target === null && !plan.planned.has(vm));
    if (vms.length === 0) continue;
    let placed = 0;
    for (const vm of byDemand(vms)) {
      const to = plan.bestFit(vm, targets, false);
      if (to < 0) break;
      plan.plan(vm, to);
      placed++;
    }
    if (placed < vms.length) {
      plan.undo(placed);
      continue;
    }
    for (const [, host] of plan.moves.slice(plan.moves.length - placed)) skip[host.index] = 1;
  }
}
