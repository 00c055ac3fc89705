/**
 * Determinism for policy code: `Math.random`, `crypto.getRandomValues` and `crypto.randomUUID`
 * drawn from a generator seeded with the policy's seed, and clocks (`Date.now`, `new Date()`,
 * `Date()`, `performance.now`, `performance.timeOrigin`, `Temporal.Now`, `Intl.DateTimeFormat`'s
 * default date) that read the simulated time of the batch being handled. Two runs with the same
 * seed then make the same decisions even when a policy uses them.
 *
 * The sandboxes install these for good before the policy's code is evaluated
 * ({@linkcode installDeterminism}); the originals stay only in the bootstrap's closure, out of the
 * policy's reach. `none` swaps the value properties in around each call into the policy (see
 * `inline.ts`). {@linkcode createDeterminism} and {@linkcode installDeterminism} are
 * self-contained (no imports, no references outside their bodies): the bootstraps embed their
 * source text, so the same generator runs under every isolation.
 *
 * @module
 */

/** The seeded generators and simulated clocks of one policy. */
export interface Determinism {
  /** Sets the simulated time the clocks read, in ns since the run began. */
  setClock(ns: number): void;
  /** In place of `Math.random`. */
  random(): number;
  /** In place of `Crypto.prototype.getRandomValues` (same checks, seeded bytes). */
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
  /** In place of `Crypto.prototype.randomUUID`. */
  randomUUID(): string;
  /** In place of `Performance.prototype.now`: simulated ms since the run began. */
  performanceNow(): number;
  /** In place of `Date`: `Date.now()`, `new Date()` and `Date()` read the simulated clock. */
  Date: DateConstructor;
  /** In place of `Temporal.Now` (undefined when the runtime has no `Temporal`). */
  temporalNow: unknown;
}

/**
 * Creates the generators and clocks of a policy whose seed is `seed` (sfc32, seeded through
 * splitmix32 from the seed's low and high 32 bits), with the clock at 0.
 *
 * @example
 * ```ts
 * import { createDeterminism } from "./_determinism.ts";
 *
 * const first = createDeterminism(7), second = createDeterminism(7);
 * console.assert(first.random() === second.random());
 * first.setClock(1_500_000_000);
 * console.assert(first.Date.now() === 1500 && new first.Date().getTime() === 1500);
 * ```
 */
export function createDeterminism(seed: number): Determinism {
  const global = globalThis;
  const RealDate = global.Date;
  const apply = Reflect.apply, construct = Reflect.construct;
  const realGetRandomValues = global.crypto?.getRandomValues;
  const cryptoObject = global.crypto;
  const Bytes = Uint8Array;
  const whole = Number.isFinite(seed) ? Math.trunc(seed) : 0;
  let state = (whole % 4294967296) >>> 0;
  const high = Math.trunc(whole / 4294967296) >>> 0;
  const splitmix32 = (): number => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32(), b = splitmix32() ^ high, c = splitmix32(), d = splitmix32();
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = ((c << 21) | (c >>> 11)) + t | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  let clockNs = 0, clockMs = 0;

  function random(): number {
    return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  }
  function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    // The real one checks the argument (an integer typed array of at most 65536 bytes) and
    // throws as the standard says; its bytes are then replaced with seeded ones.
    apply(realGetRandomValues!, cryptoObject, [array]);
    const view = array as ArrayBufferView;
    const bytes = new Bytes(view.buffer, view.byteOffset, view.byteLength);
    for (let i = 0; i < bytes.length; i += 4) {
      let word = next32();
      for (let j = i; j < i + 4 && j < bytes.length; j++) {
        bytes[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return array;
  }
  function randomUUID(): string {
    const bytes = getRandomValues(new Bytes(16));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    let hex = "";
    for (let i = 0; i < 16; i++) {
      hex += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += "-";
    }
    return hex;
  }
  function performanceNow(): number {
    return clockNs / 1e6;
  }
  const SimulatedDate = function Date(this: unknown, ...args: unknown[]): unknown {
    if (new.target === undefined) {
      return apply(RealDate.prototype.toString, new RealDate(clockMs), []);
    }
    return construct(RealDate, args.length === 0 ? [clockMs] : args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperties(SimulatedDate, {
    name: { value: "Date" },
    length: { value: 7 },
    prototype: { value: RealDate.prototype },
    now: {
      value: function now(): number {
        return clockMs;
      },
      writable: true,
      configurable: true,
    },
    parse: { value: RealDate.parse, writable: true, configurable: true },
    UTC: { value: RealDate.UTC, writable: true, configurable: true },
  });
  let temporalNow: unknown = undefined;
  const temporal = (global as { Temporal?: Record<string, unknown> }).Temporal;
  if (typeof temporal === "object" && temporal !== null) {
    const Instant = temporal.Instant as { fromEpochNanoseconds(ns: bigint): unknown };
    const instant = () =>
      Instant.fromEpochNanoseconds(BigInt(Math.round(clockNs))) as {
        toZonedDateTimeISO(timeZone: string): {
          toPlainDateTime(): unknown;
          toPlainDate(): unknown;
          toPlainTime(): unknown;
        };
      };
    const zoned = (timeZone: string = "UTC") => instant().toZonedDateTimeISO(timeZone);
    temporalNow = Object.freeze({
      instant,
      timeZoneId: () => "UTC",
      zonedDateTimeISO: zoned,
      plainDateTimeISO: (timeZone?: string) => zoned(timeZone).toPlainDateTime(),
      plainDateISO: (timeZone?: string) => zoned(timeZone).toPlainDate(),
      plainTimeISO: (timeZone?: string) => zoned(timeZone).toPlainTime(),
    });
  }
  return {
    setClock(ns: number): void {
      if (!(ns >= 0)) return;
      clockNs = ns;
      clockMs = (ns - ns % 1e6) / 1e6;
    },
    random,
    getRandomValues,
    randomUUID,
    performanceNow,
    Date: SimulatedDate,
    temporalNow,
  };
}

/**
 * Installs `determinism` in this realm for good (a sandbox, before the policy's code runs): the
 * generators on `Math` and `Crypto.prototype`, the clocks on `Date`, `Performance.prototype`,
 * `Temporal` and `Intl.DateTimeFormat.prototype`. The replaced originals are not kept anywhere
 * the realm's code can reach.
 */
export function installDeterminism(determinism: Determinism): void {
  const global = globalThis as unknown as Record<string, unknown>;
  const define = (object: unknown, key: string, value: unknown) => {
    if (typeof object !== "object" && typeof object !== "function" || object === null) return;
    const old = Object.getOwnPropertyDescriptor(object, key);
    Object.defineProperty(object, key, {
      value,
      writable: true,
      enumerable: old?.enumerable ?? false,
      configurable: true,
    });
  };
  const RealDate = Date;
  define(Math, "random", determinism.random);
  const cryptoPrototype = typeof Crypto === "function" ? Crypto.prototype : undefined;
  define(cryptoPrototype, "getRandomValues", determinism.getRandomValues);
  define(cryptoPrototype, "randomUUID", determinism.randomUUID);
  define(global, "Date", determinism.Date);
  define(RealDate.prototype, "constructor", determinism.Date);
  if (typeof Performance === "function") {
    define(Performance.prototype, "now", determinism.performanceNow);
    Object.defineProperty(Performance.prototype, "timeOrigin", {
      get: () => 0,
      enumerable: true,
      configurable: true,
    });
  }
  if (determinism.temporalNow !== undefined) {
    define(global.Temporal, "Now", determinism.temporalNow);
  }
  const DateTimeFormat = (global.Intl as { DateTimeFormat?: { prototype: object } } | undefined)
    ?.DateTimeFormat;
  if (DateTimeFormat !== undefined) {
    const prototype = DateTimeFormat.prototype;
    const apply = Reflect.apply;
    const now = determinism.Date.now;
    const formatGetter = Object.getOwnPropertyDescriptor(prototype, "format")?.get;
    const formatToParts = (prototype as { formatToParts?: (date?: unknown) => unknown })
      .formatToParts;
    if (formatGetter !== undefined) {
      Object.defineProperty(prototype, "format", {
        get() {
          const format = apply(formatGetter, this, []) as (date?: unknown) => string;
          return (date?: unknown) => format(date === undefined ? now() : date);
        },
        enumerable: false,
        configurable: true,
      });
    }
    if (formatToParts !== undefined) {
      define(prototype, "formatToParts", function formatToPartsAt(this: unknown, date?: unknown) {
        return apply(formatToParts, this, [date === undefined ? now() : date]);
      });
    }
  }
}
