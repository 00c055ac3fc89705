/**
 * The replay stream's records (`core/sandbox/_replay_codec.ts`): what the child writes into its
 * ring is what the kernel reads, numbers exactly (integers as varints, the rest as float64), cut
 * anywhere between reads; malformed and oversized records are refused with the reasons incidents
 * name; the batch fingerprint tells batches apart.
 */

import assert from "node:assert/strict";
import {
  batchFingerprint,
  NEED_MORE,
  RECORD,
  RecordReader,
  RecordWriter,
  RING,
  RING_SLOTS,
  StreamError,
} from "../../core/sandbox/_replay_codec.ts";
import { evalInChild } from "../_helpers.ts";

/** A writer whose ring is drained by hand into `out` (no flushing thread). */
function ringWriter(size = 1 << 16): { writer: RecordWriter; drain(): Uint8Array } {
  const ring = new Uint8Array(new SharedArrayBuffer(size));
  const ctl = new Int32Array(new SharedArrayBuffer(RING_SLOTS * 4));
  const writer = new RecordWriter(ring, ctl, () => {
    throw new Error("broken");
  });
  let tail = 0;
  return {
    writer,
    drain() {
      const head = Atomics.load(ctl, RING.HEAD);
      const out = new Uint8Array((head - tail) | 0);
      for (let i = 0; i < out.length; i++) out[i] = ring[(tail + i) & (size - 1)]!;
      tail = head;
      Atomics.store(ctl, RING.TAIL, tail);
      return out;
    },
  };
}

const VALUES = [
  0,
  1,
  -1,
  63,
  64,
  -64,
  127,
  128,
  300,
  30_000_000,
  -(2 ** 30),
  2 ** 30 - 1,
  2 ** 30,
  3e9,
  -0,
  0.5,
  NaN,
  Infinity,
  -Infinity,
  Number.MAX_SAFE_INTEGER,
  1e-300,
];

Deno.test("replay codec: every kind of number and record comes back as written, cut anywhere", () => {
  const { writer, drain } = ringWriter();
  const nums = new Float64Array(VALUES);
  writer.text(RECORD.LOG, 0, "policy says ü\n");
  writer.reply(1, 0xdeadbeef, 12, nums, nums.length, '[{"x":1}]');
  writer.fail(2, 7, 3, '{"kind":"error","reason":"throw","message":"boom"}');
  writer.text(RECORD.STARTED, 0, '{"start":"{}","result":"{}"}');
  writer.mark(RECORD.END, 0);
  const bytes = drain();
  for (let cut = 0; cut <= bytes.length; cut += 1) {
    const reader = new RecordReader(1 << 20);
    const into = { nums: new Float64Array(1) };
    const records = [];
    let fed = 0;
    const feed = (count: number) => {
      reader.reserve(count).set(bytes.subarray(fed, fed + count));
      reader.end += count;
      fed += count;
    };
    feed(cut);
    while (records.length < 5) {
      try {
        const record = reader.next(into);
        records.push({ ...record, nums: Array.from(into.nums.subarray(0, record.length)) });
      } catch (error) {
        assert.equal(error, NEED_MORE);
        assert.ok(fed < bytes.length, `needs more at ${fed} of ${bytes.length}`);
        feed(Math.min(7, bytes.length - fed));
      }
    }
    assert.deepEqual(records.map((record) => [record.kind, record.domain]), [
      [RECORD.LOG, 0],
      [RECORD.REPLY, 1],
      [RECORD.FAIL, 2],
      [RECORD.STARTED, 0],
      [RECORD.END, 0],
    ]);
    assert.equal(records[0]!.text, "policy says ü\n");
    const reply = records[1]!;
    assert.deepEqual(
      [reply.fingerprint, reply.batchLength, reply.length, reply.text],
      [0xdeadbeef, 12, VALUES.length, '[{"x":1}]'],
    );
    // Exactly, bit for bit (-0 and NaN included).
    reply.nums.forEach((value, i) => assert.ok(Object.is(value, VALUES[i]), `value ${i}`));
    assert.deepEqual([records[2]!.fingerprint, records[2]!.batchLength], [7, 3]);
    assert.equal(reader.start, reader.end);
  }
});

Deno.test("replay codec: small integers take one to five bytes, the rest nine", () => {
  const sizes = (values: number[]) => {
    const { writer, drain } = ringWriter();
    writer.reply(0, 0, 0, new Float64Array(values), values.length, "");
    // Tag, fingerprint, three one-byte lengths.
    return drain().length - 8;
  };
  assert.equal(sizes([0, 1, -1, 63]), 4);
  assert.equal(sizes([30_000_000]), 4);
  assert.equal(sizes([3e9]), 9);
  assert.equal(sizes([0.5]), 9);
  assert.equal(sizes([-0]), 9);
});

Deno.test("replay codec: a record longer than the ring is written in pieces as the ring drains", () => {
  const size = 1 << 16;
  const ring = new Uint8Array(new SharedArrayBuffer(size));
  const ctl = new Int32Array(new SharedArrayBuffer(RING_SLOTS * 4));
  const writer = new RecordWriter(ring, ctl, () => {
    throw new Error("broken");
  });
  const values = Float64Array.from({ length: 40_000 }, (_, i) => i * 1000 + 0.5);
  const text = "x".repeat(100_000);
  // A thread of the test drains the ring as the writer fills it, until told where the end is.
  const done = new Int32Array(new SharedArrayBuffer(8));
  const code = `self.onmessage = (e) => {
    const ring = new Uint8Array(e.data.ring), ctl = new Int32Array(e.data.ctl);
    const done = new Int32Array(e.data.done);
    const out = []; let tail = 0; const started = Date.now();
    while ((Atomics.load(done, 0) === 0 || tail !== Atomics.load(done, 1)) &&
        Date.now() - started < 10000) {
      const head = Atomics.load(ctl, ${RING.HEAD});
      while (tail !== head) { out.push(ring[tail & ${size - 1}]); tail = (tail + 1) | 0; }
      Atomics.store(ctl, ${RING.TAIL}, tail);
      Atomics.notify(ctl, ${RING.TAIL});
      if (tail === head) Atomics.wait(ctl, ${RING.HEAD}, head, 1);
    }
    self.postMessage(new Uint8Array(out));
  };`;
  const worker = new Worker(`data:text/javascript,${encodeURIComponent(code)}`, {
    type: "module",
  });
  const received = new Promise<Uint8Array>((resolve) => worker.onmessage = (e) => resolve(e.data));
  worker.postMessage({ ring: ring.buffer, ctl: ctl.buffer, done: done.buffer });
  writer.reply(0, 1, 2, values, values.length, JSON.stringify([text]));
  Atomics.store(done, 1, Atomics.load(ctl, RING.HEAD));
  Atomics.store(done, 0, 1);
  return received.then((bytes) => {
    worker.terminate();
    const reader = new RecordReader(1 << 22);
    reader.reserve(bytes.length).set(bytes);
    reader.end = bytes.length;
    const into = { nums: new Float64Array(0) };
    const record = reader.next(into);
    assert.equal(record.length, values.length);
    assert.deepEqual(into.nums.subarray(0, values.length), values);
    assert.equal(JSON.parse(record.text)[0], text);
  });
});

Deno.test("replay codec: an unknown tag is a bad frame; a reply or text over the cap is refused", () => {
  const refuse = (bytes: number[], maxBytes = 1 << 20) => {
    const reader = new RecordReader(maxBytes);
    reader.reserve(bytes.length).set(bytes);
    reader.end = bytes.length;
    try {
      reader.next({ nums: new Float64Array(0) });
    } catch (error) {
      assert.ok(error instanceof StreamError);
      return [error.reason, error.message];
    }
    throw new Error("accepted");
  };
  // Not a kind (text a stray print would start with), no kind at all, no domain 4.
  assert.equal(refuse([0x4b, 0x48, 0x48])[0], "bad-frame");
  assert.equal(refuse([0x0e])[0], "bad-frame");
  assert.equal(refuse([0x46])[0], "bad-frame");
  // A reply of 2^20 numbers, and a log of 2 MiB, with a 1 MiB cap: refused before reading them.
  assert.deepEqual(refuse([RECORD.REPLY, 0, 0, 0, 0, 0, 0x80, 0x80, 0x40, 0]), [
    "message-too-large",
    "Policy reply is 8388608 bytes; the limit is 1048576 bytes",
  ]);
  assert.equal(refuse([RECORD.LOG, 0x80, 0x80, 0x80, 0x01])[0], "message-too-large");
});

Deno.test("replay codec: the fingerprint covers the batch's numbers and objects, not what lies past it", () => {
  const nums = new Float64Array([3, 0, 1, 7, 99, 99]);
  const base = batchFingerprint(nums, 4, []);
  assert.equal(batchFingerprint(new Float64Array([3, 0, 1, 7]), 4, []), base);
  assert.notEqual(batchFingerprint(nums, 3, []), base);
  assert.notEqual(batchFingerprint(new Float64Array([3, 0, 1, 8]), 4, []), base);
  assert.notEqual(batchFingerprint(new Float64Array([3, 0, 1, -0]), 4, []), base);
  assert.notEqual(batchFingerprint(nums, 4, [{ id: "a" }]), base);
  assert.notEqual(
    batchFingerprint(nums, 4, [{ id: "a" }]),
    batchFingerprint(nums, 4, [{ id: "b" }]),
  );
  // A view into the middle of a buffer reads the same numbers.
  const offset = new Float64Array(10);
  offset.set([3, 0, 1, 7], 2);
  assert.equal(batchFingerprint(offset.subarray(2), 4, []), base);
});

// A run's first batch is long (every VM's arrival): with feedback from the first call (the tasks'
// --no-lazy-feedback-allocation), V8 compiled the fingerprint's loop mid-call, before anything
// after the loop had run, and then threw that code out again at batch after batch (some hundreds of
// deoptimizations here before the loop had a function of its own; a few, to make room for
// on-stack replacement, are V8's way). Counted with --trace-deopt, in a child.
Deno.test("replay codec: the fingerprint is not deoptimized batch after batch after a long first batch", async () => {
  const codec = new URL("../../core/sandbox/_replay_codec.ts", import.meta.url).href;
  const script = `
    const { batchFingerprint } = await import("${codec}");
    const long = new Float64Array(200_000).map((_, i) => i % 7);
    batchFingerprint(long, long.length, Array.from({ length: 512 }, (_, i) => ({ id: i })));
    const short = new Float64Array(64).map((_, i) => i);
    for (let i = 0; i < 5000; i++) batchFingerprint(short, 4 + (i % 50), []);
  `;
  const { code, stdout, stderr } = await evalInChild(
    script,
    "--no-lazy-feedback-allocation,--trace-deopt",
  );
  assert.equal(code, 0, stderr);
  const deopts = stdout.split("\n").filter((line) =>
    /deoptimizing .*<JSFunction (batchFingerprint|hashWords) /.test(line)
  );
  assert.ok(
    deopts.length <= 10,
    `${deopts.length} deoptimizations:\n${deopts.slice(0, 3).join("\n")}`,
  );
});
