// What building the memory domain does, kept cheap without changing a reference: the zipf alias
// table built in place is the textbook Vose table bit for bit, and the frame table hands out free
// frames in the order a stack of all frames (lowest on top) did.
import assert from "node:assert/strict";
import { Rng } from "../../core/engine/rng.ts";
import { FrameTable } from "../../core/memory/frames.ts";
import { RefStream } from "../../core/memory/streams.ts";
import type { MemoryWorkload } from "../../core/workload/types.ts";

const zipf = (pages: number, skew: number, count?: number) =>
  ({ pattern: "zipf", pages, skew, writes: 0, phase: 1_000_000, count }) as MemoryWorkload;

/** The alias table of zipf weights as Vose's algorithm builds it, with an array for each part. */
function textbookTable(n: number, skew: number): Uint32Array {
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) weights[i] = 1 / Math.pow(i + 1, skew);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  const keep = new Float64Array(n), alias = new Int32Array(n);
  const small: number[] = [], large: number[] = [];
  for (let i = 0; i < n; i++) {
    keep[i] = weights[i]! * n / sum;
    (keep[i]! < 1 ? small : large).push(i);
  }
  while (small.length > 0 && large.length > 0) {
    const less = small.pop()!, more = large.pop()!;
    alias[less] = more;
    keep[more] = keep[more]! + keep[less]! - 1;
    (keep[more]! < 1 ? small : large).push(more);
  }
  for (const i of large) keep[i] = 1;
  for (const i of small) keep[i] = 1;
  const table = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const sure = keep[i]! >= 1;
    table[2 * i] = sure ? 0 : Math.floor(keep[i]! * 0x1_0000_0000);
    table[2 * i + 1] = sure ? i : alias[i]!;
  }
  return table;
}

for (const [pages, skew] of [[1, 0.99], [7, 2], [1_000, 0.5], [65_536, 1.2], [262_144, 0.99]]) {
  Deno.test(`zipf over ${pages} pages, skew ${skew}: the references of the textbook alias table`, () => {
    const table = textbookTable(pages!, skew!), count = 20_000;
    // RefStream.draw for a zipf stream without writes: two numbers per reference, a column
    // drawn uniformly, then its threshold decides between the column and its alias.
    const raw = new Uint32Array(2 * count);
    new Rng(3).fork("memory", 2).fill(raw);
    const expected = Array.from({ length: count }, (_, i) => {
      const column = 2 * ((raw[2 * i]! * pages! / 0x1_0000_0000) | 0);
      return raw[2 * i + 1]! < table[column]! ? column >>> 1 : table[column + 1]!;
    });
    const stream = new RefStream(zipf(pages!, skew!), 100, new Rng(3).fork("memory", 2));
    const out = new Int32Array(count);
    assert.equal(stream.draw(out), count);
    const differs = Array.from(out).findIndex((ref, i) => ref !== expected[i]);
    assert.equal(
      differs,
      -1,
      `reference ${differs}: ${out[differs]}, expected ${expected[differs]}`,
    );
    // The popular pages are the low ones, as zipf ranks them: the first ten get more than five
    // times their share under a uniform draw.
    if (pages! >= 1_000) {
      assert.ok(expected.filter((page) => page < 10).length > 5 * count * 10 / pages!);
    }
  });
}

Deno.test("free frames: the lowest never used first, a frame given back before them", () => {
  const frames = new FrameTable(6);
  assert.deepEqual([frames.take(), frames.take(), frames.take()], [0, 1, 2]);
  assert.equal(frames.freeCount, 3);
  frames.release(1);
  frames.release(0);
  assert.equal(frames.freeCount, 5);
  // Given back last, taken first; then the lowest frames never used.
  assert.deepEqual([frames.take(), frames.take(), frames.take()], [0, 1, 3]);
  frames.release(2);
  assert.deepEqual([frames.take(), frames.take(), frames.take()], [2, 4, 5]);
  assert.equal(frames.freeCount, 0);
  // Every frame is free at first (the map says so), though the stack was never written.
  assert.equal(new FrameTable(4).owner(3), -1);
});
