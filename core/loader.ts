/**
 * Turning a policy reference (a built-in name, a path, an `npm:`, `https:` or `jsr:` specifier)
 * into a runtime ready to start.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { resolve, toFileUrl } from "./_path.ts";
import { BUILTIN_POLICIES, FALLBACK_POLICIES } from "../plugins/mod.ts";
import type { LoadedPolicy } from "./kernel/slot.ts";
import {
  API_VERSION,
  type Domain,
  isPolicyDefinition,
  type PolicyDefinition,
} from "./policy/protocol.ts";
import { InProcessRuntime, type Isolation } from "./sandbox/runtime.ts";

/** A policy reference that cannot be used (unknown name, missing file, wrong domain). */
export class PolicyReferenceError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong and what was expected.
   */
  constructor(message: string) {
    super(message);
    this.name = "PolicyReferenceError";
  }
}

/** Options of {@linkcode loadPolicy}. */
export interface LoadOptions {
  /** Where to run it; default `none` for built-ins, `process` for everything else. */
  isolation?: Isolation;
  /** The user's configuration for it. */
  config?: Record<string, unknown>;
}

const sourceHashes = new Map<string, string>();

async function hashOf(url: URL): Promise<string> {
  let hash = sourceHashes.get(url.href);
  if (hash === undefined) {
    const text = await (await fetch(url)).text();
    hash = createHash("sha256").update(text).digest("hex");
    sourceHashes.set(url.href, hash);
  }
  return hash;
}

/** Whether `reference` names a built-in policy of `domain`. */
export function isBuiltin(domain: Domain, reference: string): boolean {
  return Object.hasOwn(BUILTIN_POLICIES[domain], reference);
}

/** Checks that a module's default export is a policy of the right domain and protocol. */
export function checkDefinition(
  value: unknown,
  domain: Domain,
  reference: string,
): PolicyDefinition {
  if (!isPolicyDefinition(value)) {
    throw new PolicyReferenceError(
      `Policy ${reference}: its default export is not a policy (expected the result of defineCpuPolicy or a sibling)`,
    );
  }
  if (Math.trunc(value.apiVersion) !== API_VERSION) {
    throw new PolicyReferenceError(
      `Policy ${reference} was built for hook protocol v${value.apiVersion}; this kernel speaks v${API_VERSION}`,
    );
  }
  if (value.domain !== domain) {
    throw new PolicyReferenceError(
      `Policy ${reference} is a ${value.domain} policy; expected a ${domain} policy`,
    );
  }
  return value;
}

/**
 * Loads a policy for `domain`.
 *
 * @throws {PolicyReferenceError} For an unknown name, a missing module or a policy of another domain.
 */
export async function loadPolicy(
  domain: Domain,
  reference: string,
  options: LoadOptions = {},
): Promise<LoadedPolicy> {
  const config = options.config ?? {};
  if (isBuiltin(domain, reference)) {
    const builtin = BUILTIN_POLICIES[domain][reference]!;
    const isolation = options.isolation ?? "none";
    if (isolation !== "none") {
      throw new PolicyReferenceError(
        `Isolation ${isolation} is not available yet; expected none`,
      );
    }
    return {
      runtime: new InProcessRuntime(builtin.definition),
      info: {
        name: builtin.definition.name,
        sha256: await hashOf(builtin.url),
        isolation,
        config,
        reference,
      },
      config,
    };
  }
  if (!/[./\\]/.test(reference) && !/^(npm|jsr|https?|file):/.test(reference)) {
    const known = Object.keys(BUILTIN_POLICIES[domain]);
    throw new PolicyReferenceError(
      `Unknown ${domain} policy "${reference}": expected one of ${
        known.join(", ")
      }, or a path or specifier of a policy module`,
    );
  }
  const isolation = options.isolation ?? "none";
  if (isolation !== "none") {
    throw new PolicyReferenceError(`Isolation ${isolation} is not available yet; expected none`);
  }
  const url = /^(npm|jsr|https?|file):/.test(reference)
    ? new URL(reference)
    : toFileUrl(resolve(reference));
  let module: { default?: unknown };
  try {
    module = await import(url.href);
  } catch (error) {
    throw new PolicyReferenceError(
      `Policy ${reference}: cannot load it (${(error as Error).message})`,
    );
  }
  const definition = checkDefinition(module.default, domain, reference);
  return {
    runtime: new InProcessRuntime(definition),
    info: {
      name: definition.name,
      sha256: url.protocol === "file:" ? await hashOf(url) : "",
      isolation,
      config,
      reference,
    },
    config,
  };
}

/** The fallback of a domain: its trusted built-in, in-process, with its default config. */
export function loadFallback(domain: Domain): LoadedPolicy {
  const name = FALLBACK_POLICIES[domain];
  const builtin = BUILTIN_POLICIES[domain][name];
  if (builtin === undefined) throw new Error(`No fallback policy for the ${domain} domain`);
  return {
    runtime: new InProcessRuntime(builtin.definition),
    info: {
      name,
      sha256: sourceHashes.get(builtin.url.href) ?? "",
      isolation: "none",
      config: {},
      reference: name,
    },
    config: {},
  };
}
