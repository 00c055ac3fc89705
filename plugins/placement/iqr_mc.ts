/**
 * IQR-MC (Beloglazov and Buyya 2012): a host is overloaded above 1 − `safety` (1.5) × the
 * interquartile range of its utilisation history (THR 0.7 until it has 12 values); the VM that
 * leaves is the one best correlated with the others (maximum correlation).
 *
 * @module
 */

import { param } from "../../core/policy/mod.ts";
import { defineConsolidation, interQuartileRange, maximumCorrelation } from "./_consolidation.ts";

export default defineConsolidation({
  name: "iqr-mc",
  config: { safety: param.number(1.5, { min: 0 }) },
  overloaded: (load, config) => interQuartileRange(load, config.safety),
  select: maximumCorrelation,
});
