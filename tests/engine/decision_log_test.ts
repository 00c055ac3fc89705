// The decision log hashes long logs on a helper thread, writing records straight into the
// thread's ring; the digest must be the sha256 of the same bytes hashed in one piece.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DecisionLog } from "../../core/engine/decision_log.ts";

/** The log's bytes hashed here, record by record. */
class Reference {
  #hash = createHash("sha256");
  record(values: number[]): void {
    this.#hash.update(new Uint8Array(new Float64Array(values).buffer));
  }
  peek(): string {
    return this.#hash.copy().digest("hex");
  }
}

Deno.test("long decision logs (hashed on the helper thread) digest the same bytes", () => {
  // 174,763 records pass 8 MiB, where a log goes over to the thread; two logs run side by side,
  // so one holds the thread and the other hashes here; a third is dropped unfinished.
  for (const n of [1366, 174_763, 400_001]) {
    const logs = [new DecisionLog(), new DecisionLog()], refs = [new Reference(), new Reference()];
    for (let i = 0; i < n; i++) {
      const k = i % 3 === 0 ? 1 : 0, values = [k, i & 7, i * 1000, i, -i, i / 3];
      logs[k]!.record(values[0]!, values[1]!, values[2]!, values[3]!, values[4]!, values[5]!);
      refs[k]!.record(values);
      if (i % 99_991 === 7) {
        for (const j of [0, 1]) assert.equal(logs[j]!.peek(), refs[j]!.peek(), `peek at ${i}`);
      }
    }
    const dropped = new DecisionLog();
    for (let i = 0; i < 300_000; i++) dropped.record(1, 1, i, 1, 1, 1);
    dropped.close();
    for (const j of [0, 1]) assert.equal(logs[j]!.digest(), refs[j]!.peek(), `${n} records`);
    // A log that ended writes no more into the thread's ring, which the next log uses.
    logs[0]!.record(1, 1, 1, 1, 1, 1);
  }
});
