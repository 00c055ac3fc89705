/**
 * Policy bundles: a policy module and everything it imports, turned by esbuild into one
 * self-contained ES module text whose only export is the default one, identified by the SHA-256
 * of that text. A sandbox loads this text and nothing else, so a policy never needs file or
 * network access to start, and a report can name exactly the code that ran.
 *
 * What the bundler resolves (on the kernel's side, before anything is sandboxed):
 * - local files: paths, `file:` URLs, relative imports (TypeScript is stripped of its types);
 * - bare specifiers through the `imports` of the nearest `deno.json`/`deno.jsonc`;
 * - the policy SDK: `@hyperhook/hyperhook/policy` and `jsr:@hyperhook/hyperhook@…/policy` are
 *   this framework's own `core/policy/mod.ts`, so a policy always runs against the SDK of the
 *   kernel that hosts it;
 * - `https:` modules (fetched; relative imports inside them resolved against their URL);
 * - `jsr:` specifiers, through the registry's `meta.json` files and each package's own import map;
 * - `npm:` specifiers, laid out by `deno install` from Deno's npm cache into a workspace under the
 *   cache directory, then resolved inside it the way Node does.
 *
 * What it refuses, with an error naming the import: Node built-ins (`node:fs`, and `fs` from npm
 * code), bare specifiers no import map knows, non-code files, and a module without a default
 * export. `Deno.*` needs no import: it is a global (the sandbox denies it at run time). As Deno
 * does, a remote module may not import a local file (`file:` URL or a mapping to one; the SDK is
 * the one exception), and plain `http:` is allowed only on loopback (127.0.0.0/8, `::1`,
 * `localhost`), at any step of the graph and after every redirect.
 *
 * Untrusted code (`untrusted: true`: source posted through the HTTP API) may import only what a
 * published policy could: `npm:` packages, `jsr:` packages from the configured registry, `https:`
 * modules on public hosts, and the SDK. Every local file (relative or absolute path, `file:` URL,
 * `node_modules`, `deno.json` import maps), plain `http:` and `https:` on loopback, private or
 * link-local addresses (literal, or as the host name resolves) are refused, and the messages name
 * no server path: the client sees its own import and the rule it broke. The module itself (the
 * file the server wrote the posted text to) is read as given.
 *
 * @example Bundle a policy and look at its identity
 * ```ts ignore
 * import { bundlePolicy } from "./bundle.ts";
 *
 * const bundle = await bundlePolicy("./examples/my_policy.ts");
 * console.log(bundle.sha256, bundle.bytes);
 * ```
 *
 * @module
 */

import * as esbuild from "esbuild";
import { builtinModules } from "node:module";
import { basename, dirname, extname, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultCacheDir } from "./cache.ts";
import { sha256Hex } from "./sha256.ts";
import { registerSourceMap, type SourceMap, stripPathComments } from "./source_map.ts";
import { rememberBundle, storeBundle } from "./_store.ts";
import {
  applyImportMap,
  type Fetcher,
  hostKind,
  type ImportMap,
  importMapOf,
  JsrResolver,
  npmWorkspace,
  parseJsonc,
  parsePackageSpecifier,
} from "./_resolve.ts";

export type { Fetcher } from "./_resolve.ts";
export { findBundle } from "./_store.ts";

/** A policy module bundled into one self-contained ES module text. */
export interface PolicyBundle {
  /** The module text: no imports, and a default export only. */
  code: string;
  /** The SHA-256 of `code` (UTF-8), in hex: the bundle's identity. */
  sha256: string;
  /** The size of `code` in bytes (UTF-8). */
  bytes: number;
  /** What the bundle was built from, as the caller named it. */
  reference: string;
}

/** Options for {@linkcode bundlePolicy}. */
export interface BundleOptions {
  /**
   * Where npm workspaces and (when `store` is true) bundles are kept.
   * Default: {@linkcode defaultCacheDir}.
   */
  cacheDir?: string;
  /** Also write the bundle to `<cacheDir>/bundles/<sha256>.js`, for {@linkcode findBundle}. */
  store?: boolean;
  /** How `https:` and `jsr:` modules are fetched. Default: the global `fetch`. */
  fetch?: Fetcher;
  /** The JSR registry. Default: `$JSR_URL` (as Deno reads it) or `https://jsr.io/`. */
  jsrRegistry?: string;
  /** Minify the output (smaller, but stack traces get harder to read). Default: false. */
  minify?: boolean;
  /**
   * The module is untrusted code (posted through the HTTP API): its imports may reach only what a
   * published policy could (`npm:`, `jsr:` from the configured registry, `https:` on public
   * hosts, the SDK), never the server's files or private network, and errors name no server
   * path. Default: false.
   */
  untrusted?: boolean;
  /**
   * Told of every text the build reads: modules (a path, or a URL when fetched) and the
   * `deno.json` files whose import maps resolve them, in the order read.
   */
  onRead?: (path: string, text: string) => void;
}

const ENTRY = "hyperhook:policy-entry";
/** Marks resolutions that the plugin hands back to esbuild's own (Node-style) resolver. */
const NATIVE = { native: true };
const NODE_BUILTINS = new Set(builtinModules);
const SDK_URL = new URL("../policy/mod.ts", import.meta.url);
/** The hook protocol, which a policy written without the SDK imports (no I/O in it either). */
const PROTOCOL_URL = new URL("../protocol/mod.ts", import.meta.url);
/** The framework's `core/` folder: the SDK and what it imports live there. */
const CORE_URL = new URL("../", import.meta.url);
/** How many redirects a module fetch follows (each one checked as the first URL is). */
const MAX_REDIRECTS = 5;
/** The largest remote module fetched (a URL that never ends must not take the kernel down). */
const MAX_MODULE_BYTES = 16 * 2 ** 20;
const OWN_PACKAGE = /^(?:jsr:\/?)?@hyperhook\/hyperhook(?:@[^/]*)?(\/.*)?$/;
const encoder = new TextEncoder();

/** Where a module lives: a file, a remote URL, or a file inside an npm workspace. */
interface Target {
  namespace: "file" | "remote" | "npm";
  path: string;
  sideEffects?: boolean;
}

interface BuildContext {
  cwd: string;
  cacheDir: string;
  fetcher: Fetcher;
  /** Whether `fetcher` is the global fetch (then untrusted host names are resolved and checked). */
  realFetch: boolean;
  jsr: JsrResolver;
  untrusted: boolean;
  /** Local files of the SDK (and what it imports): trusted whoever imports them. */
  trusted: Set<string>;
  /** The addresses of the host names untrusted code imports from, resolved once per build. */
  resolved: Map<string, Promise<string[]>>;
  root: Target | undefined;
  texts: Map<string, Promise<string>>;
  contentTypes: Map<string, string>;
  configs: Map<string, Promise<ImportMap | undefined>>;
  npmDirs: Map<string, string>;
  onRead: (path: string, text: string) => void;
}

/**
 * Bundles a policy module into one self-contained ES module text.
 *
 * @example
 * ```ts ignore
 * import { bundlePolicy } from "./bundle.ts";
 *
 * const bundle = await bundlePolicy("npm:some-policy@1.0.0");
 * ```
 *
 * @param reference A path (relative to the working directory), or a `file:`, `https:`, `npm:` or
 *   `jsr:` specifier. Built-in policy names are resolved by the caller, not here.
 * @param options Cache directory, fetcher, registry, minification.
 * @returns The bundle; the same text always gets the same `sha256`.
 * @throws {Error} When a module cannot be found, fetched or bundled; the message names the import.
 */
export async function bundlePolicy(
  reference: string,
  options: BundleOptions = {},
): Promise<PolicyBundle> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  // Redirects are followed by `fetchText`, which checks every hop.
  const fetcher = options.fetch ?? ((url: string) => fetch(url, { redirect: "manual" }));
  const untrusted = options.untrusted ?? false;
  const context: BuildContext = {
    cwd: Deno.cwd(),
    cacheDir,
    fetcher,
    realFetch: options.fetch === undefined,
    jsr: new JsrResolver(
      options.jsrRegistry ?? envJsrUrl() ?? "https://jsr.io/",
      (url) => fetchText(context, url),
    ),
    untrusted,
    trusted: new Set(),
    resolved: new Map(),
    root: undefined,
    texts: new Map(),
    contentTypes: new Map(),
    configs: new Map(),
    npmDirs: new Map(),
    onRead: options.onRead ?? (() => {}),
  };
  // Untrusted code learns nothing of the server from an error: not even the name it was saved as.
  const named = untrusted ? "" : ` ${reference}`;
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  let workingDir = context.cwd;
  try {
    const plugin = policyPlugin(context);
    // The root is resolved before the build so that a missing module fails with a plain message.
    context.root = await resolveRoot(reference, context);
    // Comments in the output name modules relative to the working directory: use the policy's own
    // folder, so the same policy bundles to the same text (and hash) wherever it is checked out.
    if (context.root.namespace === "file") workingDir = dirname(context.root.path);
    result = await esbuild.build({
      stdin: {
        contents: `export { default } from ${JSON.stringify(ENTRY)};\n`,
        sourcefile: "policy-entry.js",
        loader: "js",
      },
      absWorkingDir: workingDir,
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "neutral",
      target: "esnext",
      mainFields: ["module", "main"],
      conditions: ["deno", "worker"],
      define: { "process.env.NODE_ENV": '"production"' },
      charset: "utf8",
      legalComments: "inline",
      minify: options.minify ?? false,
      // The map stays on the kernel's side (incidents point at the policy's own lines); the text
      // names no map, so its hash depends on the code only.
      sourcemap: "external",
      sourcesContent: false,
      outfile: "policy.js",
      logLevel: "silent",
      plugins: [plugin],
      // No tsconfig.json of the server's folders shapes untrusted code.
      ...(untrusted ? { tsconfigRaw: "{}" } : {}),
    });
  } catch (error) {
    const message = describeBuildError(
      error,
      untrusted ? (where) => label(where, workingDir) : undefined,
    );
    throw new Error(
      `Cannot bundle policy${named}: ${untrusted ? redact(message, context) : message}`,
    );
  }
  const output = result.outputFiles.find((file) => file.path.endsWith(".js"));
  const mapFile = result.outputFiles.find((file) => file.path.endsWith(".js.map"));
  if (output === undefined) {
    throw new Error(`Cannot bundle policy${named}: esbuild wrote nothing`);
  }
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith(".map")) continue;
    const external = meta.imports.find((entry) => entry.external);
    if (external !== undefined) {
      throw new Error(
        `Cannot bundle policy${named}: the import "${external.path}" would stay external`,
      );
    }
    if (meta.exports.length !== 1 || meta.exports[0] !== "default") {
      throw new Error(`Cannot bundle policy${named}: the bundle must export only a default`);
    }
  }
  // esbuild names every module in a comment relative to the folder it bundled from: those go, so
  // the same policy bundles to the same text (and hash) wherever it is checked out.
  const stripped = stripPathComments(
    output.text,
    mapFile === undefined ? undefined : JSON.parse(mapFile.text) as SourceMap,
    Object.keys(result.metafile.inputs),
  );
  const code = stripped.code;
  const sha256 = await sha256Hex(code);
  const bundle: PolicyBundle = { code, sha256, bytes: encoder.encode(code).length, reference };
  rememberBundle(bundle);
  if (stripped.map !== undefined) {
    // Untrusted code's sources are named as esbuild names them (no server folder).
    registerSourceMap(sha256, stripped.map, untrusted ? undefined : workingDir);
  }
  if (options.store) await storeBundle(bundle, cacheDir);
  return bundle;
}

/** `$JSR_URL`, the registry Deno itself uses when it is set (a mirror, or a test registry). */
function envJsrUrl(): string | undefined {
  return envOrUndefined("JSR_URL");
}

function describeBuildError(error: unknown, name?: (file: string) => string): string {
  const messages = (error as { errors?: esbuild.Message[] }).errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return error instanceof Error ? error.message : String(error);
  }
  return messages.map((message) => {
    const location = message.location;
    const where = location === null || location.file === "policy-entry.js"
      ? ""
      : `${name?.(location.file) ?? location.file}:${location.line}:${location.column + 1}: `;
    return `${where}${message.text}`;
  }).join("; ");
}

/**
 * How an error shown to untrusted code names a module: its own module by its file's name, the
 * SDK as `hyperhook/…`, npm and remote modules as esbuild does (they name no server folder).
 */
function label(file: string, workingDir: string): string {
  if (/^[a-z]+:/.test(file)) return file;
  const path = resolvePath(workingDir, file);
  const core = CORE_URL.protocol === "file:" ? fileURLToPath(CORE_URL) : undefined;
  return core !== undefined && path.startsWith(core)
    ? `hyperhook/${path.slice(core.length)}`
    : basename(path);
}

/** Takes the server's own folders out of a message meant for untrusted code. */
function redact(message: string, context: BuildContext): string {
  const folders: [string, string][] = [[context.cacheDir, "<cache>"], [context.cwd, "<cwd>"]];
  if (CORE_URL.protocol === "file:") {
    folders.push([fileURLToPath(CORE_URL).replace(/\/$/, ""), "hyperhook"]);
  }
  if (context.root?.namespace === "file") folders.push([dirname(context.root.path), "<source>"]);
  const temp = envOrUndefined("TMPDIR") ?? "/tmp";
  const home = envOrUndefined("HOME");
  folders.push([temp, "<tmp>"]);
  if (home !== undefined) folders.push([home, "~"]);
  folders.sort((a, b) => b[0].length - a[0].length);
  let text = message;
  for (const [folder, name] of folders) {
    if (folder.length > 1) text = text.replaceAll(folder, name);
  }
  return text;
}

/** An environment variable, when it may be read without a prompt. */
function envOrUndefined(name: string): string | undefined {
  try {
    // Only when already allowed: reading it must never prompt.
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function fetchText(context: BuildContext, url: string): Promise<string> {
  let pending = context.texts.get(url);
  if (pending === undefined) {
    pending = (async () => {
      let current = url;
      for (let hop = 0;; hop++) {
        let response: Response;
        try {
          response = await context.fetcher(current);
        } catch (error) {
          throw new Error(`Cannot fetch ${url}: ${error instanceof Error ? error.message : error}`);
        }
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hop === MAX_REDIRECTS) {
            throw new Error(`Cannot fetch ${url}: more than ${MAX_REDIRECTS} redirects`);
          }
          current = new URL(location, current).href;
          await checkRemote(current, `${url}" redirected to "${current}`, context);
          continue;
        }
        // A fetcher that followed redirects itself: the last hop obeys the same rules.
        if (response.redirected && response.url !== "" && response.url !== current) {
          try {
            await checkRemote(response.url, `${url}" redirected to "${response.url}`, context);
          } catch (error) {
            await response.body?.cancel();
            throw error;
          }
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`Cannot fetch ${url}: HTTP ${response.status}`);
        }
        context.contentTypes.set(url, response.headers.get("content-type") ?? "");
        return await boundedText(response, url);
      }
    })();
    context.texts.set(url, pending);
  }
  return pending;
}

/** A response's text, refused past {@linkcode MAX_MODULE_BYTES} (a module that never ends). */
async function boundedText(response: Response, url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  if (response.body === null) return "";
  for await (const chunk of response.body) {
    bytes += chunk.length;
    if (bytes > MAX_MODULE_BYTES) {
      await response.body.cancel().catch(() => {});
      throw new Error(`Cannot fetch ${url}: larger than ${MAX_MODULE_BYTES / 2 ** 20} MiB`);
    }
    chunks.push(chunk);
  }
  const all = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) all.set(chunk, at), at += chunk.length;
  return new TextDecoder().decode(all);
}

function refusal(specifier: string, why: string): Error {
  return new Error(`Import "${specifier}": ${why}`);
}

/**
 * Checks a remote module's URL before it is fetched: plain `http:` only on loopback; for untrusted
 * code no `http:` at all, and `https:` only on public hosts (a host name is resolved, with the
 * global fetch, and every address it has must be public). The configured JSR registry, and the
 * SDK when the framework itself is remote, are trusted as configured.
 */
async function checkRemote(url: string, specifier: string, context: BuildContext): Promise<void> {
  if (url.startsWith(context.jsr.registry)) return;
  if (CORE_URL.protocol !== "file:" && url.startsWith(CORE_URL.href)) return;
  const parsed = new URL(url), kind = hostKind(parsed.hostname);
  if (parsed.protocol === "http:") {
    if (context.untrusted) {
      throw refusal(specifier, "untrusted code may import only npm:, jsr: and https: modules");
    }
    if (kind !== "loopback") {
      throw refusal(
        specifier,
        "plain http: is allowed only on loopback (127.0.0.0/8, ::1, localhost); use https:",
      );
    }
    return;
  }
  if (parsed.protocol !== "https:") throw refusal(specifier, "expected an https: URL");
  if (!context.untrusted) return;
  if (kind !== "public") {
    throw refusal(specifier, "untrusted code may not import from loopback or private addresses");
  }
  if (context.realFetch && !/^[\d.]+$|^\[/.test(parsed.hostname)) {
    let resolved = context.resolved.get(parsed.hostname);
    if (resolved === undefined) {
      resolved = resolvedAddresses(parsed.hostname);
      context.resolved.set(parsed.hostname, resolved);
    }
    const addresses = await resolved;
    if (addresses.length === 0) throw refusal(specifier, `cannot resolve ${parsed.hostname}`);
    const local = addresses.find((address) =>
      hostKind(address.includes(":") ? `[${address}]` : address) !== "public"
    );
    if (local !== undefined) {
      throw refusal(
        specifier,
        `untrusted code may not import from loopback or private addresses (${parsed.hostname} is ${local})`,
      );
    }
  }
}

/** The IPv4 and IPv6 addresses of a host name (none when it does not resolve). */
async function resolvedAddresses(hostname: string): Promise<string[]> {
  const addresses: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    try {
      addresses.push(...await Deno.resolveDns(hostname, type));
    } catch {
      // No record of this type (or no permission to ask): the other type may have one.
    }
  }
  return addresses;
}

/**
 * Lets a resolved import through, or refuses it: a remote module's URL is checked
 * ({@linkcode checkRemote}); a local file is allowed when it is the SDK or imported by the SDK,
 * never from a remote module, and never for untrusted code.
 */
async function admit(
  specifier: string,
  target: Target,
  from: { namespace: string; importer: string },
  context: BuildContext,
): Promise<Target> {
  if (target.namespace === "remote") {
    await checkRemote(target.path, specifier, context);
    return target;
  }
  if (target.namespace !== "file") return target;
  if (
    target.path === sdkTarget().path || target.path === sdkTarget(PROTOCOL_URL).path ||
    (from.namespace === "file" && context.trusted.has(from.importer))
  ) {
    context.trusted.add(target.path);
    return target;
  }
  if (from.namespace === "remote") {
    throw refusal(specifier, "a remote module may not import a local file");
  }
  if (context.untrusted) throw refusal(specifier, "untrusted code may not import local files");
  return target;
}

function isRelative(specifier: string): boolean {
  return /^\.{1,2}\//.test(specifier) || specifier.startsWith("/");
}

function hasScheme(specifier: string): boolean {
  // One letter before the colon is a Windows drive, not a scheme.
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(specifier);
}

function nodeBuiltinError(specifier: string): Error {
  return new Error(
    `"${specifier}" is a Node.js built-in module; a policy runs sandboxed, without files, ` +
      `network or processes, so it cannot import it`,
  );
}

function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || NODE_BUILTINS.has(specifier);
}

function sdkTarget(url = SDK_URL): Target {
  return url.protocol === "file:"
    ? { namespace: "file", path: fileURLToPath(url) }
    : { namespace: "remote", path: url.href };
}

async function resolveRoot(reference: string, context: BuildContext): Promise<Target> {
  if (hasScheme(reference)) {
    const target = await resolveSpecifier(reference, undefined, context);
    if (target?.namespace === "remote") await checkRemote(target.path, reference, context);
    if (target !== undefined) return target;
  }
  const path = resolvePath(context.cwd, reference);
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`Policy module not found: ${path}`);
  }
  return { namespace: "file", path };
}

/**
 * Resolves a specifier that has been through the import map. `build` is needed only for `npm:`
 * (undefined for the root, whose npm resolution is done by the plugin once the build runs).
 */
async function resolveSpecifier(
  specifier: string,
  from: {
    namespace: string;
    importer: string;
    build: esbuild.PluginBuild;
    kind: esbuild.ImportKind;
  } | undefined,
  context: BuildContext,
): Promise<Target | undefined> {
  if (isNodeBuiltin(specifier)) throw nodeBuiltinError(specifier);
  const own = OWN_PACKAGE.exec(specifier);
  if (own !== null) {
    if (own[1] === "/policy") return sdkTarget();
    if (own[1] === "/protocol") return sdkTarget(PROTOCOL_URL);
    throw new Error(
      `"${specifier}" is the hyperhook kernel; a policy may import only the SDK, ` +
        `"@hyperhook/hyperhook/policy" (or the protocol, "@hyperhook/hyperhook/protocol")`,
    );
  }
  if (specifier.startsWith("jsr:")) {
    return { namespace: "remote", path: await context.jsr.resolve(specifier) };
  }
  if (specifier.startsWith("npm:")) {
    const parsed = parsePackageSpecifier(specifier);
    if (parsed === undefined) throw new Error(`Malformed npm specifier "${specifier}"`);
    const workspace = await npmWorkspace(parsed, context.cacheDir);
    context.npmDirs.set(workspace.key, workspace.dir);
    if (from === undefined) {
      // The root: let the plugin resolve the package once esbuild runs.
      return { namespace: "npm", path: `${workspace.key}/${parsed.name}${parsed.subpath}` };
    }
    const resolved = await from.build.resolve(`${parsed.name}${parsed.subpath}`, {
      kind: from.kind,
      resolveDir: workspace.dir,
      pluginData: NATIVE,
    });
    return npmTarget(resolved, specifier, context);
  }
  if (/^https?:/.test(specifier)) return { namespace: "remote", path: specifier };
  if (specifier.startsWith("file:")) return { namespace: "file", path: fileURLToPath(specifier) };
  if (hasScheme(specifier)) throw new Error(`Unsupported import "${specifier}"`);
  if (from === undefined) return undefined;
  if (isRelative(specifier)) {
    return from.namespace === "remote"
      ? { namespace: "remote", path: new URL(specifier, from.importer).href }
      : { namespace: "file", path: resolvePath(dirname(from.importer), specifier) };
  }
  if (from.namespace === "file" && !(context.untrusted && !context.trusted.has(from.importer))) {
    // A package in the policy project's own node_modules, if it has one (not for untrusted code:
    // the server's folders are not its project).
    const resolved = await from.build.resolve(specifier, {
      kind: from.kind,
      resolveDir: dirname(from.importer),
      pluginData: NATIVE,
    });
    if (resolved.errors.length === 0 && resolved.path !== "") {
      return { namespace: "file", path: resolved.path, sideEffects: resolved.sideEffects };
    }
  }
  throw new Error(
    `Cannot resolve "${specifier}": map it in the "imports" of deno.json, or import it as ` +
      `"npm:${specifier}" or "jsr:${specifier}"`,
  );
}

/** Turns esbuild's resolution inside a workspace into a path that names the workspace by key. */
function npmTarget(
  resolved: esbuild.ResolveResult,
  specifier: string,
  context: BuildContext,
): Target {
  if (resolved.errors.length > 0 || resolved.path === "") {
    throw new Error(
      `Cannot resolve "${specifier}" in its npm package: ${
        resolved.errors.map((error) => error.text).join("; ") || "no file"
      }`,
    );
  }
  for (const [key, dir] of context.npmDirs) {
    if (resolved.path.startsWith(`${dir}/`)) {
      return {
        namespace: "npm",
        path: `${key}/${relative(dir, resolved.path)}`,
        sideEffects: resolved.sideEffects,
      };
    }
  }
  return { namespace: "file", path: resolved.path, sideEffects: resolved.sideEffects };
}

function npmRealPath(path: string, context: BuildContext): string {
  const slash = path.indexOf("/");
  const dir = context.npmDirs.get(path.slice(0, slash));
  if (dir === undefined) throw new Error(`Unknown npm workspace in "${path}"`);
  return `${dir}/${path.slice(slash + 1)}`;
}

async function importMapFor(
  namespace: string,
  importer: string,
  context: BuildContext,
): Promise<ImportMap | undefined> {
  if (namespace === "remote") return await context.jsr.importMapFor(importer);
  // Untrusted code has no project on the server: no deno.json of the server's folders maps it.
  if (namespace !== "file" || context.untrusted) return undefined;
  return await fileImportMap(dirname(importer), context);
}

/** The import map of the nearest deno.json(c) at or above `dir`. */
function fileImportMap(dir: string, context: BuildContext): Promise<ImportMap | undefined> {
  let pending = context.configs.get(dir);
  if (pending === undefined) {
    pending = (async () => {
      for (const name of ["deno.json", "deno.jsonc"]) {
        const path = `${dir}/${name}`;
        let text: string;
        try {
          text = await Deno.readTextFile(path);
        } catch {
          continue;
        }
        context.onRead(path, text);
        const config = parseJsonc(text) as { importMap?: unknown };
        const base = new URL(`file://${path}`);
        if (typeof config.importMap === "string") {
          const mapUrl = new URL(config.importMap, base);
          const mapText = await Deno.readTextFile(fileURLToPath(mapUrl));
          context.onRead(fileURLToPath(mapUrl), mapText);
          return importMapOf(parseJsonc(mapText), mapUrl);
        }
        return importMapOf(config, base);
      }
      const parent = dirname(dir);
      return parent === dir ? undefined : await fileImportMap(parent, context);
    })();
    context.configs.set(dir, pending);
  }
  return pending;
}

const LOADERS: Record<string, esbuild.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".jsx": "jsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".json": "json",
};

function loaderForPath(path: string): esbuild.Loader {
  const loader = LOADERS[extname(path).toLowerCase()];
  if (loader === undefined) {
    throw new Error(`Cannot bundle "${path}": only JavaScript, TypeScript and JSON modules can`);
  }
  return loader;
}

function loaderForUrl(url: string, contentType: string | undefined): esbuild.Loader {
  const loader = LOADERS[extname(new URL(url).pathname).toLowerCase()];
  if (loader !== undefined) return loader;
  if (contentType?.includes("typescript")) return "ts";
  if (contentType?.includes("json")) return "json";
  return "js";
}

function policyPlugin(context: BuildContext): esbuild.Plugin {
  return {
    name: "hyperhook-policy",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === NATIVE) return undefined;
        try {
          const target = await resolveImport(args, build, context);
          return target === undefined ? undefined : {
            path: target.path,
            namespace: target.namespace,
            sideEffects: target.sideEffects,
          };
        } catch (error) {
          return { errors: [{ text: error instanceof Error ? error.message : String(error) }] };
        }
      });
      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        // The last gate: whatever resolved it, untrusted code reads no file but itself and the SDK.
        if (
          context.untrusted && args.path !== context.root?.path && !context.trusted.has(args.path)
        ) {
          throw new Error("Untrusted code may not import local files");
        }
        const contents = await Deno.readTextFile(args.path);
        context.onRead(args.path, contents);
        return { contents, loader: loaderForPath(args.path), resolveDir: dirname(args.path) };
      });
      build.onLoad({ filter: /.*/, namespace: "npm" }, async (args) => {
        const path = npmRealPath(args.path, context);
        const contents = await Deno.readTextFile(path);
        context.onRead(path, contents);
        return { contents, loader: loaderForPath(path) };
      });
      build.onLoad({ filter: /.*/, namespace: "remote" }, async (args) => {
        const contents = await fetchText(context, args.path);
        context.onRead(args.path, contents);
        return { contents, loader: loaderForUrl(args.path, context.contentTypes.get(args.path)) };
      });
    },
  };
}

async function resolveImport(
  args: esbuild.OnResolveArgs,
  build: esbuild.PluginBuild,
  context: BuildContext,
): Promise<Target | undefined> {
  if (args.path === ENTRY) {
    const root = context.root!;
    if (root.namespace !== "npm") return root;
    // An npm package as the policy itself: resolve its entry inside its workspace.
    const slash = root.path.indexOf("/");
    const dir = context.npmDirs.get(root.path.slice(0, slash))!;
    const resolved = await build.resolve(root.path.slice(slash + 1), {
      kind: args.kind,
      resolveDir: dir,
      pluginData: NATIVE,
    });
    return npmTarget(resolved, root.path.slice(slash + 1), context);
  }
  const inNodeModules = args.namespace === "npm" ||
    (args.namespace === "file" && args.importer.includes("/node_modules/"));
  if (inNodeModules) {
    // Code from npm: Node-style resolution, except for built-ins (not available in the sandbox).
    if (isNodeBuiltin(args.path)) throw nodeBuiltinError(args.path);
    if (args.path.startsWith("npm:")) {
      const from = { namespace: args.namespace, importer: args.importer, build, kind: args.kind };
      return await admit(
        args.path,
        (await resolveSpecifier(args.path, from, context))!,
        from,
        context,
      );
    }
    if (args.namespace === "file") return undefined;
    const resolved = await build.resolve(args.path, {
      kind: args.kind,
      resolveDir: dirname(npmRealPath(args.importer, context)),
      pluginData: NATIVE,
    });
    return await admit(args.path, npmTarget(resolved, args.path, context), args, context);
  }
  let specifier = args.path;
  if (!isRelative(specifier)) {
    const map = await importMapFor(args.namespace, args.importer, context);
    specifier = (map === undefined ? undefined : applyImportMap(map, specifier)) ?? specifier;
  }
  const from = { namespace: args.namespace, importer: args.importer, build, kind: args.kind };
  const target = await resolveSpecifier(specifier, from, context);
  return target === undefined ? undefined : await admit(args.path, target, from, context);
}
