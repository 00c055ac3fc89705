// The quick command-line parser (core/commands/_flags.ts) gives exactly what node:util's parseArgs
// gives for the lines it takes, and leaves every other line (each error among them) to parseArgs.
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { quickFlags } from "../../core/commands/_flags.ts";
import { SIMULATION_FLAGS } from "../../core/commands/common.ts";

const OPTIONS = {
  ...SIMULATION_FLAGS,
  out: { type: "string" },
  watch: { type: "boolean" },
} as const;

Deno.test("quick flags: ordinary lines parse as parseArgs parses them", () => {
  const lines = [
    [],
    ["w.json"],
    ["w.json", "--cpu", "rr", "--format", "json"],
    ["--cpu=rr", "w.json", "--watch", "--config-cpu", '{"quantum":"4ms"}'],
    ["--cpu=", "w.json", "extra"],
    ["--out=a=b", "--seed", "3", "w.json"],
    ["w.json", "--help"],
  ];
  for (const args of lines) {
    const quick = quickFlags(args, OPTIONS);
    assert.ok(quick !== undefined, args.join(" "));
    const node = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    assert.deepStrictEqual(quick, { values: node.values, positionals: node.positionals });
    assert.deepEqual(Object.keys(quick.values), Object.keys(node.values), "order");
  }
});

Deno.test("quick flags: anything else is left to parseArgs", () => {
  const lines = [
    ["--bogus"],
    ["--cpu"],
    ["--cpu", "-x"],
    ["--cpu", "--format"],
    ["-h"],
    ["-"],
    ["--", "--cpu"],
    ["--watch=yes"],
    ["--cpu", "rr", "--cpu", "fair"],
    ["--__proto__", "x"],
    ["--toString", "x"],
  ];
  for (const args of lines) assert.equal(quickFlags(args, OPTIONS), undefined, args.join(" "));
});

Deno.test("quick flags: options with defaults are parseArgs' (a default applies to an absent flag)", () => {
  const options = {
    cpu: { type: "string", default: "rr,credit" },
    out: { type: "string" },
  } as const;
  assert.equal(quickFlags(["--out", "x"], options), undefined);
  assert.equal(quickFlags([], options), undefined);
  assert.equal(quickFlags(["w.json"], { tag: { type: "string", multiple: true } }), undefined);
});
