/**
 * The one sha256 helper of the codebase (the decision log hashes its chunks as a stream, with
 * `node:crypto`, on its own thread): a bundle's name, the cache's file names, a posted policy's
 * file name.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The sha256 of a text (its UTF-8 bytes), in hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./sha256.ts";
 *
 * console.assert((await sha256Hex("")).startsWith("e3b0c442"));
 * ```
 *
 * @param text The text to hash.
 * @returns 64 lowercase hex digits.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
