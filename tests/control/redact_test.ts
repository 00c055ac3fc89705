// Error answers at the API boundary: the server's folders become labels (whole path components
// only, file: URLs included), escape sequences go, and the length is bounded.
import assert from "node:assert/strict";
import { bound, MAX_ANSWER_CHARS, Redactor } from "../../core/control/_redact.ts";

Deno.test("server folders become labels, whole components only; escapes go; length is bounded", () => {
  const redactor = new Redactor([
    ["/srv/hh/state", "<state-dir>"],
    ["/srv/hh", "<server-dir>"],
    ["/tmp", "<temp>"],
    [undefined, "<none>"],
    ["/", "<root>"],
  ]);
  assert.equal(
    redactor.clean("open /srv/hh/state/audit.jsonl and file:///srv/hh/core/x.ts (/tmp/a, /tmpfoo)"),
    "open <state-dir>/audit.jsonl and file://<server-dir>/core/x.ts (<temp>/a, /tmpfoo)",
  );
  assert.equal(redactor.clean('at "/tmp": \u001b[31mred\u001b[0m\u0007!'), 'at "<temp>": red!');
  const long = redactor.clean("x".repeat(MAX_ANSWER_CHARS + 5));
  assert.equal(long, `${"x".repeat(MAX_ANSWER_CHARS)}… (5 more characters)`);
  assert.equal(bound("abc", 3), "abc");
  assert.equal(bound("abcd", 3), "abc… (1 more character)");
});
