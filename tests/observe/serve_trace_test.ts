// `serve --trace FILE --log FILE`: the live run's trace and decision log, written when it stops,
// with the changes made through the API marked.
import assert from "node:assert/strict";
import { authed, startServe } from "../control/_helpers.ts";

Deno.test("serve: --trace and --log are written at shutdown, with live parameter changes", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startServe([
    "--paused",
    "--trace",
    `${dir}/live.json`,
    "--log",
    `${dir}/live.jsonl`,
  ]);
  try {
    const step = () =>
      fetch(`${server.base}v1/sim/step`, authed({ method: "POST", body: '{"by":"50ms"}' }));
    let response = await step();
    assert.equal(response.status, 200);
    await response.body?.cancel();
    response = await fetch(
      `${server.base}v1/vms/web-1`,
      authed({
        method: "PATCH",
        body: '{"weight":512}',
        headers: { "content-type": "application/json" },
      }),
    );
    assert.equal(response.status, 200, await response.clone().text());
    await response.body?.cancel();
    response = await step();
    await response.body?.cancel();
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0, server.output());
  } finally {
    await server.stop("SIGKILL");
  }
  const events = JSON.parse(await Deno.readTextFile(`${dir}/live.json`)).traceEvents as {
    ph: string;
    name: string;
    s?: string;
    args?: Record<string, unknown>;
  }[];
  assert.ok(events.some((e) => e.ph === "X" && e.name.startsWith("web-1/")));
  const mark = events.find((e) => e.ph === "i" && e.s === "g" && e.name === "params: web-1 (cpu)");
  assert.equal(mark?.args?.weight, 512);
  const log = (await Deno.readTextFile(`${dir}/live.jsonl`)).trim().split("\n").map((line) =>
    JSON.parse(line)
  );
  assert.ok(log.some((d) => d.domain === "cpu" && d.decision === "params" && d.vm === "web-1"));
  assert.ok(log.some((d) => d.domain === "io" && d.decision === "start"));
  await Deno.remove(dir, { recursive: true });
});
