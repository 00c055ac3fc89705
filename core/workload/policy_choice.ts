/**
 * Which policy a domain runs, and with what configuration, when the command line and the workload
 * both have a say: a flag names the policy, and the workload's configuration of that same policy
 * still applies unless the flag's own configuration (`--config-*`) replaces it.
 *
 * @example
 * ```ts
 * import { resolvePolicyChoice } from "./policy_choice.ts";
 *
 * const workload = { use: "balancer", config: { period: "50ms" } };
 * // `--memory balancer` keeps the workload's period; `--memory lru` does not inherit it.
 * console.assert(resolvePolicyChoice({ use: "balancer" }, workload)?.config?.period === "50ms");
 * console.assert(resolvePolicyChoice({ use: "lru" }, workload)?.config === undefined);
 * ```
 *
 * @module
 */

/** A policy reference and its configuration (the shape of `policies.cpu` and of a flag). */
export interface ChosenPolicy {
  /** A built-in name, a path, or an `npm:`, `https:` or `jsr:` specifier. */
  use: string;
  /** Its configuration, when one was given. */
  config?: Record<string, unknown>;
}

/**
 * The policy a domain runs: the flag's when there is one (flags win), else the workload's. A flag
 * without a configuration that names the policy the workload configures keeps the workload's
 * configuration: naming the policy again must not quietly reset it to its defaults.
 *
 * @param flag The choice from the command line (or an API caller), if any.
 * @param workload The choice in the workload's `policies`, if any.
 * @returns The choice to run, or undefined when neither names one.
 */
export function resolvePolicyChoice<T extends ChosenPolicy>(
  flag: T | undefined,
  workload: ChosenPolicy | undefined,
): T | ChosenPolicy | undefined {
  if (flag === undefined) return workload;
  if (flag.config !== undefined || workload === undefined || workload.use !== flag.use) return flag;
  return { ...flag, config: workload.config };
}

/**
 * A configuration as one short line, `key value` pairs in declaration order (`no config` when it has none),
 * for run headers and comparison tables.
 *
 * @example
 * ```ts
 * import { formatConfig } from "./policy_choice.ts";
 *
 * console.assert(formatConfig({ quantum: "10ms", ahead: 1 }) === "quantum 10ms, ahead 1");
 * console.assert(formatConfig({}) === "no config");
 * ```
 */
export function formatConfig(config: Record<string, unknown> | undefined): string {
  const entries = Object.entries(config ?? {});
  if (entries.length === 0) return "no config";
  return entries.map(([key, value]) =>
    `${key} ${typeof value === "string" ? value : JSON.stringify(value)}`
  ).join(", ");
}

/**
 * Whether a policy reference looks like a module (a path, or an `npm:`, `jsr:`, `https:` or
 * `file:` specifier) rather than a (mistyped) built-in name.
 *
 * @example
 * ```ts
 * import { isModuleReference } from "./policy_choice.ts";
 *
 * console.assert(isModuleReference("./my_policy.ts") && isModuleReference("npm:some-policy"));
 * console.assert(!isModuleReference("credit2"));
 * ```
 */
export function isModuleReference(reference: string): boolean {
  return /^(npm|jsr|https?|file):/.test(reference) || /[./\\]/.test(reference);
}
