/**
 * What the bundler does with esbuild's source map: it takes the folder out of the bundle's text
 * (esbuild names each module in a `// path` comment, relative to the folder it bundled from, so
 * two checkouts gave two texts and two hashes), and it maps a place in the bundle back to the
 * policy's own source, for incidents.
 *
 * @module
 */

/** The parts of a version 3 source map the kernel reads. */
export interface SourceMap {
  /** The modules the bundle came from (as esbuild names them: relative to the bundling folder). */
  sources: string[];
  /** The mappings: one `;`-separated group per generated line, base64 VLQ segments. */
  mappings: string;
}

/** A place in a policy's sources, 1-based as editors show it. */
export interface SourcePlace {
  /** The module, as the map names it. */
  source: string;
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  column: number;
}

/**
 * Removes esbuild's `// path` comments (one line each, naming an input module) from a bundle, and
 * the matching empty groups from its source map's mappings, so that the text depends on the code
 * only and the map still points at the right lines.
 *
 * @param code The bundle's text.
 * @param map The source map's JSON, or undefined when there is none.
 * @param inputs The paths of the build's inputs, as esbuild names them in the comments.
 */
export function stripPathComments(
  code: string,
  map: SourceMap | undefined,
  inputs: Iterable<string>,
): { code: string; map: SourceMap | undefined } {
  const comments = new Set<string>();
  for (const input of inputs) comments.add(`// ${input}`);
  const lines = code.split("\n");
  const groups = map?.mappings.split(";");
  const keptLines: string[] = [], keptGroups: string[] = [];
  lines.forEach((line, index) => {
    const group = groups?.[index] ?? "";
    // A line that maps to source code is code, whatever it reads like.
    if (group === "" && comments.has(line)) return;
    keptLines.push(line);
    if (groups !== undefined && index < groups.length) keptGroups.push(group);
  });
  return {
    code: keptLines.join("\n"),
    map: map === undefined ? undefined : { ...map, mappings: keptGroups.join(";") },
  };
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((char, value) => [char, value]));

/** Decodes one segment's base64 VLQ numbers. */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0, shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) return [];
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
    value = shift = 0;
  }
  return values;
}

/**
 * Where a place in the bundle (1-based line and column, as stack traces give them) came from: the
 * last mapping at or before it on its line.
 *
 * @example
 * ```ts
 * import { originalPlace } from "./source_map.ts";
 *
 * // Line 1, column 0 of the bundle comes from line 3, column 2 of a.ts.
 * const map = { sources: ["a.ts"], mappings: "AAEE" };
 * console.assert(originalPlace(map, 1, 5)?.line === 3);
 * ```
 */
export function originalPlace(
  map: SourceMap,
  line: number,
  column: number,
): SourcePlace | undefined {
  let source = 0, sourceLine = 0, sourceColumn = 0;
  let found: SourcePlace | undefined;
  const groups = map.mappings.split(";");
  for (let index = 0; index < groups.length && index < line; index++) {
    let generated = 0;
    for (const segment of groups[index]!.split(",")) {
      if (segment === "") continue;
      const values = decodeSegment(segment);
      if (values.length === 0) continue;
      generated += values[0]!;
      if (values.length < 4) continue;
      source += values[1]!;
      sourceLine += values[2]!;
      sourceColumn += values[3]!;
      if (index === line - 1 && generated <= column - 1) {
        const name = map.sources[source];
        if (name !== undefined) {
          found = { source: name, line: sourceLine + 1, column: sourceColumn + 1 };
        }
      }
    }
  }
  return found;
}

/** Source maps of the bundles built in this process, by the bundle's SHA-256. */
const maps = new Map<string, { map: SourceMap; dir: string | undefined }>();

/**
 * Keeps a bundle's source map for {@linkcode mapStack}.
 *
 * @param sha256 The bundle's hash.
 * @param map Its source map.
 * @param dir The folder its sources are relative to, or undefined to show them as the map names
 *   them (untrusted code: no server folder in an incident).
 */
export function registerSourceMap(sha256: string, map: SourceMap, dir: string | undefined): void {
  maps.set(sha256, { map, dir });
}

/** The most frames an incident keeps. */
const MAX_FRAMES = 8;

/**
 * A policy's stack trace as the frames of its own code, each mapped to its source through the
 * bundle's source map (`dispatch (my_policy.ts:42:13)`, the path relative to the working
 * directory): the frames of the bundled module (a `blob:` URL wherever it ran) and of built-in
 * policies' files, without the SDK's and the host's own frames.
 *
 * @param stack The `stack` text of what the policy threw.
 * @param sha256 The bundle's hash (empty for a built-in run from its files).
 * @param cwd The folder paths are shown relative to.
 */
export function mapStack(stack: string, sha256: string, cwd: string): string[] {
  const known = maps.get(sha256);
  const frames: string[] = [];
  for (const raw of stack.split("\n")) {
    const match = /^\s+at (?:(.*?) \()?(\S+?):(\d+):(\d+)\)?$/.exec(raw);
    if (match === null) continue;
    const [, name, url, line, column] = match;
    let place: string | undefined;
    if (url!.startsWith("blob:")) {
      const found = known === undefined
        ? undefined
        : originalPlace(known.map, Number(line), Number(column));
      if (found === undefined) place = `bundle:${line}:${column}`;
      else if (!isSdk(found.source)) {
        place = `${shown(found.source, known!.dir, cwd)}:${found.line}:${found.column}`;
      }
    } else if (url!.startsWith("file://")) {
      const path = decodeURIComponent(new URL(url!).pathname);
      if (/\/plugins\/|\/examples\//.test(path)) {
        place = `${relativePath(cwd, path)}:${line}:${column}`;
      }
    }
    if (place === undefined) continue;
    frames.push(name === undefined ? place : `${name} (${place})`);
    if (frames.length === MAX_FRAMES) break;
  }
  return frames;
}

/** Whether a source is the policy SDK's (bundled into every policy; not the author's code). */
function isSdk(source: string): boolean {
  return /(^|\/)core\/(policy|protocol|engine)\//.test(source) || source.startsWith("hyperhook/");
}

function shown(source: string, dir: string | undefined, cwd: string): string {
  if (dir === undefined || /^[a-z]+:/.test(source)) return source;
  return relativePath(cwd, `${dir}/${source}`);
}

/** `path` relative to `from` (both absolute), with `..` where needed; normalised. */
function relativePath(from: string, path: string): string {
  const parts = (p: string) => {
    const out: string[] = [];
    for (const part of p.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop();
      else out.push(part);
    }
    return out;
  };
  const base = parts(from), target = parts(path);
  let common = 0;
  while (common < base.length && common < target.length && base[common] === target[common]) {
    common++;
  }
  return [...base.slice(common).map(() => ".."), ...target.slice(common)].join("/");
}

/** The source map kept for a bundle built in this process, if any. */
export function sourceMapOf(sha256: string): SourceMap | undefined {
  return maps.get(sha256)?.map;
}

/** The working directory incidents show paths relative to ("/" when it may not be read). */
export function workingDir(): string {
  try {
    return Deno.cwd();
  } catch {
    return "/";
  }
}
