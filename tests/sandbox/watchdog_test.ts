/**
 * The watchdog kills a sandbox child that keeps a core busy while it has nothing to do (a thread
 * of its own spinning between batches), and only then: the check itself, step by step, and the
 * watchdog thread against real processes (one that spins, one that sleeps).
 *
 * Linux only (`/proc`); the thread tests are skipped elsewhere.
 */

import assert from "node:assert/strict";
import {
  createIdleCpuCheck,
  KILLED_BUSY,
  processCpuMs,
  WATCH,
  WATCH_SLOTS,
  WATCHDOG_JS,
} from "../../core/sandbox/_watchdog.ts";

const LINUX = Deno.build.os === "linux";

Deno.test("the idle-CPU check judges whole windows of one idle spell", () => {
  const check = createIdleCpuCheck(1000, 500);
  // Busy (a batch with the child): nothing is judged, whatever the CPU time.
  assert.equal(check(0, 0, 0), 0);
  assert.equal(check(5000, 0, 4000), 0);
  // Idle from 6000: the window opens at the first sample, and is judged once it is whole.
  assert.equal(check(6000, 6000, 4000), 0);
  assert.equal(check(6900, 6000, 4800), 0);
  assert.equal(check(7000, 6000, 4900), 900);
  // A quiet window passes.
  assert.equal(check(8000, 6000, 4950), 0);
  // A batch in between starts the window afresh: the CPU it used is not counted.
  assert.equal(check(8500, 8400, 5900), 0);
  assert.equal(check(9400, 8400, 5950), 0);
  assert.equal(check(9500, 8400, 5960), 0);
  // CPU time that cannot be read is never judged.
  assert.equal(check(20_000, 8400, -1), 0);
  assert.equal(check(21_000, 8400, 9000), 0);
  assert.equal(check(22_000, 8400, 9600), 600);
});

/**
 * Starts the watchdog thread on `pid` with the child idle since now; resolves once it runs. Its
 * idle limit is 20 ms of CPU per second: on a loaded machine a spinning process may get little
 * more than a tenth of a core.
 */
async function watchdogOn(pid: number): Promise<{ control: Int32Array; stop: () => void }> {
  const url = `data:text/javascript,${encodeURIComponent(WATCHDOG_JS)}`;
  const worker = new Worker(url, { type: "module" });
  const control = new Int32Array(new SharedArrayBuffer(WATCH_SLOTS * 4));
  const base = Date.now();
  Atomics.store(control, WATCH.IDLE_SINCE, 1);
  await new Promise((resolve) => {
    worker.onmessage = resolve;
    worker.postMessage({
      control,
      base,
      pid,
      limitKiB: 1 << 30,
      idleWindowMs: 1000,
      idleLimitMs: 20,
    });
  });
  return { control, stop: () => worker.terminate() };
}

Deno.test({
  name: "the watchdog SIGKILLs an idle child that spins, within a window or two",
  ignore: !LINUX,
  fn: async () => {
    const spinner = new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn();
    const watchdog = await watchdogOn(spinner.pid);
    const started = performance.now();
    const timer = setTimeout(() => spinner.kill("SIGKILL"), 10_000);
    try {
      const status = await spinner.status;
      const after = performance.now() - started;
      assert.equal(status.signal, "SIGKILL");
      assert.equal(Atomics.load(watchdog.control, WATCH.KILLED), KILLED_BUSY);
      assert.ok(Atomics.load(watchdog.control, WATCH.IDLE_CPU_MS) > 20);
      assert.ok(after < 3_000, `killed after ${after} ms`);
    } finally {
      clearTimeout(timer);
      watchdog.stop();
    }
  },
});

Deno.test({
  name: "the watchdog leaves alone an idle child that sleeps, and a busy one with a batch",
  ignore: !LINUX,
  fn: async () => {
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    const spinner = new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn();
    const watchingSleeper = await watchdogOn(sleeper.pid);
    const watchingSpinner = await watchdogOn(spinner.pid);
    // The spinner has a batch: its CPU time is its work.
    Atomics.store(watchingSpinner.control, WATCH.IDLE_SINCE, 0);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      assert.equal(Atomics.load(watchingSleeper.control, WATCH.KILLED), 0);
      assert.equal(Atomics.load(watchingSpinner.control, WATCH.KILLED), 0);
      assert.ok(processCpuMs(spinner.pid) > 20, "the spinner did spin");
    } finally {
      watchingSleeper.stop();
      watchingSpinner.stop();
      sleeper.kill("SIGKILL");
      spinner.kill("SIGKILL");
      await Promise.all([sleeper.status, spinner.status]);
    }
  },
});
