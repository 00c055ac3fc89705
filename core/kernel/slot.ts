/**
 * A domain's policy slot: the policy in charge, its runtime, the batch being gathered for it, and
 * what happens when it fails (an incident, then the fallback takes over at once).
 *
 * @module
 */

import type { Domain, StartResult } from "../protocol/definition.ts";
import { BatchWriter } from "../protocol/batch.ts";
import type { Isolation, PolicyRuntime } from "../protocol/runtime.ts";

/** How a report names a policy. */
export interface PolicyInfo {
  /** The policy's name (from its definition). */
  name: string;
  /** sha256 of the code that ran (the bundle), or of the built-in module. */
  sha256: string;
  /** Where it ran. */
  isolation: Isolation;
  /** The configuration after defaults. */
  config: Record<string, unknown>;
  /** How the user referred to it (`rr`, `./my_policy.ts`, `npm:…`). */
  reference: string;
}

/** A policy ready to start: its runtime and how to name it. */
export interface LoadedPolicy {
  /** The runtime hosting it (not yet started). */
  runtime: PolicyRuntime;
  /** Name, hash, isolation and reference (config is filled in at start). */
  info: PolicyInfo;
  /** The user's configuration, validated by the policy at start. */
  config: Record<string, unknown>;
}

/** Something went wrong with a policy; the run goes on with the fallback. */
export interface Incident {
  /** Simulated time of the ejection. */
  atNs: number;
  /** The domain whose policy was ejected. */
  domain: Domain;
  /** The ejected policy's name. */
  policy: string;
  /** `error`, `invalid`, `stall`, `crash`, `oom` or `unregistered`. */
  kind: string;
  /** A short machine-readable reason. */
  reason: string;
  /** What happened, for people. */
  message: string;
  /** The hook that threw (`dispatch`, `enqueue`, …), when the policy's SDK said which. */
  hook?: string;
  /** That hook's arguments by name (pCPU, vCPU, VM and request indices, ns, reasons). */
  args?: Record<string, number | string>;
  /**
   * Where in the policy's own source it threw, innermost first, e.g. `dispatch (my_policy.ts:42:13)`
   * (mapped through the bundle's source map; the SDK's and the sandbox's frames left out).
   */
  stack?: string[];
}

/** The policy currently in charge of one domain. */
export class PolicySlot {
  /** The domain. */
  readonly domain: Domain;
  /** The calls gathered for the next batch. */
  readonly writer: BatchWriter = new BatchWriter();
  /** The runtime in charge. */
  runtime: PolicyRuntime;
  /** How reports name it. */
  info: PolicyInfo;
  /** What it declared at start. */
  declared: StartResult = { name: "", config: {}, hooks: [] };
  /** Bumped at every change of policy: stale ticks and replies are recognised by it. */
  generation = 0;
  /** Whether the policy in charge is the one the user asked for (not a fallback). */
  underTest = true;
  #hooks = new Set<string>();
  /** What an observer wraps every runtime in (see {@linkcode PolicySlot.watch}). */
  #wrap: ((runtime: PolicyRuntime) => PolicyRuntime) | undefined = undefined;

  /** @param domain The domain. @param loaded The first policy. */
  constructor(domain: Domain, loaded: LoadedPolicy) {
    this.domain = domain;
    this.runtime = loaded.runtime;
    this.info = loaded.info;
  }

  /** Whether the policy in charge defines hook `name`. */
  has(name: string): boolean {
    return this.#hooks.has(name);
  }

  /** Records what a freshly started policy declared, and makes it the one in charge. */
  install(runtime: PolicyRuntime, info: PolicyInfo, declared: StartResult): void {
    this.runtime = this.#wrap === undefined ? runtime : this.#wrap(runtime);
    this.info = { ...info, name: declared.name, config: declared.config };
    this.declared = declared;
    this.#hooks = new Set(declared.hooks);
    this.generation++;
    this.writer.clear();
  }

  /**
   * Wraps the runtime in charge, and every one installed later (fallbacks, restarts, swaps), in
   * `wrap`: an observer's runtime that hears each batch and hands it on. A run nobody watches
   * pays nothing.
   */
  watch(wrap: (runtime: PolicyRuntime) => PolicyRuntime): void {
    const inner = this.#wrap;
    this.#wrap = inner === undefined ? wrap : (runtime) => wrap(inner(runtime));
    this.runtime = wrap(this.runtime);
  }
}
