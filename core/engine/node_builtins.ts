/**
 * Node's built-in modules, loaded synchronously on first use (`process.getBuiltinModule`) rather
 * than imported: the first `node:` import of a process starts Deno's Node compatibility layer,
 * which costs a short command (a textbook `run`) a good part of its start. Code that needs
 * `node:path` or `node:util` only on some paths (a relative trace path, a command line the quick
 * parser leaves) asks here.
 *
 * @example
 * ```ts
 * import { nodePath } from "./node_builtins.ts";
 *
 * console.assert(nodePath().isAbsolute("/tmp"));
 * ```
 *
 * @module
 */

type NodePath = typeof import("node:path");
type NodeUtil = typeof import("node:util");

interface BuiltinLoader {
  getBuiltinModule(id: "node:path"): NodePath;
  getBuiltinModule(id: "node:util"): NodeUtil;
}

function loader(): BuiltinLoader {
  return (globalThis as unknown as { process: BuiltinLoader }).process;
}

/** `node:path`, loaded on first use. */
export function nodePath(): NodePath {
  return loader().getBuiltinModule("node:path");
}

/** `node:util`, loaded on first use. */
export function nodeUtil(): NodeUtil {
  return loader().getBuiltinModule("node:util");
}
