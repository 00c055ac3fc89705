// The decision log's encoding, version 2 (core/engine/decision_log.ts): a reference encoder
// written here from the module's description, with BigInt for the varints; the log's digest (and
// its peeks) must be the sha256 of the reference's bytes, for short logs (hashed in TypeScript)
// and long ones (hashed by node:crypto past 4 MiB).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DecisionLog, LOG_ENCODING } from "../../core/engine/decision_log.ts";

type Record6 = [number, number, number, number, number, number];

/** Version 2 of the encoding, from its description. */
class Reference {
  bytes: number[] = [];
  #lastNs = 0;
  #lastExact = true;

  record([domain, kind, atNs, a, b, c]: Record6): void {
    const small = (v: number, low: number, high: number) =>
      Number.isInteger(v) && v >= low && v <= high;
    if (small(domain, 1, 15) && small(kind, 0, 15)) this.bytes.push(16 * domain + kind);
    else {
      this.bytes.push(0);
      this.#value(domain);
      this.#value(kind);
    }
    const exact = isExact(atNs);
    if (exact && this.#lastExact) this.#integer(BigInt(atNs) - BigInt(this.#lastNs));
    else this.bytes.push(7), this.#double(atNs);
    this.#lastNs = atNs;
    this.#lastExact = exact;
    for (const v of [a, b, c]) this.#value(v);
  }

  #value(v: number): void {
    if (isExact(v)) this.#integer(BigInt(v));
    else if (v === Infinity) this.bytes.push(1);
    else if (v === -Infinity) this.bytes.push(3);
    else if (Number.isNaN(v)) this.bytes.push(5);
    else this.bytes.push(7), this.#double(v);
  }

  #integer(v: bigint): void {
    let u = v >= 0n ? 4n * v : -4n * v - 2n;
    for (;;) {
      const low = Number(u & 127n);
      u >>= 7n;
      if (u === 0n) return void this.bytes.push(low);
      this.bytes.push(low | 128);
    }
  }

  #double(v: number): void {
    const view = new DataView(new ArrayBuffer(8));
    if (Number.isNaN(v)) view.setUint32(4, 0x7ff80000, true);
    else view.setFloat64(0, v, true);
    for (let k = 0; k < 8; k++) this.bytes.push(view.getUint8(k));
  }

  sha256(): string {
    return createHash("sha256").update(new Uint8Array(this.bytes)).digest("hex");
  }
}

function isExact(v: number): boolean {
  return Number.isInteger(v) && Math.abs(v) < 2 ** 50;
}

Deno.test("decision log, encoding 2: a record's bytes, as the module describes them", () => {
  assert.equal(LOG_ENCODING, 2);
  const reference = new Reference();
  reference.record([1, 1, 0, 3, 0, 10_000_000]);
  reference.record([1, 2, 4_000_000, 3, 0, -1]);
  reference.record([4, 1, 4_000_000, Infinity, 0.5, -0]);
  assert.deepEqual(reference.bytes, [
    ...[0x11, 0x00, 0x0c, 0x00, 0x80, 0xb4, 0x89, 0x13], // 16 + 1; 0; 4·3; 0; 4·10^7 in LEB128
    ...[0x12, 0x80, 0xc8, 0xd0, 0x07, 0x0c, 0x00, 0x02], // 4·(4·10^6); 4·3; 0; -4·(-1) - 2
    ...[0x41, 0x00, 0x01, 0x07, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x00], // +Inf; 7 and 0.5; -0 is 0
  ]);
  const log = new DecisionLog();
  log.record(1, 1, 0, 3, 0, 10_000_000);
  log.record(1, 2, 4_000_000, 3, 0, -1);
  log.record(4, 1, 4_000_000, Infinity, 0.5, -0);
  assert.equal(log.digest(), reference.sha256());
});

Deno.test("decision log, encoding 2: any values, short and long logs, peeks midway", () => {
  let seed = 5;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pick = (): number => {
    const r = random();
    if (r < 0.5) return Math.floor(random() * 5000);
    if (r < 0.6) return -Math.floor(random() * 5000);
    if (r < 0.7) return Math.floor(random() * 2 ** 40) * (random() < 0.5 ? 1 : -1);
    if (r < 0.74) return (2 ** 50 - 2) + Math.floor(random() * 4); // either side of 2^50
    if (r < 0.8) return random() * 1e6;
    return [
      Infinity,
      -Infinity,
      NaN,
      -0,
      0.1,
      2 ** 53,
      -(2 ** 60),
      1e300,
    ][Math.floor(random() * 8)]!;
  };
  // 40,000 records stay below 4 MiB (kept, hashed here); 600,000 pass it (node:crypto).
  for (const n of [1, 2000, 40_000, 600_000]) {
    const log = new DecisionLog(), reference = new Reference();
    let atNs = 0;
    for (let i = 0; i < n; i++) {
      const r = random();
      atNs = r < 0.9 ? atNs + Math.floor(random() * 1e7) : r < 0.95 ? atNs - 1000 : pick();
      const domain = random() < 0.97 ? 1 + Math.floor(random() * 4) : pick();
      const kind = random() < 0.97 ? Math.floor(random() * 8) : pick();
      const record: Record6 = [domain, kind, atNs, pick(), pick(), pick()];
      log.record(...record);
      reference.record(record);
      if (i % 150_001 === 1999) assert.equal(log.peek(), reference.sha256(), `peek at ${i}`);
    }
    assert.equal(log.count, n);
    assert.equal(log.digest(), reference.sha256(), `${n} records`);
    assert.equal(log.digest(), reference.sha256(), "the digest again");
  }
});

Deno.test("decision log, encoding 2: a run and a stop take under 12 bytes each, a quarter of version 1's 48", () => {
  const reference = new Reference();
  let atNs = 0;
  for (let i = 0; i < 10_000; i++) {
    atNs += 150_000;
    reference.record([1, 1, atNs, i % 1024, i % 64, 10_000_000]);
    reference.record([1, 2, atNs + 10_000_000, i % 1024, i % 64, i % 4]);
  }
  assert.ok(reference.bytes.length / 20_000 < 12, `${reference.bytes.length / 20_000} bytes`);
});

Deno.test("decision log: closing lets nothing go that a later peek or digest needs", () => {
  for (const n of [10, 40_000, 600_000]) {
    const log = new DecisionLog(), reference = new Reference();
    for (let i = 0; i < n; i++) {
      const record: Record6 = [1, 1 + (i & 1), i * 1000, i & 1023, i & 63, 10_000_000];
      log.record(...record);
      reference.record(record);
    }
    log.close();
    assert.equal(log.peek(), reference.sha256(), `${n} records, peek`);
    assert.equal(log.digest(), reference.sha256(), `${n} records, digest`);
  }
});
