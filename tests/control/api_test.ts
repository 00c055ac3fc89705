import assert from "node:assert/strict";
import { cpuWorkload, postedSource, testServer, TOKEN } from "./_helpers.ts";
import { internals } from "../../core/simulation/internals.ts";

const STRIDE = new URL("../fixtures/serve/stride.ts", import.meta.url).pathname;

Deno.test("auth: /healthz is open, everything else needs the bearer token", async () => {
  const server = await testServer();
  try {
    assert.equal((await server.call("GET", "/healthz", undefined, { token: null })).status, 200);
    for (const path of ["/v1/state", "/v1/metrics", "/openapi.json", "/", "/nowhere"]) {
      const missing = await server.call("GET", path, undefined, { token: null });
      assert.equal(missing.status, 401, path);
      assert.equal(missing.json.error.code, "unauthorized");
      assert.match(missing.json.error.message, /^Missing or wrong bearer token/);
      const wrong = await server.call("GET", path, undefined, { token: TOKEN + "x" });
      assert.equal(wrong.status, 401, path);
    }
    const lower = await server.call("GET", "/v1/state", undefined, {
      token: null,
      headers: { authorization: `bearer ${TOKEN}` },
    });
    assert.equal(lower.status, 200);
    const mutation = await server.call("PATCH", "/v1/vms/vm-1", { weight: 9 }, { token: "nope" });
    assert.equal(mutation.status, 401);
    assert.equal(server.live.state().vms[0]!.params.weight, 256);
  } finally {
    await server.close();
  }
});

Deno.test("the dashboard takes ?token= once, then a cookie; the page carries the token", async () => {
  const server = await testServer();
  try {
    const first = await server.app.request(`/?token=${TOKEN}`);
    assert.equal(first.status, 200);
    const cookie = first.headers.get("set-cookie")!;
    assert.match(cookie, /^hyperhook_token=.*HttpOnly; SameSite=Strict/);
    const page = await first.text();
    assert.match(page, /<html/);
    assert.ok(page.includes(TOKEN));
    assert.match(first.headers.get("content-security-policy")!, /default-src 'none'/);
    const again = await server.app.request("/", { headers: { cookie: cookie.split(";")[0]! } });
    assert.equal(again.status, 200);
    await again.text();
    // The cookie opens the page only, never the API.
    const api = await server.app.request("/v1/state", {
      headers: { cookie: cookie.split(";")[0]! },
    });
    assert.equal(api.status, 401);
    await api.text();
  } finally {
    await server.close();
  }
});

Deno.test("GET /v1/state: time, speed, VMs with parameters, pCPUs, policies, incidents", async () => {
  const server = await testServer();
  try {
    await server.call("POST", "/v1/sim/step", { by: "100ms" });
    const { status, json: state } = await server.call("GET", "/v1/state");
    assert.equal(status, 200);
    assert.equal(state.workload, "live-test");
    assert.equal(state.nowNs, 100_000_000);
    assert.equal(state.paused, true);
    assert.equal(state.speed, 1);
    assert.equal(state.vms.length, 4);
    assert.deepEqual(state.vms[0].params, { weight: 256, cap: 0, priority: 0, sched: {} });
    assert.equal(state.pcpus.length, 2);
    assert.equal(state.policies.cpu.name, "rr");
    assert.match(state.policies.cpu.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(state.incidents, []);
    const run = state.vms.reduce(
      (sum: number, vm: { cpu: { runNs: number } }) => sum + vm.cpu.runNs,
      0,
    );
    const busy = state.pcpus.reduce((sum: number, p: { busyNs: number }) => sum + p.busyNs, 0);
    assert.equal(run, busy);
    assert.ok(busy > 150_000_000 && busy <= 200_000_000, String(busy));
  } finally {
    await server.close();
  }
});

Deno.test("PATCH /v1/vms/{id} changes parameters live; bad input is 400, unknown VM 404", async () => {
  const server = await testServer();
  try {
    const ok = await server.call("PATCH", "/v1/vms/vm-2", {
      weight: 1024,
      cap: 50,
      sched: { budget: "2ms" },
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.params, {
      weight: 1024,
      cap: 50,
      priority: 0,
      sched: { budget: 2_000_000 },
    });
    assert.equal(server.live.state().vms[1]!.params.weight, 1024);
    const cases: [unknown, RegExp][] = [
      [{ weight: 0 }, /^Body: weight: expected a value of at least 1, got 0$/],
      [{ weight: "heavy" }, /^Body: weight: expected a number, got "heavy"$/],
      [{ colour: "red" }, /^Body: \(top level\): unknown key "colour"$/],
      [{}, /expected at least one of weight/],
      [[1, 2], /expected an object/],
    ];
    for (const [body, message] of cases) {
      const answer = await server.call("PATCH", "/v1/vms/vm-2", body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.json.error.code, "invalid");
      assert.match(answer.json.error.message, message);
    }
    const garbled = await server.call("PATCH", "/v1/vms/vm-2", "{weight: 3");
    assert.equal(garbled.status, 400);
    assert.match(garbled.json.error.message, /^Body: not valid JSON/);
    const empty = await server.call("PATCH", "/v1/vms/vm-2");
    assert.equal(empty.status, 400);
    const unknown = await server.call("PATCH", "/v1/vms/ghost", { weight: 3 });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.message, `No VM "ghost" in this kernel`);
    const memory = await server.call("PATCH", "/v1/vms/vm-2", { memory: { target: 10 } });
    assert.equal(memory.status, 409);
    assert.equal(memory.json.error.code, "no_domain");
    const big = await server.call("PATCH", "/v1/vms/vm-2", {
      sched: { blob: "x".repeat(2 << 20) },
    });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, "payload_too_large");
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { deep };
    const nested = await server.call("PATCH", "/v1/vms/vm-2", { sched: { deep } });
    assert.equal(nested.status, 400);
    assert.equal(server.live.mutations, 1);
  } finally {
    await server.close();
  }
});

Deno.test("POST /v1/vms adds a VM that runs; a reused id is 409; DELETE removes it", async () => {
  const server = await testServer();
  try {
    await server.call("POST", "/v1/sim/step", { by: "50ms" });
    const added = await server.call("POST", "/v1/vms", {
      id: "new-1",
      vcpus: 2,
      weight: 512,
      cpu: { pattern: "cpu-bound" },
    });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.id, "new-1");
    assert.equal(added.json.vcpus, 2);
    assert.equal(added.json.params.weight, 512);
    await server.call("POST", "/v1/sim/step", { by: "200ms" });
    const vm = server.live.state().vms.find((vm) => vm.id === "new-1")!;
    assert.ok(vm.arrived && vm.cpu.runNs > 0);
    const again = await server.call("POST", "/v1/vms", {
      id: "new-1",
      cpu: { pattern: "cpu-bound" },
    });
    assert.equal(again.status, 409);
    const bad = await server.call("POST", "/v1/vms", { id: "x y" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^Body: id: /);
    const step = await server.call("POST", "/v1/vms", {
      id: "bad-step",
      cpu: { program: [{ run: "5ms", sleep: "1ms" }] },
    });
    assert.equal(step.status, 400);
    assert.match(step.json.error.message, /cpu\.program\[0\]/);
    const removed = await server.call("DELETE", "/v1/vms/new-1");
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.json, { id: "new-1", removedNs: 250_000_000 });
    assert.equal((await server.call("DELETE", "/v1/vms/new-1")).status, 404);
    assert.equal((await server.call("PATCH", "/v1/vms/new-1", { weight: 2 })).status, 404);
    const runBefore = server.live.state().vms.find((vm) => vm.id === "new-1")!.cpu.runNs;
    await server.call("POST", "/v1/sim/step", { by: "100ms" });
    const after = server.live.state().vms.find((vm) => vm.id === "new-1")!;
    assert.equal(after.cpu.runNs, runBefore);
    assert.equal(after.removedNs, 250_000_000);
    assert.equal(server.live.state().incidents.length, 0);
  } finally {
    await server.close();
  }
});

Deno.test("PUT /v1/policies/cpu swaps without a gap; a failing policy leaves the old one", async () => {
  const server = await testServer();
  try {
    await server.call("POST", "/v1/sim/step", { by: "20ms" });
    const swapped = await server.call("PUT", "/v1/policies/cpu", { use: "fcfs" });
    assert.equal(swapped.status, 200, swapped.text);
    assert.equal(swapped.json.policy.name, "fcfs");
    assert.equal(server.live.state().policies.cpu!.name, "fcfs");

    const unknown = await server.call("PUT", "/v1/policies/cpu", { use: "no-such-policy" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /Unknown cpu policy "no-such-policy"/);

    const badConfig = await server.call("PUT", "/v1/policies/cpu", {
      use: "rr",
      config: { quantum: "fast" },
    });
    assert.equal(badConfig.status, 400);
    assert.equal(badConfig.json.error.code, "invalid_config");
    assert.match(badConfig.json.error.message, /fcfs keeps running$/);

    const failing = await server.call("PUT", "/v1/policies/cpu", {
      source: `export default { apiVersion: 1, domain: "cpu", name: "broken",
        start() { throw new Error("cannot start today"); } };`,
    });
    assert.equal(failing.status, 409, failing.text);
    assert.equal(failing.json.error.code, "policy_failed");
    assert.match(failing.json.error.message, /cannot start today.*fcfs keeps running/);
    assert.equal(server.live.state().policies.cpu!.name, "fcfs");

    const syntax = await server.call("PUT", "/v1/policies/cpu", { source: "export default {" });
    assert.equal(syntax.status, 400);

    // A memory policy for the CPU domain is refused before its create runs, by its domain.
    const memoryPolicy = new URL("../../examples/policies/working_set.ts", import.meta.url);
    const wrong = await server.call("PUT", "/v1/policies/cpu", {
      source: postedSource(memoryPolicy),
    });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(wrong.json.error.code, "invalid_config");
    assert.match(
      wrong.json.error.message,
      /^Policy "working-set" schedules the memory domain; expected a policy for the cpu domain; fcfs keeps running$/,
    );

    const both = await server.call("PUT", "/v1/policies/cpu", { use: "rr", source: "x" });
    assert.equal(both.status, 400);
    assert.match(both.json.error.message, /exactly one of "use" or "source"/);
    assert.equal((await server.call("PUT", "/v1/policies/disk", { use: "rr" })).status, 404);
    const memory = await server.call("PUT", "/v1/policies/memory", { use: "lru" });
    assert.equal(memory.status, 409);

    // Module text that imports the SDK by its package name.
    const source = await Deno.readTextFile(STRIDE);
    const posted = await server.call("PUT", "/v1/policies/cpu", {
      source: source.replace("../../../core/policy/mod.ts", "@hyperhook/hyperhook/policy"),
      config: { quantum: "2ms" },
    });
    assert.equal(posted.status, 200, posted.text);
    assert.equal(posted.json.policy.name, "stride");
    assert.deepEqual(posted.json.policy.config, { quantum: "2ms" });
    await server.call("POST", "/v1/sim/step", { by: "100ms" });
    const state = server.live.state();
    assert.deepEqual(state.incidents, []);
    assert.ok(state.pcpus.every((pcpu) => pcpu.busyNs > 100_000_000));
  } finally {
    await server.close();
  }
});

Deno.test("sim: pause, step, speed, resume; step needs a pause; bad speeds are 400", async () => {
  const server = await testServer();
  try {
    const first = await server.call("POST", "/v1/sim/step");
    assert.equal(first.status, 200);
    assert.equal(first.json.paused, true);
    const byTen = await server.call("POST", "/v1/sim/step", { by: "10ms" });
    assert.equal(byTen.json.nowNs, first.json.nowNs + 10_000_000);
    assert.equal((await server.call("POST", "/v1/sim/step", { by: "soon" })).status, 400);
    assert.equal((await server.call("POST", "/v1/sim/step", { by: "0ms" })).status, 400);
    const long = await server.call("POST", "/v1/sim/step", { by: "2m" });
    assert.equal(long.status, 400);
    assert.match(long.json.error.message, /at most 60s/);
    const speed = await server.call("PUT", "/v1/sim/speed", { speed: "max" });
    assert.deepEqual(speed.json.speed, "max");
    for (const bad of [{ speed: 0 }, { speed: -1 }, { speed: "fast" }, {}, { speed: 2, x: 1 }]) {
      assert.equal((await server.call("PUT", "/v1/sim/speed", bad)).status, 400);
    }
    const zero = await server.call("PUT", "/v1/sim/speed", { speed: 0 });
    assert.equal(zero.json.error.message, "Body: speed: expected a value above 0, got 0");
    const fast = await server.call("PUT", "/v1/sim/speed", { speed: "fast" });
    assert.match(fast.json.error.message, /^Body: speed: expected a number above 0 .* or "max"/);
    const resumed = await server.call("POST", "/v1/sim/resume");
    assert.equal(resumed.json.paused, false);
    const refused = await server.call("POST", "/v1/sim/step");
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, "running");
    assert.equal((await server.call("POST", "/v1/sim/pause", { hold: true })).status, 400);
    assert.equal((await server.call("POST", "/v1/sim/pause", {})).json.paused, true);
    assert.equal((await server.call("POST", "/v1/sim/rewind")).status, 404);
    assert.equal(server.live.mutations, 5);
  } finally {
    await server.close();
  }
});

Deno.test("the kernel advances at speed while resumed, and stops when paused", async () => {
  const server = await testServer(cpuWorkload(), { paused: false, speed: 2, start: true });
  try {
    await new Promise((done) => setTimeout(done, 300));
    const paused = await server.call("POST", "/v1/sim/pause");
    assert.ok(paused.json.nowNs >= 350_000_000 && paused.json.nowNs <= 900_000_000, paused.text);
    await new Promise((done) => setTimeout(done, 100));
    assert.equal(internals(server.live.simulation).kernel.now, paused.json.nowNs);
  } finally {
    await server.close();
  }
});

Deno.test("mutations after the run ended are 409; unknown routes are 404", async () => {
  const server = await testServer(cpuWorkload({ stopAt: "50ms" }));
  try {
    await server.call("POST", "/v1/sim/step", { by: "1s" });
    assert.equal(server.live.state().ended, true);
    assert.equal(server.live.state().nowNs, 50_000_000);
    const late = await server.call("PATCH", "/v1/vms/vm-1", { weight: 3 });
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, "ended");
    for (const [method, path] of [["GET", "/v2/state"], ["POST", "/v1/state"], ["GET", "/v1"]]) {
      const answer = await server.call(method!, path!);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.json.error.code, "not_found");
    }
  } finally {
    await server.close();
  }
});

Deno.test("GET /openapi.json is generated from the request schemas", async () => {
  const server = await testServer();
  try {
    const { status, json } = await server.call("GET", "/openapi.json");
    assert.equal(status, 200);
    assert.equal(json.openapi, "3.1.0");
    const schemas = json.components.schemas;
    assert.equal(schemas.VmPatchRequest.properties.weight.maximum, 65535);
    assert.equal(schemas.VmCreateRequest.properties.id.pattern, "^[A-Za-z0-9_.:-]+$");
    assert.deepEqual(schemas.SpeedRequest.required, ["speed"]);
    assert.ok(json.paths["/v1/vms/{id}"].patch);
    assert.ok(json.paths["/v1/policies/{domain}"].put);
  } finally {
    await server.close();
  }
});

Deno.test("memory targets and I/O parameters change live when the host has them", async () => {
  const workload = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/serve/contended.json", import.meta.url)),
  );
  const server = await testServer(workload);
  try {
    await server.call("POST", "/v1/sim/step", { by: "200ms" });
    const target = await server.call("PATCH", "/v1/vms/mem", { memory: { target: 64 } });
    assert.equal(target.status, 200, target.text);
    assert.equal(target.json.memory.target, 64);
    await server.call("POST", "/v1/sim/step", { by: "100ms" });
    const mem = server.live.state().vms.find((vm) => vm.id === "mem")!;
    assert.ok((mem.memory!.resident as number) <= 64);
    const none = await server.call("PATCH", "/v1/vms/a", { memory: { target: 10 } });
    assert.equal(none.status, 409);
    assert.equal(none.json.error.code, "no_memory");
    const big = await server.call("PATCH", "/v1/vms/mem", { memory: { target: 100000 } });
    assert.equal(big.status, 400);
    const io = await server.call("PATCH", "/v1/vms/disk", { io: { weight: 500, iops: 50 } });
    assert.equal(io.status, 200, io.text);
    // The state shows the parameters; io.max as in workloads, keeping the limits not named.
    assert.equal(io.json.io.weight, 500);
    assert.deepEqual(io.json.io.max, { rbps: 0, wbps: 0, riops: 50, wiops: 50 });
    const max = await server.call("PATCH", "/v1/vms/disk", {
      io: { max: { wbps: 1e6, riops: 0 } },
    });
    assert.equal(max.status, 200, max.text);
    assert.deepEqual(max.json.io.max, { rbps: 0, wbps: 1e6, riops: 0, wiops: 50 });
    const negative = await server.call("PATCH", "/v1/vms/disk", { io: { max: { rbps: -1 } } });
    assert.equal(negative.status, 400, negative.text);
    assert.match(negative.json.error.message, /^Body: io\.max\.rbps: /);
    // io.weight is cgroup's 1..10000, as in a workload; above it is refused, not clamped.
    const heavy = await server.call("PATCH", "/v1/vms/disk", { io: { weight: 10001 } });
    assert.equal(heavy.status, 400, heavy.text);
    assert.equal(heavy.json.error.message, "Body: io.weight: expected at most 10000, got 10001");
    const added = await server.call("POST", "/v1/vms", {
      id: "mem-2",
      memory: { pattern: "uniform", pages: 64, count: 1000 },
      io: { generate: { disk: "sda", depth: 1, size: 4096 } },
    });
    assert.equal(added.status, 201, added.text);
    const badDisk = await server.call("POST", "/v1/vms", {
      id: "io-2",
      io: { generate: { disk: "sdz", depth: 1 } },
    });
    assert.equal(badDisk.status, 400, badDisk.text);
    await server.call("POST", "/v1/sim/step", { by: "300ms" });
    const state = server.live.state();
    const fresh = state.vms.find((vm) => vm.id === "mem-2")!;
    assert.ok((fresh.memory!.refs as number) > 0);
    assert.ok((fresh.io!.requests as number) > 0);
    assert.equal((await server.call("DELETE", "/v1/vms/mem-2")).status, 200);
    assert.deepEqual(state.incidents, []);
    const domains = state.domains as { memory: { faults: number }; io: { completed: number } };
    assert.ok(domains.memory.faults > 0 && domains.io.completed > 0);
  } finally {
    await server.close();
  }
});

Deno.test("a VM's trace path cannot be used to read a file through the server", async () => {
  const data = await Deno.makeTempDir();
  const server = await testServer(cpuWorkload(), { dataDir: data });
  const secret = `${data}/secret.txt`;
  try {
    await Deno.writeTextFile(secret, "SECRET-LINE\n");
    const answer = await server.call("POST", "/v1/vms", {
      id: "reader",
      cpu: { trace: { format: "planetlab", path: "secret.txt" } },
    });
    assert.equal(answer.status, 400);
    assert.match(answer.json.error.message, /expected an integer utilisation from 0 to 100$/);
    assert.doesNotMatch(answer.text, /SECRET/);
  } finally {
    await Deno.remove(data, { recursive: true });
    await server.close();
  }
});
