/**
 * What a policy says, made safe to show: throws described without ever throwing, terminal
 * escapes stripped, messages and output capped with the cut said.
 */

import assert from "node:assert/strict";
import { capText, cleanText, describeError, OutputLimit } from "../../core/protocol/text.ts";
import { asFailure, PolicyFailure } from "../../core/protocol/runtime.ts";

Deno.test("describeError never throws, whatever was thrown", () => {
  const hostile: object = new Proxy({}, {
    get: () => {
      throw hostile;
    },
    getPrototypeOf: () => {
      throw hostile;
    },
  });
  const getters = new Error("x");
  Object.defineProperty(getters, "message", {
    get: () => {
      throw hostile;
    },
  });
  assert.equal(describeError(new TypeError("Bad")), "TypeError: Bad");
  assert.equal(describeError("plain"), "plain");
  assert.equal(describeError(undefined), "undefined");
  assert.equal(describeError(hostile), "(unprintable error)");
  assert.equal(describeError(getters), "(unprintable error)");
  assert.equal(describeError({ toString: () => "custom" }), "custom");
  assert.equal(describeError(new Error("\x1b[2Jcleared")), "Error: cleared");
  assert.equal(
    describeError(new Error("y".repeat(5000))),
    `Error: ${"y".repeat(3833)}… [1167 more characters cut]`,
  );
});

Deno.test("asFailure turns anything into an error failure; a ConfigError stays a config failure", () => {
  const hostile: object = new Proxy({}, {
    getPrototypeOf: () => {
      throw hostile;
    },
    get: () => {
      throw hostile;
    },
  });
  const failure = asFailure(hostile, "throw");
  assert.deepEqual([failure.kind, failure.reason, failure.message], [
    "error",
    "throw",
    "(unprintable error)",
  ]);
  const config = new Error("Config key quantum: expected a duration");
  config.name = "ConfigError";
  assert.equal(asFailure(config, "init").reason, "config");
  const own = new PolicyFailure("stall", "deadline", "late");
  assert.equal(asFailure(own, "throw"), own);
});

Deno.test("cleanText strips CSI, OSC, DCS and other escapes, C0 and C1 controls; keeps tabs and newlines", () => {
  assert.equal(
    cleanText(
      "\x1b[1;31mbold red\x1b[0m\ttab\n\x1b]0;title\x07\x1b]52;c;Y2xpcA==\x1b\\" +
        "\x1bPdcs\x1b\\\x1b(Bcharset\x9b2Jc1\x07bell\x7f\x00\r\n",
    ),
    "bold red\ttab\ncharset2Jc1bell\n",
  );
  assert.equal(cleanText("plain text, ünïcödé ✓"), "plain text, ünïcödé ✓");
});

Deno.test("capText and PolicyFailure cap messages and say what was cut", () => {
  assert.equal(capText("abc", 3), "abc");
  assert.equal(capText("abcdef", 4), "abcd… [2 more characters cut]");
  const failure = new PolicyFailure("error", "\x1b[31mthrow", `\x1b]0;t\x07${"z".repeat(5000)}`);
  assert.equal(failure.reason, "throw");
  assert.equal(failure.message, `${"z".repeat(4096)}… [904 more characters cut]`);
});

Deno.test("OutputLimit caps per batch and per run, cleans, and says each cut once", () => {
  const seen: string[] = [];
  const output = new OutputLimit((text) => seen.push(text), 10, 25);
  output.write("\x1b[31m0123456789");
  output.write("more in the same batch");
  output.nextBatch();
  output.write("abcdefghijklmnop");
  output.nextBatch();
  output.write("ABCDEFGHIJ");
  output.nextBatch();
  output.write("never shown");
  assert.deepEqual(seen, [
    "0123456789",
    "\n[hyperhook: policy output cut: more than 10 characters in one batch]\n",
    "abcdefghij\n[hyperhook: policy output cut: more than 10 characters in one batch]\n",
    "ABCDE\n[hyperhook: policy output cut: more than 25 characters in this run; " +
    "the rest is dropped]\n",
  ]);
  // A sink that throws does not take the policy down.
  const failing = new OutputLimit(
    () => {
      throw new Error("sink down");
    },
    10,
    10,
  );
  failing.write("fine");
});
