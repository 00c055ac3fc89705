/**
 * The code that hosts a policy inside a sandbox, kept as plain JavaScript source text.
 *
 * The worker and process bootstraps must run with no imports (a permission-less sandbox may not
 * read the framework's files, and the framework may itself be a remote module), so they are
 * strings: the shared policy host below, plus one transport each. {@linkcode checkDefinition} and
 * {@linkcode checkReply} are the same checks in TypeScript for the `none` runtime; the messages
 * must stay identical (tests compare them across isolations). Functions shared as they are
 * (`protocol/text.ts`, `_determinism.ts`) are embedded by their source text.
 *
 * @module
 */

import type { Reply } from "../protocol/batch.ts";
import {
  API_VERSION,
  type Domain,
  isPolicyDefinition,
  type PolicyDefinition,
  type StartResult,
} from "../protocol/definition.ts";
import {
  apiVersionMessage,
  BAD_REPLY_MESSAGE,
  BAD_START_MESSAGE,
  NOT_A_POLICY_MESSAGE,
  tooLargeMessage,
  wrongDomainMessage,
} from "../protocol/messages.ts";
import { PolicyFailure } from "../protocol/runtime.ts";
import { capText, cleanText, describeError } from "../protocol/text.ts";
import { stackOf } from "../protocol/runtime.ts";
import { createDeterminism, installDeterminism } from "./_determinism.ts";

/**
 * Checks a module's default export the way the sandboxes do.
 *
 * @param value The default export.
 * @param domain The domain it is started for, when the kernel says.
 * @throws {PolicyFailure} Of kind `invalid` for another protocol version or a non-policy; of
 *   kind `error`, reason `config`, for a policy of another domain; of kind `error`, reason
 *   `load`, when reading it throws (a Proxy, a getter).
 */
export function checkDefinition(value: unknown, domain?: Domain): PolicyDefinition {
  let refused: PolicyFailure | undefined;
  try {
    refused = definitionProblem(value, domain);
  } catch (error) {
    refused = new PolicyFailure(
      "error",
      "load",
      `Policy module failed to load: ${describeError(error)}`,
    );
  }
  if (refused !== undefined) throw refused;
  return value as PolicyDefinition;
}

function definitionProblem(value: unknown, domain?: Domain): PolicyFailure | undefined {
  if (typeof value === "object" && value !== null) {
    const { apiVersion, name } = value as Record<string, unknown>;
    if (typeof apiVersion === "number" && apiVersion !== API_VERSION) {
      return new PolicyFailure("invalid", "api-version", apiVersionMessage(name, apiVersion));
    }
  }
  if (!isPolicyDefinition(value)) {
    return new PolicyFailure("invalid", "not-a-policy", NOT_A_POLICY_MESSAGE);
  }
  if (domain !== undefined && value.domain !== domain) {
    return new PolicyFailure(
      "error",
      "config",
      wrongDomainMessage(value.name, value.domain, domain),
    );
  }
  return undefined;
}

const encoder = new TextEncoder();
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Float64Array.prototype),
  Symbol.toStringTag,
)!.get!;
/** No objects: what a reply without any carries (nobody may add to it). */
const NO_OBJS: unknown[] = Object.freeze([]) as unknown as unknown[];

/** Whether `value` really is a Float64Array: its brand, which a Proxy or a look-alike lacks. */
function isFloat64Array(value: unknown): value is Float64Array {
  return Reflect.apply(typedArrayTag, value, []) === "Float64Array";
}

/**
 * Checks a reply's shape and size the way the sandboxes do, and returns it as plain data: each
 * field read once, `objs` a JSON copy (nothing the policy returned can run code in the kernel
 * afterwards). The size counted is the payload: 8 bytes per valid number plus the UTF-8 JSON of
 * `objs` when there are any.
 *
 * @param reply What the policy returned.
 * @param maxBytes The size cap.
 * @param into An object to fill and return instead of a new one.
 * @throws {PolicyFailure} Of kind `invalid` (`bad-reply` or `message-too-large`).
 */
export function checkReply(reply: unknown, maxBytes: number, into?: Reply): Reply {
  let nums: unknown, length: unknown, objs: unknown;
  try {
    if (typeof reply === "object" && reply !== null) {
      ({ nums, length, objs } = reply as Record<string, unknown>);
    }
  } catch {
    nums = undefined;
  }
  if (
    !isFloat64Array(nums) || !Number.isInteger(length) || (length as number) < 0 ||
    (length as number) > nums.length || !Array.isArray(objs)
  ) {
    throw new PolicyFailure("invalid", "bad-reply", BAD_REPLY_MESSAGE);
  }
  let bytes = (length as number) * 8;
  if (bytes > maxBytes) {
    throw new PolicyFailure("invalid", "message-too-large", tooLargeMessage(bytes, maxBytes));
  }
  let json = "";
  try {
    if (objs.length > 0) json = JSON.stringify(objs);
  } catch (error) {
    throw new PolicyFailure(
      "invalid",
      "bad-reply",
      `Policy reply objs are not JSON: ${describeError(error)}`,
    );
  }
  if (json !== "") {
    bytes += encoder.encode(json).length;
    if (bytes > maxBytes) {
      throw new PolicyFailure("invalid", "message-too-large", tooLargeMessage(bytes, maxBytes));
    }
  }
  const checked = into ?? { nums, length: 0, objs: NO_OBJS };
  checked.nums = nums;
  checked.length = length as number;
  checked.objs = json === "" ? NO_OBJS : JSON.parse(json);
  return checked;
}

const MAX_NAME_CHARS = 256;

/**
 * Checks what a policy's `start` answered, the same way for every isolation: a sandboxed policy
 * (or a policy that broke its own sandbox's bootstrap) can send anything back.
 *
 * @throws {PolicyFailure} Of kind `invalid`, reason `bad-start`.
 */
export function checkStartResult(value: unknown): StartResult {
  const candidate = value as Partial<Record<keyof StartResult, unknown>> | null;
  const strings = (list: unknown) =>
    Array.isArray(list) && list.every((item) => typeof item === "string");
  if (
    typeof candidate !== "object" || candidate === null || Array.isArray(candidate) ||
    typeof candidate.name !== "string" || candidate.name.length > MAX_NAME_CHARS ||
    typeof candidate.config !== "object" || candidate.config === null ||
    Array.isArray(candidate.config) || !strings(candidate.hooks) ||
    (candidate.tickNs !== undefined && typeof candidate.tickNs !== "number") ||
    (candidate.counters !== undefined && !strings(candidate.counters))
  ) {
    throw new PolicyFailure("invalid", "bad-start", BAD_START_MESSAGE);
  }
  // Names are shown in reports and on terminals: no control sequences.
  candidate.name = cleanText(candidate.name);
  if (candidate.counters !== undefined) {
    candidate.counters = (candidate.counters as string[]).map(cleanText);
  }
  return candidate as StartResult;
}

/**
 * Plain JavaScript: `lockDown(stdinMessage)`, which a sandbox's bootstrap runs once, before any
 * policy code, to take away what reaches beyond the sandbox's own isolate. Each is replaced by a
 * function that throws `NotCapable` (or, for stdin, an `Error` saying `stdinMessage`); the
 * originals are kept nowhere the policy can reach, so they cannot be put back:
 * - the process: `Deno.kill` (which may signal its own process without any permission: in a
 *   worker, the kernel's), `Deno.exit`, `Deno.addSignalListener` and `removeSignalListener`, and
 *   node's `process.kill`, `_kill`, `exit`, `reallyExit` and `abort` (`process.on("SIGTERM")`
 *   goes through `Deno.addSignalListener`); `Deno[Deno.internal]`, the runtime's internals;
 * - threads: `Worker`, and `node:worker_threads`' `Worker` (refused in the `EventEmitter`
 *   constructor every node worker runs, since the module's own binding cannot be replaced);
 * - `unload` and `beforeunload` listeners on the global scope (code that would run on exit);
 * - stdin (`Deno.stdin`, `process.stdin`): in a process sandbox it carries the protocol, in a
 *   worker it is the kernel's.
 */
const LOCKDOWN_JS = String.raw`
function lockDown(stdinMessage) {
  const global = globalThis;
  const apply = Reflect.apply, defineProperty = Object.defineProperty;
  const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  const isPrototypeOf = Object.prototype.isPrototypeOf;
  const NotCapable = Deno.errors.NotCapable;
  const deny = (what) => function () {
    throw new NotCapable(what + " is not available to a sandboxed policy");
  };
  const replace = (object, key, value) => {
    const old = getOwnPropertyDescriptor(object, key);
    defineProperty(object, key,
      { value, writable: true, enumerable: old?.enumerable ?? false, configurable: true });
  };
  for (const key of ["kill", "exit", "addSignalListener", "removeSignalListener"]) {
    replace(Deno, key, deny("Deno." + key));
  }
  // Deno.internal is in no type declaration: it is the runtime's own.
  delete Deno[/** @type {any} */ (Deno).internal];
  replace(global, "Worker", deny("Worker"));
  const stdinTaken = () => { throw new Error(stdinMessage); };
  defineProperty(Deno, "stdin", { get: stdinTaken, enumerable: true, configurable: true });
  const nodeProcess = global.process;
  if (typeof nodeProcess === "object" && nodeProcess !== null) {
    for (const key of ["kill", "_kill", "exit", "reallyExit", "abort"]) {
      replace(nodeProcess, key, deny("process." + key));
    }
    try { defineProperty(nodeProcess, "stdin", { get: stdinTaken, configurable: true }); }
    catch { /* see redirectConsole */ }
    const { EventEmitter } = nodeProcess.getBuiltinModule("node:events");
    const nodeWorkerPrototype = nodeProcess.getBuiltinModule("node:worker_threads").Worker.prototype;
    // EventEmitter.init is node's internal constructor step, in no type declaration.
    const realInit = /** @type {any} */ (EventEmitter).init;
    const denyWorker = deny("worker_threads.Worker");
    defineProperty(EventEmitter, "init", {
      value: function init(options) {
        if (apply(isPrototypeOf, nodeWorkerPrototype, [this])) denyWorker();
        return apply(realInit, this, [options]);
      },
      writable: false,
      enumerable: true,
      configurable: false,
    });
  }
  const realAddEventListener = EventTarget.prototype.addEventListener;
  const denyUnload = deny("An unload or beforeunload listener");
  replace(EventTarget.prototype, "addEventListener", function addEventListener(type, ...rest) {
    const name = String(type);
    if (this === global && (name === "unload" || name === "beforeunload")) denyUnload();
    return apply(realAddEventListener, this, [name, ...rest]);
  });
  for (const key of ["onunload", "onbeforeunload"]) {
    if (key in global) {
      defineProperty(global, key, { get: () => null, set: denyUnload, configurable: false });
    }
  }
}
`;

/**
 * Plain JavaScript: `createPolicyHost(apiVersion, maxReplyBytes)` loads a bundle from its source
 * text (through a `blob:` URL, so no file or network access is needed), checks its default export,
 * starts it, and runs batches. Every outcome is a plain object: `{ ok: true, ... }` or
 * `{ ok: false, kind, reason, message }`; nothing the policy throws or returns (a Proxy, getters
 * that throw) makes the host itself throw. Replies come back as `{ nums, length, json }` where
 * `json` is the JSON of `objs` (empty when there are none), already checked against the cap: the
 * same object each time, read before the next batch.
 * Before the module is imported, `load` installs the seeded generators and simulated clocks
 * (`_determinism.ts`); each batch sets the clock to the instant of its first call.
 *
 * Also `redirectConsole(print)`: routes every console method, and raw writes to `Deno.stdout` and
 * `process.stdout`, to `print(text)`, so that policy output never reaches the kernel's stdout nor
 * the `process` transport's channel; `limitOutput(print, maxChars)` cuts what one batch prints
 * (one character past the cap, so the kernel sees the cut and says so).
 *
 * And `lockDown()`, run before any policy code: see {@linkcode LOCKDOWN_JS}.
 */
export const POLICY_HOST_JS: string = String.raw`
${capText}
${cleanText}
${describeError}
${stackOf}
${createDeterminism}
${installDeterminism}

// A typed array's brand, read from the engine's own slot: a Proxy or a look-alike has none.
const typedArrayTag = /** @type {() => string} */ (/** @type {PropertyDescriptor} */ (
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float64Array.prototype), Symbol.toStringTag)
).get);
const applyFunction = Reflect.apply;
const isFloat64Array = (value) => applyFunction(typedArrayTag, value, []) === "Float64Array";

function configErrorMessage(error) {
  try {
    if (error instanceof Error && error.name === "ConfigError") return String(error.message);
  } catch { /* not a ConfigError that can be read */ }
  return undefined;
}

function createPolicyHost(apiVersion, maxReplyBytes) {
  const encoder = new TextEncoder();
  let handler, determinism;
  // One answer object for every batch, read by the caller before the next (a new one per batch
  // was garbage the replay child made hundreds of thousands of times a run). Not so the batch: a
  // policy may keep or freeze the one it was handed, and must not see it change.
  const answer = { ok: true, nums: new Float64Array(0), length: 0, json: "" };
  const failure = (kind, reason, message) => ({ ok: false, kind, reason, message });
  const tooLarge = (bytes) =>
    failure("invalid", "message-too-large",
      "Policy reply is " + bytes + " bytes; the limit is " + maxReplyBytes + " bytes");
  const loadFailure = (error) =>
    failure("error", "load", "Policy module failed to load: " + describeError(error));
  function check(definition, domain) {
    if (typeof definition === "object" && definition !== null &&
        typeof definition.apiVersion === "number" && definition.apiVersion !== apiVersion) {
      return failure("invalid", "api-version", "Policy " + JSON.stringify(String(definition.name)) +
        " was built for hook protocol v" + definition.apiVersion + "; this kernel speaks v" + apiVersion);
    }
    if (typeof definition !== "object" || definition === null ||
        typeof definition.apiVersion !== "number" || typeof definition.name !== "string" ||
        typeof definition.start !== "function" ||
        !(definition.domain === "cpu" || definition.domain === "memory" || definition.domain === "io" ||
          definition.domain === "placement")) {
      return failure("invalid", "not-a-policy", ${JSON.stringify(NOT_A_POLICY_MESSAGE)});
    }
    if (domain !== undefined && domain !== definition.domain) {
      return failure("error", "config", "Policy " + JSON.stringify(String(definition.name)) +
        " schedules the " + definition.domain + " domain; expected a policy for the " +
        domain + " domain");
    }
    return null;
  }
  async function load(code, start) {
    determinism = createDeterminism(start.seed);
    installDeterminism(determinism);
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    let namespace;
    try {
      namespace = await import(url);
    } catch (error) {
      return loadFailure(error);
    } finally {
      URL.revokeObjectURL(url);
    }
    const definition = namespace.default;
    try {
      const refused = check(definition, start.domain);
      if (refused !== null) return refused;
    } catch (error) {
      return loadFailure(error);
    }
    try {
      const started = definition.start(start);
      handler = started.handler;
      const result = JSON.parse(JSON.stringify(started.result));
      result.domain = definition.domain;
      return { ok: true, result };
    } catch (error) {
      // A refused configuration stops the run (exit 2), as in-process (see asFailure).
      const config = configErrorMessage(error);
      if (config !== undefined) return failure("error", "config", config);
      return failure("error", "init", describeError(error));
    }
  }
  function handle(nums, length, objs) {
    if (length >= 2) determinism.setClock(nums[1]);
    let reply;
    try {
      reply = handler.handle({ nums, length, objs });
    } catch (error) {
      const out = failure("error", "throw", describeError(error));
      // Where it threw: the failing call (the SDK records it) and the stack, for the incident.
      try {
        const call = handler.failedCall;
        if (typeof call === "number") out.call = call;
      } catch { /* a handler whose getter throws names no call */ }
      out.stack = stackOf(error);
      return out;
    }
    let replyNums, replyLength, replyObjs;
    try {
      if (typeof reply === "object" && reply !== null) {
        replyNums = reply.nums;
        replyLength = reply.length;
        replyObjs = reply.objs;
      }
    } catch {
      replyNums = undefined;
    }
    if (!isFloat64Array(replyNums) || !Number.isInteger(replyLength) || replyLength < 0 ||
        replyLength > replyNums.length || !Array.isArray(replyObjs)) {
      return failure("invalid", "bad-reply", ${JSON.stringify(BAD_REPLY_MESSAGE)});
    }
    let bytes = replyLength * 8;
    if (bytes > maxReplyBytes) return tooLarge(bytes);
    let json = "";
    try {
      if (replyObjs.length > 0) json = JSON.stringify(replyObjs);
    } catch (error) {
      return failure("invalid", "bad-reply", "Policy reply objs are not JSON: " + describeError(error));
    }
    if (typeof json !== "string") json = "";
    // Most replies carry no objects: no encoding (an op call) for an empty text; a text that fits
    // even at three bytes per character needs no exact count either.
    if (json !== "" && bytes + json.length * 3 > maxReplyBytes) {
      bytes += encoder.encode(json).length;
      if (bytes > maxReplyBytes) return tooLarge(bytes);
    }
    answer.nums = replyNums;
    answer.length = replyLength;
    answer.json = json;
    return answer;
  }
  return { load, handle };
}

function limitOutput(print, maxChars) {
  let used = 0;
  return {
    print(text) {
      if (used > maxChars) return;
      if (used + text.length > maxChars) text = text.slice(0, maxChars + 1 - used);
      used += text.length;
      print(text);
    },
    nextBatch() { used = 0; },
  };
}

function redirectConsole(print) {
  const target = globalThis.console;
  const text = (value) => typeof value === "string" ? value : Deno.inspect(value, { colors: false });
  const line = (...args) => print(args.map(text).join(" ") + "\n");
  const counts = new Map();
  const timers = new Map();
  for (const key of ["log", "info", "debug", "error", "warn", "table", "group", "groupCollapsed"]) {
    target[key] = line;
  }
  target.groupEnd = () => {};
  target.trace = (...args) => line(...args, "\n" + String(new Error("Trace").stack));
  target.dir = target.dirxml = (value, options) =>
    print(Deno.inspect(value, { colors: false, ...options }) + "\n");
  target.assert = (condition, ...args) => { if (!condition) line("Assertion failed:", ...args); };
  target.count = (label = "default") => {
    const count = (counts.get(label) ?? 0) + 1;
    counts.set(label, count);
    line(label + ": " + count);
  };
  target.countReset = (label = "default") => { counts.delete(label); };
  target.time = (label = "default") => { timers.set(label, performance.now()); };
  target.timeLog = (label = "default", ...args) =>
    line(label + ": " + (performance.now() - (timers.get(label) ?? NaN)).toFixed(3) + "ms", ...args);
  target.timeEnd = (label = "default") => { target.timeLog(label); timers.delete(label); };
  // Raw writes to stdout are printed too: in a process sandbox stdout carries the protocol, in a
  // worker it is the kernel's stdout, where reports go.
  const decoder = new TextDecoder();
  const asText = (chunk) => typeof chunk === "string" ? chunk : decoder.decode(chunk);
  const stdout = {
    writeSync(bytes) { print(asText(bytes)); return bytes.length; },
    write(bytes) { print(asText(bytes)); return Promise.resolve(bytes.length); },
    isTerminal() { return false; },
    close() {},
  };
  // Raw writes to stderr too: all a policy prints reaches the log sink, in order, by one path.
  Object.defineProperty(Deno, "stdout", { value: stdout, configurable: true, writable: true });
  Object.defineProperty(Deno, "stderr", { value: stdout, configurable: true, writable: true });
  if (typeof globalThis.process === "object" && globalThis.process !== null) {
    const nodeStdout = {
      isTTY: false,
      write(chunk, encoding, callback) {
        print(asText(chunk));
        (typeof encoding === "function" ? encoding : callback)?.();
        return true;
      },
    };
    try {
      Object.defineProperty(globalThis.process, "stdout", { get: () => nodeStdout, configurable: true });
      Object.defineProperty(globalThis.process, "stderr", { get: () => nodeStdout, configurable: true });
    } catch { /* a frozen process object keeps its stdout */ }
  }
}
` + LOCKDOWN_JS;

/**
 * Plain JavaScript: the module a `worker` sandbox runs. It talks to the kernel with postMessage;
 * numbers travel as transferred `Float64Array` copies of the valid entries, `objs` as JSON text.
 */
export const WORKER_BOOTSTRAP_JS: string = POLICY_HOST_JS + String.raw`
const post = globalThis.postMessage.bind(globalThis);
const print = (text) => post({ t: "log", text });
let output = limitOutput(print, Infinity);
redirectConsole((text) => output.print(text));
// An error no hook caught (from a timer, a promise) ends the policy; reporting it from here keeps
// Deno from printing it and rethrowing it in the kernel.
globalThis.addEventListener("error", (event) => {
  event.preventDefault();
  post({ t: "uncaught", message: describeError(event.error ?? event.message) });
});
globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  post({ t: "uncaught", message: "Unhandled rejection: " + describeError(event.reason) });
});
lockDown("The kernel's stdin is not available to a sandboxed policy");
let host;
globalThis.onmessage = async (event) => {
  const message = event.data;
  if (message.t === "load") {
    host = createPolicyHost(message.apiVersion, message.maxReplyBytes);
    output = limitOutput(print, message.maxLogChars);
    const loaded = await host.load(message.code, message.start);
    output.nextBatch();
    post(loaded.ok ? { t: "started", seq: message.seq, result: loaded.result }
                   : { t: "fail", seq: message.seq, failure: loaded });
  } else if (message.t === "batch") {
    output.nextBatch();
    const objs = message.objs === "" ? [] : JSON.parse(message.objs);
    const out = host.handle(message.nums, message.length, objs);
    if (!out.ok) {
      post({ t: "fail", seq: message.seq, failure: out });
      return;
    }
    const nums = out.nums.slice(0, out.length);
    post({ t: "reply", seq: message.seq, nums, length: out.length, objs: out.json }, [nums.buffer]);
  }
};
`;

/** Frame type: kernel to policy, the bundle and the start message (JSON). */
export const FRAME_LOAD = 1;
/** Frame type: kernel to policy, one batch (or its last part: see {@linkcode FRAME_PART}). */
export const FRAME_BATCH = 2;
/**
 * Frame type: kernel to policy, the first calls of a batch still being written (notifications
 * only), sent early so the policy reads and handles them while the kernel goes on. Nothing
 * answers a part: its objects join the batch's, a failure is answered to the batch's last part
 * ({@linkcode FRAME_BATCH}), and output printed meanwhile waits for that answer too.
 */
export const FRAME_PART = 3;
/** Frame type: policy to kernel, the start result (JSON). */
export const FRAME_STARTED = 0x81;
/** Frame type: policy to kernel, one reply. */
export const FRAME_REPLY = 0x82;
/**
 * Frame type: policy to kernel, text the policy printed (its console, `Deno.stdout`/`stderr`), as
 * UTF-8 in place of JSON; sent as it is printed, at any time, and passed to the log sink.
 */
export const FRAME_LOG = 0x83;
/** Frame type: policy to kernel, a failure `{ kind, reason, message }` (JSON). */
export const FRAME_FAIL = 0x8f;
/** The first word of every frame: "HH" and the framing version. */
export const FRAME_MAGIC = 0x48480001;
/** Bytes in a frame header: six little-endian u32 (magic, type, seq, number count, JSON bytes, 0). */
export const FRAME_HEADER_BYTES = 24;

/**
 * Plain JavaScript: the script a `process` sandbox runs
 * (`deno run <file> <maxReplyBytes> <maxLogCharsPerBatch> <pdeathsig|watch>`).
 *
 * Frames on stdin and stdout: a 24-byte header (see {@linkcode FRAME_HEADER_BYTES}), then the
 * numbers as raw float64 bytes, then UTF-8 JSON. Reads and writes are synchronous: after loading,
 * the child never returns to its event loop, which is what makes a round trip cheap. Between
 * batches it passes one microtask checkpoint (so an already-settled promise's callbacks run), but
 * timers and I/O callbacks never run after start: a policy's work must be synchronous.
 *
 * Before the policy is imported, the script keeps private references to stdin/stdout and then
 * hides them: `Deno.stdin` and `process.stdin` throw, and the console and writes to `Deno.stdout`,
 * `Deno.stderr` and their `process` equivalents become log frames ({@linkcode FRAME_LOG}). So a
 * stray `console.log` cannot corrupt the framing, and policy output never fills a pipe the
 * kernel does not read while it waits for a reply; the child's real stderr only carries what
 * the runtime itself prints (V8's out-of-memory report). A policy that digs out fd 1 some other
 * way can only forge a reply (no more than its hooks can return anyway), and the kernel rejects
 * anything that is not a well-formed frame. Then it locks the rest down (see
 * {@linkcode LOCKDOWN_JS}): no threads, signals, exit or unload listeners for the policy.
 *
 * The child dies by itself when it loses its kernel, whatever the policy did: at the end of stdin
 * it SIGKILLs itself (no `unload` or `exit` listener runs). A policy spinning in a hook reads no
 * stdin: then Linux SIGKILLs the child when the kernel dies (`pdeathsig`: the kernel started it
 * through `setpriv --pdeathsig KILL`), or else (`watch`) a watcher thread started before any
 * policy code (the only Worker the child ever has) polls the parent pid every 100 ms and
 * SIGKILLs the child once it changes (the kernel died and the child was reparented). Signalling
 * its own process needs no permission; signalling any other (the kernel) needs `--allow-run`,
 * which the child lacks.
 */
export const PROCESS_BOOTSTRAP_JS: string = POLICY_HOST_JS + String.raw`
const MAGIC = ${FRAME_MAGIC};
const HEADER = ${FRAME_HEADER_BYTES};
const LOAD = ${FRAME_LOAD}, BATCH = ${FRAME_BATCH}, PART = ${FRAME_PART};
const MAX_HELD_LOG_CHARS = 1 << 20;
const STARTED = ${FRAME_STARTED}, REPLY = ${FRAME_REPLY}, FAIL = ${FRAME_FAIL}, LOG = ${FRAME_LOG};
const LOG_CHUNK_CHARS = 16384;
const maxReplyBytes = Number(Deno.args[0]);
const maxLogChars = Number(Deno.args[1]);
const realStdin = Deno.stdin;
const realStdout = Deno.stdout;
const realStderr = Deno.stderr;
const exit = Deno.exit;
const realKill = Deno.kill;
const ownPid = Deno.pid;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Ends the child at once: SIGKILL runs no listener, whatever the policy registered. */
function die() {
  try { realKill(ownPid, "SIGKILL"); } catch { exit(137); }
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(sleeper, 0, 0);
}

if (Deno.args[2] !== "pdeathsig") try {
  const watcher = "const parent = " + Deno.ppid + ", child = " + ownPid + ";\n" +
    "setInterval(() => { if (Deno.ppid !== parent) Deno.kill(child, 'SIGKILL'); }, 100);";
  new Worker("data:text/javascript," + encodeURIComponent(watcher),
    { type: "module", name: "hyperhook sandbox watcher" });
} catch {
  // No thread to watch the kernel: the end of stdin still ends the child.
}

function writeAll(file, bytes) {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

// While a part is handled the kernel is not reading: output is held until the batch's answer
// (up to MAX_HELD_LOG_CHARS), so the pipe to the kernel cannot fill.
let held = null, heldChars = 0;
function printLog(text) {
  for (let at = 0; at < text.length; at += LOG_CHUNK_CHARS) {
    writeFrame(LOG, 0, null, 0, text.slice(at, at + LOG_CHUNK_CHARS));
  }
}
const policyOutput = limitOutput((text) => {
  if (held === null) return printLog(text);
  if (heldChars >= MAX_HELD_LOG_CHARS) return;
  const room = MAX_HELD_LOG_CHARS - heldChars;
  held.push(text.length <= room ? text : text.slice(0, room) + "\n(output cut: too much while the kernel was busy)\n");
  heldChars += Math.min(text.length, room);
}, maxLogChars);
redirectConsole((text) => policyOutput.print(text));
lockDown("The sandbox's stdin carries the kernel protocol; a policy cannot read it");

let input = new Uint8Array(1 << 16);
let inputWords = new Uint32Array(input.buffer, 0, 6);
let output = new Uint8Array(1 << 16);
let outputWords = new Uint32Array(output.buffer, 0, 6);

function readInto(from, to) {
  let at = from;
  while (at < to) {
    const count = realStdin.readSync(input.subarray(at, to));
    if (count === null) {
      if (at === 0) return false;
      throw new Error("The kernel closed the pipe in the middle of a frame");
    }
    at += count;
  }
  return true;
}

function readFrame() {
  if (!readInto(0, HEADER)) return null;
  if (inputWords[0] !== MAGIC) throw new Error("Bad frame from the kernel");
  const type = inputWords[1], seq = inputWords[2], count = inputWords[3], jsonBytes = inputWords[4];
  const total = HEADER + count * 8 + jsonBytes;
  if (total > input.length) {
    const grown = new Uint8Array(Math.max(total, input.length * 2));
    grown.set(input.subarray(0, HEADER));
    input = grown;
    inputWords = new Uint32Array(input.buffer, 0, 6);
  }
  readInto(HEADER, total);
  // The numbers alias the input buffer, which the next frame overwrites: a policy must not keep a
  // batch past its call (the in-process kernel reuses its buffer in the same way).
  const nums = new Float64Array(input.buffer, HEADER, count);
  const json = jsonBytes === 0 ? "" : decoder.decode(input.subarray(HEADER + count * 8, total));
  return { type, seq, nums, json };
}

function writeFrame(type, seq, nums, count, json) {
  const jsonBytes = json === "" ? new Uint8Array(0) : encoder.encode(json);
  const total = HEADER + count * 8 + jsonBytes.length;
  if (total > output.length) {
    output = new Uint8Array(Math.max(total, output.length * 2));
    outputWords = new Uint32Array(output.buffer, 0, 6);
  }
  outputWords[0] = MAGIC;
  outputWords[1] = type;
  outputWords[2] = seq;
  outputWords[3] = count;
  outputWords[4] = jsonBytes.length;
  outputWords[5] = 0;
  if (count > 0) output.set(new Uint8Array(nums.buffer, nums.byteOffset, count * 8), HEADER);
  output.set(jsonBytes, HEADER + count * 8);
  writeAll(realStdout, output.subarray(0, total));
}

function writeFailure(seq, failure) {
  const { kind, reason, message, call, stack } = failure;
  writeFrame(FAIL, seq, null, 0, JSON.stringify({ kind, reason, message, call, stack }));
}

async function main() {
  const first = readFrame();
  if (first === null) return;
  if (first.type !== LOAD) throw new Error("Expected a load frame, got type " + first.type);
  const { code, start, apiVersion } = JSON.parse(first.json);
  const host = createPolicyHost(apiVersion, maxReplyBytes);
  const loaded = await host.load(code, start);
  if (!loaded.ok) {
    writeFailure(first.seq, loaded);
    return;
  }
  writeFrame(STARTED, first.seq, null, 0, JSON.stringify(loaded.result));
  policyOutput.nextBatch();
  // The objects of the batch's parts so far, and the failure of one of them.
  // base: where this part starts in the kernel's batch (a failing call is named from there).
  let objs = [], failed = null, base = 0;
  for (;;) {
    await null;
    const frame = readFrame();
    if (frame === null) break;
    if (frame.type !== BATCH && frame.type !== PART) {
      throw new Error("Expected a batch frame, got type " + frame.type);
    }
    if (frame.json !== "") objs = objs.concat(JSON.parse(frame.json));
    if (frame.type === PART) {
      if (failed !== null) continue;
      held ??= [];
      const out = host.handle(frame.nums, frame.nums.length, objs);
      if (!out.ok) {
        if (typeof out.call === "number") out.call += base;
        failed = out;
      }
      base += frame.nums.length;
      continue;
    }
    let out = failed;
    if (out === null) {
      out = host.handle(frame.nums, frame.nums.length, objs);
      if (!out.ok && typeof out.call === "number") out.call += base;
    }
    objs = [];
    failed = null;
    base = 0;
    if (held !== null) {
      const text = held.join("");
      held = null;
      heldChars = 0;
      if (text !== "") printLog(text);
    }
    if (out.ok) writeFrame(REPLY, frame.seq, out.nums, out.length, out.json);
    else writeFailure(frame.seq, out);
    policyOutput.nextBatch();
  }
}

// The kernel closed stdin (it is gone, or done with the policy), or refused the policy: go
// without running anything more. A bootstrap error exits 70 with its reason on stderr.
main().then(die, (error) => {
  writeAll(realStderr, encoder.encode("hyperhook sandbox: " + describeError(error) + "\n"));
  exit(70);
});
`;
