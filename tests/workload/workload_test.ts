// Bad input: exit 2 with one line naming the place and what was expected; nothing else printed.
import assert from "node:assert/strict";
import { example, runCli, workloadFile } from "../_helpers.ts";

const base = { schema: "hyperhook.workload/v1", name: "bad", host: { pcpus: 1 } };

async function refused(workload: unknown, expected: RegExp, flags: string[] = []) {
  const result = await runCli(["run", await workloadFile(workload), ...flags]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, expected);
}

Deno.test("a number where a duration belongs names the path", async () => {
  await refused(
    { ...base, vms: [{ id: "a", cpu: { program: [{ run: 5 }] } }] },
    /vms\[0\]\.cpu\.program\[0\]\.run: expected a duration such as "5ms", got 5$/,
  );
});

Deno.test("other workload mistakes are named too", async () => {
  await refused({ ...base, vms: [] }, /vms: expected at least 1 item/);
  await refused(
    { ...base, host: { pcpus: 0 }, vms: [{ id: "a" }] },
    /host\.pcpus: expected a value of at least 1, got 0/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { pattern: "lazy" } }] },
    /vms\[0\]\.cpu\.pattern: expected "cpu-bound" or "interactive" or "bursty", got "lazy"/,
  );
  await refused(
    {
      ...base,
      host: { pcpus: 1, memory: { frames: 4 } },
      vms: [{ id: "a", memory: { refs: [1], rate: 0 } }],
    },
    /vms\[0\]\.memory\.rate: expected a value above 0, got 0$/,
  );
  await refused(
    {
      ...base,
      stopAt: "1s",
      vms: [{ id: "a", cpu: { program: [{ sleep: "0ms" }], repeat: true } }],
    },
    /vms\[0\]\.cpu\.repeat: expected a program that takes time to repeat .*, got only zero-length sleeps$/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { run: "3ms" } }] },
    /vms\[0\]\.cpu\.run: expected "run" only with "pattern": "interactive", got it with no program, pattern, trace or utilization \(a CPU-bound VM\)$/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { program: [{ run: "3ms" }], busy: 0.5 } }] },
    /vms\[0\]\.cpu\.busy: expected "busy" only with "pattern": "bursty", got it with a program$/,
  );
  await refused(
    { ...base, stopAt: "1s", vms: [{ id: "a", cpu: { pattern: "interactive", repeat: 2 } }] },
    /vms\[0\]\.cpu\.repeat: expected "repeat" only with a program, got it with "pattern": "interactive"$/,
  );
  await refused(
    { ...base, vms: [{ id: "a", weight: 2.5 }] },
    /vms\[0\]\.weight: expected an integer, got 2\.5$/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { program: [{ run: "1ms" }], repeat: "yes" } }] },
    /vms\[0\]\.cpu\.repeat: expected true \(forever\) or a number of times, at least 1, got "yes"$/,
  );
  await refused(
    { ...base, vms: [{ id: "a" }, { id: "a" }] },
    /vms\[1\]\.id: expected a unique VM id, got "a" twice/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { program: [{ walk: "1ms" }] } }] },
    /vms\[0\]\.cpu\.program\[0\]: unknown key "walk"/,
  );
  await refused(
    { ...base, vms: [{ id: "a", cpu: { pattern: "cpu-bound" } }] },
    /stopAt: expected a duration .* runs forever/,
  );
  await refused(
    { ...base, schema: "v0", vms: [{ id: "a" }] },
    /schema: expected "hyperhook\.workload\/v1", got "v0"/,
  );
  await refused({
    ...base,
    timeline: [{ at: "1s", vm: "zz", set: { weight: 2 } }],
    vms: [{ id: "a" }],
  }, /timeline\[0\]\.vm: expected the id of a VM/);
});

Deno.test("an unknown policy, a bad config and bad flags exit 2", async () => {
  const ok = { ...base, vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }] };
  await refused(ok, /Unknown cpu policy "nope": expected one of .*rr/, ["--cpu", "nope"]);
  await refused(
    ok,
    /Policy rr config\.quantum: expected a duration such as "10ms", at least 1us, got -4/,
    [
      "--cpu",
      "rr",
      "--config-cpu",
      '{"quantum":-4}',
    ],
  );
  await refused(ok, /Policy rr config\.slice: unknown parameter; expected one of quantum/, [
    "--cpu",
    "rr",
    "--config-cpu",
    '{"slice":"1ms"}',
  ]);
  for (const isolation of ["none", "process"]) {
    await refused(
      ok,
      /^hyperhook: Policy "working-set" schedules the memory domain; expected a policy for the cpu domain$/,
      ["--cpu", example("../policies/working_set.ts"), "--isolation", isolation],
    );
  }
  await refused(ok, /--seed: expected a non-negative integer, got x/, ["--seed", "x"]);
  await refused(ok, /--isolation: expected one of none, worker, process, process-rpc, got vm/, [
    "--isolation",
    "vm",
  ]);
  await refused(ok, /Unknown option '--cpus'/, ["--cpus", "rr"]);
});

Deno.test("a missing file and broken JSON are bad input", async () => {
  const missing = await runCli(["run", "/nonexistent/workload.json"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Workload \/nonexistent\/workload\.json: cannot read the file/);
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, "{ not json");
  const broken = await runCli(["run", path]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /not valid JSON/);
});

Deno.test("--format json prints the report alone on stdout, in the v1 shape", async () => {
  const result = await runCli(["run", example("fcfs_textbook.json"), "--format", "json"]);
  assert.equal(result.code, 0);
  const report = JSON.parse(result.stdout);
  assert.equal(report.schema, "hyperhook.report/v1");
  assert.deepEqual(Object.keys(report), [
    "schema",
    "workload",
    "seed",
    "simulatedNs",
    "wallMs",
    "policies",
    "vms",
    "host",
    "incidents",
    "eventsHash",
    "eventsHashEncoding",
  ]);
  assert.equal(report.eventsHashEncoding, 2);
  assert.deepEqual(Object.keys(report.policies.cpu).sort(), [
    "config",
    "ejected",
    "isolation",
    "name",
    "reference",
    "restarts",
    "sha256",
  ]);
  assert.match(report.policies.cpu.sha256, /^[0-9a-f]{64}$/);
  for (const key of ["runNs", "waitNs", "finishNs", "share", "switches"]) {
    assert.ok(key in report.vms[0].cpu, key);
  }
  for (const key of ["refs", "faults", "residentPeak"]) assert.ok(key in report.vms[0].memory, key);
  for (const key of ["requests", "completed", "bytes", "latencyNs"]) {
    assert.ok(key in report.vms[0].io, key);
  }
  for (const key of ["utilization", "switches", "fairness", "latencyNs"]) {
    assert.ok(key in report.host.cpu, key);
  }
  assert.equal(report.simulatedNs, 30_000_000);
});

Deno.test("every time in a report is an integer of ns (or null)", async () => {
  const fractional: string[] = [];
  const walk = (value: unknown, path: string, isNs: boolean): void => {
    if (typeof value === "number" && isNs && !Number.isInteger(value)) fractional.push(path);
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      walk(inner, `${path}.${key}`, isNs || key.endsWith("Ns"));
    }
  };
  for (const name of ["rr_textbook.json", "memory_textbook.json", "disk_textbook.json"]) {
    const result = await runCli(["run", example(name), "--format", "json"]);
    assert.equal(result.code, 0, result.stderr);
    walk(JSON.parse(result.stdout), name, false);
  }
  assert.deepEqual(fractional, []);
});
