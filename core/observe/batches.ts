/**
 * Watching the batches a run's policies are sent and what they answer, without a cost to runs
 * that do not watch: each domain's slot is given a runtime that tells a listener, then hands the
 * batch on. Only a traced run pays for it.
 *
 * @module
 */

import type { Batch, Reply } from "../protocol/batch.ts";
import type { Domain } from "../protocol/definition.ts";
import type { PolicyRuntime } from "../protocol/runtime.ts";
import type { Simulation } from "../simulation/mod.ts";
import { internals } from "../simulation/internals.ts";

/** Hears every batch a domain's policy handles, before the policy does, and then its answer. */
export interface BatchListener {
  /**
   * A batch is about to be handled. `nums` is the kernel's buffer (valid up to `length`): read
   * it now, it is reused.
   */
  batch(domain: Domain, batch: Batch): void;
  /** The policy answered (`nums` valid up to `length`; read it now). */
  reply(domain: Domain, reply: Reply): void;
}

/** The listeners of each slot already watched. */
const watching = new WeakMap<object, BatchListener[]>();

/**
 * Makes every policy of `simulation` (those in charge now, and every one installed later:
 * fallbacks, restarts, swaps) tell `listener` of its batches and answers.
 */
export function watchBatches(simulation: Simulation, listener: BatchListener): void {
  for (const domain of internals(simulation).kernel.domains) {
    const slot = domain.slot;
    const listeners = watching.get(slot);
    if (listeners !== undefined) {
      listeners.push(listener);
      continue;
    }
    const all = [listener];
    watching.set(slot, all);
    slot.watch((runtime) => wrap(domain.name, runtime, all));
  }
}

function wrap(domain: Domain, runtime: PolicyRuntime, listeners: BatchListener[]): PolicyRuntime {
  // Indexed loops: an iterator for each of millions of batches is garbage to collect.
  const answered = (answer: Reply) => {
    for (let i = 0; i < listeners.length; i++) listeners[i]!.reply(domain, answer);
    return answer;
  };
  const watched: PolicyRuntime = {
    get isolation() {
      return runtime.isolation;
    },
    start: (message) => runtime.start(message),
    handle(batch) {
      for (let i = 0; i < listeners.length; i++) listeners[i]!.batch(domain, batch);
      const reply = runtime.handle(batch);
      return reply instanceof Promise ? reply.then(answered) : answered(reply);
    },
    close: () => runtime.close(),
  };
  if (runtime.stream !== undefined) watched.stream = (batch) => runtime.stream!(batch);
  return watched;
}
