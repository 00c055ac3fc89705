/**
 * The files a plan's workload pattern names: a path, or a glob with `*` and `?` inside a segment and
 * `**` for any depth. Matches come back sorted, so a plan always expands in the same order.
 *
 * @module
 */

import { join } from "node:path";

/** Whether a path segment holds glob characters. */
function isPattern(segment: string): boolean {
  return /[*?[]/.test(segment);
}

function segmentRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(
    /\?/g,
    "[^/]",
  );
  return new RegExp(`^${body}$`);
}

/**
 * The files matching `pattern` (absolute, or relative to `baseDir`), sorted.
 *
 * @returns Absolute paths; empty when nothing matches.
 */
export function expandGlob(pattern: string, baseDir: string): string[] {
  const absolute = pattern.startsWith("/") ? pattern : join(baseDir, pattern);
  const segments = absolute.split("/").filter((segment) => segment !== "");
  if (!segments.some(isPattern)) {
    try {
      return Deno.statSync(absolute).isFile ? [absolute] : [];
    } catch {
      return [];
    }
  }
  const found: string[] = [];
  const walk = (dir: string, rest: string[]): void => {
    if (rest.length === 0) return;
    const [segment, ...tail] = rest as [string, ...string[]];
    if (segment === "**") {
      walk(dir, tail);
      for (const entry of listDir(dir)) {
        if (entry.isDirectory) walk(join(dir, entry.name), rest);
      }
      return;
    }
    if (!isPattern(segment)) {
      const path = join(dir, segment);
      if (tail.length === 0) {
        if (isFile(path)) found.push(path);
      } else walk(path, tail);
      return;
    }
    const match = segmentRegExp(segment);
    for (const entry of listDir(dir)) {
      if (!match.test(entry.name) || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (tail.length === 0) {
        if (entry.isFile) found.push(path);
      } else if (entry.isDirectory) walk(path, tail);
    }
  };
  walk("/", segments);
  return [...new Set(found)].sort();
}

function listDir(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
