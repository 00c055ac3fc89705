// Lazy imports are strings the type check does not follow: each relative one must name a file
// that exists (a module moved without its lazy importers updated fails only when that path runs).
// The CLI's commands are imported through a variable, which not even Deno reads ahead.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;

function* sources(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("every relative dynamic import in core/ and plugins/ names a file that exists", () => {
  const missing: string[] = [];
  let seen = 0;
  for (const folder of ["core", "plugins"]) {
    for (const file of sources(join(ROOT, folder))) {
      const text = Deno.readTextFileSync(file);
      // And the CLI's commands, imported through a variable (`load` in core/cli.ts).
      for (const match of text.matchAll(/\b(?:import|load)\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g)) {
        seen++;
        const target = join(dirname(file), match[1]!);
        try {
          Deno.statSync(target);
        } catch {
          missing.push(`${file.slice(ROOT.length)}: ${match[1]}`);
        }
      }
    }
  }
  assert.ok(seen > 20, `only ${seen} dynamic imports found: is the pattern right?`);
  assert.deepEqual(missing, []);
});
