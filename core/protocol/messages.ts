/**
 * The words of the kernel's refusals at the policy boundary: a policy of another protocol version
 * or domain, a module that is not a policy, a malformed or oversized reply, a bad start result.
 * Every runtime says them alike (the sandboxes' bootstraps embed them), so that a policy fails the
 * same way under every isolation.
 *
 * @module
 */

import { API_VERSION } from "./definition.ts";

/** The message for a policy built against another major version of the hook protocol. */
export function apiVersionMessage(name: unknown, apiVersion: unknown): string {
  return `Policy ${JSON.stringify(String(name))} was built for hook protocol v${
    String(apiVersion)
  }; this kernel speaks v${API_VERSION}`;
}

/** The message for a policy started for a domain it does not schedule. */
export function wrongDomainMessage(name: unknown, domain: unknown, expected: unknown): string {
  return `Policy ${JSON.stringify(String(name))} schedules the ${String(domain)} domain; ` +
    `expected a policy for the ${String(expected)} domain`;
}

/** The message for a default export that is not a policy definition. */
export const NOT_A_POLICY_MESSAGE: string =
  "The policy module's default export is not a policy definition " +
  "(expected { apiVersion, domain, name, start })";

/** The message for a malformed reply. */
export const BAD_REPLY_MESSAGE: string =
  "Policy reply must be { nums: Float64Array, length, objs: array } with 0 <= length <= nums.length";

/** The message for a reply over the size cap. */
export function tooLargeMessage(bytes: number, maxBytes: number): string {
  return `Policy reply is ${bytes} bytes; the limit is ${maxBytes} bytes`;
}

/** The message for a start result that is not a `StartResult`. */
export const BAD_START_MESSAGE: string =
  "Policy start result must be { name: string, config: object, hooks: string[] } " +
  "with optional tickNs: number and counters: string[]";
