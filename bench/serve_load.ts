/**
 * Load on the live control API: starts `hyperhook serve` in a child process (loopback only), then
 * keeps N connections busy on `GET /v1/state` for a fixed time while the kernel runs, and reports
 * requests per second, latency percentiles, and how far the simulated clock moved meanwhile.
 *
 * Bounded in count and time; talks to 127.0.0.1 only.
 *
 * ```sh
 * deno run -A bench/serve_load.ts [--connections 64] [--seconds 10] [--speed 1] [--path /v1/state]
 *   [--client fetch|wrk]
 * ```
 *
 * The default client is Deno's `fetch` in this process; `--client wrk` uses Debian's `wrk` (a C
 * load generator that costs the shared cores less, so the figure says more about the server).
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "64" },
    seconds: { type: "string", default: "10" },
    speed: { type: "string", default: "1" },
    path: { type: "string", default: "/v1/state" },
    workload: { type: "string" },
    "max-requests": { type: "string", default: "2000000" },
    client: { type: "string", default: "fetch" },
  },
});
const connections = Math.min(512, Math.max(1, Number(values.connections)));
const seconds = Math.min(120, Math.max(1, Number(values.seconds)));
const maxRequests = Number(values["max-requests"]);
const token = crypto.randomUUID();
const cli = new URL("../core/cli.ts", import.meta.url).pathname;

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    cli,
    "serve",
    ...(values.workload ? [values.workload] : []),
    "--port",
    "0",
    "--speed",
    values.speed!,
  ],
  env: { HYPERHOOK_TOKEN: token },
  stdout: "piped",
  stderr: "inherit",
  stdin: "null",
}).spawn();

const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
let printed = "", base: string | undefined;
while (base === undefined) {
  const { value, done } = await reader.read();
  if (done) throw new Error(`serve exited before listening:\n${printed}`);
  printed += value;
  base = /listening (http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)?.[1];
}
const draining = (async () => {
  while (!(await reader.read()).done) { /* discard */ }
})();

const headers = { authorization: `Bearer ${token}` };
async function simulatedNs(): Promise<number> {
  const response = await fetch(`${base}/v1/state`, { headers });
  return (await response.json()).nowNs;
}

interface Figures {
  count: number;
  errors: number;
  elapsed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

async function withFetch(): Promise<Figures> {
  // Warm up: connections open, code compiled.
  await Promise.all(Array.from({ length: connections }, async () => {
    for (let i = 0; i < 5; i++) {
      await (await fetch(`${base}${values.path}`, { headers })).arrayBuffer();
    }
  }));
  const latencies = new Float64Array(maxRequests);
  let count = 0, errors = 0;
  const started = performance.now(), until = started + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < until && count < maxRequests) {
      const sent = performance.now();
      try {
        const response = await fetch(`${base}${values.path}`, { headers });
        await response.arrayBuffer();
        if (response.status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies[count++] = performance.now() - sent;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, count).sort();
  const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))]!;
  return {
    count,
    errors,
    elapsed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[count - 1]!,
  };
}

async function withWrk(): Promise<Figures> {
  const output = await new Deno.Command("wrk", {
    args: [
      "-t2",
      `-c${connections}`,
      `-d${seconds}s`,
      "--latency",
      "-H",
      `Authorization: Bearer ${token}`,
      `${base}${values.path}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const ms = (pattern: RegExp) => {
    const match = pattern.exec(text);
    if (match === null) return NaN;
    return Number(match[1]) * (match[2] === "us" ? 1e-3 : match[2] === "s" ? 1e3 : 1);
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
    .exec(text);
  return {
    count: Number(/(\d+) requests in/.exec(text)?.[1]),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0) +
      (socketErrors?.slice(1).reduce((sum, n) => sum + Number(n), 0) ?? 0),
    elapsed: Number(/requests in ([\d.]+)s/.exec(text)?.[1]),
    p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p90: ms(/90%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
    max: ms(/Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/),
  };
}

const simStart = await simulatedNs();
const figures = values.client === "wrk" ? await withWrk() : await withFetch();
const simEnd = await simulatedNs();
const { count, errors, elapsed } = figures;

child.kill("SIGTERM");
const status = await child.status;
await draining;

const simulated = (simEnd - simStart) / 1e9;
console.log(
  [
    `GET ${values.path}: ${connections} connections for ${
      elapsed.toFixed(1)
    } s (client: ${values.client})`,
    `  requests ${count} (${errors} errors), ${(count / elapsed).toFixed(0)} req/s`,
    `  latency p50 ${figures.p50.toFixed(2)} ms, p90 ${figures.p90.toFixed(2)} ms, p99 ${
      figures.p99.toFixed(2)
    } ms, max ${figures.max.toFixed(2)} ms`,
    `  simulated clock moved ${simulated.toFixed(2)} s (speed ${values.speed}: ${
      (simulated / elapsed).toFixed(2)
    } simulated s per wall s)`,
    `  server exited with ${status.code}`,
  ].join("\n"),
);
