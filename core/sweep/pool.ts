/**
 * The local pool: one warm child process per job slot, each running many shards one after
 * another (the runtime, the kernel's modules and the policies' bundles load once per slot, not
 * once per shard). A slot whose process dies is started again for the next shard; the shard it
 * held fails with {@linkcode ShardCrashError}, and whoever asked decides whether to run it again.
 *
 * The BullMQ worker runs its shards here too, so its own event loop stays free to renew locks.
 *
 * @module
 */

import { ANSWER_MARK, type ShardRequest } from "./_child.ts";
import { ShardInputError, type ShardResult } from "./run_shard.ts";
import type { ShardSpec } from "./shards.ts";

/** The V8 flags of `deno task sim`: the same speed in a shard as on the command line. */
export const V8_FLAGS =
  "--max-inlined-bytecode-size=1000,--max-inlined-bytecode-size-cumulative=4000,--no-lazy-feedback-allocation";

const CHILD = new URL("./_child.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);

/** A shard's process died while it held the shard (killed, out of memory). */
export class ShardCrashError extends Error {
  /** @param message What happened. */
  constructor(message: string) {
    super(message);
    this.name = "ShardCrashError";
  }
}

/** A shard failed in its process (an exception that is not bad input). */
export class ShardFailedError extends Error {
  /** @param message The error, with its stack. */
  constructor(message: string) {
    super(message);
    this.name = "ShardFailedError";
  }
}

interface Pending {
  resolve: (result: ShardResult) => void;
  reject: (error: Error) => void;
}

class Slot {
  #process: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, Pending>();
  #exited = false;
  readonly exited: Promise<void>;
  readonly pid: number;

  constructor(onOutput: (line: string) => void) {
    const args = ["run", "-A", `--v8-flags=${V8_FLAGS}`];
    if (CONFIG.protocol === "file:") args.push("--config", CONFIG.pathname);
    args.push(CHILD.protocol === "file:" ? CHILD.pathname : CHILD.href);
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#process.pid;
    this.#writer = this.#process.stdin.getWriter();
    this.#writer.closed.catch(() => {});
    const stdout = readLines(this.#process.stdout, (line) => {
      if (!line.startsWith(ANSWER_MARK)) {
        onOutput(line);
        return;
      }
      const answer = JSON.parse(line.slice(ANSWER_MARK.length));
      const pending = this.#pending.get(answer.id);
      if (pending === undefined) return;
      this.#pending.delete(answer.id);
      if (answer.result !== undefined) pending.resolve(answer.result);
      else if (answer.input) pending.reject(new ShardInputError(answer.error));
      else pending.reject(new ShardFailedError(answer.error));
    });
    const stderr = readLines(this.#process.stderr, onOutput);
    this.exited = Promise.all([this.#process.status, stdout, stderr]).then(([status]) => {
      this.#exited = true;
      const how = status.signal === null ? `exit code ${status.code}` : `signal ${status.signal}`;
      for (const pending of this.#pending.values()) {
        pending.reject(new ShardCrashError(`the shard's process ${this.pid} died (${how})`));
      }
      this.#pending.clear();
    });
  }

  get alive(): boolean {
    return !this.#exited;
  }

  run(id: number, shard: ShardSpec): Promise<ShardResult> {
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: ShardRequest = { id, shard };
      this.#writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n")).catch(() => {
        // The process is gone: `exited` rejects the shard.
      });
    });
  }

  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // Already closed by its exit.
    }
    await this.exited;
  }

  kill(): void {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== "") onLine(buffered);
}

/** Options of a {@linkcode ShardPool}. */
export interface PoolOptions {
  /** How many warm processes (shards at once). */
  jobs: number;
  /** Receives what the processes print besides answers (a policy's output, warnings). */
  onOutput?: (line: string) => void;
}

/** One warm child process per job slot; shards queue for a free slot. */
export class ShardPool {
  #slots: (Slot | undefined)[];
  #idle: number[];
  #waiting: (() => void)[] = [];
  #nextId = 0;
  #onOutput: (line: string) => void;
  #closed = false;

  /** @param options How many slots, and where stray output goes. */
  constructor(options: PoolOptions) {
    this.#slots = Array.from({ length: options.jobs }, () => undefined);
    this.#idle = this.#slots.map((_, i) => i);
    this.#onOutput = options.onOutput ?? ((line) => console.error(line));
  }

  /** Starts every slot's process now rather than at its first shard. */
  warm(): void {
    for (let i = 0; i < this.#slots.length; i++) this.#slot(i);
  }

  #slot(i: number): Slot {
    let slot = this.#slots[i];
    if (slot === undefined || !slot.alive) {
      slot = new Slot(this.#onOutput);
      this.#slots[i] = slot;
    }
    return slot;
  }

  /**
   * Runs a shard in the next free slot.
   *
   * @throws {ShardInputError} When the shard's workload or policies cannot run.
   * @throws {ShardCrashError} When the slot's process died while running it.
   * @throws {ShardFailedError} When the run threw.
   */
  async run(shard: ShardSpec): Promise<ShardResult> {
    if (this.#closed) throw new Error("The shard pool is closed");
    while (this.#idle.length === 0) await new Promise<void>((wake) => this.#waiting.push(wake));
    const i = this.#idle.pop()!;
    try {
      return await this.#slot(i).run(this.#nextId++, shard);
    } finally {
      this.#idle.push(i);
      this.#waiting.shift()?.();
    }
  }

  /** The process ids of the live slots (for tests and logs). */
  get pids(): number[] {
    return this.#slots.filter((slot) => slot?.alive).map((slot) => slot!.pid);
  }

  /** Lets every process finish and exit. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot?.close()));
  }

  /** Kills every process at once (SIGKILL). */
  async kill(): Promise<void> {
    this.#closed = true;
    for (const slot of this.#slots) slot?.kill();
    await Promise.all(this.#slots.map((slot) => slot?.exited));
  }
}
