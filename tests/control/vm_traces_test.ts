// POST /v1/vms and trace files: a trace path from the API must name a regular file inside the
// server's data folder (none configured: traces are refused), answered at once for /dev/zero and
// /dev/urandom (before, the server read them forever); and adding a VM is all-or-nothing across
// domains (before, a malformed I/O trace answered 400 after the CPU domain had taken the VM's id,
// and every later add answered 400).
import assert from "node:assert/strict";
import { join } from "node:path";
import { LiveKernel } from "../../core/control/live.ts";
import { cpuWorkload, testServer } from "./_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

function ioWorkload(): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "live-io",
    seed: 5,
    host: { pcpus: 1, disks: [{ id: "d0", model: "hdd", preset: "hp_c2247a" }] },
    policies: { io: { use: "bfq" } },
    stopAt: "1h",
    vms: [{ id: "a", io: { generate: { disk: "d0", depth: 2 } } }],
  };
}

const MSR_LINE = "128166372003061629,web,0,Read,4096,4096,3161\n";

async function dataFolder(): Promise<{ root: string; data: string; outside: string }> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "hyperhook-data-" }));
  const data = join(root, "data");
  await Deno.mkdir(data);
  await Deno.writeTextFile(join(data, "cpu.txt"), "40\n60\n");
  await Deno.writeTextFile(join(data, "web.csv"), MSR_LINE.repeat(3));
  await Deno.writeTextFile(
    join(data, "bad.csv"),
    MSR_LINE + "128166372003061630,web,0,Erase,0,4096,1\n",
  );
  const outside = join(root, "secret.txt");
  await Deno.writeTextFile(outside, "SECRET-50\n");
  await Deno.symlink(outside, join(data, "link.txt"));
  await Deno.symlink("/dev/zero", join(data, "zero.txt"));
  return { root, data, outside };
}

Deno.test("without --data-dir, POST /v1/vms refuses every trace, /dev/zero at once", async () => {
  const server = await testServer(ioWorkload());
  try {
    const bodies = [
      { id: "z1", cpu: { trace: { format: "planetlab", path: "/dev/zero" } } },
      { id: "z2", cpu: { trace: { format: "planetlab", path: "/dev/urandom" } } },
      { id: "z3", io: { trace: { format: "msr", path: "/dev/urandom", disk: "d0" } } },
      { id: "z4", cpu: { trace: { format: "planetlab", path: "cpu.txt" } } },
    ];
    for (const body of bodies) {
      const started = performance.now();
      const answer = await server.call("POST", "/v1/vms", body);
      assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
      assert.equal(answer.status, 400, answer.text);
      assert.match(
        answer.json.error.message,
        /trace files are not accepted through the API: the server was started without --data-dir/,
      );
    }
    assert.deepEqual(server.live.state().vms.map((vm) => vm.id), ["a"]);
  } finally {
    await server.close();
  }
});

Deno.test("with --data-dir, only regular files inside it, symbolic links checked", async () => {
  const { root, data, outside } = await dataFolder();
  const server = await testServer(ioWorkload(), { dataDir: data });
  try {
    const refused: [unknown, RegExp][] = [
      ["/dev/zero", /lies outside it/],
      ["/dev/urandom", /lies outside it/],
      [outside, /lies outside it/],
      ["../secret.txt", /lies outside it/],
      ["link.txt", /lies outside it/],
      ["zero.txt", /lies outside it/],
      [".", /expected a regular file, got a directory/],
      ["missing.txt", /no such file/],
    ];
    for (const [path, reason] of refused) {
      const started = performance.now();
      const answer = await server.call("POST", "/v1/vms", {
        id: "t",
        cpu: { trace: { format: "planetlab", path } },
      });
      assert.ok(performance.now() - started < 2000, `${path}: ${performance.now() - started} ms`);
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.json.error.message, /^Body: cpu: cannot read /);
      assert.match(answer.json.error.message, reason, answer.json.error.message);
      assert.doesNotMatch(answer.text, /SECRET/);
      // The answer names the path as sent, never the folder it resolves in.
      if (path !== outside) assert.ok(!answer.text.includes(root), answer.text);
    }
    const cpu = await server.call("POST", "/v1/vms", {
      id: "t",
      cpu: { trace: { format: "planetlab", path: "cpu.txt", interval: "10ms" } },
    });
    assert.equal(cpu.status, 201, cpu.text);
    const io = await server.call("POST", "/v1/vms", {
      id: "u",
      io: { trace: { format: "msr", path: join(data, "web.csv"), disk: "d0" } },
    });
    assert.equal(io.status, 201, io.text);
    await server.call("POST", "/v1/sim/step", { by: "1s" });
    const state = server.live.state();
    assert.ok(state.vms.find((vm) => vm.id === "t")!.cpu.runNs > 0);
    assert.equal(state.vms.find((vm) => vm.id === "u")!.io!.completed, 3);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a VM refused for its I/O trace leaves no trace: the same id then succeeds", async () => {
  const { root, data } = await dataFolder();
  const stateDir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  const server = await testServer(ioWorkload(), { dataDir: data, stateDir });
  let hash = "";
  try {
    await server.call("POST", "/v1/sim/step", { by: "50ms" });
    const bad = await server.call("POST", "/v1/vms", {
      id: "b",
      cpu: { pattern: "cpu-bound" },
      io: { trace: { format: "msr", path: "bad.csv", disk: "d0" } },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(
      bad.json.error.message,
      "Body: io.trace[0]: bad.csv:2: expected Type Read or Write",
    );
    const before = server.live.state();
    assert.deepEqual(before.vms.map((vm) => vm.id), ["a"]);
    assert.equal(before.mutations, 1);
    const good = await server.call("POST", "/v1/vms", {
      id: "b",
      cpu: { pattern: "cpu-bound" },
      io: { trace: { format: "msr", path: "web.csv", disk: "d0" } },
    });
    assert.equal(good.status, 201, good.text);
    assert.equal(good.json.index, 1);
    const later = await server.call("POST", "/v1/vms", {
      id: "c",
      io: { generate: { disk: "d0", depth: 1 } },
    });
    assert.equal(later.status, 201, later.text);
    await server.call("POST", "/v1/sim/step", { by: "2s" });
    const state = server.live.state();
    assert.deepEqual(state.vms.map((vm) => [vm.id, vm.index]), [["a", 0], ["b", 1], ["c", 2]]);
    assert.equal(state.vms[1]!.io!.completed, 3);
    assert.ok((state.vms[2]!.io!.completed as number) > 0);
    assert.deepEqual(state.incidents, []);
    hash = internals(server.live.simulation).kernel.log.peek();
  } finally {
    await server.close();
  }
  try {
    // The audit log holds what was acknowledged, and replays to the same kernel.
    const log = (await Deno.readTextFile(join(stateDir, "audit.jsonl"))).trim().split("\n");
    assert.deepEqual(log.slice(1).map((line) => JSON.parse(line).op), [
      "sim.step",
      "vm.add",
      "vm.add",
      "sim.step",
    ]);
    const warnings: string[] = [];
    const resumed = await LiveKernel.resume(stateDir, {
      dataDir: data,
      onWarning: (warning) => warnings.push(warning),
    });
    try {
      assert.deepEqual(warnings, []);
      assert.equal(internals(resumed.simulation).kernel.log.peek(), hash);
    } finally {
      await resumed.close();
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a CPU-only kernel refuses an I/O VM without taking its id", async () => {
  const server = await testServer(cpuWorkload());
  try {
    const refused = await server.call("POST", "/v1/vms", {
      id: "x",
      io: { generate: { disk: "d0", depth: 1 } },
    });
    assert.equal(refused.status, 400, refused.text);
    const added = await server.call("POST", "/v1/vms", { id: "x", cpu: { pattern: "cpu-bound" } });
    assert.equal(added.status, 201, added.text);
  } finally {
    await server.close();
  }
});
