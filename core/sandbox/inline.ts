/**
 * The `none` policy runtime, the one way a policy runs in the kernel's thread (trusted code
 * only): for a bundle or a definition, with the same load checks and reply checks as the
 * sandboxes so that a policy behaves identically under every isolation; for a built-in, as it is.
 * Whatever a checked policy throws or returns (a Proxy, getters that throw), what reaches the
 * kernel is a `PolicyFailure` or a reply of plain data.
 *
 * Not contained here, unlike in the sandboxes: `Math.random`, `crypto.getRandomValues` and the
 * clocks are the kernel's real ones (swapping them around each batch would put the policy's
 * nondeterminism out of sight of `assertDeterministic`, which compares isolations), and so are
 * `Deno`, `Worker` and the console.
 *
 * @module
 */

import type { Batch, Reply } from "../protocol/batch.ts";
import type {
  PolicyDefinition,
  PolicyHandler,
  StartMessage,
  StartResult,
} from "../protocol/definition.ts";
import {
  asFailure,
  type Isolation,
  PolicyFailure,
  type PolicyRuntime,
} from "../protocol/runtime.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import { checkDefinition, checkReply, checkStartResult } from "./_policy_host.ts";
import { describeError } from "../protocol/text.ts";
import { resolveSandboxOptions, type SandboxOptions } from "./options.ts";

/**
 * Imports a bundle's code in the kernel's own isolate, through a `blob:` URL (no file written).
 *
 * @example
 * ```ts
 * import { importBundle } from "./inline.ts";
 *
 * const namespace = await importBundle({ code: "export default 42", sha256: "", bytes: 17, reference: "x" });
 * console.assert(namespace.default === 42);
 * ```
 *
 * @param bundle The bundle to import.
 * @returns The module namespace.
 */
export async function importBundle(bundle: PolicyBundle): Promise<Record<string, unknown>> {
  const url = URL.createObjectURL(new Blob([bundle.code], { type: "text/javascript" }));
  try {
    return await import(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Options of an {@linkcode InlineRuntime}. */
export interface InlineOptions extends SandboxOptions {
  /**
   * Trusted code (a built-in policy): its start result and replies are taken as they come, not
   * copied and checked as a sandbox's would be (default false). The kernel still checks every
   * decision.
   */
  trusted?: boolean;
}

/**
 * The `none` runtime: runs a policy in the kernel's thread, with no protection and no copying.
 * Unless trusted, it checks the module, the start result and every reply as the sandboxed
 * runtimes do, so that a policy behaves identically under every isolation.
 *
 * @example
 * ```ts
 * import { InlineRuntime } from "./inline.ts";
 *
 * const runtime = new InlineRuntime({
 *   apiVersion: 1,
 *   domain: "cpu",
 *   name: "noop",
 *   start: () => ({
 *     handler: { handle: () => ({ nums: new Float64Array(0), length: 0, objs: [] }) },
 *     result: { name: "noop", config: {}, hooks: [] },
 *   }),
 * }, { trusted: true });
 * console.assert(runtime.start({ config: {}, seed: 1, host: {} }).name === "noop");
 * ```
 */
export class InlineRuntime implements PolicyRuntime {
  /** Always `none`. */
  readonly isolation: Isolation = "none";
  #source: PolicyBundle | PolicyDefinition;
  #maxMessageBytes: number;
  #trusted: boolean;
  #handler: PolicyHandler | undefined;
  /** The checked reply handed to the kernel, refilled each batch. */
  #reply: Reply = { nums: new Float64Array(0), length: 0, objs: [] };

  /**
   * Prepares the runtime; nothing is imported or started until {@linkcode InlineRuntime.start}.
   *
   * @param source A bundle (imported at start) or an already imported default export.
   * @param options `trusted`, and `maxMessageBytes` (there is no boundary to time or cap).
   */
  constructor(source: PolicyBundle | PolicyDefinition, options: InlineOptions = {}) {
    this.#source = source;
    this.#trusted = options.trusted === true;
    this.#maxMessageBytes = resolveSandboxOptions(options).maxMessageBytes;
  }

  /**
   * Checks and starts the policy (importing the bundle first when given one); a throw becomes a
   * `PolicyFailure`.
   *
   * @throws {PolicyFailure} `invalid` (not a policy, another protocol version) or `error`.
   */
  start(message: StartMessage): StartResult | Promise<StartResult> {
    if (isBundle(this.#source)) {
      return importBundle(this.#source).then(
        (namespace) => this.#startDefinition(namespace.default, message),
        (error) => {
          throw new PolicyFailure(
            "error",
            "load",
            `Policy module failed to load: ${describeError(error)}`,
          );
        },
      );
    }
    return this.#startDefinition(this.#source, message);
  }

  /**
   * Calls the policy's hooks for one batch, synchronously.
   *
   * @throws {PolicyFailure} `error` (a hook threw) or `invalid` (a bad or oversized reply).
   */
  handle(batch: Batch): Reply {
    if (this.#handler === undefined) {
      throw new PolicyFailure("error", "not-started", "The policy was not started");
    }
    let reply;
    try {
      reply = this.#handler.handle(batch);
    } catch (error) {
      const failure = asFailure(error, "throw");
      try {
        failure.at(this.#handler.failedCall, undefined);
      } catch {
        // A handler whose getter throws names no call.
      }
      throw failure;
    }
    return this.#trusted ? reply : checkReply(reply, this.#maxMessageBytes, this.#reply);
  }

  /** Drops the policy. Idempotent. */
  close(): void {
    this.#handler = undefined;
  }

  #startDefinition(value: unknown, message: StartMessage): StartResult {
    const definition = this.#trusted
      ? value as PolicyDefinition
      : checkDefinition(value, message.domain);
    let handler: PolicyHandler, result: StartResult;
    try {
      ({ handler, result } = definition.start(message));
      result = { ...result, domain: definition.domain };
    } catch (error) {
      throw asFailure(error, "init");
    }
    if (this.#trusted) {
      this.#handler = handler;
      return result;
    }
    let copy: unknown;
    try {
      // The sandboxes hand results over as JSON; do the same so every isolation returns equal
      // values (and nothing of the policy's objects is left to run code in the kernel).
      copy = JSON.parse(JSON.stringify(result));
      (copy as Record<string, unknown>).domain = definition.domain;
    } catch (error) {
      throw asFailure(error, "init");
    }
    this.#handler = handler;
    return checkStartResult(copy);
  }
}

function isBundle(source: PolicyBundle | PolicyDefinition): source is PolicyBundle {
  return typeof (source as Partial<PolicyBundle>).code === "string" &&
    typeof (source as Partial<PolicyBundle>).sha256 === "string";
}
