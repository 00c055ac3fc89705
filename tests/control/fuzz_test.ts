// Fuzzing the control API: 1500 random and malformed requests against a running kernel must all
// be answered with 2xx or a JSON error of 400, 401, 404, 409 or 413; never a 5xx, and the server
// still answers afterwards. Then malformed bytes over a real socket. Seeded: a failure names its
// seed and request.
import assert from "node:assert/strict";
import { createControlApp } from "../../core/control/app.ts";
import { cpuWorkload, testServer, TOKEN } from "./_helpers.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261101);
const COUNT = 1500;
const ALLOWED = new Set([200, 201, 400, 401, 404, 409, 413]);

function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  "weight",
  "cap",
  "priority",
  "sched",
  "memory",
  "io",
  "target",
  "use",
  "source",
  "config",
  "isolation",
  "speed",
  "by",
  "id",
  "vcpus",
  "cpu",
  "pattern",
  "program",
  "run",
  "sleep",
  "arrive",
  "repeat",
  "quantum",
  "constructor",
  "",
];
const STRINGS = [
  "",
  "rr",
  "fcfs",
  "srtf",
  "credit",
  "max",
  "none",
  "worker",
  "process",
  "cpu-bound",
  "interactive",
  "bursty",
  "10ms",
  "1ns",
  "0ms",
  "-5ms",
  "1e400s",
  "vm-1",
  "vm-2",
  "web-1",
  "../../etc/passwd",
  "./nope.ts",
  "npm:left-pad",
  "https://example.invalid/p.ts",
  "\u0000",
  "é😀",
  "%ZZ",
  "<script>",
  "x".repeat(300),
];

Deno.test({
  name: `fuzz: ${COUNT} random and malformed requests never get a 5xx (seed ${SEED})`,
  async fn() {
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const chance = (p: number) => random() < p;
    const number = () =>
      pick([
        0,
        1,
        -1,
        2,
        256,
        65535,
        65536,
        1e308,
        -1e308,
        0.5,
        Math.floor(random() * 5000),
        Number.MAX_SAFE_INTEGER,
        2 ** 53 + 1,
      ]);
    const value = (depth: number): unknown => {
      const roll = random();
      if (depth > 3 || roll < 0.3) return number();
      if (roll < 0.55) return pick(STRINGS);
      if (roll < 0.6) return chance(0.5);
      if (roll < 0.65) return null;
      if (roll < 0.75) {
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      }
      return object(depth + 1);
    };
    const object = (depth: number): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      const keys = Math.floor(random() * 4);
      for (let i = 0; i < keys; i++) out[pick(FIELDS)] = value(depth);
      return out;
    };
    const vmBody = () => ({
      id: chance(0.8) ? `fz-${Math.floor(random() * 60)}` : pick(STRINGS),
      ...(chance(0.7) ? { vcpus: pick([1, 2, 4, 0, 5000, 1.5]) } : {}),
      ...(chance(0.5) ? { weight: number() } : {}),
      ...(chance(0.8)
        ? {
          cpu: chance(0.5) ? { pattern: pick(["cpu-bound", "interactive", "bursty", "nope"]) } : {
            program: [{ run: pick(["1ms", "5ms", "0ms", 5]) }, { sleep: pick(["2ms", "x"]) }],
            repeat: pick([true, 3, 0, "yes"]),
          },
        }
        : {}),
    });
    const body = (): string | undefined => {
      const roll = random();
      if (roll < 0.15) return undefined;
      if (roll < 0.55) return JSON.stringify(object(0));
      if (roll < 0.7) return JSON.stringify(vmBody());
      if (roll < 0.75) return JSON.stringify(value(0));
      if (roll < 0.82) return JSON.stringify(object(0)).slice(0, Math.floor(random() * 10));
      if (roll < 0.86) {
        return pick([
          "{",
          "[]]",
          "nul",
          "\u0000\u0001",
          '{"a":}',
          "1e999",
          '"\\u12"',
          '{"__proto__":{"polluted":1},"weight":3}',
        ]);
      }
      if (roll < 0.88) return "[".repeat(5000) + "]".repeat(5000);
      if (roll < 0.9) return JSON.stringify({ sched: { blob: "y".repeat(1_100_000) } });
      if (roll < 0.92) {
        return JSON.stringify({
          source: pick([
            "export default 1;",
            "throw new Error('x')",
            "export default {",
            `export default { apiVersion: 1, domain: "cpu", name: "n", start() { return 1; } };`,
          ]),
        });
      }
      return JSON.stringify({ [pick(FIELDS)]: value(0), weight: Math.floor(random() * 70000) });
    };
    const id = () =>
      chance(0.6)
        ? `vm-${1 + Math.floor(random() * 5)}`
        : chance(0.5)
        ? `fz-${Math.floor(random() * 60)}`
        : encodeURIComponent(pick(STRINGS));
    // A route with its own method most of the time, so requests get past the router.
    const route = (): [string, string] => {
      const roll = random();
      if (roll < 0.1) return ["GET", "/v1/state"];
      if (roll < 0.14) return ["GET", "/v1/metrics"];
      if (roll < 0.17) return ["GET", pick(["/healthz", "/openapi.json", "/", "/?token=nope"])];
      if (roll < 0.37) return ["PATCH", `/v1/vms/${id()}`];
      if (roll < 0.42) return ["DELETE", `/v1/vms/${id()}`];
      if (roll < 0.55) return ["POST", "/v1/vms"];
      if (roll < 0.63) {
        return ["PUT", `/v1/policies/${pick(["cpu", "cpu", "memory", "io", "disk", "%00"])}`];
      }
      if (roll < 0.75) return ["POST", `/v1/sim/${pick(["pause", "resume", "step", "stop", ""])}`];
      if (roll < 0.8) return ["PUT", "/v1/sim/speed"];
      if (roll < 0.85) {
        return [
          "GET",
          pick(["/v1/vms/%E0%A4%A", "/v1/vms/..%2F..", "//v1//state", "/v1/vms/a/b"]),
        ];
      }
      if (roll < 0.9) return ["GET", "/v1/" + "a/".repeat(Math.floor(random() * 300))];
      return [
        "GET",
        "/" + Array.from({ length: 8 }, () => String.fromCharCode(33 + random() * 90)).join("")
          .replace(/[#?%]/g, "_"),
      ];
    };
    const method = (own: string) =>
      chance(0.75) ? own : pick(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
    const authorization = () => {
      const roll = random();
      if (roll < 0.85) return `Bearer ${TOKEN}`;
      if (roll < 0.9) return undefined;
      return pick([
        "Bearer",
        "Bearer ",
        `Basic ${TOKEN}`,
        `Bearer ${TOKEN} extra`,
        "Bearer wrong",
        "x".repeat(5000),
      ]);
    };

    const server = await testServer(cpuWorkload({ vms: 5 }), {
      paused: false,
      speed: Infinity,
      start: true,
    });
    const bugs: unknown[] = [];
    const { app } = createControlApp(server.live, { token: TOKEN, onBug: (e) => bugs.push(e) });
    const statuses = new Map<number, number>();
    try {
      for (let i = 0; i < COUNT; i++) {
        const [own, path] = route();
        const request = { method: method(own), path, body: body(), auth: authorization() };
        const headers: Record<string, string> = {};
        if (request.auth !== undefined) headers.authorization = request.auth;
        if (chance(0.5)) headers["content-type"] = pick(["application/json", "text/plain", "x/y"]);
        const sendsBody = request.body !== undefined && request.method !== "GET" &&
          request.method !== "HEAD";
        const response = await app.request(request.path, {
          method: request.method,
          headers,
          body: sendsBody ? request.body : undefined,
        });
        const text = await response.text();
        const where = `request ${i} (seed ${SEED}): ${request.method} ${
          request.path.slice(0, 80)
        } ${String(request.body).slice(0, 120)} → ${response.status} ${text.slice(0, 200)}`;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        assert.ok(ALLOWED.has(response.status), where);
        if (response.status >= 400 && request.method !== "HEAD") {
          const error = JSON.parse(text).error;
          assert.equal(typeof error.code, "string", where);
          assert.match(error.message, /^[A-Z]/, where);
        }
      }
      assert.deepEqual(bugs, []);
      // Every kind of answer was exercised.
      for (const status of [200, 201, 400, 401, 404, 409, 413]) {
        assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} in ${[...statuses.entries()]}`);
      }
      const before = server.live.state().nowNs;
      await new Promise((done) => setTimeout(done, 200));
      assert.equal((await server.call("GET", "/healthz", undefined, { token: null })).status, 200);
      const after = await server.call("GET", "/v1/state");
      assert.equal(after.status, 200);
      assert.ok(after.json.nowNs > before || after.json.ended || after.json.paused);
    } finally {
      await server.close();
    }
  },
});

Deno.test("fuzz: malformed bytes over a real socket leave the server serving", async () => {
  const server = await testServer();
  const { app } = createControlApp(server.live, { token: TOKEN });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const random = rng(SEED + 1);
  const garbage = [
    "GET /v1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n",
    "\r\n\r\n",
    "GARBAGE\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "POST /v1/vms HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{",
    "PATCH /v1/vms/vm-1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
    "GET /" + "a".repeat(70_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET / HTTP/1.1\r\n" + "X-Long: " + "b".repeat(100_000) + "\r\n\r\n",
    "\u0000\u0001\u0002\u00ff",
  ];
  try {
    for (let i = 0; i < 120; i++) {
      const connection = await Deno.connect({ hostname: "127.0.0.1", port: http.addr.port });
      try {
        const text = i < garbage.length
          ? garbage[i]!
          : Array.from({ length: 1 + Math.floor(random() * 200) }, () =>
            String.fromCharCode(Math.floor(random() * 256))).join("");
        await connection.write(new TextEncoder().encode(text)).catch(() => 0);
        const buffer = new Uint8Array(512);
        const read = await Promise.race([
          connection.read(buffer).catch(() => null),
          new Promise<null>((done) => setTimeout(() => done(null), 100)),
        ]);
        if (read !== null && read > 0) {
          const head = new TextDecoder().decode(buffer.subarray(0, read));
          assert.doesNotMatch(head, /^HTTP\/1\.1 5\d\d/, `${i}: ${head.slice(0, 40)}`);
        }
      } finally {
        connection.close();
      }
    }
    const response = await fetch(`http://127.0.0.1:${http.addr.port}/healthz`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    await http.shutdown();
    await server.close();
  }
});
