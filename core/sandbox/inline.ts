/**
 * The `none` policy runtime for policies given as a bundle or a definition: the policy runs in the
 * kernel's thread (trusted code only), with the same load checks and reply checks as the sandboxes
 * so that a policy behaves identically under every isolation.
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
import { InProcessRuntime, type Isolation, PolicyFailure, type PolicyRuntime } from "./runtime.ts";
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
    if (this.#inner === undefined) {
      throw new PolicyFailure("error", "not-started", "The policy was not started");
    }
    return checkReply(this.#inner.handle(batch), this.#maxMessageBytes);
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
    this.#inner = inner;
    // The sandboxes hand results over as JSON; do the same so every isolation returns equal values.
    return checkStartResult({ ...JSON.parse(JSON.stringify(result)), domain: definition.domain });
  }
}

function isBundle(source: PolicyBundle | PolicyDefinition): source is PolicyBundle {
  return typeof (source as Partial<PolicyBundle>).code === "string" &&
    typeof (source as Partial<PolicyBundle>).sha256 === "string";
}
