// The reference thread draws a stream's references as `RefStream.draw` does on the kernel's
// thread: the same numbers, in the same order, whatever the batch sizes.
import assert from "node:assert/strict";
import { Rng } from "../../core/engine/rng.ts";
import { RefRing, THREAD_KINDS } from "../../core/memory/_ref_thread.ts";
import { RefStream } from "../../core/memory/streams.ts";
import type { MemoryWorkload } from "../../core/workload/types.ts";

const specs: [string, Partial<MemoryWorkload>][] = [
  ["zipf, reads only", { pattern: "zipf", pages: 262_144, skew: 0.99, writes: 0 }],
  ["zipf with writes", { pattern: "zipf", pages: 1_000, skew: 0.8, writes: 0.3 }],
  ["uniform, reads only", { pattern: "uniform", pages: 5_000, writes: 0 }],
  ["uniform with writes", { pattern: "uniform", pages: 5_000, writes: 0.5 }],
];

/** Draws `total` references in batches of the given sizes, in turn. */
function drawAll(stream: RefStream, total: number, sizes: number[]): number[] {
  const refs: number[] = [];
  for (let k = 0; refs.length < total; k++) {
    const out = new Int32Array(sizes[k % sizes.length]!);
    const n = stream.draw(out);
    refs.push(...out.subarray(0, n));
  }
  return refs.slice(0, total);
}

for (const [name, spec] of specs) {
  Deno.test(`reference thread: ${name} gives the references drawn here`, () => {
    const memory = { phase: 1_000_000, ...spec } as MemoryWorkload;
    const here = new RefStream(memory, 100, new Rng(7).fork("memory", 1), false);
    const there = new RefStream(memory, 100, new Rng(7).fork("memory", 1), true);
    try {
      assert.equal(here.threaded, false);
      assert.equal(there.threaded, true);
      // More than the thread's ring holds (2^14), in batch sizes that do not divide it.
      const expected = drawAll(here, 50_000, [64]);
      const drawn = drawAll(there, 50_000, [64, 1, 3000, 17]);
      const differs = drawn.findIndex((ref, i) => ref !== expected[i]);
      assert.equal(
        differs,
        -1,
        `reference ${differs}: ${drawn[differs]}, expected ${expected[differs]}`,
      );
      if (spec.writes! > 0) assert.ok(expected.some((ref) => ref < 0));
      const other = new RefStream(memory, 100, new Rng(8).fork("memory", 1), true);
      const others = drawAll(other, 1_000, [64]);
      assert.ok(others.some((ref, i) => ref !== expected[i]), "another seed, other references");
      other.close();
    } finally {
      there.close();
    }
  });
}

Deno.test("reference thread: a ring's counters wrap past 2^31 without a slip", () => {
  const spec = { kind: THREAD_KINDS.UNIFORM, pages: 10_000, writes: 0.25, table: null };
  const state = new Rng(11).state();
  const near = RefRing.open({ ...spec, state, start: 2 ** 31 - 16 * 1024 });
  const zero = RefRing.open({ ...spec, state });
  assert.ok(near !== null && zero !== null);
  try {
    const a = new Int32Array(1000), b = new Int32Array(1000);
    // 100,000 references: the counters go from 2^31 - 16,384 past 2^31 (and wrap to -2^31).
    for (let k = 0; k < 100; k++) {
      near.take(a), zero.take(b);
      const differs = a.findIndex((ref, i) => ref !== b[i]);
      assert.equal(differs, -1, `batch ${k}, reference ${differs}`);
    }
  } finally {
    near.close(), zero.close();
  }
});
