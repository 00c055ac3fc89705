/**
 * What a policy is to the kernel, whatever runs it: a {@linkcode PolicyDefinition} (a policy
 * bundle's default export), started with a {@linkcode StartMessage}, answering with a
 * {@linkcode StartResult} and a {@linkcode PolicyHandler} for batches.
 *
 * The kernel never calls hooks directly: it sends a `Batch` (every call of one simulated instant,
 * encoded as numbers, see `batch.ts`) and gets back a `Reply`. The same bytes flow through every
 * isolation (`none`, `worker`, `process`), which is why a run's decisions are identical under all
 * three.
 *
 * @module
 */

import type { Batch, Reply } from "./batch.ts";

/**
 * The major version of the hook protocol this kernel speaks.
 *
 * @example
 * ```ts
 * import { API_VERSION } from "./definition.ts";
 *
 * console.assert(API_VERSION === 1);
 * ```
 */
export const API_VERSION = 1;

/**
 * What a declared parameter accepts, for tools that search it (`hyperhook tune`): its kind, and
 * its bounds (durations in ns) or choices.
 */
export interface ParamBounds {
  /** Which constructor declared it. */
  readonly kind: "duration" | "number" | "boolean" | "choice";
  /** The smallest accepted value (durations in ns), when bounded. */
  readonly min?: number;
  /** The largest accepted value (durations in ns), when bounded. */
  readonly max?: number;
  /** Whether only integers are accepted. */
  readonly integer?: boolean;
  /** The accepted strings of a `choice`. */
  readonly choices?: readonly string[];
}

/** One declared parameter: parses a user value (or takes the default) into `T`. */
export interface Param<T> {
  /** What the parameter expects, for error messages and docs (e.g. `a duration such as "10ms"`). */
  readonly expects: string;
  /** Its kind and bounds, for tools that search it. */
  readonly bounds?: ParamBounds;
  /** The default, as JSON. */
  readonly defaultValue: unknown;
  /** Parses a user value; throws an Error whose message says what was expected. */
  parse(value: unknown): T;
}

/** A resource domain of the kernel. */
export type Domain = "cpu" | "memory" | "io" | "placement";

/** What the kernel tells a policy when it starts it. Plain JSON. */
export interface StartMessage {
  /** The user's configuration for the policy (validated by the policy against its own schema). */
  config: Record<string, unknown>;
  /** The seed of the policy's own PRNG (derived from the workload seed and the domain). */
  seed: number;
  /**
   * The host as the domain sees it (for cpu: `{ pcpus, vms }`, `vms` being the VMs known at start
   * as `{ id, params }`).
   */
  host: Record<string, unknown>;
  /**
   * The domain the kernel starts the policy for: a policy of another domain is refused before its
   * `create` runs (a `config` failure, so the CLI exits 2).
   */
  domain?: Domain;
}

/** What a policy answers when started. Plain JSON. */
export interface StartResult {
  /** The policy's name. */
  name: string;
  /** The configuration after defaults were applied, as JSON. */
  config: Record<string, unknown>;
  /** The hooks the policy defines: the kernel only sends calls a policy can take. */
  hooks: string[];
  /** The period of the policy's `tick` hook in ns, when it has one. */
  tickNs?: number;
  /** The domain the policy schedules (filled in by the runtime from the definition). */
  domain?: Domain;
  /** Names of the per-VM counters the policy keeps (reports show them), when it has any. */
  counters?: string[];
  /**
   * A placement policy's power management: `peak` when every host draws its full power all the
   * time (no power management); absent for power that follows utilisation.
   */
  power?: "peak";
}

/** A started policy: takes batches, returns replies, synchronously. */
export interface PolicyHandler {
  /** Runs every call of `batch` in order and returns the answers to its queries. */
  handle(batch: Batch): Reply;
  /**
   * After `handle` threw: where the call whose hook threw starts in the batch's numbers (-1 when
   * not known). Optional: a policy built with an older SDK has none.
   */
  failedCall?: number;
}

/**
 * The default export of every policy module: what `defineCpuPolicy` (and the memory and I/O
 * equivalents) produce. A runtime needs nothing else to host a policy.
 */
export interface PolicyDefinition {
  /** The major protocol version the policy was built for. */
  readonly apiVersion: number;
  /** The domain the policy schedules. */
  readonly domain: Domain;
  /** The policy's name, as reports show it. */
  readonly name: string;
  /** Its declared parameters (`config` of its spec), for tools that search them. */
  readonly params?: Readonly<Record<string, Param<unknown>>>;
  /**
   * Validates `message.config` and creates the policy's state.
   *
   * @param message What the kernel knows at start.
   * @returns The handler for batches and what the policy declares about itself.
   * @throws {Error} When the configuration is invalid (the message says which key and why).
   */
  start(message: StartMessage): { handler: PolicyHandler; result: StartResult };
}

/**
 * Checks that a module's default export looks like a {@linkcode PolicyDefinition}.
 *
 * @example
 * ```ts
 * import { API_VERSION, isPolicyDefinition } from "./definition.ts";
 *
 * const definition = { apiVersion: API_VERSION, domain: "cpu", name: "noop", start() {} };
 * console.assert(isPolicyDefinition(definition));
 * console.assert(!isPolicyDefinition({ name: "not a policy" }));
 * ```
 */
export function isPolicyDefinition(value: unknown): value is PolicyDefinition {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.apiVersion === "number" && typeof candidate.name === "string" &&
    typeof candidate.start === "function" &&
    (candidate.domain === "cpu" || candidate.domain === "memory" || candidate.domain === "io" ||
      candidate.domain === "placement");
}
