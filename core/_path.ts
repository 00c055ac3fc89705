/**
 * Path helpers (private): node:path plus file URLs.
 *
 * @module
 */

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export { resolve };

/** The file: URL of an absolute path. */
export function toFileUrl(path: string): URL {
  return pathToFileURL(path);
}
