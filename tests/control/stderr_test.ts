// What `hyperhook serve` prints on stderr is its own: no runtime warnings for the user to puzzle
// over (a request without a body once made Deno warn about request.signal).
import assert from "node:assert/strict";
import { authed, startServe } from "./_helpers.ts";

Deno.test("serve: requests with and without bodies leave no runtime warning on stderr", async () => {
  const server = await startServe(["--paused"]);
  try {
    const streamed = () => ReadableStream.from([new TextEncoder().encode('{"by":"1ms"}')]);
    // A streamed body has no content-length: the body limit then reads it into a new Request.
    for (const body of [undefined, '{"by":"1ms"}', streamed()]) {
      const response = await fetch(`${server.base}v1/sim/step`, authed({ method: "POST", body }));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    }
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0, server.output());
    assert.doesNotMatch(server.output(), /Deno\.serve|legacy|warning/i);
  } finally {
    await server.stop("SIGKILL");
  }
});
