/**
 * The `none` policy runtime for policies given as a bundle or a definition: the policy runs in the
 * kernel's thread (trusted code only), with the same load checks and reply checks as the sandboxes
 * so that a policy behaves identically under every isolation. Whatever the policy throws or
 * returns (a Proxy, getters that throw), what reaches the kernel is a `PolicyFailure` or a reply
 * of plain data.
 *
 * Not contained here, unlike in the sandboxes: `Math.random`, `crypto.getRandomValues` and the
 * clocks are the kernel's real ones (swapping them around each batch would put the policy's
 * nondeterminism out of sight of `assertDeterministic`, which compares isolations), and so are
 * `Deno`, `Worker` and the console.
 *
 * @module
 */

import type {
  Batch,
  PolicyDefinition,
  Reply,
  StartMessage,
  StartResult,
} from "../policy/protocol.ts";
import type { PolicyBundle } from "./bundle.ts";
import { checkDefinition, checkReply, checkStartResult } from "./_policy_host.ts";
import {
  asFailure,
  InProcessRuntime,
  type Isolation,
  PolicyFailure,
  type PolicyRuntime,
} from "./runtime.ts";
import { describeError } from "./_text.ts";
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

/** Runs a policy in the kernel's thread, checked like the sandboxed runtimes. */
export class InlineRuntime implements PolicyRuntime {
  /** Always `none`. */
  readonly isolation: Isolation = "none";
  #source: PolicyBundle | PolicyDefinition;
  #maxMessageBytes: number;
  #inner: InProcessRuntime | undefined;
  /** The reply handed to the kernel, refilled each batch. */
  #reply: Reply = { nums: new Float64Array(0), length: 0, objs: [] };

  /**
   * Prepares the runtime; nothing is imported or started until {@linkcode InlineRuntime.start}.
   *
   * @param source A bundle (imported at start) or an already imported default export.
   * @param options Only `maxMessageBytes` applies (there is no boundary to time or cap).
   */
  constructor(source: PolicyBundle | PolicyDefinition, options: SandboxOptions = {}) {
    this.#source = source;
    this.#maxMessageBytes = resolveSandboxOptions(options).maxMessageBytes;
  }

  /**
   * Checks and starts the policy (importing the bundle first when given one).
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
    if (this.#inner === undefined) {
      throw new PolicyFailure("error", "not-started", "The policy was not started");
    }
    return checkReply(this.#inner.handle(batch), this.#maxMessageBytes, this.#reply);
  }

  /** Drops the policy. Idempotent. */
  close(): void {
    this.#inner?.close();
    this.#inner = undefined;
  }

  #startDefinition(value: unknown, message: StartMessage): StartResult {
    const definition = checkDefinition(value, message.domain);
    const inner = new InProcessRuntime(definition);
    const result = inner.start(message);
    let copy: unknown;
    try {
      // The sandboxes hand results over as JSON; do the same so every isolation returns equal
      // values (and nothing of the policy's objects is left to run code in the kernel).
      copy = JSON.parse(JSON.stringify(result));
      (copy as Record<string, unknown>).domain = definition.domain;
    } catch (error) {
      throw asFailure(error, "init");
    }
    this.#inner = inner;
    return checkStartResult(copy);
  }
}

function isBundle(source: PolicyBundle | PolicyDefinition): source is PolicyBundle {
  return typeof (source as Partial<PolicyBundle>).code === "string" &&
    typeof (source as Partial<PolicyBundle>).sha256 === "string";
}
