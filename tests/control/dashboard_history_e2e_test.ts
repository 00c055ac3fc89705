// The dashboard opens with history, in headless Chromium: a page opened on a paused kernel (so
// that no new sample can draw anything) shows the recent samples the `hello` event carries, and
// marks the weight change, the policy swap and the incident that happened before it was opened.
// Skips when Debian's chromium is not installed.
import assert from "node:assert/strict";
import { authed, postedSource, startServe, TOKEN } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const WORKLOAD = new URL("../fixtures/serve/contended.json", import.meta.url).pathname;
const THROWS = new URL("../fixtures/cpu/throws.ts", import.meta.url);
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(`dashboard_history_e2e_test: skipped: ${CHROMIUM} is missing`);
}

// deno-lint-ignore no-explicit-any
declare const document: any;

Deno.test({
  name: "dashboard: opens with the recent history, and marks changes and incidents on its charts",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { chromium } = await import("playwright-core");
    const server = await startServe([WORKLOAD, "--speed", "2", "--stall", "1s"]);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.base}${path}`, {
        ...authed(),
        method,
        headers: { ...authed().headers, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await response.json();
      assert.ok(response.ok, JSON.stringify(json));
      return json;
    };
    // Until the simulated clock passes `ns` (no wall-clock deadline: the clock runs at 2x).
    const until = async (ns: number) => {
      while ((await call("GET", "v1/state")).nowNs < ns) {
        await new Promise((done) => setTimeout(done, 100));
      }
    };
    let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
    try {
      // Past the first samples (every 250 ms of wall time, 500 ms simulated): marks are drawn
      // within the samples' time span.
      await until(1_500_000_000);
      await call("PATCH", "v1/vms/a", { weight: 512 });
      await call("PUT", "v1/policies/cpu", { use: "fcfs" });
      const swappedAt = (await call("GET", "v1/state")).nowNs as number;
      await until(swappedAt + 300_000_000);
      await call("PUT", "v1/policies/cpu", { source: postedSource(THROWS) });
      while ((await call("GET", "v1/state")).incidents.length === 0) {
        await new Promise((done) => setTimeout(done, 100));
      }
      await call("POST", "v1/sim/pause");

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (error: Error) => errors.push(error.message));
      await page.goto(`${server.base}?token=${TOKEN}`);
      await page.waitForSelector("#status:text('paused')");
      await page.waitForSelector("#conn:text('live')");
      // Paused: every sample from now on has the same time and adds no point. What is drawn is
      // the history.
      await page.waitForFunction(() =>
        document.querySelectorAll("#chart-share path[data-series]").length >= 3
      );
      const points = await page.evaluate(() =>
        [...document.querySelectorAll("#chart-share path[data-series]")].map((path: {
          getAttribute(name: string): string;
        }) => path.getAttribute("d").split("L").length)
      );
      assert.ok(Math.min(...points) >= 3, `points per line: ${points}`);
      const marks = await page.evaluate(() =>
        [...document.querySelectorAll("#chart-share g.mark > title")].map((title: {
          textContent: string;
        }) => title.textContent)
      );
      assert.ok(marks.some((text: string) => /: set a: weight 512/.test(text)), marks.join("\n"));
      assert.ok(
        marks.some((text: string) => /: swap cpu policy to fcfs$/.test(text)),
        marks.join("\n"),
      );
      assert.ok(
        marks.some((text: string) =>
          /: incident: cpu policy throws ejected \((error|stall)\)$/.test(text)
        ),
        marks.join("\n"),
      );
      // The same marks on the utilisation chart, in the incident's red.
      await page.waitForSelector("#chart-util g.mark line[stroke='#dc2626']", {
        state: "attached",
      });
      assert.deepEqual(errors, []);
    } finally {
      await browser?.close();
      const status = await server.stop("SIGTERM");
      assert.equal(status.code, 0, server.output());
    }
  },
});
