/**
 * Sweep test helpers: small plans in a temporary folder, the CLI as a subprocess, and a Redis of
 * the test's own on a free loopback port.
 *
 * @module
 */

import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLI = join(ROOT, "core/cli.ts");

/** A small workload: runs in tens of milliseconds, differs by seed. */
export function smallWorkload(stopAt = "2s"): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "small",
    seed: 3,
    host: { pcpus: 2 },
    policies: { cpu: { use: "rr" } },
    stopAt,
    vms: [
      { id: "web", cpu: { pattern: "interactive", run: "2ms", sleep: "20ms" } },
      { id: "batch", weight: 512, cpu: { pattern: "cpu-bound" } },
      {
        id: "burst",
        cpu: { pattern: "bursty", phase: "500ms", busy: 0.6, quiet: 0.05, period: "10ms" },
      },
    ],
  };
}

/** A temporary folder holding `workload.json` and `plan.json`. */
export interface PlanFolder {
  /** The folder. */
  dir: string;
  /** The plan file. */
  plan: string;
  /** The workload file. */
  workload: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/** Writes a plan (and its workload) into a new temporary folder. */
export async function planFolder(
  plan: Record<string, unknown>,
  workload: Record<string, unknown> = smallWorkload(),
): Promise<PlanFolder> {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-sweep-" });
  const planFile = join(dir, "plan.json"), workloadFile = join(dir, "workload.json");
  await Deno.writeTextFile(workloadFile, JSON.stringify(workload, null, 2));
  await Deno.writeTextFile(
    planFile,
    JSON.stringify(
      { schema: "hyperhook.sweep/v1", workloads: ["workload.json"], ...plan },
      null,
      2,
    ),
  );
  return {
    dir,
    plan: planFile,
    workload: workloadFile,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** What a CLI run printed and returned. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `hyperhook <args>` (from `cli`, this checkout's by default) to the end. */
export async function hyperhook(args: string[], cli = CLI): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
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

/** A long-running `hyperhook` process whose stderr lines can be awaited. */
export class Background {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  #watchers: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly stdout: Promise<string>;
  readonly done: Promise<Deno.CommandStatus>;

  constructor(args: string[], cli = CLI) {
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, ...args],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.process = process;
    this.stdout = new Response(process.stdout).text();
    const stderr = (async () => {
      let buffered = "";
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        let newline;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          this.lines.push(line);
          this.#watchers = this.#watchers.filter((watcher) => {
            if (!watcher.test(line)) return true;
            watcher.resolve(line);
            return false;
          });
        }
      }
    })();
    this.done = Promise.all([this.process.status, stderr, this.stdout]).then(([status]) => status);
  }

  /** The first stderr line (past or future) that passes `test`. */
  waitFor(test: (line: string) => boolean, timeoutMs = 60_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Timed out waiting for a line; got:\n${this.lines.join("\n")}`)),
        timeoutMs,
      );
      this.#watchers.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Sends a signal (ignored when the process is gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.process.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** The rows of a CSV file (RFC 4180: quoted fields may hold commas and doubled quotes). */
export async function csvRows(file: string): Promise<string[][]> {
  const text = await Deno.readTextFile(file);
  const rows: string[][] = [];
  let row: string[] = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") {
      row.push(field);
      field = "";
    } else if (char === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  return rows;
}

/** Whether `redis-server` is installed. */
export const HAS_REDIS = (() => {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

if (!HAS_REDIS) {
  console.error(
    "tests/sweep: redis-server is not installed (apt-get install redis-server): the BullMQ tests are skipped",
  );
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A Redis of the test's own, with BullMQ's settings, in a temporary folder. */
export class TestRedis {
  readonly port: number;
  readonly dir: string;
  #process: Deno.ChildProcess | undefined;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** Starts one on a free port. */
  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await Deno.makeTempDir({ prefix: "hyperhook-redis-" }), freePort());
    await redis.restart();
    return redis;
  }

  /** Its URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, from its append-only file when there is one) and waits until it answers. */
  async restart(): Promise<void> {
    this.#process = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
        "--daemonize",
        "no",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 200; i++) {
      if (await ping(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  /** Kills it with `signal` and waits for its exit. */
  async kill(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    if (this.#process === undefined) return;
    try {
      this.#process.kill(signal);
    } catch {
      // Already gone.
    }
    await this.#process.status;
    this.#process = undefined;
  }

  /** Stops it and removes its folder. */
  async stop(): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true });
  }
}

async function ping(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await connection.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(64);
      const read = await connection.read(buffer);
      return read !== null &&
        new TextDecoder().decode(buffer.subarray(0, read)).startsWith("+PONG");
    } finally {
      connection.close();
    }
  } catch {
    return false;
  }
}
