/**
 * What `PUT /v1/policies/{domain}` may run, and where. Code that arrives through the API is
 * hostile until proven otherwise, and only `process` isolation holds against hostile code (a
 * permission-less child process; `none` and `worker` share the server's process):
 *
 * - posted `source` runs only in `process`;
 * - `use` names a built-in (trusted: it runs where asked, by default where the server's
 *   `--isolation` says) or a published module, `npm:`, `jsr:` or `https:` (only in `process`);
 * - the server's files are not references a client may name: paths, `file:` URLs and plain
 *   `http:` URLs (which reach the server's own network) are refused.
 *
 * The same rules hold when `--resume` replays the audit log, so a swap an older server accepted
 * against them is refused, not run.
 *
 * @module
 */

import { BUILTIN_POLICIES } from "../../plugins/mod.ts";
import { isBuiltin } from "../simulation/loader.ts";
import type { Domain } from "../protocol/definition.ts";
import type { Isolation } from "../protocol/runtime.ts";
import type { PolicyRequest } from "./schemas.ts";

/** Where and how a policy request is loaded, once it passed the rules. */
export interface PolicyPlan {
  /** The built-in name or remote specifier (undefined for posted source). */
  use: string | undefined;
  /** Where it runs. */
  isolation: Isolation | undefined;
  /** Whether it is untrusted code (bundled without local files, errors without server paths). */
  untrusted: boolean;
}

/** A request the rules refuse: `where` is the body field, `message` what is allowed instead. */
export class PolicyRuleError extends Error {
  /**
   * Makes the error.
   *
   * @param message `field: expected …, got …`.
   */
  constructor(message: string) {
    super(message);
    this.name = "PolicyRuleError";
  }
}

const REMOTE = /^(?:npm|jsr|https):/;

/**
 * Checks a policy request against the rules above.
 *
 * @param domain The domain it is for.
 * @param request The validated request.
 * @param serverIsolation The server's `--isolation`, which applies to built-ins only.
 * @returns Where and how to load it.
 * @throws {PolicyRuleError} When the request breaks a rule.
 */
export function planPolicy(
  domain: Domain,
  request: PolicyRequest,
  serverIsolation: Isolation | undefined,
): PolicyPlan {
  const asked = request.isolation;
  if (request.source !== undefined) {
    if (asked !== undefined && asked !== "process") {
      throw new PolicyRuleError(
        `isolation: expected "process" for posted source (code sent through the API runs only in a permission-less child process), got "${asked}"`,
      );
    }
    return { use: undefined, isolation: "process", untrusted: true };
  }
  const use = request.use ?? "";
  if (isBuiltin(domain, use)) {
    return { use, isolation: asked ?? serverIsolation, untrusted: false };
  }
  if (REMOTE.test(use)) {
    if (asked !== undefined && asked !== "process") {
      throw new PolicyRuleError(
        `isolation: expected "process" for ${
          use.slice(0, use.indexOf(":"))
        }: policies (only built-ins run elsewhere), got "${asked}"`,
      );
    }
    return { use, isolation: "process", untrusted: true };
  }
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(use) || /[./\\]/.test(use)) {
    // Not echoed: it may be a path of the server's.
    throw new PolicyRuleError(
      `use: expected a built-in ${domain} policy (${
        Object.keys(BUILTIN_POLICIES[domain]).join(", ")
      }) or an npm:, jsr: or https: specifier; paths, file: and http: URLs are not accepted through the API`,
    );
  }
  // A bare name that is no built-in: the loader says which names there are.
  return { use, isolation: asked ?? serverIsolation, untrusted: false };
}
