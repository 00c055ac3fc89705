// The `hello` event of /v1/events carries what a client connecting late has missed: the recent
// samples (taken with no client connected too) and the changes worth a mark on a chart.
import assert from "node:assert/strict";
import { testServer, TOKEN } from "./_helpers.ts";

/** The first event of a fresh /v1/events stream. */
async function hello(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
) {
  const response = await app.request("/v1/events", {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("The stream ended before hello");
      buffer += value;
      const block = /event: hello\ndata: (.*)\n\n/.exec(buffer);
      if (block !== null) return JSON.parse(block[1]!);
    }
  } finally {
    await reader.cancel();
  }
}

Deno.test("hello: recent samples and marked changes, for a client that connects late", async () => {
  const server = await testServer(undefined, {
    paused: false,
    speed: 20,
    start: true,
    sampleMs: 20,
  });
  try {
    assert.equal(server.live.subscribers, 0);
    const stateAt = async () => (await server.call("GET", "/v1/state")).json.nowNs as number;
    while (await stateAt() < 200_000_000) await new Promise((done) => setTimeout(done, 20));
    await server.call("PATCH", "/v1/vms/vm-3", { weight: 77 });
    await server.call("PUT", "/v1/policies/cpu", { use: "fcfs" });
    const swapped = await stateAt();
    while (await stateAt() < swapped + 100_000_000) {
      await new Promise((done) => setTimeout(done, 20));
    }
    await server.call("POST", "/v1/sim/pause");
    const data = await hello(server.app);
    assert.equal(data.workload, "live-test");
    const samples = data.history.samples as { nowNs: number; vms: Record<string, unknown> }[];
    assert.ok(samples.length >= 3, `samples: ${samples.length}`);
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.nowNs >= samples[i - 1]!.nowNs);
    assert.ok(samples[0]!.nowNs < 200_000_000 && samples.at(-1)!.nowNs >= swapped);
    assert.deepEqual(Object.keys(samples[0]!.vms), ["vm-1", "vm-2", "vm-3", "vm-4"]);
    // Pausing changes no figure: not marked.
    const changes = data.history.changes as {
      op: string;
      atNs: number;
      result: { params?: { weight: number }; policy?: { name: string } };
    }[];
    assert.deepEqual(changes.map((change) => change.op), ["vm.patch", "policy.swap"]);
    assert.equal(changes[0]!.result.params!.weight, 77);
    assert.equal(changes[1]!.result.policy!.name, "fcfs");
    assert.equal(changes[1]!.atNs <= swapped, true);
  } finally {
    await server.close();
  }
});
