/**
 * A `process` sandbox never outlives its kernel. A real kernel process (`_orphan_kernel.ts`)
 * starts a sandbox whose policy registers everything that could keep it alive (unload and exit
 * listeners that loop, signal listeners), then the kernel is killed with SIGKILL (or its process
 * group gets SIGTERM) while the policy spins in a hook or waits for its next batch. The child
 * must be gone (or a zombie: dead, waiting for init to reap it) within two seconds, both when
 * the kernel may start children through `setpriv --pdeathsig` (`-A`) and when it may not (only
 * `deno` may be run: the child's own watcher thread, and batches without blocking reads).
 *
 * Linux only (`/proc`); skipped elsewhere.
 */

import assert from "node:assert/strict";

const KERNEL = new URL("./_orphan_kernel.ts", import.meta.url).pathname;
const LINUX = Deno.build.os === "linux";
const ALL = ["-A"];
const ONLY_DENO = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  `--allow-run=${Deno.execPath()}`,
];

/** The state letter of process `pid` (`R`, `S`, `Z`, …), or undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** How the child was started: `pdeathsig` or `watch` (the bootstrap's last argument). */
function watchOf(pid: number): string | undefined {
  return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter(Boolean).at(-1);
}

interface Orphaning {
  /** `spin`: the policy spins in a hook; `idle`: the child waits for a batch. */
  mode: "spin" | "idle";
  permissions: string[];
  /** SIGKILL the kernel, or SIGTERM its whole process group. */
  how: "kill-9" | "sigterm-group";
}

/**
 * Starts a kernel, kills it as told, and returns how long the child took to die (ms) and how it
 * was started; kills the child itself (and fails) if it is still alive after 5 s.
 */
async function orphan(
  { mode, permissions, how }: Orphaning,
): Promise<{ diedAfterMs: number; watch: string | undefined; blocking: boolean }> {
  const cache = await Deno.makeTempDir({ prefix: "hyperhook-orphan-" });
  const deno = [Deno.execPath(), "run", ...permissions, KERNEL, mode, cache];
  // setsid: the kernel leads a process group of its own, which the child joins.
  const [program, ...args] = how === "sigterm-group" ? ["setsid", ...deno] : deno;
  const kernel = new Deno.Command(program!, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let child: number | undefined;
  const reader = kernel.stdout.getReader();
  try {
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`The kernel ended before it started its sandbox: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    const started = JSON.parse(text.slice(0, text.indexOf("\n")));
    child = started.pid as number;
    const watch = watchOf(child);
    // Let the batch reach the policy, and the policy start spinning.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.notEqual(stateOf(child), undefined, "the child runs before its kernel is killed");
    if (how === "kill-9") Deno.kill(kernel.pid, "SIGKILL");
    else Deno.kill(-kernel.pid, "SIGTERM");
    const killedAt = performance.now();
    await kernel.status;
    for (;;) {
      const state = stateOf(child);
      if (state === undefined || state === "Z") {
        return {
          diedAfterMs: performance.now() - killedAt,
          watch,
          blocking: started.blocking,
        };
      }
      if (performance.now() - killedAt > 5_000) {
        throw new Error(`The sandbox child ${child} (state ${state}) outlived its kernel`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    try {
      kernel.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    if (child !== undefined && stateOf(child) !== undefined && stateOf(child) !== "Z") {
      Deno.kill(child, "SIGKILL");
    }
    await reader.cancel().catch(() => {});
    await kernel.status;
    await Deno.remove(cache, { recursive: true });
  }
}

Deno.test({
  name:
    "process: kill -9 of the kernel while its policy spins kills the child (setpriv --pdeathsig)",
  ignore: !LINUX,
  fn: async () => {
    const outcome = await orphan({ mode: "spin", permissions: ALL, how: "kill-9" });
    assert.deepEqual([outcome.watch, outcome.blocking], ["pdeathsig", true]);
    assert.ok(outcome.diedAfterMs < 2_000, `the child died ${outcome.diedAfterMs} ms later`);
  },
});

Deno.test({
  name: "process: kill -9 of the kernel while its policy spins kills the child (watcher thread)",
  ignore: !LINUX,
  fn: async () => {
    const outcome = await orphan({ mode: "spin", permissions: ONLY_DENO, how: "kill-9" });
    assert.deepEqual([outcome.watch, outcome.blocking], ["watch", false]);
    assert.ok(outcome.diedAfterMs < 2_000, `the child died ${outcome.diedAfterMs} ms later`);
  },
});

Deno.test({
  name:
    "process: kill -9 of a kernel whose child waits for a batch: the child ends at its stdin's end",
  ignore: !LINUX,
  fn: async () => {
    for (const permissions of [ALL, ONLY_DENO]) {
      const outcome = await orphan({ mode: "idle", permissions, how: "kill-9" });
      assert.ok(outcome.diedAfterMs < 2_000, `the child died ${outcome.diedAfterMs} ms later`);
    }
  },
});

Deno.test({
  name: "process: SIGTERM to the kernel's process group ends the child, whatever it listens to",
  ignore: !LINUX,
  fn: async () => {
    for (const mode of ["idle", "spin"] as const) {
      const outcome = await orphan({ mode, permissions: ONLY_DENO, how: "sigterm-group" });
      assert.ok(
        outcome.diedAfterMs < 2_000,
        `${mode}: the child died ${outcome.diedAfterMs} ms later`,
      );
    }
  },
});
