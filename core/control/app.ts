/**
 * The control API of a live kernel, as a Hono app: routes, bearer-token auth (constant-time),
 * body limits, validation, and one error shape, `{ "error": { "code", "message" } }`.
 *
 * Test it with `app.request(...)`; serve it with `Deno.serve(app.fetch)`.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { z } from "zod";
import { bodyLimit } from "hono/body-limit";
import type { Context } from "hono";
import { Redactor } from "./_redact.ts";
import { dashboardHtml } from "./dashboard.ts";
import { ControlError, type LiveKernel } from "./live.ts";
import { collectMetrics, PROMETHEUS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { openApiDocument } from "./openapi.ts";
import {
  InvalidBody,
  MAX_BODY_BYTES,
  policyRequestSchema,
  speedRequestSchema,
  stepRequestSchema,
  validate,
  vmPatchSchema,
} from "./schemas.ts";

/** Options of {@linkcode createControlApp}. */
export interface ControlAppOptions {
  /** The bearer token every route but `GET /healthz` requires. */
  token: string;
  /** The largest body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** The most SSE clients at once (default 64). */
  maxEventClients?: number;
  /** Called with unexpected errors (a bug: the client got a 500). */
  onBug?: (error: unknown) => void;
}

/** A control app and the figures it keeps. */
export interface ControlApp {
  /** The Hono app. */
  app: Hono;
  /** Requests answered, by status. */
  requests: Map<number, number>;
}

const COOKIE = "hyperhook_token";
/** Pause and resume take no parameters: an empty body or `{}`. */
const emptyObject: z.ZodType<Record<string, never>, unknown> = z.strictObject({});
const encoder = new TextEncoder();

/**
 * Builds the control API of `live`.
 *
 * @example
 * ```ts ignore
 * import { createControlApp } from "./app.ts";
 * const { app } = createControlApp(live, { token: "secret" });
 * const response = await app.request("/v1/state", { headers: { authorization: "Bearer secret" } });
 * console.log((await response.json()).nowNs);
 * ```
 */
export function createControlApp(live: LiveKernel, options: ControlAppOptions): ControlApp {
  const app = new Hono();
  const expected = encoder.encode(options.token);
  const requests = new Map<number, number>();
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const maxClients = options.maxEventClients ?? 64;
  // Constant time in the token's content: a wrong guess takes as long as a right one. (The
  // length is no secret: a candidate of another length is compared with itself.)
  const matches = (token: string | undefined) => {
    if (token === undefined || token.length > 1024) return false;
    const candidate = encoder.encode(token);
    if (candidate.length !== expected.length) return !timingSafeEqual(candidate, candidate);
    return timingSafeEqual(candidate, expected);
  };

  app.use("*", async (c, next) => {
    await next();
    requests.set(c.res.status, (requests.get(c.res.status) ?? 0) + 1);
  });

  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (path === "/healthz" && (c.req.method === "GET" || c.req.method === "HEAD")) {
      return await next();
    }
    const header = c.req.header("authorization");
    const bearer = header === undefined ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (matches(bearer)) return await next();
    if (path === "/" && c.req.method === "GET") {
      // The dashboard: a browser cannot send a header on navigation. `?token=` once, then a
      // cookie; the cookie opens this page only, which carries the token for its own requests.
      const query = c.req.query("token");
      if (matches(query)) {
        c.header(
          "set-cookie",
          `${COOKIE}=${encodeURIComponent(query!)}; HttpOnly; SameSite=Strict; Path=/`,
        );
        return await next();
      }
      const cookie = /(?:^|;\s*)hyperhook_token=([^;]*)/.exec(c.req.header("cookie") ?? "")?.[1];
      if (cookie !== undefined && matches(safeDecode(cookie))) return await next();
    }
    throw new ControlError(
      401,
      "unauthorized",
      "Missing or wrong bearer token: send Authorization: Bearer <token> (printed at start, or $HYPERHOOK_TOKEN)",
    );
  });

  const limit = bodyLimit({
    maxSize: maxBody,
    onError: (c) =>
      c.json(
        error("payload_too_large", `Body too large: at most ${maxBody} bytes are accepted`),
        413,
      ),
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/", (c) => {
    c.header(
      "content-security-policy",
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    c.header("x-frame-options", "DENY");
    c.header("cache-control", "no-store");
    return c.html(dashboardHtml({ token: options.token }));
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument()));

  app.get("/v1/state", (c) => {
    return c.body(live.stateBytes(), 200, { "content-type": "application/json" });
  });

  app.get("/v1/metrics", async (c) => {
    const text = await live.exclusive(() =>
      renderMetrics(collectMetrics(live, { requests, sseClients: live.subscribers }))
    );
    return c.body(text, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });

  app.get("/v1/events", () => {
    if (live.subscribers >= maxClients) {
      throw new ControlError(
        409,
        "too_many_clients",
        `At most ${maxClients} event streams at once; close one first`,
      );
    }
    let unsubscribe = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("retry: 1000\n\n"));
        let open = true;
        const end = () => {
          if (!open) return;
          open = false;
          unsubscribe();
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        };
        unsubscribe = live.subscribe({
          send(event, data) {
            if (!open) return;
            // A client that reads nothing for a long while is dropped, not buffered forever.
            if ((controller.desiredSize ?? 0) < -2000) return end();
            controller.enqueue(
              encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
            );
          },
          close: end,
        });
      },
      cancel() {
        unsubscribe();
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
      },
    });
  });

  app.put("/v1/policies/:domain", limit, async (c) => {
    const domain = c.req.param("domain");
    if (domain !== "cpu" && domain !== "memory" && domain !== "io") {
      throw new ControlError(
        404,
        "not_found",
        `No policy domain "${domain}": expected cpu, memory or io`,
      );
    }
    const request = validate(policyRequestSchema, await readJson(c, false));
    return c.json(await live.swapPolicy(domain, request));
  });

  app.post("/v1/vms", limit, async (c) => {
    return c.json(await live.addVm(await readJson(c, false)), 201);
  });

  app.patch("/v1/vms/:id", limit, async (c) => {
    const patch = validate(vmPatchSchema, await readJson(c, false));
    return c.json(await live.patchVm(c.req.param("id"), patch));
  });

  app.delete("/v1/vms/:id", limit, async (c) => {
    await readJson(c, true);
    return c.json(await live.removeVm(c.req.param("id")));
  });

  app.post("/v1/sim/:action", limit, async (c) => {
    const action = c.req.param("action");
    const body = await readJson(c, true);
    switch (action) {
      case "pause":
      case "resume":
        if (body !== undefined) validate(emptyObject, body);
        return c.json(await (action === "pause" ? live.pause() : live.resume()));
      case "step":
        return c.json(await live.step(validate(stepRequestSchema, body ?? {})));
    }
    throw new ControlError(
      404,
      "not_found",
      `No simulation action "${action}": expected pause, resume or step`,
    );
  });

  app.put("/v1/sim/speed", limit, async (c) => {
    return c.json(await live.setSpeed(validate(speedRequestSchema, await readJson(c, false))));
  });

  app.notFound((c) =>
    c.json(error("not_found", `No route ${c.req.method} ${c.req.path}: see /openapi.json`), 404)
  );

  app.onError((caught, c) => {
    // Answers never carry the server's paths, escape sequences, or more than a bounded text.
    const clean = (message: string) => new Redactor(live.serverPaths()).clean(message);
    if (caught instanceof ControlError) {
      return c.json(error(caught.code, clean(caught.message)), caught.status);
    }
    if (caught instanceof InvalidBody) return c.json(error("invalid", clean(caught.message)), 400);
    options.onBug?.(caught);
    return c.json(error("internal", clean(`Internal error: ${(caught as Error)?.message}`)), 500);
  });

  return { app, requests };
}

function error(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Reads a JSON body; `optional` allows an empty one (undefined). */
async function readJson(c: Context, optional: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await c.req.text();
  } catch (caught) {
    throw new ControlError(
      400,
      "bad_request",
      `Body: cannot be read (${(caught as Error).message})`,
    );
  }
  if (text.trim() === "") {
    if (optional) return undefined;
    throw new ControlError(400, "bad_request", "Body: expected a JSON object, got nothing");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (caught) {
    throw new ControlError(
      400,
      "bad_request",
      `Body: not valid JSON (${(caught as Error).message})`,
    );
  }
  if (tooDeep(value, MAX_DEPTH)) {
    throw new ControlError(
      400,
      "bad_request",
      `Body: nested more than ${MAX_DEPTH} levels deep; expected a flatter JSON value`,
    );
  }
  return value;
}

/** How deep a body may nest: deeper values would only strain the recursion of later copies. */
const MAX_DEPTH = 32;

function tooDeep(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}
