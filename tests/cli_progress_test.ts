// The progress bar on a terminal (run under `script`, which gives the CLI a pseudo-terminal).
import assert from "node:assert/strict";
import { example } from "./_helpers.ts";

const CLI = new URL("../core/cli.ts", import.meta.url).pathname;
const THROWS = new URL("./fixtures/cpu/throws.ts", import.meta.url).pathname;

const hasScript = (() => {
  try {
    Deno.statSync("/usr/bin/script");
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "an incident line never lands on the end of the progress bar (needs script(1))",
  ignore: !hasScript,
  async fn() {
    // Restarted after 1 s, the policy fails again mid-run, while the bar is on screen.
    const command = [Deno.execPath(), "run", "-A", CLI, "run", example("demo.json")]
      .concat(["--cpu", THROWS, "--restart", "1", "--format", "json", ">/dev/null"]).join(" ");
    const output = await new Deno.Command("/usr/bin/script", {
      args: ["-q", "-e", "-c", command, "/dev/null"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const screen = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 1, screen);
    assert.equal(screen.match(/hyperhook: incident/g)?.length, 2, screen);
    assert.match(screen, /run \[[#.]{30}\]/, "the bar was drawn");
    assert.doesNotMatch(screen, /\][^\r\n]*hyperhook: incident/, screen);
  },
});
