/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, for short decision logs: `node:crypto`'s native hash is
 * several times faster, but importing it starts Deno's Node compatibility layer, which costs a
 * short run more than hashing its log here does.
 *
 * @module
 */

const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/**
 * An incremental SHA-256: `update` with bytes as they come, `digest` once at the end.
 *
 * @example
 * ```ts
 * import { Sha256 } from "./_sha256.ts";
 *
 * const hash = new Sha256();
 * hash.update(new TextEncoder().encode("abc"));
 * console.assert(hash.digest().startsWith("ba7816bf"));
 * ```
 */
export class Sha256 {
  #state = new Int32Array([
    0x6a09e667,
    0xbb67ae85,
    0x3c6ef372,
    0xa54ff53a,
    0x510e527f,
    0x9b05688c,
    0x1f83d9ab,
    0x5be0cd19,
  ]);
  #w = new Int32Array(64);
  /** A block not yet full. */
  #block = new Uint8Array(64);
  #blockUsed = 0;
  #length = 0;

  /** Hashes `bytes` next. */
  update(bytes: Uint8Array): this {
    let at = 0;
    this.#length += bytes.length;
    if (this.#blockUsed > 0) {
      const take = Math.min(64 - this.#blockUsed, bytes.length);
      this.#block.set(bytes.subarray(0, take), this.#blockUsed);
      this.#blockUsed += take;
      at = take;
      if (this.#blockUsed < 64) return this;
      this.#compress(this.#block, 0);
      this.#blockUsed = 0;
    }
    for (; at + 64 <= bytes.length; at += 64) this.#compress(bytes, at);
    if (at < bytes.length) {
      this.#block.set(bytes.subarray(at), 0);
      this.#blockUsed = bytes.length - at;
    }
    return this;
  }

  /** The hash of everything given, in lowercase hex. Ends the hash. */
  digest(): string {
    const bits = this.#length * 8;
    const tail = new Uint8Array(this.#blockUsed < 56 ? 64 : 128);
    tail.set(this.#block.subarray(0, this.#blockUsed));
    tail[this.#blockUsed] = 0x80;
    // The length in bits, big-endian, in the last 8 bytes (beyond 2^32 by division).
    const high = Math.floor(bits / 0x1_0000_0000), low = bits >>> 0;
    for (let i = 0; i < 4; i++) {
      tail[tail.length - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
      tail[tail.length - 4 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
    for (let at = 0; at < tail.length; at += 64) this.#compress(tail, at);
    let hex = "";
    for (const word of this.#state) hex += (word >>> 0).toString(16).padStart(8, "0");
    return hex;
  }

  /** One 64-byte block of `bytes` at `at`. */
  #compress(bytes: Uint8Array, at: number): void {
    const w = this.#w, s = this.#state;
    for (let i = 0; i < 16; i++, at += 4) {
      w[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!, y = w[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0]! + a) | 0;
    s[1] = (s[1]! + b) | 0;
    s[2] = (s[2]! + c) | 0;
    s[3] = (s[3]! + d) | 0;
    s[4] = (s[4]! + e) | 0;
    s[5] = (s[5]! + f) | 0;
    s[6] = (s[6]! + g) | 0;
    s[7] = (s[7]! + h) | 0;
  }
}
