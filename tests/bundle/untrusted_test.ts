/**
 * Where policy code may come from. Untrusted code (source posted through the HTTP API, bundled
 * from the file the server wrote it to) may import only what a published policy could: npm:, jsr:,
 * public https: modules and the SDK; never the server's files or addresses, and the refusal echoes
 * neither a file's content nor a server path. A remote module may not import a local file, and
 * plain http: is allowed only on loopback (issue 14, findings 5 and 6).
 */

import assert from "node:assert/strict";
import { bundleReference, PolicyReferenceError } from "../../core/simulation/loader.ts";
import { bundlePolicy } from "../../core/bundle/bundle.ts";
import { sourceMapOf } from "../../core/bundle/source_map.ts";
import { hostKind } from "../../core/bundle/_resolve.ts";
import { serveFiles } from "../authoring/_registries.ts";

const SECRET = "SECRET-CONTENT-7f3a";
const SDK_FILE_URL = new URL("../../core/policy/mod.ts", import.meta.url).href;

/** A policy module text that imports `specifier` and throws what it got (the attack). */
function leaking(specifier: string): string {
  return `import { API_VERSION } from "@hyperhook/hyperhook/policy";
import leaked from ${JSON.stringify(specifier)};
export default { apiVersion: API_VERSION, domain: "cpu", name: "leak", start() {
  throw new Error(JSON.stringify(leaked));
} };
`;
}

/**
 * A server folder holding secrets (a .json, a .ts, a .js, a node_modules package and a deno.json
 * mapping a bare name to them) and a posted-source folder beside it, as the API keeps them.
 */
async function withServerFiles(
  body: (paths: { secrets: string; posted: string }) => Promise<void>,
): Promise<void> {
  const secrets = await Deno.makeTempDir({ prefix: "hyperhook-secrets-" });
  const posted = await Deno.makeTempDir({ prefix: "hyperhook-sources-" });
  try {
    await Deno.writeTextFile(`${secrets}/token.json`, JSON.stringify({ token: SECRET }));
    await Deno.writeTextFile(`${secrets}/config.ts`, `export default "${SECRET}";\n`);
    await Deno.writeTextFile(`${secrets}/config.js`, `export default "${SECRET}";\n`);
    await Deno.writeTextFile(`${posted}/token.json`, JSON.stringify({ token: SECRET }));
    await Deno.mkdir(`${posted}/node_modules/leak`, { recursive: true });
    await Deno.writeTextFile(
      `${posted}/node_modules/leak/package.json`,
      JSON.stringify({ name: "leak", main: "index.js" }),
    );
    await Deno.writeTextFile(
      `${posted}/node_modules/leak/index.js`,
      `export default "${SECRET}";\n`,
    );
    await Deno.writeTextFile(
      `${posted}/deno.json`,
      JSON.stringify({ imports: { "mapped-secret": `${secrets}/config.ts` } }),
    );
    await body({ secrets, posted });
  } finally {
    await Deno.remove(secrets, { recursive: true });
    await Deno.remove(posted, { recursive: true });
  }
}

/** Bundles `text` as the API does: written to a file, bundled with `untrusted: true`. */
async function bundlePosted(posted: string, text: string): Promise<Error> {
  const path = `${posted}/policy-0123456789abcdef.ts`;
  await Deno.writeTextFile(path, text);
  try {
    await bundleReference("cpu", path, { untrusted: true });
  } catch (error) {
    assert.ok(error instanceof PolicyReferenceError, String(error));
    return error;
  }
  throw new Error(`Posted source importing ${text.split("\n")[1]} was bundled`);
}

/**
 * Nothing of the server in a message: no file content, no temp folder, no working directory (the
 * import the client wrote may be quoted back: it is the client's own text).
 */
function assertDiscloses(message: string, nothing: string[]): void {
  assert.ok(!message.includes(SECRET), message);
  const ours = message.replace(/Import "[^"]*"/g, "Import");
  for (const path of [Deno.cwd(), ...nothing]) {
    assert.ok(!ours.includes(path), `${JSON.stringify(path)} in: ${message}`);
  }
  assert.doesNotMatch(ours, /\/tmp\b|hyperhook-s(?:ecrets|ources)-/, message);
}

Deno.test("untrusted code may not import the server's files, by any name", async () => {
  await withServerFiles(async ({ secrets, posted }) => {
    const attempts: [string, RegExp][] = [
      ["./token.json", /untrusted code may not import local files/],
      [`${secrets}/token.json`, /untrusted code may not import local files/],
      [`${secrets}/config.ts`, /untrusted code may not import local files/],
      [`${secrets}/config.js`, /untrusted code may not import local files/],
      [`file://${secrets}/config.ts`, /untrusted code may not import local files/],
      ["/etc/passwd", /untrusted code may not import local files/],
      ["../../../../../../etc/hostname", /untrusted code may not import local files/],
      // Through the node_modules and the deno.json of the folder it was written to: not its own.
      ["leak", /Cannot resolve "leak"/],
      ["mapped-secret", /Cannot resolve "mapped-secret"/],
      // The kernel itself, by file URL, is not the SDK.
      [new URL("../../core/cli.ts", import.meta.url).href, /may not import local files/],
    ];
    for (const [specifier, expected] of attempts) {
      const error = await bundlePosted(posted, leaking(specifier));
      assert.match(error.message, expected, specifier);
      assert.match(error.message, /^Policy: policy-0123456789abcdef\.ts:2:\d+: /, error.message);
      assertDiscloses(error.message, [secrets, posted]);
    }
    const error = await bundlePosted(posted, leaking("./token.json"));
    assert.equal(
      error.message,
      'Policy: policy-0123456789abcdef.ts:2:20: Import "./token.json": untrusted code may not import local files',
    );
    // A dynamic import and a re-export go through the same gate.
    const dynamic = await bundlePosted(
      posted,
      `export default { f: () => import("./token.json") };\n`,
    );
    assert.match(dynamic.message, /Import "\.\/token\.json": untrusted code may not import local/);
    const reexport = await bundlePosted(
      posted,
      `export { default } from "${secrets}/config.ts";\n`,
    );
    assert.match(reexport.message, /untrusted code may not import local files/);
    assertDiscloses(reexport.message, [secrets, posted]);
  });
});

Deno.test("untrusted code may not import from the server's network: http:, loopback, private", async () => {
  const server = await serveFiles(() => ({ "/x.ts": `export default "${SECRET}";\n` }));
  const port = new URL(server.url).port;
  try {
    await withServerFiles(async ({ posted }) => {
      const attempts: [string, RegExp][] = [
        [`http://127.0.0.1:${port}/x.ts`, /untrusted code may import only npm:, jsr: and https:/],
        [`http://localhost:${port}/x.ts`, /untrusted code may import only npm:, jsr: and https:/],
        [`http://[::1]:${port}/x.ts`, /untrusted code may import only npm:, jsr: and https:/],
        ["http://example.com/x.ts", /untrusted code may import only npm:, jsr: and https:/],
        [`https://127.0.0.1:${port}/x.ts`, /may not import from loopback or private addresses/],
        [`https://localhost:${port}/x.ts`, /may not import from loopback or private addresses/],
        [`https://2130706433:${port}/x.ts`, /may not import from loopback or private addresses/],
        [`https://[::ffff:127.0.0.1]:${port}/x.ts`, /loopback or private addresses/],
        ["https://10.1.2.3/x.ts", /may not import from loopback or private addresses/],
        ["https://169.254.169.254/latest/meta-data.ts", /loopback or private addresses/],
        ["https://[fd00::1]/x.ts", /may not import from loopback or private addresses/],
        ["https://intranet/x.ts", /may not import from loopback or private addresses/],
      ];
      for (const [specifier, expected] of attempts) {
        const error = await bundlePosted(posted, leaking(specifier));
        assert.match(error.message, expected, specifier);
        assertDiscloses(error.message, [posted]);
      }
    });
    assert.deepEqual(server.requests, [], "the server's own network was reached");
  } finally {
    await server.close();
  }
});

Deno.test("untrusted code may import the SDK, npm: packages and public https: modules", async () => {
  const files: Record<string, string> = {
    "https://modules.example.test/lib/square.ts":
      `import { half } from "./half.ts";\nexport const square = (x: number): number => half(2 * x * x);\n`,
    "https://modules.example.test/lib/half.ts":
      "export const half = (x: number): number => x / 2;\n",
  };
  const fetched: string[] = [];
  const fetcher = (url: string): Promise<Response> => {
    fetched.push(url);
    const body = files[url];
    return Promise.resolve(
      body === undefined ? new Response("not found", { status: 404 }) : new Response(body),
    );
  };
  await withServerFiles(async ({ posted }) => {
    const path = `${posted}/policy.ts`;
    // Both spellings of the SDK: the package name, and the file URL the API maps it to.
    for (const sdk of ["@hyperhook/hyperhook/policy", SDK_FILE_URL]) {
      await Deno.writeTextFile(
        path,
        `import { defineCpuPolicy } from "${sdk}";\n` +
          `import isNumber from "npm:is-number@7.0.0";\n` +
          `import { square } from "https://modules.example.test/lib/square.ts";\n` +
          `export default defineCpuPolicy({ name: String(isNumber(square(2))), create: () => ({}) });\n`,
      );
      const bundle = await bundlePolicy(path, { untrusted: true, fetch: fetcher });
      // The bundle names no module (its text is the code only); its source map does.
      assert.match(
        sourceMapOf(bundle.sha256)!.sources.join("\n"),
        /modules\.example\.test\/lib\/half\.ts/,
      );
      assert.match(bundle.code, /defineCpuPolicy/);
    }
    assert.deepEqual(
      [...new Set(fetched)],
      ["https://modules.example.test/lib/square.ts", "https://modules.example.test/lib/half.ts"],
    );
  });
});

Deno.test("a public https: module may not lead untrusted code back to the server", async () => {
  const server = await serveFiles(() => ({ "/x.ts": `export default "${SECRET}";\n` }));
  const port = new URL(server.url).port;
  const files: Record<string, Response> = {
    // A public module that imports a loopback one, one that imports a local file, one that
    // redirects to the server's own address.
    "https://public.example.test/a.ts": new Response(
      `export { default } from "http://127.0.0.1:${port}/x.ts";\n`,
    ),
    "https://public.example.test/b.ts": new Response(
      `export { default } from "file:///etc/passwd";\n`,
    ),
    "https://public.example.test/c.ts": new Response(null, {
      status: 302,
      headers: { location: `https://127.0.0.1:${port}/x.ts` },
    }),
  };
  const fetcher = (url: string) => Promise.resolve(files[url] ?? new Response("", { status: 404 }));
  try {
    await withServerFiles(async ({ posted }) => {
      const path = `${posted}/policy.ts`;
      const cases: [string, RegExp][] = [
        ["a", /Import "http:\/\/127\.0\.0\.1:\d+\/x\.ts": untrusted code may import only npm:/],
        ["b", /Import "file:\/\/\/etc\/passwd": a remote module may not import a local file/],
        [
          "c",
          /redirected to "https:\/\/127\.0\.0\.1:\d+\/x\.ts": untrusted code may not import from loopback/,
        ],
      ];
      for (const [name, expected] of cases) {
        await Deno.writeTextFile(path, leaking(`https://public.example.test/${name}.ts`));
        const error = await bundlePolicy(path, { untrusted: true, fetch: fetcher }).then(
          () => assert.fail(`module ${name} was bundled`),
          (error: Error) => error,
        );
        assert.match(error.message, expected);
        assertDiscloses(error.message, [posted]);
      }
    });
    assert.deepEqual(server.requests, []);
  } finally {
    await server.close();
  }
});

Deno.test("errors about untrusted code name no server path", async () => {
  await withServerFiles(async ({ posted }) => {
    // A syntax error, a missing export and an unknown package: each names the posted module by
    // its file name only.
    const broken = await bundlePosted(posted, `export default {\n  start( {\n};\n`);
    assert.match(broken.message, /^Policy: policy-0123456789abcdef\.ts:3:\d+: /);
    assertDiscloses(broken.message, [posted]);
    const none = await bundlePosted(posted, `export const x = 1;\n`);
    assert.match(none.message, /No matching export/);
    assertDiscloses(none.message, [posted]);
  });
});

Deno.test("a remote module may not import a local file, even for trusted references", async () => {
  await withServerFiles(async ({ secrets }) => {
    const server = await serveFiles(() => ({
      "/by-url.ts": `export { default } from "file://${secrets}/config.ts";\n`,
      // An absolute path in a remote module is a path on its own server, as in Deno.
      "/by-path.ts": `export { default } from "${secrets}/config.ts";\n`,
      "/redirect.ts": "",
    }));
    try {
      await assert.rejects(
        bundlePolicy(`${server.url}by-url.ts`),
        (error: Error) => {
          assert.match(
            error.message,
            new RegExp(
              `Import "file://${secrets}/config\\.ts": a remote module may not import a local file`,
            ),
          );
          assert.ok(!error.message.includes(SECRET), error.message);
          return true;
        },
      );
      await assert.rejects(
        bundlePolicy(`${server.url}by-path.ts`),
        new RegExp(`Cannot fetch ${server.url}${secrets.slice(1)}/config\\.ts: HTTP 404`),
      );
      assert.deepEqual(server.requests, ["/by-url.ts", "/by-path.ts", `${secrets}/config.ts`]);
    } finally {
      await server.close();
    }
  });
});

Deno.test("plain http: policy URLs are refused except on loopback, redirects included", async () => {
  const offline = (url: string) => Promise.reject(new Error(`Unexpected fetch of ${url}`));
  for (
    const url of ["http://example.com/p.ts", "http://10.0.0.1/p.ts", "http://[2001:db8::1]/p.ts"]
  ) {
    await assert.rejects(
      bundlePolicy(url, { fetch: offline }),
      new RegExp(
        `Import "${url.replace(/[.[\]]/g, "\\$&")}": plain http: is allowed only on loopback`,
      ),
    );
  }
  const redirects = (url: string) =>
    Promise.resolve(
      url === "http://127.0.0.1:9/p.ts"
        ? new Response(null, { status: 301, headers: { location: "http://example.com/p.ts" } })
        : new Response("", { status: 404 }),
    );
  await assert.rejects(
    bundlePolicy("http://127.0.0.1:9/p.ts", { fetch: redirects }),
    /redirected to "http:\/\/example\.com\/p\.ts": plain http: is allowed only on loopback/,
  );
  // https: modules may not step down to plain http: off loopback either.
  const https = (url: string) =>
    Promise.resolve(
      url === "https://modules.example.test/p.ts"
        ? new Response(`export { default } from "http://example.com/q.ts";\n`)
        : new Response("", { status: 404 }),
    );
  await assert.rejects(
    bundlePolicy("https://modules.example.test/p.ts", { fetch: https }),
    /Import "http:\/\/example\.com\/q\.ts": plain http: is allowed only on loopback/,
  );
});

Deno.test("a remote module that never ends is cut at 16 MiB", async () => {
  const endless = () =>
    Promise.resolve(
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(1 << 20).fill(0x20));
          },
        }),
      ),
    );
  await assert.rejects(
    bundlePolicy("https://modules.example.test/zero.ts", { fetch: endless }),
    /Cannot fetch https:\/\/modules\.example\.test\/zero\.ts: larger than 16 MiB/,
  );
});

Deno.test("host kinds: loopback, private and public, whatever the spelling", () => {
  const kinds: Record<string, string> = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "[::1]": "loopback",
    "[::ffff:7f00:1]": "loopback",
    "localhost": "loopback",
    "localhost.": "loopback",
    "api.localhost": "loopback",
    "0.0.0.0": "private",
    "10.0.0.1": "private",
    "100.64.0.1": "private",
    "169.254.169.254": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "224.0.0.1": "private",
    "[::]": "private",
    "[fd12::1]": "private",
    "[fe80::1]": "private",
    "[::a00:1]": "private",
    "[64:ff9b::a00:1]": "private",
    "[2002:7f00:1::]": "private",
    "intranet": "private",
    "printer.local": "private",
    "db.internal": "private",
    "172.32.0.1": "public",
    "8.8.8.8": "public",
    "[2001:4860::8888]": "public",
    "[::ffff:808:808]": "public",
    "jsr.io": "public",
  };
  for (const [host, kind] of Object.entries(kinds)) assert.equal(hostKind(host), kind, host);
  // The URL parser's normal forms reach it: decimal, hex and short IPv4 are all 127.0.0.1.
  for (const url of ["http://2130706433/", "http://0x7f.1/", "http://127.1/"]) {
    assert.equal(hostKind(new URL(url).hostname), "loopback", url);
  }
});

Deno.test("a redirect that obeys the rules is followed, by the bundler or by the fetcher", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/old.ts") {
      return new Response(null, { status: 302, headers: { location: "/new.ts" } });
    }
    if (path === "/new.ts") return new Response(`export default { name: "moved" };\n`);
    return new Response("", { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}/old.ts`;
  try {
    // The global fetch, redirects followed hop by hop; then a fetcher that follows them itself.
    for (const fetcher of [undefined, (url: string) => fetch(url)]) {
      const bundle = await bundlePolicy(url, { fetch: fetcher });
      assert.match(bundle.code, /name: "moved"/);
    }
  } finally {
    await server.shutdown();
  }
});
