/**
 * What a sandboxed policy can reach. The probe policy tries files, environment, subprocesses,
 * FFI, the network on 127.0.0.1 and dynamic imports, and reports the outcomes in its replies.
 */

import assert from "node:assert/strict";
import { createRuntime } from "../../core/sandbox/mod.ts";
import type { Isolation } from "../../core/protocol/runtime.ts";
import {
  assertNoSandboxChildren,
  batchOf,
  fixtureBundle,
  startMessage,
  tracked,
} from "./_helpers.ts";

/** A local HTTP server that counts the connections and requests it gets. */
function localServer(): { port: number; requests: string[]; close: () => Promise<void> } {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      requests.push(new URL(request.url).pathname);
      return new Response("export default 1;\n", {
        headers: { "content-type": "text/javascript" },
      });
    },
  );
  return { port: server.addr.port, requests, close: () => server.shutdown() };
}

/** Starts the probe under `isolation`, waits a moment, and returns what the probe saw. */
async function probe(isolation: Isolation, port: number): Promise<Record<string, string>> {
  const runtime = tracked(createRuntime(isolation, await fixtureBundle("probe.ts")));
  try {
    // In-process, a remote import would really happen and be recorded in the project's deno.lock,
    // so the trusted run leaves it out.
    await runtime.start(startMessage({ port, remoteImport: isolation !== "none" }));
    // Give the probes started in `start` a chance to settle (in a worker the event loop runs;
    // the process sandbox only passes a microtask checkpoint between batches).
    let outcomes = (await runtime.handle(batchOf([]))).objs[0] as Record<string, string>;
    for (let attempt = 0; attempt < 20 && Object.values(outcomes).includes("pending"); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      outcomes = (await runtime.handle(batchOf([]))).objs[0] as Record<string, string>;
    }
    return outcomes;
  } finally {
    await runtime.close();
    assertNoSandboxChildren();
  }
}

const DENIED_IN_EVERY_SANDBOX = ["read", "write", "env", "run", "ffi", "connect"];

Deno.test("the probe itself works: in-process (trusted) everything is allowed", async () => {
  const server = localServer();
  try {
    const outcomes = await probe("none", server.port);
    for (const name of ["read", "env", "run", "ffi"]) assert.equal(outcomes[name], "allowed", name);
    // Port 9 has no listener: refused by the OS, not by a permission.
    assert.match(outcomes.connect!, /^failed: ConnectionRefused/);
    assert.equal(outcomes["connect-test-port"], "allowed");
  } finally {
    await server.close();
  }
});

Deno.test("process: files, env, subprocesses, FFI, network and code fetching are denied", async () => {
  const server = localServer();
  let outcomes: Record<string, string>;
  try {
    outcomes = await probe("process", server.port);
  } finally {
    await server.close();
  }
  for (const name of DENIED_IN_EVERY_SANDBOX) assert.equal(outcomes[name], "denied", name);
  assert.equal(outcomes["connect-test-port"], "denied");
  // --no-npm (with --cached-only and an empty DENO_DIR behind it): no npm code at all, even a
  // package that is in the kernel's own cache.
  assert.equal(
    outcomes["npm-import"],
    "failed: TypeError: npm specifiers were requested; but --no-npm is specified",
  );
  // fetch and import() of an http: URL need the event loop, which the process sandbox never
  // runs after start: they stay pending, and nothing reaches the server.
  assert.notEqual(outcomes["fetch-test-port"], "allowed");
  assert.notEqual(outcomes["http-import-test-port"], "allowed");
  assert.deepEqual(server.requests, []);
});

Deno.test("worker: files, env, subprocesses, FFI, network denied; npm imports are not", async () => {
  const server = localServer();
  let outcomes: Record<string, string>;
  try {
    outcomes = await probe("worker", server.port);
  } finally {
    await server.close();
  }
  for (const name of DENIED_IN_EVERY_SANDBOX) assert.equal(outcomes[name], "denied", name);
  assert.equal(outcomes["connect-test-port"], "denied");
  assert.equal(outcomes["fetch-test-port"], "denied");
  // A remote import is checked against the worker's (absent) import permission...
  assert.match(outcomes["http-import-test-port"]!, /Requires import access to "127\.0\.0\.1:/);
  assert.deepEqual(server.requests, []);
  // ...but an npm import is not (Deno 2.9): the package is loaded, from the kernel's cache or,
  // when it is not cached, downloaded from the registry. The documented hole of this runtime.
  assert.equal(outcomes["npm-import"], "allowed");
});

Deno.test("process: without --allow-run a child cannot signal its parent (the kernel), only itself", async () => {
  // The sandbox's flags, and no bootstrap: the permission alone holds, and is what the
  // bootstrap's lockdown adds to (a worker shares the kernel's pid, so it needs the lockdown).
  const script = await Deno.makeTempFile({ suffix: ".js" });
  await Deno.writeTextFile(
    script,
    `for (const pid of [Deno.ppid, Deno.pid]) {
      try { Deno.kill(pid, "SIGCONT"); console.log("sent"); }
      catch (error) { console.log(error.name); }
    }`,
  );
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--cached-only",
        "--no-remote",
        "--no-npm",
        "--no-config",
        "--no-lock",
        script,
      ],
      clearEnv: true,
    }).output();
    assert.deepEqual(new TextDecoder().decode(output.stdout).trim().split("\n"), [
      "NotCapable",
      "sent",
    ]);
  } finally {
    await Deno.remove(script);
  }
});
