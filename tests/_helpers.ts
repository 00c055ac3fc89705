/**
 * Test helpers: run the real CLI, build workloads in code.
 *
 * @module
 */

const CLI = new URL("../core/cli.ts", import.meta.url).pathname;

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` as a subprocess, its output decoded. */
async function runDeno(args: string[], cwd?: string): Promise<CliResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `hyperhook <args>` as a real subprocess. */
export function runCli(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return runDeno(["run", "-A", CLI, ...args], options.cwd);
}

/**
 * Runs `script` with `deno eval` in a child process, with `v8Flags` if given: for checks that need
 * V8 flags (natives syntax, traces) or that change the realm for good.
 */
export function evalInChild(script: string, v8Flags?: string): Promise<CliResult> {
  const flags = v8Flags === undefined ? [] : [`--v8-flags=${v8Flags}`];
  return runDeno(["eval", ...flags, script]);
}

/** Writes a workload to a temporary file and returns its path. */
export async function workloadFile(workload: unknown): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "hyperhook-", suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify(workload));
  return path;
}

/** The path of an example workload. */
export function example(name: string): string {
  return new URL(`../examples/workloads/${name}`, import.meta.url).pathname;
}

/** A one-pCPU workload of single-burst VMs: `[arriveMs, burstMs, priority?]`. */
export function burstWorkload(
  policy: string,
  jobs: [number, number, number?][],
  config: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: `${policy}-bursts`,
    host: { pcpus: 1 },
    policies: { cpu: { use: policy, config } },
    vms: jobs.map(([arrive, burst, priority], i) => ({
      id: `P${i + 1}`,
      priority: priority ?? 0,
      cpu: { arrive: `${arrive}ms`, program: [{ run: `${burst}ms` }] },
    })),
  };
}

/** Mean of the VMs' waiting times in ms. */
export function meanWaitMs(report: { vms: { cpu: { waitNs: number } }[] }): number {
  return report.vms.reduce((sum, vm) => sum + vm.cpu.waitNs, 0) / report.vms.length / 1e6;
}
