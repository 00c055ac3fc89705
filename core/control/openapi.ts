/**
 * The OpenAPI 3.1 description of the control API, built from the zod schemas that validate the
 * request bodies.
 *
 * @module
 */

import { requestJsonSchemas } from "./schemas.ts";

const ERROR = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
};

function errors(...statuses: number[]): Record<string, unknown> {
  const text: Record<number, string> = {
    400: "Malformed or invalid request",
    401: "Missing or wrong bearer token",
    404: "Unknown VM, domain or route",
    409: "Conflicts with the kernel's state (ended, duplicate id, policy failed to start)",
    413: "Body too large",
  };
  return Object.fromEntries(
    [401, ...statuses].map((status) => [status, {
      description: text[status],
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    }]),
  );
}

function body(schema: string, required = true): Record<string, unknown> {
  return {
    required,
    content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
  };
}

const OK_JSON = { description: "OK", content: { "application/json": {} } };

/**
 * The OpenAPI document served at `/openapi.json`.
 *
 * @example
 * ```ts
 * import { openApiDocument } from "./openapi.ts";
 * const doc = openApiDocument() as { openapi: string };
 * console.assert(doc.openapi.startsWith("3.1"));
 * ```
 */
export function openApiDocument(): Record<string, unknown> {
  const vmId = { name: "id", in: "path", required: true, schema: { type: "string" } };
  const domain = {
    name: "domain",
    in: "path",
    required: true,
    schema: { type: "string", enum: ["cpu", "memory", "io"] },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "hyperhook live control",
      version: "1",
      description:
        "Control one live hyperhook kernel. Every route but GET /healthz needs `Authorization: Bearer <token>`. Errors are `{ error: { code, message } }`.",
    },
    servers: [{ url: "http://127.0.0.1" }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: ERROR, ...requestJsonSchemas() },
    },
    security: [{ bearer: [] }],
    paths: {
      "/healthz": {
        get: { summary: "Liveness", security: [], responses: { 200: OK_JSON } },
      },
      "/": {
        get: {
          summary: "The live dashboard (HTML); `?token=` sets a cookie for later visits",
          responses: { 200: { description: "HTML", content: { "text/html": {} } }, ...errors() },
        },
      },
      "/v1/state": {
        get: {
          summary: "Time, speed, VMs with their parameters, pCPUs, policies, incidents",
          responses: { 200: OK_JSON, ...errors() },
        },
      },
      "/v1/metrics": {
        get: {
          summary: "Prometheus text format",
          responses: {
            200: { description: "Metrics", content: { "text/plain": {} } },
            ...errors(),
          },
        },
      },
      "/v1/events": {
        get: {
          summary:
            "Server-sent events: hello (full state, and `history`: recent samples and changes), sample (counters), change, incident, ended",
          responses: {
            200: { description: "Event stream", content: { "text/event-stream": {} } },
            ...errors(409),
          },
        },
      },
      "/v1/policies/{domain}": {
        put: {
          summary: "Hand a domain to another policy without a gap (the old one stays on failure)",
          parameters: [domain],
          requestBody: body("PolicyRequest"),
          responses: { 200: OK_JSON, ...errors(400, 404, 409, 413) },
        },
      },
      "/v1/vms": {
        post: {
          summary: "Add a VM (a workload vms[] item; cpu.arrive counts from now)",
          requestBody: body("VmCreateRequest"),
          responses: { 201: OK_JSON, ...errors(400, 409, 413) },
        },
      },
      "/v1/vms/{id}": {
        patch: {
          summary: "Change a VM's weight, cap, priority, sched parameters, memory target, I/O",
          parameters: [vmId],
          requestBody: body("VmPatchRequest"),
          responses: { 200: OK_JSON, ...errors(400, 404, 409, 413) },
        },
        delete: {
          summary: "Remove a VM",
          parameters: [vmId],
          responses: { 200: OK_JSON, ...errors(404, 409) },
        },
      },
      "/v1/sim/pause": {
        post: { summary: "Pause the clock", responses: { 200: OK_JSON, ...errors(409) } },
      },
      "/v1/sim/resume": {
        post: { summary: "Resume the clock", responses: { 200: OK_JSON, ...errors(409) } },
      },
      "/v1/sim/step": {
        post: {
          summary: "Advance a paused clock by a duration, or to the next instant with events",
          requestBody: body("StepRequest", false),
          responses: { 200: OK_JSON, ...errors(400, 409, 413) },
        },
      },
      "/v1/sim/speed": {
        put: {
          summary: "Set the speed (simulated seconds per wall-clock second, or max)",
          requestBody: body("SpeedRequest"),
          responses: { 200: OK_JSON, ...errors(400, 409, 413) },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { 200: OK_JSON, ...errors() } },
      },
    },
  };
}
