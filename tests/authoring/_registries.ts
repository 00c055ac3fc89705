/**
 * Local stand-ins for the registries a policy reference can name, on 127.0.0.1: a web server for
 * `https:`-style URLs, a JSR registry (its `meta.json` files and modules) and an npm registry
 * (packuments and tarballs), so that loading by reference is tested end to end, offline.
 *
 * @module
 */

/** A local server: its base URL, the paths it was asked for, and how to stop it. */
export interface LocalServer {
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves `files` (path → body, given the base URL) on 127.0.0.1; other paths get 404. */
export async function serveFiles(
  files: (
    base: string,
  ) =>
    | Record<string, string | Uint8Array<ArrayBuffer>>
    | Promise<Record<string, string | Uint8Array<ArrayBuffer>>>,
): Promise<LocalServer> {
  const requests: string[] = [];
  let table: Record<string, string | Uint8Array<ArrayBuffer>> = {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requests.push(path);
    const body = table[path];
    if (body === undefined) return new Response("not found", { status: 404 });
    const type = path.endsWith(".json") || !path.includes(".")
      ? "application/json"
      : path.endsWith(".tgz")
      ? "application/octet-stream"
      : "application/typescript";
    return new Response(body, { headers: { "content-type": type } });
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  table = await files(url);
  return { url, requests, close: () => server.shutdown() };
}

/** A gzipped tar archive (npm's package format) of `files`, each under `package/`. */
export async function npmTarball(files: Record<string, string>): Promise<Uint8Array<ArrayBuffer>> {
  const encoder = new TextEncoder();
  const blocks: Uint8Array[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = encoder.encode(text);
    const header = new Uint8Array(512);
    const put = (offset: number, value: string) => header.set(encoder.encode(value), offset);
    put(0, `package/${name}`);
    put(100, "0000644\0");
    put(108, "0000000\0");
    put(116, "0000000\0");
    put(124, body.length.toString(8).padStart(11, "0") + "\0");
    put(136, "00000000000\0");
    put(148, "        ");
    put(156, "0");
    put(257, "ustar\0");
    put(263, "00");
    const sum = header.reduce((total, byte) => total + byte, 0);
    put(148, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(header, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const tar = new Uint8Array(blocks.reduce((n, block) => n + block.length, 0));
  let at = 0;
  for (const block of blocks) tar.set(block, at), at += block.length;
  const gzipped = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}

/** npm's `dist.integrity` of a tarball: `sha512-<base64>`. */
export async function integrity(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes));
  return `sha512-${btoa(String.fromCharCode(...digest))}`;
}
