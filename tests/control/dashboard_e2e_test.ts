// The dashboard end to end in headless Chromium: the page loads, its charts update, a weight
// change made with its controls takes effect in the kernel, and a policy swap from its form lands.
// A screenshot is kept as out/dashboard.png. Skips when Debian's chromium is not installed.
import assert from "node:assert/strict";
import { authed, startServe, TOKEN } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const STRIDE = new URL("../fixtures/serve/stride.ts", import.meta.url).pathname;
const WORKLOAD = new URL("../fixtures/serve/contended.json", import.meta.url).pathname;
const SCREENSHOT = new URL("../../out/dashboard.png", import.meta.url).pathname;
const hasChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!hasChromium) {
  console.warn(
    `dashboard_e2e_test: skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/install_extras.sh does)`,
  );
}

// The functions given to page.evaluate run in the page, where `document` exists.
// deno-lint-ignore no-explicit-any
declare const document: any;

interface VmView {
  id: string;
  params: { weight: number };
  cpu: { recentShare: number };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

Deno.test({
  name: "dashboard: loads, charts update, a weight change takes effect, a swap lands",
  ignore: !hasChromium,
  // Playwright keeps pipes and timers of its own until the browser process is reaped.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { chromium } = await import("playwright-core");
    const server = await startServe([
      WORKLOAD,
      "--cpu",
      STRIDE,
      "--isolation",
      "none",
      "--speed",
      "2",
    ]);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const state = async (): Promise<{ vms: VmView[]; policies: { cpu: { name: string } } }> => {
      const response = await fetch(`${server.base}v1/state`, authed());
      return await response.json();
    };
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const errors: string[] = [];
      page.on("pageerror", (error: Error) => errors.push(error.message));
      await page.goto(`${server.base}?token=${TOKEN}`);
      await page.waitForSelector("#status:text('running')");
      await page.waitForSelector("#conn:text('live')");
      await page.waitForSelector("#vm-table tr[data-vm='a']");

      // Charts update: the share chart gains lines, and a line's path changes over time.
      await page.waitForFunction(() =>
        document.querySelectorAll("#chart-share path[data-series]").length >= 4
      );
      const pathOf = () =>
        document.querySelector("#chart-util path[data-series='pCPU 0']")?.getAttribute("d");
      const before = await page.evaluate(pathOf);
      await page.waitForFunction(
        (d: string) =>
          document.querySelector("#chart-util path[data-series='pCPU 0']")?.getAttribute("d") !==
            d,
        before,
      );

      // A weight change through the table's controls.
      // Before: a, b and c split what the pCPUs have (about 30% of the host each).
      const even = (await state()).vms.find((vm) => vm.id === "a")!.cpu.recentShare;
      assert.ok(even < 0.4, `a had ${even} before the change`);
      const row = page.locator("#vm-table tr[data-vm='a']");
      await row.locator("input[name=weight]").fill("4096");
      await row.locator("button[name=apply]").click();
      await page.waitForSelector("#message:text('Set a: weight 4096')");
      // After: a takes a whole pCPU (half the host), b and c share what is left.
      const shares = await waitFor("a to get a bigger share", async () => {
        const vms = (await state()).vms;
        const favoured = vms.find((vm) => vm.id === "a")!;
        const other = vms.find((vm) => vm.id === "b")!;
        assert.equal(favoured.params.weight, 4096);
        return favoured.cpu.recentShare > 0.42 && other.cpu.recentShare < 0.27
          ? [favoured.cpu.recentShare, other.cpu.recentShare]
          : undefined;
      });
      assert.ok(shares[0]! > shares[1]!);
      assert.equal(await row.locator("input[name=weight]").inputValue(), "4096");

      // A policy swap through the form.
      await page.fill("#swap-form input[name=use]", "rr");
      await page.fill("#swap-form input[name=config]", '{"quantum":"5ms"}');
      await page.click("#swap-form button[type=submit]");
      await page.waitForSelector("#message:text('Swapped the cpu policy to rr')");
      await page.waitForSelector("#policies tr[data-domain='cpu'] td:text('rr')");
      assert.equal((await state()).policies.cpu.name, "rr");

      // All four charts have data: the memory and I/O domains feed theirs.
      await page.waitForFunction(() =>
        document.querySelector("#chart-faults path[data-series]") !== null &&
        document.querySelector("#chart-io path[data-series]") !== null
      );
      await page.waitForTimeout(1000);
      await Deno.mkdir(new URL("../../out/", import.meta.url), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      const status = await server.stop("SIGTERM");
      assert.equal(status.code, 0, server.output());
    }
  },
});
