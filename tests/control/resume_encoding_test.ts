// A state directory's checkpoint hash is of one decision-log encoding: a resume compares it only
// with a hash of the same encoding. The fixture `state_encoding1/` was written by `serve`'s live
// kernel at commit 0589271^ (encoding 1, before checkpoints named their encoding).
import assert from "node:assert/strict";
import { compareReplayHash } from "../../core/control/journal.ts";
import { LiveKernel } from "../../core/control/live.ts";
import { StateError } from "../../core/control/persistence.ts";
import { resumeLine } from "../../core/commands/_messages.ts";
import { LOG_ENCODING } from "../../core/engine/decision_log.ts";

const FIXTURE = new URL("../fixtures/state_encoding1/", import.meta.url);

async function withFixture(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    for (const name of ["audit.jsonl", "checkpoint.json"]) {
      await Deno.copyFile(new URL(name, FIXTURE), `${dir}/${name}`);
    }
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function resume(dir: string): Promise<{ live: LiveKernel; warnings: string[] }> {
  const warnings: string[] = [];
  const live = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
  return { live, warnings };
}

async function readCheckpoint(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
}

Deno.test("a state written before encoding 2 resumes without a false divergence, and is migrated", async () => {
  await withFixture(async (dir) => {
    const first = await resume(dir);
    try {
      assert.equal(first.live.mutations, 5);
      assert.equal(first.live.simulation.nowNs, 212_000_000);
      assert.deepEqual(first.live.resumed, {
        changes: 5,
        skipped: 0,
        atNs: 212_000_000,
        hash: "other-encoding",
      });
      assert.deepEqual(first.warnings, [
        `Replay not checked: ${dir}/checkpoint.json names no decision-log encoding (written before checkpoints recorded one: encoding 1), and this server hashes encoding 2, so the replay to 212ms is not compared with it; the next checkpoint is in encoding 2`,
      ]);
    } finally {
      await first.live.close();
    }
    // Closing rewrote the checkpoint in this server's encoding, though nothing changed.
    const checkpoint = await readCheckpoint(dir);
    assert.equal(checkpoint.logEncoding, LOG_ENCODING);
    assert.notEqual(
      checkpoint.eventsHash,
      "c31ed9f50e1994fd4292f0224cbab48e84f49b6df42c44b04ee601fa8879db12",
    );
    const second = await resume(dir);
    try {
      assert.deepEqual(second.warnings, []);
      assert.equal(second.live.resumed?.hash, "matched");
      assert.equal(second.live.simulation.peekHash(), checkpoint.eventsHash);
    } finally {
      await second.live.close();
    }
  });
});

Deno.test("a checkpoint of another named encoding is not compared; of this one, a mismatch diverges", async () => {
  await withFixture(async (dir) => {
    // Migrate the fixture, then label its (current) hash with other encodings.
    await (await resume(dir)).live.close();
    const checkpoint = await readCheckpoint(dir);
    await Deno.writeTextFile(
      `${dir}/checkpoint.json`,
      JSON.stringify({ ...checkpoint, logEncoding: 3 }),
    );
    const newer = await resume(dir);
    await newer.live.close();
    assert.equal(newer.live.resumed?.hash, "other-encoding");
    assert.equal(newer.warnings.length, 1);
    assert.match(newer.warnings[0]!, /checkpoint\.json holds a decision hash of log encoding 3, /);

    await Deno.writeTextFile(
      `${dir}/checkpoint.json`,
      JSON.stringify({ ...checkpoint, eventsHash: "0".repeat(64) }),
    );
    const wrong = await resume(dir);
    await wrong.live.close();
    assert.equal(wrong.live.resumed?.hash, "diverged");
    assert.match(
      wrong.warnings[0]!,
      /^Replay diverged: at 212ms the decision hash is [0-9a-f]{64}/,
    );
  });
});

Deno.test("a checkpoint whose logEncoding is not a positive integer is refused in one line", async () => {
  await withFixture(async (dir) => {
    const checkpoint = await readCheckpoint(dir);
    await Deno.writeTextFile(
      `${dir}/checkpoint.json`,
      JSON.stringify({ ...checkpoint, logEncoding: "2" }),
    );
    await assert.rejects(
      LiveKernel.resume(dir),
      (error: unknown) => {
        assert.ok(error instanceof StateError);
        assert.equal(
          error.message,
          `--resume: ${dir}/checkpoint.json: logEncoding is "2"; expected a positive integer (the decision log's encoding version)`,
        );
        return true;
      },
    );
  });
});

Deno.test("compareReplayHash: an unmarked checkpoint matches when its hash does", () => {
  const checkpoint = { nowNs: 1e9, eventsHash: "ab" };
  assert.deepEqual(compareReplayHash(checkpoint, "ab", "c.json"), { status: "matched" });
  assert.equal(compareReplayHash(checkpoint, "cd", "c.json").status, "other-encoding");
  const marked = { ...checkpoint, logEncoding: 1 };
  // A hash of another encoding is never compared, even when the strings agree.
  assert.equal(compareReplayHash(marked, "ab", "c.json").status, "other-encoding");
  assert.equal(
    resumeLine({ changes: 2, skipped: 0, atNs: 1e9, hash: "other-encoding" }),
    "resumed: replayed 2 logged changes to 1s simulated; the checkpoint's hash is of another decision-log encoding, not compared (see the warning above)",
  );
});
