/**
 * LRR-MMT (Beloglazov and Buyya 2012): LR-MMT whose line is fitted robustly (points re-weighted by
 * the bisquare of their residuals), so that one spike does not trigger migrations. In `cloudsim`
 * mode it is CloudSim 3.0.3's, whose re-weighting never applies: then it equals LR-MMT exactly.
 *
 * @module
 */

import { param } from "../../core/policy/mod.ts";
import {
  defineConsolidation,
  minimumMigrationTime,
  robustLocalRegression,
} from "./_consolidation.ts";

export default defineConsolidation({
  name: "lrr-mmt",
  config: { safety: param.number(1.2, { min: 0 }) },
  overloaded: (load, config) => robustLocalRegression(load, config.safety),
  select: minimumMigrationTime,
});
