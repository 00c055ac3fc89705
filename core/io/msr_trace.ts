/**
 * Reader for the MSR Cambridge block traces (SNIA IOTTA): CSV lines
 * `Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime`, where `Timestamp` is a Windows
 * filetime (100 ns units since 1601), `Type` is `Read` or `Write`, `Offset` and `Size` are in
 * bytes and `ResponseTime` is in 100 ns units.
 *
 * Filetimes are about 1.3e17, beyond the integers a float64 holds exactly, so they are read as two
 * halves and kept relative to the earliest record: times stay exact to the 100 ns tick. Records out
 * of time order are sorted (stably).
 *
 * @module
 */

/** The records of an MSR trace, in file order, as parallel arrays. */
export interface MsrTrace {
  /** How many records. */
  length: number;
  /** Submission time of each record relative to the earliest kept record, in ns. */
  timeNs: Float64Array;
  /** Byte offset of each record. */
  offset: Float64Array;
  /** Byte count of each record. */
  bytes: Float64Array;
  /** 1 for a write, 0 for a read. */
  write: Uint8Array;
  /** The 1-based line number of each record, for error messages. */
  line: Int32Array;
}

/** Which records to keep. */
export interface MsrFilter {
  /** Keep only records of this `Hostname`. */
  hostname?: string;
  /** Keep only records of this `DiskNumber`. */
  diskNumber?: number;
  /** Names the file in error messages (default `"trace"`). */
  source?: string;
}

const SPLIT = 12;
const LOW = 1e12;

/**
 * Parses an MSR Cambridge CSV trace. Blank lines are skipped, and so is a first line starting
 * with `Timestamp` (a header).
 *
 * @param text The file's contents.
 * @param filter Which records to keep, and the file's name for messages.
 * @returns The kept records.
 * @throws {SyntaxError} On a malformed line, naming the file and the line:
 *   `web_0.csv:3: expected Type Read or Write, got "Erase"`.
 *
 * @example
 * ```ts
 * import { parseMsrTrace } from "./msr_trace.ts";
 * const trace = parseMsrTrace(
 *   "128166372003061629,web,0,Read,3154128896,4096,3161\n" +
 *     "128166372016382155,web,0,Write,3154132992,8192,1765\n",
 * );
 * console.log(trace.length, trace.timeNs[1], trace.write[1]); // 2 1332052600 1
 * ```
 */
export function parseMsrTrace(text: string, filter: MsrFilter = {}): MsrTrace {
  const source = filter.source ?? "trace";
  const lines = text.split("\n");
  let capacity = Math.max(16, lines.length);
  let timeNs = new Float64Array(capacity);
  let offset = new Float64Array(capacity);
  let bytes = new Float64Array(capacity);
  let write = new Uint8Array(capacity);
  let line = new Int32Array(capacity);
  let length = 0;
  let high0 = NaN, low0 = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "" || (i === 0 && raw.startsWith("Timestamp"))) continue;
    const fail = (message: string): never => {
      throw new SyntaxError(`${source}:${i + 1}: ${message}`);
    };
    const fields = raw.split(",");
    if (fields.length !== 7) {
      fail(
        `expected 7 fields (Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime), got ${fields.length}`,
      );
    }
    const [stamp, hostname, diskText, type, offsetText, sizeText] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!/^\d{1,20}$/.test(stamp)) fail(`expected a filetime in column 1, got "${stamp}"`);
    if (!/^\d+$/.test(diskText)) fail(`expected a DiskNumber in column 3, got "${diskText}"`);
    if (type !== "Read" && type !== "Write") fail(`expected Type Read or Write, got "${type}"`);
    const at = Number(offsetText);
    if (!/^\d+$/.test(offsetText) || !Number.isSafeInteger(at)) {
      fail(`expected a byte Offset in column 5, got "${offsetText}"`);
    }
    const size = Number(sizeText);
    if (!/^\d+$/.test(sizeText) || size < 1 || !Number.isSafeInteger(size)) {
      fail(`expected a positive byte Size in column 6, got "${sizeText}"`);
    }
    if (filter.hostname !== undefined && hostname !== filter.hostname) continue;
    if (filter.diskNumber !== undefined && Number(diskText) !== filter.diskNumber) continue;
    const high = stamp.length > SPLIT ? Number(stamp.slice(0, -SPLIT)) : 0;
    const low = Number(stamp.length > SPLIT ? stamp.slice(-SPLIT) : stamp);
    if (Number.isNaN(high0)) high0 = high, low0 = low;
    const ticks = (high - high0) * LOW + (low - low0);
    if (length === capacity) {
      capacity *= 2;
      const grow = <T extends Float64Array | Uint8Array | Int32Array>(a: T, b: T): T => (
        b.set(a), b
      );
      timeNs = grow(timeNs, new Float64Array(capacity));
      offset = grow(offset, new Float64Array(capacity));
      bytes = grow(bytes, new Float64Array(capacity));
      write = grow(write, new Uint8Array(capacity));
      line = grow(line, new Int32Array(capacity));
    }
    timeNs[length] = ticks * 100;
    offset[length] = at;
    bytes[length] = size;
    write[length] = type === "Write" ? 1 : 0;
    line[length] = i + 1;
    length++;
  }
  return inTimeOrder({ length, timeNs, offset, bytes, write, line });
}

// Sorts the records by time (stably) when the file is not in order, and makes the earliest time 0.
function inTimeOrder(trace: MsrTrace): MsrTrace {
  const { length, timeNs } = trace;
  let ordered = true, earliest = 0;
  for (let i = 0; i < length; i++) {
    if (i > 0 && timeNs[i]! < timeNs[i - 1]!) ordered = false;
    if (timeNs[i]! < earliest) earliest = timeNs[i]!;
  }
  if (ordered) return trace;
  const order = Array.from({ length }, (_, i) => i).sort((a, b) =>
    timeNs[a]! - timeNs[b]! || a - b
  );
  const pick = <T extends Float64Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T) => {
    const out = make(length);
    for (let i = 0; i < length; i++) out[i] = a[order[i]!]!;
    return out;
  };
  const sorted = pick(timeNs, (n) => new Float64Array(n));
  for (let i = 0; i < length; i++) sorted[i] = sorted[i]! - earliest;
  return {
    length,
    timeNs: sorted,
    offset: pick(trace.offset, (n) => new Float64Array(n)),
    bytes: pick(trace.bytes, (n) => new Float64Array(n)),
    write: pick(trace.write, (n) => new Uint8Array(n)),
    line: pick(trace.line, (n) => new Int32Array(n)),
  };
}
