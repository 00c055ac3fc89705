// Page replacement on the textbook reference strings (Silberschatz, Operating System Concepts,
// ch. 10; Belady's anomaly), through the CLI with workload files: every fault count is exact.
import assert from "node:assert/strict";
import { example, runCli, workloadFile } from "../_helpers.ts";

const TEXTBOOK = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1];
const BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5];

interface MemoryFigures {
  refs: number;
  faults: number;
  residentPeak: number;
}

async function run(args: string[]): Promise<{ vms: { memory: MemoryFigures }[] }> {
  const result = await runCli([...args, "--format", "json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function referenceString(refs: number[], frames: number): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: `refs-${frames}-frames`,
    host: { pcpus: 1, memory: { frames } },
    vms: [{ id: "P1", memory: { refs } }],
  };
}

/** Faults of each policy on `refs` with `frames` frames, from one `compare` run. */
async function faults(refs: number[], frames: number): Promise<Record<string, number>> {
  const policies = ["fifo", "lru", "opt", "clock"];
  const path = await workloadFile(referenceString(refs, frames));
  const result = await runCli([
    "compare",
    path,
    "--memory",
    policies.join(","),
    "--format",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const reports = JSON.parse(result.stdout) as { vms: { memory: MemoryFigures }[] }[];
  reports.forEach((report) => assert.equal(report.vms[0]!.memory.refs, refs.length));
  return Object.fromEntries(policies.map((name, i) => [name, reports[i]!.vms[0]!.memory.faults]));
}

Deno.test("the textbook string on 3 frames: FIFO 15, OPT 9, LRU 12 faults", async () => {
  const workload = example("memory_textbook.json");
  const expected: Record<string, number> = { fifo: 15, opt: 9, lru: 12 };
  for (const [policy, count] of Object.entries(expected)) {
    const report = await run(["run", workload, "--memory", policy]);
    assert.equal(report.vms[0]!.memory.faults, count, policy);
    assert.equal(report.vms[0]!.memory.refs, 20);
    assert.equal(report.vms[0]!.memory.residentPeak, 3);
  }
});

Deno.test("Belady's anomaly: FIFO takes 9 faults with 3 frames and 10 with 4", async () => {
  for (const [frames, count] of [[3, 9], [4, 10]]) {
    const path = await workloadFile(referenceString(BELADY, frames!));
    const report = await run(["run", path, "--memory", "fifo"]);
    assert.equal(report.vms[0]!.memory.faults, count, `${frames} frames`);
  }
});

// The derivations below list every reference: `p` is a hit, `p*` a fault into a free frame, `p*v`
// a fault that evicts page v. FIFO evicts the page loaded first, LRU the page used least recently,
// OPT the page used farthest in the future (first in load order among pages never used again).
// CLOCK keeps the frames in a circle with a referenced bit per frame, set when the page is loaded
// and at every hit; on a fault with no free frame the hand, which starts at frame 0, clears set
// bits as it passes and takes the first frame whose bit is clear, then moves one frame on.

Deno.test("the textbook string on 2, 3 and 4 frames, all four policies", async () => {
  // 2 frames
  // fifo 15: 7* 0* 1*7 2*0 0*1 3*2 0 4*0 2*3 3*4 0*2 3 2*3 1*0 2 0*2 1 7*1 0 1*0
  // lru 17:  7* 0* 1*7 2*0 0*1 3*2 0 4*3 2*0 3*4 0*2 3 2*0 1*3 2 0*1 1*2 7*0 0*1 1*7
  // opt 13:  7* 0* 1*7 2*1 0 3*2 0 4*0 2*4 3 0*2 3 2*3 1*0 2 0*2 1 7*1 0 1*0
  // clock 15: 7* 0* 1*7 2*0 0*1 3*2 0 4*0 2*3 3*4 0*2 3 2*3 1*0 2 0*2 1 7*1 0 1*0
  //   (the same victims as FIFO, as always with two frames: after a fault the hand stands on the
  //   older page, and the newer page's bit is still set at the next fault, since it was set at load
  //   and the hand has not passed it; so the hand ends on the older page whatever its bit)
  assert.deepEqual(await faults(TEXTBOOK, 2), { fifo: 15, lru: 17, opt: 13, clock: 15 });
  // 3 frames (fifo, lru and opt are the textbook's tables)
  // clock 14: 7* 0* 1* 2*7 0 3*1 0 4*2 2*0 3 0*3 3*4 2 1*2 2*0 0*3 1 7*1 0 1*2
  //   at 2: all bits set, the hand clears 7, 0, 1 and takes frame 0 (7); at 3: 0 was referenced
  //   again (bit set), cleared, frame 2 (1) is taken; and so on around the circle.
  assert.deepEqual(await faults(TEXTBOOK, 3), { fifo: 15, lru: 12, opt: 9, clock: 14 });
  // 4 frames
  // fifo 10: 7* 0* 1* 2* 0 3*7 0 4*0 2 3 0*1 3 2 1*2 2*3 0 1 7*4 0 1
  // lru 8:   7* 0* 1* 2* 0 3*7 0 4*1 2 3 0 3 2 1*4 2 0 1 7*3 0 1
  // opt 8:   7* 0* 1* 2* 0 3*7 0 4*1 2 3 0 3 2 1*3 2 0 1 7*2 0 1
  // clock 9: 7* 0* 1* 2* 0 3*7 0 4*1 2 3 0 3 2 1*2 2*3 0 1 7*4 0 1
  assert.deepEqual(await faults(TEXTBOOK, 4), { fifo: 10, lru: 8, opt: 8, clock: 9 });
});

Deno.test("Belady's string on 2, 3 and 4 frames, all four policies", async () => {
  // 2 frames: nothing stays long enough to be reused, except under OPT.
  // fifo 12:  1* 2* 3*1 4*2 1*3 2*4 5*1 1*2 2*5 3*1 4*2 5*3
  // lru 12:   the same trace (no page is referenced twice in a row)
  // opt 9:    1* 2* 3*2 4*3 1 2*4 5*2 1 2*1 3*2 4*3 5
  // clock 12: 1* 2* 3*1 4*2 1*3 2*4 5*1 1*2 2*5 3*1 4*2 5*3 (FIFO's victims, as with any string
  //           on two frames: see the textbook string above)
  assert.deepEqual(await faults(BELADY, 2), { fifo: 12, lru: 12, opt: 9, clock: 12 });
  // 3 frames
  // fifo 9:  1* 2* 3* 4*1 1*2 2*3 5*4 1 2 3*1 4*2 5
  // lru 10:  1* 2* 3* 4*1 1*2 2*3 5*4 1 2 3*5 4*1 5*2
  // opt 7:   1* 2* 3* 4*3 1 2 5*4 1 2 3*1 4*2 5
  // clock 9:  1* 2* 3* 4*1 1*2 2*3 5*4 1 2 3*1 4*2 5
  //   at 4 and 5 all three bits are set: the hand clears them and comes back to its frame (1,
  //   then 4); at 1 and 2 it stands on a frame it cleared on that round (2, then 3); the hits on 1
  //   and 2 set their bits again, so at 3 the hand clears 1, 2 and 5 and takes 1's frame; at 4 it
  //   takes 2's, cleared on the way
  assert.deepEqual(await faults(BELADY, 3), { fifo: 9, lru: 10, opt: 7, clock: 9 });
  // 4 frames: FIFO's anomaly (10 > 9); LRU and OPT are stack algorithms and do not have it.
  // fifo 10:  1* 2* 3* 4* 1 2 5*1 1*2 2*3 3*4 4*5 5*1
  // lru 8:    1* 2* 3* 4* 1 2 5*3 1 2 3*4 4*5 5*1
  // opt 6:    1* 2* 3* 4* 1 2 5*4 1 2 3 4*1 5
  // clock 10: 1* 2* 3* 4* 1 2 5*1 1*2 2*3 3*4 4*5 5*1
  //   at 5 all four bits are set: the hand clears them and takes frame 0 (1); then it finds 2, 3
  //   and 4 cleared; at 4 it clears 5, 1, 2 and 3 and takes 5's frame; at 5 it takes 1's
  assert.deepEqual(await faults(BELADY, 4), { fifo: 10, lru: 8, opt: 6, clock: 10 });
});
