/**
 * The kernel's side of the process sandbox's framing: frames split across chunks, the size cap
 * checked on the header before any payload is read, and garbage recognised as such.
 */

import assert from "node:assert/strict";
import { encodeFrame, FrameError, FrameReader } from "../../core/sandbox/_frames.ts";
import { FRAME_FAIL, FRAME_REPLY } from "../../core/sandbox/_policy_host.ts";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks);
}

function readerOf(chunks: Uint8Array[], maxReplyBytes = 1024): FrameReader {
  return new FrameReader(
    streamOf(chunks).getReader(),
    (type) => type === FRAME_REPLY ? maxReplyBytes : 1 << 20,
  );
}

async function frameErrorOf(reader: FrameReader): Promise<FrameError> {
  try {
    await reader.read();
  } catch (error) {
    assert.ok(error instanceof FrameError);
    return error;
  }
  assert.fail("expected a FrameError");
}

Deno.test("frames survive being split into any chunks", async () => {
  const nums = new Float64Array([1.5, -2, Number.MAX_VALUE, 4, 99]);
  const bytes = new Uint8Array([
    ...encodeFrame(FRAME_REPLY, 7, nums, 4, '["é",{"a":1}]'),
    ...encodeFrame(FRAME_FAIL, 8, null, 0, '{"kind":"error"}'),
  ]);
  for (const size of [1, 3, 8, 25, bytes.length]) {
    const chunks = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size));
    const reader = readerOf(chunks);
    const first = await reader.read();
    assert.deepEqual(first, {
      type: FRAME_REPLY,
      seq: 7,
      nums: new Float64Array([1.5, -2, Number.MAX_VALUE, 4]),
      json: '["é",{"a":1}]',
    });
    assert.deepEqual(await reader.read(), {
      type: FRAME_FAIL,
      seq: 8,
      nums: new Float64Array(0),
      json: '{"kind":"error"}',
    });
    assert.equal(await reader.read(), null);
  }
});

Deno.test("an oversized reply is refused from its header alone", async () => {
  // The header announces 100 MB; none of it follows. The reader must not wait for it.
  const header = encodeFrame(FRAME_REPLY, 1, null, 0, "").slice(0, 24);
  new DataView(header.buffer).setUint32(12, 100_000_000 / 8, true);
  const error = await frameErrorOf(readerOf([header], 16 * 1024 * 1024));
  assert.equal(error.reason, "message-too-large");
  assert.equal(error.message, "Policy reply is 100000000 bytes; the limit is 16777216 bytes");
});

Deno.test("the reply cap counts the JSON of objs too", async () => {
  const frame = encodeFrame(
    FRAME_REPLY,
    1,
    new Float64Array(2),
    2,
    JSON.stringify(["x".repeat(100)]),
  );
  const error = await frameErrorOf(readerOf([frame], 64));
  assert.equal(error.message, "Policy reply is 120 bytes; the limit is 64 bytes");
});

Deno.test("bytes that are not a frame, or a frame cut short, are bad frames", async () => {
  const garbage = new TextEncoder().encode("hello from a stray console.log\n");
  const error = await frameErrorOf(readerOf([garbage]));
  assert.equal(error.reason, "bad-frame");
  assert.match(error.message, /hello from a stray console\.log/);
  const frame = encodeFrame(FRAME_REPLY, 1, new Float64Array(4), 4, "");
  const cut = await frameErrorOf(readerOf([frame.slice(0, 30)]));
  assert.equal(cut.reason, "bad-frame");
});

Deno.test("a BYOB reader reads frames straight into the frame buffer, however the bytes arrive", async () => {
  const nums = Float64Array.from({ length: 3000 }, (_, index) => index / 7);
  const bytes = new Uint8Array([
    ...encodeFrame(FRAME_REPLY, 1, nums, nums.length, '["x"]'),
    ...encodeFrame(FRAME_FAIL, 2, null, 0, '{"kind":"error"}'),
  ]);
  for (const size of [1, 7, 4096, bytes.length]) {
    let at = 0;
    // A byte stream handing out at most `size` bytes per read, as a pipe does.
    const stream = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest!;
        const view = request.view as Uint8Array;
        const count = Math.min(size, view.byteLength, bytes.length - at);
        if (count === 0) {
          controller.close();
          request.respond(0);
          return;
        }
        view.set(bytes.subarray(at, at + count));
        at += count;
        request.respond(count);
      },
    });
    const reader = new FrameReader(stream.getReader({ mode: "byob" }), () => 1 << 20);
    const first = await reader.read();
    assert.deepEqual([first?.type, first?.seq, first?.nums, first?.json], [
      FRAME_REPLY,
      1,
      nums,
      '["x"]',
    ]);
    assert.equal((await reader.read())?.json, '{"kind":"error"}');
    assert.equal(await reader.read(), null);
  }
});
