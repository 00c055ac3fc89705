/**
 * MAD-MMT (Beloglazov and Buyya 2012): a host is overloaded above 1 − `safety` (2.5) × the median
 * absolute deviation of its utilisation history (THR 0.7 until it has 12 values); VMs leave it
 * smallest RAM first.
 *
 * @module
 */

import { param } from "../../core/policy/mod.ts";
import {
  defineConsolidation,
  medianAbsoluteDeviation,
  minimumMigrationTime,
} from "./_consolidation.ts";

export default defineConsolidation({
  name: "mad-mmt",
  config: { safety: param.number(2.5, { min: 0 }) },
  overloaded: (load, config) => medianAbsoluteDeviation(load, config.safety),
  select: minimumMigrationTime,
});
