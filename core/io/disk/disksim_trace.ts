/**
 * Reader for DiskSim's `validate` trace format: one request per line with the service time a real
 * drive took, as DiskSim's validation experiments replay them.
 *
 * Columns (whitespace separated): `R` or `W`; the drive's cache outcome (`Hit`, `Miss`, `Doub`,
 * `Trip`, ...); the first block; the block count; the measured service time in µs; the idle time in
 * µs before the next request. DiskSim replays the trace closed-loop, one request at a time: it
 * issues the next request that long after the current one completes (`iotrace_validate_get_ioreq_event`
 * sets the next arrival to the completion time plus the previous line's last column).
 *
 * @module
 */

/**
 * One line of a validation trace.
 *
 * @example
 * ```ts
 * import type { ValidationRecord } from "./disksim_trace.ts";
 * const first: ValidationRecord = {
 *   line: 1, write: false, outcome: "Miss", lba: 564347, blocks: 2,
 *   measuredUs: 14095.37, gapUs: 13876.27,
 * };
 * ```
 */
export interface ValidationRecord {
  /** 1-based line number in the file. */
  line: number;
  /** True for `W`. */
  write: boolean;
  /** The cache outcome the real drive reported (`Hit`, `Miss`, `Doub`, `Trip`). */
  outcome: string;
  /** First block. */
  lba: number;
  /** Block count. */
  blocks: number;
  /** Measured service time, µs. */
  measuredUs: number;
  /** Idle time before the next request, µs (last column). */
  gapUs: number;
}

/**
 * Parses a validation trace; blank lines and lines starting with `#` are skipped.
 *
 * @param text The file's contents.
 * @param options `source` names the file in error messages (default `"trace"`).
 * @returns The records, in file order.
 * @throws {SyntaxError} On a malformed line, naming the file and the line:
 *   `hp_c2247a.trace:12: expected 6 fields (R|W, outcome, block, count, service µs, gap µs), got 4`.
 *
 * @example
 * ```ts
 * import { parseValidationTrace } from "./disksim_trace.ts";
 * const records = parseValidationTrace("R Miss 564347 2 14095.370 13876.270\n");
 * console.log(records[0]?.blocks, records[0]?.measuredUs); // 2 14095.37
 * ```
 */
export function parseValidationTrace(
  text: string,
  options: { source?: string } = {},
): ValidationRecord[] {
  const source = options.source ?? "trace";
  const records: ValidationRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const line = i + 1;
    const fail = (message: string): never => {
      throw new SyntaxError(`${source}:${line}: ${message}`);
    };
    const fields = raw.split(/\s+/);
    if (fields.length !== 6) {
      fail(
        `expected 6 fields (R|W, outcome, block, count, service µs, gap µs), got ${fields.length}`,
      );
    }
    const [rw, outcome, lbaText, blocksText, serviceText, gapText] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (rw !== "R" && rw !== "W") fail(`expected R or W in column 1, got "${rw}"`);
    const lba = Number(lbaText);
    if (!/^\d+$/.test(lbaText) || !Number.isSafeInteger(lba)) {
      fail(`expected a block number in column 3, got "${lbaText}"`);
    }
    const blocks = Number(blocksText);
    if (!/^\d+$/.test(blocksText) || blocks < 1) {
      fail(`expected a positive block count in column 4, got "${blocksText}"`);
    }
    const measuredUs = Number(serviceText);
    if (!Number.isFinite(measuredUs) || measuredUs < 0) {
      fail(`expected a service time in µs in column 5, got "${serviceText}"`);
    }
    const gapUs = Number(gapText);
    if (!Number.isFinite(gapUs) || gapUs < 0) {
      fail(`expected an idle time in µs in column 6, got "${gapText}"`);
    }
    records.push({ line, write: rw === "W", outcome, lba, blocks, measuredUs, gapUs });
  }
  return records;
}
