// HYPERHOOK_PHASES=1: one line on stderr saying where a command's wall time went (bench/end_to_end.ts
// reads it); nothing without it, and the report is the same either way.
import assert from "node:assert/strict";
import { Phases } from "../core/commands/phases.ts";
import { example } from "./_helpers.ts";

const CLI = new URL("../core/cli.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

const MS = String.raw`\d+\.\d ms`;

Deno.test("run with HYPERHOOK_PHASES=1 prints the phases in order on stderr, and the same report", async () => {
  const args = ["run", example("fcfs_textbook.json"), "--format", "json"];
  const on = await cli(args, { HYPERHOOK_PHASES: "1" });
  const off = await cli(args, { HYPERHOOK_PHASES: "" });
  assert.equal(on.code, 0, on.stderr);
  assert.match(
    on.stderr,
    new RegExp(
      `^hyperhook phases: imports ${MS}, parse ${MS}, build ${MS}, run ${MS}, report ${MS}\n$`,
    ),
  );
  assert.equal(off.code, 0, off.stderr);
  assert.equal(off.stderr, "");
  const [a, b] = [JSON.parse(on.stdout), JSON.parse(off.stdout)];
  assert.equal(a.eventsHash, b.eventsHash);
  assert.deepEqual({ ...a, wallMs: 0 }, { ...b, wallMs: 0 });
});

Deno.test("compare with HYPERHOOK_PHASES=1 adds up each phase over its runs", async () => {
  const args = ["compare", example("rr_textbook.json"), "--cpu", "rr,fcfs", "--format", "json"];
  const on = await cli(args, { HYPERHOOK_PHASES: "1" });
  assert.equal(on.code, 0, on.stderr);
  assert.match(
    on.stderr,
    new RegExp(
      `^hyperhook phases: imports ${MS}, parse ${MS}, build ${MS}, run ${MS}, report ${MS}\n$`,
    ),
  );
  assert.equal(JSON.parse(on.stdout).length, 2);
});

Deno.test("Phases: a phase met again adds up; off, nothing is measured or printed", () => {
  const phases = new Phases(true);
  for (const name of ["parse", "build", "run", "build"]) phases.mark(name);
  assert.match(
    phases.line(),
    new RegExp(`^hyperhook phases: imports ${MS}, parse ${MS}, build ${MS}, run ${MS}$`),
  );
  const off = new Phases(false);
  off.mark("parse");
  assert.equal(off.line(), "hyperhook phases: ");
});
