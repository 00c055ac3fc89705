/**
 * `hyperhook bundle <policy>`: bundle a policy into one self-contained module and print its
 * sha256 and size: exactly the code a sandbox would load, and the hash a report would record.
 *
 * @module
 */

import { bundleReference, isBuiltin } from "../simulation/loader.ts";
import type { Domain } from "../protocol/definition.ts";
import { EXIT, parseFlags, UsageError, writeOutput } from "./common.ts";

/** Usage of `bundle`. */
export const BUNDLE_USAGE =
  `hyperhook bundle <policy> [--domain D] [--out FILE] [--format text|json]
  <policy>      a built-in name, a path, or an npm:, jsr:, https: specifier
  --domain D    the domain of a built-in name (cpu, memory or io; fcfs is both cpu and io)
  --out FILE    also write the bundled module to FILE
  --format F    text (default) or json`;

const DOMAINS: Domain[] = ["cpu", "memory", "io"];

/** Runs the `bundle` subcommand; returns the exit code. */
export async function bundleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    out: { type: "string" },
    format: { type: "string" },
    domain: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(BUNDLE_USAGE);
    return EXIT.OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`bundle: expected one policy, got ${positionals.length}`);
  }
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--format: expected text or json, got ${format}`);
  }
  if (values.domain !== undefined && !DOMAINS.includes(values.domain as Domain)) {
    throw new UsageError(`--domain: expected one of ${DOMAINS.join(", ")}, got ${values.domain}`);
  }
  const reference = positionals[0]!;
  const domain = (values.domain as Domain | undefined) ??
    DOMAINS.find((d) => isBuiltin(d, reference)) ?? "cpu";
  const bundle = await bundleReference(domain, reference);
  if (typeof values.out === "string") await writeOutput(values.out, bundle.code);
  if (format === "json") {
    console.log(JSON.stringify({ reference, sha256: bundle.sha256, bytes: bundle.bytes }));
  } else {
    console.log(`${bundle.sha256}  ${bundle.bytes} bytes  ${reference}`);
  }
  return EXIT.OK;
}
