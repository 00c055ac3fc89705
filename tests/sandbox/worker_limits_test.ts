/**
 * The limits of the worker runtime, shown in child processes (see _worker_scenario.ts): a worker
 * stuck in a loop cannot be stopped, and a worker that exhausts the heap takes its process down.
 * These are facts about Deno 2.9.6 that make `process` the isolation for untrusted policies.
 */

import assert from "node:assert/strict";

const SCENARIO = new URL("./_worker_scenario.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

async function scenario(
  mode: string,
  v8Flags: string[] = [],
  timeoutMs = 30_000,
): Promise<
  { code: number; signal: Deno.Signal | null; stdout: string; stderr: string; timedOut: boolean }
> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, ...v8Flags, SCENARIO, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    signal: output.signal,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    timedOut,
  };
}

Deno.test("worker: terminate() does not stop a hook that loops forever", async () => {
  const result = await scenario("spin");
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  assert.equal(report.kind, "stall");
  // The terminated worker's thread still spins: close to a full core for the whole second.
  assert.ok(report.cpuMsInTheSecondAfterTerminate >= 300, JSON.stringify(report));
});

Deno.test("worker: a process with a spinning worker does not exit by itself", async () => {
  const result = await scenario("spin-no-exit", [], 5_000);
  assert.ok(result.timedOut, `expected the process to hang, it exited with ${result.code}`);
  assert.match(result.stdout, /"kind":"stall"/);
});

Deno.test("worker: exhausting the heap in a worker aborts the whole process", async () => {
  const result = await scenario("oom", ["--v8-flags=--max-old-space-size=64"]);
  assert.equal(result.timedOut, false);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /out of memory/i);
  // The kernel never got to report anything: it died with its worker.
  assert.doesNotMatch(result.stdout, /"kind"/);
});
