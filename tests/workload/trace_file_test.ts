// Trace files are read with bounds: only regular files (never /dev/zero, a FIFO or a folder), within
// a size limit, read no further than it; paths from the API must lie in the data folder. Before,
// a trace path of /dev/zero or /dev/urandom read forever (15.5 GB in 77 s) and took the machine
// down.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readTraceText, resolveDataPath, TraceFileError } from "../../core/workload/trace_file.ts";
import { simulate } from "../../core/simulation/mod.ts";
import { parseWorkload } from "../../core/workload/load.ts";
import { runCli, workloadFile } from "../_helpers.ts";

function refuses(path: string, reason: RegExp, maxBytes?: number): void {
  const started = performance.now();
  assert.throws(
    () => readTraceText(path, { maxBytes }),
    (error: unknown) => {
      assert.ok(error instanceof TraceFileError, String(error));
      assert.equal(error.path, path);
      assert.match(error.reason, reason);
      assert.equal(error.message, `cannot read ${path} (${error.reason})`);
      return true;
    },
  );
  assert.ok(performance.now() - started < 1000, `${path} took ${performance.now() - started} ms`);
}

Deno.test("devices, FIFOs, folders and sockets are refused at once, without a read", async () => {
  refuses("/dev/zero", /^expected a regular file, got a device$/);
  refuses("/dev/urandom", /^expected a regular file, got a device$/);
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-trace-" });
  try {
    refuses(dir, /^expected a regular file, got a directory$/);
    // A FIFO nobody writes to: opening it for reading would wait forever.
    const fifo = join(dir, "pipe");
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(made.code, 0);
    refuses(fifo, /^expected a regular file, got a FIFO$/);
    // A symbolic link is followed, to what it names.
    const link = join(dir, "zero.txt");
    await Deno.symlink("/dev/zero", link);
    refuses(link, /^expected a regular file, got a device$/);
    refuses(join(dir, "absent.txt"), /^no such file$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file over the size limit is refused; one at the limit is read whole", async () => {
  const path = await Deno.makeTempFile({ prefix: "hyperhook-trace-" });
  try {
    await Deno.writeTextFile(path, "50\n".repeat(100));
    assert.equal(readTraceText(path, { maxBytes: 300 }), "50\n".repeat(100));
    refuses(path, /^expected a file of at most 299 bytes, got 300 bytes$/, 299);
  } finally {
    await Deno.remove(path);
  }
  // A file whose size says 0 but that holds more (a /proc file) is read up to the limit only.
  assert.match(readTraceText("/proc/self/status"), /^Name:/);
  refuses(
    "/proc/self/status",
    /^expected a file of at most 16 bytes, got more while reading it$/,
    16,
  );
});

Deno.test("API paths: only inside the data folder, symbolic links included", async () => {
  const root = await Deno.makeTempDir({ prefix: "hyperhook-data-" });
  try {
    const data = join(root, "data");
    await Deno.mkdir(join(data, "cpu"), { recursive: true });
    await Deno.writeTextFile(join(data, "cpu", "a.txt"), "10\n");
    await Deno.writeTextFile(join(root, "secret.txt"), "99\n");
    await Deno.symlink(join(root, "secret.txt"), join(data, "escape.txt"));
    await Deno.symlink("/dev/zero", join(data, "zero.txt"));
    const real = await Deno.realPath(data);
    assert.equal(resolveDataPath(real, "cpu/a.txt"), join(real, "cpu", "a.txt"));
    assert.equal(resolveDataPath(real, join(real, "cpu/a.txt")), join(real, "cpu", "a.txt"));
    const outside =
      /^expected a file in the server's data folder \(--data-dir\); this one lies outside it$/;
    for (const path of ["../secret.txt", join(root, "secret.txt"), "escape.txt", "/dev/zero"]) {
      assert.throws(() => resolveDataPath(real, path), (error: unknown) => {
        assert.ok(error instanceof TraceFileError);
        assert.match(error.reason, outside, path);
        // The message names the path as sent, never where it leads.
        assert.equal(error.path, path);
        return true;
      });
    }
    // Inside the folder, but not a regular file: refused by the read.
    refuses(resolveDataPath(real, "cpu"), /^expected a regular file, got a directory$/);
    assert.throws(
      () => resolveDataPath(real, "missing.txt"),
      /cannot read missing\.txt \(no such file; expected a file in the server's data folder\)/,
    );
    assert.throws(
      () => resolveDataPath(undefined, "cpu/a.txt"),
      /cannot read cpu\/a\.txt \(trace files are not accepted through the API: the server was started without --data-dir\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a workload whose traces are devices is bad input at once, for the CPU and for I/O", async () => {
  for (const path of ["/dev/zero", "/dev/urandom"]) {
    const cpu = parseWorkload({
      schema: "hyperhook.workload/v1",
      name: "zero",
      host: { pcpus: 1 },
      stopAt: "1s",
      vms: [{ id: "a", cpu: { trace: { format: "planetlab", path } } }],
    });
    const started = performance.now();
    await assert.rejects(
      simulate(cpu),
      new RegExp(
        `^WorkloadError: Workload: vms\\[0\\]\\.cpu\\.trace: cannot read ${path} \\(expected a regular file, got a device\\)$`,
      ),
    );
    const io = parseWorkload({
      schema: "hyperhook.workload/v1",
      name: "zero",
      host: { pcpus: 1, disks: [{ id: "d0", model: "linear", cylinders: 200 }] },
      vms: [{ id: "a", io: { trace: { format: "msr", path, disk: "d0" } } }],
    });
    await assert.rejects(
      simulate(io),
      new RegExp(
        `Workload: vms\\[0\\]\\.io\\.trace\\[0\\]\\.path: cannot read ${path} \\(expected a regular file, got a device\\)$`,
      ),
    );
    assert.ok(performance.now() - started < 5000, `${performance.now() - started} ms`);
  }
});

Deno.test("a workload file that is a device is one line and exit 2", async () => {
  const result = await runCli(["run", "/dev/zero"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(
    result.stderr.trim(),
    "hyperhook: Workload /dev/zero: cannot read the file (expected a regular file, got a device)",
  );
  const ok = await runCli([
    "run",
    await workloadFile({
      schema: "hyperhook.workload/v1",
      name: "one",
      host: { pcpus: 1 },
      vms: [{ id: "a", cpu: { program: [{ run: "1ms" }] } }],
    }),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});
