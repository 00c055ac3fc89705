// The TypeScript SHA-256 that hashes short decision logs is SHA-256: the FIPS 180-4 examples, and
// node:crypto's digest of random inputs fed in random pieces (blocks split anywhere, lengths past
// one and two blocks of padding).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Sha256 } from "../../core/engine/_sha256.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("SHA-256: the FIPS 180-4 examples", () => {
  assert.equal(
    new Sha256().digest(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    new Sha256().update(text("abc")).digest(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    new Sha256().update(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).digest(),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  const million = new Sha256(), a = text("a".repeat(1000));
  for (let i = 0; i < 1000; i++) million.update(a);
  assert.equal(
    million.digest(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("SHA-256: the same digest as node:crypto, whatever the pieces", () => {
  let seed = 17;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let t = 0; t < 200; t++) {
    const n = t < 130 ? t : Math.floor(random() * 100_000);
    const data = new Uint8Array(n).map(() => Math.floor(random() * 256));
    const hash = new Sha256();
    for (let at = 0; at < n;) {
      const piece = Math.min(n - at, Math.floor(random() * 200));
      hash.update(data.subarray(at, at + piece));
      at += piece;
    }
    assert.equal(hash.digest(), createHash("sha256").update(data).digest("hex"), `${n} bytes`);
  }
});
