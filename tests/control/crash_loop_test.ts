// A resume never replays a policy swap into a crash loop. Before: a swap that killed the server
// was in the audit log, so every --resume ran it again and died again. Now each start is recorded
// (starts.json); after two starts in a row that died before they were stable, --resume replays no
// swap after the last good point, says so, and logs it (replay.skip) so later resumes skip it too.
// And a journaled swap the API's rules refuse (posted code in a worker that SIGKILLs its process)
// is refused on resume, not run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { LiveKernel } from "../../core/control/live.ts";
import { authed, cpuWorkload, type ServeProcess, startServe } from "./_helpers.ts";

interface State {
  mutations: number;
  policies: { cpu: { name: string; reference: string } };
  vms: { id: string; params: { weight: number } }[];
}

async function state(base: string): Promise<State> {
  return await (await fetch(`${base}v1/state`, authed())).json();
}

async function send(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(
    `${base}${path}`,
    authed({ method, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  const text = await response.text();
  assert.equal(response.status, 200, text);
}

async function starts(dir: string): Promise<{ unstable: number; goodSeq: number }> {
  const { unstable, goodSeq } = JSON.parse(await Deno.readTextFile(join(dir, "starts.json")));
  return { unstable, goodSeq };
}

/** A start that dies at once, as a server in a crash loop does. */
async function dies(server: ServeProcess): Promise<void> {
  const status = await server.stop("SIGKILL");
  assert.equal(status.signal, "SIGKILL");
}

Deno.test("after two starts in a row die, --resume replays no swap after the last good point", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  const flags = ["--state-dir", dir, "--paused", "--stable-after", "1s"];
  try {
    const first = await startServe(flags);
    try {
      await send(first.base, "PUT", "v1/policies/cpu", { use: "fcfs" });
      // It runs long enough to be good, and the start to be stable.
      await new Promise((done) => setTimeout(done, 1800));
      assert.deepEqual(await starts(dir), { unstable: 0, goodSeq: 1 });
      // Then a swap the server dies of (here: a SIGKILL right after), and a change that is fine.
      await send(first.base, "PUT", "v1/policies/cpu", { use: "srtf" });
      await send(first.base, "PATCH", "v1/vms/web-1", { weight: 777 });
    } finally {
      await dies(first);
    }
    assert.deepEqual(await starts(dir), { unstable: 0, goodSeq: 1 });

    // Two resumes replay the swap and die soon after, as the swap would make them.
    for (const unstable of [1, 2]) {
      const again = await startServe([...flags, "--resume"]);
      try {
        assert.equal((await state(again.base)).policies.cpu.name, "srtf");
        assert.doesNotMatch(again.output(), /Crash loop/);
      } finally {
        await dies(again);
      }
      assert.deepEqual(await starts(dir), { unstable, goodSeq: 1 });
    }

    // The third replays everything but that swap, says so, and stays up.
    const third = await startServe([...flags, "--resume"]);
    try {
      assert.match(
        third.output(),
        /hyperhook serve: Crash loop: 2 starts in a row died within 1s, so the policy swaps after the last good point \(mutation 1\) are not replayed: mutations 2 are skipped \(logged as mutation 4, replay\.skip\)\n/,
      );
      assert.doesNotMatch(third.output(), /diverged/);
      const resumed = await state(third.base);
      assert.equal(resumed.policies.cpu.name, "fcfs");
      assert.equal(resumed.vms.find((vm) => vm.id === "web-1")!.params.weight, 777);
      assert.equal(resumed.mutations, 4);
      const stopped = await third.stop("SIGTERM");
      assert.equal(stopped.code, 0, third.output());
    } finally {
      await third.stop("SIGKILL");
    }
    assert.equal((await starts(dir)).unstable, 0);
    const log = (await Deno.readTextFile(join(dir, "audit.jsonl"))).trim().split("\n");
    const skip = JSON.parse(log.at(-1)!);
    assert.equal(skip.op, "replay.skip");
    assert.deepEqual(skip.body.seqs, [2]);

    // The skip holds for every later resume, which no longer warns or diverges.
    const fourth = await startServe([...flags, "--resume"]);
    try {
      assert.equal((await state(fourth.base)).policies.cpu.name, "fcfs");
      // The resume line says what it skipped (the swap that failed) and that the hash matched.
      assert.doesNotMatch(fourth.output(), /Crash loop|diverged|does not match/);
      assert.match(
        fourth.output(),
        /resumed: replayed \d+ logged changes \(skipped 1 swap that failed after the last good point\).*(the decision hash matches the checkpoint's|no checkpoint hash to compare with)/,
      );
      assert.equal((await fourth.stop("SIGTERM")).code, 0, fourth.output());
    } finally {
      await fourth.stop("SIGKILL");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a journaled worker swap that SIGKILLs the server is refused on resume", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    const first = await startServe(["--state-dir", dir, "--paused"]);
    assert.equal((await first.stop("SIGTERM")).code, 0, first.output());
    // What an older server accepted: posted code in a worker, whose pid is the server's.
    const kill = `Deno.kill(Deno.pid, "SIGKILL");
export default { apiVersion: 1, domain: "cpu", name: "killer", create() { return {}; } };`;
    const entry = {
      seq: 1,
      atNs: 0,
      at: "",
      op: "policy.swap",
      target: "cpu",
      body: { source: kill, isolation: "worker" },
    };
    await Deno.writeTextFile(join(dir, "audit.jsonl"), JSON.stringify(entry) + "\n", {
      append: true,
    });
    const again = await startServe(["--state-dir", dir, "--resume", "--paused"]);
    try {
      assert.match(
        again.output(),
        /Replay of mutation 1 \(policy\.swap\) refused: Body: isolation: expected "process" for posted source .*, got "worker"; it is not run\n/,
      );
      assert.equal((await state(again.base)).mutations, 1);
      assert.equal((await again.stop("SIGTERM")).code, 0, again.output());
    } finally {
      await again.stop("SIGKILL");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("twice as many unstable starts: no swap is replayed; an older state dir resumes as before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-state-" });
  try {
    const live = await LiveKernel.create(
      { workload: cpuWorkload(), source: "test", baseDir: Deno.cwd(), options: {} },
      { paused: true, stateDir: dir },
    );
    await live.step({ by: "1ms" });
    await live.swapPolicy("cpu", { use: "fcfs" });
    await live.step({ by: "4ms" });
    await live.swapPolicy("cpu", { use: "srtf" });
    await live.close();
    assert.deepEqual(await starts(dir), { unstable: 0, goodSeq: 0 });

    // A state directory of an older server has no start record: nothing is skipped.
    await Deno.remove(join(dir, "starts.json"));
    const warnings: string[] = [];
    const older = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
    assert.equal(older.state().policies.cpu!.name, "srtf");
    await older.close();
    assert.equal(warnings.length, 0, warnings.join("\n"));

    // Four starts in a row died, the last good point notwithstanding: every swap is skipped.
    const record = { schema: "hyperhook.starts/v1", unstable: 4, goodSeq: 1 };
    await Deno.writeTextFile(join(dir, "starts.json"), JSON.stringify(record));
    const resumed = await LiveKernel.resume(dir, { onWarning: (w) => warnings.push(w) });
    try {
      assert.deepEqual(warnings, [
        "Crash loop: 4 starts in a row died within 10s, so no policy swap is replayed: mutations 2, 4 are skipped (logged as mutation 5, replay.skip)",
      ]);
      assert.equal(resumed.state().policies.cpu!.name, "rr");
      assert.equal(resumed.mutations, 5);
      assert.equal(resumed.state().nowNs, 5_000_000);
    } finally {
      await resumed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
