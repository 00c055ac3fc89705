/**
 * Policy configuration: each policy declares its parameters with defaults and bounds; the SDK
 * validates what the user gives and hands the policy a typed, resolved config.
 *
 * @module
 */

import { formatDuration, parseDuration } from "../engine/duration.ts";
import type { Param } from "../protocol/definition.ts";

/**
 * A policy refused its configuration: the message names the key and what was expected.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./params.ts";
 *
 * // Thrown from a policy's `checkVm` to refuse a VM's parameters, naming the VM and the key.
 * function checkShare(id: string, share: unknown): void {
 *   if (typeof share !== "number" || share <= 0) {
 *     throw new ConfigError(`VM ${id} sched.share: expected a positive number, got ${share}`);
 *   }
 * }
 * checkShare("web", 2);
 * ```
 */
export class ConfigError extends Error {
  /**
   * Creates the error.
   *
   * @param message `Policy NAME config.KEY: expected …, got …`.
   */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

// The shape of a declared parameter is part of the protocol (a policy definition carries its
// parameters for tools that search them); the SDK builds them.
export type { Param, ParamBounds } from "../protocol/definition.ts";

/** The resolved config type of a parameter declaration. */
export type ConfigOf<S extends Record<string, Param<unknown>>> = {
  readonly [K in keyof S]: S[K] extends Param<infer T> ? T : never;
};

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value));
}

/** Bounds for numeric parameters. */
export interface NumberBounds {
  /** The smallest accepted value. */
  min?: number;
  /** The largest accepted value. */
  max?: number;
}

/** Bounds for duration parameters, as duration strings. */
export interface DurationBounds {
  /** The shortest accepted duration, such as "1us". */
  min?: string;
  /** The longest accepted duration. */
  max?: string;
}

/** The constructors of declared parameters (the type of {@linkcode param}). */
export interface ParamConstructors {
  /** A duration written like "10ms"; resolves to integer nanoseconds. */
  duration(defaultValue: string, bounds?: DurationBounds): Param<number>;
  /** A number, optionally an integer, within bounds. */
  number(defaultValue: number, bounds?: NumberBounds & { integer?: boolean }): Param<number>;
  /** A boolean. */
  boolean(defaultValue: boolean): Param<boolean>;
  /** One of a fixed set of strings. */
  choice<const T extends string>(choices: readonly T[], defaultValue: T): Param<T>;
}

/**
 * Constructors of declared parameters.
 *
 * @example
 * ```ts
 * import { param } from "./params.ts";
 * const quantum = param.duration("10ms", { min: "1us" });
 * console.assert(quantum.parse("4ms") === 4_000_000);
 * ```
 */
export const param: ParamConstructors = {
  /** A duration written like "10ms"; resolves to integer nanoseconds. */
  duration(defaultValue: string, bounds: DurationBounds = {}): Param<number> {
    const min = bounds.min === undefined ? 1 : parseDuration(bounds.min)!;
    const max = bounds.max === undefined ? Infinity : parseDuration(bounds.max)!;
    const range = max === Infinity
      ? `at least ${formatDuration(min)}`
      : `between ${formatDuration(min)} and ${formatDuration(max)}`;
    return {
      expects: `a duration such as "${defaultValue}", ${range}`,
      bounds: { kind: "duration", min, ...(max === Infinity ? {} : { max }) },
      defaultValue,
      parse(value: unknown): number {
        const ns = parseDuration(value);
        if (ns === undefined || ns < min || ns > max) {
          throw new Error(
            `expected a duration such as "${defaultValue}", ${range}, got ${describe(value)}`,
          );
        }
        return ns;
      },
    };
  },
  /** A number, optionally an integer, within bounds. */
  number(defaultValue: number, bounds: NumberBounds & { integer?: boolean } = {}): Param<number> {
    const min = bounds.min ?? -Infinity, max = bounds.max ?? Infinity;
    const kind = bounds.integer ? "an integer" : "a number";
    const range = min === -Infinity && max === Infinity
      ? ""
      : max === Infinity
      ? ` at least ${min}`
      : min === -Infinity
      ? ` at most ${max}`
      : ` from ${min} to ${max}`;
    return {
      expects: `${kind}${range}`,
      bounds: {
        kind: "number",
        ...(min === -Infinity ? {} : { min }),
        ...(max === Infinity ? {} : { max }),
        integer: bounds.integer === true,
      },
      defaultValue,
      parse(value: unknown): number {
        if (
          typeof value !== "number" || !Number.isFinite(value) || value < min || value > max ||
          (bounds.integer === true && !Number.isInteger(value))
        ) throw new Error(`expected ${kind}${range}, got ${describe(value)}`);
        return value;
      },
    };
  },
  /** A boolean. */
  boolean(defaultValue: boolean): Param<boolean> {
    return {
      expects: "true or false",
      bounds: { kind: "boolean" },
      defaultValue,
      parse(value: unknown): boolean {
        if (typeof value !== "boolean") {
          throw new Error(`expected true or false, got ${describe(value)}`);
        }
        return value;
      },
    };
  },
  /** One of a fixed set of strings. */
  choice<const T extends string>(choices: readonly T[], defaultValue: T): Param<T> {
    const list = choices.map((c) => `"${c}"`).join(", ");
    return {
      expects: `one of ${list}`,
      bounds: { kind: "choice", choices },
      defaultValue,
      parse(value: unknown): T {
        if (!choices.includes(value as T)) {
          throw new Error(`expected one of ${list}, got ${describe(value)}`);
        }
        return value as T;
      },
    };
  },
};

/**
 * Resolves a user config against declared parameters: defaults fill the gaps, unknown keys and bad
 * values throw an Error naming the key (`Policy rr config.quantum: expected ...`).
 */
export function resolveConfig<S extends Record<string, Param<unknown>>>(
  policy: string,
  spec: S,
  given: Record<string, unknown>,
): { config: ConfigOf<S>; json: Record<string, unknown> } {
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new ConfigError(`Policy ${policy} config: expected an object, got ${describe(given)}`);
  }
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(spec, key)) {
      const known = Object.keys(spec);
      throw new ConfigError(
        `Policy ${policy} config.${key}: unknown parameter; expected ${
          known.length === 0 ? "no parameters" : `one of ${known.join(", ")}`
        }`,
      );
    }
  }
  const config: Record<string, unknown> = {};
  const json: Record<string, unknown> = {};
  for (const [key, declared] of Object.entries(spec)) {
    const raw = Object.hasOwn(given, key) ? given[key] : declared.defaultValue;
    try {
      config[key] = declared.parse(raw);
    } catch (error) {
      throw new ConfigError(`Policy ${policy} config.${key}: ${(error as Error).message}`);
    }
    json[key] = raw;
  }
  return { config: config as ConfigOf<S>, json };
}
