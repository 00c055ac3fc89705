/**
 * Module resolution for the policy bundler, done the way Deno does it for the cases policies use:
 * import maps from `deno.json`, `jsr:` specifiers through the registry's metadata, `npm:`
 * specifiers through a small `node_modules` workspace that `deno install` lays out from Deno's
 * own npm cache. Private to `core/bundle/`.
 *
 * @module
 */

import { sha256Hex } from "./sha256.ts";

/** Fetches a URL (injectable so that tests and offline tools can serve modules themselves). */
export type Fetcher = (url: string) => Promise<Response>;

/** An `npm:` or `jsr:` specifier, split. */
export interface PackageSpecifier {
  /** The package name, with its scope. */
  name: string;
  /** The version range; empty when none was given. */
  range: string;
  /** The path inside the package, starting with `/`; empty for the package itself. */
  subpath: string;
}

const PACKAGE_SPECIFIER = /^(?:npm|jsr):\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]*))?(\/.*)?$/;

/** Splits `npm:name@range/sub` or `jsr:@scope/name@range/sub`; undefined if malformed. */
export function parsePackageSpecifier(specifier: string): PackageSpecifier | undefined {
  const match = PACKAGE_SPECIFIER.exec(specifier);
  if (match === null) return undefined;
  return { name: match[1]!, range: match[2] ?? "", subpath: match[3] ?? "" };
}

// ---------------------------------------------------------------------------------------------
// Versions

interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function parseVersion(text: string): Version | undefined {
  const match = VERSION.exec(text.trim());
  if (match === null) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    prerelease: match[4] ?? "",
  };
}

function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === "") return 1;
  if (b.prerelease === "") return -1;
  return a.prerelease < b.prerelease ? -1 : 1;
}

/**
 * Builds a test for one version range: `*`, an exact or partial version (`1`, `1.2`, `1.2.3`),
 * or one of `^ ~ >= > <= <` followed by a (partial) version. Prereleases match only an exact range.
 *
 * @throws {Error} For other range syntax (`||`, hyphen ranges, several comparators).
 */
function rangeTest(range: string): (version: Version) => boolean {
  const trimmed = range.trim();
  if (trimmed === "" || trimmed === "*" || trimmed === "latest" || trimmed === "x") {
    return (version) => version.prerelease === "";
  }
  const match =
    /^(\^|~|>=|>|<=|<|=)?\s*v?(\d+|[x*])(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?(?:-([0-9A-Za-z.-]+))?$/
      .exec(trimmed);
  if (match === null) {
    throw new Error(`Unsupported version range "${range}": use an exact version, ^, ~, >= or *`);
  }
  const operator = match[1] ?? "";
  const parts = [match[2], match[3], match[4]].map((part) =>
    part === undefined || part === "x" || part === "*" ? undefined : Number(part)
  );
  const given = parts.findIndex((part) => part === undefined);
  const precision = given === -1 ? 3 : given;
  const low: Version = {
    major: parts[0] ?? 0,
    minor: precision > 1 ? parts[1]! : 0,
    patch: precision > 2 ? parts[2]! : 0,
    prerelease: match[5] ?? "",
  };
  if (low.prerelease !== "") {
    return (version) => compareVersions(version, low) === 0;
  }
  const stable = (test: (version: Version) => boolean) => (version: Version) =>
    version.prerelease === "" && test(version);
  const bump = (index: number): Version => ({
    major: index === 0 ? low.major + 1 : low.major,
    minor: index === 1 ? low.minor + 1 : index === 0 ? 0 : low.minor,
    patch: index === 2 ? low.patch + 1 : 0,
    prerelease: "",
  });
  const within = (high: Version) =>
    stable((version) => compareVersions(version, low) >= 0 && compareVersions(version, high) < 0);
  switch (operator) {
    case "^": {
      // The first non-zero part given (or the last part given) may not change.
      let index = [low.major, low.minor, low.patch].findIndex((part) => part !== 0);
      if (index === -1 || index >= precision) index = Math.max(0, precision - 1);
      return within(bump(index));
    }
    case "~":
      return within(bump(precision >= 2 ? 1 : 0));
    case ">=":
      return stable((version) => compareVersions(version, low) >= 0);
    case ">":
      return precision === 3
        ? stable((version) => compareVersions(version, low) > 0)
        : stable((version) => compareVersions(version, bump(precision - 1)) >= 0);
    case "<=":
      return precision === 3
        ? stable((version) => compareVersions(version, low) <= 0)
        : stable((version) => compareVersions(version, bump(precision - 1)) < 0);
    case "<":
      return stable((version) => compareVersions(version, low) < 0);
    default:
      return precision === 3
        ? (version) => compareVersions(version, low) === 0
        : within(bump(precision - 1));
  }
}

/**
 * Picks the highest version matching `range`.
 *
 * @returns The version, or undefined when none matches.
 */
export function pickVersion(range: string, versions: Iterable<string>): string | undefined {
  const test = rangeTest(range);
  let best: { text: string; version: Version } | undefined;
  for (const text of versions) {
    const version = parseVersion(text);
    if (version === undefined || !test(version)) continue;
    if (best === undefined || compareVersions(version, best.version) > 0) best = { text, version };
  }
  return best?.text;
}

// ---------------------------------------------------------------------------------------------
// Import maps

/** The `imports` of a `deno.json` (or a JSR package's config), with the URL they are relative to. */
export interface ImportMap {
  /** The specifier map. */
  imports: Record<string, string>;
  /** The config file's URL. */
  base: URL;
}

/** Parses JSON with comments and trailing commas (deno.jsonc). */
export function parseJsonc(text: string): unknown {
  let output = "";
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      output += text.slice(index, end + 1);
      index = end + 1;
    } else if (char === "/" && text[index + 1] === "/") {
      while (index < text.length && text[index] !== "\n") index++;
    } else if (char === "/" && text[index + 1] === "*") {
      const end = text.indexOf("*/", index + 2);
      index = end === -1 ? text.length : end + 2;
    } else {
      output += char;
      index++;
    }
  }
  return JSON.parse(output.replace(/,(\s*[}\]])/g, "$1"));
}

/** Reads the `imports` of a parsed config. */
export function importMapOf(config: unknown, base: URL): ImportMap | undefined {
  if (typeof config !== "object" || config === null) return undefined;
  const imports = (config as { imports?: unknown }).imports;
  if (typeof imports !== "object" || imports === null) return undefined;
  const entries = Object.entries(imports).filter((entry): entry is [string, string] =>
    typeof entry[1] === "string"
  );
  return { imports: Object.fromEntries(entries), base };
}

function resolveTarget(target: string, base: URL): string {
  return /^\.{0,2}\//.test(target) ? new URL(target, base).href : target;
}

/**
 * Applies an import map to a specifier: an exact key, else the longest key ending in `/` that
 * prefixes it, else (as Deno does) a key whose value is a `jsr:` or `npm:` package followed by a
 * subpath (`"@std/path": "jsr:@std/path@1"` also maps `@std/path/join`).
 *
 * @returns The mapped specifier (relative targets made absolute), or undefined when no key applies.
 */
export function applyImportMap(map: ImportMap, specifier: string): string | undefined {
  const exact = map.imports[specifier];
  if (exact !== undefined) return resolveTarget(exact, map.base);
  let best: { key: string; target: string } | undefined;
  for (const [key, target] of Object.entries(map.imports)) {
    const matches = key.endsWith("/")
      ? specifier.startsWith(key)
      : /^(jsr|npm):/.test(target) && specifier.startsWith(`${key}/`);
    if (matches && (best === undefined || key.length > best.key.length)) best = { key, target };
  }
  if (best === undefined) return undefined;
  return resolveTarget(best.target + specifier.slice(best.key.length), map.base);
}

// ---------------------------------------------------------------------------------------------
// JSR

/** Resolves `jsr:` specifiers to HTTPS module URLs through the registry's metadata files. */
export class JsrResolver {
  #registry: string;
  #text: (url: string) => Promise<string>;

  /**
   * @param registry The registry's base URL, ending in `/` (`https://jsr.io/`).
   * @param text Fetches a URL's text (cached by the caller).
   */
  constructor(registry: string, text: (url: string) => Promise<string>) {
    this.#registry = registry.endsWith("/") ? registry : `${registry}/`;
    this.#text = text;
  }

  /** The registry's base URL. */
  get registry(): string {
    return this.#registry;
  }

  /**
   * Resolves `jsr:@scope/name@range/subpath` to the URL of the exported module.
   *
   * @throws {Error} When the package, a matching version or the export does not exist.
   */
  async resolve(specifier: string): Promise<string> {
    const parsed = parsePackageSpecifier(specifier);
    if (parsed === undefined || !parsed.name.startsWith("@")) {
      throw new Error(
        `Malformed JSR specifier "${specifier}": expected jsr:@scope/name@range/path`,
      );
    }
    const { version, exports } = await this.#package(parsed);
    const key = `.${parsed.subpath}`;
    const target = exports[key];
    if (target === undefined) {
      throw new Error(
        `Package ${parsed.name}@${version} does not export "${key}" (it exports ${
          Object.keys(exports).map((name) => `"${name}"`).join(", ")
        })`,
      );
    }
    return new URL(target.replace(/^\.\//, ""), `${this.#registry}${parsed.name}/${version}/`)
      .href;
  }

  /** The import map of the JSR package a module URL belongs to, if it has one. */
  async importMapFor(moduleUrl: string): Promise<ImportMap | undefined> {
    if (!moduleUrl.startsWith(this.#registry)) return undefined;
    const match = /^(@[^/]+\/[^/]+)\/([^/]+)\//.exec(moduleUrl.slice(this.#registry.length));
    if (match === null) return undefined;
    const [, name, version] = match;
    const meta = await this.#versionMeta(name!, version!);
    const manifest = (meta as { manifest?: Record<string, unknown> }).manifest ?? {};
    for (const file of ["/deno.json", "/deno.jsonc", "/jsr.json", "/jsr.jsonc"]) {
      if (!(file in manifest)) continue;
      const url = `${this.#registry}${name}/${version}${file}`;
      return importMapOf(parseJsonc(await this.#text(url)), new URL(url));
    }
    return undefined;
  }

  async #package(
    parsed: PackageSpecifier,
  ): Promise<{ version: string; exports: Record<string, string> }> {
    const meta = JSON.parse(await this.#text(`${this.#registry}${parsed.name}/meta.json`)) as {
      versions?: Record<string, { yanked?: boolean }>;
    };
    const versions = Object.entries(meta.versions ?? {})
      .filter(([, info]) => info?.yanked !== true)
      .map(([version]) => version);
    const version = pickVersion(parsed.range, versions);
    if (version === undefined) {
      throw new Error(`No version of ${parsed.name} matches "${parsed.range || "*"}"`);
    }
    const versionMeta = await this.#versionMeta(parsed.name, version);
    const exports = (versionMeta as { exports?: Record<string, string> }).exports ?? {};
    return { version, exports };
  }

  async #versionMeta(name: string, version: string): Promise<unknown> {
    return JSON.parse(await this.#text(`${this.#registry}${name}/${version}_meta.json`));
  }
}

// ---------------------------------------------------------------------------------------------
// npm

const workspaces = new Map<string, Promise<string>>();

/** The first 16 hex digits of a text's sha256: short, unique enough for a cache's folder names. */
async function sha256Prefix(text: string): Promise<string> {
  return (await sha256Hex(text)).slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function denoInstall(
  dir: string,
  cachedOnly: boolean,
): Promise<{ ok: boolean; error: string }> {
  const args = ["install", "--no-lock", "--quiet", ...(cachedOnly ? ["--cached-only"] : [])];
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { ok: output.success, error: new TextDecoder().decode(output.stderr).trim() };
}

/**
 * Lays out one npm package (and its dependencies) in a `node_modules` folder with `deno install`,
 * which takes packages from Deno's npm cache (online only for what is not cached yet), so that
 * esbuild can resolve inside it the way Node does. One workspace per package name and range,
 * reused across builds (so a range is pinned to what it first resolved to, like a lockfile).
 *
 * @returns The workspace folder and its name (stable across machines, for the bundle's comments).
 */
export async function npmWorkspace(
  parsed: PackageSpecifier,
  cacheDir: string,
): Promise<{ dir: string; key: string }> {
  const range = parsed.range === "" ? "*" : parsed.range;
  const key = `${parsed.name.replace(/[^A-Za-z0-9._-]/g, "_")}@${
    range.replace(/[^A-Za-z0-9._-]/g, "_")
  }-${await sha256Prefix(`${parsed.name}@${range}`)}`;
  const dir = `${cacheDir}/npm/${key}`;
  let pending = workspaces.get(dir);
  if (pending === undefined) {
    pending = (async () => {
      if (await exists(`${dir}/node_modules/${parsed.name}/package.json`)) return dir;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/package.json`,
        JSON.stringify({ private: true, dependencies: { [parsed.name]: range } }, null, 2),
      );
      // A config of its own keeps the workspace from joining a project found further up.
      await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ nodeModulesDir: "auto" }));
      let result = await denoInstall(dir, true);
      if (!result.ok) result = await denoInstall(dir, false);
      if (!result.ok) {
        throw new Error(`Cannot install npm:${parsed.name}@${range}: ${result.error}`);
      }
      return dir;
    })();
    workspaces.set(dir, pending);
    pending.catch(() => workspaces.delete(dir));
  }
  return { dir: await pending, key };
}

// ---------------------------------------------------------------------------------------------
// Hosts

/**
 * What a URL's host is, for the rules on where policy code may come from: `loopback` (127.0.0.0/8,
 * ::1, `localhost` and `*.localhost`), `private` (any other address a server reaches but the
 * public cannot: RFC 1918, CGNAT, link-local, unique-local, unspecified, multicast, reserved, and
 * names that only a local resolver knows: single labels, `.local`, `.internal`, `.home.arpa`), or
 * `public`. IPv4 inside IPv6 (mapped, compatible, NAT64, 6to4) is judged as the IPv4 it carries.
 *
 * @param hostname A URL's `hostname` (the WHATWG parser has already normalised numeric IPv4
 *   forms such as `2130706433` or `0x7f.1` to dotted quads, and brackets IPv6).
 */
export function hostKind(hostname: string): "loopback" | "private" | "public" {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return ipv6Kind(host.slice(1, -1));
  const quad = ipv4Of(host);
  if (quad !== undefined) return ipv4Kind(quad);
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (!host.includes(".") || /\.(local|internal|home\.arpa|localdomain)$/.test(host)) {
    return "private";
  }
  return "public";
}

function ipv4Of(host: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (match === null) return undefined;
  const quad = match.slice(1).map(Number);
  return quad.every((byte) => byte <= 255) ? quad : undefined;
}

function ipv4Kind([a, b]: number[]): "loopback" | "private" | "public" {
  if (a === 127) return "loopback";
  const local = a === 0 || a === 10 || (a === 100 && b! >= 64 && b! < 128) ||
    (a === 169 && b === 254) || (a === 172 && b! >= 16 && b! < 32) ||
    (a === 192 && (b === 168 || b === 0)) || (a === 198 && (b === 18 || b === 19)) || a! >= 224;
  return local ? "private" : "public";
}

function ipv6Kind(address: string): "loopback" | "private" | "public" {
  const groups = ipv6Groups(address);
  if (groups === undefined) return "private";
  const [g0, g1, , , , g5, g6, g7] = groups as [number, ...number[]];
  const v4 = [g6! >> 8, g6! & 255, g7! >> 8, g7! & 255];
  const zeros = (count: number) => groups.slice(0, count).every((group) => group === 0);
  if (zeros(7) && g7 === 1) return "loopback";
  if (zeros(8)) return "private";
  // ::ffff:a.b.c.d (mapped) is that IPv4 address; the embeddings that cross a translator
  // (::a.b.c.d, 64:ff9b::a.b.c.d, 2002:abcd:efgh::) are private unless the IPv4 is public.
  if (zeros(5) && g5 === 0xffff) return ipv4Kind(v4);
  const embedded = zeros(6) || (g0 === 0x64 && g1 === 0xff9b)
    ? v4
    : g0 === 0x2002
    ? [g1! >> 8, g1! & 255, groups[2]! >> 8, groups[2]! & 255]
    : undefined;
  if (embedded !== undefined) return ipv4Kind(embedded) === "public" ? "public" : "private";
  // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast.
  if ((g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xff00) === 0xff00) {
    return "private";
  }
  return "public";
}

/** The eight 16-bit groups of an IPv6 address as the URL parser writes it (hex, `::`). */
function ipv6Groups(address: string): number[] | undefined {
  const [head = "", tail] = address.split("::");
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((hex) => parseInt(hex, 16));
  const front = parse(head), back = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined
    ? front
    : [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  return groups.length === 8 && groups.every((group) => group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}
