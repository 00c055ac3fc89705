/**
 * What a client that connects late has missed: the recent samples and the recent changes worth
 * marking on a chart (policy swaps, VM parameter changes, VMs added or removed). The `hello`
 * event of `/v1/events` carries them, so the dashboard opens with history rather than empty
 * charts. Incidents need no copy here: the state lists them. Private to `core/control/`.
 *
 * @module
 */

/** A change as `/v1/events` sends it (`event: change`). */
export interface ChangeEvent {
  /** Its sequence number in the audit log. */
  seq: number;
  /** Simulated time it took effect (ns). */
  atNs: number;
  /** The mutation: `policy.swap`, `vm.patch`, `vm.add`, `vm.remove`, `sim.pause`, … */
  op: string;
  /** What it answered. */
  result: unknown;
}

/** The history a `hello` event carries. */
export interface LiveHistoryView {
  /** Recent samples, oldest first (each as an `event: sample` sends it). */
  samples: unknown[];
  /** Recent changes to mark, oldest first (each as an `event: change` sends it). */
  changes: ChangeEvent[];
}

/** The changes worth a mark on a time chart (pausing or changing speed changes no figure). */
const MARKED = new Set(["policy.swap", "vm.patch", "vm.add", "vm.remove"]);
/** The most samples kept, and the most VM entries over all of them (bounds a hello's size). */
const MAX_SAMPLES = 240, MAX_ENTRIES = 200_000, MAX_CHANGES = 100;

/** A bounded record of recent samples and changes. */
export class LiveHistory {
  #samples: { nowNs: number; vms: number; sample: unknown }[] = [];
  #entries = 0;
  #changes: ChangeEvent[] = [];

  /** Records what the kernel broadcasts: samples and marked changes (other events are ignored). */
  record(event: string, data: unknown): void {
    if (event === "sample") {
      const sample = data as { nowNs: number; vms: Record<string, unknown> };
      const last = this.#samples[this.#samples.length - 1];
      // A clock that went back (a restart from a checkpoint) starts a new history.
      if (last !== undefined && sample.nowNs < last.nowNs) this.#clear();
      const vms = Object.keys(sample.vms).length;
      this.#samples.push({ nowNs: sample.nowNs, vms, sample });
      this.#entries += vms;
      while (
        this.#samples.length > MAX_SAMPLES ||
        (this.#entries > MAX_ENTRIES && this.#samples.length > 2)
      ) {
        this.#entries -= this.#samples.shift()!.vms;
      }
    } else if (event === "change") {
      const change = data as ChangeEvent;
      if (!MARKED.has(change.op)) return;
      this.#changes.push(change);
      if (this.#changes.length > MAX_CHANGES) this.#changes.shift();
    }
  }

  /** What a client that connects now has missed. */
  view(): LiveHistoryView {
    return { samples: this.#samples.map((entry) => entry.sample), changes: [...this.#changes] };
  }

  #clear(): void {
    this.#samples = [];
    this.#entries = 0;
  }
}
