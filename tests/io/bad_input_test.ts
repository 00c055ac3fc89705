// Bad I/O input exits 2 with one line naming the place: an unknown disk, a cylinder or block beyond
// the disk, a malformed trace line (with its file and line).
import assert from "node:assert/strict";
import { runCli, workloadFile } from "../_helpers.ts";

function workload(io: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: "hyperhook.workload/v1",
    name: "bad-io",
    host: {
      pcpus: 1,
      disks: [
        { id: "d0", model: "linear", cylinders: 200 },
        { id: "d1", model: "hdd", preset: "hp_c2247a" },
      ],
    },
    vms: [{ id: "A", io }],
    ...extra,
  };
}

async function expectBadInput(value: unknown, pattern: RegExp, args: string[] = []) {
  const path = await workloadFile(value);
  const result = await runCli(["run", path, ...args]);
  assert.equal(result.code, 2, `expected exit 2, got ${result.code}: ${result.stderr}`);
  assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

async function tempFile(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "hyperhook-", suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("a request to an unknown disk names the request and the disks there are", async () => {
  await expectBadInput(
    workload({ requests: [{ disk: "d0", cylinder: 1 }, { disk: "d9", cylinder: 3 }] }),
    /vms\[0\]\.io\.requests\[1\]\.disk: expected the id of a disk of host\.disks \(one of "d0", "d1"\), got "d9"/,
  );
  await expectBadInput(
    workload(undefined, {
      host: { pcpus: 1 },
      vms: [{ id: "A", cpu: { program: [{ io: { disk: "d0", lba: 0 } }] } }],
    }),
    /vms\[0\]\.cpu\.program\[0\]\.io\.disk: expected the id of a disk of host\.disks \(there are none\)/,
  );
  // I/O parameters with no disk to govern: refused, as memory without frames is.
  await expectBadInput(
    workload({ weight: 200 }, { host: { pcpus: 1 } }),
    /^hyperhook: Workload .*: host\.disks: expected at least one disk because vms\[0\] has an "io" section, got none\n$/,
  );
});

Deno.test("a cylinder or a block beyond the disk names the field and the disk's size", async () => {
  await expectBadInput(
    workload({ requests: [{ disk: "d0", cylinder: 200 }] }),
    /vms\[0\]\.io\.requests\[0\]\.cylinder: expected a cylinder in \[0, 200\) \(disk d0 has 200\), got 200/,
  );
  await expectBadInput(
    workload({ requests: [{ disk: "d1", lba: 2_054_863, bytes: 4096 }] }),
    /vms\[0\]\.io\.requests\[0\]\.lba: expected a block in \[0, 2054856\] for 4096 bytes \(disk d1 has 2054864 blocks\), got 2054863/,
  );
  await expectBadInput(
    workload({ generate: { disk: "d1", count: 1, to: 3_000_000 } }),
    /vms\[0\]\.io\.generate\[0\]\.to: expected at most 2054864 \(disk d1 has 2054864 blocks\), got 3000000/,
  );
});

Deno.test("a request needs exactly one of cylinder and lba; a disk model its own fields", async () => {
  await expectBadInput(
    workload({ requests: [{ disk: "d0", cylinder: 1, lba: 1 }] }),
    /vms\[0\]\.io\.requests\[0\]: expected exactly one of "cylinder" or "lba", got both/,
  );
  await expectBadInput(
    workload(undefined, {
      host: { pcpus: 1, disks: [{ id: "d0", model: "linear", cylinders: -3 }] },
    }),
    /host\.disks\[0\]\.cylinders: expected a positive integer, got -3/,
  );
  await expectBadInput(
    workload(undefined, {
      host: {
        pcpus: 1,
        disks: [{ id: "d0", model: "linear", cylinders: 9 }, {
          id: "d0",
          model: "ssd",
          channels: 1,
          readNs: 1,
          writeNs: 1,
        }],
      },
    }),
    /host\.disks\[1\]\.id: expected a unique disk id, got "d0" twice/,
  );
});

Deno.test("a malformed DiskSim trace line names the file and the line", async () => {
  const trace = await tempFile("R Miss 100 2 1000.0 10.0\nR Miss 200 two 1000.0 10.0\n", ".trace");
  await expectBadInput(
    workload({ trace: { format: "disksim", path: trace, disk: "d1" } }),
    new RegExp(
      `vms\\[0\\]\\.io\\.trace\\[0\\]: .*${
        trace.split("/").pop()
      }:2: expected a positive block count in column 4, got "two"`,
    ),
  );
});

Deno.test("a malformed MSR line, or a block beyond the disk, names the file and the line", async () => {
  const name = (path: string) => path.split("/").pop()!;
  const bad = await tempFile(
    "128166372003061629,web,0,Read,4096,4096,3161\n128166372003061630,web,0,Erase,0,4096,1\n",
    ".csv",
  );
  await expectBadInput(
    workload({ trace: { format: "msr", path: bad, disk: "d1" } }),
    new RegExp(`${name(bad)}:2: expected Type Read or Write, got "Erase"`),
  );
  const far = await tempFile(
    "128166372003061629,web,0,Read,4096,4096,3161\n128166372003061630,web,0,Write,2000000000000,4096,1\n",
    ".csv",
  );
  await expectBadInput(
    workload({ trace: { format: "msr", path: far, disk: "d1" } }),
    new RegExp(
      `${name(far)}:2: blocks 3906250000\\.\\.3906250007 are beyond the disk \\(2054864 blocks\\)`,
    ),
  );
  await expectBadInput(
    workload({ trace: { format: "msr", path: "/nonexistent/web_0.csv", disk: "d1" } }),
    /vms\[0\]\.io\.trace\[0\]\.path: cannot read \/nonexistent\/web_0\.csv/,
  );
});

Deno.test("an I/O policy without disks, an unknown one, a bad config: exit 2", async () => {
  await expectBadInput(
    { schema: "hyperhook.workload/v1", name: "no-disks", host: { pcpus: 1 }, vms: [{ id: "A" }] },
    /host\.disks: expected at least one disk for the I\/O policy sstf, got nothing/,
    ["--io", "sstf"],
  );
  await expectBadInput(
    workload({ requests: [{ disk: "d0", cylinder: 1 }] }),
    /Unknown io policy "elevator": expected one of fcfs, sstf, scan, look, cscan, clook, deadline, bfq/,
    ["--io", "elevator"],
  );
  await expectBadInput(
    workload({ requests: [{ disk: "d0", cylinder: 1 }] }),
    /Policy deadline config\.fifoBatch: expected an integer at least 1, got 0/,
    ["--io", "deadline", "--config-io", '{"fifoBatch":0}'],
  );
});

Deno.test("a generator that never ends needs stopAt", async () => {
  await expectBadInput(
    workload({ generate: { disk: "d1", rate: 100 } }),
    /stopAt: expected a duration such as "10s", because vms\[0\] \(A\) submits forever/,
  );
});
