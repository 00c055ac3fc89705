/**
 * Determinism in the sandboxes: `Math.random`, `crypto.getRandomValues` and `crypto.randomUUID`
 * are seeded with the policy's seed, and the clocks read the simulated time of the batch, under
 * `worker` and `process` alike, whichever way a policy reaches for them; under `none` (trusted
 * code, the kernel's own realm) they are the real ones, as documented.
 */

import assert from "node:assert/strict";
import { createDeterminism } from "../../core/sandbox/_determinism.ts";
import { createRuntime } from "../../core/sandbox/mod.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import { assertDeterministic, PolicyCheckError } from "../../core/testing/mod.ts";
import {
  assertNoSandboxChildren,
  batchOf,
  fixture,
  fixtureBundle,
  startMessage,
  tracked,
} from "./_helpers.ts";

Deno.test("the seeded generator: the same seed gives the same values on every machine", () => {
  const draw = (seed: number) => {
    const determinism = createDeterminism(seed);
    return [
      determinism.random(),
      determinism.random(),
      determinism.randomUUID(),
      Array.from(determinism.getRandomValues(new Uint8Array(6))),
    ];
  };
  // sfc32 seeded through splitmix32: pinned, so that a run's eventsHash does not move.
  assert.deepEqual(draw(7), [
    0.19514828444296084,
    0.8405470314858505,
    "81f19963-9dea-4088-8eda-aaece302680b",
    [214, 91, 222, 164, 126, 10],
  ]);
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(8), draw(7));
  // The seed's high bits count too.
  assert.notEqual(createDeterminism(2 ** 40 + 7).random(), createDeterminism(7).random());
  const values = Array.from({ length: 1000 }, createDeterminism(1).random);
  assert.ok(values.every((value) => value >= 0 && value < 1));
});

Deno.test("the seeded crypto checks its arguments as the real one does", () => {
  const determinism = createDeterminism(7);
  assert.throws(
    () => determinism.getRandomValues(new Float64Array(2) as unknown as Uint8Array),
    (error: Error) => error.name === "TypeMismatchError",
  );
  assert.throws(
    () => determinism.getRandomValues(new Uint8Array(65537)),
    (error: Error) => error.name === "QuotaExceededError",
  );
  const uuid = determinism.randomUUID();
  assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("the simulated clocks read the time set, in every form", () => {
  const determinism = createDeterminism(7);
  const SimulatedDate = determinism.Date;
  assert.equal(SimulatedDate.now(), 0);
  determinism.setClock(2_500_000_123);
  assert.equal(SimulatedDate.now(), 2500);
  assert.equal(new SimulatedDate().getTime(), 2500);
  assert.equal(SimulatedDate(), new Date(2500).toString());
  assert.equal(new SimulatedDate(5).getTime(), 5);
  assert.equal(SimulatedDate.UTC(1970, 0, 2), 86_400_000);
  assert.equal(determinism.performanceNow(), 2500.000123);
  assert.ok(new SimulatedDate() instanceof Date);
  assert.equal(SimulatedDate.name, "Date");
  class Later extends SimulatedDate {}
  assert.equal(new Later().getTime(), 2500);
  const now = determinism.temporalNow as { instant(): { epochNanoseconds: bigint } } | undefined;
  if (now !== undefined) assert.equal(now.instant().epochNanoseconds, 2_500_000_123n);
  // Time never runs backwards from a bad value.
  determinism.setClock(Number.NaN);
  assert.equal(SimulatedDate.now(), 2500);
});

/** Starts `clocks.ts` under `isolation` with `seed`, and returns what it read at load and per batch. */
async function clockReadings(
  isolation: Isolation,
  seed: number,
): Promise<{ atLoad: Record<string, unknown>; batches: Record<string, unknown>[] }> {
  // Determinism is under test here, not deadlines: slow machines must not stall a start.
  const runtime = tracked(
    createRuntime(isolation, await fixtureBundle("clocks.ts"), { initDeadlineMs: 30_000 }),
  );
  try {
    const started = await runtime.start({ ...startMessage(), seed });
    const batches = [];
    for (const atNs of [2_500_000_123, 7_000_000_000]) {
      batches.push((await runtime.handle(batchOf([0, atNs]))).objs[0] as Record<string, unknown>);
    }
    return { atLoad: started.config, batches };
  } finally {
    await runtime.close();
  }
}

Deno.test("worker and process: randomness is seeded and clocks read the batch's time, wherever a policy looks", async () => {
  const [worker, process, again, otherSeed] = await Promise.all([
    clockReadings("worker", 7),
    clockReadings("process", 7),
    clockReadings("process", 7),
    clockReadings("process", 8),
  ]);
  const simulated = (ms: string, iso: string, withNs: string) => ({
    dateNow: ms,
    newDate: iso,
    performanceNow: withNs,
    timeOrigin: "0",
    constructorNow: ms,
    newConstructor: ms,
    prototypeNow: withNs,
  });
  const expected = [
    simulated("0", "1970-01-01T00:00:00.000Z", "0"),
    simulated("2500", "1970-01-01T00:00:02.500Z", "2500.000123"),
    simulated("7000", "1970-01-01T00:00:07.000Z", "7000"),
  ];
  for (const [name, readings] of [["worker", worker], ["process", process]] as const) {
    const all = [readings.atLoad, ...readings.batches];
    for (const [index, reading] of all.entries()) {
      for (const [key, value] of Object.entries(expected[index]!)) {
        assert.equal(reading[key], value, `${name}, reading ${index}: ${key}`);
      }
    }
    assert.deepEqual(all.map((reading) => reading.temporal), ["0", "2500000123", "7000000000"]);
    assert.deepEqual(all.map((reading) => reading.intl), ["00:00:00", "00:00:02", "00:00:07"]);
    // Each draw is new, but the sequence is the seed's.
    assert.equal(new Set(all.map((reading) => reading.random)).size, 3, name);
  }
  // The process sandbox runs with TZ=UTC.
  assert.equal(
    process.batches[0]!.dateCall,
    "Thu Jan 01 1970 00:00:02 GMT+0000 (Coordinated Universal Time)",
  );
  assert.equal(worker.batches[0]!.dateCall, new Date(2500).toString());
  const draws = (readings: typeof worker) =>
    [readings.atLoad, ...readings.batches].map(({ random, bytes, uuid, prototypeBytes }) => ({
      random,
      bytes,
      uuid,
      prototypeBytes,
    }));
  assert.deepEqual(draws(process), draws(again));
  assert.deepEqual(draws(worker), draws(process), "the same generator under worker and process");
  assert.notDeepEqual(draws(otherSeed), draws(process));
  assertNoSandboxChildren();
});

Deno.test("none: the clocks and randomness are the kernel's real ones (trusted code, not contained)", async () => {
  const before = Date.now();
  const { batches } = await clockReadings("none", 7);
  assert.ok(Number(batches[0]!.dateNow) >= before);
  // The kernel's own globals are untouched by the sandboxes started in this process.
  assert.equal(Date.prototype.constructor, Date);
  assert.ok(Date.now() >= before);
});

Deno.test("a policy deciding with Math.random and the clocks gives the same eventsHash twice, under worker and process", async () => {
  for (const name of ["uses_clocks.ts", "../authoring/random.ts"]) {
    const hash = await assertDeterministic(fixture(name), { isolations: ["process", "worker"] });
    assert.match(hash, /^[0-9a-f]{64}$/);
  }
  // Under none it is not: assertDeterministic's default isolations include none, and say so.
  await assert.rejects(
    () => assertDeterministic(fixture("uses_clocks.ts"), { isolations: ["process", "none"] }),
    (error: Error) =>
      error instanceof PolicyCheckError && /is not deterministic/.test(error.message),
  );
});
