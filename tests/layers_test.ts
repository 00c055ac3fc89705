import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

// The layering docs/architecture.md states, checked on the import statements of core/ (doc
// examples in comments are not imports): a folder may import only the folders listed for it.
const CORE = new URL("../core/", import.meta.url).pathname;

/** The folders of core/ each of these folders imports, and no other. */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  engine: [],
  kernel: ["protocol", "engine"],
  cpu: ["protocol", "engine", "kernel", "workload"],
  memory: ["protocol", "engine", "kernel", "workload"],
  io: ["protocol", "engine", "kernel", "workload"],
  workload: ["engine"],
};

function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trimStart();
    if (trimmed.startsWith("*") || trimmed.startsWith("//") || trimmed.startsWith("/*")) continue;
    for (const match of line.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)"(\.[^"]+)"/g)) {
      found.push(match[1]!);
    }
  }
  return found;
}

function* filesUnder(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* filesUnder(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("core's folders import only the layers below them (protocol imports nothing)", () => {
  const wrong: string[] = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    for (const file of filesUnder(join(CORE, folder))) {
      for (const specifier of importsOf(Deno.readTextFileSync(file))) {
        const target = relative(CORE, join(dirname(file), specifier)).split("/")[0]!;
        if (target !== folder && !allowed.includes(target)) {
          wrong.push(`${relative(CORE, file)} imports ${specifier}`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the import scanner sees static, re-exported and dynamic imports, not doc examples", () => {
  const text = [
    'import { a } from "../policy/a.ts";',
    'export type { B } from "./b.ts";',
    "import {",
    "  c,",
    '} from "../c/c.ts";',
    'const d = await import("../d.ts");',
    ' * import { e } from "../e.ts";',
    '// import { f } from "../f.ts";',
  ].join("\n");
  assert.deepEqual(importsOf(text), ["../policy/a.ts", "./b.ts", "../c/c.ts", "../d.ts"]);
});
