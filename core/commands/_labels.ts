/**
 * How a comparison names its runs: by each policy's declared name (`lottery`, not
 * `examples/policies/lottery.ts`), with the reference the user gave only to tell apart runs whose
 * policies declare the same name, and a number when even that is the same.
 *
 * @module
 */

import type { Domain } from "../protocol/definition.ts";
import type { Report } from "../report/report.ts";
import { UsageError } from "./common.ts";

/**
 * The label of each run of a comparison of `domain`'s policies, in order: the declared name; for
 * runs sharing one, the reference they were given; for runs sharing that too, ` #n` after it.
 *
 * @param reports The runs' reports.
 * @param references The policy references the runs were given (the `--cpu a,b` list).
 * @param domain The compared domain.
 */
export function comparisonLabels(
  reports: readonly Report[],
  references: readonly string[],
  domain: Domain,
): string[] {
  const named = reports.map((report, i) => report.policies[domain]?.name ?? references[i]!);
  const labels = named.map((name, i) =>
    named.filter((other) => other === name).length > 1 ? references[i]! : name
  );
  const seen = new Map<string, number>();
  return labels.map((label) => {
    if (labels.filter((other) => other === label).length === 1) return label;
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return `${label} #${n}`;
  });
}

/** A label as a file name: anything but letters, digits, `_`, `.` and `-` becomes `_`. */
export function labelFile(label: string): string {
  return label.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

/**
 * The policies of a `--cpu a,b,c` list; an empty item (`rr,,credit`, a trailing comma) is refused
 * rather than skipped, as it is most likely a policy left out.
 *
 * @throws {UsageError} For an empty list or an empty item, naming its position.
 */
export function policyList(domain: Domain, text: string): string[] {
  const names = text.split(",").map((name) => name.trim());
  const empty = names.findIndex((name) => name === "");
  if (empty >= 0) {
    throw new UsageError(
      names.length === 1
        ? `--${domain}: expected a comma-separated list of policies, got nothing`
        : `--${domain}: expected a policy at position ${empty + 1} of "${text}", got nothing`,
    );
  }
  return names;
}
