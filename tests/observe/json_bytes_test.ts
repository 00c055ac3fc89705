// The trace's number writers write what JSON.stringify writes, without making strings.
import assert from "node:assert/strict";
import { putHundredths, putInteger, putMicros, putNumber } from "../../core/observe/_json_bytes.ts";

const buffer = new Uint8Array(64), decoder = new TextDecoder();
const written = (write: (buffer: Uint8Array, at: number) => number) =>
  decoder.decode(buffer.subarray(3, write(buffer, 3)));

Deno.test("putHundredths writes n / 100 as JSON does, for every percentage with two decimals", () => {
  for (let n = 0; n <= 10_000; n++) {
    assert.equal(written((b, at) => putHundredths(b, at, n)), JSON.stringify(n / 100), String(n));
  }
  for (const n of [123_456_789, 2 ** 31 + 7, 9_007_199_254_740_9]) {
    assert.equal(written((b, at) => putHundredths(b, at, n)), JSON.stringify(n / 100), String(n));
  }
});

Deno.test("putInteger, putNumber and putMicros write what JSON writes", () => {
  assert.equal(written((b, at) => putInteger(b, at, 2 ** 53 - 1)), JSON.stringify(2 ** 53 - 1));
  // Times up to 2^50 ns (13 days): µs with three decimals are exact doubles.
  for (const n of [0, 7, 10, 99, 100, 65_535, 2 ** 31 - 1, 2 ** 31, 10 ** 12 + 5, 2 ** 50]) {
    assert.equal(written((b, at) => putInteger(b, at, n)), JSON.stringify(n));
    assert.equal(written((b, at) => putMicros(b, at, n)), JSON.stringify(n / 1000));
    assert.equal(written((b, at) => putMicros(b, at, n + 120)), JSON.stringify((n + 120) / 1000));
  }
  for (const n of [-3, 0.5, 1.25, -0.001, Infinity, NaN]) {
    assert.equal(written((b, at) => putNumber(b, at, n)), JSON.stringify(n));
  }
});
