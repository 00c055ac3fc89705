/**
 * Small JSON helpers of the sweep: canonical text (for keys), sha256, and setting a field of a
 * workload by its dotted path.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** JSON text with object keys sorted at every level: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`)}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The sha256 of `data` (text as UTF-8) in lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A value as a plan wrote it, for a CSV cell or a label: a string as is, anything else as compact
 * JSON in the plan's own key order.
 */
export function cellText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The segments of a dotted path (`vms.0.weight` → `["vms", "0", "weight"]`). */
export function pathSegments(path: string): string[] {
  return path.split(".");
}

/**
 * Sets the field at a dotted `path` of a parsed workload to `value`, creating objects on the way.
 * A numeric segment indexes an array; `*` sets the field in every item of an array. A string given
 * for `policies.<domain>` is the policy's name (`"rr"` is `{"use": "rr"}`), as on the command line.
 *
 * @returns A description of the problem, or undefined when the field was set.
 */
export function setField(
  root: Record<string, unknown>,
  path: string,
  value: unknown,
): string | undefined {
  const segments = pathSegments(path);
  if (segments.some((segment) => segment === "")) {
    return "expected a dotted path such as host.pcpus";
  }
  const last = segments.length - 1;
  const policyChoice =
    segments.length === 2 && segments[0] === "policies" && typeof value === "string"
      ? { use: value }
      : value;
  const visit = (node: unknown, depth: number, where: string): string | undefined => {
    const segment = segments[depth]!;
    if (Array.isArray(node)) {
      const indexes = segment === "*" ? node.map((_, i) => i) : [Number(segment)];
      if (!indexes.every((i) => Number.isInteger(i) && i >= 0 && i < node.length)) {
        return `${where} has ${node.length} item(s): expected an index below ${node.length} or *, got ${segment}`;
      }
      for (const i of indexes) {
        const problem = depth === last
          ? (node[i] = structuredClone(policyChoice), undefined)
          : visit(node[i], depth + 1, `${where}[${i}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    if (typeof node !== "object" || node === null) {
      return `${where} is ${JSON.stringify(node)}, not an object with fields`;
    }
    const record = node as Record<string, unknown>;
    if (depth === last) {
      record[segment] = structuredClone(policyChoice);
      return undefined;
    }
    if (record[segment] === undefined) record[segment] = {};
    return visit(record[segment], depth + 1, where === "" ? segment : `${where}.${segment}`);
  };
  return visit(root, 0, "");
}
