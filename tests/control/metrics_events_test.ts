import assert from "node:assert/strict";
import { renderMetrics } from "../../core/control/metrics.ts";
import { Histogram } from "../../core/engine/histogram.ts";
import { postedSource, testServer } from "./_helpers.ts";

const THROWS = new URL("../fixtures/cpu/throws.ts", import.meta.url);
const PROMTOOL = "/usr/bin/promtool";
const hasPromtool = (() => {
  try {
    return Deno.statSync(PROMTOOL).isFile;
  } catch {
    return false;
  }
})();
if (!hasPromtool) {
  console.warn(
    "metrics_events_test: promtool checks skipped: /usr/bin/promtool is missing (apt-get install prometheus)",
  );
}

async function promtool(text: string): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    output: decoder.decode(output.stdout) + decoder.decode(output.stderr),
  };
}

Deno.test("GET /v1/metrics: Prometheus text that promtool accepts, labelled by vm and pcpu", async () => {
  const server = await testServer();
  try {
    await server.call("POST", "/v1/sim/step", { by: "300ms" });
    await server.call("PATCH", "/v1/vms/vm-1", { weight: 512, cap: 150 });
    await server.call("POST", "/v1/vms", { id: "new.vm:1", cpu: { pattern: "cpu-bound" } });
    await server.call("DELETE", "/v1/vms/vm-4");
    await server.call("PUT", "/v1/policies/cpu", { source: postedSource(THROWS) });
    await server.call("POST", "/v1/sim/step", { by: "300ms" });
    const { status, text, headers } = await server.call("GET", "/v1/metrics");
    assert.equal(status, 200);
    assert.match(headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    assert.match(
      text,
      /^# HELP hyperhook_simulated_seconds .+\n# TYPE hyperhook_simulated_seconds gauge\nhyperhook_simulated_seconds 0\.6\n/,
    );
    assert.match(text, /\nhyperhook_vm_weight\{vm="vm-1"\} 512\n/);
    assert.match(text, /\nhyperhook_vm_cap_ratio\{vm="vm-1"\} 1\.5\n/);
    assert.match(text, /\nhyperhook_vm_weight\{vm="new.vm:1"\} 256\n/);
    assert.doesNotMatch(text, /vm="vm-4"/);
    assert.match(text, /\nhyperhook_pcpu_busy_seconds_total\{pcpu="1"\} [\d.]+\n/);
    assert.match(text, /\nhyperhook_incidents_total\{domain="cpu",kind="error"\} 1\n/);
    assert.match(text, /\nhyperhook_policy_info\{domain="cpu",policy="rr",.*under_test="0"\} 1\n/);
    assert.match(text, /\nhyperhook_http_requests_total\{code="200"\} \d+\n/);
    // Histogram buckets are cumulative and end with +Inf = _count.
    const buckets = [
      ...text.matchAll(/hyperhook_vm_cpu_latency_seconds_bucket\{vm="vm-2",le="([^"]+)"\} (\d+)/g),
    ];
    assert.equal(buckets.length, 17);
    const counts = buckets.map((match) => Number(match[2]));
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b));
    assert.equal(buckets.at(-1)![1], "+Inf");
    const count = /hyperhook_vm_cpu_latency_seconds_count\{vm="vm-2"\} (\d+)/.exec(text)![1];
    assert.equal(counts.at(-1), Number(count));
    if (hasPromtool) {
      const checked = await promtool(text);
      assert.equal(checked.code, 0, checked.output);
      assert.equal(checked.output.trim(), "");
    }
  } finally {
    await server.close();
  }
});

Deno.test("metrics of the memory and I/O domains, labelled by vm and disk, pass promtool", async () => {
  const workload = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/serve/contended.json", import.meta.url)),
  );
  const server = await testServer(workload);
  try {
    await server.call("POST", "/v1/sim/step", { by: "500ms" });
    await server.call("PATCH", "/v1/vms/mem", { memory: { target: 100 } });
    const { text } = await server.call("GET", "/v1/metrics");
    assert.match(text, /\nhyperhook_memory_faults_total [1-9]\d*\n/);
    assert.match(text, /\nhyperhook_vm_memory_faults_total\{vm="mem"\} [1-9]\d*\n/);
    assert.match(text, /\nhyperhook_vm_memory_target_frames\{vm="mem"\} 100\n/);
    assert.match(text, /\nhyperhook_disk_requests_total\{disk="sda"\} [1-9]\d*\n/);
    assert.match(text, /\nhyperhook_vm_io_latency_seconds_bucket\{vm="disk",le="\+Inf"\} [1-9]/);
    if (hasPromtool) {
      const checked = await promtool(text);
      assert.equal(checked.code, 0, checked.output);
      assert.equal(checked.output.trim(), "");
    }
  } finally {
    await server.close();
  }
});

Deno.test({
  name: "promtool rejects what it should (the check is real)",
  ignore: !hasPromtool,
  async fn() {
    const bad = renderMetrics([{
      name: "hyperhook_things",
      help: "Things",
      type: "counter",
      samples: [{ value: 1 }],
    }]);
    const checked = await promtool(bad);
    assert.match(checked.output, /counter metrics should have "_total" suffix/);
  },
});

Deno.test("renderMetrics: histogram buckets in seconds from a ns histogram", () => {
  const histogram = new Histogram();
  for (const ns of [5_000, 50_000, 2_000_000, 2_000_000_000]) histogram.record(ns);
  const text = renderMetrics([{
    name: "x_seconds",
    help: "X",
    type: "histogram",
    samples: [{ labels: { vm: "a" }, histogram }],
  }, {
    name: "y",
    help: "Back\\slash\nnewline",
    type: "gauge",
    samples: [{ labels: { policy: 'say "hi"\\\n' }, value: Infinity }],
  }]);
  assert.match(text, /# HELP y Back\\\\slash\\nnewline\n/);
  assert.ok(text.includes('y{policy="say \\"hi\\"\\\\\\n"} +Inf\n'));
  assert.match(text, /x_seconds_bucket\{vm="a",le="0.00001"\} 1\n/);
  assert.match(text, /x_seconds_bucket\{vm="a",le="0.0001"\} 2\n/);
  assert.match(text, /x_seconds_bucket\{vm="a",le="0.0025"\} 3\n/);
  assert.match(text, /x_seconds_bucket\{vm="a",le="1"\} 3\n/);
  assert.match(text, /x_seconds_bucket\{vm="a",le="\+Inf"\} 4\n/);
  assert.match(text, /x_seconds_sum\{vm="a"\} 2.002055\n/);
  assert.match(text, /x_seconds_count\{vm="a"\} 4\n/);
});

/** Reads SSE events from a response until `enough` says stop. */
async function readEvents(
  response: Response,
  enough: (events: { event: string; data: unknown }[]) => boolean,
  ms = 5000,
): Promise<{ event: string; data: unknown }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: unknown }[] = [];
  let buffer = "";
  const timer = setTimeout(() => reader.cancel(), ms);
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) {
          events.push({ event, data: JSON.parse(data) });
        }
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel();
  }
  return events;
}

Deno.test("GET /v1/events: hello, samples, changes and incidents as server-sent events", async () => {
  const server = await testServer(undefined, {
    paused: false,
    speed: 20,
    start: true,
    sampleMs: 50,
  });
  try {
    const response = await server.app.request("/v1/events", {
      headers: { authorization: "Bearer test-token-0123456789" },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    assert.equal(server.live.subscribers, 1);
    const mutating = (async () => {
      await new Promise((done) => setTimeout(done, 200));
      await server.call("PATCH", "/v1/vms/vm-3", { weight: 77 });
      await server.call("PUT", "/v1/policies/cpu", { source: postedSource(THROWS) });
    })();
    const events = await readEvents(
      response,
      (seen) =>
        seen.some((e) => e.event === "incident") &&
        seen.filter((e) => e.event === "sample").length >= 3,
    );
    await mutating;
    const names = events.map((e) => e.event);
    assert.equal(names[0], "hello");
    assert.equal((events[0]!.data as { workload: string }).workload, "live-test");
    const samples = events.filter((e) => e.event === "sample").map((e) =>
      e.data as { nowNs: number; vms: Record<string, { runNs: number }>; pcpus: number[] }
    );
    assert.ok(samples.length >= 3);
    assert.ok(samples.at(-1)!.nowNs > samples[0]!.nowNs);
    assert.deepEqual(Object.keys(samples[0]!.vms), ["vm-1", "vm-2", "vm-3", "vm-4"]);
    const change = events.find((e) => e.event === "change")!.data as {
      op: string;
      result: { params: { weight: number } };
    };
    assert.equal(change.op, "vm.patch");
    assert.equal(change.result.params.weight, 77);
    const incident = events.find((e) => e.event === "incident")!.data as { policy: string };
    assert.equal(incident.policy, "throws");
    // The client went away: the kernel forgets it.
    await new Promise((done) => setTimeout(done, 100));
    assert.equal(server.live.subscribers, 0);
  } finally {
    await server.close();
  }
});

Deno.test("an event stream ends when the kernel closes", async () => {
  const server = await testServer();
  const response = await server.app.request("/v1/events", {
    headers: { authorization: "Bearer test-token-0123456789" },
  });
  const closing = server.close();
  const text = await response.text();
  await closing;
  assert.match(text, /^retry: 1000\n\nevent: hello\n/);
});
