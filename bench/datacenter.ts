/**
 * The CloudSim PlanetLab day (1052 VMs, 800 hosts, 288 five-minute intervals) as a datacenter run:
 * `examples/datacenter/cloudsim_planetlab.json`, which reads `../shared/traces/planetlab-20110303`
 * (skipped with a message when that folder is absent). CloudSim 3.0.3 takes about 26 s for it.
 *
 * `deno bench -A bench/datacenter.ts` times the run in-process (the simulation alone);
 * `deno run -A bench/datacenter.ts [policy] [rounds]` times the whole process, as a user runs it
 * (`deno task sim examples/datacenter/cloudsim_planetlab.json --placement lr-mmt`): wall time, and
 * CPU time (user + system, from /usr/bin/time when there is one), median of `rounds` (default 5).
 *
 * @module
 */

import { readDatacenter } from "../core/datacenter/schema.ts";
import { createDatacenterSimulation } from "../core/datacenter/simulation.ts";

const ROOT = new URL("../", import.meta.url);
const EXAMPLE = new URL("examples/datacenter/cloudsim_planetlab.json", ROOT).pathname;
const TRACES = new URL("../shared/traces/planetlab-20110303/", ROOT);

function tracesPresent(): boolean {
  try {
    return Deno.statSync(TRACES).isDirectory;
  } catch {
    return false;
  }
}

const SKIP = "the PlanetLab traces (../shared/traces/planetlab-20110303) are absent";

for (const policy of ["lr-mmt", "dvfs", "iqr-mc"]) {
  Deno.bench({
    name: `PlanetLab day under ${policy}, in-process run`,
    group: "datacenter",
    baseline: policy === "lr-mmt",
    ignore: !tracesPresent(),
    async fn(b) {
      const simulation = await createDatacenterSimulation(await readDatacenter(EXAMPLE), {
        policies: { placement: { use: policy } },
      });
      b.start();
      await simulation.run();
      b.end();
      await simulation.close();
    },
  });
}

/** One whole process: wall ms, and CPU ms when /usr/bin/time measured it. */
async function wholeProcess(policy: string): Promise<{ wallMs: number; cpuMs: number | null }> {
  const flags =
    "--v8-flags=--max-inlined-bytecode-size=1000,--max-inlined-bytecode-size-cumulative=4000,--no-lazy-feedback-allocation";
  const args = ["run", "-A", flags, "core/cli.ts", "run", EXAMPLE, "--placement", policy];
  let timed = true;
  try {
    Deno.statSync("/usr/bin/time");
  } catch {
    timed = false;
  }
  const command = timed
    ? new Deno.Command("/usr/bin/time", {
      args: ["-f", "%U %S", Deno.execPath(), ...args],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    })
    : new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "null", stderr: "piped" });
  const start = performance.now();
  const output = await command.output();
  const wallMs = performance.now() - start;
  const stderr = new TextDecoder().decode(output.stderr).trim();
  if (!output.success) throw new Error(`${policy}: the run failed: ${stderr}`);
  if (!timed) return { wallMs, cpuMs: null };
  const [user, system] = stderr.split("\n").at(-1)!.split(" ").map(Number);
  return { wallMs, cpuMs: (user! + system!) * 1000 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

if (import.meta.main) {
  if (!tracesPresent()) {
    console.log(`Skipping: ${SKIP}.`);
    Deno.exit(0);
  }
  const policy = Deno.args[0] ?? "lr-mmt";
  const rounds = Number(Deno.args[1] ?? 5);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`bench/datacenter.ts: rounds: expected a positive integer, got ${Deno.args[1]}`);
    Deno.exit(2);
  }
  const walls: number[] = [], cpus: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const { wallMs, cpuMs } = await wholeProcess(policy);
    walls.push(wallMs);
    if (cpuMs !== null) cpus.push(cpuMs);
  }
  console.log(
    `PlanetLab day (1052 VMs, 800 hosts, 288 intervals) under ${policy}, whole process, ` +
      `median of ${rounds}: ${(median(walls) / 1000).toFixed(2)} s wall` +
      (cpus.length > 0 ? `, ${(median(cpus) / 1000).toFixed(2)} s CPU (user + system)` : "") +
      ` (walls ${walls.map((w) => (w / 1000).toFixed(2)).join(", ")})`,
  );
}
