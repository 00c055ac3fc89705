/**
 * The watchdog of a `process` sandbox whose kernel waits for replies with blocking reads: a
 * Worker thread that kills the child (SIGKILL) when a batch overruns its deadline or the child's
 * resident memory goes over its cap. The kernel's thread cannot do it while it is blocked.
 *
 * The two share an `Int32Array` over a `SharedArrayBuffer` (slots in {@linkcode WATCH}): the kernel
 * stores the deadline of the batch in flight (ms since `base`, 0 when none) before it writes the
 * batch, and clears it once it holds the reply; that is all it pays per batch (no message, no
 * wake-up). The watchdog looks every 10 ms while batches flow (every 100 ms after a second of
 * quiet), so a stall is reported at most ~10 ms after its deadline.
 *
 * @module
 */

/** Slots of the control array. */
export const WATCH = {
  /** The deadline of the batch in flight, in ms since `base`; 0 when none is in flight. */
  DUE: 0,
  /** The sequence number of the batch in flight (to tell one batch from the next). */
  SEQ: 1,
  /** Why the watchdog killed the child: 0 (it did not), {@linkcode KILLED_DEADLINE} or RSS. */
  KILLED: 2,
  /** The child's resident memory when it was killed for it, in KiB. */
  RSS_KIB: 3,
} as const;

/** Slots in the control array. */
export const WATCH_SLOTS = 4;
/** `KILLED`: the batch in flight overran its deadline. */
export const KILLED_DEADLINE = 1;
/** `KILLED`: the child's resident memory went over the cap. */
export const KILLED_RSS = 2;
/** `KILLED`: set by the kernel before it reaps the child, so that the watchdog kills no more. */
export const KILLED_NEVER = 3;

/**
 * Plain JavaScript: the watchdog Worker. It receives `{ control, base, pid, limitKiB }`, answers
 * `"ready"`, then watches until the kernel terminates it.
 */
export const WATCHDOG_JS: string = String.raw`
const DUE = ${WATCH.DUE}, SEQ = ${WATCH.SEQ}, KILLED = ${WATCH.KILLED}, RSS_KIB = ${WATCH.RSS_KIB};
let control, base, pid, limitKiB;
let lastSeq = -1, quietSince = 0, lastSample = 0;

function kill(reason) {
  if (Atomics.compareExchange(control, KILLED, 0, reason) !== 0) return;
  try { Deno.kill(pid, "SIGKILL"); } catch { /* already gone */ }
}

function residentKiB() {
  try {
    const status = Deno.readTextFileSync("/proc/" + pid + "/status");
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function watch() {
  const now = Date.now() - base;
  const seq = Atomics.load(control, SEQ), due = Atomics.load(control, DUE);
  // Kill only if the same batch is still in flight: it may have ended since we read its deadline.
  if (due > 0 && now >= due && Atomics.load(control, SEQ) === seq &&
      Atomics.load(control, DUE) === due) {
    kill(${KILLED_DEADLINE});
  }
  if (now - lastSample >= 100) {
    lastSample = now;
    const rss = residentKiB();
    if (rss > limitKiB) {
      Atomics.store(control, RSS_KIB, rss);
      kill(${KILLED_RSS});
    }
  }
  if (Atomics.load(control, KILLED) !== 0) return;
  if (seq !== lastSeq) {
    lastSeq = seq;
    quietSince = now;
  }
  const wait = due > 0 ? Math.max(1, Math.min(10, due - now)) : now - quietSince > 1000 ? 100 : 10;
  setTimeout(watch, wait);
}

self.onmessage = (event) => {
  ({ control, base, pid, limitKiB } = event.data);
  self.postMessage("ready");
  watch();
};
`;
