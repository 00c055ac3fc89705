// The fast path for large explicit programs (core/workload/_fast.ts) gives what zod alone gives:
// the same workload, and for bad input the same one-line error naming the same path.
import assert from "node:assert/strict";
import { fastPrograms } from "../../core/workload/_fast.ts";
import { parseWorkload, WorkloadError } from "../../core/workload/load.ts";
import { describeIssue, workloadSchema } from "../../core/workload/schema.ts";

/** What zod alone makes of `value`: the workload, or the error line. */
function zodOnly(value: unknown): unknown {
  const parsed = workloadSchema.safeParse(value);
  return parsed.success
    ? parsed.data
    : `Workload: ${describeIssue(parsed.error.issues[0]!, value)}`;
}

function viaParse(value: unknown): unknown {
  try {
    return parseWorkload(value);
  } catch (error) {
    assert.ok(error instanceof WorkloadError, String(error));
    return error.message;
  }
}

/** `vms` one-vCPU VMs with programs of `steps` steps, some with repeats and zero sleeps. */
function large(vms = 40, steps = 20): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "large",
    host: { pcpus: 4, disks: [{ id: "d0", model: "ssd", channels: 1, readNs: 1, writeNs: 1 }] },
    vms: Array.from({ length: vms }, (_, v) => ({
      id: `vm-${v}`,
      ...(v % 3 === 0 ? { weight: 512 } : {}),
      cpu: {
        arrive: `${v}us`,
        ...(v % 5 === 0 ? { repeat: 3 } : {}),
        program: Array.from(
          { length: steps },
          (_, s) => s % 2 === 0 ? { run: `${1 + ((v * s) % 7)}ms` } : { sleep: `${(v + s) % 4}ms` },
        ),
      },
    })),
  };
}

const clone = <T>(value: T): T => structuredClone(value);

Deno.test("large programs: the fast path gives the workload zod gives, and leaves the input be", () => {
  const value = large();
  const before = clone(value);
  assert.equal(fastPrograms(value)?.programs.size, 40, "every program takes the fast path");
  assert.equal(fastPrograms(large(4, 20)), undefined, "80 steps: zod alone");
  assert.deepEqual(parseWorkload(value), zodOnly(clone(value)));
  assert.deepEqual(value, before);
});

Deno.test("every example workload parses as zod alone parses it", async () => {
  for await (const entry of Deno.readDir(new URL("../../examples/workloads/", import.meta.url))) {
    if (!entry.name.endsWith(".json")) continue;
    const text = await Deno.readTextFile(
      new URL(`../../examples/workloads/${entry.name}`, import.meta.url),
    );
    assert.deepEqual(parseWorkload(JSON.parse(text)), zodOnly(JSON.parse(text)), entry.name);
  }
});

Deno.test("bad input among large programs: the same error, naming the same path, as zod alone", () => {
  const cases: [string, (value: { vms: { cpu: Record<string, unknown> }[] }) => void][] = [
    ["a zero run", (w) => (w.vms[37]!.cpu.program as unknown[])[5] = { run: "0ms" }],
    ["a number", (w) => (w.vms[12]!.cpu.program as unknown[])[3] = { sleep: 5 }],
    ["two keys", (w) => (w.vms[2]!.cpu.program as unknown[])[0] = { run: "1ms", sleep: "1ms" }],
    ["no key", (w) => (w.vms[2]!.cpu.program as unknown[])[7] = {}],
    ["an unknown key", (w) => (w.vms[30]!.cpu.program as unknown[])[1] = { walk: "1ms" }],
    ["a bad duration", (w) => (w.vms[30]!.cpu.program as unknown[])[19] = { sleep: "5 parsecs" }],
    ["a null step", (w) => (w.vms[1]!.cpu.program as unknown[])[4] = null],
    ["an array step", (w) => (w.vms[1]!.cpu.program as unknown[])[4] = ["run", "1ms"]],
    ["an io step to no disk", (w) => {
      (w.vms[9]!.cpu.program as unknown[])[2] = { io: { disk: "d9", op: "read", size: 4096 } };
    }],
    ["only zero sleeps, repeated", (w) => {
      w.vms[10]!.cpu.program = Array.from({ length: 20 }, () => ({ sleep: "0ms" }));
    }],
    ["zero sleeps then a run, repeated (fine)", (w) => {
      w.vms[10]!.cpu.program = [...Array.from({ length: 19 }, () => ({ sleep: "0ms" })), {
        run: "1ms",
      }];
    }],
    ["an empty program", (w) => w.vms[39]!.cpu.program = []],
    ["a program and a pattern", (w) => w.vms[4]!.cpu.pattern = "cpu-bound"],
    [
      "an error elsewhere, after the programs",
      (w) => (w.vms[39] as Record<string, unknown>).id = "a b",
    ],
    ["a duplicate id", (w) => (w.vms[39] as Record<string, unknown>).id = "vm-3"],
  ];
  for (const [name, spoil] of cases) {
    const value = large() as unknown as { vms: { cpu: Record<string, unknown> }[] };
    spoil(value);
    const expected = zodOnly(clone(value));
    assert.deepEqual(viaParse(value), expected, name);
    if (!name.endsWith("(fine)")) assert.equal(typeof expected, "string", name);
  }
});

Deno.test("a bad step names its path: vms[37].cpu.program[5].run", () => {
  const value = large() as unknown as { vms: { cpu: { program: unknown[] } }[] };
  value.vms[37]!.cpu.program[5] = { run: "0ms" };
  assert.throws(
    () => parseWorkload(value),
    new WorkloadError(
      'Workload: vms[37].cpu.program[5].run: expected a duration above zero, got "0ms"',
    ),
  );
});
