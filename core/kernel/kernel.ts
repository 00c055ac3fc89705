/**
 * The kernel: a deterministic discrete-event simulation in integer nanoseconds. It owns the
 * virtual clock, the event queue, the seeded PRNG and the decision log, and drives the domains.
 *
 * At every simulated instant the kernel handles all events of that instant, then asks each domain
 * to *settle*: the domain gathers the queries it needs answered (a pCPU needs work, a fault needs a
 * victim) into its policy's batch, behind the notifications gathered since the last batch. One
 * batch per domain crosses to the policy; the replies are validated and applied; an invalid or
 * failed policy is ejected and the domain's fallback takes over in the same instant.
 *
 * The kernel is sans-I/O: with in-process policies it never awaits, so it runs at full speed;
 * with sandboxed ones it awaits one reply per batch.
 *
 * @module
 */

import { DecisionLog, LOG } from "../engine/decision_log.ts";
import { DOUBLE } from "../engine/double_fields.ts";
import { EventQueue } from "../engine/event_queue.ts";
import { Rng } from "../engine/rng.ts";
import type { Domain, StartResult } from "../protocol/definition.ts";
import type { Reply } from "../protocol/batch.ts";
import { asFailure, PolicyFailure } from "../protocol/runtime.ts";
import { describeCall } from "../protocol/calls.ts";
import { wrongDomainMessage } from "../protocol/messages.ts";
import type { Incident, LoadedPolicy } from "./slot.ts";
import type { KernelDomain } from "./domain.ts";

export type { KernelDomain } from "./domain.ts";

/**
 * A configuration error found when a policy started: the run cannot go on (exit 2).
 *
 * @example
 * ```ts
 * import { PolicyConfigError } from "./kernel.ts";
 * import { simulate } from "../simulation/mod.ts";
 * import { parseWorkload } from "../workload/load.ts";
 *
 * const workload = parseWorkload({
 *   schema: "hyperhook.workload/v1", name: "one", host: { pcpus: 1 },
 *   vms: [{ id: "a", cpu: { program: [{ run: "5ms" }] } }],
 * });
 * try {
 *   await simulate(workload, { policies: { cpu: { use: "rr", config: { quantum: "fast" } } } });
 * } catch (error) {
 *   console.assert(error instanceof PolicyConfigError); // the CLI exits 2
 * }
 * ```
 */
export class PolicyConfigError extends Error {
  /**
   * Creates the error.
   *
   * @param message Names the policy, the key and what was expected.
   */
  constructor(message: string) {
    super(message);
    this.name = "PolicyConfigError";
  }
}

/** Options of a kernel. */
export interface KernelOptions {
  /** The workload seed. */
  seed: number;
  /** Stop at this simulated time (default: when all finite work is done). */
  stopAtNs?: number;
  /** The watchdog: eject a policy that leaves a runnable vCPU unrun this long (default 30 s). */
  stallNs?: number;
  /** Makes the fallback policy of a domain (a trusted built-in, in-process). */
  fallback: (domain: Domain) => LoadedPolicy;
  /** Called at every incident (the CLI prints one line on stderr). */
  onIncident?: (incident: Incident) => void;
  /**
   * Turns the stack of what a policy threw into the frames of its own source (the bundle's source
   * map: `bundle/source_map.ts`); without it, incidents carry no stack.
   */
  mapStack?: (stack: string, sha256: string) => string[];
  /** Receives the decision log as text, one line per decision (slow). */
  logSink?: (line: string) => void;
  /** How many times an ejected policy under test is restarted (default 0). */
  restarts?: number;
  /** The first restart's delay in simulated ns; it doubles at each restart (default 1 s). */
  restartBackoffNs?: number;
  /** Loads a fresh copy of a domain's policy under test (needed for restarts). */
  reload?: (domain: Domain) => Promise<LoadedPolicy>;
}

/** Whether an `advance` of this process has stopped at its limit (see `advance`). */
let limitTaken = false;

/** How many settle rounds one instant may take before the kernel calls it a livelock. */
const MAX_ROUNDS = 100_000;

/** The simulation kernel. Domains register with it; `advance` runs the clock. */
export class Kernel {
  /** The current simulated time (ns). */
  now = DOUBLE;
  /** The event queue. */
  readonly queue: EventQueue = new EventQueue();
  /** The decision log; its digest is the run's `eventsHash`. */
  readonly log: DecisionLog;
  /** The root PRNG; domains and programs fork their own streams from it. */
  readonly rng: Rng;
  /** Everything that went wrong with policies, in order. */
  readonly incidents: Incident[] = [];
  /** The domains, in the order they settle. */
  readonly domains: KernelDomain[] = [];
  /** Finite work not yet done (a counter the domains keep); the run ends when it reaches 0. */
  pendingWork = 0;
  /** When the run stops, if fixed. */
  readonly stopAtNs: number | undefined;
  /** The watchdog timeout. */
  readonly stallNs: number;
  #handlers: KernelDomain[] = [];
  #replies: (Reply | Promise<Reply> | undefined)[] = [];
  #options: KernelOptions;
  #closing: Promise<void>[] = [];
  #restarted = new Map<Domain, number>();
  /** Ejected policies under test waiting for their restart, with their names for incidents. */
  #pendingRestarts: { domain: KernelDomain; atNs: number; policy: string }[] = [];
  #ended = false;
  /** The domain that asked to go on in this instant (`again`), or null. */
  #again: KernelDomain | null = null;

  /** @param options Seed, stop time, watchdog, fallback factory, incident callback. */
  constructor(options: KernelOptions) {
    this.#options = options;
    this.now = 0; // a double from the start (`double_fields.ts`)
    this.rng = new Rng(options.seed);
    this.stopAtNs = options.stopAtNs;
    this.stallNs = options.stallNs ?? 30_000_000_000;
    this.log = new DecisionLog(options.logSink);
  }

  /** Registers a domain and reserves `eventKinds` event kinds for it; returns the first. */
  register(domain: KernelDomain, eventKinds: number): number {
    const base = this.#handlers.length;
    for (let i = 0; i < eventKinds; i++) this.#handlers.push(domain);
    this.domains.push(domain);
    return base;
  }

  /** Queues an event. */
  schedule(atNs: number, kind: number, target: number, tag = 0): void {
    this.queue.push(atNs, kind, target, tag);
  }

  /**
   * Calls `domain.again` once the current instant is settled: what an event queued now, at the
   * current time, would do, without queueing it when no other event of the instant is left (the
   * memory domain goes on issuing references after a fault's answer this way).
   */
  again(domain: KernelDomain): void {
    if (this.#again !== null && this.#again !== domain) {
      throw new Error(`Kernel.again: ${this.#again.name} asked first in this instant`);
    }
    this.#again = domain;
  }

  /**
   * Starts every domain's policy. A policy that fails to start is ejected (an incident) and the
   * fallback takes over; a configuration error stops the run.
   *
   * @throws {PolicyConfigError} When a policy refuses its configuration.
   */
  async start(policies: Partial<Record<Domain, LoadedPolicy>>): Promise<void> {
    for (const domain of this.domains) {
      const loaded = policies[domain.name] ?? this.#options.fallback(domain.name);
      domain.slot.underTest = policies[domain.name] !== undefined;
      try {
        const declared = await loaded.runtime.start({
          config: loaded.config,
          seed: this.#policySeed(domain.name),
          host: domain.host(),
          domain: domain.name,
        });
        checkDomain(declared, domain.name);
        domain.check?.(declared);
        domain.slot.install(loaded.runtime, loaded.info, declared);
        domain.installed();
      } catch (error) {
        if (error instanceof PolicyConfigError) {
          await loaded.runtime.close();
          throw error;
        }
        if (error instanceof PolicyFailure && error.reason === "config") {
          await loaded.runtime.close();
          throw new PolicyConfigError(error.message.replace(/^\w*Error: /, ""));
        }
        domain.slot.install(loaded.runtime, loaded.info, {
          name: loaded.info.name,
          config: loaded.config,
          hooks: [],
        });
        this.eject(domain, asFailure(error, "throw"));
      }
    }
  }

  /**
   * Says where a policy failed: the hook that threw and its arguments, read from the kernel's own
   * batch (still in the domain's writer), and the stack mapped to the policy's source.
   */
  #locate(domain: KernelDomain, failure: PolicyFailure, incident: Incident): void {
    const writer = domain.slot.writer;
    if (failure.call !== undefined && failure.hookCall === undefined) {
      failure.hookCall = describeCall(domain.name, writer.nums, writer.length, failure.call);
    }
    if (failure.hookCall !== undefined) {
      incident.hook = failure.hookCall.hook;
      // A vCPU is named with its VM, right after it.
      const args: Record<string, number | string> = {};
      for (const [name, value] of Object.entries(failure.hookCall.args)) {
        args[name] = value;
        const vm = name === "vcpu" ? domain.vmOfVcpu?.(value as number) : undefined;
        if (vm !== undefined) args.vm = vm;
      }
      incident.args = args;
    }
    const stack = failure.policyStack, mapStack = this.#options.mapStack;
    if (stack !== undefined && mapStack !== undefined) {
      const frames = mapStack(stack, domain.slot.info.sha256);
      if (frames.length > 0) incident.stack = frames;
    }
  }

  #policySeed(domain: Domain): number {
    return this.rng.fork(`policy:${domain}`).seed;
  }

  /**
   * Records an incident, stops the failed policy and hands the domain to its fallback, in the
   * current instant.
   */
  eject(domain: KernelDomain, failure: PolicyFailure): void {
    const slot = domain.slot;
    const incident: Incident = {
      atNs: this.now,
      domain: domain.name,
      policy: slot.info.name,
      kind: failure.kind,
      reason: failure.reason,
      message: failure.message,
    };
    this.#locate(domain, failure, incident);
    this.incidents.push(incident);
    this.log.record(LOG.kernel, 1, this.now, this.domains.indexOf(domain), slot.generation, 0);
    this.#options.onIncident?.(incident);
    const closing = slot.runtime.close();
    if (closing instanceof Promise) this.#closing.push(closing.catch(() => {}));
    const fallback = this.#options.fallback(domain.name);
    const declared = fallback.runtime.start({
      config: fallback.config,
      seed: this.#policySeed(domain.name),
      host: domain.host(),
    });
    if (declared instanceof Promise) {
      throw new Error(`The fallback policy of the ${domain.name} domain must run in-process`);
    }
    const wasUnderTest = slot.underTest;
    slot.install(fallback.runtime, fallback.info, declared);
    slot.underTest = false;
    domain.replay();
    domain.installed();
    this.#planRestart(domain, wasUnderTest, incident.policy);
  }

  /** How many times each domain's policy under test was restarted. */
  get restarts(): ReadonlyMap<Domain, number> {
    return this.#restarted;
  }

  #planRestart(domain: KernelDomain, wasUnderTest: boolean, policy: string): void {
    const done = this.#restarted.get(domain.name) ?? 0;
    const allowed = this.#options.restarts ?? 0;
    if (!wasUnderTest || this.#options.reload === undefined || done >= allowed) return;
    const backoff = (this.#options.restartBackoffNs ?? 1_000_000_000) * 2 ** done;
    this.#pendingRestarts.push({ domain, atNs: this.now + backoff, policy });
    this.#pendingRestarts.sort((x, y) => x.atNs - y.atNs);
  }

  /** Restarts the policies whose back-off ended by `t`, at the instant their back-off ends. */
  async #restartDue(t: number): Promise<void> {
    while (this.#pendingRestarts.length > 0 && this.#pendingRestarts[0]!.atNs <= t) {
      const { domain, atNs, policy } = this.#pendingRestarts.shift()!;
      this.now = Math.max(this.now, atNs);
      this.#restarted.set(domain.name, (this.#restarted.get(domain.name) ?? 0) + 1);
      try {
        await this.swap(domain.name, await this.#options.reload!(domain.name));
      } catch (error) {
        this.#failedRestart(domain, policy, error);
      }
    }
  }

  /** Records a restart that failed (naming the policy, not the fallback still in charge). */
  #failedRestart(domain: KernelDomain, policy: string, error: unknown): void {
    const failure = asFailure(error, "throw");
    const incident: Incident = {
      atNs: this.now,
      domain: domain.name,
      policy,
      kind: failure.kind,
      reason: `restart-${failure.reason}`,
      message: `Restarting the policy failed: ${failure.message}`,
    };
    this.incidents.push(incident);
    this.#options.onIncident?.(incident);
    this.#planRestart(domain, true, policy);
  }

  /**
   * Hands a domain to a new policy without a gap (ghOSt-style): the new policy is loaded and
   * started first; if that fails, the old one keeps running and the failure is thrown. Then the
   * domain's state is replayed into it and it takes over at this instant boundary. Call it only
   * between `advance` calls.
   *
   * @throws {PolicyFailure} When the new policy fails to load or start (the old one stays).
   * @throws {PolicyConfigError} When the new policy refuses its configuration.
   */
  async swap(name: Domain, loaded: LoadedPolicy): Promise<void> {
    const domain = this.domains.find((d) => d.name === name);
    if (domain === undefined) throw new Error(`This kernel has no ${name} domain`);
    let declared;
    try {
      declared = await loaded.runtime.start({
        config: loaded.config,
        seed: this.#policySeed(name),
        host: domain.host(),
        domain: name,
      });
    } catch (error) {
      await loaded.runtime.close();
      if (error instanceof PolicyFailure && error.reason === "config") {
        throw new PolicyConfigError(error.message.replace(/^\w*Error: /, ""));
      }
      throw asFailure(error, "throw");
    }
    try {
      checkDomain(declared, name);
      domain.check?.(declared);
    } catch (error) {
      await loaded.runtime.close();
      throw error;
    }
    const old = domain.slot.runtime;
    domain.slot.install(loaded.runtime, loaded.info, declared);
    domain.slot.underTest = true;
    this.log.record(
      LOG.kernel,
      2,
      this.now,
      this.domains.indexOf(domain),
      domain.slot.generation,
      0,
    );
    domain.replay();
    domain.installed();
    const closing = old.close();
    if (closing instanceof Promise) await closing.catch(() => {});
  }

  /** Whether the run is over: past `stopAt`, or all finite work done when there is no `stopAt`. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Runs the simulation up to `limitNs` (default: to the end). Returns once the clock reached the
   * limit or the run ended.
   */
  advance(limitNs = Infinity): Promise<void> | void {
    if (!limitTaken && limitNs > this.now) {
      // The first call of the process stops once at the current instant: the loop below is
      // optimized within its first limit, and code optimized before a path first runs (no type
      // feedback) is thrown away when it does. Advancing to now, then on, is advancing on.
      limitTaken = true;
      const first = this.advance(this.now);
      if (first !== undefined) return first.then(() => this.advance(limitNs));
    }
    const queue = this.queue, handlers = this.#handlers;
    const stopAt = this.stopAtNs ?? Infinity;
    // A domain that asked to go on in the instant an answer was awaited in goes first.
    const going = this.#goOn();
    if (going !== undefined) return going.then(() => this.advance(limitNs));
    while (!this.#ended) {
      if (this.stopAtNs === undefined && this.pendingWork <= 0) {
        this.#end(this.now);
        break;
      }
      const t = queue.peekTime();
      const restart = this.#pendingRestarts[0];
      if (restart !== undefined && restart.atNs <= Math.min(t, stopAt, limitNs)) {
        return this.#restartDue(Math.min(t, stopAt, limitNs)).then(() => this.advance(limitNs));
      }
      if (t > stopAt || t === Infinity) {
        if (limitNs >= stopAt) this.#end(stopAt === Infinity ? this.now : stopAt);
        else this.now = Math.max(this.now, limitNs);
        break;
      }
      if (t > limitNs) {
        this.now = Math.max(this.now, limitNs);
        break;
      }
      this.now = t;
      while (queue.peekTime() === t) {
        queue.pop();
        const domain = handlers[queue.kind]!;
        try {
          domain.onEvent(queue.kind, queue.target, queue.tag);
        } catch (error) {
          if (!(error instanceof PolicyFailure)) throw error;
          this.eject(domain, error);
        }
      }
      const settling = this.#settle() ?? this.#goOn();
      if (settling !== undefined) return settling.then(() => this.advance(limitNs));
    }
  }

  /**
   * Runs what a domain asked to do again in this instant (`again`), settling after each, as the
   * loop of `advance` would run an event queued at the current time: directly when that event
   * would come next (no other event of the instant, the run goes on, no restart is due), else
   * the domain queues it.
   */
  #goOn(): Promise<void> | undefined {
    while (this.#again !== null) {
      const domain = this.#again, now = this.now;
      this.#again = null;
      const next = this.#pendingRestarts[0]?.atNs ?? Infinity;
      const direct = this.queue.peekTime() > now && next > now &&
        !(this.stopAtNs === undefined && this.pendingWork <= 0);
      try {
        domain.again!(direct);
      } catch (error) {
        if (!(error instanceof PolicyFailure)) throw error;
        this.eject(domain, error);
      }
      if (!direct) return undefined;
      const settling = this.#settle();
      if (settling !== undefined) return settling;
    }
    return undefined;
  }

  /** Settles the current instant; returns a promise only when a sandboxed policy must answer. */
  #settle(): Promise<void> | undefined {
    const replies = this.#replies;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      for (const domain of this.domains) domain.settle();
      let asked = false, waiting: Promise<unknown>[] | undefined;
      for (let i = 0; i < this.domains.length; i++) {
        const domain = this.domains[i]!, writer = domain.slot.writer;
        replies[i] = undefined;
        if (writer.queries === 0 && writer.length < FLUSH_AT) {
          // Notifications piling up go ahead to a runtime that takes them early (`process`).
          if (writer.length - writer.streamed >= STREAM_AT) domain.slot.runtime.stream?.(writer);
          continue;
        }
        asked = true;
        try {
          const reply = domain.slot.runtime.handle(writer);
          replies[i] = reply;
          if (reply instanceof Promise) (waiting ??= []).push(reply.catch(() => {}));
        } catch (error) {
          this.eject(domain, asFailure(error, "throw"));
        }
      }
      if (!asked) return undefined;
      if (waiting !== undefined) {
        const pending = replies.slice();
        return Promise.all(waiting).then(async () => {
          await this.#applyAll(pending);
          const more = this.#settle();
          if (more !== undefined) await more;
        });
      }
      this.#applyReplies(replies as (Reply | undefined)[]);
    }
    const domain = this.domains.find((d) => d.slot.writer.queries > 0) ?? this.domains[0]!;
    this.eject(
      domain,
      new PolicyFailure("stall", "livelock", `The policy kept the kernel busy at ${this.now} ns`),
    );
    return undefined;
  }

  async #applyAll(replies: (Reply | Promise<Reply> | undefined)[]): Promise<void> {
    const settled: (Reply | undefined)[] = [];
    for (let i = 0; i < replies.length; i++) {
      const reply = replies[i];
      if (reply instanceof Promise) {
        try {
          settled.push(await reply);
        } catch (error) {
          settled.push(undefined);
          const domain = this.domains[i]!, failure = asFailure(error, "throw");
          // The failing call is named from the batch before the batch is cleared.
          if (failure.call !== undefined) {
            const writer = domain.slot.writer;
            failure.hookCall = describeCall(domain.name, writer.nums, writer.length, failure.call);
          }
          domain.slot.writer.clear();
          this.eject(domain, failure);
        }
      } else settled.push(reply);
    }
    this.#applyReplies(settled);
  }

  #applyReplies(replies: (Reply | undefined)[]): void {
    for (let i = 0; i < replies.length; i++) {
      const reply = replies[i];
      if (reply === undefined) continue;
      const domain = this.domains[i]!;
      domain.slot.writer.clear();
      try {
        domain.apply(reply);
      } catch (error) {
        this.eject(domain, asFailure(error, "malformed-reply", "invalid"));
      }
    }
  }

  #end(endNs: number): void {
    this.now = endNs;
    this.#ended = true;
    for (const domain of this.domains) domain.finish(endNs);
  }

  /** Stops every policy (kills child processes) and waits for them to go. */
  async close(): Promise<void> {
    this.log.close();
    for (const domain of this.domains) domain.close?.();
    for (const domain of this.domains) {
      const closing = domain.slot.runtime.close();
      if (closing instanceof Promise) this.#closing.push(closing.catch(() => {}));
    }
    await Promise.all(this.#closing);
  }
}

/** A batch is sent without queries once this many numbers of notifications piled up. */
const FLUSH_AT = 1 << 16;

/**
 * Notifications are streamed ahead of their batch, to a runtime that takes them, by this many
 * numbers (32 KiB: half a pipe's buffer, so that writing them does not wait for the child).
 */
const STREAM_AT = 1 << 12;

/**
 * The runtimes refuse a policy of another domain before it starts (`StartMessage.domain`); this
 * catches a runtime that did not, with the same words.
 */
function checkDomain(declared: StartResult, domain: Domain): void {
  if (declared.domain !== undefined && declared.domain !== domain) {
    throw new PolicyConfigError(wrongDomainMessage(declared.name, declared.domain, domain));
  }
}
