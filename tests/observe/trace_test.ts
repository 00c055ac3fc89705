// `--trace`: a Chrome JSON trace whose events reproduce the report, and `--log` in its forms.
import assert from "node:assert/strict";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload, readWorkload } from "../../core/workload/load.ts";
import { TraceFile } from "../../core/observe/trace.ts";
import { DecisionLogFile } from "../../core/observe/log.ts";
import { watchBatches } from "../../core/observe/batches.ts";
import type { Report } from "../../core/report/report.ts";
import { example, runCli } from "../_helpers.ts";
import type { TraceEvent } from "./_trace_event.ts";

async function traced(
  name: string,
  options: ConstructorParameters<typeof TraceFile>[0] = {},
): Promise<{ report: Report; events: TraceEvent[]; trace: TraceFile }> {
  const trace = new TraceFile(options);
  const report = await simulate(await readWorkload(example(name)), {
    observe: (simulation) => void trace.watch(simulation),
  });
  const parsed = JSON.parse(trace.text()) as { traceEvents: TraceEvent[] };
  return { report, events: parsed.traceEvents, trace };
}

/** Per VM, the summed duration (ns) of its slices on the pCPU tracks (process 1001). */
function runByVm(events: TraceEvent[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const event of events) {
    if (event.ph !== "X" || event.pid !== 1001) continue;
    const vm = event.args!.vm as string;
    sums.set(vm, (sums.get(vm) ?? 0) + Math.round(event.dur! * 1000));
  }
  return sums;
}

Deno.test("a trace of the demo is valid JSON whose pCPU slices add up to every VM's runNs", async () => {
  const { report, events } = await traced("demo.json");
  const sums = runByVm(events);
  assert.equal(report.vms.length, 24);
  for (const vm of report.vms) assert.equal(sums.get(vm.id), vm.cpu.runNs, vm.id);
  // One track per pCPU, named; every slice names its VM and vCPU and lies on a pCPU track.
  const threads = events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.pid === 1001);
  assert.deepEqual(
    threads.map((e) => e.args!.name),
    [0, 1, 2, 3, 4, 5, 6, 7].map((p) => `pCPU ${p}`),
  );
  const slice = events.find((e) => e.ph === "X" && e.pid === 1001)!;
  assert.equal(slice.name, `${slice.args!.vm}/${slice.args!.vcpu}`);
  assert.equal(slice.pid, 1001);
  // Slices of one pCPU never overlap.
  const byPcpu = new Map<number, TraceEvent[]>();
  for (const e of events) {
    if (e.ph === "X" && e.pid === 1001) byPcpu.set(e.tid!, [...(byPcpu.get(e.tid!) ?? []), e]);
  }
  for (const slices of byPcpu.values()) {
    slices.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < slices.length; i++) {
      assert.ok(slices[i]!.ts >= slices[i - 1]!.ts + slices[i - 1]!.dur! - 1e-6);
    }
  }
  // Per-VM counters, and policy batches with their queries and answers.
  const counters = new Set(events.filter((e) => e.ph === "C").map((e) => e.name));
  assert.deepEqual([...counters].sort(), ["runnable", "share"]);
  const batch = events.find((e) => e.ph === "i" && e.name.startsWith("dispatch pCPU"))!;
  assert.ok(Array.isArray(batch.args!.queries) && Array.isArray(batch.args!.answers));
});

Deno.test("--trace-every-batch: every CPU batch an instant of its own, no run carries one", async () => {
  const runs = [];
  for (const everyBatch of [true, false]) {
    const trace = new TraceFile({ everyBatch });
    await simulate(await readWorkload(example("rr_textbook.json")), {
      observe: (simulation) => trace.watch(simulation),
    });
    runs.push(JSON.parse(trace.text()).traceEvents as TraceEvent[]);
  }
  const [every, usual] = runs as [TraceEvent[], TraceEvent[]];
  const instants = every.filter((e) => e.ph === "i" && e.pid === 1003 && e.tid === 1);
  const slices = (events: TraceEvent[]) => events.filter((e) => e.ph === "X" && e.pid === 1001);
  assert.equal(slices(every).filter((e) => "notifications" in e.args!).length, 0);
  // One pCPU, RR with a 4 ms quantum: the 8 runs answer 8 lone dispatches, each now an instant at
  // its run's start, with what the usual trace puts on the run: its notifications and its answer.
  assert.deepEqual(
    instants.map((e) => [e.name, e.ts, e.args!.notifications, e.args!.answer]),
    slices(usual).map((e) => [
      "dispatch pCPU 0",
      e.ts,
      e.args!.notifications,
      [e.name, e.args!.sliceNs],
    ]),
  );
  assert.deepEqual(
    instants.map((e) => e.args!.notifications),
    [6, 3, 2, 2, 3, 3, 3, 3],
  );
  // The runs themselves are the same slices, less what the instants now carry.
  assert.deepEqual(
    slices(every),
    slices(usual).map((e) => {
      const { notifications: _, ...args } = e.args!;
      return { ...e, args };
    }),
  );
});

Deno.test("every CPU batch is in the trace once: on the run its lone dispatch started, else an instant", async () => {
  for (const name of ["rr_textbook.json", "demo.json"]) {
    const trace = new TraceFile();
    // What the policy was asked, heard beside the trace: per batch with a query, its count of
    // notifications, and whether it asked one dispatch answered with one vCPU.
    const batches: { notifications: number; lone: boolean }[] = [];
    let current = { notifications: 0, queries: 0, dispatch: false };
    await simulate(await readWorkload(example(name)), {
      observe: (simulation) => {
        trace.watch(simulation);
        watchBatches(simulation, {
          batch(domain, batch) {
            if (domain !== "cpu") return;
            current = { notifications: 0, queries: 0, dispatch: false };
            for (let i = 0; i < batch.length; i += 3 + batch.nums[i + 2]!) {
              const op = batch.nums[i]!;
              if (op >= 20) current.queries++, current.dispatch = op === 20;
              else current.notifications++;
            }
          },
          reply(domain, reply) {
            if (domain !== "cpu" || current.queries === 0) return;
            const lone = current.queries === 1 && current.dispatch && reply.nums[0] === 2;
            batches.push({ notifications: current.notifications, lone });
          },
        });
      },
    });
    const events = JSON.parse(trace.text()).traceEvents as TraceEvent[];
    const instants = events.filter((e) => e.ph === "i" && e.pid === 1003 && e.tid === 1);
    const carried = events.filter((e) =>
      e.ph === "X" && e.pid === 1001 && "notifications" in e.args!
    )
      .sort((a, b) => a.ts - b.ts || a.tid! - b.tid!);
    assert.equal(instants.length + carried.length, batches.length, name);
    // Every lone dispatch started its run here: the slices carry them all, in order.
    assert.deepEqual(
      carried.map((e) => e.args!.notifications),
      batches.filter((b) => b.lone).map((b) => b.notifications),
      name,
    );
    assert.ok(instants.every((e) => Array.isArray(e.args!.queries)), name);
    if (name === "rr_textbook.json") {
      // One pCPU, RR with a 4 ms quantum: each of the 8 runs is the answer to a lone dispatch;
      // a run that used up its slice has no stop.
      assert.equal(instants.length, 0);
      assert.deepEqual(
        carried.map((e) => [e.name, e.ts, e.dur, e.args!.sliceNs, e.args!.stop]),
        [
          ["P1/0", 0, 4000, 4e6, undefined],
          ["P2/0", 4000, 3000, 4e6, "done"],
          ["P3/0", 7000, 3000, 4e6, "done"],
          ["P1/0", 10_000, 4000, 4e6, undefined],
          ["P1/0", 14_000, 4000, 4e6, undefined],
          ["P1/0", 18_000, 4000, 4e6, undefined],
          ["P1/0", 22_000, 4000, 4e6, undefined],
          ["P1/0", 26_000, 4000, 4e6, "done"],
        ],
      );
    }
  }
});

Deno.test("a lone dispatch whose vCPU does not exist is an instant naming it, beside the incident", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "unknown",
    host: { pcpus: 1 },
    vms: [
      { id: "a", cpu: { program: [{ run: "20ms" }] } },
      { id: "b", cpu: { program: [{ run: "20ms" }] } },
    ],
  });
  const trace = new TraceFile();
  const report = await simulate(workload, {
    policies: {
      cpu: { use: new URL("../fixtures/observe/unknown_vcpu.ts", import.meta.url).pathname },
    },
    isolation: "none",
    observe: (simulation) => trace.watch(simulation),
  });
  assert.equal(report.incidents.length, 1);
  assert.equal(report.incidents[0]!.reason, "unknown-vcpu");
  const events = JSON.parse(trace.text()).traceEvents as TraceEvent[];
  const marks = events.filter((e) => e.ph === "i" && e.pid === 1003 && e.tid === 1);
  assert.deepEqual(marks.map((e) => [e.name, e.ts, e.s, e.args!.answer]), [
    ["dispatch pCPU 0", 10_000, undefined, ["#-1/1000000000", 5e6]],
    ["incident: cpu policy unknown-vcpu ejected (invalid/unknown-vcpu)", 10_000, "g", undefined],
  ]);
  // The fallback's batches are heard too: the runs it started after 10 ms carry theirs.
  const after = events.filter((e) => e.ph === "X" && e.pid === 1001 && e.ts >= 10_000);
  assert.ok(after.length > 0 && after.every((e) => "notifications" in e.args!));
  // The runs before and after (under the fallback policy) add up to the report's.
  const sums = runByVm(events);
  for (const vm of report.vms) assert.equal(sums.get(vm.id), vm.cpu.runNs, vm.id);
});

Deno.test("without stopAt, the share counters cover the run in 1/100 of it or less, and add up to each VM's runNs", async () => {
  // The textbook RR run lasts 30 ms: windows of 1 ms (it used to have none, at 100 ms).
  const { report, events } = await traced("rr_textbook.json");
  const names = new Map(
    events.filter((e) => e.ph === "M" && e.name === "process_name").map((
      e,
    ) => [e.pid, e.args!.name]),
  );
  const shares = events.filter((e) => e.ph === "C" && e.name === "share");
  const starts = [...new Set(shares.map((e) => e.ts))].sort((a, b) => a - b);
  // Windows of 1 ms, written where a share changes: P1 runs first, P2 from 4 ms, P3 from 7 ms.
  assert.deepEqual(starts.slice(0, 4), [0, 4000, 7000, 10_000]);
  assert.ok(starts.every((ts) => ts % 1000 === 0));
  // A counter holds its value until the next: integrate each VM's share over the run (1 pCPU).
  const end = 30_000;
  for (const vm of report.vms) {
    const own = shares.filter((e) => names.get(e.pid) === `VM ${vm.id}`);
    let ran = 0;
    for (const [i, e] of own.entries()) {
      ran += (e.args!["%"] as number) / 100 * ((own[i + 1]?.ts ?? end) - e.ts);
    }
    assert.equal(Math.round(ran * 1000), vm.cpu.runNs, vm.id);
  }
});

Deno.test("without stopAt, share windows widen to 1/128 of the run or less even where nothing runs", async () => {
  // 1 ms of work, then 1000 s asleep: windows of 1 ms would be a million (of counters, and of
  // steps to write them).
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "sleepy",
    host: { pcpus: 1 },
    vms: [{ id: "a", cpu: { program: [{ run: "1ms" }, { sleep: "1000s" }] } }],
  });
  const trace = new TraceFile();
  await simulate(workload, { observe: (simulation) => void trace.watch(simulation) });
  const shares = (JSON.parse(trace.text()).traceEvents as TraceEvent[])
    .filter((e) => e.ph === "C" && e.name === "share").map((e) => [e.ts, e.args!["%"]]);
  // 1 ms doubled 13 times: 8.192 s windows; the first holds the 1 ms of work (0.01 %).
  assert.deepEqual(shares, [[0, 0.01], [8_192_000, 0]]);
});

Deno.test("a trace written as the run goes (path) is the one kept in memory, and ends valid when cut", async () => {
  const dir = await Deno.makeTempDir();
  const workload = await readWorkload(example("demo.json"));
  const kept = new TraceFile();
  await simulate(workload, { observe: (simulation) => void kept.watch(simulation) });
  const streamed = new TraceFile({ path: `${dir}/demo.json` });
  await simulate(workload, { observe: (simulation) => void streamed.watch(simulation) });
  // The events passed 4 MiB before the run ended: some are in the file already.
  assert.ok(streamed.bytes > 4 << 20, String(streamed.bytes));
  assert.ok((await Deno.stat(`${dir}/demo.json`)).size > 4 << 20);
  assert.equal(await streamed.write(`${dir}/demo.json`), undefined);
  assert.equal(await Deno.readTextFile(`${dir}/demo.json`), kept.text());
  const cut = new TraceFile({ path: `${dir}/cut.json`, maxBytes: 6 << 20 });
  await simulate(workload, { observe: (simulation) => void cut.watch(simulation) });
  assert.match((await cut.write(`${dir}/cut.json`))!, /size cap of 6 MiB/);
  const events = JSON.parse(await Deno.readTextFile(`${dir}/cut.json`)).traceEvents as TraceEvent[];
  assert.ok(events.some((e) => e.ph === "C" && e.name === "share"));
  assert.ok((await Deno.stat(`${dir}/cut.json`)).size <= (6 << 20) + 100_000);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a disk's in-service slices add up to its busy time, and queued requests are async slices", async () => {
  for (const name of ["disk_textbook.json", "disk_hdd.json"]) {
    const { report, events } = await traced(name);
    for (const [index, disk] of report.host.disks!.entries()) {
      const busy = events.filter((e) => e.ph === "X" && e.pid === 1002 && e.tid === index)
        .reduce((sum, e) => sum + Math.round(e.dur! * 1000), 0);
      assert.equal(busy, disk.busyNs, `${name} ${disk.id}`);
      const begun = events.filter((e) => e.ph === "b" && e.pid === 1002 && e.tid === index);
      const served = events.filter((e) => e.ph === "X" && e.pid === 1002 && e.tid === index);
      assert.equal(begun.length, served.filter((e) => e.cat === "io").length, `${name} queued`);
    }
  }
  // The textbook queue: FCFS serves 98 first, from 53 (45 cylinders at 1 µs each).
  const { events } = await traced("disk_textbook.json");
  const first = events.filter((e) => e.ph === "X" && e.pid === 1002).sort((a, b) =>
    a.ts - b.ts
  )[0]!;
  assert.equal(first.ts, 0);
  assert.equal(first.args!.request, 0);
});

Deno.test("memory: resident-frame counters end at each VM's resident frames", async () => {
  const { report, events } = await traced("memory_textbook.json");
  const names = new Map(
    events.filter((e) => e.ph === "M" && e.name === "process_name").map((
      e,
    ) => [e.pid, e.args!.name]),
  );
  const last = new Map<unknown, number>();
  for (const e of events) {
    if (e.ph === "C" && e.name === "resident") last.set(names.get(e.pid), e.args!.frames as number);
  }
  for (const vm of report.vms) assert.equal(last.get(`VM ${vm.id}`), vm.memory!.resident, vm.id);
  // FIFO on the textbook string: 15 faults, each a load marked on the memory policy's track.
  assert.equal(report.vms[0]!.memory!.faults, 15);
  assert.equal(events.filter((e) => e.ph === "i" && e.name.startsWith("load")).length, 15);
});

Deno.test("timeline events, parameter changes and incidents are marked instants; eventsHash unchanged", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "marks",
    host: { pcpus: 1 },
    policies: { cpu: { use: "credit" } },
    timeline: [{ at: "5ms", vm: "a", set: { weight: 512 } }],
    vms: [
      { id: "a", cpu: { program: [{ run: "20ms" }] } },
      { id: "b", cpu: { program: [{ run: "20ms" }] } },
    ],
  });
  const trace = new TraceFile();
  const report = await simulate(workload, { observe: (simulation) => trace.watch(simulation) });
  const marks = (JSON.parse(trace.text()).traceEvents as TraceEvent[]).filter((e) =>
    e.ph === "i" && e.s === "g"
  );
  assert.deepEqual(marks.map((e) => [e.name, e.ts]).sort(), [
    ["params: a (cpu)", 5000],
    ["timeline: a", 5000],
  ]);
  assert.equal(marks.find((e) => e.name.startsWith("params"))!.args!.weight, 512);
  assert.equal(report.eventsHash, (await simulate(workload)).eventsHash);
});

Deno.test("a trace window keeps what happens inside it, slices clipped to it", async () => {
  const { report, events } = await traced("demo.json", { fromNs: 2e9, toNs: 3e9 });
  const timed = events.filter((e) => e.ph !== "M");
  assert.ok(timed.length > 0);
  for (const e of timed) {
    assert.ok(e.ts >= 2e6 && e.ts + (e.dur ?? 0) <= 3e6 + 1e-6, JSON.stringify(e));
  }
  // Eight pCPUs, all busy in the demo: one simulated second of slices on each.
  const total = [...runByVm(events).values()].reduce((a, b) => a + b, 0);
  assert.ok(total <= 8e9 && total > 7e9, String(total));
  assert.equal(report.vms.length, 24);
});

Deno.test("the size cap stops recording, keeps the file valid and says where it stopped", async () => {
  const { trace, events } = await traced("demo.json", { maxBytes: 100_000 });
  assert.ok(trace.full);
  assert.ok(trace.bytes <= 100_000);
  assert.ok(events.length > 100);
  const path = await Deno.makeTempFile({ suffix: ".json" });
  const message = await trace.write(path);
  assert.match(
    message!,
    /^--trace .*: recording stopped at \S+ simulated, where the trace reached its size cap of 0 MiB \(--trace-cap\); trace less with --trace-window FROM\.\.TO or raise --trace-cap$/,
  );
  JSON.parse(await Deno.readTextFile(path));
  await Deno.remove(path);
});

Deno.test("--log: JSON lines and CSV with named fields; other names keep the raw records", async () => {
  const dir = await Deno.makeTempDir();
  const workload = await readWorkload(example("rr_textbook.json"));
  for (const name of ["log.jsonl", "log.csv", "log.txt"]) {
    const log = DecisionLogFile.open(`${dir}/${name}`);
    await simulate(workload, { observe: (simulation) => log.watch(simulation) });
    log.close();
  }
  const lines = (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  // RR, 4 ms quantum, bursts 24/3/3: P1 runs at 0, P2 at 4 ms, P3 at 7 ms, P1 at 10 ms.
  assert.deepEqual(lines.filter((d) => d.decision === "run").slice(0, 4), [
    { atNs: 0, domain: "cpu", decision: "run", vm: "P1", vcpu: 0, pcpu: 0, sliceNs: 4e6 },
    { atNs: 4e6, domain: "cpu", decision: "run", vm: "P2", vcpu: 0, pcpu: 0, sliceNs: 4e6 },
    { atNs: 7e6, domain: "cpu", decision: "run", vm: "P3", vcpu: 0, pcpu: 0, sliceNs: 4e6 },
    { atNs: 10e6, domain: "cpu", decision: "run", vm: "P1", vcpu: 0, pcpu: 0, sliceNs: 4e6 },
  ]);
  assert.deepEqual(lines[1], {
    atNs: 4e6,
    domain: "cpu",
    decision: "stop",
    vm: "P1",
    vcpu: 0,
    pcpu: 0,
    reason: "slice",
  });
  const csv = (await Deno.readTextFile(`${dir}/log.csv`)).trim().split("\n");
  assert.equal(
    csv[0],
    "atNs,domain,decision,vm,vcpu,pcpu,sliceNs,reason,request,disk,cylinder,serviceNs,frame,page,value,affects,policy",
  );
  assert.equal(csv[2], "4000000,cpu,stop,P1,0,0,,slice,,,,,,,,,");
  assert.equal(csv.length, lines.length + 1);
  const raw = (await Deno.readTextFile(`${dir}/log.txt`)).trim().split("\n");
  assert.equal(raw[0], "0 1 1 0 0 4000000");
  assert.equal(raw.length, lines.length);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the CLI: --trace and --log on run, bad windows and sizes refused with exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const ok = await runCli([
    "run",
    example("rr_textbook.json"),
    "--trace",
    `${dir}/t.json`,
    "--trace-window",
    "5ms..",
    "--log",
    `${dir}/l.jsonl`,
    "--format",
    "json",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  const events = JSON.parse(await Deno.readTextFile(`${dir}/t.json`)).traceEvents as TraceEvent[];
  assert.ok(events.filter((e) => e.ph !== "M").every((e) => e.ts >= 5000));
  assert.ok((await Deno.readTextFile(`${dir}/l.jsonl`)).startsWith('{"atNs":0,"domain":"cpu"'));
  for (
    const [flags, expected] of [
      [
        ["--trace", `${dir}/x.json`, "--trace-window", "3s..1s"],
        /^hyperhook: --trace-window: expected FROM\.\.TO/,
      ],
      [
        ["--trace", `${dir}/x.json`, "--trace-cap", "lots"],
        /^hyperhook: --trace-cap: expected a size/,
      ],
      [["--trace-window", "1s..2s"], /^hyperhook: --trace-window needs --trace FILE/],
      [["--trace-every-batch"], /^hyperhook: --trace-every-batch needs --trace FILE/],
    ] as const
  ) {
    const result = await runCli(["run", example("rr_textbook.json"), ...flags]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, expected);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--trace: a run refused before it starts leaves no file; an unwritable path is one line, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const refused = await runCli([
    "run",
    example("rr_textbook.json"),
    "--cpu",
    "no-such-policy",
    "--trace",
    `${dir}/t.json`,
  ]);
  assert.equal(refused.code, 2, refused.stderr);
  await assert.rejects(() => Deno.stat(`${dir}/t.json`), Deno.errors.NotFound);
  await Deno.writeTextFile(`${dir}/file`, "");
  const unwritable = await runCli([
    "run",
    example("rr_textbook.json"),
    "--trace",
    `${dir}/file/t.json`,
    "--format",
    "json",
  ]);
  assert.equal(unwritable.code, 2, unwritable.stderr);
  assert.match(unwritable.stderr, /^hyperhook: --trace .*\/file\/t\.json: cannot write the file/m);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("compare --trace puts every run in one trace, side by side; --log names the run", async () => {
  const dir = await Deno.makeTempDir();
  const result = await runCli([
    "compare",
    example("fcfs_textbook.json"),
    "--cpu",
    "fcfs,rr",
    "--trace",
    `${dir}/t.json`,
    "--log",
    `${dir}/l.csv`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const events = JSON.parse(await Deno.readTextFile(`${dir}/t.json`)).traceEvents as TraceEvent[];
  const processes = events.filter((e) => e.ph === "M" && e.name === "process_name")
    .map((e) => e.args!.name);
  assert.ok(processes.includes("fcfs: pCPUs") && processes.includes("rr: pCPUs"));
  // Each run's slices add up to its VMs' work: 24 + 3 + 3 ms under either policy.
  for (const pid of [1001, 2001]) {
    const ran = events.filter((e) => e.ph === "X" && e.pid === pid)
      .reduce((sum, e) => sum + Math.round(e.dur! * 1000), 0);
    assert.equal(ran, 30e6);
  }
  const csv = (await Deno.readTextFile(`${dir}/l.csv`)).split("\n");
  assert.ok(csv[0]!.startsWith("run,atNs,domain,decision,"));
  assert.ok(csv.some((line) => line.startsWith("fcfs,")) && csv.some((l) => l.startsWith("rr,")));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("incidents and the swap of a restart are marked across the trace", async () => {
  const workload = parseWorkload({
    schema: "hyperhook.workload/v1",
    name: "incidents",
    host: { pcpus: 1 },
    stopAt: "1500ms",
    vms: [
      { id: "a", cpu: { pattern: "cpu-bound" } },
      { id: "b", cpu: { pattern: "cpu-bound" } },
    ],
  });
  const trace = new TraceFile();
  const report = await simulate(workload, {
    policies: {
      cpu: { use: new URL("../fixtures/observe/throws_late.ts", import.meta.url).pathname },
    },
    isolation: "none",
    restarts: 1,
    observe: (simulation) => trace.watch(simulation),
  });
  assert.equal(report.incidents.length, 2);
  const marks = (JSON.parse(trace.text()).traceEvents as TraceEvent[])
    .filter((e) => e.ph === "i" && e.s === "g").map((e) => [e.name, e.ts]);
  assert.deepEqual(marks, [
    ["eject: cpu policy", 10_000],
    ["swap: cpu policy throws-late", 1_010_000],
    ["eject: cpu policy", 1_010_000],
    ["incident: cpu policy throws-late ejected (error/throw)", 10_000],
    ["incident: cpu policy throws-late ejected (error/throw)", 1_010_000],
  ]);
});
