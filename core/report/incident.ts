/**
 * An incident as people read it, on stderr and under a run's table: when, which policy, what
 * kind, the message, then the hook that threw with its arguments and where in the policy's own
 * source.
 *
 * @example
 * ```ts
 * import { formatIncident } from "./incident.ts";
 *
 * const lines = formatIncident({
 *   atNs: 3_000_000, domain: "cpu", policy: "mine", kind: "error", reason: "throw",
 *   message: "RangeError: lost count", hook: "dispatch", args: { pcpu: 0 },
 *   stack: ["dispatch (mine.ts:14:32)"],
 * });
 * console.assert(lines[1] === "  in hook dispatch(pcpu 0)");
 * console.assert(lines[2] === "    at dispatch (mine.ts:14:32)");
 * ```
 *
 * @module
 */

import { formatDuration } from "../engine/duration.ts";
import type { Incident } from "../kernel/slot.ts";

/** The lines of an incident: the summary, then the hook and the stack when known. */
export function formatIncident(incident: Incident): string[] {
  const lines = [
    `incident at ${
      formatDuration(incident.atNs)
    }: ${incident.domain} policy ${incident.policy} ejected (${incident.kind}/${incident.reason}): ${incident.message}`,
  ];
  if (incident.hook !== undefined) {
    const args = Object.entries(incident.args ?? {}).map(([name, value]) => `${name} ${value}`);
    lines.push(`  in hook ${incident.hook}(${args.join(", ")})`);
  }
  for (const frame of incident.stack ?? []) lines.push(`    at ${frame}`);
  return lines;
}
