// Bad memory input exits 2 with one line naming the place and what was expected.
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

function workload(
  host: Record<string, unknown> | undefined,
  vms: Record<string, unknown>[],
): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "bad-memory",
    host: { pcpus: 1, ...(host === undefined ? {} : { memory: host }) },
    vms: vms.map((memory, i) => ({ id: `vm${i}`, memory })),
  };
}

async function badInput(value: unknown, flags: string[] = []): Promise<string> {
  const path = await workloadFile(value);
  const result = await runCli(["run", path, ...flags]);
  assert.equal(result.code, 2, `expected exit 2, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  return lines[0]!;
}

Deno.test("a host without frames is bad input naming host.memory.frames", async () => {
  const line = await badInput(workload({ frames: 0 }, [{ refs: [1] }]));
  assert.match(line, /host\.memory\.frames: expected a positive integer, got 0$/);
  const missing = await badInput(workload(undefined, [{ refs: [1] }]));
  assert.match(missing, /host\.memory\.frames: expected a positive integer because vms\[0\]/);
});

Deno.test("a negative page number names the reference", async () => {
  const line = await badInput(workload({ frames: 3 }, [{ refs: [1] }, { refs: [0, 1, 2, -2] }]));
  assert.match(line, /vms\[1\]\.memory\.refs\[3\]: expected a page number .*, got -2$/);
  const written = await badInput(
    workload({ frames: 3 }, [{ refs: [0, { page: -1, write: true }] }]),
  );
  assert.match(written, /vms\[0\]\.memory\.refs\[1\]\.page: expected a page number .*, got -1$/);
});

Deno.test("a balloon target above the host names the VM", async () => {
  const line = await badInput(workload({ frames: 3 }, [{ refs: [1] }, { refs: [1], target: 4 }]));
  assert.match(
    line,
    /vms\[1\]\.memory\.target: expected at most 3 frames \(host\.memory\.frames\), got 4$/,
  );
});

Deno.test("opt without known future references names the VM that generates them", async () => {
  const line = await badInput(
    workload({ frames: 3 }, [{ refs: [1, 2] }, { pattern: "zipf", pages: 100, count: 10 }]),
    ["--memory", "opt"],
  );
  assert.match(line, /Policy opt: needs the future page references, but vms\[1\]\.memory\.pattern/);
});

Deno.test("other memory mistakes are named too", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      workload({ frames: 3 }, [{ refs: [1], pattern: "zipf" }]),
      /vms\[0\]\.memory: expected exactly one of "refs" or "pattern"/,
    ],
    [
      workload({ frames: 3 }, [{ pattern: "zipf", count: 5 }]),
      /vms\[0\]\.memory\.pages: expected a positive integer/,
    ],
    [
      workload({ frames: 3 }, [{ pattern: "zipf", pages: 10 }]),
      /stopAt: expected a duration .* references memory forever/,
    ],
    [
      workload({ frames: 3, lowWatermark: 3 }, [{ refs: [1] }]),
      /host\.memory\.lowWatermark: expected fewer than 3 frames/,
    ],
    [
      workload({ frames: 3 }, [{ pattern: "uniform", size: "1GB", count: 5 }]),
      /vms\[0\]\.memory\.size: expected a size such as "1GiB"/,
    ],
    [
      workload({ frames: 3 }, [{ refs: [0, "x"] }]),
      /vms\[0\]\.memory\.refs\[1\]: expected a page number/,
    ],
  ];
  for (const [value, pattern] of cases) assert.match(await badInput(value), pattern);
});

Deno.test("a memory policy for a workload without memory is bad input", async () => {
  const line = await badInput(
    {
      schema: "hyperhook.workload/v1",
      name: "cpu-only",
      host: { pcpus: 1 },
      vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
    },
    ["--memory", "lru"],
  );
  assert.match(line, /host\.memory\.frames: expected a positive integer for the memory policy lru/);
});

Deno.test("a zipf pattern over more than 256 GiB names the size, not an out-of-memory crash", async () => {
  const line = await badInput(
    { ...workload({ frames: 8 }, [{ pattern: "zipf", size: "4TiB" }]), stopAt: "1ms" },
  );
  assert.match(
    line,
    /vms\[0\]\.memory\.size: expected at most 67108864 pages \(256GiB\) .*, got "4TiB"$/,
  );
  const pages = await badInput(
    { ...workload({ frames: 8 }, [{ pattern: "zipf", pages: 2 ** 26 + 1 }]), stopAt: "1ms" },
  );
  assert.match(pages, /vms\[0\]\.memory\.pages: expected at most 67108864 pages/);
});

Deno.test("a uniform pattern over 4 TiB runs: its page table fills on demand", async () => {
  const path = await workloadFile({
    ...workload({ frames: 8 }, [{ pattern: "uniform", size: "4TiB", count: 100 }]),
    stopAt: "1s",
  });
  const result = await runCli(["run", path, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).vms[0].memory.refs, 100);
});

Deno.test("an address space over 4 TiB is bad input naming the size or the reference", async () => {
  const size = await badInput(
    { ...workload({ frames: 8 }, [{ pattern: "uniform", size: "5TiB" }]), stopAt: "1ms" },
  );
  assert.match(
    size,
    /vms\[0\]\.memory\.size: expected an address space of at most 1073741824 pages \(4TiB\) .*, got "5TiB"$/,
  );
  const ref = await badInput(workload({ frames: 8 }, [{ refs: [1, 2 ** 30] }]));
  assert.match(
    ref,
    /vms\[0\]\.memory\.refs\[1\]: expected a page number below 1073741824 \(4TiB\), got 1073741824$/,
  );
});

Deno.test("more than 2^27 host frames is bad input naming host.memory.frames", async () => {
  const line = await badInput(workload({ frames: 2 ** 27 + 1 }, [{ refs: [1] }]));
  assert.match(
    line,
    /host\.memory\.frames: expected at most 134217728 frames \(512GiB .*, got 134217729$/,
  );
});
