/**
 * The `none` policy runtime, the one way a policy runs in the kernel's thread (trusted code
 * only): for a bundle or a definition, with the same load checks and reply checks as the
 * sandboxes so that a policy behaves identically under every isolation; for a built-in, as it is.
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
import type { PolicyBundle } from "./bundle.ts";
import { checkDefinition, checkReply, checkStartResult } from "./_policy_host.ts";
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
          const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          throw new PolicyFailure("error", "load", `Policy module failed to load: ${text}`);
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
      throw asFailure(error, "throw");
    }
    return this.#trusted ? reply : checkReply(reply, this.#maxMessageBytes);
  }

  /** Drops the policy. Idempotent. */
  close(): void {
    this.#handler = undefined;
  }

  #startDefinition(value: unknown, message: StartMessage): StartResult {
    const definition = this.#trusted
      ? value as PolicyDefinition
      : checkDefinition(value, message.domain);
    let started;
    try {
      started = definition.start(message);
    } catch (error) {
      throw asFailure(error, "init");
    }
    this.#handler = started.handler;
    if (this.#trusted) return { ...started.result, domain: definition.domain };
    // The sandboxes hand results over as JSON; do the same so every isolation returns equal values.
    return checkStartResult({
      ...JSON.parse(JSON.stringify(started.result)),
      domain: definition.domain,
    });
  }
}

function isBundle(source: PolicyBundle | PolicyDefinition): source is PolicyBundle {
  return typeof (source as Partial<PolicyBundle>).code === "string" &&
    typeof (source as Partial<PolicyBundle>).sha256 === "string";
}
