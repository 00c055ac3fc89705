// Crash safety with real processes: a server killed with SIGKILL in the middle of a stream of
// mutations comes back with --resume holding every mutation it acknowledged; SIGTERM and SIGINT
// stop it gracefully within a few seconds, with a final checkpoint.
import assert from "node:assert/strict";
import { authed, startServe } from "./_helpers.ts";

interface State {
  nowNs: number;
  mutations: number;
  paused: boolean;
  speed: number | "max";
  policies: { cpu: { name: string } };
  vms: { id: string; removedNs: number | null; params: { weight: number } }[];
}

async function state(base: string): Promise<State> {
  const response = await fetch(`${base}v1/state`, authed());
  return await response.json();
}

async function send(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(
    `${base}${path}`,
    authed({ method, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  await response.body?.cancel();
  return response.status;
}

Deno.test("kill -9 mid-run, then --resume: every acknowledged mutation is there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    const first = await startServe(["--state-dir", dir, "--speed", "5", "--checkpoint", "100ms"]);
    const acked = { weight: 0, added: [] as string[], removed: [] as string[], swapped: false };
    let lastAckNs = 0;
    try {
      assert.equal(await send(first.base, "PUT", "v1/policies/cpu", { use: "fcfs" }), 200);
      acked.swapped = true;
      for (let i = 1; i <= 6; i++) {
        const status = await send(first.base, "POST", "v1/vms", {
          id: `extra-${i}`,
          weight: 100 + i,
          cpu: { pattern: "interactive", run: "1ms", sleep: "5ms" },
        });
        assert.equal(status, 201);
        acked.added.push(`extra-${i}`);
      }
      for (const id of ["extra-2", "web-3"]) {
        assert.equal(await send(first.base, "DELETE", `v1/vms/${id}`), 200);
        acked.removed.push(id);
      }
      // A stream of weight changes; the process dies while it flows.
      let weight = 300;
      const stream = (async () => {
        for (;;) {
          weight++;
          const status = await send(first.base, "PATCH", "v1/vms/web-1", { weight }).catch(() => 0);
          if (status !== 200) return;
          acked.weight = weight;
          lastAckNs = (await state(first.base).catch(() => ({ nowNs: lastAckNs }))).nowNs;
        }
      })();
      await new Promise((done) => setTimeout(done, 700));
      const status = await first.stop("SIGKILL");
      assert.equal(status.signal, "SIGKILL");
      await stream;
    } finally {
      await first.stop("SIGKILL");
    }
    assert.ok(acked.weight > 305, `only ${acked.weight - 300} weight changes were acknowledged`);

    const second = await startServe(["--state-dir", dir, "--resume", "--paused"]);
    try {
      const resumed = await state(second.base);
      const web1 = resumed.vms.find((vm) => vm.id === "web-1")!;
      // Logged-but-unanswered changes may be there too: never fewer than acknowledged.
      assert.ok(web1.params.weight >= acked.weight, `${web1.params.weight} < ${acked.weight}`);
      for (const id of acked.added) assert.ok(resumed.vms.some((vm) => vm.id === id), id);
      for (const id of acked.removed) {
        assert.notEqual(resumed.vms.find((vm) => vm.id === id)!.removedNs, null, id);
      }
      assert.equal(resumed.policies.cpu.name, "fcfs");
      assert.ok(resumed.nowNs >= lastAckNs, `${resumed.nowNs} < ${lastAckNs}`);
      assert.ok(resumed.mutations >= 9 + acked.weight - 300);
      assert.doesNotMatch(second.output(), /diverged|failed/);
      // It carries on: new mutations are acknowledged and logged after the old ones.
      assert.equal(await send(second.base, "PATCH", "v1/vms/web-2", { weight: 999 }), 200);
      const stopping = Date.now();
      const status = await second.stop("SIGTERM");
      assert.equal(status.code, 0, second.output());
      assert.ok(Date.now() - stopping < 5000);
    } finally {
      await second.stop("SIGKILL");
    }
    const lines = (await Deno.readTextFile(`${dir}/audit.jsonl`)).trim().split("\n");
    const last = JSON.parse(lines[lines.length - 1]!);
    assert.equal(last.op, "vm.patch");
    assert.equal(last.target, "web-2");
    assert.equal(last.seq, lines.length - 1);
    const checkpoint = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
    assert.equal(checkpoint.seq, last.seq);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGINT and SIGTERM shut down within a few seconds, with a final checkpoint", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
    try {
      const server = await startServe(["--state-dir", dir, "--speed", "max", "--checkpoint", "1h"]);
      const controller = new AbortController();
      let events: Promise<void> | undefined;
      try {
        // An open event stream must not hold the shutdown up.
        const response = await fetch(
          `${server.base}v1/events`,
          authed({ signal: controller.signal }),
        );
        events = response.body!.pipeTo(new WritableStream()).catch(() => {});
        await new Promise((done) => setTimeout(done, 300));
        const stopping = Date.now();
        const status = await server.stop(signal);
        assert.equal(status.code, 0, server.output());
        assert.ok(Date.now() - stopping < 5000, `${signal}: ${Date.now() - stopping} ms`);
        assert.match(server.output(), new RegExp(`${signal}: shutting down`));
      } finally {
        controller.abort();
        await events;
        await server.stop("SIGKILL");
      }
      const checkpoint = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
      assert.ok(checkpoint.nowNs > 0, signal);
      const again = await startServe(["--state-dir", dir, "--resume", "--paused"]);
      try {
        assert.equal((await state(again.base)).nowNs, checkpoint.nowNs);
      } finally {
        await again.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a state directory with a log refuses a fresh start; --resume needs one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    const server = await startServe(["--state-dir", dir, "--paused"]);
    await server.stop();
    const cli = new URL("../../core/cli.ts", import.meta.url).pathname;
    const again = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "serve", "--port", "0", "--state-dir", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(again.code, 2);
    assert.match(new TextDecoder().decode(again.stderr), /already holds an audit log/);
    const empty = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
    const resume = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "serve", "--port", "0", "--state-dir", empty, "--resume"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.remove(empty, { recursive: true });
    assert.equal(resume.code, 2);
    assert.match(new TextDecoder().decode(resume.stderr), /holds no audit log/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
