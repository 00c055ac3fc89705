/**
 * A simulation's kernel and domains, for the code that must reach inside one (the testing kit's
 * work-conservation watch, tests, benches). Not part of the public API: `Simulation` keeps its
 * parts private, and this registry is how they are found.
 *
 * @module
 */

import type { SimulationParts } from "./build.ts";

const registry = new WeakMap<object, SimulationParts>();

/** Records a simulation's parts (its constructor does). */
export function registerParts(simulation: object, parts: SimulationParts): void {
  registry.set(simulation, parts);
}

/**
 * The kernel and domains of a simulation.
 *
 * @param simulation A simulation made by `createSimulation`.
 * @throws {TypeError} For anything else.
 */
export function internals(simulation: object): SimulationParts {
  const parts = registry.get(simulation);
  if (parts === undefined) throw new TypeError("Not a simulation made by createSimulation");
  return parts;
}
