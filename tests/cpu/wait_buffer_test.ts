import assert from "node:assert/strict";
import { WaitBuffer } from "../../core/cpu/model.ts";
import { Histogram } from "../../core/engine/histogram.ts";
import { Rng } from "../../core/engine/rng.ts";

Deno.test("the wait buffer's histograms equal histograms fed directly, read at any time", () => {
  // VMs are added while waits are pending (the segments move as the buffer grows), waits span
  // zero to seconds, and histograms are read in the middle of segments.
  const rng = new Rng(3), buffer = new WaitBuffer();
  const buffered: Histogram[] = [], direct: Histogram[] = [];
  for (let step = 0; step < 50_000; step++) {
    if (buffered.length < 100 && (buffered.length === 0 || rng.float() < 0.002)) {
      buffered.push(buffer.add());
      direct.push(new Histogram());
    }
    const vm = rng.int(buffered.length);
    const ns = rng.float() < 0.2 ? 0 : Math.floor(rng.exponential(1e6) * (1 + rng.int(1000)));
    buffer.record(vm, ns);
    direct[vm]!.record(ns);
    if (step % 9_973 === 0) compare(buffer, buffered, direct, rng.int(buffered.length));
  }
  for (let vm = 0; vm < buffered.length; vm++) compare(buffer, buffered, direct, vm);
  assert.ok(buffered.length > 64, `${buffered.length} VMs: the buffer grew past 16, 32 and 64`);
});

function compare(buffer: WaitBuffer, buffered: Histogram[], direct: Histogram[], vm: number) {
  buffer.flush(vm);
  const a = buffered[vm]!, b = direct[vm]!;
  assert.deepEqual([a.count, a.sum, a.min, a.max], [b.count, b.sum, b.min, b.max]);
  for (const q of [0, 0.1, 0.5, 0.9, 0.99, 1]) assert.equal(a.quantile(q), b.quantile(q));
}
