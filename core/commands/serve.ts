/**
 * `hyperhook serve [workload]`: a live kernel with its control API and dashboard on 127.0.0.1.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { createControlApp } from "../control/app.ts";
import { LiveKernel, type LiveSetup } from "../control/live.ts";
import { StateError } from "../control/persistence.ts";
import { formatDuration, parseDuration } from "../engine/duration.ts";
import { resumeLine } from "./_messages.ts";
import { readWorkloadJson } from "../workload/load.ts";
import type { Simulation } from "../simulation/mod.ts";
import {
  EXIT,
  parseFlags,
  parseSize,
  policyFlag,
  printIncident,
  SIMULATION_FLAGS,
  simulationOptions,
  UsageError,
} from "./common.ts";

/** Usage of `serve`. */
export const SERVE_USAGE = `hyperhook serve [workload.json] [options]
  (default workload: examples/workloads/live.json)
  --port N                          port on 127.0.0.1 (default 8377; 0 picks a free one)
  --speed X|max                     simulated seconds per wall-clock second (default 1)
  --paused                          start with the clock paused
  --state-dir DIR                   keep an audit log (fsynced) and checkpoints in DIR
  --resume                          carry on from --state-dir after a stop or a crash
  --checkpoint D                    wall-clock time between checkpoints (default 5s)
  --stable-after D                  how long a start must stay up, and a policy swap run, to count
                                    as good (default 10s); after 2 starts in a row that died sooner,
                                    --resume replays no swap after the last good point
  --data-dir DIR                    trace files named through the API must lie in DIR
                                    (default: none, and POST /v1/vms refuses traces)
  --max-trace SIZE                  the largest trace file read, such as 64MiB (default 256MiB)
  --trace FILE / --log FILE         write a Chrome JSON trace / every decision when the server
                                    stops (as for run; --trace-window, --trace-cap,
                                    --trace-every-batch too)
  --cpu P / --config-cpu JSON / --isolation / --seed / --stall   as for run
  The bearer token comes from $HYPERHOOK_TOKEN, or is generated and printed.`;

/** The workload `serve` runs when given none. */
export const DEFAULT_LIVE_WORKLOAD: URL = new URL(
  "../../examples/workloads/live.json",
  import.meta.url,
);

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_MS = 5000;

/** Runs the `serve` subcommand until SIGINT or SIGTERM; returns the exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  // The live kernel keeps its sandboxes at their defaults and restarts nothing: refuse the flags.
  const {
    format: _format,
    heap: _heap,
    deadline: _deadline,
    "init-deadline": _initDeadline,
    restart: _restart,
    ...simulationFlags
  } = SIMULATION_FLAGS;
  const { values, positionals } = parseFlags(args, {
    ...simulationFlags,
    port: { type: "string" },
    speed: { type: "string" },
    paused: { type: "boolean" },
    "state-dir": { type: "string" },
    resume: { type: "boolean" },
    checkpoint: { type: "string" },
    "data-dir": { type: "string" },
    "stable-after": { type: "string" },
    "max-trace": { type: "string" },
    trace: { type: "string" },
    "trace-window": { type: "string" },
    "trace-cap": { type: "string" },
    "trace-every-batch": { type: "boolean" },
    log: { type: "string" },
  });
  if (values.help) {
    console.log(SERVE_USAGE);
    return EXIT.OK;
  }
  if (positionals.length > 1) {
    throw new UsageError(`serve: expected at most one workload file, got ${positionals.length}`);
  }
  const port = values.port === undefined ? 8377 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port: expected a port number 0..65535, got ${values.port}`);
  }
  let speed: number | undefined;
  if (typeof values.speed === "string") {
    speed = values.speed === "max" ? Infinity : Number(values.speed);
    if (!(speed > 0) || (speed !== Infinity && speed > 1e9)) {
      throw new UsageError(`--speed: expected a number above 0 or max, got ${values.speed}`);
    }
  }
  const checkpointMs = values.checkpoint === undefined
    ? 5000
    : (parseDuration(values.checkpoint) ?? 0) / 1e6;
  if (!(checkpointMs >= 10)) {
    throw new UsageError(
      `--checkpoint: expected a duration of 10ms or more, got ${values.checkpoint}`,
    );
  }
  const stableMs = values["stable-after"] === undefined
    ? undefined
    : (parseDuration(values["stable-after"]) ?? 0) / 1e6;
  if (stableMs !== undefined && !(stableMs >= 10)) {
    throw new UsageError(
      `--stable-after: expected a duration of 10ms or more, got ${values["stable-after"]}`,
    );
  }
  const stateDir = typeof values["state-dir"] === "string" ? values["state-dir"] : undefined;
  if (values.resume && stateDir === undefined) {
    throw new UsageError("--resume needs --state-dir DIR to resume from");
  }
  const dataDir = typeof values["data-dir"] === "string" ? values["data-dir"] : undefined;
  if (dataDir !== undefined) {
    let folder = false;
    try {
      folder = Deno.statSync(dataDir).isDirectory;
    } catch {
      // Reported below.
    }
    if (!folder) throw new UsageError(`--data-dir: expected an existing folder, got ${dataDir}`);
  }
  const maxTraceBytes = values["max-trace"] === undefined
    ? undefined
    : parseSize(values["max-trace"] as string);
  if (maxTraceBytes === undefined && values["max-trace"] !== undefined) {
    throw new UsageError(
      `--max-trace: expected a size such as 64MiB, 1GiB or a number of bytes, got ${
        values["max-trace"]
      }`,
    );
  }
  const envToken = Deno.env.get("HYPERHOOK_TOKEN");
  if (envToken !== undefined && !/^\S{8,1024}$/.test(envToken)) {
    throw new UsageError("HYPERHOOK_TOKEN: expected 8 to 1024 characters without spaces");
  }
  const token = envToken ?? generateToken();

  // The observers' code is loaded only for a server that asks for one.
  const observers = values.log ?? values.trace ?? values["trace-window"] ?? values["trace-cap"] ??
    values["trace-every-batch"];
  const observing = observers === undefined
    ? undefined
    : (await import("../observe/flags.ts")).RunObservers.fromFlags(values);
  const liveOptions = {
    observe: observing === undefined
      ? undefined
      : (simulation: Simulation) => observing.watch(simulation),
    speed,
    paused: values.paused === true ? true : undefined,
    stateDir,
    checkpointMs,
    dataDir,
    maxTraceBytes,
    stableMs,
    onIncident: printIncident,
    onWarning: (message: string) => console.error(`hyperhook serve: ${message}`),
  };
  let live: LiveKernel;
  try {
    if (values.resume) {
      if (positionals.length > 0) {
        console.error("hyperhook serve: --resume takes the workload from the state directory");
      }
      live = await LiveKernel.resume(stateDir!, liveOptions);
      if (live.resumed !== undefined) console.error(`hyperhook serve: ${resumeLine(live.resumed)}`);
    } else {
      live = await LiveKernel.create(readSetup(positionals[0], values), liveOptions);
    }
  } catch (error) {
    if (error instanceof StateError) throw new UsageError(error.message);
    throw error;
  }

  const { app } = createControlApp(live, {
    token,
    onBug: (error) => console.error("hyperhook serve: internal error:", error),
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: () => {},
    }, app.fetch);
  } catch (error) {
    await live.close();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`--port: ${port} is in use on 127.0.0.1; choose another port`);
    }
    throw error;
  }
  live.start();
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const state = live.state();
  console.log(
    `hyperhook serve: ${state.workload} on ${base} (speed ${state.speed}${
      state.paused ? ", paused" : ""
    }${
      stateDir === undefined ? ", no --state-dir: nothing is persisted" : `, state in ${stateDir}`
    })`,
  );
  console.log(
    envToken === undefined
      ? `token: ${token} (generated; set HYPERHOOK_TOKEN to choose one)`
      : "token: from $HYPERHOOK_TOKEN",
  );
  console.log(`dashboard: ${base}?token=${envToken === undefined ? token : "$HYPERHOOK_TOKEN"}`);
  console.log(`listening ${base}`);

  const stopped = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => stopped.resolve(signal);
    Deno.addSignalListener(signal, handler);
    return handler;
  });
  const signal = await stopped.promise;
  for (const [i, name] of signals.entries()) Deno.removeSignalListener(name, handlers[i]!);
  console.error(`hyperhook serve: ${signal}: shutting down`);
  const deadline = setTimeout(() => {
    console.error(`hyperhook serve: shutdown took over ${SHUTDOWN_MS} ms; exiting`);
    Deno.exit(EXIT.FAILED);
  }, SHUTDOWN_MS);
  // Close the kernel first: it ends the event streams, which would keep the server waiting.
  await live.close();
  await server.shutdown();
  clearTimeout(deadline);
  for (const line of await observing?.finish() ?? []) console.error(`hyperhook serve: ${line}`);
  console.error(`hyperhook serve: stopped at ${formatDuration(live.state().nowNs)} simulated`);
  return EXIT.OK;
}

function readSetup(
  path: string | undefined,
  values: Record<string, string | boolean | undefined>,
): LiveSetup {
  const file = path ?? DEFAULT_LIVE_WORKLOAD.pathname;
  const workload = readWorkloadJson(file);
  const options = simulationOptions(values);
  const policies: LiveSetup["options"]["policies"] = {};
  for (const domain of ["cpu", "memory", "io"] as const) {
    const choice = policyFlag(values, domain);
    if (choice !== undefined) policies[domain] = choice;
  }
  return {
    workload,
    source: file,
    baseDir: dirname(resolve(file)),
    options: {
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.isolation === undefined ? {} : { isolation: options.isolation }),
      ...(options.stallNs === undefined ? {} : { stallNs: options.stallNs }),
      ...(Object.keys(policies).length === 0 ? {} : { policies }),
    },
  };
}

function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}
