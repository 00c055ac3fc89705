/**
 * Error answers at the API boundary: bounded, one line, without terminal escapes, and without the
 * server's paths (its temporary files, state and data folders, working directory, caches and
 * install folder), which would tell a client where to aim.
 *
 * @module
 */

/** The longest message an error answer carries (characters). */
export const MAX_ANSWER_CHARS = 1000;

/**
 * Cuts `text` to `max` characters, saying how much was cut.
 *
 * @param text The text.
 * @param max The most characters kept.
 * @returns The text, or its first `max` characters and `… (N more characters)`.
 */
export function bound(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.length - max;
  return `${text.slice(0, max)}… (${cut} more character${cut === 1 ? "" : "s"})`;
}

// C0 controls but tab and newline, DEL, C1 controls, and whole ANSI escape sequences.
const CONTROLS =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Replaces the server's paths in messages with short labels. */
export class Redactor {
  #paths: [string, string][];

  /**
   * @param paths Folders to hide, each with the label that replaces it (such as `<temp>`).
   *   Their real paths (symbolic links resolved) are hidden too.
   */
  constructor(paths: [path: string | undefined, label: string][]) {
    const all = new Map<string, string>();
    for (const [path, label] of paths) {
      if (path === undefined || path.length < 2) continue;
      const trimmed = path.replace(/\/+$/, "");
      if (trimmed === "") continue;
      if (!all.has(trimmed)) all.set(trimmed, label);
      try {
        const real = Deno.realPathSync(trimmed);
        if (!all.has(real)) all.set(real, label);
      } catch {
        // Gone or never made: the path itself is hidden.
      }
    }
    // The longest first, so a folder inside another gets its own label.
    this.#paths = [...all].sort((a, b) => b[0].length - a[0].length);
  }

  /**
   * Makes a message fit for an answer: the server's paths replaced, control characters and
   * escape sequences dropped, and the length bounded.
   */
  clean(message: string, max: number = MAX_ANSWER_CHARS): string {
    let text = message.replace(CONTROLS, "");
    for (const [path, label] of this.#paths) {
      if (!text.includes(path)) continue;
      // Only whole path components: /tmp hides /tmp/x, not /tmpfoo.
      text = text.replace(new RegExp(`${escape(path)}(?![^/\\s"'\`:;,)\\]}>])`, "g"), label);
    }
    return bound(text, max);
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
