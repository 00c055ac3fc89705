/**
 * What a policy says, made safe to show: the description of anything it throws (whatever its
 * getters do), terminal control sequences stripped, and caps on incident messages and on policy
 * output, each saying what was cut.
 *
 * {@linkcode describeError}, {@linkcode cleanText} and {@linkcode capText} are self-contained (no
 * imports, no references outside their bodies but each other): the sandboxes' bootstraps embed
 * their source text, so that a throw is described the same way under every isolation.
 *
 * @module
 */

/** The longest incident message kept, in characters; the rest is cut (and the cut is said). */
export const MAX_MESSAGE_CHARS = 4096;

/**
 * Cuts `text` to `maxChars` characters, saying how many were cut.
 *
 * @example
 * ```ts
 * import { capText } from "./text.ts";
 *
 * console.assert(capText("abcdef", 3) === "abc… [3 more characters cut]");
 * ```
 */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return text.slice(0, maxChars) + "… [" + (text.length - maxChars) + " more characters cut]";
}

/**
 * Describes anything a policy threw as `Name: message`, or its string form, or a fixed text when
 * even that throws (a getter, a `toString` or a `Symbol.toPrimitive` that throws, a revoked or
 * hostile Proxy): describing a throw never throws. The result is cleaned ({@linkcode cleanText})
 * and at most 3840 characters plus the note of what was cut, so that it fits in an incident
 * message with its prefix.
 *
 * @example
 * ```ts
 * import { describeError } from "./text.ts";
 *
 * console.assert(describeError(new RangeError("Too far")) === "RangeError: Too far");
 * const hostile = { toString() { throw new Error("no"); } };
 * console.assert(describeError(hostile) === "(unprintable error)");
 * ```
 *
 * Deno's permission hint is replaced by what the sandbox forbids: `NotCapable: Requires read
 * access to "/etc/hostname": the sandbox forbids a policy to read files`.
 */
export function describeError(error: unknown): string {
  let text: string | undefined;
  try {
    if (error instanceof Error) text = String(error.name) + ": " + String(error.message);
  } catch {
    // A getter threw, or the value is a Proxy whose traps throw: try its string form instead.
  }
  if (text === undefined) {
    try {
      text = String(error);
    } catch {
      text = "(unprintable error)";
    }
  }
  // Deno's hint ("run again with the --allow-read flag") is advice for a program, not for a
  // sandboxed policy: say what the sandbox forbids instead.
  const forbids: Record<string, string> = {
    read: "to read files",
    write: "to write files",
    net: "to use the network",
    env: "to read the environment",
    run: "to run programs",
    sys: "to query the system",
    ffi: "to load native code",
    import: "to import modules from the network",
  };
  text = text.replace(
    /, run again with the --allow-(\w+) flag/g,
    (_, what: string) => `: the sandbox forbids a policy ${forbids[what] ?? "this access"}`,
  );
  return capText(cleanText(text), 3840);
}

/**
 * Strips terminal control sequences (colours, cursor moves, title and clipboard writes, …) and
 * control characters other than tab and line feed from text a policy printed or said: CSI
 * (`ESC [` … final byte), OSC (`ESC ]` … BEL or ST), DCS, SOS, PM and APC strings (… ST), other
 * escape sequences, then any remaining C0 control, DEL, and the C1 controls (which UTF-8
 * terminals may obey too). Self-contained.
 *
 * @example
 * ```ts
 * import { cleanText } from "./text.ts";
 *
 * console.assert(cleanText("\x1b[31mred\x1b[0m\x1b]0;title\x07 ok\r\n") === "red ok\n");
 * ```
 */
export function cleanText(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g,
    "",
  );
}

/**
 * Passes policy output on to a sink, cleaned ({@linkcode cleanText}) and capped per batch and per
 * run; each cut is said once, in the output itself.
 *
 * @example
 * ```ts
 * import { OutputLimit } from "./text.ts";
 *
 * const seen: string[] = [];
 * const output = new OutputLimit((text) => seen.push(text), 4, 100);
 * output.write("abcdef");
 * output.nextBatch();
 * output.write("gh");
 * console.assert(seen[0] === "abcd" && seen[2] === "gh");
 * ```
 */
export class OutputLimit {
  #sink: (text: string) => void;
  #perBatch: number;
  #perRun: number;
  #batchChars = 0;
  #runChars = 0;

  /**
   * Creates the limit.
   *
   * @param sink Where the output goes; a sink that throws is ignored.
   * @param perBatch The most characters passed on per batch.
   * @param perRun The most characters passed on in all.
   */
  constructor(sink: (text: string) => void, perBatch: number, perRun: number) {
    this.#sink = sink;
    this.#perBatch = perBatch;
    this.#perRun = perRun;
  }

  /** Starts counting a new batch's output. */
  nextBatch(): void {
    this.#batchChars = 0;
  }

  /** Passes `text` on, cleaned, as far as the caps allow. */
  write(text: string): void {
    if (this.#runChars > this.#perRun || this.#batchChars > this.#perBatch) return;
    const clean = cleanText(String(text));
    const room = Math.min(this.#perBatch - this.#batchChars, this.#perRun - this.#runChars);
    if (clean.length <= room) {
      this.#batchChars += clean.length;
      this.#runChars += clean.length;
      this.#emit(clean);
      return;
    }
    const overRun = this.#perRun - this.#runChars <= this.#perBatch - this.#batchChars;
    // One past the cap: nothing more is passed on until the next batch (or ever, for the run).
    this.#batchChars = this.#perBatch + 1;
    this.#runChars = overRun ? this.#perRun + 1 : this.#runChars + room;
    this.#emit(
      clean.slice(0, room) +
        (overRun
          ? `\n[hyperhook: policy output cut: more than ${this.#perRun} characters in this run; ` +
            `the rest is dropped]\n`
          : `\n[hyperhook: policy output cut: more than ${this.#perBatch} characters in one batch]\n`),
    );
  }

  #emit(text: string): void {
    try {
      this.#sink(text);
    } catch {
      // A failing log sink must not take the policy down.
    }
  }
}
