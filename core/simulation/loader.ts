/**
 * Turning a policy reference (a built-in name, a path, an `npm:`, `https:` or `jsr:` specifier)
 * into a runtime ready to start.
 *
 * Every policy is bundled into one self-contained text identified by its sha256, which the report
 * records. Built-ins run in-process by default (they are trusted and fast); everything else runs in
 * a permission-less child process by default (`process`), the only isolation that holds against
 * hostile code. `--isolation` overrides both.
 *
 * A built-in run in-process needs only its bundle's hash, which comes from a cache while its
 * sources are unchanged (`bundle/identity.ts`): such a run loads neither the bundler
 * (esbuild) nor the sandboxes, which are imported when first needed.
 *
 * @module
 */

import { BUILTIN_POLICIES, FALLBACK_POLICIES } from "../../plugins/mod.ts";
import type { LoadedPolicy } from "../kernel/slot.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Isolation, PolicyRuntime } from "../protocol/runtime.ts";
import type { PolicyBundle } from "../bundle/bundle.ts";
import { type BundleIdentity, bundleIdentity, cachedBundle } from "../bundle/identity.ts";
import { InlineRuntime } from "../sandbox/inline.ts";
import type { SandboxOptions } from "../sandbox/options.ts";
import type { ReplaySession } from "../sandbox/replay.ts";
import { didYouMean } from "../engine/suggest.ts";
import { isModuleReference } from "../workload/policy_choice.ts";

/**
 * A policy reference that cannot be used (unknown name, missing file, unbundlable import).
 *
 * @example
 * ```ts
 * import { loadPolicy, PolicyReferenceError } from "./loader.ts";
 *
 * try {
 *   await loadPolicy("cpu", "round-robin");
 * } catch (error) {
 *   console.assert(error instanceof PolicyReferenceError); // Unknown cpu policy "round-robin": ...
 * }
 * ```
 */
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
  /** Heap cap, deadlines and message cap of the sandbox. */
  sandbox?: SandboxOptions;
  /**
   * The policy is untrusted code (posted through the HTTP API): it may import only `npm:`,
   * `jsr:`, public `https:` modules and the SDK, and errors name no server path (see
   * `BundleOptions.untrusted`). Default: false.
   */
  untrusted?: boolean;
  /**
   * Type-check a policy that is a local file before it runs (`deno check`, remembered by the hash
   * of its texts); a type error is a {@linkcode PolicyReferenceError} naming `file:line:col`.
   * Default: false (the CLI turns it on; `--no-check` off).
   */
  typeCheck?: boolean;
  /**
   * The run's replay sandbox: `process` policies get their answers from it (`createSimulation`
   * makes one per run).
   *
   * @ignore
   */
  replay?: ReplaySession;
}

const builtinBundles = new Map<string, Promise<PolicyBundle>>();
const builtinIdentities = new Map<string, Promise<BundleIdentity>>();

/** Whether `reference` names a built-in policy of `domain`. */
export function isBuiltin(domain: Domain, reference: string): boolean {
  return Object.hasOwn(BUILTIN_POLICIES[domain], reference);
}

function builtinBundle(domain: Domain, name: string): Promise<PolicyBundle> {
  const key = `${domain}/${name}`;
  let bundle = builtinBundles.get(key);
  if (bundle === undefined) {
    const url = BUILTIN_POLICIES[domain][name]!.url;
    bundle = url.protocol === "file:" ? localBundle(url.pathname) : bundlePolicy(url.href);
    builtinBundles.set(key, bundle);
  }
  return bundle;
}

/** The hash and size of a built-in's bundle: from the cache while its sources are unchanged. */
function builtinIdentity(domain: Domain, name: string): Promise<BundleIdentity> {
  const key = `${domain}/${name}`;
  let identity = builtinIdentities.get(key);
  if (identity === undefined) {
    const url = BUILTIN_POLICIES[domain][name]!.url;
    identity = url.protocol === "file:"
      ? bundleIdentity(url.pathname)
      : builtinBundle(domain, name);
    builtinIdentities.set(key, identity);
  }
  return identity;
}

/** A local module's bundle, from the bundle cache while its files are unchanged. */
function localBundle(path: string, reference = path): Promise<PolicyBundle> {
  return cachedBundle(path, { reference });
}

async function bundlePolicy(
  reference: string,
  options: { untrusted?: boolean; onRead?: (path: string, text: string) => void } = {},
): Promise<PolicyBundle> {
  return await (await import("../bundle/bundle.ts")).bundlePolicy(reference, options);
}

/**
 * Bundles a policy reference: a built-in name or a module reference.
 *
 * @param domain The policy's domain (for built-in names).
 * @param reference A built-in name, a path, or an `npm:`, `jsr:`, `https:` or `file:` specifier.
 * @param options `untrusted`: bundle it as untrusted code; its errors then do not name
 *   `reference` (for posted source, a file the server wrote).
 * @throws {PolicyReferenceError} For an unknown name, a missing module or an import that cannot be
 *   bundled (the message names it).
 */
export async function bundleReference(
  domain: Domain,
  reference: string,
  options: { untrusted?: boolean; typeCheck?: boolean } = {},
): Promise<PolicyBundle> {
  if (isBuiltin(domain, reference)) return await builtinBundle(domain, reference);
  if (!isModuleReference(reference)) {
    const known = Object.keys(BUILTIN_POLICIES[domain]);
    throw new PolicyReferenceError(
      `Unknown ${domain} policy "${reference}"${didYouMean(reference, known)}: expected one of ${
        known.join(", ")
      }, or a path or npm:, jsr:, https: specifier of a policy module`,
    );
  }
  const untrusted = options.untrusted ?? false;
  // Only a local file is checked: a published package was checked when it was published.
  const check = options.typeCheck === true && !untrusted && !/^(npm|jsr|https?):/.test(reference);
  const texts: [string, string][] = [];
  // node:path only here: a built-in run loads none of node's compatibility layer.
  const { resolve } = await import("node:path");
  let bundle: PolicyBundle;
  try {
    const onRead = check
      ? (path: string, text: string) => void texts.push([path, text])
      : undefined;
    // A trusted local path: from the bundle cache (no esbuild start) while its files are unchanged.
    bundle = !untrusted && !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(reference)
      ? await cachedBundle(resolve(reference), { reference, onRead })
      : await bundlePolicy(reference, { untrusted, onRead });
  } catch (error) {
    const message = (error as Error).message.replace(/^Cannot bundle policy(?: \S+)?: /, "");
    throw new PolicyReferenceError(`Policy${untrusted ? "" : ` ${reference}`}: ${message}`);
  }
  if (check) {
    const { checkPolicyTypes } = await import("../bundle/type_check.ts");
    const path = reference.startsWith("file:") ? new URL(reference).pathname : resolve(reference);
    try {
      await checkPolicyTypes(path, texts);
    } catch (error) {
      throw new PolicyReferenceError((error as Error).message);
    }
  }
  return bundle;
}

/**
 * Loads a policy for `domain`: bundles it, and creates its runtime (not yet started).
 *
 * @example
 * ```ts ignore
 * import { loadPolicy } from "./loader.ts";
 * const loaded = await loadPolicy("cpu", "rr", { config: { quantum: "4ms" } });
 * console.log(loaded.info.sha256, loaded.info.isolation); // ..., "none"
 * ```
 *
 * @throws {PolicyReferenceError} For an unknown name, a missing module or an unbundlable import.
 */
export async function loadPolicy(
  domain: Domain,
  reference: string,
  options: LoadOptions = {},
): Promise<LoadedPolicy> {
  const config = options.config ?? {};
  const builtin = isBuiltin(domain, reference);
  const isolation = options.isolation ?? (builtin ? "none" : "process");
  let runtime: PolicyRuntime, sha256: string;
  if (builtin && isolation === "none") {
    // A trusted built-in in-process skips the import of its own bundle: same code, already loaded.
    sha256 = (await builtinIdentity(domain, reference)).sha256;
    runtime = new InlineRuntime(BUILTIN_POLICIES[domain][reference]!.definition, options.sandbox);
  } else {
    // The replay sandbox starts while the policy is bundled.
    if (isolation === "process") options.replay?.prepare();
    const bundle = await bundleReference(domain, reference, {
      untrusted: options.untrusted,
      typeCheck: options.typeCheck,
    });
    sha256 = bundle.sha256;
    runtime = isolation === "process" && options.replay !== undefined
      ? await options.replay.runtime(domain, bundle)
      : (await import("../sandbox/mod.ts")).createRuntime(isolation, bundle, options.sandbox);
  }
  return {
    runtime,
    info: {
      name: builtin ? BUILTIN_POLICIES[domain][reference]!.definition.name : reference,
      sha256,
      isolation,
      config,
      reference,
    },
    config,
  };
}

/**
 * The fallback of a domain: its trusted built-in, in-process, with its default config. Synchronous:
 * it takes over in the instant its predecessor is ejected.
 */
export function loadFallback(domain: Domain): LoadedPolicy {
  const name = FALLBACK_POLICIES[domain];
  const builtin = BUILTIN_POLICIES[domain][name];
  if (builtin === undefined) throw new Error(`No fallback policy for the ${domain} domain`);
  return {
    runtime: new InlineRuntime(builtin.definition, { trusted: true }),
    info: { name, sha256: "", isolation: "none", config: {}, reference: name },
    config: {},
  };
}
