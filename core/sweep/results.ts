/**
 * A sweep's output folder: `manifest.json` (the plan's shards and their keys), one result file per
 * shard key in `shards/`, and what `collect` merges them into (`results.csv`, and on request
 * `results.parquet` and `summary.html`).
 *
 * A result file is created once, atomically (written aside, then hard-linked into place, which
 * fails when the key already has one). A second result for the same key, as at-least-once delivery
 * can bring, is compared by `eventsHash`: equal, it is a duplicate and is dropped; different, it is
 * kept aside in `conflicts/` and `collect` reports it. Nothing is ever counted twice.
 *
 * @module
 */

import { join } from "node:path";
import { canonicalJson, cellText } from "./_json.ts";
import type { MetricSpec, SweepPlan } from "./plan.ts";
import type { ShardResult } from "./run_shard.ts";
import type { Expansion } from "./shards.ts";

/** The schema identifier of a manifest. */
export const MANIFEST_SCHEMA = "hyperhook.sweep-manifest/v1";

/** A shard as the manifest lists it. */
export interface ManifestShard {
  /** Its index in the plan. */
  index: number;
  /** Its key. */
  key: string;
  /** The workload path. */
  workload: string;
  /** The matrix fields set. */
  set: [string, unknown][];
  /** The seed. */
  seed: number;
  /** Each domain's policy bundle sha256, as planned. */
  policies: Record<string, string>;
}

/** What a sweep's folder holds the results of. */
export interface Manifest {
  /** Always `hyperhook.sweep-manifest/v1`. */
  schema: typeof MANIFEST_SCHEMA;
  /** The plan's name. */
  plan: string;
  /** The plan file. */
  planFile: string;
  /** The code identity that planned it. */
  code: string;
  /** The matrix keys, in plan order (the CSV's columns). */
  matrix: string[];
  /** The metrics. */
  metrics: MetricSpec[];
  /** Whether the plan has more than one workload (then the CSV has a workload column). */
  workloads: string[];
  /** Every shard. */
  shards: ManifestShard[];
}

/** The manifest of an expanded plan. */
export function manifestOf(plan: SweepPlan, expansion: Expansion): Manifest {
  return {
    schema: MANIFEST_SCHEMA,
    plan: plan.name,
    planFile: plan.file,
    code: expansion.code,
    matrix: plan.matrix.map((entry) => entry.key),
    metrics: plan.metrics,
    workloads: plan.workloads.map((workload) => workload.path),
    shards: expansion.shards.map((shard, i) => ({
      index: shard.index,
      key: shard.key,
      workload: shard.workload.path,
      set: shard.set,
      seed: shard.seed,
      policies: expansion.policies[i]!,
    })),
  };
}

/** Writes `text` to `path` atomically: aside first, then renamed over it. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const aside = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(aside, text);
  await Deno.rename(aside, path);
}

/**
 * Writes the manifest into `dir` (creating `dir/shards`).
 *
 * @param ifAbsent Keep a manifest that is already there (array tasks of one sweep race to it).
 */
export async function writeManifest(
  dir: string,
  manifest: Manifest,
  ifAbsent = false,
): Promise<void> {
  await Deno.mkdir(join(dir, "shards"), { recursive: true });
  const path = join(dir, "manifest.json");
  const text = JSON.stringify(manifest, null, 1) + "\n";
  if (!ifAbsent) return await writeAtomic(path, text);
  const aside = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(aside, text);
  try {
    await Deno.link(aside, path);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  } finally {
    await Deno.remove(aside);
  }
}

/**
 * Reads `dir/manifest.json`.
 *
 * @returns The manifest, or a description of what is wrong.
 */
export async function readManifest(dir: string): Promise<Manifest | string> {
  const path = join(dir, "manifest.json");
  try {
    const manifest = JSON.parse(await Deno.readTextFile(path));
    if (manifest?.schema !== MANIFEST_SCHEMA) {
      return `${path}: expected a sweep manifest ("schema": "${MANIFEST_SCHEMA}")`;
    }
    return manifest as Manifest;
  } catch (error) {
    return `${path}: cannot read the sweep's manifest (${
      (error as Error).message
    }); expected the --out folder of a sweep`;
  }
}

/** Where a key's result lives. */
export function resultFile(dir: string, key: string): string {
  return join(dir, "shards", `${key}.json`);
}

/** Whether a key has its result in `dir`. */
export function hasResult(dir: string, key: string): boolean {
  try {
    return Deno.statSync(resultFile(dir, key)).isFile;
  } catch {
    return false;
  }
}

/** What storing a result did. */
export type StoreOutcome = "new" | "duplicate" | "conflict";

/**
 * Stores a result under its key, once. A second result for a key is compared by `eventsHash`:
 * a duplicate is dropped, a different one kept in `conflicts/` for `collect` to report.
 */
export async function storeResult(dir: string, result: ShardResult): Promise<StoreOutcome> {
  const path = resultFile(dir, result.key);
  const text = JSON.stringify(result, null, 1) + "\n";
  const aside = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(aside, text);
  try {
    await Deno.link(aside, path);
    return "new";
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    const existing = JSON.parse(await Deno.readTextFile(path)) as ShardResult;
    if (existing.eventsHash === result.eventsHash) return "duplicate";
    await Deno.mkdir(join(dir, "conflicts"), { recursive: true });
    await writeAtomic(join(dir, "conflicts", `${result.key}.${result.eventsHash}.json`), text);
    return "conflict";
  } finally {
    await Deno.remove(aside);
  }
}

/** What `collect` found. */
export interface Collected {
  /** The manifest. */
  manifest: Manifest;
  /** The result of each shard that has one from the plan's code, by index (others undefined). */
  results: (ShardResult | undefined)[];
  /** Shards without a matching result. */
  missing: ManifestShard[];
  /** Results from other code for a shard of the plan: what differs. */
  mismatches: { file: string; index: number; reason: string }[];
  /** Keys whose runs gave different eventsHashes. */
  conflicts: { key: string; index: number | undefined; eventsHashes: string[] }[];
  /** Result files that belong to no shard of this plan (an older plan's). */
  strangers: number;
  /** Results from other code for shards that also have the plan's result (harmless, not merged). */
  superseded: number;
}

function shardIdentity(workload: string, set: [string, unknown][], seed: number): string {
  return canonicalJson([workload, set, seed]);
}

/** Reads every result in `dir` and matches it against the manifest. */
export async function gather(dir: string, manifest: Manifest): Promise<Collected> {
  const byKey = new Map(manifest.shards.map((shard) => [shard.key, shard]));
  const byInputs = new Map(
    manifest.shards.map((shard) => [shardIdentity(shard.workload, shard.set, shard.seed), shard]),
  );
  const results: (ShardResult | undefined)[] = manifest.shards.map(() => undefined);
  const mismatches: Collected["mismatches"] = [];
  let strangers = 0;
  const folder = join(dir, "shards");
  const names: string[] = [];
  try {
    for (const entry of Deno.readDirSync(folder)) {
      if (entry.isFile && /^[0-9a-f]{64}\.json$/.test(entry.name)) names.push(entry.name);
    }
  } catch {
    // No results yet.
  }
  names.sort();
  for (const name of names) {
    const file = join(folder, name);
    let result: ShardResult;
    try {
      result = JSON.parse(await Deno.readTextFile(file));
    } catch {
      mismatches.push({ file, index: -1, reason: "not a readable result file" });
      continue;
    }
    const shard = byKey.get(result.key);
    if (shard !== undefined) {
      results[shard.index] = result;
      continue;
    }
    const planned = byInputs.get(shardIdentity(result.workload, result.set, result.seed));
    if (planned === undefined) {
      strangers++;
      continue;
    }
    mismatches.push({
      file,
      index: planned.index,
      reason: describeMismatch(manifest, planned, result),
    });
  }
  const conflicts: Collected["conflicts"] = [];
  try {
    const grouped = new Map<string, string[]>();
    for (const entry of Deno.readDirSync(join(dir, "conflicts"))) {
      const match = /^([0-9a-f]{64})\.([0-9a-f]+)\.json$/.exec(entry.name);
      if (match === null) continue;
      grouped.set(match[1]!, [...(grouped.get(match[1]!) ?? []), match[2]!]);
    }
    for (const [key, hashes] of grouped) {
      const shard = byKey.get(key);
      const kept = shard === undefined ? undefined : results[shard.index]?.eventsHash;
      conflicts.push({
        key,
        index: shard?.index,
        eventsHashes: [...(kept === undefined ? [] : [kept]), ...hashes.sort()],
      });
    }
  } catch {
    // No conflicts.
  }
  const missing = manifest.shards.filter((shard) => results[shard.index] === undefined);
  const open = mismatches.filter((mismatch) => results[mismatch.index] === undefined);
  return {
    manifest,
    results,
    missing,
    mismatches: open,
    conflicts,
    strangers,
    superseded: mismatches.length - open.length,
  };
}

function describeMismatch(manifest: Manifest, planned: ManifestShard, result: ShardResult): string {
  const differences: string[] = [];
  if (result.code !== manifest.code) {
    differences.push(`code ${result.code}, the plan's is ${manifest.code}`);
  }
  const domains = new Set([...Object.keys(planned.policies), ...Object.keys(result.policies)]);
  for (const domain of [...domains].sort()) {
    const want = planned.policies[domain], got = result.policies[domain];
    if (want !== got) {
      differences.push(
        `${domain} policy bundle ${got?.slice(0, 12) ?? "none"}, the plan's is ${
          want?.slice(0, 12) ?? "none"
        }`,
      );
    }
  }
  if (differences.length === 0) differences.push("its trace files or isolation differ");
  return `key ${result.key.slice(0, 12)} from other code (${differences.join("; ")}), not ${
    planned.key.slice(0, 12)
  }`;
}

/** RFC 4180 quoting: a field with a comma, a quote or a line break is quoted. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV columns of a manifest's results. */
export function csvHeader(manifest: Manifest): string[] {
  return [
    "shard",
    ...(manifest.workloads.length > 1 ? ["workload"] : []),
    ...manifest.matrix,
    "seed",
    ...manifest.metrics.map((metric) => metric.path),
    "eventsHash",
    "wallMs",
  ];
}

/** One CSV row's fields: a matrix value as the plan wrote it, numbers as JSON writes them. */
export function csvRow(manifest: Manifest, result: ShardResult): string[] {
  const set = new Map(result.set);
  return [
    result.key,
    ...(manifest.workloads.length > 1 ? [result.workload] : []),
    ...manifest.matrix.map((key) => set.has(key) ? cellText(set.get(key)) : ""),
    String(result.seed),
    ...manifest.metrics.map((metric) => {
      const value = result.metrics[metric.path];
      return value === null || value === undefined ? "" : String(value);
    }),
    result.eventsHash,
    String(result.wallMs),
  ];
}

/** `results.csv`: a header, then one row per shard with a result, in plan order. */
export function resultsCsv(collected: Collected): string {
  const lines = [csvHeader(collected.manifest)];
  for (const result of collected.results) {
    if (result !== undefined) lines.push(csvRow(collected.manifest, result));
  }
  return lines.map((fields) => fields.map(csvField).join(",")).join("\n") + "\n";
}

/** One line per problem `collect` found, ready for stderr. */
export function problems(collected: Collected): string[] {
  const lines: string[] = [];
  // In plan order (files are found in directory order), results from unknown shards last.
  const mismatches = [...collected.mismatches].sort((a, b) =>
    (a.index < 0 ? Infinity : a.index) - (b.index < 0 ? Infinity : b.index) ||
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)
  );
  for (const mismatch of mismatches) {
    lines.push(
      mismatch.index < 0
        ? `${mismatch.file}: ${mismatch.reason}`
        : `shard ${mismatch.index}: ${mismatch.file}: ${mismatch.reason}; not merged (run the shard again on the plan's code)`,
    );
  }
  for (const conflict of collected.conflicts) {
    lines.push(
      `shard ${conflict.index ?? "?"} (key ${
        conflict.key.slice(0, 12)
      }): runs of the same key gave different eventsHashes (${
        conflict.eventsHashes.map((hash) => hash.slice(0, 12)).join(", ")
      }): the run is not deterministic`,
    );
  }
  if (collected.missing.length > 0) {
    const first = collected.missing.slice(0, 10).map((shard) => shard.index).join(", ");
    lines.push(
      `${collected.missing.length} of ${collected.manifest.shards.length} shard(s) have no result from the plan's code (${first}${
        collected.missing.length > 10 ? ", ..." : ""
      })`,
    );
  }
  return lines;
}
