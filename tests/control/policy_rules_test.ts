// What PUT /v1/policies/{domain} may run, and where. Before: posted source ran with
// "isolation": "none" inside the server (a shell, $HYPERHOOK_TOKEN), was saved to a file whose
// path the answer named, and {"use": <that path>, "isolation": "none"} ran it again, as did
// --resume. Now code that arrives through the API runs only in `process`, the server's files are
// no references, --resume refuses a journaled swap that breaks these rules, and error answers
// carry neither policy text beyond a bound nor server paths.
import assert from "node:assert/strict";
import { join } from "node:path";
import { LiveKernel } from "../../core/control/live.ts";
import { cpuWorkload, postedSource, testServer } from "./_helpers.ts";

const STRIDE = new URL("../fixtures/serve/stride.ts", import.meta.url);

/** Source that writes `marker` when it is loaded: proof that it ran with the server's rights. */
function writesMarker(marker: string): string {
  return `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");
export default { apiVersion: 1, domain: "cpu", name: "escapee", create() { return {}; } };`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("posted source runs only in process, whatever the server's --isolation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-rules-" });
  // The server runs built-ins in-process: posted code must not follow.
  const server = await testServer(cpuWorkload(), { setup: { isolation: "none" } });
  try {
    const marker = join(dir, "ran.txt");
    for (const isolation of ["none", "worker"]) {
      const answer = await server.call("PUT", "/v1/policies/cpu", {
        source: writesMarker(marker),
        isolation,
      });
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.json.error.code, "refused");
      assert.equal(
        answer.json.error.message,
        `Body: isolation: expected "process" for posted source (code sent through the API runs only in a permission-less child process), got "${isolation}"`,
      );
    }
    assert.equal(await exists(marker), false);
    assert.equal(server.live.state().policies.cpu!.name, "rr");
    assert.equal(server.live.mutations, 0);

    // Without an isolation it runs in process: denied the file system, it fails to start.
    const contained = await server.call("PUT", "/v1/policies/cpu", {
      source: writesMarker(marker),
    });
    assert.equal(contained.status, 409, contained.text);
    assert.match(
      contained.json.error.message,
      /^The new cpu policy failed to start \(.*rr keeps running$/,
    );
    assert.equal(await exists(marker), false);

    // A good posted policy runs in process too, under a name that is no path.
    const posted = await server.call("PUT", "/v1/policies/cpu", {
      source: postedSource(STRIDE),
      config: { quantum: "2ms" },
    });
    assert.equal(posted.status, 200, posted.text);
    assert.equal(posted.json.policy.isolation, "process");
    assert.equal(posted.json.policy.reference, "posted source");
    assert.equal(posted.json.policy.name, "stride");
    assert.equal(server.live.state().policies.cpu!.reference, "posted source");
    assert.doesNotMatch(posted.text + server.live.stateText(), /hyperhook-sources|\/tmp\//);
    // Nothing the client could name stays on disk.
    const sources = server.live.serverPaths().find(([, label]) => label === "<temp>")![0]!;
    assert.deepEqual([...Deno.readDirSync(sources)], []);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("use: a built-in anywhere; npm:, jsr:, https: only in process; never a server file", async () => {
  const server = await testServer();
  try {
    for (const isolation of ["none", "worker", "process"]) {
      const answer = await server.call("PUT", "/v1/policies/cpu", { use: "fcfs", isolation });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.policy.isolation, isolation);
    }
    for (const use of ["npm:some-policy@1.0.0", "jsr:@x/policy", "https://example.invalid/p.ts"]) {
      for (const isolation of ["none", "worker"]) {
        const answer = await server.call("PUT", "/v1/policies/cpu", { use, isolation });
        assert.equal(answer.status, 400, answer.text);
        assert.equal(answer.json.error.code, "refused");
        assert.match(
          answer.json.error.message,
          /^Body: isolation: expected "process" for (npm|jsr|https): policies \(only built-ins run elsewhere\)/,
        );
      }
    }
    const paths = [
      STRIDE.pathname,
      STRIDE.href,
      "./tests/fixtures/serve/stride.ts",
      "../stride.ts",
      "stride.ts",
      "http://127.0.0.1:1/p.ts",
      "data:text/javascript,export default 1",
    ];
    for (const use of paths) {
      for (const isolation of [undefined, "none", "process"]) {
        const answer = await server.call("PUT", "/v1/policies/cpu", { use, isolation });
        assert.equal(answer.status, 400, `${use} ${isolation}: ${answer.text}`);
        assert.equal(answer.json.error.code, "refused");
        assert.match(
          answer.json.error.message,
          /^Body: use: expected a built-in cpu policy \(.*rr.*\) or an npm:, jsr: or https: specifier; paths, file: and http: URLs are not accepted through the API$/,
        );
        assert.ok(!answer.text.includes(STRIDE.pathname), answer.text);
      }
    }
    const unknown = await server.call("PUT", "/v1/policies/cpu", { use: "round-robin" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /^Unknown cpu policy "round-robin"/);
    assert.equal(server.live.state().policies.cpu!.name, "fcfs");
  } finally {
    await server.close();
  }
});

Deno.test("--resume refuses a journaled swap the rules refuse, and says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  const marker = join(dir, "ran.txt");
  try {
    const live = await LiveKernel.create(
      { workload: cpuWorkload(), source: "test", baseDir: Deno.cwd(), options: {} },
      { paused: true, stateDir: dir },
    );
    await live.step({ by: "10ms" });
    await live.swapPolicy("cpu", { use: "fcfs" });
    await live.close();
    // What an older server accepted and logged: a path run in-process, and posted source too.
    const forged = [
      { op: "policy.swap", target: "cpu", body: { use: STRIDE.pathname, isolation: "none" } },
      {
        op: "policy.swap",
        target: "cpu",
        body: { source: writesMarker(marker), isolation: "none" },
      },
    ].map((entry, i) => JSON.stringify({ seq: 3 + i, atNs: 10_000_000, at: "", ...entry }));
    await Deno.writeTextFile(join(dir, "audit.jsonl"), forged.join("\n") + "\n", { append: true });

    const warnings: string[] = [];
    const resumed = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
    try {
      assert.equal(warnings.length, 2, warnings.join("\n"));
      assert.match(
        warnings[0]!,
        /^Replay of mutation 3 \(policy\.swap\) refused: Body: use: expected a built-in cpu policy \(.+\) or an npm:, jsr: or https: specifier; paths, file: and http: URLs are not accepted through the API; it is not run$/,
      );
      assert.equal(
        warnings[1],
        `Replay of mutation 4 (policy.swap) refused: Body: isolation: expected "process" for posted source (code sent through the API runs only in a permission-less child process), got "none"; it is not run`,
      );
      assert.equal(await exists(marker), false);
      assert.equal(resumed.state().policies.cpu!.name, "fcfs");
      assert.equal(resumed.mutations, 4);
    } finally {
      await resumed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("error answers quote a bounded text and no server path", async () => {
  const server = await testServer();
  try {
    const marker = "MARKER-BEYOND-THE-BOUND";
    const long = await server.call("PUT", "/v1/policies/cpu", {
      source:
        `throw new Error("head " + import.meta.url + " \\u001b[31mred " + "x".repeat(400) + "${marker}");
export default {};`,
    });
    assert.equal(long.status, 409, long.text);
    const message: string = long.json.error.message;
    assert.ok(!long.text.includes(marker), message);
    assert.match(
      message,
      /^The new cpu policy failed to start \(.*head .*… \(\d+ more characters\)\); rr keeps running$/,
    );
    assert.ok(message.length < 500, `${message.length} characters`);
    assert.doesNotMatch(long.text, /\/tmp\/|hyperhook-sources|\\u001b/);
    assert.ok(!message.includes("\u001b"), message);

    // A path of the server in a short message is hidden, not just cut.
    const short = await server.call("PUT", "/v1/policies/cpu", {
      source: `throw new Error("at " + ${JSON.stringify(Deno.cwd())} + "/secret.json");
export default {};`,
    });
    assert.equal(short.status, 409, short.text);
    assert.ok(!short.text.includes(Deno.cwd()), short.text);
    assert.match(short.json.error.message, /at <(server|workload)-dir>\/secret\.json/);

    // A module that cannot be bundled: the answer names no temporary file.
    const syntax = await server.call("PUT", "/v1/policies/cpu", { source: "export default {" });
    assert.equal(syntax.status, 400, syntax.text);
    assert.equal(syntax.json.error.code, "invalid_policy");
    assert.doesNotMatch(syntax.text, /\/tmp\/|hyperhook-sources/);
    const local = await server.call("PUT", "/v1/policies/cpu", {
      source: `import data from "./secret.json"; export default data;`,
    });
    assert.equal(local.status, 400, local.text);
    assert.doesNotMatch(local.text, /\/tmp\/|hyperhook-sources/);
  } finally {
    await server.close();
  }
});
