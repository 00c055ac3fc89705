/**
 * The watchdog of a `process` sandbox whose kernel waits for replies with blocking reads: a
 * Worker thread that kills the child (SIGKILL) when a batch overruns its deadline, when the
 * child's resident memory goes over its cap, or when the child keeps a core busy while it has
 * nothing to do (see {@linkcode createIdleCpuCheck}). The kernel's thread cannot do it while it
 * is blocked.
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
  /**
   * Since when the child has had nothing to do (the last reply read), in ms since `base` (at
   * least 1); 0 while a batch, or a part of one, is with it.
   */
  IDLE_SINCE: 4,
  /** The CPU time the child used while idle when it was killed for it, in ms. */
  IDLE_CPU_MS: 5,
} as const;

/** Slots in the control array. */
export const WATCH_SLOTS = 6;
/** `KILLED`: the batch in flight overran its deadline. */
export const KILLED_DEADLINE = 1;
/** `KILLED`: the child's resident memory went over the cap. */
export const KILLED_RSS = 2;
/** `KILLED`: set by the kernel before it reaps the child, so that the watchdog kills no more. */
export const KILLED_NEVER = 3;
/** `KILLED`: the child kept a core busy while it had nothing to do. */
export const KILLED_BUSY = 4;

/** How long the child is watched while idle before its CPU time is judged, in ms. */
export const IDLE_CPU_WINDOW_MS = 1000;
/**
 * The most CPU time an idle child may use in one window, in ms. An idle child is blocked reading
 * its stdin and uses next to none; one that uses more has a thread of its own spinning.
 */
export const IDLE_CPU_LIMIT_MS = 500;

/**
 * Creates the check for a child that burns CPU while it has nothing to do. Fed samples
 * (the time, since when the child is idle or 0 when it is not, its CPU time so far, or a negative
 * number when unknown), it returns the CPU time used in a whole window of idleness when that is
 * over `limitMs`, else 0. Self-contained: the watchdog thread embeds its source text.
 *
 * @example
 * ```ts
 * import { createIdleCpuCheck } from "./_watchdog.ts";
 *
 * const check = createIdleCpuCheck(1000, 500);
 * check(0, 1, 0);
 * console.assert(check(1000, 1, 900) === 900);
 * ```
 */
export function createIdleCpuCheck(
  windowMs: number,
  limitMs: number,
): (nowMs: number, idleSinceMs: number, cpuMs: number) => number {
  let start = -1, cpuAtStart = 0;
  return (nowMs, idleSinceMs, cpuMs) => {
    if (idleSinceMs <= 0 || cpuMs < 0) {
      start = -1;
      return 0;
    }
    // A window begins within one idle spell: a batch in between starts it afresh.
    if (start < 0 || start < idleSinceMs) {
      start = nowMs;
      cpuAtStart = cpuMs;
      return 0;
    }
    if (nowMs - start < windowMs) return 0;
    const used = cpuMs - cpuAtStart;
    start = nowMs;
    cpuAtStart = cpuMs;
    return used > limitMs ? used : 0;
  };
}

/**
 * The CPU time (user and system, all threads) process `pid` has used, in ms, from Linux's
 * `/proc/<pid>/stat` (in clock ticks of 10 ms); -1 when it cannot be read. Self-contained.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return -1;
  }
}

/**
 * Plain JavaScript: the watchdog Worker. It receives `{ control, base, pid, limitKiB }` (and
 * optionally `idleWindowMs` and `idleLimitMs`, by default {@linkcode IDLE_CPU_WINDOW_MS} and
 * {@linkcode IDLE_CPU_LIMIT_MS}), answers `"ready"`, then watches until the kernel terminates it.
 */
export const WATCHDOG_JS: string = String.raw`
const DUE = ${WATCH.DUE}, SEQ = ${WATCH.SEQ}, KILLED = ${WATCH.KILLED}, RSS_KIB = ${WATCH.RSS_KIB};
const IDLE_SINCE = ${WATCH.IDLE_SINCE}, IDLE_CPU_MS = ${WATCH.IDLE_CPU_MS};
${processCpuMs}
const createIdleCpuCheck = ${createIdleCpuCheck};
/** @type {Int32Array} */
let control;
/** @type {number} */
let base, pid, limitKiB;
/** @type {(nowMs: number, idleSinceMs: number, cpuMs: number) => number} */
let checkIdleCpu;
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
    const idleSince = Atomics.load(control, IDLE_SINCE);
    const busyMs = checkIdleCpu(now, idleSince, idleSince > 0 ? processCpuMs(pid) : -1);
    if (busyMs > 0 && Atomics.load(control, IDLE_SINCE) === idleSince) {
      Atomics.store(control, IDLE_CPU_MS, busyMs);
      kill(${KILLED_BUSY});
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
  let idleWindowMs, idleLimitMs;
  ({ control, base, pid, limitKiB, idleWindowMs, idleLimitMs } = event.data);
  checkIdleCpu = createIdleCpuCheck(idleWindowMs ?? ${IDLE_CPU_WINDOW_MS}, idleLimitMs ?? ${IDLE_CPU_LIMIT_MS});
  self.postMessage("ready");
  watch();
};
`;

/** A new watchdog thread ({@linkcode WATCHDOG_JS}), waiting for its orders; throws if none starts. */
export function newWatchdogWorker(): Worker {
  return new Worker(`data:text/javascript,${encodeURIComponent(WATCHDOG_JS)}`, {
    type: "module",
    name: "hyperhook sandbox watchdog",
  });
}
