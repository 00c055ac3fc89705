/**
 * Helpers of the live-control tests: a live kernel with its app, requests without sockets, and a
 * real `hyperhook serve` child process.
 *
 * @module
 */

import { createControlApp } from "../../core/control/app.ts";
import { LiveKernel, type LiveOptions, type LiveSetup } from "../../core/control/live.ts";
import type { Hono } from "hono";

/** The token the tests use. */
export const TOKEN = "test-token-0123456789";

/** A small workload: `n` CPU-bound VMs on `pcpus` pCPUs, with a policy. */
export function cpuWorkload(
  options: { pcpus?: number; vms?: number; policy?: string; stopAt?: string } = {},
): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "live-test",
    seed: 3,
    host: { pcpus: options.pcpus ?? 2 },
    policies: { cpu: { use: options.policy ?? "rr" } },
    stopAt: options.stopAt ?? "1h",
    vms: Array.from({ length: options.vms ?? 4 }, (_, i) => ({
      id: `vm-${i + 1}`,
      cpu: i % 2 === 0
        ? { pattern: "cpu-bound" }
        : { pattern: "interactive", run: "2ms", sleep: "10ms" },
    })),
  };
}

/**
 * The text of a policy file as a client posts it (`source`): its relative import of the SDK
 * becomes the package name, since posted code may import no local file.
 */
export function postedSource(url: URL | string): string {
  return Deno.readTextFileSync(url).replace(
    /(["'])(?:\.\.\/)+core\/policy\/mod\.ts\1/g,
    (_, quote) => `${quote}@hyperhook/hyperhook/policy${quote}`,
  );
}

/** What a request answered. */
export interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  json: any;
  text: string;
  headers: Headers;
}

/** A live kernel, its app, and a way to call it. */
export interface TestServer {
  live: LiveKernel;
  app: Hono;
  call(
    method: string,
    path: string,
    body?: unknown,
    init?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<Answer>;
  close(): Promise<void>;
}

/**
 * Builds a live kernel (not started unless `start`) and its app; `setup` holds the server's
 * simulation options (`--isolation`, `--seed`, …).
 */
export async function testServer(
  workload: Record<string, unknown> = cpuWorkload(),
  options: LiveOptions & { start?: boolean; setup?: LiveSetup["options"] } = {},
): Promise<TestServer> {
  const live = await LiveKernel.create(
    { workload, source: "test", baseDir: Deno.cwd(), options: options.setup ?? {} },
    { paused: true, ...options },
  );
  const { app } = createControlApp(live, {
    token: TOKEN,
    onBug: (error) => console.error("BUG", error),
  });
  if (options.start) live.start();
  return {
    live,
    app,
    async call(method, path, body, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token === undefined ? TOKEN : init.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const response = await app.request(path, {
        method,
        headers,
        body: body === undefined
          ? undefined
          : typeof body === "string"
          ? body
          : JSON.stringify(body),
      });
      const text = await response.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text, headers: response.headers };
    },
    close: () => live.close(),
  };
}

/** A `hyperhook serve` child process on a free port. */
export interface ServeProcess {
  child: Deno.ChildProcess;
  base: string;
  /** Everything printed on stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

const CLI = new URL("../../core/cli.ts", import.meta.url).pathname;

/** Starts `hyperhook serve <args> --port 0` and waits until it listens. */
export async function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "serve", "--port", "0", ...args],
    env: { HYPERHOOK_TOKEN: TOKEN, ...env },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const started = Date.now();
  let base: string | undefined;
  while (base === undefined) {
    base = /listening (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)?.[1];
    if (base !== undefined) break;
    if (Date.now() - started > 20_000) {
      child.kill("SIGKILL");
      await child.status;
      await pumping;
      throw new Error(`serve did not start:\n${text}`);
    }
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((done) => setTimeout(() => done(false), 50)),
    ]);
    if (exited) {
      await pumping;
      throw new Error(`serve exited early:\n${text}`);
    }
  }
  let status: Promise<Deno.CommandStatus> | undefined;
  return {
    child,
    base,
    output: () => text,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (status === undefined) {
        try {
          child.kill(signal);
        } catch {
          // Already exited.
        }
        status = child.status;
      }
      const result = await status;
      await pumping;
      return result;
    },
  };
}

/** A `fetch` with the test token. */
export function authed(init: RequestInit = {}): RequestInit {
  return {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
  };
}
