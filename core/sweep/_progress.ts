/**
 * A sweep's progress bar on stderr, shown only when stderr is a terminal: shards done out of all,
 * running, failed, and the time left at the pace so far.
 *
 * @module
 */

/** A progress bar over shards. */
export class SweepProgress {
  #enabled = Deno.stderr.isTerminal();
  #total: number;
  #label: string;
  #started = performance.now();
  #last = 0;
  #shown = false;

  /** @param label What runs. @param total How many shards. */
  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
  }

  /** Shows the counts (at most ten times a second unless `force`). */
  update(done: number, running: number, failed: number, force = false): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    const fraction = this.#total === 0 ? 1 : done / this.#total;
    const bar = "#".repeat(Math.round(fraction * 30)).padEnd(30, ".");
    const elapsed = (now - this.#started) / 1000;
    const left = done === 0 ? "" : ` ~${Math.ceil(elapsed / done * (this.#total - done))}s left`;
    const text =
      `\r\x1b[2K${this.#label} [${bar}] ${done}/${this.#total} shards, ${running} running${
        failed > 0 ? `, ${failed} failed` : ""
      }${left}`;
    Deno.stderr.writeSync(new TextEncoder().encode(text));
    this.#shown = true;
  }

  /** Clears the bar so that a message can take the line. */
  clear(): void {
    if (!this.#shown) return;
    this.#shown = false;
    Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[2K"));
  }
}
