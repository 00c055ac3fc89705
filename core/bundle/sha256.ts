/**
 * The sha256 helper of the bundles and the cache: a bundle's name, the cache's file names, a
 * posted policy's file name. The decision log hashes its own chunks as a stream, on the kernel's
 * thread (`engine/decision_log.ts`: `engine/_sha256.ts` for a short log, `node:crypto` past 4 MiB).
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The sha256 of a text (its UTF-8 bytes) or of bytes, in hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./sha256.ts";
 *
 * console.assert((await sha256Hex("")).startsWith("e3b0c442"));
 * ```
 *
 * @param data The text or bytes to hash.
 * @returns 64 lowercase hex digits.
 */
export async function sha256Hex(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
