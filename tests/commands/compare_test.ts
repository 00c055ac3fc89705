// `compare`: the runs side by side, each with its own figures.
import assert from "node:assert/strict";
import { example, runCli } from "../_helpers.ts";

Deno.test("compare shows each run's simulated time: a better policy finishes sooner", async () => {
  const html = await Deno.makeTempFile({ suffix: ".html" });
  const result = await runCli([
    "compare",
    example("disk_textbook.json"),
    "--io",
    "fcfs,sstf",
    "--html",
    html,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^simulated +640us +236us$/m);
  const page = await Deno.readTextFile(html);
  assert.match(page, /<td>simulated<\/td><td>640us<\/td><td>236us<\/td>/);
});
