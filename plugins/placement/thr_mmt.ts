/**
 * THR-MMT (Beloglazov and Buyya 2012): a host is overloaded when its VMs ask for more than a
 * static share of its CPU (`threshold`, 0.8); VMs leave it smallest RAM first (minimum migration
 * time), then the consolidation of `_consolidation.ts` places them and empties under-used hosts.
 *
 * @module
 */

import { param } from "../../core/policy/mod.ts";
import { defineConsolidation, minimumMigrationTime, staticThreshold } from "./_consolidation.ts";

export default defineConsolidation({
  name: "thr-mmt",
  config: { threshold: param.number(0.8, { min: 0, max: 1 }) },
  overloaded: (load, config) => staticThreshold(load, config.threshold),
  select: minimumMigrationTime,
});
