/**
 * The code that hosts a policy inside a sandbox, kept as plain JavaScript source text.
 *
 * The worker and process bootstraps must run with no imports (a permission-less sandbox may not
 * read the framework's files, and the framework may itself be a remote module), so they are
 * strings: the shared policy host below, plus one transport each. {@linkcode checkDefinition} and
 * {@linkcode checkReply} are the same checks in TypeScript for the `none` runtime; the messages
 * must stay identical (tests compare them across isolations).
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

/**
 * Checks a module's default export the way the sandboxes do.
 *
 * @param value The default export.
 * @param domain The domain it is started for, when the kernel says.
 * @throws {PolicyFailure} Of kind `invalid` for another protocol version or a non-policy; of
 *   kind `error`, reason `config`, for a policy of another domain.
 */
export function checkDefinition(value: unknown, domain?: Domain): PolicyDefinition {
  if (typeof value === "object" && value !== null) {
    const { apiVersion, name } = value as Record<string, unknown>;
    if (typeof apiVersion === "number" && apiVersion !== API_VERSION) {
      throw new PolicyFailure("invalid", "api-version", apiVersionMessage(name, apiVersion));
    }
  }
  if (!isPolicyDefinition(value)) {
    throw new PolicyFailure("invalid", "not-a-policy", NOT_A_POLICY_MESSAGE);
  }
  if (domain !== undefined && value.domain !== domain) {
    throw new PolicyFailure(
      "error",
      "config",
      wrongDomainMessage(value.name, value.domain, domain),
    );
  }
  return value;
}

const encoder = new TextEncoder();

/**
 * Checks a reply's shape and size the way the sandboxes do. The size counted is the payload:
 * 8 bytes per valid number plus the UTF-8 JSON of `objs` when there are any.
 *
 * @throws {PolicyFailure} Of kind `invalid` (`bad-reply` or `message-too-large`).
 */
export function checkReply(reply: unknown, maxBytes: number): Reply {
  const candidate = reply as Partial<Reply> | null;
  if (
    typeof candidate !== "object" || candidate === null ||
    !(candidate.nums instanceof Float64Array) || !Number.isInteger(candidate.length) ||
    (candidate.length as number) < 0 || (candidate.length as number) > candidate.nums.length ||
    !Array.isArray(candidate.objs)
  ) {
    throw new PolicyFailure("invalid", "bad-reply", BAD_REPLY_MESSAGE);
  }
  const valid = candidate as Reply;
  let bytes = valid.length * 8;
  if (bytes > maxBytes) {
    throw new PolicyFailure("invalid", "message-too-large", tooLargeMessage(bytes, maxBytes));
  }
  if (valid.objs.length > 0) {
    bytes += encoder.encode(JSON.stringify(valid.objs)).length;
    if (bytes > maxBytes) {
      throw new PolicyFailure("invalid", "message-too-large", tooLargeMessage(bytes, maxBytes));
    }
  }
  return valid;
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
  return candidate as StartResult;
}

/**
 * Plain JavaScript: `createPolicyHost(apiVersion, maxReplyBytes)` loads a bundle from its source
 * text (through a `blob:` URL, so no file or network access is needed), checks its default export,
 * starts it, and runs batches. Every outcome is a plain object: `{ ok: true, ... }` or
 * `{ ok: false, kind, reason, message }`. Replies come back as `{ nums, length, json }` where
 * `json` is the JSON of `objs` (empty when there are none), already checked against the cap.
 *
 * Also `redirectConsole(print)`: routes every console method, and raw writes to `Deno.stdout` and
 * `process.stdout`, to `print(text)`, so that policy output never reaches the kernel's stdout nor
 * the `process` transport's channel.
 */
const POLICY_HOST_JS = String.raw`
function describeError(error) {
  if (error instanceof Error) return error.name + ": " + error.message;
  try { return String(error); } catch { return "(unprintable error)"; }
}

function createPolicyHost(apiVersion, maxReplyBytes) {
  const encoder = new TextEncoder();
  let handler;
  const failure = (kind, reason, message) => ({ ok: false, kind, reason, message });
  const tooLarge = (bytes) =>
    failure("invalid", "message-too-large",
      "Policy reply is " + bytes + " bytes; the limit is " + maxReplyBytes + " bytes");
  async function load(code, start) {
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    let namespace;
    try {
      namespace = await import(url);
    } catch (error) {
      return failure("error", "load", "Policy module failed to load: " + describeError(error));
    } finally {
      URL.revokeObjectURL(url);
    }
    const definition = namespace.default;
    if (typeof definition === "object" && definition !== null &&
        typeof definition.apiVersion === "number" && definition.apiVersion !== apiVersion) {
      return failure("invalid", "api-version", "Policy " + JSON.stringify(String(definition.name)) +
        " was built for hook protocol v" + definition.apiVersion + "; this kernel speaks v" + apiVersion);
    }
    if (typeof definition !== "object" || definition === null ||
        typeof definition.apiVersion !== "number" || typeof definition.name !== "string" ||
        typeof definition.start !== "function" ||
        !(definition.domain === "cpu" || definition.domain === "memory" || definition.domain === "io")) {
      return failure("invalid", "not-a-policy", ${JSON.stringify(NOT_A_POLICY_MESSAGE)});
    }
    if (start.domain !== undefined && start.domain !== definition.domain) {
      return failure("error", "config", "Policy " + JSON.stringify(String(definition.name)) +
        " schedules the " + definition.domain + " domain; expected a policy for the " +
        start.domain + " domain");
    }
    try {
      const started = definition.start(start);
      handler = started.handler;
      const result = JSON.parse(JSON.stringify(started.result));
      result.domain = definition.domain;
      return { ok: true, result };
    } catch (error) {
      // A refused configuration stops the run (exit 2), as in-process (see asFailure).
      if (error instanceof Error && error.name === "ConfigError") {
        return failure("error", "config", error.message);
      }
      return failure("error", "init", describeError(error));
    }
  }
  function handle(nums, length, objs) {
    let reply;
    try {
      reply = handler.handle({ nums, length, objs });
    } catch (error) {
      return failure("error", "throw", describeError(error));
    }
    if (typeof reply !== "object" || reply === null || !(reply.nums instanceof Float64Array) ||
        !Number.isInteger(reply.length) || reply.length < 0 || reply.length > reply.nums.length ||
        !Array.isArray(reply.objs)) {
      return failure("invalid", "bad-reply", ${JSON.stringify(BAD_REPLY_MESSAGE)});
    }
    let bytes = reply.length * 8;
    if (bytes > maxReplyBytes) return tooLarge(bytes);
    let json = "";
    if (reply.objs.length > 0) {
      try {
        json = JSON.stringify(reply.objs);
      } catch (error) {
        return failure("invalid", "bad-reply", "Policy reply objs are not JSON: " + describeError(error));
      }
      bytes += encoder.encode(json).length;
      if (bytes > maxReplyBytes) return tooLarge(bytes);
    }
    return { ok: true, nums: reply.nums, length: reply.length, json };
  }
  return { load, handle };
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
`;

/**
 * Plain JavaScript: the module a `worker` sandbox runs. It talks to the kernel with postMessage;
 * numbers travel as transferred `Float64Array` copies of the valid entries, `objs` as JSON text.
 */
export const WORKER_BOOTSTRAP_JS: string = POLICY_HOST_JS + String.raw`
const post = globalThis.postMessage.bind(globalThis);
redirectConsole((text) => post({ t: "log", text }));
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
let host;
globalThis.onmessage = async (event) => {
  const message = event.data;
  if (message.t === "load") {
    host = createPolicyHost(message.apiVersion, message.maxReplyBytes);
    const loaded = await host.load(message.code, message.start);
    post(loaded.ok ? { t: "started", seq: message.seq, result: loaded.result }
                   : { t: "fail", seq: message.seq, failure: loaded });
  } else if (message.t === "batch") {
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
 * Plain JavaScript: the script a `process` sandbox runs (`deno run <file> <maxReplyBytes>`).
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
 * anything that is not a well-formed frame.
 */
export const PROCESS_BOOTSTRAP_JS: string = POLICY_HOST_JS + String.raw`
const MAGIC = ${FRAME_MAGIC};
const HEADER = ${FRAME_HEADER_BYTES};
const LOAD = ${FRAME_LOAD}, BATCH = ${FRAME_BATCH}, PART = ${FRAME_PART};
const MAX_HELD_LOG_CHARS = 1 << 20;
const STARTED = ${FRAME_STARTED}, REPLY = ${FRAME_REPLY}, FAIL = ${FRAME_FAIL}, LOG = ${FRAME_LOG};
const LOG_CHUNK_CHARS = 16384;
const maxReplyBytes = Number(Deno.args[0]);
const realStdin = Deno.stdin;
const realStdout = Deno.stdout;
const realStderr = Deno.stderr;
const exit = Deno.exit;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
redirectConsole((text) => {
  if (held === null) return printLog(text);
  if (heldChars >= MAX_HELD_LOG_CHARS) return;
  const room = MAX_HELD_LOG_CHARS - heldChars;
  held.push(text.length <= room ? text : text.slice(0, room) + "\n(output cut: too much while the kernel was busy)\n");
  heldChars += Math.min(text.length, room);
});
const stdinTaken = () => {
  throw new Error("The sandbox's stdin carries the kernel protocol; a policy cannot read it");
};
Object.defineProperty(Deno, "stdin", { get: stdinTaken, configurable: true });
if (typeof globalThis.process === "object" && globalThis.process !== null) {
  try { Object.defineProperty(globalThis.process, "stdin", { get: stdinTaken, configurable: true }); }
  catch { /* see redirectConsole */ }
}

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
  const { kind, reason, message } = failure;
  writeFrame(FAIL, seq, null, 0, JSON.stringify({ kind, reason, message }));
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
  // The objects of the batch's parts so far, and the failure of one of them.
  let objs = [], failed = null;
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
      if (!out.ok) failed = out;
      continue;
    }
    const out = failed ?? host.handle(frame.nums, frame.nums.length, objs);
    objs = [];
    failed = null;
    if (held !== null) {
      const text = held.join("");
      held = null;
      heldChars = 0;
      if (text !== "") printLog(text);
    }
    if (out.ok) writeFrame(REPLY, frame.seq, out.nums, out.length, out.json);
    else writeFailure(frame.seq, out);
  }
}

main().then(() => exit(0), (error) => {
  writeAll(realStderr, encoder.encode("hyperhook sandbox: " + describeError(error) + "\n"));
  exit(70);
});
`;
