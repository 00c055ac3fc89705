/**
 * SHA-256 on a second thread, for long decision logs: hashing is a tenth of the kernel's time on
 * a long run, and the machine has a second core. One thread per process serves one log at a
 * time; it is started (about 20 ms, once) when a log first grows long, and is `unref`'d, so it
 * never keeps a process alive.
 *
 * The log's bytes travel through a ring of slots in a `SharedArrayBuffer`: the log writes its
 * records straight into the next free slot and bumps a counter; the thread hashes the slots in
 * order, and sleeps until several wait (a wake-up is a system call). The kernel waits only when
 * the ring is full or when it asks for the digest. The digest is that of the same bytes in the
 * same order, so it is the same as hashed on one thread.
 *
 * @module
 */

import { startThread, waitWhile } from "./_threads.ts";

/**
 * Slots in the ring (a power of two) and bytes per slot (4 MiB in all: ~87,000 decisions). The
 * counters of slots written and hashed are int32 that wrap around; only their difference counts.
 */
const SLOTS = 64;
const SLOT_BYTES = 1 << 16;
/** A sleeping thread is woken once this many slots wait (or for a command). */
const WAKE_AT = 8;

/** Words of the control block. */
const SIG = 0, WRITTEN = 1, CONSUMED = 2, CMD = 3, FAILED = 4, ASLEEP = 5;
/** Commands: the digest so far (the hash goes on), the digest (a fresh hash follows), drop. */
const PEEK = 1, DIGEST = 2, DISCARD = 3;

const CTL_BYTES = 64, LENS_BYTES = 4 * SLOTS, RESULT_BYTES = 64;
const DATA_AT = CTL_BYTES + LENS_BYTES + RESULT_BYTES;

/** The thread's code (exported for the test that type-checks it). */
export const THREAD_CODE = `
const { workerData: sab } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const ctl = new Int32Array(sab, 0, ${CTL_BYTES / 4});
const lens = new Int32Array(sab, ${CTL_BYTES}, ${SLOTS});
const result = new Uint8Array(sab, ${CTL_BYTES + LENS_BYTES}, ${RESULT_BYTES});
const data = new Uint8Array(sab, ${DATA_AT});
let hash = createHash("sha256"), consumed = 0;
try {
  for (;;) {
    const sig = Atomics.load(ctl, ${SIG}), cmd = Atomics.load(ctl, ${CMD});
    const written = Atomics.load(ctl, ${WRITTEN});
    while (((written - consumed) | 0) > 0) {
      const slot = consumed & ${SLOTS - 1}, at = slot * ${SLOT_BYTES};
      if (cmd !== ${DISCARD}) hash.update(data.subarray(at, at + lens[slot]));
      consumed = (consumed + 1) | 0;
      Atomics.store(ctl, ${CONSUMED}, consumed);
      Atomics.notify(ctl, ${CONSUMED});
    }
    if (cmd !== 0) {
      if (cmd !== ${DISCARD}) {
        const hex = (cmd === ${PEEK} ? hash.copy() : hash).digest("hex");
        for (let i = 0; i < 64; i++) result[i] = hex.charCodeAt(i);
      }
      if (cmd !== ${PEEK}) hash = createHash("sha256");
      Atomics.store(ctl, ${CMD}, 0);
      Atomics.notify(ctl, ${CMD});
      continue;
    }
    // Asleep from here: the kernel wakes the thread only when it says so (see \`#signal\`).
    Atomics.store(ctl, ${ASLEEP}, 1);
    if (Atomics.load(ctl, ${WRITTEN}) === written && Atomics.load(ctl, ${CMD}) === cmd) {
      Atomics.wait(ctl, ${SIG}, sig);
    }
    Atomics.store(ctl, ${ASLEEP}, 0);
  }
} catch (error) {
  Atomics.store(ctl, ${FAILED}, 1);
  Atomics.notify(ctl, ${CONSUMED});
  Atomics.notify(ctl, ${CMD});
}
`;

/** The thread, once started: its shared memory and who holds it now. */
interface Thread {
  ctl: Int32Array;
  lens: Int32Array;
  result: Uint8Array;
  data: Uint8Array;
  written: number;
  holder: object | null;
}

let thread: Thread | null | undefined;

/**
 * A running SHA-256 held by one log: `update` hands bytes over, `digest` ends it and frees the
 * thread for the next log.
 */
export class ThreadHash {
  #thread: Thread;
  /** Where the slot last given by `slot` starts in the shared memory. */
  #at = 0;

  private constructor(thread: Thread) {
    this.#thread = thread;
  }

  /**
   * The thread for a new hash, or null when it is busy with another log or cannot be had (then
   * the caller hashes on its own thread). Starts the thread the first time.
   */
  static acquire(): ThreadHash | null {
    if (thread === undefined) thread = start();
    if (thread === null || thread.holder !== null) return null;
    const hash = new ThreadHash(thread);
    thread.holder = hash;
    return hash;
  }

  /** Whether a log may get the thread now without waiting for it to start. */
  static get ready(): boolean {
    return thread !== undefined && thread !== null && thread.holder === null;
  }

  /** Hashes `bytes` next (copied: the caller may reuse them at once). */
  update(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += SLOT_BYTES) {
      const part = bytes.subarray(at, Math.min(bytes.length, at + SLOT_BYTES));
      new Uint8Array(this.slot().buffer, this.#at, SLOT_BYTES).set(part);
      this.commit(part.length);
    }
  }

  /**
   * The ring's next free slot (64 KiB) to write bytes into, waiting while the ring is full: the
   * log writes its records there directly, then calls `commit`. Asking again before a commit
   * gives the same slot.
   */
  slot(): Float64Array {
    const t = this.#held();
    for (;;) {
      // Waits on the very value it found full: a later read could miss the wake-up.
      const consumed = Atomics.load(t.ctl, CONSUMED);
      if (((t.written - consumed) | 0) < SLOTS) break;
      this.#wait(CONSUMED, consumed);
    }
    this.#at = t.data.byteOffset + (t.written & (SLOTS - 1)) * SLOT_BYTES;
    return new Float64Array(t.data.buffer, this.#at, SLOT_BYTES / 8);
  }

  /** Hands the slot `slot` gave over to be hashed: its first `length` bytes. */
  commit(length: number): void {
    const t = this.#held();
    t.lens[t.written & (SLOTS - 1)] = length;
    t.written = (t.written + 1) | 0;
    Atomics.store(t.ctl, WRITTEN, t.written);
    this.#signal(((t.written - Atomics.load(t.ctl, CONSUMED)) | 0) >= WAKE_AT);
  }

  /** The digest of the bytes so far, in hex; the hash goes on. */
  peek(): string {
    return this.#command(PEEK);
  }

  /** The digest, in hex. Frees the thread. */
  digest(): string {
    try {
      return this.#command(DIGEST);
    } finally {
      this.#thread.holder = null;
    }
  }

  /** Drops the hash unfinished and frees the thread. */
  discard(): void {
    if (this.#thread.holder !== this) return;
    try {
      this.#command(DISCARD);
    } finally {
      this.#thread.holder = null;
    }
  }

  #held(): Thread {
    if (this.#thread.holder !== this) throw new Error("The hash thread was released");
    return this.#thread;
  }

  #command(cmd: number): string {
    const t = this.#held();
    Atomics.store(t.ctl, CMD, cmd);
    this.#signal(true);
    while (Atomics.load(t.ctl, CMD) !== 0) this.#wait(CMD, cmd);
    return String.fromCharCode(...t.result);
  }

  /**
   * Tells the thread there is news. A sleeping thread is woken only when `wake` (a command, or
   * \`WAKE_AT\` slots waiting): a wake-up is a system call, and the thread drains what is waiting
   * each time. The thread says it sleeps before it checks for news one last time, so a slot
   * published as it goes to sleep is seen either by that check or by the producer here.
   */
  #signal(wake: boolean): void {
    const ctl = this.#thread.ctl;
    Atomics.add(ctl, SIG, 1);
    if (wake && Atomics.load(ctl, ASLEEP) === 1) Atomics.notify(ctl, SIG);
  }

  /** Waits while `ctl[index]` holds `value`; throws when the thread failed or stalled. */
  #wait(index: number, value: number): void {
    if (waitWhile(this.#thread.ctl, index, value, FAILED)) return;
    // Nothing else may use a thread in an unknown state: the next logs hash on their own.
    if (thread === this.#thread) thread = null;
    throw new Error("The decision log's hash thread failed; the run's eventsHash is lost");
  }
}

function start(): Thread | null {
  const sab = new SharedArrayBuffer(DATA_AT + SLOTS * SLOT_BYTES);
  const started: Thread = {
    ctl: new Int32Array(sab, 0, CTL_BYTES / 4),
    lens: new Int32Array(sab, CTL_BYTES, SLOTS),
    result: new Uint8Array(sab, CTL_BYTES + LENS_BYTES, RESULT_BYTES),
    data: new Uint8Array(sab, DATA_AT),
    written: 0,
    holder: null,
  };
  // A thread that dies is never used again (a wait under way sees the flag within a slice).
  const worker = startThread(THREAD_CODE, sab, () => {
    Atomics.store(started.ctl, FAILED, 1);
    Atomics.notify(started.ctl, CONSUMED);
    Atomics.notify(started.ctl, CMD);
    if (thread === started) thread = null;
  });
  // Without threads here (a sandbox without them), logs hash on the kernel's thread.
  return worker === null ? null : started;
}
