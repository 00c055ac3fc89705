// Same workload and seed: byte-identical decisions (same eventsHash); another seed: different.
import assert from "node:assert/strict";
import { example, runCli } from "../_helpers.ts";

async function hash(args: string[]): Promise<string> {
  const result = await runCli([...args, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).eventsHash;
}

Deno.test("the same workload and seed give the same eventsHash, run after run", async () => {
  const args = ["run", example("demo.json"), "--cpu", "rr"];
  const first = await hash(args);
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(await hash(args), first);
});

Deno.test("generators with another seed make other decisions", async () => {
  const args = ["run", example("demo.json"), "--cpu", "rr"];
  assert.notEqual(await hash([...args, "--seed", "8"]), await hash([...args, "--seed", "7"]));
});

Deno.test("the decision log is byte-identical across runs, and its sha256 is the eventsHash", async () => {
  const dir = await Deno.makeTempDir();
  const logs: string[] = [];
  for (const name of ["a", "b"]) {
    const result = await runCli([
      "run",
      example("rr_textbook.json"),
      "--log",
      `${dir}/${name}.log`,
      "--format",
      "json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    logs.push(await Deno.readTextFile(`${dir}/${name}.log`));
  }
  assert.equal(logs[0], logs[1]);
  // RR, 4 ms quantum, bursts 24/3/3: P1 runs at 0, P2 at 4 ms, P3 at 7 ms, P1 at 10 ms (then on).
  const runs = logs[0]!.split("\n").filter((line) => / 1 1 /.test(line)).slice(0, 4);
  assert.deepEqual(runs.map((line) => line.split(" ").slice(0, 4).join(" ")), [
    "0 1 1 0",
    "4000000 1 1 1",
    "7000000 1 1 2",
    "10000000 1 1 0",
  ]);
  await Deno.remove(dir, { recursive: true });
});
