/**
 * The built-in policies, by domain and name. Each is an ordinary policy module written against
 * the public SDK, like a third party's.
 *
 * @module
 */

import type { Domain, PolicyDefinition } from "../core/protocol/definition.ts";
import credit from "./cpu/credit.ts";
import credit2 from "./cpu/credit2.ts";
import fair from "./cpu/fair.ts";
import fcfs from "./cpu/fcfs.ts";
import priority from "./cpu/priority.ts";
import rr from "./cpu/rr.ts";
import rtds from "./cpu/rtds.ts";
import sjf from "./cpu/sjf.ts";
import srtf from "./cpu/srtf.ts";
import balancer from "./memory/balancer.ts";
import clock from "./memory/clock.ts";
import fifo from "./memory/fifo.ts";
import lru from "./memory/lru.ts";
import opt from "./memory/opt.ts";
import ioBfq from "./io/bfq.ts";
import ioClook from "./io/clook.ts";
import ioCscan from "./io/cscan.ts";
import ioDeadline from "./io/deadline.ts";
import ioFcfs from "./io/fcfs.ts";
import ioLook from "./io/look.ts";
import ioScan from "./io/scan.ts";
import ioSstf from "./io/sstf.ts";
import dvfs from "./placement/dvfs.ts";
import iqrMc from "./placement/iqr_mc.ts";
import lrMmt from "./placement/lr_mmt.ts";
import lrrMmt from "./placement/lrr_mmt.ts";
import madMmt from "./placement/mad_mmt.ts";
import nova from "./placement/nova.ts";
import npa from "./placement/npa.ts";
import thrMmt from "./placement/thr_mmt.ts";

/** A built-in policy: its definition and where its source lives. */
export interface BuiltinPolicy {
  /** The policy module's default export. */
  definition: PolicyDefinition;
  /** The module's URL (bundled for sandboxed runs, hashed for reports). */
  url: URL;
}

function builtin(definition: PolicyDefinition, path: string): BuiltinPolicy {
  return { definition, url: new URL(path, import.meta.url) };
}

/**
 * Built-in policies by domain, then name.
 *
 * @example
 * ```ts
 * import { BUILTIN_POLICIES } from "./mod.ts";
 *
 * console.log(Object.keys(BUILTIN_POLICIES.cpu)); // fcfs, sjf, srtf, priority, rr, ...
 * console.assert(BUILTIN_POLICIES.memory.lru!.definition.domain === "memory");
 * ```
 */
export const BUILTIN_POLICIES: Record<Domain, Record<string, BuiltinPolicy>> = {
  cpu: {
    fcfs: builtin(fcfs, "./cpu/fcfs.ts"),
    sjf: builtin(sjf, "./cpu/sjf.ts"),
    srtf: builtin(srtf, "./cpu/srtf.ts"),
    priority: builtin(priority, "./cpu/priority.ts"),
    rr: builtin(rr, "./cpu/rr.ts"),
    credit: builtin(credit, "./cpu/credit.ts"),
    credit2: builtin(credit2, "./cpu/credit2.ts"),
    rtds: builtin(rtds, "./cpu/rtds.ts"),
    fair: builtin(fair, "./cpu/fair.ts"),
  },
  memory: {
    fifo: builtin(fifo, "./memory/fifo.ts"),
    lru: builtin(lru, "./memory/lru.ts"),
    clock: builtin(clock, "./memory/clock.ts"),
    opt: builtin(opt, "./memory/opt.ts"),
    balancer: builtin(balancer, "./memory/balancer.ts"),
  },
  io: {
    fcfs: builtin(ioFcfs, "./io/fcfs.ts"),
    sstf: builtin(ioSstf, "./io/sstf.ts"),
    scan: builtin(ioScan, "./io/scan.ts"),
    look: builtin(ioLook, "./io/look.ts"),
    cscan: builtin(ioCscan, "./io/cscan.ts"),
    clook: builtin(ioClook, "./io/clook.ts"),
    deadline: builtin(ioDeadline, "./io/deadline.ts"),
    bfq: builtin(ioBfq, "./io/bfq.ts"),
  },
  placement: {
    npa: builtin(npa, "./placement/npa.ts"),
    dvfs: builtin(dvfs, "./placement/dvfs.ts"),
    "thr-mmt": builtin(thrMmt, "./placement/thr_mmt.ts"),
    "iqr-mc": builtin(iqrMc, "./placement/iqr_mc.ts"),
    "mad-mmt": builtin(madMmt, "./placement/mad_mmt.ts"),
    "lr-mmt": builtin(lrMmt, "./placement/lr_mmt.ts"),
    "lrr-mmt": builtin(lrrMmt, "./placement/lrr_mmt.ts"),
    nova: builtin(nova, "./placement/nova.ts"),
  },
};

/** The policy each domain falls back to when its policy is ejected. */
export const FALLBACK_POLICIES: Record<Domain, string> = {
  cpu: "rr",
  memory: "fifo",
  io: "fcfs",
  placement: "dvfs",
};
