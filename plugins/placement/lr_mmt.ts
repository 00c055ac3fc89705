/**
 * LR-MMT (Beloglazov and Buyya 2012): a line fitted to a host's ten newest utilisation values
 * predicts its utilisation one migration ahead; `safety` (1.2) × that prediction reaching 100 %
 * means overloaded (THR 0.7 until it has 10 values). VMs leave it smallest RAM first.
 *
 * @module
 */

import { param } from "../../core/policy/mod.ts";
import { defineConsolidation, localRegression, minimumMigrationTime } from "./_consolidation.ts";

export default defineConsolidation({
  name: "lr-mmt",
  config: { safety: param.number(1.2, { min: 0 }) },
  overloaded: (load, config) => localRegression(load, config.safety),
  select: minimumMigrationTime,
});
