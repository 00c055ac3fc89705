import assert from "node:assert/strict";
import { Fifo } from "../../core/engine/fifo.ts";
import { Rng } from "../../core/engine/rng.ts";

Deno.test("the fifo keeps order across wrap-arounds and growth (against an array)", () => {
  // Pushes and shifts in random runs, so that the ring wraps at every capacity it grows through
  // (16 to 1024) with its head anywhere.
  const rng = new Rng(7), fifo = new Fifo<number>(), model: number[] = [];
  let next = 0, most = 0;
  for (let step = 0; step < 20_000; step++) {
    if (rng.float() < (step < 10_000 ? 0.55 : 0.45)) {
      fifo.push(next);
      model.push(next++);
    } else assert.equal(fifo.shift(), model.shift());
    assert.equal(fifo.size, model.length);
    most = Math.max(most, model.length);
    assert.equal(fifo.peek(), model[0]);
  }
  assert.deepEqual([...fifo], model);
  assert.ok(most > 512, `the ring grew to hold ${most}`);
});
