/**
 * The errors the control API answers with: an HTTP status, a short code and one line that says
 * what was wrong and what was expected (`app.ts` turns them into `{ "error": { code, message } }`).
 *
 * @module
 */

/**
 * An error the control API answers with: an HTTP status, a code and a one-line message.
 *
 * @example
 * ```ts
 * import { ControlError } from "./errors.ts";
 *
 * const error = new ControlError(404, "not_found", 'No VM "web-9" in this kernel');
 * console.assert(error.status === 404 && error.code === "not_found");
 * ```
 */
export class ControlError extends Error {
  /** The HTTP status (400, 401, 404, 409, 413 or 503). */
  readonly status: 400 | 401 | 404 | 409 | 413 | 503;
  /** A short machine-readable code such as `not_found`. */
  readonly code: string;

  /**
   * Makes the error a route answers with.
   *
   * @param status The HTTP status.
   * @param code A short machine-readable code.
   * @param message What was wrong and what was expected.
   */
  constructor(status: 400 | 401 | 404 | 409 | 413 | 503, code: string, message: string) {
    super(message);
    this.name = "ControlError";
    this.status = status;
    this.code = code;
  }
}

/**
 * The answer to a change of a domain the kernel does not have.
 *
 * @param name The domain.
 * @returns A 409 `no_domain` error naming what the workload's host lacks.
 */
export function noDomain(name: "memory" | "io"): ControlError {
  return new ControlError(
    409,
    "no_domain",
    `This kernel has no ${name} domain (the workload's host defines no ${
      name === "memory" ? "memory" : "disks"
    })`,
  );
}

/**
 * A trace reader's message without the text it quotes: a client names a file to read, and the
 * answer must not become a way to read files through the server.
 *
 * @param error What the reader threw.
 * @returns Its message, cut before a quoted `got "…"`.
 */
export function withoutContent(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/, got "[\s\S]*$/, "");
}
