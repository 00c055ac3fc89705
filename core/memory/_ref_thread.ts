/**
 * Reference generation on a second thread, for zipf and uniform streams that ask for it
 * (`RefStream`'s `thread`; off by default, see there): drawing a reference is a random number or
 * two and a lookup in a table too large for the cache, about a tenth of the kernel's time on the
 * memory bench. One thread per process (started once, `unref`'d so that it never keeps a process
 * alive) keeps a ring of references ahead for each stream; the kernel copies them out, and waits
 * only when a ring is empty.
 *
 * The thread runs the same xoshiro128** from the same state and the same draws as
 * `RefStream.draw`, so a stream's references are the same on either thread
 * (`tests/memory/ref_thread_test.ts` compares them).
 *
 * @module
 */

import type { Worker } from "node:worker_threads";
import { startThread, waitWhile } from "../engine/_threads.ts";

/**
 * References in a stream's ring, and in one chunk the thread draws at a time (powers of two). The
 * counters of references written and read are int32 that wrap around; only their difference counts.
 */
const RING = 1 << 14;
const CHUNK = 1 << 10;
/** Words of a stream's control block: references written (by the thread) and read (by the kernel). */
const WRITTEN = 0, READ = 1, FAILED = 2;
const CTL_BYTES = 16;
/** Words of the thread's control block: a wake-up counter, and whether the thread sleeps. */
const NEED = 0, SLEEP = 1;

/** Stream kinds the thread draws (as `streams.ts` numbers them). */
export const THREAD_KINDS = { UNIFORM: 1, ZIPF: 2 } as const;

/** The thread's code. */
/** The thread's code (exported for the test that type-checks it). */
export const THREAD_CODE = `
const { parentPort, workerData } = require("node:worker_threads");
const gctl = new Int32Array(workerData);
const streams = new Map();
const raw = new Uint32Array(2 * ${CHUNK});
function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }
// Rng.fill, on the stream's state words.
function fill(s, count) {
  let s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  for (let i = 0; i < count; i++) {
    raw[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
  }
  s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}
// RefStream.draw for zipf and uniform streams, one chunk into the ring at \`at\`.
function draw(st, at) {
  const out = st.ring, pages = st.pages, table = st.table, writes = st.writes;
  if (st.kind === ${THREAD_KINDS.ZIPF} && writes === 0) {
    fill(st.state, 2 * ${CHUNK});
    for (let i = 0; i < ${CHUNK}; i++) {
      const column = 2 * ((raw[2 * i] * pages / 0x100000000) | 0);
      out[at + i] = raw[2 * i + 1] < table[column] ? column >>> 1 : table[column + 1];
    }
    return;
  }
  for (let i = 0; i < ${CHUNK}; i++) {
    fill(st.state, 1);
    let page;
    if (st.kind === ${THREAD_KINDS.UNIFORM}) page = (raw[0] * pages / 0x100000000) | 0;
    else {
      const column = 2 * ((raw[0] * pages / 0x100000000) | 0);
      fill(st.state, 1);
      page = raw[0] < table[column] ? column >>> 1 : table[column + 1];
    }
    if (writes > 0) {
      fill(st.state, 1);
      out[at + i] = raw[0] / 0x100000000 < writes ? -1 - page : page;
    } else out[at + i] = page;
  }
}
/** @param {{ ctl: Int32Array, written: number }} st A stream's ring. */
function room(st) { return ${RING} - ((st.written - Atomics.load(st.ctl, ${READ})) | 0); }
let running = false, waiting = false;
function run() {
  if (running) return;
  running = true;
  try {
    for (;;) {
      let drew = false;
      for (const st of streams.values()) {
        while (room(st) >= ${CHUNK}) {
          draw(st, st.written & ${RING - 1});
          st.written = (st.written + ${CHUNK}) | 0;
          Atomics.store(st.ctl, ${WRITTEN}, st.written);
          Atomics.notify(st.ctl, ${WRITTEN});
          drew = true;
        }
      }
      if (drew) continue;
      Atomics.store(gctl, ${SLEEP}, 1);
      const need = Atomics.load(gctl, ${NEED});
      let again = false;
      for (const st of streams.values()) if (room(st) >= ${CHUNK}) again = true;
      if (again) { Atomics.store(gctl, ${SLEEP}, 0); continue; }
      running = false;
      sleep(need);
      return;
    }
  } catch (error) {
    for (const st of streams.values()) {
      Atomics.store(st.ctl, ${FAILED}, 1);
      Atomics.notify(st.ctl, ${WRITTEN});
    }
    running = false;
  }
}
function sleep(need) {
  if (waiting) return;
  const wait = Atomics.waitAsync(gctl, ${NEED}, need);
  if (!wait.async) return run();
  waiting = true;
  wait.value.then(() => { waiting = false; run(); });
}
/** @type {import("node:worker_threads").MessagePort} */ (parentPort).on("message", (m) => {
  if (m.op === "add") {
    streams.set(m.id, {
      ctl: new Int32Array(m.sab, 0, ${CTL_BYTES / 4}),
      ring: new Int32Array(m.sab, ${CTL_BYTES}, ${RING}),
      table: m.table === null ? null : new Uint32Array(m.table),
      kind: m.kind, pages: m.pages, writes: m.writes,
      state: Int32Array.from(m.state),
      written: m.start,
    });
  } else streams.delete(m.id);
  run();
});
`;

/** The thread, once started. */
interface Thread {
  worker: Worker;
  gctl: Int32Array;
  nextId: number;
  /** The control blocks of the streams open on it (to mark them failed if it dies). */
  open: Set<Int32Array>;
}

let thread: Thread | null | undefined;

/** What a stream the thread draws is. */
export interface RingSpec {
  /** `THREAD_KINDS.UNIFORM` or `THREAD_KINDS.ZIPF`. */
  kind: number;
  /** Pages in the address space. */
  pages: number;
  /** Share of writes. */
  writes: number;
  /** The zipf alias table, in shared memory (null for uniform). */
  table: Uint32Array | null;
  /** The stream's generator state (`Rng.state()`), taken over by the thread. */
  state: readonly number[];
  /**
   * Where the ring's counters start (default 0; a multiple of the chunk): lets a test run them
   * past 2^31, where they wrap.
   */
  start?: number;
}

/** A stream's references drawn ahead on the reference thread. */
export class RefRing {
  #thread: Thread;
  #id: number;
  #ctl: Int32Array;
  #ring: Int32Array;
  #read = 0;
  #closed = false;

  private constructor(thread: Thread, spec: RingSpec) {
    this.#thread = thread;
    this.#id = thread.nextId++;
    const sab = new SharedArrayBuffer(CTL_BYTES + 4 * RING);
    this.#ctl = new Int32Array(sab, 0, CTL_BYTES / 4);
    this.#ring = new Int32Array(sab, CTL_BYTES, RING);
    const start = spec.start ?? 0;
    this.#ctl[WRITTEN] = this.#ctl[READ] = this.#read = start;
    thread.open.add(this.#ctl);
    thread.worker.postMessage({
      op: "add",
      id: this.#id,
      sab,
      table: spec.table === null ? null : spec.table.buffer,
      kind: spec.kind,
      pages: spec.pages,
      writes: spec.writes,
      state: [...spec.state],
      start,
    });
  }

  /**
   * A ring for the stream `spec` describes, or null when the thread cannot be had (then the
   * caller draws on its own thread). Starts the thread the first time.
   */
  static open(spec: RingSpec): RefRing | null {
    if (spec.table !== null && !(spec.table.buffer instanceof SharedArrayBuffer)) return null;
    if (thread === undefined) thread = start();
    return thread === null ? null : new RefRing(thread, spec);
  }

  /** Copies the stream's next `out.length` references into `out`. */
  take(out: Int32Array): void {
    for (let done = 0; done < out.length; done += CHUNK) {
      this.#take(out.subarray(done, Math.min(out.length, done + CHUNK)));
    }
  }

  #take(out: Int32Array): void {
    const ctl = this.#ctl, need = out.length, read = this.#read;
    let written = Atomics.load(ctl, WRITTEN);
    if (((written - read) | 0) < need) {
      this.#wake();
      while ((((written = Atomics.load(ctl, WRITTEN)) - read) | 0) < need) {
        if (!waitWhile(ctl, WRITTEN, written, FAILED)) {
          throw new Error("The memory reference thread failed or stalled");
        }
      }
    }
    const at = read & (RING - 1), first = Math.min(need, RING - at);
    out.set(this.#ring.subarray(at, at + first));
    if (first < need) out.set(this.#ring.subarray(0, need - first), first);
    this.#read = (read + need) | 0;
    Atomics.store(ctl, READ, this.#read);
    if (
      Atomics.load(this.#thread.gctl, SLEEP) === 1 && RING - ((written - this.#read) | 0) >= CHUNK
    ) {
      this.#wake();
    }
  }

  /** Lets the thread forget the stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#thread.open.delete(this.#ctl);
    this.#thread.worker.postMessage({ op: "drop", id: this.#id });
  }

  #wake(): void {
    const gctl = this.#thread.gctl;
    Atomics.store(gctl, SLEEP, 0);
    Atomics.add(gctl, NEED, 1);
    Atomics.notify(gctl, NEED);
  }
}

function start(): Thread | null {
  const sab = new SharedArrayBuffer(8), open = new Set<Int32Array>();
  // A thread that dies is never used again; its streams fail (a wait under way sees the flag
  // within a slice) rather than wait for references that will not come.
  const worker = startThread(THREAD_CODE, sab, () => {
    for (const ctl of open) {
      Atomics.store(ctl, FAILED, 1);
      Atomics.notify(ctl, WRITTEN);
    }
    if (thread?.worker === worker) thread = null;
  });
  // Without threads here, streams are drawn on the kernel's thread.
  return worker === null ? null : { worker, gctl: new Int32Array(sab), nextId: 0, open };
}
