import assert from "node:assert/strict";
import { renderChart } from "../../core/report/svg.ts";
import { example, runCli } from "../_helpers.ts";

function assertSelfContained(html: string): void {
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|<link|<img|\bsrc=|@import|url\(/i);
  const addresses = html.match(/https?:\/\/[^\s"'<)]+/g) ?? [];
  assert.deepEqual([...new Set(addresses)], ["http://www.w3.org/2000/svg"]);
}

Deno.test("run --html writes a self-contained page with inline SVG charts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-html-" });
  try {
    const file = `${dir}/nested/rr.html`;
    const result = await runCli(["run", example("rr_textbook.json"), "--html", file]);
    assert.equal(result.code, 0, result.stderr);
    const html = await Deno.readTextFile(file);
    assertSelfContained(html);
    assert.ok((html.match(/<svg /g) ?? []).length >= 5);
    assert.match(html, /Scheduling latency CDF/);
    assert.match(html, /CPU share over time · rr/);
    assert.match(html, /No memory domain in this run/);
    for (const vm of ["P1", "P2", "P3"]) assert.match(html, new RegExp(`<td>${vm}</td>`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare --html puts the runs side by side", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperhook-html-" });
  try {
    const file = `${dir}/compare.html`;
    const result = await runCli([
      "compare",
      example("demo.json"),
      "--cpu",
      "rr,fcfs",
      "--html",
      file,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const html = await Deno.readTextFile(file);
    assertSelfContained(html);
    assert.match(html, /<title>hyperhook · demo-mixed-24 · rr vs fcfs<\/title>/);
    assert.match(html, /<h2>VMs · fcfs<\/h2>/);
    // One bar per VM and run in the share chart, and one CDF line per run.
    assert.equal((html.match(/<rect [^>]*><title>rr · /g) ?? []).length, 24);
    assert.equal(
      (html.match(/<path d="M[^"]*H[^"]*" [^>]*data-series="(rr|fcfs)"/g) ?? []).length,
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderChart: escapes text, draws nothing from no data, scales bars", () => {
  const empty = renderChart({ kind: "line", series: [], empty: "Nothing <yet>" });
  assert.match(empty, /Nothing &lt;yet&gt;/);
  assert.doesNotMatch(empty, /<path/);
  const bars = renderChart({
    kind: "bar",
    title: `"a" & <b>`,
    categories: ["x", "y"],
    series: [{ name: "s", points: [[0, 1], [1, 3]] }],
    height: 240,
  });
  assert.match(bars, /&quot;a&quot; &amp; &lt;b&gt;/);
  const heights = [...bars.matchAll(/<rect [^>]*height="([\d.]+)" fill/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 2);
  assert.ok(Math.abs(heights[1]! / heights[0]! - 3) < 0.05, String(heights));
  const cdf = renderChart({
    kind: "step",
    xLog: true,
    xFormat: "dur",
    series: [{ name: "p", points: [[1_000, 0.5], [1_000_000, 1]] }],
  });
  assert.match(cdf, /1µs/);
  assert.match(cdf, /1ms/);
});
