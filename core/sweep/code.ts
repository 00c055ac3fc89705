/**
 * Which code a shard ran on: the hyperhook version and a hash of the sources. It is part of every
 * shard key, so a worker on another version or with edited sources writes results under other keys
 * (and `collect` flags them) instead of mixing them with the plan's.
 *
 * @module
 */

import { createHash } from "node:crypto";

const ROOT = new URL("../../", import.meta.url);
/** What the sources are: every module of the library, the policies, and the dependency pins. */
const SOURCE_FOLDERS = ["core", "plugins"];
const SOURCE_FILES = ["mod.ts", "deno.json", "deno.lock"];

let identity: Promise<string> | undefined;

/**
 * The code's identity, such as `0.1.0+3f2a…` (the version from deno.json, then 16 hex digits of a
 * sha256 over the sources when they are files; the version alone otherwise).
 */
export function codeIdentity(): Promise<string> {
  identity ??= computeIdentity();
  return identity;
}

async function computeIdentity(): Promise<string> {
  let version = "unknown";
  try {
    const url = new URL("deno.json", ROOT);
    const text = url.protocol === "file:"
      ? Deno.readTextFileSync(url)
      : await (await fetch(url)).text();
    const config = JSON.parse(text);
    if (typeof config.version === "string") version = config.version;
  } catch {
    // A published package without its deno.json: the version stays "unknown", the hash decides.
  }
  if (ROOT.protocol !== "file:") return version;
  const files: string[] = [...SOURCE_FILES];
  for (const folder of SOURCE_FOLDERS) listSources(folder, files);
  files.sort();
  const hash = createHash("sha256");
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(new URL(file, ROOT));
    } catch {
      continue;
    }
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return `${version}+${hash.digest("hex").slice(0, 16)}`;
}

function listSources(folder: string, into: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(new URL(`${folder}/`, ROOT))];
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) listSources(path, into);
    else if (entry.isFile && entry.name.endsWith(".ts")) into.push(path);
  }
}
